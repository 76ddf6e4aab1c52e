//! An SDK interceptor that counts the requests a store sends and can replace their answers:
//! how the DynamoDB tests prove request counts and inject lost answers and throttling.

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_types::body::SdkBody;
use chatroom_token::store::dynamodb::DynamoStore;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What to do to the answers of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Injection {
    /// Replace the next answer with a 500: the write (if any) was applied, the SDK retries.
    LoseNextAnswer,
    /// Replace every answer with a throughput error: the SDK retries, then gives up.
    Throttle,
}

#[derive(Default)]
struct State {
    /// Operation names (`UpdateItem`, ...) in the order their attempts were sent.
    sent: Vec<String>,
    injection: Option<(String, Injection)>,
}

#[derive(Clone, Default)]
pub struct RequestLog(Arc<Mutex<State>>);

impl RequestLog {
    pub fn sent(&self) -> Vec<String> {
        self.0.lock().unwrap().sent.clone()
    }

    /// Returns and forgets what was sent so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap().sent)
    }

    pub fn inject(&self, operation: &str, injection: Injection) {
        self.0.lock().unwrap().injection = Some((operation.to_owned(), injection));
    }

    pub fn clear_injection(&self) {
        self.0.lock().unwrap().injection = None;
    }
}

/// A DynamoDB store on `table` whose SDK client reports every request to `log` and takes the
/// faults injected there, retrying (3 attempts) after 5 ms instead of the default backoff.
pub fn instrumented_store(
    table: String,
    log: &RequestLog,
    client_cache_seconds: u64,
) -> DynamoStore {
    let config = super::backends::sdk_config_builder()
        .interceptor(FaultInterceptor(RequestLogHandle(log.clone())))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build();
    DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        table,
        client_cache_seconds,
    )
}

#[derive(Debug)]
pub struct FaultInterceptor(pub RequestLogHandle);

#[derive(Clone)]
pub struct RequestLogHandle(pub RequestLog);

impl std::fmt::Debug for RequestLogHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestLog")
    }
}

impl Intercept for FaultInterceptor {
    fn name(&self) -> &'static str {
        "FaultInterceptor"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        self.0 .0 .0.lock().unwrap().sent.push(operation);
        Ok(())
    }

    /// A throttled request never reaches the table: its body is swapped for one that names no
    /// table, so the server refuses it without writing, and its answer is then replaced.
    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let state = self.0 .0 .0.lock().unwrap();
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        if let Some((operation, Injection::Throttle)) = &state.injection {
            if target.ends_with(&format!(".{operation}")) {
                *context.request_mut().body_mut() =
                    SdkBody::from(r#"{"TableName":"no-such-table-for-throttle-test"}"#);
                context.request_mut().headers_mut().remove("content-length");
            }
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut state = self.0 .0 .0.lock().unwrap();
        let last = state.sent.last().cloned().unwrap_or_default();
        let Some((operation, injection)) = state.injection.clone() else {
            return Ok(());
        };
        if operation != last {
            return Ok(());
        }
        let (status, error_type) = match injection {
            Injection::LoseNextAnswer => {
                state.injection = None;
                (500, "InternalServerError")
            }
            Injection::Throttle => (400, "ProvisionedThroughputExceededException"),
        };
        let response = context.response_mut();
        *response.status_mut() = status.try_into().unwrap();
        // The protocol reads the error type from this header before the body.
        response
            .headers_mut()
            .insert("x-amzn-errortype", error_type);
        response.headers_mut().remove("x-amz-crc32");
        response.headers_mut().remove("content-length");
        *response.body_mut() = SdkBody::from(format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error_type}","message":"injected by the test"}}"#
        ));
        Ok(())
    }
}

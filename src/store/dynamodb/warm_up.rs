//! Opening the connection to DynamoDB at cold start. Lambda runs init at full CPU and before
//! the first request is handed over, so DNS, TCP and the TLS handshake are paid there rather
//! than by the first caller; the connection then waits in the SDK's pool. The request is one
//! GetItem of a key no client or grant can have (half a read unit), sent once, with a short
//! budget of its own. It never fails the start: DynamoDB unreachable at init is the same as
//! DynamoDB unreachable later, and each request reports that on its own.

use super::item::{s, PK};
use super::DynamoStore;
use crate::aws::describe;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::SdkError;
use std::time::Duration;

/// The key read: clients are `client#…` and grants `grant#…`.
pub const WARM_UP_KEY: &str = "warm-up";

/// How long init may wait for the warm-up: a connection that takes longer has problems the
/// first request will meet anyway.
pub const WARM_UP_TIMEOUT: Duration = Duration::from_millis(500);

/// How the warm-up ended. The texts are the SDK's, for the log.
#[derive(Debug, PartialEq, Eq)]
pub enum WarmUp {
    /// DynamoDB answered: a connection waits in the pool.
    Ready,
    /// DynamoDB answered with an error (no such table, access denied): the connection is open,
    /// and the configuration is probably wrong.
    Refused(String),
    /// No answer: refused connection, timeout, unresolvable name.
    Unreachable(String),
}

impl DynamoStore {
    pub async fn warm_up(&self) -> WarmUp {
        let once = aws_sdk_dynamodb::Config::builder()
            .retry_config(RetryConfig::disabled())
            // The connect and read timeouts stay the store's: the SDK keeps one connection
            // pool per pair of them, and the connection must land in the one requests use.
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(WARM_UP_TIMEOUT)
                    .operation_timeout(WARM_UP_TIMEOUT)
                    .build(),
            );
        let result = self
            .sdk()
            .get_item()
            .table_name(self.table())
            .key(PK, s(WARM_UP_KEY))
            .projection_expression(PK)
            .customize()
            .config_override(once)
            .send()
            .await;
        match result {
            Ok(_) => WarmUp::Ready,
            Err(error @ SdkError::ServiceError(_)) => WarmUp::Refused(describe(&error)),
            Err(error) => WarmUp::Unreachable(describe(&error)),
        }
    }
}

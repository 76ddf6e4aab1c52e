//! The whole HTTP entry point: an API Gateway REST (v1), HTTP API (v2) or function URL event's
//! JSON, turned into a request by `lambda_http` and answered by `chatroom_token::http::handle`,
//! on the service `cargo lambda watch` runs (embedded store, demo client and grants, local keys).
//!
//! Asserts: no panic in our code; never a 5xx (the embedded store does not fail, so a 500 or a
//! 503 is a bug); every answer is a 200 or a 4xx; a 200 only where a valid request can get one
//! (GET of the metadata or the JWKS; POST of a form to the token, revocation or introspection
//! endpoint; POST to the internal route with an IAM caller), with that endpoint's kind of body;
//! every 4xx carries an RFC 6749 error body and `Cache-Control: no-store`.
//!
//! An event `lambda_http` cannot turn into a request (it panics on a `Host` header that is not a
//! URL authority, or a base64 body that is not base64) is skipped: API Gateway never sends one,
//! and that conversion is the runtime's, not ours.
#![no_main]

use chatroom_token::app::build_service;
use chatroom_token::aws::Aws;
use chatroom_token::clock::SystemClock;
use chatroom_token::domain::discovery::{
    INTERNAL_CODES_PATH, INTROSPECTION_PATH, JWKS_PATH, METADATA_PATH, REVOCATION_PATH, TOKEN_PATH,
};
use chatroom_token::domain::service::TokenService;
use chatroom_token::http::handle;
use chatroom_token_fuzz::local_config;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Request, RequestExt};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::runtime::Runtime;

/// A fresh service after this many requests: the embedded store keeps every code issued on the
/// internal route, which would grow without bound over a long run.
const REQUESTS_PER_SERVICE: u32 = 2_000;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

fn new_service() -> Arc<TokenService> {
    let aws = Aws::default();
    let service = build_service(local_config(), Arc::new(SystemClock), &aws);
    Arc::new(runtime().block_on(service).expect("the local service starts"))
}

fn service() -> Arc<TokenService> {
    static SERVICE: Mutex<Option<(u32, Arc<TokenService>)>> = Mutex::new(None);
    let mut slot = SERVICE.lock().unwrap();
    match slot.as_mut() {
        Some((served, service)) if *served < REQUESTS_PER_SERVICE => {
            *served += 1;
            service.clone()
        }
        _ => {
            let service = new_service();
            *slot = Some((1, service.clone()));
            service
        }
    }
}

/// `lambda_http`'s conversion (what the runtime does with the event it deserialized), which
/// panics on some events API Gateway never sends: `None` then.
fn request(event: LambdaRequest) -> Option<Request> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let request = std::panic::catch_unwind(AssertUnwindSafe(move || Request::from(event))).ok();
    std::panic::set_hook(hook);
    request
}

/// What a 200 from this request could be: the endpoint its path names, if the request has
/// what that endpoint needs to answer 200 at all.
#[derive(Clone, Copy, Debug, PartialEq)]
enum MaySucceed {
    Metadata,
    Jwks,
    Tokens,
    Revoked,
    Introspection,
    Code,
    No,
}

fn may_succeed(request: &Request) -> MaySucceed {
    let path = match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    };
    let method = request.method().as_str();
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let form = content_type.contains("application/x-www-form-urlencoded");
    let iam = matches!(
        request.request_context_ref(),
        Some(RequestContext::ApiGatewayV2(context))
            if context.authorizer.as_ref().and_then(|a| a.iam.as_ref()).is_some()
    );
    match method {
        "GET" if path.ends_with(METADATA_PATH) => MaySucceed::Metadata,
        "GET" if path.ends_with(JWKS_PATH) => MaySucceed::Jwks,
        "POST" if form && path.ends_with(TOKEN_PATH) => MaySucceed::Tokens,
        "POST" if form && path.ends_with(REVOCATION_PATH) => MaySucceed::Revoked,
        "POST" if form && path.ends_with(INTROSPECTION_PATH) => MaySucceed::Introspection,
        "POST" if iam && path.ends_with(INTERNAL_CODES_PATH) => MaySucceed::Code,
        _ => MaySucceed::No,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<LambdaRequest>(data) else {
        return;
    };
    let Some(request) = request(event) else {
        return;
    };
    let expected = may_succeed(&request);
    let service = service();
    let response = runtime().block_on(handle(&service, request));
    let status = response.status().as_u16();
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
    let cache_control = response
        .headers()
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok());
    match status {
        200 => match expected {
            MaySucceed::Metadata => assert!(body["issuer"].is_string(), "{body}"),
            MaySucceed::Jwks => assert!(body["keys"].is_array(), "{body}"),
            MaySucceed::Tokens => assert_eq!(body["token_type"], "Bearer", "{body}"),
            MaySucceed::Revoked => assert!(response.body().as_ref().is_empty()),
            MaySucceed::Introspection => assert!(body["active"].is_boolean(), "{body}"),
            MaySucceed::Code => assert!(body["code"].is_string(), "{body}"),
            MaySucceed::No => panic!("200 for a request that cannot be valid: {body}"),
        },
        400..=499 => {
            assert!(body["error"].is_string(), "{status} without an error body");
            assert_eq!(cache_control, Some("no-store"), "{status} {body}");
        }
        _ => panic!("status {status} ({body})"),
    }
});

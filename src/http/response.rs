//! Builds every HTTP answer: tokens, introspection results, revocations and RFC 6749 §5.2 error
//! bodies, always with `Cache-Control: no-store` and `Pragma: no-cache`; and the two public
//! documents (metadata, JWKS), which caches may keep.

use crate::domain::error::{AuthMethod, ErrorCode, OAuthError};
use crate::domain::service::TokenResponse;
use lambda_http::http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE,
};
use lambda_http::{Body, Response};
use serde::Serialize;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

fn json_headers(status: u16) -> lambda_http::http::response::Builder {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .header(CACHE_CONTROL, "no-store")
        .header(PRAGMA, "no-cache")
}

/// How long caches may keep the metadata and the JWKS: short enough that a key added to the
/// signing set is published within minutes, before any token signed with it is issued (keys are
/// added last, then moved first; see the README).
pub const PUBLIC_MAX_AGE_SECONDS: u32 = 300;

/// A 200 JSON answer that no cache may keep.
pub fn private_json(body: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(body).expect("answers serialize");
    json_headers(200)
        .body(Body::Text(body))
        .expect("static headers are valid")
}

pub fn success(tokens: &TokenResponse) -> Response<Body> {
    private_json(tokens)
}

/// RFC 7009 §2.2: 200 with an empty body, whether or not there was anything to revoke.
pub fn revoked() -> Response<Body> {
    Response::builder()
        .status(200)
        .header(CACHE_CONTROL, "no-store")
        .header(PRAGMA, "no-cache")
        .body(Body::Empty)
        .expect("static headers are valid")
}

/// A public document (metadata, JWKS), already serialized.
pub fn public_json(body: &str) -> Response<Body> {
    Response::builder()
        .status(200)
        .header(CONTENT_TYPE, "application/json")
        .header(
            CACHE_CONTROL,
            format!("public, max-age={PUBLIC_MAX_AGE_SECONDS}"),
        )
        .body(Body::Text(body.to_owned()))
        .expect("static headers are valid")
}

/// `allow`: the method the endpoint takes, for a 405.
pub fn error(error: &OAuthError, allow: &'static str) -> Response<Body> {
    let body = serde_json::to_string(&ErrorBody {
        error: error.code.as_str(),
        error_description: error.description,
    })
    .expect("error body serializes");
    let mut builder = json_headers(error.code.status());
    match error.code {
        ErrorCode::InvalidClient if error.auth_method == AuthMethod::Basic => {
            builder = builder.header(WWW_AUTHENTICATE, "Basic realm=\"token\", charset=\"UTF-8\"");
        }
        ErrorCode::TemporarilyUnavailable => {
            builder = builder.header(RETRY_AFTER, OAuthError::RETRY_AFTER_SECONDS);
        }
        ErrorCode::MethodNotAllowed => {
            builder = builder.header(ALLOW, allow);
        }
        _ => {}
    }
    builder
        .body(Body::Text(body))
        .expect("static headers are valid")
}

//! Builds every HTTP answer: the token JSON or an RFC 6749 §5.2 error body, always with
//! `Cache-Control: no-store` and `Pragma: no-cache`.

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

pub fn success(tokens: &TokenResponse) -> Response<Body> {
    let body = serde_json::to_string(tokens).expect("token response serializes");
    json_headers(200)
        .body(Body::Text(body))
        .expect("static headers are valid")
}

pub fn error(error: &OAuthError) -> Response<Body> {
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
            builder = builder.header(ALLOW, "POST");
        }
        _ => {}
    }
    builder
        .body(Body::Text(body))
        .expect("static headers are valid")
}

//! The `Authorization` header (HTTP Basic client credentials, RFC 6749 §2.3.1), through
//! `http::form::decode` with a valid form body that carries no credentials of its own.
//!
//! Asserts: no panic; a header is either ignored (another scheme), accepted as Basic credentials
//! with a non-empty client id, or refused as `invalid_client` marked Basic (so the 401 carries
//! `WWW-Authenticate`); the same credentials encoded again decode to the same id and secret.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chatroom_token::domain::error::{AuthMethod, ErrorCode};
use chatroom_token::http::form::decode;
use lambda_http::http::header::{AUTHORIZATION, CONTENT_TYPE};
use lambda_http::http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

const BODY: &[u8] = b"grant_type=refresh_token&refresh_token=x";

fn headers(authorization: HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(AUTHORIZATION, authorization);
    headers
}

/// application/x-www-form-urlencoded escaping of every byte that is not unreserved.
fn form_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    // What API Gateway can hand over: a header value (no CR, LF or NUL).
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    match decode(&headers(value), BODY) {
        Ok(form) => {
            let Some(client) = form.client else {
                return; // not Basic: ignored
            };
            assert_eq!(client.method, AuthMethod::Basic);
            assert!(!client.id.is_empty(), "Basic credentials with no client id");
            // HTTP Basic always carries a secret (maybe empty): never an id-only client.
            let secret = client.secret.as_ref().expect("Basic credentials carry a secret");
            let again = format!(
                "Basic {}",
                STANDARD.encode(format!(
                    "{}:{}",
                    form_escape(&client.id),
                    form_escape(secret.expose())
                ))
            );
            let again = decode(&headers(HeaderValue::from_str(&again).unwrap()), BODY)
                .expect("re-encoded credentials decode")
                .client
                .expect("re-encoded credentials are Basic");
            assert_eq!(again.id, client.id);
            let again_secret = again.secret.as_ref().map(|s| s.expose());
            assert_eq!(again_secret, Some(secret.expose()));
        }
        Err(error) => {
            assert_eq!(error.code, ErrorCode::InvalidClient, "{error:?}");
            assert_eq!(error.auth_method, AuthMethod::Basic, "{error:?}");
        }
    }
});

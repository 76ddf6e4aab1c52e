//! The form body of the token, revocation and introspection endpoints (`http::form::decode`),
//! bytes exactly as they arrive (after API Gateway's base64, if any).
//!
//! Asserts: no panic; a body over `MAX_BODY_BYTES` is refused before it is parsed; every
//! parameter the endpoints read is absent or non-empty (an empty one counts as omitted); the
//! body's client credentials are the only ones (no Authorization header here).
#![no_main]

use chatroom_token::domain::error::AuthMethod;
use chatroom_token::http::form::{decode, MAX_BODY_BYTES};
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let Ok(form) = decode(&headers, body) else {
        return;
    };
    assert!(body.len() <= MAX_BODY_BYTES, "an oversized body was parsed");
    if let Some(client) = &form.client {
        assert_eq!(client.method, AuthMethod::Body);
        assert!(!client.id.is_empty(), "an empty client_id counts as absent");
    }
    let request = form.token_request();
    for value in [
        request.grant_type.as_deref(),
        request.redirect_uri.as_deref(),
        request.scope.as_deref(),
        request.code.as_ref().map(|s| s.expose()),
        request.code_verifier.as_ref().map(|s| s.expose()),
        request.refresh_token.as_ref().map(|s| s.expose()),
    ] {
        assert_ne!(value, Some(""), "an empty parameter counts as absent");
    }
    let action = decode(&headers, body)
        .expect("the same body decodes twice")
        .token_action();
    assert_ne!(action.token.as_ref().map(|s| s.expose()), Some(""));
    assert_ne!(action.token_type_hint.as_deref(), Some(""));
});

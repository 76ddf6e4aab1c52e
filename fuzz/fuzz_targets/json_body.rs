//! The JSON body of the internal code route (`http::json::code_request`).
//!
//! Asserts: no panic; a body over `MAX_BODY_BYTES` is refused before it is parsed; a refusal is
//! `invalid_request` (a 400).
#![no_main]

use chatroom_token::domain::error::ErrorCode;
use chatroom_token::http::form::MAX_BODY_BYTES;
use chatroom_token::http::json::code_request;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    match code_request(&headers, body) {
        Ok(_) => assert!(body.len() <= MAX_BODY_BYTES, "an oversized body was parsed"),
        Err(error) => assert_eq!(error.code, ErrorCode::InvalidRequest, "{error:?}"),
    }
});

//! Decodes the JSON body of the internal route: content type, size, and the request's shape.
//! Error answers echo nothing of the body.

use super::form::MAX_BODY_BYTES;
use crate::domain::error::OAuthError;
use crate::domain::internal_codes::CodeIssueRequest;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::http::HeaderMap;

pub fn code_request(headers: &HeaderMap, body: &[u8]) -> Result<CodeIssueRequest, OAuthError> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(OAuthError::invalid_request(
            "Content-Type must be application/json",
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(OAuthError::invalid_request("the request body is too large"));
    }
    serde_json::from_slice(body).map_err(|_| {
        OAuthError::invalid_request(
            "the body must be a JSON object with client_id, user_id, scope and optionally \
             redirect_uri, code_challenge, code_challenge_method, dpop_jkt",
        )
    })
}

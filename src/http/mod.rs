//! The HTTP adapter: the only code that knows about Lambda events. It routes, decodes the form,
//! calls the grant logic, encodes the answer and writes the request's log line.

pub mod form;
pub mod response;

use crate::domain::error::{ErrorCode, OAuthError};
use crate::domain::service::{Report, TokenService};
use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use std::time::Instant;

pub const TOKEN_PATH: &str = "/chatroom/api/token";

/// Answers one Lambda HTTP event. Never fails: every problem becomes an RFC 6749 error answer.
pub async fn handle(service: &TokenService, request: Request) -> Response<Body> {
    let started = Instant::now();
    let mut report = Report::default();
    let result = route(service, &request, &mut report).await;
    let response = match &result {
        Ok(tokens) => response::success(tokens),
        Err(error) => response::error(error),
    };
    log_request(&request, &report, result.as_ref().err(), started);
    response
}

async fn route(
    service: &TokenService,
    request: &Request,
    report: &mut Report,
) -> Result<crate::domain::service::TokenResponse, OAuthError> {
    // The raw path carries no API Gateway stage prefix; events built by hand may lack it.
    let path = match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    };
    if path != TOKEN_PATH {
        return Err(OAuthError::new(ErrorCode::NotFound, "no such endpoint"));
    }
    if request.method() != Method::POST {
        return Err(OAuthError::new(
            ErrorCode::MethodNotAllowed,
            "the token endpoint accepts only POST",
        ));
    }
    let token_request = form::decode(request.headers(), request.body().as_ref())?;
    service.exchange(token_request, report).await
}

/// One line per request. It names the client, grant and outcome; it never carries the body,
/// a token, a code or a secret.
fn log_request(request: &Request, report: &Report, error: Option<&OAuthError>, started: Instant) {
    let request_id = request
        .lambda_context_ref()
        .map(|c| c.request_id.as_str())
        .unwrap_or("-");
    let grant_id = report.grant_id.map(|id| id.to_string());
    tracing::info!(
        request_id,
        client_id = report.client_id.as_deref(),
        grant_type = report.grant_type.map(|g| g.as_str()),
        grant_id = grant_id.as_deref(),
        event = report.event.map(|e| format!("{e:?}")).as_deref(),
        outcome = error.map(|e| e.code.as_str()).unwrap_or("ok"),
        latency_us = started.elapsed().as_micros() as u64,
        "token request"
    );
}

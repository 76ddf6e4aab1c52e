//! The HTTP adapter: the only code that knows about Lambda events. It routes, decodes the form,
//! calls the grant logic, encodes the answer and writes the request's log line.

pub mod form;
pub mod metrics;
pub mod response;

use crate::domain::error::{ErrorCode, OAuthError};
use crate::domain::service::{Event, Report, TokenService};
use lambda_http::http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use std::time::Instant;

pub const TOKEN_PATH: &str = "/chatroom/api/token";

/// Answers one Lambda HTTP event. Never fails: every problem becomes an RFC 6749 error answer.
pub async fn handle(service: &TokenService, request: Request) -> Response<Body> {
    let started = Instant::now();
    let requests_before = service.store_requests();
    let mut report = Report::default();
    let result = route(service, &request, &mut report).await;
    let response = match &result {
        Ok(tokens) => response::success(tokens),
        Err(error) => response::error(error),
    };
    let store_requests = service.store_requests() - requests_before;
    let latency_us = started.elapsed().as_micros() as u64;
    let error = result.as_ref().err();
    log_request(&request, &report, error, store_requests, latency_us);
    if service.emits_metrics() {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        println!("{}", metrics::emf_line(&report, error, latency_us, now_ms));
    }
    response
}

async fn route(
    service: &TokenService,
    request: &Request,
    report: &mut Report,
) -> Result<crate::domain::service::TokenResponse, OAuthError> {
    if endpoint_path(request) != TOKEN_PATH {
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

/// The request path without any API Gateway stage prefix. REST (v1) events give it without the
/// stage already; HTTP API (v2) events on a named stage carry `/<stage>` in `rawPath`; function
/// URLs and the `$default` stage have none. Events built by hand may have no raw path at all.
fn endpoint_path(request: &Request) -> &str {
    let raw = match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    };
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.as_deref(),
        Some(RequestContext::ApiGatewayV1(context)) => context.stage.as_deref(),
        _ => None,
    };
    stage
        .filter(|stage| *stage != "$default")
        .and_then(|stage| raw.strip_prefix('/')?.strip_prefix(stage))
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(raw)
}

/// One line per request. It names the client, grant and outcome; it never carries the body,
/// a token, a code or a secret.
fn log_request(
    request: &Request,
    report: &Report,
    error: Option<&OAuthError>,
    store_requests: u64,
    latency_us: u64,
) {
    let request_id = request
        .lambda_context_ref()
        .map(|c| c.request_id.as_str())
        .unwrap_or("-");
    let grant_id = report.grant_id.map(|id| id.to_string());
    // Client ids are public, but whatever a caller sent is bounded before it reaches a log.
    let client_id = report
        .client_id
        .as_deref()
        .map(|id| &id[..id.floor_char_boundary(64)]);
    tracing::info!(
        request_id,
        client_id,
        grant_type = report.grant_type.map(|g| g.as_str()),
        grant_id = grant_id.as_deref(),
        event = report.event.map(Event::as_str),
        outcome = error.map(|e| e.code.as_str()).unwrap_or("ok"),
        store_requests,
        latency_us,
        "token request"
    );
}

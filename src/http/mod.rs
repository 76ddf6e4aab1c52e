//! The HTTP adapter: the only code that knows about Lambda events. It routes the five endpoints
//! (token, revocation, introspection, metadata, JWKS), decodes forms, calls the domain, encodes
//! the answer and writes the request's log line.

pub mod form;
pub mod json;
pub mod metrics;
pub mod response;

use crate::domain::discovery::{
    INTERNAL_CODES_PATH, INTROSPECTION_PATH, JWKS_PATH, METADATA_PATH, REVOCATION_PATH,
};
use crate::domain::error::{ErrorCode, OAuthError};
use crate::domain::internal_callers::Caller;
use crate::domain::internal_codes::{self, CodeIssued};
use crate::domain::introspection::{self, Introspection};
use crate::domain::revocation;
use crate::domain::service::{Event, Report, TokenResponse, TokenService};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use std::time::Instant;

pub use crate::domain::discovery::TOKEN_PATH;

/// What a successful request answers.
enum Answer {
    Tokens(TokenResponse),
    Revoked,
    Introspection(Introspection),
    Public(String),
    Code(CodeIssued),
}

/// Each endpoint and the one method it takes.
#[derive(Clone, Copy)]
enum Endpoint {
    Token,
    Revocation,
    Introspection,
    Metadata,
    Jwks,
    /// Only for a request API Gateway admitted with an IAM signature.
    InternalCodes,
}

impl Endpoint {
    /// The endpoint at `path`. The internal route exists only for a caller the service admits
    /// (`internal_callers`): for any other it is an unknown path, answered exactly so.
    fn at(path: &str, internal_caller: bool) -> Option<Self> {
        Some(match path {
            TOKEN_PATH => Self::Token,
            REVOCATION_PATH => Self::Revocation,
            INTROSPECTION_PATH => Self::Introspection,
            METADATA_PATH => Self::Metadata,
            JWKS_PATH => Self::Jwks,
            INTERNAL_CODES_PATH if internal_caller => Self::InternalCodes,
            _ => return None,
        })
    }

    /// The one method the endpoint takes (and the `Allow` header of a 405).
    fn method(self) -> &'static str {
        match self {
            Self::Metadata | Self::Jwks => "GET",
            _ => "POST",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Revocation => "revocation",
            Self::Introspection => "introspection",
            Self::Metadata => "metadata",
            Self::Jwks => "jwks",
            Self::InternalCodes => "internal_codes",
        }
    }
}

/// Answers one Lambda HTTP event. Never fails: every problem becomes an RFC 6749 error answer.
pub async fn handle(service: &TokenService, request: Request) -> Response<Body> {
    let started = Instant::now();
    service.refresh_keys_if_due().await;
    let requests_before = service.store_requests();
    let mut report = Report {
        principal: iam_principal(&request),
        ..Report::default()
    };
    let admitted = iam_caller(&request).is_some_and(|c| service.internal_callers().admit(&c));
    let endpoint = Endpoint::at(endpoint_path(&request), admitted);
    let result = route(service, endpoint, &request, &mut report).await;
    let mut response = match &result {
        Ok(Answer::Tokens(tokens)) => response::success(tokens),
        Ok(Answer::Revoked) => response::revoked(),
        Ok(Answer::Introspection(answer)) => response::private_json(answer),
        Ok(Answer::Public(document)) => response::public_json(document),
        Ok(Answer::Code(issued)) => response::private_json(issued),
        Err(error) => response::error(error, endpoint.map_or("POST", Endpoint::method)),
    };
    // RFC 9449 §8: where nonces are required, the current one rides on every token answer
    // and on the `use_dpop_nonce` error that asks for it; exactly one header.
    let nonce_answer = match &result {
        Ok(Answer::Tokens(_)) => true,
        Err(error) => error.code == ErrorCode::UseDpopNonce,
        Ok(_) => false,
    };
    if let Some(nonce) = service.dpop_nonce().filter(|_| nonce_answer) {
        let value = nonce.parse().expect("a nonce is base64url");
        response.headers_mut().insert("dpop-nonce", value);
    }
    let store_requests = service.store_requests() - requests_before;
    report.stale_key_failures = service.take_stale_key_failures();
    let latency_us = started.elapsed().as_micros() as u64;
    let error = result.as_ref().err();
    log_request(
        &request,
        endpoint.map_or("-", Endpoint::name),
        &report,
        error,
        store_requests,
        latency_us,
    );
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
    endpoint: Option<Endpoint>,
    request: &Request,
    report: &mut Report,
) -> Result<Answer, OAuthError> {
    let endpoint = endpoint.ok_or(OAuthError::new(ErrorCode::NotFound, "no such endpoint"))?;
    if request.method().as_str() != endpoint.method() {
        return Err(OAuthError::new(
            ErrorCode::MethodNotAllowed,
            "this endpoint does not take this method",
        ));
    }
    let form = || form::decode(request.headers(), request.body().as_ref());
    Ok(match endpoint {
        Endpoint::Token => Answer::Tokens(service.exchange(form()?.token_request(), report).await?),
        Endpoint::Revocation => {
            revocation::revoke(service, &form()?.token_action(), report).await?;
            Answer::Revoked
        }
        Endpoint::Introspection => Answer::Introspection(
            introspection::introspect(service, &form()?.token_action(), report).await?,
        ),
        Endpoint::Metadata => Answer::Public(service.metadata().to_owned()),
        Endpoint::Jwks => Answer::Public(service.keys().jwks().to_owned()),
        Endpoint::InternalCodes => {
            let body = json::code_request(request.headers(), request.body().as_ref())?;
            Answer::Code(internal_codes::issue(service, body, report).await?)
        }
    })
}

/// The caller's IAM identity, as API Gateway puts it in the request context of a route with
/// IAM authorization (after checking the SigV4 signature), with the API and route that admitted
/// it. Nothing a caller sends in a header, the path or the body can put it there; whoever may
/// invoke the function directly (`lambda:InvokeFunction`) can write any event, so the template
/// grants that to API Gateway alone.
fn iam_caller(request: &Request) -> Option<Caller<'_>> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => Some(Caller {
            api_id: context.apiid.as_deref(),
            route_key: context.route_key.as_deref(),
            principal_arn: context
                .authorizer
                .as_ref()?
                .iam
                .as_ref()?
                .user_arn
                .as_deref()?,
        }),
        _ => None,
    }
}

/// Logged, whether the caller was admitted or not: who issued a code, or who tried.
fn iam_principal(request: &Request) -> Option<String> {
    iam_caller(request).map(|caller| caller.principal_arn.to_owned())
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
    endpoint: &str,
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
        endpoint,
        principal = report.principal.as_deref(),
        client_id,
        grant_type = report.grant_type.map(|g| g.as_str()),
        grant_id = grant_id.as_deref(),
        event = report.event.map(Event::as_str),
        outcome = error.map(|e| e.code.as_str()).unwrap_or("ok"),
        store_requests,
        latency_us,
        "request"
    );
}

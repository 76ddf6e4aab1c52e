//! Issuing a code for the platform's consent page over HTTP (`POST /internal/codes`): the same
//! step as `tokenctl codes issue` (`code_issuer::issue_code`), with the same checks and one
//! conditional write. Who may call it is decided before the domain: API Gateway admits only
//! SigV4-signed callers whose IAM policy allows the route, and the HTTP adapter answers 404
//! unless the request carries the IAM identity API Gateway adds, for the configured API and
//! route, of a principal on the allowlist (`internal_callers`).

use super::code_issuer::{issue_code, CodeRequest, IssueCodeError};
use super::error::{ErrorCode, OAuthError};
use super::pkce::{ChallengeMethod, CodeChallenge};
use super::scope::Scope;
use super::service::{Report, TokenService};
use crate::crypto::secret::Secret;
use serde::{Deserialize, Serialize};

/// The JSON body: what `tokenctl codes issue` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeIssueRequest {
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    /// `S256` (the default) or `plain`.
    pub code_challenge_method: Option<String>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code is bound to.
    pub dpop_jkt: Option<String>,
}

/// The answer: the code, and how long it lives. Never logged.
#[derive(Debug, Serialize)]
pub struct CodeIssued {
    pub code: Secret,
    pub expires_in: i64,
}

pub async fn issue(
    service: &TokenService,
    request: CodeIssueRequest,
    report: &mut Report,
) -> Result<CodeIssued, OAuthError> {
    report.client_id = Some(request.client_id.clone());
    let scope =
        Scope::parse(&request.scope).ok_or(OAuthError::invalid_scope("scope is malformed"))?;
    let challenge = match request.code_challenge {
        None => None,
        Some(value) => Some(CodeChallenge {
            method: ChallengeMethod::parse(
                request.code_challenge_method.as_deref().unwrap_or("S256"),
            )
            .ok_or(OAuthError::invalid_request(
                "code_challenge_method must be S256 or plain",
            ))?,
            value,
        }),
    };
    let code_request = CodeRequest {
        dpop_jkt: request.dpop_jkt,
        client_id: request.client_id,
        user_id: request.user_id,
        scope,
        redirect_uri: request.redirect_uri,
        challenge,
    };
    let now = service.clock.now();
    let keys = service.keys();
    let issued = issue_code(
        service.clients.as_ref(),
        service.grants.as_ref(),
        keys.token_keys(now),
        &code_request,
        now,
        service.lifetimes.code,
    )
    .await
    .map_err(refusal)?;
    report.grant_id = Some(issued.grant_id);
    Ok(CodeIssued {
        code: issued.code,
        expires_in: service.lifetimes.code,
    })
}

/// The code issuer's refusals as error answers, with its own fixed texts: the request is the
/// caller's mistake (400), the store's trouble is a 503 or 500 as everywhere.
fn refusal(error: IssueCodeError) -> OAuthError {
    if let IssueCodeError::Store(error) = error {
        return error.into();
    }
    let code = match error {
        IssueCodeError::ClientDisabled | IssueCodeError::GrantTypeNotAllowed => {
            ErrorCode::UnauthorizedClient
        }
        IssueCodeError::ScopeNotAllowed => ErrorCode::InvalidScope,
        _ => ErrorCode::InvalidRequest,
    };
    // Every refusal but a store's has its text.
    let text = error
        .description()
        .unwrap_or("the code could not be issued");
    OAuthError::new(code, text)
}

//! Token introspection (RFC 7662), for resource servers registered as allowed to introspect.
//!
//! An access token is active only if its signature, `exp` and `iss` hold *and* its grant is not
//! revoked (one strongly consistent read). A refresh token is active while it is its grant's
//! current token and the grant is live (unrevoked, within its idle and absolute lifetimes).
//! Anything else, including tokens we did not mint, is exactly `{"active": false}`.

use super::client_auth::authenticate;
use super::error::{ErrorCode, OAuthError};
use super::model::GrantRecord;
use super::revocation::{recognise, Presented};
use super::service::{Report, TokenActionRequest, TokenService};
use crate::crypto::grant_token::GrantId;
use serde::Serialize;

/// The answer: `{"active": false}`, or the token's claims.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Introspection {
    Inactive { active: bool },
    Active(ActiveToken),
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ActiveToken {
    pub active: bool,
    pub scope: String,
    pub client_id: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub token_type: &'static str,
    pub iss: String,
    pub aud: Vec<String>,
}

const INACTIVE: Introspection = Introspection::Inactive { active: false };

pub async fn introspect(
    service: &TokenService,
    request: &TokenActionRequest,
    report: &mut Report,
) -> Result<Introspection, OAuthError> {
    report.client_id = request.client.as_ref().map(|c| c.id.clone());
    let client = authenticate(service.clients.as_ref(), request.client.as_ref()).await?;
    if !client.may_introspect {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not introspect tokens",
        ));
    }
    let token = request
        .token
        .as_ref()
        .ok_or(OAuthError::invalid_request("token is required"))?;
    let now = service.clock.now();
    match recognise(service, token.expose()) {
        None => Ok(INACTIVE),
        Some(Presented::Access(claims)) => {
            let Some(grant_id) = GrantId::parse(&claims.gid) else {
                return Ok(INACTIVE);
            };
            report.grant_id = Some(grant_id);
            let live = service
                .grants
                .find_grant(&grant_id)
                .await?
                .is_some_and(|grant| {
                    grant.revoked_at.is_none() && grant.client_id == claims.client_id
                });
            Ok(if live {
                Introspection::Active(ActiveToken {
                    active: true,
                    scope: claims.scope,
                    client_id: claims.client_id,
                    sub: claims.sub,
                    exp: claims.exp,
                    iat: claims.iat,
                    token_type: "Bearer",
                    iss: claims.iss,
                    aud: claims.aud,
                })
            } else {
                INACTIVE
            })
        }
        Some(Presented::Refresh(token)) => {
            report.grant_id = Some(token.grant_id);
            let grant = service.grants.find_grant(&token.grant_id).await?;
            Ok(match grant {
                Some(grant)
                    if grant.refresh_hash.is_some_and(|h| h.matches(&token.hash))
                        && grant.is_active() =>
                {
                    refresh_token_claims(service, &grant, now)
                        .map_or(INACTIVE, Introspection::Active)
                }
                _ => INACTIVE,
            })
        }
    }
}

/// A current refresh token's claims, if its grant is within both lifetimes: it expires at the
/// idle limit or the absolute one, whichever comes first.
fn refresh_token_claims(
    service: &TokenService,
    grant: &GrantRecord,
    now: i64,
) -> Option<ActiveToken> {
    let lifetimes = service.lifetimes;
    let rotated_at = grant.rotated_at?;
    let exp =
        (rotated_at + lifetimes.refresh_idle).min(grant.redeemed_at? + lifetimes.refresh_absolute);
    (exp > now).then(|| ActiveToken {
        active: true,
        scope: grant.scope.to_string(),
        client_id: grant.client_id.clone(),
        sub: grant.user_id.clone(),
        exp,
        iat: rotated_at,
        token_type: "refresh_token",
        iss: service.issuer.clone(),
        aud: vec![grant.client_id.clone()],
    })
}

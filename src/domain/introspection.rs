//! Token introspection (RFC 7662), for resource servers registered as allowed to introspect.
//!
//! An access token is active only if its signature, `exp` and `iss` hold *and* its grant vouches
//! for it (one strongly consistent read): not revoked, the same user (`sub`), the same client
//! (`client_id` and `aud`), and a scope within the grant's. With HS256 every API server holds the
//! signing key and could mint a token naming a real grant and anyone; the grant check stops that
//! token here.
//!
//! A client's token for itself (client credentials) names no grant; its client vouches instead
//! (one client read): enabled, still registered for the grant, the token's scope within its own.
//!
//! A refresh token is never active for a resource server: it is none of its business, and an
//! answer would let whoever holds a resource server's secret test stolen refresh tokens without
//! tripping reuse detection. It answers `{"active": false}` without a store call, as anything we
//! did not mint does.

use super::access_token::{AccessClaims, Confirmation};
use super::error::{ErrorCode, OAuthError};
use super::model::{Client, GrantRecord, GrantType};
use super::revocation::{recognise, Presented};
use super::scope::Scope;
use super::service::{Lifetimes, Report, TokenActionRequest, TokenService};
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
    /// `DPoP` for a token bound to a key (RFC 9449 §6.2), `Bearer` otherwise.
    pub token_type: &'static str,
    pub iss: String,
    pub aud: Vec<String>,
    /// The bound key's thumbprint (RFC 9449 §6.2), for a DPoP-bound token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

const INACTIVE: Introspection = Introspection::Inactive { active: false };

pub async fn introspect(
    service: &TokenService,
    request: &TokenActionRequest,
    report: &mut Report,
) -> Result<Introspection, OAuthError> {
    report.client_id = request.client.as_ref().map(|c| c.id.clone());
    let client = service.authenticate(request.client.as_ref()).await?;
    // A public client's id proves nothing: whoever names it could test any token.
    if !client.may_introspect || client.public {
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
            let live = match claims.gid.as_deref() {
                // A client's token for itself: its client must still stand behind it.
                None => service
                    .clients
                    .find_client(&claims.client_id)
                    .await?
                    .is_some_and(|client| {
                        client_vouches_for(&client, &claims, &service.lifetimes, now)
                    }),
                Some(gid) => {
                    let Some(grant_id) = GrantId::parse(gid) else {
                        return Ok(INACTIVE);
                    };
                    report.grant_id = Some(grant_id);
                    service
                        .grants
                        .find_grant(&grant_id)
                        .await?
                        .is_some_and(|grant| vouches_for(&grant, &claims, &service.lifetimes, now))
                }
            };
            Ok(if live {
                Introspection::Active(ActiveToken {
                    active: true,
                    scope: claims.scope,
                    client_id: claims.client_id,
                    sub: claims.sub,
                    exp: claims.exp,
                    iat: claims.iat,
                    token_type: if claims.cnf.is_some() {
                        "DPoP"
                    } else {
                        "Bearer"
                    },
                    iss: claims.iss,
                    aud: claims.aud,
                    cnf: claims.cnf,
                })
            } else {
                INACTIVE
            })
        }
        // Recognised (a genuine tag) and still told apart from nothing: the same answer and cost
        // as a forged token.
        Some(Presented::Refresh(_)) => Ok(INACTIVE),
    }
}

/// Whether the client a client-credentials token names stands behind it: enabled and still
/// registered for the grant type; the token its own (`sub`, `aud`), its scope within the
/// client's, issued not in the future and for no longer than this service issues tokens.
fn client_vouches_for(
    client: &Client,
    claims: &AccessClaims,
    lifetimes: &Lifetimes,
    now: i64,
) -> bool {
    let scope_within = Scope::parse(&claims.scope).is_some_and(|s| s.is_subset_of(&client.scope));
    client.enabled
        && client.may_use(GrantType::ClientCredentials)
        && claims.sub == client.id
        && claims.aud == [client.id.as_str()]
        && claims.iat <= now + CLOCK_SKEW_SECONDS
        && claims.exp.saturating_sub(claims.iat) <= lifetimes.access_token
        && scope_within
}

/// How far ahead of this instance's clock another instance's `iat` may be.
const CLOCK_SKEW_SECONDS: i64 = 60;

/// Whether the grant an access token names stands behind it: live; the token's user, client and
/// scope the grant's; issued while the grant was (after its code was redeemed, before its
/// absolute limit, not in the future) and for no longer than this service issues tokens.
fn vouches_for(
    grant: &GrantRecord,
    claims: &AccessClaims,
    lifetimes: &Lifetimes,
    now: i64,
) -> bool {
    let Some(redeemed_at) = grant.redeemed_at else {
        return false;
    };
    let issued_in_the_grant = claims.iat >= redeemed_at
        && claims.iat <= redeemed_at.saturating_add(lifetimes.refresh_absolute)
        && claims.iat <= now + CLOCK_SKEW_SECONDS;
    let lifetime_issued = claims.exp.saturating_sub(claims.iat) <= lifetimes.access_token;
    let scope_within = Scope::parse(&claims.scope).is_some_and(|s| s.is_subset_of(&grant.scope));
    grant.revoked_at.is_none()
        && issued_in_the_grant
        && lifetime_issued
        && grant.user_id == claims.sub
        && grant.client_id == claims.client_id
        && claims.aud == [grant.client_id.as_str()]
        && scope_within
}

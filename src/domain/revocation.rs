//! Token revocation (RFC 7009): a client revokes its own refresh or access token, and with it
//! the whole grant, in one conditional write.
//!
//! - A refresh token is recognised by its tag (a forged one never reaches the store); the write
//!   applies only if the grant is the caller's and the token is one of its genuine tokens, the
//!   current one or an older one.
//! - An access token is recognised by its signature and issuer, and carries the id of its grant;
//!   an expired one revokes nothing (its `exp` already ended it).
//! - A client's token for itself (client credentials) has no grant and is checked offline by
//!   API servers, so it cannot be revoked: `unsupported_token_type` (§2.2.1) to its client.
//! - Unknown, expired, forged or already revoked tokens answer 200 and change nothing (§2.2);
//!   a genuine token of another client is refused (§2.1) and changes nothing.
//!
//! Operators (`tokenctl grants revoke`) and the service's own verdicts (reuse detection, code
//! replay) go through the same step, `revoke_grant`, with no client condition.

use super::error::{ErrorCode, OAuthError};
use super::port::{GrantStore, Rejected, Revocation, StoreError};
use super::service::{Event, Report, TokenActionRequest, TokenService};
use crate::crypto::grant_token::{GrantId, TokenKind};

/// What a presented token turned out to be.
pub(crate) enum Presented {
    Refresh(crate::crypto::grant_token::GrantToken),
    Access(super::access_token::AccessClaims),
}

/// Recognises a token we issued, by its form: JWTs have dots, refresh tokens never do. The
/// `token_type_hint` is not needed for this (RFC 7009 §2.1 lets the server ignore it).
/// `None` for anything we did not mint or that no longer verifies.
pub(crate) fn recognise(service: &TokenService, token: &str) -> Option<Presented> {
    let now = service.clock.now();
    let keys = service.keys();
    if token.contains('.') {
        keys.verifier()
            .verify_at(token, now)
            .ok()
            .map(Presented::Access)
    } else {
        keys.token_keys(now)
            .open(TokenKind::Refresh, token)
            .map(Presented::Refresh)
    }
}

pub async fn revoke(
    service: &TokenService,
    request: &TokenActionRequest,
    report: &mut Report,
) -> Result<(), OAuthError> {
    report.client_id = request.client.as_ref().map(|c| c.id.clone());
    let client = service.authenticate(request.client.as_ref()).await?;
    let token = request
        .token
        .as_ref()
        .ok_or(OAuthError::invalid_request("token is required"))?;
    let revocation = match recognise(service, token.expose()) {
        None => return Ok(()),
        Some(Presented::Refresh(token)) => Revocation {
            grant_id: token.grant_id,
            client_id: Some(client.id.clone()),
            presented: Some((token.generation, token.hash)),
            now: service.clock.now(),
        },
        Some(Presented::Access(claims)) => {
            if claims.client_id != client.id {
                return Err(another_clients_token());
            }
            let Some(gid) = claims.gid.as_deref() else {
                // A client's token for itself comes from no grant, and API servers check it
                // offline: nothing here can end it before its `exp`. Said plainly rather than
                // a 200 that would promise a revocation.
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedTokenType,
                    "a client credentials token cannot be revoked; it ends at its exp",
                ));
            };
            let Some(grant_id) = GrantId::parse(gid) else {
                return Ok(());
            };
            Revocation {
                grant_id,
                client_id: Some(client.id.clone()),
                presented: None,
                now: service.clock.now(),
            }
        }
    };
    report.grant_id = Some(revocation.grant_id);
    match service.grants.revoke(&revocation).await {
        Ok(_) => {
            report.event = Some(Event::Revoked);
            Ok(())
        }
        Err(Rejected::Store(error)) => Err(error.into()),
        Err(Rejected::Condition(Some(grant))) if grant.client_id != client.id => {
            Err(another_clients_token())
        }
        // No such grant, or a token the grant no longer knows: nothing to revoke.
        Err(Rejected::Condition(_)) => Ok(()),
    }
}

fn another_clients_token() -> OAuthError {
    OAuthError::new(
        ErrorCode::UnauthorizedClient,
        "the token was not issued to this client",
    )
}

/// Revokes a grant whatever it holds: an operator's command. The same store step as above.
pub async fn revoke_grant(
    grants: &dyn GrantStore,
    grant_id: &GrantId,
    now: i64,
) -> Result<bool, StoreError> {
    grants.revoke_grant(grant_id, now).await
}

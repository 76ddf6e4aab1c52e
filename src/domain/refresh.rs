//! The `refresh_token` grant (RFC 6749 §6) with rotation, a grace window and reuse detection
//! (RFC 9700 §4.14.2).
//!
//! The happy path is one conditional write: "if the presented token is current and the grant is
//! live, install the successor". When that is refused, the record it returns decides:
//! - it already holds the successor this request minted: our own write, answered after a lost
//!   response;
//! - the presented token is the immediate predecessor, rotated within the grace window: the
//!   successor is unsealed (server key and presented token together, see `successor_seal`) and
//!   handed out again, so racing tabs and retried requests continue one chain; if this instance
//!   cannot open the seal (a key it does not hold), `invalid_grant` and nothing revoked;
//! - the grant is bound to a DPoP key and the request has no proof of it: `invalid_grant`, and
//!   nothing rotates or is revoked, whichever of the grant's tokens it presents (a thief
//!   without the key can neither use nor burn a stolen token); its proof is no newer than the
//!   last one the grant accepted: `invalid_dpop_proof`, nothing changes;
//! - the presented token is an older token of this grant (its tag proves we minted it): reuse,
//!   and the whole grant is revoked;
//! - anything else is `invalid_grant` and changes nothing.

use super::authorization_code::proof_use;
use super::code_issuer::MAX_SCOPE;
use super::dpop::Proof;
use super::error::OAuthError;
use super::model::{Client, GrantRecord};
use super::scope::Scope;
use super::service::{Event, Report, TokenRequest, TokenResponse, TokenService};
use crate::crypto::grant_token::{GrantToken, TokenKeys, TokenKind};
use crate::domain::conditions::{covers_scope, key_fits, proof_is_new, within_lifetimes};
use crate::domain::port::{Rejected, Rotation};

pub async fn refresh(
    service: &TokenService,
    client: &Client,
    request: &TokenRequest,
    proof: Option<&Proof>,
    report: &mut Report,
) -> Result<TokenResponse, OAuthError> {
    let presented = request
        .refresh_token
        .as_ref()
        .ok_or(OAuthError::invalid_request("refresh_token is required"))?;
    let requested_scope = match &request.scope {
        // No grant holds a scope longer than a code can be issued with, so a longer request
        // cannot be within it: refused here, before it becomes hundreds of store conditions.
        Some(text) if text.len() > MAX_SCOPE => {
            return Err(OAuthError::invalid_scope("scope exceeds the scope granted"))
        }
        Some(text) => {
            Some(Scope::parse(text).ok_or(OAuthError::invalid_scope("scope is malformed"))?)
        }
        None => None,
    };
    let now = service.clock.now();
    let keys = service.keys();
    let token_keys = keys.token_keys(now);
    let presented = token_keys
        .open(TokenKind::Refresh, presented.expose())
        .ok_or_else(invalid_token)?;
    report.grant_id = Some(presented.grant_id);

    let lifetimes = service.lifetimes.for_client(&client.lifetimes);
    let successor = token_keys.mint(
        TokenKind::Refresh,
        presented.grant_id,
        presented.generation.wrapping_add(1),
    );
    let rotation = Rotation {
        grant_id: presented.grant_id,
        presented_hash: presented.hash,
        client_id: client.id.clone(),
        required_scope: requested_scope
            .as_ref()
            .map(|s| s.tokens().map(str::to_owned).collect())
            .unwrap_or_default(),
        now,
        idle_cutoff: now - lifetimes.refresh_idle,
        absolute_cutoff: now - lifetimes.refresh_absolute,
        successor_hash: successor.hash,
        successor_generation: successor.generation,
        // No grace window, no retry to answer: nothing is kept sealed.
        sealed_successor: (lifetimes.grace > 0)
            .then(|| token_keys.seals().seal(&presented, &successor)),
        expires_at: now + lifetimes.refresh_idle,
        proof: proof.map(proof_use),
    };
    let (grant, refresh_token) = match service.grants.rotate_refresh_token(&rotation).await {
        Ok(grant) => {
            report.event = Some(Event::Refreshed);
            (grant, successor)
        }
        Err(Rejected::Store(error)) => return Err(error.into()),
        Err(Rejected::Condition(None)) => return Err(invalid_token()),
        Err(Rejected::Condition(Some(grant))) => {
            let refusal = Refusal {
                grant: &grant,
                presented: &presented,
                successor: &successor,
                rotation: &rotation,
                grace: lifetimes.grace,
            };
            let token = explain_refusal(service, token_keys, refusal, report).await?;
            (*grant, token)
        }
    };
    let scope = requested_scope.unwrap_or_else(|| grant.scope.clone());
    let scope = scope.to_string();
    service.respond(&grant, scope, refresh_token.text(), &lifetimes, proof)
}

fn invalid_token() -> OAuthError {
    OAuthError::invalid_grant("the refresh token is invalid")
}

/// A refused rotation and what it was refused with.
struct Refusal<'a> {
    grant: &'a GrantRecord,
    presented: &'a GrantToken,
    successor: &'a GrantToken,
    rotation: &'a Rotation,
    /// The client's grace window.
    grace: i64,
}

/// Decides what a refused rotation means; returns the refresh token to answer with, if any.
async fn explain_refusal(
    service: &TokenService,
    token_keys: &TokenKeys,
    refusal: Refusal<'_>,
    report: &mut Report,
) -> Result<GrantToken, OAuthError> {
    let Refusal {
        grant,
        presented,
        successor,
        rotation,
        grace,
    } = refusal;
    let current = grant.refresh_hash;
    // Revocation wins over everything, even our own write revoked just after it applied.
    if grant.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant("the grant has been revoked"));
    }
    if current.is_some_and(|h| h.matches(&successor.hash)) {
        report.event = Some(Event::OwnWriteRecovered);
        return Ok(GrantToken::from_trusted_raw(*successor.raw()));
    }
    if grant.client_id != rotation.client_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if !within_lifetimes(grant, rotation) {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    // DPoP before anything that revokes or hands out a token.
    if !key_fits(grant, rotation.proof.as_ref()) {
        report.event = Some(Event::DpopKeyMismatch);
        tracing::warn!(grant_id = %grant.grant_id, "refresh of a DPoP-bound grant without its key");
        return Err(OAuthError::invalid_grant(
            "the refresh token is bound to another DPoP key",
        ));
    }
    if !proof_is_new(grant, rotation.proof.as_ref()) {
        tracing::info!(grant_id = %grant.grant_id, "DPoP proof replayed");
        return Err(OAuthError::invalid_dpop_proof(
            "the DPoP proof was already used",
        ));
    }
    if current.is_some_and(|h| h.matches(&presented.hash)) {
        // The token is current and live, so only the scope can have failed the condition.
        return Err(if covers_scope(grant, rotation) {
            invalid_token()
        } else {
            OAuthError::invalid_scope("scope exceeds the scope granted")
        });
    }
    let is_predecessor = grant
        .previous_hash
        .is_some_and(|h| h.matches(&presented.hash));
    let in_window = grant
        .rotated_at
        .is_some_and(|t| grace > 0 && rotation.now - t < grace);
    if is_predecessor && in_window {
        let recovered = match (&grant.sealed_successor, current) {
            (Some(sealed), Some(current)) => token_keys.seals().open(presented, sealed, &current),
            _ => None,
        };
        if let Some(token) = recovered {
            if !covers_scope(grant, rotation) {
                return Err(OAuthError::invalid_scope("scope exceeds the scope granted"));
            }
            report.event = Some(Event::GraceRetry);
            return Ok(token);
        }
        // A genuine retry whose seal this instance cannot open: made under a grant-token key it
        // does not hold (yet, or any more), or by an instance with the window turned off. Not
        // reuse: nothing is revoked, and the client's next retry may reach an instance that
        // can open it.
        report.event = Some(Event::GraceSealUnopened);
        tracing::warn!(grant_id = %grant.grant_id, "grace retry with a seal this instance cannot open");
        return Err(OAuthError::invalid_grant(
            "the refresh token was just rotated; retry shortly",
        ));
    }
    if is_predecessor || presented.generation < grant.generation {
        // A genuine, retired token of this grant: it was stolen or replayed. Revoke the grant
        // so the current token, whoever holds it, stops working too.
        report.event = Some(Event::ReuseDetected);
        service
            .grants
            .revoke_grant(&grant.grant_id, rotation.now)
            .await?;
        tracing::warn!(grant_id = %grant.grant_id, "refresh token reuse detected; grant revoked");
        return Err(OAuthError::invalid_grant(
            "the refresh token was already used",
        ));
    }
    Err(invalid_token())
}

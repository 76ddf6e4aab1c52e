//! The `client_credentials` grant (RFC 6749 §4.4): a backend's token for itself, no user.
//!
//! Nothing is stored and no grant exists: the answer is an access token whose `sub` is the
//! client id, and no refresh token (§4.4.3), since the client can ask again. The whole cost is
//! the client authentication's read, none when this instance has the client cached, so any
//! number of instances hand these out. Such a token ends at its `exp`; it cannot be revoked one
//! by one (`revocation`), and it stops introspecting as active as soon as its client is disabled
//! or loses the grant type (`introspection`).

use super::access_token::Holder;
use super::dpop::Proof;
use super::error::OAuthError;
use super::model::Client;
use super::scope::Scope;
use super::service::{Event, Report, TokenRequest, TokenResponse, TokenService};

pub fn issue(
    service: &TokenService,
    client: &Client,
    request: &TokenRequest,
    proof: Option<&Proof>,
    report: &mut Report,
) -> Result<TokenResponse, OAuthError> {
    let scope = granted_scope(client, request.scope.as_deref())?;
    let lifetimes = service.lifetimes.for_client(&client.lifetimes);
    // With a DPoP proof the token is bound to its key (nothing to remember: no grant, and a
    // replayed proof gets a token only the key's holder can use).
    let scope = scope.to_string();
    let answer = service.sign(Holder::Client, &client.id, scope, &lifetimes, proof)?;
    report.event = Some(Event::ClientTokenIssued);
    Ok(answer)
}

/// The scope asked for, if it is within the client's registered scope; the registered scope
/// when none is asked for (§4.4.2, §3.3). A token with no scope at all is refused: it would
/// grant nothing.
pub fn granted_scope(client: &Client, requested: Option<&str>) -> Result<Scope, OAuthError> {
    // No length bound of its own: nothing is stored, and the body's bound limits the parse.
    let scope = match requested {
        None => client.scope.clone(),
        Some(text) => Scope::parse(text).ok_or(OAuthError::invalid_scope("scope is malformed"))?,
    };
    if !scope.is_subset_of(&client.scope) {
        return Err(OAuthError::invalid_scope(
            "scope exceeds the client's scope",
        ));
    }
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope("no scope to grant"));
    }
    Ok(scope)
}

//! Client authentication (RFC 6749 §2.3.1), done once per request before any grant logic.

use super::error::{AuthMethod, OAuthError};
use super::model::Client;
use super::service::ClientCredentials;
use crate::domain::port::ClientStore;

/// The longest client id there can be (`tokenctl` issues 20 hex digits; the API document's
/// example is 6). Longer ids are refused before any store call.
pub const MAX_CLIENT_ID: usize = 128;

/// Returns the authenticated, enabled client. Unknown id, wrong secret and disabled client give
/// the same error, and the secret is always hashed and compared in constant time so the timing
/// does not tell the cases apart either.
pub async fn authenticate(
    clients: &dyn ClientStore,
    credentials: Option<&ClientCredentials>,
    now: i64,
) -> Result<Client, OAuthError> {
    let credentials = credentials.ok_or(OAuthError::invalid_client(AuthMethod::None))?;
    let refused = || OAuthError::invalid_client(credentials.method);
    let secret = credentials.secret.expose();
    if credentials.id.len() > MAX_CLIENT_ID {
        // No client has such an id; DynamoDB would refuse the key (a 500) rather than say so.
        let _ = super::model::SecretHash([0; 32]).verifies(secret);
        return Err(refused());
    }
    // Either live secret (a rotation in progress has two).
    let usable = |client: &Client| client.enabled && client.secret_verifies(secret, now);
    let client = clients
        .find_client_accepting(&credentials.id, &usable)
        .await?;
    match client {
        Some(client) if usable(&client) => Ok(client),
        Some(_) => Err(refused()),
        None => {
            // Spend the same hashing work as for a known client.
            let _ = super::model::SecretHash([0; 32]).verifies(secret);
            Err(refused())
        }
    }
}

//! Client authentication (RFC 6749 §2.3.1), done once per request before any grant logic.

use super::error::{AuthMethod, OAuthError};
use super::model::Client;
use super::service::ClientCredentials;
use crate::store::ClientStore;

/// Returns the authenticated, enabled client. Unknown id, wrong secret and disabled client give
/// the same error, and the secret is always hashed and compared in constant time so the timing
/// does not tell the cases apart either.
pub async fn authenticate(
    clients: &dyn ClientStore,
    credentials: Option<&ClientCredentials>,
) -> Result<Client, OAuthError> {
    let credentials = credentials.ok_or(OAuthError::invalid_client(AuthMethod::None))?;
    let refused = || OAuthError::invalid_client(credentials.method);
    let client = clients.find_client(&credentials.id).await?;
    let secret = credentials.secret.expose();
    match client {
        Some(client) if client.secret_hash.verifies(secret) && client.enabled => Ok(client),
        Some(_) => Err(refused()),
        None => {
            // Spend the same hashing work as for a known client.
            let _ = super::model::SecretHash([0; 32]).verifies(secret);
            Err(refused())
        }
    }
}

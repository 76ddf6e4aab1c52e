//! Client authentication (RFC 6749 §2.3.1), done once per request before any grant logic.
//!
//! A confidential client proves itself with its secret (either live secret during a rotation).
//! A public client (RFC 8252: a native or browser app, `token_endpoint_auth_method` `none`)
//! sends its `client_id` alone, which identifies it and proves nothing; it never sends a secret,
//! and a confidential client never goes without one.

use super::error::{AuthMethod, OAuthError};
use super::model::Client;
use super::service::ClientCredentials;
use crate::domain::port::ClientStore;

/// The longest client id there can be (`tokenctl` issues 20 hex digits; the API document's
/// example is 6). Longer ids are refused before any store call.
pub const MAX_CLIENT_ID: usize = 128;

/// Returns the authenticated, enabled client. Unknown id, wrong secret, disabled client and a
/// client authenticating the way it is not registered for give the same error; a presented
/// secret is always hashed and compared in constant time so the timing does not tell the cases
/// apart either. Public clients are refused unless `public_clients` (the service serves them).
pub async fn authenticate(
    clients: &dyn ClientStore,
    credentials: Option<&ClientCredentials>,
    now: i64,
    public_clients: bool,
) -> Result<Client, OAuthError> {
    let credentials = credentials.ok_or(OAuthError::invalid_client(AuthMethod::None))?;
    let refused = || OAuthError::invalid_client(credentials.method);
    let secret = credentials.secret.as_ref().map(|s| s.expose());
    let spend_the_same_work = || {
        if let Some(secret) = secret {
            let _ = super::model::SecretHash([0; 32]).verifies(secret);
        }
    };
    if credentials.id.len() > MAX_CLIENT_ID {
        // No client has such an id; DynamoDB would refuse the key (a 500) rather than say so.
        spend_the_same_work();
        return Err(refused());
    }
    let usable = |client: &Client| {
        client.enabled
            && match (secret, client.public) {
                (Some(secret), false) => client.secret_verifies(secret, now),
                // Its id alone (HTTP Basic always carries a secret, if an empty one).
                (None, true) => public_clients,
                // A secret from a public client, none from a confidential one.
                _ => false,
            }
    };
    let client = clients
        .find_client_accepting(&credentials.id, &usable)
        .await?;
    match client {
        Some(client) if usable(&client) => Ok(client),
        Some(_) => Err(refused()),
        None => {
            spend_the_same_work();
            Err(refused())
        }
    }
}

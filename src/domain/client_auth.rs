//! Client authentication (RFC 6749 §2.3.1), done once per request before any grant logic.
//!
//! A confidential client proves itself with its secret (either live secret during a rotation),
//! or, if it registered keys instead, with an assertion signed by one of them (`private_key_jwt`,
//! `client_assertion`), whose `jti` it can spend once. A public client (RFC 8252: a native or
//! browser app, `token_endpoint_auth_method` `none`) sends its `client_id` alone, which
//! identifies it and proves nothing. Each client authenticates only the way it is registered
//! for: no secret from a public client or a client with keys, no assertion from any other.

use super::client_assertion::{self, AssertionRefusal, ClientKeys, VerifiedAssertion};
use super::error::{AuthMethod, OAuthError};
use super::model::Client;
use super::service::ClientCredentials;
use crate::domain::port::ClientStore;
use std::sync::Mutex;

/// The ways of authenticating the service accepts beyond a client secret.
#[derive(Clone, Copy, Debug, Default)]
pub struct Methods<'a> {
    /// A public client's id alone.
    pub public_clients: bool,
    /// `private_key_jwt`, where served: the audiences an assertion may name (this server's
    /// issuer and endpoint URLs).
    pub assertion_audiences: Option<&'a [String]>,
}

/// The longest client id there can be (`tokenctl` issues 20 hex digits; the API document's
/// example is 6). Longer ids are refused before any store call.
pub const MAX_CLIENT_ID: usize = 128;

/// Returns the authenticated, enabled client. Unknown id, wrong secret, bad assertion, disabled
/// client and a client authenticating the way it is not registered for give the same error; a
/// presented secret is always hashed and compared in constant time so the timing does not tell
/// the cases apart either. Public clients and assertions are refused unless `methods` has them.
pub async fn authenticate(
    clients: &dyn ClientStore,
    credentials: Option<&ClientCredentials>,
    now: i64,
    methods: Methods<'_>,
) -> Result<Client, OAuthError> {
    let credentials = credentials.ok_or(OAuthError::invalid_client(AuthMethod::None))?;
    let refused = || OAuthError::invalid_client(credentials.method);
    let secret = credentials.secret.as_ref().map(|s| s.expose());
    let assertion = Checked::new(credentials, methods.assertion_audiences, now);
    let spend_the_same_work = || {
        if let Some(secret) = secret {
            let _ = super::model::SecretHash::of(secret);
        }
    };
    if credentials.id.len() > MAX_CLIENT_ID {
        // No client has such an id; DynamoDB would refuse the key (a 500) rather than say so.
        spend_the_same_work();
        return Err(refused());
    }
    let usable = |client: &Client| {
        client.enabled
            && match (secret, &assertion, client.public, &client.assertion_keys) {
                (Some(secret), None, false, None) => client.secret_verifies(secret, now),
                // Its id alone (HTTP Basic always carries a secret, if an empty one).
                (None, None, true, None) => methods.public_clients,
                (None, Some(assertion), false, Some(keys)) => {
                    assertion.verify(&client.id, keys).is_ok()
                }
                // A secret from a public client or one with keys, none from a confidential
                // one, an assertion from a client without keys.
                _ => false,
            }
    };
    let client = clients
        .find_client_accepting(&credentials.id, &usable)
        .await?;
    match client {
        Some(client) if usable(&client) => {
            if let (Some(assertion), Some(keys)) = (&assertion, &client.assertion_keys) {
                let verified = assertion.verify(&client.id, keys).map_err(|_| refused())?;
                if !clients.spend_assertion(&verified, now).await? {
                    log_refusal(AssertionRefusal::Replayed);
                    return Err(refused());
                }
            }
            Ok(client)
        }
        Some(_) => Err(refused()),
        None => {
            spend_the_same_work();
            Err(refused())
        }
    }
}

/// An assertion under check: verified at most once per key set it is checked against (the
/// cached client record, then perhaps a fresh one), and each refusal logged once.
struct Checked<'a> {
    assertion: &'a str,
    audiences: &'a [String],
    now: i64,
    outcomes: Mutex<Vec<(String, Result<VerifiedAssertion, AssertionRefusal>)>>,
}

impl<'a> Checked<'a> {
    /// `None` when the client sent no assertion. One sent where `private_key_jwt` is not served
    /// (no audiences) is still an assertion: it authenticates no client.
    fn new(
        credentials: &'a ClientCredentials,
        audiences: Option<&'a [String]>,
        now: i64,
    ) -> Option<Self> {
        let assertion = credentials.assertion.as_ref()?.expose();
        Some(Self {
            assertion,
            audiences: audiences.unwrap_or(&[]),
            now,
            outcomes: Mutex::new(Vec::new()),
        })
    }

    fn verify(
        &self,
        client_id: &str,
        keys: &ClientKeys,
    ) -> Result<VerifiedAssertion, AssertionRefusal> {
        let mut outcomes = self.outcomes.lock().expect("never poisoned");
        if let Some((_, outcome)) = outcomes.iter().find(|(set, _)| set == keys.as_json()) {
            return outcome.clone();
        }
        let outcome = if self.audiences.is_empty() {
            Err(AssertionRefusal::NotServed)
        } else {
            client_assertion::verify(self.assertion, keys, client_id, self.audiences, self.now)
        };
        if let Err(refusal) = outcome {
            log_refusal(refusal);
        }
        outcomes.push((keys.as_json().to_owned(), outcome.clone()));
        outcome
    }
}

fn log_refusal(refusal: AssertionRefusal) {
    tracing::info!(reason = refusal.as_str(), "client assertion refused");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::secret::Secret;
    use crate::domain::client_assertion::tests::{
        claims, public_jwk, set, sign, AUDIENCE, EC_KEY, NOW, RSA_KEY,
    };
    use jsonwebtoken::Algorithm;

    /// A client that changed its keys: the cached record's keys refuse the assertion, the fresh
    /// record's accept it. Each key set gets its own verdict, and each is computed once.
    #[test]
    fn an_assertion_is_judged_per_key_set() {
        let credentials = ClientCredentials {
            id: "app".into(),
            secret: None,
            assertion: Some(Secret::new(sign(
                Algorithm::ES256,
                EC_KEY,
                Some("new"),
                &claims(),
            ))),
            method: AuthMethod::Assertion,
        };
        let audiences = [AUDIENCE.to_owned()];
        let checked = Checked::new(&credentials, Some(&audiences), NOW).unwrap();
        let old = set(&[public_jwk(Algorithm::RS256, RSA_KEY, "old")]);
        let new = set(&[public_jwk(Algorithm::ES256, EC_KEY, "new")]);
        assert!(checked.verify("app", &old).is_err());
        assert!(checked.verify("app", &new).is_ok());
        assert!(checked.verify("app", &old).is_err());
        assert!(checked.verify("app", &new).is_ok());
        assert_eq!(checked.outcomes.lock().unwrap().len(), 2);
    }
}

//! The keys an instance holds at one moment, ready to use: which key signs access tokens and
//! which tags and seals grant tokens *now*, and everything that verifies.
//!
//! Each configured key carries a state (README, "Rotate a key"):
//! - `Published`: verifies (and its public half is in the JWKS), never signs. A key is published
//!   before it signs, so that every instance holds it before any token made with it exists.
//! - `Active { from }`: signs from `from` (Unix seconds) on. Of the active keys whose time has
//!   come, the one with the latest `from` signs (the first listed, on a tie); an active key whose
//!   time has not come is published until then. So a rotation is a single write to the secret:
//!   the new key, active from a time far enough ahead that every instance has read it by then,
//!   and every instance switches at that time.
//! - `Retired`: verifies what it signed, never signs again.
//!
//! A ring is immutable; re-reading the keys builds a new one (`live_keys`).

use super::access_token::{AccessTokenSigner, AccessTokenVerifier, PreparedKey, SigningKey};
use super::discovery::jwks;
use crate::crypto::grant_token::TokenKeys;

/// What a configured key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Verifies; never signs.
    Published,
    /// Signs from this time (Unix seconds) until a key active from a later time takes over.
    Active { from: i64 },
    /// Verifies; never signs again.
    Retired,
}

impl KeyState {
    /// A key that signs from the start: the first key of a plain `kid:secret,...` list.
    pub const ALWAYS: KeyState = KeyState::Active { from: i64::MIN };

    fn active_from(self) -> Option<i64> {
        match self {
            Self::Active { from } => Some(from),
            _ => None,
        }
    }
}

/// A grant-token key as configured: its id, its bytes and its state. No `Debug` of the bytes.
#[derive(Clone)]
pub struct GrantKey {
    pub kid: String,
    pub secret: Vec<u8>,
    pub state: KeyState,
}

impl std::fmt::Debug for GrantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrantKey({}, {:?}, [redacted])", self.kid, self.state)
    }
}

/// Both key sets, as read from the configuration or the keys secret.
#[derive(Clone, Debug)]
pub struct KeyMaterial {
    pub signing: Vec<SigningKey>,
    pub grant: Vec<GrantKey>,
}

impl KeyMaterial {
    /// Why these keys cannot serve at `now`, if they cannot: each set needs a key that signs.
    pub fn check(&self, now: i64) -> Result<(), String> {
        let ready = |state: KeyState| state.active_from().is_some_and(|from| from <= now);
        if !self.signing.iter().any(|k| ready(k.state)) {
            return Err("signing_keys has no key active now".into());
        }
        if !self.grant.iter().any(|k| ready(k.state)) {
            return Err("grant_token_keys has no key active now".into());
        }
        Ok(())
    }

    /// Every key id of both sets, for telling which keys a new copy adds.
    fn kids(&self) -> impl Iterator<Item = &str> {
        let signing = self.signing.iter().map(|k| k.kid.as_str());
        signing.chain(self.grant.iter().map(|k| k.kid.as_str()))
    }

    /// Ids of keys that sign at `now` here and were not in `before` at all: keys made active
    /// without being published first, which instances still holding `before` cannot verify.
    pub fn active_without_publication(&self, before: &KeyMaterial, now: i64) -> Vec<String> {
        let known: Vec<&str> = before.kids().collect();
        let signing = self.signing.iter().map(|k| (&k.kid, k.state));
        signing
            .chain(self.grant.iter().map(|k| (&k.kid, k.state)))
            .filter(|(kid, state)| {
                state.active_from().is_some_and(|from| from <= now)
                    && !known.contains(&kid.as_str())
            })
            .map(|(kid, _)| kid.clone())
            .collect()
    }
}

/// The keys ready to use, built once per copy of the configuration.
pub struct KeyRing {
    material: KeyMaterial,
    /// One signer per active signing key, with the time it starts signing.
    signers: Vec<(i64, AccessTokenSigner)>,
    verifier: AccessTokenVerifier,
    /// Per active grant-token key, the token keys with it minting and sealing, every key verifying.
    token_keys: Vec<(i64, TokenKeys)>,
    jwks: String,
}

impl KeyRing {
    /// Builds the ring. The material must have passed `check` (the loaders call it), and each
    /// signing key `SigningKey::parse`.
    pub fn build(material: KeyMaterial, issuer: &str, access_token_lifetime: i64) -> Self {
        let prepared = PreparedKey::all(&material.signing);
        let signers = material
            .signing
            .iter()
            .zip(&prepared)
            .filter_map(|(key, ready)| {
                let from = key.state.active_from()?;
                Some((
                    from,
                    AccessTokenSigner::from_prepared(
                        ready,
                        issuer.to_owned(),
                        access_token_lifetime,
                    ),
                ))
            })
            .collect();
        let token_keys = material
            .grant
            .iter()
            .enumerate()
            .filter_map(|(index, key)| {
                let from = key.state.active_from()?;
                // The minting key first, then every other key: all verify and open seals.
                let others = material
                    .grant
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != index);
                let ordered = std::iter::once(key.secret.clone())
                    .chain(others.map(|(_, k)| k.secret.clone()))
                    .collect();
                Some((from, TokenKeys::new(ordered)))
            })
            .collect();
        Self {
            signers,
            verifier: AccessTokenVerifier::from_prepared(&prepared, issuer),
            token_keys,
            jwks: jwks(&prepared),
            material,
        }
    }

    /// A ring of keys given directly (tests, benchmarks): the signing keys with their states,
    /// and token keys whose first key mints.
    pub fn fixed(
        signing: &[SigningKey],
        token_keys: TokenKeys,
        issuer: &str,
        access_token_lifetime: i64,
    ) -> Self {
        let mut ring = Self::build(
            KeyMaterial {
                signing: signing.to_vec(),
                grant: Vec::new(),
            },
            issuer,
            access_token_lifetime,
        );
        ring.token_keys = vec![(i64::MIN, token_keys)];
        ring
    }

    /// The signer at `now`.
    pub fn signer(&self, now: i64) -> &AccessTokenSigner {
        current(&self.signers, now)
    }

    /// The token keys at `now`: the key that mints and seals first, all verifying.
    pub fn token_keys(&self, now: i64) -> &TokenKeys {
        current(&self.token_keys, now)
    }

    /// Checks this service's own access tokens with every key.
    pub fn verifier(&self) -> &AccessTokenVerifier {
        &self.verifier
    }

    /// The JWKS document (RFC 7517): the public half of every asymmetric key, whatever its state.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    pub fn material(&self) -> &KeyMaterial {
        &self.material
    }
}

/// The entry whose time has come most recently (the first listed on a tie). Before any has
/// come (a ring checked at load never is), the earliest.
fn current<T>(entries: &[(i64, T)], now: i64) -> &T {
    let started = entries.iter().filter(|(from, _)| *from <= now).fold(
        None,
        |best: Option<&(i64, T)>, entry| match best {
            Some(b) if b.0 >= entry.0 => Some(b),
            _ => Some(entry),
        },
    );
    let chosen = started.or_else(|| entries.iter().min_by_key(|(from, _)| *from));
    &chosen
        .expect("a checked ring has an active key in each set")
        .1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::grant_token::{GrantId, TokenKind};

    fn signing(kid: &str, state: KeyState) -> SigningKey {
        SigningKey::hs256(kid, format!("{kid}-signing-key-0123456789abcdef")).with_state(state)
    }

    fn grant(kid: &str, state: KeyState) -> GrantKey {
        GrantKey {
            kid: kid.into(),
            secret: format!("{kid}-grant-token-key-0123456789ab").into_bytes(),
            state,
        }
    }

    /// A copy that makes a key active which the previous copy did not have at all (not even
    /// published) is named, so the re-read can refuse it: instances still on the previous copy
    /// could not verify what it signs. Keys already known, published ones, and keys active only
    /// later are not.
    #[test]
    fn keys_made_active_without_publication_are_named() {
        let before = KeyMaterial {
            signing: vec![signing("s1", KeyState::ALWAYS)],
            grant: vec![grant("g1", KeyState::ALWAYS)],
        };
        let after = KeyMaterial {
            signing: vec![
                signing("s1", KeyState::Retired),
                signing("s2", KeyState::Active { from: 100 }),
                signing("s3", KeyState::Published),
            ],
            grant: vec![
                grant("g1", KeyState::ALWAYS),
                grant("g2", KeyState::Active { from: 200 }),
            ],
        };
        assert_eq!(
            after.active_without_publication(&before, 99),
            Vec::<String>::new()
        );
        assert_eq!(after.active_without_publication(&before, 100), ["s2"]);
        assert_eq!(after.active_without_publication(&before, 200), ["s2", "g2"]);
        assert_eq!(
            after.active_without_publication(&after, 200),
            Vec::<String>::new()
        );
        let kids: Vec<&str> = after.kids().collect();
        assert_eq!(kids, ["s1", "s2", "s3", "g1", "g2"]);
    }

    /// After a grant-token key takes over, tokens minted under the one before still open: every
    /// key of the ring verifies, whichever mints.
    #[test]
    fn tokens_minted_before_a_key_takes_over_still_open() {
        let material = KeyMaterial {
            signing: vec![signing("s1", KeyState::ALWAYS)],
            grant: vec![
                grant("g1", KeyState::ALWAYS),
                grant("g2", KeyState::Active { from: 100 }),
            ],
        };
        let ring = KeyRing::build(material, "https://issuer.test", 600);
        let old = ring
            .token_keys(50)
            .mint(TokenKind::Refresh, GrantId([1; 16]), 0);
        let new = ring
            .token_keys(150)
            .mint(TokenKind::Refresh, GrantId([1; 16]), 1);
        let text =
            |token: &crate::crypto::grant_token::GrantToken| token.text().expose().to_owned();
        assert!(ring
            .token_keys(150)
            .open(TokenKind::Refresh, &text(&old))
            .is_some());
        assert!(ring
            .token_keys(50)
            .open(TokenKind::Refresh, &text(&new))
            .is_some());
    }

    /// Whoever reads a debug print of the configuration (a log line, a panic) learns the key's
    /// id and state, never its bytes.
    #[test]
    fn a_grant_key_debug_print_names_it_and_hides_its_bytes() {
        let key = GrantKey {
            kid: "g-2026".into(),
            secret: b"never-print-this-grant-key-0123456789".to_vec(),
            state: KeyState::Retired,
        };
        let printed = format!("{key:?}");
        assert_eq!(printed, "GrantKey(g-2026, Retired, [redacted])");
        assert!(!printed.contains("never-print"));
    }

    #[test]
    fn the_latest_started_entry_wins_and_the_first_listed_on_a_tie() {
        let entries = [(i64::MIN, "a"), (100, "b"), (200, "c"), (100, "d")];
        assert_eq!(*current(&entries, 50), "a");
        assert_eq!(*current(&entries, 100), "b");
        assert_eq!(*current(&entries, 199), "b");
        assert_eq!(*current(&entries, 200), "c");
        assert_eq!(*current(&[(10, "x"), (5, "y")], 0), "y");
    }
}

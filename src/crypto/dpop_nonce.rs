//! DPoP nonces (RFC 9449 §8), kept by no one: a nonce is the current time step (a minute) and an
//! HMAC of it under a key derived from the grant-token keys, so every instance that holds the
//! keys makes the same nonce in the same minute and accepts every other's, with no store and
//! no timer (a frozen Lambda instance computes the step from the clock at each request).

use crate::crypto::{b64url, b64url_decode, constant_time_eq, hmac_sha256};

const NONCE_KEY_LABEL: &[u8] = b"chatroom-token/dpop-nonce";

/// One step of nonces, in seconds.
pub const STEP_SECONDS: i64 = 60;

/// A nonce is accepted this many steps after its own (and one before, for an instance whose
/// clock runs ahead): 6 to 7 minutes, longer than the longest grace window (5 minutes), so a
/// retry never fails only because the nonce changed.
pub const STEPS_ACCEPTED: i64 = 6;

pub struct NonceKeys(Vec<[u8; 32]>);

impl NonceKeys {
    pub fn derive(server_keys: &[Vec<u8>]) -> Self {
        Self(super::derive_keys(server_keys, NONCE_KEY_LABEL))
    }

    /// The nonce of the step `now` falls in, under the first key.
    pub fn current(&self, now: i64) -> String {
        let step = now.div_euclid(STEP_SECONDS);
        let mut raw = [0u8; 24];
        raw[..8].copy_from_slice(&step.to_be_bytes());
        raw[8..].copy_from_slice(&tag(&self.0[0], step));
        b64url(&raw)
    }

    /// Whether `nonce` is one of ours, of a step still accepted at `now`.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let Some(raw) = b64url_decode(nonce).filter(|raw| raw.len() == 24) else {
            return false;
        };
        let step = i64::from_be_bytes(raw[..8].try_into().expect("8 bytes"));
        let current = now.div_euclid(STEP_SECONDS);
        if step < current - STEPS_ACCEPTED || step > current + 1 {
            return false;
        }
        self.0
            .iter()
            .any(|key| constant_time_eq(&tag(key, step), &raw[8..]))
    }
}

fn tag(key: &[u8; 32], step: i64) -> [u8; 16] {
    let mac = hmac_sha256(key, &[b"step", &step.to_be_bytes()]);
    mac[..16].try_into().expect("16 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(key: &[u8]) -> NonceKeys {
        NonceKeys::derive(&[key.to_vec()])
    }

    #[test]
    fn a_nonce_is_accepted_for_its_window_by_every_holder_of_the_keys() {
        let now = 1_800_000_000;
        let nonce = keys(b"k1").current(now);
        // Another instance, same keys: the same nonce, accepted.
        assert_eq!(keys(b"k1").current(now + 1), nonce);
        let step_start = now - now.rem_euclid(STEP_SECONDS);
        let last_accepted = step_start + (STEPS_ACCEPTED + 1) * STEP_SECONDS - 1;
        assert!(keys(b"k1").accepts(&nonce, last_accepted));
        assert!(!keys(b"k1").accepts(&nonce, last_accepted + 1));
        assert!(keys(b"k1").accepts(&nonce, step_start - STEP_SECONDS));
        assert!(!keys(b"k1").accepts(&nonce, step_start - STEP_SECONDS - 1));
        // During a key rotation: the new key first, the old one still accepted.
        let rotated = NonceKeys::derive(&[b"k2".to_vec(), b"k1".to_vec()]);
        assert!(rotated.accepts(&nonce, now));
        assert_ne!(rotated.current(now), nonce);
        // Another key's, a changed one, garbage: refused.
        assert!(!keys(b"k2").accepts(&nonce, now));
        let mut changed = b64url_decode(&nonce).unwrap();
        changed[23] ^= 1;
        assert!(!keys(b"k1").accepts(&b64url(&changed), now));
        assert!(!keys(b"k1").accepts("not-a-nonce", now));
        // A later step's tag under an earlier step's number: refused.
        let later = b64url_decode(&keys(b"k1").current(now + STEP_SECONDS)).unwrap();
        let mut forged = b64url_decode(&nonce).unwrap();
        forged[8..].copy_from_slice(&later[8..]);
        assert!(!keys(b"k1").accepts(&b64url(&forged), now));
    }
}

//! Keeps a rotated refresh token's successor in the store without keeping it usable.
//!
//! When token N of a grant is rotated to N+1, the grant keeps N+1 sealed so that a client
//! retrying with N inside the grace window gets the same N+1. Opening the seal takes both a
//! server key and token N: a copy of the table alone (a backup, an export, a Scan), or the table
//! plus any old token, opens nothing.
//!
//! Construction (no home-made primitive):
//! - a seal key per `GRANT_TOKEN_KEYS` key: HKDF-SHA256 (RFC 5869) of that key, with its own
//!   label, so it never equals the key that tags tokens;
//! - a one-time key and nonce per rotation: HKDF-SHA256 with the seal key as salt, token N's raw
//!   bytes as input keying material, and the grant id and N+1's generation as info;
//! - ChaCha20-Poly1305 (RFC 8439) over N+1's raw bytes, with the grant id and generation as
//!   associated data.
//!
//! Each (seal key, token N) pair seals exactly one message (a token is rotated at most once), so
//! a nonce derived with the key never repeats under it. The AEAD tag authenticates the result;
//! the caller still checks it against the grant's current hash, grant id and generation.

use super::grant_token::{GrantId, GrantToken, TokenHash, TOKEN_LEN};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

const SEAL_KEY_LABEL: &[u8] = b"chatroom-token/successor-seal-key/v1";
const ONE_TIME_LABEL: &[u8] = b"chatroom-token/successor-seal/v1";
/// Bytes of a sealed successor: the token and the AEAD's 16-byte tag.
pub const SEALED_LEN: usize = TOKEN_LEN + 16;

/// Seal keys derived from the server's grant-token keys: the first seals, all open, so a seal
/// made just before a key rotation still opens after it.
pub struct SealKeys(Vec<[u8; 32]>);

impl SealKeys {
    pub fn derive(server_keys: &[Vec<u8>]) -> Self {
        Self(super::derive_keys(server_keys, SEAL_KEY_LABEL))
    }

    /// Seals `successor` so that only this server, given `presented`, can open it.
    pub fn seal(&self, presented: &GrantToken, successor: &GrantToken) -> Vec<u8> {
        let aad = associated_data(&successor.grant_id, successor.generation);
        let (cipher, nonce) = one_time(&self.0[0], presented, &aad);
        let payload = Payload {
            msg: successor.raw(),
            aad: &aad,
        };
        cipher
            .encrypt(&nonce, payload)
            .expect("ChaCha20-Poly1305 seals 69 bytes")
    }

    /// Opens a seal made for `presented`'s successor, if this server made it, and returns the
    /// successor only if it is the grant's current token: `expected` hash, same grant, next
    /// generation.
    pub fn open(
        &self,
        presented: &GrantToken,
        sealed: &[u8],
        expected: &TokenHash,
    ) -> Option<GrantToken> {
        let generation = presented.generation.checked_add(1)?;
        let aad = associated_data(&presented.grant_id, generation);
        let raw = self.0.iter().find_map(|seal_key| {
            let (cipher, nonce) = one_time(seal_key, presented, &aad);
            let payload = Payload {
                msg: sealed,
                aad: &aad,
            };
            cipher.decrypt(&nonce, payload).ok()
        })?;
        let raw: [u8; TOKEN_LEN] = raw.try_into().ok()?;
        let token = GrantToken::from_trusted_raw(raw);
        (token.hash.matches(expected)
            && token.grant_id == presented.grant_id
            && token.generation == generation)
            .then_some(token)
    }
}

fn associated_data(grant_id: &GrantId, generation: u32) -> [u8; 20] {
    let mut aad = [0u8; 20];
    aad[..16].copy_from_slice(&grant_id.0);
    aad[16..].copy_from_slice(&generation.to_be_bytes());
    aad
}

/// The one-time cipher and nonce: 32 bytes of key and 12 of nonce from one HKDF, salted with
/// the seal key, keyed by the presented token, with the label and what the seal is bound to as
/// info.
fn one_time(
    seal_key: &[u8; 32],
    presented: &GrantToken,
    aad: &[u8; 20],
) -> (ChaCha20Poly1305, Nonce) {
    let mut material = [0u8; 44];
    let mut info = Vec::with_capacity(ONE_TIME_LABEL.len() + aad.len());
    info.extend_from_slice(ONE_TIME_LABEL);
    info.extend_from_slice(aad);
    Hkdf::<Sha256>::new(Some(seal_key), presented.raw())
        .expand(&info, &mut material)
        .expect("44 bytes is a valid HKDF-SHA256 output length");
    let key: [u8; 32] = material[..32].try_into().expect("32 bytes");
    let nonce: [u8; 12] = material[32..].try_into().expect("12 bytes");
    (ChaCha20Poly1305::new(&Key::from(key)), Nonce::from(nonce))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::grant_token::{TokenKeys, TokenKind};

    fn server_key() -> Vec<u8> {
        vec![7u8; 32]
    }

    fn chain() -> (TokenKeys, GrantToken, GrantToken) {
        let keys = TokenKeys::new(vec![server_key()]);
        let id = GrantId::random();
        let first = keys.mint(TokenKind::Refresh, id, 0);
        let second = keys.mint(TokenKind::Refresh, id, 1);
        (keys, first, second)
    }

    #[test]
    fn only_the_predecessor_unseals_the_successor() {
        let (keys, first, second) = chain();
        let seals = SealKeys::derive(&[server_key()]);
        let sealed = seals.seal(&first, &second);
        assert_eq!(sealed.len(), SEALED_LEN);
        assert!(!sealed
            .windows(8)
            .any(|w| second.raw().windows(8).any(|r| r == w)));
        let opened = seals.open(&first, &sealed, &second.hash).unwrap();
        assert_eq!(opened.text(), second.text());

        let stranger = keys.mint(TokenKind::Refresh, first.grant_id, 0);
        assert!(seals.open(&stranger, &sealed, &second.hash).is_none());
    }

    #[test]
    fn the_predecessor_without_the_server_key_opens_nothing() {
        let (_, first, second) = chain();
        let sealed = SealKeys::derive(&[server_key()]).seal(&first, &second);
        let other_server = SealKeys::derive(&[vec![8u8; 32]]);
        assert!(other_server.open(&first, &sealed, &second.hash).is_none());
    }

    #[test]
    fn a_seal_is_bound_to_its_grant_and_generation() {
        let (keys, first, second) = chain();
        let seals = SealKeys::derive(&[server_key()]);
        let sealed = seals.seal(&first, &second);
        // The same token bytes presented as if from generation 1 bind other associated data.
        let mut raw = *first.raw();
        raw[17..21].copy_from_slice(&1u32.to_be_bytes());
        let relabelled = GrantToken::from_trusted_raw(raw);
        assert!(seals.open(&relabelled, &sealed, &second.hash).is_none());
        // Any flipped bit of the seal is refused by the AEAD tag.
        let mut tampered = sealed.clone();
        tampered[3] ^= 1;
        assert!(seals.open(&first, &tampered, &second.hash).is_none());
        // A genuine token of another grant opens nothing either.
        let elsewhere = keys.mint(TokenKind::Refresh, GrantId::random(), 0);
        assert!(seals.open(&elsewhere, &sealed, &second.hash).is_none());
    }

    #[test]
    fn a_seal_made_before_a_key_rotation_still_opens() {
        let (_, first, second) = chain();
        let sealed = SealKeys::derive(&[server_key()]).seal(&first, &second);
        let rotated = SealKeys::derive(&[vec![9u8; 32], server_key()]);
        assert!(rotated.open(&first, &sealed, &second.hash).is_some());
    }

    /// What opens must be the grant's current token: a seal of any other token (another
    /// grant's, another generation's) or one whose hash the record does not hold opens to
    /// nothing, even with the right predecessor and key.
    #[test]
    fn a_seal_opens_only_to_the_expected_successor() {
        let (keys, first, second) = chain();
        let seals = SealKeys::derive(&[server_key()]);
        let sealed = seals.seal(&first, &second);
        let other_hash = keys.mint(TokenKind::Refresh, first.grant_id, 1).hash;
        assert!(seals.open(&first, &sealed, &other_hash).is_none());
        let wrong_generation = keys.mint(TokenKind::Refresh, first.grant_id, 5);
        let sealed = seals.seal(&first, &wrong_generation);
        assert!(seals
            .open(&first, &sealed, &wrong_generation.hash)
            .is_none());
        let wrong_grant = keys.mint(TokenKind::Refresh, GrantId::random(), 1);
        let sealed = seals.seal(&first, &wrong_grant);
        assert!(seals.open(&first, &sealed, &wrong_grant.hash).is_none());
    }
}

//! The wire format of authorization codes and refresh tokens.
//!
//! A token is 69 bytes, base64url-encoded to 92 characters:
//!
//! | bytes | field                                                        |
//! |-------|--------------------------------------------------------------|
//! | 1     | kind (`c` code, `r` refresh token)                           |
//! | 16    | grant id: the store key of the grant the token belongs to    |
//! | 4     | generation: 0 for the first refresh token, +1 per rotation   |
//! | 32    | fresh CSPRNG bytes: the secret part                          |
//! | 16    | HMAC-SHA256 tag over all of the above, under a server key    |
//!
//! Carrying the grant id lets the store go straight to one item (one conditional write per
//! refresh). The tag makes the id and generation trustworthy (RFC 9700 §4.14.2): a token we did
//! not mint is rejected before any store call, so a forged token can never trigger a reuse
//! revocation, while a genuine old token of a grant can be recognised as such even though only
//! the hashes of the current and previous tokens are kept. The store keeps a labelled SHA-256 of
//! the raw bytes (`TokenHash`), never the token.

use super::dpop_nonce::NonceKeys;
use super::secret::Secret;
use super::successor_seal::SealKeys;
use super::{b64url, b64url_decode, constant_time_eq, hmac_sha256, random_bytes, sha256};
use std::fmt;

pub const TOKEN_LEN: usize = 69;
const TAG_LEN: usize = 16;
const SIGNED_LEN: usize = TOKEN_LEN - TAG_LEN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Code,
    Refresh,
}

impl TokenKind {
    fn byte(self) -> u8 {
        match self {
            TokenKind::Code => b'c',
            TokenKind::Refresh => b'r',
        }
    }
}

/// Identifies a grant. Random, so ids reveal nothing about volume or order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId(pub [u8; 16]);

impl GrantId {
    pub fn random() -> Self {
        Self(random_bytes())
    }

    pub fn parse(text: &str) -> Option<Self> {
        b64url_decode(text)?.try_into().ok().map(Self)
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64url(&self.0))
    }
}

impl fmt::Debug for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrantId({self})")
    }
}

/// What the store keeps and compares of a token: SHA-256 of a label and the raw bytes. The
/// label keeps every stored hash apart from the plain SHA-256 of a token, which is what HMAC
/// turns a key longer than its block into (RFC 2104 §2): a stored value is never key material
/// of any other construction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn of(raw: &[u8]) -> Self {
        Self(sha256(&[b"chatroom-token/grant-token-hash/v1\0", raw]))
    }

    pub fn matches(&self, other: &TokenHash) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not a secret, but a short prefix is all a human ever needs to compare two.
        write!(f, "TokenHash({}..)", &b64url(&self.0)[..8])
    }
}

/// A token that passed the tag check: its fields are ours, its secret part is unverified until
/// the store compares the hash.
pub struct GrantToken {
    pub kind: TokenKind,
    pub grant_id: GrantId,
    pub generation: u32,
    pub hash: TokenHash,
    raw: [u8; TOKEN_LEN],
}

impl GrantToken {
    /// The raw bytes, needed to derive the key that seals this token's successor.
    pub fn raw(&self) -> &[u8; TOKEN_LEN] {
        &self.raw
    }

    /// The text handed to clients.
    pub fn text(&self) -> Secret {
        Secret::new(b64url(&self.raw))
    }

    /// Rebuilds a token from raw bytes that were recovered from a sealed successor. The caller
    /// must already have checked the hash against the store.
    pub fn from_trusted_raw(raw: [u8; TOKEN_LEN]) -> Self {
        Self::from_raw_unchecked(raw)
    }

    fn from_raw_unchecked(raw: [u8; TOKEN_LEN]) -> Self {
        let kind = if raw[0] == b'c' {
            TokenKind::Code
        } else {
            TokenKind::Refresh
        };
        let grant_id = GrantId(raw[1..17].try_into().expect("16 bytes"));
        let generation = u32::from_be_bytes(raw[17..21].try_into().expect("4 bytes"));
        Self {
            kind,
            grant_id,
            generation,
            hash: TokenHash::of(&raw),
            raw,
        }
    }
}

impl fmt::Debug for GrantToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantToken")
            .field("kind", &self.kind)
            .field("grant_id", &self.grant_id)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// The server keys that tag tokens. The first mints; all verify, so the key can be rotated
/// without invalidating the tokens already in clients' hands.
pub struct TokenKeys {
    keys: Vec<Vec<u8>>,
    seals: SealKeys,
    nonces: NonceKeys,
}

impl TokenKeys {
    /// `keys` must not be empty; the configuration loader guarantees it.
    pub fn new(keys: Vec<Vec<u8>>) -> Self {
        assert!(!keys.is_empty(), "at least one token key is required");
        let seals = SealKeys::derive(&keys);
        let nonces = NonceKeys::derive(&keys);
        Self {
            keys,
            seals,
            nonces,
        }
    }

    /// The keys of DPoP nonces (derived from the same server keys).
    pub fn nonces(&self) -> &NonceKeys {
        &self.nonces
    }

    /// The keys that seal a rotated token's successor (derived from the same server keys).
    pub fn seals(&self) -> &SealKeys {
        &self.seals
    }

    pub fn mint(&self, kind: TokenKind, grant_id: GrantId, generation: u32) -> GrantToken {
        let mut raw = [0u8; TOKEN_LEN];
        raw[0] = kind.byte();
        raw[1..17].copy_from_slice(&grant_id.0);
        raw[17..21].copy_from_slice(&generation.to_be_bytes());
        raw[21..53].copy_from_slice(&random_bytes::<32>());
        let tag = hmac_sha256(&self.keys[0], &[&raw[..SIGNED_LEN]]);
        raw[SIGNED_LEN..].copy_from_slice(&tag[..TAG_LEN]);
        GrantToken::from_raw_unchecked(raw)
    }

    /// Decodes and authenticates a presented token of the expected kind. `None` for anything
    /// we did not mint: wrong length, wrong kind, bad tag.
    pub fn open(&self, kind: TokenKind, text: &str) -> Option<GrantToken> {
        if text.len() != 92 {
            return None;
        }
        let raw: [u8; TOKEN_LEN] = b64url_decode(text)?.try_into().ok()?;
        if raw[0] != kind.byte() {
            return None;
        }
        let tagged_by_us = self.keys.iter().any(|key| {
            let tag = hmac_sha256(key, &[&raw[..SIGNED_LEN]]);
            constant_time_eq(&tag[..TAG_LEN], &raw[SIGNED_LEN..])
        });
        tagged_by_us.then(|| GrantToken::from_raw_unchecked(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(vec![b"0123456789abcdef0123456789abcdef".to_vec()])
    }

    #[test]
    fn a_minted_token_opens_with_its_fields() {
        let id = GrantId::random();
        let token = keys().mint(TokenKind::Refresh, id, 7);
        let text = token.text();
        assert_eq!(text.expose().len(), 92);
        let opened = keys().open(TokenKind::Refresh, text.expose()).unwrap();
        assert_eq!(opened.grant_id, id);
        assert_eq!(opened.generation, 7);
        assert!(opened.hash.matches(&token.hash));
    }

    #[test]
    fn tokens_are_url_safe_and_unique() {
        let a = keys().mint(TokenKind::Code, GrantId::random(), 0).text();
        let b = keys().mint(TokenKind::Code, GrantId::random(), 0).text();
        assert_ne!(a, b);
        assert!(a
            .expose()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn a_changed_generation_or_kind_or_key_is_rejected() {
        let token = keys().mint(TokenKind::Refresh, GrantId::random(), 3);
        let mut raw = *token.raw();
        raw[20] ^= 1;
        assert!(keys().open(TokenKind::Refresh, &b64url(&raw)).is_none());
        assert!(keys()
            .open(TokenKind::Code, token.text().expose())
            .is_none());
        let other = TokenKeys::new(vec![b"another key that is 32 bytes long".to_vec()]);
        assert!(other
            .open(TokenKind::Refresh, token.text().expose())
            .is_none());
    }

    #[test]
    fn an_older_key_still_verifies_after_rotation() {
        let old = b"0123456789abcdef0123456789abcdef".to_vec();
        let new = b"fedcba9876543210fedcba9876543210".to_vec();
        let token =
            TokenKeys::new(vec![old.clone()]).mint(TokenKind::Refresh, GrantId::random(), 0);
        let rotated = TokenKeys::new(vec![new, old]);
        assert!(rotated
            .open(TokenKind::Refresh, token.text().expose())
            .is_some());
    }

    #[test]
    fn garbage_is_rejected() {
        for text in ["", "abc", &"A".repeat(92), &"*".repeat(92)] {
            assert!(keys().open(TokenKind::Refresh, text).is_none());
        }
    }

    #[test]
    fn a_recovered_token_keeps_its_kind_and_fields() {
        let id = GrantId::random();
        for kind in [TokenKind::Code, TokenKind::Refresh] {
            let token = keys().mint(kind, id, 4);
            let recovered = GrantToken::from_trusted_raw(*token.raw());
            assert_eq!(recovered.kind, kind);
            assert_eq!(recovered.grant_id, id);
            assert_eq!(recovered.generation, 4);
            assert!(recovered.hash.matches(&token.hash));
        }
    }

    /// Debug output names what a log reader needs (the grant, a hash prefix, the kind and
    /// generation) and never the token's bytes.
    #[test]
    fn debug_output_names_and_never_shows_the_token() {
        let id = GrantId::random();
        let token = keys().mint(TokenKind::Refresh, id, 2);
        assert_eq!(format!("{id:?}"), format!("GrantId({id})"));
        let hash = format!("{:?}", token.hash);
        assert_eq!(
            hash,
            format!("TokenHash({}..)", &b64url(&token.hash.0)[..8])
        );
        let shown = format!("{token:?}");
        assert!(shown.starts_with("GrantToken { kind: Refresh"), "{shown}");
        assert!(shown.contains(&id.to_string()) && shown.contains("generation: 2"));
        assert!(!shown.contains(token.text().expose()));
    }
}

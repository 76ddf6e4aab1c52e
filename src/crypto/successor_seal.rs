//! Keeps a rotated refresh token's successor in the store without keeping it usable.
//!
//! When token N is rotated to N+1, the store keeps N+1 XOR-ed with a keystream derived from the
//! raw bytes of N. Only a caller holding N (the legitimate client retrying within the grace
//! window) can recover N+1; a dump of the store holds neither. Each key seals exactly one
//! message (every token is rotated at most once), so the keystream is never reused. The
//! recovered bytes are accepted only if their SHA-256 equals the grant's current token hash,
//! which also authenticates them.

use super::grant_token::{GrantToken, TokenHash, TOKEN_LEN};
use super::hmac_sha256;

fn keystream(presented_raw: &[u8]) -> [u8; TOKEN_LEN] {
    let mut stream = [0u8; TOKEN_LEN];
    for (block, chunk) in stream.chunks_mut(32).enumerate() {
        let bytes = hmac_sha256(
            presented_raw,
            &[b"chatroom-token/successor", &[block as u8]],
        );
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    stream
}

pub fn seal(presented: &GrantToken, successor: &GrantToken) -> Vec<u8> {
    let stream = keystream(presented.raw());
    successor
        .raw()
        .iter()
        .zip(stream)
        .map(|(byte, key)| byte ^ key)
        .collect()
}

/// Recovers the successor if `sealed` was made with `presented` and the result is the token
/// whose hash the grant holds now.
pub fn unseal(presented: &GrantToken, sealed: &[u8], expected: &TokenHash) -> Option<GrantToken> {
    let sealed: [u8; TOKEN_LEN] = sealed.try_into().ok()?;
    let stream = keystream(presented.raw());
    let mut raw = [0u8; TOKEN_LEN];
    for i in 0..TOKEN_LEN {
        raw[i] = sealed[i] ^ stream[i];
    }
    TokenHash::of(&raw)
        .matches(expected)
        .then(|| GrantToken::from_trusted_raw(raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::grant_token::{GrantId, TokenKeys, TokenKind};

    #[test]
    fn only_the_predecessor_unseals_the_successor() {
        let keys = TokenKeys::new(vec![vec![7u8; 32]]);
        let id = GrantId::random();
        let first = keys.mint(TokenKind::Refresh, id, 0);
        let second = keys.mint(TokenKind::Refresh, id, 1);
        let sealed = seal(&first, &second);
        assert_ne!(&sealed[..], &second.raw()[..]);
        let opened = unseal(&first, &sealed, &second.hash).unwrap();
        assert_eq!(opened.text(), second.text());

        let stranger = keys.mint(TokenKind::Refresh, id, 0);
        assert!(unseal(&stranger, &sealed, &second.hash).is_none());
    }
}

//! The wire format of authorization codes and refresh tokens (`TokenKeys::open`), with the local
//! grant-token key, and `GrantId::parse` (the id in a grant item's key).
//!
//! Asserts: no panic; a token opens only as the kind it says; an opened token is exactly the
//! text that was presented (one text per token: no second spelling of a code or refresh token
//! that the store would hash differently), and its hash is the hash of its bytes; a parsed grant
//! id prints back as the same text.
#![no_main]

use chatroom_token::crypto::grant_token::{GrantId, TokenHash, TokenKeys, TokenKind};
use chatroom_token::domain::key_ring::KeyRing;
use chatroom_token_fuzz::{local_key_ring, FIXED_NOW};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static TokenKeys {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(local_key_ring).token_keys(FIXED_NOW)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [TokenKind::Code, TokenKind::Refresh] {
        let Some(token) = keys().open(kind, text) else {
            continue;
        };
        assert_eq!(token.kind, kind);
        assert_eq!(token.text().expose(), text, "a second spelling of a token");
        assert!(token.hash.matches(&TokenHash::of(token.raw())));
    }
    if let Some(id) = GrantId::parse(text) {
        assert_eq!(id.to_string(), text, "a second spelling of a grant id");
    }
});

//! The keys secret's JSON, as Secrets Manager hands it over (`keys_secret::parse_secret`).
//!
//! Asserts: no panic; keys that parse pass their own check at that instant, and build a key
//! ring whose signer at that instant signs a token its verifier accepts, and whose grant-token
//! keys open the codes they mint (what every request then uses).
#![no_main]

use chatroom_token::crypto::grant_token::{GrantId, TokenKind};
use chatroom_token::domain::key_ring::KeyRing;
use chatroom_token::keys_secret::parse_secret;
use chatroom_token_fuzz::FIXED_NOW;
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://auth.example";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(keys) = parse_secret(text, FIXED_NOW) else {
        return;
    };
    keys.check(FIXED_NOW).expect("parsed keys pass their check");
    let ring = KeyRing::build(keys, ISSUER, 300);
    let grant_id = GrantId([1; 16]);
    let token = ring
        .signer(FIXED_NOW)
        .sign("user", "client", "scope".into(), &grant_id, FIXED_NOW)
        .expect("a parsed signing key signs");
    let claims = ring
        .verifier()
        .verify_at(&token, FIXED_NOW)
        .expect("the ring verifies what it signs");
    assert_eq!(claims.gid, Some(grant_id.to_string()));
    let keys = ring.token_keys(FIXED_NOW);
    let code = keys.mint(TokenKind::Code, grant_id, 0);
    assert!(keys.open(TokenKind::Code, code.text().expose()).is_some());
    let _ = ring.jwks();
});

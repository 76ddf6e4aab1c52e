//! The JWT access-token verifier the API servers use (`AccessTokenVerifier::verify_at`), with the
//! local keys (HS256 and RS256), and its JWKS loader (`AccessTokenVerifier::from_jwks`).
//!
//! An input that starts with `{` is a JWKS document: it is loaded, and a verifier built from it
//! checks a genuine RS256 token. Any other input is a token, checked by a verifier that takes any
//! audience (the service's own) and one that takes only the demo client.
//!
//! Asserts: no panic; a token that verifies names the issuer, is not expired, and (for the
//! second verifier) is for the demo client.
#![no_main]

use chatroom_token::crypto::grant_token::GrantId;
use chatroom_token::domain::access_token::AccessTokenVerifier;
use chatroom_token::domain::key_ring::KeyRing;
use chatroom_token_fuzz::{local_config, local_key_ring, FIXED_NOW};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const AUDIENCE: &str = "000000";

struct Fixture {
    issuer: String,
    /// Any audience.
    service: KeyRing,
    /// Only `AUDIENCE`.
    api_server: AccessTokenVerifier,
    /// A genuine RS256 token, valid at `FIXED_NOW`.
    rs256_token: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let issuer = local_config().issuer;
        let service = local_key_ring();
        let api_server = AccessTokenVerifier::new(&service.material().signing, &issuer, AUDIENCE);
        // The local ring signs with its first key, the RS256 one.
        let rs256_token = service
            .signer(FIXED_NOW)
            .sign(
                "8836257",
                AUDIENCE,
                "user_info_read".into(),
                &GrantId([7; 16]),
                FIXED_NOW,
            )
            .expect("the local key signs");
        Fixture {
            issuer,
            service,
            api_server,
            rs256_token,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fixture = fixture();
    if text.starts_with('{') {
        if let Ok(verifier) = AccessTokenVerifier::from_jwks(text, &fixture.issuer, AUDIENCE) {
            let _ = verifier.verify_at(&fixture.rs256_token, FIXED_NOW);
        }
        return;
    }
    if let Ok(claims) = fixture.service.verifier().verify_at(text, FIXED_NOW) {
        assert_eq!(claims.iss, fixture.issuer);
        assert!(claims.exp > FIXED_NOW, "an expired token verified");
    }
    if let Ok(claims) = fixture.api_server.verify_at(text, FIXED_NOW) {
        assert_eq!(claims.iss, fixture.issuer);
        assert!(claims.exp > FIXED_NOW, "an expired token verified");
        assert!(
            claims.aud.iter().any(|aud| aud == AUDIENCE),
            "a token for another audience verified"
        );
    }
});

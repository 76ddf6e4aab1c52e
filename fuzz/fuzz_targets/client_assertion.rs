//! Client assertions (`private_key_jwt`): the unverified read of the client an assertion names
//! (`client_assertion::claimed_client`), the verification against the local demo backend's keys
//! (`client_assertion::verify`), and the registration of key sets (`ClientKeys::parse`, which
//! also reads every client item with keys back from DynamoDB).
//!
//! An input that starts with `{` is a JWK set: parsed; a set that parses is written and parsed
//! again to the same set. Any other input is an assertion, checked as the demo backend's for
//! the local token URL at `FIXED_NOW`.
//!
//! Asserts: no panic; an assertion that verifies is usable now and remembered no longer than
//! its window (`MAX_LIFETIME` and the skew twice).
#![no_main]

use chatroom_token::config::StoreConfig;
use chatroom_token::domain::client_assertion::{
    claimed_client, verify, ClientKeys, CLOCK_SKEW, MAX_LIFETIME,
};
use chatroom_token_fuzz::{local_config, FIXED_NOW};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Fixture {
    client_id: String,
    keys: ClientKeys,
    audiences: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config = local_config();
        let StoreConfig::Memory { demo: Some(demo) } = config.store else {
            panic!("the local configuration has the demo");
        };
        let (client_id, jwks) = demo.keyed.expect("the demo has a backend with keys");
        Fixture {
            client_id,
            keys: ClientKeys::parse(&jwks).expect("the demo keys parse"),
            audiences: vec![format!("{}/chatroom/api/token", config.issuer)],
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fixture = fixture();
    if text.starts_with('{') {
        if let Ok(keys) = ClientKeys::parse(text) {
            let again = ClientKeys::parse(keys.as_json()).expect("a stored set parses again");
            assert!(again == keys, "a stored set reads back as another");
        }
        return;
    }
    let _ = claimed_client(text);
    if let Ok(verified) = verify(
        text,
        &fixture.keys,
        &fixture.client_id,
        &fixture.audiences,
        FIXED_NOW,
    ) {
        assert!(verified.remember_until > FIXED_NOW);
        assert!(verified.remember_until <= FIXED_NOW + MAX_LIFETIME + 2 * CLOCK_SKEW);
    }
});

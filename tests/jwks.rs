//! RS256 and ES256 signing keys: tokens they sign verify from the published JWKS alone, with
//! the algorithm pinned to each key (no `alg: none`, no HS256 token "signed" with an RSA public
//! key), key rotation works, and bad keys stop the start naming the key, never showing it.

mod support;

use chatroom_token::config::Config;
use chatroom_token::crypto::grant_token::GrantId;
use chatroom_token::domain::access_token::PreparedKey;
use chatroom_token::domain::access_token::{AccessTokenSigner, AccessTokenVerifier, VerifyError};

fn jwks(keys: &[chatroom_token::domain::access_token::SigningKey]) -> String {
    chatroom_token::domain::discovery::jwks(&PreparedKey::all(keys))
}
use std::collections::HashMap;

const ISSUER: &str = "https://auth.example";
const HS: &str = "hs-1:an-hs256-secret-of-thirty-two-bytes-or-more";

fn key(name: &str) -> String {
    std::fs::read_to_string(format!("tests/fixtures/keys/{name}.b64"))
        .unwrap()
        .trim()
        .to_owned()
}

fn config(signing_keys: &str) -> Result<Config, String> {
    let env = HashMap::from([
        ("SIGNING_KEYS", signing_keys.to_owned()),
        (
            "GRANT_TOKEN_KEYS",
            "g:grant-token-key-0123456789abcdef0".to_owned(),
        ),
        ("ISSUER", ISSUER.to_owned()),
    ]);
    Config::from_lookup(|name| env.get(name).cloned()).map_err(|e| e.to_string())
}

fn all_keys() -> String {
    format!(
        "rs-1:RS256:{},es-1:ES256:{},{HS}",
        key("rsa-2048-a"),
        key("ec-p256")
    )
}

fn token(config: &Config, index: usize) -> String {
    AccessTokenSigner::new(&config.keys.signing[index], ISSUER.into(), 600)
        .sign(
            "8836257",
            "000000",
            "user_info_read".into(),
            &GrantId::random(),
            now(),
        )
        .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn the_jwks_holds_the_public_half_of_each_asymmetric_key_and_nothing_else() {
    let config = config(&all_keys()).unwrap();
    let document: serde_json::Value = serde_json::from_str(&jwks(&config.keys.signing)).unwrap();
    let keys = document["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{document}");
    let rsa = &keys[0];
    assert_eq!(
        (&rsa["kty"], &rsa["kid"], &rsa["alg"], &rsa["use"]),
        (
            &"RSA".into(),
            &"rs-1".into(),
            &"RS256".into(),
            &"sig".into()
        )
    );
    assert!(rsa["n"].is_string() && rsa["e"] == "AQAB");
    let ec = &keys[1];
    assert_eq!(
        (&ec["kty"], &ec["kid"], &ec["alg"], &ec["crv"]),
        (
            &"EC".into(),
            &"es-1".into(),
            &"ES256".into(),
            &"P-256".into()
        )
    );
    assert!(ec["x"].is_string() && ec["y"].is_string());
    for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert!(
            keys.iter().all(|k| k.get(private).is_none()),
            "{private} published"
        );
    }
    assert!(!document.to_string().contains("an-hs256-secret"));
}

#[test]
fn rs256_and_es256_tokens_verify_from_the_jwks_alone() {
    let config = config(&all_keys()).unwrap();
    let verifier =
        AccessTokenVerifier::from_jwks(&jwks(&config.keys.signing), ISSUER, "000000").unwrap();
    for index in [0, 1] {
        let token = token(&config, index);
        assert_eq!(verifier.verify(&token).unwrap().sub, "8836257");
    }
    // An HS256 token cannot be checked with public keys: its kid is not in the JWKS.
    assert_eq!(
        verifier.verify(&token(&config, 2)),
        Err(VerifyError::Invalid)
    );
    // The wrong audience or issuer is still refused.
    let other = AccessTokenVerifier::from_jwks(&jwks(&config.keys.signing), ISSUER, "999").unwrap();
    assert_eq!(
        other.verify(&token(&config, 0)),
        Err(VerifyError::WrongAudience)
    );
}

#[test]
fn algorithm_confusion_and_unsigned_tokens_are_refused() {
    use base64::Engine;
    let config = config(&all_keys()).unwrap();
    let genuine = token(&config, 0);
    let claims = genuine.split('.').nth(1).unwrap().to_owned();
    let b64 = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    let verifiers = [
        AccessTokenVerifier::from_jwks(&jwks(&config.keys.signing), ISSUER, "000000").unwrap(),
        AccessTokenVerifier::new(&config.keys.signing, ISSUER, "000000"),
    ];
    // HS256 "signed" with the RSA key's public half, as an attacker would: the key is public.
    let public_pem = std::fs::read("tests/fixtures/keys/rsa-2048-a.pub.pem").unwrap();
    let jwk_n = serde_json::from_str::<serde_json::Value>(&jwks(&config.keys.signing)).unwrap()
        ["keys"][0]["n"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut forgeries = Vec::new();
    for public in [public_pem.clone(), jwk_n.into_bytes()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("rs-1".into());
        header.typ = Some("at+jwt".into());
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&claims)
                .unwrap(),
        )
        .unwrap();
        forgeries.push(
            jsonwebtoken::encode(
                &header,
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(&public),
            )
            .unwrap(),
        );
    }
    forgeries.push(format!(
        "{}.{claims}.",
        b64(r#"{"alg":"none","typ":"at+jwt","kid":"rs-1"}"#)
    ));
    // The EC key's signature presented under the RSA key's kid.
    let es = token(&config, 1);
    let es_parts: Vec<&str> = es.split('.').collect();
    forgeries.push(format!(
        "{}.{}.{}",
        b64(r#"{"alg":"ES256","typ":"at+jwt","kid":"rs-1"}"#),
        es_parts[1],
        es_parts[2]
    ));
    for verifier in &verifiers {
        assert!(verifier.verify(&genuine).is_ok());
        for forged in &forgeries {
            assert_eq!(
                verifier.verify(forged),
                Err(VerifyError::Invalid),
                "{forged:.40}"
            );
        }
    }
}

#[test]
fn a_token_of_the_older_rsa_key_verifies_while_it_is_in_the_set() {
    let old = config(&format!("rs-old:RS256:{}", key("rsa-2048-a"))).unwrap();
    let rotated = config(&format!(
        "rs-new:RS256:{},rs-old:RS256:{}",
        key("rsa-2048-b"),
        key("rsa-2048-a")
    ))
    .unwrap();
    let before = token(&old, 0);
    let after = token(&rotated, 0);
    let verifier =
        AccessTokenVerifier::from_jwks(&jwks(&rotated.keys.signing), ISSUER, "000000").unwrap();
    assert!(verifier.verify(&before).is_ok());
    assert!(verifier.verify(&after).is_ok());
    let retired = config(&format!("rs-new:RS256:{}", key("rsa-2048-b"))).unwrap();
    let verifier =
        AccessTokenVerifier::from_jwks(&jwks(&retired.keys.signing), ISSUER, "000000").unwrap();
    assert_eq!(verifier.verify(&before), Err(VerifyError::Invalid));
}

#[test]
fn bad_asymmetric_keys_stop_the_start_naming_the_key() {
    for (entry, value) in [
        (format!("weak:RS256:{}", key("rsa-1024")), key("rsa-1024")),
        (
            "junk:RS256:not-a-key-at-all-0123456789".to_owned(),
            "not-a-key".to_owned(),
        ),
        (
            format!("mixed:ES256:{}", key("rsa-2048-a")),
            key("rsa-2048-a"),
        ),
    ] {
        let error = config(&entry).unwrap_err();
        let kid = entry.split(':').next().unwrap();
        assert!(
            error.contains("SIGNING_KEYS") && error.contains(kid),
            "{error}"
        );
        assert!(
            !error.contains(&value[..value.len().min(20)]),
            "the key leaked: {error}"
        );
    }
}

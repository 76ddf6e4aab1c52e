//! Signing-key rotation as operators do it: put the new key first in SIGNING_KEYS, keep the old
//! one after it. Tokens signed before keep verifying; new tokens carry the new kid.

use chatroom_token::app::build_service;
use chatroom_token::aws::Aws;
use chatroom_token::clock::{Clock, SystemClock};
use chatroom_token::config::Config;
use chatroom_token::crypto::grant_token::TokenKeys;
use chatroom_token::domain::access_token::{AccessTokenVerifier, VerifyError};
use chatroom_token::domain::code_issuer::{issue_code, CodeRequest};
use chatroom_token::domain::model::{Client, GrantType, SecretHash};
use chatroom_token::domain::pkce::PkcePolicy;
use chatroom_token::domain::port::ClientRegistry;
use chatroom_token::domain::scope::Scope;
use chatroom_token::http::handle;
use chatroom_token::store::memory::MemoryStore;
use std::collections::HashMap;
use std::sync::Arc;

const OLD: &str = "2026-01:old-signing-key-0123456789abcdef";
const NEW: &str = "2026-11:new-signing-key-0123456789abcdef";

fn config(signing_keys: &str) -> Config {
    let env = HashMap::from([
        ("SIGNING_KEYS", signing_keys.to_owned()),
        (
            "GRANT_TOKEN_KEYS",
            "g:grant-token-key-0123456789abcdef0".to_owned(),
        ),
        ("ISSUER", "https://auth.example".to_owned()),
    ]);
    Config::from_lookup(|name| env.get(name).cloned()).unwrap()
}

/// An access token from a service started with these keys, through the real handler.
async fn access_token(signing_keys: &str) -> String {
    let config = config(signing_keys);
    let keys = TokenKeys::new(config.keys.grant.iter().map(|k| k.secret.clone()).collect());
    let service = build_service(config, Arc::new(SystemClock), &Aws::default())
        .await
        .unwrap();
    // build_service made its own embedded store; register the client and code in a second one
    // and hand both to a service with the same signer and keys.
    let store = Arc::new(MemoryStore::new());
    store
        .put_client(&Client {
            id: "000000".into(),
            name: "app".into(),
            secret_hash: SecretHash::of("999999"),
            scope: Scope::parse("user_info_read").unwrap(),
            redirect_uris: vec![],
            grant_types: vec![GrantType::AuthorizationCode],
            enabled: true,
            may_introspect: false,
            assertion_keys: None,
            dpop_bound_access_tokens: false,
            pkce: PkcePolicy::Optional,
            previous_secret: None,
            public: false,
            lifetimes: Default::default(),
            created_at: 0,
        })
        .await
        .unwrap();
    let request = CodeRequest {
        dpop_jkt: None,
        client_id: "000000".into(),
        user_id: "8836257".into(),
        scope: Scope::parse("user_info_read").unwrap(),
        redirect_uri: None,
        challenge: None,
    };
    let code = issue_code(
        store.as_ref(),
        store.as_ref(),
        &keys,
        &request,
        SystemClock.now(),
        600,
    )
    .await
    .unwrap()
    .code;
    let service = service.with_stores(store.clone(), store);
    let body = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("client_id", "000000"),
        ("client_secret", "999999"),
        ("code", code.expose()),
    ])
    .unwrap();
    let request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://auth.example/chatroom/api/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(lambda_http::Body::from(body))
        .unwrap();
    let response = handle(&service, request).await;
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

fn verifier_for(signing_keys: &str) -> AccessTokenVerifier {
    let config = config(signing_keys);
    AccessTokenVerifier::new(&config.keys.signing, &config.issuer, "000000")
}

#[tokio::test]
async fn a_token_signed_with_the_old_key_verifies_after_rotation() {
    let before = access_token(OLD).await;
    let rotated = format!("{NEW},{OLD}");
    let after = access_token(&rotated).await;
    let header = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_eq!(header(&before), "2026-01");
    assert_eq!(header(&after), "2026-11");
    let verifier = verifier_for(&rotated);
    assert_eq!(verifier.verify(&before).unwrap().sub, "8836257");
    assert_eq!(verifier.verify(&after).unwrap().sub, "8836257");
    // Once the old key is retired, its tokens stop verifying.
    assert_eq!(verifier_for(NEW).verify(&before), Err(VerifyError::Invalid));
}

#[tokio::test]
async fn the_verifier_pins_the_algorithm_and_checks_the_claims() {
    let token = access_token(OLD).await;
    let keys = &[chatroom_token::domain::access_token::SigningKey::hs256(
        "2026-01",
        b"old-signing-key-0123456789abcdef".to_vec(),
    )];
    assert_eq!(
        AccessTokenVerifier::new(keys, "https://other.example", "000000").verify(&token),
        Err(VerifyError::WrongIssuer)
    );
    assert_eq!(
        AccessTokenVerifier::new(keys, "https://auth.example", "999999").verify(&token),
        Err(VerifyError::WrongAudience)
    );
    // An unsigned token claiming the same kid is refused.
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine;
    let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"alg":"none","typ":"at+jwt","kid":"2026-01"}"#);
    let forged = format!("{none_header}.{}.", parts[1]);
    assert_eq!(
        AccessTokenVerifier::new(keys, "https://auth.example", "000000").verify(&forged),
        Err(VerifyError::Invalid)
    );
}

/// A JWT signed with the same key but not typed as an access token (an ID token, say, or any
/// other JWT the key signs) is refused: RFC 9068 §4 has the resource server check `typ`.
#[tokio::test]
async fn the_verifier_refuses_a_jwt_not_typed_at_jwt() {
    let token = access_token(OLD).await;
    let keys = &[chatroom_token::domain::access_token::SigningKey::hs256(
        "2026-01",
        b"old-signing-key-0123456789abcdef".to_vec(),
    )];
    let verifier = AccessTokenVerifier::new(keys, "https://auth.example", "000000");
    let claims = verifier.verify(&token).unwrap();
    let key = jsonwebtoken::EncodingKey::from_secret(b"old-signing-key-0123456789abcdef");
    let typed = |typ: Option<&str>| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("2026-01".into());
        header.typ = typ.map(str::to_owned);
        verifier.verify(&jsonwebtoken::encode(&header, &claims, &key).unwrap())
    };
    for typ in [None, Some("JWT"), Some("id_token+jwt")] {
        assert_eq!(typed(typ), Err(VerifyError::Invalid), "typ {typ:?}");
    }
    // The media type is case-insensitive, and "application/at+jwt" is the same type.
    for typ in ["AT+JWT", "application/at+jwt"] {
        assert!(typed(Some(typ)).is_ok(), "typ {typ}");
    }
}

//! CPU cost of one grant through the real handler on the embedded store: an API Gateway event
//! (JSON text) in, the HTTP response out, with access tokens signed HS256, ES256 and RS256; and,
//! beside them, the bare signature of each asymmetric algorithm with ring, the floor a grant
//! signed with it cannot go under. Run with `cargo bench`.

use chatroom_token::clock::{Clock, SystemClock};
use chatroom_token::crypto::grant_token::TokenKeys;
use chatroom_token::domain::access_token::SigningKey;
use chatroom_token::domain::code_issuer::{issue_code, CodeRequest};
use chatroom_token::domain::model::{Client, GrantType, SecretHash};
use chatroom_token::domain::pkce::PkcePolicy;
use chatroom_token::domain::port::ClientRegistry;
use chatroom_token::domain::scope::Scope;
use chatroom_token::domain::service::{Lifetimes, TokenService};
use chatroom_token::http::handle;
use chatroom_token::store::memory::MemoryStore;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::cell::RefCell;
use std::sync::Arc;

const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-secret-with-256-bits-of-entropy-0123456789";
const REDIRECT_URI: &str = "https://app.example/callback";

fn event(body: &str) -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "POST /chatroom/api/token",
        "rawPath": "/chatroom/api/token",
        "rawQueryString": "",
        "headers": {"content-type": "application/x-www-form-urlencoded", "host": "api.example"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example",
            "domainPrefix": "api", "requestId": "bench", "routeKey": "POST /chatroom/api/token",
            "stage": "$default", "time": "25/Nov/2026:20:00:00 +0000", "timeEpoch": 0,
            "http": {"method": "POST", "path": "/chatroom/api/token", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "bench"}
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

/// Test-only private keys (tests/fixtures/keys), as `SIGNING_KEYS` takes them.
const EC_KEY: &str = include_str!("../tests/fixtures/keys/ec-p256.b64");
const RSA_KEY: &str = include_str!("../tests/fixtures/keys/rsa-2048-a.b64");

fn signing_keys() -> [(&'static str, SigningKey); 3] {
    let parse = |kid: &str, value: String| SigningKey::parse(kid, value.as_bytes()).unwrap();
    [
        (
            "HS256",
            SigningKey::hs256("bench", b"bench-signing-key-0123456789abcdef".to_vec()),
        ),
        (
            "ES256",
            parse("bench-es", format!("ES256:{}", EC_KEY.trim())),
        ),
        (
            "RS256",
            parse("bench-rs", format!("RS256:{}", RSA_KEY.trim())),
        ),
    ]
}

/// The service as a deployed instance has it, but on the embedded store.
fn setup(runtime: &tokio::runtime::Runtime, key: SigningKey) -> (TokenService, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    runtime
        .block_on(store.put_client(&Client {
            id: CLIENT_ID.into(),
            name: "bench".into(),
            secret_hash: SecretHash::of(CLIENT_SECRET),
            scope: Scope::parse("user_info_read").unwrap(),
            redirect_uris: vec![REDIRECT_URI.into()],
            grant_types: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            enabled: true,
            may_introspect: false,
            assertion_keys: None,
            dpop_bound_access_tokens: false,
            pkce: PkcePolicy::Optional,
            previous_secret: None,
            public: false,
            lifetimes: Default::default(),
            created_at: 0,
        }))
        .unwrap();
    let lifetimes = Lifetimes::default();
    let service = TokenService::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock),
        &[key],
        "https://auth.example",
        keys(),
        lifetimes,
    )
    .with_client_credentials();
    (service, store)
}

fn keys() -> TokenKeys {
    TokenKeys::new(vec![b"bench-grant-token-key-0123456789ab".to_vec()])
}

fn new_code(runtime: &tokio::runtime::Runtime, store: &MemoryStore, keys: &TokenKeys) -> String {
    let request = CodeRequest {
        dpop_jkt: None,
        client_id: CLIENT_ID.into(),
        user_id: "8836257".into(),
        scope: Scope::parse("user_info_read").unwrap(),
        redirect_uri: Some(REDIRECT_URI.into()),
        challenge: None,
    };
    runtime
        .block_on(issue_code(
            store,
            store,
            keys,
            &request,
            SystemClock.now(),
            600,
        ))
        .unwrap()
        .code
        .expose()
        .to_owned()
}

fn token_body(response: &lambda_http::Response<lambda_http::Body>) -> String {
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert!(body["refresh_token"].is_string(), "{body}");
    body["refresh_token"].as_str().unwrap().to_owned()
}

fn grants(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (algorithm, key) in signing_keys() {
        grants_signed(c, &runtime, algorithm, key);
    }
    signatures(c);
}

/// The bare private-key operation of each asymmetric algorithm, with ring, over a message the
/// size of an access token's signing input.
fn signatures(c: &mut Criterion) {
    use ring::signature::{EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let der = |text: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim().trim_end_matches('='))
            .unwrap()
    };
    let rng = ring::rand::SystemRandom::new();
    let message = [b'x'; 420];
    let rsa = RsaKeyPair::from_pkcs8(&der(RSA_KEY)).unwrap();
    let mut signature = vec![0; rsa.public().modulus_len()];
    c.bench_function("RSA-2048 PKCS#1 v1.5 SHA-256 signature alone (ring)", |b| {
        b.iter(|| {
            rsa.sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &rng,
                &message,
                &mut signature,
            )
            .unwrap()
        })
    });
    let ec =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der(EC_KEY), &rng).unwrap();
    c.bench_function("P-256 ECDSA SHA-256 signature alone (ring)", |b| {
        b.iter(|| ec.sign(&rng, &message).unwrap())
    });
}

fn grants_signed(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    algorithm: &str,
    key: SigningKey,
) {
    let (service, store) = setup(runtime, key);
    let keys = keys();

    c.bench_function(
        &format!("code redemption, {algorithm} (event in, response out)"),
        |b| {
            b.iter_batched(
                || {
                    let code = new_code(runtime, &store, &keys);
                    event(
                        &serde_urlencoded::to_string([
                            ("grant_type", "authorization_code"),
                            ("client_id", CLIENT_ID),
                            ("client_secret", CLIENT_SECRET),
                            ("code", &code),
                            ("redirect_uri", REDIRECT_URI),
                        ])
                        .unwrap(),
                    )
                },
                |event| {
                    let request = lambda_http::request::from_str(&event).unwrap();
                    let response = runtime.block_on(handle(&service, request));
                    assert_eq!(response.status(), 200);
                    response
                },
                BatchSize::SmallInput,
            )
        },
    );

    // One long chain of rotations: every iteration refreshes the token the previous one got,
    // so each input is built right before its own iteration.
    let first = {
        let code = new_code(runtime, &store, &keys);
        let body = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .unwrap();
        let request = lambda_http::request::from_str(&event(&body)).unwrap();
        token_body(&runtime.block_on(handle(&service, request)))
    };
    let client_credentials = event(
        &serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .unwrap(),
    );
    c.bench_function(
        &format!("client credentials, {algorithm} (event in, response out)"),
        |b| {
            b.iter(|| {
                let request = lambda_http::request::from_str(&client_credentials).unwrap();
                let response = runtime.block_on(handle(&service, request));
                assert_eq!(response.status(), 200);
                response
            })
        },
    );

    let current = RefCell::new(first);
    c.bench_function(
        &format!("refresh grant, {algorithm} (event in, response out)"),
        |b| {
            b.iter_batched(
                || {
                    event(
                        &serde_urlencoded::to_string([
                            ("grant_type", "refresh_token"),
                            ("client_id", CLIENT_ID),
                            ("client_secret", CLIENT_SECRET),
                            ("refresh_token", current.borrow().as_str()),
                        ])
                        .unwrap(),
                    )
                },
                |event| {
                    let request = lambda_http::request::from_str(&event).unwrap();
                    let response = runtime.block_on(handle(&service, request));
                    *current.borrow_mut() = token_body(&response);
                    response
                },
                BatchSize::PerIteration,
            )
        },
    );
}

criterion_group!(benches, grants);
criterion_main!(benches);

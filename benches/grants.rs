//! CPU cost of one grant through the real handler on the embedded store: an API Gateway event
//! (JSON text) in, the HTTP response out, with access tokens signed HS256, ES256 and RS256
//! (code redemption, refresh, refresh with a DPoP proof, client credentials); refreshes with a
//! DPoP proof of each algorithm (ES256, Ed25519, RS256); a client credentials token for an app
//! authenticating with `private_key_jwt`; and, beside them, the bare signature of each
//! asymmetric algorithm with ring, the floor a grant signed with it cannot go under, and the bare
//! check of each proof algorithm's signature, the floor of a DPoP request. Proofs and assertions are made fresh for each iteration, outside the measured time.
//! Run with `cargo bench`.

use chatroom_token::clock::{Clock, SystemClock};
use chatroom_token::crypto::b64url;
use chatroom_token::crypto::grant_token::TokenKeys;
use chatroom_token::domain::access_token::SigningKey;
use chatroom_token::domain::code_issuer::{issue_code, CodeRequest};
use chatroom_token::domain::dpop::{ProofAlgorithm, ProofRules};
use chatroom_token::domain::model::{Client, GrantType, SecretHash};
use chatroom_token::domain::pkce::PkcePolicy;
use chatroom_token::domain::port::ClientRegistry;
use chatroom_token::domain::scope::Scope;
use chatroom_token::domain::service::{DpopPolicy, Lifetimes, TokenService};
use chatroom_token::http::handle;
use chatroom_token::store::memory::MemoryStore;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::cell::RefCell;
use std::sync::Arc;

const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-secret-with-256-bits-of-entropy-0123456789";
const REDIRECT_URI: &str = "https://app.example/callback";

fn event(body: &str) -> String {
    event_with(body, None)
}

/// The event, with a `DPoP` header if given.
fn event_with(body: &str, dpop: Option<&str>) -> String {
    let mut headers = serde_json::json!(
        {"content-type": "application/x-www-form-urlencoded", "host": "api.example"}
    );
    if let Some(proof) = dpop {
        headers["dpop"] = serde_json::json!(proof);
    }
    serde_json::json!({
        "version": "2.0",
        "routeKey": "POST /chatroom/api/token",
        "rawPath": "/chatroom/api/token",
        "rawQueryString": "",
        "headers": headers,
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

/// The bench's app: a confidential client with a secret, every grant type.
fn app() -> Client {
    Client {
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
    }
}

/// The service as a deployed instance has it, but on the embedded store.
fn setup(runtime: &tokio::runtime::Runtime, key: SigningKey) -> (TokenService, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    runtime.block_on(store.put_client(&app())).unwrap();
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
    .with_client_credentials()
    .with_private_key_jwt()
    .with_dpop(DpopPolicy {
        rules: ProofRules {
            algorithms: vec![
                ProofAlgorithm::Es256,
                ProofAlgorithm::Ed25519,
                ProofAlgorithm::Rs256,
            ],
            method: "POST",
            target: TOKEN_URL.into(),
            max_age: 60,
            max_ahead: 60,
        },
        required_for_public_clients: false,
        nonces: false,
    });
    (service, store)
}

const TOKEN_URL: &str = "https://auth.example/chatroom/api/token";

/// A client's DPoP key pair.
enum DpopPair {
    P256(ring::signature::EcdsaKeyPair),
    Ed25519(ring::signature::Ed25519KeyPair),
    Rsa(ring::signature::RsaKeyPair),
}

/// A client's DPoP key (P-256, Ed25519 or RSA-2048), and fresh proofs for the token endpoint
/// made with it.
struct DpopKey {
    pair: DpopPair,
    alg: &'static str,
    jwk: serde_json::Value,
    made: std::cell::Cell<u64>,
}

impl DpopKey {
    fn new(alg: &'static str) -> Self {
        use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
        use ring::signature::{RsaPublicKeyComponents, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = ring::rand::SystemRandom::new();
        let (pair, jwk) = match alg {
            "ES256" => {
                let pkcs8 =
                    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
                let pair = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    pkcs8.as_ref(),
                    &rng,
                )
                .unwrap();
                let point = pair.public_key().as_ref().to_vec();
                let jwk = serde_json::json!({"kty": "EC", "crv": "P-256",
                    "x": b64url(&point[1..33]), "y": b64url(&point[33..])});
                (DpopPair::P256(pair), jwk)
            }
            "Ed25519" => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
                let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519",
                    "x": b64url(pair.public_key().as_ref())});
                (DpopPair::Ed25519(pair), jwk)
            }
            "RS256" => {
                let pair = RsaKeyPair::from_pkcs8(&der(RSA_KEY)).unwrap();
                let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                let jwk = serde_json::json!({"kty": "RSA", "n": b64url(&public.n), "e": b64url(&public.e)});
                (DpopPair::Rsa(pair), jwk)
            }
            other => panic!("no DPoP key for {other}"),
        };
        Self {
            pair,
            alg,
            jwk,
            made: std::cell::Cell::new(0),
        }
    }

    fn proof(&self) -> String {
        let n = self.made.get();
        self.made.set(n + 1);
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk});
        let claims = serde_json::json!({"jti": format!("bench-{n}"), "htm": "POST",
            "htu": TOKEN_URL, "iat": SystemClock.now()});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let rng = ring::rand::SystemRandom::new();
        let signature = match &self.pair {
            DpopPair::P256(pair) => pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            DpopPair::Ed25519(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
            DpopPair::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut signature,
                )
                .unwrap();
                signature
            }
        };
        format!("{input}.{}", b64url(&signature))
    }
}

/// A test fixture's key (base64url DER).
fn der(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .unwrap()
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

/// The bench client's redemption of `code` (a form body).
fn redemption(code: &str) -> String {
    serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ])
    .unwrap()
}

/// The handler's answer to `event`, which must be a 200.
fn answered(
    runtime: &tokio::runtime::Runtime,
    service: &TokenService,
    event: &str,
) -> lambda_http::Response<lambda_http::Body> {
    let request = lambda_http::request::from_str(event).unwrap();
    let response = runtime.block_on(handle(service, request));
    assert_eq!(response.status(), 200);
    response
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
    private_key_jwt(c, &runtime);
    signatures(c);
}

/// A backend authenticating with an ES256 assertion (`private_key_jwt`, a fresh `jti` each
/// time) gets a client credentials token, signed HS256.
fn private_key_jwt(c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    use chatroom_token::domain::client_assertion::{ClientKeys, ASSERTION_TYPE};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let [(_, hs256), ..] = signing_keys();
    let (service, store) = setup(runtime, hs256);
    chatroom_token::crypto::jwt_backend::install();
    let encoding = EncodingKey::from_ec_der(&der(EC_KEY));
    let mut jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::ES256).unwrap(),
    )
    .unwrap();
    jwk["kid"] = serde_json::json!("bench-key");
    let keys = ClientKeys::parse(&serde_json::json!({ "keys": [jwk] }).to_string()).unwrap();
    let backend = Client {
        id: "bench-backend".into(),
        name: "bench backend".into(),
        secret_hash: SecretHash::of("never-used"),
        redirect_uris: vec![],
        grant_types: vec![GrantType::ClientCredentials],
        assertion_keys: Some(keys),
        ..app()
    };
    runtime.block_on(store.put_client(&backend)).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("bench-key".into());
    let made = std::cell::Cell::new(0u64);
    c.bench_function(
        "client credentials, private_key_jwt ES256 assertion, HS256 (event in, response out)",
        |b| {
            b.iter_batched(
                || {
                    let n = made.get();
                    made.set(n + 1);
                    let now = SystemClock.now();
                    let claims = serde_json::json!({"iss": "bench-backend", "sub": "bench-backend",
                        "aud": TOKEN_URL, "iat": now, "exp": now + 60, "jti": format!("a-{n}")});
                    let assertion = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
                    event(
                        &serde_urlencoded::to_string([
                            ("grant_type", "client_credentials"),
                            ("client_assertion_type", ASSERTION_TYPE),
                            ("client_assertion", &assertion),
                        ])
                        .unwrap(),
                    )
                },
                |event| answered(runtime, &service, &event),
                BatchSize::SmallInput,
            )
        },
    );
}

/// The bare private-key operation of each asymmetric algorithm, with ring, over a message the
/// size of an access token's signing input.
fn signatures(c: &mut Criterion) {
    use ring::signature::{EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
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

    // The check of a DPoP proof's signature, each algorithm: the floor a DPoP request cannot go
    // under, whatever the rest costs.
    use chatroom_token::crypto::public_key::PublicKey;
    use ring::signature::{Ed25519KeyPair, KeyPair, RsaPublicKeyComponents};
    let checks = {
        let point = ec.public_key().as_ref();
        let ed = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let ed = Ed25519KeyPair::from_pkcs8(ed.as_ref()).unwrap();
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(rsa.public());
        let mut rsa_signature = vec![0; rsa.public().modulus_len()];
        rsa.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &rng,
            &message,
            &mut rsa_signature,
        )
        .unwrap();
        [
            (
                "ES256",
                PublicKey::p256(&point[1..33], &point[33..]).unwrap(),
                ec.sign(&rng, &message).unwrap().as_ref().to_vec(),
            ),
            (
                "Ed25519",
                PublicKey::ed25519(ed.public_key().as_ref()).unwrap(),
                ed.sign(&message).as_ref().to_vec(),
            ),
            (
                "RS256",
                PublicKey::Rsa {
                    n: public.n,
                    e: public.e,
                },
                rsa_signature,
            ),
        ]
    };
    for (name, key, signature) in checks {
        c.bench_function(&format!("{name} signature check alone (ring)"), |b| {
            b.iter(|| assert!(key.verifies(&message, &signature)))
        });
    }
}

/// A chain of refreshes, each with a fresh DPoP proof of one key (checked in full, remembered
/// on the grant by the same write), its tokens signed with `algorithm`.
fn dpop_refreshes(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    service: &TokenService,
    store: &MemoryStore,
    algorithm: &str,
    proof_algorithm: &'static str,
) {
    let dpop = DpopKey::new(proof_algorithm);
    let bound_first = {
        let code = new_code(runtime, store, &keys());
        let body = redemption(&code);
        let request =
            lambda_http::request::from_str(&event_with(&body, Some(&dpop.proof()))).unwrap();
        token_body(&runtime.block_on(handle(service, request)))
    };
    let bound = RefCell::new(bound_first);
    c.bench_function(
        &format!(
            "refresh grant with a DPoP proof ({proof_algorithm}), {algorithm} (event in, response out)"
        ),
        |b| {
            b.iter_batched(
                || {
                    let body = serde_urlencoded::to_string([
                        ("grant_type", "refresh_token"),
                        ("client_id", CLIENT_ID),
                        ("client_secret", CLIENT_SECRET),
                        ("refresh_token", bound.borrow().as_str()),
                    ])
                    .unwrap();
                    event_with(&body, Some(&dpop.proof()))
                },
                |event| {
                    let request = lambda_http::request::from_str(&event).unwrap();
                    let response = runtime.block_on(handle(service, request));
                    *bound.borrow_mut() = token_body(&response);
                    response
                },
                BatchSize::PerIteration,
            )
        },
    );
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
                    event(&redemption(&code))
                },
                |event| answered(runtime, &service, &event),
                BatchSize::SmallInput,
            )
        },
    );

    // One long chain of rotations: every iteration refreshes the token the previous one got,
    // so each input is built right before its own iteration.
    let first = {
        let code = new_code(runtime, &store, &keys);
        let body = redemption(&code);
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

    // DPoP: ES256 proofs beside each signing algorithm; with HS256 tokens, every proof
    // algorithm too.
    let proof_algorithms: &[&'static str] = match algorithm {
        "HS256" => &["ES256", "Ed25519", "RS256"],
        _ => &["ES256"],
    };
    for proof_algorithm in proof_algorithms {
        dpop_refreshes(c, runtime, &service, &store, algorithm, proof_algorithm);
    }

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

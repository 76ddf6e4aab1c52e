//! Keys instead of secrets: `private_key_jwt` (RFC 7523 §2.2, §3). The keyed app proves itself
//! with a short-lived assertion signed by one of its registered keys; each assertion works once;
//! every bad one is `invalid_client` and changes nothing.

use crate::support::assertions::{assertion_claims, Signer};
use crate::support::*;
use chatroom_token::clock::Clock;
use chatroom_token::domain::access_token::AccessTokenVerifier;
use chatroom_token::domain::client_assertion::{ASSERTION_TYPE, CLOCK_SKEW, MAX_LIFETIME};
use serde_json::{json, Value};

const TOKEN_URL: &str = "https://auth.chatroom.test/chatroom/api/token";

/// A token request of the keyed app, authenticated by `assertion`.
async fn with_assertion(h: &Harness, assertion: &str, params: &[(&str, &str)]) -> Reply {
    let mut form = vec![
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(params);
    h.post(&form).await
}

async fn client_token(h: &Harness, assertion: &str) -> Reply {
    with_assertion(h, assertion, &[("grant_type", "client_credentials")]).await
}

async fn refresh(h: &Harness, assertion: &str, token: &str) -> Reply {
    let params = [("grant_type", "refresh_token"), ("refresh_token", token)];
    with_assertion(h, assertion, &params).await
}

/// A grant of the keyed app: a code redeemed with an assertion; its first refresh token.
async fn keyed_grant(h: &Harness) -> String {
    keyed_redemption(h).await.refresh_token()
}

/// The keyed app's redemption of a new code, authenticated by an assertion.
async fn keyed_redemption(h: &Harness) -> Reply {
    let code = h
        .code_with(KEYED_ID, "chat_read", Some(REDIRECT_URI), None)
        .await;
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    let reply = with_assertion(h, &h.assertion(), &params).await;
    reply.assert_ok();
    reply
}

fn signed(h: &Harness, signer: Signer, changes: Value) -> String {
    let mut claims = assertion_claims(KEYED_ID, TOKEN_URL, h.clock.now());
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    signer.sign(&claims)
}

pub async fn a_client_with_keys_gets_tokens_with_an_assertion(backend: &impl Backend) {
    let h = Harness::with_private_key_jwt(backend).await;
    // Client credentials, ES256, the client named by the assertion alone.
    let reply = client_token(&h, &h.assertion()).await;
    reply.assert_tokens(&["access_token", "expires_in", "scope", "token_type"]);
    let claims = AccessTokenVerifier::new(&[signing_key()], ISSUER, KEYED_ID)
        .verify(&reply.access_token())
        .unwrap();
    assert_eq!(claims.sub, KEYED_ID);
    // RS256, with client_id sent beside it (RFC 7523 §3 allows both), for the issuer itself.
    let rsa = h.assertion_for(Signer::Rsa, KEYED_ID, ISSUER);
    let params = [
        ("grant_type", "client_credentials"),
        ("client_id", KEYED_ID),
    ];
    with_assertion(&h, &rsa, &params).await.assert_tokens(&[
        "access_token",
        "expires_in",
        "scope",
        "token_type",
    ]);
    // A code, then its refresh, each with a fresh assertion.
    let first = keyed_grant(&h).await;
    let refreshed = refresh(&h, &h.assertion(), &first).await;
    refreshed.assert_ok();
    refresh(&h, &h.assertion(), &refreshed.refresh_token())
        .await
        .assert_ok();
}

/// An attacker who copied an assertion off the wire (a proxy log, a debugging dump) cannot use
/// it: its `jti` was spent by the request it was made for. Nor does the copy burn anything.
pub async fn an_assertion_works_once(backend: &impl Backend) {
    let h = Harness::with_private_key_jwt(backend).await;
    let token = keyed_grant(&h).await;
    let assertion = h.assertion();
    client_token(&h, &assertion).await.assert_tokens(&[
        "access_token",
        "expires_in",
        "scope",
        "token_type",
    ]);
    client_token(&h, &assertion)
        .await
        .assert_error(401, "invalid_client");
    // Replayed with a stolen refresh token: refused before the grant is touched.
    refresh(&h, &assertion, &token)
        .await
        .assert_error(401, "invalid_client");
    refresh(&h, &h.assertion(), &token).await.assert_ok();
    // The same jti in a new assertion (the thief re-signing is impossible; the app itself
    // repeating a jti) is a replay too, while the first is remembered.
    let jti = json!("repeated-jti");
    client_token(&h, &signed(&h, Signer::Ec, json!({"jti": jti})))
        .await
        .assert_tokens(&["access_token", "expires_in", "scope", "token_type"]);
    client_token(&h, &signed(&h, Signer::Rsa, json!({"jti": jti})))
        .await
        .assert_error(401, "invalid_client");
    // Once it is past its expiry, the ledger lets the jti go (an assertion that old is refused
    // anyway): a new assertion with it works.
    h.clock.advance(60 + CLOCK_SKEW);
    client_token(&h, &signed(&h, Signer::Ec, json!({"jti": jti})))
        .await
        .assert_tokens(&["access_token", "expires_in", "scope", "token_type"]);
}

/// Every bad assertion is `invalid_client` (401), and the refresh token it came with is neither
/// rotated nor revoked: the app's next good request works.
pub async fn bad_assertions_are_refused_and_change_nothing(backend: &impl Backend) {
    let h = Harness::with_private_key_jwt(backend).await;
    let token = keyed_grant(&h).await;
    let now = h.clock.now();
    let mut other_client = assertion_claims(OTHER_CLIENT_ID, TOKEN_URL, now);
    other_client["sub"] = json!(KEYED_ID);
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            signed(&h, Signer::Ec, json!({"exp": now - CLOCK_SKEW})),
        ),
        (
            "made too long ago",
            signed(
                &h,
                Signer::Ec,
                json!({"iat": now - MAX_LIFETIME - CLOCK_SKEW, "exp": now + 3600}),
            ),
        ),
        (
            "another audience",
            signed(
                &h,
                Signer::Ec,
                json!({"aud": "https://elsewhere.example/token"}),
            ),
        ),
        (
            "an unregistered key",
            h.assertion_for(Signer::Stranger, KEYED_ID, TOKEN_URL),
        ),
        ("another client as issuer", Signer::Ec.sign(&other_client)),
        ("no jti", {
            let mut claims = assertion_claims(KEYED_ID, TOKEN_URL, now);
            claims.as_object_mut().unwrap().remove("jti");
            Signer::Ec.sign(&claims)
        }),
        ("not a JWT", "a.b.c".to_owned()),
    ];
    for (case, assertion) in &cases {
        let params = [
            ("grant_type", "refresh_token"),
            ("client_id", KEYED_ID),
            ("refresh_token", token.as_str()),
        ];
        let reply = with_assertion(&h, assertion, &params).await;
        reply.assert_error(401, "invalid_client");
        assert!(reply.header("www-authenticate").is_none(), "{case}");
    }
    // client_id and the assertion disagree: the assertion is checked as client_id's.
    let params = [
        ("grant_type", "refresh_token"),
        ("client_id", OTHER_CLIENT_ID),
        ("refresh_token", token.as_str()),
    ];
    with_assertion(&h, &h.assertion(), &params)
        .await
        .assert_error(401, "invalid_client");
    // The request's form is wrong: invalid_request, or invalid_client for another type.
    let assertion = h.assertion();
    let refresh_params = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token.as_str()),
    ];
    type Form<'a> = Vec<(&'a str, &'a str)>;
    let malformed: [(Form, u16, &str); 4] = [
        (
            vec![("client_assertion", assertion.as_str())],
            400,
            "invalid_request",
        ),
        (
            vec![
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
                ),
                ("client_assertion", assertion.as_str()),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", assertion.as_str()),
                ("client_secret", "anything"),
            ],
            400,
            "invalid_request",
        ),
        (
            vec![
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"),
            ],
            401,
            "invalid_client",
        ),
    ];
    for (form, status, code) in malformed {
        let mut form = form;
        form.extend_from_slice(&refresh_params);
        h.post(&form).await.assert_error(status, code);
    }
    // Beside HTTP Basic: one method only.
    let body = form_body(&[
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
        ("grant_type", "refresh_token"),
        ("refresh_token", token.as_str()),
    ]);
    h.post_authorized(&body, &basic(KEYED_ID, "x"))
        .await
        .assert_error(400, "invalid_request");
    // Nothing was rotated or revoked, and the good assertion above was not spent by a request
    // that failed before authentication.
    refresh(&h, &assertion, &token).await.assert_ok();
}

/// Each client authenticates only the way it is registered for: an assertion proves nothing for
/// a client with a secret or a public one (even signed by a key someone registered for them
/// elsewhere), and the keyed app's record holds no secret that works.
pub async fn each_client_authenticates_only_its_way(backend: &impl Backend) {
    let h = Harness::with_private_key_jwt(backend).await;
    for id in [CLIENT_ID, PUBLIC_ID] {
        let assertion = h.assertion_for(Signer::Ec, id, TOKEN_URL);
        let params = [("grant_type", "client_credentials"), ("client_id", id)];
        with_assertion(&h, &assertion, &params)
            .await
            .assert_error(401, "invalid_client");
    }
    // The keyed app with a secret (the one the harness registered and never uses), or with its
    // id alone as a public client would.
    for form in [
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", KEYED_ID),
            ("client_secret", "never-shown"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", KEYED_ID),
        ],
    ] {
        h.post(&form).await.assert_error(401, "invalid_client");
    }
    // A disabled keyed app is refused, its assertion notwithstanding.
    let mut disabled = h.keyed_record();
    disabled.enabled = false;
    h.put(&disabled).await;
    client_token(&h, &h.assertion())
        .await
        .assert_error(401, "invalid_client");
}

pub async fn private_key_jwt_is_refused_where_not_served(backend: &impl Backend) {
    let served = Served {
        client_credentials: true,
        ..Served::default()
    };
    let h = Harness::serving(backend, Default::default(), served).await;
    h.put(&h.keyed_record()).await;
    client_token(&h, &h.assertion())
        .await
        .assert_error(401, "invalid_client");
    let metadata = h.metadata().await;
    assert!(!metadata.to_string().contains("private_key_jwt"));
    assert!(metadata
        .get("token_endpoint_auth_signing_alg_values_supported")
        .is_none());
}

pub async fn the_metadata_lists_private_key_jwt_where_served(backend: &impl Backend) {
    let h = Harness::with_private_key_jwt(backend).await;
    let metadata = h.metadata().await;
    for endpoint in ["token", "revocation", "introspection"] {
        let methods = metadata[format!("{endpoint}_endpoint_auth_methods_supported")].clone();
        assert!(
            methods
                .as_array()
                .unwrap()
                .contains(&json!("private_key_jwt")),
            "{endpoint}: {methods}"
        );
        assert_eq!(
            metadata[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")],
            json!(["ES256", "RS256"])
        );
    }
}

/// Revocation and introspection take assertions too, naming their own endpoint or the issuer.
pub async fn assertions_work_at_revocation_and_introspection(backend: &impl Backend) {
    let h = Harness::with_private_key_jwt(backend).await;
    let reply = keyed_redemption(&h).await;
    let action = |path: &'static str, assertion: String, token: String| {
        let h = &h;
        async move {
            h.call(form_request_to(
                path,
                &[
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion),
                    ("token", &token),
                ],
            ))
            .await
        }
    };
    let introspection_url = format!("{ISSUER}{INTROSPECT_PATH}");
    let introspected = action(
        INTROSPECT_PATH,
        h.assertion_for(Signer::Rsa, KEYED_ID, &introspection_url),
        reply.access_token(),
    )
    .await;
    assert_eq!(introspected.body["active"], true, "{}", introspected.raw);
    // An assertion spent at one endpoint is spent at every one.
    let assertion = h.assertion_for(Signer::Ec, KEYED_ID, ISSUER);
    let revoked = action(REVOKE_PATH, assertion.clone(), reply.refresh_token()).await;
    assert_eq!(revoked.status, 200, "{}", revoked.raw);
    action(INTROSPECT_PATH, assertion, reply.access_token())
        .await
        .assert_error(401, "invalid_client");
    let after = action(INTROSPECT_PATH, h.assertion(), reply.access_token()).await;
    assert_eq!(after.body["active"], false, "revoked: {}", after.raw);
}

/// A key dropped from the registration stops working at once on the instance that saw the
/// change; a key added works at once.
pub async fn registered_keys_can_change(backend: &impl Backend) {
    let h = Harness::with_private_key_jwt(backend).await;
    client_token(&h, &h.assertion())
        .await
        .status
        .eq(&200)
        .then_some(())
        .unwrap();
    let mut only_rsa = h.keyed_record();
    only_rsa.assertion_keys = Some(
        chatroom_token::domain::client_assertion::ClientKeys::parse(
            &json!({"keys": [Signer::Rsa.public_jwk()]}).to_string(),
        )
        .unwrap(),
    );
    h.put(&only_rsa).await;
    client_token(&h, &h.assertion())
        .await
        .assert_error(401, "invalid_client");
    let rsa = h.assertion_for(Signer::Rsa, KEYED_ID, TOKEN_URL);
    assert_eq!(client_token(&h, &rsa).await.status, 200);
}

//! DPoP at the token endpoint (RFC 9449 §5): a valid proof binds the access token to its key
//! (`cnf.jkt`, `token_type` `DPoP`) and a public client's grant too, so its refresh tokens work
//! only with a proof of that key; every proof works once; a bad proof is `invalid_dpop_proof`
//! and changes nothing. Still one conditional write per refresh.

use crate::support::dpop::{DpopKey, TOKEN_URL};
use crate::support::*;
use chatroom_token::clock::Clock;
use chatroom_token::crypto::grant_token::TokenKind;
use chatroom_token::domain::model::GrantRecord;
use chatroom_token::domain::pkce::{ChallengeMethod, CodeChallenge};
use chatroom_token::domain::service::DpopPolicy;
use serde_json::json;

/// The public app's grant, its code redeemed with a proof of `key`: the answer.
async fn public_grant(h: &Harness, key: &DpopKey) -> Reply {
    let code = public_code(h).await;
    let params = public_redemption(&code);
    h.post_with_dpop(&params, &[&key.proof(h.clock.now())])
        .await
}

/// A code for the public app, with the suite's S256 challenge.
async fn public_code(h: &Harness) -> String {
    let challenge = CodeChallenge {
        method: ChallengeMethod::S256,
        value: S256_CHALLENGE.into(),
    };
    h.code_with(PUBLIC_ID, "chat_read", Some(REDIRECT_URI), Some(challenge))
        .await
}

/// The public app's redemption of `code`.
fn public_redemption(code: &str) -> [(&str, &str); 5] {
    [
        ("grant_type", "authorization_code"),
        ("client_id", PUBLIC_ID),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ]
}

/// The public app's refresh of `token` with these `DPoP` header values.
async fn public_refresh(h: &Harness, token: &str, proofs: &[&str]) -> Reply {
    let params = [
        ("grant_type", "refresh_token"),
        ("client_id", PUBLIC_ID),
        ("refresh_token", token),
    ];
    h.post_with_dpop(&params, proofs).await
}

/// The `cnf.jkt` of an access token (unverified: the service signed it).
fn jkt_of(access_token: &str) -> serde_json::Value {
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&chatroom_token::crypto::b64url_decode(payload).unwrap()).unwrap();
    claims["cnf"]["jkt"].clone()
}

async fn record_of(h: &Harness, refresh_token: &str) -> GrantRecord {
    let token = token_keys()
        .open(TokenKind::Refresh, refresh_token)
        .unwrap();
    h.grants.find_grant(&token.grant_id).await.unwrap().unwrap()
}

#[track_caller]
fn assert_bound_tokens(reply: &Reply, key: &DpopKey) {
    reply.assert_dpop_tokens(&[
        "access_token",
        "expires_in",
        "refresh_token",
        "scope",
        "token_type",
    ]);
    assert_eq!(jkt_of(&reply.access_token()), json!(key.jkt()));
}

pub async fn a_proof_binds_the_access_token_and_a_public_clients_grant(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, false).await;
    let key = DpopKey::new();
    let redeemed = public_grant(&h, &key).await;
    assert_bound_tokens(&redeemed, &key);
    let first = redeemed.refresh_token();
    let refreshed = public_refresh(&h, &first, &[&key.proof(h.clock.now())]).await;
    assert_bound_tokens(&refreshed, &key);
    let current = refreshed.refresh_token();
    h.clock.advance(h.lifetimes.grace);

    // A thief with the refresh tokens and without the key: no proof, or a proof of its own
    // key, with the current token or an old one. Each is invalid_grant; nothing rotates, and
    // the old token's reuse revokes nothing (a key-less thief cannot burn the grant).
    let before = record_of(&h, &current).await;
    let thief = DpopKey::new();
    for (token, proofs) in [
        (&current, vec![]),
        (&current, vec![thief.proof(h.clock.now())]),
        (&first, vec![]),
        (&first, vec![thief.proof(h.clock.now())]),
    ] {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        public_refresh(&h, token, &proofs)
            .await
            .assert_error(400, "invalid_grant");
    }
    assert_eq!(record_of(&h, &current).await, before, "nothing changed");
    assert_bound_tokens(
        &public_refresh(&h, &current, &[&key.proof(h.clock.now())]).await,
        &key,
    );
    // The old token with the right key is reuse, as without DPoP: the grant is revoked.
    public_refresh(&h, &first, &[&key.proof(h.clock.now())])
        .await
        .assert_error(400, "invalid_grant");
    assert!(record_of(&h, &current).await.revoked_at.is_some());

    // RFC 7009 as before: the app revokes a bound grant with its id alone, no proof needed.
    let other = public_grant(&h, &key).await.refresh_token();
    let revoked = h
        .call(form_request_to(
            REVOKE_PATH,
            &[("client_id", PUBLIC_ID), ("token", &other)],
        ))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.raw);
    assert!(record_of(&h, &other).await.revoked_at.is_some());
}

/// An Ed25519 key (the cheapest proof to check) binds a grant as a P-256 one does, and its
/// thumbprint is RFC 8037's: a proof of a P-256 key, or a proof where Ed25519 is not listed,
/// changes nothing.
pub async fn an_ed25519_key_binds_like_a_p256_one(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, false).await;
    let key = DpopKey::ed25519();
    let redeemed = public_grant(&h, &key).await;
    assert_bound_tokens(&redeemed, &key);
    let refreshed =
        public_refresh(&h, &redeemed.refresh_token(), &[&key.proof(h.clock.now())]).await;
    assert_bound_tokens(&refreshed, &key);
    let current = refreshed.refresh_token();
    let before = record_of(&h, &current).await;
    public_refresh(&h, &current, &[&DpopKey::new().proof(h.clock.now())])
        .await
        .assert_error(400, "invalid_grant");
    assert_eq!(record_of(&h, &current).await, before);

    let es256_only = DpopPolicy {
        rules: chatroom_token::domain::dpop::ProofRules {
            algorithms: vec![chatroom_token::domain::dpop::ProofAlgorithm::Es256],
            ..dpop_policy(false).rules
        },
        ..dpop_policy(false)
    };
    let strict = Harness::with_dpop_policy(backend, es256_only).await;
    let code = public_code(&strict).await;
    strict
        .post_with_dpop(&public_redemption(&code), &[&key.proof(strict.clock.now())])
        .await
        .assert_error(400, "invalid_dpop_proof");
    // The refusal spent nothing: the code still works, with a key of a listed algorithm.
    let p256 = DpopKey::new();
    assert_bound_tokens(
        &strict
            .post_with_dpop(
                &public_redemption(&code),
                &[&p256.proof(strict.clock.now())],
            )
            .await,
        &p256,
    );
}

/// A proof copied off the wire with the current refresh token: refused, nothing changes.
pub async fn a_proof_works_once(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, false).await;
    let key = DpopKey::new();
    let redeemed = public_grant(&h, &key).await;
    let proof = key.proof(h.clock.now());
    let refreshed = public_refresh(&h, &redeemed.refresh_token(), &[&proof]).await;
    assert_bound_tokens(&refreshed, &key);
    let current = refreshed.refresh_token();
    let before = record_of(&h, &current).await;
    public_refresh(&h, &current, &[&proof])
        .await
        .assert_error(400, "invalid_dpop_proof");
    // An older proof, made before the one last accepted: refused too.
    let older = key.proof(h.clock.now() - 5);
    public_refresh(&h, &current, &[&older])
        .await
        .assert_error(400, "invalid_dpop_proof");
    assert_eq!(record_of(&h, &current).await, before, "nothing changed");
    // Another proof of the same second works.
    assert_bound_tokens(
        &public_refresh(&h, &current, &[&key.proof(h.clock.now())]).await,
        &key,
    );
}

/// Within the grace window a retry of the previous token gets the same successor, with a new
/// proof of the grant's key; the rotating request's own proof, another key or none: refused,
/// nothing revoked.
pub async fn a_grace_retry_needs_a_new_proof_of_the_key(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, false).await;
    let key = DpopKey::new();
    let first = public_grant(&h, &key).await.refresh_token();
    let proof = key.proof(h.clock.now());
    let rotated = public_refresh(&h, &first, &[&proof]).await;
    assert_bound_tokens(&rotated, &key);
    let retry = public_refresh(&h, &first, &[&key.proof(h.clock.now())]).await;
    assert_bound_tokens(&retry, &key);
    assert_eq!(retry.refresh_token(), rotated.refresh_token());
    public_refresh(&h, &first, &[&proof])
        .await
        .assert_error(400, "invalid_dpop_proof");
    public_refresh(&h, &first, &[&DpopKey::new().proof(h.clock.now())])
        .await
        .assert_error(400, "invalid_grant");
    public_refresh(&h, &first, &[])
        .await
        .assert_error(400, "invalid_grant");
    let record = record_of(&h, &first).await;
    assert!(record.revoked_at.is_none());
    assert_eq!(record.generation, 1);
}

/// Two refreshes of one token at once, each with its own fresh proof of the key: one rotation,
/// both get the same successor.
pub async fn racing_refreshes_with_fresh_proofs_share_one_successor(backend: &impl Backend) {
    let h = std::sync::Arc::new(Harness::with_dpop(backend, false).await);
    let key = std::sync::Arc::new(DpopKey::new());
    let first = public_grant(&h, &key).await.refresh_token();
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (h, key, first) = (h.clone(), key.clone(), first.clone());
            tokio::spawn(async move {
                let proof = key.proof(h.clock.now());
                public_refresh(&h, &first, &[&proof]).await
            })
        })
        .collect();
    let mut successors = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_bound_tokens(&reply, &key);
        successors.push(reply.refresh_token());
    }
    assert_eq!(successors[0], successors[1]);
    assert_eq!(record_of(&h, &first).await.generation, 1);
}

/// RFC 9449 §5: a confidential client's refresh tokens are not bound (its authentication
/// constrains them): it may change keys, or refresh without one and get a bearer token.
pub async fn a_confidential_clients_refresh_tokens_stay_unbound(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, false).await;
    let key = DpopKey::new();
    let code = h.code().await;
    let params = confidential_code_params(&code);
    let redeemed = confidential_redemption(&h, &key, &params).await;
    let other = DpopKey::new();
    let refresh = |token: String| {
        [
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", CLIENT_ID.to_owned()),
            ("client_secret", CLIENT_SECRET.to_owned()),
            ("refresh_token", token),
        ]
    };
    let params = refresh(redeemed.refresh_token());
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let with_other = h
        .post_with_dpop(&params, &[&other.proof(h.clock.now())])
        .await;
    assert_bound_tokens(&with_other, &other);
    let params = refresh(with_other.refresh_token());
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bearer = h.post(&params).await;
    bearer.assert_ok();
    assert_eq!(jkt_of(&bearer.access_token()), serde_json::Value::Null);
}

pub async fn a_client_token_with_a_proof_is_bound(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, false).await;
    let key = DpopKey::new();
    let params = [
        ("grant_type", "client_credentials"),
        ("client_id", BACKEND_ID),
        ("client_secret", BACKEND_SECRET),
    ];
    let reply = h
        .post_with_dpop(&params, &[&key.proof(h.clock.now())])
        .await;
    reply.assert_dpop_tokens(&["access_token", "expires_in", "scope", "token_type"]);
    assert_eq!(jkt_of(&reply.access_token()), json!(key.jkt()));
    // Introspection says so (RFC 9449 §6.2).
    let introspected = h.introspect(&reply.access_token()).await;
    assert_eq!(introspected.body["active"], true, "{}", introspected.raw);
    assert_eq!(introspected.body["token_type"], "DPoP");
    assert_eq!(introspected.body["cnf"]["jkt"], json!(key.jkt()));
}

/// Every bad proof is 400 `invalid_dpop_proof`, and the refresh token it came with neither
/// rotates nor is revoked.
pub async fn bad_proofs_are_refused_and_change_nothing(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, false).await;
    let key = DpopKey::new();
    let token = public_grant(&h, &key).await.refresh_token();
    let before = record_of(&h, &token).await;
    let now = h.clock.now();
    let claims = |htm: &str, htu: &str, iat: i64| json!({"jti": format!("j-{iat}-{htm}"), "htm": htm, "htu": htu, "iat": iat});
    let good = key.proof(now);
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "another endpoint",
            vec![key.proof_with(&claims(
                "POST",
                "https://auth.chatroom.test/chatroom/api/revoke",
                now,
            ))],
        ),
        (
            "another host",
            vec![key.proof_with(&claims(
                "POST",
                "https://evil.example/chatroom/api/token",
                now,
            ))],
        ),
        (
            "another method",
            vec![key.proof_with(&claims("GET", TOKEN_URL, now))],
        ),
        (
            "too old",
            vec![key.proof_with(&claims("POST", TOKEN_URL, now - 61))],
        ),
        (
            "from the future",
            vec![key.proof_with(&claims("POST", TOKEN_URL, now + 61))],
        ),
        ("two headers", vec![good.clone(), key.proof(now)]),
        (
            "two joined with a comma",
            vec![format!("{good},{}", key.proof(now))],
        ),
        ("not a JWT", vec!["not-a-proof".into()]),
        ("a signature changed", vec![tampered(&good)]),
    ];
    for (case, proofs) in cases {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let reply = public_refresh(&h, &token, &proofs).await;
        assert_eq!(
            reply.body["error"], "invalid_dpop_proof",
            "{case}: {}",
            reply.raw
        );
        reply.assert_error(400, "invalid_dpop_proof");
    }
    assert_eq!(record_of(&h, &token).await, before, "nothing changed");
    assert_bound_tokens(&public_refresh(&h, &token, &[&good]).await, &key);
}

/// A confidential client's redemption with a proof of `key`: its access token is bound, its
/// grant is not (RFC 9449 §5).
/// The suite's app's redemption of `code` (its secret in the body).
fn confidential_code_params(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ]
}

async fn confidential_redemption(h: &Harness, key: &DpopKey, params: &[(&str, &str)]) -> Reply {
    let redeemed = h.post_with_dpop(params, &[&key.proof(h.clock.now())]).await;
    assert_bound_tokens(&redeemed, key);
    assert!(record_of(h, &redeemed.refresh_token())
        .await
        .dpop_key
        .is_none());
    redeemed
}

/// `proof` with one character of its signature changed (inside it, where every bit counts:
/// the last character of a base64url signature carries padding bits too).
fn tampered(proof: &str) -> String {
    let mut bytes = proof.as_bytes().to_vec();
    let i = bytes.len() - 10;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// `DPOP_REQUIRED_FOR_PUBLIC_CLIENTS`, and a client registered `dpop_bound_access_tokens`
/// (RFC 9449 §5.2): their token requests without a proof are refused.
pub async fn proofs_are_required_where_configured(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, true).await;
    let code = public_code(&h).await;
    let params = public_redemption(&code);
    h.post(&params)
        .await
        .assert_error(400, "invalid_dpop_proof");
    let key = DpopKey::new();
    assert_bound_tokens(
        &h.post_with_dpop(&params, &[&key.proof(h.clock.now())])
            .await,
        &key,
    );
    // A confidential client is not concerned by the public clients' rule, unless registered so.
    h.redeem(&h.code().await).await.assert_ok();
    let mut bound = h.app_record();
    bound.dpop_bound_access_tokens = true;
    h.put(&bound).await;
    h.redeem(&h.code().await)
        .await
        .assert_error(400, "invalid_dpop_proof");
}

/// Where DPoP is not served, a `DPoP` header is an unknown header: ignored, bearer tokens; the
/// metadata lists the algorithms only where it is served.
pub async fn dpop_is_listed_only_where_served(backend: &impl Backend) {
    let plain = Harness::standard(backend).await;
    let code = plain.code().await;
    let mut request = form_request(&confidential_code_params(&code));
    let proof = DpopKey::new().proof(plain.clock.now());
    request.headers_mut().append("dpop", proof.parse().unwrap());
    plain.call(request).await.assert_ok();
    assert!(plain
        .metadata()
        .await
        .get("dpop_signing_alg_values_supported")
        .is_none());
    let served = Harness::with_dpop(backend, false).await;
    assert_eq!(
        served.metadata().await["dpop_signing_alg_values_supported"],
        json!(["ES256", "Ed25519"])
    );
}

/// RFC 9449 §8, `DPOP_NONCES=enabled`: a proof without the server's nonce is answered 400
/// `use_dpop_nonce` with exactly one `DPoP-Nonce` header, and consumes nothing; with it the
/// request works, and the next nonce rides on the answer. Nonces are the same on every instance
/// (derived from the shared keys and the clock), accepted for longer than the grace window, and
/// then refused.
pub async fn nonces_are_asked_for_and_shared_by_every_instance(backend: &impl Backend) {
    let policy = DpopPolicy {
        nonces: true,
        ..dpop_policy(false)
    };
    let h = Harness::with_dpop_policy(backend, policy.clone()).await;
    let key = DpopKey::new();
    let code = public_code(&h).await;
    let params = public_redemption(&code);
    let with_nonce = |nonce: Option<&str>| {
        let mut claims = json!({
            "jti": chatroom_token::crypto::b64url(&chatroom_token::crypto::random_bytes::<12>()),
            "htm": "POST", "htu": TOKEN_URL, "iat": h.clock.now(),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        key.proof_with(&claims)
    };
    let asked = h.post_with_dpop(&params, &[&with_nonce(None)]).await;
    asked.assert_error(400, "use_dpop_nonce");
    assert_eq!(asked.headers.get_all("dpop-nonce").iter().count(), 1);
    let nonce = asked.header("dpop-nonce").unwrap().to_owned();
    // Another instance takes it: the code, not consumed by the refusal, redeems there.
    let served = Served {
        public_clients: true,
        dpop: Some(policy),
        ..Served::default()
    };
    let other = h.another_instance(served);
    let request = |proof: String, params: &[(&str, &str)]| {
        let mut request = form_request(params);
        request.headers_mut().append("dpop", proof.parse().unwrap());
        request
    };
    let redeemed = Reply::from(
        chatroom_token::http::handle(&other, request(with_nonce(Some(&nonce)), &params)).await,
    );
    assert_bound_tokens(&redeemed, &key);
    let next = redeemed.header("dpop-nonce").unwrap().to_owned();
    // A nonce from a server with other keys, a changed one: asked again; nothing rotates.
    let token = redeemed.refresh_token();
    let foreign = chatroom_token::crypto::dpop_nonce::NonceKeys::derive(&[b"other".to_vec()])
        .current(h.clock.now());
    for bad in [foreign.as_str(), "bm90LWEtbm9uY2U"] {
        public_refresh(&h, &token, &[&with_nonce(Some(bad))])
            .await
            .assert_error(400, "use_dpop_nonce");
    }
    // Past the grace window (5 minutes at most) the nonce still works; then it is refused.
    h.clock.advance(300);
    let refreshed = public_refresh(&h, &token, &[&with_nonce(Some(&next))]).await;
    assert_bound_tokens(&refreshed, &key);
    h.clock.advance(
        chatroom_token::crypto::dpop_nonce::STEPS_ACCEPTED
            * chatroom_token::crypto::dpop_nonce::STEP_SECONDS,
    );
    public_refresh(&h, &refreshed.refresh_token(), &[&with_nonce(Some(&next))])
        .await
        .assert_error(400, "use_dpop_nonce");
}

/// RFC 9449 §10: a code the consent page bound to the app's key (`dpop_jkt` on the internal
/// route) redeems only with a proof of that key; without one, or with another key, it is
/// `invalid_grant` and the code stays unused. A confidential client's code bound so redeems
/// with the key, and its refresh tokens stay unbound. A malformed `dpop_jkt` is refused.
pub async fn a_code_bound_with_dpop_jkt_needs_a_proof_of_that_key(backend: &impl Backend) {
    let h = Harness::with_dpop(backend, false).await;
    let key = DpopKey::new();
    let issue = |client_id: &str, jkt: &str| {
        let mut body = internal_code_body();
        body["client_id"] = json!(client_id);
        body["dpop_jkt"] = json!(jkt);
        let h = &h;
        async move {
            let reply = h.call(internal_codes_request(&body, true)).await;
            assert_eq!(reply.status, 200, "{}", reply.raw);
            reply.body["code"].as_str().unwrap().to_owned()
        }
    };
    let code = issue(PUBLIC_ID, &key.jkt()).await;
    let params = public_redemption(&code);
    h.post(&params).await.assert_error(400, "invalid_grant");
    h.post_with_dpop(&params, &[&DpopKey::new().proof(h.clock.now())])
        .await
        .assert_error(400, "invalid_grant");
    let redeemed = h
        .post_with_dpop(&params, &[&key.proof(h.clock.now())])
        .await;
    assert_bound_tokens(&redeemed, &key);

    let code = issue(CLIENT_ID, &key.jkt()).await;
    let mut params = confidential_code_params(&code);
    params.push(("code_verifier", VERIFIER));
    h.post(&params).await.assert_error(400, "invalid_grant");
    confidential_redemption(&h, &key, &params).await;

    let mut body = internal_code_body();
    body["dpop_jkt"] = json!("not-a-thumbprint");
    h.call(internal_codes_request(&body, true))
        .await
        .assert_error(400, "invalid_request");
}

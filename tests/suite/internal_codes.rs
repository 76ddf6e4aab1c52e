//! `POST /internal/codes`: the consent page, signed with SigV4 and admitted by API Gateway's IAM
//! authorization, issues codes through the same step as `tokenctl`. Without the IAM identity
//! API Gateway adds, the route does not exist.

use crate::support::*;
use serde_json::json;

fn body() -> serde_json::Value {
    json!({
        "client_id": CLIENT_ID,
        "user_id": USER_ID,
        "scope": "chat_read",
        "redirect_uri": REDIRECT_URI,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    })
}

pub async fn an_iam_caller_gets_a_code_that_redeems(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.call(internal_codes_request(&body(), true)).await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.body["expires_in"], h.lifetimes.code);
    let code = reply.body["code"].as_str().unwrap();
    let redeemed = h
        .post(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            (
                "code_verifier",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            ),
        ])
        .await;
    redeemed.assert_ok();
    assert_eq!(redeemed.scope(), "chat_read");
}

/// Headers that look like a signature and an identity, sent straight to the function (a
/// function URL, a misrouted request): the route is an unknown path, answered exactly so.
pub async fn without_the_iam_context_the_route_does_not_exist(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let spoofed = h.call(internal_codes_request(&body(), false)).await;
    let unknown = h
        .call(request_with(
            "POST",
            "/no/such/path",
            Some("application/json"),
            "{}",
            None,
        ))
        .await;
    spoofed.assert_error(404, "not_found");
    assert_eq!(spoofed.raw, unknown.raw);
}

pub async fn the_issuers_checks_refuse_bad_requests(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let with = |field: &str, value: serde_json::Value| {
        let mut body = body();
        body[field] = value;
        body
    };
    for (body, status, error) in [
        (with("client_id", json!("nobody")), 400, "invalid_request"),
        (with("scope", json!("admin")), 400, "invalid_scope"),
        (with("scope", json!("")), 400, "invalid_scope"),
        (
            with("redirect_uri", json!("https://evil.example/cb")),
            400,
            "invalid_request",
        ),
        (
            with("code_challenge", json!("short")),
            400,
            "invalid_request",
        ),
        (
            with("code_challenge_method", json!("S512")),
            400,
            "invalid_request",
        ),
        (with("user_id", json!("")), 400, "invalid_request"),
        (with("unexpected", json!(true)), 400, "invalid_request"),
        (json!(["not", "an", "object"]), 400, "invalid_request"),
    ] {
        let reply = h.call(internal_codes_request(&body, true)).await;
        reply.assert_error(status, error);
        assert!(!reply.raw.contains("evil.example"), "nothing echoed");
    }
    h.register(OTHER_CLIENT_ID, OTHER_SECRET, false).await;
    h.call(internal_codes_request(
        &with("client_id", json!(OTHER_CLIENT_ID)),
        true,
    ))
    .await
    .assert_error(400, "unauthorized_client");
    let mut form = internal_codes_request(&body(), true);
    form.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    h.call(form).await.assert_error(400, "invalid_request");
}

//! `POST /internal/codes`: the consent page, signed with SigV4 and admitted by API Gateway's IAM
//! authorization, issues codes through the same step as `tokenctl`. Without the IAM identity
//! API Gateway adds, the route does not exist.

use crate::support::*;
use chatroom_token::domain::code_issuer::IssueCodeError;
use chatroom_token::domain::pkce::PkcePolicy;
use serde_json::json;

pub async fn an_iam_caller_gets_a_code_that_redeems(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h
        .call(internal_codes_request(&internal_code_body(), true))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.body["expires_in"], h.lifetimes.code);
    let code = reply.body["code"].as_str().unwrap();
    let redeemed = h.redeem_verified(code).await;
    redeemed.assert_ok();
    assert_eq!(redeemed.scope(), "chat_read");
}

/// Headers that look like a signature and an identity, sent straight to the function (a
/// function URL, a misrouted request): the route is an unknown path, answered exactly so.
pub async fn without_the_iam_context_the_route_does_not_exist(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let spoofed = h
        .call(internal_codes_request(&internal_code_body(), false))
        .await;
    let unknown = unknown_path(&h).await;
    spoofed.assert_error(404, "not_found");
    assert_eq!(spoofed.raw, unknown.raw);
}

/// The answer to a path that does not exist: what every refused caller must get, byte for byte.
async fn unknown_path(h: &Harness) -> Reply {
    h.call(request_with(
        "POST",
        "/no/such/path",
        Some("application/json"),
        "{}",
        None,
    ))
    .await
}

/// A change to a sample event's request context.
type EventEdit = dyn FnOnce(&mut serde_json::Value);

/// `execute-api:Invoke` on `*` is common (PowerUserAccess, AmazonAPIGatewayInvokeFullAccess):
/// a genuine IAM context is not enough. A principal not on the allowlist, the allowed role's
/// name in another account, lookalike names, and the allowed role's own context arriving from
/// another API or route all get exactly the unknown path's answer, and no code is issued.
pub async fn only_allowlisted_principals_through_the_configured_route_get_a_code(
    backend: &impl Backend,
) {
    let h = Harness::standard(backend).await;
    let unknown = unknown_path(&h).await;
    let principal = |arn: &'static str| {
        move |event: &mut serde_json::Value| {
            event["requestContext"]["authorizer"]["iam"]["userArn"] = json!(arn)
        }
    };
    let context = |field: &'static str, value: &'static str| {
        move |event: &mut serde_json::Value| event["requestContext"][field] = json!(value)
    };
    let attacks: Vec<(&str, Box<EventEdit>)> = vec![
        (
            "a principal not on the list",
            Box::new(principal(
                "arn:aws:sts::123456789012:assumed-role/PowerUser/alice",
            )),
        ),
        (
            "an IAM user of the account",
            Box::new(principal("arn:aws:iam::123456789012:user/alice")),
        ),
        (
            "the same role name in another account",
            Box::new(principal(
                "arn:aws:sts::210987654321:assumed-role/consent-page/consent-page",
            )),
        ),
        (
            "a lookalike name",
            Box::new(principal(
                "arn:aws:sts::123456789012:assumed-role/consent-page-test/consent-page",
            )),
        ),
        (
            "a prefix of the name",
            Box::new(principal(
                "arn:aws:sts::123456789012:assumed-role/consent/page",
            )),
        ),
        ("another API", Box::new(context("apiId", "zyxwvu9876"))),
        (
            "a catch-all route",
            Box::new(context("routeKey", "$default")),
        ),
        (
            "a proxy route",
            Box::new(context("routeKey", "ANY /{proxy+}")),
        ),
    ];
    for (attack, edit) in attacks {
        let reply = h
            .call(internal_codes_request_with(
                &internal_code_body(),
                true,
                edit,
            ))
            .await;
        assert_eq!(reply.status, 404, "{attack}: {}", reply.raw);
        reply.assert_error(404, "not_found");
        assert_eq!(reply.raw, unknown.raw, "{attack}");
    }
    let allowed = h
        .call(internal_codes_request(&internal_code_body(), true))
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.raw);
}

/// RFC 9700: S256 by default. A client registered without a PKCE level gets no code without a
/// challenge, nor with `plain`; `optional` allows no challenge (not plain), `plain` allows both.
/// Each refusal is the issuer's fixed text, and no grant is written.
pub async fn pkce_is_s256_unless_the_client_is_registered_for_less(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let missing = |client: &str| {
        let mut body = internal_code_body();
        body["client_id"] = json!(client);
        body.as_object_mut().unwrap().remove("code_challenge");
        body.as_object_mut()
            .unwrap()
            .remove("code_challenge_method");
        body
    };
    let plain = |client: &str| {
        let mut body = internal_code_body();
        body["client_id"] = json!(client);
        body["code_challenge"] = json!(VERIFIER);
        body["code_challenge_method"] = json!("plain");
        body
    };
    let s256 = |client: &str| {
        let mut body = internal_code_body();
        body["client_id"] = json!(client);
        body
    };
    for (client, policy) in [
        ("strict", PkcePolicy::S256),
        ("web-backend", PkcePolicy::Optional),
        ("legacy", PkcePolicy::Plain),
    ] {
        h.register_with_pkce(client, policy).await;
    }
    for (client, body, allowed) in [
        ("strict", missing("strict"), false),
        ("strict", plain("strict"), false),
        ("strict", s256("strict"), true),
        ("web-backend", missing("web-backend"), true),
        ("web-backend", plain("web-backend"), false),
        ("legacy", missing("legacy"), true),
        ("legacy", plain("legacy"), true),
    ] {
        let reply = h.call(internal_codes_request(&body, true)).await;
        if allowed {
            assert_eq!(reply.status, 200, "{client} {body}: {}", reply.raw);
        } else {
            reply.assert_error(400, "invalid_request");
            assert_eq!(
                reply.body["error_description"],
                IssueCodeError::ChallengeNotAllowed.description().unwrap(),
                "{client} {body}"
            );
        }
    }
}

pub async fn the_issuers_checks_refuse_bad_requests(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let with = |field: &str, value: serde_json::Value| {
        let mut body = internal_code_body();
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
    let mut form = internal_codes_request(&internal_code_body(), true);
    form.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    h.call(form).await.assert_error(400, "invalid_request");
}

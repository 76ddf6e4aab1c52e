//! Everything before a grant: routing, content type, parameters, client authentication.

use crate::support::*;
use chatroom_token::domain::model::GrantType;

pub async fn other_paths_are_404_and_other_methods_405(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h
        .call(request_with(
            "POST",
            "/chatroom/api/tokens",
            Some(FORM),
            "",
            None,
        ))
        .await;
    reply.assert_error(404, "not_found");
    for method in ["GET", "PUT", "DELETE"] {
        let reply = h
            .call(request_with(method, "/chatroom/api/token", None, "", None))
            .await;
        reply.assert_error(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some("POST"));
    }
}

pub async fn only_form_bodies_are_accepted(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let token = h.grant().await;
    let body = form_body(&[
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", &token),
    ]);
    for content_type in [None, Some("application/json"), Some("text/plain")] {
        h.call(request_with(
            "POST",
            "/chatroom/api/token",
            content_type,
            &body,
            None,
        ))
        .await
        .assert_error(400, "invalid_request");
    }
    let charset = "Application/X-WWW-Form-Urlencoded; charset=UTF-8";
    h.call(request_with(
        "POST",
        "/chatroom/api/token",
        Some(charset),
        &body,
        None,
    ))
    .await
    .assert_ok();
}

pub async fn an_oversized_body_is_refused(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let padding = "x".repeat(9 * 1024);
    h.post(&[
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("padding", &padding),
    ])
    .await
    .assert_error(400, "invalid_request");
}

pub async fn repeated_parameters_are_refused_and_unknown_ones_ignored(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let token = h.grant().await;
    h.post(&[
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", &token),
        ("refresh_token", &token),
    ])
    .await
    .assert_error(400, "invalid_request");
    h.post(&[
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", &token),
        ("utm_source", "newsletter"),
    ])
    .await
    .assert_ok();
}

pub async fn grant_type_errors(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    h.post(&[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)])
        .await
        .assert_error(400, "invalid_request");
    h.post(&[
        ("grant_type", "password"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ])
    .await
    .assert_error(400, "unsupported_grant_type");
    h.register_with(
        "refresh-only",
        "refresh-only-secret",
        true,
        &[GrantType::RefreshToken],
    )
    .await;
    h.post(&[
        ("grant_type", "authorization_code"),
        ("client_id", "refresh-only"),
        ("client_secret", "refresh-only-secret"),
        ("code", "whatever"),
    ])
    .await
    .assert_error(400, "unauthorized_client");
    h.post(&[
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ])
    .await
    .assert_error(400, "invalid_request");
}

pub async fn failed_client_authentication_looks_the_same_every_way(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    h.register("disabled-app", "disabled-secret", false).await;
    let mut bodies = Vec::new();
    for (id, secret) in [
        ("no-such-client", "whatever"),
        (CLIENT_ID, "wrong-secret"),
        ("disabled-app", "disabled-secret"),
        (CLIENT_ID, ""),
    ] {
        let reply = h
            .post(&[
                ("grant_type", "refresh_token"),
                ("client_id", id),
                ("client_secret", secret),
                ("refresh_token", "t"),
            ])
            .await;
        reply.assert_error(401, "invalid_client");
        assert_eq!(reply.header("www-authenticate"), None);
        bodies.push(reply.raw);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    // No credentials at all.
    h.post(&[("grant_type", "refresh_token"), ("refresh_token", "t")])
        .await
        .assert_error(401, "invalid_client");
}

pub async fn basic_authentication_works_and_is_challenged(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    // An id and secret with characters that must be form-encoded.
    h.register("app:with space", "s3cr3t+/=:%", true).await;
    let token = {
        let code = h
            .code_with("app:with space", "chat_read", Some(REDIRECT_URI), None)
            .await;
        let body = form_body(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ]);
        let auth = basic("app:with space", "s3cr3t+/=:%");
        let reply = h.post_authorized(&body, &auth).await;
        reply.assert_ok();
        reply.refresh_token()
    };
    let body = form_body(&[("grant_type", "refresh_token"), ("refresh_token", &token)]);
    let wrong = basic("app:with space", "wrong");
    let reply = h.post_authorized(&body, &wrong).await;
    reply.assert_error(401, "invalid_client");
    assert!(reply
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic"));
    let garbage = "Basic !!!not-base64!!!";
    let reply = h.post_authorized(&body, garbage).await;
    reply.assert_error(401, "invalid_client");
    assert!(reply.header("www-authenticate").is_some());
}

pub async fn both_authentication_methods_at_once_are_refused(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let body = form_body(&[
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", "t"),
    ]);
    let auth = basic(CLIENT_ID, CLIENT_SECRET);
    h.post_authorized(&body, &auth)
        .await
        .assert_error(400, "invalid_request");
}

pub async fn error_bodies_never_echo_what_was_sent(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let token = h.grant().await;
    let marker = "SECRET-MARKER-abcdef";
    for params in [
        vec![
            ("grant_type", marker),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", marker),
            ("client_secret", marker),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", marker),
            ("scope", marker),
        ],
    ] {
        let reply = h.post(&params).await;
        assert!(reply.status >= 400);
        assert!(!reply.raw.contains(marker));
        assert!(!reply.raw.contains(&token));
    }
}

/// Client ids are at most 128 bytes: a client with the longest id authenticates; one byte more
/// is refused before any store call (DynamoDB would refuse such a key with a 500).
pub async fn the_longest_client_id_works_and_a_longer_one_is_refused(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let longest = "c".repeat(128);
    let grant_types = [GrantType::AuthorizationCode, GrantType::RefreshToken];
    h.register_with(&longest, CLIENT_SECRET, true, &grant_types)
        .await;
    let code = h.code_with(&longest, "chat_read", None, None).await;
    let params = |id: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", id.to_owned()),
            ("client_secret", CLIENT_SECRET.to_owned()),
            ("code", code.clone()),
        ]
    };
    let post = |params: Vec<(&'static str, String)>| {
        let h = &h;
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            h.post(&params).await
        }
    };
    let before = h.service.store_requests();
    post(params(&format!("{longest}c")))
        .await
        .assert_error(401, "invalid_client");
    assert_eq!(h.service.store_requests(), before, "no store call");
    post(params(&longest)).await.assert_ok();
}

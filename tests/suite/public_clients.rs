//! Public clients: native and browser apps (RFC 8252, RFC 9700 §2.1.1). No secret: `client_id`
//! alone in the body, which identifies the app and proves nothing. Their codes need an S256
//! challenge, and nothing a confidential client's secret proves is granted to them.

use crate::support::*;
use chatroom_token::domain::pkce::{ChallengeMethod, CodeChallenge};

fn s256() -> Option<CodeChallenge> {
    Some(CodeChallenge {
        method: ChallengeMethod::S256,
        value: S256_CHALLENGE.into(),
    })
}

async fn public_code(h: &Harness, redirect_uri: &str) -> String {
    h.code_with(PUBLIC_ID, "chat_read", Some(redirect_uri), s256())
        .await
}

async fn redeem(h: &Harness, code: &str, redirect_uri: &str, extra: &[(&str, &str)]) -> Reply {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("client_id", PUBLIC_ID),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    params.extend_from_slice(extra);
    h.post(&params).await
}

async fn refresh(h: &Harness, token: &str, extra: &[(&str, &str)]) -> Reply {
    let mut params = vec![
        ("grant_type", "refresh_token"),
        ("client_id", PUBLIC_ID),
        ("refresh_token", token),
    ];
    params.extend_from_slice(extra);
    h.post(&params).await
}

pub async fn a_public_client_redeems_and_refreshes_with_its_id_alone(backend: &impl Backend) {
    let h = Harness::with_public_clients(backend).await;
    let code = public_code(&h, REDIRECT_URI).await;
    let reply = redeem(&h, &code, REDIRECT_URI, &[("code_verifier", VERIFIER)]).await;
    reply.assert_ok();
    let claims = chatroom_token::domain::access_token::AccessTokenVerifier::new(
        &[signing_key()],
        ISSUER,
        PUBLIC_ID,
    )
    .verify(&reply.access_token())
    .unwrap();
    assert_eq!(claims.client_id, PUBLIC_ID);
    let refreshed = refresh(&h, &reply.refresh_token(), &[]).await;
    refreshed.assert_ok();
    // Its refresh tokens rotate with reuse detection like any client's.
    h.clock.advance(h.lifetimes.grace);
    refresh(&h, &reply.refresh_token(), &[])
        .await
        .assert_error(400, "invalid_grant");
}

/// A public client sending a secret, or HTTP Basic, and a confidential client sending none are
/// refused alike, and change nothing.
pub async fn each_client_authenticates_only_the_way_it_is_registered(backend: &impl Backend) {
    let h = Harness::with_public_clients(backend).await;
    let code = public_code(&h, REDIRECT_URI).await;
    let with_secret = [("code_verifier", VERIFIER), ("client_secret", "anything")];
    redeem(&h, &code, REDIRECT_URI, &with_secret)
        .await
        .assert_error(401, "invalid_client");
    let body = form_body(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ]);
    h.post_authorized(&body, &basic(PUBLIC_ID, ""))
        .await
        .assert_error(401, "invalid_client");
    // The confidential app without its secret.
    let confidential = h.code().await;
    h.post(&[
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("code", &confidential),
        ("redirect_uri", REDIRECT_URI),
    ])
    .await
    .assert_error(401, "invalid_client");
    // Nothing was consumed: both codes still redeem.
    redeem(&h, &code, REDIRECT_URI, &[("code_verifier", VERIFIER)])
        .await
        .assert_ok();
    h.redeem(&confidential).await.assert_ok();
}

pub async fn public_clients_are_refused_where_not_served(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    h.put(&h.public_record()).await;
    let code = public_code(&h, REDIRECT_URI).await;
    redeem(&h, &code, REDIRECT_URI, &[("code_verifier", VERIFIER)])
        .await
        .assert_error(401, "invalid_client");
    let path = "/.well-known/oauth-authorization-server";
    let metadata = h.call(request_with("GET", path, None, "", None)).await;
    assert_eq!(
        metadata.body["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_post", "client_secret_basic"])
    );
    let served = Harness::with_public_clients(backend).await;
    let metadata = served.call(request_with("GET", path, None, "", None)).await;
    let with_none = serde_json::json!(["client_secret_post", "client_secret_basic", "none"]);
    assert_eq!(
        metadata.body["token_endpoint_auth_methods_supported"],
        with_none
    );
    assert_eq!(
        metadata.body["revocation_endpoint_auth_methods_supported"],
        with_none
    );
    assert_eq!(
        metadata.body["introspection_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_post", "client_secret_basic"])
    );
}

/// Whatever it was registered with, a public client's code needs an S256 challenge: none and
/// `plain` are refused when the code is issued.
pub async fn a_public_clients_codes_need_an_s256_challenge(backend: &impl Backend) {
    use chatroom_token::clock::Clock;
    use chatroom_token::domain::code_issuer::{issue_code, CodeRequest, IssueCodeError};
    use chatroom_token::domain::scope::Scope;
    let h = Harness::with_public_clients(backend).await;
    let request = |challenge: Option<CodeChallenge>, redirect_uri: Option<&str>| CodeRequest {
        dpop_jkt: None,
        client_id: PUBLIC_ID.into(),
        user_id: USER_ID.into(),
        scope: Scope::parse("chat_read").unwrap(),
        redirect_uri: redirect_uri.map(str::to_owned),
        challenge,
    };
    let plain = Some(CodeChallenge {
        method: ChallengeMethod::Plain,
        value: VERIFIER.into(),
    });
    for (challenge, redirect, why) in [
        (None, Some(REDIRECT_URI), "no challenge"),
        (plain, Some(REDIRECT_URI), "plain"),
        (s256(), None, "no redirect URI"),
    ] {
        let issued = issue_code(
            h.clients.as_ref(),
            h.grants.as_ref(),
            &token_keys(),
            &request(challenge, redirect),
            h.clock.now(),
            600,
        )
        .await;
        assert!(
            matches!(
                issued,
                Err(IssueCodeError::ChallengeNotAllowed | IssueCodeError::RedirectUriNotRegistered)
            ),
            "{why}: {:?}",
            issued.map(|i| i.grant_id)
        );
    }
}

/// RFC 8252 §7.3: a loopback IP redirect matches on any port; a private-use scheme works as
/// registered; other ports of other hosts, and other paths, do not.
pub async fn native_redirect_uris_work_as_rfc_8252_says(backend: &impl Backend) {
    let h = Harness::with_public_clients(backend).await;
    let on_any_port = "http://127.0.0.1:53117/callback";
    let code = public_code(&h, on_any_port).await;
    redeem(&h, &code, on_any_port, &[("code_verifier", VERIFIER)])
        .await
        .assert_ok();
    let code = public_code(&h, PRIVATE_USE_REDIRECT_URI).await;
    // The redemption names the very URI the code was issued for, port included.
    redeem(
        &h,
        &code,
        "http://127.0.0.1:1/callback",
        &[("code_verifier", VERIFIER)],
    )
    .await
    .assert_error(400, "invalid_grant");
    redeem(
        &h,
        &code,
        PRIVATE_USE_REDIRECT_URI,
        &[("code_verifier", VERIFIER)],
    )
    .await
    .assert_ok();
    for unregistered in [
        "http://127.0.0.1:53117/other",
        "http://localhost:53117/callback",
        "com.example.app:/other",
        "https://app.example:8443/callback",
    ] {
        let issued = chatroom_token::domain::code_issuer::issue_code(
            h.clients.as_ref(),
            h.grants.as_ref(),
            &token_keys(),
            &chatroom_token::domain::code_issuer::CodeRequest {
                dpop_jkt: None,
                client_id: PUBLIC_ID.into(),
                user_id: USER_ID.into(),
                scope: chatroom_token::domain::scope::Scope::parse("chat_read").unwrap(),
                redirect_uri: Some(unregistered.into()),
                challenge: s256(),
            },
            h.start,
            600,
        )
        .await;
        assert!(issued.is_err(), "{unregistered}");
    }
}

/// A public client's id proves nothing, so it is never granted what a secret proves:
/// introspection is refused, and replaying a used code without its verifier (which anyone who
/// saw the code can do, naming the app) does not revoke the user's grant. With the verifier,
/// the replay is the app's own and revokes it, as for a confidential client.
pub async fn a_public_clients_id_proves_nothing(backend: &impl Backend) {
    let h = Harness::with_public_clients(backend).await;
    let mut introspector = h.public_record();
    introspector.may_introspect = true;
    h.put(&introspector).await;
    let code = public_code(&h, REDIRECT_URI).await;
    let reply = redeem(&h, &code, REDIRECT_URI, &[("code_verifier", VERIFIER)]).await;
    reply.assert_ok();
    h.call(form_request_to(
        INTROSPECT_PATH,
        &[("client_id", PUBLIC_ID), ("token", &reply.access_token())],
    ))
    .await
    .assert_error(400, "unauthorized_client");

    // The code replayed by someone who saw it, without the verifier: refused, nothing revoked.
    redeem(&h, &code, REDIRECT_URI, &[])
        .await
        .assert_error(400, "invalid_grant");
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-0";
    redeem(&h, &code, REDIRECT_URI, &[("code_verifier", wrong)])
        .await
        .assert_error(400, "invalid_grant");
    let refreshed = refresh(&h, &reply.refresh_token(), &[]).await;
    refreshed.assert_ok();
    // Replayed with its verifier: the app's own replay, and the grant is revoked.
    redeem(&h, &code, REDIRECT_URI, &[("code_verifier", VERIFIER)])
        .await
        .assert_error(400, "invalid_grant");
    refresh(&h, &refreshed.refresh_token(), &[])
        .await
        .assert_error(400, "invalid_grant");
}

/// RFC 7009 §2.1: a public client revokes its token with `client_id` alone.
pub async fn a_public_client_revokes_with_its_id_alone(backend: &impl Backend) {
    let h = Harness::with_public_clients(backend).await;
    let code = public_code(&h, REDIRECT_URI).await;
    let reply = redeem(&h, &code, REDIRECT_URI, &[("code_verifier", VERIFIER)]).await;
    reply.assert_ok();
    // Another client's token stays: the confidential app cannot revoke it either.
    h.revoke_as(CLIENT_ID, CLIENT_SECRET, &reply.refresh_token())
        .await
        .assert_error(400, "unauthorized_client");
    let revoked = h
        .call(form_request_to(
            REVOKE_PATH,
            &[("client_id", PUBLIC_ID), ("token", &reply.refresh_token())],
        ))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.raw);
    refresh(&h, &reply.refresh_token(), &[])
        .await
        .assert_error(400, "invalid_grant");
}

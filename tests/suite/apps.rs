//! Apps of more kinds (issue "Apps of every kind"): backends with a token for themselves
//! (client credentials, RFC 6749 §4.4), two secrets at once while one rotates, and a client's
//! own shorter lifetimes.

use crate::support::*;
use chatroom_token::clock::Clock;
use chatroom_token::domain::access_token::{AccessTokenSigner, AccessTokenVerifier, Holder};
use chatroom_token::domain::model::{ClientLifetimes, GrantType, PreviousSecret, SecretHash};
use chatroom_token::domain::service::Lifetimes;

async fn client_token(h: &Harness, params: &[(&str, &str)]) -> Reply {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", BACKEND_ID),
        ("client_secret", BACKEND_SECRET),
    ];
    form.extend_from_slice(params);
    h.post(&form).await
}

/// What an API server receiving the backend's token checks: the audience is the backend.
fn backend_verifier() -> AccessTokenVerifier {
    AccessTokenVerifier::new(&[signing_key()], ISSUER, BACKEND_ID)
}

#[track_caller]
fn assert_client_token(reply: &Reply) {
    // RFC 6749 §4.4.3: no refresh token.
    reply.assert_tokens(&["access_token", "expires_in", "scope", "token_type"]);
}

async fn grant_types_supported(h: &Harness) -> serde_json::Value {
    h.metadata().await["grant_types_supported"].clone()
}

pub async fn a_backend_gets_a_token_for_itself_and_nothing_is_stored(backend: &impl Backend) {
    let h = Harness::with_client_credentials(backend).await;
    let before = h.service.store_requests();
    let reply = client_token(&h, &[]).await;
    assert_client_token(&reply);
    // At most the client read (none when cached; the embedded store counts none), no write.
    // The model's DynamoDB histories (client cache off) hold it to exactly one.
    assert!(h.service.store_requests() - before <= 1);
    let claims = backend_verifier().verify(&reply.access_token()).unwrap();
    assert_eq!(claims.sub, BACKEND_ID, "the client is the subject");
    assert_eq!(claims.client_id, BACKEND_ID);
    assert_eq!(claims.aud, [BACKEND_ID]);
    assert_eq!(claims.gid, None, "no grant behind it");
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.exp - claims.iat, 7200);
    assert_eq!(reply.body["expires_in"], 7200);
    // No scope asked for: the client's registered scope.
    assert_eq!(reply.scope(), "chat_read chat_write user_info_read");
    assert_eq!(claims.scope, reply.scope());
}

pub async fn a_client_token_has_the_scope_asked_for_within_the_clients(backend: &impl Backend) {
    let h = Harness::with_client_credentials(backend).await;
    let narrow = client_token(&h, &[("scope", "chat_read")]).await;
    assert_client_token(&narrow);
    assert_eq!(narrow.scope(), "chat_read");
    let claims = backend_verifier().verify(&narrow.access_token()).unwrap();
    assert_eq!(claims.scope, "chat_read");
    client_token(&h, &[("scope", "chat_read admin")])
        .await
        .assert_error(400, "invalid_scope");
    client_token(&h, &[("scope", "chat\"read")])
        .await
        .assert_error(400, "invalid_scope");
    let long = "a".repeat(500);
    client_token(&h, &[("scope", &long)])
        .await
        .assert_error(400, "invalid_scope");
}

pub async fn only_clients_registered_for_it_get_client_tokens(backend: &impl Backend) {
    let h = Harness::with_client_credentials(backend).await;
    // The ordinary app is registered for codes and refreshes only.
    h.post(&[
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ])
    .await
    .assert_error(400, "unauthorized_client");
    h.post(&[
        ("grant_type", "client_credentials"),
        ("client_id", BACKEND_ID),
        ("client_secret", "wrong"),
    ])
    .await
    .assert_error(401, "invalid_client");
    h.post(&[
        ("grant_type", "client_credentials"),
        ("client_id", BACKEND_ID),
    ])
    .await
    .assert_error(401, "invalid_client");
    // And a backend registered for client credentials alone redeems no code.
    let code = h.code().await;
    h.post(&[
        ("grant_type", "authorization_code"),
        ("client_id", BACKEND_ID),
        ("client_secret", BACKEND_SECRET),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
    ])
    .await
    .assert_error(400, "unauthorized_client");
}

pub async fn client_credentials_is_refused_where_not_enabled(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    h.register_with(
        BACKEND_ID,
        BACKEND_SECRET,
        true,
        &[GrantType::ClientCredentials],
    )
    .await;
    client_token(&h, &[])
        .await
        .assert_error(400, "unsupported_grant_type");
    assert_eq!(
        grant_types_supported(&h).await,
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let enabled = Harness::with_client_credentials(backend).await;
    assert_eq!(
        grant_types_supported(&enabled).await,
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
}

/// Introspection: a client token is active while its client stands behind it. A token an
/// HS256 key holder (any API server) mints for a client that is not registered for the grant,
/// or with a scope beyond the client's, is not.
pub async fn a_client_token_introspects_as_its_client_says(backend: &impl Backend) {
    let h = Harness::with_client_credentials(backend).await;
    let token = client_token(&h, &[("scope", "chat_read")])
        .await
        .access_token();
    let active = h.introspect(&token).await;
    assert_eq!(active.body["active"], true, "{}", active.raw);
    assert_eq!(active.body["sub"], BACKEND_ID);
    assert_eq!(active.body["client_id"], BACKEND_ID);
    assert_eq!(active.body["scope"], "chat_read");

    let signer = AccessTokenSigner::new(&signing_key(), ISSUER.into(), 600);
    let now = h.clock.now();
    let mint = |client: &str, scope: &str| {
        signer
            .sign_for(Holder::Client, client, scope.to_owned(), now, 600)
            .unwrap()
    };
    assert_eq!(
        h.introspect(&mint(BACKEND_ID, "chat_read")).await.body["active"],
        true
    );
    for (forged, why) in [
        (
            mint(CLIENT_ID, "chat_read"),
            "a client not registered for the grant",
        ),
        (mint(BACKEND_ID, "admin"), "a scope beyond the client's"),
        (mint("nobody", "chat_read"), "no such client"),
        (
            signer
                .sign_for(Holder::Client, BACKEND_ID, "chat_read".into(), now, 86_400)
                .unwrap(),
            "a lifetime the service never issues",
        ),
        (
            signer
                .sign_for(
                    Holder::Client,
                    BACKEND_ID,
                    "chat_read".into(),
                    now + 3600,
                    600,
                )
                .unwrap(),
            "issued in the future",
        ),
    ] {
        assert_eq!(h.introspect(&forged).await.body["active"], false, "{why}");
    }
    // Disabling the client ends its tokens at introspection.
    h.register_with(
        BACKEND_ID,
        BACKEND_SECRET,
        false,
        &[GrantType::ClientCredentials],
    )
    .await;
    assert_eq!(h.introspect(&token).await.body["active"], false);
}

/// Revocation (RFC 7009 §2.2.1): a client token has no grant and API servers check it offline,
/// so it cannot be revoked, and its client is told so; another client is refused as for any
/// token not its own.
pub async fn a_client_token_cannot_be_revoked_and_says_so(backend: &impl Backend) {
    let h = Harness::with_client_credentials(backend).await;
    let token = client_token(&h, &[]).await.access_token();
    h.revoke_as(BACKEND_ID, BACKEND_SECRET, &token)
        .await
        .assert_error(400, "unsupported_token_type");
    h.revoke_as(CLIENT_ID, CLIENT_SECRET, &token)
        .await
        .assert_error(400, "unauthorized_client");
    assert_eq!(h.introspect(&token).await.body["active"], true);
}

/// Two secrets at once: during a rotation both the new and the old secret authenticate; an old
/// secret past its expiry, or retired, does not; the new one always does.
pub async fn both_secrets_work_during_a_rotation_and_the_old_one_ends(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let now = h.clock.now();
    let rotated = |expires_at| chatroom_token::domain::model::Client {
        secret_hash: SecretHash::of("new-secret"),
        previous_secret: Some(PreviousSecret {
            hash: SecretHash::of(CLIENT_SECRET),
            expires_at,
        }),
        ..h.app_record()
    };
    let refresh_with = |secret: &'static str, token: String| {
        let h = &h;
        async move {
            h.post(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("client_secret", secret),
                ("refresh_token", &token),
            ])
            .await
        }
    };
    let token = h.grant().await;
    h.put(&rotated(None)).await;
    let reply = refresh_with(CLIENT_SECRET, token).await;
    reply.assert_ok();
    let reply = refresh_with("new-secret", reply.refresh_token()).await;
    reply.assert_ok();
    let mut token = reply.refresh_token();

    h.put(&rotated(Some(now + 60))).await;
    let reply = refresh_with(CLIENT_SECRET, token).await;
    reply.assert_ok();
    token = reply.refresh_token();
    h.clock.advance(60);
    refresh_with(CLIENT_SECRET, token.clone())
        .await
        .assert_error(401, "invalid_client");
    let reply = refresh_with("new-secret", token).await;
    reply.assert_ok();
    token = reply.refresh_token();

    // Retired: the record holds only the new secret.
    h.put(&chatroom_token::domain::model::Client {
        previous_secret: None,
        ..rotated(None)
    })
    .await;
    refresh_with(CLIENT_SECRET, token.clone())
        .await
        .assert_error(401, "invalid_client");
    refresh_with("new-secret", token).await.assert_ok();
    // Neither secret opens another client.
    h.post(&[
        ("grant_type", "refresh_token"),
        ("client_id", OTHER_CLIENT_ID),
        ("client_secret", "new-secret"),
        ("refresh_token", "x"),
    ])
    .await
    .assert_error(401, "invalid_client");
}

/// A client's own lifetimes shorten the server's for its tokens, and never lengthen them.
pub async fn a_clients_own_lifetimes_shorten_the_servers(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    h.put(&chatroom_token::domain::model::Client {
        lifetimes: ClientLifetimes {
            access_token: Some(300),
            refresh_idle: Some(3600),
            refresh_absolute: Some(10 * 86_400 * 365),
            grace: Some(0),
        },
        ..h.app_record()
    })
    .await;
    let reply = h.redeem(&h.code().await).await;
    reply.assert_ok();
    assert_eq!(reply.body["expires_in"], 300);
    let claims = h.verifier().verify(&reply.access_token()).unwrap();
    assert_eq!(claims.exp - claims.iat, 300);
    let first = reply.refresh_token();

    // Grace window 0 for this client: an immediate retry of the old token is reuse.
    let second = h.refresh(&first).await;
    second.assert_ok();
    assert_eq!(second.body["expires_in"], 300);
    h.refresh(&first).await.assert_error(400, "invalid_grant");
    h.refresh(&second.refresh_token())
        .await
        .assert_error(400, "invalid_grant");

    // Idle lifetime of an hour for this client (the server's is 30 days).
    let token = h.grant().await;
    h.clock.advance(3600);
    h.refresh(&token).await.assert_error(400, "invalid_grant");

    // A value above the server's acts as the server's: the absolute limit is the server's.
    assert!(h.lifetimes.refresh_absolute < 10 * 86_400 * 365);
    let other = Lifetimes::default().for_client(&ClientLifetimes {
        access_token: Some(999_999),
        ..ClientLifetimes::default()
    });
    assert_eq!(other, Lifetimes::default());
}

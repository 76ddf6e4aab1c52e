//! Token introspection (RFC 7662): only allowed clients may ask; an access token is active
//! while its signature, `exp` and `iss` hold and its grant, unrevoked, stands behind its user,
//! client and scope; a refresh token never is. Inactive is exactly `{"active": false}`.

use crate::support::*;
use chatroom_token::clock::Clock;
use chatroom_token::crypto::grant_token::GrantId;
use chatroom_token::domain::access_token::AccessTokenSigner;
use serde_json::json;

fn inactive() -> serde_json::Value {
    json!({"active": false})
}

#[track_caller]
fn assert_inactive(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.body, inactive(), "{}", reply.raw);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

pub async fn only_allowed_clients_may_introspect(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let access = h.redeem(&h.code().await).await.access_token();
    let as_app = h
        .call(form_request_to(
            INTROSPECT_PATH,
            &[
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("token", &access),
            ],
        ))
        .await;
    as_app.assert_error(400, "unauthorized_client");
    let wrong_secret = h
        .call(form_request_to(
            INTROSPECT_PATH,
            &[
                ("client_id", RESOURCE_SERVER_ID),
                ("client_secret", "wrong"),
                ("token", &access),
            ],
        ))
        .await;
    wrong_secret.assert_error(401, "invalid_client");
}

pub async fn an_access_token_is_active_until_its_grant_is_revoked(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    let access = reply.access_token();
    let answer = h.introspect(&access).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let claims = h.verifier().verify(&access).unwrap();
    assert_eq!(
        answer.body,
        json!({
            "active": true,
            "scope": "chat_read user_info_read",
            "client_id": CLIENT_ID,
            "sub": USER_ID,
            "exp": claims.exp,
            "iat": claims.iat,
            "token_type": "Bearer",
            "iss": ISSUER,
            "aud": [CLIENT_ID],
        })
    );
    h.revoke(&reply.refresh_token()).await;
    assert_inactive(&h.introspect(&access).await);
}

pub async fn an_expired_or_foreign_access_token_is_inactive(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let access = h.redeem(&h.code().await).await.access_token();
    let mut tampered = access.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert_inactive(&h.introspect(&String::from_utf8(tampered).unwrap()).await);
    assert_inactive(&h.introspect("garbage").await);
    h.clock.advance(h.lifetimes.access_token);
    assert_inactive(&h.introspect(&access).await);
}

/// Whoever holds a resource server's secret learns nothing about refresh tokens: current, old
/// or revoked, each is `{"active": false}` at no store cost, and asking changes nothing (the
/// stolen token was not burned, the grant still refreshes).
pub async fn a_refresh_token_is_never_active_for_a_resource_server(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let second = h.refresh(&first).await.refresh_token();
    h.introspect("warms the resource server's client record")
        .await;
    let before = h.service.store_requests();
    assert_inactive(&h.introspect(&second).await);
    assert_inactive(&h.introspect(&first).await);
    assert_eq!(
        h.service.store_requests() - before,
        0,
        "a refresh token is told apart from nothing, not even by a store read"
    );
    h.refresh(&second).await.assert_ok();
}

/// With HS256 every API server holds the signing key. A token it mints naming a real grant is
/// active only if the grant stands behind every claim: its user, its client, its scope, and a
/// lifetime it could have been issued with.
pub async fn an_access_token_is_active_only_as_its_grant_says(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    let real = h.verifier().verify(&reply.access_token()).unwrap();
    let grant_id = GrantId::parse(real.gid.as_deref().unwrap()).unwrap();
    let signer = AccessTokenSigner::new(&signing_key(), ISSUER.into(), 600);
    let now = h.clock.now();
    let mint = |sub: &str, client: &str, scope: &str| {
        signer
            .sign(sub, client, scope.to_owned(), &grant_id, now)
            .unwrap()
    };
    let faithful = mint(USER_ID, CLIENT_ID, "chat_read");
    assert_eq!(h.introspect(&faithful).await.body["active"], true);
    let for_a_decade = AccessTokenSigner::new(&signing_key(), ISSUER.into(), 10 * 365 * 86_400)
        .sign(USER_ID, CLIENT_ID, "chat_read".into(), &grant_id, now)
        .unwrap();
    // Within the service's lifetime and unexpired, but issued an hour before the redemption.
    let before_the_grant = AccessTokenSigner::new(&signing_key(), ISSUER.into(), 7200)
        .sign(
            USER_ID,
            CLIENT_ID,
            "chat_read".into(),
            &grant_id,
            now - 3600,
        )
        .unwrap();
    let from_the_future = signer
        .sign(
            USER_ID,
            CLIENT_ID,
            "chat_read".into(),
            &grant_id,
            now + 3600,
        )
        .unwrap();
    for (forged, what) in [
        (mint("another-user", CLIENT_ID, "chat_read"), "another user"),
        (
            mint(USER_ID, OTHER_CLIENT_ID, "chat_read"),
            "another client",
        ),
        (
            mint(USER_ID, CLIENT_ID, "chat_read chat_write"),
            "a wider scope",
        ),
        (for_a_decade, "a longer lifetime than the service issues"),
        (
            before_the_grant,
            "issued before the grant's code was redeemed",
        ),
        (from_the_future, "issued in the future"),
    ] {
        let answer = h.introspect(&forged).await;
        assert_eq!(answer.body, inactive(), "{what}: {}", answer.raw);
    }
}

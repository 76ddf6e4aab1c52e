//! Token introspection (RFC 7662): only allowed clients may ask; an access token is active
//! while its signature, `exp` and `iss` hold and its grant is not revoked; a refresh token while
//! it is current and its grant live. Inactive is exactly `{"active": false}`.

use crate::support::*;
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

pub async fn a_refresh_token_is_active_while_current_and_live(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let answer = h.introspect(&first).await;
    assert_eq!(answer.body["active"], true, "{}", answer.raw);
    assert_eq!(answer.body["token_type"], "refresh_token");
    assert_eq!(answer.body["client_id"], CLIENT_ID);
    assert_eq!(answer.body["sub"], USER_ID);
    assert_eq!(answer.body["iss"], ISSUER);
    assert_eq!(answer.body["exp"], h.start + h.lifetimes.refresh_idle);
    let second = h.refresh(&first).await.refresh_token();
    assert_inactive(&h.introspect(&first).await);
    assert_eq!(h.introspect(&second).await.body["active"], true);
    h.clock.advance(h.lifetimes.refresh_idle);
    assert_inactive(&h.introspect(&second).await);
}

//! Token revocation (RFC 7009): a client revokes its own refresh or access token, and with it
//! the grant; nothing else changes anything.

use crate::support::*;
use chatroom_token::crypto::grant_token::TokenKind;
use std::sync::Arc;

#[track_caller]
fn assert_revoked_answer(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.raw, "", "an empty body");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

async fn is_revoked(h: &Harness, refresh_token: &str) -> bool {
    let id = token_keys()
        .open(TokenKind::Refresh, refresh_token)
        .unwrap()
        .grant_id;
    h.grants
        .find_grant(&id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some()
}

pub async fn revoking_a_refresh_token_revokes_its_grant(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    let (refresh, access) = (reply.refresh_token(), reply.access_token());
    assert_revoked_answer(&h.revoke(&refresh).await);
    assert!(is_revoked(&h, &refresh).await);
    h.refresh(&refresh).await.assert_error(400, "invalid_grant");
    assert_eq!(
        h.introspect(&access).await.body,
        serde_json::json!({"active": false})
    );
    // Revoking again is still a 200 and changes nothing.
    assert_revoked_answer(&h.revoke(&refresh).await);
}

pub async fn an_older_refresh_token_of_the_grant_revokes_it(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let second = h.refresh(&first).await.refresh_token();
    h.clock.advance(h.lifetimes.grace);
    let third = h.refresh(&second).await.refresh_token();
    assert_revoked_answer(&h.revoke(&first).await);
    h.refresh(&third).await.assert_error(400, "invalid_grant");
}

pub async fn revoking_an_access_token_revokes_its_grant(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    assert_revoked_answer(&h.revoke(&reply.access_token()).await);
    assert!(is_revoked(&h, &reply.refresh_token()).await);
    h.refresh(&reply.refresh_token())
        .await
        .assert_error(400, "invalid_grant");
}

pub async fn unknown_forged_and_expired_tokens_answer_200_and_change_nothing(
    backend: &impl Backend,
) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    let (refresh, access) = (reply.refresh_token(), reply.access_token());
    let other_issuer = chatroom_token::domain::access_token::AccessTokenSigner::new(
        &chatroom_token::domain::access_token::SigningKey::hs256(
            "test-1",
            b"not-our-signing-key-0123456789abcdef".to_vec(),
        ),
        ISSUER.into(),
        600,
    )
    .sign(
        USER_ID,
        CLIENT_ID,
        "chat_read".into(),
        &token_keys()
            .open(TokenKind::Refresh, &refresh)
            .unwrap()
            .grant_id,
        h.start,
    )
    .unwrap();
    let mut forged_refresh = refresh.clone().into_bytes();
    forged_refresh[60] = if forged_refresh[60] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let forged_refresh = String::from_utf8(forged_refresh).unwrap();
    for token in [
        "no-such-token".to_owned(),
        "a.b.c".to_owned(),
        forged_refresh,
        other_issuer,
        token_keys()
            .mint(
                TokenKind::Refresh,
                chatroom_token::crypto::grant_token::GrantId::random(),
                0,
            )
            .text()
            .expose()
            .to_owned(),
    ] {
        assert_revoked_answer(&h.revoke(&token).await);
    }
    // An expired access token: its `exp` already ended it; the grant lives on.
    h.clock.advance(h.lifetimes.access_token);
    assert_revoked_answer(&h.revoke(&access).await);
    assert!(!is_revoked(&h, &refresh).await);
    h.refresh(&refresh).await.assert_ok();
}

pub async fn another_clients_token_is_refused_and_changes_nothing(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    for token in [reply.refresh_token(), reply.access_token()] {
        h.revoke_as(OTHER_CLIENT_ID, OTHER_SECRET, &token)
            .await
            .assert_error(400, "unauthorized_client");
    }
    assert!(!is_revoked(&h, &reply.refresh_token()).await);
    h.refresh(&reply.refresh_token()).await.assert_ok();
}

pub async fn revocation_authenticates_the_client_and_needs_a_token(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let refresh = h.grant().await;
    h.revoke_as(CLIENT_ID, "wrong", &refresh)
        .await
        .assert_error(401, "invalid_client");
    h.call(form_request_to(
        REVOKE_PATH,
        &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
    ))
    .await
    .assert_error(400, "invalid_request");
    h.call(request_with("GET", REVOKE_PATH, None, "", None))
        .await
        .assert_error(405, "method_not_allowed");
    assert!(!is_revoked(&h, &refresh).await);
}

/// However a revocation and a refresh of the same grant interleave, the grant ends revoked:
/// the refresh's successor is refused afterwards, and so is every other token.
pub async fn a_revocation_racing_a_refresh_always_wins(backend: &impl Backend) {
    let h = Arc::new(Harness::standard(backend).await);
    for _ in 0..5 {
        let first = h.grant().await;
        let (refreshing, revoking) = (h.clone(), h.clone());
        let (a, b) = (first.clone(), first.clone());
        let refresh = tokio::spawn(async move { refreshing.refresh(&a).await });
        let revoke = tokio::spawn(async move { revoking.revoke(&b).await });
        let refreshed = refresh.await.unwrap();
        assert_revoked_answer(&revoke.await.unwrap());
        assert!(is_revoked(&h, &first).await);
        if refreshed.status == 200 {
            h.refresh(&refreshed.refresh_token())
                .await
                .assert_error(400, "invalid_grant");
        } else {
            refreshed.assert_error(400, "invalid_grant");
        }
        h.refresh(&first).await.assert_error(400, "invalid_grant");
    }
}

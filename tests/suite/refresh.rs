//! The refresh_token grant: rotation, grace window, reuse detection, lifetimes, scope.

use crate::support::*;
use chatroom_token::domain::service::Lifetimes;
use std::collections::HashSet;
use std::sync::Arc;

pub async fn a_refresh_rotates_the_token(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let reply = h.refresh(&first).await;
    reply.assert_ok();
    let second = reply.refresh_token();
    assert_ne!(first, second);
    assert_eq!(reply.scope(), "chat_read user_info_read");
    h.clock.advance(60);
    let third = h.refresh(&second).await;
    third.assert_ok();
    assert_ne!(third.refresh_token(), second);
}

pub async fn a_grace_retry_gets_the_identical_refresh_token(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let original = h.refresh(&first).await;
    original.assert_ok();
    h.clock.advance(h.lifetimes.grace - 1);
    let retry = h.refresh(&first).await;
    retry.assert_ok();
    assert_eq!(retry.refresh_token(), original.refresh_token());
    // A fresh, valid access token for the same grant.
    let claims = h.verifier().verify(&retry.access_token()).unwrap();
    assert_eq!(claims.sub, USER_ID);
    // The chain goes on from the shared token, and nothing was revoked.
    h.refresh(&retry.refresh_token()).await.assert_ok();
}

pub async fn a_retry_after_the_window_revokes_the_grant(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let current = h.refresh(&first).await.refresh_token();
    h.clock.advance(h.lifetimes.grace);
    h.refresh(&first).await.assert_error(400, "invalid_grant");
    // The current token stops working too.
    h.refresh(&current).await.assert_error(400, "invalid_grant");
}

pub async fn the_predecessor_after_the_successor_was_used_revokes(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let second = h.refresh(&first).await.refresh_token();
    let third = h.refresh(&second).await.refresh_token();
    // `second` was used, so `first` is two generations old even within the window.
    h.refresh(&first).await.assert_error(400, "invalid_grant");
    h.refresh(&third).await.assert_error(400, "invalid_grant");
}

pub async fn reuse_of_an_older_token_revokes_the_grant(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let second = h.refresh(&first).await.refresh_token();
    h.clock.advance(120);
    let third = h.refresh(&second).await.refresh_token();
    h.clock.advance(120);
    let fourth = h.refresh(&third).await.refresh_token();
    h.clock.advance(120);
    h.refresh(&first).await.assert_error(400, "invalid_grant");
    h.refresh(&fourth).await.assert_error(400, "invalid_grant");
}

fn no_grace() -> Lifetimes {
    Lifetimes {
        grace: 0,
        ..Lifetimes::default()
    }
}

pub async fn a_zero_grace_window_turns_retries_into_reuse(backend: &impl Backend) {
    let h = Harness::new(backend, no_grace()).await;
    let first = h.grant().await;
    let second = h.refresh(&first).await.refresh_token();
    h.refresh(&first).await.assert_error(400, "invalid_grant");
    h.refresh(&second).await.assert_error(400, "invalid_grant");
}

pub async fn a_zero_grace_window_keeps_no_sealed_successor(backend: &impl Backend) {
    let h = Harness::new(backend, no_grace()).await;
    let first = h.grant().await;
    let second = h.refresh(&first).await.refresh_token();
    let third = h.refresh(&second).await.refresh_token();
    let grant_id = token_keys()
        .open(
            chatroom_token::crypto::grant_token::TokenKind::Refresh,
            &third,
        )
        .unwrap()
        .grant_id;
    let record = h.grants.find_grant(&grant_id).await.unwrap().unwrap();
    assert_eq!(record.generation, 2);
    assert_eq!(
        record.sealed_successor, None,
        "nothing to open, nothing kept"
    );
}

pub async fn forged_and_unknown_tokens_revoke_nothing(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    // The document's example token, garbage, and a token with a broken tag.
    for bad in [
        "NJCYZDC1MJGTYZA1OC01MGM0LWIYNJATNZGZZJQYNWEZOWFK".to_owned(),
        "x".repeat(92),
        {
            let mut chars: Vec<char> = first.chars().collect();
            chars[50] = if chars[50] == 'A' { 'B' } else { 'A' };
            chars.into_iter().collect()
        },
    ] {
        h.refresh(&bad).await.assert_error(400, "invalid_grant");
    }
    h.refresh(&first).await.assert_ok();
}

pub async fn a_refresh_token_is_bound_to_its_client(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    h.post(&[
        ("grant_type", "refresh_token"),
        ("client_id", OTHER_CLIENT_ID),
        ("client_secret", OTHER_SECRET),
        ("refresh_token", &first),
    ])
    .await
    .assert_error(400, "invalid_grant");
    // Not a reuse: the owner carries on.
    h.refresh(&first).await.assert_ok();
}

pub async fn scope_can_be_narrowed_but_not_widened(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let refresh_with_scope = |token: String, scope: &'static str| {
        let h = &h;
        async move {
            h.post(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("refresh_token", &token),
                ("scope", scope),
            ])
            .await
        }
    };
    let wide = refresh_with_scope(first.clone(), "chat_read chat_write").await;
    wide.assert_error(400, "invalid_scope");
    // The refused request rotated nothing: the same token still works.
    let narrow = refresh_with_scope(first, "chat_read").await;
    narrow.assert_ok();
    assert_eq!(narrow.scope(), "chat_read");
    let claims = h.verifier().verify(&narrow.access_token()).unwrap();
    assert_eq!(claims.scope, "chat_read");
    // The grant keeps its own scope.
    h.clock.advance(60);
    let full = h.refresh(&narrow.refresh_token()).await;
    full.assert_ok();
    assert_eq!(full.scope(), "chat_read user_info_read");
}

pub async fn the_idle_limit_expires_an_unused_grant(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    h.clock.advance(h.lifetimes.refresh_idle - 1);
    let second = h.refresh(&first).await.refresh_token();
    h.clock.advance(h.lifetimes.refresh_idle);
    h.refresh(&second).await.assert_error(400, "invalid_grant");
}

pub async fn the_absolute_limit_expires_even_an_active_grant(backend: &impl Backend) {
    let lifetimes = Lifetimes {
        refresh_idle: 3_600,
        refresh_absolute: 10_000,
        ..Lifetimes::default()
    };
    let h = Harness::new(backend, lifetimes).await;
    let mut token = h.grant().await;
    for _ in 0..3 {
        h.clock.advance(3_000);
        let reply = h.refresh(&token).await;
        reply.assert_ok();
        token = reply.refresh_token();
    }
    h.clock.advance(1_001);
    h.refresh(&token).await.assert_error(400, "invalid_grant");
}

pub async fn fifty_racing_refreshes_share_one_successor(backend: &impl Backend) {
    let h = Arc::new(Harness::standard(backend).await);
    let first = h.grant().await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let h = h.clone();
        let first = first.clone();
        tasks.push(tokio::spawn(async move { h.refresh(&first).await }));
    }
    let mut successors = HashSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        reply.assert_ok();
        successors.insert(reply.refresh_token());
    }
    assert_eq!(
        successors.len(),
        1,
        "every 200 carries the same refresh token"
    );
    let successor = successors.into_iter().next().unwrap();
    // Exactly one rotation happened and the successor is the one live token.
    let keys = token_keys();
    let kind = chatroom_token::crypto::grant_token::TokenKind::Refresh;
    let presented = keys.open(kind, &first).unwrap();
    let live = keys.open(kind, &successor).unwrap();
    let grant = h
        .grants
        .find_grant(&presented.grant_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grant.generation, 1);
    assert!(grant.refresh_hash.unwrap().matches(&live.hash));
    assert!(grant.revoked_at.is_none());
    h.clock.advance(h.lifetimes.grace);
    let next = h.refresh(&successor).await;
    next.assert_ok();
    h.refresh(&next.refresh_token()).await.assert_ok();
}

pub async fn a_revoked_grant_refuses_its_current_token(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let keys = token_keys();
    let token = keys
        .open(
            chatroom_token::crypto::grant_token::TokenKind::Refresh,
            &first,
        )
        .unwrap();
    assert!(h
        .grants
        .revoke_grant(&token.grant_id, h.start)
        .await
        .unwrap());
    h.refresh(&first).await.assert_error(400, "invalid_grant");
}

/// The attacker holds a copy of the grant's record and the grant's retired refresh tokens, but
/// no server key: nothing they hold, used as an HMAC key or an XOR pad, opens the sealed
/// successor to the live token.
pub async fn a_record_and_old_tokens_do_not_open_the_sealed_successor(backend: &impl Backend) {
    use chatroom_token::crypto::b64url_decode;
    let h = Harness::standard(backend).await;
    let first = h.grant().await;
    let second = h.refresh(&first).await.refresh_token();
    let live = h.refresh(&second).await.refresh_token();
    let keys = token_keys();
    let kind = chatroom_token::crypto::grant_token::TokenKind::Refresh;
    let grant_id = keys.open(kind, &live).unwrap().grant_id;
    let record = h.grants.find_grant(&grant_id).await.unwrap().unwrap();
    let sealed = record
        .sealed_successor
        .clone()
        .expect("a grace window keeps a seal");
    let mut values: Vec<Vec<u8>> = vec![
        grant_id.0.to_vec(),
        grant_id.to_string().into_bytes(),
        record.client_id.clone().into_bytes(),
        record.user_id.clone().into_bytes(),
        record.scope.to_string().into_bytes(),
        record.code_hash.0.to_vec(),
        record.generation.to_string().into_bytes(),
        record.created_at.to_string().into_bytes(),
        record.rotated_at.unwrap().to_string().into_bytes(),
    ];
    values.extend(record.refresh_hash.map(|h| h.0.to_vec()));
    values.extend(record.previous_hash.map(|h| h.0.to_vec()));
    values.extend(record.redirect_uri.clone().map(String::into_bytes));
    values.push(sealed.clone());
    for old in [&first, &second] {
        values.push(b64url_decode(old).unwrap());
        values.push(old.as_bytes().to_vec());
    }
    let live_hash = record.refresh_hash.unwrap();
    assert!(keys.open(kind, &live).unwrap().hash.matches(&live_hash));
    assert_eq!(
        crate::support::table_dump::opens_with_any(&sealed, &live_hash, &values),
        None,
        "a value from the record or an old token opened the sealed successor"
    );
}

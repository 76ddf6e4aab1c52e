//! The store contract, called directly: each step is atomic and refuses exactly what its
//! condition refuses, handing back the record as it stood.

use crate::support::*;
use chatroom_token::crypto::grant_token::{GrantId, TokenHash, TokenKind};
use chatroom_token::domain::code_issuer::{pending_grant, CodeRequest};
use chatroom_token::domain::model::{GrantRecord, SecretHash};
use chatroom_token::domain::pkce::{ChallengeMethod, CodeChallenge, VerifierProof};
use chatroom_token::domain::port::{
    GrantStore, Redemption, Rejected, Revocation, Rotation, StoreError,
};
use chatroom_token::domain::scope::Scope;
use std::sync::Arc;

fn pending(now: i64) -> (GrantRecord, TokenHash) {
    let code = token_keys().mint(TokenKind::Code, GrantId::random(), 0);
    let request = CodeRequest {
        dpop_jkt: None,
        client_id: CLIENT_ID.into(),
        user_id: USER_ID.into(),
        scope: Scope::parse("chat_read user_info_read").unwrap(),
        redirect_uri: Some(REDIRECT_URI.into()),
        challenge: Some(CodeChallenge {
            method: ChallengeMethod::S256,
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        }),
    };
    let record = pending_grant(&code, &request, now, now + 600);
    (record, code.hash)
}

fn redemption(record: &GrantRecord, code_hash: TokenHash, now: i64) -> Redemption {
    Redemption {
        grant_id: record.grant_id,
        code_hash,
        client_id: CLIENT_ID.into(),
        redirect_uri: Some(REDIRECT_URI.into()),
        verifier: VerifierProof::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        now,
        refresh_hash: TokenHash([1; 32]),
        expires_at: now + 1000,
        proof: None,
        bind_to_proof_key: false,
    }
}

fn rotation(grant_id: GrantId, presented: TokenHash, successor: TokenHash, now: i64) -> Rotation {
    Rotation {
        grant_id,
        presented_hash: presented,
        client_id: CLIENT_ID.into(),
        required_scope: vec![],
        now,
        idle_cutoff: now - 1000,
        absolute_cutoff: now - 5000,
        successor_hash: successor,
        successor_generation: 1,
        sealed_successor: Some(vec![9; 69]),
        expires_at: now + 2000,
        proof: None,
    }
}

fn refused_record(result: Result<GrantRecord, Rejected>) -> Option<GrantRecord> {
    match result {
        Err(Rejected::Condition(record)) => record.map(|r| *r),
        Ok(_) => panic!("the write applied but should have been refused"),
        Err(Rejected::Store(error)) => panic!("store error: {error}"),
    }
}

pub async fn records_round_trip_unchanged(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (record, _) = pending(h.start);
    h.grants.issue_code(&record).await.unwrap();
    assert_eq!(
        h.grants.find_grant(&record.grant_id).await.unwrap(),
        Some(record.clone())
    );
    assert!(h
        .grants
        .find_grant(&GrantId::random())
        .await
        .unwrap()
        .is_none());
    // Another code under a taken id is a collision, and the record stays as it was.
    let (other, _) = pending(h.start);
    let collision = GrantRecord {
        grant_id: record.grant_id,
        ..other
    };
    assert!(matches!(
        h.grants.issue_code(&collision).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(
        h.grants.find_grant(&record.grant_id).await.unwrap(),
        Some(record.clone())
    );
    let client = h.clients.find_client(CLIENT_ID).await.unwrap().unwrap();
    assert_eq!(client.id, CLIENT_ID);
    assert_eq!(client.secret_hash, SecretHash::of(CLIENT_SECRET));
    assert!(h.clients.find_client("nobody").await.unwrap().is_none());
}

/// The SDK retries a write whose answer was lost: the retry finds the grant its first attempt
/// stored, with this very code, and succeeds without changing it.
pub async fn issuing_the_same_code_again_is_its_own_write(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (record, _) = pending(h.start);
    h.grants.issue_code(&record).await.unwrap();
    h.grants.issue_code(&record).await.unwrap();
    assert_eq!(
        h.grants.find_grant(&record.grant_id).await.unwrap(),
        Some(record)
    );
}

pub async fn a_code_redeems_once_and_the_refusal_returns_the_record(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (record, code) = pending(h.start);
    h.grants.issue_code(&record).await.unwrap();
    let r = redemption(&record, code, h.start + 1);
    let active = h.grants.redeem_code(&r).await.unwrap();
    assert_eq!(active.redeemed_at, Some(h.start + 1));
    assert_eq!(active.rotated_at, Some(h.start + 1));
    assert_eq!(active.refresh_hash, Some(TokenHash([1; 32])));
    assert_eq!(active.user_id, USER_ID);
    let again = refused_record(h.grants.redeem_code(&r).await).unwrap();
    assert_eq!(again, active);
    let missing = Redemption {
        grant_id: GrantId::random(),
        ..r
    };
    assert!(refused_record(h.grants.redeem_code(&missing).await).is_none());
}

pub async fn redemption_conditions_each_refuse(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (record, code) = pending(h.start);
    h.grants.issue_code(&record).await.unwrap();
    let good = redemption(&record, code, h.start + 1);
    let cases: Vec<(&str, Redemption)> = vec![
        (
            "wrong code",
            Redemption {
                code_hash: TokenHash([7; 32]),
                ..good.clone()
            },
        ),
        (
            "other client",
            Redemption {
                client_id: OTHER_CLIENT_ID.into(),
                ..good.clone()
            },
        ),
        (
            "expired",
            Redemption {
                now: h.start + 600,
                ..good.clone()
            },
        ),
        (
            "no redirect",
            Redemption {
                redirect_uri: None,
                ..good.clone()
            },
        ),
        (
            "other redirect",
            Redemption {
                redirect_uri: Some("https://x.example/".into()),
                ..good.clone()
            },
        ),
        (
            "no verifier",
            Redemption {
                verifier: None,
                ..good.clone()
            },
        ),
        (
            "wrong verifier",
            Redemption {
                verifier: VerifierProof::from_verifier(&"v".repeat(43)),
                ..good.clone()
            },
        ),
        (
            "downgrade",
            Redemption {
                verifier: VerifierProof::from_verifier(
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ..good.clone()
            },
        ),
    ];
    for (name, case) in cases {
        let old = refused_record(h.grants.redeem_code(&case).await);
        assert_eq!(old.as_ref(), Some(&record), "{name}");
    }
    h.grants
        .revoke_grant(&record.grant_id, h.start)
        .await
        .unwrap();
    let old = refused_record(h.grants.redeem_code(&good).await).unwrap();
    assert_eq!(old.revoked_at, Some(h.start));
}

async fn active_grant(h: &Harness) -> (GrantRecord, TokenHash) {
    let (record, code) = pending(h.start);
    h.grants.issue_code(&record).await.unwrap();
    let active = h
        .grants
        .redeem_code(&redemption(&record, code, h.start))
        .await
        .unwrap();
    (active, TokenHash([1; 32]))
}

pub async fn a_rotation_applies_once_and_installs_the_successor(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (grant, current) = active_grant(&h).await;
    let r = rotation(grant.grant_id, current, TokenHash([2; 32]), h.start + 10);
    let rotated = h.grants.rotate_refresh_token(&r).await.unwrap();
    assert_eq!(rotated.refresh_hash, Some(TokenHash([2; 32])));
    assert_eq!(rotated.previous_hash, Some(current));
    assert_eq!(rotated.generation, 1);
    assert_eq!(rotated.rotated_at, Some(h.start + 10));
    assert_eq!(rotated.sealed_successor.as_deref(), Some(&[9u8; 69][..]));
    assert_eq!(rotated.redeemed_at, Some(h.start));
    let old = refused_record(h.grants.rotate_refresh_token(&r).await).unwrap();
    assert_eq!(old, rotated);
}

pub async fn rotation_conditions_each_refuse(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (grant, current) = active_grant(&h).await;
    let now = h.start + 10;
    let good = rotation(grant.grant_id, current, TokenHash([2; 32]), now);
    let cases: Vec<(&str, Rotation)> = vec![
        (
            "not current",
            Rotation {
                presented_hash: TokenHash([5; 32]),
                ..good.clone()
            },
        ),
        (
            "other client",
            Rotation {
                client_id: OTHER_CLIENT_ID.into(),
                ..good.clone()
            },
        ),
        (
            "idle",
            Rotation {
                idle_cutoff: h.start,
                ..good.clone()
            },
        ),
        (
            "absolute",
            Rotation {
                absolute_cutoff: h.start,
                ..good.clone()
            },
        ),
        (
            "wider scope",
            Rotation {
                required_scope: vec!["chat_write".into()],
                ..good.clone()
            },
        ),
    ];
    for (name, case) in cases {
        let old = refused_record(h.grants.rotate_refresh_token(&case).await);
        assert_eq!(old.as_ref(), Some(&grant), "{name}");
    }
    let narrower = Rotation {
        required_scope: vec!["chat_read".into()],
        ..good.clone()
    };
    h.grants.rotate_refresh_token(&narrower).await.unwrap();
}

pub async fn a_revoked_grant_refuses_rotation_and_revocation_is_idempotent(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (grant, current) = active_grant(&h).await;
    assert!(h
        .grants
        .revoke_grant(&grant.grant_id, h.start + 1)
        .await
        .unwrap());
    assert!(h
        .grants
        .revoke_grant(&grant.grant_id, h.start + 2)
        .await
        .unwrap());
    assert!(!h
        .grants
        .revoke_grant(&GrantId::random(), h.start)
        .await
        .unwrap());
    let r = rotation(grant.grant_id, current, TokenHash([2; 32]), h.start + 3);
    let old = refused_record(h.grants.rotate_refresh_token(&r).await).unwrap();
    assert_eq!(
        old.revoked_at,
        Some(h.start + 1),
        "the first revocation time stays"
    );
}

pub async fn concurrent_rotations_have_exactly_one_winner(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (grant, current) = active_grant(&h).await;
    let grants: Arc<dyn GrantStore> = h.grants.clone();
    let mut tasks = Vec::new();
    for i in 0..20u8 {
        let grants = grants.clone();
        let r = rotation(
            grant.grant_id,
            current,
            TokenHash([100 + i; 32]),
            h.start + 1,
        );
        tasks.push(tokio::spawn(async move {
            grants.rotate_refresh_token(&r).await.is_ok()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
}

pub async fn a_rotation_without_a_seal_removes_the_old_one(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (grant, current) = active_grant(&h).await;
    let sealed = rotation(grant.grant_id, current, TokenHash([5; 32]), h.start + 1);
    h.grants.rotate_refresh_token(&sealed).await.unwrap();
    let unsealed = Rotation {
        sealed_successor: None,
        successor_generation: 2,
        ..rotation(
            grant.grant_id,
            TokenHash([5; 32]),
            TokenHash([6; 32]),
            h.start + 2,
        )
    };
    let after = h.grants.rotate_refresh_token(&unsealed).await.unwrap();
    assert_eq!(after.sealed_successor, None);
    let stored = h.grants.find_grant(&grant.grant_id).await.unwrap().unwrap();
    assert_eq!(stored.sealed_successor, None);
}

/// A client's revocation (RFC 7009) applies only to its own grant, and only when the token it
/// presents is the grant's current refresh token or an older one of a redeemed grant: a token of
/// a later generation, or of the current generation with another hash, proves nothing.
pub async fn revocation_conditions_each_refuse(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let (pending_record, _) = pending(h.start);
    h.grants.issue_code(&pending_record).await.unwrap();
    let (grant, current) = active_grant(&h).await;
    let rotated = h
        .grants
        .rotate_refresh_token(&rotation(
            grant.grant_id,
            current,
            TokenHash([2; 32]),
            h.start + 1,
        ))
        .await
        .unwrap();
    let good = Revocation {
        grant_id: grant.grant_id,
        client_id: Some(CLIENT_ID.into()),
        presented: Some((1, TokenHash([2; 32]))),
        now: h.start + 2,
    };
    let cases: Vec<(&str, Revocation)> = vec![
        (
            "other client",
            Revocation {
                client_id: Some(OTHER_CLIENT_ID.into()),
                ..good.clone()
            },
        ),
        (
            "current generation, another hash",
            Revocation {
                presented: Some((1, TokenHash([7; 32]))),
                ..good.clone()
            },
        ),
        (
            "a later generation",
            Revocation {
                presented: Some((2, TokenHash([7; 32]))),
                ..good.clone()
            },
        ),
        (
            "a grant not yet redeemed",
            Revocation {
                grant_id: pending_record.grant_id,
                presented: Some((0, TokenHash([1; 32]))),
                ..good.clone()
            },
        ),
    ];
    for (name, case) in cases {
        let old = refused_record(h.grants.revoke(&case).await);
        let expected = if case.grant_id == grant.grant_id {
            &rotated
        } else {
            &pending_record
        };
        assert_eq!(old.as_ref(), Some(expected), "{name}");
    }
    let older = Revocation {
        presented: Some((0, TokenHash([9; 32]))),
        ..good.clone()
    };
    let revoked = h.grants.revoke(&older).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(h.start + 2), "an older generation");
    let again = h.grants.revoke(&good).await.unwrap();
    assert_eq!(
        again.revoked_at,
        Some(h.start + 2),
        "the current token, again"
    );
}

/// A client assertion's `jti` is spent once; concurrent spenders have one winner; once its
/// remembered time has passed it may be spent again (the record may linger until DynamoDB's
/// TTL deletes it, and must not block).
pub async fn an_assertion_is_spent_once_and_again_once_forgotten(backend: &impl Backend) {
    use chatroom_token::clock::Clock;
    use chatroom_token::domain::client_assertion::VerifiedAssertion;
    let (clients, _) = backend.stores().await;
    let now = chatroom_token::clock::SystemClock.now();
    let assertion = VerifiedAssertion {
        jti_hash: chatroom_token::crypto::random_bytes(),
        remember_until: now + 90,
    };
    let other = VerifiedAssertion {
        jti_hash: chatroom_token::crypto::random_bytes(),
        remember_until: now + 90,
    };
    let spends: Vec<_> = (0..8)
        .map(|_| {
            let clients = clients.clone();
            let assertion = assertion.clone();
            tokio::spawn(async move { clients.spend_assertion(&assertion, now).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for spend in spends {
        winners += usize::from(spend.await.unwrap());
    }
    assert_eq!(winners, 1, "one of eight concurrent spenders");
    assert!(!clients.spend_assertion(&assertion, now + 89).await.unwrap());
    assert!(clients.spend_assertion(&other, now).await.unwrap());
    let later = VerifiedAssertion {
        remember_until: now + 200,
        ..assertion.clone()
    };
    assert!(clients.spend_assertion(&later, now + 90).await.unwrap());
    assert!(!clients.spend_assertion(&later, now + 199).await.unwrap());
}

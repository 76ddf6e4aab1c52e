//! The authorization_code grant, end to end through the handler.

use crate::support::*;
use chatroom_token::domain::pkce::{ChallengeMethod, CodeChallenge};
use serde_json::json;

fn s256() -> Option<CodeChallenge> {
    Some(CodeChallenge {
        method: ChallengeMethod::S256,
        value: S256_CHALLENGE.into(),
    })
}

async fn redeem_with(h: &Harness, code: &str, extra: &[(&str, &str)]) -> Reply {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code),
    ];
    params.extend_from_slice(extra);
    h.post(&params).await
}

pub async fn code_redemption_answers_the_documented_fields(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    reply.assert_ok();
    assert_eq!(reply.body["expires_in"], json!(7200));
    assert_eq!(reply.scope(), "chat_read user_info_read");
    assert!(reply.refresh_token().len() >= 43);
}

pub async fn access_token_is_a_jwt_with_the_rfc9068_claims(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    let token = reply.access_token();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.kid.as_deref(), Some("test-1"));
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    // The verifier checks the real clock; the tokens are minted on the manual one near it.
    let claims = h.verifier().verify(&token).unwrap();
    assert_eq!(claims.sub, USER_ID);
    assert_eq!(claims.aud, vec![CLIENT_ID.to_owned()]);
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.client_id, CLIENT_ID);
    assert_eq!(claims.scope, "chat_read user_info_read");
    assert_eq!(claims.iat, h.start);
    assert_eq!(claims.exp, h.start + 7200);
    assert!(claims.jti.len() >= 16);
    // Another audience does not accept it.
    let other = chatroom_token::domain::access_token::AccessTokenVerifier::new(
        &[signing_key()],
        ISSUER,
        OTHER_CLIENT_ID,
    );
    assert!(other.verify(&token).is_err());
}

pub async fn a_code_works_once_and_its_replay_revokes_the_grant(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let code = h.code().await;
    let first = h.redeem(&code).await;
    first.assert_ok();
    h.redeem(&code).await.assert_error(400, "invalid_grant");
    // RFC 6749 §4.1.2: what the first redemption started is revoked.
    h.refresh(&first.refresh_token())
        .await
        .assert_error(400, "invalid_grant");
}

pub async fn an_expired_code_is_refused(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let code = h.code().await;
    h.clock.advance(h.lifetimes.code);
    h.redeem(&code).await.assert_error(400, "invalid_grant");
}

pub async fn a_code_is_bound_to_its_client(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let code = h.code().await;
    h.post(&[
        ("grant_type", "authorization_code"),
        ("client_id", OTHER_CLIENT_ID),
        ("client_secret", OTHER_SECRET),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
    ])
    .await
    .assert_error(400, "invalid_grant");
    // Refusing the other client did not consume the code.
    h.redeem(&code).await.assert_ok();
}

/// Another client holding a used code (from a leaked redirect, a shared log) cannot use it to
/// log the code's own client out: only the code's client replaying it revokes the grant.
pub async fn another_clients_replay_of_a_used_code_revokes_nothing(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let code = h.code().await;
    let first = h.redeem(&code).await;
    first.assert_ok();
    let replay = h
        .post(&[
            ("grant_type", "authorization_code"),
            ("client_id", OTHER_CLIENT_ID),
            ("client_secret", OTHER_SECRET),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await;
    replay.assert_error(400, "invalid_grant");
    assert_eq!(
        replay.body["error_description"], "the authorization code is invalid",
        "the other client learns nothing about the code"
    );
    h.refresh(&first.refresh_token()).await.assert_ok();
}

pub async fn redirect_uri_must_be_present_and_equal(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let code = h.code().await;
    redeem_with(&h, &code, &[])
        .await
        .assert_error(400, "invalid_request");
    redeem_with(&h, &code, &[("redirect_uri", "https://app.example/other")])
        .await
        .assert_error(400, "invalid_grant");
    redeem_with(&h, &code, &[("redirect_uri", REDIRECT_URI)])
        .await
        .assert_ok();
    // A code issued without one needs none.
    let code = h.code_with(CLIENT_ID, "chat_read", None, None).await;
    redeem_with(&h, &code, &[]).await.assert_ok();
}

pub async fn pkce_s256_and_plain_verifiers_are_checked(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let code = h.code_with(CLIENT_ID, "chat_read", None, s256()).await;
    redeem_with(&h, &code, &[("code_verifier", VERIFIER)])
        .await
        .assert_ok();

    let plain = "a-plain-verifier-that-is-long-enough-0123456789";
    let challenge = CodeChallenge {
        method: ChallengeMethod::Plain,
        value: plain.into(),
    };
    let code = h
        .code_with(CLIENT_ID, "chat_read", None, Some(challenge))
        .await;
    redeem_with(&h, &code, &[("code_verifier", plain)])
        .await
        .assert_ok();
}

pub async fn pkce_failures_are_refused_without_consuming_the_code(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let code = h.code_with(CLIENT_ID, "chat_read", None, s256()).await;
    // Missing verifier.
    redeem_with(&h, &code, &[])
        .await
        .assert_error(400, "invalid_request");
    // Wrong verifier.
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-0";
    redeem_with(&h, &code, &[("code_verifier", wrong)])
        .await
        .assert_error(400, "invalid_grant");
    // Downgrade: the challenge itself sent as a plain verifier.
    redeem_with(&h, &code, &[("code_verifier", S256_CHALLENGE)])
        .await
        .assert_error(400, "invalid_grant");
    // Malformed verifier.
    redeem_with(&h, &code, &[("code_verifier", "short")])
        .await
        .assert_error(400, "invalid_request");
    redeem_with(&h, &code, &[("code_verifier", VERIFIER)])
        .await
        .assert_ok();
    // The same with a redirect URI: the right one does not hide the missing verifier.
    let code = h
        .code_with(CLIENT_ID, "chat_read", Some(REDIRECT_URI), s256())
        .await;
    redeem_with(&h, &code, &[("redirect_uri", REDIRECT_URI)])
        .await
        .assert_error(400, "invalid_request");
    let with_verifier = [("redirect_uri", REDIRECT_URI), ("code_verifier", VERIFIER)];
    redeem_with(&h, &code, &with_verifier).await.assert_ok();
}

pub async fn a_verifier_for_a_code_without_challenge_is_refused(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let code = h.code_with(CLIENT_ID, "chat_read", None, None).await;
    redeem_with(&h, &code, &[("code_verifier", VERIFIER)])
        .await
        .assert_error(400, "invalid_grant");
}

pub async fn unknown_and_forged_codes_are_invalid_grant(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    h.redeem("not-a-code")
        .await
        .assert_error(400, "invalid_grant");
    // A code of the right shape and a real grant id, but a bad tag.
    let code = h.code().await;
    let mut forged: Vec<char> = code.chars().collect();
    forged[60] = if forged[60] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    h.redeem(&forged).await.assert_error(400, "invalid_grant");
    h.redeem(&code).await.assert_ok();
}

pub async fn a_code_is_required(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    redeem_with(&h, "", &[])
        .await
        .assert_error(400, "invalid_request");
}

pub async fn issuing_a_code_checks_the_request_against_the_client(backend: &impl Backend) {
    use chatroom_token::clock::Clock;
    use chatroom_token::domain::code_issuer::{issue_code, CodeRequest, IssueCodeError};
    use chatroom_token::domain::scope::Scope;
    let h = Harness::standard(backend).await;
    h.register("disabled-app", "disabled-secret", false).await;
    let good = CodeRequest {
        dpop_jkt: None,
        client_id: CLIENT_ID.into(),
        user_id: USER_ID.into(),
        scope: Scope::parse("chat_read").unwrap(),
        redirect_uri: Some(REDIRECT_URI.into()),
        challenge: None,
    };
    let cases = [
        (
            CodeRequest {
                dpop_jkt: None,
                client_id: "nobody".into(),
                ..good.clone()
            },
            "unknown",
        ),
        (
            CodeRequest {
                dpop_jkt: None,
                client_id: "disabled-app".into(),
                ..good.clone()
            },
            "disabled",
        ),
        (
            CodeRequest {
                dpop_jkt: None,
                scope: Scope::parse("admin").unwrap(),
                ..good.clone()
            },
            "scope",
        ),
        (
            CodeRequest {
                dpop_jkt: None,
                user_id: String::new(),
                ..good.clone()
            },
            "user",
        ),
        (
            CodeRequest {
                dpop_jkt: None,
                user_id: "u".repeat(65),
                ..good.clone()
            },
            "long",
        ),
        (
            CodeRequest {
                dpop_jkt: None,
                redirect_uri: Some("https://evil.example/".into()),
                ..good.clone()
            },
            "redirect",
        ),
        (
            CodeRequest {
                dpop_jkt: None,
                challenge: Some(CodeChallenge {
                    method: ChallengeMethod::S256,
                    value: "short".into(),
                }),
                ..good.clone()
            },
            "challenge",
        ),
    ];
    for (request, name) in cases {
        let result = issue_code(
            h.clients.as_ref(),
            h.grants.as_ref(),
            &token_keys(),
            &request,
            h.clock.now(),
            600,
        )
        .await;
        let expected = match name {
            "unknown" => matches!(result, Err(IssueCodeError::UnknownClient)),
            "disabled" => matches!(result, Err(IssueCodeError::ClientDisabled)),
            "scope" => matches!(result, Err(IssueCodeError::ScopeNotAllowed)),
            "user" => matches!(result, Err(IssueCodeError::EmptyUserId)),
            "long" => matches!(result, Err(IssueCodeError::TooLong)),
            "redirect" => matches!(result, Err(IssueCodeError::RedirectUriNotRegistered)),
            _ => matches!(result, Err(IssueCodeError::MalformedChallenge)),
        };
        assert!(expected, "{name}: {result:?}");
    }
}

pub async fn racing_redemptions_of_one_code_have_one_winner_and_revoke(backend: &impl Backend) {
    let h = std::sync::Arc::new(Harness::standard(backend).await);
    let code = h.code().await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let h = h.clone();
        let code = code.clone();
        tasks.push(tokio::spawn(async move { h.redeem(&code).await }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        if reply.status == 200 {
            winners.push(reply.refresh_token());
        } else {
            reply.assert_error(400, "invalid_grant");
        }
    }
    assert_eq!(winners.len(), 1, "a code works exactly once");
    // The others were replays: RFC 6749 §4.1.2 revokes what the winner started.
    h.refresh(&winners[0])
        .await
        .assert_error(400, "invalid_grant");
}

/// The store may delete a grant (DynamoDB TTL) only once it can no longer work: at the absolute
/// limit after the redemption, then at the idle limit after each rotation, whichever comes
/// first.
pub async fn a_grant_is_kept_as_long_as_it_can_work(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.redeem(&h.code().await).await;
    let claims = h.verifier().verify(&reply.access_token()).unwrap();
    let grant_id =
        chatroom_token::crypto::grant_token::GrantId::parse(claims.gid.as_deref().unwrap())
            .unwrap();
    let stored = |h: &Harness| {
        let grants = h.grants.clone();
        async move { grants.find_grant(&grant_id).await.unwrap().unwrap() }
    };
    assert_eq!(
        stored(&h).await.expires_at,
        h.start + h.lifetimes.refresh_absolute
    );
    h.clock.advance(100);
    h.refresh(&reply.refresh_token()).await.assert_ok();
    assert_eq!(
        stored(&h).await.expires_at,
        h.start + 100 + h.lifetimes.refresh_idle
    );
}

//! Captures every log line of a full flow (codes, refreshes, a grace retry, reuse, failed
//! authentication, Basic auth, client assertions good, replayed and forged) and fails if any
//! secret that was issued or presented appears.

mod support;

use chatroom_token::domain::service::Report;
use chatroom_token::http::metrics::emf_line;
use std::io::Write;
use std::sync::{Arc, Mutex};
use support::backends::Memory;
use support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged on this thread, at every level, as JSON lines, until the guard drops.
fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_a_log_line() {
    let (captured, _guard) = capture_logs();

    let h = Harness::with_private_key_jwt(&Memory).await;
    let mut secrets: Vec<String> = vec![CLIENT_SECRET.into(), OTHER_SECRET.into()];
    let mut bodies = Vec::new();

    let code = h.code().await;
    secrets.push(code.clone());
    let redeemed = h.redeem(&code).await;
    redeemed.assert_ok();
    let first = redeemed.refresh_token();
    secrets.extend([first.clone(), redeemed.access_token()]);
    h.redeem(&code).await.assert_error(400, "invalid_grant"); // replay

    let token = h.grant().await;
    let second = h.refresh(&token).await;
    let retry = h.refresh(&token).await; // grace retry
    secrets.extend([
        token.clone(),
        second.refresh_token(),
        second.access_token(),
        retry.access_token(),
    ]);
    h.clock.advance(h.lifetimes.grace);
    h.refresh(&token).await.assert_error(400, "invalid_grant"); // reuse

    let wrong = "a-wrong-secret-that-must-not-be-logged";
    secrets.push(wrong.into());
    let params = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", wrong),
        ("refresh_token", "presented-refresh-token-never-logged"),
    ];
    secrets.push("presented-refresh-token-never-logged".into());
    bodies.push(form_body(&params));
    h.post(&params).await.assert_error(401, "invalid_client");

    let body = form_body(&[("grant_type", "refresh_token"), ("refresh_token", &first)]);
    bodies.push(body.clone());
    let auth = basic(CLIENT_ID, CLIENT_SECRET);
    secrets.push(auth.clone());
    h.post_authorized(&body, &auth).await;

    // Client assertions: one accepted, the same replayed, one signed by a stranger's key.
    let assertion = h.assertion();
    let forged = h.assertion_for(
        support::assertions::Signer::Stranger,
        KEYED_ID,
        &format!("{ISSUER}/chatroom/api/token"),
    );
    for (presented, status) in [(&assertion, 200), (&assertion, 401), (&forged, 401)] {
        let params = [
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                chatroom_token::domain::client_assertion::ASSERTION_TYPE,
            ),
            ("client_assertion", presented),
        ];
        assert_eq!(h.post(&params).await.status, status);
        let signature = presented.rsplit('.').next().unwrap().to_owned();
        secrets.extend([presented.clone(), signature]);
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("client assertion refused"), "{logs}");
    assert!(
        logs.contains("replayed") && logs.contains("bad_signature"),
        "{logs}"
    );
    let lines = logs.lines().filter(|l| l.contains("\"endpoint\":")).count();
    assert!(
        lines >= 8,
        "the flow was logged ({lines} request lines):\n{logs}"
    );
    assert!(logs.contains("reuse_detected"));
    assert!(logs.contains("refresh token reuse detected"));
    for secret in secrets.iter().chain(&bodies) {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret reached the logs: {logs}"
        );
    }
    // The metrics line is made of counts only.
    let metrics = emf_line(&Report::default(), None, 1, 1);
    for secret in &secrets {
        assert!(!metrics.contains(secret.as_str()));
    }
}

/// The internal route's log line names who issued which grant (the IAM principal, the grant id,
/// the client id), never the code.
#[tokio::test(flavor = "current_thread")]
async fn an_issued_code_is_logged_by_principal_and_grant_never_by_code() {
    let (captured, _guard) = capture_logs();

    let h = Harness::standard(&Memory).await;
    let body = serde_json::json!({
        "client_id": CLIENT_ID,
        "user_id": USER_ID,
        "scope": "chat_read",
        "redirect_uri": REDIRECT_URI,
    });
    let reply = h.call(internal_codes_request(&body, true)).await;
    let code = reply.body["code"].as_str().unwrap().to_owned();
    let grant_id = token_keys()
        .open(chatroom_token::crypto::grant_token::TokenKind::Code, &code)
        .unwrap()
        .grant_id
        .to_string();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|l| l.contains("internal_codes"))
        .expect("a log line for the request");
    assert!(
        line.contains("arn:aws:sts::123456789012:assumed-role/consent-page/consent-page"),
        "{line}"
    );
    assert!(
        line.contains(&grant_id) && line.contains(CLIENT_ID),
        "{line}"
    );
    assert!(!logs.contains(&code), "the code reached the logs: {logs}");
}

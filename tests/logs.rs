//! Captures every log line of a full flow (codes, refreshes, a grace retry, reuse, failed
//! authentication, Basic auth) and fails if any secret that was issued or presented appears.

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

#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_a_log_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = Harness::standard(&Memory).await;
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

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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

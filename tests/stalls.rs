//! A stalled DynamoDB, with the function's real SDK time budget (`chatroom_token::aws`): a
//! server that never answers becomes a 503 with Retry-After inside 3 s, and a write that was
//! applied but whose answer stalled still ends well: the SDK's retry, or the client's own retry
//! in the grace window, gets the successor that was stored, and nothing is revoked.

mod support;

use chatroom_token::aws::{Aws, ATTEMPT_TIMEOUT};
use chatroom_token::crypto::grant_token::{GrantId, TokenKind};
use chatroom_token::domain::port::{ClientRegistry, GrantStore};
use chatroom_token::store::dynamodb::table::create_table;
use chatroom_token::store::dynamodb::DynamoStore;
use chatroom_token::store::memory::MemoryStore;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use support::backends::{endpoint, function_sdk_config, sdk_client, unique_table_name};
use support::stall_proxy::{Hold, StallProxy};
use support::*;

/// A DynamoDB client with the deployed function's timeouts and retries, at `url`.
async fn budgeted_client(url: &str) -> aws_sdk_dynamodb::Client {
    let config = function_sdk_config(url).await;
    aws_sdk_dynamodb::Client::new(Aws::with(config).config().await)
}

/// Clients in memory, grants in DynamoDB behind `url`.
struct GrantsAt(aws_sdk_dynamodb::Client, String);

impl Backend for GrantsAt {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        let grants = DynamoStore::new(self.0.clone(), self.1.clone(), 60);
        (Arc::new(MemoryStore::new()), Arc::new(grants))
    }
}

/// Accepts connections and never answers (nor closes them).
fn black_hole() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, accepted)
}

/// On tokio's paused clock: the time measured is the SDK's own timers, not the machine's speed.
#[tokio::test(start_paused = true)]
async fn a_store_that_never_answers_is_a_503_within_three_seconds() {
    let (url, accepted) = black_hole();
    let backend = GrantsAt(budgeted_client(&url).await, "tokens".into());
    let h = Harness::standard(&backend).await;
    let token = token_keys().mint(TokenKind::Refresh, GrantId::random(), 0);
    let started = tokio::time::Instant::now();
    let reply = tokio::time::timeout(Duration::from_secs(60), h.refresh(token.text().expose()))
        .await
        .expect("the request ended");
    let took = started.elapsed();
    reply.assert_error(503, "temporarily_unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(took <= Duration::from_secs(3), "took {took:?}");
    assert!(took >= ATTEMPT_TIMEOUT, "it waited for the store: {took:?}");
    // The black hole's thread counts a connection when it gets round to accepting it, which on
    // the paused clock can be after the request has ended: wait for it in real time.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while accepted.load(std::sync::atomic::Ordering::SeqCst) == 0
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

async fn stalled_table() -> (StallProxy, GrantsAt) {
    let table = unique_table_name();
    create_table(&sdk_client(), &table).await.unwrap();
    let proxy = StallProxy::start(&endpoint());
    let backend = GrantsAt(budgeted_client(&proxy.url).await, table);
    (proxy, backend)
}

/// The first attempt's write is applied and its answer held; the SDK retries after the attempt
/// timeout, finds its own successor in the item, and the client gets it.
#[tokio::test]
async fn an_applied_write_whose_answer_stalled_is_recognised_on_the_sdk_retry() {
    let (proxy, backend) = stalled_table().await;
    let h = Harness::standard(&backend).await;
    let first = h.grant().await;
    proxy.hold(Hold::NextUpdate);
    let updates = proxy.updates();
    let reply = ends(h.refresh(&first)).await;
    reply.assert_ok();
    assert_eq!(proxy.held(), 1);
    // The held write and at least one retry (a third only if moto itself took over the 1 s
    // attempt timeout on a loaded machine; the outcome below is the same either way).
    assert!(
        proxy.updates() - updates >= 2,
        "the held write, then the SDK's retry"
    );
    assert_live_and_unrevoked(&h, &reply.refresh_token()).await;
}

/// Every answer stalls: the client gets a 503 although its write was applied. Its own retry,
/// in the grace window, gets the successor that was stored, and nothing is revoked.
#[tokio::test]
async fn a_client_retry_after_a_stalled_applied_write_gets_the_stored_successor() {
    let (proxy, backend) = stalled_table().await;
    let h = Harness::standard(&backend).await;
    let first = h.grant().await;
    proxy.hold(Hold::EveryUpdate);
    ends(h.refresh(&first))
        .await
        .assert_error(503, "temporarily_unavailable");
    assert!(proxy.held() >= 1);
    proxy.hold(Hold::Nothing);
    h.clock.advance(5);
    let retry = h.refresh(&first).await;
    retry.assert_ok();
    let again = h.refresh(&first).await;
    assert_eq!(
        again.refresh_token(),
        retry.refresh_token(),
        "one successor"
    );
    assert_live_and_unrevoked(&h, &retry.refresh_token()).await;
}

/// A guard against a hang (a store call without a time budget would wait forever here): not a
/// measure of speed.
async fn ends(request: impl std::future::Future<Output = Reply>) -> Reply {
    tokio::time::timeout(Duration::from_secs(30), request)
        .await
        .expect("the request ended")
}

/// `token` is the grant's current refresh token, the grant is not revoked, and the chain goes on.
async fn assert_live_and_unrevoked(h: &Harness, token: &str) {
    let opened = token_keys().open(TokenKind::Refresh, token).unwrap();
    let grant = h
        .grants
        .find_grant(&opened.grant_id)
        .await
        .unwrap()
        .unwrap();
    assert!(grant.revoked_at.is_none(), "nothing was revoked");
    assert_eq!(grant.generation, 1, "one rotation");
    assert!(
        grant.refresh_hash.unwrap().matches(&opened.hash),
        "the stored successor"
    );
    h.clock.advance(h.lifetimes.grace);
    h.refresh(token).await.assert_ok();
}

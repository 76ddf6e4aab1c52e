//! What clients see when the store fails or a write's answer is lost, on the embedded store
//! wrapped in a fault injector. (The DynamoDB side of the same faults is in dynamodb_faults.rs.)

mod support;

use async_trait::async_trait;
use chatroom_token::crypto::grant_token::GrantId;
use chatroom_token::domain::model::GrantRecord;
use chatroom_token::domain::port::{
    ClientRegistry, GrantStore, Redemption, Rejected, Revocation, Rotation, StoreError,
};
use chatroom_token::store::memory::MemoryStore;
use std::sync::{Arc, Mutex};
use support::*;

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// Throttled or unreachable after the SDK's retries.
    Unavailable,
    /// An unexpected failure whose text must not reach the client.
    Internal,
    /// The write applies, but the caller sees what an SDK retry of it would see: a refused
    /// condition and the item as the first attempt left it.
    LostAnswer,
    /// As `LostAnswer`, but an operator revokes the grant between the write and the retry.
    LostAnswerThenRevoked,
    /// Issuing a code fails (the consent page's route), as `Unavailable` or `Internal` does.
    IssueUnavailable,
    IssueInternal,
}

struct FaultyStore {
    inner: Arc<MemoryStore>,
    fault: Mutex<Fault>,
}

impl FaultyStore {
    fn fault(&self) -> Fault {
        *self.fault.lock().unwrap()
    }

    fn injected(&self) -> Option<StoreError> {
        match self.fault() {
            Fault::Unavailable => Some(StoreError::Unavailable("injected throttle".into())),
            Fault::Internal => Some(StoreError::Internal(
                "table arn:aws:secret-internals".into(),
            )),
            _ => None,
        }
    }

    async fn lose_answer(
        &self,
        result: Result<GrantRecord, Rejected>,
    ) -> Result<GrantRecord, Rejected> {
        match (self.fault(), result) {
            (Fault::LostAnswer, Ok(record)) => Err(Rejected::Condition(Some(Box::new(record)))),
            (Fault::LostAnswerThenRevoked, Ok(record)) => {
                self.inner
                    .revoke_grant(&record.grant_id, record.created_at)
                    .await?;
                let revoked = self.inner.find_grant(&record.grant_id).await?;
                Err(Rejected::Condition(revoked.map(Box::new)))
            }
            (_, result) => result,
        }
    }
}

#[async_trait]
impl GrantStore for FaultyStore {
    async fn issue_code(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        match self.fault() {
            Fault::IssueUnavailable => Err(StoreError::Unavailable("injected throttle".into())),
            Fault::IssueInternal => Err(StoreError::Internal(
                "table arn:aws:secret-internals".into(),
            )),
            _ => self.inner.issue_code(grant).await,
        }
    }

    async fn redeem_code(&self, r: &Redemption) -> Result<GrantRecord, Rejected> {
        if let Some(error) = self.injected() {
            return Err(Rejected::Store(error));
        }
        let result = self.inner.redeem_code(r).await;
        self.lose_answer(result).await
    }

    async fn rotate_refresh_token(&self, r: &Rotation) -> Result<GrantRecord, Rejected> {
        if let Some(error) = self.injected() {
            return Err(Rejected::Store(error));
        }
        let result = self.inner.rotate_refresh_token(r).await;
        self.lose_answer(result).await
    }

    async fn revoke(&self, r: &Revocation) -> Result<GrantRecord, Rejected> {
        self.inner.revoke(r).await
    }

    async fn find_grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
        self.inner.find_grant(id).await
    }
}

struct Faulty(Arc<FaultyStore>);

impl Backend for Faulty {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        (self.0.inner.clone(), self.0.clone())
    }
}

fn faulty() -> (Faulty, Arc<FaultyStore>) {
    let store = Arc::new(FaultyStore {
        inner: Arc::new(MemoryStore::new()),
        fault: Mutex::new(Fault::None),
    });
    (Faulty(store.clone()), store)
}

#[tokio::test]
async fn an_unavailable_store_is_503_with_retry_after_and_changes_nothing() {
    let (backend, store) = faulty();
    let h = Harness::standard(&backend).await;
    let token = h.grant().await;
    let code = h.code().await;
    *store.fault.lock().unwrap() = Fault::Unavailable;
    for reply in [h.refresh(&token).await, h.redeem(&code).await] {
        reply.assert_error(503, "temporarily_unavailable");
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    *store.fault.lock().unwrap() = Fault::None;
    h.refresh(&token).await.assert_ok();
    h.redeem(&code).await.assert_ok();
}

#[tokio::test]
async fn an_internal_failure_is_500_without_internals() {
    let (backend, store) = faulty();
    let h = Harness::standard(&backend).await;
    let token = h.grant().await;
    *store.fault.lock().unwrap() = Fault::Internal;
    let reply = h.refresh(&token).await;
    reply.assert_error(500, "server_error");
    assert!(!reply.raw.contains("arn:aws"));
}

#[tokio::test]
async fn a_lost_answer_is_recognised_as_our_own_write() {
    let (backend, store) = faulty();
    let lifetimes = chatroom_token::domain::service::Lifetimes {
        grace: 0, // Even with no grace window, our own applied write is not a reuse.
        ..Default::default()
    };
    let h = Harness::new(&backend, lifetimes).await;
    let code = h.code().await;
    *store.fault.lock().unwrap() = Fault::LostAnswer;
    let redeemed = h.redeem(&code).await;
    redeemed.assert_ok();
    let refreshed = h.refresh(&redeemed.refresh_token()).await;
    refreshed.assert_ok();
    *store.fault.lock().unwrap() = Fault::None;
    // The tokens handed out are the live ones: nothing was revoked.
    h.refresh(&refreshed.refresh_token()).await.assert_ok();
}

#[tokio::test]
async fn a_grant_revoked_between_our_write_and_its_retry_stays_revoked() {
    let (backend, store) = faulty();
    let h = Harness::standard(&backend).await;
    let token = h.grant().await;
    let code = h.code().await;
    *store.fault.lock().unwrap() = Fault::LostAnswerThenRevoked;
    h.refresh(&token).await.assert_error(400, "invalid_grant");
    h.redeem(&code).await.assert_error(400, "invalid_grant");
}

/// The consent page's route when the store fails: 503 with `Retry-After` (it may retry), or 500;
/// neither says what failed.
#[tokio::test]
async fn a_store_failure_issuing_a_code_is_503_or_500_and_says_nothing() {
    let (backend, store) = faulty();
    let h = Harness::standard(&backend).await;
    *store.fault.lock().unwrap() = Fault::IssueUnavailable;
    let busy = h
        .call(internal_codes_request(&internal_code_body(), true))
        .await;
    busy.assert_error(503, "temporarily_unavailable");
    assert!(busy.header("retry-after").is_some());
    *store.fault.lock().unwrap() = Fault::IssueInternal;
    let broken = h
        .call(internal_codes_request(&internal_code_body(), true))
        .await;
    broken.assert_error(500, "server_error");
    assert!(!broken.raw.contains("secret-internals"));
    *store.fault.lock().unwrap() = Fault::None;
    let issued = h
        .call(internal_codes_request(&internal_code_body(), true))
        .await;
    assert_eq!(issued.status, 200, "{}", issued.raw);
}

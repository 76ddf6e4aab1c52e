//! The two stores the model's histories run on, each able to fail its next write the two ways
//! the model knows (`Fault`): the embedded store behind a fault injector, and DynamoDB (moto)
//! with the SDK interceptor of `tests/support/sdk_faults.rs` and the client cache off (so a
//! disabled client is refused at once and every request reads its client once).

use super::Fault;
use crate::support::backends::{sdk_client, Dynamo};
use crate::support::sdk_faults::{instrumented_store, Injection, RequestLog};
use crate::support::Backend;
use async_trait::async_trait;
use chatroom_token::crypto::grant_token::GrantId;
use chatroom_token::domain::model::GrantRecord;
use chatroom_token::domain::port::{
    ClientRegistry, GrantStore, Redemption, Rejected, Revocation, Rotation, StoreError,
};
use chatroom_token::store::memory::MemoryStore;
use std::sync::{Arc, Mutex};

/// A store the model's harness runs on.
pub trait ModelBackend: Backend {
    /// Makes the next write of the next request fail this way.
    fn arm(&self, fault: Fault);
    /// Ends an armed fault that no write consumed.
    fn disarm(&self);
    /// Whether `store_requests` counts DynamoDB requests (the embedded store counts none).
    fn counts_requests(&self) -> bool;
    /// Drops what the backend created (DynamoDB tables).
    fn cleanup(&self) -> impl std::future::Future<Output = ()> + Send;
}

/// The embedded store; its first conditional write after `arm` fails.
#[derive(Default)]
pub struct FaultyMemory {
    inner: Arc<MemoryStore>,
    fault: Arc<Mutex<Fault>>,
}

/// The grant side of `FaultyMemory`.
struct FaultyGrants {
    inner: Arc<MemoryStore>,
    fault: Arc<Mutex<Fault>>,
}

impl FaultyGrants {
    /// Runs one conditional write under the armed fault, which it consumes.
    async fn write(
        &self,
        write: impl std::future::Future<Output = Result<GrantRecord, Rejected>>,
    ) -> Result<GrantRecord, Rejected> {
        let fault = std::mem::replace(&mut *self.fault.lock().unwrap(), Fault::None);
        if fault == Fault::BeforeWrite {
            return Err(Rejected::Store(StoreError::Unavailable(
                "injected by the model test".into(),
            )));
        }
        match (fault, write.await) {
            // What the SDK's retry of an applied write sees: a refused condition, and the item
            // as the first attempt left it.
            (Fault::AnswerLost, Ok(record)) => Err(Rejected::Condition(Some(Box::new(record)))),
            (_, result) => result,
        }
    }
}

#[async_trait]
impl GrantStore for FaultyGrants {
    async fn issue_code(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        self.inner.issue_code(grant).await
    }

    async fn redeem_code(&self, r: &Redemption) -> Result<GrantRecord, Rejected> {
        self.write(self.inner.redeem_code(r)).await
    }

    async fn rotate_refresh_token(&self, r: &Rotation) -> Result<GrantRecord, Rejected> {
        self.write(self.inner.rotate_refresh_token(r)).await
    }

    async fn revoke(&self, r: &Revocation) -> Result<GrantRecord, Rejected> {
        self.write(self.inner.revoke(r)).await
    }

    async fn find_grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
        self.inner.find_grant(id).await
    }
}

impl Backend for FaultyMemory {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        let grants = FaultyGrants {
            inner: self.inner.clone(),
            fault: self.fault.clone(),
        };
        (self.inner.clone(), Arc::new(grants))
    }
}

impl ModelBackend for FaultyMemory {
    fn arm(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    fn disarm(&self) {
        self.arm(Fault::None);
    }

    fn counts_requests(&self) -> bool {
        false
    }

    async fn cleanup(&self) {}
}

/// DynamoDB on moto, a table per history, every request seen by an interceptor that can
/// throttle writes (nothing reaches the table) or lose a write's answer (the SDK retries).
#[derive(Default)]
pub struct FaultyDynamo {
    tables: Dynamo,
    log: RequestLog,
}

impl Backend for FaultyDynamo {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        let table = self.tables.new_table(&sdk_client()).await;
        // Client cache off: a disabled client is refused at once, as on the embedded store.
        let store = Arc::new(instrumented_store(table, &self.log, 0));
        (store.clone(), store)
    }
}

impl ModelBackend for FaultyDynamo {
    fn arm(&self, fault: Fault) {
        match fault {
            Fault::None => self.log.clear_injection(),
            Fault::BeforeWrite => self.log.inject("UpdateItem", Injection::Throttle),
            Fault::AnswerLost => self.log.inject("UpdateItem", Injection::LoseNextAnswer),
        }
    }

    fn disarm(&self) {
        self.log.clear_injection();
    }

    fn counts_requests(&self) -> bool {
        true
    }

    async fn cleanup(&self) {
        self.tables.cleanup().await;
    }
}

//! The embedded store: everything in one process, for local runs, tests and benchmarks.
//!
//! Each step takes the lock once, checks its condition and writes under it: never a read
//! followed by a separate write, so concurrent callers see the same all-or-nothing behaviour as
//! DynamoDB's conditional writes. The lock is never held across an `.await`.

use crate::crypto::grant_token::GrantId;
use crate::domain::client_assertion::VerifiedAssertion;
use crate::domain::conditions::{
    apply_redemption, apply_revocation, apply_rotation, assertion_spendable, is_own_issue,
    redemption_applies, revocation_applies, rotation_applies,
};
use crate::domain::model::{Client, GrantRecord};
use crate::domain::port::{
    ClientRegistry, ClientStore, GrantStore, Redemption, Rejected, Revocation, Rotation, StoreError,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryStore {
    clients: Mutex<HashMap<String, Client>>,
    grants: Mutex<HashMap<GrantId, GrantRecord>>,
    /// Spent assertion `jti`s (hashed) and until when each is remembered.
    assertions: Mutex<SpentAssertions>,
}

/// Spent assertions, and the size at which the expired ones are next forgotten: pruning when
/// the map has doubled keeps each spending O(1) on average, however many there are.
#[derive(Default)]
struct SpentAssertions {
    until: HashMap<[u8; 32], i64>,
    prune_at: usize,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs a conditional step: `check` and `apply` see the same locked record.
    fn conditional<R>(
        &self,
        grant_id: &GrantId,
        request: &R,
        check: fn(&GrantRecord, &R) -> bool,
        apply: fn(&mut GrantRecord, &R),
    ) -> Result<GrantRecord, Rejected> {
        let mut grants = self.grants.lock().expect("grant map poisoned");
        match grants.get_mut(grant_id) {
            Some(record) if check(record, request) => {
                apply(record, request);
                Ok(record.clone())
            }
            Some(record) => Err(Rejected::Condition(Some(Box::new(record.clone())))),
            None => Err(Rejected::Condition(None)),
        }
    }
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn find_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        Ok(self
            .clients
            .lock()
            .expect("client map poisoned")
            .get(client_id)
            .cloned())
    }

    async fn spend_assertion(
        &self,
        assertion: &VerifiedAssertion,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut spent = self.assertions.lock().expect("assertion map poisoned");
        if !assertion_spendable(spent.until.get(&assertion.jti_hash).copied(), now) {
            return Ok(false);
        }
        if spent.until.len() >= spent.prune_at {
            // Forget what has expired (what DynamoDB's TTL does for the table).
            spent.until.retain(|_, until| *until > now);
            spent.prune_at = (spent.until.len() * 2).max(64);
        }
        spent
            .until
            .insert(assertion.jti_hash, assertion.remember_until);
        Ok(true)
    }
}

#[async_trait]
impl ClientRegistry for MemoryStore {
    async fn put_client(&self, client: &Client) -> Result<(), StoreError> {
        self.clients
            .lock()
            .expect("client map poisoned")
            .insert(client.id.clone(), client.clone());
        Ok(())
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn issue_code(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        let mut grants = self.grants.lock().expect("grant map poisoned");
        match grants.get(&grant.grant_id) {
            Some(existing) if is_own_issue(existing, grant) => return Ok(()),
            Some(_) => return Err(StoreError::AlreadyExists),
            None => {}
        }
        grants.insert(grant.grant_id, grant.clone());
        Ok(())
    }

    async fn redeem_code(&self, redemption: &Redemption) -> Result<GrantRecord, Rejected> {
        self.conditional(
            &redemption.grant_id,
            redemption,
            redemption_applies,
            apply_redemption,
        )
    }

    async fn rotate_refresh_token(&self, rotation: &Rotation) -> Result<GrantRecord, Rejected> {
        self.conditional(
            &rotation.grant_id,
            rotation,
            rotation_applies,
            apply_rotation,
        )
    }

    async fn revoke(&self, revocation: &Revocation) -> Result<GrantRecord, Rejected> {
        self.conditional(
            &revocation.grant_id,
            revocation,
            revocation_applies,
            apply_revocation,
        )
    }

    async fn find_grant(&self, grant_id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
        Ok(self
            .grants
            .lock()
            .expect("grant map poisoned")
            .get(grant_id)
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded store sends no request anywhere: each log line says it cost none.
    #[test]
    fn the_embedded_store_counts_no_requests() {
        assert_eq!(MemoryStore::new().requests_sent(), 0);
    }
}

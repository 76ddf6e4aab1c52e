//! The DynamoDB store: one table, one item per client and one per grant (see README, "Data
//! model"). Every step is a single conditional request whose condition expression is the
//! translation of the predicate in `domain/conditions.rs`; a refused write hands back the item as
//! it stood (`ReturnValuesOnConditionCheckFailure = ALL_OLD`), so no step ever reads first.

pub mod admin;
mod client_cache;
mod errors;
pub mod item;
pub mod table;
pub mod warm_up;

use crate::crypto::grant_token::GrantId;
use crate::domain::client_assertion::VerifiedAssertion;
use crate::domain::conditions::is_own_issue;
use crate::domain::model::{Client, GrantRecord};
use crate::domain::port::{
    ClientRegistry, ClientStore, GrantStore, ProofUse, Redemption, Rejected, Revocation, Rotation,
    StoreError,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client as DynamoClient;
use client_cache::ClientCache;
use errors::{conditional_failure, store_error};
use item::{
    b, client_key, grant_from_item, grant_key, n, s, Item, DPOP_KEY, PK, PROOF_IAT, PROOF_JTI, TTL,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct DynamoStore {
    client: DynamoClient,
    table: String,
    clients: ClientCache,
    /// Operations sent (the SDK's own retries of one operation count once).
    sent: AtomicU64,
}

impl DynamoStore {
    pub fn new(client: DynamoClient, table: String, client_cache_seconds: u64) -> Self {
        Self {
            client,
            table,
            clients: ClientCache::new(Duration::from_secs(client_cache_seconds)),
            sent: AtomicU64::new(0),
        }
    }

    pub fn sdk(&self) -> &DynamoClient {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Counts one request about to be sent.
    fn count(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    fn parse_grant(item: &Item) -> Result<GrantRecord, StoreError> {
        grant_from_item(item)
            .map_err(|bad| StoreError::Internal(format!("malformed grant item: {}", bad.0)))
    }

    /// An update of one grant item.
    fn update_grant(&self, grant_id: &GrantId) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, grant_key(grant_id))
    }

    /// Sends a conditional update that returns the item after the write, or as it stood when
    /// the condition failed.
    async fn conditional_update(
        &self,
        request: UpdateItemFluentBuilder,
    ) -> Result<GrantRecord, Rejected> {
        self.count();
        let result = request
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Self::parse_grant(
                output.attributes().unwrap_or(&Item::new()),
            )?),
            Err(error) => match conditional_failure(error) {
                Ok(old) => Err(Self::refused(old.as_ref())),
                Err(error) => Err(Rejected::Store(error)),
            },
        }
    }

    fn refused(item: Option<&Item>) -> Rejected {
        match item.filter(|i| !i.is_empty()) {
            None => Rejected::Condition(None),
            Some(item) => match Self::parse_grant(item) {
                Ok(record) => Rejected::Condition(Some(Box::new(record))),
                Err(error) => Rejected::Store(error),
            },
        }
    }
}

/// The DPoP part of a redemption's or rotation's write: `conditions::key_fits` in the condition
/// (a proof of the grant's key, or none for an unbound grant), and the proof remembered by the
/// same write (`:key`, `:proof_iat` and `:proof_jti` for the caller's further clauses).
fn with_proof(
    request: UpdateItemFluentBuilder,
    proof: Option<&ProofUse>,
    condition: &mut String,
    update: &mut String,
) -> UpdateItemFluentBuilder {
    let Some(proof) = proof else {
        condition.push_str(&format!(" AND attribute_not_exists({DPOP_KEY})"));
        return request;
    };
    condition.push_str(&format!(
        " AND (attribute_not_exists({DPOP_KEY}) OR {DPOP_KEY} = :key)"
    ));
    update.push_str(&format!(
        ", {PROOF_IAT} = :proof_iat, {PROOF_JTI} = :proof_jti"
    ));
    request
        .expression_attribute_values(":key", b(&proof.key))
        .expression_attribute_values(":proof_iat", n(proof.iat))
        .expression_attribute_values(":proof_jti", b(&proof.jti))
}

#[async_trait]
impl ClientStore for DynamoStore {
    async fn find_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        self.find_client_accepting(client_id, &|_| true).await
    }

    async fn find_client_accepting(
        &self,
        client_id: &str,
        accept: &(dyn for<'c> Fn(&'c Client) -> bool + Send + Sync),
    ) -> Result<Option<Client>, StoreError> {
        if let Some(client) = self.clients.get(client_id) {
            if accept(&client) {
                return Ok(Some(client));
            }
        }
        self.count();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, client_key(client_id))
            .send()
            .await
            .map_err(store_error)?;
        let Some(item) = output.item() else {
            return Ok(None);
        };
        let client = item::client_from_item(item)
            .map_err(|bad| StoreError::Internal(format!("malformed client item: {}", bad.0)))?;
        self.clients.put(client.clone());
        Ok(Some(client))
    }

    /// One conditional PutItem: `attribute_not_exists(pk) OR expires_at <= :now` is
    /// `conditions::assertion_spendable`. The item's TTL is `remember_until`.
    async fn spend_assertion(
        &self,
        assertion: &VerifiedAssertion,
        now: i64,
    ) -> Result<bool, StoreError> {
        let spender = crate::crypto::random_bytes::<16>();
        self.count();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, item::assertion_key(&assertion.jti_hash))
            .item(TTL, n(assertion.remember_until))
            .item(item::SPENDER, b(&spender))
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing = match result {
            Ok(_) => return Ok(true),
            Err(error) => conditional_failure(error)?,
        };
        // Our own write, applied before its answer was lost, or another request's: a replay.
        Ok(existing
            .as_ref()
            .and_then(|item| item.get(item::SPENDER))
            .is_some_and(|mark| *mark == b(&spender)))
    }
}

#[async_trait]
impl ClientRegistry for DynamoStore {
    async fn put_client(&self, client: &Client) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item::client_to_item(client)))
            .send()
            .await
            .map_err(store_error)?;
        // This instance sees its own change at once (others within the cache lifetime).
        self.clients.forget(&client.id);
        Ok(())
    }
}

#[async_trait]
impl GrantStore for DynamoStore {
    async fn issue_code(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        self.count();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item::grant_to_item(grant)))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing = match result {
            Ok(_) => return Ok(()),
            Err(error) => conditional_failure(error)?,
        };
        match existing.as_ref().map(Self::parse_grant).transpose()? {
            Some(existing) if is_own_issue(&existing, grant) => Ok(()),
            _ => Err(StoreError::AlreadyExists),
        }
    }

    async fn redeem_code(&self, r: &Redemption) -> Result<GrantRecord, Rejected> {
        let mut condition = String::from(
            "code_hash = :code AND attribute_not_exists(redeemed_at) \
             AND attribute_not_exists(revoked_at) AND code_expires_at > :now \
             AND client_id = :client",
        );
        let mut update = String::from(
            "SET redeemed_at = :now, rotated_at = :now, refresh_hash = :refresh, \
             generation = :zero, expires_at = :expires",
        );
        let request = self.update_grant(&r.grant_id);
        let request = with_proof(request, r.proof.as_ref(), &mut condition, &mut update);
        // conditions::apply_redemption: only a public client's grant stays bound.
        if r.proof.is_some() && r.bind_to_proof_key {
            update.push_str(&format!(", {DPOP_KEY} = :key"));
        } else {
            update.push_str(&format!(" REMOVE {DPOP_KEY}"));
        }
        let mut request = request
            .update_expression(update)
            .expression_attribute_values(":code", b(&r.code_hash.0))
            .expression_attribute_values(":now", n(r.now))
            .expression_attribute_values(":client", s(&r.client_id))
            .expression_attribute_values(":refresh", b(&r.refresh_hash.0))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":expires", n(r.expires_at));
        match &r.redirect_uri {
            Some(uri) => {
                condition.push_str(
                    " AND (attribute_not_exists(redirect_uri) OR redirect_uri = :redirect)",
                );
                request = request.expression_attribute_values(":redirect", s(uri));
            }
            None => condition.push_str(" AND attribute_not_exists(redirect_uri)"),
        }
        match &r.verifier {
            Some(proof) => {
                condition.push_str(
                    " AND ((challenge_method = :s256 AND challenge = :s256_value) \
                     OR (challenge_method = :plain AND challenge = :plain_value))",
                );
                request = request
                    .expression_attribute_values(":s256", s("S256"))
                    .expression_attribute_values(":s256_value", s(&proof.s256))
                    .expression_attribute_values(":plain", s("plain"))
                    .expression_attribute_values(":plain_value", s(&proof.plain));
            }
            None => condition.push_str(" AND attribute_not_exists(challenge)"),
        }
        self.conditional_update(request.condition_expression(condition))
            .await
    }

    async fn rotate_refresh_token(&self, r: &Rotation) -> Result<GrantRecord, Rejected> {
        let mut condition = String::from(
            "refresh_hash = :presented AND attribute_not_exists(revoked_at) \
             AND client_id = :client AND rotated_at > :idle_cutoff \
             AND redeemed_at > :absolute_cutoff",
        );
        let mut update = String::from(
            "SET previous_hash = :presented, refresh_hash = :successor, \
             generation = :generation, rotated_at = :now, expires_at = :expires",
        );
        let request = self.update_grant(&r.grant_id);
        let mut request = with_proof(request, r.proof.as_ref(), &mut condition, &mut update);
        if r.proof.is_some() {
            // conditions::proof_is_new.
            condition.push_str(&format!(
                " AND (attribute_not_exists({PROOF_IAT}) OR {PROOF_IAT} < :proof_iat \
                 OR ({PROOF_IAT} = :proof_iat AND {PROOF_JTI} <> :proof_jti))"
            ));
        }
        match &r.sealed_successor {
            Some(sealed) => {
                update.push_str(", sealed_successor = :sealed");
                request = request.expression_attribute_values(":sealed", b(sealed));
            }
            None => update.push_str(" REMOVE sealed_successor"),
        }
        let mut request = request
            .update_expression(update)
            .expression_attribute_values(":presented", b(&r.presented_hash.0))
            .expression_attribute_values(":client", s(&r.client_id))
            .expression_attribute_values(":idle_cutoff", n(r.idle_cutoff))
            .expression_attribute_values(":absolute_cutoff", n(r.absolute_cutoff))
            .expression_attribute_values(":successor", b(&r.successor_hash.0))
            .expression_attribute_values(":generation", n(r.successor_generation.into()))
            .expression_attribute_values(":now", n(r.now))
            .expression_attribute_values(":expires", n(r.expires_at));
        for (i, scope) in r.required_scope.iter().enumerate() {
            condition.push_str(&format!(" AND contains(#scope, :scope{i})"));
            request = request.expression_attribute_values(format!(":scope{i}"), s(scope));
        }
        if !r.required_scope.is_empty() {
            request = request.expression_attribute_names("#scope", "scope");
        }
        self.conditional_update(request.condition_expression(condition))
            .await
    }

    async fn revoke(&self, r: &Revocation) -> Result<GrantRecord, Rejected> {
        let mut condition = String::from("attribute_exists(pk)");
        let mut request = self
            .update_grant(&r.grant_id)
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .expression_attribute_values(":now", n(r.now));
        if let Some(client_id) = &r.client_id {
            condition.push_str(" AND client_id = :client");
            request = request.expression_attribute_values(":client", s(client_id));
        }
        if let Some((generation, hash)) = &r.presented {
            condition.push_str(
                " AND attribute_exists(redeemed_at) \
                 AND (generation > :generation OR refresh_hash = :presented)",
            );
            request = request
                .expression_attribute_values(":generation", n((*generation).into()))
                .expression_attribute_values(":presented", b(&hash.0));
        }
        self.conditional_update(request.condition_expression(condition))
            .await
    }

    async fn find_grant(&self, grant_id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
        self.count();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, grant_key(grant_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        output.item().map(Self::parse_grant).transpose()
    }

    fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

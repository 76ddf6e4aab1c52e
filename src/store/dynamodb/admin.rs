//! Operator steps that no grant flow needs: listing and changing clients, listing grants by user
//! or client through the indexes. Used by `tokenctl`.

use super::errors::{conditional_failure, store_error};
use super::item::{b, client_from_item, client_key, s, Item, PK};
use super::table::{BY_CLIENT_INDEX, BY_USER_INDEX};
use super::DynamoStore;
use crate::crypto::grant_token::GrantId;
use crate::domain::model::{Client, SecretHash};
use crate::domain::pkce::PkcePolicy;
use crate::domain::port::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;

/// A grant as the indexes show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantSummary {
    pub grant_id: GrantId,
    pub client_id: String,
    pub user_id: String,
    pub created_at: i64,
    pub redeemed_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn malformed(what: &'static str) -> StoreError {
    StoreError::Internal(format!("malformed item: {what}"))
}

fn summary(item: &Item) -> Result<GrantSummary, StoreError> {
    let text = |name: &'static str| match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(malformed(name)),
    };
    let number = |name: &'static str| match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| malformed(name)),
        Some(_) => Err(malformed(name)),
    };
    let grant_id = text(PK)?
        .strip_prefix("grant#")
        .and_then(GrantId::parse)
        .ok_or(malformed(PK))?;
    Ok(GrantSummary {
        grant_id,
        client_id: text("client_id")?,
        user_id: text("user_id")?,
        created_at: number("created_at")?.ok_or(malformed("created_at"))?,
        redeemed_at: number("redeemed_at")?,
        revoked_at: number("revoked_at")?,
    })
}

/// Which index to list grants from.
pub enum GrantsOf<'a> {
    User(&'a str),
    Client(&'a str),
}

impl DynamoStore {
    /// Every registered client, in no particular order. A scan: for operators, not for requests.
    pub async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        let mut clients = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :prefix)")
                .expression_attribute_values(":prefix", s("client#"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for item in page.items() {
                clients.push(client_from_item(item).map_err(|bad| malformed(bad.0))?);
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        clients.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(clients)
    }

    /// Enables or disables a client. `Ok(false)` when there is no such client.
    pub async fn set_client_enabled(&self, id: &str, enabled: bool) -> Result<bool, StoreError> {
        self.update_client(id, "SET enabled = :v", AttributeValue::Bool(enabled))
            .await
    }

    /// Sets what a client's codes must carry (PKCE). `Ok(false)` when there is no such client.
    pub async fn set_client_pkce(&self, id: &str, pkce: PkcePolicy) -> Result<bool, StoreError> {
        self.update_client(id, "SET pkce = :v", s(pkce.as_str()))
            .await
    }

    /// Replaces a client's secret hash. `Ok(false)` when there is no such client.
    pub async fn set_client_secret(&self, id: &str, hash: &SecretHash) -> Result<bool, StoreError> {
        self.update_client(id, "SET secret_hash = :v", b(&hash.0))
            .await
    }

    async fn update_client(
        &self,
        id: &str,
        update: &str,
        value: AttributeValue,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, client_key(id))
            .update_expression(update)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":v", value)
            .send()
            .await;
        match result {
            Ok(_) => {
                self.clients.forget(id);
                Ok(true)
            }
            Err(error) => conditional_failure(error).map(|_| false),
        }
    }

    /// The grants of one user or one client, newest first, from the matching index.
    pub async fn list_grants(&self, of: GrantsOf<'_>) -> Result<Vec<GrantSummary>, StoreError> {
        let (index, attribute, value) = match of {
            GrantsOf::User(user) => (BY_USER_INDEX, "user_id", user),
            GrantsOf::Client(client) => (BY_CLIENT_INDEX, "client_id", client),
        };
        let mut grants = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(format!("{attribute} = :v"))
                .expression_attribute_values(":v", s(value))
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for item in page.items() {
                grants.push(summary(item)?);
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(grants)
    }
}

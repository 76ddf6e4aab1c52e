//! Operator steps that no grant flow needs: listing and changing clients, listing grants by user
//! or client through the indexes. Used by `tokenctl`.

use super::errors::{conditional_failure, store_error};
use super::item::{
    b, client_from_item, client_key, lifetime_attributes, n, s, Item, AUTH_METHOD, JWKS, PK,
    PREVIOUS_SECRET, PREVIOUS_SECRET_EXPIRES,
};
use super::table::{BY_CLIENT_INDEX, BY_USER_INDEX};
use super::DynamoStore;
use crate::crypto::grant_token::GrantId;
use crate::domain::client_assertion::ClientKeys;
use crate::domain::model::{Client, ClientLifetimes, SecretHash};
use crate::domain::pkce::PkcePolicy;
use crate::domain::port::{ClientStore, StoreError};
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

/// What a secret rotation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretRotation {
    Rotated,
    NoSuchClient,
    /// The secret before the current one still works: retire it (or wait for its expiry)
    /// first, so the rotation drops no secret in use.
    PreviousStillLive,
}

const LIFETIME_PLACEHOLDERS: [&str; 4] = [":l0", ":l1", ":l2", ":l3"];

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
        let value = AttributeValue::Bool(enabled);
        self.update_client(
            id,
            "SET enabled = :v",
            "attribute_exists(pk)",
            [(":v", value)],
        )
        .await
    }

    /// Sets what a client's codes must carry (PKCE). `Ok(false)` when there is no such client.
    pub async fn set_client_pkce(&self, id: &str, pkce: PkcePolicy) -> Result<bool, StoreError> {
        let value = s(pkce.as_str());
        self.update_client(id, "SET pkce = :v", "attribute_exists(pk)", [(":v", value)])
            .await
    }

    /// Replaces every secret of a client with this one (a leaked secret): the previous one, if
    /// any, goes too. `Ok(false)` when there is no such client.
    pub async fn replace_client_secret(
        &self,
        id: &str,
        hash: &SecretHash,
    ) -> Result<bool, StoreError> {
        let update =
            format!("SET secret_hash = :v REMOVE {PREVIOUS_SECRET}, {PREVIOUS_SECRET_EXPIRES}");
        self.update_client(id, &update, "attribute_exists(pk)", [(":v", b(&hash.0))])
            .await
    }

    /// Makes `hash` the client's secret and keeps the current one working beside it, until
    /// `retire_client_secret` or `old_expires_at`: a rotation without downtime. Refused while
    /// an earlier previous secret is still live, so no rotation ever drops a secret in use
    /// (at most two at once); one step, so two operators rotating at once cannot lose one.
    pub async fn rotate_client_secret(
        &self,
        id: &str,
        hash: &SecretHash,
        old_expires_at: Option<i64>,
        now: i64,
    ) -> Result<SecretRotation, StoreError> {
        let mut values = vec![(":v", b(&hash.0)), (":now", n(now))];
        let update = match old_expires_at {
            Some(at) => {
                values.push((":exp", n(at)));
                format!(
                    "SET {PREVIOUS_SECRET} = secret_hash, secret_hash = :v, \
                     {PREVIOUS_SECRET_EXPIRES} = :exp"
                )
            }
            None => format!(
                "SET {PREVIOUS_SECRET} = secret_hash, secret_hash = :v \
                 REMOVE {PREVIOUS_SECRET_EXPIRES}"
            ),
        };
        let condition = format!(
            "attribute_exists(pk) AND (attribute_not_exists({PREVIOUS_SECRET}) \
             OR {PREVIOUS_SECRET_EXPIRES} <= :now)"
        );
        if self.update_client(id, &update, &condition, values).await? {
            return Ok(SecretRotation::Rotated);
        }
        Ok(match self.find_client(id).await? {
            None => SecretRotation::NoSuchClient,
            Some(_) => SecretRotation::PreviousStillLive,
        })
    }

    /// Replaces the public keys of a client registered with keys (`private_key_jwt`): to add a
    /// key before the app uses it, or to drop one it no longer uses. `Ok(false)` when there is
    /// no such client, or it authenticates otherwise.
    pub async fn set_client_keys(&self, id: &str, keys: &ClientKeys) -> Result<bool, StoreError> {
        let update = format!("SET {JWKS} = :v");
        let condition = format!("{AUTH_METHOD} = :m");
        let values = [(":v", s(keys.as_json())), (":m", s("private_key_jwt"))];
        self.update_client(id, &update, &condition, values).await
    }

    /// Ends the previous secret now. `Ok(false)` when there is no such client.
    pub async fn retire_client_secret(&self, id: &str) -> Result<bool, StoreError> {
        let update = format!("REMOVE {PREVIOUS_SECRET}, {PREVIOUS_SECRET_EXPIRES}");
        self.update_client(id, &update, "attribute_exists(pk)", [])
            .await
    }

    /// Sets a client's own lifetimes; each `None` goes back to the server's.
    pub async fn set_client_lifetimes(
        &self,
        id: &str,
        lifetimes: &ClientLifetimes,
    ) -> Result<bool, StoreError> {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut values = Vec::new();
        for (i, (name, value)) in lifetime_attributes(lifetimes).into_iter().enumerate() {
            match value {
                Some(seconds) => {
                    set.push(format!("{name} = :l{i}"));
                    values.push((LIFETIME_PLACEHOLDERS[i], n(seconds)));
                }
                None => remove.push(name),
            }
        }
        let mut update = String::new();
        if !set.is_empty() {
            update += &format!("SET {} ", set.join(", "));
        }
        if !remove.is_empty() {
            update += &format!("REMOVE {}", remove.join(", "));
        }
        self.update_client(id, update.trim_end(), "attribute_exists(pk)", values)
            .await
    }

    /// One conditional update of a client record; `Ok(false)` when the condition fails.
    async fn update_client<'v>(
        &self,
        id: &str,
        update: &str,
        condition: &str,
        values: impl IntoIterator<Item = (&'v str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let values: std::collections::HashMap<String, AttributeValue> = values
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, client_key(id))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
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

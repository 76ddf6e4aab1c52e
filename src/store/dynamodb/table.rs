//! The table definition, in one place: `tables create` in the admin tool and every test table
//! are built from it, and a test checks that `template.yaml` declares the same keys, attributes
//! and indexes.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

pub const BY_USER_INDEX: &str = "by_user";
pub const BY_CLIENT_INDEX: &str = "by_client";
/// Attributes the indexes carry besides their keys: enough to list grants without reading the
/// items, none that a refresh changes (so a refresh never writes to an index).
pub const INDEX_ATTRIBUTES: [&str; 4] = ["client_id", "user_id", "redeemed_at", "revoked_at"];

/// (name, type) of every key attribute.
pub const KEY_ATTRIBUTES: [(&str, &str); 4] = [
    ("pk", "S"),
    ("user_id", "S"),
    ("client_id", "S"),
    ("created_at", "N"),
];

/// (index name, hash key, range key).
pub const INDEXES: [(&str, &str, &str); 2] = [
    (BY_USER_INDEX, "user_id", "created_at"),
    (BY_CLIENT_INDEX, "client_id", "created_at"),
];

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("key schema element is complete")
}

/// Creates the table (on-demand) and enables TTL on `expires_at`.
pub async fn create_table(client: &Client, name: &str) -> Result<(), aws_sdk_dynamodb::Error> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash));
    for (attribute, kind) in KEY_ATTRIBUTES {
        let kind = match kind {
            "N" => ScalarAttributeType::N,
            _ => ScalarAttributeType::S,
        };
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(kind)
                .build()
                .expect("attribute definition is complete"),
        );
    }
    for (index, hash, range) in INDEXES {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(key(hash, KeyType::Hash))
                .key_schema(key(range, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .set_non_key_attributes(Some(
                            INDEX_ATTRIBUTES
                                .iter()
                                .filter(|a| **a != hash)
                                .map(|a| a.to_string())
                                .collect(),
                        ))
                        .build(),
                )
                .build()
                .expect("index is complete"),
        );
    }
    request.send().await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(super::item::TTL)
                .enabled(true)
                .build()
                .expect("TTL specification is complete"),
        )
        .send()
        .await?;
    Ok(())
}

pub async fn delete_table(client: &Client, name: &str) -> Result<(), aws_sdk_dynamodb::Error> {
    client.delete_table().table_name(name).send().await?;
    Ok(())
}

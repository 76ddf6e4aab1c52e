//! Items read back from DynamoDB: client items (`client_from_item`) and grant items
//! (`grant_from_item`). A hand edit, a bug in another writer or a restored backup can put
//! anything in the table.
//!
//! The input is an item in DynamoDB's JSON (what `aws dynamodb get-item` prints):
//! `{"pk": {"S": "client#000000"}, "enabled": {"BOOL": true}, "created_at": {"N": "1"}, ...}`,
//! with `S`, `N`, `B` (base64), `SS`, `NS`, `BS`, `BOOL`, `NULL`, `L` and `M` values.
//!
//! Asserts: no panic; an item that parses writes back to an item that parses to the same
//! record (what the service reads, it can store again unchanged).
#![no_main]

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chatroom_token::store::dynamodb::item::{
    client_from_item, client_to_item, grant_from_item, grant_to_item, Item,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Nested values stop here: DynamoDB allows 32 levels.
const MAX_DEPTH: usize = 32;

fn attribute(value: &Value, depth: usize) -> Option<AttributeValue> {
    let object = value.as_object()?;
    if object.len() != 1 || depth > MAX_DEPTH {
        return None;
    }
    let (kind, value) = object.iter().next()?;
    let strings = || -> Option<Vec<String>> {
        value
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let blob = |v: &Value| Some(Blob::new(STANDARD.decode(v.as_str()?).ok()?));
    Some(match kind.as_str() {
        "S" => AttributeValue::S(value.as_str()?.to_owned()),
        "N" => AttributeValue::N(value.as_str()?.to_owned()),
        "B" => AttributeValue::B(blob(value)?),
        "SS" => AttributeValue::Ss(strings()?),
        "NS" => AttributeValue::Ns(strings()?),
        "BS" => AttributeValue::Bs(value.as_array()?.iter().map(blob).collect::<Option<_>>()?),
        "BOOL" => AttributeValue::Bool(value.as_bool()?),
        "NULL" => AttributeValue::Null(value.as_bool()?),
        "L" => AttributeValue::L(
            value
                .as_array()?
                .iter()
                .map(|v| attribute(v, depth + 1))
                .collect::<Option<_>>()?,
        ),
        "M" => AttributeValue::M(item(value, depth + 1)?),
        _ => return None,
    })
}

fn item(value: &Value, depth: usize) -> Option<Item> {
    value
        .as_object()?
        .iter()
        .map(|(name, v)| Some((name.clone(), attribute(v, depth)?)))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Some(item) = item(&value, 0) else {
        return;
    };
    if let Ok(client) = client_from_item(&item) {
        let again = client_from_item(&client_to_item(&client)).expect("a written client parses");
        assert_eq!(
            again, client,
            "a client changed on its way back to the table"
        );
    }
    if let Ok(grant) = grant_from_item(&item) {
        let again = grant_from_item(&grant_to_item(&grant)).expect("a written grant parses");
        assert_eq!(again, grant, "a grant changed on its way back to the table");
    }
});

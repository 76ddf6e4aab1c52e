//! DynamoDB-only proofs: the table matches the deployment's, each grant step costs the requests
//! the design promises, a lost answer is recognised as our own write, and throttling is a clean
//! 503. Runs on moto's server at AWS_ENDPOINT_URL_DYNAMODB.

mod support;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use chatroom_token::clock::Clock;
use chatroom_token::crypto::grant_token::TokenKind;
use chatroom_token::domain::client_assertion::ASSERTION_TYPE;
use chatroom_token::domain::port::{ClientRegistry, GrantStore};
use chatroom_token::domain::service::Lifetimes;
use chatroom_token::store::dynamodb::item::TTL;
use chatroom_token::store::dynamodb::table::{INDEXES, INDEX_ATTRIBUTES, KEY_ATTRIBUTES};
use chatroom_token::store::dynamodb::DynamoStore;
use serde_yaml_ng::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use support::backends::{sdk_client, sdk_config_builder, Dynamo};
use support::sdk_faults::{instrumented_store, Injection, RequestLog};
use support::*;

/// A DynamoDB backend whose SDK client reports every request to a `RequestLog`.
struct Instrumented {
    tables: Dynamo,
    log: RequestLog,
    client_cache_seconds: u64,
}

impl Instrumented {
    fn new() -> Self {
        Self::with_client_cache(60)
    }

    fn with_client_cache(client_cache_seconds: u64) -> Self {
        Self {
            tables: Dynamo::default(),
            log: RequestLog::default(),
            client_cache_seconds,
        }
    }
}

impl Backend for Instrumented {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        let table = self.tables.new_table(&sdk_client()).await;
        let store = Arc::new(instrumented_store(
            table,
            &self.log,
            self.client_cache_seconds,
        ));
        (store.clone(), store)
    }
}

#[tokio::test]
async fn each_grant_step_costs_the_promised_requests() {
    let backend = Instrumented::new();
    let h = Harness::standard(&backend).await;
    let code = h.code().await;
    backend.log.take();

    let redeemed = h.redeem(&code).await;
    redeemed.assert_ok();
    // The client record is cached (issuing the code read it): one conditional write.
    assert_eq!(backend.log.take(), ["UpdateItem"], "code redemption");

    let first = redeemed.refresh_token();
    let refreshed = h.refresh(&first).await;
    refreshed.assert_ok();
    assert_eq!(backend.log.take(), ["UpdateItem"], "refresh");

    let retry = h.refresh(&first).await;
    assert_eq!(retry.refresh_token(), refreshed.refresh_token());
    assert_eq!(backend.log.take(), ["UpdateItem"], "grace retry");

    h.clock.advance(60);
    let second = h.refresh(&refreshed.refresh_token()).await;
    second.assert_ok();
    assert_eq!(backend.log.take(), ["UpdateItem"], "warm second refresh");

    h.refresh(&first).await.assert_error(400, "invalid_grant");
    assert_eq!(
        backend.log.take(),
        ["UpdateItem", "UpdateItem"],
        "reuse: refused write, revoke"
    );
    backend.tables.cleanup().await;
}

/// Revocation is one conditional write; introspecting an access token one strongly consistent
/// read, a refresh token none (with the
/// caller's client record warm in this instance's cache, as for the grants).
#[tokio::test]
async fn revocation_and_introspection_cost_the_promised_requests() {
    let backend = Instrumented::new();
    let h = Harness::standard(&backend).await;
    let reply = h.redeem(&h.code().await).await;
    let (refresh, access) = (reply.refresh_token(), reply.access_token());
    h.introspect(&access).await; // warms the resource server's client record
    backend.log.take();

    assert_eq!(h.introspect(&access).await.body["active"], true);
    assert_eq!(
        backend.log.take(),
        ["GetItem"],
        "introspecting an access token"
    );
    assert_eq!(h.introspect(&refresh).await.body["active"], false);
    assert_eq!(
        backend.log.take(),
        Vec::<String>::new(),
        "a refresh token is never active for a resource server and costs nothing"
    );
    assert_eq!(h.introspect("forged").await.body["active"], false);
    assert_eq!(
        backend.log.take(),
        Vec::<String>::new(),
        "a forged token costs nothing"
    );

    assert_eq!(h.revoke(&refresh).await.status, 200);
    assert_eq!(backend.log.take(), ["UpdateItem"], "revocation");
    assert_eq!(h.revoke(&access).await.status, 200);
    assert_eq!(backend.log.take(), ["UpdateItem"], "revoking again");
    assert_eq!(h.revoke("forged").await.status, 200);
    assert_eq!(
        backend.log.take(),
        Vec::<String>::new(),
        "a forged token costs nothing"
    );
    backend.tables.cleanup().await;
}

#[tokio::test]
async fn without_the_client_cache_each_request_adds_one_client_read() {
    let backend = Instrumented::with_client_cache(0);
    let h = Harness::standard(&backend).await;
    let code = h.code().await;
    backend.log.take();
    let redeemed = h.redeem(&code).await;
    redeemed.assert_ok();
    assert_eq!(
        backend.log.take(),
        ["GetItem", "UpdateItem"],
        "cold code redemption"
    );
    h.refresh(&redeemed.refresh_token()).await.assert_ok();
    assert_eq!(
        backend.log.take(),
        ["GetItem", "UpdateItem"],
        "cold refresh"
    );
    backend.tables.cleanup().await;
}

#[tokio::test]
async fn a_lost_answer_retried_by_the_sdk_is_our_own_write() {
    let backend = Instrumented::new();
    // No grace window: only the own-write check can save these requests from a reuse verdict.
    let lifetimes = Lifetimes {
        grace: 0,
        ..Lifetimes::default()
    };
    let h = Harness::new(&backend, lifetimes).await;
    let code = h.code().await;
    h.clients.find_client(CLIENT_ID).await.unwrap(); // warm the client cache
    backend.log.take();

    backend.log.inject("UpdateItem", Injection::LoseNextAnswer);
    let redeemed = h.redeem(&code).await;
    redeemed.assert_ok();
    assert_eq!(
        backend.log.take(),
        ["UpdateItem", "UpdateItem"],
        "one retry, no revoke"
    );

    backend.log.inject("UpdateItem", Injection::LoseNextAnswer);
    let refreshed = h.refresh(&redeemed.refresh_token()).await;
    refreshed.assert_ok();
    assert_eq!(
        backend.log.take(),
        ["UpdateItem", "UpdateItem"],
        "one retry, no revoke"
    );

    // The token handed out is the live one and the grant was not revoked.
    let token = token_keys()
        .open(TokenKind::Refresh, &refreshed.refresh_token())
        .unwrap();
    let grant = h.grants.find_grant(&token.grant_id).await.unwrap().unwrap();
    assert!(grant.revoked_at.is_none());
    assert!(grant.refresh_hash.unwrap().matches(&token.hash));
    h.refresh(&refreshed.refresh_token()).await.assert_ok();
    backend.tables.cleanup().await;
}

/// `private_key_jwt` costs one conditional PutItem per request (the assertion's `jti`, spent
/// once), beside the client read the cache saves as for secrets.
#[tokio::test]
async fn an_assertion_costs_one_conditional_put() {
    let backend = Instrumented::new();
    let h = Harness::with_private_key_jwt(&backend).await;
    let client_token = |assertion: String| {
        let h = &h;
        async move {
            h.post(&[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ])
            .await
        }
    };
    backend.log.take();
    assert_eq!(client_token(h.assertion()).await.status, 200);
    assert_eq!(
        backend.log.take(),
        ["GetItem", "PutItem"],
        "cold: the client, the jti"
    );
    assert_eq!(client_token(h.assertion()).await.status, 200);
    assert_eq!(backend.log.take(), ["PutItem"], "warm: the jti");
    let replayed = h.assertion();
    assert_eq!(client_token(replayed.clone()).await.status, 200);
    backend.log.take();
    assert_eq!(client_token(replayed).await.status, 401);
    assert_eq!(backend.log.take(), ["PutItem"], "a replay: the refused put");
    backend.tables.cleanup().await;
}

/// DynamoDB applies the assertion's PutItem and its answer is lost: the SDK's retry finds the
/// request's own mark and the request goes on; a replay of the assertion is still refused.
#[tokio::test]
async fn a_lost_answer_to_spending_an_assertion_is_our_own_write() {
    let backend = Instrumented::new();
    let h = Harness::with_private_key_jwt(&backend).await;
    h.clients.find_client(KEYED_ID).await.unwrap(); // warm the client cache
    let assertion = h.assertion();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ];
    backend.log.take();
    backend.log.inject("PutItem", Injection::LoseNextAnswer);
    let reply = h.post(&form).await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(backend.log.take(), ["PutItem", "PutItem"], "one retry");
    backend.log.clear_injection();
    h.post(&form).await.assert_error(401, "invalid_client");
    backend.tables.cleanup().await;
}

/// DPoP costs no request: the proof is checked before the write, and what the grant keeps of it
/// (the bound key, the last proof) rides in the one conditional write of each step.
#[tokio::test]
async fn a_dpop_refresh_is_still_one_conditional_write() {
    let backend = Instrumented::new();
    let h = Harness::with_dpop(&backend, false).await;
    let key = support::dpop::DpopKey::new();
    let challenge = chatroom_token::domain::pkce::CodeChallenge {
        method: chatroom_token::domain::pkce::ChallengeMethod::S256,
        value: S256_CHALLENGE.into(),
    };
    let code = h
        .code_with(PUBLIC_ID, "chat_read", Some(REDIRECT_URI), Some(challenge))
        .await;
    backend.log.take();
    let redeemed = h
        .post_with_dpop(
            &[
                ("grant_type", "authorization_code"),
                ("client_id", PUBLIC_ID),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
            &[&key.proof(h.clock.now())],
        )
        .await;
    assert_eq!(redeemed.body["token_type"], "DPoP", "{}", redeemed.raw);
    assert_eq!(backend.log.take(), ["UpdateItem"], "code redemption");
    let first = redeemed.refresh_token();
    let refresh = |token: String| {
        let h = &h;
        let proof = key.proof(h.clock.now());
        async move {
            h.post_with_dpop(
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", PUBLIC_ID),
                    ("refresh_token", &token),
                ],
                &[&proof],
            )
            .await
        }
    };
    let refreshed = refresh(first.clone()).await;
    assert_eq!(refreshed.body["token_type"], "DPoP", "{}", refreshed.raw);
    assert_eq!(backend.log.take(), ["UpdateItem"], "refresh");
    let retried = refresh(first).await;
    assert_eq!(retried.refresh_token(), refreshed.refresh_token());
    assert_eq!(backend.log.take(), ["UpdateItem"], "grace retry");
    let thief = h
        .post(&[
            ("grant_type", "refresh_token"),
            ("client_id", PUBLIC_ID),
            ("refresh_token", &refreshed.refresh_token()),
        ])
        .await;
    thief.assert_error(400, "invalid_grant");
    assert_eq!(
        backend.log.take(),
        ["UpdateItem"],
        "no key: the refused write, no revocation"
    );
    backend.tables.cleanup().await;
}

/// The consent page's code: DynamoDB applies the PutItem and its answer is lost. The SDK's retry
/// finds the grant holding this very code: the page gets that code (not a 500), and it redeems.
#[tokio::test]
async fn a_lost_answer_to_issuing_a_code_is_our_own_write() {
    let backend = Instrumented::new();
    let h = Harness::standard(&backend).await;
    h.clients.find_client(CLIENT_ID).await.unwrap(); // warm the client cache
    backend.log.take();

    backend.log.inject("PutItem", Injection::LoseNextAnswer);
    let reply = h
        .call(internal_codes_request(&internal_code_body(), true))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(backend.log.take(), ["PutItem", "PutItem"], "one retry");
    let code = reply.body["code"].as_str().unwrap();
    h.redeem_verified(code).await.assert_ok();
    backend.tables.cleanup().await;
}

#[tokio::test]
async fn throttling_is_503_with_retry_after_and_writes_nothing() {
    let backend = Instrumented::new();
    let h = Harness::standard(&backend).await;
    let first = h.grant().await;
    backend.log.take();

    backend.log.inject("UpdateItem", Injection::Throttle);
    let reply = h.refresh(&first).await;
    reply.assert_error(503, "temporarily_unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(
        backend.log.take().len(),
        3,
        "the SDK's own retries ran first"
    );

    backend.log.clear_injection();
    let token = token_keys().open(TokenKind::Refresh, &first).unwrap();
    let grant = h.grants.find_grant(&token.grant_id).await.unwrap().unwrap();
    assert_eq!(grant.generation, 0, "nothing was written");
    h.refresh(&first).await.assert_ok();
    backend.tables.cleanup().await;
}

/// Oversized input never reaches DynamoDB (it would be a ValidationException there, a 500 for
/// the caller): a client id longer than any we issue, and a scope with hundreds of tokens.
#[tokio::test]
async fn oversized_client_ids_and_scopes_are_refused_before_any_store_call() {
    let backend = Instrumented::new();
    let h = Harness::standard(&backend).await;
    let first = h.grant().await;
    backend.log.take();

    let long_id = "x".repeat(4096);
    h.post(&[
        ("grant_type", "refresh_token"),
        ("client_id", &long_id),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", &first),
    ])
    .await
    .assert_error(401, "invalid_client");
    assert_eq!(
        backend.log.take(),
        Vec::<String>::new(),
        "no request for a long id"
    );

    let wide: Vec<String> = (0..400).map(|i| format!("scope_{i}")).collect();
    h.post(&[
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", &first),
        ("scope", &wide.join(" ")),
    ])
    .await
    .assert_error(400, "invalid_scope");
    assert_eq!(
        backend.log.take(),
        Vec::<String>::new(),
        "no request for a wide scope"
    );
    h.refresh(&first).await.assert_ok();
    backend.tables.cleanup().await;
}

/// A failed authentication costs the same store work whether the client id is unknown or known
/// (and warm in this instance's cache) with a wrong secret: one read. So the time an answer takes
/// does not tell an attacker which client ids exist.
#[tokio::test]
async fn unknown_ids_and_wrong_secrets_cost_the_same_reads() {
    let backend = Instrumented::new();
    let h = Harness::standard(&backend).await;
    let first = h.grant().await; // the client is now in the cache
    backend.log.take();
    let attempt = |id: &'static str, secret: &'static str| {
        let first = first.clone();
        let h = &h;
        async move {
            h.post(&[
                ("grant_type", "refresh_token"),
                ("client_id", id),
                ("client_secret", secret),
                ("refresh_token", &first),
            ])
            .await
            .assert_error(401, "invalid_client");
        }
    };
    for _ in 0..2 {
        attempt("no-such-client", "whatever").await;
        let unknown = backend.log.take();
        attempt(CLIENT_ID, "wrong-secret").await;
        let wrong_secret = backend.log.take();
        assert_eq!(unknown, ["GetItem"]);
        assert_eq!(wrong_secret, unknown, "the same work for both failures");
    }
    // The right secret on a warm instance still costs no read.
    h.refresh(&first).await.assert_ok();
    assert_eq!(backend.log.take(), ["UpdateItem"]);
    backend.tables.cleanup().await;
}

/// An index as compared: name, key schema, projection type, projected attributes.
type IndexShape = (String, Vec<(String, String)>, String, BTreeSet<String>);

fn yaml_str(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}

/// Reads the table definition from template.yaml.
fn template_table() -> Value {
    let text = std::fs::read_to_string("template.yaml").unwrap();
    let template: Value = serde_yaml_ng::from_str(&text).unwrap();
    template["Resources"]["TokensTable"]["Properties"].clone()
}

#[tokio::test]
async fn the_table_in_code_is_the_table_in_template_yaml() {
    let template = template_table();
    let client = sdk_client();
    let tables = Dynamo::default();
    let name = tables.new_table(&client).await;
    let described = client
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();

    let template_attributes: BTreeSet<(String, String)> = template["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| (yaml_str(&a["AttributeName"]), yaml_str(&a["AttributeType"])))
        .collect();
    let created_attributes: BTreeSet<(String, String)> = table
        .attribute_definitions()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_owned(),
                a.attribute_type().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(template_attributes, created_attributes);
    assert_eq!(created_attributes.len(), KEY_ATTRIBUTES.len());

    let key_schema = |keys: &Value| -> Vec<(String, String)> {
        keys.as_sequence()
            .unwrap()
            .iter()
            .map(|k| (yaml_str(&k["AttributeName"]), yaml_str(&k["KeyType"])))
            .collect()
    };
    let created_keys =
        |keys: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<(String, String)> {
            keys.iter()
                .map(|k| {
                    (
                        k.attribute_name().to_owned(),
                        k.key_type().as_str().to_owned(),
                    )
                })
                .collect()
        };
    assert_eq!(
        key_schema(&template["KeySchema"]),
        created_keys(table.key_schema())
    );

    let template_indexes: BTreeSet<IndexShape> = template["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|index| {
            let projection = &index["Projection"];
            (
                yaml_str(&index["IndexName"]),
                key_schema(&index["KeySchema"]),
                yaml_str(&projection["ProjectionType"]),
                projection["NonKeyAttributes"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(yaml_str)
                    .collect(),
            )
        })
        .collect();
    let created_indexes: BTreeSet<_> = table
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            let projection = index.projection().unwrap();
            (
                index.index_name().unwrap().to_owned(),
                created_keys(index.key_schema()),
                projection.projection_type().unwrap().as_str().to_owned(),
                projection.non_key_attributes().iter().cloned().collect(),
            )
        })
        .collect();
    assert_eq!(template_indexes, created_indexes);
    assert_eq!(created_indexes.len(), INDEXES.len());
    assert!(INDEX_ATTRIBUTES.len() >= 3);

    assert_eq!(yaml_str(&template["BillingMode"]), "PAY_PER_REQUEST");
    assert_eq!(
        table
            .billing_mode_summary()
            .unwrap()
            .billing_mode()
            .unwrap()
            .as_str(),
        "PAY_PER_REQUEST"
    );
    assert_eq!(
        yaml_str(&template["TimeToLiveSpecification"]["AttributeName"]),
        TTL
    );
    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description().unwrap().attribute_name(),
        Some(TTL)
    );
    tables.cleanup().await;
}

/// DynamoDB that cannot be reached at all (a closed loopback port).
struct Unreachable;

impl Backend for Unreachable {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        let memory = Arc::new(chatroom_token::store::memory::MemoryStore::new());
        let config = sdk_config_builder()
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(2)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .build();
        let store = Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::from_conf(config),
            "unreachable".into(),
            60,
        ));
        // Clients come from memory so the request gets as far as the grant write.
        (memory, store)
    }
}

#[tokio::test]
async fn an_unreachable_dynamodb_is_503_with_retry_after() {
    let h = Harness::standard(&Unreachable).await;
    let token = token_keys().mint(
        TokenKind::Refresh,
        chatroom_token::crypto::grant_token::GrantId::random(),
        0,
    );
    let reply = h.refresh(token.text().expose()).await;
    reply.assert_error(503, "temporarily_unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"));
}

/// The attacker holds a dump of the table: every attribute of the grant's item, as DynamoDB
/// returns it, tried as an HMAC key and as an XOR pad against the sealed successor.
#[tokio::test]
async fn a_dump_of_the_grant_item_does_not_open_the_sealed_successor() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use chatroom_token::crypto::grant_token::TokenHash;
    let backend = Dynamo::default();
    let h = Harness::standard(&backend).await;
    let first = h.grant().await;
    let second = h.refresh(&first).await.refresh_token();
    h.refresh(&second).await.assert_ok();
    let grant_id = token_keys()
        .open(TokenKind::Refresh, &first)
        .unwrap()
        .grant_id;
    let item = sdk_client()
        .get_item()
        .table_name(backend.last_table())
        .key("pk", AttributeValue::S(format!("grant#{grant_id}")))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let mut values = Vec::new();
    for value in item.values() {
        match value {
            AttributeValue::B(blob) => values.push(blob.as_ref().to_vec()),
            AttributeValue::S(text) | AttributeValue::N(text) => {
                values.push(text.clone().into_bytes())
            }
            AttributeValue::Ss(set) => values.extend(set.iter().map(|s| s.clone().into_bytes())),
            _ => {}
        }
    }
    let blob = |name: &str| match &item[name] {
        AttributeValue::B(blob) => blob.as_ref().to_vec(),
        other => panic!("{name} is {other:?}"),
    };
    let live = TokenHash(blob("refresh_hash").try_into().unwrap());
    assert_eq!(
        support::table_dump::opens_with_any(&blob("sealed_successor"), &live, &values),
        None,
        "an attribute of the item opened the sealed successor"
    );
    backend.cleanup().await;
}

//! The stores the suites run on: the embedded store, and DynamoDB on moto's server.

use super::Backend;
use chatroom_token::aws::Trust;
use chatroom_token::domain::port::{ClientRegistry, GrantStore};
use chatroom_token::store::dynamodb::table::{create_table, delete_table};
use chatroom_token::store::dynamodb::DynamoStore;
use chatroom_token::store::memory::MemoryStore;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub struct Memory;

impl Backend for Memory {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        let store = Arc::new(MemoryStore::new());
        (store.clone(), store)
    }
}

/// DynamoDB at `AWS_ENDPOINT_URL_DYNAMODB` (moto's server in CI). Each harness gets a table of
/// its own, created from the deployment's definition and deleted by `cleanup`.
#[derive(Default)]
pub struct Dynamo {
    tables: Mutex<Vec<String>>,
}

static TABLE_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The moto endpoint. Missing is a failure, never a skip: these tests exist to run.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL_DYNAMODB is not set: the DynamoDB tests need moto's server. \
             Run the whole suite with `bash .ci/test`, which starts it."
        )
    })
}

pub fn sdk_config_builder() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .http_client(chatroom_token::aws::http_client(Trust::AmazonRoots))
        .endpoint_url(endpoint())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
}

/// The deployed function's SDK configuration (its HTTPS client and time budget), with every
/// service at `url` and test credentials.
pub async fn function_sdk_config(url: &str) -> aws_config::SdkConfig {
    chatroom_token::aws::defaults()
        .endpoint_url(url)
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}

pub fn sdk_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(sdk_config_builder().build())
}

pub fn unique_table_name() -> String {
    format!(
        "tokens-test-{}-{}",
        std::process::id(),
        TABLE_COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

impl Dynamo {
    pub async fn new_table(&self, client: &aws_sdk_dynamodb::Client) -> String {
        let name = unique_table_name();
        create_table(client, &name)
            .await
            .expect("creating the test table");
        self.tables.lock().unwrap().push(name.clone());
        name
    }

    /// The table most recently created for this backend.
    pub fn last_table(&self) -> String {
        self.tables
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a table")
    }

    pub async fn cleanup(&self) {
        let client = sdk_client();
        let tables = std::mem::take(&mut *self.tables.lock().unwrap());
        for table in tables {
            delete_table(&client, &table)
                .await
                .expect("deleting the test table");
        }
    }
}

impl Backend for Dynamo {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        let client = sdk_client();
        let table = self.new_table(&client).await;
        let store = Arc::new(DynamoStore::new(client, table, 60));
        (store.clone(), store)
    }
}

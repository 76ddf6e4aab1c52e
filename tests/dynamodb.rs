//! Every suite test on DynamoDB (moto's server at AWS_ENDPOINT_URL_DYNAMODB), one table each.

mod suite;
mod support;

use support::backends::Dynamo;

async fn drop_tables(backend: &Dynamo) {
    backend.cleanup().await;
}

all_tests!(Dynamo::default(), drop_tables);

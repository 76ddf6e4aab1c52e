//! The reference model (tests/model/) against the service on DynamoDB (moto's server at
//! AWS_ENDPOINT_URL_DYNAMODB), with store faults and request counts. Fewer cases than on the
//! embedded store: each one creates a table. `PROPTEST_CASES` sets the number (README, "The
//! reference model").

mod model;
mod support;

use model::backends::FaultyDynamo;

#[test]
fn histories_follow_the_model() {
    model::run::histories_follow_the_model::<FaultyDynamo>(file!(), 32, 16);
}

#[test]
fn races_are_linearizable() {
    model::concurrent::races_are_linearizable::<FaultyDynamo>(file!(), 32);
}

//! The stores that implement the domain's port (`domain::port`): the embedded store, and the
//! DynamoDB store. Each evaluates the port's conditions (`domain::conditions`) for real: under a
//! lock, or as condition expressions.

pub mod dynamodb;
pub mod memory;

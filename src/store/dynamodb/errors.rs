//! Maps SDK errors to `StoreError` by their type, never by matching message text.
//!
//! What the SDK still reports after its own retries is final for this request: throttling,
//! timeouts and unreachable endpoints become `Unavailable` (503 with Retry-After); everything
//! else is `Internal` (500). A failed condition is not an error at all for the grant logic: it
//! is handed back with the item as it stood.

use super::item::Item;
use crate::domain::port::StoreError;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::QueryError;
use aws_sdk_dynamodb::operation::scan::ScanError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

/// What an operation's modelled error means to us.
pub enum Kind {
    /// The condition failed; the item as it stood, if it exists and was returned.
    ConditionFailed(Option<Item>),
    /// Throttling or a transient service fault: retry later.
    Transient,
    /// A missing table, bad request, or anything unmodelled.
    Permanent,
}

pub trait Classify {
    fn kind(self) -> Kind;
}

/// Conditional writes: a failed condition carries the item as it stood.
macro_rules! classify_write {
    ($($error:ty),*) => {$(
        impl Classify for $error {
            fn kind(self) -> Kind {
                match self {
                    Self::ConditionalCheckFailedException(e) => {
                        Kind::ConditionFailed(e.item().cloned())
                    }
                    Self::ProvisionedThroughputExceededException(_)
                    | Self::RequestLimitExceeded(_)
                    | Self::ThrottlingException(_)
                    | Self::InternalServerError(_)
                    | Self::TransactionConflictException(_)
                    | Self::ReplicatedWriteConflictException(_) => Kind::Transient,
                    _ => Kind::Permanent,
                }
            }
        }
    )*};
}

/// Reads: only throttling and server faults are worth a retry.
macro_rules! classify_read {
    ($($error:ty),*) => {$(
        impl Classify for $error {
            fn kind(self) -> Kind {
                match self {
                    Self::ProvisionedThroughputExceededException(_)
                    | Self::RequestLimitExceeded(_)
                    | Self::ThrottlingException(_)
                    | Self::InternalServerError(_) => Kind::Transient,
                    _ => Kind::Permanent,
                }
            }
        }
    )*};
}

classify_write!(UpdateItemError, PutItemError);
classify_read!(GetItemError, QueryError, ScanError);

/// Classifies any SDK error: `Ok` with the returned item when a condition failed.
pub fn conditional_failure<E, R>(error: SdkError<E, R>) -> Result<Option<Item>, StoreError>
where
    E: Classify + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let text = crate::aws::describe(&error);
    match error {
        SdkError::ServiceError(service) => match service.into_err().kind() {
            Kind::ConditionFailed(item) => Ok(item),
            Kind::Transient => Err(StoreError::Unavailable(text)),
            Kind::Permanent => Err(StoreError::Internal(text)),
        },
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Err(StoreError::Unavailable(text))
        }
        _ => Err(StoreError::Internal(text)),
    }
}

/// For operations with no condition: every error is a `StoreError`.
pub fn store_error<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: Classify + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match conditional_failure(error) {
        Ok(_) => StoreError::Internal("unexpected condition failure".into()),
        Err(error) => error,
    }
}

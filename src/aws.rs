//! The AWS SDK configuration, built at most once per instance and shared by every client
//! (DynamoDB, Secrets Manager): region, credentials and endpoints from the standard environment,
//! plus a time budget that the SDK's defaults do not have.
//!
//! The budget: whatever the service or the network does, a call ends within
//! `OPERATION_TIMEOUT` (2.5 s), so a stalled DynamoDB becomes `503 temporarily_unavailable` with
//! `Retry-After` inside 3 s, far from the function's 10 s limit. Within it, up to
//! `MAX_ATTEMPTS` attempts of at most `ATTEMPT_TIMEOUT` each, short jittered backoffs between
//! them. DynamoDB answers in milliseconds, so an attempt that takes a second has stalled; its
//! retry is safe because every write is conditional and a refused write returns the item, from
//! which the grant logic recognises its own applied write (see `domain::refresh`).

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use std::time::Duration;
use tokio::sync::OnceCell;

pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);
pub const MAX_ATTEMPTS: u32 = 3;

pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

pub fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(400))
}

/// The standard configuration loader with the budget above; tests add their endpoint.
pub fn defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(retries())
}

/// The SDK configuration from the environment, with the budget above.
pub async fn load() -> SdkConfig {
    defaults().load().await
}

/// The shared configuration, loaded on first use: a local run on the embedded store with keys
/// in its environment never loads it at all.
#[derive(Default)]
pub struct Aws(OnceCell<SdkConfig>);

impl Aws {
    /// An already-built configuration (tests point it at moto's server).
    pub fn with(config: SdkConfig) -> Self {
        Self(OnceCell::new_with(Some(config)))
    }

    pub async fn config(&self) -> &SdkConfig {
        self.0.get_or_init(load).await
    }
}

/// An SDK error with its chain of causes, for logs and start-up messages: the SDK's errors
/// name the failure (throttled, not found, timed out) and never carry the values sent or
/// received.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole budget, backoffs included, stays under the 3 s promised to clients.
    #[test]
    fn the_budget_is_three_seconds_at_most() {
        assert!(OPERATION_TIMEOUT < Duration::from_secs(3));
        let timeouts = timeouts();
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert!(ATTEMPT_TIMEOUT < OPERATION_TIMEOUT);
    }
}

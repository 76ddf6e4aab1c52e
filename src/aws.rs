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
//!
//! The HTTPS client: rustls on ring, trusting, in the commercial partition, the five roots of
//! Amazon Trust Services only (`src/amazon_roots.pem`). The SDK's default reads and parses the
//! platform's whole bundle (about 140 certificates) every time a client is built, which was 84%
//! of the function's instructions at cold start, and it links aws-lc, which was a fifth of the
//! binary. What the function talks to is DynamoDB and Secrets Manager, whose certificates chain
//! to those roots there; a certificate from any other authority is refused. (aws-lc would add
//! the hybrid post-quantum key exchange, where the endpoint offers it; ring offers X25519.)
//!
//! Other partitions are other clouds with other certificates, so the trust follows the Region
//! (`trust_for_region`). For China (`aws-cn`, `*.amazonaws.com.cn`) no AWS document names the
//! authority its endpoints chain to, and Amazon Trust Services' repository lists only the five
//! roots above, for the commercial Regions; GovCloud endpoints are certified by more than one
//! authority (S3 in us-gov-east-1 by Amazon Trust Services, per AWS's S3 migration notes; SES in
//! us-gov-west-1 by the DoD's WCF PKI, seen in a public chain). Trusting Amazon's roots alone
//! there would stop the function at its first call; embedding roots nobody has confirmed would
//! be guessing. So those partitions, and any Region this code does not know, trust the
//! platform's bundle, at the cold-start cost above (README, Configuration says so). Sources:
//! - the five roots, for the commercial Regions: https://www.amazontrust.com/repository/
//! - DynamoDB endpoints on Amazon Trust Services (every Region opened after December 2017):
//!   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ats-certs.html
//! - S3 in us-gov-east-1 already on Amazon Trust Services in 2021:
//!   https://repost.aws/knowledge-center/s3-cloudfront-certificate-migration
//! - `email.us-gov-west-1.amazonaws.com` chaining to "DoD WCF Root CA 1" (2021, `openssl
//!   s_client` output): https://github.com/transcom/mymove/pull/7345
//! - China's endpoints (`amazonaws.com.cn`), with no word on their authority:
//!   https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Beijing.html
//!
//! Once a China or GovCloud deployment has recorded the chains its DynamoDB and Secrets Manager
//! endpoints present, their roots can join `src/` and replace the bundle for that partition.
//! `tokenctl`, run from an operator's machine (maybe behind a TLS-inspecting proxy), keeps the
//! platform's roots.

use crate::partition::Partition;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
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

/// Amazon Trust Services' roots, which sign the endpoints the function calls in the commercial
/// partition.
pub const AMAZON_ROOTS: &[u8] = include_bytes!("amazon_roots.pem");

/// Which certificate authorities an HTTPS client trusts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Amazon Trust Services' roots only: the deployed function.
    AmazonRoots,
    /// The platform's bundle: an operator's tools.
    Platform,
}

/// The roots the deployed function trusts in `region`'s partition (see the module's comment).
/// No Region: the SDK reaches no service without one, so the strict choice costs nothing.
pub fn trust_for_region(region: Option<&str>) -> Trust {
    match region.map(crate::partition::of_region) {
        None | Some(Partition::Aws) => Trust::AmazonRoots,
        Some(Partition::China | Partition::GovCloud | Partition::Other) => Trust::Platform,
    }
}

/// The HTTPS client every SDK client of the process shares (one connection pool).
pub fn http_client(trust: Trust) -> SharedHttpClient {
    let store = match trust {
        Trust::AmazonRoots => TrustStore::empty().with_pem_certificate(AMAZON_ROOTS),
        Trust::Platform => TrustStore::default(),
    };
    let tls = TlsContext::builder()
        .with_trust_store(store)
        .build()
        .expect("a trust store without client certificates is a valid TLS context");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

/// The standard configuration loader with the budget above, trusting the roots of the
/// partition of `AWS_REGION` (which Lambda sets); tests add their endpoint.
pub fn defaults() -> ConfigLoader {
    let region = std::env::var("AWS_REGION").ok();
    sdk_defaults(trust_for_region(region.as_deref()))
        .timeout_config(timeouts())
        .retry_config(retries())
}

/// The SDK's own defaults (no budget), with the HTTPS client above.
pub fn sdk_defaults(trust: Trust) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client(trust))
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

    /// Each partition's choice: Amazon's roots where its endpoints are known to chain to them,
    /// the platform's bundle where they are not.
    #[test]
    fn each_partition_gets_its_own_trust() {
        for (region, partition, trust) in [
            ("us-east-1", Partition::Aws, Trust::AmazonRoots),
            ("eu-west-3", Partition::Aws, Trust::AmazonRoots),
            ("ap-southeast-5", Partition::Aws, Trust::AmazonRoots),
            ("cn-north-1", Partition::China, Trust::Platform),
            ("cn-northwest-1", Partition::China, Trust::Platform),
            ("us-gov-west-1", Partition::GovCloud, Trust::Platform),
            ("us-gov-east-1", Partition::GovCloud, Trust::Platform),
            ("us-iso-east-1", Partition::Other, Trust::Platform),
            ("eu-isoe-west-1", Partition::Other, Trust::Platform),
            ("eusc-de-east-1", Partition::Other, Trust::Platform),
            ("mars-north-1", Partition::Other, Trust::Platform),
            ("", Partition::Other, Trust::Platform),
        ] {
            assert_eq!(crate::partition::of_region(region), partition, "{region}");
            assert_eq!(trust_for_region(Some(region)), trust, "{region}");
        }
        assert_eq!(trust_for_region(None), Trust::AmazonRoots);
    }

    /// The embedded bundle is five certificates (the SDK would only find a bad one when it
    /// builds its first connector, and panic there).
    #[test]
    fn the_amazon_roots_are_five_certificates() {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::CertificateDer;
        let roots = CertificateDer::pem_slice_iter(AMAZON_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(roots.len(), 5);
    }
}

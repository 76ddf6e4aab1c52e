//! The function's log subscriber. It reads Lambda's log settings the way the runtime's default
//! subscriber does (`AWS_LAMBDA_LOG_FORMAT`, then `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`), with one
//! rule no setting can lift: no other crate logs at TRACE. At TRACE the Lambda runtime prints
//! every raw event it receives, bodies (client secrets, codes, refresh tokens) and Authorization
//! headers included, and HTTP and SDK crates print what they send and receive. Our own code
//! logs no secret at any level (`tests/logs.rs`); `tests/runtime_logs.rs` runs the real binary
//! at TRACE and searches its output.

use lambda_http::tracing::subscriber::filter::{filter_fn, EnvFilter, FilterExt, LevelFilter};
use lambda_http::tracing::subscriber::layer::SubscriberExt;
use lambda_http::tracing::subscriber::util::SubscriberInitExt;
use lambda_http::tracing::subscriber::{fmt, registry, Layer};
use lambda_http::tracing::{Level, Metadata};
use std::str::FromStr;

/// Whether an event or span may be logged at all: anything but TRACE, and TRACE only from our
/// own crates (the library and its binaries).
pub fn may_log(metadata: &Metadata<'_>) -> bool {
    *metadata.level() != Level::TRACE
        || ["chatroom_token", "token", "tokenctl"]
            .iter()
            .any(|own| metadata.target().split("::").next() == Some(own))
}

pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let level =
        LevelFilter::from_str(level.as_deref().unwrap_or("INFO")).unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy()
        .and(filter_fn(may_log));
    let layer = fmt::layer().with_target(false).without_time();
    if json {
        registry().with(layer.json().with_filter(filter)).init();
    } else {
        registry().with(layer.with_filter(filter)).init();
    }
}

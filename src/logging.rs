//! The function's log subscriber. It reads Lambda's log settings the way the runtime's default
//! subscriber does (`AWS_LAMBDA_LOG_FORMAT`, then `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`), with one
//! rule no setting can lift: no other crate logs at TRACE. At TRACE the Lambda runtime prints
//! every raw event it receives, bodies (client secrets, codes, refresh tokens) and Authorization
//! headers included, and HTTP and SDK crates print what they send and receive. Our own code
//! logs no secret at any level (`tests/logs.rs`); `tests/runtime_logs.rs` runs the real binary
//! at TRACE and searches its output.

use std::str::FromStr;
use tracing::{Level, Metadata};
use tracing_subscriber::filter::{filter_fn, FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, registry, Layer};

/// Whether an event or span may be logged at all: anything but TRACE, and TRACE only from our
/// own crates (the library and its binaries).
pub fn may_log(metadata: &Metadata<'_>) -> bool {
    *metadata.level() != Level::TRACE
        || ["chatroom_token", "token", "tokenctl"]
            .iter()
            .any(|own| metadata.target().split("::").next() == Some(own))
}

/// The level filter from Lambda's setting or `RUST_LOG`: a level (`debug`) or per-target
/// directives (`info,chatroom_token=debug`). Unlike `EnvFilter` this takes no span or field
/// filters, and so needs no regex engine in the binary; a setting it cannot read means INFO.
pub fn targets(setting: Option<&str>) -> Targets {
    let setting = setting.unwrap_or("INFO");
    match LevelFilter::from_str(setting) {
        Ok(level) => Targets::new().with_default(level),
        Err(_) => Targets::from_str(setting)
            .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO)),
    }
}

pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let filter = targets(level.ok().as_deref()).and(filter_fn(may_log));
    let layer = fmt::layer().with_target(false).without_time();
    if json {
        registry().with(layer.json().with_filter(filter)).init();
    } else {
        registry().with(layer.with_filter(filter)).init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_or_directives_set_the_filter() {
        assert!(targets(None).would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(!targets(None).would_enable("aws_smithy_runtime", &Level::DEBUG));
        assert!(targets(Some("debug")).would_enable("hyper", &Level::DEBUG));
        let directives = targets(Some("warn,chatroom_token=debug"));
        assert!(directives.would_enable("chatroom_token::http", &Level::DEBUG));
        assert!(!directives.would_enable("hyper", &Level::INFO));
        assert!(directives.would_enable("hyper", &Level::WARN));
        let unreadable = targets(Some("=?!"));
        assert_eq!(unreadable.default_level(), Some(LevelFilter::INFO));
    }
}

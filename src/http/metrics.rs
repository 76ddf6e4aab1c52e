//! CloudWatch metrics in the embedded metric format: one JSON line per request on stdout, which
//! Lambda's log pipeline turns into metrics without any API call. The line holds counts and a
//! latency, never anything the client sent.

use crate::domain::error::{ErrorCode, OAuthError};
use crate::domain::service::{Event, Report};
use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "ChatroomToken";

/// The metrics of one request, as an EMF document.
pub fn emf_line(
    report: &Report,
    error: Option<&OAuthError>,
    latency_us: u64,
    timestamp_ms: u128,
) -> String {
    let mut values = Map::new();
    let mut count = |name: &str, hit: bool| {
        values.insert(name.to_owned(), json!(u8::from(hit)));
    };
    count("TokensIssued", error.is_none());
    count(
        "Refreshes",
        matches!(report.event, Some(Event::Refreshed | Event::GraceRetry)) && error.is_none(),
    );
    count("GraceRetries", report.event == Some(Event::GraceRetry));
    count("ReuseDetected", report.event == Some(Event::ReuseDetected));
    count("CodeReplays", report.event == Some(Event::CodeReplayed));
    count(
        "GraceSealsUnopened",
        report.event == Some(Event::GraceSealUnopened),
    );
    count(
        "DpopKeyMismatches",
        report.event == Some(Event::DpopKeyMismatch),
    );
    count(
        "InvalidDpopProofs",
        error.is_some_and(|e| e.code == ErrorCode::InvalidDpopProof),
    );
    count(
        "InvalidClient",
        error.is_some_and(|e| e.code == ErrorCode::InvalidClient),
    );
    count(
        "StoreErrors",
        error.is_some_and(|e| {
            matches!(
                e.code,
                ErrorCode::TemporarilyUnavailable | ErrorCode::ServerError
            )
        }),
    );
    values.insert(
        "KeysRefreshFailed".to_owned(),
        json!(report.stale_key_failures),
    );
    let names: Vec<Value> = values
        .keys()
        .map(|name| json!({"Name": name, "Unit": "Count"}))
        .chain([json!({"Name": "Latency", "Unit": "Microseconds"})])
        .collect();
    let mut document = json!({
        "_aws": {
            "Timestamp": timestamp_ms as u64,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Service"]],
                "Metrics": names,
            }]
        },
        "Service": "token",
        "Latency": latency_us,
    });
    document
        .as_object_mut()
        .expect("a JSON object")
        .extend(values);
    document.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reuse_detection_is_counted() {
        let report = Report {
            event: Some(Event::ReuseDetected),
            ..Report::default()
        };
        let error = OAuthError::invalid_grant("x");
        let line: Value = serde_json::from_str(&emf_line(&report, Some(&error), 42, 1)).unwrap();
        assert_eq!(line["ReuseDetected"], 1);
        assert_eq!(line["TokensIssued"], 0);
        assert_eq!(line["Latency"], 42);
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        let declared = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        for metric in declared {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} has a value");
        }
    }
}

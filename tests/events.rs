//! Feeds every file in `events/` to the real handler, on a service configured exactly as
//! `cargo lambda watch` runs it (the `[package.metadata.lambda.env]` table of Cargo.toml).

use chatroom_token::app::build_service;
use chatroom_token::aws::Aws;
use chatroom_token::clock::SystemClock;
use chatroom_token::config::Config;
use chatroom_token::domain::service::TokenService;
use chatroom_token::http::handle;
use std::path::Path;
use std::sync::Arc;
use support::watch_env;

mod support;

/// Every sample event and what it must get: status and, for errors, the error code; for 200s,
/// what the body is (`tokens`, `revoked`, `inactive`, `metadata`, `jwks`).
const EXPECTED: &[(&str, u16, &str)] = &[
    ("rest-v1-authorization-code.json", 200, "tokens"),
    ("rest-v1-refresh-token-base64.json", 200, "tokens"),
    ("http-v2-authorization-code-basic-auth.json", 200, "tokens"),
    ("http-v2-refresh-token.json", 200, "tokens"),
    ("http-v2-named-stage-refresh-token.json", 200, "tokens"),
    ("function-url-authorization-code-base64.json", 200, "tokens"),
    ("function-url-refresh-token.json", 200, "tokens"),
    ("http-v2-revoke-refresh-token.json", 200, "revoked"),
    (
        "function-url-introspect-refresh-token.json",
        200,
        "inactive",
    ),
    ("http-v2-metadata.json", 200, "metadata"),
    ("rest-v1-jwks.json", 200, "jwks"),
    ("http-v2-internal-codes-iam.json", 200, "code"),
    ("bad-internal-codes-without-iam.json", 404, "not_found"),
    (
        "bad-introspect-not-allowed.json",
        400,
        "unauthorized_client",
    ),
    (
        "bad-unsupported-grant-type.json",
        400,
        "unsupported_grant_type",
    ),
    ("bad-json-content-type.json", 400, "invalid_request"),
    ("bad-wrong-client-secret.json", 401, "invalid_client"),
    ("bad-wrong-secret-basic-auth.json", 401, "invalid_client"),
    ("bad-duplicate-parameter.json", 400, "invalid_request"),
    ("bad-get-method.json", 405, "method_not_allowed"),
    ("bad-unknown-path.json", 404, "not_found"),
    ("bad-refresh-token.json", 400, "invalid_grant"),
];

async fn local_service() -> TokenService {
    let env = watch_env();
    let config = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
    build_service(config, Arc::new(SystemClock), &Aws::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_sample_event_gets_its_documented_answer() {
    for (file, status, error) in EXPECTED {
        // A fresh instance each time: the demo code and refresh token work once.
        let service = local_service().await;
        let json = std::fs::read_to_string(Path::new("events").join(file)).unwrap();
        let request = lambda_http::request::from_str(&json)
            .unwrap_or_else(|e| panic!("{file} is not a valid event: {e}"));
        let response = handle(&service, request).await;
        let raw = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
        let body: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
        assert_eq!(response.status().as_u16(), *status, "{file}: {raw}");
        match *error {
            "tokens" => {
                assert_eq!(body["token_type"], "Bearer", "{file}");
                assert_eq!(body["scope"], "user_info_read", "{file}");
            }
            "revoked" => assert_eq!(raw, "", "{file}"),
            "inactive" => assert_eq!(body, serde_json::json!({"active": false}), "{file}: {raw}"),
            "metadata" => assert_eq!(body["issuer"], watch_env()["ISSUER"], "{file}"),
            "code" => {
                assert_eq!(
                    body["code"].as_str().map(str::len),
                    Some(92),
                    "{file}: {raw}"
                );
                assert_eq!(body["expires_in"], 600, "{file}");
                assert_eq!(response.headers()["cache-control"], "no-store", "{file}");
            }
            "jwks" => assert_eq!(body["keys"][0]["kid"], "local-rs", "{file}: {raw}"),
            code => assert_eq!(body["error"], code, "{file}"),
        }
    }
}

#[test]
fn every_event_file_is_checked() {
    let mut files: Vec<String> = std::fs::read_dir("events")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = EXPECTED.iter().map(|(f, _, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[tokio::test]
async fn the_demo_code_redeems_once_per_instance() {
    let service = local_service().await;
    let json = std::fs::read_to_string("events/rest-v1-authorization-code.json").unwrap();
    let first = handle(&service, lambda_http::request::from_str(&json).unwrap()).await;
    assert_eq!(first.status().as_u16(), 200);
    let second = handle(&service, lambda_http::request::from_str(&json).unwrap()).await;
    assert_eq!(second.status().as_u16(), 400);
}

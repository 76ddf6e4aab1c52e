//! The real `token` binary starting in a Lambda-like environment: local-only values (the
//! embedded store, `DEMO_*`, keys in its environment, keys written anywhere in this repository)
//! stop it, whatever packaging put them there; under `cargo lambda watch` they are what it runs
//! with. On AWS the keys come from Secrets Manager (moto's server here). A keys secret that
//! cannot be read stops it too, naming the secret.

mod support;

use chatroom_token::crypto::{b64url, random_bytes};
use std::collections::HashMap;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::runtime_api::RuntimeApi;
use support::watch_env;

/// What Lambda sets and `cargo lambda watch` does not.
const LAMBDA: [(&str, &str); 3] = [
    ("LAMBDA_TASK_ROOT", "/var/task"),
    ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
    ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
];

/// The deployed function's environment: keys only in the secret it names.
fn production_env(arn: &str) -> HashMap<String, String> {
    [
        ("KEYS_SECRET_ARN", arn),
        ("ISSUER", "https://auth.example"),
        ("TOKEN_STORE", "dynamodb"),
        ("TABLE_NAME", "tokens"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_ENDPOINT_URL", &support::backends::endpoint()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A key made now: written nowhere.
fn fresh_key(kid: &str) -> String {
    format!("{kid}:{}", b64url(&random_bytes::<32>()))
}

/// Stores these keys in a new secret on moto's server; returns its ARN.
fn keys_secret(signing_keys: &str, grant_token_keys: &str) -> String {
    let value = serde_json::json!({
        "signing_keys": signing_keys,
        "grant_token_keys": grant_token_keys,
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let sdk = support::backends::function_sdk_config(&support::backends::endpoint()).await;
        aws_sdk_secretsmanager::Client::new(&sdk)
            .create_secret()
            .name(support::backends::unique_table_name())
            .secret_string(value.to_string())
            .send()
            .await
            .unwrap()
            .arn
            .unwrap()
    })
}

fn spawn(env: &HashMap<String, String>, lambda: bool, api: &RuntimeApi) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_token"));
    command
        .env_clear()
        .envs(env)
        .env("AWS_LAMBDA_FUNCTION_NAME", "token")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if lambda {
        command.envs(LAMBDA);
    }
    command.spawn().unwrap()
}

/// Waits for a process that should stop by itself (with a generous guard against a hang).
fn exited(mut child: Child) -> Output {
    let guard = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            guard.elapsed() < Duration::from_secs(60),
            "the function did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The function started and serves: an event that needs no store gets its answer.
fn serves(mut child: Child, api: &RuntimeApi) {
    let event = std::fs::read_to_string("events/bad-get-method.json").unwrap();
    let answer: serde_json::Value = serde_json::from_str(&api.invoke(&event)).unwrap();
    assert_eq!(answer["statusCode"], 405, "{answer}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[track_caller]
fn refused(output: &Output, reason: &str, never: &[&str]) {
    let printed = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {printed}");
    assert!(printed.contains("refusing to start on AWS"), "{printed}");
    assert!(printed.contains(reason), "{printed}");
    for value in never {
        assert!(!printed.contains(value), "it printed a value: {printed}");
    }
}

#[test]
fn the_local_configuration_is_refused_on_aws_and_runs_under_watch() {
    let api = RuntimeApi::start();
    let local = watch_env();
    refused(
        &exited(spawn(&local, true, &api)),
        "TOKEN_STORE",
        &[&local["SIGNING_KEYS"], &local["DEMO_CLIENT_SECRET"]],
    );
    serves(spawn(&local, false, &api), &api);
}

#[test]
fn demo_values_are_refused_on_aws_whatever_the_store() {
    let api = RuntimeApi::start();
    let mut env = production_env(&keys_secret(&fresh_key("k1"), &fresh_key("g1")));
    env.insert("DEMO_CLIENT_ID".into(), "000000".into());
    env.insert("DEMO_CLIENT_SECRET".into(), "999999".into());
    refused(
        &exited(spawn(&env, true, &api)),
        "DEMO_CLIENT_ID",
        &["999999"],
    );
}

/// Keys in the environment, however fresh, are readable by anyone who may read the function's
/// configuration: on AWS they come from the secret only.
#[test]
fn keys_in_the_environment_are_refused_on_aws() {
    let api = RuntimeApi::start();
    let mut env = production_env("");
    env.remove("KEYS_SECRET_ARN");
    let (signing, grant) = (fresh_key("k1"), fresh_key("g1"));
    env.insert("SIGNING_KEYS".into(), signing.clone());
    env.insert("GRANT_TOKEN_KEYS".into(), grant.clone());
    refused(
        &exited(spawn(&env, true, &api)),
        "GRANT_TOKEN_KEYS, SIGNING_KEYS set",
        &[&signing[3..], &grant[3..]],
    );
}

/// A local run's keys and a test fixture's private key, put in the secret: refused.
#[test]
fn keys_published_in_the_repository_are_refused_on_aws() {
    let api = RuntimeApi::start();
    let local = watch_env();
    let fixture = std::fs::read_to_string("tests/fixtures/keys/rsa-2048-a.b64").unwrap();
    let fixture = format!("fx:RS256:{}", fixture.trim());
    for (signing, grant, variable) in [
        (
            local["SIGNING_KEYS"].clone(),
            fresh_key("g1"),
            "SIGNING_KEYS",
        ),
        (
            fresh_key("k1"),
            local["GRANT_TOKEN_KEYS"].clone(),
            "GRANT_TOKEN_KEYS",
        ),
        (fixture.clone(), fresh_key("g1"), "SIGNING_KEYS fx"),
    ] {
        let env = production_env(&keys_secret(&signing, &grant));
        let key = signing.rsplit_once(':').unwrap().1.to_owned();
        refused(&exited(spawn(&env, true, &api)), variable, &[&key]);
    }
}

#[test]
fn a_production_configuration_starts_on_aws() {
    let api = RuntimeApi::start();
    let env = production_env(&keys_secret(&fresh_key("k1"), &fresh_key("g1")));
    serves(spawn(&env, true, &api), &api);
}

#[test]
fn an_unreadable_keys_secret_stops_the_start_naming_it() {
    let api = RuntimeApi::start();
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:chatroom-token-keys-AbCdEf";
    let env = production_env(arn);
    let output = exited(spawn(&env, true, &api));
    let printed = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains(arn) && printed.contains("KEYS_SECRET_ARN"),
        "{printed}"
    );
}

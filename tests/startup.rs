//! The real `token` binary starting in a Lambda-like environment: local-only values (the
//! embedded store, `DEMO_*`, keys published in this repository) stop it, whatever packaging
//! put them there; under `cargo lambda watch` they are what it runs with. A keys secret that
//! cannot be read stops it too, naming the secret.

mod support;

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

fn production_env() -> HashMap<String, String> {
    [
        (
            "SIGNING_KEYS",
            "k1:a-fresh-signing-key-nobody-has-seen-0001",
        ),
        (
            "GRANT_TOKEN_KEYS",
            "g1:a-fresh-grant-token-key-nobody-has-seen-01",
        ),
        ("ISSUER", "https://auth.example"),
        ("TOKEN_STORE", "dynamodb"),
        ("TABLE_NAME", "tokens"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
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
    let mut env = production_env();
    env.insert("DEMO_CLIENT_ID".into(), "000000".into());
    env.insert("DEMO_CLIENT_SECRET".into(), "999999".into());
    refused(
        &exited(spawn(&env, true, &api)),
        "DEMO_CLIENT_ID",
        &["999999"],
    );
}

#[test]
fn keys_published_in_the_repository_are_refused_on_aws() {
    let api = RuntimeApi::start();
    let local = watch_env();
    for variable in ["SIGNING_KEYS", "GRANT_TOKEN_KEYS"] {
        let mut env = production_env();
        env.insert(variable.into(), local[variable].clone());
        let key = local[variable].split_once(':').unwrap().1.to_owned();
        refused(&exited(spawn(&env, true, &api)), variable, &[&key]);
    }
}

#[test]
fn a_production_configuration_starts_on_aws() {
    let api = RuntimeApi::start();
    serves(spawn(&production_env(), true, &api), &api);
}

#[test]
fn an_unreadable_keys_secret_stops_the_start_naming_it() {
    let api = RuntimeApi::start();
    let mut env = production_env();
    env.remove("SIGNING_KEYS");
    env.remove("GRANT_TOKEN_KEYS");
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:chatroom-token-keys-AbCdEf";
    env.insert("KEYS_SECRET_ARN".into(), arn.into());
    env.insert("AWS_ENDPOINT_URL".into(), support::backends::endpoint());
    let output = exited(spawn(&env, true, &api));
    let printed = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains(arn) && printed.contains("KEYS_SECRET_ARN"),
        "{printed}"
    );
}

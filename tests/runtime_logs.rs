//! The real `token` binary under a fake Lambda Runtime API, logging at TRACE (the most a
//! `RUST_LOG` or Lambda log-level setting can ask for): no event body, Authorization header,
//! code, token or secret reaches its output.

mod support;

use std::process::{Command, Stdio};
use support::runtime_api::RuntimeApi;
use support::watch_env;

fn event(body: &str, authorization: Option<&str>) -> String {
    let mut event: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("events/http-v2-refresh-token.json").unwrap(),
    )
    .unwrap();
    event["body"] = body.into();
    if let Some(authorization) = authorization {
        event["headers"]["authorization"] = authorization.into();
    }
    event.to_string()
}

fn answer_body(answer: &str) -> serde_json::Value {
    let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
}

#[test]
fn at_trace_level_no_event_or_secret_reaches_the_logs() {
    let api = RuntimeApi::start();
    let output = tempfile_path("runtime-logs");
    let log = std::fs::File::create(&output).unwrap();
    let env = watch_env();
    let mut function = Command::new(env!("CARGO_BIN_EXE_token"))
        .env_clear()
        .envs(&env)
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "token")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("RUST_LOG", "trace")
        .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();

    let authorization = "Basic MDAwMDAwOjk5OTk5OQ==";
    let code_body = format!(
        "grant_type=authorization_code&code={}&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback",
        env["DEMO_CODE"]
    );
    let redeemed = answer_body(&api.invoke(&event(&code_body, Some(authorization))));
    let refresh_token = redeemed["refresh_token"].as_str().unwrap().to_owned();
    let refresh_body =
        format!("grant_type=refresh_token&client_id=000000&client_secret=999999&refresh_token={refresh_token}");
    let refreshed = answer_body(&api.invoke(&event(&refresh_body, None)));
    function.kill().unwrap();
    function.wait().unwrap();

    let logs = std::fs::read_to_string(&output).unwrap();
    assert!(
        logs.contains("code_redeemed"),
        "the function logged its requests: {logs}"
    );
    let secrets = [
        authorization.to_owned(),
        "MDAwMDAwOjk5OTk5OQ".to_owned(),
        env["DEMO_CODE"].clone(),
        "client_secret=999999".to_owned(),
        refresh_token,
        redeemed["access_token"].as_str().unwrap().to_owned(),
        refreshed["refresh_token"].as_str().unwrap().to_owned(),
        refreshed["access_token"].as_str().unwrap().to_owned(),
        env["SIGNING_KEYS"].clone(),
        env["GRANT_TOKEN_KEYS"].clone(),
        "grant_type=".to_owned(),
    ];
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "the logs hold {secret:.20}..."
        );
    }
    let _ = std::fs::remove_file(output);
}

fn tempfile_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{name}-{}.log", std::process::id()))
}

//! Keys from Secrets Manager (moto's server): read at cold start, rotated by editing the secret,
//! and a secret that cannot be read stops the start naming the secret, never a value.

mod support;

use chatroom_token::aws::Aws;
use chatroom_token::clock::SystemClock;
use chatroom_token::config::Config;
use chatroom_token::domain::access_token::{AccessTokenSigner, AccessTokenVerifier};
use chatroom_token::keys_secret::load_config;
use std::collections::HashMap;
use std::sync::Arc;
use support::backends::{endpoint, function_sdk_config, unique_table_name};

const OLD: &str = "2026-01:old-signing-key-from-the-secret-0001";
const NEW: &str = "2026-11:new-signing-key-from-the-secret-0002";
const GRANT: &str = "g1:grant-token-key-from-the-secret-00000001";

async fn moto() -> Aws {
    Aws::with(function_sdk_config(&endpoint()).await)
}

async fn secrets(aws: &Aws) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(aws.config().await)
}

fn keys_json(signing: &str) -> String {
    serde_json::json!({ "signing_keys": signing, "grant_token_keys": GRANT }).to_string()
}

/// Creates a secret with this value and returns its ARN.
async fn create_secret(aws: &Aws, value: &str) -> String {
    secrets(aws)
        .await
        .create_secret()
        .name(unique_table_name())
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap()
}

/// A new instance's configuration: the environment names the secret, nothing more.
async fn start_instance(aws: &Aws, arn: &str) -> Result<Config, String> {
    let env = HashMap::from([
        ("KEYS_SECRET_ARN", arn.to_owned()),
        ("ISSUER", "https://auth.example".to_owned()),
    ]);
    load_config(|name| env.get(name).cloned(), aws, Arc::new(SystemClock))
        .await
        .map(|loaded| loaded.config)
        .map_err(|e| e.to_string())
}

fn sign(config: &Config) -> String {
    AccessTokenSigner::new(&config.keys.signing[0], config.issuer.clone(), 600)
        .sign(
            "8836257",
            "000000",
            "user_info_read".into(),
            &chatroom_token::crypto::grant_token::GrantId::random(),
            1_900_000_000 - 300,
        )
        .unwrap()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn keys_come_from_the_secret_and_a_rotation_reaches_new_instances() {
    let aws = moto().await;
    let arn = create_secret(&aws, &keys_json(OLD)).await;
    let before = start_instance(&aws, &arn).await.unwrap();
    assert_eq!(
        before.keys.grant[0].secret,
        GRANT.split_once(':').unwrap().1.as_bytes()
    );
    let old_token = sign(&before);
    assert_eq!(kid(&old_token), "2026-01");

    // The operator puts the new key first in the secret; no deployment.
    secrets(&aws)
        .await
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(keys_json(&format!("{NEW},{OLD}")))
        .send()
        .await
        .unwrap();
    let after = start_instance(&aws, &arn).await.unwrap();
    let new_token = sign(&after);
    assert_eq!(
        kid(&new_token),
        "2026-11",
        "an instance started after the change signs with it"
    );
    assert_eq!(
        kid(&sign(&before)),
        "2026-01",
        "one started before keeps its keys"
    );

    let verifier = AccessTokenVerifier::new(&after.keys.signing, "https://auth.example", "000000");
    for token in [&old_token, &new_token] {
        assert_eq!(
            verifier.verify(token).unwrap().sub,
            "8836257",
            "both keys verify"
        );
    }
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_stops_the_start_naming_it() {
    let aws = moto().await;
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-secret-AbCdEf";
    let error = start_instance(&aws, arn).await.unwrap_err();
    assert!(
        error.contains("KEYS_SECRET_ARN") && error.contains(arn),
        "{error}"
    );
}

#[tokio::test]
async fn a_malformed_secret_is_refused_without_echoing_it() {
    let aws = moto().await;
    for value in [
        "not json: hunter2-hunter2-hunter2-hunter2".to_owned(),
        r#"{"signing_keys": ["hunter2-hunter2-hunter2-hunter2"]}"#.to_owned(),
        keys_json("k1:hunter2-short"),
    ] {
        let arn = create_secret(&aws, &value).await;
        let error = start_instance(&aws, &arn).await.unwrap_err();
        assert!(error.contains(&arn), "{error}");
        assert!(!error.contains("hunter2"), "the value leaked: {error}");
    }
}

#[tokio::test]
async fn keys_in_both_places_are_refused() {
    let aws = moto().await;
    let arn = create_secret(&aws, &keys_json(OLD)).await;
    let env = HashMap::from([
        ("KEYS_SECRET_ARN", arn),
        ("SIGNING_KEYS", NEW.to_owned()),
        ("ISSUER", "https://auth.example".to_owned()),
    ]);
    let Err(error) = load_config(|name| env.get(name).cloned(), &aws, Arc::new(SystemClock)).await
    else {
        panic!("keys in both places must be refused");
    };
    assert_eq!(error.variable, "KEYS_SECRET_ARN");
}

//! The keys, read from Secrets Manager at cold start.
//!
//! Deployed, the function's configuration names the secret (`KEYS_SECRET_ARN`) and holds no key,
//! so reading the configuration (`lambda:GetFunctionConfiguration`) gives nothing away. Each
//! instance reads the secret once as it starts; a key added to the secret is used by every
//! instance started after the change. Local runs and tests keep giving the keys in
//! `SIGNING_KEYS` and `GRANT_TOKEN_KEYS`.

use crate::aws::{describe, Aws};
use crate::config::{Config, ConfigError};
use serde::Deserialize;

pub const KEYS_SECRET_ARN: &str = "KEYS_SECRET_ARN";

/// The secret's JSON. No `Debug`: nothing can print it.
#[derive(Deserialize)]
struct KeysSecret {
    signing_keys: String,
    grant_token_keys: String,
}

fn secret_error(arn: &str, problem: impl std::fmt::Display) -> ConfigError {
    ConfigError {
        variable: KEYS_SECRET_ARN,
        problem: format!("the secret {arn}: {problem}"),
    }
}

/// Reads the configuration from `env`, taking the keys from the secret it names, if it names
/// one. Every error names the variable or the secret, never a key.
pub async fn load_config(
    env: impl Fn(&str) -> Option<String>,
    aws: &Aws,
) -> Result<Config, ConfigError> {
    let Some(arn) = env(KEYS_SECRET_ARN).filter(|v| !v.trim().is_empty()) else {
        return Config::from_lookup(env);
    };
    if env("SIGNING_KEYS").is_some() || env("GRANT_TOKEN_KEYS").is_some() {
        return Err(secret_error(
            &arn,
            "give the keys either in this secret or in SIGNING_KEYS and GRANT_TOKEN_KEYS, not both",
        ));
    }
    let secret = fetch(aws, &arn).await?;
    Config::from_lookup(|name| match name {
        "SIGNING_KEYS" => Some(secret.signing_keys.clone()),
        "GRANT_TOKEN_KEYS" => Some(secret.grant_token_keys.clone()),
        _ => env(name),
    })
    .map_err(|error| match error.variable {
        "SIGNING_KEYS" | "GRANT_TOKEN_KEYS" => ConfigError {
            problem: format!("{} (in the secret {arn})", error.problem),
            ..error
        },
        _ => error,
    })
}

async fn fetch(aws: &Aws, arn: &str) -> Result<KeysSecret, ConfigError> {
    let client = aws_sdk_secretsmanager::Client::new(aws.config().await);
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|error| secret_error(arn, format!("could not be read: {}", describe(&error))))?;
    let text = output
        .secret_string()
        .ok_or_else(|| secret_error(arn, "has no string value"))?;
    // serde's messages can quote the input; ours never does.
    serde_json::from_str(text).map_err(|_| {
        secret_error(
            arn,
            "must be a JSON object with string fields signing_keys and grant_token_keys",
        )
    })
}

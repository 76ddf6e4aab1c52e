//! The keys, read from Secrets Manager: at cold start, and again by every warm instance whose
//! copy is older than `KEYS_REFRESH_SECONDS` (`domain::live_keys`).
//!
//! Deployed, the function's configuration names the secret (`KEYS_SECRET_ARN`) and holds no key,
//! so reading the configuration (`lambda:GetFunctionConfiguration`) gives nothing away. Local
//! runs and tests may give the keys in `SIGNING_KEYS` and `GRANT_TOKEN_KEYS` instead.
//!
//! The secret is a JSON object with two fields, `signing_keys` and `grant_token_keys`. Each is
//! either a list of entries with states (README, "Rotate a key"):
//!
//! ```json
//! [{"kid": "2026-12", "key": "...", "state": "active", "active_from": 1767225600},
//!  {"kid": "2026-11", "key": "...", "state": "active"},
//!  {"kid": "2026-10", "key": "...", "state": "retired"}]
//! ```
//!
//! or the plain text `kid:secret[,kid:secret...]` (the first signs, the others verify).

use crate::aws::{describe, Aws};
use crate::clock::Clock;
use crate::config::{key_material, plain_entries, Config, ConfigError, KeyEntry};
use crate::domain::key_ring::{KeyMaterial, KeyState};
use crate::domain::live_keys::KeySource;
use async_trait::async_trait;
use serde::Deserialize;
use std::sync::Arc;

pub const KEYS_SECRET_ARN: &str = "KEYS_SECRET_ARN";

/// The secret's JSON. No `Debug`: nothing can print it.
#[derive(Deserialize)]
struct KeysSecret {
    signing_keys: KeyList,
    grant_token_keys: KeyList,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyList {
    Plain(String),
    Entries(Vec<Entry>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kid: String,
    key: String,
    state: EntryState,
    /// Unix seconds; only for `active` (absent: active from the start).
    active_from: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum EntryState {
    Published,
    Active,
    Retired,
}

const FORMAT: &str = "must be a JSON object whose fields signing_keys and grant_token_keys are \
    each a string kid:secret[,...] or a list of {kid, key, state, active_from}";

fn secret_error(arn: &str, problem: impl std::fmt::Display) -> ConfigError {
    ConfigError {
        variable: KEYS_SECRET_ARN,
        problem: format!("the secret {arn}: {problem}"),
    }
}

impl KeyList {
    fn entries(self, name: &'static str) -> Result<Vec<KeyEntry>, ConfigError> {
        let entries = match self {
            Self::Plain(text) => return plain_entries(name, &text),
            Self::Entries(entries) => entries,
        };
        entries
            .into_iter()
            .enumerate()
            .map(|(position, entry)| {
                let state = match (entry.state, entry.active_from) {
                    (EntryState::Active, from) => KeyState::Active {
                        from: from.unwrap_or(i64::MIN),
                    },
                    (_, Some(_)) => {
                        return Err(ConfigError {
                            variable: name,
                            // By position: the id is not checked yet, and could be a key.
                            problem: format!(
                                "key #{}: active_from is only for an active key",
                                position + 1
                            ),
                        });
                    }
                    (EntryState::Published, None) => KeyState::Published,
                    (EntryState::Retired, None) => KeyState::Retired,
                };
                Ok(KeyEntry {
                    kid: entry.kid,
                    secret: entry.key.into_bytes(),
                    state,
                })
            })
            .collect()
    }
}

/// Parses the secret's text into checked keys that can serve at `now`. Errors name the field
/// and the key id, never a value.
pub fn parse_secret(text: &str, now: i64) -> Result<KeyMaterial, ConfigError> {
    // serde's messages can quote the input; ours never does.
    let secret: KeysSecret = serde_json::from_str(text).map_err(|_| ConfigError {
        variable: KEYS_SECRET_ARN,
        problem: FORMAT.into(),
    })?;
    let keys = key_material(
        secret.signing_keys.entries("SIGNING_KEYS")?,
        secret.grant_token_keys.entries("GRANT_TOKEN_KEYS")?,
    )?;
    keys.check(now).map_err(|problem| ConfigError {
        variable: KEYS_SECRET_ARN,
        problem,
    })?;
    Ok(keys)
}

/// The configuration, and the secret it names (if it names one) to re-read the keys from.
pub struct Loaded {
    pub config: Config,
    pub source: Option<SecretKeys>,
}

/// Reads the configuration from `env`, taking the keys from the secret it names, if it names
/// one. Every error names the variable or the secret, never a key.
pub async fn load_config(
    env: impl Fn(&str) -> Option<String>,
    aws: &Aws,
    clock: Arc<dyn Clock>,
) -> Result<Loaded, ConfigError> {
    let Some(arn) = env(KEYS_SECRET_ARN).filter(|v| !v.trim().is_empty()) else {
        return Ok(Loaded {
            config: Config::from_lookup(env)?,
            source: None,
        });
    };
    if env("SIGNING_KEYS").is_some() || env("GRANT_TOKEN_KEYS").is_some() {
        return Err(secret_error(
            &arn,
            "give the keys either in this secret or in SIGNING_KEYS and GRANT_TOKEN_KEYS, not both",
        ));
    }
    let source = SecretKeys::new(aws, arn, clock).await;
    let keys = source.read().await?;
    Ok(Loaded {
        config: Config::with_keys(env, keys)?,
        source: Some(source),
    })
}

/// The keys secret as a key source: what warm instances re-read.
pub struct SecretKeys {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
    /// Judges which keys are active now.
    clock: Arc<dyn Clock>,
    /// On AWS: a copy holding a key written in this repository is refused.
    refuse_published: bool,
}

impl SecretKeys {
    pub async fn new(aws: &Aws, arn: String, clock: Arc<dyn Clock>) -> Self {
        Self {
            client: aws_sdk_secretsmanager::Client::new(aws.config().await),
            arn,
            clock,
            refuse_published: false,
        }
    }

    /// Refuses any copy with a key written in this repository (`local_only`): on AWS, so a
    /// public key put into the secret later is refused as it would be at start.
    pub fn refusing_published_keys(self) -> Self {
        Self {
            refuse_published: true,
            ..self
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// One GetSecretValue on this ARN, parsed and checked.
    pub async fn read(&self) -> Result<KeyMaterial, ConfigError> {
        let arn = &self.arn;
        let output = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|error| {
                secret_error(arn, format!("could not be read: {}", describe(&error)))
            })?;
        let text = output
            .secret_string()
            .ok_or_else(|| secret_error(arn, "has no string value"))?;
        let keys = parse_secret(text, self.clock.now()).map_err(|error| match error.variable {
            KEYS_SECRET_ARN => secret_error(arn, error.problem),
            variable => secret_error(arn, format!("{variable}: {}", error.problem)),
        })?;
        match self
            .refuse_published
            .then(|| crate::local_only::published_key(&keys))
            .flatten()
        {
            Some(why) => Err(secret_error(arn, why)),
            None => Ok(keys),
        }
    }
}

#[async_trait]
impl KeySource for SecretKeys {
    async fn load(&self) -> Result<KeyMaterial, String> {
        self.read().await.map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "a-signing-key-of-thirty-two-bytes-0001";
    const G: &str = "a-grant-token-key-of-thirty-two-bytes-01";

    fn entries(signing: serde_json::Value, grant: serde_json::Value) -> String {
        serde_json::json!({"signing_keys": signing, "grant_token_keys": grant}).to_string()
    }

    #[test]
    fn entries_carry_their_states() {
        let text = entries(
            serde_json::json!([
                {"kid": "new", "key": format!("{S}-new"), "state": "active", "active_from": 2000},
                {"kid": "cur", "key": S, "state": "active"},
                {"kid": "pub", "key": format!("{S}-pub"), "state": "published"},
                {"kid": "old", "key": format!("{S}-old"), "state": "retired"},
            ]),
            serde_json::json!(format!("g1:{G}")),
        );
        let keys = parse_secret(&text, 1000).unwrap();
        let states: Vec<_> = keys.signing.iter().map(|k| k.state).collect();
        assert_eq!(
            states,
            [
                KeyState::Active { from: 2000 },
                KeyState::ALWAYS,
                KeyState::Published,
                KeyState::Retired
            ]
        );
        assert_eq!(
            keys.grant[0].state,
            KeyState::ALWAYS,
            "a plain list still works"
        );
    }

    #[test]
    fn a_secret_without_a_key_active_now_is_refused() {
        for signing in [
            serde_json::json!([{"kid": "k", "key": S, "state": "published"}]),
            serde_json::json!([{"kid": "k", "key": S, "state": "retired"}]),
            serde_json::json!([{"kid": "k", "key": S, "state": "active", "active_from": 1001}]),
        ] {
            let text = entries(signing, serde_json::json!(format!("g1:{G}")));
            assert!(parse_secret(&text, 1000).is_err());
        }
    }

    #[test]
    fn mistakes_are_named_and_never_echo_a_key() {
        let hunter = "hunter2-hunter2-hunter2-hunter2-hunter2";
        for signing in [
            serde_json::json!([{"kid": "k", "key": hunter, "state": "published", "active_from": 1}]),
            serde_json::json!([{"kid": "k", "key": hunter, "state": "sleeping"}]),
            serde_json::json!([{"kid": "k", "key": hunter, "state": "active", "extra": hunter}]),
            serde_json::json!([{"kid": "k", "key": "hunter2", "state": "active"}]),
            // The fields swapped: the key where the id belongs.
            serde_json::json!([{"kid": hunter, "key": "k", "state": "active"}]),
            serde_json::json!([{"kid": hunter, "key": "k", "state": "retired", "active_from": 1}]),
            serde_json::json!([
                {"kid": "k", "key": hunter, "state": "active"},
                {"kid": "k", "key": format!("{hunter}x"), "state": "published"}
            ]),
        ] {
            let text = entries(signing, serde_json::json!(format!("g1:{G}")));
            let error = parse_secret(&text, 1000).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{error}");
        }
    }
}

//! Local-only values never run on AWS.
//!
//! `cargo lambda watch` runs the function with the embedded store, the API document's demo
//! client, seeded codes and tokens, and keys written in Cargo.toml: all of them public. Deployed,
//! any of them would let anyone mint tokens or sign in as the demo client. So on AWS (not under
//! `cargo lambda watch`) the function refuses to start with the embedded store, with any `DEMO_*`
//! variable set, with keys in its environment rather than in the secret (anyone allowed to read
//! the function's configuration would hold them), or with a key written anywhere in this
//! repository, whatever packaging put it there.

use crate::config::{Config, StoreConfig};
use crate::domain::key_ring::KeyMaterial;
use crate::key_text::fingerprint;

/// Fingerprints of every key-like text anywhere in this repository, sorted (build.rs says
/// which texts and how): any such key is public.
const PUBLISHED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/published_keys.bin"));

/// The variables that give keys outside the secret: local runs and tests only.
const KEY_VARIABLES: [&str; 2] = ["SIGNING_KEYS", "GRANT_TOKEN_KEYS"];

/// Lambda sets these in every function's environment; `cargo lambda watch` sets none of them
/// (it sets `AWS_LAMBDA_FUNCTION_NAME` and `AWS_LAMBDA_RUNTIME_API`, as Lambda does).
const SET_BY_LAMBDA: [&str; 3] = [
    "LAMBDA_TASK_ROOT",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_EXECUTION_ENV",
];

/// Lambda sets these to non-empty values and lets no function override them (they are
/// reserved), so an empty one is a local harness clearing it, never AWS.
pub fn on_aws(env: impl Fn(&str) -> Option<String>) -> bool {
    SET_BY_LAMBDA
        .iter()
        .any(|name| env(name).is_some_and(|value| !value.is_empty()))
}

/// Why the function must not start with this configuration on AWS, if it must not. Names the
/// variable, never a value.
pub fn refusal(config: &Config, variable_names: impl Iterator<Item = String>) -> Option<String> {
    if matches!(config.store, StoreConfig::Memory { .. }) {
        return Some(
            "TOKEN_STORE is memory (the embedded store, for local runs): on AWS it must be \
             dynamodb"
                .into(),
        );
    }
    keys_refusal(config, variable_names)
}

/// The part of `refusal` about keys and demo values, for a function that keeps no store (the
/// Lambda authorizer).
pub fn keys_refusal(
    config: &Config,
    variable_names: impl Iterator<Item = String>,
) -> Option<String> {
    let names: Vec<String> = variable_names.collect();
    let listed = |keep: &dyn Fn(&str) -> bool| {
        let mut found: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| keep(n))
            .collect();
        found.sort();
        (!found.is_empty()).then(|| found.join(", "))
    };
    if let Some(demo) = listed(&|n| n.starts_with("DEMO_")) {
        return Some(format!("{demo} set: demo values are for local runs only"));
    }
    if let Some(keys) = listed(&|n| KEY_VARIABLES.contains(&n)) {
        return Some(format!(
            "{keys} set: on AWS the keys come only from the secret that KEYS_SECRET_ARN names, \
             so no key sits in the function's configuration"
        ));
    }
    published_key(&config.keys)
}

/// Why these keys must not serve on AWS, if one of them is written in this repository: at
/// start, and for every copy a warm instance re-reads. Names the set and the key id.
pub fn published_key(keys: &KeyMaterial) -> Option<String> {
    let signing = keys
        .signing
        .iter()
        .map(|k| ("SIGNING_KEYS", k.kid.as_str(), k.secret.as_slice()));
    let grant = keys
        .grant
        .iter()
        .map(|k| ("GRANT_TOKEN_KEYS", k.kid.as_str(), k.secret.as_slice()));
    for (variable, kid, secret) in signing.chain(grant) {
        if published(secret) {
            let key = format!("{variable} {kid}");
            return Some(format!(
                "a key in {} is written in this repository (a test, a fixture, \
                 an example or a local run's configuration), so it is public: make a new one \
                 (README, Deploying)",
                key.trim_end()
            ));
        }
    }
    None
}

/// Whether the key, as configured (its text, or a private key's DER), is written anywhere in
/// the repository.
pub fn published(secret: &[u8]) -> bool {
    let print = fingerprint(secret);
    PUBLISHED.as_chunks::<16>().0.binary_search(&print).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{b64url, random_bytes};
    use std::collections::HashMap;

    fn config(vars: &[(&str, String)]) -> Config {
        let vars: HashMap<&str, &str> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Config::from_lookup(|name| vars.get(name).map(|v| v.to_string())).unwrap()
    }

    /// A production configuration with keys made now: written nowhere.
    fn fresh() -> Vec<(&'static str, String)> {
        vec![
            (
                "SIGNING_KEYS",
                format!("k1:{}", b64url(&random_bytes::<32>())),
            ),
            (
                "GRANT_TOKEN_KEYS",
                format!("g1:{}", b64url(&random_bytes::<32>())),
            ),
            ("ISSUER", "https://auth.example".into()),
            ("TOKEN_STORE", "dynamodb".into()),
            ("TABLE_NAME", "tokens".into()),
        ]
    }

    /// Why a fresh configuration with this key in `variable` is refused ("" if it is not).
    fn refused_with(variable: &'static str, value: &str) -> String {
        let mut vars = fresh();
        vars.retain(|(name, _)| *name != variable);
        vars.push((variable, value.to_owned()));
        refusal(&config(&vars), std::iter::empty()).unwrap_or_default()
    }

    #[test]
    fn a_production_configuration_passes() {
        assert_eq!(refusal(&config(&fresh()), std::iter::empty()), None);
    }

    #[test]
    fn the_embedded_store_demo_values_and_keys_in_the_environment_are_refused() {
        let memory = config(&fresh()[..3]);
        assert!(refusal(&memory, std::iter::empty())
            .unwrap()
            .contains("TOKEN_STORE"));

        let demo = refusal(&config(&fresh()), ["DEMO_CODE".to_owned()].into_iter()).unwrap();
        assert!(demo.contains("DEMO_CODE"));

        for variable in KEY_VARIABLES {
            let why = refusal(&config(&fresh()), [variable.to_owned()].into_iter()).unwrap();
            assert!(
                why.contains(variable) && why.contains("KEYS_SECRET_ARN"),
                "{why}"
            );
        }
    }

    /// Keys from anywhere in the repository: a local run's, a test fixture's private key, a
    /// key written in a test file, in the forms they are written in.
    #[test]
    fn keys_written_anywhere_in_the_repository_are_refused() {
        let local = "local-1:local-signing-key-0123456789abcdef";
        let why = refused_with("SIGNING_KEYS", local);
        assert!(
            why.contains("SIGNING_KEYS") && why.contains("local-1"),
            "{why}"
        );
        assert!(!why.contains("local-signing-key"), "never the key itself");

        let fixture = include_str!("../tests/fixtures/keys/rsa-2048-b.b64").trim();
        let why = refused_with("SIGNING_KEYS", &format!("fx:RS256:{fixture}"));
        assert!(why.contains("SIGNING_KEYS") && why.contains("fx"), "{why}");

        let ec = include_str!("../tests/fixtures/keys/ec-p256.b64").trim();
        assert!(refused_with("SIGNING_KEYS", &format!("ec:ES256:{ec}")).contains("ec"));

        for in_a_test in [
            "hs-1:an-hs256-secret-of-thirty-two-bytes-or-more",
            "2026-01:old-signing-key-from-the-secret-0001",
        ] {
            assert!(refused_with("SIGNING_KEYS", in_a_test).contains("SIGNING_KEYS"));
        }
        let grant = "t1:test-grant-token-key-0123456789ab";
        assert!(refused_with("GRANT_TOKEN_KEYS", grant).contains("GRANT_TOKEN_KEYS"));
    }

    #[test]
    fn a_fresh_random_key_is_not_published() {
        for _ in 0..100 {
            assert!(!published(&random_bytes::<32>()));
            assert!(!published(b64url(&random_bytes::<48>()).as_bytes()));
        }
    }

    #[test]
    fn only_lambda_itself_counts_as_aws() {
        let watch = HashMap::from([
            ("AWS_LAMBDA_FUNCTION_NAME", "token"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9000"),
        ]);
        assert!(!on_aws(|n| watch.get(n).map(|v| v.to_string())));
        let lambda = HashMap::from([("LAMBDA_TASK_ROOT", "/var/task")]);
        assert!(on_aws(|n| lambda.get(n).map(|v| v.to_string())));
    }
}

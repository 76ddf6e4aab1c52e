//! Local-only values never run on AWS.
//!
//! `cargo lambda watch` runs the function with the embedded store, the API document's demo
//! client, seeded codes and tokens, and keys written in Cargo.toml: all of them public. Deployed,
//! any of them would let anyone mint tokens or sign in as the demo client. So on AWS (not under
//! `cargo lambda watch`) the function refuses to start with the embedded store, with any `DEMO_*`
//! variable set, or with a key that is published in this repository, whatever packaging put it
//! there.

use crate::config::{Config, StoreConfig};

/// Texts of this repository that hold local keys; a key found in them is public.
const PUBLISHED: [(&str, &str); 3] = [
    ("Cargo.toml", include_str!("../Cargo.toml")),
    (".ci/local", include_str!("../.ci/local")),
    ("README.md", include_str!("../README.md")),
];

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
    let mut demo: Vec<String> = variable_names.filter(|n| n.starts_with("DEMO_")).collect();
    if !demo.is_empty() {
        demo.sort();
        return Some(format!(
            "{} set: demo values are for local runs only",
            demo.join(", ")
        ));
    }
    let signing = config
        .keys
        .signing
        .iter()
        .map(|k| ("SIGNING_KEYS", k.kid.as_str(), k.secret.as_slice()));
    let grant = config
        .keys
        .grant
        .iter()
        .map(|k| ("GRANT_TOKEN_KEYS", k.kid.as_str(), k.secret.as_slice()));
    for (variable, kid, secret) in signing.chain(grant) {
        if let Some((file, _)) = PUBLISHED.iter().find(|(_, text)| contains(text, secret)) {
            return Some(format!(
                "a key in {variable} {kid} is published in the repository's {file}: make a \
                 new one (README, Deploying)"
            ));
        }
    }
    None
}

/// Whether `text` holds the key as configured: its bytes, or (private keys) their base64url.
fn contains(text: &str, secret: &[u8]) -> bool {
    let found = |needle: &[u8]| {
        !needle.is_empty() && text.as_bytes().windows(needle.len()).any(|w| w == needle)
    };
    found(secret) || found(crate::crypto::b64url(secret).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        Config::from_lookup(|name| vars.get(name).map(|v| v.to_string())).unwrap()
    }

    const FRESH: [(&str, &str); 5] = [
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
    ];

    #[test]
    fn a_production_configuration_passes() {
        assert_eq!(refusal(&config(&FRESH), std::iter::empty()), None);
    }

    #[test]
    fn the_embedded_store_demo_values_and_published_keys_are_refused() {
        let memory = config(&FRESH[..3]);
        assert!(refusal(&memory, std::iter::empty())
            .unwrap()
            .contains("TOKEN_STORE"));

        let demo = refusal(&config(&FRESH), ["DEMO_CODE".to_owned()].into_iter()).unwrap();
        assert!(demo.contains("DEMO_CODE"));

        let mut published = FRESH;
        published[0] = ("SIGNING_KEYS", "local-1:local-signing-key-0123456789abcdef");
        let why = refusal(&config(&published), std::iter::empty()).unwrap();
        assert!(
            why.contains("SIGNING_KEYS") && why.contains("Cargo.toml"),
            "{why}"
        );
        assert!(!why.contains("local-signing-key"), "never the key itself");

        let mut published = FRESH;
        published[1] = (
            "GRANT_TOKEN_KEYS",
            "local-1:local-grant-token-key-0123456789abcdef",
        );
        let why = refusal(&config(&published), std::iter::empty()).unwrap();
        assert!(why.contains("GRANT_TOKEN_KEYS"), "{why}");
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

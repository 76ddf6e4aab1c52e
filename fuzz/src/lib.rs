//! What the fuzz targets share: the service's local configuration (the one `cargo lambda watch`
//! runs, from the main crate's Cargo.toml, so the seed events in `events/` are valid requests),
//! and a fixed clock reading.

use chatroom_token::config::Config;
use chatroom_token::domain::key_ring::KeyRing;
use std::collections::HashMap;

/// "Now" for the targets that judge time (the keys secret, access tokens): 2027-01-15. The seed
/// access tokens are valid at this instant.
pub const FIXED_NOW: i64 = 1_800_000_000;

/// The `[package.metadata.lambda.watch.env]` table of the main crate's Cargo.toml.
pub fn watch_env() -> HashMap<String, String> {
    let manifest: toml::Value =
        toml::from_str(include_str!("../../Cargo.toml")).expect("Cargo.toml is TOML");
    manifest["package"]["metadata"]["lambda"]["watch"]["env"]
        .as_table()
        .expect("Cargo.toml has the local environment")
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// The local configuration: embedded store, demo client and grants, local keys.
pub fn local_config() -> Config {
    let env = watch_env();
    Config::from_lookup(|name| env.get(name).cloned()).expect("the local configuration is valid")
}

/// The local keys, ready (an HS256 and an RS256 signing key, one grant-token key).
pub fn local_key_ring() -> KeyRing {
    let config = local_config();
    KeyRing::build(config.keys, &config.issuer, config.lifetimes.access_token)
}

//! The OAuth 2.0 token service of the chat-room platform's open API.
//!
//! - `domain`: grant logic over store traits and a clock (no Lambda, no SDK).
//! - `store`: the store contract, the embedded store and the DynamoDB store.
//! - `http`: the Lambda HTTP adapter.
//! - `config`: environment variables, read once at cold start (`key_strength` refuses guessable
//!   keys, `local_only` what must never run on AWS).
//! - `crypto`: token format, hashing, sealing.

/// On musl (the deployed build), mimalloc: musl's own allocator costs about a third more CPU per
/// invocation (every binary of this crate: the token function, the authorizer, tokenctl). glibc builds (tests, local runs) keep the system allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod authorizer;
pub mod aws;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod key_strength;
mod key_text;
pub mod keys_secret;
pub mod local_only;
pub mod logging;
pub mod partition;
pub mod store;
pub mod tokenctl;

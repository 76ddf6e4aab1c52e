//! Grant logic: plain async functions over the store traits and an explicit clock.

pub mod access_token;
pub mod authorization_code;
pub mod client_assertion;
pub mod client_auth;
pub mod client_credentials;
pub mod code_issuer;
pub mod conditions;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod internal_callers;
pub mod internal_codes;
pub mod introspection;
pub mod key_ring;
pub mod live_keys;
pub mod model;
pub mod pkce;
pub mod port;
pub mod redirect_uri;
pub mod refresh;
pub mod resource_request;
pub mod revocation;
pub mod scope;
pub mod service;
pub mod signing_key;

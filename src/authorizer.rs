//! The Lambda authorizer the platform's APIs attach (API Gateway HTTP API, payload 2.0, simple
//! responses): it lets a request through if it carries one of our access tokens the way
//! `ResourceVerifier` requires (bearer tokens unbound, DPoP-bound ones with a proof of their
//! key), and hands the API the token's `sub`, `client_id` and `scope` as context.
//!
//! Keys: loaded as the token function loads them (the keys secret on AWS), and re-read from
//! the secret while warm (`KEYS_REFRESH_SECONDS`), so a key rotation reaches it as it reaches
//! the token function. The URL a DPoP proof must name is `API_BASE_URL` followed by the
//! request's path, never the `Host` header. Caching: a DPoP proof is made for one request, so
//! the template turns API Gateway's authorizer cache off.

use crate::app::{start_keys, StartupError};
use crate::aws::Aws;
use crate::clock::{Clock, SystemClock};
use crate::domain::dpop::ProofAlgorithm;
use crate::domain::live_keys::LiveKeys;
use crate::domain::resource_request::{ResourceRequest, ResourceVerifier};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// What the authorizer reads of API Gateway's event (payload format 2.0): header names are
/// lower case, and repeated headers arrive joined by commas.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerEvent {
    #[serde(default)]
    pub headers: HashMap<String, String>,
    #[serde(default)]
    pub raw_path: String,
    pub request_context: EventContext,
}

#[derive(Debug, Deserialize)]
pub struct EventContext {
    pub http: EventHttp,
}

#[derive(Debug, Deserialize)]
pub struct EventHttp {
    pub method: String,
}

/// The simple response: allowed or not, and what the API learns of the token.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub is_authorized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<TokenContext>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct TokenContext {
    pub sub: String,
    pub client_id: String,
    pub scope: String,
    /// `DPoP` or `Bearer`: how the token was presented.
    pub token_type: &'static str,
}

pub struct Authorizer {
    keys: Arc<LiveKeys>,
    clock: Arc<dyn Clock>,
    verifier: ResourceVerifier,
    /// The APIs' base URL, as their clients call them (before the path API Gateway passes).
    api_base_url: String,
}

impl Authorizer {
    /// From the process environment: the token function's key settings, `API_BASE_URL`,
    /// `DPOP_SIGNING_ALGS` (ES256) and `DPOP_PROOF_MAX_AGE_SECONDS` (60).
    pub async fn start() -> Result<Self, StartupError> {
        let env = |name: &str| std::env::var(name).ok();
        let names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
        Self::start_with(env, names, &Aws::default(), Arc::new(SystemClock)).await
    }

    pub async fn start_with(
        env: impl Fn(&str) -> Option<String>,
        names: impl Iterator<Item = String>,
        aws: &Aws,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let bad =
            |name: &str, why: &str| StartupError(format!("configuration error in {name}: {why}"));
        let api_base_url = env("API_BASE_URL")
            .ok_or_else(|| bad("API_BASE_URL", "is required (the APIs' https base URL)"))?
            .trim_end_matches('/')
            .to_owned();
        if crate::domain::dpop::normalize_uri(&api_base_url).is_none() {
            return Err(bad("API_BASE_URL", "must be an http or https URL"));
        }
        let algorithms =
            ProofAlgorithm::parse_list(&env("DPOP_SIGNING_ALGS").unwrap_or_else(|| "ES256".into()))
                .map_err(|why| bad("DPOP_SIGNING_ALGS", why))?;
        let max_age = match env("DPOP_PROOF_MAX_AGE_SECONDS") {
            None => 60,
            Some(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|s| (1..=300).contains(s))
                .ok_or_else(|| bad("DPOP_PROOF_MAX_AGE_SECONDS", "must be 1 to 300"))?,
        };
        let (_, keys) = start_keys(env, names, aws, clock.clone()).await?;
        Ok(Self {
            keys,
            clock,
            verifier: ResourceVerifier::new(algorithms, max_age),
            api_base_url,
        })
    }

    /// Decides one request. Logs the outcome and why, never the token or the proof.
    pub async fn decide(&self, event: &AuthorizerEvent) -> Decision {
        self.keys.refresh_if_due(&self.clock).await;
        let header = |name: &str| event.headers.get(name).map(String::as_str);
        let proofs: Vec<&str> = header("dpop").into_iter().collect();
        let url = format!("{}{}", self.api_base_url, event.raw_path);
        let request = ResourceRequest {
            authorization: header("authorization"),
            dpop: &proofs,
            method: &event.request_context.http.method,
            url: &url,
        };
        let keys = self.keys.get();
        match self
            .verifier
            .verify(keys.verifier(), &request, self.clock.now())
        {
            Ok(claims) => {
                let token_type = if claims.cnf.is_some() {
                    "DPoP"
                } else {
                    "Bearer"
                };
                tracing::info!(client_id = %claims.client_id, token_type, "request authorized");
                Decision {
                    is_authorized: true,
                    context: Some(TokenContext {
                        sub: claims.sub,
                        client_id: claims.client_id,
                        scope: claims.scope,
                        token_type,
                    }),
                }
            }
            Err(refusal) => {
                tracing::info!(reason = refusal.as_str(), "request refused");
                Decision {
                    is_authorized: false,
                    context: None,
                }
            }
        }
    }
}

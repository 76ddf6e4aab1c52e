//! What the service publishes about itself: the authorization server metadata (RFC 8414) and the
//! public keys that verify its access tokens (RFC 7517). The metadata is built once, at cold
//! start, the JWKS with each copy of the keys; every URL in the metadata is the issuer followed
//! by an endpoint path below.

use super::access_token::PreparedKey;
use super::dpop::ProofAlgorithm;
use serde_json::json;

pub const TOKEN_PATH: &str = "/chatroom/api/token";
pub const REVOCATION_PATH: &str = "/chatroom/api/revoke";
pub const INTROSPECTION_PATH: &str = "/chatroom/api/introspect";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Not in the metadata: the IAM-authorized route of the platform's own backends.
pub const INTERNAL_CODES_PATH: &str = "/internal/codes";
/// RFC 8414 §3: the well-known URI, for an issuer without a path component.
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// The RFC 8414 metadata document.
/// What the service serves beyond the API document's grants and client secrets.
#[derive(Clone, Copy, Debug, Default)]
pub struct Served<'a> {
    pub client_credentials: bool,
    pub public_clients: bool,
    pub private_key_jwt: bool,
    /// Where DPoP is served: the algorithms its proofs may use.
    pub dpop_algorithms: Option<&'a [ProofAlgorithm]>,
}

/// The grant types and authentication methods are listed only where the service serves them.
pub fn metadata(issuer: &str, scopes_supported: Option<&[String]>, served: Served<'_>) -> String {
    let mut grant_types = vec!["authorization_code", "refresh_token"];
    if served.client_credentials {
        grant_types.push("client_credentials");
    }
    let mut client_auth = vec!["client_secret_post", "client_secret_basic"];
    if served.private_key_jwt {
        client_auth.push("private_key_jwt");
    }
    // RFC 8414 §2: a public client authenticates with "none" (its client_id alone); the token
    // and revocation endpoints accept it, introspection never.
    let mut token_auth = client_auth.clone();
    if served.public_clients {
        token_auth.push("none");
    }
    let mut document = json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "revocation_endpoint": format!("{issuer}{REVOCATION_PATH}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECTION_PATH}"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "grant_types_supported": grant_types,
        // Codes are issued by the platform's consent page (the authorization endpoint lives
        // there); this service redeems them.
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": token_auth,
        "revocation_endpoint_auth_methods_supported": token_auth,
        "introspection_endpoint_auth_methods_supported": client_auth,
        "code_challenge_methods_supported": ["S256", "plain"],
    });
    if served.private_key_jwt {
        // RFC 8414 §2: the algorithms a client assertion may be signed with, per endpoint.
        let algorithms = json!(["ES256", "RS256"]);
        for endpoint in ["token", "revocation", "introspection"] {
            document[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")] =
                algorithms.clone();
        }
    }
    if let Some(algorithms) = served.dpop_algorithms {
        // RFC 9449 §5.1.
        let names: Vec<&str> = algorithms.iter().map(|a| a.as_str()).collect();
        document["dpop_signing_alg_values_supported"] = json!(names);
    }
    if let Some(scopes) = scopes_supported {
        document["scopes_supported"] = json!(scopes);
    }
    document.to_string()
}

/// The JWKS: the public half of every asymmetric signing key. Symmetric (HS256) secrets are
/// never published.
pub fn jwks(signing_keys: &[PreparedKey]) -> String {
    let keys: Vec<_> = signing_keys
        .iter()
        .filter_map(|key| key.public_jwk.as_ref())
        .collect();
    json!({ "keys": keys }).to_string()
}

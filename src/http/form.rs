//! Turns a form POST into a `TokenRequest` (token endpoint) or a `TokenActionRequest`
//! (revocation, introspection): content type, body size, form decoding, duplicate parameters,
//! and client credentials from the body or HTTP Basic.

use crate::crypto::secret::Secret;
use crate::domain::client_assertion;
use crate::domain::dpop::{self, ProofRefusal};
use crate::domain::error::{AuthMethod, OAuthError};
use crate::domain::service::{ClientCredentials, TokenActionRequest, TokenRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lambda_http::http::header::{AUTHORIZATION, CONTENT_TYPE};
use lambda_http::http::HeaderMap;

/// Far above any legitimate token request (a few hundred bytes), far below what could hurt.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

const PARAMETERS: [&str; 13] = [
    "grant_type",
    "client_id",
    "client_secret",
    // private_key_jwt (RFC 7523 §2.2).
    "client_assertion_type",
    "client_assertion",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    // Read only to be refused when repeated; this endpoint takes no resource indicators.
    "resource",
    // Revocation and introspection.
    "token",
    "token_type_hint",
];

/// A decoded form: the known parameters (absent and empty both `None`) and the client's
/// credentials from the body or HTTP Basic.
pub struct Form {
    values: [Option<String>; PARAMETERS.len()],
    pub client: Option<ClientCredentials>,
    /// The `DPoP` header (RFC 9449), if any: the one proof, or why there is no one.
    pub dpop: Option<Result<String, ProofRefusal>>,
}

impl Form {
    fn take(&mut self, name: &str) -> Option<String> {
        let slot = PARAMETERS.iter().position(|p| *p == name)?;
        self.values[slot].take()
    }

    /// The token endpoint's request.
    pub fn token_request(mut self) -> TokenRequest {
        TokenRequest {
            grant_type: self.take("grant_type"),
            code: self.take("code").map(Secret::new),
            redirect_uri: self.take("redirect_uri"),
            code_verifier: self.take("code_verifier").map(Secret::new),
            refresh_token: self.take("refresh_token").map(Secret::new),
            scope: self.take("scope"),
            client: self.client,
            dpop: self.dpop,
        }
    }

    /// A revocation or introspection request.
    pub fn token_action(mut self) -> TokenActionRequest {
        TokenActionRequest {
            token: self.take("token").map(Secret::new),
            token_type_hint: self.take("token_type_hint"),
            client: self.client,
        }
    }
}

pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
    if !is_form_content_type(headers) {
        return Err(OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(OAuthError::invalid_request("the request body is too large"));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::invalid_request("the request body is not a valid form"))?;

    let mut values: [Option<String>; PARAMETERS.len()] = Default::default();
    for (name, value) in pairs {
        let Some(slot) = PARAMETERS.iter().position(|p| *p == name) else {
            continue; // RFC 6749 §3.2: unknown parameters are ignored.
        };
        if values[slot].is_some() {
            return Err(OAuthError::invalid_request(
                "a request parameter was sent more than once",
            ));
        }
        // RFC 6749 §3.1: a parameter sent without a value is treated as omitted; it still
        // counts for the duplicate check above.
        values[slot] = Some(value);
    }
    let mut form = Form {
        values: values.map(|v| v.filter(|v| !v.is_empty())),
        client: None,
        dpop: dpop_header(headers),
    };
    let basic = basic_credentials(headers)?;
    let assertion = client_assertion(&mut form)?;
    let one_method_only =
        || OAuthError::invalid_request("use one client authentication method, not both");
    let (id, secret) = (form.take("client_id"), form.take("client_secret"));
    form.client = match (basic, assertion) {
        (Some(_), Some(_)) => return Err(one_method_only()),
        (Some(_), None) if id.is_some() || secret.is_some() => return Err(one_method_only()),
        (Some(credentials), None) => Some(credentials),
        (None, Some(_)) if secret.is_some() => return Err(one_method_only()),
        (None, Some(assertion)) => {
            // RFC 7523 §3: the client is the assertion's `sub`; a `client_id` sent beside it
            // must be the same (the assertion's check compares them).
            let id = id
                .or_else(|| client_assertion::claimed_client(&assertion))
                .ok_or_else(|| {
                    OAuthError::invalid_client(AuthMethod::Assertion)
                        .with_description("the client assertion names no client")
                })?;
            Some(ClientCredentials {
                id,
                secret: None,
                assertion: Some(Secret::new(assertion)),
                method: AuthMethod::Assertion,
            })
        }
        (None, None) => id.map(|id| ClientCredentials {
            id,
            secret: secret.map(Secret::new),
            assertion: None,
            method: AuthMethod::Body,
        }),
    };
    Ok(form)
}

/// The client assertion (`private_key_jwt`), if the form carries one: both of its parameters,
/// or neither.
fn client_assertion(form: &mut Form) -> Result<Option<String>, OAuthError> {
    match (
        form.take("client_assertion_type"),
        form.take("client_assertion"),
    ) {
        (None, None) => Ok(None),
        (Some(kind), Some(assertion)) if kind == client_assertion::ASSERTION_TYPE => {
            Ok(Some(assertion))
        }
        (Some(_), Some(_)) => Err(OAuthError::invalid_client(AuthMethod::Assertion)
            .with_description(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )),
        _ => Err(OAuthError::invalid_request(
            "client_assertion and client_assertion_type are sent together",
        )),
    }
}

/// The request's DPoP proof: `None` without a `DPoP` header; refused if there are several (API
/// Gateway's HTTP API joins them with a comma) or it is not text.
fn dpop_header(headers: &HeaderMap) -> Option<Result<String, ProofRefusal>> {
    let values: Option<Vec<&str>> = headers
        .get_all("dpop")
        .iter()
        .map(|v| v.to_str().ok())
        .collect();
    let Some(values) = values else {
        return Some(Err(ProofRefusal::Malformed));
    };
    dpop::single_proof(&values)
        .map(|one| one.map(str::to_owned))
        .transpose()
}

fn is_form_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// HTTP Basic credentials (RFC 6749 §2.3.1: id and secret are form-urlencoded before being
/// joined with a colon). `Ok(None)` when there is no Basic Authorization header.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<ClientCredentials>, OAuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        OAuthError::invalid_client(AuthMethod::Basic)
            .with_description("the Authorization header is not valid HTTP Basic credentials")
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = form_unescape(id).ok_or_else(malformed)?;
    let secret = form_unescape(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok(Some(ClientCredentials {
        id,
        secret: Some(Secret::new(secret)),
        assertion: None,
        method: AuthMethod::Basic,
    }))
}

/// Reverses application/x-www-form-urlencoded escaping of one value.
fn form_unescape(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_form_encoding() {
        assert_eq!(form_unescape("a%3Ab+c").unwrap(), "a:b c");
        assert!(form_unescape("%FF").is_none());
    }
}

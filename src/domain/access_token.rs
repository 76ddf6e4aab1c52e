//! Access tokens: JWTs signed with the first configured key (HS256, the platform's format, by
//! default; RS256 or ES256 when configured), carrying the RFC 9068 claims and the id of the
//! grant they came from, and the verification function the platform's API servers call.

pub use super::signing_key::{PreparedKey, SigningKey};
use crate::crypto::grant_token::GrantId;
use crate::crypto::jwt_backend;
use crate::crypto::{b64url, random_bytes};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// The grant the token was issued from (signed like every claim): what revoking or
    /// introspecting the token looks up. Absent on a client's token for itself (client
    /// credentials), which comes from no grant: its `sub` is the client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// RFC 9449 §6.1: the thumbprint of the key the token is bound to (DPoP); absent on a
    /// bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// RFC 7800's confirmation claim, with RFC 9449's `jkt` member.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Confirmation {
    pub jkt: String,
}

/// Who an access token is for.
#[derive(Clone, Copy, Debug)]
pub enum Holder<'a> {
    /// A user, through their grant to the client.
    User {
        user_id: &'a str,
        grant_id: &'a GrantId,
    },
    /// The client itself (client credentials, RFC 6749 §4.4).
    Client,
}

/// Signs access tokens with the first key of the set. Keys are turned into `jsonwebtoken` keys
/// once, at cold start.
pub struct AccessTokenSigner {
    header: Header,
    key: EncodingKey,
    issuer: String,
    lifetime: i64,
}

impl AccessTokenSigner {
    /// `signing_key` must have passed configuration (`SigningKey::parse`).
    pub fn new(signing_key: &SigningKey, issuer: String, lifetime: i64) -> Self {
        Self::from_prepared(
            &PreparedKey::all(std::slice::from_ref(signing_key))[0],
            issuer,
            lifetime,
        )
    }

    pub fn from_prepared(prepared: &PreparedKey, issuer: String, lifetime: i64) -> Self {
        jwt_backend::install();
        let mut header = Header::new(prepared.algorithm);
        header.kid = Some(prepared.kid.clone());
        // RFC 9068 §2.1: JWT access tokens are typed so they cannot be confused with ID tokens.
        header.typ = Some("at+jwt".to_owned());
        Self {
            header,
            key: prepared.encoding.clone(),
            issuer,
            lifetime,
        }
    }

    /// A user's token, for the key's lifetime.
    pub fn sign(
        &self,
        user_id: &str,
        client_id: &str,
        scope: String,
        grant_id: &GrantId,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let holder = Holder::User { user_id, grant_id };
        self.sign_for(holder, client_id, scope, now, self.lifetime)
    }

    /// A bearer token for `holder`, valid `lifetime` seconds from `now`.
    pub fn sign_for(
        &self,
        holder: Holder<'_>,
        client_id: &str,
        scope: String,
        now: i64,
        lifetime: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign_bound(holder, client_id, scope, now, lifetime, None)
    }

    /// A token for `holder`, bound to the DPoP key with thumbprint `jkt` where given.
    pub fn sign_bound(
        &self,
        holder: Holder<'_>,
        client_id: &str,
        scope: String,
        now: i64,
        lifetime: i64,
        jkt: Option<&str>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let (sub, gid) = match holder {
            Holder::User { user_id, grant_id } => (user_id, Some(grant_id.to_string())),
            Holder::Client => (client_id, None),
        };
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: sub.to_owned(),
            aud: vec![client_id.to_owned()],
            exp: now + lifetime,
            iat: now,
            jti: b64url(&random_bytes::<16>()),
            client_id: client_id.to_owned(),
            scope,
            gid,
            cnf: jkt.map(|jkt| Confirmation {
                jkt: jkt.to_owned(),
            }),
        };
        jsonwebtoken::encode(&self.header, &claims, &self.key)
    }
}

/// RFC 9068 §4: the `typ` header must be `at+jwt` (a media type: case-insensitive, and the
/// `application/` prefix may be written out), so no other JWT signed with the same key passes
/// as an access token.
fn is_access_token_type(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    typ == "at+jwt" || typ == "application/at+jwt"
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// Malformed, wrong algorithm, unknown `kid`, or bad signature.
    Invalid,
    Expired,
    WrongIssuer,
    WrongAudience,
}

/// What an API server needs to check our access tokens: every key still valid for
/// verification (the configured keys, or the public keys of the JWKS), the issuer, and its own
/// client id (the expected audience). Checks the `typ` header, the `kid`, the signature with the
/// algorithm pinned to that key's (a token's own `alg` never chooses: no `none`, no HS256 token
/// "signed" with an RSA public key), `exp`, `iss` and `aud`.
pub struct AccessTokenVerifier {
    keys: Vec<(String, Algorithm, DecodingKey)>,
    issuer: String,
    audience: Option<String>,
}

impl AccessTokenVerifier {
    /// From the configured keys (the token service itself, or an API server given the set).
    pub fn new(keys: &[SigningKey], issuer: &str, audience: &str) -> Self {
        let mut verifier = Self::for_issuer(keys, issuer);
        verifier.audience = Some(audience.to_owned());
        verifier
    }

    /// Any audience: the token service checking its own tokens for revocation and
    /// introspection, where the caller's identity is checked against `client_id` instead.
    pub fn for_issuer(keys: &[SigningKey], issuer: &str) -> Self {
        Self::from_prepared(&PreparedKey::all(keys), issuer)
    }

    pub fn from_prepared(keys: &[PreparedKey], issuer: &str) -> Self {
        jwt_backend::install();
        let keys = keys
            .iter()
            .map(|key| (key.kid.clone(), key.algorithm, key.decoding.clone()))
            .collect();
        Self {
            keys,
            issuer: issuer.to_owned(),
            audience: None,
        }
    }

    /// From a JWKS document (the service's `jwks_uri`): its RS256 and ES256 keys, each pinned to
    /// its own `alg`.
    pub fn from_jwks(jwks: &str, issuer: &str, audience: &str) -> Result<Self, String> {
        jwt_backend::install();
        let set: JwkSet = serde_json::from_str(jwks).map_err(|_| "not a JWK set".to_owned())?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let (Some(kid), Some(alg)) = (&jwk.common.key_id, &jwk.common.key_algorithm) else {
                continue;
            };
            let algorithm = match (alg.to_string().as_str(), &jwk.algorithm) {
                ("RS256", AlgorithmParameters::RSA(_)) => Algorithm::RS256,
                ("ES256", AlgorithmParameters::EllipticCurve(_)) => Algorithm::ES256,
                _ => continue,
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|_| format!("key '{kid}' is unusable"))?;
            keys.push((kid.clone(), algorithm, key));
        }
        if keys.is_empty() {
            return Err("the JWK set has no RS256 or ES256 key with a kid".into());
        }
        Ok(Self {
            keys,
            issuer: issuer.to_owned(),
            audience: Some(audience.to_owned()),
        })
    }

    /// Verifies against the machine's clock (API servers).
    pub fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.verify_at(token, now)
    }

    /// Verifies as of `now` (the token service, on its own clock).
    pub fn verify_at(&self, token: &str, now: i64) -> Result<AccessClaims, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
        if !header.typ.as_deref().is_some_and(is_access_token_type) {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::Invalid)?;
        let (_, algorithm, key) = self
            .keys
            .iter()
            .find(|(id, _, _)| *id == kid)
            .ok_or(VerifyError::Invalid)?;
        if header.alg != *algorithm {
            return Err(VerifyError::Invalid);
        }
        let mut validation = Validation::new(*algorithm);
        validation.set_issuer(&[&self.issuer]);
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // `exp` is checked below against `now`, not the library's own clock.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
                jsonwebtoken::errors::ErrorKind::InvalidAudience => VerifyError::WrongAudience,
                _ => VerifyError::Invalid,
            })?;
        if claims.exp <= now {
            return Err(VerifyError::Expired);
        }
        Ok(claims)
    }
}

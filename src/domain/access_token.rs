//! Access tokens: JWTs signed with HS256 (the platform's format), carrying the RFC 9068 claims,
//! and the verification function the platform's API servers call.

use crate::crypto::{b64url, random_bytes};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// A signing key: its id (the `kid` header) and secret. At least 32 bytes (checked by config).
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, [redacted])", self.kid)
    }
}

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
    pub fn new(signing_key: &SigningKey, issuer: String, lifetime: i64) -> Self {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(signing_key.kid.clone());
        // RFC 9068 §2.1: JWT access tokens are typed so they cannot be confused with ID tokens.
        header.typ = Some("at+jwt".to_owned());
        Self {
            header,
            key: EncodingKey::from_secret(&signing_key.secret),
            issuer,
            lifetime,
        }
    }

    pub fn lifetime(&self) -> i64 {
        self.lifetime
    }

    pub fn sign(
        &self,
        user_id: &str,
        client_id: &str,
        scope: String,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: user_id.to_owned(),
            aud: vec![client_id.to_owned()],
            exp: now + self.lifetime,
            iat: now,
            jti: b64url(&random_bytes::<16>()),
            client_id: client_id.to_owned(),
            scope,
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
/// verification, the issuer, and its own client id (the expected audience). Checks the `typ`
/// header, the `kid`, the signature with the algorithm pinned to HS256, `exp`, `iss` and `aud`.
pub struct AccessTokenVerifier {
    keys: Vec<(String, DecodingKey)>,
    validation: Validation,
}

impl AccessTokenVerifier {
    pub fn new(keys: &[SigningKey], issuer: &str, audience: &str) -> Self {
        // The algorithm is pinned: a token's own `alg` header never chooses how it is checked.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Self {
            keys: keys
                .iter()
                .map(|k| (k.kid.clone(), DecodingKey::from_secret(&k.secret)))
                .collect(),
            validation,
        }
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
        if !header.typ.as_deref().is_some_and(is_access_token_type) {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::Invalid)?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(id, _)| *id == kid)
            .ok_or(VerifyError::Invalid)?;
        jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => VerifyError::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
                jsonwebtoken::errors::ErrorKind::InvalidAudience => VerifyError::WrongAudience,
                _ => VerifyError::Invalid,
            })
    }
}

//! Access-token signing keys: HS256 secrets (the platform's API document's format, the
//! default), and RS256 or ES256 private keys whose public halves are published as a JWKS
//! (RFC 7517) so API servers can verify tokens without holding a key that mints them.
//!
//! Each key is turned into `jsonwebtoken` keys once, at cold start (`prepare`); a key that
//! cannot be is a configuration error naming its `kid`.

use super::key_ring::KeyState;
use crate::crypto::{b64url_decode, jwt_backend};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// RSA keys shorter than this are refused (RFC 7518 §3.3 requires at least 2048 bits).
pub const MIN_RSA_BITS: usize = 2048;

/// A signing key as configured: its id (the `kid` header), algorithm and key bytes: the HS256
/// secret, or the private key as PKCS#8 DER; and its state (when it signs).
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub secret: Vec<u8>,
    pub state: KeyState,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({}, {:?}, {:?}, [redacted])",
            self.kid, self.algorithm, self.state
        )
    }
}

/// A key ready to sign and verify, with its public JWK if it has a public half.
pub struct PreparedKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub public_jwk: Option<Jwk>,
}

impl SigningKey {
    /// An HS256 key that signs from the start.
    pub fn hs256(kid: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        Self {
            kid: kid.into(),
            algorithm: Algorithm::HS256,
            secret: secret.into(),
            state: KeyState::ALWAYS,
        }
    }

    /// The same key in another state.
    pub fn with_state(self, state: KeyState) -> Self {
        Self { state, ..self }
    }

    /// Reads one `SIGNING_KEYS` value: `RS256:<key>` or `ES256:<key>` (a PKCS#8 DER private
    /// key, base64url or base64), or anything else as an HS256 secret.
    pub fn parse(kid: &str, value: &[u8]) -> Result<Self, String> {
        let asymmetric = [("RS256:", Algorithm::RS256), ("ES256:", Algorithm::ES256)]
            .into_iter()
            .find_map(|(prefix, alg)| value.strip_prefix(prefix.as_bytes()).map(|k| (alg, k)));
        let key = match asymmetric {
            None => Self::hs256(kid, value),
            Some((algorithm, encoded)) => {
                let text = std::str::from_utf8(encoded).unwrap_or_default();
                let normalized = crate::key_text::url_safe_unpadded(text);
                let der = b64url_decode(&normalized)
                    .ok_or(format!("key '{kid}' is not base64url PKCS#8 DER"))?;
                Self {
                    kid: kid.to_owned(),
                    algorithm,
                    secret: der,
                    state: KeyState::ALWAYS,
                }
            }
        };
        key.prepare()?.probe()?;
        Ok(key)
    }

    /// Builds the signing and verification keys. Errors name the `kid`, never the key.
    pub fn prepare(&self) -> Result<PreparedKey, String> {
        jwt_backend::install();
        let bad = |what: &str| format!("key '{}' is not {what}", self.kid);
        let (encoding, decoding, public_jwk) = match self.algorithm {
            Algorithm::HS256 => (
                EncodingKey::from_secret(&self.secret),
                DecodingKey::from_secret(&self.secret),
                None,
            ),
            Algorithm::RS256 => {
                jwt_backend::prepare(Algorithm::RS256, &self.secret).map_err(bad)?;
                if jwt_backend::rsa_bits(&self.secret).unwrap_or(0) < MIN_RSA_BITS {
                    return Err(bad("an RSA key of at least 2048 bits"));
                }
                // The PKCS#8 bytes as they are: the backend parsed them once, above.
                let encoding = EncodingKey::from_rsa_der(&self.secret);
                let jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)
                    .map_err(|_| bad("a usable RSA key"))?;
                (
                    encoding,
                    DecodingKey::from_jwk(&jwk).map_err(|_| bad("usable"))?,
                    Some(jwk),
                )
            }
            Algorithm::ES256 => {
                jwt_backend::prepare(Algorithm::ES256, &self.secret).map_err(bad)?;
                let encoding = EncodingKey::from_ec_der(&self.secret);
                let jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256)
                    .map_err(|_| bad("a P-256 private key in PKCS#8 DER"))?;
                (
                    encoding,
                    DecodingKey::from_jwk(&jwk).map_err(|_| bad("usable"))?,
                    Some(jwk),
                )
            }
            _ => return Err(bad("HS256, RS256 or ES256")),
        };
        let public_jwk = public_jwk.map(|mut jwk| {
            jwk.common.key_id = Some(self.kid.clone());
            jwk.common.public_key_use = Some(PublicKeyUse::Signature);
            jwk
        });
        Ok(PreparedKey {
            kid: self.kid.clone(),
            algorithm: self.algorithm,
            encoding,
            decoding,
            public_jwk,
        })
    }
}

impl PreparedKey {
    /// Signs and verifies once, so a key that parses but cannot sign fails when the
    /// configuration is read, not on the first request.
    fn probe(&self) -> Result<(), String> {
        let bad = |what: &str| format!("key '{}' is not {what}", self.kid);
        let probe = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(self.algorithm),
            &serde_json::json!({"probe": true}),
            &self.encoding,
        )
        .map_err(|_| bad("able to sign"))?;
        let mut validation = jsonwebtoken::Validation::new(self.algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(&probe, &self.decoding, &validation)
            .map_err(|_| bad("able to verify its own signature"))?;
        Ok(())
    }

    /// Every configured key, ready; the configuration loader has already checked each.
    pub fn all(keys: &[SigningKey]) -> Vec<PreparedKey> {
        keys.iter()
            .map(|key| {
                key.prepare()
                    .expect("signing keys are checked when the configuration is read")
            })
            .collect()
    }
}

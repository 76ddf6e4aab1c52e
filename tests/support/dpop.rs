//! DPoP proofs (RFC 9449) as a client makes them: a key pair of its own (P-256, made fresh for
//! each test), and proofs for the token endpoint signed with it.

use chatroom_token::crypto::{b64url, random_bytes, sha256};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

/// The token endpoint's URL under the suite's issuer: what the proofs name (`htu`).
pub const TOKEN_URL: &str = "https://auth.chatroom.test/chatroom/api/token";

/// A client's DPoP key.
pub struct DpopKey {
    pair: EcdsaKeyPair,
}

impl DpopKey {
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        Self { pair }
    }

    pub fn public_jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(&point[1..33]),
            "y": b64url(&point[33..]),
        })
    }

    /// The key's RFC 7638 thumbprint, as a token bound to it names it (`cnf.jkt`).
    pub fn jkt(&self) -> String {
        let jwk = self.public_jwk();
        let members = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        b64url(&sha256(&[members.as_bytes()]))
    }

    /// A fresh proof for a token request made at `iat` (a new `jti` each time).
    pub fn proof(&self, iat: i64) -> String {
        self.proof_with(&json!({
            "jti": b64url(&random_bytes::<16>()),
            "htm": "POST",
            "htu": TOKEN_URL,
            "iat": iat,
        }))
    }

    /// A proof with these claims.
    pub fn proof_with(&self, claims: &Value) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public_jwk()});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64url(signature.as_ref()))
    }
}

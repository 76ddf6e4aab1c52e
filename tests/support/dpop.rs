//! DPoP proofs (RFC 9449) as a client makes them: a key pair of its own (P-256 or Ed25519, made
//! fresh for each test), and proofs for the token endpoint signed with it.

use chatroom_token::crypto::{b64url, random_bytes, sha256};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

/// The token endpoint's URL under the suite's issuer: what the proofs name (`htu`).
pub const TOKEN_URL: &str = "https://auth.chatroom.test/chatroom/api/token";

/// A client's DPoP key.
pub enum DpopKey {
    /// ES256.
    P256(EcdsaKeyPair),
    /// Ed25519 (RFC 9864's name for the algorithm).
    Ed25519(Ed25519KeyPair),
}

impl DpopKey {
    /// A P-256 key: what most apps have (a phone's secure hardware makes these).
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        Self::P256(pair)
    }

    pub fn ed25519() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
    }

    fn algorithm(&self) -> &'static str {
        match self {
            Self::P256(_) => "ES256",
            Self::Ed25519(_) => "Ed25519",
        }
    }

    pub fn public_jwk(&self) -> Value {
        match self {
            Self::P256(pair) => {
                let point = pair.public_key().as_ref();
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": b64url(&point[1..33]),
                    "y": b64url(&point[33..]),
                })
            }
            Self::Ed25519(pair) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64url(pair.public_key().as_ref()),
            }),
        }
    }

    /// The key's RFC 7638 thumbprint, as a token bound to it names it (`cnf.jkt`): the
    /// required members in lexicographic order, written here by hand.
    pub fn jkt(&self) -> String {
        let jwk = self.public_jwk();
        let member = |name: &str| jwk[name].as_str().unwrap().to_owned();
        let members = match self {
            Self::P256(_) => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                member("x"),
                member("y")
            ),
            Self::Ed25519(_) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, member("x")),
        };
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
        let header = json!({"typ": "dpop+jwt", "alg": self.algorithm(), "jwk": self.public_jwk()});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signature = match self {
            Self::P256(pair) => pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap(),
            Self::Ed25519(pair) => pair.sign(input.as_bytes()),
        };
        format!("{input}.{}", b64url(signature.as_ref()))
    }
}

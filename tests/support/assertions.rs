//! Client assertions (`private_key_jwt`, RFC 7523) as an app with keys makes them: the keyed
//! app's registered public keys, and assertions signed with the fixture keys.

use chatroom_token::crypto::{b64url, b64url_decode, random_bytes};
use chatroom_token::domain::client_assertion::ClientKeys;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const EC_KEY: &str = include_str!("../fixtures/keys/ec-p256.b64");
const RSA_KEY: &str = include_str!("../fixtures/keys/rsa-2048-a.b64");
const OTHER_RSA_KEY: &str = include_str!("../fixtures/keys/rsa-2048-b.b64");

/// A private key the tests sign with: the keyed app's two, and one nobody registered.
#[derive(Clone, Copy, Debug)]
pub enum Signer {
    /// ES256, registered as `ec-1`.
    Ec,
    /// RS256, registered as `rsa-1`.
    Rsa,
    /// RS256, registered by no one.
    Stranger,
}

impl Signer {
    fn algorithm(self) -> Algorithm {
        match self {
            Self::Ec => Algorithm::ES256,
            Self::Rsa | Self::Stranger => Algorithm::RS256,
        }
    }

    fn key(self) -> EncodingKey {
        let der = |text: &str| b64url_decode(text.trim().trim_end_matches('=')).unwrap();
        match self {
            Self::Ec => EncodingKey::from_ec_der(&der(EC_KEY)),
            Self::Rsa => EncodingKey::from_rsa_der(&der(RSA_KEY)),
            Self::Stranger => EncodingKey::from_rsa_der(&der(OTHER_RSA_KEY)),
        }
    }

    /// The kid the app registered this key under (the stranger's poses as the RSA key).
    pub fn kid(self) -> &'static str {
        match self {
            Self::Ec => "ec-1",
            Self::Rsa | Self::Stranger => "rsa-1",
        }
    }

    /// The public JWK of this key, under its kid.
    pub fn public_jwk(self) -> Value {
        chatroom_token::crypto::jwt_backend::install();
        let jwk = Jwk::from_encoding_key(&self.key(), self.algorithm()).unwrap();
        let mut value = serde_json::to_value(jwk).unwrap();
        value["kid"] = json!(self.kid());
        value
    }

    /// Signs `claims` with this key, naming its kid.
    pub fn sign(self, claims: &Value) -> String {
        chatroom_token::crypto::jwt_backend::install();
        let mut header = Header::new(self.algorithm());
        header.kid = Some(self.kid().to_owned());
        encode(&header, claims, &self.key()).unwrap()
    }
}

/// The keyed app's registered keys: the EC and the RSA key.
pub fn keyed_jwks() -> ClientKeys {
    let set = json!({ "keys": [Signer::Ec.public_jwk(), Signer::Rsa.public_jwk()] });
    ClientKeys::parse(&set.to_string()).unwrap()
}

/// The claims of a fresh assertion of `client_id` for `audience`, valid for a minute from `now`.
pub fn assertion_claims(client_id: &str, audience: &str, now: i64) -> Value {
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": b64url(&random_bytes::<12>()),
    })
}

//! Public keys that arrive inside a request (a DPoP proof's `jwk`), and the one signature check
//! each supports: ES256 (P-256, fixed-size r‖s), Ed25519 (RFC 8032, as RFC 8037 puts it in a
//! JWS) and RS256 (PKCS#1 v1.5, 2048 to 8192 bits), with `ring`, which the function already
//! carries for TLS and for its own tokens.

use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

/// A public key and the algorithm it is used with: a key is never checked under another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// ES256: the uncompressed point (0x04, x, y).
    P256 { point: Vec<u8> },
    /// Ed25519: the 32-byte encoded point.
    Ed25519 { x: [u8; 32] },
    /// RS256: big-endian modulus and exponent.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicKey {
    /// A P-256 key from its coordinates (32 bytes each).
    pub fn p256(x: &[u8], y: &[u8]) -> Option<Self> {
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut point = Vec::with_capacity(65);
        point.push(4);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Some(Self::P256 { point })
    }

    /// An Ed25519 key from its encoded point (32 bytes).
    pub fn ed25519(x: &[u8]) -> Option<Self> {
        Some(Self::Ed25519 {
            x: x.try_into().ok()?,
        })
    }

    /// Whether `signature` is this key's over `message`. Malformed keys and signatures, and RSA
    /// moduli under 2048 bits, verify nothing.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::P256 { point } => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            Self::Ed25519 { x } => UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(message, signature)
                .is_ok(),
            Self::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::b64url_decode;

    /// RFC 8037 Appendix A.4: the Ed25519 signature of A.1's key over its example input.
    #[test]
    fn rfc_8037s_ed25519_signature_verifies() {
        let key = PublicKey::ed25519(
            &b64url_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap(),
        )
        .unwrap();
        let input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let signature = b64url_decode(
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
        )
        .unwrap();
        assert!(key.verifies(input, &signature));
        let mut other = signature.clone();
        other[0] ^= 1;
        assert!(!key.verifies(input, &other));
        assert!(!key.verifies(b"eyJhbGciOiJFZERTQSJ9.e30", &signature));
        assert!(PublicKey::ed25519(&[0; 31]).is_none());
    }
}

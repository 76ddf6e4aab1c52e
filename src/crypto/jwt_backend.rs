//! The cryptography under `jsonwebtoken`: `ring`, through the crate's `CryptoProvider` hook.
//!
//! `jsonwebtoken` stays the JWT layer (header, claims, base64url, validation); only the
//! signature primitives are ours to choose. Its own backends cost too much here: the pure-Rust
//! `rsa` and `p256` crates of `rust_crypto` took 2-3 ms of CPU per RS256 token (and `rsa`
//! carries RUSTSEC-2023-0071), and both built-in backends parse the private key again for every
//! signature. `ring` is already in the function for TLS (no new code in the binary), signs
//! RSA-2048 and P-256 with assembly from BoringSSL, and blinds RSA.
//!
//! The hook hands the backend an `EncodingKey` per signature, so each private key is parsed once
//! (`prepare`, at cold start or when a warm instance re-reads its keys) and kept here, found again
//! by its bytes. A key nobody prepared is parsed on the spot (tests, other callers), correctly
//! and slowly.
//!
//! Supported: HS256, RS256, ES256 (what `signing_key` accepts); anything else is refused with
//! `InvalidAlgorithm`.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, KeyPair, RsaKeyPair};
use std::sync::{Arc, Once, RwLock};

/// At most this many private keys are kept parsed: the configured ones number a handful; the
/// bound keeps arbitrary callers from growing the list.
const MAX_PREPARED: usize = 32;

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: rsa_public_from_private,
        rsa_pub_components_from_public_key: |_| {
            Err(ErrorKind::InvalidRsaKey("unsupported".into()).into())
        },
        ec_pub_components_from_private_key: ec_public_from_private,
        ed_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
        compute_digest,
    },
};

/// Makes this backend `jsonwebtoken`'s, once per process. Every path of this crate that signs or
/// verifies calls it first; it costs one atomic load after the first call.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Refused only if the process chose a provider before us (a program embedding the
        // verifier with its own); that choice stands.
        let _ = PROVIDER.install_default();
    });
}

/// A private key, parsed.
enum Parsed {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

struct Prepared {
    der: Vec<u8>,
    key: Parsed,
}

static PREPARED: RwLock<Vec<Arc<Prepared>>> = RwLock::new(Vec::new());

/// Parses a private key (PKCS#8 DER; an RSA key also as PKCS#1) for `algorithm` and keeps it,
/// so signing with it later costs only the signature. Errors say what the key is not.
pub fn prepare(algorithm: Algorithm, der: &[u8]) -> Result<(), &'static str> {
    install();
    find_or_parse(algorithm, der).map(|_| ())
}

fn find_or_parse(algorithm: Algorithm, der: &[u8]) -> Result<Arc<Prepared>, &'static str> {
    let found = PREPARED
        .read()
        .expect("the key list lock is never poisoned")
        .iter()
        .find(|p| p.der == der && p.key.fits(algorithm))
        .cloned();
    if let Some(prepared) = found {
        return Ok(prepared);
    }
    let prepared = Arc::new(Prepared {
        der: der.to_vec(),
        key: Parsed::new(algorithm, der)?,
    });
    let mut list = PREPARED
        .write()
        .expect("the key list lock is never poisoned");
    if list.len() < MAX_PREPARED {
        list.push(prepared.clone());
    }
    Ok(prepared)
}

impl Parsed {
    fn new(algorithm: Algorithm, der: &[u8]) -> Result<Self, &'static str> {
        match algorithm {
            Algorithm::RS256 => RsaKeyPair::from_pkcs8(der)
                .or_else(|_| RsaKeyPair::from_der(der))
                .map(Self::Rsa)
                .map_err(|_| "an RSA private key in PKCS#8 DER"),
            Algorithm::ES256 => EcdsaKeyPair::from_pkcs8(
                &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                der,
                &SystemRandom::new(),
            )
            .map(Self::Ecdsa)
            .map_err(|_| "a P-256 private key in PKCS#8 DER"),
            _ => Err("an RS256 or ES256 key"),
        }
    }

    fn fits(&self, algorithm: Algorithm) -> bool {
        matches!(
            (self, algorithm),
            (Self::Rsa(_), Algorithm::RS256) | (Self::Ecdsa(_), Algorithm::ES256)
        )
    }
}

/// The size of an RSA key's modulus in bits, once prepared.
pub fn rsa_bits(der: &[u8]) -> Option<usize> {
    match &find_or_parse(Algorithm::RS256, der).ok()?.key {
        Parsed::Rsa(key) => Some(key.public().modulus_len() * 8),
        Parsed::Ecdsa(_) => None,
    }
}

struct Signer {
    algorithm: Algorithm,
    key: SignerKey,
}

enum SignerKey {
    Hmac(ring::hmac::Key),
    Private(Arc<Prepared>),
}

impl signature::Signer<Vec<u8>> for Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let rng = SystemRandom::new();
        match &self.key {
            SignerKey::Hmac(key) => Ok(ring::hmac::sign(key, message).as_ref().to_vec()),
            SignerKey::Private(prepared) => match &prepared.key {
                Parsed::Rsa(key) => {
                    let mut signature = vec![0; key.public().modulus_len()];
                    key.sign(&sig::RSA_PKCS1_SHA256, &rng, message, &mut signature)
                        .map_err(|_| signature::Error::new())?;
                    Ok(signature)
                }
                Parsed::Ecdsa(key) => key
                    .sign(&rng, message)
                    .map(|s| s.as_ref().to_vec())
                    .map_err(|_| signature::Error::new()),
            },
        }
    }
}

impl JwtSigner for Signer {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    let key = match algorithm {
        Algorithm::HS256 => SignerKey::Hmac(ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            key.as_bytes(),
        )),
        Algorithm::RS256 | Algorithm::ES256 => SignerKey::Private(
            find_or_parse(*algorithm, key.as_bytes()).map_err(|_| ErrorKind::InvalidKeyFormat)?,
        ),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(Signer {
        algorithm: *algorithm,
        key,
    }))
}

/// A public key (or an HMAC secret) as `jsonwebtoken` holds it, checked per signature.
struct Verifier {
    algorithm: Algorithm,
    key: DecodingKey,
}

impl signature::Verifier<Vec<u8>> for Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        use jsonwebtoken::DecodingKeyKind as Kind;
        let bad = |_| signature::Error::new();
        match (self.algorithm, self.key.kind()) {
            (Algorithm::HS256, Kind::SecretOrDer(secret)) => {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
                ring::hmac::verify(&key, message, signature).map_err(bad)
            }
            (Algorithm::RS256, Kind::RsaModulusExponent { n, e }) => {
                sig::RsaPublicKeyComponents { n, e }
                    .verify(&sig::RSA_PKCS1_2048_8192_SHA256, message, signature)
                    .map_err(bad)
            }
            (Algorithm::ES256, Kind::SecretOrDer(point)) => {
                sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .map_err(bad)
            }
            _ => Err(signature::Error::new()),
        }
    }
}

impl JwtVerifier for Verifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    match algorithm {
        Algorithm::HS256 | Algorithm::RS256 | Algorithm::ES256 => Ok(Box::new(Verifier {
            algorithm: *algorithm,
            key: key.clone(),
        })),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn rsa_public_from_private(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    match find_or_parse(Algorithm::RS256, der) {
        Ok(prepared) => match &prepared.key {
            Parsed::Rsa(key) => {
                let public = sig::RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
                Ok((public.n, public.e))
            }
            Parsed::Ecdsa(_) => Err(ErrorKind::InvalidRsaKey("not RSA".into()).into()),
        },
        Err(why) => Err(ErrorKind::InvalidRsaKey(why.into()).into()),
    }
}

fn ec_public_from_private(
    der: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>), Error> {
    if algorithm != Algorithm::ES256 {
        return Err(ErrorKind::InvalidEcdsaKey.into());
    }
    let prepared = find_or_parse(algorithm, der).map_err(|_| ErrorKind::InvalidEcdsaKey)?;
    let Parsed::Ecdsa(key) = &prepared.key else {
        return Err(ErrorKind::InvalidEcdsaKey.into());
    };
    // An uncompressed point: 0x04, then x and y of 32 bytes each.
    let point = key.public_key().as_ref();
    let (x, y) = point[1..].split_at(32);
    Ok((EllipticCurve::P256, x.to_vec(), y.to_vec()))
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, Error> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(ring::digest::digest(algorithm, data).as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{decode, encode, Header, Validation};

    const EC_KEY: &str = include_str!("../../tests/fixtures/keys/ec-p256.b64");
    const RSA_KEY: &str = include_str!("../../tests/fixtures/keys/rsa-2048-a.b64");

    fn der(text: &str) -> Vec<u8> {
        crate::crypto::b64url_decode(text.trim().trim_end_matches('=')).unwrap()
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"sub": "8836257", "exp": 4_000_000_000u64})
    }

    /// Each algorithm signs, verifies through the public key `jsonwebtoken` derives from the JWK,
    /// and refuses a token whose signature was changed.
    #[test]
    fn each_algorithm_signs_and_verifies_and_refuses_a_changed_signature() {
        install();
        let rsa = der(RSA_KEY);
        let ec = der(EC_KEY);
        let cases = [
            (
                Algorithm::HS256,
                EncodingKey::from_secret(b"a-secret-of-thirty-two-bytes-000"),
                DecodingKey::from_secret(b"a-secret-of-thirty-two-bytes-000"),
            ),
            (Algorithm::RS256, EncodingKey::from_rsa_der(&rsa), {
                let jwk =
                    Jwk::from_encoding_key(&EncodingKey::from_rsa_der(&rsa), Algorithm::RS256);
                DecodingKey::from_jwk(&jwk.unwrap()).unwrap()
            }),
            (Algorithm::ES256, EncodingKey::from_ec_der(&ec), {
                let jwk = Jwk::from_encoding_key(&EncodingKey::from_ec_der(&ec), Algorithm::ES256);
                DecodingKey::from_jwk(&jwk.unwrap()).unwrap()
            }),
        ];
        for (algorithm, encoding, decoding) in cases {
            let token = encode(&Header::new(algorithm), &claims(), &encoding).unwrap();
            let validation = Validation::new(algorithm);
            let decoded = decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
            assert_eq!(decoded.claims, claims(), "{algorithm:?}");
            let mut changed = token.into_bytes();
            let last = changed.len() - 3;
            changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).unwrap();
            assert!(
                decode::<serde_json::Value>(&changed, &decoding, &validation).is_err(),
                "{algorithm:?}"
            );
        }
    }

    /// Only what `signing_key` accepts: other algorithms are refused to sign and to verify, and
    /// a key is never used for another algorithm than the one it was prepared for.
    #[test]
    fn other_algorithms_and_mismatched_keys_are_refused() {
        install();
        let ec = der(EC_KEY);
        for algorithm in [
            Algorithm::HS384,
            Algorithm::PS256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            assert!(new_signer(&algorithm, &EncodingKey::from_secret(b"k")).is_err());
            assert!(new_verifier(&algorithm, &DecodingKey::from_secret(b"k")).is_err());
        }
        assert!(new_signer(&Algorithm::RS256, &EncodingKey::from_rsa_der(&ec)).is_err());
        assert!(prepare(Algorithm::RS256, &ec).is_err());
        assert!(prepare(Algorithm::ES256, &der(RSA_KEY)).is_err());
    }

    /// A prepared key is parsed once: signing finds the same parsed key again.
    #[test]
    fn a_prepared_key_is_kept_and_found_by_its_bytes() {
        let rsa = der(RSA_KEY);
        prepare(Algorithm::RS256, &rsa).unwrap();
        let first = find_or_parse(Algorithm::RS256, &rsa).unwrap();
        let again = find_or_parse(Algorithm::RS256, &rsa).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(rsa_bits(&rsa), Some(2048));
    }

    /// JWK thumbprints (RFC 7638) hash with the named function: the standard test vectors of
    /// "abc" (FIPS 180-2).
    #[test]
    fn digests_are_the_named_hash() {
        let hex = |bytes: Vec<u8>| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
        let digest = |hash| hex(compute_digest(b"abc", hash).unwrap());
        assert_eq!(
            digest(ThumbprintHash::SHA256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(digest(ThumbprintHash::SHA384).starts_with("cb00753f45a35e8bb5a03d699ac65007"));
        assert!(digest(ThumbprintHash::SHA512).starts_with("ddaf35a193617abacc417349ae204131"));
    }
}

//! Small cryptographic building blocks: randomness, hashing, keyed MACs and constant-time
//! comparison. Everything that touches a token's secret bytes goes through here.

pub mod dpop_nonce;
pub mod grant_token;
pub mod jwt_backend;
pub mod public_key;
pub mod secret;
pub mod successor_seal;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub type HmacSha256 = Hmac<Sha256>;

/// Fills an array from the operating system's CSPRNG. Failing to read it is not recoverable:
/// issuing a guessable token would be worse than crashing.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes
}

pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// One 32-byte key per server key, derived with HKDF-SHA256 under `label`: each use of the
/// grant-token keys (seals, nonces) gets keys of its own, rotating with them.
pub fn derive_keys(server_keys: &[Vec<u8>], label: &[u8]) -> Vec<[u8; 32]> {
    server_keys
        .iter()
        .map(|key| {
            let mut derived = [0u8; 32];
            hkdf::Hkdf::<Sha256>::new(None, key)
                .expand(label, &mut derived)
                .expect("32 bytes is a valid HKDF-SHA256 output length");
            derived
        })
        .collect()
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

//! Key text, read the same way by the function and by build.rs (which includes this file by
//! its path, so it uses nothing else of the crate).

use sha2::{Digest, Sha256};

/// A private key's base64 as `SigningKey::parse` reads it: either alphabet, padding ignored,
/// made base64url without padding.
pub fn url_safe_unpadded(text: &str) -> String {
    text.trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

/// What the repository's keys are known by in the binary: the first 16 bytes of SHA-256.
pub fn fingerprint(bytes: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(bytes);
    let mut print = [0; 16];
    print.copy_from_slice(&digest[..16]);
    print
}

//! Plays the attacker who holds a copy of the table (a backup, a PITR export, a Scan) and
//! perhaps some old refresh tokens of a grant, but no server key: tries every value it has as
//! an HMAC key and as an XOR pad against the sealed successor, looking for the live token.

use chatroom_token::crypto::grant_token::{TokenHash, TOKEN_LEN};
use chatroom_token::crypto::{hmac_sha256, sha256};

/// The keystreams an attacker can build from one value: HMAC-SHA256 keyed with it over the
/// labels a seal might use (the construction the seal once had), its SHA-256, and the value
/// itself as a pad.
fn pads(value: &[u8]) -> Vec<Vec<u8>> {
    let mut pads = Vec::new();
    for key in [value.to_vec(), sha256(&[value]).to_vec()] {
        for label in [&b"chatroom-token/successor"[..], b""] {
            let mut stream = Vec::new();
            for block in 0..3u8 {
                stream.extend_from_slice(&hmac_sha256(&key, &[label, &[block]]));
            }
            pads.push(stream);
        }
    }
    let mut cycled = Vec::new();
    while !value.is_empty() && cycled.len() < TOKEN_LEN {
        cycled.extend_from_slice(value);
    }
    pads.push(cycled);
    pads
}

/// Whether any value (item attributes, old tokens) opens `sealed` to the token whose hash is
/// `live`: tries each pad at the start and at the end of the sealed bytes, and both the stored
/// hash construction and a bare SHA-256.
pub fn opens_with_any(sealed: &[u8], live: &TokenHash, values: &[Vec<u8>]) -> Option<usize> {
    if sealed.len() < TOKEN_LEN {
        return None;
    }
    let windows = [&sealed[..TOKEN_LEN], &sealed[sealed.len() - TOKEN_LEN..]];
    for (index, value) in values.iter().enumerate() {
        for pad in pads(value) {
            if pad.len() < TOKEN_LEN {
                continue;
            }
            for window in windows {
                let candidate: Vec<u8> = window.iter().zip(&pad).map(|(s, p)| s ^ p).collect();
                if TokenHash::of(&candidate).matches(live) || sha256(&[&candidate]) == live.0 {
                    return Some(index);
                }
            }
        }
    }
    None
}

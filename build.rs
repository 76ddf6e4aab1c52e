//! Fingerprints of every key-like text in this repository, for `src/local_only.rs`.
//!
//! Whatever is written here is public: test fixtures, keys in tests, local runs' keys, examples.
//! The deployed function refuses to start with any of them. Embedding the texts would grow the
//! binary by the whole repository; it embeds instead the first 16 bytes of the SHA-256 of every
//! candidate (sorted, so the function finds one by binary search), and hashes its own keys the
//! same way. A candidate is any text of at least 32 bytes (shorter keys are refused anyway)
//! that could be configured as a key, as its bytes and, if it is base64 or base64url, as the
//! bytes it decodes to (the form `SigningKey.secret` has for RS256 and ES256 keys):
//! - each word of a line (split at white space, quotes, brackets and punctuation), and what
//!   follows each ':' or '=' in it (`kid:secret`, `kid:RS256:<key>`, `NAME=kid:secret`);
//! - each double-quoted string of a line, and what follows each ':' in it (keys with spaces);
//! - each block of consecutive base64 lines (PEM bodies, wrapped fixtures), decoded.

#[path = "src/key_text.rs"]
mod key_text;

use base64::Engine;
use key_text::{fingerprint, url_safe_unpadded};
use std::collections::BTreeSet;
use std::path::Path;

/// `config::MIN_KEY_BYTES`: nothing shorter is accepted as a key.
const MIN_KEY_BYTES: usize = 32;
/// Build output, virtual environments, deployment builds: not the repository's own text.
/// The fuzzers' outputs (artifacts, coverage, corpora they grow) are not written by anyone.
const SKIPPED: [&str; 8] = [
    "target",
    ".git",
    ".aws-sam",
    "node_modules",
    "__pycache__",
    "artifacts",
    "coverage",
    "corpus",
];
/// Larger files are data, not text anyone writes keys in.
const MAX_FILE_BYTES: u64 = 4 << 20;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut prints = BTreeSet::new();
    for path in entries(Path::new(&root)) {
        // A directory here makes cargo watch everything under it (new files too).
        println!("cargo:rerun-if-changed={}", path.display());
        walk(&path, &mut prints);
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let table: Vec<u8> = prints.into_iter().flatten().collect();
    std::fs::write(Path::new(&out).join("published_keys.bin"), table).expect("OUT_DIR is writable");
}

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !SKIPPED.contains(&name) && !name.starts_with(".venv")
        })
        .collect();
    paths.sort();
    paths
}

fn walk(path: &Path, prints: &mut BTreeSet<[u8; 16]>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        for child in entries(path) {
            walk(&child, prints);
        }
    } else if meta.is_file() && meta.len() <= MAX_FILE_BYTES {
        if let Ok(bytes) = std::fs::read(path) {
            if !bytes.contains(&0) {
                candidates(&String::from_utf8_lossy(&bytes), &mut |c| add(c, prints));
            }
        }
    }
}

/// Calls `found` with every candidate text of `text` (see the module's comment).
fn candidates(text: &str, found: &mut dyn FnMut(&str)) {
    let mut block = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.len() >= 16 && trimmed.bytes().all(is_base64) {
            block.push_str(trimmed);
        } else {
            found(&block);
            block.clear();
        }
        for word in line.split(|c: char| c.is_whitespace() || "\"'`,;()[]{}<>|\\".contains(c)) {
            with_suffixes(word, ":=", found);
        }
        for quoted in line.split('"').skip(1).step_by(2) {
            with_suffixes(quoted, ":", found);
        }
    }
    found(&block);
}

fn with_suffixes(text: &str, separators: &str, found: &mut dyn FnMut(&str)) {
    found(text);
    for (at, c) in text.char_indices() {
        if separators.contains(c) {
            found(&text[at + 1..]);
        }
    }
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/=_-".contains(&b)
}

fn add(candidate: &str, prints: &mut BTreeSet<[u8; 16]>) {
    if candidate.len() < MIN_KEY_BYTES {
        return;
    }
    prints.insert(fingerprint(candidate.as_bytes()));
    let normalized = url_safe_unpadded(candidate);
    if let Ok(decoded) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(normalized) {
        if decoded.len() >= MIN_KEY_BYTES {
            prints.insert(fingerprint(&decoded));
        }
    }
}

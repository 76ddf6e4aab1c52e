//! DPoP proofs (`dpop::single_proof`, `dpop::verify`) and the `htu` normalisation
//! (`dpop::normalize_uri`).
//!
//! The input is the values of a request's `DPoP` headers, one per line. They are checked as the
//! token endpoint of RFC 9449's examples would at the time of its Figure 1 (ES256 and RS256
//! accepted), and each line is also normalised as a URI.
//!
//! Asserts: no panic; a proof that verifies came alone, carries a 43-character thumbprint and
//! an `iat` within the window; a normalised URI normalises to itself.
#![no_main]

use chatroom_token::domain::dpop::{
    normalize_uri, single_proof, verify, ProofAlgorithm, ProofRules,
};
use libfuzzer_sys::fuzz_target;

/// RFC 9449 Figure 1's `iat`.
const NOW: i64 = 1_562_262_616;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let values: Vec<&str> = text.lines().collect();
    for value in &values {
        if let Some(uri) = normalize_uri(value) {
            assert_eq!(normalize_uri(&uri).as_deref(), Some(uri.as_str()));
        }
    }
    let Ok(Some(proof)) = single_proof(&values) else {
        return;
    };
    let rules = ProofRules {
        algorithms: vec![
            ProofAlgorithm::Es256,
            ProofAlgorithm::Ed25519,
            ProofAlgorithm::EdDsa,
            ProofAlgorithm::Rs256,
        ],
        method: "POST",
        target: "https://server.example.com/token".into(),
        max_age: 60,
        max_ahead: 60,
    };
    if let Ok(verified) = verify(proof, &rules, NOW) {
        assert_eq!(values.len(), 1);
        assert_eq!(verified.jkt.len(), 43);
        assert!((NOW - 60..=NOW + 60).contains(&verified.iat));
    }
});

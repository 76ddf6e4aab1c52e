//! Proof Key for Code Exchange (RFC 7636).

use crate::crypto::{b64url, sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeMethod {
    S256,
    Plain,
}

impl ChallengeMethod {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// What a client's codes must carry (RFC 7636), fixed when the client is registered. RFC 9700
/// recommends S256 for every client, so that is the default; each looser level allows one more
/// thing than the one before, for apps that cannot do better.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum PkcePolicy {
    /// A challenge, with the S256 method.
    #[default]
    S256,
    /// Also no challenge at all: a confidential web backend, as in the API document's flow.
    Optional,
    /// Also the `plain` method, which protects nothing once the authorization request leaks.
    Plain,
}

impl PkcePolicy {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "s256" => Some(Self::S256),
            "optional" => Some(Self::Optional),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "s256",
            Self::Optional => "optional",
            Self::Plain => "plain",
        }
    }

    /// Whether a code may be issued with this challenge (or none).
    pub fn allows(self, challenge: Option<&CodeChallenge>) -> bool {
        match challenge.map(|c| c.method) {
            Some(ChallengeMethod::S256) => true,
            None => self >= Self::Optional,
            Some(ChallengeMethod::Plain) => self >= Self::Plain,
        }
    }
}

/// The challenge a code was issued with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeChallenge {
    pub method: ChallengeMethod,
    pub value: String,
}

/// What a presented verifier would have to match, under either method. The store compares it
/// with the code's own method and challenge as part of the redemption's atomic condition, so a
/// client can never pick the method (no downgrade from S256 to plain).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierProof {
    pub s256: String,
    pub plain: String,
}

/// The plain form is the verifier itself, a secret of the client's: never printed.
impl std::fmt::Debug for VerifierProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifierProof([redacted])")
    }
}

impl VerifierProof {
    /// `None` when the verifier is not 43-128 unreserved characters (RFC 7636 §4.1).
    pub fn from_verifier(verifier: &str) -> Option<Self> {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        well_formed.then(|| Self {
            s256: b64url(&sha256(&[verifier.as_bytes()])),
            plain: verifier.to_owned(),
        })
    }

    pub fn satisfies(&self, challenge: &CodeChallenge) -> bool {
        let expected = match challenge.method {
            ChallengeMethod::S256 => &self.s256,
            ChallengeMethod::Plain => &self.plain,
        };
        crate::crypto::constant_time_eq(expected.as_bytes(), challenge.value.as_bytes())
    }
}

/// Checks a challenge offered when a code is issued (RFC 7636 §4.2).
pub fn valid_challenge(value: &str) -> bool {
    VerifierProof::from_verifier(value).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names `tokenctl` takes and the client item keeps read back as themselves.
    #[test]
    fn pkce_levels_round_trip_by_name() {
        for level in [PkcePolicy::S256, PkcePolicy::Optional, PkcePolicy::Plain] {
            assert_eq!(PkcePolicy::parse(level.as_str()), Some(level));
        }
        assert_eq!(PkcePolicy::S256.as_str(), "s256");
        assert_eq!(PkcePolicy::parse("S256"), None);
        assert_eq!(PkcePolicy::parse("none"), None);
    }

    /// A verifier is a secret of the client's: a debug print shows neither form of it.
    #[test]
    fn a_verifier_proof_prints_redacted() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let printed = format!("{:?}", VerifierProof::from_verifier(verifier).unwrap());
        assert_eq!(printed, "VerifierProof([redacted])");
    }

    #[test]
    fn rfc7636_appendix_b_example() {
        let proof =
            VerifierProof::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let challenge = CodeChallenge {
            method: ChallengeMethod::S256,
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        };
        assert!(proof.satisfies(&challenge));
    }

    #[test]
    fn plain_verifier_does_not_satisfy_an_s256_challenge() {
        let challenge_value = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let proof = VerifierProof::from_verifier(challenge_value).unwrap();
        let challenge = CodeChallenge {
            method: ChallengeMethod::S256,
            value: challenge_value.into(),
        };
        assert!(!proof.satisfies(&challenge));
    }

    #[test]
    fn malformed_verifiers_are_refused() {
        assert!(VerifierProof::from_verifier("short").is_none());
        assert!(VerifierProof::from_verifier(&"a".repeat(129)).is_none());
        assert!(VerifierProof::from_verifier(&format!("{}+", "a".repeat(43))).is_none());
    }
}

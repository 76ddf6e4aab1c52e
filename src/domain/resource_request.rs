//! The resource-server side: what an API of the platform checks of a request that carries one of
//! our access tokens (RFC 6750 for `Bearer`, RFC 9449 §7 for `DPoP`). The Lambda authorizer
//! (`src/bin/authorizer.rs`) is this check; an API may also call it itself.
//!
//! - `Authorization: Bearer <token>`: the token verifies (`AccessTokenVerifier`) and is not bound
//!   to a key: a DPoP-bound token sent as a bearer token is refused (§7.2, no downgrade).
//! - `Authorization: DPoP <token>` with exactly one `DPoP` proof: the proof passes every check
//!   of §4.3 for this request (`htm` its method, `htu` its URL as the API knows it, never from
//!   `Host`), its `ath` is the token's hash, and the token is bound to the proof's key
//!   (`cnf.jkt`).
//!
//! Replays: a proof is checked for its window (`iat`), not remembered: the verifier keeps no
//! state. A proof copied with its token works, within its window, for the same method and URL
//! only.

use super::access_token::{AccessClaims, AccessTokenVerifier};
use super::dpop::{self, ProofAlgorithm, ProofRefusal, ProofRules};

/// What a request presents.
#[derive(Clone, Copy, Debug)]
pub struct ResourceRequest<'a> {
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The values of the `DPoP` headers.
    pub dpop: &'a [&'a str],
    pub method: &'a str,
    /// The request's URL as the API knows it (its own configured base URL and the path).
    pub url: &'a str,
}

/// Why a request is refused (401), and the challenge that says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No access token, or an `Authorization` header of another scheme.
    NoToken,
    /// The token does not verify, is expired, is bound but sent as `Bearer`, or is not bound to
    /// the proof's key.
    InvalidToken(&'static str),
    /// The DPoP proof is missing or fails a check.
    InvalidProof(ProofRefusal),
}

impl Refusal {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NoToken => "no_token",
            Self::InvalidToken(why) => why,
            Self::InvalidProof(refusal) => refusal.as_str(),
        }
    }
}

/// Checks requests to an API with the API's DPoP algorithms, against the issuer's keys as the
/// caller holds them now (`AccessTokenVerifier`, which may be re-read while warm).
pub struct ResourceVerifier {
    algorithms: Vec<ProofAlgorithm>,
    /// How old (or how far ahead) a proof's `iat` may be.
    max_age: i64,
}

impl ResourceVerifier {
    pub fn new(algorithms: Vec<ProofAlgorithm>, max_age: i64) -> Self {
        Self {
            algorithms,
            max_age,
        }
    }

    /// The `WWW-Authenticate` value of a 401 (RFC 9449 §7.1, RFC 6750 §3): both schemes, the
    /// DPoP algorithms, and the error where a token was presented.
    pub fn challenge(&self, refusal: &Refusal) -> String {
        let algs: Vec<&str> = self.algorithms.iter().map(|a| a.as_str()).collect();
        let algs = algs.join(" ");
        match refusal {
            Refusal::NoToken => format!("Bearer, DPoP algs=\"{algs}\""),
            Refusal::InvalidToken(_) => {
                format!(
                    "Bearer error=\"invalid_token\", DPoP error=\"invalid_token\", algs=\"{algs}\""
                )
            }
            Refusal::InvalidProof(_) => {
                format!("DPoP error=\"invalid_dpop_proof\", algs=\"{algs}\"")
            }
        }
    }

    /// The claims of the request's access token, if the request may have them, as of `now`.
    pub fn verify(
        &self,
        tokens: &AccessTokenVerifier,
        request: &ResourceRequest<'_>,
        now: i64,
    ) -> Result<AccessClaims, Refusal> {
        let (scheme, token) = request
            .authorization
            .and_then(|value| value.trim().split_once(' '))
            .map(|(scheme, token)| (scheme, token.trim()))
            .filter(|(_, token)| !token.is_empty())
            .ok_or(Refusal::NoToken)?;
        let verified = |token: &str| {
            tokens
                .verify_at(token, now)
                .map_err(|_| Refusal::InvalidToken("token_invalid"))
        };
        if scheme.eq_ignore_ascii_case("bearer") {
            let claims = verified(token)?;
            if claims.cnf.is_some() {
                return Err(Refusal::InvalidToken("bound_token_as_bearer"));
            }
            return Ok(claims);
        }
        if !scheme.eq_ignore_ascii_case("dpop") {
            return Err(Refusal::NoToken);
        }
        let proof = dpop::single_proof(request.dpop)
            .map_err(Refusal::InvalidProof)?
            .ok_or(Refusal::InvalidProof(ProofRefusal::Malformed))?;
        let target =
            dpop::normalize_uri(request.url).ok_or(Refusal::InvalidProof(ProofRefusal::Target))?;
        let rules = ProofRules {
            algorithms: self.algorithms.clone(),
            method: method_name(request.method),
            target,
            max_age: self.max_age,
            max_ahead: self.max_age,
        };
        let proof =
            dpop::verify_with_token(proof, &rules, now, token).map_err(Refusal::InvalidProof)?;
        let claims = verified(token)?;
        match &claims.cnf {
            Some(cnf) if cnf.jkt == proof.jkt => Ok(claims),
            _ => Err(Refusal::InvalidToken("key_mismatch")),
        }
    }
}

/// The method as a proof names it (`htm`): the request's, upper case as HTTP sends it; anything
/// unusual matches no proof.
fn method_name(method: &str) -> &'static str {
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the authorizer's log line says of a refusal (`reason=`).
    #[test]
    fn refusals_are_named_for_the_log() {
        assert_eq!(Refusal::NoToken.as_str(), "no_token");
        assert_eq!(Refusal::InvalidToken("expired").as_str(), "expired");
        assert_eq!(
            Refusal::InvalidProof(ProofRefusal::TokenHash).as_str(),
            "token_hash"
        );
    }
}

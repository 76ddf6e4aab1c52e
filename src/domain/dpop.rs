//! DPoP proofs (RFC 9449 §4): the checks of §4.3 on a proof presented at the token endpoint,
//! and the key thumbprint (RFC 7638) a token is then bound to, computed here rather than by a
//! library (one panics on key types that do not fit their curve).
//!
//! Checked, all of them, before anything is read or written: exactly one `DPoP` header (API
//! Gateway's HTTP API joins repeated headers with a comma, which a compact JWS never holds); a
//! compact JWS of sane size; `typ` `dpop+jwt`; an `alg` of the configured list (asymmetric only:
//! never `none`, never HMAC); no `crit`; a public `jwk` (no private member) of the key type and
//! curve the `alg` needs; the signature, with that key; `jti` (1 to 256 characters); `htm` the
//! request's method; `htu` the configured URL of the endpoint after RFC 3986 §6.2.2-6.2.3
//! normalisation, query and fragment ignored (never taken from `Host` or forwarded headers);
//! `iat` within the window. What a proof may be spent for once (its `jti`) is the caller's step.

use crate::crypto::public_key::PublicKey;
use crate::crypto::{b64url, b64url_decode, sha256};
use crate::domain::model::{JtiDigest, KeyDigest};
use serde_json::{Map, Value};

/// RFC 9449 §4.2.
pub const PROOF_TYPE: &str = "dpop+jwt";

/// Larger proofs are refused unread (an ES256 proof is about 500 bytes, an RSA-4096 one 1.6 KB).
pub const MAX_PROOF: usize = 4096;

/// §11.1: a server tracking `jti` should refuse unnecessarily large ones.
pub const MAX_JTI: usize = 256;

/// Members only a private (or symmetric) JWK has: a proof carrying one is refused (§4.3 item 7).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The algorithms a proof may be signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofAlgorithm {
    Es256,
    /// Ed25519 by its RFC 9864 name; `EdDsa` is the same check under RFC 8037's older name,
    /// which said the curve only in the key (here: Ed25519 only, never Ed448).
    Ed25519,
    EdDsa,
    Rs256,
}

impl ProofAlgorithm {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "Ed25519" => Some(Self::Ed25519),
            "EdDSA" => Some(Self::EdDsa),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }

    /// A configured list (`DPOP_SIGNING_ALGS`): names separated by commas or spaces, at least
    /// one; the error says what is wrong.
    pub fn parse_list(names: &str) -> Result<Vec<Self>, &'static str> {
        let algorithms = names
            .split([',', ' '])
            .filter(|name| !name.is_empty())
            .map(|name| Self::parse(name).ok_or("takes ES256, Ed25519, EdDSA and RS256 only"))
            .collect::<Result<Vec<_>, _>>()?;
        if algorithms.is_empty() {
            return Err("names no algorithm");
        }
        Ok(algorithms)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Ed25519 => "Ed25519",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
        }
    }
}

/// What a proof must satisfy at one endpoint.
#[derive(Clone, Debug)]
pub struct ProofRules {
    /// The algorithms accepted (`dpop_signing_alg_values_supported`); ES256 by default.
    pub algorithms: Vec<ProofAlgorithm>,
    /// The request's method (`htm`).
    pub method: &'static str,
    /// The endpoint's URL (`htu`), from configuration, normalised (`normalize_uri`).
    pub target: String,
    /// How far in the past and in the future `iat` may be, in seconds.
    pub max_age: i64,
    pub max_ahead: i64,
}

/// A proof that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// The key's RFC 7638 thumbprint (SHA-256, base64url): what a token is bound to (`cnf.jkt`).
    pub jkt: String,
    /// The same, as bytes.
    pub thumbprint: [u8; 32],
    /// The `jti`, hashed with the key's thumbprint: what is recorded to spend the proof once.
    pub jti_hash: [u8; 32],
    pub iat: i64,
    /// The server nonce the proof carries (§8), if any.
    pub nonce: Option<String>,
}

impl Proof {
    /// The key as a grant keeps it (`model::KeyDigest`).
    pub fn key_digest(&self) -> KeyDigest {
        crate::domain::model::key_digest(&self.thumbprint)
    }

    /// The `jti` as a grant keeps it (`model::JtiDigest`).
    pub fn jti_digest(&self) -> JtiDigest {
        let mut digest = [0; 8];
        digest.copy_from_slice(&self.jti_hash[..8]);
        digest
    }
}

/// Why a proof was refused: logged and counted; the answer is `invalid_dpop_proof` for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofRefusal {
    /// More than one `DPoP` header, or one value holding several.
    Repeated,
    /// Not a compact JWS of sane size, or its header or claims are not JSON objects.
    Malformed,
    WrongType,
    /// An algorithm not on the list (`none`, HMAC, anything else), or `crit`.
    Algorithm,
    /// No `jwk`, one of another type or curve than the algorithm's, or unusable.
    Key,
    PrivateKey,
    Signature,
    /// `jti` missing, empty or too long; `iat` not an integer; `nonce` not a string.
    Claims,
    Method,
    Target,
    /// `iat` outside the window.
    Time,
    /// At a resource server: `ath` missing, or not the hash of the access token presented.
    TokenHash,
}

impl ProofRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Repeated => "repeated",
            Self::Malformed => "malformed",
            Self::WrongType => "wrong_type",
            Self::Algorithm => "algorithm",
            Self::Key => "key",
            Self::PrivateKey => "private_key",
            Self::Signature => "signature",
            Self::Claims => "claims",
            Self::Method => "method",
            Self::Target => "target",
            Self::Time => "time",
            Self::TokenHash => "token_hash",
        }
    }
}

/// The one proof of a request, from the values of its `DPoP` headers: `None` without one.
pub fn single_proof<'a>(values: &[&'a str]) -> Result<Option<&'a str>, ProofRefusal> {
    match values {
        [] => Ok(None),
        [one] if !one.contains(',') => Ok(Some(one.trim())),
        _ => Err(ProofRefusal::Repeated),
    }
}

/// Checks `proof` against `rules` as of `now` (§4.3), as a token request's.
pub fn verify(proof: &str, rules: &ProofRules, now: i64) -> Result<Proof, ProofRefusal> {
    verify_presented(proof, rules, now, None)
}

/// Checks `proof` as a resource request's (§7.1): as `verify`, and its `ath` must be the hash of
/// `access_token`, the token it comes with.
pub fn verify_with_token(
    proof: &str,
    rules: &ProofRules,
    now: i64,
    access_token: &str,
) -> Result<Proof, ProofRefusal> {
    verify_presented(proof, rules, now, Some(access_token))
}

fn verify_presented(
    proof: &str,
    rules: &ProofRules,
    now: i64,
    access_token: Option<&str>,
) -> Result<Proof, ProofRefusal> {
    use ProofRefusal::*;
    if proof.len() > MAX_PROOF {
        return Err(Malformed);
    }
    let mut parts = proof.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed);
    };
    let header = json_object(header_b64)?;
    let claims = json_object(claims_b64)?;
    let signature = b64url_decode(signature_b64).ok_or(Malformed)?;

    let typ = header.get("typ").and_then(Value::as_str).ok_or(WrongType)?;
    if !typ.eq_ignore_ascii_case(PROOF_TYPE) {
        return Err(WrongType);
    }
    let algorithm = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(ProofAlgorithm::parse)
        .filter(|a| rules.algorithms.contains(a))
        .ok_or(Algorithm)?;
    if header.contains_key("crit") {
        return Err(Algorithm);
    }
    let jwk = header.get("jwk").and_then(Value::as_object).ok_or(Key)?;
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(PrivateKey);
    }
    let (key, thumbprint) = public_key(jwk, algorithm).ok_or(Key)?;
    let jkt = b64url(&thumbprint);
    let signing_input = &proof[..header_b64.len() + 1 + claims_b64.len()];
    if !key.verifies(signing_input.as_bytes(), &signature) {
        return Err(Signature);
    }

    let jti = claims.get("jti").and_then(Value::as_str).ok_or(Claims)?;
    if jti.is_empty() || jti.len() > MAX_JTI {
        return Err(Claims);
    }
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or(Claims)?;
    if claims.get("nonce").is_some_and(|n| !n.is_string()) {
        return Err(Claims);
    }
    if claims.get("htm").and_then(Value::as_str) != Some(rules.method) {
        return Err(Method);
    }
    let target = claims.get("htu").and_then(Value::as_str).ok_or(Target)?;
    if normalize_uri(target).as_deref() != Some(rules.target.as_str()) {
        return Err(Target);
    }
    if iat < now - rules.max_age || iat > now + rules.max_ahead {
        return Err(Time);
    }
    if let Some(token) = access_token {
        let ath = claims.get("ath").and_then(Value::as_str);
        if ath != Some(access_token_hash(token).as_str()) {
            return Err(TokenHash);
        }
    }
    Ok(Proof {
        jti_hash: sha256(&[
            b"chatroom-token/dpop-jti\0",
            jkt.as_bytes(),
            b"\0",
            jti.as_bytes(),
        ]),
        jkt,
        thumbprint,
        iat,
        nonce: claims
            .get("nonce")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn json_object(part: &str) -> Result<Map<String, Value>, ProofRefusal> {
    let bytes = b64url_decode(part).ok_or(ProofRefusal::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ProofRefusal::Malformed),
    }
}

/// The key a JWK holds, if it is of the type and curve `algorithm` needs, and its RFC 7638
/// thumbprint: SHA-256 over the required members in lexicographic order, no whitespace, the
/// members' values as given (base64url without padding, checked canonical by decoding).
fn public_key(
    jwk: &Map<String, Value>,
    algorithm: ProofAlgorithm,
) -> Option<(PublicKey, [u8; 32])> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let canonical = serde_json::to_string;
    match algorithm {
        ProofAlgorithm::Es256 => {
            if text("kty")? != "EC" || text("crv")? != "P-256" {
                return None;
            }
            let (x, y) = (text("x")?, text("y")?);
            let key = PublicKey::p256(&b64url_decode(x)?, &b64url_decode(y)?)?;
            let members = format!(
                r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
                canonical(x).ok()?,
                canonical(y).ok()?
            );
            Some((key, sha256(&[members.as_bytes()])))
        }
        ProofAlgorithm::Ed25519 | ProofAlgorithm::EdDsa => {
            if text("kty")? != "OKP" || text("crv")? != "Ed25519" {
                return None;
            }
            let x = text("x")?;
            let key = PublicKey::ed25519(&b64url_decode(x)?)?;
            // RFC 8037 §2: an OKP key's thumbprint members are crv, kty and x.
            let members = format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":{}}}"#,
                canonical(x).ok()?
            );
            Some((key, sha256(&[members.as_bytes()])))
        }
        ProofAlgorithm::Rs256 => {
            if text("kty")? != "RSA" {
                return None;
            }
            let (n, e) = (text("n")?, text("e")?);
            let modulus = b64url_decode(n)?;
            // A leading zero byte is not canonical (RFC 7518 §6.3.1.1); 2048 bits at least, and
            // 4096 at most: checking a signature costs the square of the modulus' size, and
            // anyone may send a proof.
            if modulus.first() == Some(&0) || !(256..=512).contains(&modulus.len()) {
                return None;
            }
            let key = PublicKey::Rsa {
                n: modulus,
                e: b64url_decode(e)?,
            };
            let members = format!(
                r#"{{"e":{},"kty":"RSA","n":{}}}"#,
                canonical(e).ok()?,
                canonical(n).ok()?
            );
            Some((key, sha256(&[members.as_bytes()])))
        }
    }
}

/// `ath` (§4.2): base64url(SHA-256(access token)), what a resource server's proof carries.
pub fn access_token_hash(access_token: &str) -> String {
    b64url(&sha256(&[access_token.as_bytes()]))
}

/// An absolute `http` or `https` URI in the form `htu` is compared in (RFC 3986 §6.2.2 and
/// §6.2.3): scheme and host lower case, the scheme's default port dropped, percent-encodings
/// upper case and unreserved characters decoded, dot segments removed, an empty path `/`;
/// query and fragment dropped (RFC 9449 §4.3). `None` for anything else, or a URI with user
/// information.
pub fn normalize_uri(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port: u16 = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let host = match authority.rsplit_once(':') {
        // A port (not the tail of an IPv6 literal): dropped if it is the default one.
        Some((host, port)) if !port.contains(']') => match port {
            "" => host.to_owned(),
            port if !port.bytes().all(|b| b.is_ascii_digit()) => return None,
            port => match port.parse::<u16>().ok()? {
                p if p == default_port => host.to_owned(),
                p => format!("{host}:{p}"),
            },
        },
        _ => authority,
    };
    let path = remove_dot_segments(&normalize_percent_encoding(path)?);
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        path
    };
    Some(format!("{scheme}://{host}{path}"))
}

/// Upper-case hex in every percent-encoding, and unreserved characters decoded (§6.2.2.1,
/// §6.2.2.2). `None` for a malformed percent-encoding.
fn normalize_percent_encoding(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i] as char);
            i += 1;
            continue;
        }
        let hex = path.get(i + 1..i + 3)?;
        let value = u8::from_str_radix(hex, 16).ok()?;
        if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
            out.push(value as char);
        } else {
            out.push_str(&format!("%{value:02X}"));
        }
        i += 3;
    }
    Some(out)
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate().skip(1) {
        let last = i == segments.len() - 1;
        match *segment {
            "." if last => output.push(""),
            "." => {}
            ".." => {
                output.pop();
                if last {
                    output.push("");
                }
            }
            other => output.push(other),
        }
    }
    if output.is_empty() {
        return String::new();
    }
    format!("/{}", output.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9449 §4.1, Figure 1 (the token request's proof) and §5 (the refresh request's, with
    /// the same `jti` and a later `iat`).
    const RFC_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
    const RFC_REFRESH_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjY1Mjk2fQ.pAqut2IRDm_De6PR93SYmGBPXpwrAk90e8cP2hjiaG5QsGSuKDYW7_X620BxqhvYC8ynrrvZLTk41mSRroapUA";
    const RFC_IAT: i64 = 1_562_262_616;
    /// RFC 9449 §6.1: the example key's thumbprint.
    const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    fn rules() -> ProofRules {
        ProofRules {
            algorithms: vec![ProofAlgorithm::Es256],
            method: "POST",
            target: "https://server.example.com/token".into(),
            max_age: 60,
            max_ahead: 60,
        }
    }

    #[test]
    fn the_rfcs_proofs_verify_with_its_thumbprint() {
        let proof = verify(RFC_PROOF, &rules(), RFC_IAT).unwrap();
        assert_eq!(proof.jkt, RFC_JKT);
        assert_eq!(proof.iat, RFC_IAT);
        let refresh = verify(RFC_REFRESH_PROOF, &rules(), 1_562_265_296).unwrap();
        assert_eq!(refresh.jkt, RFC_JKT);
        // The same jti under the same key: the same ledger entry.
        assert_eq!(refresh.jti_hash, proof.jti_hash);
    }

    /// RFC 9449 §7.1: the example access token's `ath`.
    #[test]
    fn the_access_token_hash_is_the_rfcs() {
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn the_window_is_checked_at_both_edges() {
        for (now, ok) in [
            (RFC_IAT + 60, true),
            (RFC_IAT + 61, false),
            (RFC_IAT - 60, true),
            (RFC_IAT - 61, false),
        ] {
            let result = verify(RFC_PROOF, &rules(), now);
            assert_eq!(result.is_ok(), ok, "now = iat {:+}", now - RFC_IAT);
            if !ok {
                assert_eq!(result, Err(ProofRefusal::Time));
            }
        }
    }

    #[test]
    fn only_one_header_value_without_a_comma() {
        assert_eq!(single_proof(&[]), Ok(None));
        assert_eq!(single_proof(&["a.b.c"]), Ok(Some("a.b.c")));
        assert_eq!(
            single_proof(&["a.b.c", "d.e.f"]),
            Err(ProofRefusal::Repeated)
        );
        assert_eq!(single_proof(&["a.b.c,d.e.f"]), Err(ProofRefusal::Repeated));
    }

    #[test]
    fn uris_normalise_as_rfc_3986_says() {
        let target = "https://server.example.com/token";
        for same in [
            "https://server.example.com/token",
            "HTTPS://Server.Example.COM/token",
            "https://server.example.com:443/token",
            "https://server.example.com:0443/token",
            "https://server.example.com/token?query=1",
            "https://server.example.com/token#fragment",
            "https://server.example.com/%74oken",
            "https://server.example.com/a/../token",
            "https://server.example.com/./token",
        ] {
            assert_eq!(normalize_uri(same).as_deref(), Some(target), "{same}");
        }
        for other in [
            "http://server.example.com/token",
            "https://server.example.com:8443/token",
            "https://server.example.com/Token",
            "https://server.example.com/token/",
            "https://user@server.example.com/token",
            "https://server.example.com.evil/token",
            "server.example.com/token",
            "ftp://server.example.com/token",
            "https:///token",
            "https://server.example.com:x/token",
            "https://server.example.com:0/token",
            "https://server.example.com:+443/token",
            "https://server.example.com:65536/token",
            "https://server.example.com/%zz",
        ] {
            assert_ne!(normalize_uri(other).as_deref(), Some(target), "{other}");
        }
        assert_eq!(
            normalize_uri("http://127.0.0.1:80").as_deref(),
            Some("http://127.0.0.1/")
        );
        assert_eq!(
            normalize_uri("http://[::1]:9000/a%2fb").as_deref(),
            Some("http://[::1]:9000/a%2Fb")
        );
        assert_eq!(
            normalize_uri("http://[::1]/x").as_deref(),
            Some("http://[::1]/x")
        );
        // Refused outright, not merely different: no user information, no empty authority,
        // nothing but http and https, no malformed port or percent-encoding.
        for refused in [
            "https://user@server.example.com/token",
            "https://@server.example.com/token",
            "https:///token",
            "server.example.com/token",
            "ftp://server.example.com/token",
            "https://server.example.com:x/token",
            "https://server.example.com:+443/token",
            "https://server.example.com:65536/token",
            "https://server.example.com/%zz",
            "https://server.example.com/%7",
        ] {
            assert_eq!(normalize_uri(refused), None, "{refused}");
        }
        // RFC 3986 §5.2.4 with dot segments last: the path keeps its trailing slash.
        for (dotted, normal) in [
            ("https://s.example/token/.", "https://s.example/token/"),
            ("https://s.example/a/b/..", "https://s.example/a/"),
            ("https://s.example/a/..", "https://s.example/"),
            ("https://s.example/a/./b", "https://s.example/a/b"),
            ("https://s.example/a/../../b", "https://s.example/b"),
            ("https://s.example/.", "https://s.example/"),
        ] {
            assert_eq!(normalize_uri(dotted).as_deref(), Some(normal), "{dotted}");
        }
    }

    const EC_KEY: &str = include_str!("../../tests/fixtures/keys/ec-p256.b64");
    const RSA_KEY: &str = include_str!("../../tests/fixtures/keys/rsa-2048-a.b64");
    const NOW: i64 = 1_800_000_000;

    fn der(text: &str) -> Vec<u8> {
        b64url_decode(text.trim().trim_end_matches('=')).unwrap()
    }

    /// The fixture P-256 key: its signer, and its public JWK.
    fn ec_key() -> (ring::signature::EcdsaKeyPair, Value) {
        use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = ring::rand::SystemRandom::new();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der(EC_KEY), &rng).unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": b64url(&point[1..33]), "y": b64url(&point[33..]),
        });
        (pair, jwk)
    }

    fn header(jwk: &Value) -> Value {
        serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk})
    }

    fn claims() -> Value {
        serde_json::json!({
            "jti": "e1j3V_bKic8-LAEB", "htm": "POST",
            "htu": "https://server.example.com/token", "iat": NOW,
        })
    }

    /// A proof with this header and these claims, signed with the fixture P-256 key.
    fn signed(header: &Value, claims: &Value) -> String {
        let (pair, _) = ec_key();
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signature = pair
            .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64url(signature.as_ref()))
    }

    fn changed(mut value: Value, name: &str, to: Value) -> Value {
        match to {
            Value::Null => value.as_object_mut().unwrap().remove(name),
            to => value.as_object_mut().unwrap().insert(name.into(), to),
        };
        value
    }

    /// The largest proof and the longest `jti` taken, at the limits exactly.
    #[test]
    fn proofs_and_jtis_at_the_limits_are_taken() {
        let (_, jwk) = ec_key();
        let longest_jti = changed(claims(), "jti", Value::from("j".repeat(MAX_JTI)));
        assert!(verify(&signed(&header(&jwk), &longest_jti), &rules(), NOW).is_ok());
        let unpadded = signed(&header(&jwk), &changed(claims(), "pad", Value::from(""))).len();
        // base64url makes 4 characters of 3 bytes: start a little short of the limit.
        let start = ((MAX_PROOF - unpadded) * 3 / 4).saturating_sub(8);
        let largest = (start..MAX_PROOF)
            .map(|pad| {
                let padded = changed(claims(), "pad", Value::from("p".repeat(pad)));
                signed(&header(&jwk), &padded)
            })
            .find(|proof| proof.len() == MAX_PROOF)
            .expect("some padding makes it exactly the limit");
        assert!(verify(&largest, &rules(), NOW).is_ok());
    }

    /// What the log line says of a refusal (`reason=`): each its own name.
    #[test]
    fn refusals_have_names_of_their_own() {
        use ProofRefusal::*;
        let all = [
            Repeated, Malformed, WrongType, Algorithm, Key, PrivateKey, Signature, Claims, Method,
            Target, Time, TokenHash,
        ];
        let names: std::collections::BTreeSet<&str> = all.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), all.len());
        assert!(names
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        assert_eq!(Signature.as_str(), "signature");
        assert_eq!(TokenHash.as_str(), "token_hash");
    }

    #[test]
    fn a_fresh_proof_verifies_and_its_thumbprint_is_the_keys() {
        let (_, jwk) = ec_key();
        let proof = verify(&signed(&header(&jwk), &claims()), &rules(), NOW).unwrap();
        let members = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        assert_eq!(proof.jkt, b64url(&sha256(&[members.as_bytes()])));
    }

    /// Every malformed header, claim, algorithm, key and window edge is refused with its reason,
    /// and none panics.
    #[test]
    fn every_bad_proof_is_refused() {
        use serde_json::json;
        use ProofRefusal::*;
        let (_, jwk) = ec_key();
        let good_header = header(&jwk);
        let good = || signed(&good_header, &claims());
        let with_header =
            |name: &str, to: Value| signed(&changed(good_header.clone(), name, to), &claims());
        let with_claim = |name: &str, to: Value| signed(&good_header, &changed(claims(), name, to));
        let with_key = |name: &str, to: Value| {
            signed(
                &changed(good_header.clone(), "jwk", changed(jwk.clone(), name, to)),
                &claims(),
            )
        };
        let rsa_jwk = {
            use ring::signature::RsaKeyPair;
            let pair = RsaKeyPair::from_pkcs8(&der(RSA_KEY)).unwrap();
            let public = ring::signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
            json!({"kty": "RSA", "n": b64url(&public.n), "e": b64url(&public.e)})
        };
        let tampered = {
            let mut text = good().into_bytes();
            let i = text.len() - 5;
            text[i] = if text[i] == b'A' { b'B' } else { b'A' };
            String::from_utf8(text).unwrap()
        };
        let cases: Vec<(&str, String, ProofRefusal)> = vec![
            ("no typ", with_header("typ", Value::Null), WrongType),
            ("typ JWT", with_header("typ", json!("JWT")), WrongType),
            ("typ at+jwt", with_header("typ", json!("at+jwt")), WrongType),
            ("alg none", with_header("alg", json!("none")), Algorithm),
            ("alg HS256", with_header("alg", json!("HS256")), Algorithm),
            (
                "alg RS256, not on the list",
                with_header("alg", json!("RS256")),
                Algorithm,
            ),
            ("alg ES384", with_header("alg", json!("ES384")), Algorithm),
            ("alg a number", with_header("alg", json!(7)), Algorithm),
            ("crit", with_header("crit", json!(["exp"])), Algorithm),
            ("no jwk", with_header("jwk", Value::Null), Key),
            ("jwk a string", with_header("jwk", json!("key")), Key),
            ("an RSA jwk under ES256", with_header("jwk", rsa_jwk), Key),
            ("a P-384 curve", with_key("crv", json!("P-384")), Key),
            (
                "an Ed25519 curve on EC",
                with_key("crv", json!("Ed25519")),
                Key,
            ),
            ("kty OKP", with_key("kty", json!("OKP")), Key),
            ("x too short", with_key("x", json!("AAAA")), Key),
            ("x not base64url", with_key("x", json!("not base64!")), Key),
            (
                "a private key",
                with_key("d", json!("c2VjcmV0")),
                PrivateKey,
            ),
            (
                "a symmetric key member",
                with_key("k", json!("c2VjcmV0")),
                PrivateKey,
            ),
            ("a tampered signature", tampered, Signature),
            ("no jti", with_claim("jti", Value::Null), Claims),
            ("an empty jti", with_claim("jti", json!("")), Claims),
            (
                "a 257-character jti",
                with_claim("jti", json!("j".repeat(MAX_JTI + 1))),
                Claims,
            ),
            ("a numeric jti", with_claim("jti", json!(7)), Claims),
            ("no iat", with_claim("iat", Value::Null), Claims),
            (
                "iat a string",
                with_claim("iat", json!("1800000000")),
                Claims,
            ),
            (
                "iat a fraction",
                with_claim("iat", json!(1.8e9 + 0.5)),
                Claims,
            ),
            ("nonce a number", with_claim("nonce", json!(7)), Claims),
            ("htm GET", with_claim("htm", json!("GET")), Method),
            ("htm post", with_claim("htm", json!("post")), Method),
            ("no htm", with_claim("htm", Value::Null), Method),
            (
                "htu another host",
                with_claim("htu", json!("https://evil.example/token")),
                Target,
            ),
            (
                "htu http",
                with_claim("htu", json!("http://server.example.com/token")),
                Target,
            ),
            (
                "htu another path",
                with_claim("htu", json!("https://server.example.com/revoke")),
                Target,
            ),
            ("htu a number", with_claim("htu", json!(7)), Target),
            ("no htu", with_claim("htu", Value::Null), Target),
            ("iat too old", with_claim("iat", json!(NOW - 61)), Time),
            (
                "iat too far ahead",
                with_claim("iat", json!(NOW + 61)),
                Time,
            ),
            (
                "oversized",
                with_claim("pad", json!("p".repeat(MAX_PROOF))),
                Malformed,
            ),
            ("two parts", "a.b".into(), Malformed),
            ("four parts", format!("{}.x", good()), Malformed),
            ("garbage base64", "!!.??.**".into(), Malformed),
            (
                "claims an array",
                signed(&good_header, &json!([1, 2])),
                Malformed,
            ),
            (
                "header not JSON",
                format!("{}.e30.AAAA", b64url(b"not json")),
                Malformed,
            ),
        ];
        for (case, proof, refusal) in cases {
            assert_eq!(verify(&proof, &rules(), NOW), Err(refusal), "{case}");
        }
        // RS256 where it is on the list.
        let rs_rules = ProofRules {
            algorithms: vec![ProofAlgorithm::Es256, ProofAlgorithm::Rs256],
            ..rules()
        };
        assert_eq!(
            verify(&with_header("alg", json!("RS256")), &rs_rules, NOW),
            Err(Key),
            "an EC key under RS256"
        );
        assert!(verify(&good(), &rs_rules, NOW).is_ok());
    }

    /// RSA keys of 2048 to 4096 bits only: a larger modulus (the proof still under 4 KiB) is
    /// refused before any signature work; so are a smaller one and a leading zero byte.
    #[test]
    fn rsa_proof_keys_are_2048_to_4096_bits() {
        use serde_json::json;
        let rs_rules = ProofRules {
            algorithms: vec![ProofAlgorithm::Rs256],
            ..rules()
        };
        let header_with = |n: &[u8]| {
            json!({"typ": "dpop+jwt", "alg": "RS256",
                "jwk": {"kty": "RSA", "n": b64url(n), "e": "AQAB"}})
        };
        // Signed by no one: a key of an accepted size gets as far as the signature.
        let proof = |n: &[u8]| {
            let header = header_with(n);
            format!(
                "{}.{}.{}",
                b64url(header.to_string().as_bytes()),
                b64url(claims().to_string().as_bytes()),
                b64url(&vec![1; n.len()])
            )
        };
        for (bytes, refusal) in [
            (255, ProofRefusal::Key),
            (256, ProofRefusal::Signature),
            (512, ProofRefusal::Signature),
            (513, ProofRefusal::Key),
            (640, ProofRefusal::Key),
        ] {
            let text = proof(&vec![0xc5; bytes]);
            assert!(text.len() <= MAX_PROOF, "{bytes}: {}", text.len());
            assert_eq!(verify(&text, &rs_rules, NOW), Err(refusal), "{bytes} bytes");
        }
        let mut leading_zero = vec![0xc5; 300];
        leading_zero[0] = 0;
        assert_eq!(
            verify(&proof(&leading_zero), &rs_rules, NOW),
            Err(ProofRefusal::Key)
        );
    }

    /// RFC 7638 §3.1's example RSA key and its thumbprint.
    #[test]
    fn the_rsa_thumbprint_is_rfc_7638s() {
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29",
        });
        let (_, thumbprint) = public_key(jwk.as_object().unwrap(), ProofAlgorithm::Rs256).unwrap();
        assert_eq!(
            b64url(&thumbprint),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    /// RFC 8037 Appendix A.1's key (its private part `d` signs the test proofs) and A.3's
    /// thumbprint of it.
    const RFC_8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC_8037_SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC_8037_JKT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    /// An Ed25519 proof made with RFC 8037's key, `alg` as given.
    fn ed25519_signed(header: &Value, claims: &Value) -> String {
        let seed = b64url_decode(RFC_8037_SEED).unwrap();
        let x = b64url_decode(RFC_8037_X).unwrap();
        let pair = ring::signature::Ed25519KeyPair::from_seed_and_public_key(&seed, &x).unwrap();
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        format!("{input}.{}", b64url(pair.sign(input.as_bytes()).as_ref()))
    }

    fn okp_header(alg: &str) -> Value {
        serde_json::json!({"typ": "dpop+jwt", "alg": alg,
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": RFC_8037_X}})
    }

    #[test]
    fn ed25519_proofs_verify_under_both_names_with_rfc_8037s_thumbprint() {
        let both = ProofRules {
            algorithms: vec![ProofAlgorithm::Ed25519, ProofAlgorithm::EdDsa],
            ..rules()
        };
        for alg in ["Ed25519", "EdDSA"] {
            let proof = ed25519_signed(&okp_header(alg), &claims());
            assert_eq!(
                verify(&proof, &both, NOW).unwrap().jkt,
                RFC_8037_JKT,
                "{alg}"
            );
            // Each name is its own entry of the list.
            assert_eq!(
                verify(&proof, &rules(), NOW),
                Err(ProofRefusal::Algorithm),
                "{alg} where only ES256 is listed"
            );
        }
        let (named, older) = (
            ed25519_signed(&okp_header("Ed25519"), &claims()),
            ed25519_signed(&okp_header("EdDSA"), &claims()),
        );
        let only = |algorithm| ProofRules {
            algorithms: vec![algorithm],
            ..rules()
        };
        assert!(verify(&named, &only(ProofAlgorithm::Ed25519), NOW).is_ok());
        assert_eq!(
            verify(&older, &only(ProofAlgorithm::Ed25519), NOW),
            Err(ProofRefusal::Algorithm)
        );
        assert!(verify(&older, &only(ProofAlgorithm::EdDsa), NOW).is_ok());
    }

    #[test]
    fn bad_ed25519_proofs_are_refused() {
        use serde_json::json;
        use ProofRefusal::*;
        let rules = ProofRules {
            algorithms: vec![
                ProofAlgorithm::Es256,
                ProofAlgorithm::Ed25519,
                ProofAlgorithm::EdDsa,
            ],
            ..rules()
        };
        let header = okp_header("Ed25519");
        let with_key = |name: &str, to: Value| {
            let jwk = changed(header["jwk"].clone(), name, to);
            ed25519_signed(&changed(header.clone(), "jwk", jwk), &claims())
        };
        let (_, ec_jwk) = ec_key();
        let cases: Vec<(&str, String, ProofRefusal)> = vec![
            ("an Ed448 curve", with_key("crv", json!("Ed448")), Key),
            ("an X25519 curve", with_key("crv", json!("X25519")), Key),
            ("kty EC", with_key("kty", json!("EC")), Key),
            ("no crv", with_key("crv", Value::Null), Key),
            ("x too short", with_key("x", json!("AAAA")), Key),
            ("x 33 bytes", with_key("x", json!(b64url(&[7; 33]))), Key),
            ("no x", with_key("x", Value::Null), Key),
            (
                "a private key",
                with_key("d", json!(RFC_8037_SEED)),
                PrivateKey,
            ),
            (
                "an EC key under Ed25519",
                ed25519_signed(&changed(header.clone(), "jwk", ec_jwk.clone()), &claims()),
                Key,
            ),
            (
                "an OKP key under ES256",
                ed25519_signed(&okp_header("ES256"), &claims()),
                Key,
            ),
            (
                "another key's signature",
                {
                    let other = json!({"kty": "OKP", "crv": "Ed25519",
                        "x": b64url(&[9; 32])});
                    ed25519_signed(&changed(header.clone(), "jwk", other), &claims())
                },
                Signature,
            ),
            (
                "an ES256 signature under Ed25519",
                {
                    let good = ed25519_signed(&header, &claims());
                    let es = signed(&header, &claims());
                    let (input, _) = good.rsplit_once('.').unwrap();
                    let (_, signature) = es.rsplit_once('.').unwrap();
                    format!("{input}.{signature}")
                },
                Signature,
            ),
        ];
        for (case, proof, refusal) in cases {
            assert_eq!(verify(&proof, &rules, NOW), Err(refusal), "{case}");
        }
    }

    #[test]
    fn an_rs256_proof_verifies_where_rs256_is_listed() {
        use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
        let pair = RsaKeyPair::from_pkcs8(&der(RSA_KEY)).unwrap();
        let public = ring::signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        let jwk = serde_json::json!({"kty": "RSA", "n": b64url(&public.n), "e": b64url(&public.e)});
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": jwk});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims().to_string().as_bytes())
        );
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .unwrap();
        let proof = format!("{input}.{}", b64url(&signature));
        let rs256_only = ProofRules {
            algorithms: vec![ProofAlgorithm::Rs256],
            ..rules()
        };
        assert!(verify(&proof, &rs256_only, NOW).is_ok());
        assert_eq!(verify(&proof, &rules(), NOW), Err(ProofRefusal::Algorithm));
    }
}

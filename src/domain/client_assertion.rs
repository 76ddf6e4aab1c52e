//! Keys instead of secrets: `private_key_jwt` client authentication (RFC 7523 §2.2, §3; RFC 7521
//! §4.2). A client registers public keys; it proves itself with a short-lived JWT it signed with
//! the private half, so nothing the service stores or sees can be replayed as a credential
//! elsewhere, and a database dump holds no secret of it at all.
//!
//! Checked here, on the service's own clock: the signature, with the algorithm pinned to the
//! registered key (RS256 or ES256; never `none`, never HMAC, never the token's own choice);
//! `iss` = `sub` = the client; `aud` names this server; `nbf` and `iat` are not in the future;
//! `jti` is present; and the assertion is used within `MAX_LIFETIME` of when it was made: before
//! its `exp`, and no later than `MAX_LIFETIME` after its `iat` (an assertion without `iat` may
//! not have an `exp` further ahead than that). Libraries differ in the `exp` they write (Authlib
//! writes an hour ahead, with `iat`); the window each assertion is usable in is a few minutes
//! either way. That the `jti` is used once is the store's step (`ClientStore::spend_assertion`),
//! taken after all of this succeeded, and remembered for as long as the assertion is usable.

use crate::crypto::jwt_backend;
use crate::crypto::sha256;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// RFC 7523 §2.2: the only `client_assertion_type` there is.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An assertion is usable for at most this long after it was made (`iat`, or now when it has
/// none): it is a one-time credential, made for the request that carries it. The replay ledger
/// keeps each `jti` this long (plus the skew) at most.
pub const MAX_LIFETIME: i64 = 300;

/// Clocks of client and server may differ by this much (`exp`, `nbf`, `iat`).
pub const CLOCK_SKEW: i64 = 30;

/// Larger assertions are refused unread (an RS256 assertion with a `kid` is under 1 KiB).
pub const MAX_ASSERTION: usize = 4096;

/// A client registers at most this many keys (one in use, one coming or going, and spares).
pub const MAX_KEYS: usize = 5;

/// Members only a private JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1): such a key is refused at
/// registration, so a private key given by mistake is never stored.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// One registered public key, pinned to its algorithm.
#[derive(Clone)]
struct ClientKey {
    kid: Option<String>,
    algorithm: Algorithm,
    decoding: DecodingKey,
}

/// A client's registered public keys (a JWK set), parsed once when its record is read.
#[derive(Clone)]
pub struct ClientKeys {
    /// The set as registered, re-serialized: what the store keeps and `tokenctl` shows.
    jwks: String,
    keys: Vec<ClientKey>,
}

impl PartialEq for ClientKeys {
    fn eq(&self, other: &Self) -> bool {
        self.jwks == other.jwks
    }
}

impl Eq for ClientKeys {}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| (k.kid.as_deref().unwrap_or("-"), k.algorithm))
            .collect();
        f.debug_struct("ClientKeys").field("keys", &keys).finish()
    }
}

impl ClientKeys {
    /// Parses a JWK set of RS256 (RSA, 2048 bits or more) and ES256 (P-256) public keys. Every
    /// key of a set of more than one names itself (`kid`, distinct); `alg`, where given, must be
    /// the one its key type allows; no private member may be present.
    pub fn parse(jwks: &str) -> Result<Self, &'static str> {
        jwt_backend::install();
        let raw: serde_json::Value =
            serde_json::from_str(jwks).map_err(|_| "the keys are not a JSON JWK set")?;
        let raw_keys = raw
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or("the keys are not a JWK set (no \"keys\" array)")?;
        if raw_keys
            .iter()
            .any(|key| PRIVATE_MEMBERS.iter().any(|m| key.get(m).is_some()))
        {
            return Err("a key has private members: register the public key only");
        }
        let set: JwkSet = serde_json::from_value(raw.clone())
            .map_err(|_| "a key is not a JWK of a supported type")?;
        if set.keys.is_empty() {
            return Err("the JWK set has no key");
        }
        if set.keys.len() > MAX_KEYS {
            return Err("at most 5 keys");
        }
        let keys = set
            .keys
            .iter()
            .map(client_key)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.len() > 1 {
            let mut kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref()).collect();
            if kids.contains(&None) {
                return Err("each key of a set of more than one needs a kid");
            }
            kids.sort();
            kids.dedup();
            if kids.len() != keys.len() {
                return Err("two keys have the same kid");
            }
        }
        Ok(Self {
            jwks: serde_json::to_string(&set).map_err(|_| "the JWK set cannot be written")?,
            keys,
        })
    }

    /// The set as it is stored and shown.
    pub fn as_json(&self) -> &str {
        &self.jwks
    }

    /// The key an assertion names: by `kid`, or the only key when the assertion names none.
    fn find(&self, kid: Option<&str>) -> Option<&ClientKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }
}

fn client_key(jwk: &Jwk) -> Result<ClientKey, &'static str> {
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus =
                crate::crypto::b64url_decode(&rsa.n).ok_or("an RSA key's n is invalid")?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < 256 {
                return Err("an RSA key must have 2048 bits or more");
            }
            Algorithm::RS256
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return Err("only RSA (RS256) and P-256 (ES256) keys"),
    };
    if let Some(alg) = &jwk.common.key_algorithm {
        let named = alg.to_string();
        let expected = if algorithm == Algorithm::RS256 {
            "RS256"
        } else {
            "ES256"
        };
        if named != expected {
            return Err("a key's alg is not the one its key type is used with (RS256, ES256)");
        }
    }
    let decoding = DecodingKey::from_jwk(jwk).map_err(|_| "a key is not a usable public key")?;
    Ok(ClientKey {
        kid: jwk.common.key_id.clone(),
        algorithm,
        decoding,
    })
}

/// What the service keeps of a verified assertion: enough to spend its `jti` once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The `jti`, hashed with the client id: the replay ledger's key, of fixed size whatever the
    /// client sent.
    pub jti_hash: [u8; 32],
    /// Until when the ledger must remember it: the end of the assertion's usable window plus
    /// the clock skew.
    pub remember_until: i64,
}

/// Why an assertion was refused: logged, never sent (the answer is `invalid_client` for all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionRefusal {
    /// The service does not serve `private_key_jwt`.
    NotServed,
    Malformed,
    /// No registered key has the assertion's `kid` (or it named none and there are several).
    UnknownKey,
    /// The header's `alg` is not the key's.
    WrongAlgorithm,
    BadSignature,
    /// `iss` or `sub` is not the client.
    WrongClient,
    WrongAudience,
    /// Past its `exp`, or made (`iat`) more than `MAX_LIFETIME` ago.
    Expired,
    /// No `iat`, and an `exp` more than `MAX_LIFETIME` ahead.
    TooLong,
    /// `nbf` or `iat` in the future.
    NotYetValid,
    Replayed,
}

impl AssertionRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotServed => "not_served",
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::WrongAlgorithm => "wrong_algorithm",
            Self::BadSignature => "bad_signature",
            Self::WrongClient => "wrong_client",
            Self::WrongAudience => "wrong_audience",
            Self::Expired => "expired",
            Self::TooLong => "too_long",
            Self::NotYetValid => "not_yet_valid",
            Self::Replayed => "replayed",
        }
    }
}

/// The claims read here; `iss`, `sub` and `aud` are checked by the library's validation.
#[derive(Deserialize)]
struct AssertionClaims {
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    jti: String,
}

/// Verifies `assertion` as `client_id`'s, signed by one of `keys`, for one of `audiences`, as
/// of `now`.
pub fn verify(
    assertion: &str,
    keys: &ClientKeys,
    client_id: &str,
    audiences: &[String],
    now: i64,
) -> Result<VerifiedAssertion, AssertionRefusal> {
    use jsonwebtoken::errors::ErrorKind;
    if assertion.len() > MAX_ASSERTION {
        return Err(AssertionRefusal::Malformed);
    }
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| AssertionRefusal::Malformed)?;
    let key = keys
        .find(header.kid.as_deref())
        .ok_or(AssertionRefusal::UnknownKey)?;
    if header.alg != key.algorithm {
        return Err(AssertionRefusal::WrongAlgorithm);
    }
    let mut validation = Validation::new(key.algorithm);
    validation.set_audience(audiences);
    validation.set_issuer(&[client_id]);
    validation.sub = Some(client_id.to_owned());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    // Times are checked below against the service's clock, not the library's.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let claims = jsonwebtoken::decode::<AssertionClaims>(assertion, &key.decoding, &validation)
        .map_err(|error| match error.kind() {
            ErrorKind::InvalidSignature => AssertionRefusal::BadSignature,
            ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject => AssertionRefusal::WrongClient,
            ErrorKind::InvalidAudience => AssertionRefusal::WrongAudience,
            _ => AssertionRefusal::Malformed,
        })?
        .claims;
    let future = |t: Option<i64>| t.is_some_and(|t| t > now + CLOCK_SKEW);
    if future(claims.nbf) || future(claims.iat) {
        return Err(AssertionRefusal::NotYetValid);
    }
    let usable_until = match claims.iat {
        Some(iat) => claims.exp.min(iat + MAX_LIFETIME),
        None if claims.exp > now + MAX_LIFETIME + CLOCK_SKEW => {
            return Err(AssertionRefusal::TooLong)
        }
        None => claims.exp,
    };
    if usable_until + CLOCK_SKEW <= now {
        return Err(AssertionRefusal::Expired);
    }
    if claims.jti.is_empty() {
        return Err(AssertionRefusal::Malformed);
    }
    Ok(VerifiedAssertion {
        jti_hash: sha256(&[
            b"chatroom-token/assertion-jti\0",
            client_id.as_bytes(),
            b"\0",
            claims.jti.as_bytes(),
        ]),
        remember_until: usable_until + CLOCK_SKEW,
    })
}

/// The client an assertion says it is from (its `sub`), read without trusting it: it only
/// chooses which client's keys then verify the assertion, when the request names no
/// `client_id`.
pub fn claimed_client(assertion: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Subject {
        sub: String,
    }
    if assertion.len() > MAX_ASSERTION {
        return None;
    }
    let mut parts = assertion.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    let bytes = crate::crypto::b64url_decode(payload)?;
    serde_json::from_slice::<Subject>(&bytes)
        .ok()
        .map(|s| s.sub)
        .filter(|sub| !sub.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::{json, Value};

    pub(crate) const EC_KEY: &str = include_str!("../../tests/fixtures/keys/ec-p256.b64");
    pub(crate) const RSA_KEY: &str = include_str!("../../tests/fixtures/keys/rsa-2048-a.b64");
    pub(crate) const OTHER_RSA_KEY: &str = include_str!("../../tests/fixtures/keys/rsa-2048-b.b64");
    pub(crate) const NOW: i64 = 1_800_000_000;
    pub(crate) const AUDIENCE: &str = "https://auth.example.com/chatroom/api/token";

    fn der(text: &str) -> Vec<u8> {
        crate::crypto::b64url_decode(text.trim().trim_end_matches('=')).unwrap()
    }

    fn encoding(algorithm: Algorithm, key: &str) -> EncodingKey {
        match algorithm {
            Algorithm::ES256 => EncodingKey::from_ec_der(&der(key)),
            _ => EncodingKey::from_rsa_der(&der(key)),
        }
    }

    /// The public JWK of a fixture key, with a kid.
    pub(crate) fn public_jwk(algorithm: Algorithm, key: &str, kid: &str) -> Value {
        jwt_backend::install();
        let jwk = Jwk::from_encoding_key(&encoding(algorithm, key), algorithm).unwrap();
        let mut value = serde_json::to_value(jwk).unwrap();
        value["kid"] = json!(kid);
        value
    }

    pub(crate) fn set(keys: &[Value]) -> ClientKeys {
        ClientKeys::parse(&json!({ "keys": keys }).to_string()).unwrap()
    }

    pub(crate) fn claims() -> Value {
        json!({
            "iss": "app", "sub": "app", "aud": AUDIENCE,
            "exp": NOW + 60, "iat": NOW, "jti": "j-1",
        })
    }

    pub(crate) fn sign(
        algorithm: Algorithm,
        key: &str,
        kid: Option<&str>,
        claims: &Value,
    ) -> String {
        let mut header = Header::new(algorithm);
        header.kid = kid.map(str::to_owned);
        encode(&header, claims, &encoding(algorithm, key)).unwrap()
    }

    fn check(assertion: &str, keys: &ClientKeys) -> Result<VerifiedAssertion, AssertionRefusal> {
        verify(assertion, keys, "app", &[AUDIENCE.to_owned()], NOW)
    }

    pub(crate) fn with(changes: Value) -> Value {
        let mut claims = claims();
        for (name, value) in changes.as_object().unwrap() {
            match value {
                Value::Null => claims.as_object_mut().unwrap().remove(name),
                value => claims
                    .as_object_mut()
                    .unwrap()
                    .insert(name.clone(), value.clone()),
            };
        }
        claims
    }

    #[test]
    fn rs256_and_es256_assertions_verify_with_the_registered_key() {
        let keys = set(&[
            public_jwk(Algorithm::ES256, EC_KEY, "ec"),
            public_jwk(Algorithm::RS256, RSA_KEY, "rsa"),
        ]);
        let ec = check(
            &sign(Algorithm::ES256, EC_KEY, Some("ec"), &claims()),
            &keys,
        )
        .unwrap();
        let rsa = check(
            &sign(Algorithm::RS256, RSA_KEY, Some("rsa"), &claims()),
            &keys,
        )
        .unwrap();
        // The same jti of the same client is the same ledger entry, whichever key signed.
        assert_eq!(ec, rsa);
        assert_eq!(ec.remember_until, NOW + 60 + CLOCK_SKEW);
        // An hour's exp is remembered only as long as the assertion is usable.
        let hour = check(
            &sign(
                Algorithm::ES256,
                EC_KEY,
                Some("ec"),
                &with(json!({"exp": NOW + 3600})),
            ),
            &keys,
        )
        .unwrap();
        assert_eq!(hour.remember_until, NOW + MAX_LIFETIME + CLOCK_SKEW);
        // Another client's jti of the same text is another entry.
        let other = verify(
            &sign(
                Algorithm::ES256,
                EC_KEY,
                Some("ec"),
                &with(json!({"iss": "other", "sub": "other"})),
            ),
            &keys,
            "other",
            &[AUDIENCE.to_owned()],
            NOW,
        )
        .unwrap();
        assert_ne!(other.jti_hash, ec.jti_hash);
    }

    #[test]
    fn a_single_key_is_used_when_the_assertion_names_none() {
        let keys = set(&[public_jwk(Algorithm::ES256, EC_KEY, "ec")]);
        assert!(check(&sign(Algorithm::ES256, EC_KEY, None, &claims()), &keys).is_ok());
        let two = set(&[
            public_jwk(Algorithm::ES256, EC_KEY, "ec"),
            public_jwk(Algorithm::RS256, RSA_KEY, "rsa"),
        ]);
        assert_eq!(
            check(&sign(Algorithm::ES256, EC_KEY, None, &claims()), &two),
            Err(AssertionRefusal::UnknownKey)
        );
    }

    /// An attacker who knows the client id but holds none of its private keys, or who holds an
    /// assertion made for another purpose, gets nothing.
    #[test]
    fn every_forged_or_misdirected_assertion_is_refused() {
        use AssertionRefusal::*;
        let keys = set(&[public_jwk(Algorithm::RS256, RSA_KEY, "rsa")]);
        let rsa = |claims: Value| sign(Algorithm::RS256, RSA_KEY, Some("rsa"), &claims);
        let cases: Vec<(&str, String, AssertionRefusal)> = vec![
            (
                "unknown kid",
                sign(Algorithm::RS256, RSA_KEY, Some("x"), &claims()),
                UnknownKey,
            ),
            (
                "signed by another key under the registered kid",
                sign(Algorithm::RS256, OTHER_RSA_KEY, Some("rsa"), &claims()),
                BadSignature,
            ),
            (
                "an HMAC made with the public key as its secret",
                {
                    let mut header = Header::new(Algorithm::HS256);
                    header.kid = Some("rsa".into());
                    let public = keys.as_json().as_bytes();
                    encode(&header, &claims(), &EncodingKey::from_secret(public)).unwrap()
                },
                WrongAlgorithm,
            ),
            (
                "alg none",
                {
                    let header = crate::crypto::b64url(br#"{"alg":"none","kid":"rsa"}"#);
                    let body = crate::crypto::b64url(claims().to_string().as_bytes());
                    format!("{header}.{body}.")
                },
                Malformed,
            ),
            (
                "another issuer",
                rsa(with(json!({"iss": "other"}))),
                WrongClient,
            ),
            (
                "another subject",
                rsa(with(json!({"sub": "other"}))),
                WrongClient,
            ),
            (
                "another audience",
                rsa(with(json!({"aud": "https://elsewhere.example/token"}))),
                WrongAudience,
            ),
            ("no audience", rsa(with(json!({"aud": null}))), Malformed),
            ("no exp", rsa(with(json!({"exp": null}))), Malformed),
            ("no jti", rsa(with(json!({"jti": null}))), Malformed),
            ("an empty jti", rsa(with(json!({"jti": ""}))), Malformed),
            (
                "expired beyond the skew",
                rsa(with(json!({"exp": NOW - CLOCK_SKEW}))),
                Expired,
            ),
            (
                "without iat, valid too long",
                rsa(with(
                    json!({"iat": null, "exp": NOW + MAX_LIFETIME + CLOCK_SKEW + 1}),
                )),
                TooLong,
            ),
            (
                "made too long ago, whatever its exp",
                rsa(with(
                    json!({"iat": NOW - MAX_LIFETIME - CLOCK_SKEW, "exp": NOW + 3600}),
                )),
                Expired,
            ),
            (
                "not before the future",
                rsa(with(json!({"nbf": NOW + CLOCK_SKEW + 1}))),
                NotYetValid,
            ),
            (
                "issued in the future",
                rsa(with(json!({"iat": NOW + CLOCK_SKEW + 1}))),
                NotYetValid,
            ),
            (
                "oversized",
                rsa(with(json!({"pad": "x".repeat(MAX_ASSERTION)}))),
                Malformed,
            ),
            ("not a JWT", "not.a.jwt".to_owned(), Malformed),
        ];
        for (case, assertion, refusal) in cases {
            assert_eq!(check(&assertion, &keys), Err(refusal), "{case}");
        }
        // The longest assertion taken: exactly MAX_ASSERTION bytes.
        assert!(check(&longest_assertion(), &keys).is_ok());
        // The edges that still pass.
        for edge in [
            json!({"exp": NOW - CLOCK_SKEW + 1}),
            json!({"iat": null, "exp": NOW + MAX_LIFETIME + CLOCK_SKEW}),
            // Authlib's default: an hour ahead, with iat.
            json!({"exp": NOW + 3600}),
            json!({"iat": NOW - MAX_LIFETIME - CLOCK_SKEW + 1, "exp": NOW + 3600}),
            json!({"nbf": NOW + CLOCK_SKEW, "iat": NOW + CLOCK_SKEW}),
            json!({"aud": [AUDIENCE, "https://elsewhere.example"]}),
        ] {
            assert!(check(&rsa(with(edge.clone())), &keys).is_ok(), "{edge}");
        }
    }

    /// The algorithm is the registered key's, never the assertion's choice.
    #[test]
    fn the_algorithm_is_pinned_to_the_key() {
        let keys = set(&[public_jwk(Algorithm::ES256, EC_KEY, "k")]);
        let rsa_under_ec_kid = sign(Algorithm::RS256, RSA_KEY, Some("k"), &claims());
        assert_eq!(
            check(&rsa_under_ec_kid, &keys),
            Err(AssertionRefusal::WrongAlgorithm)
        );
    }

    #[test]
    fn only_public_rs256_and_es256_key_sets_register() {
        let ec = public_jwk(Algorithm::ES256, EC_KEY, "a");
        let rsa = public_jwk(Algorithm::RS256, RSA_KEY, "b");
        let parse = |keys: Vec<Value>| ClientKeys::parse(&json!({ "keys": keys }).to_string());
        assert!(parse(vec![ec.clone(), rsa.clone()]).is_ok());
        let mut private = ec.clone();
        private["d"] = json!("c2VjcmV0");
        let mut wrong_alg = rsa.clone();
        wrong_alg["alg"] = json!("ES256");
        let mut hs_alg = rsa.clone();
        hs_alg["alg"] = json!("HS256");
        let mut no_kid = rsa.clone();
        no_kid.as_object_mut().unwrap().remove("kid");
        let mut same_kid = rsa.clone();
        same_kid["kid"] = json!("a");
        let mut p384 = ec.clone();
        p384["crv"] = json!("P-384");
        // A 1024-bit modulus (ring parses no such private key, so the public one is made).
        let mut small = rsa.clone();
        let modulus = crate::crypto::b64url_decode(small["n"].as_str().unwrap()).unwrap();
        small["n"] = json!(crate::crypto::b64url(&modulus[..128]));
        let oct = json!({"kty": "oct", "k": "c2VjcmV0", "kid": "o"});
        let refused = [
            vec![private],
            vec![wrong_alg],
            vec![hs_alg],
            vec![ec.clone(), no_kid],
            vec![ec.clone(), same_kid],
            vec![p384],
            vec![small],
            vec![oct],
            vec![],
            (0..6)
                .map(|i| {
                    let mut key = ec.clone();
                    key["kid"] = json!(i.to_string());
                    key
                })
                .collect(),
        ];
        for keys in refused {
            assert!(parse(keys.clone()).is_err(), "{keys:?}");
        }
        assert!(ClientKeys::parse("[]").is_err());
        assert!(ClientKeys::parse("not json").is_err());
        // At most five keys, and a single one needs no kid.
        let five: Vec<Value> = (0..5)
            .map(|i| {
                let mut key = ec.clone();
                key["kid"] = json!(i.to_string());
                key
            })
            .collect();
        assert!(parse(five).is_ok());
        let mut anonymous = ec.clone();
        anonymous.as_object_mut().unwrap().remove("kid");
        assert!(parse(vec![anonymous]).is_ok());
        // The stored form parses back to the same set, and another set is another.
        let keys = parse(vec![ec]).unwrap();
        assert_eq!(ClientKeys::parse(keys.as_json()).unwrap(), keys);
        assert_ne!(parse(vec![rsa]).unwrap(), keys);
        // A debug print names the keys, and holds no key material.
        let printed = format!("{keys:?}");
        assert!(
            printed.starts_with("ClientKeys") && printed.contains("\"a\""),
            "{printed}"
        );
        assert!(!printed.contains(keys.as_json()));
    }

    /// An RS256 assertion of exactly MAX_ASSERTION bytes, padded with a claim of its own.
    fn longest_assertion() -> String {
        let rsa = |claims: Value| sign(Algorithm::RS256, RSA_KEY, Some("rsa"), &claims);
        let unpadded = rsa(with(json!({"pad": ""}))).len();
        // base64url makes 4 characters of 3 bytes: start a little short of the limit.
        let start = ((MAX_ASSERTION - unpadded) * 3 / 4).saturating_sub(8);
        (start..MAX_ASSERTION)
            .map(|pad| rsa(with(json!({"pad": "p".repeat(pad)}))))
            .find(|assertion| assertion.len() == MAX_ASSERTION)
            .expect("some padding makes it exactly the limit")
    }

    #[test]
    fn the_claimed_client_is_the_unverified_subject() {
        let assertion = sign(Algorithm::ES256, EC_KEY, None, &claims());
        assert_eq!(claimed_client(&assertion).as_deref(), Some("app"));
        assert_eq!(claimed_client("x.y.z"), None);
        assert_eq!(
            claimed_client(&sign(
                Algorithm::ES256,
                EC_KEY,
                None,
                &with(json!({"sub": ""}))
            )),
            None
        );
        assert_eq!(claimed_client(&"a.".repeat(MAX_ASSERTION)), None);
        // Up to the size an assertion may have, and not a byte over (it is decoded unverified).
        assert_eq!(claimed_client(&longest_assertion()).as_deref(), Some("app"));
        let oversized = sign(
            Algorithm::RS256,
            RSA_KEY,
            None,
            &with(json!({"pad": "x".repeat(MAX_ASSERTION)})),
        );
        assert_eq!(claimed_client(&oversized), None);
    }
}

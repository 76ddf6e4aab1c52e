//! The resource-server side (RFC 9449 §7, RFC 6750): what an API checks of a request carrying
//! our access token, bearer or DPoP-bound. No server: tokens are signed here, as the token
//! service signs them, and proofs made with the client's key.

mod support;

use chatroom_token::crypto::grant_token::GrantId;
use chatroom_token::domain::access_token::{AccessTokenSigner, AccessTokenVerifier, Holder};
use chatroom_token::domain::dpop::{access_token_hash, ProofAlgorithm, ProofRefusal};
use chatroom_token::domain::resource_request::{Refusal, ResourceRequest, ResourceVerifier};
use serde_json::json;
use support::dpop::DpopKey;
use support::*;

const API_URL: &str = "https://api.chatroom.test/v1/rooms/42/messages";
const NOW: i64 = 1_800_000_000;

fn signer() -> AccessTokenSigner {
    AccessTokenSigner::new(&signing_key(), ISSUER.into(), 600)
}

fn token(jkt: Option<&str>, issued_at: i64) -> String {
    let grant = GrantId([3; 16]);
    let holder = Holder::User {
        user_id: USER_ID,
        grant_id: &grant,
    };
    signer()
        .sign_bound(holder, CLIENT_ID, "chat_read".into(), issued_at, 600, jkt)
        .unwrap()
}

fn verifier() -> ResourceVerifier {
    ResourceVerifier::new(vec![ProofAlgorithm::Es256], 60)
}

fn tokens() -> AccessTokenVerifier {
    AccessTokenVerifier::new(&[signing_key()], ISSUER, CLIENT_ID)
}

/// A proof for a GET of the API URL with `token`'s hash, unless changed.
fn proof(key: &DpopKey, token: &str, changes: serde_json::Value) -> String {
    let mut claims = json!({
        "jti": format!("j-{}", token.len()),
        "htm": "GET",
        "htu": API_URL,
        "iat": NOW,
        "ath": access_token_hash(token),
    });
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    key.proof_with(&claims)
}

fn check(authorization: Option<&str>, proofs: &[&str]) -> Result<(), Refusal> {
    let request = ResourceRequest {
        authorization,
        dpop: proofs,
        method: "GET",
        url: API_URL,
    };
    verifier().verify(&tokens(), &request, NOW).map(|_| ())
}

#[test]
fn a_bearer_token_works_as_bearer_and_a_bound_one_only_with_its_key() {
    let bearer = token(None, NOW);
    assert_eq!(check(Some(&format!("Bearer {bearer}")), &[]), Ok(()));
    let key = DpopKey::new();
    let bound = token(Some(&key.jkt()), NOW);
    let with_proof = proof(&key, &bound, json!({}));
    assert_eq!(
        check(Some(&format!("DPoP {bound}")), &[&with_proof]),
        Ok(())
    );
    // RFC 9449 §7.2: a bound token sent as a bearer token (a downgrade) is refused.
    assert_eq!(
        check(Some(&format!("Bearer {bound}")), &[]),
        Err(Refusal::InvalidToken("bound_token_as_bearer"))
    );
}

/// An attacker holding a bound access token (from a log, a proxy) and not the key, or a proof
/// made for another request, gets nothing.
#[test]
fn a_stolen_bound_token_is_useless_without_its_key() {
    let key = DpopKey::new();
    let bound = token(Some(&key.jkt()), NOW);
    let authorization = format!("DPoP {bound}");
    let thief = DpopKey::new();
    let other_token = token(Some(&key.jkt()), NOW - 1);
    let cases: Vec<(&str, Vec<String>, Refusal)> = vec![
        (
            "no proof",
            vec![],
            Refusal::InvalidProof(ProofRefusal::Malformed),
        ),
        (
            "the thief's key",
            vec![proof(&thief, &bound, json!({}))],
            Refusal::InvalidToken("key_mismatch"),
        ),
        (
            "a proof for another token",
            vec![proof(&key, &other_token, json!({}))],
            Refusal::InvalidProof(ProofRefusal::TokenHash),
        ),
        (
            "a proof without ath",
            vec![proof(&key, &bound, json!({"ath": null}))],
            Refusal::InvalidProof(ProofRefusal::TokenHash),
        ),
        (
            "a proof for another URL",
            vec![proof(
                &key,
                &bound,
                json!({"htu": "https://api.chatroom.test/v1/admin"}),
            )],
            Refusal::InvalidProof(ProofRefusal::Target),
        ),
        (
            "a proof for another method",
            vec![proof(&key, &bound, json!({"htm": "DELETE"}))],
            Refusal::InvalidProof(ProofRefusal::Method),
        ),
        (
            "a proof too old",
            vec![proof(&key, &bound, json!({"iat": NOW - 61}))],
            Refusal::InvalidProof(ProofRefusal::Time),
        ),
        (
            "two proofs",
            vec![
                proof(&key, &bound, json!({})),
                proof(&key, &bound, json!({})),
            ],
            Refusal::InvalidProof(ProofRefusal::Repeated),
        ),
    ];
    for (case, proofs, refusal) in cases {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        assert_eq!(check(Some(&authorization), &proofs), Err(refusal), "{case}");
    }
    // An unbound token presented as DPoP: there is no key to match.
    let bearer = token(None, NOW);
    assert_eq!(
        check(
            Some(&format!("DPoP {bearer}")),
            &[&proof(&key, &bearer, json!({}))]
        ),
        Err(Refusal::InvalidToken("key_mismatch"))
    );
}

#[test]
fn missing_expired_and_foreign_tokens_are_refused_with_a_challenge() {
    assert_eq!(check(None, &[]), Err(Refusal::NoToken));
    assert_eq!(check(Some("Basic YTpi"), &[]), Err(Refusal::NoToken));
    assert_eq!(check(Some("Bearer "), &[]), Err(Refusal::NoToken));
    let expired = token(None, NOW - 601);
    assert_eq!(
        check(Some(&format!("Bearer {expired}")), &[]),
        Err(Refusal::InvalidToken("token_invalid"))
    );
    let verifier = verifier();
    assert_eq!(
        verifier.challenge(&Refusal::NoToken),
        "Bearer, DPoP algs=\"ES256\""
    );
    assert!(verifier
        .challenge(&Refusal::InvalidProof(ProofRefusal::Time))
        .starts_with("DPoP error=\"invalid_dpop_proof\""));
    assert!(verifier
        .challenge(&Refusal::InvalidToken("key_mismatch"))
        .contains("error=\"invalid_token\""));
}

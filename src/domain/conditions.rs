//! The conditions of the store's conditional steps, as predicates over a record. The memory store
//! evaluates exactly these; the DynamoDB store's condition expressions are their translation.

use super::port::{ProofUse, Redemption, Revocation, Rotation};
use crate::domain::model::{GrantRecord, LastProof};

/// A new grant found its id taken. If the record there holds this very code, it is this
/// request's own write, applied before its answer was lost (the SDK retried the write): the code
/// was never shown to anyone else, so only this request can know it. Anything else is a collision.
pub fn is_own_issue(existing: &GrantRecord, issued: &GrantRecord) -> bool {
    existing.code_hash.matches(&issued.code_hash)
}

/// A client assertion's `jti` may be spent unless an earlier spending of it is still
/// remembered (`remembered_until`, absent when there is none): a remembered one past its time is
/// a record the store has not yet deleted, not a replay (its assertion has expired anyway).
pub fn assertion_spendable(remembered_until: Option<i64>, now: i64) -> bool {
    remembered_until.is_none_or(|until| until <= now)
}

pub fn redemption_applies(record: &GrantRecord, r: &Redemption) -> bool {
    let redirect_ok = match (&record.redirect_uri, &r.redirect_uri) {
        (None, _) => true,
        (Some(issued), Some(presented)) => issued == presented,
        (Some(_), None) => false,
    };
    let pkce_ok = match (&record.code_challenge, &r.verifier) {
        (None, None) => true,
        (Some(challenge), Some(proof)) => proof.satisfies(challenge),
        // A verifier for a code without a challenge, or a missing one: both refused.
        _ => false,
    };
    record.code_hash.matches(&r.code_hash)
        && record.redeemed_at.is_none()
        && record.revoked_at.is_none()
        && record.code_expires_at > r.now
        && record.client_id == r.client_id
        && redirect_ok
        && pkce_ok
        && key_fits(record, r.proof.as_ref())
}

pub fn rotation_applies(record: &GrantRecord, r: &Rotation) -> bool {
    let current = record
        .refresh_hash
        .is_some_and(|hash| hash.matches(&r.presented_hash));
    current
        && record.revoked_at.is_none()
        && record.client_id == r.client_id
        && within_lifetimes(record, r)
        && covers_scope(record, r)
        && key_fits(record, r.proof.as_ref())
        && proof_is_new(record, r.proof.as_ref())
}

/// A grant bound to a DPoP key is refreshed only with a proof of that key; an unbound one with
/// any proof or none.
pub fn key_fits(record: &GrantRecord, proof: Option<&ProofUse>) -> bool {
    match (&record.dpop_key, proof) {
        (None, _) => true,
        (Some(bound), Some(proof)) => *bound == proof.key,
        (Some(_), None) => false,
    }
}

/// A proof is accepted only if it is newer than the last one the grant accepted (made later, or
/// in the same second with another `jti`): so each proof works once, remembered by the very
/// write that accepts it.
pub fn proof_is_new(record: &GrantRecord, proof: Option<&ProofUse>) -> bool {
    match (&record.last_proof, proof) {
        (Some(last), Some(proof)) => last.is_older_than(proof.iat, &proof.jti),
        _ => true,
    }
}

fn remember(proof: Option<&ProofUse>) -> Option<LastProof> {
    proof.map(|p| LastProof {
        iat: p.iat,
        jti: p.jti,
    })
}

/// Neither the idle nor the absolute lifetime has run out.
pub fn within_lifetimes(record: &GrantRecord, r: &Rotation) -> bool {
    record.rotated_at.is_some_and(|t| t > r.idle_cutoff)
        && record.redeemed_at.is_some_and(|t| t > r.absolute_cutoff)
}

/// The grant's scope includes every scope token the request asks for.
pub fn covers_scope(record: &GrantRecord, r: &Rotation) -> bool {
    r.required_scope
        .iter()
        .all(|s| record.scope.tokens().any(|have| have == s))
}

pub fn revocation_applies(record: &GrantRecord, r: &Revocation) -> bool {
    let own = r.client_id.as_ref().is_none_or(|c| record.client_id == *c);
    let genuine = r.presented.is_none_or(|(generation, hash)| {
        record.redeemed_at.is_some()
            && (record.generation > generation
                || record.refresh_hash.is_some_and(|h| h.matches(&hash)))
    });
    own && genuine
}

/// The record after a revocation: the first revocation time stays.
pub fn apply_revocation(record: &mut GrantRecord, r: &Revocation) {
    record.revoked_at.get_or_insert(r.now);
}

/// The record after a successful redemption.
pub fn apply_redemption(record: &mut GrantRecord, r: &Redemption) {
    record.redeemed_at = Some(r.now);
    record.rotated_at = Some(r.now);
    record.refresh_hash = Some(r.refresh_hash);
    record.generation = 0;
    record.expires_at = r.expires_at;
    // A public client's grant is bound to the proof's key (if any); a confidential client's
    // refresh tokens are not bound, even where its code was (RFC 9449 §5, §10).
    record.dpop_key = r
        .proof
        .as_ref()
        .filter(|_| r.bind_to_proof_key)
        .map(|p| p.key);
    if let Some(proof) = remember(r.proof.as_ref()) {
        record.last_proof = Some(proof);
    }
}

/// The record after a successful rotation.
pub fn apply_rotation(record: &mut GrantRecord, r: &Rotation) {
    record.previous_hash = Some(r.presented_hash);
    record.refresh_hash = Some(r.successor_hash);
    record.generation = r.successor_generation;
    record.sealed_successor = r.sealed_successor.clone();
    record.rotated_at = Some(r.now);
    record.expires_at = r.expires_at;
    if let Some(proof) = remember(r.proof.as_ref()) {
        record.last_proof = Some(proof);
    }
}

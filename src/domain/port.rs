//! The store contract, the domain's port: each operation is one atomic step, checked and
//! applied in one go. The domain defines it; `store/` implements it (embedded, DynamoDB).
//!
//! Operations that can be refused (`redeem_code`, `rotate_refresh_token`) behave like a DynamoDB
//! conditional write: they apply only if every condition holds, and otherwise hand back the
//! record as it stood (`Rejected::Condition`), so the grant logic can tell a replay, a grace
//! retry, or its own already-applied write apart without a second read. The conditions are
//! written once, as plain predicates in `domain/conditions.rs`; the memory store evaluates them under a
//! lock, the DynamoDB store translates them into condition expressions, and the contract suite
//! in `tests/` checks that both agree.

use crate::crypto::grant_token::{GrantId, TokenHash};
use crate::domain::client_assertion::VerifiedAssertion;
use crate::domain::model::{Client, GrantRecord, JtiDigest, KeyDigest};
use crate::domain::pkce::VerifierProof;
use async_trait::async_trait;
use std::fmt;

#[derive(Debug)]
pub enum StoreError {
    /// Throttled or unreachable after the SDK's own retries: the caller may retry later.
    Unavailable(String),
    /// A create found its key already taken.
    AlreadyExists,
    /// Anything else: a bug, a malformed item, a permission problem.
    Internal(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(why) => write!(f, "store unavailable: {why}"),
            Self::AlreadyExists => f.write_str("record already exists"),
            Self::Internal(why) => write!(f, "store failure: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Why a conditional step did not apply.
#[derive(Debug)]
pub enum Rejected {
    /// The condition failed; the record as it was, or `None` if there is no such grant.
    Condition(Option<Box<GrantRecord>>),
    Store(StoreError),
}

impl From<StoreError> for Rejected {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// A DPoP proof a redemption or rotation presents (RFC 9449): its key, and what the grant keeps
/// of it so that it works once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofUse {
    pub key: KeyDigest,
    pub iat: i64,
    pub jti: JtiDigest,
}

/// Redeem an authorization code: applies only if the code hash matches, the code is unredeemed,
/// unexpired, unrevoked, issued to this client, for this redirect URI, and the PKCE proof holds.
#[derive(Clone, Debug)]
pub struct Redemption {
    pub grant_id: GrantId,
    pub code_hash: TokenHash,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub verifier: Option<VerifierProof>,
    pub now: i64,
    /// The first refresh token of the grant, installed by the same write.
    pub refresh_hash: TokenHash,
    pub expires_at: i64,
    /// The request's DPoP proof, remembered on the grant by the same write.
    pub proof: Option<ProofUse>,
    /// Bind the grant's refresh tokens to the proof's key (a public client, RFC 9449 §5).
    pub bind_to_proof_key: bool,
}

/// Rotate a refresh token: applies only if the presented token is the grant's current one, the
/// grant is active, unrevoked, within both lifetimes, belongs to this client, and covers the
/// requested scope; and, for DPoP, the proof is newer than the last one the grant accepted and
/// has the grant's key if it is bound (`conditions::proof_fits`).
#[derive(Clone, Debug)]
pub struct Rotation {
    pub grant_id: GrantId,
    pub presented_hash: TokenHash,
    pub client_id: String,
    pub required_scope: Vec<String>,
    pub now: i64,
    /// The grant must have been rotated (or redeemed) after this instant: the idle limit.
    pub idle_cutoff: i64,
    /// The grant must have been redeemed after this instant: the absolute limit.
    pub absolute_cutoff: i64,
    pub successor_hash: TokenHash,
    pub successor_generation: u32,
    /// The successor sealed for a grace retry; `None` (and any older seal removed) when the
    /// grace window is off.
    pub sealed_successor: Option<Vec<u8>>,
    pub expires_at: i64,
    /// The request's DPoP proof, remembered on the grant by the same write.
    pub proof: Option<ProofUse>,
}

/// Revoke a grant: applies if the grant exists and, when given, belongs to this client, and the
/// presented refresh token is one of its genuine tokens: the current one, or one of an older
/// generation (its tag proved we minted it for this grant). Sets `revoked_at` once; revoking
/// again changes nothing.
#[derive(Clone, Debug)]
pub struct Revocation {
    pub grant_id: GrantId,
    /// The client revoking its own token; `None` for the service itself (reuse detection) and
    /// operators.
    pub client_id: Option<String>,
    /// The refresh token presented, as its generation and hash.
    pub presented: Option<(u32, TokenHash)>,
    pub now: i64,
}

impl Revocation {
    /// Revokes whatever the grant holds: the service's own verdicts and operators' commands.
    pub fn unconditional(grant_id: GrantId, now: i64) -> Self {
        Self {
            grant_id,
            client_id: None,
            presented: None,
            now,
        }
    }
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// The client with this id, if one is registered (enabled or not).
    async fn find_client(&self, client_id: &str) -> Result<Option<Client>, StoreError>;

    /// As `find_client`, but a record this instance keeps cached is used only if it passes
    /// `accept`; otherwise the store is read afresh. Client authentication passes "the presented
    /// secret verifies and the client is enabled", so a failed authentication always costs one
    /// read, whether the id is unknown or known with a wrong secret (the timing tells nothing),
    /// and a secret rotated or a client re-enabled a moment ago works at once. Stores without a
    /// cache just read.
    async fn find_client_accepting(
        &self,
        client_id: &str,
        accept: &(dyn for<'c> Fn(&'c Client) -> bool + Send + Sync),
    ) -> Result<Option<Client>, StoreError> {
        let _ = accept;
        self.find_client(client_id).await
    }

    /// Spends a verified client assertion's `jti` (RFC 7523 §3): applies only if no assertion
    /// of the client with the same `jti` is still remembered (`conditions::assertion_spendable`),
    /// and then remembers this one until its `remember_until`. `Ok(false)`: a replay.
    async fn spend_assertion(
        &self,
        assertion: &VerifiedAssertion,
        now: i64,
    ) -> Result<bool, StoreError>;
}

/// Registering clients: the admin tool's and the tests' side of `ClientStore`.
#[async_trait]
pub trait ClientRegistry: ClientStore {
    /// Creates or replaces the client record.
    async fn put_client(&self, client: &Client) -> Result<(), StoreError>;
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new pending grant with its authorization code. `AlreadyExists` if the id is taken
    /// by another grant. Storing the same code again succeeds and changes nothing: a retry after
    /// a lost answer finds its own write (`conditions::is_own_issue`), not a collision.
    async fn issue_code(&self, grant: &GrantRecord) -> Result<(), StoreError>;

    /// Redeems the code once: activates the grant and installs its first refresh token. Returns
    /// the grant as it is after the write.
    async fn redeem_code(&self, redemption: &Redemption) -> Result<GrantRecord, Rejected>;

    /// Retires the presented refresh token and installs its successor, all or nothing. Returns
    /// the grant as it is after the write.
    async fn rotate_refresh_token(&self, rotation: &Rotation) -> Result<GrantRecord, Rejected>;

    /// Revokes the grant if the revocation's conditions hold: neither its code nor any of its
    /// refresh tokens work afterwards, and access tokens of it no longer introspect as active.
    /// Idempotent. Returns the grant as it is after the write.
    async fn revoke(&self, revocation: &Revocation) -> Result<GrantRecord, Rejected>;

    /// Revokes the grant whatever it holds. `Ok(false)` when there is no such grant.
    async fn revoke_grant(&self, grant_id: &GrantId, now: i64) -> Result<bool, StoreError> {
        match self
            .revoke(&Revocation::unconditional(*grant_id, now))
            .await
        {
            Ok(_) => Ok(true),
            Err(Rejected::Condition(_)) => Ok(false),
            Err(Rejected::Store(error)) => Err(error),
        }
    }

    /// Reads a grant as it is now (a strongly consistent read): introspection, operators, tests.
    async fn find_grant(&self, grant_id: &GrantId) -> Result<Option<GrantRecord>, StoreError>;

    /// Requests sent to a remote store so far by this instance (0 for the embedded store), so
    /// each request's log line can say what it cost.
    fn requests_sent(&self) -> u64 {
        0
    }
}

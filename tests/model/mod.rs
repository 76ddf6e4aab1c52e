//! A reference model of the token service: what it promises, in plain Rust, with no crypto and
//! no store. Read this file to know what every request must answer.
//!
//! Tokens are named by what they are (`TokenId`): the code of grant 2, the refresh token of
//! grant 2 at generation 3, an access token of grant 2 that expires at t. The harness
//! (`run.rs`) drives random operations (`ops.rs`) through the real HTTP handler and checks that
//! each real answer is the model's, token for token; `concurrent.rs` checks that answers to
//! concurrent requests are those of some order of them (linearizability).
//!
//! DPoP: a proof is checked first, on its own (a stale one costs nothing); the native app's grant
//! is bound to the key of the proof it redeemed with; a bound grant refreshes only with a proof
//! of its key, and every grant takes each proof once. The consent page may bind a code to the
//! native app's key (`dpop_jkt`), whichever client it is for: it then redeems only with a proof
//! of that key.
//!
//! Costs are DynamoDB requests with the client cache off (every authenticated request reads its
//! client once): the promises of the README's "DynamoDB data model".
#![allow(dead_code)]

pub mod backends;
pub mod concurrent;
pub mod ops;
pub mod run;

use chatroom_token::domain::model::ClientLifetimes;
use chatroom_token::domain::service::Lifetimes;

/// Short lifetimes, so a few clock steps cross each limit.
pub const LIFETIMES: Lifetimes = Lifetimes {
    access_token: 600,
    code: 60,
    refresh_idle: 3_600,
    refresh_absolute: 10_800,
    grace: 10,
};

/// The other app's own lifetimes (`tokenctl clients set-lifetimes`): a shorter access token and
/// idle limit, no grace window; its absolute limit is left to the server's.
pub const OTHER_APP_OWN: ClientLifetimes = ClientLifetimes {
    access_token: Some(300),
    refresh_idle: Some(1_800),
    refresh_absolute: None,
    grace: Some(0),
};

/// The lifetimes a client's grants and tokens live by: its own where shorter, the server's
/// elsewhere.
pub fn lifetimes(caller: Caller) -> Lifetimes {
    match caller {
        Caller::OtherApp => Lifetimes {
            access_token: 300,
            refresh_idle: 1_800,
            grace: 0,
            ..LIFETIMES
        },
        _ => LIFETIMES,
    }
}

/// The scope every client is registered with (`tests/support`).
pub const CLIENT_SCOPE: &[&str] = &["chat_read", "chat_write", "user_info_read"];

/// Who calls: two apps registered for both grants (the other with shorter lifetimes of its
/// own), a native app registered as a public client (no secret: its `client_id` alone), a
/// backend registered for client credentials only, which authenticates with keys instead of a
/// secret (`private_key_jwt`: a fresh signed assertion per request, each usable once), and a
/// resource server that may only introspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    App,
    OtherApp,
    NativeApp,
    Backend,
    ResourceServer,
}

/// A token as the model knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenId {
    Code {
        grant: usize,
    },
    Refresh {
        grant: usize,
        generation: u32,
    },
    Access {
        grant: usize,
        expires_at: i64,
    },
    /// The backend's access token for itself (client credentials): no grant behind it.
    ClientAccess {
        expires_at: i64,
    },
    /// Anything the service did not mint: garbage, a tampered token, one under another key.
    Forged,
}

/// Whose key signed a DPoP proof: the native app's own, or a thief's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    App,
    Thief,
}

/// A DPoP proof as the model knows it: whose key, when it was made, and which one (its `jti`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofId {
    pub key: KeyOwner,
    pub iat: i64,
    pub n: u32,
}

/// How old a proof may be (`DPOP_PROOF_MAX_AGE_SECONDS` of the model's service).
pub const PROOF_MAX_AGE: i64 = 60;

/// How long after it was made the backend's assertion is refused as expired: its `exp` is a
/// minute after it was made, plus the clock skew the service allows.
pub const ASSERTION_EXPIRED_AFTER: i64 = 60 + 30;

/// What an authorization-code request sends as its PKCE verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verifier {
    Right,
    Wrong,
    Missing,
}

/// What a code redemption sends as its redirect URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect {
    Right,
    Wrong,
    Missing,
}

/// A store fault on the request's first write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// The store is unavailable: nothing is written, the client gets a 503.
    BeforeWrite,
    /// The write applies and its answer is lost; the retry finds the request's own write.
    AnswerLost,
}

/// The OAuth error codes the model answers with (each has its fixed HTTP status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    UnauthorizedClient,
    UnsupportedTokenType,
    InvalidDpopProof,
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// What a request must answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A 200 token response: this refresh token, a fresh access token, this scope; the access
    /// token bound to this key (`token_type` `DPoP`), or a bearer token.
    Tokens {
        grant: usize,
        generation: u32,
        scope: Vec<&'static str>,
        bound: Option<KeyOwner>,
    },
    Error(ErrorCode),
    /// A client credentials answer: an access token for the backend itself with this scope,
    /// and no refresh token.
    ClientToken {
        scope: Vec<&'static str>,
    },
    /// Revocation's empty 200.
    Revoked,
    /// Introspection's answer.
    Active(bool),
    /// The consent page got a code for a new grant.
    CodeIssued {
        grant: usize,
    },
    /// The consent page's request was refused (a disabled client).
    CodeRefused,
}

/// An answer and what it cost in DynamoDB requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub answer: Answer,
    pub requests: u32,
}

/// One user's authorization of one client.
#[derive(Clone, Debug)]
pub struct Grant {
    pub client: Caller,
    pub scope: Vec<&'static str>,
    /// The code was issued with an S256 challenge.
    pub pkce: bool,
    pub code_expires_at: i64,
    pub redeemed_at: Option<i64>,
    /// The current refresh token's generation (0 after redemption).
    pub generation: u32,
    /// The last redemption or rotation.
    pub rotated_at: i64,
    pub revoked: bool,
    /// DPoP: the key a public client's grant is bound to (the one it redeemed its code with).
    pub bound: Option<KeyOwner>,
    /// The last proof a redemption or rotation of the grant accepted.
    pub last_proof: Option<ProofId>,
}

impl Grant {
    /// A bound grant takes only proofs of its key; an unbound one any proof or none.
    fn key_fits(&self, proof: Option<ProofId>) -> bool {
        match (self.bound, proof) {
            (None, _) => true,
            (Some(bound), Some(proof)) => bound == proof.key,
            (Some(_), None) => false,
        }
    }

    /// A proof works once: it must be newer than the last one accepted (made later, or in the
    /// same second and another one).
    fn proof_is_new(&self, proof: Option<ProofId>) -> bool {
        match (self.last_proof, proof) {
            (Some(last), Some(proof)) => {
                last.iat < proof.iat || (last.iat == proof.iat && last.n != proof.n)
            }
            _ => true,
        }
    }

    fn within_lifetimes(&self, now: i64) -> bool {
        let limits = lifetimes(self.client);
        self.redeemed_at.is_some_and(|redeemed| {
            now - self.rotated_at < limits.refresh_idle && now - redeemed < limits.refresh_absolute
        })
    }

    fn covers(&self, scope: &[&'static str]) -> bool {
        scope.iter().all(|s| self.scope.contains(s))
    }
}

#[derive(Clone, Debug)]
pub struct Model {
    pub now: i64,
    pub app_enabled: bool,
    pub other_app_enabled: bool,
    pub backend_enabled: bool,
    pub native_enabled: bool,
    pub grants: Vec<Grant>,
}

impl Model {
    pub fn new(now: i64) -> Self {
        Self {
            now,
            app_enabled: true,
            other_app_enabled: true,
            backend_enabled: true,
            native_enabled: true,
            grants: Vec::new(),
        }
    }

    fn enabled(&self, caller: Caller) -> bool {
        match caller {
            Caller::App => self.app_enabled,
            Caller::OtherApp => self.other_app_enabled,
            Caller::Backend => self.backend_enabled,
            Caller::NativeApp => self.native_enabled,
            Caller::ResourceServer => true,
        }
    }

    pub fn set_enabled(&mut self, client: Caller, enabled: bool) {
        match client {
            Caller::App => self.app_enabled = enabled,
            Caller::OtherApp => self.other_app_enabled = enabled,
            Caller::Backend => self.backend_enabled = enabled,
            Caller::NativeApp => self.native_enabled = enabled,
            Caller::ResourceServer => {}
        }
    }

    pub fn advance(&mut self, seconds: i64) {
        self.now += seconds;
    }

    /// The consent page issues a code (a client read and a put). A public client's code needs
    /// an S256 challenge. A code bound to the native app's key (`dpop_jkt`) redeems only with a
    /// proof of that key, whoever it was issued to.
    pub fn issue_code(
        &mut self,
        client: Caller,
        scope: Vec<&'static str>,
        pkce: bool,
        bind: bool,
    ) -> Step {
        if !self.enabled(client) || (client == Caller::NativeApp && !pkce) {
            return Step {
                answer: Answer::CodeRefused,
                requests: 1,
            };
        }
        self.grants.push(Grant {
            client,
            scope,
            pkce,
            code_expires_at: self.now + LIFETIMES.code,
            redeemed_at: None,
            generation: 0,
            rotated_at: self.now,
            revoked: false,
            bound: bind.then_some(KeyOwner::App),
            last_proof: None,
        });
        Step {
            answer: Answer::CodeIssued {
                grant: self.grants.len() - 1,
            },
            requests: 2,
        }
    }

    /// Token endpoint, `grant_type=authorization_code`.
    pub fn redeem(
        &mut self,
        caller: Caller,
        code: TokenId,
        redirect: Redirect,
        verifier: Verifier,
        proof: Option<ProofId>,
        fault: Fault,
    ) -> Step {
        if let Some(refused) = self.stale_proof(proof) {
            return refused;
        }
        let mut cost = Cost::client_read();
        if let Err(error) = self.token_client(caller, &mut cost) {
            return cost.answer(Answer::Error(error));
        }
        // A verifier is checked for form before anything else; ours are always well formed.
        let TokenId::Code { grant: g } = code else {
            return cost.answer(Answer::Error(ErrorCode::InvalidGrant)); // no store call
        };
        cost.write();
        if fault == Fault::BeforeWrite {
            return cost.answer(Answer::Error(ErrorCode::TemporarilyUnavailable));
        }
        let now = self.now;
        let grant = &mut self.grants[g];
        // The right verifier for a code with a challenge, none for a code without.
        let pkce_ok = matches!(
            (grant.pkce, verifier),
            (true, Verifier::Right) | (false, Verifier::Missing)
        );
        if grant.redeemed_at.is_none()
            && !grant.revoked
            && grant.code_expires_at > now
            && grant.client == caller
            && redirect == Redirect::Right
            && pkce_ok
            && grant.key_fits(proof)
        {
            grant.redeemed_at = Some(now);
            grant.rotated_at = now;
            grant.generation = 0;
            // RFC 9449 §5: a public client's grant is bound to the key it redeemed with; a
            // confidential client's is not, even where its code was (§10).
            grant.bound = match caller {
                Caller::NativeApp => proof.map(|p| p.key),
                _ => None,
            };
            grant.last_proof = proof.or(grant.last_proof);
            let scope = grant.scope.clone();
            return cost.answer(tokens(g, 0, scope, proof));
        }
        // Refused: why, in order of precedence.
        let error = if grant.revoked || grant.client != caller {
            ErrorCode::InvalidGrant
        } else if !grant.key_fits(proof) {
            // A code bound to a key (`dpop_jkt`), or the native app's redeemed grant: without a
            // proof of that key the request proves nothing, uses nothing and revokes nothing.
            ErrorCode::InvalidGrant
        } else if grant.redeemed_at.is_some()
            && grant.client == Caller::NativeApp
            && !(grant.pkce && verifier == Verifier::Right)
        {
            // Anyone can name a public client: a replay without the code's verifier proves
            // nothing and revokes nothing.
            ErrorCode::InvalidGrant
        } else if grant.redeemed_at.is_some() {
            // A replay by the code's own client revokes what the first redemption started.
            grant.revoked = true;
            cost.write();
            ErrorCode::InvalidGrant
        } else if grant.code_expires_at <= now {
            ErrorCode::InvalidGrant
        } else if redirect == Redirect::Missing {
            ErrorCode::InvalidRequest
        } else if redirect == Redirect::Wrong {
            ErrorCode::InvalidGrant
        } else if grant.pkce && verifier == Verifier::Missing {
            ErrorCode::InvalidRequest
        } else {
            ErrorCode::InvalidGrant // a wrong verifier, or one for a code without a challenge
        };
        cost.answer(Answer::Error(error))
    }

    /// Token endpoint, `grant_type=refresh_token`, optionally narrowing the scope.
    pub fn refresh(
        &mut self,
        caller: Caller,
        token: TokenId,
        scope: Option<Vec<&'static str>>,
        proof: Option<ProofId>,
        fault: Fault,
    ) -> Step {
        if let Some(refused) = self.stale_proof(proof) {
            return refused;
        }
        let mut cost = Cost::client_read();
        if let Err(error) = self.token_client(caller, &mut cost) {
            return cost.answer(Answer::Error(error));
        }
        let TokenId::Refresh {
            grant: g,
            generation,
        } = token
        else {
            return cost.answer(Answer::Error(ErrorCode::InvalidGrant)); // no store call
        };
        cost.write();
        if fault == Fault::BeforeWrite {
            return cost.answer(Answer::Error(ErrorCode::TemporarilyUnavailable));
        }
        let now = self.now;
        let grant = &mut self.grants[g];
        let requested = scope.unwrap_or_else(|| grant.scope.clone());
        let live = !grant.revoked && grant.within_lifetimes(now);
        if !live || grant.client != caller {
            return cost.answer(Answer::Error(ErrorCode::InvalidGrant));
        }
        // DPoP, before anything that rotates, revokes or hands out: a bound grant without a
        // proof of its key is invalid_grant and nothing changes (a key-less thief can neither
        // use nor burn it); a proof no newer than the last accepted one is a replay.
        if !grant.key_fits(proof) {
            return cost.answer(Answer::Error(ErrorCode::InvalidGrant));
        }
        if !grant.proof_is_new(proof) {
            return cost.answer(Answer::Error(ErrorCode::InvalidDpopProof));
        }
        if generation == grant.generation {
            if !grant.covers(&requested) {
                return cost.answer(Answer::Error(ErrorCode::InvalidScope));
            }
            // Rotation: the presented token becomes the previous one, its successor current.
            grant.generation += 1;
            grant.rotated_at = now;
            grant.last_proof = proof.or(grant.last_proof);
            return cost.answer(tokens(g, grant.generation, requested, proof));
        }
        let predecessor = generation + 1 == grant.generation;
        let in_grace = now - grant.rotated_at < lifetimes(grant.client).grace;
        if predecessor && in_grace {
            // A retry (or a racing tab): the same current token again, nothing rotates.
            if !grant.covers(&requested) {
                return cost.answer(Answer::Error(ErrorCode::InvalidScope));
            }
            return cost.answer(tokens(g, grant.generation, requested, proof));
        }
        // An older token, or the previous one after the window: reuse. The grant is revoked.
        grant.revoked = true;
        cost.write();
        cost.answer(Answer::Error(ErrorCode::InvalidGrant))
    }

    /// Revocation endpoint (RFC 7009): any authenticated client, its own tokens only.
    pub fn revoke(&mut self, caller: Caller, token: TokenId, fault: Fault) -> Step {
        let mut cost = Cost::client_read();
        if let Err(error) = self.authenticate(caller, &mut cost) {
            return cost.answer(Answer::Error(error));
        }
        let now = self.now;
        let g = match token {
            // Codes, forged tokens and expired access tokens revoke nothing, with no store call.
            TokenId::Forged | TokenId::Code { .. } => return cost.answer(Answer::Revoked),
            TokenId::Access { expires_at, .. } | TokenId::ClientAccess { expires_at }
                if expires_at <= now =>
            {
                return cost.answer(Answer::Revoked)
            }
            // A client token has no grant: its own client is told it cannot be revoked, any
            // other is refused as for any token not its own.
            TokenId::ClientAccess { .. } => {
                return cost.answer(Answer::Error(if caller == Caller::Backend {
                    ErrorCode::UnsupportedTokenType
                } else {
                    ErrorCode::UnauthorizedClient
                }))
            }
            TokenId::Access { grant, .. } => {
                if self.grants[grant].client != caller {
                    // The access token names its client: refused before any store call.
                    return cost.answer(Answer::Error(ErrorCode::UnauthorizedClient));
                }
                grant
            }
            TokenId::Refresh { grant, .. } => grant,
        };
        cost.write();
        if fault == Fault::BeforeWrite {
            return cost.answer(Answer::Error(ErrorCode::TemporarilyUnavailable));
        }
        let grant = &mut self.grants[g];
        if grant.client != caller {
            return cost.answer(Answer::Error(ErrorCode::UnauthorizedClient));
        }
        grant.revoked = true;
        cost.answer(Answer::Revoked)
    }

    /// Introspection endpoint (RFC 7662): resource servers only; only access tokens are ever
    /// active, while unexpired and their grant is not revoked.
    pub fn introspect(&self, caller: Caller, token: TokenId) -> Step {
        let mut cost = Cost::client_read();
        if let Err(error) = self.authenticate(caller, &mut cost) {
            return cost.answer(Answer::Error(error));
        }
        if caller != Caller::ResourceServer {
            return cost.answer(Answer::Error(ErrorCode::UnauthorizedClient));
        }
        match token {
            TokenId::Access { grant, expires_at } if expires_at > self.now => {
                cost.read();
                cost.answer(Answer::Active(!self.grants[grant].revoked))
            }
            // Its client vouches for it (a client read): active while the backend is enabled.
            TokenId::ClientAccess { expires_at } if expires_at > self.now => {
                cost.read();
                cost.answer(Answer::Active(self.backend_enabled))
            }
            _ => cost.answer(Answer::Active(false)),
        }
    }

    /// Token endpoint, `grant_type=client_credentials`: the backend's token for itself, for
    /// the scope asked for within its own (all of its own if none is asked for). Nothing is
    /// stored: the client read (and the backend's assertion) is the whole cost.
    pub fn client_token(&self, caller: Caller, scope: Option<Vec<&'static str>>) -> Step {
        let mut cost = Cost::client_read();
        if let Err(error) = self.authenticate(caller, &mut cost) {
            return cost.answer(Answer::Error(error));
        }
        if caller != Caller::Backend {
            return cost.answer(Answer::Error(ErrorCode::UnauthorizedClient));
        }
        let scope = scope.unwrap_or_else(|| CLIENT_SCOPE.to_vec());
        if !scope.iter().all(|s| CLIENT_SCOPE.contains(s)) {
            return cost.answer(Answer::Error(ErrorCode::InvalidScope));
        }
        cost.answer(Answer::ClientToken { scope })
    }

    /// A proof older than the window is refused before anything is read (the proof is checked
    /// first, on its own).
    fn stale_proof(&self, proof: Option<ProofId>) -> Option<Step> {
        proof
            .filter(|p| self.now - p.iat > PROOF_MAX_AGE)
            .map(|_| Step {
                answer: Answer::Error(ErrorCode::InvalidDpopProof),
                requests: 0,
            })
    }

    /// Client authentication. The backend's assertion is spent once it authenticates (a
    /// conditional put), whatever the request then answers.
    fn authenticate(&self, caller: Caller, cost: &mut Cost) -> Result<(), ErrorCode> {
        if !self.enabled(caller) {
            return Err(ErrorCode::InvalidClient);
        }
        if caller == Caller::Backend {
            cost.write();
        }
        Ok(())
    }

    /// Client authentication and the grant-type check of the code and refresh grants.
    fn token_client(&self, caller: Caller, cost: &mut Cost) -> Result<(), ErrorCode> {
        self.authenticate(caller, cost)?;
        if matches!(caller, Caller::ResourceServer | Caller::Backend) {
            Err(ErrorCode::UnauthorizedClient)
        } else {
            Ok(())
        }
    }

    /// The backend's assertion made at `made_at`, already spent, sent again (someone who copied
    /// it): refused, and nothing changes. Past its expiry it is refused unspent; before, its
    /// spending is tried and refused.
    pub fn replayed_assertion(&self, made_at: i64) -> Step {
        let mut cost = Cost::client_read();
        if self.enabled(Caller::Backend) && self.now - made_at < ASSERTION_EXPIRED_AFTER {
            cost.write();
        }
        cost.answer(Answer::Error(ErrorCode::InvalidClient))
    }
}

fn tokens(
    grant: usize,
    generation: u32,
    scope: Vec<&'static str>,
    proof: Option<ProofId>,
) -> Answer {
    Answer::Tokens {
        grant,
        generation,
        scope,
        bound: proof.map(|p| p.key),
    }
}

/// Counts a request's store calls.
struct Cost(u32);

impl Cost {
    /// With the client cache off, client authentication reads the client once.
    fn client_read() -> Self {
        Self(1)
    }

    fn read(&mut self) {
        self.0 += 1;
    }

    fn write(&mut self) {
        self.0 += 1;
    }

    fn answer(self, answer: Answer) -> Step {
        Step {
            answer,
            requests: self.0,
        }
    }
}

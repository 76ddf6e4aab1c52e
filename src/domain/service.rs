//! The token endpoint's behaviour, free of HTTP and of any SDK: a request in, tokens or an
//! RFC 6749 error out, plus a report of what happened for the log line and metrics.

use super::access_token::{Holder, SigningKey};
use super::client_auth::{authenticate, Methods};
use super::error::OAuthError;
use super::internal_callers::InternalCallers;
use super::key_ring::KeyRing;
use super::live_keys::LiveKeys;
use super::model::{Client, ClientLifetimes, GrantRecord, GrantType};
use super::{authorization_code, client_credentials, refresh};
use crate::clock::Clock;
use crate::crypto::grant_token::{GrantId, TokenKeys};
use crate::crypto::secret::Secret;
use crate::domain::dpop::{self, Proof, ProofRefusal, ProofRules};
use crate::domain::error::{AuthMethod, ErrorCode};
use crate::domain::port::{ClientStore, GrantStore};
use serde::Serialize;
use std::sync::Arc;

/// Lifetimes and windows, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_token: i64,
    pub code: i64,
    /// A grant unused (not refreshed) this long expires.
    pub refresh_idle: i64,
    /// A grant expires this long after its code was redeemed, however active.
    pub refresh_absolute: i64,
    /// How long the immediate predecessor of the current refresh token still yields the current
    /// one instead of revoking the grant. 0 turns it off.
    pub grace: i64,
}

impl Lifetimes {
    /// The lifetimes for one client: its own where it registered a shorter one, the server's
    /// elsewhere (a registration can never lengthen one).
    pub fn for_client(&self, client: &ClientLifetimes) -> Self {
        let shorter = |own: Option<i64>, server: i64| own.map_or(server, |v| v.min(server));
        Self {
            access_token: shorter(client.access_token, self.access_token),
            code: self.code,
            refresh_idle: shorter(client.refresh_idle, self.refresh_idle),
            refresh_absolute: shorter(client.refresh_absolute, self.refresh_absolute),
            grace: shorter(client.grace, self.grace),
        }
    }
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_token: 7200,
            code: 600,
            refresh_idle: 30 * 86_400,
            refresh_absolute: 90 * 86_400,
            grace: 30,
        }
    }
}

/// Client credentials as the HTTP adapter found them: an id, and a secret or a signed assertion
/// (`private_key_jwt`), or neither when the client sent its id alone (a public client).
#[derive(Debug)]
pub struct ClientCredentials {
    pub id: String,
    pub secret: Option<Secret>,
    pub assertion: Option<Secret>,
    pub method: AuthMethod,
}

/// A token request, already decoded from the wire. Absent and empty parameters are both `None`.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client: Option<ClientCredentials>,
    pub code: Option<Secret>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub scope: Option<String>,
    /// The request's DPoP proof (RFC 9449), if it sent one: its one `DPoP` header, or why there
    /// is no one (several).
    pub dpop: Option<Result<String, ProofRefusal>>,
}

/// How the service takes DPoP proofs (RFC 9449), where it does.
#[derive(Clone, Debug)]
pub struct DpopPolicy {
    /// What a token request's proof must satisfy (`htu`: the configured token URL).
    pub rules: ProofRules,
    /// Every public client's token requests need a proof.
    pub required_for_public_clients: bool,
    /// Every proof needs a current server nonce (RFC 9449 §8).
    pub nonces: bool,
}

/// A refused proof's answer: `invalid_dpop_proof`, the reason logged (never the proof).
pub(crate) fn refused_proof(refusal: ProofRefusal) -> OAuthError {
    tracing::info!(reason = refusal.as_str(), "DPoP proof refused");
    OAuthError::invalid_dpop_proof(match refusal {
        ProofRefusal::Repeated => "send one DPoP proof",
        ProofRefusal::Time => "the DPoP proof is too old or from the future",
        ProofRefusal::Target | ProofRefusal::Method => "the DPoP proof is for another request",
        _ => "the DPoP proof is invalid",
    })
}

/// A revocation (RFC 7009) or introspection (RFC 7662) request, decoded from the wire.
#[derive(Debug, Default)]
pub struct TokenActionRequest {
    pub client: Option<ClientCredentials>,
    pub token: Option<Secret>,
    /// Accepted and not needed: the token's own form tells which kind it is.
    pub token_type_hint: Option<String>,
}

/// The 200 body: exactly the five fields of the platform's API document; a client's token for
/// itself has no refresh token (RFC 6749 §4.4.3). `token_type` is `DPoP` for a token bound to a
/// DPoP key (RFC 9449 §5), `Bearer` otherwise.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    pub scope: String,
    pub token_type: &'static str,
}

/// What happened, for the request's log line and metrics. Holds no secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    CodeRedeemed,
    CodeReplayed,
    Refreshed,
    GraceRetry,
    /// The store had already applied this very request's write (an SDK retry after a lost answer).
    OwnWriteRecovered,
    ReuseDetected,
    /// A grace-window retry whose sealed successor this instance could not open: refused,
    /// nothing revoked.
    GraceSealUnopened,
    /// A client revoked its grant (RFC 7009).
    Revoked,
    /// A client got a token for itself (client credentials).
    ClientTokenIssued,
    /// A refresh of a grant bound to a DPoP key came without a proof of that key: refused,
    /// nothing rotated or revoked.
    DpopKeyMismatch,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodeRedeemed => "code_redeemed",
            Self::CodeReplayed => "code_replayed",
            Self::Refreshed => "refreshed",
            Self::GraceRetry => "grace_retry",
            Self::OwnWriteRecovered => "own_write_recovered",
            Self::ReuseDetected => "reuse_detected",
            Self::GraceSealUnopened => "grace_seal_unopened",
            Self::Revoked => "revoked",
            Self::ClientTokenIssued => "client_token_issued",
            Self::DpopKeyMismatch => "dpop_key_mismatch",
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    /// The IAM principal that called an internal route (its ARN): logged, as who issued a code.
    pub principal: Option<String>,
    pub client_id: Option<String>,
    pub grant_type: Option<GrantType>,
    pub grant_id: Option<GrantId>,
    pub event: Option<Event>,
    /// Failed re-reads of keys older than their bound, since the previous request's report.
    pub stale_key_failures: u64,
}

pub struct TokenService {
    pub(crate) clients: Arc<dyn ClientStore>,
    pub(crate) grants: Arc<dyn GrantStore>,
    pub(crate) clock: Arc<dyn Clock>,
    /// The signing and grant-token keys, re-read from their source while the instance is warm.
    pub(crate) keys: Arc<LiveKeys>,
    pub(crate) issuer: String,
    pub(crate) lifetimes: Lifetimes,
    /// The metadata document (RFC 8414), built once.
    pub(crate) metadata: String,
    pub(crate) emit_metrics: bool,
    /// Who may issue codes through the internal route: no one until configured.
    pub(crate) internal_callers: InternalCallers,
    /// Whether `grant_type=client_credentials` is served (off until configured).
    pub(crate) client_credentials: bool,
    /// Whether public clients (no secret) are served (off until configured).
    pub(crate) public_clients: bool,
    /// Where `private_key_jwt` is served (off until configured): the audiences a client
    /// assertion may name, this server's issuer and endpoint URLs.
    pub(crate) assertion_audiences: Option<Vec<String>>,
    /// Where DPoP is served (off until configured).
    pub(crate) dpop: Option<DpopPolicy>,
    pub(crate) scopes_supported: Option<Vec<String>>,
}

impl TokenService {
    /// A service whose keys never change: `signing_keys` with their states (checked by the
    /// configuration loader), `token_keys` whose first key mints.
    pub fn new(
        clients: Arc<dyn ClientStore>,
        grants: Arc<dyn GrantStore>,
        clock: Arc<dyn Clock>,
        signing_keys: &[SigningKey],
        issuer: &str,
        token_keys: TokenKeys,
        lifetimes: Lifetimes,
    ) -> Self {
        // Each key is parsed once, here, at cold start.
        let ring = KeyRing::fixed(signing_keys, token_keys, issuer, lifetimes.access_token);
        Self::with_keys(
            clients,
            grants,
            clock,
            Arc::new(LiveKeys::fixed(ring)),
            issuer,
            lifetimes,
        )
    }

    /// A service over keys that may be re-read while it is warm.
    pub fn with_keys(
        clients: Arc<dyn ClientStore>,
        grants: Arc<dyn GrantStore>,
        clock: Arc<dyn Clock>,
        keys: Arc<LiveKeys>,
        issuer: &str,
        lifetimes: Lifetimes,
    ) -> Self {
        Self {
            clients,
            grants,
            clock,
            keys,
            issuer: issuer.to_owned(),
            lifetimes,
            metadata: super::discovery::metadata(issuer, None, Default::default()),
            emit_metrics: false,
            internal_callers: InternalCallers::default(),
            client_credentials: false,
            public_clients: false,
            assertion_audiences: None,
            dpop: None,
            scopes_supported: None,
        }
    }

    /// Names the scopes in the metadata document (`scopes_supported`).
    pub fn with_scopes_supported(mut self, scopes: &[String]) -> Self {
        self.scopes_supported = Some(scopes.to_vec());
        self.rebuild_metadata();
        self
    }

    /// Serves the client credentials grant (RFC 6749 §4.4) to the clients registered for it,
    /// and lists it in the metadata.
    pub fn with_client_credentials(mut self) -> Self {
        self.client_credentials = true;
        self.rebuild_metadata();
        self
    }

    /// Serves public clients (native and browser apps, RFC 8252): `client_id` alone
    /// authenticates a client registered as public, and the metadata lists the method `none`.
    pub fn with_public_clients(mut self) -> Self {
        self.public_clients = true;
        self.rebuild_metadata();
        self
    }

    /// Serves `private_key_jwt` (RFC 7523): a client registered with keys authenticates with an
    /// assertion signed by one of them, naming this server (its issuer, or the URL of one of
    /// its endpoints) as the audience; the metadata lists the method.
    pub fn with_private_key_jwt(mut self) -> Self {
        use super::discovery::{INTROSPECTION_PATH, REVOCATION_PATH, TOKEN_PATH};
        let issuer = &self.issuer;
        self.assertion_audiences = Some(vec![
            issuer.clone(),
            format!("{issuer}{TOKEN_PATH}"),
            format!("{issuer}{REVOCATION_PATH}"),
            format!("{issuer}{INTROSPECTION_PATH}"),
        ]);
        self.rebuild_metadata();
        self
    }

    /// Serves DPoP (RFC 9449) at the token endpoint: a request's valid proof binds its access
    /// token to the proof's key, and a public client's grant to it; the metadata lists the
    /// algorithms.
    pub fn with_dpop(mut self, policy: DpopPolicy) -> Self {
        self.dpop = Some(policy);
        self.rebuild_metadata();
        self
    }

    fn rebuild_metadata(&mut self) {
        self.metadata = super::discovery::metadata(
            &self.issuer,
            self.scopes_supported.as_deref(),
            super::discovery::Served {
                client_credentials: self.client_credentials,
                public_clients: self.public_clients,
                private_key_jwt: self.assertion_audiences.is_some(),
                dpop_algorithms: self.dpop.as_ref().map(|d| d.rules.algorithms.as_slice()),
            },
        );
    }

    /// Authenticates the request's client (`client_auth`), public clients and assertions only
    /// where served.
    pub(crate) async fn authenticate(
        &self,
        credentials: Option<&ClientCredentials>,
    ) -> Result<Client, OAuthError> {
        let methods = Methods {
            public_clients: self.public_clients,
            assertion_audiences: self.assertion_audiences.as_deref(),
        };
        authenticate(
            self.clients.as_ref(),
            credentials,
            self.clock.now(),
            methods,
        )
        .await
    }

    /// The metadata document (RFC 8414), built at cold start.
    pub fn metadata(&self) -> &str {
        &self.metadata
    }

    /// The keys in use now. A request takes them once and uses that copy throughout.
    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys.get()
    }

    /// Re-reads the keys if this instance's copy is due (`live_keys`); every request calls it
    /// before it uses a key.
    pub async fn refresh_keys_if_due(&self) {
        self.keys.refresh_if_due(&self.clock).await;
    }

    /// Failed re-reads of keys older than the bound since the last call (metrics).
    pub fn take_stale_key_failures(&self) -> u64 {
        self.keys.take_stale_failures()
    }

    /// Opens the internal code route to these callers.
    pub fn with_internal_callers(mut self, callers: InternalCallers) -> Self {
        self.internal_callers = callers;
        self
    }

    pub fn internal_callers(&self) -> &InternalCallers {
        &self.internal_callers
    }

    /// The same service over other stores (tests and benchmarks seed their own).
    pub fn with_stores(
        mut self,
        clients: Arc<dyn ClientStore>,
        grants: Arc<dyn GrantStore>,
    ) -> Self {
        self.clients = clients;
        self.grants = grants;
        self
    }

    /// Turns on one embedded-metric-format line per request on stdout (the deployed function).
    pub fn with_metrics(mut self) -> Self {
        self.emit_metrics = true;
        self
    }

    pub fn emits_metrics(&self) -> bool {
        self.emit_metrics
    }

    /// Store requests this instance has sent so far.
    pub fn store_requests(&self) -> u64 {
        self.grants.requests_sent()
    }

    /// Handles one token request. Client authentication happens once, here, before any grant.
    pub async fn exchange(
        &self,
        request: TokenRequest,
        report: &mut Report,
    ) -> Result<TokenResponse, OAuthError> {
        let grant_type = match request.grant_type.as_deref() {
            None => return Err(OAuthError::invalid_request("grant_type is required")),
            Some(text) => GrantType::parse(text)
                .filter(|g| *g != GrantType::ClientCredentials || self.client_credentials)
                .ok_or(OAuthError::new(
                    super::error::ErrorCode::UnsupportedGrantType,
                    "this grant_type is not supported",
                ))?,
        };
        report.grant_type = Some(grant_type);
        report.client_id = request.client.as_ref().map(|c| c.id.clone());
        // The proof first: it is checked on its own, and a bad one spends nothing (not even a
        // client assertion).
        let proof = self.dpop_proof(&request)?;
        let client = self.authenticate(request.client.as_ref()).await?;
        if !client.may_use(grant_type) {
            return Err(OAuthError::new(
                super::error::ErrorCode::UnauthorizedClient,
                "this client may not use this grant type",
            ));
        }
        if proof.is_none() && self.requires_proof(&client) {
            return Err(OAuthError::invalid_dpop_proof(
                "this client's token requests need a DPoP proof",
            ));
        }
        let proof = proof.as_ref();
        match grant_type {
            GrantType::AuthorizationCode => {
                authorization_code::redeem(self, &client, &request, proof, report).await
            }
            GrantType::RefreshToken => {
                refresh::refresh(self, &client, &request, proof, report).await
            }
            GrantType::ClientCredentials => {
                client_credentials::issue(self, &client, &request, proof, report)
            }
        }
    }

    /// The request's DPoP proof, checked (RFC 9449 §4.3), where the service serves DPoP; a
    /// `DPoP` header sent to a service that does not is ignored, as any unknown header.
    fn dpop_proof(&self, request: &TokenRequest) -> Result<Option<Proof>, OAuthError> {
        let (Some(policy), Some(header)) = (&self.dpop, &request.dpop) else {
            return Ok(None);
        };
        let proof = header
            .as_deref()
            .map_err(|refusal| refused_proof(*refusal))?;
        let now = self.clock.now();
        let proof = dpop::verify(proof, &policy.rules, now).map_err(refused_proof)?;
        if policy.nonces {
            let keys = self.keys();
            let nonces = keys.token_keys(now).nonces();
            if !proof
                .nonce
                .as_deref()
                .is_some_and(|n| nonces.accepts(n, now))
            {
                // Nothing was read or written: the client retries with the nonce it is sent.
                return Err(OAuthError::new(
                    ErrorCode::UseDpopNonce,
                    "the DPoP proof needs the server's current nonce",
                ));
            }
        }
        Ok(Some(proof))
    }

    /// The current DPoP nonce, where nonces are required: sent on token answers.
    pub fn dpop_nonce(&self) -> Option<String> {
        self.dpop.as_ref().filter(|policy| policy.nonces)?;
        let now = self.clock.now();
        Some(self.keys().token_keys(now).nonces().current(now))
    }

    /// RFC 9449 §5.2: the client registered `dpop_bound_access_tokens`, or it is public and the
    /// service requires DPoP of every public client.
    fn requires_proof(&self, client: &Client) -> bool {
        self.dpop.as_ref().is_some_and(|policy| {
            client.dpop_bound_access_tokens || (client.public && policy.required_for_public_clients)
        })
    }

    /// Builds the 200 answer: a fresh access token for the grant beside the given refresh token,
    /// for the client's access-token lifetime, bound to the proof's key if there is one.
    pub(crate) fn respond(
        &self,
        grant: &GrantRecord,
        scope: String,
        refresh_token: Secret,
        lifetimes: &Lifetimes,
        proof: Option<&Proof>,
    ) -> Result<TokenResponse, OAuthError> {
        let holder = Holder::User {
            user_id: &grant.user_id,
            grant_id: &grant.grant_id,
        };
        let mut answer = self.sign(holder, &grant.client_id, scope, lifetimes, proof)?;
        answer.refresh_token = Some(refresh_token);
        Ok(answer)
    }

    /// A 200 answer with a fresh access token for `holder` and no refresh token, bound to the
    /// proof's key if there is one (`token_type` `DPoP`).
    pub(crate) fn sign(
        &self,
        holder: Holder<'_>,
        client_id: &str,
        scope: String,
        lifetimes: &Lifetimes,
        proof: Option<&Proof>,
    ) -> Result<TokenResponse, OAuthError> {
        let now = self.clock.now();
        let keys = self.keys();
        let lifetime = lifetimes.access_token;
        let jkt = proof.map(|p| p.jkt.as_str());
        let access_token = keys
            .signer(now)
            .sign_bound(holder, client_id, scope.clone(), now, lifetime, jkt)
            .map_err(|error| {
                tracing::error!(error = %error, "signing an access token failed");
                OAuthError::server_error()
            })?;
        Ok(TokenResponse {
            access_token: Secret::new(access_token),
            expires_in: lifetime,
            refresh_token: None,
            scope,
            token_type: if jkt.is_some() { "DPoP" } else { "Bearer" },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::store::memory::MemoryStore;

    /// A refused proof says which kind of fault it was: the client can tell a clock problem,
    /// a proof for another request and a repeated header from a bad proof.
    #[test]
    fn refused_proofs_say_what_kind_of_fault() {
        for (refusal, description) in [
            (ProofRefusal::Repeated, "send one DPoP proof"),
            (
                ProofRefusal::Time,
                "the DPoP proof is too old or from the future",
            ),
            (
                ProofRefusal::Target,
                "the DPoP proof is for another request",
            ),
            (
                ProofRefusal::Method,
                "the DPoP proof is for another request",
            ),
            (ProofRefusal::Signature, "the DPoP proof is invalid"),
        ] {
            let error = refused_proof(refusal);
            assert_eq!(error.code, ErrorCode::InvalidDpopProof);
            assert_eq!(error.description, description, "{refusal:?}");
        }
    }

    /// The metrics line is printed only by the deployed function, which asks for it; the
    /// embedded store's requests count as none.
    #[test]
    fn metrics_only_where_asked_for_and_no_requests_on_the_embedded_store() {
        let store = Arc::new(MemoryStore::new());
        let key = SigningKey::hs256("k", b"unit-test-signing-key-0123456789ab".to_vec());
        let token_keys = TokenKeys::new(vec![b"unit-test-grant-token-key-012345".to_vec()]);
        let service = TokenService::new(
            store.clone(),
            store,
            Arc::new(SystemClock),
            &[key],
            "https://issuer.test",
            token_keys,
            Lifetimes::default(),
        );
        assert!(!service.emits_metrics());
        assert_eq!(service.store_requests(), 0);
        assert!(service.with_metrics().emits_metrics());
    }
}

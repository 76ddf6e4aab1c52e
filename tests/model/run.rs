//! Drives histories through the real HTTP handler and checks, after every step, that the answer
//! is the model's and that the invariants hold:
//! - the store holds what the model says: one current refresh token per grant (and its
//!   predecessor, whose sealed successor is the current one), the generation, revocation;
//! - a revoked grant never becomes live again;
//! - a refresh token is handed out twice only as a grace retry of its own predecessor;
//! - no answer carries another client's token;
//! - forged and malformed tokens never change the store;
//! - on DynamoDB, each step costs the requests the model promises.

use super::backends::ModelBackend;
use super::ops::{history, Choice, Kind, Op, Pick, SendProof, SendVerifier};
use super::{
    lifetimes, Answer, Caller, Fault, KeyOwner, Model, ProofId, Redirect, TokenId, Verifier,
    LIFETIMES, OTHER_APP_OWN,
};
use crate::support::dpop::DpopKey;
use crate::support::*;
use base64::Engine;
use chatroom_token::clock::Clock;
use chatroom_token::crypto::grant_token::{GrantId, TokenHash, TokenKeys, TokenKind};
use chatroom_token::domain::access_token::{AccessTokenSigner, Holder};
use chatroom_token::domain::client_assertion::ASSERTION_TYPE;
use chatroom_token::domain::code_issuer::{issue_code, CodeRequest, IssueCodeError};
use chatroom_token::domain::model::{Client, GrantRecord, GrantType};
use chatroom_token::domain::pkce::{ChallengeMethod, CodeChallenge};
use chatroom_token::domain::scope::Scope;
use proptest::strategy::Strategy;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngSeed, TestCaseError, TestError, TestRunner,
};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};

/// A token handed out, and what the model says it is.
#[derive(Clone, Debug)]
pub struct Held {
    pub text: String,
    pub id: TokenId,
}

/// An HTTP request ready to send, and the model's side of it.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub path: &'static str,
    pub params: Vec<(&'static str, String)>,
    pub caller: Caller,
    pub call: Call,
    pub fault: Fault,
    /// The token presented is none we minted.
    pub forged: bool,
}

/// The model's view of an HTTP request.
#[derive(Clone, Debug)]
pub enum Call {
    Redeem {
        code: TokenId,
        redirect: Redirect,
        verifier: Verifier,
        proof: Option<SentProof>,
    },
    Refresh {
        token: TokenId,
        scope: Option<Vec<&'static str>>,
        proof: Option<SentProof>,
    },
    Revoke {
        token: TokenId,
    },
    Introspect {
        token: TokenId,
    },
    ClientToken {
        scope: Option<Vec<&'static str>>,
    },
    /// A client credentials request of the backend with an assertion made at this time and
    /// already spent.
    ReplayedAssertion {
        made_at: i64,
    },
}

/// A DPoP proof sent: what it is to the model, and its text (the `DPoP` header).
#[derive(Clone, Debug)]
pub struct SentProof {
    pub id: ProofId,
    pub text: String,
}

impl Prepared {
    pub fn request(&self) -> lambda_http::Request {
        let params: Vec<(&str, &str)> = self.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut request = form_request_to(self.path, &params);
        if let Some(proof) = self.proof() {
            let header = proof.text.parse().expect("a proof is a header value");
            request.headers_mut().append("dpop", header);
        }
        request
    }

    fn proof(&self) -> Option<&SentProof> {
        match &self.call {
            Call::Redeem { proof, .. } | Call::Refresh { proof, .. } => proof.as_ref(),
            _ => None,
        }
    }

    /// What the model answers to this request in this state (and the state it leaves).
    pub fn apply(&self, model: &mut Model) -> super::Step {
        match &self.call {
            Call::Redeem {
                code,
                redirect,
                verifier,
                proof,
            } => {
                let proof = proof.as_ref().map(|p| p.id);
                model.redeem(self.caller, *code, *redirect, *verifier, proof, self.fault)
            }
            Call::Refresh {
                token,
                scope,
                proof,
            } => {
                let proof = proof.as_ref().map(|p| p.id);
                model.refresh(self.caller, *token, scope.clone(), proof, self.fault)
            }
            Call::Revoke { token } => model.revoke(self.caller, *token, self.fault),
            Call::Introspect { token } => model.introspect(self.caller, *token),
            Call::ClientToken { scope } => model.client_token(self.caller, scope.clone()),
            Call::ReplayedAssertion { made_at } => model.replayed_assertion(*made_at),
        }
    }
}

pub fn credentials(caller: Caller) -> (&'static str, &'static str) {
    match caller {
        Caller::App => (CLIENT_ID, CLIENT_SECRET),
        Caller::OtherApp => (OTHER_CLIENT_ID, OTHER_SECRET),
        // Registered with keys: its requests carry an assertion instead (`client_params`).
        Caller::Backend => (BACKEND_ID, ""),
        // A public client has no secret: it sends its id alone.
        Caller::NativeApp => (PUBLIC_ID, ""),
        Caller::ResourceServer => (RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET),
    }
}

/// How the model's harness registers a client (never the resource server, which stays).
fn registration(caller: Caller, enabled: bool, at: i64) -> Client {
    let (id, secret) = credentials(caller);
    let grant_types = match caller {
        Caller::Backend => vec![GrantType::ClientCredentials],
        _ => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
    };
    let mut registered = client(id, secret, enabled, &grant_types, at);
    match caller {
        Caller::OtherApp => registered.lifetimes = OTHER_APP_OWN,
        Caller::NativeApp => registered.public = true,
        Caller::Backend => registered.assertion_keys = Some(assertions::keyed_jwks()),
        _ => {}
    }
    registered
}

/// A fresh assertion of the backend for the token endpoint, made at `now`.
fn backend_assertion(now: i64) -> String {
    let token_url = format!("{ISSUER}/chatroom/api/token");
    assertions::Signer::Ec.sign(&assertions::assertion_claims(BACKEND_ID, &token_url, now))
}

/// The client authentication parameters of a request: a secret, an id alone (the public app),
/// or a fresh assertion (the backend).
fn client_params(caller: Caller, now: i64) -> Vec<(&'static str, String)> {
    if caller == Caller::Backend {
        return assertion_params(backend_assertion(now));
    }
    let (id, secret) = credentials(caller);
    let mut params = vec![("client_id", id.to_owned())];
    if !secret.is_empty() {
        params.push(("client_secret", secret.to_owned()));
    }
    params
}

fn assertion_params(assertion: String) -> Vec<(&'static str, String)> {
    vec![
        ("client_assertion_type", ASSERTION_TYPE.to_owned()),
        ("client_assertion", assertion),
    ]
}

fn words(scope: &str) -> Vec<String> {
    let mut words: Vec<String> = scope.split(' ').map(str::to_owned).collect();
    words.sort();
    words
}

fn sorted(scope: &[&'static str]) -> Vec<String> {
    words(&scope.join(" "))
}

/// Access tokens signed with a key the service does not hold (under a `kid` it knows).
fn another_signer() -> AccessTokenSigner {
    let key = chatroom_token::domain::access_token::SigningKey::hs256(
        "test-1",
        b"someone-elses-signing-key-0123456789".to_vec(),
    );
    AccessTokenSigner::new(&key, ISSUER.into(), LIFETIMES.access_token)
}

/// Tokens under keys the service does not hold.
fn other_token_keys() -> TokenKeys {
    TokenKeys::new(vec![b"another-grant-token-key-0123456789".to_vec()])
}

/// One character changed, in the middle (where every bit of a character counts).
fn tamper(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The claims of a JWT, unverified (the service verified them; this reads what it said).
pub fn jwt_claims(token: &str) -> Result<serde_json::Value, String> {
    let payload = token.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

fn hash_of(text: &str) -> TokenHash {
    token_keys()
        .open(TokenKind::Refresh, text)
        .expect("a refresh token we hold opens")
        .hash
}

/// A harness, the model beside it, and the tokens handed out so far.
pub struct World<'b, B: ModelBackend> {
    pub backend: &'b B,
    pub h: Harness,
    pub model: Model,
    pub grant_ids: Vec<GrantId>,
    pub codes: Vec<Held>,
    /// Distinct refresh tokens, in the order first handed out.
    pub refresh: Vec<Held>,
    pub access: Vec<Held>,
    /// Every refresh token handed out, by (grant, generation).
    pub handed_out: HashMap<(usize, u32), String>,
    /// Grants the store has shown revoked.
    pub revoked_seen: Vec<bool>,
    /// The backend's last assertion that authenticated (so was spent), and when it was made.
    pub spent_assertion: Option<(String, i64)>,
    /// The native app's DPoP key, and a thief's.
    pub app_key: DpopKey,
    pub thief_key: DpopKey,
    /// Proofs made so far (each gets its own `jti`), and the last one sent.
    pub proofs_made: AtomicU32,
    pub last_sent_proof: Option<SentProof>,
}

impl<'b, B: ModelBackend> World<'b, B> {
    pub async fn new(backend: &'b B) -> Self {
        let served = Served {
            client_credentials: true,
            public_clients: true,
            private_key_jwt: true,
            dpop: Some(dpop_policy(false)),
        };
        let h = Harness::serving(backend, LIFETIMES, served).await;
        for caller in [Caller::OtherApp, Caller::NativeApp, Caller::Backend] {
            h.put(&registration(caller, true, h.start)).await;
        }
        let model = Model::new(h.clock.now());
        Self {
            backend,
            h,
            model,
            grant_ids: Vec::new(),
            codes: Vec::new(),
            refresh: Vec::new(),
            access: Vec::new(),
            handed_out: HashMap::new(),
            revoked_seen: Vec::new(),
            spent_assertion: None,
            app_key: DpopKey::new(),
            thief_key: DpopKey::new(),
            proofs_made: AtomicU32::new(0),
            last_sent_proof: None,
        }
    }

    /// Runs one step and checks its answer and every invariant.
    pub async fn step(&mut self, op: &Op) -> Result<(), String> {
        let answered = match op {
            Op::IssueCode {
                client,
                narrow,
                pkce,
                bind,
            } => self.issue_code(*client, *narrow, *pkce, *bind).await,
            Op::Advance(seconds) => {
                self.model.advance(*seconds);
                self.h.clock.advance(*seconds);
                Ok(())
            }
            Op::SetEnabled { client, enabled } => {
                self.model.set_enabled(*client, *enabled);
                self.h
                    .put(&registration(*client, *enabled, self.h.start))
                    .await;
                Ok(())
            }
            _ => match self.prepare(op) {
                Some(prepared) => self.call(&prepared).await,
                None => Ok(()), // no token of that kind handed out yet: nothing to do
            },
        };
        answered?;
        self.check_store(&self.model.clone()).await
    }

    async fn issue_code(
        &mut self,
        client: Caller,
        narrow: bool,
        pkce: bool,
        bind: bool,
    ) -> Result<(), String> {
        let scope: Vec<&'static str> = if narrow {
            vec!["chat_read"]
        } else {
            vec!["chat_read", "user_info_read"]
        };
        let expected = self.model.issue_code(client, scope.clone(), pkce, bind);
        let request = CodeRequest {
            dpop_jkt: bind.then(|| self.app_key.jkt()),
            client_id: credentials(client).0.into(),
            user_id: USER_ID.into(),
            scope: Scope::parse(&scope.join(" ")).unwrap(),
            redirect_uri: Some(REDIRECT_URI.into()),
            challenge: pkce.then(|| CodeChallenge {
                method: ChallengeMethod::S256,
                value: S256_CHALLENGE.into(),
            }),
        };
        let before = self.h.service.store_requests();
        let issued = issue_code(
            self.h.clients.as_ref(),
            self.h.grants.as_ref(),
            &token_keys(),
            &request,
            self.h.clock.now(),
            LIFETIMES.code,
        )
        .await;
        self.check_requests(before, expected.requests)?;
        match (expected.answer, issued) {
            (Answer::CodeIssued { grant }, Ok(issued)) => {
                self.grant_ids.push(issued.grant_id);
                self.revoked_seen.push(false);
                self.codes.push(Held {
                    text: issued.code.expose().to_owned(),
                    id: TokenId::Code { grant },
                });
                Ok(())
            }
            (
                Answer::CodeRefused,
                Err(IssueCodeError::ClientDisabled | IssueCodeError::ChallengeNotAllowed),
            ) => Ok(()),
            (expected, issued) => Err(format!(
                "issuing a code: expected {expected:?}, got {:?}",
                issued.map(|i| i.grant_id)
            )),
        }
    }

    /// Turns an HTTP operation into its request, or `None` if it picks a token not there yet.
    pub fn prepare(&self, op: &Op) -> Option<Prepared> {
        let client = |caller: Caller| client_params(caller, self.h.clock.now());
        let prepared = match op {
            Op::Redeem {
                caller,
                code,
                redirect,
                verifier,
                proof,
                fault,
            } => {
                let (text, id) = self.resolve(*code)?;
                let has_challenge =
                    matches!(id, TokenId::Code { grant } if self.model.grants[grant].pkce);
                let verifier = match verifier {
                    SendVerifier::Proper if has_challenge => Verifier::Right,
                    SendVerifier::Proper | SendVerifier::Missing => Verifier::Missing,
                    SendVerifier::Wrong => Verifier::Wrong,
                };
                let mut params = vec![("grant_type", "authorization_code".to_owned())];
                params.extend(client(*caller));
                params.push(("code", text));
                match redirect {
                    Redirect::Right => params.push(("redirect_uri", REDIRECT_URI.into())),
                    Redirect::Wrong => {
                        params.push(("redirect_uri", "https://app.example/elsewhere".into()))
                    }
                    Redirect::Missing => {}
                }
                match verifier {
                    Verifier::Right => params.push(("code_verifier", VERIFIER.into())),
                    Verifier::Wrong => params.push(("code_verifier", "w".repeat(43))),
                    Verifier::Missing => {}
                }
                Prepared {
                    path: "/chatroom/api/token",
                    params,
                    caller: *caller,
                    call: Call::Redeem {
                        code: id,
                        redirect: *redirect,
                        verifier,
                        proof: self.proof(*proof),
                    },
                    fault: *fault,
                    forged: id == TokenId::Forged,
                }
            }
            Op::Refresh {
                caller,
                token,
                scope,
                proof,
                fault,
            } => {
                let (text, id) = self.resolve(*token)?;
                let mut params = vec![("grant_type", "refresh_token".to_owned())];
                params.extend(client(*caller));
                params.push(("refresh_token", text));
                if let Some(scope) = scope {
                    params.push(("scope", (*scope).to_owned()));
                }
                Prepared {
                    path: "/chatroom/api/token",
                    params,
                    caller: *caller,
                    call: Call::Refresh {
                        token: id,
                        scope: scope.map(|s| s.split(' ').collect()),
                        proof: self.proof(*proof),
                    },
                    fault: *fault,
                    forged: id == TokenId::Forged,
                }
            }
            Op::Revoke {
                caller,
                token,
                fault,
            } => {
                let (text, id) = self.resolve(*token)?;
                let mut params = client(*caller);
                params.push(("token", text));
                Prepared {
                    path: REVOKE_PATH,
                    params,
                    caller: *caller,
                    call: Call::Revoke { token: id },
                    fault: *fault,
                    forged: id == TokenId::Forged,
                }
            }
            Op::Introspect { caller, token } => {
                let (text, id) = self.resolve(*token)?;
                let mut params = client(*caller);
                params.push(("token", text));
                Prepared {
                    path: INTROSPECT_PATH,
                    params,
                    caller: *caller,
                    call: Call::Introspect { token: id },
                    fault: Fault::None,
                    forged: id == TokenId::Forged,
                }
            }
            Op::ClientToken { caller, scope } => {
                let mut params = vec![("grant_type", "client_credentials".to_owned())];
                params.extend(client(*caller));
                if let Some(scope) = scope {
                    params.push(("scope", (*scope).to_owned()));
                }
                Prepared {
                    path: "/chatroom/api/token",
                    params,
                    caller: *caller,
                    call: Call::ClientToken {
                        scope: scope.map(|s| s.split(' ').collect()),
                    },
                    fault: Fault::None,
                    forged: false,
                }
            }
            Op::ReplayAssertion => {
                let (assertion, made_at) = self.spent_assertion.clone()?;
                let mut params = vec![("grant_type", "client_credentials".to_owned())];
                params.extend(assertion_params(assertion));
                Prepared {
                    path: "/chatroom/api/token",
                    params,
                    caller: Caller::Backend,
                    call: Call::ReplayedAssertion { made_at },
                    fault: Fault::None,
                    forged: true,
                }
            }
            Op::IssueCode { .. } | Op::Advance(_) | Op::SetEnabled { .. } => return None,
        };
        Some(prepared)
    }

    /// The DPoP proof a request sends: a fresh one (a new `jti`) made now with the app's or the
    /// thief's key, or a copy of the last one sent.
    fn proof(&self, choice: SendProof) -> Option<SentProof> {
        let key = match choice {
            SendProof::None => return None,
            SendProof::Replay => return self.last_sent_proof.clone(),
            SendProof::AppKey => KeyOwner::App,
            SendProof::ThiefKey => KeyOwner::Thief,
        };
        let now = self.h.clock.now();
        let n = self.proofs_made.fetch_add(1, Ordering::Relaxed);
        let claims = serde_json::json!({
            "jti": format!("model-proof-{n}"),
            "htm": "POST",
            "htu": crate::support::dpop::TOKEN_URL,
            "iat": now,
        });
        Some(SentProof {
            id: ProofId { key, iat: now, n },
            text: self.dpop_key(key).proof_with(&claims),
        })
    }

    fn dpop_key(&self, owner: KeyOwner) -> &DpopKey {
        match owner {
            KeyOwner::App => &self.app_key,
            KeyOwner::Thief => &self.thief_key,
        }
    }

    /// The token a pick names, and what it is.
    fn resolve(&self, pick: Pick) -> Option<(String, TokenId)> {
        let held = match pick.kind {
            Kind::Code => &self.codes,
            Kind::Refresh => &self.refresh,
            Kind::Access => &self.access,
        };
        let nth =
            |n: usize| (!held.is_empty()).then(|| held[held.len() - 1 - n % held.len()].clone());
        Some(match pick.choice {
            Choice::Recent(n) => {
                let held = nth(n)?;
                (held.text, held.id)
            }
            Choice::Tampered(n) => (tamper(&nth(n)?.text), TokenId::Forged),
            Choice::OtherKey(n) => {
                let forged = match nth(n)?.id {
                    TokenId::Code { grant } => other_token_keys()
                        .mint(TokenKind::Code, self.grant_ids[grant], 0)
                        .text()
                        .expose()
                        .to_owned(),
                    TokenId::Refresh { grant, generation } => other_token_keys()
                        .mint(TokenKind::Refresh, self.grant_ids[grant], generation)
                        .text()
                        .expose()
                        .to_owned(),
                    TokenId::Access { grant, .. } => self.access_token_under_another_key(grant),
                    TokenId::ClientAccess { .. } => another_signer()
                        .sign_for(
                            Holder::Client,
                            BACKEND_ID,
                            "chat_read".into(),
                            self.model.now,
                            LIFETIMES.access_token,
                        )
                        .unwrap(),
                    TokenId::Forged => "forged".to_owned(),
                };
                (forged, TokenId::Forged)
            }
            Choice::Garbage => match pick.kind {
                Kind::Access => (
                    "eyJhbGciOiJIUzI1NiJ9.e30.garbage".to_owned(),
                    TokenId::Forged,
                ),
                _ => ("not-a-token".to_owned(), TokenId::Forged),
            },
        })
    }

    fn access_token_under_another_key(&self, grant: usize) -> String {
        let (client_id, _) = credentials(self.model.grants[grant].client);
        another_signer()
            .sign(
                USER_ID,
                client_id,
                "chat_read".into(),
                &self.grant_ids[grant],
                self.model.now,
            )
            .unwrap()
    }

    /// Sends one request under its fault; checks the answer, its cost, and that a forged token
    /// changed nothing.
    pub async fn call(&mut self, prepared: &Prepared) -> Result<(), String> {
        let expected = prepared.apply(&mut self.model);
        let records_before = self.records().await;
        let before = self.h.service.store_requests();
        self.backend.arm(prepared.fault);
        let reply = self.h.call(prepared.request()).await;
        self.backend.disarm();
        self.check_requests(before, expected.requests)?;
        self.verify(&expected.answer, &reply, prepared.caller)
            .map_err(|why| {
                format!(
                    "{why}\n  model: {:?}\n  reply: {} {}",
                    expected.answer, reply.status, reply.raw
                )
            })?;
        self.record(&expected.answer, &reply, prepared)?;
        if let Some(proof) = prepared.proof() {
            self.last_sent_proof = Some(proof.clone());
        }
        // The backend's assertion is spent once it authenticates: the model then counts the
        // put beside the client read (a request refused before, for a stale DPoP proof or a
        // disabled backend, spends nothing).
        if prepared.caller == Caller::Backend && expected.requests >= 2 {
            let assertion = prepared
                .params
                .iter()
                .find(|(name, _)| *name == "client_assertion")
                .map(|(_, value)| value.clone());
            self.spent_assertion = assertion.map(|a| (a, self.model.now));
        }
        if prepared.forged && self.records().await != records_before {
            return Err("a forged or malformed token changed the store".into());
        }
        Ok(())
    }

    fn check_requests(&self, before: u64, promised: u32) -> Result<(), String> {
        let sent = self.h.service.store_requests() - before;
        if self.backend.counts_requests() && sent != u64::from(promised) {
            return Err(format!(
                "sent {sent} store requests, the model promises {promised}"
            ));
        }
        Ok(())
    }

    /// Whether a reply is the answer the model expects (tokens compared by what they are).
    pub fn verify(&self, expected: &Answer, reply: &Reply, caller: Caller) -> Result<(), String> {
        match expected {
            Answer::Tokens {
                grant,
                generation,
                scope,
                bound,
            } => {
                if reply.status != 200 {
                    return Err("expected tokens".into());
                }
                let expected_type = if bound.is_some() { "DPoP" } else { "Bearer" };
                let jkt = bound.map(|key| self.dpop_key(key).jkt());
                let cnf = jwt_claims(&reply.access_token())?["cnf"]["jkt"].clone();
                if reply.body["token_type"] != expected_type || cnf != serde_json::json!(jkt) {
                    return Err(format!(
                        "the access token's binding is not the model's ({bound:?}): {cnf}"
                    ));
                }
                let refresh = token_keys()
                    .open(TokenKind::Refresh, &reply.refresh_token())
                    .ok_or("the refresh token does not open")?;
                if refresh.grant_id != self.grant_ids[*grant] || refresh.generation != *generation {
                    return Err(format!(
                        "the refresh token is of generation {} of {:?}",
                        refresh.generation, refresh.grant_id
                    ));
                }
                if words(&reply.scope()) != sorted(scope) {
                    return Err("the scope is not the model's".into());
                }
                let claims = jwt_claims(&reply.access_token())?;
                let (client_id, _) = credentials(caller);
                let as_expected = claims["client_id"] == client_id
                    && claims["aud"] == serde_json::json!([client_id])
                    && claims["sub"] == USER_ID
                    && claims["gid"] == self.grant_ids[*grant].to_string()
                    && claims["exp"] == self.model.now + lifetimes(caller).access_token
                    && claims["scope"].as_str().map(words) == Some(sorted(scope));
                if !as_expected {
                    return Err(format!(
                        "the access token's claims are not the model's: {claims}"
                    ));
                }
                Ok(())
            }
            Answer::Error(code) => {
                if reply.status == code.status() && reply.body["error"] == code.as_str() {
                    Ok(())
                } else {
                    Err(format!("expected {}", code.as_str()))
                }
            }
            Answer::ClientToken { scope } => {
                if reply.status != 200 || reply.body.get("refresh_token").is_some() {
                    return Err("expected an access token and no refresh token".into());
                }
                if words(&reply.scope()) != sorted(scope) {
                    return Err("the scope is not the model's".into());
                }
                let claims = jwt_claims(&reply.access_token())?;
                let as_expected = claims["client_id"] == BACKEND_ID
                    && claims["sub"] == BACKEND_ID
                    && claims["aud"] == serde_json::json!([BACKEND_ID])
                    && claims.get("gid").is_none()
                    && claims["exp"] == self.model.now + LIFETIMES.access_token
                    && claims["scope"].as_str().map(words) == Some(sorted(scope))
                    && reply.body["expires_in"] == LIFETIMES.access_token;
                if !as_expected {
                    return Err(format!(
                        "the client token's claims are not the model's: {claims}"
                    ));
                }
                Ok(())
            }
            Answer::Revoked => {
                if reply.status == 200 && reply.raw.is_empty() {
                    Ok(())
                } else {
                    Err("expected revocation's empty 200".into())
                }
            }
            Answer::Active(active) => {
                if reply.status == 200 && reply.body["active"] == *active {
                    Ok(())
                } else {
                    Err(format!("expected active: {active}"))
                }
            }
            Answer::CodeIssued { .. } | Answer::CodeRefused => Err("not an HTTP answer".into()),
        }
    }

    /// Keeps the tokens of a verified answer, checking that a refresh token is handed out again
    /// only as a grace retry of its own predecessor, and that no answer carries another
    /// client's token.
    pub fn record(
        &mut self,
        expected: &Answer,
        reply: &Reply,
        prepared: &Prepared,
    ) -> Result<(), String> {
        if let Answer::ClientToken { .. } = expected {
            self.access.push(Held {
                text: reply.access_token(),
                id: TokenId::ClientAccess {
                    expires_at: self.model.now + LIFETIMES.access_token,
                },
            });
            return Ok(());
        }
        let Answer::Tokens {
            grant, generation, ..
        } = *expected
        else {
            return Ok(());
        };
        if self.model.grants[grant].client != prepared.caller {
            return Err("an answer carries another client's token".into());
        }
        let text = reply.refresh_token();
        match self.handed_out.get(&(grant, generation)) {
            Some(earlier) if *earlier != text => {
                return Err(format!(
                    "two different refresh tokens for generation {generation} of grant {grant}"
                ))
            }
            Some(_) => {
                let retry_of_predecessor = matches!(
                    prepared.call,
                    Call::Refresh { token: TokenId::Refresh { grant: g, generation: p }, .. }
                        if g == grant && p + 1 == generation
                );
                if !retry_of_predecessor {
                    return Err(format!(
                        "refresh token {generation} of grant {grant} handed out again, \
                         not as a grace retry of its predecessor"
                    ));
                }
            }
            None => {
                self.handed_out.insert((grant, generation), text.clone());
                self.refresh.push(Held {
                    text,
                    id: TokenId::Refresh { grant, generation },
                });
            }
        }
        self.access.push(Held {
            text: reply.access_token(),
            id: TokenId::Access {
                grant,
                expires_at: self.model.now + lifetimes(prepared.caller).access_token,
            },
        });
        Ok(())
    }

    /// Every grant's record as the store holds it.
    pub async fn records(&self) -> Vec<Option<GrantRecord>> {
        let mut records = Vec::new();
        for id in &self.grant_ids {
            records.push(self.h.grants.find_grant(id).await.expect("reading a grant"));
        }
        records
    }

    /// The store holds what `model` says, and no revoked grant came back.
    pub async fn check_store(&mut self, model: &Model) -> Result<(), String> {
        let records = self.records().await;
        for (g, (record, grant)) in records.iter().zip(&model.grants).enumerate() {
            let record = record.as_ref().ok_or(format!("grant {g} is missing"))?;
            let revoked = record.revoked_at.is_some();
            if self.revoked_seen[g] && !revoked {
                return Err(format!("revoked grant {g} became live again"));
            }
            self.revoked_seen[g] |= revoked;
            if revoked != grant.revoked {
                return Err(format!(
                    "grant {g}: revoked is {revoked}, the model says {}",
                    grant.revoked
                ));
            }
            if record.client_id != credentials(grant.client).0 {
                return Err(format!("grant {g} belongs to another client"));
            }
            if record.redeemed_at != grant.redeemed_at {
                return Err(format!(
                    "grant {g}: redeemed at {:?}, the model says {:?}",
                    record.redeemed_at, grant.redeemed_at
                ));
            }
            if grant.redeemed_at.is_none() {
                continue;
            }
            let current = self.handed_out.get(&(g, grant.generation));
            let previous = grant
                .generation
                .checked_sub(1)
                .and_then(|p| self.handed_out.get(&(g, p)));
            let holds = |hash: Option<TokenHash>, text: Option<&String>| match (hash, text) {
                (Some(hash), Some(text)) => hash.matches(&hash_of(text)),
                (None, None) => true,
                _ => false,
            };
            if record.generation != grant.generation
                || record.rotated_at != Some(grant.rotated_at)
                || !holds(record.refresh_hash, current)
                || !holds(record.previous_hash, previous)
            {
                return Err(format!(
                    "grant {g}: the store's refresh chain (generation {}, rotated at {:?}) is not \
                     the model's (generation {}, rotated at {})",
                    record.generation, record.rotated_at, grant.generation, grant.rotated_at
                ));
            }
        }
        Ok(())
    }
}

/// Runs one history from a fresh store; the error names the failing step.
pub async fn run_history<B: ModelBackend>(backend: &B, ops: &[Op]) -> Result<(), String> {
    let mut world = World::new(backend).await;
    for (i, op) in ops.iter().enumerate() {
        world
            .step(op)
            .await
            .map_err(|why| format!("step {i} ({op:?}): {why}"))?;
    }
    Ok(())
}

/// How many cases a property runs: `PROPTEST_CASES`, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs a property over random values with proptest: a seed from `PROPTEST_RNG_SEED` or a
/// random one, failures shrunk, saved beside `source_file` (replayed first by every later run)
/// and reported with the command that reproduces them.
pub fn check<S: Strategy>(
    name: &str,
    source_file: &'static str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), String>,
) where
    S::Value: std::fmt::Debug,
{
    let mut config = Config {
        cases: cases(default_cases),
        source_file: Some(source_file),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let seed = match config.rng_seed {
        RngSeed::Fixed(seed) => seed,
        RngSeed::Random => std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish(),
    };
    config.rng_seed = RngSeed::Fixed(seed);
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, |value| test(value).map_err(TestCaseError::fail)) {
        Ok(()) => {}
        Err(TestError::Fail(why, minimal)) => panic!(
            "{name}: the service does not behave as the model says.\n{why}\n\
             minimal failing case:\n{minimal:#?}\n\
             reproduce: PROPTEST_RNG_SEED={seed} bash .ci/model {cases} {name}\n\
             (proptest also saved the case in {saved}, which every run replays first; a race \
             depends on timing too, so one may need a few runs)",
            saved = std::path::Path::new(source_file)
                .with_extension("proptest-regressions")
                .display(),
        ),
        Err(TestError::Abort(why)) => panic!("{name}: aborted: {why}"),
    }
}

/// The sequential property on one backend: random histories, every answer the model's.
pub fn histories_follow_the_model<B: ModelBackend + Default>(
    source_file: &'static str,
    default_cases: u32,
    max_steps: usize,
) {
    let runtime = runtime();
    check(
        "histories_follow_the_model",
        source_file,
        default_cases,
        history(max_steps),
        |ops| {
            runtime.block_on(async {
                let backend = B::default();
                let result = run_history(&backend, &ops).await;
                backend.cleanup().await;
                result
            })
        },
    );
}

/// The runtime a property's cases run on: two workers, as the suites' tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

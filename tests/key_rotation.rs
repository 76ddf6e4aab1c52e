//! Key changes reach every serving instance: a rotation carried out step by step across two
//! instances whose copies of the keys secret differ (one stale), an emergency removal seen by a
//! warm instance within the bound, and a failed re-read that keeps the keys it has. The secret
//! lives in moto's Secrets Manager; time is the instances' shared manual clock.

mod support;

use chatroom_token::app::start_with;
use chatroom_token::aws::Aws;
use chatroom_token::clock::{Clock, ManualClock, SystemClock};
use chatroom_token::crypto::grant_token::{GrantId, TokenKeys, TokenKind};
use chatroom_token::domain::code_issuer::{issue_code, CodeRequest};
use chatroom_token::domain::live_keys::RETRY_SECONDS;
use chatroom_token::domain::model::{Client, GrantType, SecretHash};
use chatroom_token::domain::pkce::PkcePolicy;
use chatroom_token::domain::port::ClientRegistry;
use chatroom_token::domain::scope::Scope;
use chatroom_token::domain::service::TokenService;
use chatroom_token::http::handle;
use chatroom_token::store::memory::MemoryStore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use support::backends::{endpoint, function_sdk_config, unique_table_name};
use support::{form_request, form_request_to, Reply, INTROSPECT_PATH, REVOKE_PATH};

const BOUND: i64 = 300;
const ISSUER: &str = "https://auth.example";
const CLIENT: &str = "000000";
const SECRET: &str = "999999";
const SERVER: &str = "api-server";
const SERVER_SECRET: &str = "api-server-secret";

const S1: &str = "s1-signing-key-from-the-secret-000000001";
const S2: &str = "s2-signing-key-from-the-secret-000000002";
const G1: &str = "g1-grant-token-key-from-the-secret-00001";
const G2: &str = "g2-grant-token-key-from-the-secret-00002";

fn active(kid: &str, key: &str) -> Value {
    json!({"kid": kid, "key": key, "state": "active"})
}

fn active_from(kid: &str, key: &str, from: i64) -> Value {
    json!({"kid": kid, "key": key, "state": "active", "active_from": from})
}

fn secret_value(signing: &[Value], grant: &[Value]) -> String {
    json!({"signing_keys": signing, "grant_token_keys": grant}).to_string()
}

/// Moto's Secrets Manager, one secret per test, and a shared store and clock for the instances.
struct Fleet {
    aws: Aws,
    arn: String,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
}

impl Fleet {
    async fn new(signing: &[Value], grant: &[Value]) -> Self {
        let aws = Aws::with(function_sdk_config(&endpoint()).await);
        let arn = secrets(&aws)
            .await
            .create_secret()
            .name(unique_table_name())
            .secret_string(secret_value(signing, grant))
            .send()
            .await
            .unwrap()
            .arn
            .unwrap();
        let store = Arc::new(MemoryStore::new());
        let scope = Scope::parse("user_info_read").unwrap();
        for (id, secret, grant_types, may_introspect) in [
            (
                CLIENT,
                SECRET,
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                false,
            ),
            (SERVER, SERVER_SECRET, vec![], true),
        ] {
            store
                .put_client(&Client {
                    id: id.into(),
                    name: id.into(),
                    secret_hash: SecretHash::of(secret),
                    scope: scope.clone(),
                    redirect_uris: vec![],
                    grant_types,
                    enabled: true,
                    may_introspect,
                    assertion_keys: None,
                    dpop_bound_access_tokens: false,
                    // The codes here are issued without a challenge.
                    pkce: PkcePolicy::Optional,
                    previous_secret: None,
                    public: false,
                    lifetimes: Default::default(),
                    created_at: 0,
                })
                .await
                .unwrap();
        }
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        Self {
            aws,
            arn,
            store,
            clock,
        }
    }

    /// The operator writes a new version of the secret.
    async fn put(&self, signing: &[Value], grant: &[Value]) {
        secrets(&self.aws)
            .await
            .put_secret_value()
            .secret_id(&self.arn)
            .secret_string(secret_value(signing, grant))
            .send()
            .await
            .unwrap();
    }

    /// A new instance: it reads the secret now, and again whenever its copy is due.
    async fn start_instance(&self) -> Instance {
        self.start_instance_with(&[]).await
    }

    /// A new instance that believes it runs on AWS (Lambda's reserved variables are set), so
    /// the start refuses published keys and local-only settings, and every re-read is checked
    /// the same way.
    async fn start_aws_instance(&self) -> Instance {
        self.start_instance_with(&[
            ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
            ("TOKEN_STORE", "dynamodb".to_owned()),
            ("TABLE_NAME", unique_table_name()),
        ])
        .await
    }

    /// An instance started as the function starts, from the keys secret and these variables
    /// besides; its stores are the fleet's.
    async fn start_instance_with(&self, variables: &[(&'static str, String)]) -> Instance {
        let mut env = HashMap::from([
            ("KEYS_SECRET_ARN", self.arn.clone()),
            ("ISSUER", ISSUER.to_owned()),
            ("KEYS_REFRESH_SECONDS", BOUND.to_string()),
        ]);
        env.extend(variables.iter().cloned());
        let names: Vec<String> = env.keys().map(|name| (*name).to_owned()).collect();
        let clock: Arc<dyn Clock> = self.clock.clone();
        let lookup = |name: &str| env.get(name).cloned();
        let service = start_with(lookup, names.into_iter(), &self.aws, clock)
            .await
            .unwrap()
            .with_stores(self.store.clone(), self.store.clone());
        Instance {
            service,
            store: self.store.clone(),
            clock: self.clock.clone(),
        }
    }

    fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }
}

async fn secrets(aws: &Aws) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(aws.config().await)
}

struct Instance {
    service: TokenService,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
}

impl Instance {
    async fn call(&self, request: lambda_http::Request) -> Reply {
        Reply::from(handle(&self.service, request).await)
    }

    /// The key that tags this instance's new grant tokens now, told by which key opens one.
    fn tagging_key(&self) -> &'static str {
        let now = self.clock.now();
        let token =
            self.service
                .keys()
                .token_keys(now)
                .mint(TokenKind::Refresh, GrantId::random(), 0);
        let opens = |key: &str| {
            TokenKeys::new(vec![key.as_bytes().to_vec()])
                .open(TokenKind::Refresh, token.text().expose())
                .is_some()
        };
        match (opens(G1), opens(G2)) {
            (true, false) => "g1",
            (false, true) => "g2",
            _ => panic!("tagged by neither key"),
        }
    }

    /// A new grant through this instance: a code issued with its keys, redeemed here; its
    /// first refresh token.
    async fn grant(&self) -> String {
        let now = self.clock.now();
        let request = CodeRequest {
            dpop_jkt: None,
            client_id: CLIENT.into(),
            user_id: "8836257".into(),
            scope: Scope::parse("user_info_read").unwrap(),
            redirect_uri: None,
            challenge: None,
        };
        let code = issue_code(
            self.store.as_ref(),
            self.store.as_ref(),
            self.service.keys().token_keys(now),
            &request,
            now,
            600,
        )
        .await
        .unwrap()
        .code;
        let reply = self
            .call(form_request(&[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("code", code.expose()),
            ]))
            .await;
        reply.assert_ok();
        reply.refresh_token()
    }

    async fn refresh(&self, token: &str) -> Reply {
        self.call(form_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("refresh_token", token),
        ]))
        .await
    }

    async fn revoke(&self, token: &str) -> Reply {
        self.call(form_request_to(
            REVOKE_PATH,
            &[
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("token", token),
            ],
        ))
        .await
    }

    async fn introspect(&self, token: &str) -> bool {
        let reply = self
            .call(form_request_to(
                INTROSPECT_PATH,
                &[
                    ("client_id", SERVER),
                    ("client_secret", SERVER_SECRET),
                    ("token", token),
                ],
            ))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.raw);
        reply.body["active"].as_bool().unwrap()
    }
}

/// Refreshes the chain until an access token is signed with `kid`: a background re-read lands
/// while requests go on, none of them waiting for it. Gives up after five seconds.
async fn refresh_until_signed_by(instance: &Instance, mut token: String, kid: &str) {
    let mut seen = String::new();
    for _ in 0..500 {
        let next = instance.refresh(&token).await;
        next.assert_ok();
        token = next.refresh_token();
        seen = kid_of(&next);
        if seen == kid {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("still signed by {seen}");
}

fn kid_of(reply: &Reply) -> String {
    jsonwebtoken::decode_header(reply.access_token())
        .unwrap()
        .kid
        .unwrap()
}

/// The README's rotation, both key sets at once: the new keys are written to the secret active
/// from a time at least one bound ahead; instance B, started before the write, keeps its old
/// copy until its bound; instance A, started after, holds the new keys as published. At no step
/// does either instance meet a token, signature or seal it cannot check.
#[tokio::test]
async fn a_rotation_step_by_step_reaches_a_stale_instance_before_any_token_needs_it() {
    let fleet = Fleet::new(&[active("s1", S1)], &[active("g1", G1)]).await;
    let stale = fleet.start_instance().await;

    // Step 1: publish. The new keys go into the secret, active one bound and a minute from now.
    fleet.advance(100);
    let switch = fleet.now() + BOUND + 60;
    fleet
        .put(
            &[active("s1", S1), active_from("s2", S2, switch)],
            &[active("g1", G1), active_from("g2", G2, switch)],
        )
        .await;
    fleet.advance(10);
    let fresh = fleet.start_instance().await;
    assert_eq!(fresh.tagging_key(), "g1", "published keys do not sign yet");

    // While published: both instances serve one chain, each retrying what the other rotated.
    let first = fresh.grant().await;
    let second = fresh.refresh(&first).await;
    second.assert_ok();
    assert_eq!(kid_of(&second), "s1");
    let retry = stale.refresh(&first).await;
    retry.assert_ok();
    assert_eq!(
        retry.refresh_token(),
        second.refresh_token(),
        "grace retry on B"
    );

    // Step 2: the switch. Every instance holds the keys by now: B re-read them at its bound.
    fleet.advance(switch - fleet.now());
    assert_eq!(fresh.tagging_key(), "g2");
    let third = fresh.refresh(&second.refresh_token()).await;
    third.assert_ok();
    assert_eq!(kid_of(&third), "s2");
    let retry = stale.refresh(&second.refresh_token()).await;
    retry.assert_ok();
    assert_eq!(
        retry.refresh_token(),
        third.refresh_token(),
        "B opens a seal made under the new key"
    );
    assert_eq!(stale.tagging_key(), "g2");
    assert!(
        stale.introspect(&third.access_token()).await,
        "B verifies the new signing key"
    );

    // The user logs out through B: the grant is revoked, and A refuses its tokens.
    assert_eq!(stale.revoke(&third.refresh_token()).await.status, 200);
    fresh
        .refresh(&third.refresh_token())
        .await
        .assert_error(400, "invalid_grant");
    assert!(!fresh.introspect(&third.access_token()).await);
}

/// The mistake the states exist to prevent: a key made active at once. An instance that has not
/// read it yet cannot open a seal made under it; a client's grace retry landing there is refused
/// and revokes nothing, and the same retry on an instance that holds the key continues the chain.
#[tokio::test]
async fn a_grace_retry_whose_seal_cannot_be_opened_revokes_nothing() {
    let fleet = Fleet::new(&[active("s1", S1)], &[active("g1", G1)]).await;
    let stale = fleet.start_instance().await;
    let first = stale.grant().await;

    fleet
        .put(&[active("s1", S1)], &[active("g2", G2), active("g1", G1)])
        .await;
    let fresh = fleet.start_instance().await;
    assert_eq!(fresh.tagging_key(), "g2");
    let second = fresh.refresh(&first).await;
    second.assert_ok();

    stale
        .refresh(&first)
        .await
        .assert_error(400, "invalid_grant");
    let retry = fresh.refresh(&first).await;
    retry.assert_ok();
    assert_eq!(retry.refresh_token(), second.refresh_token());
    fresh.refresh(&second.refresh_token()).await.assert_ok();
}

/// A leaked signing key and grant-token key are removed from the secret in an emergency. A warm
/// instance stops using them at its bound, without a restart or a deployment.
#[tokio::test]
async fn an_emergency_removal_reaches_a_warm_instance_within_the_bound() {
    let spare = json!({"kid": "s2", "key": S2, "state": "published"});
    let fleet = Fleet::new(&[active("s1", S1), spare], &[active("g1", G1)]).await;
    let warm = fleet.start_instance().await;
    let leaked = warm.grant().await;
    let reply = warm.refresh(&leaked).await;
    reply.assert_ok();
    assert_eq!(kid_of(&reply), "s1");

    fleet.advance(60);
    fleet.put(&[active("s2", S2)], &[active("g2", G2)]).await;

    // Before its bound the instance may still use its copy...
    fleet.advance(BOUND - 61);
    assert!(warm.introspect(&reply.access_token()).await);
    // ...and at the bound it has dropped both keys.
    fleet.advance(1);
    assert!(
        !warm.introspect(&reply.access_token()).await,
        "the removed signing key no longer verifies"
    );
    warm.refresh(&reply.refresh_token())
        .await
        .assert_error(400, "invalid_grant");
    assert_eq!(warm.tagging_key(), "g2");
    let new = warm.grant().await;
    let next = warm.refresh(&new).await;
    next.assert_ok();
    assert_eq!(kid_of(&next), "s2");
}

/// A re-read that fails keeps the keys the instance has and is counted once, without blocking
/// every request on Secrets Manager; the next attempt waits `RETRY_SECONDS` and then succeeds.
#[tokio::test]
async fn a_failed_re_read_keeps_the_keys_and_is_counted() {
    let fleet = Fleet::new(&[active("s1", S1)], &[active("g1", G1)]).await;
    let warm = fleet.start_instance().await;
    let token = warm.grant().await;

    // A broken secret version: no signing key is active.
    let retired = json!({"kid": "s1", "key": S1, "state": "retired"});
    fleet.put(&[retired], &[active("g1", G1)]).await;
    fleet.advance(BOUND);
    warm.service.refresh_keys_if_due().await;
    assert_eq!(warm.service.take_stale_key_failures(), 1);
    let reply = warm.refresh(&token).await;
    reply.assert_ok();
    assert_eq!(kid_of(&reply), "s1", "the old keys serve on");
    warm.service.refresh_keys_if_due().await;
    assert_eq!(
        warm.service.take_stale_key_failures(),
        0,
        "no second attempt before the retry time"
    );

    fleet.put(&[active("s2", S2)], &[active("g1", G1)]).await;
    fleet.advance(RETRY_SECONDS);
    // Past the bound after a failure, the re-read runs in the background: wait for it.
    warm.service.refresh_keys_if_due().await;
    refresh_until_signed_by(&warm, reply.refresh_token(), "s2").await;
}

/// From 80% of the bound, a busy instance re-reads in the background and no request waits.
#[tokio::test]
async fn a_busy_instance_re_reads_before_the_bound() {
    let fleet = Fleet::new(&[active("s1", S1)], &[active("g1", G1)]).await;
    let warm = fleet.start_instance().await;
    let token = warm.grant().await;
    fleet.put(&[active("s2", S2)], &[active("g1", G1)]).await;
    fleet.advance(BOUND * 4 / 5);
    refresh_until_signed_by(&warm, token, "s2").await;
}

/// A key text this test makes now, so it is written nowhere in the repository.
fn unpublished_key(label: &str) -> String {
    let bytes: [u8; 24] = chatroom_token::crypto::random_bytes();
    format!("{label}-{}", chatroom_token::crypto::b64url(&bytes))
}

/// On AWS, a re-read is checked as the start is: a key written in this repository (here S2, in
/// this very file) put into the secret is refused by a warm instance, which keeps the keys it
/// has and counts the failure. An operator who pastes a published key, or an attacker who can
/// write the secret and hopes a known key goes unnoticed, gets no instance to sign with it.
#[tokio::test]
async fn on_aws_a_warm_instance_refuses_a_published_key_put_into_the_secret() {
    let s1 = unpublished_key("s1");
    let g1 = unpublished_key("g1");
    let fleet = Fleet::new(&[active("s1", &s1)], &[active("g1", &g1)]).await;
    let warm = fleet.start_aws_instance().await;
    let token = warm.grant().await;

    fleet.put(&[active("s2", S2)], &[active("g1", &g1)]).await;
    fleet.advance(BOUND);
    warm.service.refresh_keys_if_due().await;
    assert_eq!(warm.service.take_stale_key_failures(), 1);
    let reply = warm.refresh(&token).await;
    reply.assert_ok();
    assert_eq!(kid_of(&reply), "s1", "the published key never signs");
    let keys = warm.service.keys();
    assert!(
        keys.verifier()
            .verify_at(&reply.access_token(), fleet.now())
            .is_ok(),
        "the instance still holds its own keys"
    );
}

//! Cold start: reads the configuration (and the keys' secret), refuses local-only values on AWS,
//! and turns it into a ready `TokenService` (keys, store, demo seed). Called once per Lambda
//! instance; anything wrong here stops the function before it serves a request.

use crate::aws::Aws;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Demo, StoreConfig};
use crate::crypto::grant_token::{TokenKeys, TokenKind};
use crate::domain::client_assertion::ClientKeys;
use crate::domain::code_issuer::{pending_grant, CodeRequest};
use crate::domain::key_ring::KeyRing;
use crate::domain::live_keys::{KeySource, LiveKeys, Refresh};
use crate::domain::model::{
    Client, ClientLifetimes, GrantRecord, GrantType, SecretHash, PUBLIC_CLIENT_LIFETIMES,
};
use crate::domain::pkce::{ChallengeMethod, CodeChallenge, PkcePolicy};
use crate::domain::port::{ClientRegistry, ClientStore, GrantStore};
use crate::domain::scope::Scope;
use crate::domain::service::TokenService;
use crate::keys_secret::{load_config, Loaded, SecretKeys};
use crate::store::dynamodb::warm_up::WarmUp;
use crate::store::memory::MemoryStore;
use std::sync::Arc;

/// How long the seeded demo code stays redeemable: long enough to read the README first.
pub const DEMO_CODE_LIFETIME: i64 = 86_400;

#[derive(Debug)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

/// The deployed function's start: configuration from the process environment (keys from
/// Secrets Manager when `KEYS_SECRET_ARN` names them), the local-only check, the service.
pub async fn start() -> Result<TokenService, StartupError> {
    let env = |name: &str| std::env::var(name).ok();
    let names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
    start_with(env, names, &Aws::default(), Arc::new(SystemClock)).await
}

/// The start, from an environment given as a lookup and the names of its variables. On AWS
/// (`local_only::on_aws`) local-only settings stop the start, and every later re-read of the
/// keys secret refuses a key written in this repository, as the start does.
pub async fn start_with(
    env: impl Fn(&str) -> Option<String>,
    names: impl Iterator<Item = String>,
    aws: &Aws,
    clock: Arc<dyn Clock>,
) -> Result<TokenService, StartupError> {
    let (config, source) =
        load_checked(&env, names, aws, &clock, crate::local_only::refusal).await?;
    build_service_with_source(config, clock, aws, source).await
}

/// The configuration and the keys' source, with what `refusal` finds refused on AWS (a
/// local-only setting stops the start there; the source then refuses keys written in this
/// repository at every re-read).
async fn load_checked<N>(
    env: &impl Fn(&str) -> Option<String>,
    names: N,
    aws: &Aws,
    clock: &Arc<dyn Clock>,
    refusal: fn(&Config, N) -> Option<String>,
) -> Result<(Config, Option<Arc<dyn KeySource>>), StartupError> {
    let Loaded { config, source } = load_config(env, aws, clock.clone())
        .await
        .map_err(|error| StartupError(error.to_string()))?;
    let on_aws = crate::local_only::on_aws(env);
    if on_aws {
        if let Some(why) = refusal(&config, names) {
            return Err(StartupError(format!("refusing to start on AWS: {why}")));
        }
    }
    Ok((config, key_source(source, on_aws)))
}

/// The keys secret as a source to re-read; on AWS it refuses a key written in this repository.
fn key_source(source: Option<SecretKeys>, on_aws: bool) -> Option<Arc<dyn KeySource>> {
    source.map(|secret| match on_aws {
        true => Arc::new(secret.refusing_published_keys()) as Arc<dyn KeySource>,
        false => Arc::new(secret) as Arc<dyn KeySource>,
    })
}

/// The keys alone, as the Lambda authorizer holds them: loaded as the token function loads
/// them (the keys secret on AWS, with the same refusals of local-only keys), and re-read from
/// the secret while the instance is warm.
pub async fn start_keys(
    env: impl Fn(&str) -> Option<String>,
    names: impl Iterator<Item = String>,
    aws: &Aws,
    clock: Arc<dyn Clock>,
) -> Result<(Config, Arc<LiveKeys>), StartupError> {
    let (config, source) =
        load_checked(&env, names, aws, &clock, crate::local_only::keys_refusal).await?;
    let keys = live_keys(&config, source, clock.now());
    Ok((config, keys))
}

/// The configured keys, re-read from `source` (if any) every `KEYS_REFRESH_SECONDS`.
fn live_keys(config: &Config, source: Option<Arc<dyn KeySource>>, now: i64) -> Arc<LiveKeys> {
    let ring = KeyRing::build(
        config.keys.clone(),
        &config.issuer,
        config.lifetimes.access_token,
    );
    let refresh = source.map(|source| Refresh {
        source,
        max_age_seconds: config.keys_refresh_seconds,
    });
    Arc::new(LiveKeys::new(
        ring,
        refresh,
        now,
        config.issuer.clone(),
        config.lifetimes.access_token,
    ))
}

/// The service for a configuration whose keys never change after start.
pub async fn build_service(
    config: Config,
    clock: Arc<dyn Clock>,
    aws: &Aws,
) -> Result<TokenService, StartupError> {
    build_service_with_source(config, clock, aws, None).await
}

/// The service, re-reading its keys from `source` (if any) every `KEYS_REFRESH_SECONDS`.
pub async fn build_service_with_source(
    config: Config,
    clock: Arc<dyn Clock>,
    aws: &Aws,
    source: Option<Arc<dyn KeySource>>,
) -> Result<TokenService, StartupError> {
    let now = clock.now();
    let keys = live_keys(&config, source, now);
    let token_keys = keys.get();
    let token_keys = token_keys.token_keys(now);
    let (clients, grants): (Arc<dyn ClientStore>, Arc<dyn GrantStore>) = match &config.store {
        StoreConfig::Memory { demo } => {
            let store = Arc::new(MemoryStore::new());
            if let Some(demo) = demo {
                seed_demo(&store, demo, token_keys, now, config.client_credentials).await?;
            }
            (store.clone(), store)
        }
        StoreConfig::DynamoDb {
            table,
            client_cache_seconds,
        } => {
            let store = crate::store::dynamodb::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(aws.config().await),
                table.clone(),
                *client_cache_seconds,
            );
            log_warm_up(store.warm_up().await);
            let store = Arc::new(store);
            (store.clone(), store)
        }
    };
    let service = TokenService::with_keys(
        clients,
        grants,
        clock,
        keys.clone(),
        &config.issuer,
        config.lifetimes,
    );
    let mut service = service.with_internal_callers(config.internal_callers.clone());
    if config.client_credentials {
        service = service.with_client_credentials();
    }
    if config.public_clients {
        service = service.with_public_clients();
    }
    if config.private_key_jwt {
        service = service.with_private_key_jwt();
    }
    if let Some(policy) = &config.dpop {
        service = service.with_dpop(policy.clone());
    }
    Ok(match &config.scopes_supported {
        Some(scopes) => service.with_scopes_supported(scopes),
        None => service,
    })
}

fn log_warm_up(outcome: WarmUp) {
    match outcome {
        WarmUp::Ready => tracing::debug!("DynamoDB connection opened at start"),
        WarmUp::Refused(why) => {
            tracing::warn!(
                "DynamoDB refused the start-up read (check the table and the role): {why}"
            )
        }
        WarmUp::Unreachable(why) => tracing::warn!(
            "DynamoDB was not reachable at start; each request will connect on its own: {why}"
        ),
    }
}

/// The demo's other kinds of app, where configured: a backend with keys (`private_key_jwt`), and
/// a native app (public) with a pending code whose challenge is S256.
async fn seed_demo_apps(
    store: &MemoryStore,
    demo: &Demo,
    base: &Client,
    keys: &TokenKeys,
    now: i64,
) -> Result<(), StartupError> {
    let seeding_failed = |e| StartupError(format!("seeding the demo apps failed: {e}"));
    if let Some((id, jwks)) = &demo.keyed {
        let assertion_keys = ClientKeys::parse(jwks).map_err(|why| {
            StartupError(format!(
                "configuration error in DEMO_KEYED_CLIENT_JWKS: {why}"
            ))
        })?;
        let keyed = Client {
            id: id.clone(),
            name: "Demo backend with keys".into(),
            assertion_keys: Some(assertion_keys),
            may_introspect: true,
            ..base.clone()
        };
        store.put_client(&keyed).await.map_err(seeding_failed)?;
    }
    let Some(app) = &demo.public else {
        return Ok(());
    };
    let code = keys
        .open(TokenKind::Code, app.code.expose())
        .ok_or_else(|| {
            StartupError(
                "configuration error in DEMO_PUBLIC_CODE: not a code minted with GRANT_TOKEN_KEYS"
                    .into(),
            )
        })?;
    let public = Client {
        id: app.client_id.clone(),
        name: "Demo native app".into(),
        public: true,
        redirect_uris: vec![app.redirect_uri.clone()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        pkce: PkcePolicy::S256,
        lifetimes: PUBLIC_CLIENT_LIFETIMES,
        ..base.clone()
    };
    store.put_client(&public).await.map_err(seeding_failed)?;
    let request = CodeRequest {
        dpop_jkt: None,
        client_id: app.client_id.clone(),
        user_id: demo.user_id.clone(),
        scope: base.scope.clone(),
        redirect_uri: Some(app.redirect_uri.clone()),
        challenge: Some(CodeChallenge {
            method: ChallengeMethod::S256,
            value: app.code_challenge.clone(),
        }),
    };
    let pending = pending_grant(&code, &request, now, now + DEMO_CODE_LIFETIME);
    store.issue_code(&pending).await.map_err(seeding_failed)
}

/// Registers the demo client and a pending grant for the demo code, so a local run can redeem
/// it with no other setup.
async fn seed_demo(
    store: &MemoryStore,
    demo: &Demo,
    keys: &TokenKeys,
    now: i64,
    client_credentials: bool,
) -> Result<(), StartupError> {
    let scope = Scope::parse(&demo.scope)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            StartupError("configuration error in DEMO_CLIENT_SCOPE: not a valid scope".into())
        })?;
    let code = keys
        .open(TokenKind::Code, demo.code.expose())
        .ok_or_else(|| {
            StartupError(
                "configuration error in DEMO_CODE: not a code minted with GRANT_TOKEN_KEYS".into(),
            )
        })?;
    let client = Client {
        id: demo.client_id.clone(),
        name: "Demo client".into(),
        secret_hash: SecretHash::of(demo.client_secret.expose()),
        scope: scope.clone(),
        redirect_uris: vec![demo.redirect_uri.clone()],
        // Where the service serves client credentials, the demo client may try them too.
        grant_types: [
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ][..2 + usize::from(client_credentials)]
            .to_vec(),
        enabled: true,
        may_introspect: false,
        assertion_keys: None,
        dpop_bound_access_tokens: false,
        // The API document's flow: the demo code carries no challenge.
        pkce: PkcePolicy::Optional,
        previous_secret: None,
        public: false,
        lifetimes: ClientLifetimes::default(),
        created_at: now,
    };
    let seeding_failed = |e| StartupError(format!("seeding the demo grants failed: {e}"));
    store.put_client(&client).await.map_err(seeding_failed)?;
    if let Some((id, secret)) = &demo.introspector {
        let introspector = Client {
            id: id.clone(),
            name: "Demo resource server".into(),
            secret_hash: SecretHash::of(secret.expose()),
            redirect_uris: vec![],
            grant_types: vec![],
            may_introspect: true,
            assertion_keys: None,
            dpop_bound_access_tokens: false,
            ..client.clone()
        };
        store
            .put_client(&introspector)
            .await
            .map_err(seeding_failed)?;
    }
    let request = CodeRequest {
        dpop_jkt: None,
        client_id: demo.client_id.clone(),
        user_id: demo.user_id.clone(),
        scope,
        redirect_uri: Some(demo.redirect_uri.clone()),
        challenge: None,
    };
    let pending = pending_grant(&code, &request, now, now + DEMO_CODE_LIFETIME);
    store.issue_code(&pending).await.map_err(seeding_failed)?;
    seed_demo_apps(store, demo, &client, keys, now).await?;
    let Some(refresh) = &demo.refresh_token else {
        return Ok(());
    };
    let refresh = keys
        .open(TokenKind::Refresh, refresh.expose())
        .ok_or_else(|| {
            StartupError(
                "configuration error in DEMO_REFRESH_TOKEN: not a refresh token minted with \
             GRANT_TOKEN_KEYS"
                    .into(),
            )
        })?;
    // The same grant as the code's, already redeemed, under the refresh token's own id.
    let active = GrantRecord {
        grant_id: refresh.grant_id,
        redeemed_at: Some(now),
        rotated_at: Some(now),
        generation: refresh.generation,
        refresh_hash: Some(refresh.hash),
        ..pending
    };
    store.issue_code(&active).await.map_err(seeding_failed)
}

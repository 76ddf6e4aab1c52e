//! `tokenctl`: the operators' tool. Registers apps, issues codes for the consent page, lists and
//! revokes grants, creates tables, all through the same DynamoDB store code as the function.
//!
//! Exit codes: 0 success, 1 store or credentials failure, 2 bad input, 3 no such client/grant.

mod output;

use crate::aws::Trust;
use crate::clock::{Clock, SystemClock};
use crate::config::parse_keys;
use crate::crypto::grant_token::{GrantId, TokenKeys};
use crate::crypto::{b64url, random_bytes};
use crate::domain::client_assertion::ClientKeys;
use crate::domain::code_issuer::{issue_code, CodeRequest, IssueCodeError};
use crate::domain::model::{
    Client, ClientLifetimes, GrantType, SecretHash, PUBLIC_CLIENT_LIFETIMES,
};
use crate::domain::pkce::{ChallengeMethod, CodeChallenge, PkcePolicy};
use crate::domain::port::{ClientRegistry, ClientStore, StoreError};
use crate::domain::redirect_uri::{is_registrable, is_registrable_native};
use crate::domain::revocation::revoke_grant;
use crate::domain::scope::Scope;
use crate::store::dynamodb::admin::{GrantsOf, SecretRotation};
use crate::store::dynamodb::table::create_table;
use crate::store::dynamodb::DynamoStore;
use clap::{Args, Parser, Subcommand};
use output::Output;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(name = "tokenctl", about = "Operate the chat-room OAuth token service")]
pub struct Cli {
    /// The DynamoDB table (the stack's TableName output).
    #[arg(long, env = "TABLE_NAME", global = true, default_value = "")]
    table: String,
    /// Print JSON instead of plain text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Register and manage client apps.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Issue authorization codes (what the consent page does once a user approves an app).
    #[command(subcommand)]
    Codes(CodesCommand),
    /// List and revoke grants.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Create the table (local and test set-ups; a deployment's table comes from template.yaml).
    #[command(subcommand)]
    Tables(TablesCommand),
}

#[derive(Subcommand, Debug)]
enum ClientsCommand {
    /// Register an app; prints its id and its secret (shown this once, stored only hashed).
    Create {
        #[arg(long)]
        name: String,
        /// Space-separated scopes the app may ask for.
        #[arg(long)]
        scope: String,
        /// A redirect URI the app may use (repeat for several).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// authorization_code, refresh_token, client_credentials (repeat; default the first
        /// two, or none with --introspect).
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Allow this client to call the introspection endpoint (for resource servers, not
        /// for ordinary apps).
        #[arg(long)]
        introspect: bool,
        /// What the app's codes must carry: s256 (default: an S256 challenge), optional (also
        /// none: confidential web backends), plain (also the plain method; RFC 9700 advises
        /// against it).
        #[arg(long, default_value = "s256")]
        pkce: String,
        /// A native or browser app (RFC 8252): no secret, codes only with an S256 challenge,
        /// redirect URIs may use a private-use scheme (com.example.app:/cb), and its grants
        /// live shorter by default (refresh idle 7 days, absolute 30; `set-lifetimes` changes
        /// them).
        #[arg(long, conflicts_with = "introspect")]
        public: bool,
        /// An app that authenticates with keys instead of a secret (private_key_jwt, RFC
        /// 7523): its public keys as a JWK set (JSON; RS256 with RSA keys of 2048 bits or more,
        /// ES256 with P-256 keys; a kid on each when there are several). No secret is made.
        #[arg(long, conflicts_with = "public")]
        jwks: Option<String>,
        /// Every token request of the app needs a DPoP proof (RFC 9449 §5.2
        /// `dpop_bound_access_tokens`; where the service serves DPoP).
        #[arg(long = "dpop-bound-access-tokens")]
        dpop_bound_access_tokens: bool,
    },
    /// Replace the public keys of an app registered with --jwks (add the new key first, drop
    /// the old one once the app signs with the new; within the client cache lifetime on warm
    /// instances).
    SetKeys {
        client_id: String,
        /// The whole new JWK set (JSON).
        jwks: String,
    },
    /// Give an app a new secret; prints it. The old one keeps working beside it until
    /// `retire-secret` (or --old-expires-in), so the app can switch without downtime. Refused
    /// while an earlier old secret still works: at most two at once.
    RotateSecret {
        client_id: String,
        /// Seconds the old secret keeps working; without it, until `retire-secret`.
        #[arg(long = "old-expires-in")]
        old_expires_in: Option<i64>,
        /// A leaked secret: the new one replaces every secret at once (on a warm instance,
        /// within the client cache lifetime, CLIENT_CACHE_SECONDS).
        #[arg(long, conflicts_with = "old_expires_in")]
        replace: bool,
    },
    /// End an app's old secret now (within the client cache lifetime on warm instances).
    RetireSecret {
        client_id: String,
    },
    /// Shorten an app's lifetimes below the server's (seconds; a value above the server's
    /// acts as the server's). Options left out go back to the server's.
    SetLifetimes {
        client_id: String,
        #[arg(long = "access-token")]
        access_token: Option<i64>,
        #[arg(long = "refresh-idle")]
        refresh_idle: Option<i64>,
        #[arg(long = "refresh-absolute")]
        refresh_absolute: Option<i64>,
        /// The refresh grace window; 0 turns it off for this app.
        #[arg(long)]
        grace: Option<i64>,
    },
    /// Change what an app's codes must carry: s256, optional or plain (see create). Clients
    /// registered before PKCE levels existed require S256; a confidential web backend that
    /// sends no challenge needs `optional`.
    SetPkce {
        client_id: String,
        pkce: String,
    },
    /// Refuse an app's requests (within the client cache lifetime).
    Disable {
        client_id: String,
    },
    Enable {
        client_id: String,
    },
    List,
    Show {
        client_id: String,
    },
}

#[derive(Subcommand, Debug)]
enum CodesCommand {
    /// Prints a new authorization code. Needs GRANT_TOKEN_KEYS (the function's).
    Issue {
        #[arg(long = "client")]
        client_id: String,
        #[arg(long = "user")]
        user_id: String,
        #[arg(long)]
        scope: String,
        #[arg(long = "redirect-uri")]
        redirect_uri: Option<String>,
        #[arg(long = "code-challenge")]
        code_challenge: Option<String>,
        /// S256 (default) or plain.
        #[arg(long = "code-challenge-method", default_value = "S256")]
        code_challenge_method: String,
        /// Bind the code to the app's DPoP key (RFC 9449 §10): its thumbprint. The code's
        /// redemption then needs a proof of that key.
        #[arg(long = "dpop-jkt")]
        dpop_jkt: Option<String>,
        #[arg(
            long,
            env = "GRANT_TOKEN_KEYS",
            hide_env_values = true,
            default_value = ""
        )]
        grant_token_keys: String,
        #[arg(long, env = "CODE_TTL_SECONDS", default_value_t = 600)]
        code_ttl_seconds: i64,
    },
}

#[derive(Subcommand, Debug)]
enum GrantsCommand {
    /// List the grants of a user or of a client, newest first.
    List(GrantFilter),
    /// Revoke one grant, every grant of a user ("log out everywhere"), or of a client.
    Revoke {
        #[arg(long = "grant", conflicts_with_all = ["user", "client"])]
        grant: Option<String>,
        #[command(flatten)]
        filter: GrantFilter,
    },
}

#[derive(Args, Debug)]
struct GrantFilter {
    #[arg(long, conflicts_with = "client")]
    user: Option<String>,
    #[arg(long)]
    client: Option<String>,
}

#[derive(Subcommand, Debug)]
enum TablesCommand {
    /// Create the table with TTL enabled, from the deployment's definition.
    Create,
}

#[derive(Debug)]
pub enum CtlError {
    BadInput(String),
    NotFound(String),
    Store(String),
}

impl CtlError {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Store(_) => 1,
            Self::BadInput(_) => 2,
            Self::NotFound(_) => 3,
        }
    }
}

impl std::fmt::Display for CtlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadInput(m) | Self::NotFound(m) | Self::Store(m) => f.write_str(m),
        }
    }
}

impl From<StoreError> for CtlError {
    fn from(error: StoreError) -> Self {
        Self::Store(error.to_string())
    }
}

fn bad(message: impl Into<String>) -> CtlError {
    CtlError::BadInput(message.into())
}

fn parse_scope(text: &str) -> Result<Scope, CtlError> {
    Scope::parse(text)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("--scope must be space-separated scope names"))
}

/// A new client secret: 256 bits from the OS CSPRNG.
fn new_secret() -> String {
    b64url(&random_bytes::<32>())
}

pub async fn run(cli: Cli) -> Result<(), CtlError> {
    if cli.table.is_empty() {
        return Err(bad("--table (or TABLE_NAME) is required"));
    }
    let out = Output::new(cli.json);
    // An operator's tool, over any network: the SDK's own defaults, not the function's 3 s budget,
    // and the platform's certificate authorities.
    let config = crate::aws::sdk_defaults(Trust::Platform).load().await;
    let sdk = aws_sdk_dynamodb::Client::new(&config);
    let store = DynamoStore::new(sdk, cli.table.clone(), 0);
    match cli.command {
        Command::Tables(TablesCommand::Create) => {
            create_table(store.sdk(), &cli.table)
                .await
                .map_err(|e| CtlError::Store(format!("creating the table failed: {e}")))?;
            out.done(
                &format!("table {} created", cli.table),
                json!({"table": cli.table}),
            );
        }
        Command::Clients(command) => clients(&store, &out, command).await?,
        Command::Codes(CodesCommand::Issue {
            client_id,
            user_id,
            scope,
            redirect_uri,
            code_challenge,
            code_challenge_method,
            dpop_jkt,
            grant_token_keys,
            code_ttl_seconds,
        }) => {
            let keys = parse_keys("GRANT_TOKEN_KEYS", &grant_token_keys)
                .map_err(|e| bad(e.to_string()))?;
            let challenge = match code_challenge {
                Some(value) => Some(CodeChallenge {
                    method: ChallengeMethod::parse(&code_challenge_method)
                        .ok_or_else(|| bad("--code-challenge-method must be S256 or plain"))?,
                    value,
                }),
                None => None,
            };
            let request = CodeRequest {
                dpop_jkt,
                client_id,
                user_id,
                scope: parse_scope(&scope)?,
                redirect_uri,
                challenge,
            };
            let keys = TokenKeys::new(keys.into_iter().map(|(_, k)| k).collect());
            let code = issue_code(
                &store,
                &store,
                &keys,
                &request,
                SystemClock.now(),
                code_ttl_seconds,
            )
            .await
            .map_err(|error| match error {
                IssueCodeError::Store(e) => CtlError::from(e),
                IssueCodeError::UnknownClient => CtlError::NotFound(error.to_string()),
                other => bad(other.to_string()),
            })?;
            let code = code.code;
            out.secret(
                code.expose(),
                json!({"code": code.expose(), "expires_in": code_ttl_seconds}),
            );
        }
        Command::Grants(command) => grants(&store, &out, command).await?,
    }
    Ok(())
}

async fn clients(
    store: &DynamoStore,
    out: &Output,
    command: ClientsCommand,
) -> Result<(), CtlError> {
    match command {
        ClientsCommand::Create {
            name,
            scope,
            redirect_uris,
            grant_types,
            introspect,
            pkce,
            public,
            jwks,
            dpop_bound_access_tokens,
        } => {
            let assertion_keys = jwks
                .as_deref()
                .map(ClientKeys::parse)
                .transpose()
                .map_err(|why| bad(format!("--jwks: {why}")))?;
            let pkce = PkcePolicy::parse(&pkce)
                .ok_or_else(|| bad("--pkce must be s256, optional or plain"))?;
            if public && pkce != PkcePolicy::S256 {
                return Err(bad(
                    "a public client's codes need an S256 challenge: no --pkce",
                ));
            }
            let grant_types = if grant_types.is_empty() && introspect {
                // A resource server: it introspects, and redeems no code.
                vec![]
            } else if grant_types.is_empty() {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
            } else {
                grant_types
                    .iter()
                    .map(|g| {
                        GrantType::parse(g).ok_or_else(|| {
                            bad("--grant-type must be authorization_code, refresh_token or \
                                 client_credentials")
                        })
                    })
                    .collect::<Result<_, _>>()?
            };
            if public && grant_types.contains(&GrantType::ClientCredentials) {
                return Err(bad(
                    "a public client holds no secret to get tokens for itself",
                ));
            }
            let registrable = if public {
                is_registrable_native
            } else {
                is_registrable
            };
            if !redirect_uris.iter().all(|u| registrable(u)) {
                return Err(bad(
                    "--redirect-uri must be https, or http to localhost, 127.0.0.1 or [::1]; \
                     no fragment or user information; at most 256 characters (a --public app \
                     may also use a private-use scheme such as com.example.app:/cb)",
                ));
            }
            let secret = new_secret();
            let client = Client {
                id: hex(&random_bytes::<10>()),
                name,
                secret_hash: SecretHash::of(&secret),
                scope: parse_scope(&scope)?,
                redirect_uris,
                grant_types,
                enabled: true,
                may_introspect: introspect,
                assertion_keys,
                dpop_bound_access_tokens,
                pkce,
                previous_secret: None,
                public,
                lifetimes: if public {
                    PUBLIC_CLIENT_LIFETIMES
                } else {
                    ClientLifetimes::default()
                },
                created_at: SystemClock.now(),
            };
            store.put_client(&client).await?;
            if public || client.assertion_keys.is_some() {
                out.client_without_secret_created(&client);
                return Ok(());
            }
            out.client_created(&client, &secret);
        }
        ClientsCommand::RotateSecret {
            client_id,
            old_expires_in,
            replace,
        } => {
            let secret = new_secret();
            let hash = SecretHash::of(&secret);
            let no_client = || CtlError::NotFound(format!("no client {client_id}"));
            if replace {
                if !store.replace_client_secret(&client_id, &hash).await? {
                    return Err(no_client());
                }
            } else {
                if old_expires_in.is_some_and(|s| s < 0) {
                    return Err(bad("--old-expires-in must be 0 or more seconds"));
                }
                let now = SystemClock.now();
                let old_expires_at = old_expires_in.map(|s| now + s);
                match store
                    .rotate_client_secret(&client_id, &hash, old_expires_at, now)
                    .await?
                {
                    SecretRotation::Rotated => {}
                    SecretRotation::NoSuchClient => return Err(no_client()),
                    SecretRotation::PreviousStillLive => {
                        return Err(bad(
                            "the client already has an old secret that still works; \
                             retire-secret it first (at most two secrets at once)",
                        ))
                    }
                }
            }
            out.secret(
                &secret,
                json!({"client_id": client_id, "client_secret": secret}),
            );
        }
        ClientsCommand::SetKeys { client_id, jwks } => {
            let keys = ClientKeys::parse(&jwks).map_err(|why| bad(format!("the keys: {why}")))?;
            if !store.set_client_keys(&client_id, &keys).await? {
                return Err(CtlError::NotFound(format!(
                    "no client {client_id} registered with keys (--jwks)"
                )));
            }
            out.done(
                &format!("client {client_id} keys set"),
                json!({"client_id": client_id, "jwks": serde_json::from_str::<serde_json::Value>(keys.as_json()).unwrap_or_default()}),
            );
        }
        ClientsCommand::RetireSecret { client_id } => {
            if !store.retire_client_secret(&client_id).await? {
                return Err(CtlError::NotFound(format!("no client {client_id}")));
            }
            out.done(
                &format!("client {client_id}: old secret retired"),
                json!({"client_id": client_id, "previous_secret": null}),
            );
        }
        ClientsCommand::SetLifetimes {
            client_id,
            access_token,
            refresh_idle,
            refresh_absolute,
            grace,
        } => {
            let lifetimes = ClientLifetimes {
                access_token,
                refresh_idle,
                refresh_absolute,
                grace,
            };
            let at_least = |value: Option<i64>, min: i64| value.is_none_or(|v| v >= min);
            if !(at_least(access_token, 60)
                && at_least(refresh_idle, 60)
                && at_least(refresh_absolute, 60)
                && at_least(grace, 0))
            {
                return Err(bad(
                    "lifetimes are at least 60 seconds (the grace window at least 0)",
                ));
            }
            if !store.set_client_lifetimes(&client_id, &lifetimes).await? {
                return Err(CtlError::NotFound(format!("no client {client_id}")));
            }
            out.done(
                &format!("client {client_id} lifetimes set"),
                json!({"client_id": client_id, "lifetimes": output::lifetimes_json(&lifetimes)}),
            );
        }
        ClientsCommand::SetPkce { client_id, pkce } => {
            let level = PkcePolicy::parse(&pkce)
                .ok_or_else(|| bad("the PKCE level must be s256, optional or plain"))?;
            if !store.set_client_pkce(&client_id, level).await? {
                return Err(CtlError::NotFound(format!("no client {client_id}")));
            }
            out.done(
                &format!("client {client_id} pkce {}", level.as_str()),
                json!({"client_id": client_id, "pkce": level.as_str()}),
            );
        }
        ClientsCommand::Disable { client_id } => set_enabled(store, out, &client_id, false).await?,
        ClientsCommand::Enable { client_id } => set_enabled(store, out, &client_id, true).await?,
        ClientsCommand::List => out.clients(&store.list_clients().await?),
        ClientsCommand::Show { client_id } => match store.find_client(&client_id).await? {
            Some(client) => out.clients(&[client]),
            None => return Err(CtlError::NotFound(format!("no client {client_id}"))),
        },
    }
    Ok(())
}

async fn set_enabled(
    store: &DynamoStore,
    out: &Output,
    id: &str,
    enabled: bool,
) -> Result<(), CtlError> {
    if !store.set_client_enabled(id, enabled).await? {
        return Err(CtlError::NotFound(format!("no client {id}")));
    }
    let state = if enabled { "enabled" } else { "disabled" };
    out.done(
        &format!("client {id} {state}"),
        json!({"client_id": id, "enabled": enabled}),
    );
    Ok(())
}

async fn grants(store: &DynamoStore, out: &Output, command: GrantsCommand) -> Result<(), CtlError> {
    match command {
        GrantsCommand::List(filter) => {
            let of = grants_of(&filter).ok_or_else(|| bad("give --user or --client"))?;
            out.grants(&store.list_grants(of).await?);
        }
        GrantsCommand::Revoke { grant, filter } => {
            let now = SystemClock.now();
            let ids: Vec<GrantId> = match (grant, grants_of(&filter)) {
                (Some(id), None) => {
                    let id = GrantId::parse(&id).ok_or_else(|| bad("--grant is not a grant id"))?;
                    if !revoke_grant(store, &id, now).await? {
                        return Err(CtlError::NotFound(format!("no grant {id}")));
                    }
                    vec![id]
                }
                (None, Some(of)) => {
                    let mut revoked = Vec::new();
                    for grant in store.list_grants(of).await? {
                        if grant.revoked_at.is_none() {
                            revoke_grant(store, &grant.grant_id, now).await?;
                            revoked.push(grant.grant_id);
                        }
                    }
                    revoked
                }
                _ => return Err(bad("give one of --grant, --user or --client")),
            };
            out.revoked(&ids);
        }
    }
    Ok(())
}

fn grants_of(filter: &GrantFilter) -> Option<GrantsOf<'_>> {
    match (&filter.user, &filter.client) {
        (Some(user), None) => Some(GrantsOf::User(user)),
        (None, Some(client)) => Some(GrantsOf::Client(client)),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! Configuration from environment variables, read once at cold start. Any bad value stops
//! start-up with a message that names the variable.

use crate::crypto::secret::Secret;
use crate::domain::access_token::SigningKey;
use crate::domain::discovery::TOKEN_PATH;
use crate::domain::dpop::{normalize_uri, ProofAlgorithm, ProofRules};
use crate::domain::internal_callers::InternalCallers;
use crate::domain::key_ring::{GrantKey, KeyMaterial, KeyState};
use crate::domain::service::{DpopPolicy, Lifetimes};
use std::fmt;

/// Keys shorter than this are refused: HS256 and the token tags need 256-bit keys.
pub const MIN_KEY_BYTES: usize = 32;

/// Re-reading the secret more often than this buys nothing and costs Secrets Manager calls.
pub const MIN_KEYS_REFRESH_SECONDS: i64 = 10;
pub const MAX_KEYS_REFRESH_SECONDS: i64 = 3600;

/// The bound on a warm instance's copy of the keys secret, unless `KEYS_REFRESH_SECONDS` says.
pub const DEFAULT_KEYS_REFRESH_SECONDS: i64 = 300;

pub struct Config {
    /// Access-token signing keys and grant-token keys, each with its state.
    pub keys: KeyMaterial,
    /// How old a warm instance's copy of the keys secret may get before it is read again.
    pub keys_refresh_seconds: i64,
    /// The `iss` claim, and the base URL of every endpoint the metadata names.
    pub issuer: String,
    /// Published in the metadata document, if set.
    pub scopes_supported: Option<Vec<String>>,
    pub lifetimes: Lifetimes,
    pub store: StoreConfig,
    /// Who may call `POST /internal/codes`, on which API.
    pub internal_callers: InternalCallers,
    /// Serve `grant_type=client_credentials` (RFC 6749 §4.4) to clients registered for it.
    pub client_credentials: bool,
    /// Serve public clients (no secret: native and browser apps).
    pub public_clients: bool,
    /// Serve `private_key_jwt` (RFC 7523) to clients registered with keys.
    pub private_key_jwt: bool,
    /// Serve DPoP (RFC 9449) at the token endpoint, with these rules.
    pub dpop: Option<DpopPolicy>,
}

/// Names the keys, never shows them.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("keys", &self.keys)
            .field("keys_refresh_seconds", &self.keys_refresh_seconds)
            .field("issuer", &self.issuer)
            .field("scopes_supported", &self.scopes_supported)
            .field("lifetimes", &self.lifetimes)
            .field("store", &self.store)
            .field("internal_callers", &self.internal_callers)
            .field("client_credentials", &self.client_credentials)
            .field("public_clients", &self.public_clients)
            .field("private_key_jwt", &self.private_key_jwt)
            .field("dpop", &self.dpop)
            .finish()
    }
}

#[derive(Debug)]
pub enum StoreConfig {
    /// The embedded store, optionally seeded with the demo client and code.
    Memory { demo: Option<Box<Demo>> },
    DynamoDb {
        table: String,
        client_cache_seconds: u64,
    },
}

/// The document's example client and a demo authorization code for local runs. Honoured only by
/// the embedded store.
#[derive(Debug)]
pub struct Demo {
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub code: Secret,
    /// A refresh token of a second, already active demo grant, so refresh can be tried first.
    pub refresh_token: Option<Secret>,
    /// A demo resource server allowed to introspect tokens: id and secret.
    pub introspector: Option<(String, Secret)>,
    /// A demo backend with keys instead of a secret (`private_key_jwt`): id and JWK set.
    pub keyed: Option<(String, String)>,
    /// A demo native app (a public client) with a pending code of its own.
    pub public: Option<DemoPublicApp>,
}

/// A public client's demo: its code carries an S256 challenge and is issued for its (loopback)
/// redirect URI.
#[derive(Debug)]
pub struct DemoPublicApp {
    pub client_id: String,
    pub redirect_uri: String,
    pub code: Secret,
    pub code_challenge: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "configuration error in {}: {}",
            self.variable, self.problem
        )
    }
}

impl std::error::Error for ConfigError {}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let keys = key_material(
            plain_entries("SIGNING_KEYS", &env.required("SIGNING_KEYS")?)?,
            plain_entries("GRANT_TOKEN_KEYS", &env.required("GRANT_TOKEN_KEYS")?)?,
        )?;
        Self::with_keys(lookup, keys)
    }

    /// Reads everything but the keys through `lookup`; the keys come from elsewhere (the
    /// keys secret).
    pub fn with_keys(
        lookup: impl Fn(&str) -> Option<String>,
        keys: KeyMaterial,
    ) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let keys_refresh_seconds = env.seconds(
            "KEYS_REFRESH_SECONDS",
            DEFAULT_KEYS_REFRESH_SECONDS,
            MIN_KEYS_REFRESH_SECONDS,
        )?;
        if keys_refresh_seconds > MAX_KEYS_REFRESH_SECONDS {
            return Err(invalid(
                "KEYS_REFRESH_SECONDS",
                "must be at most 3600: a removed key must stop working within the hour",
            ));
        }
        let issuer = env.required("ISSUER")?.trim_end_matches('/').to_owned();
        let scopes_supported = env
            .optional("SCOPES_SUPPORTED")
            .map(|text| text.split_whitespace().map(str::to_owned).collect());
        let defaults = Lifetimes::default();
        let lifetimes = Lifetimes {
            access_token: env.seconds("ACCESS_TOKEN_TTL_SECONDS", defaults.access_token, 60)?,
            code: env.seconds("CODE_TTL_SECONDS", defaults.code, 1)?,
            refresh_idle: env.seconds("REFRESH_IDLE_TTL_SECONDS", defaults.refresh_idle, 60)?,
            refresh_absolute: env.seconds(
                "REFRESH_ABSOLUTE_TTL_SECONDS",
                defaults.refresh_absolute,
                60,
            )?,
            grace: env.seconds("REFRESH_GRACE_SECONDS", defaults.grace, 0)?,
        };
        if lifetimes.grace > 300 {
            return Err(invalid(
                "REFRESH_GRACE_SECONDS",
                "must be at most 300: the window lets a retired token yield the live one",
            ));
        }
        let store = match env.optional("TOKEN_STORE").as_deref() {
            None | Some("memory") => StoreConfig::Memory {
                demo: demo(&env)?.map(Box::new),
            },
            Some("dynamodb") => StoreConfig::DynamoDb {
                table: env.required("TABLE_NAME")?,
                client_cache_seconds: env.seconds("CLIENT_CACHE_SECONDS", 60, 0)? as u64,
            },
            Some(_) => return Err(invalid("TOKEN_STORE", "must be memory or dynamodb")),
        };
        let dpop = dpop(&env, &issuer)?;
        Ok(Self {
            keys,
            keys_refresh_seconds,
            issuer,
            scopes_supported,
            lifetimes,
            store,
            internal_callers: internal_callers(&env)?,
            client_credentials: env.switch("CLIENT_CREDENTIALS")?,
            public_clients: env.switch("PUBLIC_CLIENTS")?,
            private_key_jwt: env.switch("PRIVATE_KEY_JWT")?,
            dpop,
        })
    }
}

/// Refuses guessable keys (`key_strength`): HS256 signing keys and grant token keys, as parsed,
/// whichever source gave them. Names the variable and the key id, never the key.
fn refuse_weak(signing: &[SigningKey], grant: &[GrantKey]) -> Result<(), ConfigError> {
    let signing = signing
        .iter()
        .filter(|k| k.algorithm == jsonwebtoken::Algorithm::HS256)
        .map(|k| ("SIGNING_KEYS", &k.kid, &k.secret));
    let grant = grant
        .iter()
        .map(|k| ("GRANT_TOKEN_KEYS", &k.kid, &k.secret));
    for (variable, kid, secret) in signing.chain(grant) {
        if let Some(why) = crate::key_strength::weakness(secret) {
            return Err(invalid(
                variable,
                format!("key '{kid}' {why}: make a random one (README, Deploying)"),
            ));
        }
    }
    Ok(())
}

struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(invalid(name, "is required"))
    }

    /// `enabled` or `disabled` (the default).
    fn switch(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.optional(name).as_deref() {
            None | Some("disabled") => Ok(false),
            Some("enabled") => Ok(true),
            Some(_) => Err(invalid(name, "must be enabled or disabled")),
        }
    }

    fn seconds(&self, name: &'static str, default: i64, min: i64) -> Result<i64, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(text) => match text.trim().parse::<i64>() {
                Ok(value) if value >= min => Ok(value),
                _ => Err(invalid(
                    name,
                    format!("must be a whole number of seconds >= {min}"),
                )),
            },
        }
    }
}

/// A key as written (in a variable's list or an entry of the keys secret), before it becomes a
/// signing or a grant-token key.
pub struct KeyEntry {
    pub kid: String,
    pub secret: Vec<u8>,
    pub state: KeyState,
}

/// Parses `kid:secret[,kid:secret...]`. Secrets are raw text of at least 32 bytes and may not
/// contain a comma.
pub fn parse_keys(name: &'static str, text: &str) -> Result<Vec<(String, Vec<u8>)>, ConfigError> {
    let mut keys = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (kid, secret) = entry
            .split_once(':')
            .ok_or(invalid(name, "each key must be written kid:secret"))?;
        keys.push((kid.trim().to_owned(), secret.as_bytes().to_vec()));
    }
    check_keys(
        name,
        keys.iter()
            .map(|(kid, secret)| (kid.as_str(), secret.as_slice())),
    )?;
    Ok(keys)
}

/// A plain list's keys with their states: the first signs from the start, the others verify.
pub fn plain_entries(name: &'static str, text: &str) -> Result<Vec<KeyEntry>, ConfigError> {
    Ok(parse_keys(name, text)?
        .into_iter()
        .enumerate()
        .map(|(index, (kid, secret))| KeyEntry {
            kid,
            secret,
            state: match index {
                0 => KeyState::ALWAYS,
                _ => KeyState::Published,
            },
        })
        .collect())
}

/// Checks a set of keys: at least one, ids of letters, digits, '-', '_' or '.', each id once,
/// each secret at least 32 bytes. Errors name the variable and the key id, never the key.
pub fn check_keys<'a>(
    name: &'static str,
    keys: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> Result<(), ConfigError> {
    let mut seen: Vec<&str> = Vec::new();
    for (position, (kid, secret)) in keys.enumerate() {
        // Messages below name a key by its id. An id shorter than any key can never be a key
        // written into the wrong field, so it is safe to print.
        if kid.len() >= MIN_KEY_BYTES {
            return Err(invalid(
                name,
                format!(
                    "key #{}: a key id must be shorter than {MIN_KEY_BYTES} bytes",
                    position + 1
                ),
            ));
        }
        if kid.is_empty()
            || !kid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(invalid(
                name,
                "a key id must be letters, digits, '-', '_' or '.'",
            ));
        }
        if secret.len() < MIN_KEY_BYTES {
            return Err(invalid(
                name,
                format!("key '{kid}' is shorter than {MIN_KEY_BYTES} bytes"),
            ));
        }
        if seen.contains(&kid) {
            return Err(invalid(name, format!("key id '{kid}' appears twice")));
        }
        seen.push(kid);
    }
    if seen.is_empty() {
        return Err(invalid(name, "at least one key is required"));
    }
    Ok(())
}

/// Both key sets from their entries: checked, signing keys parsed and probed (a key that cannot
/// sign fails here, not on the first request). Errors name `SIGNING_KEYS` or `GRANT_TOKEN_KEYS`.
pub fn key_material(
    signing: Vec<KeyEntry>,
    grant: Vec<KeyEntry>,
) -> Result<KeyMaterial, ConfigError> {
    for (name, entries) in [("SIGNING_KEYS", &signing), ("GRANT_TOKEN_KEYS", &grant)] {
        let pairs = entries
            .iter()
            .map(|e| (e.kid.as_str(), e.secret.as_slice()));
        check_keys(name, pairs)?;
        if !entries
            .iter()
            .any(|e| matches!(e.state, KeyState::Active { .. }))
        {
            return Err(invalid(name, "no key is active"));
        }
    }
    let signing: Vec<SigningKey> = signing
        .into_iter()
        .map(|entry| {
            SigningKey::parse(&entry.kid, &entry.secret)
                .map(|key| key.with_state(entry.state))
                .map_err(|problem| invalid("SIGNING_KEYS", problem))
        })
        .collect::<Result<_, _>>()?;
    let grant = grant
        .into_iter()
        .map(|entry| GrantKey {
            kid: entry.kid,
            secret: entry.secret,
            state: entry.state,
        })
        .collect::<Vec<_>>();
    refuse_weak(&signing, &grant)?;
    Ok(KeyMaterial { signing, grant })
}

/// The internal route's allowlist: unset or empty closes the route; a list needs the API id too,
/// since only that API's IAM context is believed.
fn internal_callers(env: &Env) -> Result<InternalCallers, ConfigError> {
    const PRINCIPALS: &str = "INTERNAL_CODES_PRINCIPALS";
    const API_ID: &str = "INTERNAL_CODES_API_ID";
    let api_id = env.optional(API_ID).unwrap_or_default();
    let callers = InternalCallers::parse(&api_id, &env.optional(PRINCIPALS).unwrap_or_default())
        .map_err(|why| invalid(PRINCIPALS, why))?;
    if !callers.is_closed() && api_id.is_empty() {
        return Err(invalid(
            API_ID,
            format!("is required when {PRINCIPALS} is set"),
        ));
    }
    Ok(callers)
}

/// DPoP (RFC 9449) where `DPOP=enabled`: the algorithms (`DPOP_SIGNING_ALGS`, ES256 by
/// default), how old or how far ahead a proof's `iat` may be (`DPOP_PROOF_MAX_AGE_SECONDS`, 60),
/// and whether every public client must send proofs (`DPOP_REQUIRED_FOR_PUBLIC_CLIENTS`). The
/// URL a proof must name is the issuer's token endpoint, from configuration only.
fn dpop(env: &Env, issuer: &str) -> Result<Option<DpopPolicy>, ConfigError> {
    if !env.switch("DPOP")? {
        return Ok(None);
    }
    const ALGS: &str = "DPOP_SIGNING_ALGS";
    let names = env.optional(ALGS).unwrap_or_else(|| "ES256".to_owned());
    let algorithms = ProofAlgorithm::parse_list(&names).map_err(|why| invalid(ALGS, why))?;
    let max_age = env.seconds("DPOP_PROOF_MAX_AGE_SECONDS", 60, 1)?;
    if max_age > 300 {
        return Err(invalid(
            "DPOP_PROOF_MAX_AGE_SECONDS",
            "must be at most 300: a proof is made for the request that carries it",
        ));
    }
    let target = normalize_uri(&format!("{issuer}{TOKEN_PATH}"))
        .ok_or_else(|| invalid("ISSUER", "must be an http or https URL for DPoP"))?;
    Ok(Some(DpopPolicy {
        rules: ProofRules {
            algorithms,
            method: "POST",
            target,
            max_age,
            max_ahead: max_age,
        },
        required_for_public_clients: env.switch("DPOP_REQUIRED_FOR_PUBLIC_CLIENTS")?,
        nonces: env.switch("DPOP_NONCES")?,
    }))
}

fn demo(env: &Env) -> Result<Option<Demo>, ConfigError> {
    let Some(client_id) = env.optional("DEMO_CLIENT_ID") else {
        return Ok(None);
    };
    Ok(Some(Demo {
        client_id,
        client_secret: Secret::new(env.required("DEMO_CLIENT_SECRET")?),
        scope: env.required("DEMO_CLIENT_SCOPE")?,
        redirect_uri: env.required("DEMO_REDIRECT_URI")?,
        user_id: env.required("DEMO_USER_ID")?,
        code: Secret::new(env.required("DEMO_CODE")?),
        refresh_token: env.optional("DEMO_REFRESH_TOKEN").map(Secret::new),
        introspector: match env.optional("DEMO_INTROSPECTOR_ID") {
            None => None,
            Some(id) => Some((id, Secret::new(env.required("DEMO_INTROSPECTOR_SECRET")?))),
        },
        keyed: match env.optional("DEMO_KEYED_CLIENT_ID") {
            None => None,
            Some(id) => Some((id, env.required("DEMO_KEYED_CLIENT_JWKS")?)),
        },
        public: match env.optional("DEMO_PUBLIC_CLIENT_ID") {
            None => None,
            Some(client_id) => Some(DemoPublicApp {
                client_id,
                redirect_uri: env.required("DEMO_PUBLIC_REDIRECT_URI")?,
                code: Secret::new(env.required("DEMO_PUBLIC_CODE")?),
                code_challenge: env.required("DEMO_PUBLIC_CODE_CHALLENGE")?,
            }),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> HashMap<&'static str, String> {
        HashMap::from([
            (
                "SIGNING_KEYS",
                "k1:hJ3vQ8rZp1xW6nT0yLc4mK9sA2dF7gBe".to_owned(),
            ),
            (
                "GRANT_TOKEN_KEYS",
                "t1:Xq5Lw2Nc8Rv1Tz6Ym3Kb9Hs4Jd0Pf7Ga".to_owned(),
            ),
            ("ISSUER", "https://issuer.test".to_owned()),
        ])
    }

    fn load(vars: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_apply() {
        let config = load(&base()).unwrap();
        assert_eq!(config.lifetimes, Lifetimes::default());
        assert!(matches!(config.store, StoreConfig::Memory { demo: None }));
        assert_eq!(config.keys.signing[0].kid, "k1");
        assert_eq!(config.keys.signing[0].state, KeyState::ALWAYS);
        assert_eq!(config.keys_refresh_seconds, 300);
    }

    #[test]
    fn errors_name_the_variable() {
        for (name, value) in [
            ("SIGNING_KEYS", "k1:short".to_owned()),
            ("SIGNING_KEYS", String::new()),
            ("GRANT_TOKEN_KEYS", "nokid".to_owned()),
            ("ACCESS_TOKEN_TTL_SECONDS", "soon".to_owned()),
            ("REFRESH_GRACE_SECONDS", "-1".to_owned()),
            ("KEYS_REFRESH_SECONDS", "5".to_owned()),
            ("TOKEN_STORE", "postgres".to_owned()),
            (
                "INTERNAL_CODES_PRINCIPALS",
                "arn:aws:iam::123456789012:root".to_owned(),
            ),
        ] {
            let mut vars = base();
            vars.insert(name, value);
            let error = load(&vars).unwrap_err();
            assert_eq!(error.variable, name);
            assert!(error.to_string().contains(name));
        }
    }

    #[test]
    fn key_errors_do_not_echo_the_secret() {
        let mut vars = base();
        vars.insert("SIGNING_KEYS", "k1:tooshortsecret".to_owned());
        assert!(!load(&vars)
            .unwrap_err()
            .to_string()
            .contains("tooshortsecret"));
    }

    #[test]
    fn debug_output_shows_no_key_material() {
        let printed = format!("{:?}", load(&base()).unwrap());
        assert!(printed.contains("k1"));
        assert!(!printed.contains("hJ3vQ8rZ"));
        assert!(!printed.contains("Xq5Lw2Nc"));
    }

    /// The check runs on every load, local or not, and names the variable and the key id.
    #[test]
    fn guessable_keys_are_refused_naming_variable_and_kid() {
        for (name, value) in [
            ("SIGNING_KEYS", format!("weak:{}", "s".repeat(40))),
            ("GRANT_TOKEN_KEYS", format!("weak:{}", "ab".repeat(20))),
        ] {
            let mut vars = base();
            vars.insert(name, value);
            let error = load(&vars).unwrap_err();
            assert_eq!(error.variable, name);
            assert!(error.problem.contains("'weak'"), "{error}");
            assert!(!error.problem.contains("ssss") && !error.problem.contains("abab"));
        }
    }

    #[test]
    fn the_internal_route_is_closed_unless_configured_and_needs_its_api() {
        assert!(load(&base()).unwrap().internal_callers.is_closed());
        let mut vars = base();
        vars.insert(
            "INTERNAL_CODES_PRINCIPALS",
            "arn:aws:iam::123456789012:role/Consent".to_owned(),
        );
        assert_eq!(load(&vars).unwrap_err().variable, "INTERNAL_CODES_API_ID");
        vars.insert("INTERNAL_CODES_API_ID", "abcdef1234".to_owned());
        assert!(!load(&vars).unwrap().internal_callers.is_closed());
    }

    #[test]
    fn dpop_algorithms_are_read_from_the_list_and_refused_loudly() {
        let with = |algs: Option<&str>| {
            let mut vars = base();
            vars.insert("DPOP", "enabled".to_owned());
            if let Some(algs) = algs {
                vars.insert("DPOP_SIGNING_ALGS", algs.to_owned());
            }
            load(&vars)
        };
        let algorithms = |algs| with(algs).unwrap().dpop.unwrap().rules.algorithms;
        assert_eq!(algorithms(None), [ProofAlgorithm::Es256]);
        assert_eq!(
            algorithms(Some("ES256,Ed25519, RS256 EdDSA")),
            [
                ProofAlgorithm::Es256,
                ProofAlgorithm::Ed25519,
                ProofAlgorithm::Rs256,
                ProofAlgorithm::EdDsa
            ]
        );
        // (Empty is unset, as for every variable: the default.)
        for bad in [" , ", "ES256,HS256", "none", "es256", "ES384"] {
            let error = with(Some(bad)).unwrap_err();
            assert_eq!(error.variable, "DPOP_SIGNING_ALGS", "{bad:?}");
        }
    }

    #[test]
    fn dynamodb_needs_a_table() {
        let mut vars = base();
        vars.insert("TOKEN_STORE", "dynamodb".to_owned());
        assert_eq!(load(&vars).unwrap_err().variable, "TABLE_NAME");
    }
}

//! Shared test fixtures: a harness around the real service and handler, request builders,
//! response helpers, and the two store backends the suites run on.
#![allow(dead_code)]

pub mod assertions;
pub mod backends;
pub mod dpop;
pub mod http1;
pub mod runtime_api;
pub mod sdk_faults;
pub mod stall_proxy;
pub mod table_dump;

use chatroom_token::clock::{Clock, ManualClock};
use chatroom_token::crypto::grant_token::TokenKeys;
use chatroom_token::crypto::secret::Secret;
use chatroom_token::domain::access_token::{AccessTokenVerifier, SigningKey};
use chatroom_token::domain::code_issuer::{issue_code, CodeRequest};
use chatroom_token::domain::internal_callers::InternalCallers;
use chatroom_token::domain::model::{Client, GrantType, SecretHash};
use chatroom_token::domain::pkce::{CodeChallenge, PkcePolicy};
use chatroom_token::domain::port::{ClientRegistry, GrantStore};
use chatroom_token::domain::scope::Scope;
use chatroom_token::domain::service::{DpopPolicy, Lifetimes, TokenService};
use chatroom_token::http::handle;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

pub const ISSUER: &str = "https://auth.chatroom.test";
pub const CLIENT_ID: &str = "000000";
pub const CLIENT_SECRET: &str = "999999";
pub const OTHER_CLIENT_ID: &str = "111111";
pub const OTHER_SECRET: &str = "other-secret";
pub const REDIRECT_URI: &str = "https://app.example/callback";
pub const USER_ID: &str = "8836257";
/// An API server registered to introspect tokens (and for nothing else).
/// A native app registered as a public client (`with_public_clients`).
pub const PUBLIC_ID: &str = "native-app";
pub const LOOPBACK_REDIRECT_URI: &str = "http://127.0.0.1/callback";
pub const PRIVATE_USE_REDIRECT_URI: &str = "com.example.app:/callback";
/// A backend registered for the client credentials grant only (`with_client_credentials`).
pub const BACKEND_ID: &str = "backend-1";
pub const BACKEND_SECRET: &str = "backend-secret";
/// An app that authenticates with keys (`with_private_key_jwt`): `assertions::keyed_jwks`.
pub const KEYED_ID: &str = "keyed-app";
pub const RESOURCE_SERVER_ID: &str = "api-server";
pub const RESOURCE_SERVER_SECRET: &str = "api-server-secret";
pub use chatroom_token::domain::discovery::{
    INTROSPECTION_PATH as INTROSPECT_PATH, REVOCATION_PATH as REVOKE_PATH,
};
pub const FORM: &str = "application/x-www-form-urlencoded";
/// The API and the consent page's role the suite's service admits on the internal route: those
/// of `events/http-v2-internal-codes-iam.json` (and of Cargo.toml's local environment).
pub const INTERNAL_API_ID: &str = "abcdef1234";
pub const CONSENT_ROLE: &str = "arn:aws:iam::123456789012:role/consent-page";
/// RFC 7636 Appendix B: a verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const S256_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn signing_key() -> SigningKey {
    SigningKey::hs256("test-1", b"test-signing-key-0123456789abcdef".to_vec())
}

pub fn token_keys() -> TokenKeys {
    TokenKeys::new(vec![b"test-grant-token-key-0123456789ab".to_vec()])
}

/// Something that can give a fresh, empty pair of stores.
pub trait Backend: Send + Sync {
    fn stores(&self)
        -> impl Future<Output = (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>)> + Send;
}

/// What a harness's service serves beyond the API document.
#[derive(Clone, Default)]
pub struct Served {
    pub client_credentials: bool,
    pub public_clients: bool,
    pub private_key_jwt: bool,
    /// DPoP, with these rules.
    pub dpop: Option<DpopPolicy>,
}

/// The suite's DPoP rules: ES256 and Ed25519 proofs for the token endpoint (the template's
/// default), `iat` within a minute.
pub fn dpop_policy(required_for_public_clients: bool) -> DpopPolicy {
    use chatroom_token::domain::dpop::ProofAlgorithm;
    DpopPolicy {
        rules: chatroom_token::domain::dpop::ProofRules {
            algorithms: vec![ProofAlgorithm::Es256, ProofAlgorithm::Ed25519],
            method: "POST",
            target: dpop::TOKEN_URL.into(),
            max_age: 60,
            max_ahead: 60,
        },
        required_for_public_clients,
        nonces: false,
    }
}

pub struct Harness {
    pub service: Arc<TokenService>,
    pub clock: Arc<ManualClock>,
    pub clients: Arc<dyn ClientRegistry>,
    pub grants: Arc<dyn GrantStore>,
    pub lifetimes: Lifetimes,
    /// Where the manual clock started: the real time at creation, so access tokens verify
    /// against the real clock and DynamoDB TTL values stay plausible.
    pub start: i64,
}

impl Harness {
    pub async fn new(backend: &impl Backend, lifetimes: Lifetimes) -> Self {
        Self::build(backend, lifetimes, Served::default()).await
    }

    /// The standard harness serving public clients, with `PUBLIC_ID` registered as one: its
    /// redirect URIs the suite's, a loopback one and a private-use scheme.
    pub async fn with_public_clients(backend: &impl Backend) -> Self {
        let served = Served {
            public_clients: true,
            ..Served::default()
        };
        let harness = Self::build(backend, Lifetimes::default(), served).await;
        harness.put(&harness.public_record()).await;
        harness
    }

    /// The public app's record, as registered.
    pub fn public_record(&self) -> Client {
        let grant_types = [GrantType::AuthorizationCode, GrantType::RefreshToken];
        Client {
            public: true,
            redirect_uris: vec![
                REDIRECT_URI.into(),
                LOOPBACK_REDIRECT_URI.into(),
                PRIVATE_USE_REDIRECT_URI.into(),
            ],
            // What it is registered with does not matter: a public client's codes need S256.
            pkce: PkcePolicy::Plain,
            ..client(PUBLIC_ID, "never-used", true, &grant_types, self.start)
        }
    }

    /// A harness serving DPoP (and public clients and client credentials), with `PUBLIC_ID`
    /// registered.
    pub async fn with_dpop(backend: &impl Backend, required_for_public_clients: bool) -> Self {
        Self::with_dpop_policy(backend, dpop_policy(required_for_public_clients)).await
    }

    /// The same, with these DPoP rules.
    pub async fn with_dpop_policy(backend: &impl Backend, policy: DpopPolicy) -> Self {
        let served = Served {
            client_credentials: true,
            public_clients: true,
            private_key_jwt: false,
            dpop: Some(policy),
        };
        let harness = Self::build(backend, Lifetimes::default(), served).await;
        harness.put(&harness.public_record()).await;
        harness.register_backend().await;
        harness
    }

    /// Registers `BACKEND_ID` for the client credentials grant only.
    pub async fn register_backend(&self) {
        let grant_types = [GrantType::ClientCredentials];
        self.register_with(BACKEND_ID, BACKEND_SECRET, true, &grant_types)
            .await;
    }

    /// Posts a token request with these `DPoP` header values.
    pub async fn post_with_dpop(&self, params: &[(&str, &str)], proofs: &[&str]) -> Reply {
        let mut request = form_request(params);
        for proof in proofs {
            request.headers_mut().append("dpop", proof.parse().unwrap());
        }
        self.call(request).await
    }

    /// A harness serving every way of authenticating (and client credentials), with `KEYED_ID`
    /// registered with keys.
    pub async fn with_private_key_jwt(backend: &impl Backend) -> Self {
        let served = Served {
            client_credentials: true,
            public_clients: true,
            private_key_jwt: true,
            dpop: None,
        };
        let harness = Self::build(backend, Lifetimes::default(), served).await;
        harness.put(&harness.keyed_record()).await;
        harness.put(&harness.public_record()).await;
        harness
    }

    /// The keyed app's record: authorization code, refresh and client credentials grants, and
    /// introspection, all authenticated with its keys.
    pub fn keyed_record(&self) -> Client {
        let grant_types = [
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ];
        Client {
            assertion_keys: Some(assertions::keyed_jwks()),
            may_introspect: true,
            ..client(KEYED_ID, "never-shown", true, &grant_types, self.start)
        }
    }

    /// A fresh assertion of `client_id` signed by `signer`, for `audience`, as of the harness's
    /// clock.
    pub fn assertion_for(
        &self,
        signer: assertions::Signer,
        client_id: &str,
        audience: &str,
    ) -> String {
        signer.sign(&assertions::assertion_claims(
            client_id,
            audience,
            self.clock.now(),
        ))
    }

    /// A fresh assertion of the keyed app, signed with its EC key, for the token endpoint.
    pub fn assertion(&self) -> String {
        let token_url = format!("{ISSUER}/chatroom/api/token");
        self.assertion_for(assertions::Signer::Ec, KEYED_ID, &token_url)
    }

    /// The standard harness with the client credentials grant served, and `BACKEND_ID`
    /// registered for it.
    pub async fn with_client_credentials(backend: &impl Backend) -> Self {
        Self::with_client_credentials_for(backend, Lifetimes::default()).await
    }

    /// The same with these server lifetimes.
    pub async fn with_client_credentials_for(backend: &impl Backend, lifetimes: Lifetimes) -> Self {
        let served = Served {
            client_credentials: true,
            ..Served::default()
        };
        let harness = Self::build(backend, lifetimes, served).await;
        harness.register_backend().await;
        harness
    }

    /// A harness whose service serves `served`, with the standard registrations only.
    pub async fn serving(backend: &impl Backend, lifetimes: Lifetimes, served: Served) -> Self {
        Self::build(backend, lifetimes, served).await
    }

    async fn build(backend: &impl Backend, lifetimes: Lifetimes, served: Served) -> Self {
        let (clients, grants) = backend.stores().await;
        let start = chatroom_token::clock::SystemClock.now();
        let clock = Arc::new(ManualClock::new(start));
        let service = service_over(&clients, &grants, &clock, lifetimes, served);
        let harness = Self {
            service: Arc::new(service),
            clock,
            clients,
            grants,
            lifetimes,
            start,
        };
        harness.register(CLIENT_ID, CLIENT_SECRET, true).await;
        harness.register(OTHER_CLIENT_ID, OTHER_SECRET, true).await;
        harness.register_resource_server().await;
        harness
    }

    /// Another instance of the service, as Lambda runs many: the same keys, stores and clock,
    /// nothing else shared.
    pub fn another_instance(&self, served: Served) -> TokenService {
        let clients: Arc<dyn ClientRegistry> = self.clients.clone();
        service_over(&clients, &self.grants, &self.clock, self.lifetimes, served)
    }
}

/// The suite's service over these stores, serving `served`.
fn service_over(
    clients: &Arc<dyn ClientRegistry>,
    grants: &Arc<dyn GrantStore>,
    clock: &Arc<ManualClock>,
    lifetimes: Lifetimes,
    served: Served,
) -> TokenService {
    let service = TokenService::new(
        clients.clone(),
        grants.clone(),
        clock.clone(),
        &[signing_key()],
        ISSUER,
        token_keys(),
        lifetimes,
    )
    .with_internal_callers(InternalCallers::parse(INTERNAL_API_ID, CONSENT_ROLE).unwrap());
    let service = if served.client_credentials {
        service.with_client_credentials()
    } else {
        service
    };
    let service = if served.public_clients {
        service.with_public_clients()
    } else {
        service
    };
    let service = if served.private_key_jwt {
        service.with_private_key_jwt()
    } else {
        service
    };
    match served.dpop {
        Some(policy) => service.with_dpop(policy),
        None => service,
    }
}

impl Harness {
    pub async fn standard(backend: &impl Backend) -> Self {
        Self::new(backend, Lifetimes::default()).await
    }

    pub async fn register(&self, id: &str, secret: &str, enabled: bool) {
        self.register_with(
            id,
            secret,
            enabled,
            &[GrantType::AuthorizationCode, GrantType::RefreshToken],
        )
        .await;
    }

    pub async fn register_with(
        &self,
        id: &str,
        secret: &str,
        enabled: bool,
        grant_types: &[GrantType],
    ) {
        self.clients
            .put_client(&client(id, secret, enabled, grant_types, self.start))
            .await
            .unwrap();
    }

    /// Registers (or replaces) this client record.
    pub async fn put(&self, client: &Client) {
        self.clients.put_client(client).await.unwrap();
    }

    /// The standard app's record, as registered.
    pub fn app_record(&self) -> Client {
        let grant_types = [GrantType::AuthorizationCode, GrantType::RefreshToken];
        client(CLIENT_ID, CLIENT_SECRET, true, &grant_types, self.start)
    }

    /// Registers an app like the standard client (its secret, scopes and redirect URI), with
    /// this PKCE level.
    pub async fn register_with_pkce(&self, id: &str, pkce: PkcePolicy) {
        let grant_types = [GrantType::AuthorizationCode, GrantType::RefreshToken];
        let registered = Client {
            pkce,
            ..client(id, CLIENT_SECRET, true, &grant_types, self.start)
        };
        self.clients.put_client(&registered).await.unwrap();
    }

    async fn register_resource_server(&self) {
        let server = Client {
            may_introspect: true,
            assertion_keys: None,
            dpop_bound_access_tokens: false,
            ..client(
                RESOURCE_SERVER_ID,
                RESOURCE_SERVER_SECRET,
                true,
                &[],
                self.start,
            )
        };
        self.clients.put_client(&server).await.unwrap();
    }

    /// Revokes a token as this client (RFC 7009).
    pub async fn revoke_as(&self, client_id: &str, secret: &str, token: &str) -> Reply {
        self.call(form_request_to(
            REVOKE_PATH,
            &[
                ("client_id", client_id),
                ("client_secret", secret),
                ("token", token),
            ],
        ))
        .await
    }

    pub async fn revoke(&self, token: &str) -> Reply {
        self.revoke_as(CLIENT_ID, CLIENT_SECRET, token).await
    }

    /// Introspects a token as the resource server (RFC 7662).
    pub async fn introspect(&self, token: &str) -> Reply {
        self.call(form_request_to(
            INTROSPECT_PATH,
            &[
                ("client_id", RESOURCE_SERVER_ID),
                ("client_secret", RESOURCE_SERVER_SECRET),
                ("token", token),
            ],
        ))
        .await
    }

    /// Issues a code as the consent page would.
    pub async fn code_with(
        &self,
        client_id: &str,
        scope: &str,
        redirect_uri: Option<&str>,
        challenge: Option<CodeChallenge>,
    ) -> String {
        let request = CodeRequest {
            dpop_jkt: None,
            client_id: client_id.into(),
            user_id: USER_ID.into(),
            scope: Scope::parse(scope).unwrap(),
            redirect_uri: redirect_uri.map(str::to_owned),
            challenge,
        };
        issue_code(
            self.clients.as_ref(),
            self.grants.as_ref(),
            &token_keys(),
            &request,
            self.clock.now(),
            self.lifetimes.code,
        )
        .await
        .unwrap()
        .code
        .expose()
        .to_owned()
    }

    pub async fn code(&self) -> String {
        self.code_with(
            CLIENT_ID,
            "user_info_read chat_read",
            Some(REDIRECT_URI),
            None,
        )
        .await
    }

    pub async fn call(&self, request: Request) -> Reply {
        Reply::from(handle(&self.service, request).await)
    }

    /// The metadata document (RFC 8414) the service serves.
    pub async fn metadata(&self) -> Value {
        let path = "/.well-known/oauth-authorization-server";
        self.call(request_with("GET", path, None, "", None))
            .await
            .body
    }

    pub async fn post(&self, params: &[(&str, &str)]) -> Reply {
        self.call(form_request(params)).await
    }

    /// Posts a form body with an Authorization header (HTTP Basic client authentication).
    pub async fn post_authorized(&self, body: &str, authorization: &str) -> Reply {
        self.call(request_with(
            "POST",
            "/chatroom/api/token",
            Some(FORM),
            body,
            Some(authorization),
        ))
        .await
    }

    pub async fn redeem(&self, code: &str) -> Reply {
        self.post(&redemption_params(code)).await
    }

    /// Redeems a code issued with `S256_CHALLENGE`.
    pub async fn redeem_verified(&self, code: &str) -> Reply {
        let mut params = redemption_params(code).to_vec();
        params.push(("code_verifier", VERIFIER));
        self.post(&params).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.post(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// A fresh grant: redeems a new code and returns its first refresh token.
    pub async fn grant(&self) -> String {
        let reply = self.redeem(&self.code().await).await;
        reply.assert_ok();
        reply.refresh_token()
    }

    pub fn verifier(&self) -> AccessTokenVerifier {
        AccessTokenVerifier::new(&[signing_key()], ISSUER, CLIENT_ID)
    }
}

/// The standard client's redemption of `code`, without a verifier.
fn redemption_params(code: &str) -> [(&str, &str); 5] {
    [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ]
}

pub fn form_body(params: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(params).unwrap()
}

pub fn form_request(params: &[(&str, &str)]) -> Request {
    form_request_to("/chatroom/api/token", params)
}

pub fn form_request_to(path: &str, params: &[(&str, &str)]) -> Request {
    request_with("POST", path, Some(FORM), &form_body(params), None)
}

/// A client record as the harness registers one (`Harness::put` stores a changed copy).
pub fn client(id: &str, secret: &str, enabled: bool, grant_types: &[GrantType], at: i64) -> Client {
    Client {
        id: id.into(),
        name: format!("client {id}"),
        secret_hash: SecretHash::of(secret),
        scope: Scope::parse("user_info_read chat_read chat_write").unwrap(),
        redirect_uris: vec![REDIRECT_URI.into()],
        grant_types: grant_types.to_vec(),
        enabled,
        may_introspect: false,
        assertion_keys: None,
        dpop_bound_access_tokens: false,
        // The most permissive level: the suites issue codes with S256, plain and no challenge.
        // Registrations that refuse them are made where that is tested.
        pkce: PkcePolicy::Plain,
        previous_secret: None,
        public: false,
        lifetimes: Default::default(),
        created_at: at,
    }
}

pub fn request_with(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
    authorization: Option<&str>,
) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://api.chatroom.test{path}"));
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    if let Some(authorization) = authorization {
        builder = builder.header("authorization", authorization);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    let encode = |s: &str| serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_owned();
    let pair = format!("{}:{}", encode(id), encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// A handler response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl From<Response<Body>> for Reply {
    fn from(response: Response<Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            raw,
        }
    }
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn assert_common_headers(&self) {
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("pragma"), Some("no-cache"));
    }

    /// A 200 token response with the API document's five fields.
    #[track_caller]
    pub fn assert_ok(&self) {
        self.assert_tokens(&[
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type",
        ]);
    }

    /// A 200 token response with exactly these fields (sorted), its access token bound to a
    /// DPoP key (`token_type` `DPoP`).
    #[track_caller]
    pub fn assert_dpop_tokens(&self, fields: &[&str]) {
        self.assert_token_answer(fields, "DPoP");
    }

    /// A 200 token response with exactly these fields (sorted).
    #[track_caller]
    pub fn assert_tokens(&self, fields: &[&str]) {
        self.assert_token_answer(fields, "Bearer");
    }

    #[track_caller]
    fn assert_token_answer(&self, fields: &[&str], token_type: &str) {
        assert_eq!(self.status, 200, "expected 200, got {}", self.raw);
        self.assert_common_headers();
        let mut keys: Vec<&str> = self
            .body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, fields);
        assert_eq!(self.body["token_type"], token_type);
    }

    /// Asserts an RFC 6749 §5.2 error: this status and code, and nothing but
    /// `error` and `error_description` in the body.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.raw);
        assert_eq!(self.body["error"], code, "body: {}", self.raw);
        self.assert_common_headers();
        let object = self.body.as_object().unwrap();
        assert!(object["error_description"].is_string());
        assert_eq!(
            object.len(),
            2,
            "only error and error_description: {}",
            self.raw
        );
    }

    pub fn refresh_token(&self) -> String {
        self.body["refresh_token"].as_str().unwrap().to_owned()
    }

    pub fn access_token(&self) -> String {
        self.body["access_token"].as_str().unwrap().to_owned()
    }

    pub fn scope(&self) -> String {
        self.body["scope"].as_str().unwrap().to_owned()
    }
}

pub fn secret(text: &str) -> Secret {
    Secret::new(text)
}

/// The environment `cargo lambda watch` gives the function: the local section of Cargo.toml.
pub fn watch_env() -> std::collections::HashMap<String, String> {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string("Cargo.toml").unwrap()).unwrap();
    manifest["package"]["metadata"]["lambda"]["watch"]["env"]
        .as_table()
        .expect("Cargo.toml has the local environment")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// What the consent page sends to the internal code route: a code for the standard client, with
/// an S256 challenge.
pub fn internal_code_body() -> serde_json::Value {
    serde_json::json!({
        "client_id": CLIENT_ID,
        "user_id": USER_ID,
        "scope": "chat_read",
        "redirect_uri": REDIRECT_URI,
        "code_challenge": S256_CHALLENGE,
        "code_challenge_method": "S256",
    })
}

/// A request to the internal code route, as API Gateway passes it: with the caller's IAM
/// identity in the request context when `iam`, otherwise only with what a caller can send
/// (headers that look like a signature and an identity).
pub fn internal_codes_request(body: &serde_json::Value, iam: bool) -> Request {
    internal_codes_request_with(body, iam, |_| {})
}

/// As `internal_codes_request`, with the event changed by `edit` first (another principal, API
/// or route in the request context).
pub fn internal_codes_request_with(
    body: &serde_json::Value,
    iam: bool,
    edit: impl FnOnce(&mut serde_json::Value),
) -> Request {
    let file = if iam {
        "events/http-v2-internal-codes-iam.json"
    } else {
        "events/bad-internal-codes-without-iam.json"
    };
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    event["body"] = body.to_string().into();
    edit(&mut event);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

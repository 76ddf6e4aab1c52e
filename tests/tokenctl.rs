//! The admin tool against DynamoDB (moto): the whole operator flow, driven through the real
//! binary, with the real function redeeming and refreshing what it set up.

mod support;

use chatroom_token::clock::Clock;
use chatroom_token::domain::port::{ClientRegistry, GrantStore};
use chatroom_token::store::dynamodb::DynamoStore;
use serde_json::Value;
use std::process::{Command, Output};
use std::sync::Arc;
use support::backends::{sdk_client, unique_table_name};
use support::*;

const KEYS: &str = "t1:test-grant-token-key-0123456789ab";

struct Ctl {
    table: String,
}

impl Ctl {
    /// A tokenctl over a new table of its own.
    fn with_new_table() -> Self {
        let ctl = Self {
            table: unique_table_name(),
        };
        ctl.ok(&["tables", "create"]);
        ctl
    }

    fn run(&self, args: &[&str]) -> Output {
        support::backends::endpoint();
        Command::new(env!("CARGO_BIN_EXE_tokenctl"))
            .args(args)
            .env("TABLE_NAME", &self.table)
            .env("GRANT_TOKEN_KEYS", KEYS)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .output()
            .unwrap()
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "tokenctl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    #[track_caller]
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }
}

/// A backend whose stores are the table tokenctl manages, with no client cache so admin
/// changes show at once.
struct SharedTable(String);

impl Backend for SharedTable {
    async fn stores(&self) -> (Arc<dyn ClientRegistry>, Arc<dyn GrantStore>) {
        let store = Arc::new(DynamoStore::new(sdk_client(), self.0.clone(), 0));
        (store.clone(), store)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_register_an_app_issue_a_code_and_revoke_a_user() {
    let ctl = Ctl::with_new_table();
    let created = ctl.json(&[
        "clients",
        "create",
        "--name",
        "Chat bot",
        "--scope",
        "chat_read user_info_read",
        "--redirect-uri",
        REDIRECT_URI,
        // Its codes are issued below without a challenge, as in the API document's flow.
        "--pkce",
        "optional",
    ]);
    assert_eq!(created["pkce"], "optional");
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 43, "256 bits");

    // Listings never show a secret.
    let listing = ctl.ok(&["clients", "list"]) + &ctl.ok(&["--json", "clients", "show", &id]);
    assert!(listing.contains(&id));
    assert!(!listing.contains(&secret));

    let code = ctl.ok(&[
        "codes",
        "issue",
        "--client",
        &id,
        "--user",
        USER_ID,
        "--scope",
        "chat_read",
        "--redirect-uri",
        REDIRECT_URI,
    ]);
    let code = code.trim();

    // The function (same table, same keys) redeems and refreshes it.
    let h = Harness::standard(&SharedTable(ctl.table.clone())).await;
    let redeem = |secret: String| {
        let h = &h;
        let id = id.clone();
        async move {
            h.post(&[
                ("grant_type", "authorization_code"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
            ])
            .await
        }
    };
    let redeemed = redeem(secret.clone()).await;
    redeemed.assert_ok();
    let refresh = |secret: String, token: String| {
        let h = &h;
        let id = id.clone();
        async move {
            h.post(&[
                ("grant_type", "refresh_token"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("refresh_token", &token),
            ])
            .await
        }
    };
    let refreshed = refresh(secret.clone(), redeemed.refresh_token()).await;
    refreshed.assert_ok();

    // A resource server registered to introspect does so; the app itself may not.
    let api = ctl.json(&[
        "clients",
        "create",
        "--name",
        "Chat API",
        "--scope",
        "chat_read",
        "--introspect",
    ]);
    let introspect_as = |id: String, secret: String, token: String| {
        let h = &h;
        async move {
            h.call(form_request_to(
                INTROSPECT_PATH,
                &[
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("token", &token),
                ],
            ))
            .await
        }
    };
    let answer = introspect_as(
        api["client_id"].as_str().unwrap().to_owned(),
        api["client_secret"].as_str().unwrap().to_owned(),
        refreshed.access_token(),
    )
    .await;
    assert_eq!(answer.body["active"], true, "{}", answer.raw);
    introspect_as(id.clone(), secret.clone(), refreshed.access_token())
        .await
        .assert_error(400, "unauthorized_client");

    let grants = ctl.json(&["grants", "list", "--user", USER_ID]);
    assert_eq!(grants.as_array().unwrap().len(), 1);
    assert_eq!(grants[0]["client_id"], id.as_str());
    let by_client = ctl.json(&["grants", "list", "--client", &id]);
    assert_eq!(by_client, grants);

    // A leaked secret: replaced at once, the old one stops working, the new one works.
    let rotated = ctl.json(&["clients", "rotate-secret", "--replace", &id]);
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    refresh(secret.clone(), refreshed.refresh_token())
        .await
        .assert_error(401, "invalid_client");
    let again = refresh(new_secret.clone(), refreshed.refresh_token()).await;
    again.assert_ok();

    // Disable and enable.
    ctl.ok(&["clients", "disable", &id]);
    refresh(new_secret.clone(), again.refresh_token())
        .await
        .assert_error(401, "invalid_client");
    ctl.ok(&["clients", "enable", &id]);

    // Log the user out everywhere.
    let revoked = ctl.json(&["grants", "revoke", "--user", USER_ID]);
    assert_eq!(revoked["revoked"].as_array().unwrap().len(), 1);
    refresh(new_secret, again.refresh_token())
        .await
        .assert_error(400, "invalid_grant");
    let grants = ctl.json(&["grants", "list", "--user", USER_ID]);
    assert!(grants[0]["revoked_at"].is_number());

    chatroom_token::store::dynamodb::table::delete_table(&sdk_client(), &ctl.table)
        .await
        .unwrap();
}

/// Rotation without downtime: `rotate-secret` keeps the old secret working beside the new one
/// until `retire-secret` or its expiry, never three at once; `show` says which exist and when
/// the old one ends, never a secret. `set-lifetimes` shortens the app's lifetimes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_rotate_without_downtime_and_lifetimes_are_per_client() {
    let ctl = Ctl::with_new_table();
    let created = ctl.json(&[
        "clients",
        "create",
        "--name",
        "Backend",
        "--scope",
        "chat_read",
        "--grant-type",
        "client_credentials",
    ]);
    let id = created["client_id"].as_str().unwrap().to_owned();
    let first = created["client_secret"].as_str().unwrap().to_owned();
    let h = Harness::with_client_credentials(&SharedTable(ctl.table.clone())).await;
    let token_with = |secret: String| {
        let (h, id) = (&h, id.clone());
        async move {
            h.post(&[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ])
            .await
        }
    };
    assert_eq!(token_with(first.clone()).await.status, 200);
    let show = |ctl: &Ctl| ctl.json(&["clients", "show", &id])[0].clone();
    assert_eq!(show(&ctl)["secrets"]["previous"], Value::Null);

    let second = ctl.json(&["clients", "rotate-secret", &id])["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        token_with(first.clone()).await.status,
        200,
        "the old still works"
    );
    assert_eq!(
        token_with(second.clone()).await.status,
        200,
        "the new works"
    );
    let shown = show(&ctl);
    assert_eq!(shown["secrets"]["previous"]["expires_at"], Value::Null);
    let listing = ctl.ok(&["clients", "list"]) + &shown.to_string();
    assert!(listing.contains("secrets=2"), "{listing}");
    assert!(!listing.contains(&first) && !listing.contains(&second));

    // A third secret while the old one still works is refused, and changes nothing.
    let third = ctl.run(&["clients", "rotate-secret", &id]);
    assert_eq!(third.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&third.stderr).contains("retire-secret"));
    assert_eq!(token_with(first.clone()).await.status, 200);
    assert_eq!(token_with(second.clone()).await.status, 200);

    ctl.ok(&["clients", "retire-secret", &id]);
    token_with(first.clone())
        .await
        .assert_error(401, "invalid_client");
    assert_eq!(token_with(second.clone()).await.status, 200);

    // An old secret given no time at all ends at once, and then a rotation is allowed again.
    let third = ctl.json(&["clients", "rotate-secret", "--old-expires-in", "0", &id])
        ["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    // The function's clock is the harness's, started before tokenctl's "now".
    let behind = chatroom_token::clock::SystemClock.now() + 1 - h.clock.now();
    h.clock.advance(behind.max(0));
    token_with(second.clone())
        .await
        .assert_error(401, "invalid_client");
    assert!(show(&ctl)["secrets"]["previous"]["expires_at"].is_number());
    let fourth = ctl.json(&["clients", "rotate-secret", "--old-expires-in", "3600", &id])
        ["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token_with(third).await.status, 200);
    assert_eq!(token_with(fourth.clone()).await.status, 200);
    let missing = ctl.run(&["clients", "rotate-secret", "no-such-client"]);
    assert_eq!(missing.status.code(), Some(3));

    // The app's own access-token lifetime; one above the server's acts as the server's.
    ctl.ok(&["clients", "set-lifetimes", &id, "--access-token", "300"]);
    assert_eq!(show(&ctl)["lifetimes"]["access_token"], 300);
    assert_eq!(token_with(fourth.clone()).await.body["expires_in"], 300);
    ctl.ok(&["clients", "set-lifetimes", &id, "--access-token", "999999"]);
    assert_eq!(token_with(fourth.clone()).await.body["expires_in"], 7200);
    ctl.ok(&["clients", "set-lifetimes", &id]);
    assert_eq!(show(&ctl)["lifetimes"]["access_token"], Value::Null);
    let too_short = ctl.run(&["clients", "set-lifetimes", &id, "--access-token", "5"]);
    assert_eq!(too_short.status.code(), Some(2));

    chatroom_token::store::dynamodb::table::delete_table(&sdk_client(), &ctl.table)
        .await
        .unwrap();
}

/// `--public` registers a native app: no secret printed or usable, a private-use redirect URI
/// (only for it), shorter grant lifetimes by default, and S256 whatever else is asked.
#[tokio::test]
async fn public_apps_are_registered_without_a_secret() {
    let ctl = Ctl::with_new_table();
    let created = ctl.json(&[
        "clients",
        "create",
        "--public",
        "--name",
        "Phone app",
        "--scope",
        "chat_read",
        "--redirect-uri",
        "com.example.app:/callback",
        "--redirect-uri",
        "http://127.0.0.1/callback",
    ]);
    assert!(created.get("client_secret").is_none(), "{created}");
    assert_eq!(created["token_endpoint_auth_method"], "none");
    assert_eq!(created["pkce"], "s256");
    assert_eq!(created["secrets"]["current"], false);
    assert_eq!(created["lifetimes"]["refresh_idle"], 7 * 86_400);
    assert_eq!(created["lifetimes"]["refresh_absolute"], 30 * 86_400);
    let id = created["client_id"].as_str().unwrap();
    let shown = ctl.json(&["clients", "show", id]);
    assert_eq!(shown[0]["token_endpoint_auth_method"], "none");
    let base = ["clients", "create", "--name", "x", "--scope", "chat_read"];
    for (extra, why) in [
        (
            &["--public", "--pkce", "optional"][..],
            "a public app without S256",
        ),
        (
            &["--public", "--grant-type", "client_credentials"][..],
            "a public backend",
        ),
        (
            &["--public", "--introspect"][..],
            "a public resource server",
        ),
        (
            &["--redirect-uri", "com.example.app:/callback"][..],
            "a private-use scheme for a confidential client",
        ),
        (
            &["--public", "--redirect-uri", "com.example.app://callback"][..],
            "a private-use scheme with an authority",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        assert_eq!(ctl.run(&args).status.code(), Some(2), "{why}");
    }
    chatroom_token::store::dynamodb::table::delete_table(&sdk_client(), &ctl.table)
        .await
        .unwrap();
}

/// An app registered with keys (`--jwks`) gets no secret, authenticates with assertions signed
/// by its keys, and changes its keys with `set-keys`; private keys and unusable sets are
/// refused before anything is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_with_keys_are_registered_without_a_secret_and_change_their_keys() {
    use support::assertions::Signer;
    let ctl = Ctl::with_new_table();
    let both = serde_json::json!({"keys": [Signer::Ec.public_jwk(), Signer::Rsa.public_jwk()]});
    let created = ctl.json(&[
        "clients",
        "create",
        "--name",
        "signing backend",
        "--scope",
        "chat_read",
        "--grant-type",
        "client_credentials",
        "--jwks",
        &both.to_string(),
    ]);
    assert!(created.get("client_secret").is_none(), "{created}");
    assert_eq!(created["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(created["secrets"]["current"], false);
    assert_eq!(created["jwks"]["keys"].as_array().unwrap().len(), 2);
    let id = created["client_id"].as_str().unwrap().to_owned();

    let served = Served {
        client_credentials: true,
        private_key_jwt: true,
        ..Served::default()
    };
    let h = Harness::serving(&SharedTable(ctl.table.clone()), Default::default(), served).await;
    let token_url = format!("{ISSUER}/chatroom/api/token");
    let token = |signer: Signer| {
        let assertion = h.assertion_for(signer, &id, &token_url);
        let h = &h;
        async move {
            h.post(&[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    chatroom_token::domain::client_assertion::ASSERTION_TYPE,
                ),
                ("client_assertion", &assertion),
            ])
            .await
            .status
        }
    };
    assert_eq!(token(Signer::Ec).await, 200);
    assert_eq!(token(Signer::Rsa).await, 200);
    // The app stops using its EC key; the operator drops it.
    let rsa_only = serde_json::json!({"keys": [Signer::Rsa.public_jwk()]});
    ctl.ok(&["clients", "set-keys", &id, &rsa_only.to_string()]);
    assert_eq!(token(Signer::Ec).await, 401);
    assert_eq!(token(Signer::Rsa).await, 200);

    let mut private = Signer::Ec.public_jwk();
    private["d"] = serde_json::json!("bm90IGEgcmVhbCBrZXk");
    let private = serde_json::json!({"keys": [private]}).to_string();
    let rsa_only = rsa_only.to_string();
    let base = ["clients", "create", "--name", "x", "--scope", "chat_read"];
    for (extra, why) in [
        (vec!["--jwks", private.as_str()], "a private key"),
        (vec!["--jwks", "{\"keys\": []}"], "no key"),
        (vec!["--jwks", "not json"], "not JSON"),
        (
            vec!["--public", "--jwks", rsa_only.as_str()],
            "public and keyed",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(&extra);
        assert_eq!(ctl.run(&args).status.code(), Some(2), "{why}");
    }
    assert_eq!(
        ctl.run(&["clients", "set-keys", &id, &private])
            .status
            .code(),
        Some(2),
        "set-keys with a private key"
    );
    // set-keys only for an app registered with keys.
    let secret_app = ctl.json(&base);
    let secret_id = secret_app["client_id"].as_str().unwrap();
    let refused = ctl.run(&["clients", "set-keys", secret_id, &rsa_only]);
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    chatroom_token::store::dynamodb::table::delete_table(&sdk_client(), &ctl.table)
        .await
        .unwrap();
}

/// A client registered without `--pkce` gets codes only with an S256 challenge: `tokenctl
/// codes issue` (the internal route's step) refuses none and `plain` with the fixed text.
#[tokio::test]
async fn codes_need_an_s256_challenge_unless_the_client_allows_less() {
    let ctl = Ctl {
        table: unique_table_name(),
    };
    ctl.ok(&["tables", "create"]);
    let created = ctl.json(&["clients", "create", "--name", "app", "--scope", "chat_read"]);
    assert_eq!(created["pkce"], "s256");
    let id = created["client_id"].as_str().unwrap().to_owned();
    let issue = |extra: &[&str]| {
        let mut args = vec!["codes", "issue", "--client", id.as_str(), "--user", USER_ID];
        args.extend(["--scope", "chat_read"]);
        args.extend(extra);
        ctl.run(&args)
    };
    for extra in [
        &[][..],
        &[
            "--code-challenge",
            VERIFIER,
            "--code-challenge-method",
            "plain",
        ][..],
    ] {
        let refused = issue(extra);
        assert_eq!(refused.status.code(), Some(2), "{extra:?}");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(message.contains("S256"), "{message}");
    }
    assert!(issue(&["--code-challenge", S256_CHALLENGE])
        .status
        .success());
    // An operator lets a confidential backend that sends no challenge go on (an upgrade).
    ctl.ok(&["clients", "set-pkce", &id, "optional"]);
    assert!(issue(&[]).status.success());
    ctl.ok(&["clients", "set-pkce", &id, "s256"]);
    assert_eq!(issue(&[]).status.code(), Some(2));
    assert_eq!(
        ctl.run(&["clients", "set-pkce", &id, "none"]).status.code(),
        Some(2)
    );
    chatroom_token::store::dynamodb::table::delete_table(&sdk_client(), &ctl.table)
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_input_missing_things_and_store_failures_have_distinct_exit_codes() {
    let ctl = Ctl {
        table: unique_table_name(),
    };
    // No such table: a store failure, with a message.
    let output = ctl.run(&["clients", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!output.stderr.is_empty());

    ctl.ok(&["tables", "create"]);
    let bad_scope = ctl.run(&["clients", "create", "--name", "x", "--scope", "bad\"scope"]);
    assert_eq!(bad_scope.status.code(), Some(2));
    let usage = ctl.run(&["clients", "frobnicate"]);
    assert_eq!(usage.status.code(), Some(2));
    let missing = ctl.run(&["clients", "disable", "no-such-client"]);
    assert_eq!(missing.status.code(), Some(3));
    let missing = ctl.run(&[
        "codes",
        "issue",
        "--client",
        "nobody",
        "--user",
        "u",
        "--scope",
        "chat_read",
    ]);
    assert_eq!(missing.status.code(), Some(3));
    let bad_grant = ctl.run(&["grants", "revoke", "--grant", "not-an-id"]);
    assert_eq!(bad_grant.status.code(), Some(2));
    let bad_pkce = ctl.run(&[
        "clients", "create", "--name", "x", "--scope", "a", "--pkce", "none",
    ]);
    assert_eq!(bad_pkce.status.code(), Some(2));

    // No credentials anywhere: a clear message and exit 1, not a hang or a panic.
    let no_credentials = Command::new(env!("CARGO_BIN_EXE_tokenctl"))
        .args(["clients", "list"])
        .env("TABLE_NAME", &ctl.table)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(no_credentials.status.code(), Some(1));
    let message = String::from_utf8_lossy(&no_credentials.stderr);
    assert!(message.contains("tokenctl:"), "{message}");
    chatroom_token::store::dynamodb::table::delete_table(&sdk_client(), &ctl.table)
        .await
        .unwrap();
}

/// A lookalike of a loopback address is not a loopback address: registering it is refused
/// before anything is written, and so is a URI with a fragment or credentials in it.
#[test]
fn lookalike_loopback_redirect_uris_are_refused() {
    let ctl = Ctl {
        table: unique_table_name(),
    };
    ctl.ok(&["tables", "create"]);
    for uri in [
        "http://localhost.evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://localhost@evil.example/cb",
        "http://localhost:8080@evil.example/cb",
        "http://[::1].evil.example/cb",
        "https://app.example@evil.example/cb",
        "https://app.example/cb#fragment",
        "http://app.example/cb",
    ] {
        let output = ctl.run(&register(uri));
        assert_eq!(output.status.code(), Some(2), "{uri} was accepted");
    }
    assert_eq!(
        ctl.json(&["clients", "list"]),
        serde_json::json!([]),
        "nothing registered"
    );
    for uri in [
        "http://localhost/cb",
        "http://localhost:8080/callback",
        "http://127.0.0.1:9000/cb?x=1",
        "http://[::1]:8080/cb",
        "https://app.example/callback",
    ] {
        ctl.ok(&register(uri));
    }
}

fn register(redirect_uri: &str) -> [&str; 8] {
    [
        "clients",
        "create",
        "--name",
        "x",
        "--scope",
        "chat_read",
        "--redirect-uri",
        redirect_uri,
    ]
}

//! The Lambda authorizer of the platform's APIs, started from the local environment as the
//! token function is: tokens the token function issues (bearer, and DPoP-bound for the demo
//! native app) are let through with their context; a bound token without its key, one sent as
//! a bearer token, a proof for another request, and no token at all are refused.

mod support;

use chatroom_token::authorizer::{Authorizer, AuthorizerEvent, Decision};
use chatroom_token::aws::Aws;
use chatroom_token::clock::{Clock, SystemClock};
use chatroom_token::domain::dpop::access_token_hash;
use chatroom_token::domain::service::TokenService;
use chatroom_token::http::handle;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use support::dpop::DpopKey;
use support::*;

const API: &str = "https://api.chatroom.test";
const PATH: &str = "/v1/rooms/42/messages";

fn env() -> HashMap<String, String> {
    let mut env = watch_env();
    env.insert("API_BASE_URL".into(), API.into());
    env
}

async fn token_function(env: &HashMap<String, String>) -> TokenService {
    let lookup = |name: &str| env.get(name).cloned();
    chatroom_token::app::start_with(
        lookup,
        env.keys().cloned(),
        &Aws::default(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap()
}

async fn authorizer(env: &HashMap<String, String>) -> Authorizer {
    start_authorizer(env).await.unwrap()
}

async fn start_authorizer(
    env: &HashMap<String, String>,
) -> Result<Authorizer, chatroom_token::app::StartupError> {
    let lookup = |name: &str| env.get(name).cloned();
    Authorizer::start_with(
        lookup,
        env.keys().cloned(),
        &Aws::default(),
        Arc::new(SystemClock),
    )
    .await
}

/// API Gateway's event for a GET of `PATH` with these headers.
fn event(headers: &[(&str, &str)]) -> AuthorizerEvent {
    let headers: HashMap<&str, &str> = headers.iter().copied().collect();
    serde_json::from_value(json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/GET/v1/rooms/42/messages",
        "rawPath": PATH,
        "headers": headers,
        "requestContext": {"http": {"method": "GET", "path": PATH}},
    }))
    .unwrap()
}

/// A resource request's proof (RFC 9449 §7): the request's method and URL, the token's hash.
fn proof(key: &DpopKey, token: &str, path: &str) -> String {
    key.proof_with(&json!({
        "jti": chatroom_token::crypto::b64url(&chatroom_token::crypto::random_bytes::<12>()),
        "htm": "GET",
        "htu": format!("{API}{path}"),
        "iat": SystemClock.now(),
        "ath": access_token_hash(token),
    }))
}

#[tokio::test]
async fn the_authorizer_lets_our_tokens_through_as_they_were_bound() {
    let env = env();
    let tokens = token_function(&env).await;
    let authorizer = authorizer(&env).await;

    // The demo client's bearer token.
    let issued = Reply::from(
        handle(
            &tokens,
            form_request(&[
                ("grant_type", "authorization_code"),
                ("client_id", &env["DEMO_CLIENT_ID"]),
                ("client_secret", &env["DEMO_CLIENT_SECRET"]),
                ("code", &env["DEMO_CODE"]),
                ("redirect_uri", &env["DEMO_REDIRECT_URI"]),
            ]),
        )
        .await,
    );
    issued.assert_ok();
    let bearer = issued.access_token();
    let decision = authorizer
        .decide(&event(&[("authorization", &format!("Bearer {bearer}"))]))
        .await;
    assert!(decision.is_authorized);
    let context = serde_json::to_value(&decision).unwrap();
    assert_eq!(
        context,
        json!({"isAuthorized": true, "context": {
            "sub": env["DEMO_USER_ID"], "client_id": env["DEMO_CLIENT_ID"],
            "scope": env["DEMO_CLIENT_SCOPE"], "token_type": "Bearer",
        }})
    );

    // The demo native app's token, bound to its key.
    let key = DpopKey::new();
    let mut redemption = form_request(&[
        ("grant_type", "authorization_code"),
        ("client_id", &env["DEMO_PUBLIC_CLIENT_ID"]),
        ("code", &env["DEMO_PUBLIC_CODE"]),
        ("redirect_uri", &env["DEMO_PUBLIC_REDIRECT_URI"]),
        ("code_verifier", VERIFIER),
    ]);
    let token_url = format!("{}/chatroom/api/token", env["ISSUER"]);
    let token_proof = key.proof_with(&json!({
        "jti": "authorizer-test", "htm": "POST", "htu": token_url, "iat": SystemClock.now(),
    }));
    redemption
        .headers_mut()
        .append("dpop", token_proof.parse().unwrap());
    let bound = Reply::from(handle(&tokens, redemption).await);
    assert_eq!(bound.body["token_type"], "DPoP", "{}", bound.raw);
    let bound = bound.access_token();
    let authorization = format!("DPoP {bound}");
    let allowed = authorizer
        .decide(&event(&[
            ("authorization", &authorization),
            ("dpop", &proof(&key, &bound, PATH)),
        ]))
        .await;
    assert!(allowed.is_authorized);
    assert_eq!(allowed.context.unwrap().token_type, "DPoP");

    // An attacker with the bound token and without the key; the token downgraded to a bearer
    // token; a proof made for another path; two proofs; no token.
    let refused: Vec<Vec<(&str, String)>> = vec![
        vec![
            ("authorization", authorization.clone()),
            ("dpop", proof(&DpopKey::new(), &bound, PATH)),
        ],
        vec![("authorization", format!("Bearer {bound}"))],
        vec![
            ("authorization", authorization.clone()),
            ("dpop", proof(&key, &bound, "/v1/admin")),
        ],
        vec![
            ("authorization", authorization.clone()),
            (
                "dpop",
                format!(
                    "{},{}",
                    proof(&key, &bound, PATH),
                    proof(&key, &bound, PATH)
                ),
            ),
        ],
        vec![],
    ];
    for headers in refused {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            authorizer.decide(&event(&headers)).await,
            Decision {
                is_authorized: false,
                context: None
            },
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn the_authorizer_needs_the_apis_base_url() {
    let mut env = env();
    env.remove("API_BASE_URL");
    let error = start_authorizer(&env).await.err().unwrap();
    assert!(error.0.contains("API_BASE_URL"), "{}", error.0);
}

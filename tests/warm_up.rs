//! The cold start opens the connection to DynamoDB, so the first request does not pay for it,
//! and a DynamoDB that cannot be reached at that moment does not stop the function from
//! starting. Played against a loopback DynamoDB that keeps connections alive (moto's server
//! closes each one) and counts what it accepts.

mod support;

use chatroom_token::app::build_service;
use chatroom_token::aws::Aws;
use chatroom_token::clock::SystemClock;
use chatroom_token::config::Config;
use chatroom_token::domain::service::TokenService;
use std::collections::HashMap;
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::backends::function_sdk_config;
use support::http1::{read_message, respond};
use support::*;

/// A DynamoDB that answers every request with an empty JSON object (for GetItem: no item) on
/// HTTP/1.1 keep-alive connections, and remembers each connection and each operation.
#[derive(Clone, Default)]
struct KeepAliveDynamo {
    connections: Arc<Mutex<usize>>,
    operations: Arc<Mutex<Vec<String>>>,
}

impl KeepAliveDynamo {
    fn start() -> (Self, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = Self::default();
        let shared = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                *shared.connections.lock().unwrap() += 1;
                let server = shared.clone();
                std::thread::spawn(move || server.serve(stream));
            }
        });
        (server, url)
    }

    fn serve(&self, stream: TcpStream) {
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        while let Some(request) = read_message(&mut reader) {
            let target = request.header("x-amz-target").unwrap_or_default();
            let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
            self.operations.lock().unwrap().push(operation);
            let json = ("content-type", "application/x-amz-json-1.0".to_owned());
            respond(&mut writer, "200 OK", &[json], b"{}");
        }
    }

    fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    fn operations(&self) -> Vec<String> {
        self.operations.lock().unwrap().clone()
    }
}

/// The deployed function's configuration with its table at `url`.
async fn start_with_dynamodb_at(url: &str) -> TokenService {
    let env: HashMap<&str, String> = HashMap::from([
        (
            "SIGNING_KEYS",
            "k1:Vb7Qx2Lm9Rt4Wz1Nc6Hy3Kp8Js5Df0Ga".to_owned(),
        ),
        (
            "GRANT_TOKEN_KEYS",
            "t1:Ek4Uo9Ci2Yv7Bn1Mx6Zs3Tq8Lr5Wa0Hf".to_owned(),
        ),
        ("ISSUER", ISSUER.to_owned()),
        ("TOKEN_STORE", "dynamodb".to_owned()),
        ("TABLE_NAME", "tokens".to_owned()),
    ]);
    let config = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
    let sdk = function_sdk_config(url).await;
    build_service(config, Arc::new(SystemClock), &Aws::with(sdk))
        .await
        .expect("the function starts")
}

#[tokio::test]
async fn the_start_opens_the_connection_the_first_request_uses() {
    let (dynamo, url) = KeepAliveDynamo::start();
    let service = start_with_dynamodb_at(&url).await;
    assert_eq!(dynamo.connections(), 1, "connected during the start");
    assert_eq!(dynamo.operations(), ["GetItem"]);

    // The first request authenticates its client: one GetItem, on the connection already open.
    let request = form_request(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", "anything"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ]);
    let reply = Reply::from(chatroom_token::http::handle(&service, request).await);
    reply.assert_error(401, "invalid_client");
    assert_eq!(dynamo.operations(), ["GetItem", "GetItem"]);
    assert_eq!(
        dynamo.connections(),
        1,
        "the request reused the start's connection"
    );
}

#[tokio::test]
async fn a_refused_connection_does_not_stop_the_start() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    start_with_dynamodb_at(&url).await;
}

/// On tokio's paused clock: the warm-up's own budget ends it, whatever the machine's speed.
#[tokio::test(start_paused = true)]
async fn a_dynamodb_that_never_answers_does_not_stop_the_start() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().flatten().collect();
        drop(held);
    });
    tokio::time::timeout(Duration::from_secs(60), start_with_dynamodb_at(&url))
        .await
        .expect("the start ended");
}

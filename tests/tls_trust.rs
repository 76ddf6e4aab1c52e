//! The function trusts Amazon Trust Services' roots only (`chatroom_token::aws`). The attacker
//! here holds a certificate for the name the function connects to, from an authority the
//! platform's bundle trusts (a mis-issuing public CA, or one added to the image): a client
//! trusting the platform's bundle talks to them; the function's client refuses the handshake.
//!
//! One test in its own binary: the platform's bundle is read once per process, from
//! `SSL_CERT_FILE` when it is set, so it is set before any client exists.

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::error::SdkError;
use chatroom_token::aws::{http_client, Trust};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

const FIXTURES: &str = "tests/fixtures/tls";

/// A DynamoDB impostor on loopback, serving HTTPS with the rogue authority's certificate for
/// `localhost`; answers every request with an empty JSON object.
fn impostor() -> String {
    let certs = CertificateDer::pem_file_iter(format!("{FIXTURES}/server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let tls = rustls::ServerConnection::new(config).unwrap();
                let mut stream = rustls::StreamOwned::new(tls, tcp);
                // One request per connection: read to the end of its body, answer, close.
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                while !complete(&request) {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                    }
                }
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                              content-length: 2\r\nconnection: close\r\n\r\n{}";
                let _ = stream.write_all(answer.as_bytes());
                let _ = stream.flush();
                stream.conn.send_close_notify();
                let _ = stream.flush();
            });
        }
    });
    url
}

/// Whether `bytes` hold a whole request: headers, then Content-Length bytes of body.
fn complete(bytes: &[u8]) -> bool {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    bytes.len() >= end + 4 + length
}

async fn get_item(url: &str, trust: Trust) -> Result<(), String> {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .http_client(http_client(trust))
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let result = client
        .get_item()
        .table_name("tokens")
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(error @ SdkError::DispatchFailure(_)) => Err(chatroom_token::aws::describe(&error)),
        Err(other) => panic!("not a connection failure: {other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_from_another_authority_is_refused() {
    // The platform's bundle, as far as this process knows, holds the rogue authority.
    std::env::set_var("SSL_CERT_FILE", format!("{FIXTURES}/rogue-ca.pem"));
    let url = impostor();

    // The certificate is good enough for a client trusting the platform's bundle ...
    get_item(&url, Trust::Platform)
        .await
        .expect("a platform-trusting client talks to the impostor");

    // ... and the function's client refuses it at the handshake, before sending anything.
    let refused = get_item(&url, Trust::AmazonRoots)
        .await
        .expect_err("the function's client refuses the impostor");
    assert!(
        refused.contains("UnknownIssuer") || refused.contains("certificate"),
        "refused for its certificate: {refused}"
    );
}

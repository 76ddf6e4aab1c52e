//! A loopback proxy in front of moto's server that can hold DynamoDB's answers: the request is
//! forwarded and applied, and the answer never comes back (until the caller hangs up). How a
//! stalled DynamoDB looks to the function, with the write done or not.

use super::http1::read_message;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    Nothing,
    /// Hold the answer to the next UpdateItem only.
    NextUpdate,
    /// Hold the answer to every UpdateItem.
    EveryUpdate,
}

#[derive(Default)]
struct State {
    hold: Option<Hold>,
}

#[derive(Clone)]
pub struct StallProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    updates: Arc<AtomicUsize>,
    held: Arc<AtomicUsize>,
}

impl StallProxy {
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = Self {
            url: format!("http://{}", listener.local_addr().unwrap()),
            state: Arc::default(),
            updates: Arc::default(),
            held: Arc::default(),
        };
        let shared = proxy.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let proxy = shared.clone();
                let upstream = upstream.clone();
                std::thread::spawn(move || proxy.serve(client, &upstream));
            }
        });
        proxy
    }

    pub fn hold(&self, hold: Hold) {
        self.state.lock().unwrap().hold = Some(hold);
    }

    /// UpdateItems forwarded (and so applied, or refused by their condition) so far.
    pub fn updates(&self) -> usize {
        self.updates.load(Ordering::SeqCst)
    }

    /// Answers held back so far.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    fn should_hold(&self) -> bool {
        let mut state = self.state.lock().unwrap();
        match state.hold {
            Some(Hold::NextUpdate) => {
                state.hold = Some(Hold::Nothing);
                true
            }
            Some(Hold::EveryUpdate) => true,
            _ => false,
        }
    }

    fn serve(&self, client: TcpStream, upstream: &str) {
        let mut writer = client.try_clone().unwrap();
        let mut reader = BufReader::new(client);
        while let Some(request) = read_message(&mut reader) {
            let update = request
                .header("x-amz-target")
                .is_some_and(|t| t.ends_with(".UpdateItem"));
            // moto's server answers one request per connection (HTTP/1.0).
            let mut server = TcpStream::connect(upstream).unwrap();
            server.write_all(&request.to_bytes()).unwrap();
            let answer = read_message(&mut BufReader::new(server)).unwrap();
            if update {
                self.updates.fetch_add(1, Ordering::SeqCst);
                if self.should_hold() {
                    self.held.fetch_add(1, Ordering::SeqCst);
                    // The write is applied; its answer never leaves. Wait for the caller to
                    // give up and hang up.
                    while read_message(&mut reader).is_some() {}
                    return;
                }
            }
            if writer.write_all(&answer.to_bytes()).is_err() {
                return;
            }
            // An HTTP/1.0 answer ends its connection.
            if answer.head.starts_with("HTTP/1.0") {
                return;
            }
        }
    }
}

//! A fake Lambda Runtime API on a loopback port: hands the function the events a test queues,
//! one per `/next`, and collects what the function answers. Enough to run the real `token`
//! binary as Lambda would, and read what it prints.

use super::http1::{read_message, respond};
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub struct RuntimeApi {
    pub address: String,
    events: Sender<String>,
    answers: Receiver<String>,
}

impl RuntimeApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (events, queued) = channel::<String>();
        let (answered, answers) = channel::<String>();
        let queued = Arc::new(Mutex::new(queued));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let queued = queued.clone();
                let answered = answered.clone();
                std::thread::spawn(move || serve(stream, &queued, &answered));
            }
        });
        Self {
            address,
            events,
            answers,
        }
    }

    /// Queues an event and waits for the function's answer to it (the raw response payload).
    pub fn invoke(&self, event: &str) -> String {
        self.events.send(event.to_owned()).unwrap();
        self.answers
            .recv_timeout(Duration::from_secs(60))
            .expect("the function answered")
    }
}

fn serve(stream: TcpStream, queued: &Mutex<Receiver<String>>, answered: &Sender<String>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut next_id = 0;
    while let Some(request) = read_message(&mut reader) {
        let path = request.path().to_owned();
        if request.method() == "GET" && path.ends_with("/invocation/next") {
            let Ok(event) = queued.lock().unwrap().recv() else {
                return;
            };
            next_id += 1;
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 30_000;
            respond(
                &mut writer,
                "200 OK",
                &[
                    ("content-type", "application/json".into()),
                    (
                        "lambda-runtime-aws-request-id",
                        format!("request-{next_id}"),
                    ),
                    ("lambda-runtime-deadline-ms", deadline.to_string()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:token".into(),
                    ),
                    (
                        "lambda-runtime-trace-id",
                        format!("Root=1-5759e988-bd862e3fe1be46a994272{next_id:03}"),
                    ),
                ],
                event.as_bytes(),
            );
        } else {
            let answer = String::from_utf8_lossy(&request.body).into_owned();
            let kind = if path.ends_with("/response") {
                ""
            } else {
                "error: "
            };
            let _ = answered.send(format!("{kind}{answer}"));
            respond(&mut writer, "202 Accepted", &[], b"{\"status\":\"OK\"}");
        }
    }
}

//! Just enough HTTP/1.1 for the loopback servers the tests start (a fake Lambda Runtime API, a
//! stalling proxy): read one request or response with a Content-Length body, write one back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// One HTTP message: the start line and headers as text, and the body.
pub struct Message {
    pub head: String,
    pub body: Vec<u8>,
}

impl Message {
    /// The start line's second word: the path of a request.
    pub fn path(&self) -> &str {
        self.head.split_whitespace().nth(1).unwrap_or_default()
    }

    pub fn method(&self) -> &str {
        self.head.split_whitespace().next().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The message as bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.head.clone().into_bytes();
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Reads one message; `None` when the peer closed the connection first. A message without a
/// Content-Length is read to the end of the stream.
pub fn read_message(reader: &mut BufReader<TcpStream>) -> Option<Message> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let head = head.trim_end().to_owned() + "\r\n";
    let message = Message {
        head,
        body: Vec::new(),
    };
    let body = match message.header("content-length") {
        Some(length) => {
            let mut body = vec![0; length.parse().ok()?];
            reader.read_exact(&mut body).ok()?;
            body
        }
        None if message.head.starts_with("HTTP/") => {
            let mut body = Vec::new();
            reader.read_to_end(&mut body).ok()?;
            body
        }
        None => Vec::new(),
    };
    Some(Message { body, ..message })
}

/// Writes a response with these extra headers and a JSON or text body.
pub fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

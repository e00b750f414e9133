//! An mq connection for tests: JSON lines out, whole lines back, and the
//! subscribe handshake docs/PROTOCOLS.md §3.4 offers (a subscriber sends to its topic and
//! waits for its own line).

use std::io::{BufReader, Write};
use std::net::TcpStream;

use super::Server;

/// An mq connection that reads whole lines.
pub struct Client {
    pub reader: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(server: &Server) -> Client {
        Client {
            reader: BufReader::new(server.connect("mq")),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send to mq");
    }

    pub fn send(&mut self, topic: &str, msg: &str) {
        let line = serde_json::json!({"command": "send", "topic": topic, "msg": msg});
        self.send_raw(format!("{line}\n").as_bytes());
    }

    /// Subscribes, then waits for its own line on the topic: docs/PROTOCOLS.md §3.4's way
    /// to know the subscription is active everywhere. Lines that arrive
    /// before it (other subscribers' handshakes) are skipped.
    pub fn subscribe(&mut self, topic: &str, me: &str) {
        let line = serde_json::json!({"command": "subscribe", "topic": topic});
        self.send_raw(format!("{line}\n").as_bytes());
        let hello = format!("hello from {me}");
        self.send(topic, &hello);
        while !self.read_line().contains(&hello) {}
    }

    pub fn unsubscribe(&mut self, topic: &str) {
        let line = serde_json::json!({"command": "unsubscribe", "topic": topic});
        self.send_raw(format!("{line}\n").as_bytes());
    }

    pub fn read_line(&mut self) -> String {
        let line = super::read_line(&mut self.reader);
        assert!(!line.is_empty(), "the server closed the connection");
        line
    }

    /// The next line whose message is not a handshake.
    pub fn next_message(&mut self) -> serde_json::Value {
        loop {
            let line = self.read_line();
            let command: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
            if !command["msg"]
                .as_str()
                .unwrap_or("")
                .starts_with("hello from")
            {
                return command;
            }
        }
    }
}

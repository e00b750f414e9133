//! The metrics endpoint as the tests read it (README "Live metrics"): one
//! `GET` over a fresh connection, and the sum of a sample over shards.

use std::io::Write;
use std::net::SocketAddr;

use super::{connect, read_to_close};

/// An HTTP response: its status line and its body.
pub struct Scraped {
    pub status: String,
    pub body: String,
}

/// `GET path` over a fresh connection, read until the server closes it.
pub fn http_get(addr: SocketAddr, path: &str) -> Scraped {
    let mut conn = connect(addr);
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let response = String::from_utf8_lossy(&read_to_close(&mut conn)).into_owned();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("a head and a body: {response:?}"));
    Scraped {
        status: head.lines().next().unwrap_or_default().to_string(),
        body: body.to_string(),
    }
}

/// The sum over shards of the samples of `name` in the exposition at
/// `metrics`, those of `service` alone when one is named.
pub fn scrape_sum(metrics: SocketAddr, name: &str, service: Option<&str>) -> f64 {
    let prefix = format!("{name}{{");
    let label = service.map(|s| format!("service=\"{s}\""));
    http_get(metrics, "/metrics")
        .body
        .lines()
        .filter(|line| line.starts_with(&prefix))
        .filter(|line| label.as_ref().is_none_or(|label| line.contains(label)))
        .map(|line| {
            let value = line.rsplit(' ').next().expect("a value");
            value.parse::<f64>().expect("a number")
        })
        .sum()
}

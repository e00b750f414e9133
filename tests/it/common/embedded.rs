//! A server run inside the test process through percore's library API, for
//! tests that compose services (a built-in service wrapped in a test's own):
//! port-0 loopback addresses (the built server says which ports it got),
//! ready once every address accepts, stopped with a
//! `StopHandle`, its final report returned as the `--stats-json` document.

use std::net::{SocketAddr, TcpStream};
use std::thread::{self, JoinHandle};

use percore::server::{ServeError, ServerBuilder, StopHandle};

use super::{connect, wait_until};

pub struct Embedded {
    pub addrs: Vec<(&'static str, SocketAddr)>,
    stop: StopHandle,
    thread: Option<JoinHandle<Result<serde_json::Value, ServeError>>>,
}

impl Embedded {
    /// Runs the server that `add` makes from a builder and one port-0
    /// address per service name, on `shards` shards; the ports it got are
    /// read back from the built server.
    pub fn start(
        shards: usize,
        names: &[&'static str],
        add: impl Fn(ServerBuilder, &[(&'static str, SocketAddr)]) -> ServerBuilder,
    ) -> Embedded {
        let wanted: Vec<(&'static str, SocketAddr)> = names
            .iter()
            .map(|&name| (name, SocketAddr::from(([127, 0, 0, 1], 0))))
            .collect();
        let builder = ServerBuilder::new().shards(shards).handle_signals(false);
        let server = add(builder, &wanted)
            .build()
            .unwrap_or_else(|error| panic!("cannot build the server: {error}"));
        let addrs = server
            .addresses()
            .into_iter()
            .filter(|(_, endpoint)| !endpoint.tls)
            .map(|(name, endpoint)| (name, endpoint.addr))
            .collect();
        let stop = server.stop_handle();
        let thread = thread::spawn(move || server.run().map(|report| report.to_json()));
        let embedded = Embedded {
            addrs,
            stop,
            thread: Some(thread),
        };
        embedded.wait_until_listening();
        embedded
    }

    fn wait_until_listening(&self) {
        for &(_, addr) in &self.addrs {
            wait_until(&format!("the server listening on {addr}"), || {
                TcpStream::connect(addr).is_ok()
            });
        }
    }

    pub fn connect(&self, service: &str) -> TcpStream {
        let addr = self
            .addrs
            .iter()
            .find(|(name, _)| *name == service)
            .map(|(_, addr)| *addr)
            .expect("service has an address");
        connect(addr)
    }

    /// Stops the server; its final statistics, as `--stats-json` writes them.
    pub fn stop(mut self) -> serde_json::Value {
        self.stop.stop();
        let thread = self.thread.take().expect("running");
        thread
            .join()
            .expect("the server thread does not panic")
            .expect("the server runs and stops cleanly")
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

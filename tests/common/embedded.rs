//! A server run inside the test process through percore's library API, for
//! tests that compose services (a built-in service wrapped in a test's own):
//! free loopback ports, ready once every address accepts, stopped with a
//! `StopHandle`, its final report returned as the `--stats-json` document.

use std::net::{SocketAddr, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use percore::server::{BuildError, ServeError, ServerBuilder, StopHandle};

use super::{connect, free_port, DEADLINE};

pub struct Embedded {
    pub addrs: Vec<(&'static str, SocketAddr)>,
    stop: StopHandle,
    thread: Option<JoinHandle<Result<serde_json::Value, ServeError>>>,
}

impl Embedded {
    /// Runs the server that `add` makes from a builder and one free address
    /// per service name, on `shards` shards.
    pub fn start(
        shards: usize,
        names: &[&'static str],
        add: impl Fn(ServerBuilder, &[(&'static str, SocketAddr)]) -> ServerBuilder,
    ) -> Embedded {
        // A port picked as free can be taken before the server binds it.
        for _ in 0..10 {
            let addrs: Vec<(&'static str, SocketAddr)> = names
                .iter()
                .map(|&name| (name, SocketAddr::from(([127, 0, 0, 1], free_port()))))
                .collect();
            let builder = ServerBuilder::new().shards(shards).handle_signals(false);
            let server = match add(builder, &addrs).build() {
                Ok(server) => server,
                Err(BuildError::Bind(_)) => continue,
                Err(error) => panic!("cannot build the server: {error}"),
            };
            let stop = server.stop_handle();
            let thread = thread::spawn(move || server.run().map(|report| report.to_json()));
            let embedded = Embedded {
                addrs,
                stop,
                thread: Some(thread),
            };
            embedded.wait_until_listening();
            return embedded;
        }
        panic!("no free ports after 10 tries");
    }

    fn wait_until_listening(&self) {
        let give_up = Instant::now() + DEADLINE;
        for &(_, addr) in &self.addrs {
            while TcpStream::connect(addr).is_err() {
                assert!(
                    Instant::now() < give_up,
                    "the server never listened on {addr}"
                );
                thread::yield_now();
            }
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

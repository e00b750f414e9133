//! The Python originals' hooks (docs/PROTOCOLS.md §0) on percore: a greeting on connection, a deadline for the
//! first request, and a background task on every shard.
//!
//! The server greets `hello from shard S, who are you?`; the client has 30 s
//! to answer with its name, and each name it sends is answered `hi NAME, tick
//! T on shard S`, T counting the shard's ticker (every 100 ms), which the
//! report shows as `ticks`. A client that names no one in time is told
//! `too slow, bye` and closed.
//!
//! `cargo run --release --example greeter [ADDR [FIRST_REQUEST_SECS]]`
//! (default 127.0.0.1:9001, 30 s).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use percore::{
    Batch, Counter, Flow, Lines, Opening, Server, Service, ServiceFactory, ShardContext, StartError,
};

const TICK: Duration = Duration::from_millis(100);

/// Made once; starts a [`Greeter`] and its ticker on every shard.
#[derive(Clone)]
struct Greeters {
    first_request_within: Duration,
}

/// The service on one shard.
struct Greeter {
    shard: usize,
    ticks: Counter,
    first_request_within: Duration,
}

impl ServiceFactory for Greeters {
    type Service = Greeter;

    async fn start(&self, shard: &ShardContext) -> Result<Greeter, StartError> {
        let ticks = shard.per_shard_counter("ticks");
        let ticker = ticks.clone();
        shard.spawn(async move {
            loop {
                glommio::timer::sleep(TICK).await;
                ticker.add(1);
            }
        });
        Ok(Greeter {
            shard: shard.id(),
            ticks,
            first_request_within: self.first_request_within,
        })
    }
}

impl Service for Greeter {
    type Decoder = Lines;
    type Session = ();

    fn open_session(&self, opening: &mut Opening<'_>) {
        let greeting = format!("hello from shard {}, who are you?\n", self.shard);
        opening.greeting().extend_from_slice(greeting.as_bytes());
        opening.expect_request_within(self.first_request_within);
    }

    async fn serve(&self, _: &mut (), batch: &mut Batch<'_, Lines>) -> Flow {
        while let Some(line) = batch.next_request() {
            let name = String::from_utf8_lossy(line.trim_ascii());
            let reply = format!(
                "hi {name}, tick {} on shard {}\n",
                self.ticks.get(),
                self.shard
            );
            batch.out().extend_from_slice(reply.as_bytes());
            batch.served();
        }
        Flow::Continue
    }

    fn request_overdue(&self, _: &mut (), out: &mut Vec<u8>) -> Flow {
        out.extend_from_slice(b"too slow, bye\n");
        Flow::Close
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"that name is too long\n");
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or("127.0.0.1:9001".into());
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        eprintln!("greeter: '{addr}' is not an address (IP:PORT)");
        return ExitCode::from(2);
    };
    let secs = args.next().unwrap_or("30".into());
    let Some(first_request_within) = secs
        .parse()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
    else {
        eprintln!("greeter: '{secs}' is not a number of seconds");
        return ExitCode::from(2);
    };
    let greeters = Greeters {
        first_request_within,
    };
    let server = match Server::builder()
        .service("greeter", [addr], greeters)
        .build()
    {
        Ok(server) => server,
        Err(error) => {
            eprintln!("greeter: {error}");
            return ExitCode::from(2);
        }
    };
    match server.run() {
        Ok(_report) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("greeter: {error}");
            ExitCode::FAILURE
        }
    }
}

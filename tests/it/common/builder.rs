//! The one way tests start a server: `TestServer::builder()`, the services
//! the test needs, options, `start()`. Every service listens on port 0, so
//! the kernel picks free ports and the server's listening line says which
//! (docs/PROTOCOLS.md, "Addresses"); no port is guessed, and no start is
//! retried.
//!
//! ```ignore
//! let server = TestServer::builder().services(&["resp"]).shards(2)
//!     .args(&["--requirepass", "pw"]).start();
//! let mut resp = Resp::connect(server.addr("resp"));
//! ```

use std::process::Command;

use super::server::{example_command, Exited, Server};
use super::{percore, TempDir, SERVICES};

/// Starts servers for tests.
pub struct TestServer;

impl TestServer {
    pub fn builder() -> Builder {
        Builder {
            program: Program::Serve,
            services: SERVICES.iter().map(|s| s.to_string()).collect(),
            shards: Some(4),
            listens: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            wrapper: Vec::new(),
        }
    }
}

enum Program {
    /// `percore serve`.
    Serve,
    /// An example binary, given `127.0.0.1:0` as its first argument.
    Example(String),
}

/// What to start; see [`TestServer`].
pub struct Builder {
    program: Program,
    services: Vec<String>,
    /// `None`: one shard per CPU, percore's default.
    shards: Option<usize>,
    /// Addresses beyond each service's plain `127.0.0.1:0`.
    listens: Vec<(String, String)>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// A command line the server runs under (`sh -c ...`, `nsenter ...`).
    wrapper: Vec<String>,
}

impl Builder {
    /// Serves only these services (default: all six), each on
    /// `127.0.0.1:0`.
    pub fn services(mut self, services: &[&str]) -> Self {
        self.services = services.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Runs `n` shards (default: 4).
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n);
        self
    }

    /// Runs one shard per CPU, as percore does without `--shards`.
    pub fn shards_per_cpu(mut self) -> Self {
        self.shards = None;
        self
    }

    /// Also serves `service` on `addr` (e.g. `tls://127.0.0.1:0`), besides
    /// its plain port-0 address.
    pub fn listen(mut self, service: &str, addr: &str) -> Self {
        self.listens.push((service.into(), addr.into()));
        self
    }

    pub fn arg(mut self, arg: impl AsRef<str>) -> Self {
        self.args.push(arg.as_ref().to_string());
        self
    }

    pub fn args(mut self, args: &[impl AsRef<str>]) -> Self {
        self.args
            .extend(args.iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Serves TLS with `certs`' server certificate and key (`--tls-cert`,
    /// `--tls-key`), for the addresses [`Self::listen`] gives `tls://`.
    pub fn tls(self, certs: &super::certs::Certs) -> Self {
        self.arg("--tls-cert")
            .arg(certs.path_str("server.pem"))
            .arg("--tls-key")
            .arg(certs.path_str("server.key"))
    }

    /// Keeps the key space in `dir` (`--data-dir`), for tests that stop a
    /// server and start another on the same files.
    pub fn data_dir(self, dir: &std::path::Path) -> Self {
        self.arg("--data-dir").arg(dir.to_string_lossy())
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs the server from `sh -c 'PREFIX && exec server...'`, e.g. under
    /// `ulimit -n 512`.
    pub fn shell(self, prefix: &str) -> Self {
        let script = format!("{prefix} && exec \"$0\" \"$@\"");
        self.wrap(&["sh", "-c", &script])
    }

    /// Runs the server as the last arguments of `command` (e.g. `nsenter
    /// -t PID -m`), which must exec it.
    pub fn wrap(mut self, command: &[&str]) -> Self {
        self.wrapper = command.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Runs `crates/percore/examples/NAME` instead of `percore serve`: its first argument
    /// is `127.0.0.1:0`, then the builder's arguments.
    pub fn example(mut self, name: &str) -> Self {
        self.program = Program::Example(name.into());
        self
    }

    /// Starts the server and waits for its listening line; panics, with
    /// what the server said, if it ends first.
    pub fn start(self) -> Server {
        self.spawn().unwrap_or_else(|exited| {
            panic!(
                "percore exited before listening ({:?}): {}",
                exited.status, exited.stderr
            )
        })
    }

    /// As [`Builder::start`], but a server that ends before listening is
    /// returned, for tests of refused starts.
    pub fn spawn(self) -> Result<Server, Exited> {
        let dir = TempDir::new();
        let stats_json = dir.path.join("stats.json");
        let cmd = match &self.program {
            Program::Serve => self.serve_command(&stats_json),
            Program::Example(name) => {
                let mut cmd = example_command(name);
                cmd.arg("127.0.0.1:0").args(&self.args);
                cmd
            }
        };
        let mut cmd = match self.wrapper.split_first() {
            None => cmd,
            Some((program, args)) => {
                let mut wrapped = Command::new(program);
                wrapped
                    .args(args)
                    .arg(cmd.get_program())
                    .args(cmd.get_args());
                wrapped
            }
        };
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        Server::spawn(cmd, stats_json, dir)
    }

    fn serve_command(&self, stats_json: &std::path::Path) -> Command {
        let mut cmd = percore();
        cmd.arg("serve");
        // `--services` among the arguments names the services instead.
        let named = self
            .args
            .iter()
            .position(|a| a == "--services")
            .and_then(|i| self.args.get(i + 1));
        let services: Vec<String> = match named {
            Some(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
            None => {
                cmd.arg("--services").arg(self.services.join(","));
                self.services.clone()
            }
        };
        if let Some(shards) = self.shards {
            if !self.args.iter().any(|a| a == "--shards") {
                cmd.arg("--shards").arg(shards.to_string());
            }
        }
        for service in &services {
            // A test that names the service's addresses itself keeps them.
            let flag = format!("--{service}");
            if !self.args.contains(&flag) {
                cmd.arg(&flag).arg("127.0.0.1:0");
            }
        }
        for (service, addr) in &self.listens {
            cmd.arg(format!("--{service}")).arg(addr);
        }
        if !self.args.iter().any(|a| a == "--stats-json") {
            cmd.arg("--stats-json").arg(stats_json);
        }
        cmd.args(&self.args);
        cmd
    }
}

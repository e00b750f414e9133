//! Making resp: the options the command line sets, the factory that
//! builds the service on every shard over the key space it shares with kv
//! (and the topics it shares with mq), and the configuration a shard's
//! commands read. Serving is `mod.rs`'s `Resp`.

use super::*;

/// What the command line sets for resp.
#[derive(Clone, Debug, Default)]
pub struct RespOptions {
    /// `--requirepass`.
    pub requirepass: Option<String>,
    /// `--data-dir`, and `--fsync`'s policy name, for CONFIG GET and INFO.
    pub data_dir: Option<PathBuf>,
    pub fsync: String,
    /// `--max-memory`, over all shards (CONFIG SET maxmemory changes it).
    pub max_memory: u64,
    /// `--mq-queue-bytes`: a subscriber's cap.
    pub queue_bytes: usize,
    /// `--cluster-nodes` and `--cluster-id` (docs/PROTOCOLS.md §6.4): this node's view
    /// of the cluster; `None` outside cluster mode.
    pub cluster: Option<Arc<cluster::Cluster>>,
}

/// resp's tag on the key space's mesh: its messages are commands as
/// `[protocol version][command number][RESP command]` (`execute.rs`).
pub const PROTOCOL: Protocol = Protocol(2);

/// Makes the resp service on every shard, over the key space it shares
/// with kv.
#[derive(Clone)]
pub struct RespFactory {
    pub(super) keys: KeySpacePlan,
    pub(super) options: Arc<RespOptions>,
    /// The memory cap now, over all shards (CONFIG SET maxmemory).
    pub(super) max_memory: Arc<AtomicU64>,
    /// The values CONFIG SET keeps, the same for every shard.
    pub(super) stored: commands::config::Stored,
    /// The ACL users, server-wide (`commands/acl_users.rs`).
    pub(super) users: Arc<commands::acl_users::Users>,
    /// The port served, over all shards: `--resp`'s first, then what
    /// CONFIG SET port moved it to.
    pub(super) port: Arc<AtomicU16>,
    pub(super) bind: String,
    /// The topics, shared with mq (docs/PROTOCOLS.md §6.3).
    pub(super) brokers: BrokerPlan,
}

impl RespFactory {
    /// resp over the key space `keys`; `port` is the first listener's, for
    /// INFO and CONFIG GET.
    pub fn new(keys: KeySpacePlan, options: RespOptions, port: u16) -> RespFactory {
        keys.register(PROTOCOL, execute::OWNER_HANDLER);
        RespFactory {
            keys,
            max_memory: Arc::new(AtomicU64::new(options.max_memory)),
            stored: commands::config::stored_defaults(),
            users: Arc::new(commands::acl_users::Users::new(
                options.requirepass.as_deref(),
            )),
            bind: "127.0.0.1".into(),
            options: Arc::new(options),
            port: Arc::new(AtomicU16::new(port)),
            brokers: BrokerPlan::default(),
        }
    }

    /// Serves the topics of `brokers`, the plan mq shares (docs/PROTOCOLS.md §6.3).
    /// The addresses of the `--resp` listeners, as CONFIG GET bind shows
    /// them (Redis's `bind`: every address, space-separated).
    pub fn with_bind(mut self, bind: String) -> RespFactory {
        self.bind = bind;
        self
    }

    pub fn with_brokers(mut self, brokers: BrokerPlan) -> RespFactory {
        self.brokers = brokers;
        self
    }
}

impl Default for RespFactory {
    /// resp over a key space and topics of its own (or the shard's, if kv
    /// or mq made them first), with no password, on the default port.
    fn default() -> Self {
        RespFactory::new(KeySpacePlan::default(), RespOptions::default(), 6379)
    }
}

/// What a shard's resp commands read of the server's configuration.
pub struct RespConfig {
    pub requirepass: Option<String>,
    /// The port served now (CONFIG GET port, INFO's `tcp_port`), the same
    /// for every shard: [`RespConfig::port`].
    pub(super) port_now: Arc<AtomicU16>,
    /// `--resp`'s addresses, for CONFIG GET bind.
    pub bind: String,
    pub shards: usize,
    pub max_clients: usize,
    pub max_frame: usize,
    pub idle_timeout: u64,
    pub fsync: String,
    pub data_dir: bool,
    pub dir: String,
    pub started: Instant,
    pub started_unix: u64,
    pub(super) max_memory: Arc<AtomicU64>,
    /// The parameters CONFIG SET keeps, shared by every shard.
    pub stored: commands::config::Stored,
    /// The ACL users, the same table for every shard.
    pub users: Arc<commands::acl_users::Users>,
    /// Wrong passwords given (docs/PROTOCOLS.md §6.5).
    pub auth_failures: Counter,
    pub(super) queue_bytes: usize,
    /// Cluster mode (docs/PROTOCOLS.md §6.4): this shard's own copy of the cluster, so
    /// the MOVED check reads no other core's memory.
    pub cluster: Option<Rc<cluster::Cluster>>,
    /// Shard-aware cluster mode: the view for connections to this shard's
    /// own port, which serves only this shard's slots.
    pub(super) own_cluster: Option<Rc<cluster::Cluster>>,
    /// resp's registries on this shard (`resp_shard.rs`): CONFIG GET reads
    /// its `notify-keyspace-events` there.
    pub here: Rc<RespShard>,
}

impl RespConfig {
    /// The cluster view that `session`'s commands are checked against.
    pub(super) fn cluster_of(&self, session: &Session) -> Option<&cluster::Cluster> {
        if session.own_port {
            self.own_cluster.as_deref()
        } else {
            self.cluster.as_deref()
        }
    }

    /// The port resp serves now.
    pub fn port(&self) -> u16 {
        self.port_now.load(Ordering::Relaxed)
    }

    /// Serves `port` from now on (CONFIG SET port, once every shard
    /// listens there).
    pub(super) fn set_port(&self, port: u16) {
        self.port_now.store(port, Ordering::Relaxed);
    }

    pub fn max_memory(&self) -> u64 {
        self.max_memory.load(Ordering::Relaxed)
    }
}

impl ServiceFactory for RespFactory {
    type Service = Resp;

    fn prepare(&mut self, shards: usize) {
        self.keys.prepare(shards);
        self.brokers.prepare(shards);
    }

    async fn start(&self, shard: &ShardContext) -> Result<Resp, StartError> {
        let keys = self.keys.on_shard(shard).await?;
        let broker = self.brokers.on_shard(shard).await?;
        // Made by the key space as it started (`resp_shard.rs`); one of
        // resp's own for a key space resp did not register on.
        let here = keys
            .state::<RespShard>(PROTOCOL)
            .unwrap_or_else(|| RespShard::new((shard.id(), shard.shards())));
        let listeners = shard.listeners();
        // `--resp` with port 0: the port picked for its first address.
        if let Some(first) = listeners.configured().first() {
            let _ =
                self.port
                    .compare_exchange(0, first.port(), Ordering::Relaxed, Ordering::Relaxed);
        }
        here.attach(broker.clone(), keys.mesh.clone(), listeners);
        let limits = shard.limits();
        let options = &self.options;
        let views = match options.cluster.as_deref() {
            Some(cluster) => {
                let (shared, own) = cluster.on_shard(shard.id());
                (Some(shared), own)
            }
            None => (None, None),
        };
        let config = RespConfig {
            requirepass: options.requirepass.clone(),
            port_now: self.port.clone(),
            bind: self.bind.clone(),
            shards: shard.shards(),
            max_clients: limits.max_conns * shard.shards(),
            max_frame: limits.max_frame,
            idle_timeout: limits.idle_timeout.map_or(0, |t| t.as_secs()),
            fsync: options.fsync.clone(),
            data_dir: options.data_dir.is_some(),
            dir: options
                .data_dir
                .as_ref()
                .map(|dir| dir.display().to_string())
                .unwrap_or_default(),
            started: Instant::now(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            max_memory: self.max_memory.clone(),
            stored: self.stored.clone(),
            users: self.users.clone(),
            auth_failures: shard.counter("auth_failures"),
            queue_bytes: options.queue_bytes,
            cluster: views.0.map(Rc::new),
            own_cluster: views.1.map(Rc::new),
            here: here.clone(),
        };
        Ok(Resp {
            stop: shard.stop_watch(),
            part_args: RefCell::default(),
            shard: shard.id(),
            shards: shard.shards(),
            keys,
            here,
            broker,
            config: Rc::new(config),
            forwarded: shard
                .metric_counter("forwarded", Metric::Counter("percore_forwarded_total")),
            deliveries: shard
                .metric_counter("deliveries", Metric::Counter("percore_mq_deliveries_total")),
            slow_disconnects: shard.metric_counter(
                "slow_disconnects",
                Metric::Counter("percore_mq_slow_disconnects_total"),
            ),
        })
    }
}

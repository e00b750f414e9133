//! The process's open-file limit. Every connection is a descriptor, and the
//! common default soft limit (1,024) would cap a server at about a thousand
//! clients, the rest waiting unanswered in the backlog while accept fails
//! with "Too many open files". So, as redis-server does, the server raises
//! its soft limit at start to what its connections need, up to the hard
//! limit. Then, as redis-server sizes `maxclients`, a default `--max-conns`
//! is lowered to what the limit holds, silently; only a number the user
//! asked for that the limit cannot hold is warned about.

use std::sync::Arc;

use crate::config::ServerConfig;

/// Descriptors a shard needs besides its connections: its rings, eventfds,
/// timers and cross-shard channels, with room to spare.
const PER_SHARD_OVERHEAD: u64 = 32;
/// The process's own: stdio, the signal thread, probes, files.
const PROCESS_OVERHEAD: u64 = 64;

/// Raises the soft RLIMIT_NOFILE to what the configured connections need,
/// as far as the hard limit allows, and fits the connections to it: a
/// default `max_conns` ([`crate::config::Limits::fit_max_conns`]) is lowered
/// to what the limit holds; a given one is kept, with a warning to print
/// when the limit cannot hold it (or when even one connection per shard
/// does not fit).
pub(crate) fn fit_limit(
    config: Arc<ServerConfig>,
    listeners: usize,
) -> (Arc<ServerConfig>, Option<String>) {
    let shards = config.shards() as u64;
    let max_conns = config.limits.max_conns as u64;
    let fixed = shards * (listeners as u64 + PER_SHARD_OVERHEAD) + PROCESS_OVERHEAD;
    let needed = shards * max_conns + fixed;
    let limit = match raise_soft_limit(needed) {
        Ok(limit) => limit,
        Err(error) => {
            return (
                config,
                Some(format!("cannot read the open files limit: {error}")),
            )
        }
    };
    if limit.rlim_cur == libc::RLIM_INFINITY || limit.rlim_cur >= needed {
        return (config, None);
    }
    // Connections per shard the limit holds.
    let room = limit.rlim_cur.saturating_sub(fixed) / shards.max(1);
    if config.limits.fit_max_conns && room > 0 {
        let mut fitted = ServerConfig::clone(&config);
        fitted.limits.max_conns = usize::try_from(room).unwrap_or(usize::MAX);
        return (Arc::new(fitted), None);
    }
    let warning = format!(
        "the open files limit is {} (hard limit {}), but {} connections per shard on {} shards need {}: \
         about {} connections per shard can be served; raise the limit (ulimit -n, LimitNOFILE) or lower --max-conns",
        limit.rlim_cur,
        hard_text(limit.rlim_max),
        max_conns,
        shards,
        needed,
        room
    );
    (config, Some(warning))
}

/// Raises the soft limit to `needed`, or to the hard limit when that is
/// lower; returns the limits in force afterwards.
fn raise_soft_limit(needed: u64) -> std::io::Result<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass, nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur != libc::RLIM_INFINITY && limit.rlim_cur < needed {
        let wanted = if limit.rlim_max == libc::RLIM_INFINITY {
            needed
        } else {
            needed.min(limit.rlim_max)
        };
        let raised = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we pass, nothing else.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = wanted;
        }
    }
    Ok(limit)
}

fn hard_text(hard: libc::rlim_t) -> String {
    if hard == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        hard.to_string()
    }
}

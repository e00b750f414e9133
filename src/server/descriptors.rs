//! The process's open-file limit. Every connection is a descriptor, and the
//! common default soft limit (1,024) would cap a server at about a thousand
//! clients, the rest waiting unanswered in the backlog while accept fails
//! with "Too many open files". So, as redis-server does, the server raises
//! its soft limit at start to what its connections need, up to the hard
//! limit, and says so when the hard limit is lower.

/// Descriptors a shard needs besides its connections: its rings, eventfds,
/// timers and cross-shard channels, with room to spare.
const PER_SHARD_OVERHEAD: u64 = 32;
/// The process's own: stdio, the signal thread, probes, files.
const PROCESS_OVERHEAD: u64 = 64;

/// Raises the soft RLIMIT_NOFILE to what `max_conns` connections on each of
/// `shards` shards, with `listeners` listeners each, need, as far as the hard
/// limit allows. Returns a warning to print when that is not enough.
pub(crate) fn raise_limit(shards: usize, max_conns: usize, listeners: usize) -> Option<String> {
    let shards = shards as u64;
    let needed =
        shards * (max_conns as u64 + listeners as u64 + PER_SHARD_OVERHEAD) + PROCESS_OVERHEAD;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass, nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Some(format!(
            "cannot read the open files limit: {}",
            std::io::Error::last_os_error()
        ));
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
    (limit.rlim_cur != libc::RLIM_INFINITY && limit.rlim_cur < needed).then(|| {
        let room = limit.rlim_cur.saturating_sub(
            shards * (listeners as u64 + PER_SHARD_OVERHEAD) + PROCESS_OVERHEAD,
        );
        format!(
            "the open files limit is {} (hard limit {}), but {} connections per shard on {} shards need {}: \
             about {} connections can be served; raise the limit (ulimit -n, LimitNOFILE) or lower --max-conns",
            limit.rlim_cur,
            hard_text(limit.rlim_max),
            max_conns,
            shards,
            needed,
            room
        )
    })
}

fn hard_text(hard: libc::rlim_t) -> String {
    if hard == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        hard.to_string()
    }
}

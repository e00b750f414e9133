//! `cargo bench --bench kv_store`: one shard's store in memory, without a
//! server: what 1,000,000 keys (16-byte keys, 32-byte values, as `percore
//! load kv` writes them) cost in RSS and as accounted, with and without a
//! TTL on every key; the CPU time of 1,000,000 Gets in a shuffled order (the
//! best of 7 rounds, from /proc/thread-self/schedstat, so that a busy
//! machine's waits do not count); and the time to sweep 1,000,000 expired
//! keys; the same Gets each followed by the touch of the key's access
//! clock, as resp reads (eviction, issue 26). The figures behind README "kv memory" and `ENTRY_OVERHEAD` /
//! `TTL_OVERHEAD`.

use percore_protocols::kv::{now_ms, Store};

const KEYS: usize = 1_000_000;

/// This process's resident memory, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// This thread's time on a CPU, in ns.
fn cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    stat.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .unwrap_or(0)
}

/// 0..n in a fixed shuffled order (xorshift).
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

fn main() {
    let keys: Vec<String> = (0..KEYS).map(|i| format!("key:{i:012}")).collect();
    let order = shuffled(KEYS);
    let val = [b'v'; 32];
    let now = now_ms();
    // Each store is kept to the end, so that the second grows RSS afresh
    // instead of reusing the memory the first freed.
    let mut kept = Vec::new();
    for ttl in [false, true] {
        let before = rss();
        let mut store = Store::default();
        for (i, key) in keys.iter().enumerate() {
            if ttl {
                // Times an hour ahead, later for later keys: the usual
                // order, now plus a TTL.
                store.load_expiring(key.as_bytes(), &val, now + 3_600_000 + i as u64);
            } else {
                store.load(key.as_bytes(), &val);
            }
        }
        let grown = rss().saturating_sub(before);
        let mut best = u64::MAX;
        for _ in 0..7 {
            let began = cpu_ns();
            let found = order
                .iter()
                .filter(|&&i| store.get(keys[i].as_bytes(), now).is_some())
                .count();
            assert_eq!(found, KEYS);
            best = best.min(cpu_ns() - began);
        }
        println!(
            "{KEYS} keys{}: RSS grew {:.1} MB ({:.1} B a key), accounted {:.1} MB ({:.1} B a key); {KEYS} Gets: {:.1} ms CPU ({:.0} ns a Get)",
            if ttl { " with a TTL" } else { "" },
            grown as f64 / 1e6,
            grown as f64 / KEYS as f64,
            store.bytes() as f64 / 1e6,
            store.bytes() as f64 / KEYS as f64,
            best as f64 / 1e6,
            best as f64 / KEYS as f64,
        );
        // A read as resp serves it: the Get, then the key's access clock
        // moved (`Store::touch`, written only when it changed: the first
        // round writes every key's, the best round none).
        store.set_now(now);
        let mut touched = u64::MAX;
        for _ in 0..7 {
            let began = cpu_ns();
            for &i in &order {
                let key = keys[i].as_bytes();
                assert!(store.get(key, now).is_some());
                store.touch(key);
            }
            touched = touched.min(cpu_ns() - began);
        }
        println!(
            "{KEYS} Gets each with its touch: {:.1} ms CPU ({:.0} ns a Get and touch)",
            touched as f64 / 1e6,
            touched as f64 / KEYS as f64,
        );
        if ttl {
            let began = cpu_ns();
            let swept = store.sweep(u64::MAX, usize::MAX);
            let spent = cpu_ns() - began;
            println!(
                "sweeping {swept} expired keys: {:.1} ms CPU ({:.0} ns a key)",
                spent as f64 / 1e6,
                spent as f64 / swept as f64
            );
        }
        kept.push(store);
    }
}

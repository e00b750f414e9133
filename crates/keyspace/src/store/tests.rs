//! The store's guarantees, checked: values, TTLs, the sweep, the accounting
//! (against a model, under random operations); SCAN's and RANDOMKEY's are
//! in `scan.rs`.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

#[test]
fn put_get_replace_delete() {
    let mut store = Store::default();
    assert_eq!(store.get(b"foo", 0), None);
    store.load(b"foo", b"bar");
    store.load(b"fizz", b"buzz");
    store.load(b"foo", b"baz");
    assert_eq!(store.get(b"foo", 0), Some(&b"baz"[..]));
    assert_eq!(store.len(), 2);
    assert_eq!(store.sorted_keys(0), vec![&b"fizz"[..], b"foo"]);
    assert!(store.del(b"fizz", 0));
    assert!(!store.del(b"absent", 0));
    assert_eq!(store.sorted_keys(0), vec![&b"foo"[..]]);
    store.load(b"", b"");
    assert_eq!(store.get(b"", 0), Some(&b""[..]));
    assert_eq!(
        store.bytes(),
        Store::cost(b"foo", b"baz") + Store::cost(b"", b"")
    );
}

#[test]
fn the_cap_refuses_only_writes_that_add_data() {
    let cap = Store::cost(b"k1", b"0123456789") + Store::cost(b"k2", b"ab");
    let mut store = Store::with_cap(Some(cap));
    assert_eq!(store.put(b"k1", b"0123456789"), Ok(()));
    assert_eq!(store.put(b"k2", b"ab"), Ok(()));
    assert_eq!(store.put(b"k3", b"x"), Err(OutOfMemory));
    assert_eq!(
        store.put(b"k1", b"0123"),
        Ok(()),
        "a smaller overwrite goes on"
    );
    assert_eq!(
        store.put(b"k3", b"x"),
        Err(OutOfMemory),
        "6 bytes freed is not enough"
    );
    store.del(b"k2", 0);
    assert_eq!(store.put(b"k3", b"x"), Ok(()), "a delete made room");
    assert_eq!(
        store.bytes(),
        Store::cost(b"k1", b"0123") + Store::cost(b"k3", b"x")
    );
    // A TTL is data too: the same value with one is refused when full.
    assert!(store.refuses(b"k3", b"x", true));
    assert!(!store.refuses(b"k3", b"x", false));
}

#[test]
fn a_key_is_gone_from_its_time_on() {
    let mut store = Store::default();
    store.load_expiring(b"k", b"v", 100);
    assert_eq!(store.get(b"k", 99), Some(&b"v"[..]));
    assert_eq!(store.expiry(b"k", 99), Some(Some(100)));
    assert_eq!(
        store.get_with_expiry(b"k", 99),
        Some((&b"v"[..], Some(100)))
    );
    assert_eq!(store.get(b"k", 100), None, "at <= now is expired");
    assert_eq!(store.expiry(b"k", 100), None);
    assert!(store.sorted_keys(100).is_empty());
    assert_eq!(store.len(), 1, "stored until swept, as DBSIZE counts");
    assert!(
        !store.expire_at(b"k", 500, 100),
        "an expired key takes no TTL"
    );
    assert_eq!(store.len(), 0, "and was freed on the way");
    assert_eq!(store.bytes(), 0);
}

#[test]
fn ttls_are_set_moved_kept_and_removed() {
    let mut store = Store::default();
    store.load(b"k", b"v");
    assert_eq!(store.expiry(b"k", 0), Some(None));
    assert!(!store.persist(b"k", 0), "no TTL to remove");
    assert!(store.expire_at(b"k", 50, 0));
    assert!(store.expire_at(b"k", 80, 0), "moved");
    assert_eq!(store.expiring_len(), 1);
    assert_eq!(store.next_expiry(), Some(80));
    assert_eq!(store.set_keep_ttl(b"k", b"v2", 10), Some(80));
    assert_eq!(
        store.get_with_expiry(b"k", 10),
        Some((&b"v2"[..], Some(80)))
    );
    assert!(store.persist(b"k", 10));
    assert_eq!(store.expiry(b"k", 10), Some(None));
    assert_eq!(store.expiring_len(), 0);
    assert!(store.expire_at(b"k", 20, 10));
    store.load(b"k", b"v3");
    assert_eq!(
        store.expiry(b"k", 30),
        Some(None),
        "a plain set clears the TTL"
    );
    assert!(!store.expire_at(b"absent", 20, 10));
    assert!(!store.persist(b"absent", 10));
    // SET KEEPTTL over an expired key sets it anew, with no TTL.
    store.load_expiring(b"old", b"x", 5);
    assert_eq!(store.set_keep_ttl(b"old", b"y", 5), None);
    assert_eq!(store.get_with_expiry(b"old", 1000), Some((&b"y"[..], None)));
    assert_eq!(
        store.bytes(),
        Store::cost(b"k", b"v3") + Store::cost(b"old", b"y")
    );
}

#[test]
fn del_removes_expired_keys_but_reports_only_live_ones() {
    let mut store = Store::default();
    store.load_expiring(b"a", b"1", 10);
    store.load_expiring(b"b", b"1", 10);
    assert!(store.del(b"a", 9));
    assert!(!store.del(b"b", 10));
    assert!(store.is_empty());
    assert_eq!((store.bytes(), store.expiring_len()), (0, 0));
}

#[test]
fn the_sweep_frees_expired_keys_earliest_first_within_its_budget() {
    let mut store = Store::default();
    let total = 100_000u64;
    for i in 0..total {
        store.load_expiring(format!("t{i}").as_bytes(), b"v", 1000 + (i % 1000));
    }
    store.load(b"forever", b"v");
    store.load_expiring(b"later", b"v", 5000);
    assert_eq!(store.sweep(999, 10), 0, "nothing expired yet");
    assert_eq!(store.sweep(1000, 1000), 100, "the 100 keys of time 1000");
    assert_eq!(store.next_expiry(), Some(1001));
    let mut swept = 100;
    let mut rounds = 0;
    loop {
        let n = store.sweep(2000, 4096);
        swept += n;
        rounds += 1;
        if n < 4096 {
            break;
        }
    }
    assert_eq!(swept, total as usize);
    assert_eq!(rounds, (total as usize - 100).div_ceil(4096));
    assert_eq!(store.len(), 2);
    assert_eq!(
        store.bytes(),
        Store::cost(b"forever", b"v") + Store::cost(b"later", b"v") + Store::ttl_cost(b"later")
    );
    assert_eq!(store.sorted_keys(2000), vec![&b"forever"[..], b"later"]);
}

#[test]
fn clear_and_retain() {
    let mut store = Store::default();
    for key in [&b"a1"[..], b"a2", b"b1"] {
        store.load_expiring(key, b"v", 100);
    }
    store.load(b"b2", b"v");
    store.retain(|key| key.starts_with(b"b"));
    assert_eq!(store.sorted_keys(0), vec![&b"b1"[..], b"b2"]);
    assert_eq!(store.expiring_len(), 1);
    assert_eq!(store.get(b"b1", 0), Some(&b"v"[..]));
    assert_eq!(
        store.bytes(),
        Store::cost(b"b1", b"v") + Store::ttl_cost(b"b1") + Store::cost(b"b2", b"v")
    );
    store.clear();
    assert!(store.is_empty());
    assert_eq!(
        (store.bytes(), store.expiring_len(), store.sweep(1000, 10)),
        (0, 0, 0)
    );
}

/// One change to the store between scan steps.
#[derive(Clone, Debug)]
pub(super) enum Op {
    Set(u8, u8),
    SetExpiring(u8, u8, u8),
    SetKeepTtl(u8, u8),
    Del(u8),
    Expire(u8, u8),
    Persist(u8),
    Sweep(u8),
    Clear,
    Scan,
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..40, any::<u8>()).prop_map(|(k, v)| Op::Set(k, v)),
        3 => (0u8..40, any::<u8>(), 0u8..20).prop_map(|(k, v, t)| Op::SetExpiring(k, v, t)),
        2 => (0u8..40, any::<u8>()).prop_map(|(k, v)| Op::SetKeepTtl(k, v)),
        4 => (0u8..40).prop_map(Op::Del),
        2 => (0u8..40, 0u8..20).prop_map(|(k, t)| Op::Expire(k, t)),
        1 => (0u8..40).prop_map(Op::Persist),
        1 => (0u8..4).prop_map(Op::Sweep),
        1 => Just(Op::Clear),
        4 => Just(Op::Scan),
    ]
}

pub(super) fn key(k: u8) -> Vec<u8> {
    format!("key{k}")
        .repeat(usize::from(k % 3) + 1)
        .into_bytes()
}

/// What the store should hold: key → (value, expiry), expired keys dropped
/// whenever `now` moves past them.
type Model = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

fn live(model: &Model, now: u64) -> BTreeSet<Vec<u8>> {
    model
        .iter()
        .filter(|(_, (_, at))| at.is_none_or(|at| at > now))
        .map(|(k, _)| k.clone())
        .collect()
}

proptest! {
    /// Random operations, the clock moving on, against a model: every
    /// read agrees, and the accounting is always the sum of the live
    /// entries' costs plus those of expired ones not yet freed.
    #[test]
    fn the_store_matches_a_model(ops in prop::collection::vec(op(), 1..200)) {
        let (mut store, mut model, mut now) = (Store::default(), Model::new(), 0u64);
        for op in ops {
            now += 1;
            let is_live = |model: &Model, k: &[u8]| model.get(k).is_some_and(|(_, at)| at.is_none_or(|at| at > now));
            match op {
                Op::Set(k, v) => {
                    store.load(&key(k), &[v]);
                    model.insert(key(k), (vec![v], None));
                }
                Op::SetExpiring(k, v, t) => {
                    store.load_expiring(&key(k), &[v], now + u64::from(t));
                    model.insert(key(k), (vec![v], Some(now + u64::from(t))));
                }
                Op::SetKeepTtl(k, v) => {
                    let kept = is_live(&model, &key(k)).then(|| model[&key(k)].1).flatten();
                    prop_assert_eq!(store.set_keep_ttl(&key(k), &[v], now), kept);
                    model.insert(key(k), (vec![v], kept));
                }
                Op::Del(k) => {
                    let was = is_live(&model, &key(k));
                    prop_assert_eq!(store.del(&key(k), now), was);
                    model.remove(&key(k));
                }
                Op::Expire(k, t) => {
                    let was = is_live(&model, &key(k));
                    prop_assert_eq!(store.expire_at(&key(k), now + u64::from(t), now), was);
                    if was {
                        if let Some(entry) = model.get_mut(&key(k)) {
                            entry.1 = Some(now + u64::from(t));
                        }
                    }
                }
                Op::Persist(k) => {
                    let had = is_live(&model, &key(k)) && model[&key(k)].1.is_some();
                    prop_assert_eq!(store.persist(&key(k), now), had);
                    if had {
                        if let Some(entry) = model.get_mut(&key(k)) {
                            entry.1 = None;
                        }
                    }
                }
                Op::Sweep(budget) => {
                    let expired = model.len() - live(&model, now).len();
                    let swept = store.sweep(now, usize::from(budget));
                    prop_assert!(swept <= usize::from(budget) && swept <= expired);
                }
                Op::Clear => {
                    store.clear();
                    model.clear();
                }
                Op::Scan => {}
            }
            // Reads agree with the model.
            let expected = live(&model, now);
            let keys: BTreeSet<Vec<u8>> = store.sorted_keys(now).into_iter().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(&keys, &expected);
            for k in 0..40 {
                let want = is_live(&model, &key(k)).then(|| model[&key(k)].clone());
                let got = store.get_with_expiry(&key(k), now).map(|(v, at)| (v.to_vec(), at));
                prop_assert_eq!(got, want);
            }
            // Expired keys are dropped from the model only as the store
            // frees them, so its accounting covers what the store holds.
            let mut stored = 0;
            let mut held: Model = Model::new();
            store.table.iter().for_each(|e| {
                held.insert(e.key().to_vec(), (e.value().to_vec(), e.expiry()));
                stored += Store::entry_cost(&store.slab, e);
            });
            prop_assert_eq!(store.bytes(), stored);
            prop_assert_eq!(store.expiring_len(), held.values().filter(|(_, at)| at.is_some()).count());
            for (k, (v, at)) in &held {
                if at.is_none_or(|at| at > now) {
                    prop_assert_eq!(model.get(k), Some(&(v.clone(), *at)));
                }
            }
            model.retain(|k, _| held.contains_key(k));
        }
    }
}

//! The values a key holds besides a string (issue 27): hashes, sets, sorted
//! sets and lists, Redis's aggregate types, each in a file of its own.
//!
//! An aggregate lives in the store's slab ([`Slab`]) and its key's entry
//! holds only the slot number, so the string path (one allocation per key,
//! `entry.rs`) is unchanged. Each aggregate keeps its own accounted bytes
//! (its elements' bytes plus a fixed cost per element, the `*_ELEMENT`
//! constants), updated as elements come and go, so that `--max-memory` is
//! kept per element without walking a value.

mod hash;
mod list;
mod set;
mod slab;
mod zset;

pub use hash::{Hash, HASH_ELEMENT};
pub use list::{List, LIST_ELEMENT};
pub use set::{Set, SET_ELEMENT};
pub use slab::Slab;
pub use zset::{ZSet, ZSET_ELEMENT};

/// A key's type, as TYPE names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Hash,
    Set,
    ZSet,
    List,
}

impl Kind {
    /// TYPE's reply, and SCAN's TYPE argument.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Hash => "hash",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::List => "list",
        }
    }

    /// The kind SCAN's TYPE argument names, in any case.
    pub fn from_name(name: &[u8]) -> Option<Kind> {
        [Kind::String, Kind::Hash, Kind::Set, Kind::ZSet, Kind::List]
            .into_iter()
            .find(|kind| name.eq_ignore_ascii_case(kind.name().as_bytes()))
    }
}

/// A hash, set, sorted set or list.
#[derive(Clone, Debug)]
pub enum Aggregate {
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    List(List),
}

impl Aggregate {
    /// An empty value of `kind` (a string kind makes a list: never asked).
    pub fn empty(kind: Kind) -> Aggregate {
        match kind {
            Kind::Hash => Aggregate::Hash(Hash::default()),
            Kind::Set => Aggregate::Set(Set::default()),
            Kind::ZSet => Aggregate::ZSet(ZSet::default()),
            Kind::List | Kind::String => Aggregate::List(List::default()),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Aggregate::Hash(_) => Kind::Hash,
            Aggregate::Set(_) => Kind::Set,
            Aggregate::ZSet(_) => Kind::ZSet,
            Aggregate::List(_) => Kind::List,
        }
    }

    /// Elements (fields, members, items).
    pub fn len(&self) -> usize {
        match self {
            Aggregate::Hash(h) => h.len(),
            Aggregate::Set(s) => s.len(),
            Aggregate::ZSet(z) => z.len(),
            Aggregate::List(l) => l.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Accounted memory of the elements.
    pub fn bytes(&self) -> u64 {
        match self {
            Aggregate::Hash(h) => h.bytes(),
            Aggregate::Set(s) => s.bytes(),
            Aggregate::ZSet(z) => z.bytes(),
            Aggregate::List(l) => l.bytes(),
        }
    }
}

/// A live key's value, borrowed from the store.
#[derive(Clone, Copy, Debug)]
pub enum ValueRef<'a> {
    Str(&'a [u8]),
    Agg(&'a Aggregate),
}

impl ValueRef<'_> {
    pub fn kind(&self) -> Kind {
        match self {
            ValueRef::Str(_) => Kind::String,
            ValueRef::Agg(agg) => agg.kind(),
        }
    }

    pub fn to_owned(self) -> OwnedValue {
        match self {
            ValueRef::Str(val) => OwnedValue::Str(val.into()),
            ValueRef::Agg(agg) => OwnedValue::Agg(agg.clone()),
        }
    }
}

/// A key's value taken out of the store (RENAME, COPY, the undo journal).
#[derive(Clone, Debug)]
pub enum OwnedValue {
    Str(Box<[u8]>),
    Agg(Aggregate),
}

impl OwnedValue {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            OwnedValue::Str(val) => ValueRef::Str(val),
            OwnedValue::Agg(agg) => ValueRef::Agg(agg),
        }
    }
}

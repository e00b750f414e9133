//! SORT and SORT_RO (docs/PROTOCOLS.md §6.2, issue 27): the options as
//! redis 7.0 reads them (`sortCommandGeneric` in its sort.c), the keys a
//! `BY` or `GET` pattern names for an element (`lookupKeyByPattern`), and
//! the order redis sorts in. No I/O here: the elements and the patterns'
//! values are fetched from their owners by `resp/sort.rs`.

use std::cmp::Ordering;

use super::super::protocol::Command;
use super::strings::{parse_i64, NOT_INTEGER, SYNTAX};

/// A SORT command's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortRequest<'a> {
    /// The list, set or sorted set to sort.
    pub key: &'a [u8],
    /// `BY pattern` (the last one given): sort by the values it names.
    pub by: Option<&'a [u8]>,
    /// A `BY` pattern without `*` was given: no sorting, the elements'
    /// own order.
    pub dont_sort: bool,
    /// `LIMIT offset count`.
    pub limit: (i64, i64),
    /// The `GET` patterns, in order.
    pub gets: Vec<&'a [u8]>,
    pub desc: bool,
    pub alpha: bool,
    /// `STORE destination` (the last one given).
    pub store: Option<&'a [u8]>,
}

impl<'a> SortRequest<'a> {
    /// Reads the options as redis does, in order, the first error winning.
    /// `read_only`: SORT_RO, where STORE is a syntax error. `cluster`: BY
    /// with a pattern and GET are refused, as redis 7.0 refuses them in
    /// cluster mode.
    pub fn read(
        command: &Command<'a>,
        read_only: bool,
        cluster: bool,
    ) -> Result<SortRequest<'a>, &'static str> {
        let mut request = SortRequest {
            key: command.at(1),
            by: None,
            dont_sort: false,
            limit: (0, -1),
            gets: Vec::new(),
            desc: false,
            alpha: false,
            store: None,
        };
        let mut at = 2;
        while at < command.len() {
            let left = command.len() - at - 1;
            let option = command.at(at);
            let is = |name: &[u8]| option.eq_ignore_ascii_case(name);
            if is(b"asc") {
                request.desc = false;
            } else if is(b"desc") {
                request.desc = true;
            } else if is(b"alpha") {
                request.alpha = true;
            } else if is(b"limit") && left >= 2 {
                let offset = parse_i64(command.at(at + 1)).ok_or(NOT_INTEGER)?;
                let count = parse_i64(command.at(at + 2)).ok_or(NOT_INTEGER)?;
                request.limit = (offset, count);
                at += 2;
            } else if !read_only && is(b"store") && left >= 1 {
                request.store = Some(command.at(at + 1));
                at += 1;
            } else if is(b"by") && left >= 1 {
                // The last BY is used; one without `*` anywhere means no
                // sorting (redis never clears it).
                let pattern = command.at(at + 1);
                if !pattern.contains(&b'*') {
                    request.dont_sort = true;
                } else if cluster {
                    return Err("ERR BY option of SORT denied in Cluster mode.");
                }
                request.by = Some(pattern);
                at += 1;
            } else if is(b"get") && left >= 1 {
                if cluster {
                    return Err("ERR GET option of SORT denied in Cluster mode.");
                }
                request.gets.push(command.at(at + 1));
                at += 1;
            } else {
                return Err(SYNTAX);
            }
            at += 1;
        }
        Ok(request)
    }

    /// The positions `start..=end` of the sorted elements that are
    /// returned, for `len` elements (redis's LIMIT checks; empty when
    /// `end < start`).
    pub fn range(&self, len: usize) -> (i64, i64) {
        let len = len as i64;
        let (offset, count) = self.limit;
        let start = offset.clamp(0, len);
        let count = count.clamp(-1, len);
        let mut end = if count < 0 {
            len - 1
        } else {
            start + count - 1
        };
        let mut start = start;
        if start >= len {
            start = len - 1;
            end = len - 2;
        }
        if end >= len {
            end = len - 1;
        }
        (start, end)
    }
}

/// What a `BY` or `GET` pattern names for one element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'p> {
    /// `#`: the element itself.
    Itself,
    /// No `*`: nothing (a constant key is never looked up).
    Nothing,
    /// A string key's value.
    Key(Vec<u8>),
    /// A field of a hash key (`pattern*->field`).
    Field(Vec<u8>, &'p [u8]),
}

/// redis's `lookupKeyByPattern`: the first `*` is replaced by the element;
/// `->` after it followed by a name reads that hash field, else the whole
/// rest belongs to the key's name.
pub fn lookup<'p>(pattern: &'p [u8], element: &[u8]) -> Lookup<'p> {
    if pattern == b"#" {
        return Lookup::Itself;
    }
    let Some(star) = pattern.iter().position(|&b| b == b'*') else {
        return Lookup::Nothing;
    };
    let after = &pattern[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&at| at + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(at) => (&after[..at], Some(&after[at + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(star + element.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    match field {
        Some(field) => Lookup::Field(key, field),
        None => Lookup::Key(key),
    }
}

/// The error of a numeric sort over a value that is not a number.
pub const NOT_A_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// A value as redis's `strtod` reads it for a numeric sort: leading
/// blanks allowed, the whole rest a number (an empty string is 0), NaN
/// refused.
pub fn score_of(value: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(value).ok()?;
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if text.is_empty() {
        return Some(0.0);
    }
    let score: f64 = text.parse().ok()?;
    (!score.is_nan()).then_some(score)
}

/// One element to sort, with what it is sorted by.
#[derive(Debug, Clone)]
pub struct Sortable {
    pub element: Vec<u8>,
    /// Numeric sort: its score (0 when its BY key is missing).
    pub score: f64,
    /// ALPHA sort by a pattern: the value sorted by (None when missing).
    pub by_value: Option<Vec<u8>>,
}

/// Sorts as redis's `sortCompare`: numbers by score, ties by the elements'
/// bytes; ALPHA by the elements' bytes, or, with BY, by the values' (a
/// missing one first); DESC reverses all of it. Stable, so that equal
/// ALPHA BY values keep the elements' order (redis leaves it undefined).
pub fn sort(items: &mut [Sortable], alpha: bool, by_pattern: bool, desc: bool) {
    items.sort_by(|a, b| {
        let order = if !alpha {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.element.cmp(&b.element))
        } else if by_pattern {
            match (&a.by_value, &b.by_value) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(y),
            }
        } else {
            a.element.cmp(&b.element)
        };
        if desc {
            order.reverse()
        } else {
            order
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_name_keys_and_fields_as_redis() {
        assert_eq!(lookup(b"#", b"3"), Lookup::Itself);
        assert_eq!(lookup(b"nokey", b"3"), Lookup::Nothing);
        assert_eq!(lookup(b"w_*", b"3"), Lookup::Key(b"w_3".to_vec()));
        assert_eq!(lookup(b"w_*_x", b"3"), Lookup::Key(b"w_3_x".to_vec()));
        assert_eq!(
            lookup(b"o_*->weight", b"3"),
            Lookup::Field(b"o_3".to_vec(), b"weight")
        );
        // `->` with nothing after it is part of the key's name.
        assert_eq!(lookup(b"o_*->", b"3"), Lookup::Key(b"o_3->".to_vec()));
        // Only the first `*` is replaced.
        assert_eq!(lookup(b"a*b*", b"3"), Lookup::Key(b"a3b*".to_vec()));
    }

    #[test]
    fn scores_read_as_strtod() {
        assert_eq!(score_of(b"1.5"), Some(1.5));
        assert_eq!(score_of(b" 2"), Some(2.0));
        assert_eq!(score_of(b""), Some(0.0));
        assert_eq!(score_of(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(score_of(b"nan"), None);
        assert_eq!(score_of(b"1x"), None);
    }

    #[test]
    fn limits_clamp_as_redis() {
        let request = |offset, count| SortRequest {
            key: b"k",
            by: None,
            dont_sort: false,
            limit: (offset, count),
            gets: Vec::new(),
            desc: false,
            alpha: false,
            store: None,
        };
        assert_eq!(request(0, -1).range(5), (0, 4));
        assert_eq!(request(1, 2).range(5), (1, 2));
        assert_eq!(request(-3, 2).range(5), (0, 1));
        assert_eq!(request(9, 2).range(5), (4, 3));
        assert_eq!(request(0, 99).range(5), (0, 4));
        assert_eq!(request(0, 0).range(5), (0, -1));
        assert_eq!(request(0, -1).range(0), (-1, -2));
    }

    #[test]
    fn numbers_tie_break_on_the_element() {
        let item = |e: &str, s| Sortable {
            element: e.into(),
            score: s,
            by_value: None,
        };
        let mut items = vec![item("b", 1.0), item("a", 1.0), item("c", 0.5)];
        sort(&mut items, false, false, false);
        let order: Vec<_> = items.iter().map(|i| i.element.clone()).collect();
        assert_eq!(order, [b"c".to_vec(), b"a".to_vec(), b"b".to_vec()]);
        sort(&mut items, false, false, true);
        assert_eq!(items[0].element, b"b");
    }
}

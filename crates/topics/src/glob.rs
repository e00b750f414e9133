//! Redis's glob patterns (KEYS, SCAN MATCH, PSUBSCRIBE): `*`, `?`, `[...]`
//! with ranges and `^`, and `\` to escape, matched as redis-server's
//! `stringmatchlen` does. Matching backtracks only to the last `*`, so a
//! pattern costs at most its length times the subject's, never exponential
//! time, whatever a client sends.

/// Whether `subject` matches `pattern`.
pub fn matches(pattern: &[u8], subject: &[u8]) -> bool {
    let (mut p, mut s) = (0, 0);
    // Where to resume after the last `*`: the pattern after it, and the
    // subject position it has swallowed up to.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() && pattern[p] == b'*' {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            star = Some((p, s));
            continue;
        }
        if s == subject.len() {
            return p == pattern.len();
        }
        if let Some((next, matched)) = (p < pattern.len())
            .then(|| one(&pattern[p..], subject[s]))
            .flatten()
        {
            if matched {
                p += next;
                s += 1;
                continue;
            }
        }
        match star {
            Some((after, swallowed)) => {
                star = Some((after, swallowed + 1));
                p = after;
                s = swallowed + 1;
            }
            None => return false,
        }
    }
}

/// Matches one subject byte against the pattern element at the head of
/// `pattern` (not a `*`): how long that element is, and whether it matched.
fn one(pattern: &[u8], byte: u8) -> Option<(usize, bool)> {
    match pattern[0] {
        b'?' => Some((1, true)),
        b'\\' if pattern.len() >= 2 => Some((2, pattern[1] == byte)),
        b'[' => Some(set(pattern, byte)),
        literal => Some((1, literal == byte)),
    }
}

/// A `[...]` set at the head of `pattern`; an unclosed one runs to the end.
fn set(pattern: &[u8], byte: u8) -> (usize, bool) {
    let mut i = 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => {
                hit |= pattern[i + 1] == byte;
                i += 2;
            }
            b']' => {
                i += 1;
                return (i, hit != negate);
            }
            low if i + 2 < pattern.len() && pattern[i + 1] == b'-' => {
                let high = pattern[i + 2];
                let (low, high) = if low > high { (high, low) } else { (low, high) };
                hit |= (low..=high).contains(&byte);
                i += 3;
            }
            literal => {
                hit |= literal == byte;
                i += 1;
            }
        }
    }
    (i, hit != negate)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_globs() {
        for (pattern, subject, expected) in [
            ("*", "", true),
            ("*", "anything", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hbllo", true),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("user:*:name", "user:42:name", true),
            ("user:*:name", "user:42:age", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*a", "ba", true),
            ("[abc", "b", true),
            ("", "", true),
            ("", "x", false),
        ] {
            assert_eq!(
                matches(pattern.as_bytes(), subject.as_bytes()),
                expected,
                "{pattern} ~ {subject}"
            );
        }
    }

    #[test]
    fn hostile_patterns_take_linear_time_per_star() {
        let subject = vec![b'a'; 10_000];
        let pattern = b"*a*a*a*a*a*a*a*a*a*a*a*a*b";
        assert!(!matches(pattern, &subject));
    }
}

//! What the crash campaign knows of each key: the states it may be in after
//! a crash, and the check of what a restart holds against them.
//!
//! Every key is written by one client only, one request at a time, so its
//! writes have one order. A key's history since it was last checked holds
//! the checked state first, then each acknowledged write's state with the
//! time its reply arrived; a write whose reply never came (the kill broke
//! the connection) may or may not have been applied, so its state is
//! in flight. A refused write changes nothing: its value is unique, so a
//! restart that holds it matches no allowed state.

use std::fmt;

/// How much of a value a report shows: a typed key's whole canonical text
/// (its elements are short), a string's start.
const SHOWN: usize = 160;

/// A key's value and expiry as the model knows them. Times are ms since the
/// Unix epoch; an expiry is known to lie in `lo..=hi` (the server sets it
/// between the request's sending and its reply's arrival).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    Absent,
    Plain(Vec<u8>),
    Ttl { val: Vec<u8>, lo: u64, hi: u64 },
}

impl State {
    /// The value, if the key holds one (its time may have passed).
    pub fn val(&self) -> Option<&[u8]> {
        match self {
            State::Absent => None,
            State::Plain(val) | State::Ttl { val, .. } => Some(val),
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |val: &[u8]| String::from_utf8_lossy(&val[..val.len().min(SHOWN)]).into_owned();
        match self {
            State::Absent => f.write_str("absent"),
            State::Plain(val) => write!(f, "{:?}", short(val)),
            State::Ttl { val, lo, hi } => write!(f, "{:?} expiring in {lo}..={hi}", short(val)),
        }
    }
}

/// What a restart holds for a key: its value, and its expiry as read with
/// PTTL (the server's time lies between `sent` and `received`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    Absent,
    Present {
        val: Vec<u8>,
        /// Remaining ms, if the key has a TTL.
        pttl: Option<u64>,
        sent: u64,
        received: u64,
    },
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Absent => f.write_str("absent"),
            Observed::Present { val, pttl, .. } => write!(
                f,
                "{:?} pttl {pttl:?}",
                String::from_utf8_lossy(&val[..val.len().min(SHOWN)])
            ),
        }
    }
}

/// Clock slack on expiry times: the server and the campaign share a clock,
/// but each reads it at its own moment.
const CLOCK_SLACK_MS: u64 = 5;

impl Observed {
    /// Whether a key in `state` may read as `self` at `now`: an expiring key
    /// may be gone only once its time may have passed.
    fn matches(&self, state: &State, now: u64) -> bool {
        match (state, self) {
            (State::Absent, Observed::Absent) => true,
            (State::Ttl { lo, .. }, Observed::Absent) => now + CLOCK_SLACK_MS >= *lo,
            (State::Plain(want), Observed::Present { val, pttl, .. }) => {
                want == val && pttl.is_none()
            }
            (
                State::Ttl { val: want, lo, hi },
                Observed::Present {
                    val,
                    pttl: Some(pttl),
                    sent,
                    received,
                },
            ) => {
                // The expiry the server holds lies in sent+pttl..=received+pttl.
                want == val
                    && sent + pttl <= hi + CLOCK_SLACK_MS
                    && received + pttl + CLOCK_SLACK_MS >= *lo
            }
            _ => false,
        }
    }

    /// The state a checked key is in from now on.
    pub fn as_state(&self) -> State {
        match self {
            Observed::Absent => State::Absent,
            Observed::Present {
                val, pttl: None, ..
            } => State::Plain(val.clone()),
            Observed::Present {
                val,
                pttl: Some(pttl),
                sent,
                received,
            } => State::Ttl {
                val: val.clone(),
                lo: sent + pttl,
                hi: received + pttl,
            },
        }
    }
}

/// One key's history since it was last checked.
#[derive(Clone, Debug)]
pub struct History {
    /// `(acknowledged at, state)`, oldest first; the first is the checked
    /// state, with time 0.
    acked: Vec<(u64, State)>,
    in_flight: Vec<State>,
}

impl Default for History {
    fn default() -> History {
        History::checked(State::Absent)
    }
}

impl History {
    fn checked(state: State) -> History {
        History {
            acked: vec![(0, state)],
            in_flight: Vec::new(),
        }
    }

    /// The state after the last acknowledged write.
    pub fn current(&self) -> &State {
        &self.acked.last().expect("a history starts with a state").1
    }

    pub fn acknowledged(&mut self, at: u64, state: State) {
        self.acked.push((at, state));
    }

    pub fn in_flight(&mut self, state: State) {
        self.in_flight.push(state);
    }

    /// The states a restart may find: under `--fsync always` (`lost_before`
    /// None) the last acknowledged one and those in flight; otherwise also
    /// every state acknowledged since `lost_before` and the one current then
    /// (writes acknowledged after it may be lost).
    pub fn allowed(&self, lost_before: Option<u64>) -> Vec<&State> {
        let from = match lost_before {
            None => self.acked.len() - 1,
            Some(cutoff) => self
                .acked
                .iter()
                .rposition(|(at, _)| *at <= cutoff)
                .unwrap_or(0),
        };
        self.acked[from..]
            .iter()
            .map(|(_, state)| state)
            .chain(&self.in_flight)
            .collect()
    }

    /// Checks what a restart holds; on success the history starts again
    /// from it. On failure, says what was allowed.
    pub fn check(
        &mut self,
        observed: &Observed,
        lost_before: Option<u64>,
        now: u64,
    ) -> Result<(), String> {
        let allowed = self.allowed(lost_before);
        if allowed.iter().any(|state| observed.matches(state, now)) {
            *self = History::checked(observed.as_state());
            return Ok(());
        }
        let list: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let result = Err(format!(
            "holds {observed} at {now}; allowed: [{}] (of {} acknowledged since the last check, {} in flight)",
            list.join(", "),
            self.acked.len() - 1,
            self.in_flight.len()
        ));
        // Go on from what is there, so that one loss is reported once.
        *self = History::checked(observed.as_state());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(val: &str, pttl: Option<u64>, at: u64) -> Observed {
        Observed::Present {
            val: val.as_bytes().to_vec(),
            pttl,
            sent: at,
            received: at + 1,
        }
    }

    #[test]
    fn always_allows_the_last_acknowledged_state_and_those_in_flight() {
        let mut history = History::default();
        history.acknowledged(10, State::Plain(b"a".to_vec()));
        history.acknowledged(20, State::Plain(b"b".to_vec()));
        history.in_flight(State::Plain(b"c".to_vec()));
        assert!(history
            .clone()
            .check(&present("b", None, 30), None, 30)
            .is_ok());
        assert!(history
            .clone()
            .check(&present("c", None, 30), None, 30)
            .is_ok());
        assert!(history
            .clone()
            .check(&present("a", None, 30), None, 30)
            .is_err());
        assert!(history.clone().check(&Observed::Absent, None, 30).is_err());
        // Under everysec, a state acknowledged after the cutoff may be lost.
        assert!(history
            .clone()
            .check(&present("a", None, 30), Some(15), 30)
            .is_ok());
        assert!(history
            .clone()
            .check(&Observed::Absent, Some(15), 30)
            .is_err());
        assert!(history.check(&Observed::Absent, Some(5), 30).is_ok());
    }

    #[test]
    fn an_expiring_key_may_be_gone_only_once_its_time_may_have_passed() {
        let mut history = History::default();
        history.acknowledged(
            10,
            State::Ttl {
                val: b"a".to_vec(),
                lo: 1000,
                hi: 1002,
            },
        );
        assert!(history.clone().check(&Observed::Absent, None, 500).is_err());
        assert!(history.clone().check(&Observed::Absent, None, 1000).is_ok());
        assert!(history
            .clone()
            .check(&present("a", Some(500), 500), None, 500)
            .is_ok());
        assert!(history
            .clone()
            .check(&present("a", None, 500), None, 500)
            .is_err());
        assert!(history
            .check(&present("a", Some(900), 500), None, 500)
            .is_err());
    }
}

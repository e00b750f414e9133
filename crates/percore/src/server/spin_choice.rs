//! Whether a pinned shard looks at its rings for a few microseconds before
//! it parks (glommio's short spin before any park: vendor/glommio/PATCHES.md,
//! changes 20 and 21), chosen by measuring the shard itself.
//!
//! A park costs the shard a context switch, and on a virtual machine its
//! client the wake-up of a halted vCPU. Where clients answer within
//! microseconds (a few connections, one request each in flight: the seed's
//! experiment) a short look costs less CPU than the parks it saves, and the
//! replies come sooner. Where many connections keep the shard busy, their
//! requests gather while it sleeps and one pass serves them together; a look
//! then catches them one by one, and each costs more. Which of the two a
//! shard is in shows in its CPU time per message served, and in the messages
//! it serves (clients that wait for each reply send sooner when it comes
//! sooner), so the control task measures both: a short trial alternates
//! control periods with and without the spin (every second after the
//! choice changed, less often while trials keep it), and the shard
//! keeps the spin only where it made a message clearly cheaper, or served
//! clearly more at no more CPU per message ([`SpinChooser`]). Never on a
//! crowded core: a spin there takes the core from whoever shares it.
//!
//! This is the control path: it reads the thread's run time that the
//! control task reads once per period anyway (`super::crowding`); the data
//! path never reads it.

/// Control periods of each kind in one trial: they alternate, so a drift of
/// the machine's speed lands on both.
const TRIAL_PERIODS_EACH: u32 = 3;
/// Control periods between two trials (the control period is 20 ms) after
/// the choice changed…
const HOLD_PERIODS: u32 = 50;
/// …doubling while trials keep the choice, up to this (8 s): a trial spends
/// half its periods in the other mode, which costs where that mode is the
/// worse one (a look at 50 clients can halve a period's messages)…
const MAX_HOLD_PERIODS: u32 = 400;
/// …and after a trial that found the shard idle, so that load that comes
/// is measured soon.
const IDLE_HOLD_PERIODS: u32 = 10;
/// Messages each kind of period must have served in a trial for the trial to
/// say anything (about 3,000 a second); below that the shard is idle.
const TRIAL_MESSAGES: u64 = 200;
/// The spin is kept while the periods with it cost less than this share (‰)
/// of CPU per message of those without, smoothed over trials from an even
/// start: it must win clearly and more than once, as one trial's figures
/// move by ±15 % on a busy machine, and where the spin pays it pays 20–50 %…
const CHEAPER_BELOW_PERMILLE: u64 = 900;
/// …or while they serve more than this share (‰) of the messages, smoothed
/// the same way, at no more CPU per message: replies that come sooner.
const MORE_ABOVE_PERMILLE: u64 = 1100;

/// What one control period cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Period {
    /// Nanoseconds the shard's thread ran.
    pub cpu_ns: u64,
    /// Messages it served.
    pub messages: u64,
    /// Its core was crowded.
    pub crowded: bool,
}

/// The choice, apart from any I/O: given what each period cost, says whether
/// the next one spins.
#[derive(Debug)]
pub(crate) struct SpinChooser {
    /// What the shard does outside trials.
    chosen: bool,
    stage: Stage,
    /// Periods between trials now.
    hold: u32,
    with_spin: Tally,
    without_spin: Tally,
    /// With the spin over without, ‰, smoothed (from 1000 after an idle
    /// trial): CPU per message, and messages served.
    smoothed: Option<Ratios>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ratios {
    cost_permille: u64,
    served_permille: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Periods left before the next trial.
    Hold(u32),
    /// The trial's period now running.
    Trial(u32),
}

#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    cpu_ns: u64,
    messages: u64,
}

impl Tally {
    fn add(&mut self, period: Period) {
        self.cpu_ns += period.cpu_ns;
        self.messages += period.messages;
    }
}

impl Default for SpinChooser {
    fn default() -> Self {
        SpinChooser {
            chosen: false,
            // The first trial starts after the shard has served a moment.
            stage: Stage::Hold(TRIAL_PERIODS_EACH),
            hold: HOLD_PERIODS,
            with_spin: Tally::default(),
            without_spin: Tally::default(),
            smoothed: None,
        }
    }
}

impl SpinChooser {
    /// Takes what the period that just ended cost (it ran with the spin as
    /// the previous call said), and says whether the next one spins.
    pub fn next(&mut self, ended: Period) -> bool {
        if ended.crowded {
            // No spin, and no trial: the figures of a shared core say
            // nothing about the spin.
            self.stage = Stage::Hold(HOLD_PERIODS);
            return false;
        }
        match self.stage {
            Stage::Hold(0) => {
                self.with_spin = Tally::default();
                self.without_spin = Tally::default();
                self.stage = Stage::Trial(0);
                self.trial_spins(0)
            }
            Stage::Hold(left) => {
                self.stage = Stage::Hold(left - 1);
                self.chosen
            }
            Stage::Trial(step) => {
                if self.trial_spins(step) {
                    self.with_spin.add(ended);
                } else {
                    self.without_spin.add(ended);
                }
                if step + 1 < 2 * TRIAL_PERIODS_EACH {
                    self.stage = Stage::Trial(step + 1);
                    return self.trial_spins(step + 1);
                }
                self.stage = Stage::Hold(self.decide());
                self.chosen
            }
        }
    }

    /// The trial's periods alternate, the one that differs from the choice
    /// first.
    fn trial_spins(&self, step: u32) -> bool {
        (step % 2 == 0) != self.chosen
    }

    /// Chooses from the trial's figures; returns the periods until the next.
    fn decide(&mut self) -> u32 {
        let (with, without) = (self.with_spin, self.without_spin);
        if with.messages < TRIAL_MESSAGES || without.messages < TRIAL_MESSAGES {
            self.chosen = false;
            self.smoothed = None;
            self.hold = HOLD_PERIODS;
            return IDLE_HOLD_PERIODS;
        }
        // With over without, ‰ (u128: no overflow). Both kinds ran as many
        // periods, so messages served compare as they are.
        let permille = |a: u128, b: u128| u64::try_from(a * 1000 / b.max(1)).unwrap_or(u64::MAX);
        let cost_permille = permille(
            with.cpu_ns as u128 * without.messages as u128,
            without.cpu_ns as u128 * with.messages as u128,
        );
        let served_permille = permille(with.messages as u128, without.messages as u128);
        let before = self.smoothed.unwrap_or(Ratios {
            cost_permille: 1000,
            served_permille: 1000,
        });
        let now = Ratios {
            cost_permille: before.cost_permille / 2 + cost_permille / 2,
            served_permille: before.served_permille / 2 + served_permille / 2,
        };
        self.smoothed = Some(now);
        let chosen = now.cost_permille < CHEAPER_BELOW_PERMILLE
            || (now.served_permille > MORE_ABOVE_PERMILLE && now.cost_permille <= 1000);
        self.hold = if chosen == self.chosen {
            (self.hold * 2).min(MAX_HOLD_PERIODS)
        } else {
            HOLD_PERIODS
        };
        self.chosen = chosen;
        self.hold
    }
}

/// The control task's side: what each period cost, and telling glommio.
#[derive(Default)]
pub(crate) struct SpinChoice {
    chooser: SpinChooser,
    /// The thread's run time and the messages served at the last look.
    last: Option<(u64, u64)>,
    spinning: bool,
}

impl SpinChoice {
    /// One look, once per control period: the nanoseconds the shard's
    /// thread has run and the messages it has served so far, and whether
    /// its core is crowded now.
    pub fn look(&mut self, cpu_ns: u64, messages: u64, crowded: bool) {
        let spin = match self.last.replace((cpu_ns, messages)) {
            Some((last_cpu_ns, last_messages)) => self.chooser.next(Period {
                cpu_ns: cpu_ns.saturating_sub(last_cpu_ns),
                messages: messages.saturating_sub(last_messages),
                crowded,
            }),
            None => false,
        };
        if spin != self.spinning {
            glommio::executor().pause_io_spin(!spin);
            self.spinning = spin;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the chooser through `periods`, each costing what `cost` says
    /// for a period with or without the spin; returns what it has chosen
    /// for outside its trials.
    fn run(chooser: &mut SpinChooser, periods: u32, cost: impl Fn(bool) -> Period) -> bool {
        let mut spin = false;
        for _ in 0..periods {
            spin = chooser.next(cost(spin));
        }
        chooser.chosen
    }

    fn costing(cpu_us_per_message_with: u64, without: u64) -> impl Fn(bool) -> Period {
        move |spin| Period {
            cpu_ns: 1000
                * 1000
                * if spin {
                    cpu_us_per_message_with
                } else {
                    without
                },
            messages: 1000,
            crowded: false,
        }
    }

    /// Long enough for three trials however far apart.
    const LONG: u32 = 3 * (MAX_HOLD_PERIODS + 2 * TRIAL_PERIODS_EACH + 1);

    #[test]
    fn the_spin_is_kept_where_it_makes_a_message_clearly_cheaper() {
        let mut chooser = SpinChooser::default();
        assert!(run(&mut chooser, LONG, costing(80, 100)));
        // And left once it no longer does (the smoothing takes a trial or
        // two to forget).
        assert!(!run(&mut chooser, LONG, costing(120, 100)));
    }

    #[test]
    fn no_spin_where_it_wins_little_or_costs() {
        let mut chooser = SpinChooser::default();
        assert!(!run(&mut chooser, LONG, costing(99, 100)));
        let mut chooser = SpinChooser::default();
        assert!(!run(&mut chooser, LONG, costing(150, 100)));
    }

    #[test]
    fn the_spin_is_kept_where_it_serves_clearly_more_at_the_same_cost() {
        let mut chooser = SpinChooser::default();
        let sooner = |spin: bool| {
            let messages = if spin { 1400 } else { 1000 };
            Period {
                cpu_ns: messages * 60_000,
                messages,
                crowded: false,
            }
        };
        assert!(run(&mut chooser, LONG, sooner));
        // Not where each of those messages costs more.
        let dearer = |spin: bool| Period {
            cpu_ns: if spin { 1400 * 70_000 } else { 1000 * 60_000 },
            ..sooner(spin)
        };
        assert!(!run(&mut chooser, LONG, dearer));
    }

    #[test]
    fn trials_come_less_often_while_they_keep_the_choice() {
        let mut chooser = SpinChooser::default();
        run(&mut chooser, LONG, costing(100, 100));
        assert!(!chooser.chosen);
        assert_eq!(chooser.hold, MAX_HOLD_PERIODS);
        // A trial that changes the choice brings them back to every second:
        // run up to the first decision that turns the spin on.
        let (mut periods, mut spin) = (0, false);
        while !chooser.chosen && periods < LONG {
            spin = chooser.next(costing(50, 100)(spin));
            periods += 1;
        }
        assert!(chooser.chosen);
        assert_eq!(chooser.hold, HOLD_PERIODS);
    }

    #[test]
    fn one_lucky_trial_does_not_turn_the_spin_on() {
        let mut chooser = SpinChooser::default();
        // Up to and through the first trial, where the spin looks 13 %
        // cheaper; then no difference.
        let first = TRIAL_PERIODS_EACH + 2 * TRIAL_PERIODS_EACH + 1;
        assert!(!run(&mut chooser, first, costing(87, 100)));
        assert!(!run(&mut chooser, LONG, costing(100, 100)));
    }

    #[test]
    fn an_idle_shard_does_not_spin() {
        let mut chooser = SpinChooser::default();
        let idle = |spin: bool| Period {
            cpu_ns: if spin { 1_000 } else { 1_000_000 },
            messages: 10,
            crowded: false,
        };
        assert!(!run(&mut chooser, LONG, idle));
    }

    #[test]
    fn load_after_an_idle_trial_is_measured_soon() {
        let mut chooser = SpinChooser::default();
        let idle = Period {
            messages: 0,
            ..costing(50, 100)(false)
        };
        // The first trial finds nothing served, and no spin.
        assert!(!run(
            &mut chooser,
            TRIAL_PERIODS_EACH + 2 * TRIAL_PERIODS_EACH + 1,
            |_| idle
        ));
        assert_eq!(chooser.stage, Stage::Hold(IDLE_HOLD_PERIODS));
        // Load comes: it is chosen for within one short hold and a trial.
        let soon = IDLE_HOLD_PERIODS + 2 * TRIAL_PERIODS_EACH + 1;
        assert!(run(&mut chooser, soon, costing(50, 100)));
    }

    #[test]
    fn a_crowded_core_stops_the_spin_and_the_trial_at_once() {
        let mut chooser = SpinChooser::default();
        assert!(run(&mut chooser, LONG, costing(50, 100)));
        let crowded = Period {
            crowded: true,
            ..costing(50, 100)(true)
        };
        assert!(!chooser.next(crowded));
        // Back to the choice for the whole hold that follows.
        let spins: Vec<bool> = (0..HOLD_PERIODS)
            .map(|_| chooser.next(costing(50, 100)(true)))
            .collect();
        assert!(spins.iter().all(|&spin| spin));
    }

    #[test]
    fn a_trial_alternates_starting_with_the_other_kind() {
        let mut chooser = SpinChooser::default();
        let spins: Vec<bool> = (0..TRIAL_PERIODS_EACH + 2 * TRIAL_PERIODS_EACH + 1)
            .map(|_| chooser.next(costing(100, 100)(false)))
            .collect();
        let hold = TRIAL_PERIODS_EACH as usize;
        assert!(spins[..hold].iter().all(|&spin| !spin));
        assert_eq!(
            &spins[hold..hold + 2 * TRIAL_PERIODS_EACH as usize],
            &[true, false, true, false, true, false]
        );
    }
}

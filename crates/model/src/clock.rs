//! Time, as the host gives it. Engine crates never read the wall clock: they ask a [`Clock`].

use std::cell::Cell;

/// A source of "now", in milliseconds since the Unix epoch.
///
/// Contract: `now_ms` is monotonic non-decreasing for the lifetime of one engine. The browser
/// host passes a virtual clock (stepped by the user), the companion the real clock.
pub trait Clock {
    fn now_ms(&self) -> i64;

    /// A monotonic reading in nanoseconds from an arbitrary origin, to measure how long
    /// something took (rule evaluation durations): only the difference of two readings means
    /// anything. The default is [`now_ms`](Self::now_ms) in nanoseconds, so a virtual clock
    /// measures virtual time; the companion's real clock reads the monotonic clock at
    /// nanosecond resolution.
    fn monotonic_ns(&self) -> i64 {
        self.now_ms().saturating_mul(1_000_000)
    }
}

/// A clock that only moves when told to: the playground's virtual clock and every test's.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<i64>,
}

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        ManualClock {
            now: Cell::new(start_ms),
        }
    }
    pub fn set(&self, ms: i64) {
        self.now.set(ms);
    }
    pub fn advance(&self, ms: i64) {
        self.now.set(self.now.get() + ms);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.get()
    }
}

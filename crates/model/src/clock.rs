//! Time, as the host gives it. Engine crates never read the wall clock: they ask a [`Clock`].

use std::cell::Cell;

/// A source of "now", in milliseconds since the Unix epoch.
///
/// Contract: `now_ms` is monotonic non-decreasing for the lifetime of one engine. The browser
/// host passes a virtual clock (stepped by the user), the companion the real clock.
pub trait Clock {
    fn now_ms(&self) -> i64;
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

//! The header's time controls, without the browser: play/pause, a speed, one-interval steps
//! and jumps, turned into a target time that the app reaches in bounded slices so the tab
//! stays responsive. Plain Rust: the app calls [`Driver::tick`] from a timer, then
//! [`Driver::next_slice`] until its frame budget is spent.

/// The speeds offered (virtual seconds per real second).
pub const SPEEDS: [u32; 6] = [1, 10, 60, 300, 900, 3600];

/// The scrape interval of the seed's prometheus.yml: what "step" advances by.
pub const STEP_MS: i64 = 10_000;

/// The most virtual time one slice covers (a minute: six scrapes of three targets and the
/// app's requests between them, well under a frame's budget).
pub const SLICE_MS: i64 = 60_000;

/// While playing, the clock never runs further ahead of the work done than this: a speed the
/// tab cannot keep up with plays as fast as it can instead of piling up work.
pub const MAX_LAG_MS: i64 = 15 * 60_000;

/// A catch-up longer than this shows its progress.
pub const SHOW_PROGRESS_MS: i64 = 5 * 60_000;

/// The clock's state: where the virtual time should be, and how it moves.
#[derive(Clone, Debug, PartialEq)]
pub struct Driver {
    pub playing: bool,
    pub speed: u32,
    /// The virtual time the world should reach.
    target: i64,
    /// Where the current long catch-up (a jump) began, for its progress.
    jump_from: Option<i64>,
    /// Sub-millisecond remainder of real time × speed.
    carry: f64,
}

impl Driver {
    /// A driver at `now`, playing at ×1.
    pub fn new(now: i64) -> Self {
        Driver {
            playing: true,
            speed: 1,
            target: now,
            jump_from: None,
            carry: 0.0,
        }
    }

    pub fn target(&self) -> i64 {
        self.target
    }

    /// Sets the speed (clamped to the offered range).
    pub fn set_speed(&mut self, speed: u32) {
        self.speed = speed.clamp(SPEEDS[0], SPEEDS[SPEEDS.len() - 1]);
    }

    /// `real_ms` of wall time passed: while playing, the target moves `speed` times as far
    /// (but at most [`MAX_LAG_MS`] ahead of `now`).
    pub fn tick(&mut self, now: i64, real_ms: f64) {
        if !self.playing || real_ms.is_nan() || real_ms <= 0.0 {
            return;
        }
        let want = real_ms * f64::from(self.speed) + self.carry;
        let whole = want.floor();
        self.carry = want - whole;
        let base = self.target.max(now);
        let mut t = base.saturating_add(whole as i64);
        if self.jump_from.is_none() {
            // During a jump, playing adds on top of the jump's target; otherwise the clock
            // stays within MAX_LAG_MS of the work done.
            t = t.min(base.max(now.saturating_add(MAX_LAG_MS)));
        }
        self.target = t;
    }

    /// Advances the target by one scrape interval (pauses: a step is for looking closely).
    pub fn step(&mut self, now: i64) {
        self.playing = false;
        self.target = self.target.max(now).saturating_add(STEP_MS);
    }

    /// Jumps forward to `t`. The world only moves forward: an earlier time is an error.
    pub fn jump_to(&mut self, now: i64, t: i64) -> Result<(), String> {
        if t < now {
            return Err("the simulated world only moves forward: pick a later time".into());
        }
        self.target = self.target.max(t);
        if self.target - now > SHOW_PROGRESS_MS {
            self.jump_from = Some(now);
        }
        Ok(())
    }

    /// Jumps forward by `ms`.
    pub fn jump_by(&mut self, now: i64, ms: i64) -> Result<(), String> {
        self.jump_to(now, now.saturating_add(ms.max(0)))
    }

    /// The time to advance to next (at most one slice past `now`), or `None` when `now` has
    /// reached the target.
    pub fn next_slice(&mut self, now: i64) -> Option<i64> {
        if now >= self.target {
            self.jump_from = None;
            return None;
        }
        Some(now.saturating_add(SLICE_MS).min(self.target))
    }

    /// The progress of a long catch-up as a fraction in `[0, 1)`, `None` when there is none.
    pub fn progress(&self, now: i64) -> Option<f64> {
        let from = self.jump_from?;
        if now >= self.target || self.target <= from {
            return None;
        }
        Some(((now - from) as f64 / (self.target - from) as f64).clamp(0.0, 1.0))
    }
}

/// `3600` → `×3600`.
pub fn speed_label(speed: u32) -> String {
    format!("×{speed}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(d: &mut Driver, mut now: i64) -> (i64, usize) {
        let mut slices = 0;
        while let Some(t) = d.next_slice(now) {
            assert!(t > now && t - now <= SLICE_MS);
            now = t;
            slices += 1;
        }
        (now, slices)
    }

    #[test]
    fn playing_follows_real_time_times_the_speed() {
        let mut d = Driver::new(0);
        d.tick(0, 1000.0);
        assert_eq!(d.target(), 1000);
        d.set_speed(60);
        d.tick(1000, 250.0);
        assert_eq!(d.target(), 16_000);
        d.playing = false;
        d.tick(16_000, 1000.0);
        assert_eq!(d.target(), 16_000);
        d.set_speed(100_000);
        assert_eq!(d.speed, 3600);
        d.set_speed(0);
        assert_eq!(d.speed, 1);
    }

    #[test]
    fn fractions_of_a_millisecond_are_not_lost() {
        let mut d = Driver::new(0);
        for _ in 0..3 {
            d.tick(d.target(), 0.4);
        }
        assert_eq!(d.target(), 1);
    }

    #[test]
    fn a_speed_the_tab_cannot_keep_up_with_does_not_pile_up_work() {
        let mut d = Driver::new(0);
        d.set_speed(3600);
        for _ in 0..100 {
            d.tick(0, 1000.0); // the world never advanced
        }
        assert_eq!(d.target(), MAX_LAG_MS);
    }

    #[test]
    fn step_pauses_and_moves_one_interval() {
        let mut d = Driver::new(5_000);
        d.step(5_000);
        assert!(!d.playing);
        assert_eq!(d.target(), 15_000);
        assert_eq!(drain(&mut d, 5_000), (15_000, 1));
    }

    #[test]
    fn a_long_jump_runs_in_slices_with_progress() {
        let mut d = Driver::new(0);
        d.playing = false;
        assert!(d.jump_to(0, -1).is_err());
        d.jump_by(0, 24 * 3_600_000).unwrap();
        assert_eq!(d.progress(0), Some(0.0));
        let half = 12 * 3_600_000;
        assert_eq!(d.progress(half), Some(0.5));
        let (end, slices) = drain(&mut d, 0);
        assert_eq!(end, 24 * 3_600_000);
        assert_eq!(slices, 24 * 60);
        assert_eq!(d.progress(end), None);
        // a short jump shows no progress
        d.jump_by(end, 60_000).unwrap();
        assert_eq!(d.progress(end), None);
        // playing during a jump adds to it and is not capped by the lag limit
        d.jump_by(end, 3_600_000).unwrap();
        d.playing = true;
        d.tick(end, 1000.0);
        assert_eq!(d.target(), end + 3_600_000 + 1000);
    }
}

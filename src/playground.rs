//! The playground's engine side: the virtual clock, the data, and queries over them.
//!
//! Plain Rust (no browser): the app drives it, native tests exercise it the way the app does.

use promplay_model::{Clock, ManualClock};
use promplay_promql::value::{Annotations, Value};

use crate::dataset::Dataset;

/// Where the virtual clock starts: 2026-01-01 00:00:00 UTC.
pub const START_MS: i64 = 1_767_225_600_000;
/// How much generated history exists before [`START_MS`] when the playground opens.
pub const HISTORY_MS: i64 = 3_600_000;
/// Prometheus's limit on points per series of a range query.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// A query that failed, to show under the editor.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryError {
    /// The whole message, as Prometheus prints it (`1:17: parse error: …` for parse errors).
    pub message: String,
    /// The offending byte range of the query text, when the error has a position.
    pub span: Option<(usize, usize)>,
}

impl QueryError {
    fn plain(message: impl Into<String>) -> Self {
        QueryError {
            message: message.into(),
            span: None,
        }
    }
}

/// A query's answer: its value and the warnings/infos beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryOutcome {
    pub value: Value,
    pub annotations: Annotations,
}

/// The time range of a graph (`/api/v1/query_range`'s start, end and step), in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeParams {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl RangeParams {
    /// `range` ending at `end`, with `step` or (when `None`) Prometheus UI's automatic step:
    /// `max(range / 250, 1s)` rounded down to whole seconds.
    pub fn new(end: i64, range: i64, step: Option<i64>) -> Result<Self, QueryError> {
        if range <= 0 {
            return Err(QueryError::plain("range must be positive"));
        }
        let step = step.unwrap_or_else(|| (range / 250 / 1000).max(1) * 1000);
        if step <= 0 {
            return Err(QueryError::plain(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        if range / step > MAX_POINTS_PER_SERIES {
            return Err(QueryError::plain(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ));
        }
        Ok(RangeParams {
            start: end - range,
            end,
            step,
        })
    }
}

/// The virtual clock, the data and the query engine of one playground session.
pub struct Playground {
    clock: ManualClock,
    dataset: Dataset,
    samples: usize,
}

impl Default for Playground {
    fn default() -> Self {
        Self::new()
    }
}

impl Playground {
    /// A playground at [`START_MS`] with [`HISTORY_MS`] of generated data behind it.
    pub fn new() -> Self {
        let mut p = Playground {
            clock: ManualClock::new(START_MS),
            dataset: Dataset::new(START_MS - HISTORY_MS),
            samples: 0,
        };
        p.catch_up();
        p
    }

    /// The virtual time, ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Moves the virtual clock forward by `ms` (negative values are ignored) and writes the
    /// scrapes that became due.
    pub fn advance(&mut self, ms: i64) {
        self.clock.advance(ms.max(0));
        self.catch_up();
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> usize {
        self.samples
    }

    fn catch_up(&mut self) {
        let now = self.clock.now_ms();
        let mut n = 0;
        self.dataset.advance_to(now, &mut |_l, _t, _v| n += 1);
        self.samples += n;
    }

    /// Evaluates `query` at instant `t` (ms).
    pub fn instant_query(&self, query: &str, _t: i64) -> Result<QueryOutcome, QueryError> {
        if query.trim().is_empty() {
            return Err(QueryError::plain("enter an expression"));
        }
        Err(QueryError::plain("the PromQL engine is not wired in yet"))
    }

    /// Evaluates `query` over `range`.
    pub fn range_query(
        &self,
        query: &str,
        _range: RangeParams,
    ) -> Result<QueryOutcome, QueryError> {
        self.instant_query(query, 0)
    }
}

//! The bodies of PromQL's functions (Prometheus's `promql/functions.go` and `quantile.go`).
//!
//! The engine evaluates a call's arguments and calls [`call`] once per evaluation step with a
//! [`FnCall`]. A range-vector argument arrives as a [`Matrix`] holding, for this one step, the
//! points of each series inside its window; the function returns one output sample per series
//! (or per input sample, for instant-vector functions).
//!
//! Contracts shared with the engine:
//! - Delayed name removal: a function that drops the metric name sets `drop_name` on its output
//!   sample instead of removing `__name__` (exactly where upstream sets `DropName`).
//! - Output samples carry `t = ts` (the step time); the engine may overwrite it.
//! - Scalar-returning functions (`time()`, `pi()`, `scalar()`, …) return a one-element vector
//!   with an empty label set; the engine turns it into a scalar.
//! - Annotations use Prometheus's texts without a position suffix.
//! - `info()`, `step()`/`range()`/`start()`/`end()`, `start_timestamp()` and the
//!   "metric might not be a counter" info of `rate`/`increase` belong to the engine (they need
//!   storage or the query's parameters).
//! - `absent_over_time` follows upstream's convention: the engine calls it only for series
//!   with samples in the window, it returns 1, and the engine derives absence from the steps
//!   without a value.
//! - Start timestamps reach `rate`/`increase`/`irate`/`resets` through
//!   [`call_with_start_timestamps`].

mod anno;
mod date;
mod histogram;
mod labels;
mod math;
pub mod quantile;
mod range;

use promplay_model::Labels;

use crate::ast::Expr;
use crate::error::EvalError;
use crate::value::{Annotations, Matrix, Sample, Vector};

pub use anno::go_fmt_g;
pub use quantile::{
    bucket_quantile, histogram_fraction, histogram_quantile, quantile as vector_quantile,
};
pub use range::{interpolate_histogram, is_start_timestamp_reset};

/// One evaluated argument of a function call.
#[derive(Clone, Copy, Debug)]
pub enum FnArg<'a> {
    Scalar(f64),
    String(&'a str),
    Vector(&'a Vector),
    Matrix(&'a Matrix),
}

/// One call of a function at one evaluation step.
#[derive(Clone, Copy, Debug)]
pub struct FnCall<'a> {
    pub name: &'a str,
    /// Evaluation time of this step, ms.
    pub ts: i64,
    /// Evaluated arguments; a range-vector argument is a Matrix holding, for ONE step, the
    /// points of each series within its window.
    pub args: &'a [FnArg<'a>],
    /// The argument expressions as written.
    pub exprs: &'a [Expr],
    /// For a range-vector argument: the window `(range_start, range_end]`, i.e.
    /// `(t - range - offset, t - offset]` (Prometheus's rangeStart/rangeEnd).
    pub range_start: i64,
    pub range_end: i64,
}

impl<'a> FnCall<'a> {
    fn scalar(&self, i: usize) -> Option<f64> {
        match self.args.get(i)? {
            FnArg::Scalar(f) => Some(*f),
            FnArg::Vector(v) => v.first().map(|s| s.f),
            _ => None,
        }
    }

    fn string(&self, i: usize) -> Option<&'a str> {
        match self.args.get(i)? {
            FnArg::String(s) => Some(s),
            _ => match self.exprs.get(i) {
                Some(Expr::StringLiteral(s)) => Some(s.val.as_str()),
                _ => None,
            },
        }
    }

    fn vector(&self, i: usize) -> Option<&'a Vector> {
        match self.args.get(i)? {
            FnArg::Vector(v) => Some(v),
            _ => None,
        }
    }

    fn matrix(&self, i: usize) -> Option<&'a Matrix> {
        match self.args.get(i)? {
            FnArg::Matrix(m) => Some(m),
            _ => None,
        }
    }

    /// The index of the range-vector argument, if any.
    fn matrix_index(&self) -> Option<usize> {
        self.args.iter().position(|a| matches!(a, FnArg::Matrix(_)))
    }

    /// The vector selector under the range-vector argument (for anchored/smoothed and
    /// `absent_over_time`).
    fn matrix_selector(&self) -> Option<&'a crate::ast::MatrixSelector> {
        let i = self.matrix_index()?;
        match self.exprs.get(i)? {
            Expr::MatrixSelector(ms) => Some(ms),
            _ => None,
        }
    }

    fn anchored(&self) -> bool {
        self.matrix_selector()
            .is_some_and(|m| m.vector_selector.anchored)
    }

    fn smoothed(&self) -> bool {
        self.matrix_selector()
            .is_some_and(|m| m.vector_selector.smoothed)
    }
}

/// The metric name of a label set, or "" (`getMetricName`).
pub(crate) fn metric_name(l: &Labels) -> &str {
    l.get_or_empty(promplay_model::METRIC_NAME)
}

/// Evaluates one call of the function `c.name` at step `c.ts`.
///
/// Returns the output samples (for a scalar-returning function, one sample with an empty
/// label set). Unknown names and `info` (which the engine evaluates itself) are errors.
pub fn call(c: &FnCall, ann: &mut Annotations) -> Result<Vector, EvalError> {
    call_with_start_timestamps(c, None, ann)
}

/// Start timestamps (ms; 0 = unknown) of the points of a range-vector argument that holds a
/// single series, aligned index by index with its `floats` and `histograms` (Prometheus's
/// `StartTimestamps`). Used by `rate`, `increase`, `irate` and `resets`: a start time after
/// the previous sample marks a counter reset, and a known start time inside the range
/// replaces the left extrapolation of `rate`/`increase` by a zero value at that time.
#[derive(Clone, Copy, Debug, Default)]
pub struct StartTimestamps<'a> {
    pub floats: &'a [i64],
    pub histograms: &'a [i64],
}

/// [`call`] with the start timestamps of the range-vector argument's (single) series.
pub fn call_with_start_timestamps(
    c: &FnCall,
    st: Option<&StartTimestamps>,
    ann: &mut Annotations,
) -> Result<Vector, EvalError> {
    if let Some(v) = math::call(c, ann)? {
        return Ok(v);
    }
    if let Some(v) = date::call(c)? {
        return Ok(v);
    }
    if let Some(v) = labels::call(c, ann)? {
        return Ok(v);
    }
    if let Some(v) = histogram::call(c, ann)? {
        return Ok(v);
    }
    if let Some(v) = range::call(c, st, ann)? {
        return Ok(v);
    }
    Err(EvalError::exec(format!(
        "function \"{}\" is not implemented by the evaluator",
        c.name
    )))
}

/// A sample with `t = ts`.
fn sample(metric: Labels, ts: i64, f: f64, drop_name: bool) -> Sample {
    Sample {
        metric,
        t: ts,
        f,
        h: None,
        drop_name,
    }
}

#[cfg(test)]
mod tests;

//! Native histograms, as float histograms (Prometheus's `histogram.FloatHistogram`).
//!
//! The struct mirrors Prometheus's fields. Exponential schemas are -4..=8; schema
//! [`CUSTOM_BUCKETS_SCHEMA`] (-53) means custom bucket bounds in `custom_values` (NHCB).
//! Arithmetic (add, sub, mul, compact, quantile, …) lives beside the evaluator's needs and is
//! added here as it is implemented, each operation with its contract in its doc.

/// Schema number of native histograms with custom buckets.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CounterResetHint {
    #[default]
    Unknown,
    CounterReset,
    NotCounterReset,
    Gauge,
}

/// A run of `length` consecutive buckets, starting `offset` buckets after the previous span's
/// end (or, for the first span, at bucket index `offset`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub offset: i32,
    pub length: u32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FloatHistogram {
    pub counter_reset_hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    /// Absolute bucket counts (not deltas), one per bucket covered by `positive_spans`.
    pub positive_buckets: Vec<f64>,
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the custom buckets (schema -53 only); +Inf is implicit.
    pub custom_values: Vec<f64>,
}

impl FloatHistogram {
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }
}

//! Prometheus's data model, shared by every engine crate.
//!
//! This crate owns the vocabulary the other crates speak: [`Labels`] (a sorted, de-duplicated
//! set of name/value pairs), [`Matcher`] (the four label matchers, with Prometheus's fully
//! anchored RE2 regex semantics), the special float values ([`STALE_NAN`]), native histograms
//! ([`FloatHistogram`]) and the [`Clock`] every host passes in.
//!
//! Architecture invariant: nothing here does I/O, reads the wall clock or knows a browser.

pub mod civil;
pub mod clock;
pub mod duration;
pub mod gofmt;
pub mod hash;
pub mod histogram;
pub mod labels;
pub mod matcher;
pub mod value;

pub use clock::{Clock, ManualClock};
pub use duration::{format_duration, parse_duration, Duration, DurationError};
pub use histogram::{
    kahan_sum_inc, AddOutcome, Bucket, CounterResetHint, FloatHistogram, HistogramError, Span,
    CUSTOM_BUCKETS_SCHEMA,
};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{MatchType, Matcher, MatcherError};
pub use value::{is_stale_nan, Timestamp, STALE_NAN, STALE_NAN_BITS};

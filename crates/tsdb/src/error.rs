//! The errors of the TSDB. Messages are lowercase and use Prometheus's wording
//! (`storage/interface.go`, `storage/errors.go`).

use std::fmt;

use crate::storage::SeriesRef;

/// Why one sample was not accepted by an [`crate::Appender`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AppendError {
    /// The sample's timestamp is older than the newest sample of its series
    /// (Prometheus's `storage.ErrOutOfOrderSample`).
    OutOfOrderSample,
    /// A different value was already stored (or is pending in this appender) for this timestamp.
    /// `existing`/`new_value` are `None` when that side is a native histogram.
    DuplicateSampleForTimestamp {
        timestamp: i64,
        existing: Option<f64>,
        new_value: Option<f64>,
    },
    /// The sample is older than what retention already dropped (`storage.ErrOutOfBounds`).
    OutOfBounds,
    /// The label set is empty.
    EmptyLabels,
    /// `append_ref` was given a reference the database does not know (any more).
    UnknownSeriesRef(SeriesRef),
    /// A start timestamp is not older than its sample's timestamp.
    StartTimestampNotOlder,
    /// A start timestamp is not newer than the series' newest sample.
    OutOfOrderStartTimestamp,
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::OutOfOrderSample => f.write_str("out of order sample"),
            AppendError::DuplicateSampleForTimestamp {
                timestamp,
                existing,
                new_value,
            } => match (existing, new_value) {
                (Some(e), Some(n)) => write!(
                    f,
                    "duplicate sample for timestamp {timestamp}; overrides not allowed: existing {}, new value {}",
                    go_g(*e),
                    go_g(*n)
                ),
                (None, Some(n)) => write!(
                    f,
                    "duplicate sample for timestamp {timestamp}; overrides not allowed: existing is a histogram, new value {}",
                    go_g(*n)
                ),
                _ => f.write_str("duplicate sample for timestamp"),
            },
            AppendError::OutOfBounds => f.write_str("out of bounds"),
            AppendError::EmptyLabels => f.write_str("empty labelset: invalid sample"),
            AppendError::UnknownSeriesRef(r) => write!(f, "unknown series reference {}", r.0),
            AppendError::StartTimestampNotOlder => {
                f.write_str("ST is newer or the same as sample's timestamp, ignoring")
            }
            AppendError::OutOfOrderStartTimestamp => {
                f.write_str("start timestamp out of order, ignoring")
            }
        }
    }
}

impl std::error::Error for AppendError {}

/// Samples that passed [`crate::Appender`]'s checks but were dropped at commit because another
/// appender committed newer (or conflicting) samples for the same series in the meantime.
/// All other samples of the batch were stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitError {
    pub out_of_order: usize,
    pub duplicate: usize,
    pub out_of_bounds: usize,
}

impl fmt::Display for CommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "commit dropped samples: {} out of order, {} duplicate, {} out of bounds",
            self.out_of_order, self.duplicate, self.out_of_bounds
        )
    }
}

impl std::error::Error for CommitError {}

/// An error of a query against storage.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StorageError {
    /// `mint > maxt` was asked of a querier.
    InvalidTimeRange { mint: i64, maxt: i64 },
    /// Stored data could not be decoded (never expected; reported instead of panicking).
    Corrupt(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::InvalidTimeRange { mint, maxt } => {
                write!(f, "invalid time range: mint {mint} is after maxt {maxt}")
            }
            StorageError::Corrupt(m) => write!(f, "corrupt chunk: {m}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// Go's `%g` for a float64, as Prometheus prints values in error messages.
pub(crate) use promplay_model::gofmt::format_g as go_g;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn go_g_formats_like_go() {
        assert_eq!(go_g(1.0), "1");
        assert_eq!(go_g(0.5), "0.5");
        assert_eq!(go_g(1e21), "1e+21");
        assert_eq!(go_g(123456789.0), "1.23456789e+08");
        assert_eq!(go_g(123456.0), "123456");
        assert_eq!(go_g(0.00001), "1e-05");
        assert_eq!(go_g(-2.5), "-2.5");
    }
}

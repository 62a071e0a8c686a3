//! The errors prometheus_client raises as `ValueError`, with its wording.

/// A misuse of the client library. Messages are prometheus_client 0.26's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstrumentError {
    #[error("Counters can only be incremented by non-negative amounts.")]
    NegativeIncrement,
    /// `inc`/`set`/`observe` on the parent of a labelled family.
    #[error("{0} metric is missing label values")]
    MissingLabelValues(&'static str),
    /// `.labels()` on a metric declared without label names (`counter:name`).
    #[error("No label names were set when constructing {0}")]
    NoLabelNames(String),
    /// `.labels()` on a child.
    #[error("{metric} already has labels set ({labels}); can not chain calls to .labels()")]
    LabelsAlreadySet { metric: String, labels: String },
    #[error("Incorrect label count")]
    IncorrectLabelCount,
    #[error("Incorrect label names")]
    IncorrectLabelNames,
    /// `remove()` with the wrong number of values.
    #[error("Incorrect label count (expected {expected}, got {got})")]
    IncorrectRemoveCount { expected: usize, got: String },
    /// `remove()` of a label set that has no child.
    #[error("{0}")]
    NoSuchChild(String),
    #[error("Invalid metric name: {0}")]
    InvalidMetricName(String),
    #[error("Invalid label metric name: {0}")]
    InvalidLabelName(String),
    #[error("Reserved label metric name: {0}")]
    ReservedLabelName(String),
    #[error("Metric name is of a type that cannot have a unit: {0}")]
    UnitNotAllowed(String),
    /// Registering names another collector already owns (listed as a Python set).
    #[error("Duplicated timeseries in CollectorRegistry: {0}")]
    Duplicated(String),
    #[error("Buckets not in sorted order")]
    BucketsNotSorted,
    #[error("Must have at least two buckets")]
    TooFewBuckets,
    #[error("Overlapping labels for Info metric, metric: {metric} child: {child}")]
    InfoOverlap { metric: String, child: String },
    #[error("Overlapping labels for Enum metric: {0}")]
    EnumOverlap(String),
    #[error("No states provided for Enum metric: {0}")]
    NoStates(String),
    /// `Enum.state()` with a state that was not declared (Python's `list.index` error).
    #[error("'{0}' is not in list")]
    UnknownState(String),
    #[error("Exemplar labels have {0} UTF-8 characters, exceeding the limit of 128")]
    ExemplarTooLong(usize),
}

//! What a client library hands the writer: metric families as prometheus_client's
//! `Metric`/`Sample` objects hold them (OpenMetrics naming: a counter family is `x`, its samples
//! `x_total` and `x_created`).
//!
//! Labels keep their insertion order: OpenMetrics output prints them in that order
//! (`h_bucket{method="get",le="0.1"}`), the classic text format sorts them.

use std::fmt;

/// The OpenMetrics metric types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Summary,
    Histogram,
    GaugeHistogram,
    Unknown,
    Info,
    StateSet,
}

impl MetricType {
    /// The OpenMetrics spelling (`gaugehistogram`, `stateset`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Summary => "summary",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Unknown => "unknown",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }

    /// Parses an OpenMetrics type name (`untyped` is not one).
    pub fn from_openmetrics(s: &str) -> Option<MetricType> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "summary" => MetricType::Summary,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "unknown" => MetricType::Unknown,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            _ => return None,
        })
    }

    /// The sample-name suffixes a family of this type owns (besides its bare name for some).
    pub fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Summary => &["_sum", "_count", "_created"],
            MetricType::Histogram => &["_bucket", "_sum", "_count", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gsum", "_gcount"],
            MetricType::Info => &["_info"],
            _ => &[],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exemplar attached to a counter or histogram-bucket sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Seconds since the epoch.
    pub timestamp: Option<f64>,
}

/// One sample of a family: its full name (`x_total`), labels in insertion order, value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Seconds since the epoch.
    pub timestamp: Option<f64>,
    pub exemplar: Option<Exemplar>,
}

impl Sample {
    pub fn new(name: impl Into<String>, labels: Vec<(String, String)>, value: f64) -> Sample {
        Sample {
            name: name.into(),
            labels,
            value,
            timestamp: None,
            exemplar: None,
        }
    }
}

/// One metric family as collected from a registry.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricFamily {
    /// The OpenMetrics family name (a counter's without `_total`).
    pub name: String,
    pub help: String,
    pub typ: MetricType,
    pub unit: String,
    pub samples: Vec<Sample>,
}

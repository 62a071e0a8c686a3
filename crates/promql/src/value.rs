//! What a PromQL expression evaluates to (Prometheus's `promql/value.go`) and the annotations
//! (warnings and infos) returned beside it (`util/annotations`).
//!
//! Contract shared by the engine and the functions: a [`Sample`] carries either a float (`h` is
//! `None`) or a native histogram (`h` is `Some`, `f` is ignored). `drop_name` implements
//! Prometheus's delayed `__name__` removal: a function or operator that would drop the metric
//! name sets `drop_name` instead, and the engine removes `__name__` from every series that
//! has it set when the whole query has finished.

use std::fmt;

use promplay_model::{FloatHistogram, Labels};

/// One float point of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FPoint {
    pub t: i64,
    pub f: f64,
}

/// One histogram point of a series.
#[derive(Clone, Debug, PartialEq)]
pub struct HPoint {
    pub t: i64,
    pub h: Box<FloatHistogram>,
}

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub metric: Labels,
    pub t: i64,
    pub f: f64,
    pub h: Option<Box<FloatHistogram>>,
    pub drop_name: bool,
}

impl Sample {
    pub fn float(metric: Labels, t: i64, f: f64) -> Self {
        Sample {
            metric,
            t,
            f,
            h: None,
            drop_name: false,
        }
    }
}

pub type Vector = Vec<Sample>;

/// One series of a range vector (or of a range query's result): floats and histograms each in
/// time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub metric: Labels,
    pub floats: Vec<FPoint>,
    pub histograms: Vec<HPoint>,
    pub drop_name: bool,
}

pub type Matrix = Vec<Series>;

/// The four PromQL value types.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
    Vector(Vector),
    Matrix(Matrix),
}

/// The static type of an expression (`parser.ValueType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    None,
    Scalar,
    Vector,
    Matrix,
    String,
}

impl ValueType {
    /// Prometheus's names, as they appear in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Warnings and infos collected while evaluating one query (Prometheus's `annotations`).
/// Messages are Prometheus's texts, e.g.
/// `PromQL warning: encountered a mix of histograms and floats for metric name "foo"`;
/// they carry no position (v3.14.0 compares them bare). Duplicates are collapsed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Annotations {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl Annotations {
    pub fn warn(&mut self, msg: impl Into<String>) {
        let m = msg.into();
        if !self.warnings.contains(&m) {
            self.warnings.push(m);
        }
    }
    pub fn info(&mut self, msg: impl Into<String>) {
        let m = msg.into();
        if !self.infos.contains(&m) {
            self.infos.push(m);
        }
    }
    pub fn merge(&mut self, other: Annotations) {
        for w in other.warnings {
            self.warn(w);
        }
        for i in other.infos {
            self.info(i);
        }
    }
    pub fn is_empty(&self) -> bool {
        self.warnings.is_empty() && self.infos.is_empty()
    }
}

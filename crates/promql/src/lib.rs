//! PromQL: the language (parser, AST, printer) and its evaluator.
//!
//! Module map (Prometheus's `promql/` package names):
//! - `value`: the result types (`Vector`, `Matrix`, `Scalar`, `String`) and `Annotations`.

pub mod value;

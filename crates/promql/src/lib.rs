//! PromQL: the language (parser, AST, printer) and its evaluator.
//!
//! Module map (Prometheus's `promql/` package names):
//! - `error`: evaluation errors (`EvalError`).
//! - `value`: the result types (`Vector`, `Matrix`, `Scalar`, `String`) and `Annotations`.

pub mod error;
pub mod value;

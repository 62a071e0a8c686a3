//! PromQL: the language (parser, AST, printer) and its evaluator.
//!
//! Module map (Prometheus's `promql/` package names):
//! - `ast`: the syntax tree (`Expr` and its nodes, with byte spans).
//! - `functions`: the bodies of the PromQL functions (`call`), quantile helpers.
//! - `functions_table`: the function signature table (`Function`, `FUNCTIONS`).
//! - `parser`: lexer + lalrpop grammar + type checks (`parse`, `parse_with`, `ParseErrors`).
//! - `error`: evaluation errors (`EvalError`).
//! - `value`: the result types (`Vector`, `Matrix`, `Scalar`, `String`) and `Annotations`.

pub mod ast;
pub mod error;
pub mod functions;
pub mod functions_table;
pub mod parser;
pub mod value;

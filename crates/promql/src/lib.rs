//! PromQL: the language (parser, AST, printer) and its evaluator.
//!
//! Module map (Prometheus's `promql/` package names):
//! - `ast`: the syntax tree (`Expr` and its nodes, with byte spans).
//! - `functions`: the bodies of the PromQL functions (`call`), quantile helpers.
//! - `functions_table`: the function signature table (`Function`, `FUNCTIONS`).
//! - `parser`: lexer + lalrpop grammar + type checks (`parse`, `parse_with`, `ParseErrors`).
//! - `engine`: the evaluator (`Engine`, `instant_query`, `range_query`).
//! - `promqltest`: Prometheus's PromQL test-script language and its runner.
//! - `printer`: AST back to PromQL (`Display`, `pretty`, `tree`).
//! - `error`: evaluation errors (`EvalError`).
//! - `value`: the result types (`Vector`, `Matrix`, `Scalar`, `String`) and `Annotations`.

pub mod ast;
pub mod engine;
pub mod error;
pub mod functions;
pub mod functions_table;
pub mod parser;
pub mod printer;
pub mod promqltest;
pub mod value;

pub use engine::{Engine, EngineOptions, QueryError, QueryOptions, QueryResult, QueryStats};

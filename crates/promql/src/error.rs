//! Errors raised while evaluating a query (not parsing: see `parser`).
//!
//! Messages are Prometheus's texts, without a position, because the promqltest corpus
//! compares them verbatim (`expect fail msg: ...`).

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EvalError {
    /// `query processing would load too many samples into memory in <context>`.
    TooManySamples { context: &'static str },
    /// The host's deadline passed (`query timed out in <context>`).
    Timeout { context: &'static str },
    /// Any other execution error, with Prometheus's message, e.g.
    /// `vector cannot contain metrics with the same labelset` or the many-to-many matching error.
    Execution(String),
}

impl EvalError {
    pub fn exec(msg: impl Into<String>) -> Self {
        EvalError::Execution(msg.into())
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::TooManySamples { context } => write!(
                f,
                "query processing would load too many samples into memory in {context}"
            ),
            EvalError::Timeout { context } => write!(f, "query timed out in {context}"),
            EvalError::Execution(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for EvalError {}

//! The `info()` function (Prometheus's `promql/info.go`): enriches series with the data
//! labels of matching info metrics. It needs storage, so the engine evaluates it.

use super::eval::{exec_err, Ctx, Rng};
use crate::ast::Call;
use crate::error::EvalError;
use crate::value::Matrix;

pub(crate) fn eval_info(_ctx: &Ctx, _c: &Call, _r: Rng) -> Result<Matrix, EvalError> {
    Err(exec_err("info() is not supported yet"))
}

//! Element-wise float functions, clamping, rounding, `vector`/`scalar`/`time`/`pi`,
//! `timestamp` and the value sorts.

use std::cmp::Ordering;

use super::{sample, FnCall};
use crate::error::EvalError;
use crate::value::{Annotations, Sample, Vector};
use promplay_model::Labels;

fn unary(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "sgn" => |v| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

/// `simpleFloatFunc`: applies `f` to every float sample (histograms are skipped) and marks
/// the output for name removal.
fn simple(v: &Vector, ts: i64, f: impl Fn(f64) -> f64) -> Vector {
    v.iter()
        .filter(|s| s.h.is_none())
        .map(|s| sample(s.metric.clone(), ts, f(s.f), true))
        .collect()
}

pub(super) fn call(c: &FnCall, _ann: &mut Annotations) -> Result<Option<Vector>, EvalError> {
    let empty = Vector::new();
    let v0 = c.vector(0).unwrap_or(&empty);
    if let Some(f) = unary(c.name) {
        return Ok(Some(simple(v0, c.ts, f)));
    }
    let out = match c.name {
        "time" => vec![sample(Labels::empty(), c.ts, c.ts as f64 / 1000.0, false)],
        "pi" => vec![sample(Labels::empty(), c.ts, std::f64::consts::PI, false)],
        "min_of" | "max_of" => {
            let (a, b) = (
                c.scalar(0).unwrap_or(f64::NAN),
                c.scalar(1).unwrap_or(f64::NAN),
            );
            let v = if c.name == "min_of" {
                go_min(a, b)
            } else {
                go_max(a, b)
            };
            vec![sample(Labels::empty(), c.ts, v, false)]
        }
        "vector" => vec![sample(
            Labels::empty(),
            c.ts,
            c.scalar(0).unwrap_or(f64::NAN),
            false,
        )],
        "scalar" => {
            let mut floats = v0.iter().filter(|s| s.h.is_none());
            let value = match (floats.next(), floats.next()) {
                (Some(s), None) => s.f,
                _ => f64::NAN,
            };
            vec![sample(Labels::empty(), c.ts, value, false)]
        }
        "clamp" | "clamp_min" | "clamp_max" => {
            let (min, max) = match c.name {
                "clamp" => (
                    c.scalar(1).unwrap_or(f64::NAN),
                    c.scalar(2).unwrap_or(f64::NAN),
                ),
                "clamp_min" => (c.scalar(1).unwrap_or(f64::NAN), f64::INFINITY),
                _ => (f64::NEG_INFINITY, c.scalar(1).unwrap_or(f64::NAN)),
            };
            if max < min {
                Vec::new()
            } else {
                simple(v0, c.ts, |f| go_max(min, go_min(max, f)))
            }
        }
        "round" => {
            let to_nearest = if c.args.len() >= 2 {
                c.scalar(1).unwrap_or(f64::NAN)
            } else {
                1.0
            };
            let inv = 1.0 / to_nearest;
            simple(v0, c.ts, |f| (f * inv + 0.5).floor() / inv)
        }
        "timestamp" => v0
            .iter()
            .map(|s| sample(s.metric.clone(), c.ts, s.t as f64 / 1000.0, true))
            .collect(),
        "sort" => {
            // NaN sorts to the bottom: descending with NaN first, reversed.
            let mut v: Vector = v0.iter().filter(|s| s.h.is_none()).cloned().collect();
            sort_by_value(&mut v, false);
            v
        }
        "sort_desc" => {
            let mut v: Vector = v0.iter().filter(|s| s.h.is_none()).cloned().collect();
            sort_by_value(&mut v, true);
            v
        }
        _ => return Ok(None),
    };
    Ok(Some(out))
}

/// Go's `math.Max`: NaN if either is NaN; +0 beats -0.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a > 0.0 || b.is_infinite() && b > 0.0 {
        return f64::INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: NaN if either is NaN; -0 beats +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a < 0.0 || b.is_infinite() && b < 0.0 {
        return f64::NEG_INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    if a < b {
        a
    } else {
        b
    }
}

/// `sort` (ascending) / `sort_desc` (descending); NaN always last. Stable for equal values.
fn sort_by_value(v: &mut [Sample], desc: bool) {
    v.sort_by(|a, b| match (a.f.is_nan(), b.f.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            let o = a.f.partial_cmp(&b.f).unwrap_or(Ordering::Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    });
}

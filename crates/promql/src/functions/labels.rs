//! Functions on label sets: `label_replace`, `label_join`, `sort_by_label(_desc)`, `absent`,
//! `absent_over_time`.

use std::cmp::Ordering;
use std::collections::HashSet;

use promplay_model::{Labels, MatchType, METRIC_NAME};

use super::{sample, FnCall};
use crate::ast::Expr;
use crate::error::EvalError;
use crate::value::{Annotations, Sample, Vector};

pub(super) fn call(c: &FnCall, _ann: &mut Annotations) -> Result<Option<Vector>, EvalError> {
    let empty = Vector::new();
    let v0 = c.vector(0).unwrap_or(&empty);
    let out = match c.name {
        "label_replace" => label_replace(c, v0)?,
        "label_join" => label_join(c, v0)?,
        "sort_by_label" | "sort_by_label_desc" => {
            let names: Vec<&str> = (1..c.args.len()).filter_map(|i| c.string(i)).collect();
            let desc = c.name == "sort_by_label_desc";
            let mut v = v0.clone();
            v.sort_by(|a, b| {
                for n in &names {
                    let (x, y) = (a.metric.get_or_empty(n), b.metric.get_or_empty(n));
                    if x == y {
                        continue;
                    }
                    let less = natsort_less(x, y);
                    return match (less, desc) {
                        (true, false) | (false, true) => Ordering::Less,
                        _ => Ordering::Greater,
                    };
                }
                let o = a.metric.cmp(&b.metric);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
            v
        }
        "absent" => {
            if !v0.is_empty() {
                Vec::new()
            } else {
                vec![sample(labels_for_absent(c.exprs.first()), c.ts, 1.0, false)]
            }
        }
        "absent_over_time" => {
            // As upstream: called only for series with samples in the window (the engine
            // works out absence from the steps where no call produced a value), and then 1.
            let present = c.matrix(0).is_some_and(|m| {
                m.iter()
                    .any(|s| !s.floats.is_empty() || !s.histograms.is_empty())
            });
            if present {
                vec![sample(labels_for_absent(c.exprs.first()), c.ts, 1.0, false)]
            } else {
                Vec::new()
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(out))
}

/// `UTF8Validation.IsValidLabelName`: any non-empty valid UTF-8 string. A replacement
/// character stands for an invalid byte the parser could not keep.
fn valid_label_name(s: &str) -> bool {
    !s.is_empty() && !s.contains('\u{FFFD}')
}

fn check_unique(v: &[Sample]) -> Result<(), EvalError> {
    let mut seen = HashSet::with_capacity(v.len());
    for s in v {
        if !seen.insert(&s.metric) {
            return Err(EvalError::exec(
                "vector cannot contain metrics with the same labelset",
            ));
        }
    }
    Ok(())
}

fn label_replace(c: &FnCall, v: &Vector) -> Result<Vector, EvalError> {
    let dst = c.string(1).unwrap_or("");
    let repl = c.string(2).unwrap_or("");
    let src = c.string(3).unwrap_or("");
    let re_str = c.string(4).unwrap_or("");
    let re = regex::Regex::new(&format!("^(?s:{re_str})$")).map_err(|_| {
        EvalError::exec(format!(
            "invalid regular expression in label_replace(): {re_str}"
        ))
    })?;
    if !valid_label_name(dst) {
        return Err(EvalError::exec(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut out = Vec::with_capacity(v.len());
    for s in v {
        let mut s = s.clone();
        let src_val = s.metric.get_or_empty(src).to_string();
        if let Some(caps) = re.captures(&src_val) {
            let mut res = String::new();
            caps.expand(repl, &mut res);
            let mut b = s.metric.builder();
            b.set(dst, res);
            s.metric = b.labels();
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
        out.push(s);
    }
    check_unique(&out)?;
    Ok(out)
}

fn label_join(c: &FnCall, v: &Vector) -> Result<Vector, EvalError> {
    let dst = c.string(1).unwrap_or("");
    let sep = c.string(2).unwrap_or("");
    let mut srcs = Vec::new();
    for i in 3..c.args.len().max(c.exprs.len()) {
        let s = c.string(i).unwrap_or("");
        if !valid_label_name(s) {
            return Err(EvalError::exec(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
        srcs.push(s);
    }
    if !valid_label_name(dst) {
        return Err(EvalError::exec(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let mut out = Vec::with_capacity(v.len());
    for s in v {
        let mut s = s.clone();
        let joined = srcs
            .iter()
            .map(|n| s.metric.get_or_empty(n))
            .collect::<Vec<_>>()
            .join(sep);
        let mut b = s.metric.builder();
        b.set(dst, joined);
        s.metric = b.labels();
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
        out.push(s);
    }
    check_unique(&out)?;
    Ok(out)
}

/// `createLabelsForAbsentFunction`: the labels that are matched exactly (by one `=` matcher
/// each) in a vector or matrix selector; no labels for any other expression.
pub(crate) fn labels_for_absent(e: Option<&Expr>) -> Labels {
    let matchers = match e {
        Some(Expr::VectorSelector(vs)) => &vs.matchers,
        Some(Expr::MatrixSelector(ms)) => &ms.vector_selector.matchers,
        _ => return Labels::empty(),
    };
    let mut b = Labels::empty().builder();
    let mut has: HashSet<&str> = HashSet::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.kind == MatchType::Equal && !has.contains(m.name.as_str()) {
            b.set(m.name.as_str(), m.value.as_str());
            has.insert(m.name.as_str());
        } else {
            b.del(m.name.as_str());
        }
    }
    b.labels()
}

/// Splits into runs of digits and non-digits (`(\d+|\D+)`).
fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, ch) in s.char_indices() {
        let d = ch.is_ascii_digit();
        if let Some(p) = prev {
            if p != d {
                out.push(&s[start..i]);
                start = i;
            }
        }
        prev = Some(d);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `natsort.Compare(a, b)` (github.com/facette/natsort): true if `a` sorts before `b`,
/// comparing digit runs numerically.
fn natsort_less(a: &str, b: &str) -> bool {
    let ca = chunks(a);
    let cb = chunks(b);
    for i in 0..ca.len() {
        if i >= cb.len() {
            return false;
        }
        let ai = ca[i].parse::<i64>();
        let bi = cb[i].parse::<i64>();
        if let (Ok(x), Ok(y)) = (&ai, &bi) {
            if x == y {
                if i == ca.len() - 1 {
                    return true;
                } else if i == cb.len() - 1 {
                    return false;
                }
                continue;
            }
            return x < y;
        }
        if ca[i] == cb[i] {
            if i == ca.len() - 1 {
                return true;
            } else if i == cb.len() - 1 {
                return false;
            }
            continue;
        }
        return ca[i] < cb[i];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert!(natsort_less("2", "10"));
        assert!(!natsort_less("10", "2"));
        assert!(natsort_less("a2", "a10"));
        assert!(natsort_less("abc", "abd"));
    }
}

//! The `info()` function (Prometheus's `promql/info.go`): enriches series with the data
//! labels of matching info metrics (by default `target_info`, matched on `instance` and
//! `job`). It needs storage, so the engine evaluates it.

use std::collections::{HashMap, HashSet};

use promplay_model::{is_stale_nan, Labels, MatchType, Matcher};
use promplay_tsdb::{SelectHints, ValType};

use super::eval::{exec_err, push_point, Ctx, Rng};
use crate::ast::{Call, Expr};
use crate::error::EvalError;
use crate::value::{FPoint, Matrix, Sample, Series};

const TARGET_INFO: &str = "target_info";
const IDENTIFYING: [&str; 2] = ["instance", "job"];

fn regex_quote(s: &str) -> String {
    regex::escape(s)
}

pub(crate) fn eval_info(ctx: &Ctx, c: &Call, r: Rng) -> Result<Matrix, EvalError> {
    let Some(first) = c.args.first() else {
        return Err(exec_err("info() needs an argument"));
    };
    let mat = ctx.eval(first, r)?.into_mat();
    let mut data_matchers: HashMap<String, Vec<Matcher>> = HashMap::new();
    let mut name_matchers: Vec<Matcher> = Vec::new();
    if let Some(sel) = c.args.get(1) {
        if let Expr::VectorSelector(vs) = super::unparen(sel) {
            for m in &vs.matchers {
                data_matchers
                    .entry(m.name.clone())
                    .or_default()
                    .push(m.clone());
                if m.name == "__name__" {
                    name_matchers.push(m.clone());
                }
            }
        }
    } else {
        name_matchers.push(
            Matcher::new(MatchType::Equal, "__name__", TARGET_INFO)
                .map_err(|e| exec_err(e.to_string()))?,
        );
    }
    let mut ignore: HashSet<Labels> = HashSet::new();
    for s in &mat {
        let name = s.metric.get_or_empty("__name__");
        let positive = name_matchers
            .iter()
            .any(|m| matches!(m.kind, MatchType::Equal | MatchType::Regexp));
        if !name_matchers.is_empty()
            && (positive || name.ends_with("_info"))
            && name_matchers.iter().all(|m| m.matches(name))
        {
            ignore.insert(s.metric.clone());
        }
    }
    // Select hints (time range) from the first selector under the argument.
    let mut node_ts = None;
    let mut offset = 0i64;
    let mut found = false;
    super::walk(first, &mut |e| {
        if found {
            return;
        }
        if let Expr::VectorSelector(vs) = e {
            if let Ok((o, at)) = ctx.sel_times(vs) {
                node_ts = at;
                offset = o;
            }
            found = true;
        }
    });
    let (mut start, mut end) = (r.start, r.end);
    if let Some(t) = node_ts {
        start = t;
        end = t;
    }
    start -= ctx.qt.lookback - 1;
    start -= offset;
    end -= offset;

    let remove_name = |dm: &mut HashMap<String, Vec<Matcher>>| {
        dm.retain(|_, ms| {
            ms.retain(|m| m.name != "__name__");
            !ms.is_empty()
        });
    };
    // Identifying label values of interest.
    let mut id_vals: HashMap<&str, Vec<String>> = HashMap::new();
    for s in &mat {
        if ignore.contains(&s.metric) {
            continue;
        }
        for l in IDENTIFYING {
            let v = s.metric.get_or_empty(l);
            if v.is_empty() {
                continue;
            }
            let e = id_vals.entry(l).or_default();
            if !e.iter().any(|x| x == v) {
                e.push(v.to_string());
            }
        }
    }
    let info_mat: Matrix = if id_vals.is_empty() {
        remove_name(&mut data_matchers);
        Vec::new()
    } else {
        let mut ms: Vec<Matcher> = Vec::new();
        for (name, vals) in &id_vals {
            let re = vals
                .iter()
                .map(|v| regex_quote(v))
                .collect::<Vec<_>>()
                .join("|");
            ms.push(
                Matcher::new(MatchType::Regexp, *name, re).map_err(|e| exec_err(e.to_string()))?,
            );
        }
        let mut has_name = false;
        let data_matchers_had_positive_name = data_matchers.values().flatten().any(|m| {
            m.name == "__name__" && matches!(m.kind, MatchType::Equal | MatchType::Regexp)
        });
        for dm in data_matchers.values() {
            for m in dm {
                if m.name == "__name__" {
                    has_name = true;
                }
                ms.push(m.clone());
            }
        }
        remove_name(&mut data_matchers);
        let positive = data_matchers_had_positive_name;
        if has_name && !positive {
            // Only negative name matchers: still select info metrics only.
            ms.push(
                Matcher::new(MatchType::Regexp, "__name__", ".+_info")
                    .map_err(|e| exec_err(e.to_string()))?,
            );
        }
        if !has_name {
            ms.insert(
                0,
                Matcher::new(MatchType::Equal, "__name__", TARGET_INFO)
                    .map_err(|e| exec_err(e.to_string()))?,
            );
        }
        let hints = SelectHints {
            start,
            end,
            step: r.interval,
            range: 0,
            func: "info".into(),
        };
        let set = ctx
            .querier_select(&hints, &ms)
            .map_err(|e| exec_err(format!("expanding series: {e}")))?;
        // Evaluate like a vector selector (offset 0), recording each sample's timestamp.
        let lb = ctx.qt.lookback;
        let mut out = Vec::new();
        for s in &set {
            let mut it = s.iter();
            let mut ss = Series {
                metric: s.labels().clone(),
                ..Default::default()
            };
            let mut last: Option<(i64, f64, bool)> = None;
            let mut ahead: Option<(i64, f64, bool)> = None;
            let mut done = false;
            let mut ts = r.start;
            while ts <= r.end {
                loop {
                    if ahead.is_none() && !done {
                        match it.next() {
                            ValType::None => done = true,
                            ValType::Float => {
                                let (t, f) = it.at();
                                ahead = Some((t, f, false));
                            }
                            ValType::Histogram => {
                                if let Some((t, h)) = it.at_histogram() {
                                    ahead = Some((t, h.sum, true));
                                }
                            }
                        }
                    }
                    match ahead {
                        Some(a) if a.0 <= ts => {
                            last = Some(a);
                            ahead = None;
                        }
                        _ => break,
                    }
                }
                if let Some((t, f, is_h)) = last {
                    if t > ts - lb && !is_stale_nan(f) {
                        if is_h {
                            return Err(exec_err(format!(
                                "this should be an info metric, with float samples: {}",
                                ss.metric
                            )));
                        }
                        ss.floats.push(FPoint { t: ts, f: t as f64 });
                    }
                }
                ts += r.interval;
            }
            if !ss.floats.is_empty() {
                ctx.add_samples(ss.floats.len())?;
                out.push(ss);
            }
        }
        out
    };
    combine(ctx, &mat, &info_mat, &ignore, &data_matchers, r)
}

fn signature(name: &str, l: &Labels) -> Labels {
    let mut b = l.keep(&IDENTIFYING).builder();
    b.set("__name__", name);
    b.labels()
}

fn combine(
    ctx: &Ctx,
    mat: &Matrix,
    info_mat: &Matrix,
    ignore: &HashSet<Labels>,
    dm: &HashMap<String, Vec<Matcher>>,
    r: Rng,
) -> Result<Matrix, EvalError> {
    let mut info_names: Vec<String> = Vec::new();
    for s in info_mat {
        let n = s.metric.get_or_empty("__name__").to_string();
        if !info_names.contains(&n) {
            info_names.push(n);
        }
    }
    let base_sigs: Vec<Vec<(String, Labels)>> = mat
        .iter()
        .map(|s| {
            info_names
                .iter()
                .map(|n| (n.clone(), signature(n, &s.metric)))
                .collect()
        })
        .collect();
    let info_sigs: Vec<Labels> = info_mat
        .iter()
        .map(|s| signature(s.metric.get_or_empty("__name__"), &s.metric))
        .collect();
    let mut out: Matrix = Vec::new();
    let mut index: HashMap<Labels, (usize, i64)> = HashMap::new();
    let mut bpos = vec![0usize; mat.len()];
    let mut hpos = vec![0usize; mat.len()];
    let mut ipos = vec![0usize; info_mat.len()];
    let mut ts = r.start;
    while ts <= r.end {
        ctx.check_interrupt()?;
        // Info samples at this step, by signature (newest original timestamp wins).
        let mut right: HashMap<&Labels, (&Labels, i64)> = HashMap::new();
        for (i, s) in info_mat.iter().enumerate() {
            let p = &mut ipos[i];
            while *p < s.floats.len() && s.floats[*p].t < ts {
                *p += 1;
            }
            if *p < s.floats.len() && s.floats[*p].t == ts {
                let orig = s.floats[*p].f as i64;
                let sig = &info_sigs[i];
                match right.get(sig) {
                    Some(&(em, et)) => {
                        if et < orig {
                            right.insert(sig, (&s.metric, orig));
                        } else if et == orig {
                            return Err(exec_err(format!(
                                "found duplicate series for info metric: existing {em} @ {et}, new {} @ {orig}",
                                s.metric
                            )));
                        }
                    }
                    None => {
                        right.insert(sig, (&s.metric, orig));
                    }
                }
            }
        }
        let mut res: Vec<Sample> = Vec::new();
        for (bi, bs) in mat.iter().enumerate() {
            let (mut f, mut h) = (None, None);
            let p = &mut bpos[bi];
            while *p < bs.floats.len() && bs.floats[*p].t < ts {
                *p += 1;
            }
            if *p < bs.floats.len() && bs.floats[*p].t == ts {
                f = Some(bs.floats[*p].f);
            }
            let q = &mut hpos[bi];
            while *q < bs.histograms.len() && bs.histograms[*q].t < ts {
                *q += 1;
            }
            if f.is_none() && *q < bs.histograms.len() && bs.histograms[*q].t == ts {
                h = Some(bs.histograms[*q].h.clone());
            }
            if f.is_none() && h.is_none() {
                continue;
            }
            let fv = f.unwrap_or(0.0);
            if ignore.contains(&bs.metric) {
                res.push(Sample {
                    metric: bs.metric.clone(),
                    t: ts,
                    f: fv,
                    h,
                    drop_name: false,
                });
                continue;
            }
            let mut add = Labels::empty().builder();
            let mut seen = 0usize;
            for (_, sig) in &base_sigs[bi] {
                let Some(&(im, _)) = right.get(sig) else {
                    continue;
                };
                for l in im.iter() {
                    if &*l.name == "__name__" {
                        continue;
                    }
                    if !dm.is_empty() && !dm.contains_key(&*l.name) {
                        continue;
                    }
                    if let Some(v) = add.get(&l.name) {
                        if v != &*l.value {
                            return Err(exec_err(format!("conflicting label: {}", l.name)));
                        }
                    }
                    if bs.metric.has(&l.name) {
                        continue;
                    }
                    add.set(l.name.clone(), l.value.clone());
                }
                seen += 1;
            }
            let info_lbls = add.labels();
            if seen == 0 {
                let all_empty = dm.values().flatten().all(|m| m.matches(""));
                if !all_empty {
                    continue;
                }
            }
            let mut b = bs.metric.builder();
            for l in info_lbls.iter() {
                b.set(l.name.clone(), l.value.clone());
            }
            res.push(Sample {
                metric: b.labels(),
                t: ts,
                f: fv,
                h,
                drop_name: false,
            });
        }
        ctx.add_samples(res.len())?;
        for s in res {
            match index.get_mut(&s.metric) {
                Some((i, last)) => {
                    if *last == ts {
                        return Err(exec_err(
                            "vector cannot contain metrics with the same labelset",
                        ));
                    }
                    *last = ts;
                    push_point(&mut out[*i], ts, s.f, s.h);
                }
                None => {
                    index.insert(s.metric.clone(), (out.len(), ts));
                    let mut ss = Series {
                        metric: s.metric,
                        ..Default::default()
                    };
                    push_point(&mut ss, ts, s.f, s.h);
                    out.push(ss);
                }
            }
        }
        ts += r.interval;
    }
    Ok(out)
}

//! JSON as Prometheus's API writes it (`util/jsonutil` and `web/api/v1`'s jsoniter encoders):
//! timestamps as seconds with up to three decimals, sample values as strings in Go's
//! `strconv.FormatFloat` shortest form, HTML-sensitive characters escaped as Go does.

use std::fmt::Write;

use promplay_model::gofmt::{format_f, format_g};
use promplay_model::{FloatHistogram, Labels};
use promplay_promql::value::Value;

/// Writes `s` as a JSON string, escaping as Go's `encoding/json` (EscapeHTML on).
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON string.
pub fn str_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_str(&mut out, s);
    out
}

/// `jsonutil.MarshalValue`: Go's `strconv.FormatFloat(v, fmt, -1, 64)` with `fmt` `'e'` when
/// `|v| < 1e-6` or `|v| >= 1e21` (`v` not zero), else `'f'`; `+Inf`, `-Inf`, `NaN`. In that
/// range the shortest `'g'` form is the `'e'` form (its decimal exponent is < -4 or >= 6), so
/// model's `format_g` writes it; elsewhere model's `format_f` (`1000000`, never `1e+06`).
pub fn format_value(v: f64) -> String {
    let abs = v.abs();
    if v.is_finite() && abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        format_g(v)
    } else {
        format_f(v)
    }
}

/// A sample value as a quoted JSON string.
pub fn write_value(out: &mut String, v: f64) {
    out.push('"');
    out.push_str(&format_value(v));
    out.push('"');
}

/// `jsonutil.MarshalTimestamp`: `t/1000`, then `.` and the millisecond fraction zero-padded
/// to three digits when it is not zero.
pub fn write_ts(out: &mut String, t: i64) {
    let mut t = t as i128;
    if t < 0 {
        out.push('-');
        t = -t;
    }
    let _ = write!(out, "{}", t / 1000);
    let frac = t % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// `{"name":"value",...}` in label order.
pub fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, &l.name);
        out.push(':');
        write_str(out, &l.value);
    }
    out.push('}');
}

/// `jsonutil.MarshalHistogram`: count, sum and the non-empty buckets as
/// `[boundaries, lower, upper, count]` (boundaries: 0 left-open, 1 right-open, 2 open,
/// 3 closed).
pub fn write_histogram(out: &mut String, h: &FloatHistogram) {
    out.push_str("{\"count\":");
    write_value(out, h.count);
    out.push_str(",\"sum\":");
    write_value(out, h.sum);
    let mut found = false;
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        out.push(',');
        if !found {
            out.push_str("\"buckets\":[");
            found = true;
        }
        let boundaries = match (b.lower_inclusive, b.upper_inclusive) {
            (true, true) => 3,
            (true, false) => 1,
            (false, true) => 0,
            (false, false) => 2,
        };
        let _ = write!(out, "[{boundaries},");
        write_value(out, b.lower);
        out.push(',');
        write_value(out, b.upper);
        out.push(',');
        write_value(out, b.count);
        out.push(']');
    }
    if found {
        out.push(']');
    }
    out.push('}');
}

fn write_point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    write_ts(out, t);
    out.push(',');
    write_value(out, v);
    out.push(']');
}

fn write_hpoint(out: &mut String, t: i64, h: &FloatHistogram) {
    out.push('[');
    write_ts(out, t);
    out.push(',');
    write_histogram(out, h);
    out.push(']');
}

/// `"resultType":"…","result":…` of a query answer.
pub fn write_result(out: &mut String, v: &Value) {
    match v {
        Value::Scalar { t, v } => {
            out.push_str("\"resultType\":\"scalar\",\"result\":");
            write_point(out, *t, *v);
        }
        Value::String { t, s } => {
            out.push_str("\"resultType\":\"string\",\"result\":[");
            write_ts(out, *t);
            out.push(',');
            write_str(out, s);
            out.push(']');
        }
        Value::Vector(vec) => {
            out.push_str("\"resultType\":\"vector\",\"result\":[");
            for (i, s) in vec.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                write_labels(out, &s.metric);
                match &s.h {
                    Some(h) => {
                        out.push_str(",\"histogram\":");
                        write_hpoint(out, s.t, h);
                    }
                    None => {
                        out.push_str(",\"value\":");
                        write_point(out, s.t, s.f);
                    }
                }
                out.push('}');
            }
            out.push(']');
        }
        Value::Matrix(m) => {
            out.push_str("\"resultType\":\"matrix\",\"result\":[");
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                write_labels(out, &s.metric);
                if !s.floats.is_empty() {
                    out.push_str(",\"values\":[");
                    for (j, p) in s.floats.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        write_point(out, p.t, p.f);
                    }
                    out.push(']');
                }
                if !s.histograms.is_empty() {
                    out.push_str(",\"histograms\":[");
                    for (j, p) in s.histograms.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        write_hpoint(out, p.t, &p.h);
                    }
                    out.push(']');
                }
                out.push('}');
            }
            out.push(']');
        }
    }
}

/// A JSON array of strings.
pub fn write_str_array<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s.as_ref());
    }
    out.push(']');
}

/// `/api/v1/parse_query`'s tree (Prometheus's `translateAST`): Go maps, so keys sorted.
pub fn translate_ast(e: &promplay_promql::ast::Expr) -> serde_json::Value {
    use promplay_promql::ast::{Expr, StartOrEnd};
    use serde_json::{json, Value as J};
    fn ms(d: &promplay_promql::ast::Duration) -> i64 {
        d.as_millis().unwrap_or(0)
    }
    fn soe(s: Option<StartOrEnd>) -> J {
        match s {
            Some(StartOrEnd::Start) => json!("start"),
            Some(StartOrEnd::End) => json!("end"),
            None => J::Null,
        }
    }
    fn matchers(ms: &[promplay_model::Matcher]) -> J {
        J::Array(
            ms.iter()
                .map(|m| json!({"type": m.kind.as_str(), "name": m.name, "value": m.value}))
                .collect(),
        )
    }
    fn vt(t: promplay_promql::value::ValueType) -> &'static str {
        use promplay_promql::value::ValueType as T;
        match t {
            T::None => "none",
            T::Scalar => "scalar",
            T::Vector => "vector",
            T::Matrix => "matrix",
            T::String => "string",
        }
    }
    fn go(e: &Expr, depth: usize) -> J {
        if depth > 1000 {
            return J::Null;
        }
        let d = depth + 1;
        match e {
            Expr::Aggregate(a) => json!({
                "type": "aggregation",
                "op": a.op.as_str(),
                "expr": go(&a.expr, d),
                "param": a.param.as_ref().map_or(J::Null, |p| go(p, d)),
                "grouping": a.grouping,
                "without": a.without,
            }),
            Expr::Binary(b) => json!({
                "type": "binaryExpr",
                "op": b.op.as_str(),
                "lhs": go(&b.lhs, d),
                "rhs": go(&b.rhs, d),
                "matching": b.matching.as_ref().map_or(J::Null, |m| json!({
                    "card": m.card.as_str(),
                    "labels": m.matching_labels,
                    "on": m.on,
                    "include": m.include,
                    "fillValues": {"lhs": m.fill.lhs, "rhs": m.fill.rhs},
                })),
                "bool": b.return_bool,
            }),
            Expr::Call(c) => json!({
                "type": "call",
                "func": {
                    "name": c.func.name,
                    "argTypes": c.func.arg_types.iter().map(|t| vt(*t)).collect::<Vec<_>>(),
                    "variadic": c.func.variadic,
                    "returnType": vt(c.func.return_type),
                },
                "args": c.args.iter().map(|a| go(a, d)).collect::<Vec<_>>(),
            }),
            Expr::MatrixSelector(m) => {
                let vs = &m.vector_selector;
                json!({
                    "type": "matrixSelector",
                    "name": vs.name.clone().unwrap_or_default(),
                    "range": ms(&m.range),
                    "offset": ms(&vs.offset),
                    "matchers": matchers(&vs.matchers),
                    "timestamp": vs.timestamp,
                    "startOrEnd": soe(vs.start_or_end),
                    "anchored": vs.anchored,
                    "smoothed": vs.smoothed,
                })
            }
            Expr::Subquery(s) => json!({
                "type": "subquery",
                "expr": go(&s.expr, d),
                "range": ms(&s.range),
                "offset": ms(&s.offset),
                "step": s.step.as_ref().map_or(0, ms),
                "timestamp": s.timestamp,
                "startOrEnd": soe(s.start_or_end),
            }),
            Expr::NumberLiteral(n) => {
                let v = if n.val.is_nan() {
                    "NaN".to_string()
                } else if n.val.is_infinite() {
                    if n.val > 0.0 { "+Inf" } else { "-Inf" }.to_string()
                } else {
                    format!("{}", n.val)
                };
                json!({"type": "numberLiteral", "val": v})
            }
            Expr::StringLiteral(s) => json!({"type": "stringLiteral", "val": s.val}),
            Expr::Paren(p) => json!({"type": "parenExpr", "expr": go(&p.expr, d)}),
            Expr::Unary(u) => {
                json!({"type": "unaryExpr", "op": u.op.as_str(), "expr": go(&u.expr, d)})
            }
            Expr::VectorSelector(vs) => json!({
                "type": "vectorSelector",
                "name": vs.name.clone().unwrap_or_default(),
                "offset": ms(&vs.offset),
                "matchers": matchers(&vs.matchers),
                "timestamp": vs.timestamp,
                "startOrEnd": soe(vs.start_or_end),
                "anchored": vs.anchored,
                "smoothed": vs.smoothed,
            }),
        }
    }
    go(e, 0)
}

/// serde_json output with Go's HTML escaping (`<`, `>`, `&` only occur inside strings).
pub fn go_escape(s: String) -> String {
    if !s.contains(['<', '>', '&']) {
        return s;
    }
    s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_as_go_formats_them() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-07"),
            (0.000001, "0.000001"),
            (-2.5e300, "-2.5e+300"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e6, "1000000"),
            (123456789.0, "123456789"),
            (9.99e-7, "9.99e-07"),
            (1e-6, "0.000001"),
            (1e100, "1e+100"),
            (1795612490.988606, "1795612490.988606"),
        ];
        for (v, want) in cases {
            assert_eq!(format_value(*v), *want, "{v}");
        }
    }

    #[test]
    fn timestamps_as_marshal_timestamp() {
        let cases: &[(i64, &str)] = &[
            (1795612718717, "1795612718.717"),
            (1500, "1.500"),
            (1005, "1.005"),
            (2000, "2"),
            (-1500, "-1.500"),
        ];
        for (t, want) in cases {
            let mut s = String::new();
            write_ts(&mut s, *t);
            assert_eq!(s, *want);
        }
    }

    #[test]
    fn histograms_as_marshal_histogram() {
        let h = FloatHistogram {
            schema: 0,
            zero_threshold: 0.001,
            zero_count: 1.0,
            count: 6.0,
            sum: 10.0,
            positive_spans: vec![promplay_model::Span {
                offset: 0,
                length: 2,
            }],
            positive_buckets: vec![2.0, 3.0],
            ..Default::default()
        };
        let mut s = String::new();
        write_histogram(&mut s, &h);
        assert_eq!(
            s,
            r#"{"count":"6","sum":"10","buckets":[[3,"-0.001","0.001","1"],[0,"0.5","1","2"],[0,"1","2","3"]]}"#
        );
    }

    #[test]
    fn strings_escape_html_as_go() {
        assert_eq!(str_json("a<b>&\"\n"), r#""a\u003cb\u003e\u0026\"\n""#);
    }
}

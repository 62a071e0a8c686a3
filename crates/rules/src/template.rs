//! Prometheus's template functions (`template/template.go`) on top of the shared Go
//! `text/template` engine, and the expansion of alert labels and annotations with `$labels`,
//! `$value`, `$externalLabels` and `$externalURL`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use promplay_model::Labels;
use promplay_template::{go_time_string, query_escape, Template, Value};

use crate::QueryFunc;

/// The variables Prometheus defines before every alert template.
const DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// What an alert template sees.
pub struct AlertTemplateData<'a> {
    pub labels: &'a Labels,
    pub external_labels: &'a Labels,
    pub external_url: &'a str,
    pub value: f64,
}

fn kv(l: &Labels) -> Value {
    Value::KV(Arc::new(
        l.iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect::<BTreeMap<_, _>>(),
    ))
}

impl AlertTemplateData<'_> {
    fn to_value(&self) -> Value {
        Value::structure(vec![
            ("Labels", kv(self.labels)),
            ("ExternalLabels", kv(self.external_labels)),
            ("ExternalURL", Value::str(self.external_url)),
            ("Value", Value::Float(self.value)),
        ])
    }
}

/// Go's `strconv.FormatFloat(v, 'g', prec, 64)` (`%.4g` in the humanize functions).
pub fn format_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let prec = prec.max(1);
    let e = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Go's `%g` (shortest digits; exponent form below 1e-4 and from 1e6 on: `1e+06`).
pub use promplay_model::gofmt::format_g as format_g_shortest;

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`: shortest digits, `1.5E+00`.
pub fn format_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let e = format!("{v:E}");
    let (mant, exp) = e.split_once('E').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}E{sign}{:02}", exp.abs())
}

fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Str(s) | Value::SafeHtml(s) => crate::duration::parse_go_float(s)
            .ok_or_else(|| format!("strconv.ParseFloat: parsing {:?}: invalid syntax", &**s)),
        Value::Bool(_) | Value::Nil => Err(format!("can't convert {v} to float")),
        _ => Err(format!("can't convert {v} to float")),
    }
}

fn arg(args: &[Value], i: usize) -> Result<&Value, String> {
    args.get(i).ok_or_else(|| {
        format!(
            "wrong number of args: got {} want at least {}",
            args.len(),
            i + 1
        )
    })
}

fn str_arg(args: &[Value], i: usize) -> Result<String, String> {
    match arg(args, i)? {
        Value::Str(s) | Value::SafeHtml(s) => Ok(s.to_string()),
        v => Err(format!("wrong type for value; expected string; got {v}")),
    }
}

pub fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return format_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(v, 4))
}

pub fn humanize_1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return format_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_g(v, 4))
}

pub fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return format_g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", format_g(v, 4));
    }
    if v.abs() >= 1.0 {
        let (sign, v) = if v < 0.0 { ("-", -v) } else { ("", v) };
        let d = v as i64;
        let (s, m, h, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        if days != 0 {
            return format!("{sign}{days}d {h}h {m}m {s}s");
        }
        if h != 0 {
            return format!("{sign}{h}h {m}m {s}s");
        }
        if m != 0 {
            return format!("{sign}{m}m {s}s");
        }
        return format!("{sign}{}s", format_g(v, 4));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, 4))
}

fn float_to_ms(v: f64) -> Result<i64, String> {
    let ms = v * 1000.0;
    if !ms.is_finite() || ms.abs() > 9.2e18 {
        return Err("time out of range".into());
    }
    Ok(ms.round() as i64)
}

fn sample_value(labels: &Labels, v: f64) -> Value {
    Value::structure(vec![("Labels", kv(labels)), ("Value", Value::Float(v))])
}

fn sample_field(s: &Value, f: &str) -> Option<Value> {
    match s {
        Value::Struct(m) => m.get(f).cloned(),
        _ => None,
    }
}

thread_local! {
    /// The query function of the expansion in progress (template functions are `Send + Sync`
    /// and cannot hold the host's query function).
    static QUERY: RefCell<Option<Rc<QueryFunc>>> = const { RefCell::new(None) };
}

/// Runs `f` with `query` answering the templates' `query` function.
pub fn with_query<R>(query: Option<Rc<QueryFunc>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Rc<QueryFunc>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            QUERY.with(|q| *q.borrow_mut() = prev);
        }
    }
    let prev = QUERY.with(|q| std::mem::replace(&mut *q.borrow_mut(), query));
    let _restore = Restore(prev);
    f()
}

/// The function map of Prometheus's templates at `ts_ms`; `query` asks the query function
/// set by [`with_query`] (none: an empty result).
pub fn add_functions(t: &mut Template, ts_ms: i64, external_url: &str) {
    let f = |t: &mut Template, n: &str, f: promplay_template::Func| t.add_func(n, f);
    f(
        t,
        "query",
        Arc::new(move |a: &[Value]| {
            let expr = str_arg(a, 0)?;
            let Some(q) = QUERY.with(|q| q.borrow().clone()) else {
                return Ok(Value::List(Arc::new(Vec::new())));
            };
            let v = q(&expr, ts_ms).map_err(|e| e.to_string())?;
            Ok(Value::List(Arc::new(
                v.iter().map(|s| sample_value(&s.metric, s.f)).collect(),
            )))
        }),
    );
    f(
        t,
        "first",
        Arc::new(|a: &[Value]| match arg(a, 0)? {
            Value::List(l) if !l.is_empty() => Ok(l[0].clone()),
            _ => Err("first() called on vector with no elements".into()),
        }),
    );
    f(
        t,
        "label",
        Arc::new(|a: &[Value]| {
            let name = str_arg(a, 0)?;
            Ok(match a.get(1).and_then(|s| sample_field(s, "Labels")) {
                Some(Value::KV(m)) => Value::str(m.get(&name).map(String::as_str).unwrap_or("")),
                _ => Value::str(""),
            })
        }),
    );
    f(
        t,
        "value",
        Arc::new(|a: &[Value]| Ok(sample_field(arg(a, 0)?, "Value").unwrap_or(Value::Float(0.0)))),
    );
    f(
        t,
        "strvalue",
        Arc::new(|a: &[Value]| {
            Ok(match sample_field(arg(a, 0)?, "Labels") {
                Some(Value::KV(m)) => {
                    Value::str(m.get("__value__").map(String::as_str).unwrap_or(""))
                }
                _ => Value::str(""),
            })
        }),
    );
    f(
        t,
        "sortByLabel",
        Arc::new(|a: &[Value]| {
            let name = str_arg(a, 0)?;
            let Value::List(l) = arg(a, 1)? else {
                return Err("sortByLabel: not a query result".into());
            };
            let mut v: Vec<Value> = l.to_vec();
            let key = |s: &Value| match sample_field(s, "Labels") {
                Some(Value::KV(m)) => m.get(&name).cloned().unwrap_or_default(),
                _ => String::new(),
            };
            v.sort_by_key(key);
            Ok(Value::List(Arc::new(v)))
        }),
    );
    f(
        t,
        "args",
        Arc::new(|a: &[Value]| {
            let fields: Vec<(String, Value)> = a
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("arg{i}"), v.clone()))
                .collect();
            Ok(Value::Struct(Arc::new(fields.into_iter().collect())))
        }),
    );
    for (name, h) in [
        ("humanize", humanize as fn(f64) -> String),
        ("humanize1024", humanize_1024),
        ("humanizeDuration", humanize_duration),
        ("humanizePercentage", |v| {
            format!("{}%", format_g(v * 100.0, 4))
        }),
    ] {
        f(
            t,
            name,
            Arc::new(move |a: &[Value]| Ok(Value::str(h(to_float(arg(a, 0)?)?)))),
        );
    }
    f(
        t,
        "humanizeTimestamp",
        Arc::new(|a: &[Value]| {
            let v = to_float(arg(a, 0)?)?;
            if v.is_nan() || v.is_infinite() {
                return Ok(Value::str(format_g(v, 4)));
            }
            Ok(Value::str(go_time_string(Some(float_to_ms(v)?))))
        }),
    );
    f(
        t,
        "toTime",
        Arc::new(|a: &[Value]| {
            let v = to_float(arg(a, 0)?)?;
            Ok(Value::Time(Some(float_to_ms(v)?)))
        }),
    );
    f(
        t,
        "toDuration",
        Arc::new(|a: &[Value]| {
            let v = to_float(arg(a, 0)?)?;
            let ns = v * 1e9;
            if !ns.is_finite() || ns.abs() > 9.2e18 {
                return Err("time.Duration out of range".into());
            }
            Ok(Value::str(crate::duration::format_go_duration_ns(
                ns.round() as i128,
            )))
        }),
    );
    f(
        t,
        "now",
        Arc::new(move |_: &[Value]| Ok(Value::Float(ts_ms as f64 / 1000.0))),
    );
    f(
        t,
        "parseDuration",
        Arc::new(|a: &[Value]| {
            let s = str_arg(a, 0)?;
            let ms = crate::duration::parse_duration(&s)?;
            Ok(Value::Float(ms as f64 / 1000.0))
        }),
    );
    f(
        t,
        "graphLink",
        Arc::new(|a: &[Value]| {
            Ok(Value::str(format!(
                "/graph?g0.expr={}&g0.tab=0",
                query_escape(&str_arg(a, 0)?)
            )))
        }),
    );
    f(
        t,
        "tableLink",
        Arc::new(|a: &[Value]| Ok(Value::str(table_link(&str_arg(a, 0)?)))),
    );
    let ext = external_url.to_string();
    let prefix = url_path(external_url);
    f(
        t,
        "externalURL",
        Arc::new(move |_: &[Value]| Ok(Value::str(&ext))),
    );
    f(
        t,
        "pathPrefix",
        Arc::new(move |_: &[Value]| Ok(Value::str(&prefix))),
    );
    f(
        t,
        "stripPort",
        Arc::new(|a: &[Value]| {
            let s = str_arg(a, 0)?;
            Ok(Value::str(strip_port(&s)))
        }),
    );
    f(
        t,
        "stripDomain",
        Arc::new(|a: &[Value]| {
            let s = str_arg(a, 0)?;
            let (host, port) = match s.rfind(':') {
                Some(i) if !s[i + 1..].contains(']') && s.matches(':').count() == 1 => {
                    (&s[..i], &s[i..])
                }
                _ => (s.as_str(), ""),
            };
            if host.parse::<std::net::Ipv4Addr>().is_ok() {
                return Ok(Value::str(&s));
            }
            let first = host.split('.').next().unwrap_or(host);
            Ok(Value::str(format!("{first}{port}")))
        }),
    );
}

fn strip_port(s: &str) -> String {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some(i) = rest.find(']') {
            return rest[..i].to_string();
        }
    }
    match s.rfind(':') {
        Some(i) if s.matches(':').count() == 1 => s[..i].to_string(),
        _ => s.to_string(),
    }
}

fn url_path(u: &str) -> String {
    let rest = match u.find("://") {
        Some(i) => &u[i + 3..],
        None => return String::new(),
    };
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => String::new(),
    }
}

/// Prometheus's `strutil.TableLinkForExpression`.
pub fn table_link(expr: &str) -> String {
    format!("/graph?g0.expr={}&g0.tab=1", query_escape(expr))
}

/// Checks that a label or annotation template of alert `alert` parses (`ParseTest`); the
/// error is the template's, as promtool prints it.
pub fn parse_test(alert: &str, text: &str) -> Result<(), String> {
    let name = format!("__alert_{alert}");
    let mut t = Template::new();
    add_functions(&mut t, 0, "");
    let src = format!("{DEFS}{text}");
    t.parse(&name, &src).map_err(|e| e.to_string())?;
    Ok(())
}

/// Expands one alert label or annotation template (`Expander.Expand`), or says why not in
/// Prometheus's words.
pub fn expand_alert(
    alert: &str,
    text: &str,
    data: &AlertTemplateData,
    ts_ms: i64,
    query: Option<Rc<QueryFunc>>,
) -> Result<String, String> {
    let name = format!("__alert_{alert}");
    let mut t = Template::new();
    add_functions(&mut t, ts_ms, data.external_url);
    let src = format!("{DEFS}{text}");
    t.parse(&name, &src)
        .map_err(|e| format!("error parsing template {name}: {e}"))?;
    with_query(query, || t.execute(&name, &data.to_value()))
        .map_err(|e| format!("error executing template {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use promplay_promql::value::Sample;

    #[test]
    fn go_number_formats() {
        assert_eq!(format_g(1234.5, 4), "1234");
        assert_eq!(format_g(12345.0, 4), "1.234e+04");
        assert_eq!(format_g(0.5, 4), "0.5");
        assert_eq!(format_g(0.00001234, 4), "1.234e-05");
        assert_eq!(format_g_shortest(1e6), "1e+06");
        assert_eq!(format_g_shortest(123456.0), "123456");
        assert_eq!(format_g_shortest(0.00001), "1e-05");
        assert_eq!(format_g_shortest(-0.3), "-0.3");
        assert_eq!(format_e(1.0), "1E+00");
        assert_eq!(format_e(0.0), "0E+00");
        assert_eq!(format_e(60.0), "6E+01");
        assert_eq!(format_e(3.0000000000000004), "3.0000000000000004E+00");
        assert_eq!(format_e(1e-300), "1E-300");
    }

    #[test]
    fn humanize_functions() {
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(1234567.0), "1.235M");
        assert_eq!(humanize(0.012), "12m");
        assert_eq!(humanize(-1500.0), "-1.5k");
        assert_eq!(humanize_1024(1048576.0), "1Mi");
        assert_eq!(humanize_1024(0.5), "0.5");
        assert_eq!(humanize_duration(0.0), "0s");
        assert_eq!(humanize_duration(90061.0), "1d 1h 1m 1s");
        assert_eq!(humanize_duration(3601.0), "1h 0m 1s");
        assert_eq!(humanize_duration(61.5), "1m 1s");
        assert_eq!(humanize_duration(1.5), "1.5s");
        assert_eq!(humanize_duration(0.0015), "1.5ms");
        assert_eq!(humanize_duration(-65.0), "-1m 5s");
    }

    fn expand(text: &str, q: Option<Rc<QueryFunc>>) -> Result<String, String> {
        let labels = Labels::from_pairs(&[("instance", "a:9100"), ("job", "node")]);
        let ext = Labels::from_pairs(&[("dc", "eu")]);
        let d = AlertTemplateData {
            labels: &labels,
            external_labels: &ext,
            external_url: "http://prom.example:9090/prefix",
            value: 1234.5,
        };
        expand_alert("A", text, &d, 1_700_000_000_000, q)
    }

    #[test]
    fn alert_template_variables_and_functions() {
        assert_eq!(
            expand("{{ $labels.instance }} of {{ $labels.job }}: {{ $value }} ({{ $value | humanize }}) in {{ $externalLabels.dc }}", None).unwrap(),
            "a:9100 of node: 1234.5 (1.234k) in eu"
        );
        assert_eq!(
            expand(
                "{{ $externalURL }} {{ pathPrefix }} {{ tableLink \"up == 0\" }}",
                None
            )
            .unwrap(),
            "http://prom.example:9090/prefix /prefix /graph?g0.expr=up+%3D%3D+0&g0.tab=1"
        );
        assert_eq!(
            expand("{{ 90.5 | toDuration }}|{{ 1700000000 | humanizeTimestamp }}|{{ 0.1234 | humanizePercentage }}|{{ \"1h30m\" | parseDuration }}|{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }}|{{ toUpper \"ab\" }}|{{ stripPort $labels.instance }}", None).unwrap(),
            "1m30.5s|2023-11-14 22:13:20 +0000 UTC|12.34%|5400|a|AB|a"
        );
    }

    #[test]
    fn query_functions_use_the_callback() {
        let q: Rc<QueryFunc> = Rc::new(|e: &str, t: i64| {
            assert_eq!(e, "up");
            Ok(vec![
                Sample::float(Labels::from_pairs(&[("instance", "b")]), t, 0.0),
                Sample::float(Labels::from_pairs(&[("instance", "a")]), t, 1.0),
            ])
        });
        assert_eq!(
            expand("{{ range query \"up\" | sortByLabel \"instance\" }}{{ .Labels.instance }}={{ .Value }};{{ end }}{{ with query \"up\" }}{{ . | first | label \"instance\" }}{{ . | first | value }}{{ end }}", Some(q)).unwrap(),
            "a=1;b=0;b0"
        );
        let e = expand(
            "{{ query \"up\" | first }}",
            Some(Rc::new(|_: &str, _| Ok(vec![]))),
        )
        .unwrap_err();
        assert!(e.starts_with("error executing template __alert_A: "), "{e}");
        assert!(
            e.contains("first() called on vector with no elements"),
            "{e}"
        );
    }

    #[test]
    fn undefined_variables_fail_parse_test() {
        assert_eq!(
            parse_test("X", "{{ $label.foo }}").unwrap_err(),
            "template: __alert_X:1: undefined variable \"$label\""
        );
        assert!(parse_test("X", "{{ $labels.foo }} {{ $value | humanize }}").is_ok());
        assert!(parse_test("X", "{{ if }}").is_err());
        assert_eq!(
            parse_test("X", "ok\n{{ if false }}{{ $nope }}{{ end }}").unwrap_err(),
            "template: __alert_X:2: undefined variable \"$nope\""
        );
        assert!(parse_test(
            "X",
            "{{ range $i, $e := $labels }}{{ $i }}={{ $e }}{{ end }}{{ \"$x\" }}{{/* $y */}}"
        )
        .is_ok());
    }
}

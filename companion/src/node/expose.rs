//! The `/metrics` body as node_exporter's client_golang writes it (`expfmt`'s
//! `MetricFamilyToText` and `MetricFamilyToOpenMetrics`), not as prometheus_client (Python)
//! does: floats by Go's `strconv.FormatFloat(f, 'g', -1, 64)` (`0`, `1`, `1e+06`,
//! `1.795612042e+09`; OpenMetrics adds `.0` to a number with neither `.` nor `e`), bucket and
//! sample counts as integers, `le`/`quantile` label values as floats, untyped families as
//! `untyped` (text) or `unknown` (OpenMetrics), no `# UNIT` line.

use std::fmt::Write;

use promplay_exposition::{Format, FormatKind, MetricFamily, MetricType};
use promplay_model::gofmt::format_g;

/// `writeFloat` (text format): `strconv.FormatFloat(f, 'g', -1, 64)`, with `-0` as `0`.
pub fn text_float(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        format_g(v)
    }
}

/// `writeOpenMetricsFloat`: [`text_float`], and `.0` appended to a number with neither `.` nor
/// `e` (`1.0`, `0.0`, `42.0`).
pub fn openmetrics_float(v: f64) -> String {
    let mut s = text_float(v);
    if v.is_finite() && !s.contains(['e', '.']) {
        s.push_str(".0");
    }
    s
}

/// Writes `families` in the negotiated format.
pub fn write(out: &mut String, families: &[MetricFamily], format: &Format) {
    let om = format.kind == FormatKind::OpenMetrics;
    for f in families {
        write_family(out, f, om);
    }
    if om {
        out.push_str("# EOF\n");
    }
}

fn is_legacy_name(s: &str, colons: bool) -> bool {
    let mut b = s.bytes();
    match b.next() {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' || (colons && c == b':') => {
            b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || (colons && c == b':'))
        }
        _ => false,
    }
}

/// `writeEscapedString`: backslash and newline, and the double quote when `quote`.
fn escaped(out: &mut String, s: &str, quote: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// `writeName`: a legacy name as it is, any other quoted.
fn name(out: &mut String, n: &str, metric: bool) {
    if is_legacy_name(n, metric) {
        out.push_str(n);
    } else {
        out.push('"');
        escaped(out, n, true);
        out.push('"');
    }
}

fn write_family(out: &mut String, f: &MetricFamily, om: bool) {
    // The snapshot holds a counter's family name without `_total`; client_golang's family is
    // named as exposed, and OpenMetrics cuts `_total` off again for HELP and TYPE.
    let exposed = match f.typ {
        MetricType::Counter => format!("{}_total", f.name),
        _ => f.name.clone(),
    };
    let header = if om { &f.name } else { &exposed };
    let typ = match (f.typ, om) {
        (MetricType::Counter, _) => "counter",
        (MetricType::Gauge | MetricType::Info | MetricType::StateSet, _) => "gauge",
        (MetricType::Histogram | MetricType::GaugeHistogram, _) => "histogram",
        (MetricType::Summary, _) => "summary",
        (MetricType::Unknown, false) => "untyped",
        (MetricType::Unknown, true) => "unknown",
    };
    out.push_str("# HELP ");
    name(out, header, true);
    out.push(' ');
    escaped(out, &f.help, om);
    out.push_str("\n# TYPE ");
    name(out, header, true);
    out.push(' ');
    out.push_str(typ);
    out.push('\n');
    let float = if om { openmetrics_float } else { text_float };
    for s in &f.samples {
        if s.name.ends_with("_created") && f.typ != MetricType::Gauge {
            // client_golang's text and OpenMetrics writers have no `_created` lines.
            continue;
        }
        let legacy = is_legacy_name(&s.name, true);
        if legacy {
            out.push_str(&s.name);
        }
        let mut sep = '{';
        if !legacy {
            out.push(sep);
            name(out, &s.name, true);
            sep = ',';
        }
        let mut labels: Vec<&(String, String)> = s.labels.iter().collect();
        labels.sort_by(|a, b| a.0.cmp(&b.0));
        // `le` and `quantile` come last in client_golang (added after the metric's labels).
        labels.sort_by_key(|l| {
            (f.typ == MetricType::Histogram && l.0 == "le")
                || (f.typ == MetricType::Summary && l.0 == "quantile")
        });
        for (k, v) in labels {
            out.push(sep);
            sep = ',';
            name(out, k, false);
            out.push_str("=\"");
            let bound = (k == "le" && f.typ == MetricType::Histogram)
                || (k == "quantile" && f.typ == MetricType::Summary);
            match v.parse::<f64>().ok().filter(|_| bound) {
                Some(b) => out.push_str(&float(b)),
                None => escaped(out, v, true),
            }
            out.push('"');
        }
        if sep == ',' {
            out.push('}');
        }
        out.push(' ');
        let count = matches!(f.typ, MetricType::Histogram | MetricType::Summary)
            && (s.name.ends_with("_count") || s.name.ends_with("_bucket"));
        if count && s.value >= 0.0 && s.value.fract() == 0.0 && s.value < 1.8e19 {
            // Counts are integers (`writeUint`).
            let _ = write!(out, "{}", s.value as u64);
        } else {
            out.push_str(&float(s.value));
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promplay_exposition::Sample;

    #[test]
    fn floats_as_client_golang_writes_them() {
        for (v, text, om) in [
            (0.0, "0", "0.0"),
            (-0.0, "0", "0.0"),
            (1.0, "1", "1.0"),
            (-1.0, "-1", "-1.0"),
            (42.0, "42", "42.0"),
            (0.25, "0.25", "0.25"),
            (1e6, "1e+06", "1e+06"),
            (123456.0, "123456", "123456.0"),
            (1_476_056_064.0, "1.476056064e+09", "1.476056064e+09"),
            (1.795612042e9, "1.795612042e+09", "1.795612042e+09"),
            (2.048e6, "2.048e+06", "2.048e+06"),
            (1e-5, "1e-05", "1e-05"),
            (f64::NAN, "NaN", "NaN"),
            (f64::INFINITY, "+Inf", "+Inf"),
            (f64::NEG_INFINITY, "-Inf", "-Inf"),
        ] {
            assert_eq!(text_float(v), text, "{v:?}");
            assert_eq!(openmetrics_float(v), om, "{v:?}");
        }
    }

    fn fam(name: &str, typ: MetricType, samples: Vec<Sample>) -> MetricFamily {
        MetricFamily {
            name: name.into(),
            help: "H \"q\" \\ x.".into(),
            typ,
            unit: String::new(),
            samples,
        }
    }

    fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn families_as_client_golang_writes_them() {
        let fams = vec![
            fam(
                "node_cpu_seconds",
                MetricType::Counter,
                vec![Sample::new(
                    "node_cpu_seconds_total",
                    l(&[("cpu", "0"), ("mode", "idle")]),
                    1234.5,
                )],
            ),
            fam(
                "node_memory_MemTotal_bytes",
                MetricType::Gauge,
                vec![Sample::new("node_memory_MemTotal_bytes", vec![], 4e9)],
            ),
            fam(
                "t",
                MetricType::Unknown,
                vec![Sample::new("t", l(&[("a", "x\"y")]), 0.0)],
            ),
            fam(
                "h",
                MetricType::Histogram,
                vec![
                    Sample::new("h_bucket", l(&[("le", "1.0"), ("z", "z")]), 1.0),
                    Sample::new("h_bucket", l(&[("le", "+Inf"), ("z", "z")]), 2e6),
                    Sample::new("h_sum", l(&[("z", "z")]), 3.0),
                    Sample::new("h_count", l(&[("z", "z")]), 2e6),
                ],
            ),
        ];
        let mut s = String::new();
        write(&mut s, &fams, &Format::text());
        assert_eq!(
            s,
            "# HELP node_cpu_seconds_total H \"q\" \\\\ x.\n# TYPE node_cpu_seconds_total counter\n\
             node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 1234.5\n\
             # HELP node_memory_MemTotal_bytes H \"q\" \\\\ x.\n# TYPE node_memory_MemTotal_bytes gauge\n\
             node_memory_MemTotal_bytes 4e+09\n\
             # HELP t H \"q\" \\\\ x.\n# TYPE t untyped\nt{a=\"x\\\"y\"} 0\n\
             # HELP h H \"q\" \\\\ x.\n# TYPE h histogram\n\
             h_bucket{z=\"z\",le=\"1\"} 1\nh_bucket{z=\"z\",le=\"+Inf\"} 2000000\n\
             h_sum{z=\"z\"} 3\nh_count{z=\"z\"} 2000000\n"
        );
        let mut s = String::new();
        write(
            &mut s,
            &fams,
            &Format::openmetrics(promplay_exposition::Escaping::Underscores),
        );
        assert_eq!(
            s,
            "# HELP node_cpu_seconds H \\\"q\\\" \\\\ x.\n# TYPE node_cpu_seconds counter\n\
             node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 1234.5\n\
             # HELP node_memory_MemTotal_bytes H \\\"q\\\" \\\\ x.\n# TYPE node_memory_MemTotal_bytes gauge\n\
             node_memory_MemTotal_bytes 4e+09\n\
             # HELP t H \\\"q\\\" \\\\ x.\n# TYPE t unknown\nt{a=\"x\\\"y\"} 0.0\n\
             # HELP h H \\\"q\\\" \\\\ x.\n# TYPE h histogram\n\
             h_bucket{z=\"z\",le=\"1.0\"} 1\nh_bucket{z=\"z\",le=\"+Inf\"} 2000000\n\
             h_sum{z=\"z\"} 3.0\nh_count{z=\"z\"} 2000000\n# EOF\n"
        );
        promplay_exposition::parse_openmetrics(s.as_bytes(), Default::default())
            .expect("valid OpenMetrics");
    }
}

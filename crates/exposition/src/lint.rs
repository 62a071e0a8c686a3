//! promtool's `check metrics` linter (client_golang's `promlint`), over parsed families.
//!
//! Families parsed from OpenMetrics are linted under the names the classic text format gives
//! them (a counter `x` as `x_total`, an info `x` as the gauge `x_info`), so the same exposition
//! gets the same problems in either format.

use crate::parse::ParsedFamily;
use crate::snapshot::MetricType;

/// One lint problem: the metric and what is wrong with it (`promlint.Problem`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub metric: String,
    pub text: String,
}

/// Units and the base unit each should be written in.
const UNITS: &[(&str, &str)] = &[
    ("amperes", "amperes"),
    ("bytes", "bytes"),
    ("celsius", "celsius"),
    ("grams", "grams"),
    ("joules", "joules"),
    ("kelvin", "kelvin"),
    ("meters", "meters"),
    ("metres", "metres"),
    ("seconds", "seconds"),
    ("volts", "volts"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("kelvins", "kelvin"),
    ("fahrenheit", "celsius"),
    ("rankine", "celsius"),
    ("inches", "meters"),
    ("yards", "meters"),
    ("miles", "meters"),
    ("bits", "bytes"),
    ("calories", "joules"),
    ("pounds", "grams"),
    ("ounces", "grams"),
];

const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

const UNIT_ABBREVIATIONS: &[&str] = &[
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
];

/// The type names `lintMetricTypeInName` looks for (client_model's, lowercased, no untyped).
const TYPE_NAMES: &[&str] = &[
    "counter",
    "gauge",
    "summary",
    "histogram",
    "gauge_histogram",
];

fn unit_of(name: &str) -> Option<(&str, &'static str)> {
    for part in name.split('_') {
        if let Some((_, base)) = UNITS.iter().find(|(u, _)| *u == part) {
            return Some((part, base));
        }
        for p in UNIT_PREFIXES {
            if let Some(rest) = part.strip_prefix(p) {
                if let Some((_, base)) = UNITS.iter().find(|(u, _)| *u == rest) {
                    return Some((part, base));
                }
            }
        }
    }
    None
}

/// `[a-z][A-Z]` anywhere.
fn camel_case(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

fn has_part(name: &str, part: &str) -> bool {
    name.contains(&format!("_{part}_")) || name.ends_with(&format!("_{part}"))
}

/// Lints families; problems sorted by metric, then text, as promlint returns them.
pub fn lint(families: &[ParsedFamily], from_openmetrics: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    for f in families {
        // The classic format's view of the family.
        let (name, typ) = if from_openmetrics {
            match f.typ {
                MetricType::Counter => (format!("{}_total", f.name), MetricType::Counter),
                MetricType::Info => (format!("{}_info", f.name), MetricType::Gauge),
                MetricType::StateSet => (f.name.clone(), MetricType::Gauge),
                MetricType::GaugeHistogram => (f.name.clone(), MetricType::Histogram),
                t => (f.name.clone(), t),
            }
        } else {
            (f.name.clone(), f.typ)
        };
        let mut add = |text: String| {
            problems.push(Problem {
                metric: name.clone(),
                text,
            })
        };
        // lintHelp
        if f.help.is_none() {
            add("no help text".into());
        }
        // lintMetricUnits
        if let Some((unit, base)) = unit_of(&name) {
            if unit != base {
                add(format!("use base unit {base:?} instead of {unit:?}"));
            }
        }
        // lintCounter
        let is_counter = typ == MetricType::Counter;
        let untyped = typ == MetricType::Unknown;
        let total = name.ends_with("_total");
        if is_counter && !total {
            add(r#"counter metrics should have "_total" suffix"#.into());
        } else if !untyped && !is_counter && total {
            add(r#"non-counter metrics should not have "_total" suffix"#.into());
        }
        // lintHistogramSummaryReserved
        if !untyped {
            let hist = typ == MetricType::Histogram;
            let summ = typ == MetricType::Summary;
            if !hist && name.ends_with("_bucket") {
                add(r#"non-histogram metrics should not have "_bucket" suffix"#.into());
            }
            if !hist && !summ && name.ends_with("_count") {
                add(
                    r#"non-histogram and non-summary metrics should not have "_count" suffix"#
                        .into(),
                );
            }
            if !hist && !summ && name.ends_with("_sum") {
                add(
                    r#"non-histogram and non-summary metrics should not have "_sum" suffix"#.into(),
                );
            }
            for s in &f.samples {
                for l in s.labels.iter() {
                    if !hist && &*l.name == "le" {
                        add(r#"non-histogram metrics should not have "le" label"#.into());
                    }
                    if !summ && &*l.name == "quantile" {
                        add(r#"non-summary metrics should not have "quantile" label"#.into());
                    }
                }
            }
        }
        // lintMetricTypeInName
        let lower = name.to_lowercase();
        for t in TYPE_NAMES {
            if has_part(&lower, t) {
                add(format!("metric name should not include type '{t}'"));
            }
        }
        // lintReservedChars
        if name.contains(':') {
            add("metric names should not contain ':'".into());
        }
        // lintCamelCase
        if camel_case(&name) {
            add("metric names should be written in 'snake_case' not 'camelCase'".into());
        }
        for s in &f.samples {
            for l in s.labels.iter() {
                if camel_case(&l.name) {
                    add("label names should be written in 'snake_case' not 'camelCase'".into());
                }
            }
        }
        // lintUnitAbbreviations
        for a in UNIT_ABBREVIATIONS {
            if has_part(&lower, a) {
                add("metric names should not contain abbreviated units".into());
            }
        }
    }
    problems.sort();
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_openmetrics, parse_text};

    fn texts(input: &str) -> Vec<String> {
        lint(&parse_text(input.as_bytes()).unwrap(), false)
            .into_iter()
            .map(|p| format!("{} {}", p.metric, p.text))
            .collect()
    }

    #[test]
    fn promlint_problems() {
        assert_eq!(
            texts("# TYPE requests counter\nrequests 1\n"),
            vec![
                "requests counter metrics should have \"_total\" suffix",
                "requests no help text"
            ]
        );
        assert_eq!(
            texts(
                "# HELP httpRequests x\n# TYPE httpRequests gauge\nhttpRequests{fooBar=\"1\"} 1\n"
            ),
            vec![
                "httpRequests label names should be written in 'snake_case' not 'camelCase'",
                "httpRequests metric names should be written in 'snake_case' not 'camelCase'",
            ]
        );
        assert_eq!(
            texts("# HELP x_milliseconds h\n# TYPE x_milliseconds gauge\nx_milliseconds 1\n"),
            vec!["x_milliseconds use base unit \"seconds\" instead of \"milliseconds\""]
        );
        assert_eq!(
            texts("# HELP a_ms h\n# TYPE a_ms gauge\na_ms 1\n# HELP b:c_gauge h\n# TYPE b:c_gauge gauge\nb:c_gauge 1\n"),
            vec![
                "a_ms metric names should not contain abbreviated units",
                "b:c_gauge metric name should not include type 'gauge'",
                "b:c_gauge metric names should not contain ':'",
            ]
        );
        assert!(texts("# HELP ok_total h\n# TYPE ok_total counter\nok_total 1\n").is_empty());
    }

    #[test]
    fn openmetrics_counters_are_linted_under_their_total_name() {
        let fams = parse_openmetrics(
            b"# TYPE a counter\n# HELP a h\na_total 1\n# EOF\n",
            Default::default(),
        )
        .unwrap();
        assert!(lint(&fams, true).is_empty());
    }
}

//! The writer: metric families to the classic text format 0.0.4 or OpenMetrics 1.0, byte for
//! byte as prometheus_client 0.26's `generate_latest` functions write them. It writes to any
//! `fmt::Write` and does no I/O.

use std::fmt::{self, Write};

/// `promplay_model::labels::is_legacy_metric_name` on bytes (non-ASCII characters are never
/// legacy, so a byte check is the same check, without decoding characters).
fn is_legacy_metric_name(s: &str) -> bool {
    match s.as_bytes().split_first() {
        Some((&c, rest)) if c.is_ascii_alphabetic() || c == b'_' || c == b':' => rest
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b':'),
        _ => false,
    }
}

/// `promplay_model::labels::is_legacy_label_name` on bytes.
fn is_legacy_label_name(s: &str) -> bool {
    match s.as_bytes().split_first() {
        Some((&c, rest)) if c.is_ascii_alphabetic() || c == b'_' => {
            rest.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        }
        _ => false,
    }
}

use crate::float::{write_go_float, write_python_repr};
use crate::negotiate::{Escaping, Format, FormatKind};
use crate::snapshot::{MetricFamily, MetricType, Sample};

/// Writes `families` in the negotiated format.
pub fn write(out: &mut impl Write, families: &[MetricFamily], format: &Format) -> fmt::Result {
    match format.kind {
        FormatKind::Text => write_text(out, families, format.escaping),
        FormatKind::OpenMetrics => write_openmetrics(out, families, format.escaping),
    }
}

/// Whether `c` may stand at position `i` of a legacy name (Go's `isValidLegacyRune`).
fn legacy_rune(c: char, i: usize) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || (c.is_ascii_digit() && i > 0)
}

/// Escapes a name that is not a legacy name according to `escaping` (Go's `EscapeName`).
/// Returns `None` for [`Escaping::AllowUtf8`] (the name stays and is quoted where it is written).
fn escape_name(name: &str, escaping: Escaping) -> Option<String> {
    let mut out = String::with_capacity(name.len() + 4);
    match escaping {
        Escaping::AllowUtf8 => return None,
        Escaping::Underscores => {
            for (i, c) in name.chars().enumerate() {
                out.push(if legacy_rune(c, i) { c } else { '_' });
            }
        }
        Escaping::Dots => {
            for (i, c) in name.chars().enumerate() {
                match c {
                    '_' => out.push_str("__"),
                    '.' => out.push_str("_dot_"),
                    c if legacy_rune(c, i) => out.push(c),
                    _ => out.push_str("__"),
                }
            }
        }
        Escaping::Values => {
            out.push_str("U__");
            for (i, c) in name.chars().enumerate() {
                match c {
                    '_' => out.push_str("__"),
                    c if legacy_rune(c, i) => out.push(c),
                    c => {
                        let _ = write!(out, "_{:x}_", c as u32);
                    }
                }
            }
        }
    }
    Some(out)
}

/// A name as written: legacy names as they are, others escaped or (allow-utf-8) quoted.
fn write_name(out: &mut impl Write, name: &str, legacy: bool, escaping: Escaping) -> fmt::Result {
    if legacy {
        return out.write_str(name);
    }
    match escape_name(name, escaping) {
        Some(escaped) => out.write_str(&escaped),
        None => {
            out.write_char('"')?;
            write_escaped(out, name)?;
            out.write_char('"')
        }
    }
}

fn write_metric_name(out: &mut impl Write, name: &str, escaping: Escaping) -> fmt::Result {
    write_name(out, name, is_legacy_metric_name(name), escaping)
}

fn write_label_name(out: &mut impl Write, name: &str, escaping: Escaping) -> fmt::Result {
    write_name(out, name, is_legacy_label_name(name), escaping)
}

/// prometheus_client's `_escape`: backslash, newline and double quote.
fn write_escaped(out: &mut impl Write, s: &str) -> fmt::Result {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' => "\\\"",
            _ => continue,
        };
        out.write_str(&s[last..i])?;
        out.write_str(rep)?;
        last = i + 1;
    }
    out.write_str(&s[last..])
}

/// The classic format's HELP escaping: backslash and newline only.
fn write_text_help(out: &mut impl Write, s: &str) -> fmt::Result {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            _ => continue,
        };
        out.write_str(&s[last..i])?;
        out.write_str(rep)?;
        last = i + 1;
    }
    out.write_str(&s[last..])
}

/// Writes `{name, a="b",...}` or `{a="b",...}`; nothing when there is nothing to write.
fn write_label_block<'a>(
    out: &mut impl Write,
    quoted_name: Option<&str>,
    labels: impl Iterator<Item = &'a (String, String)>,
    name_separator: &str,
    escaping: Escaping,
) -> fmt::Result {
    let mut labels = labels.peekable();
    if quoted_name.is_none() && labels.peek().is_none() {
        return Ok(());
    }
    out.write_char('{')?;
    if let Some(name) = quoted_name {
        out.write_char('"')?;
        write_escaped(out, name)?;
        out.write_char('"')?;
        if labels.peek().is_some() {
            out.write_str(name_separator)?;
        }
    }
    let mut first = true;
    for (k, v) in labels {
        if !first {
            out.write_char(',')?;
        }
        first = false;
        write_label_name(out, k, escaping)?;
        out.write_str("=\"")?;
        write_escaped(out, v)?;
        out.write_char('"')?;
    }
    out.write_char('}')
}

/// The sample's name as it stands before the label block, or `None` when it must go inside
/// the braces quoted (a UTF-8 name under allow-utf-8).
fn sample_name_outside(
    out: &mut impl Write,
    name: &str,
    escaping: Escaping,
) -> Result<bool, fmt::Error> {
    if is_legacy_metric_name(name) {
        out.write_str(name)?;
        return Ok(true);
    }
    match escape_name(name, escaping) {
        Some(escaped) => {
            out.write_str(&escaped)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn write_text_sample(out: &mut impl Write, s: &Sample, escaping: Escaping) -> fmt::Result {
    let outside = sample_name_outside(out, &s.name, escaping)?;
    let quoted = (!outside).then_some(s.name.as_str());
    // Labels sorted by name (a stable sort: already sorted labels stay as they are).
    if s.labels.windows(2).all(|w| w[0].0 <= w[1].0) {
        write_label_block(out, quoted, s.labels.iter(), ",", escaping)?;
    } else {
        let mut sorted: Vec<&(String, String)> = s.labels.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        write_label_block(out, quoted, sorted.into_iter(), ",", escaping)?;
    }
    out.write_char(' ')?;
    write_go_float(out, s.value)?;
    if let Some(ts) = s.timestamp {
        // Python: int(float(timestamp) * 1000)
        write!(out, " {}", (ts * 1000.0).trunc() as i64)?;
    }
    out.write_char('\n')
}

/// Writes the classic text format as prometheus_client's `exposition.generate_latest`:
/// counters get `_total` on their HELP/TYPE name, info becomes a gauge named `x_info`,
/// stateset a gauge, gaugehistogram a histogram, unknown `untyped`; `_created`, `_gsum` and
/// `_gcount` samples move to gauge families of their own after the family.
pub fn write_text(
    out: &mut impl Write,
    families: &[MetricFamily],
    escaping: Escaping,
) -> fmt::Result {
    for mf in families {
        let (suffix, typ) = match mf.typ {
            MetricType::Counter => ("_total", "counter"),
            MetricType::Info => ("_info", "gauge"),
            MetricType::StateSet => ("", "gauge"),
            MetricType::GaugeHistogram => ("", "histogram"),
            MetricType::Unknown => ("", "untyped"),
            other => ("", other.as_str()),
        };
        let mname = format!("{}{}", mf.name, suffix);
        out.write_str("# HELP ")?;
        write_metric_name(out, &mname, escaping)?;
        out.write_char(' ')?;
        write_text_help(out, &mf.help)?;
        out.write_str("\n# TYPE ")?;
        write_metric_name(out, &mname, escaping)?;
        writeln!(out, " {typ}")?;
        // Sorted by suffix, as Python's `sorted(om_samples.items())`.
        const MOVED: [&str; 3] = ["_created", "_gcount", "_gsum"];
        let mut moved: [Vec<&Sample>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for s in &mf.samples {
            let slot = s
                .name
                .strip_prefix(mf.name.as_str())
                .and_then(|rest| MOVED.iter().position(|m| *m == rest));
            match slot {
                Some(i) => moved[i].push(s),
                None => write_text_sample(out, s, escaping)?,
            }
        }
        for (suffix, samples) in MOVED.iter().zip(moved.iter()) {
            if samples.is_empty() {
                continue;
            }
            let name = format!("{}{}", mf.name, suffix);
            out.write_str("# HELP ")?;
            write_metric_name(out, &name, escaping)?;
            out.write_char(' ')?;
            write_text_help(out, &mf.help)?;
            out.write_str("\n# TYPE ")?;
            write_metric_name(out, &name, escaping)?;
            out.write_str(" gauge\n")?;
            for s in samples {
                write_text_sample(out, s, escaping)?;
            }
        }
    }
    Ok(())
}

/// Writes OpenMetrics 1.0 as prometheus_client's `openmetrics.exposition.generate_latest`,
/// ending with `# EOF`.
pub fn write_openmetrics(
    out: &mut impl Write,
    families: &[MetricFamily],
    escaping: Escaping,
) -> fmt::Result {
    for mf in families {
        out.write_str("# HELP ")?;
        write_metric_name(out, &mf.name, escaping)?;
        out.write_char(' ')?;
        write_escaped(out, &mf.help)?;
        out.write_str("\n# TYPE ")?;
        write_metric_name(out, &mf.name, escaping)?;
        writeln!(out, " {}", mf.typ)?;
        if !mf.unit.is_empty() {
            out.write_str("# UNIT ")?;
            write_metric_name(out, &mf.name, escaping)?;
            writeln!(out, " {}", mf.unit)?;
        }
        for s in &mf.samples {
            let outside = sample_name_outside(out, &s.name, escaping)?;
            let quoted = (!outside).then_some(s.name.as_str());
            write_label_block(out, quoted, s.labels.iter(), ", ", escaping)?;
            out.write_char(' ')?;
            write_go_float(out, s.value)?;
            if let Some(ts) = s.timestamp {
                out.write_char(' ')?;
                write_python_repr(out, ts)?;
            }
            if let Some(ex) = &s.exemplar {
                let mut labels: Vec<&(String, String)> = ex.labels.iter().collect();
                labels.sort_by(|a, b| a.0.cmp(&b.0));
                out.write_str(" # {")?;
                for (i, (k, v)) in labels.into_iter().enumerate() {
                    if i > 0 {
                        out.write_char(',')?;
                    }
                    out.write_str(k)?;
                    out.write_str("=\"")?;
                    write_escaped(out, v)?;
                    out.write_char('"')?;
                }
                out.write_str("} ")?;
                write_go_float(out, ex.value)?;
                if let Some(ts) = ex.timestamp {
                    out.write_char(' ')?;
                    write_python_repr(out, ts)?;
                }
            }
            out.write_char('\n')?;
        }
    }
    out.write_str("# EOF\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(name: &str, typ: MetricType, samples: Vec<Sample>) -> MetricFamily {
        MetricFamily {
            name: name.into(),
            help: "Help with \\ and\nnewline and \"quotes\".".into(),
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
    fn text_sorts_labels_and_moves_created_to_a_gauge() {
        let mf = family(
            "h",
            MetricType::Histogram,
            vec![
                Sample::new("h_bucket", l(&[("z", "1"), ("le", "+Inf")]), 2.0),
                Sample::new("h_count", l(&[("z", "1")]), 2.0),
                Sample::new("h_sum", l(&[("z", "1")]), 0.5),
                Sample::new("h_created", l(&[("z", "1")]), 1.7e9),
            ],
        );
        let mut s = String::new();
        write_text(&mut s, std::slice::from_ref(&mf), Escaping::Underscores).unwrap();
        assert_eq!(
            s,
            "# HELP h Help with \\\\ and\\nnewline and \"quotes\".\n# TYPE h histogram\n\
             h_bucket{le=\"+Inf\",z=\"1\"} 2.0\nh_count{z=\"1\"} 2.0\nh_sum{z=\"1\"} 0.5\n\
             # HELP h_created Help with \\\\ and\\nnewline and \"quotes\".\n# TYPE h_created gauge\n\
             h_created{z=\"1\"} 1.7e+09\n"
        );
        let mut s = String::new();
        write_openmetrics(&mut s, &[mf], Escaping::Underscores).unwrap();
        assert_eq!(
            s,
            "# HELP h Help with \\\\ and\\nnewline and \\\"quotes\\\".\n# TYPE h histogram\n\
             h_bucket{z=\"1\",le=\"+Inf\"} 2.0\nh_count{z=\"1\"} 2.0\nh_sum{z=\"1\"} 0.5\n\
             h_created{z=\"1\"} 1.7e+09\n# EOF\n"
        );
    }

    #[test]
    fn utf8_names_are_escaped_or_quoted() {
        let mf = family(
            "my.metric",
            MetricType::Gauge,
            vec![Sample::new("my.metric", l(&[("a.b", "x")]), 1.0)],
        );
        let mut s = String::new();
        write_text(&mut s, std::slice::from_ref(&mf), Escaping::Underscores).unwrap();
        assert!(s.ends_with("my_metric{a_b=\"x\"} 1.0\n"), "{s}");
        let mut s = String::new();
        write_openmetrics(&mut s, &[mf], Escaping::AllowUtf8).unwrap();
        assert!(s.contains("# TYPE \"my.metric\" gauge\n"), "{s}");
        assert!(s.contains("{\"my.metric\", \"a.b\"=\"x\"} 1.0\n"), "{s}");
    }
}

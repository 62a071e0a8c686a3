//! Prometheus's annotation texts (`util/annotations/annotations.go`), without positions.

use std::fmt::Write;

use promplay_model::labels::write_go_quoted;

fn q(s: &str) -> String {
    let mut out = String::new();
    let _ = write_go_quoted(&mut out, s);
    out
}

fn maybe_name(base: &str, name: &str) -> String {
    if name.is_empty() {
        base.to_string()
    } else {
        format!("{base} for metric name {}", q(name))
    }
}

pub fn mixed_floats_histograms(name: &str) -> String {
    format!(
        "PromQL warning: encountered a mix of histograms and floats for metric name {}",
        q(name)
    )
}

pub fn not_counter(name: &str) -> String {
    format!(
        "PromQL warning: this native histogram metric is not a counter: {}",
        q(name)
    )
}

pub fn not_gauge(name: &str) -> String {
    format!(
        "PromQL warning: this native histogram metric is not a gauge: {}",
        q(name)
    )
}

pub fn mixed_exponential_custom(name: &str) -> String {
    format!(
        "PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {}",
        q(name)
    )
}

pub fn mixed_classic_native(name: &str) -> String {
    maybe_name(
        "PromQL warning: vector contains a mix of classic and native histograms",
        name,
    )
}

pub fn histogram_ignored_in_mixed_range(name: &str) -> String {
    format!(
        "PromQL info: ignored histograms in a range containing both floats and histograms for metric name {}",
        q(name)
    )
}

pub fn invalid_quantile(qv: f64) -> String {
    format!(
        "PromQL warning: quantile value should be between 0 and 1, got {}",
        go_fmt_g(qv)
    )
}

pub fn bad_bucket_label(name: &str, le: &str) -> String {
    maybe_name(
        &format!(
            "PromQL warning: bucket label \"le\" is missing or has a malformed value of {}",
            q(le)
        ),
        name,
    )
}

pub fn forced_monotonicity(name: &str) -> String {
    maybe_name("PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)", name)
}

pub fn quantile_nan_result(name: &str) -> String {
    maybe_name(
        "PromQL info: input to histogram_quantile has NaN observations, result is NaN",
        name,
    )
}

pub fn quantile_nan_skew(name: &str) -> String {
    maybe_name(
        "PromQL info: input to histogram_quantile has NaN observations, result is skewed higher",
        name,
    )
}

pub fn fraction_nans(name: &str) -> String {
    maybe_name("PromQL info: input to histogram_fraction has NaN observations, which are excluded from all fractions", name)
}

/// `op` is "addition", "subtraction" or "aggregation".
pub fn counter_reset_collision(op: &str) -> String {
    format!("PromQL warning: conflicting counter resets during histogram {op}")
}

/// `op` is "addition", "subtraction" or "aggregation".
pub fn mismatched_custom_buckets(op: &str) -> String {
    format!("PromQL info: mismatched custom buckets were reconciled during {op}")
}

/// Go's `%g` / `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest representation, in
/// exponent form (`1e+06`, `1.5e-07`) when
/// the decimal exponent is < -4 or ≥ 6.
pub fn go_fmt_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddddde[-]x".
    let s = format!("{:e}", f);
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
        return out;
    }
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let e = exp as usize;
        if digits.len() > e + 1 {
            out.push_str(&digits[..e + 1]);
            out.push('.');
            out.push_str(&digits[e + 1..]);
        } else {
            out.push_str(&digits);
            for _ in 0..(e + 1 - digits.len()) {
                out.push('0');
            }
        }
    }
    out
}

/// `labels.FormatOpenMetricsFloat`: like `%g` but `+Inf`/`-Inf`/`NaN`, and a `.0` appended
/// when the result has neither a `.` nor an exponent.
pub fn format_openmetrics_float(f: f64) -> String {
    let s = go_fmt_g(f);
    if f.is_nan() || f.is_infinite() || s.contains('.') || s.contains('e') {
        s
    } else {
        s + ".0"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_g_formatting() {
        assert_eq!(go_fmt_g(-0.1), "-0.1");
        assert_eq!(go_fmt_g(1.1), "1.1");
        assert_eq!(go_fmt_g(1e6), "1e+06");
        assert_eq!(go_fmt_g(123456.0), "123456");
        assert_eq!(go_fmt_g(1234567.0), "1.234567e+06");
        assert_eq!(go_fmt_g(0.0001), "0.0001");
        assert_eq!(go_fmt_g(0.00001), "1e-05");
        assert_eq!(go_fmt_g(f64::NAN), "NaN");
        assert_eq!(format_openmetrics_float(0.0), "0.0");
        assert_eq!(format_openmetrics_float(0.25), "0.25");
        assert_eq!(format_openmetrics_float(1.0), "1.0");
    }
}

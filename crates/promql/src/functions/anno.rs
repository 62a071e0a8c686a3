//! Prometheus's annotation texts (`util/annotations/annotations.go`), without positions.

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

/// Go's `%g` / `strconv.FormatFloat(f, 'g', -1, 64)`.
pub use promplay_model::gofmt::format_g as go_fmt_g;

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

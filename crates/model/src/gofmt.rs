//! Go's `strconv.FormatFloat` with the shortest precision, as Prometheus prints float values in
//! messages, annotations, templates and PromQL literals.

/// `strconv.FormatFloat(v, 'g', -1, 64)` (Go's `%g`): the shortest digits that round-trip, in
/// exponent form (`1e+06`, `1.5e-07`) when the decimal exponent is < -4 or ≥ 6; `+Inf`, `-Inf`,
/// `NaN`, `-0`.
pub fn format_g(v: f64) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `d.dddde[-]x`.
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        // Rust's `Display` is the same shortest digits, never in exponent form.
        format!("{v}")
    }
}

/// `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest decimal that round-trips, never an
/// exponent; `+Inf`, `-Inf`, `NaN`.
pub fn format_f(v: f64) -> String {
    special(v).unwrap_or_else(|| format!("{v}"))
}

fn special(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_like_go() {
        for (v, want) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (-0.1, "-0.1"),
            (1e21, "1e+21"),
            (1e6, "1e+06"),
            (123456789.0, "1.23456789e+08"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e100, "1e+100"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_g(v), want, "{v:?}");
        }
    }

    #[test]
    fn f_like_go() {
        for (v, want) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_f(v), want, "{v:?}");
        }
    }
}

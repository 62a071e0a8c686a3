//! The scrape-path error messages against Prometheus's own tables: every case of
//! `TestPromParseErrors` and `TestPromNullByteHandling` (model/textparse/promparse_test.go),
//! inputs and expected messages as upstream writes them.

use promplay_exposition::{prometheus_error, FormatKind};

/// (input, expected error; "" = the parser accepts the input).
const PROM_CASES: &[(&[u8], &str)] = &[
    // TestPromParseErrors
    (b"a", "expected value after metric, got \"\\n\" (\"INVALID\") while parsing: \"a\\n\""),
    (b"a{b='c'} 1\n", "expected label value, got \"'\" (\"INVALID\") while parsing: \"a{b='\""),
    (b"a{b=\n", "expected label value, got \"\\n\" (\"INVALID\") while parsing: \"a{b=\\n\""),
    (b"a{\xff=\"foo\"} 1\n", "expected label name, got \"\\xff\" (\"INVALID\") while parsing: \"a{\\xff\""),
    (b"a{b=\"\xff\"} 1\n", "invalid UTF-8 label value: \"\\\"\\xff\\\"\""),
    (b"{\"a\", \"b = \"c\"}", "expected equal, got \"c\\\"\" (\"LNAME\") while parsing: \"{\\\"a\\\", \\\"b = \\\"c\\\"\""),
    (b"{\"a\",b\\nc=\"d\"} 1", "expected equal, got \"\\\\\" (\"INVALID\") while parsing: \"{\\\"a\\\",b\\\\\""),
    (b"a true\n", "strconv.ParseFloat: parsing \"true\": invalid syntax while parsing: \"a true\""),
    (b"something_weird{problem=\"", "expected label value, got \"\\\"\\n\" (\"INVALID\") while parsing: \"something_weird{problem=\\\"\\n\""),
    (b"empty_label_name{=\"\"} 0", "expected label name, got \"=\\\"\" (\"EQUAL\") while parsing: \"empty_label_name{=\\\"\""),
    (b"foo 1_2\n", "unsupported character in float while parsing: \"foo 1_2\""),
    (b"foo 0x1p-3\n", "unsupported character in float while parsing: \"foo 0x1p-3\""),
    (b"foo 0x1P-3\n", "unsupported character in float while parsing: \"foo 0x1P-3\""),
    (b"foo 0 1_2\n", "expected next entry after timestamp, got \"_\" (\"INVALID\") while parsing: \"foo 0 1_\""),
    (b"{a=\"ok\"} 1", "metric name not set while parsing: \"{a=\\\"ok\\\"} 1\""),
    (b"# TYPE #\n#EOF\n", "expected metric name after TYPE, got \"#\" (\"INVALID\") while parsing: \"# TYPE #\""),
    (b"# HELP #\n#EOF\n", "expected metric name after HELP, got \"#\" (\"INVALID\") while parsing: \"# HELP #\""),
    // TestPromNullByteHandling
    (b"null_byte_metric{a=\"abc\x00\"} 1", ""),
    (b"a{b=\"\x00ss\"} 1\n", ""),
    (b"a{b=\"\x00\"} 1\n", ""),
    (b"a{b=\"\x00\"} 1\n", ""),
    (b"a{b=\x00\"ssss\"} 1\n", "expected label value, got \"\\x00\" (\"INVALID\") while parsing: \"a{b=\\x00\""),
    (b"a{b=\"\x00", "expected label value, got \"\\\"\\x00\\n\" (\"INVALID\") while parsing: \"a{b=\\\"\\x00\\n\""),
    (b"a{b\x00=\"hiih\"}\t1", "expected equal, got \"\\x00\" (\"INVALID\") while parsing: \"a{b\\x00\""),
    (b"a\x00{b=\"ddd\"} 1", "expected value after metric, got \"\\x00\" (\"INVALID\") while parsing: \"a\\x00\""),
    (b"a 0 1\x00", "expected next entry after timestamp, got \"\\x00\" (\"INVALID\") while parsing: \"a 0 1\\x00\""),
];

#[test]
fn prom_parser_errors_match_upstream_tables() {
    let mut failures = Vec::new();
    for (i, (input, want)) in PROM_CASES.iter().enumerate() {
        let got = prometheus_error(input, FormatKind::Text).unwrap_or_default();
        if got != *want {
            failures.push(format!(
                "case {i} {:?}:\n  want {want}\n  got  {got}",
                String::from_utf8_lossy(input)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Prometheus's own example inputs parse without an error (upstream's TestPromParse and
/// TestUTF8PromParse bodies).
#[test]
fn prom_parser_accepts_upstream_valid_inputs() {
    let mut input = String::from(
        "# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n\
# \tTYPE go_gc_duration_seconds summary\n\
go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05\n\
go_gc_duration_seconds{quantile=\"0.25\",} 7.424100000000001e-05\n\
go_gc_duration_seconds{quantile=\"0.8\", a=\"b\"} 8.3835e-05\n\
go_gc_duration_seconds{ quantile=\"0.9\", a=\"b\"} 8.3835e-05\n\
# Hrandom comment starting with prefix of HELP\n\
#\n\
wind_speed{A=\"2\",c=\"3\"} 12345\n\
# comment with escaped \\n newline\n\
# HELP nohelp1\n\
# HELP nohelp2 \n\
go_gc_duration_seconds { quantile = \"2.0\" a = \"b\" } 8.3835e-05\n\
some:aggregate:rate5m{a_b=\"c\"}\t1\n\
go_goroutines 33  \t123123\n\
testmetric{label=\"\\\"bar\\\"\"} 1",
    );
    input += "\n# HELP metric foo\x00bar";
    input += "\nnull_byte_metric{a=\"abc\x00\"} 1";
    assert_eq!(prometheus_error(input.as_bytes(), FormatKind::Text), None);
    let utf8 = "# HELP \"go.gc_duration_seconds\" A summary of the GC invocation durations.\n\
# \tTYPE \"go.gc_duration_seconds\" summary\n\
{\"go.gc_duration_seconds\",quantile=\"0\"} 4.9351e-05\n\
{ \"go.gc_duration_seconds\", quantile= \"1.0\", a= \"b\", } 8.3835e-05\n\
{\"go.gc_duration_seconds_count\"} 99\n\
{\"Heizölrückstoßabdämpfung 10€ metric with \\\"interesting\\\" {character\\nchoices}\",\"strange©™\\n'quoted' \\\"name\\\"\"=\"6\"} 10.0";
    assert_eq!(prometheus_error(utf8.as_bytes(), FormatKind::Text), None);
}

/// The examples users meet: an HTML error page and a gzip body.
#[test]
fn html_and_gzip_bodies() {
    assert_eq!(
        prometheus_error(b"<html><body>Oops</body></html>\n", FormatKind::Text).as_deref(),
        Some("expected a valid start token, got \"<\" (\"INVALID\") while parsing: \"<\"")
    );
    assert_eq!(
        prometheus_error(b"\x1f\x8b\x08\x00", FormatKind::Text).as_deref(),
        Some("expected a valid start token, got \"\\x1f\" (\"INVALID\") while parsing: \"\\x1f\"")
    );
    assert_eq!(
        prometheus_error(b"# TYPE x COUNTER\nx 1\n", FormatKind::Text).as_deref(),
        Some("invalid metric type \"COUNTER\"")
    );
}

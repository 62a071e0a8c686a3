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

/// Every case of upstream's `TestOpenMetricsParseErrors` and `TestOMNullByteHandling`
/// (model/textparse/openmetricsparse_test.go); "" = accepted (upstream's "EOF").
const OM_CASES: &[(&[u8], &str)] = &[
    (b"# EOF", ""),
    (b"# EOF\n", ""),
    (b"", "data does not end with # EOF"),
    (b"\n", "expected a valid start token, got \"\\n\" (\"INVALID\") while parsing: \"\\n\""),
    (b"metric", "expected value after metric, got \"metric\" (\"EOF\") while parsing: \"metric\""),
    (b"metric 1", "data does not end with # EOF"),
    (b"metric 1\n", "data does not end with # EOF"),
    (b"metric_total 1 # {aa=\"bb\"} 4", "data does not end with # EOF"),
    (b"a\n#EOF\n", "expected value after metric, got \"\\n\" (\"INVALID\") while parsing: \"a\\n\""),
    (b"\n\n#EOF\n", "expected a valid start token, got \"\\n\" (\"INVALID\") while parsing: \"\\n\""),
    (b" a 1\n#EOF\n", "expected a valid start token, got \" \" (\"INVALID\") while parsing: \" \""),
    (b"9\n#EOF\n", "expected a valid start token, got \"9\" (\"INVALID\") while parsing: \"9\""),
    (b"# TYPE u untyped\n#EOF\n", "invalid metric type \"untyped\""),
    (b"# TYPE c counter \n#EOF\n", "invalid metric type \"counter \""),
    (b"#  TYPE c counter\n#EOF\n", "expected a valid start token, got \"#  \" (\"INVALID\") while parsing: \"#  \""),
    (b"# TYPE \n#EOF\n", "expected metric name after TYPE, got \"\\n\" (\"INVALID\") while parsing: \"# TYPE \\n\""),
    (b"# TYPE m\n#EOF\n", "expected text in TYPE"),
    (b"# UNIT metric suffix\n#EOF\n", "unit \"suffix\" not a suffix of metric \"metric\""),
    (b"# UNIT metricsuffix suffix\n#EOF\n", "unit \"suffix\" not a suffix of metric \"metricsuffix\""),
    (b"# UNIT m suffix\n#EOF\n", "unit \"suffix\" not a suffix of metric \"m\""),
    (b"# UNIT \n#EOF\n", "expected metric name after UNIT, got \"\\n\" (\"INVALID\") while parsing: \"# UNIT \\n\""),
    (b"# UNIT m\n#EOF\n", "expected text in UNIT"),
    (b"# HELP \n#EOF\n", "expected metric name after HELP, got \"\\n\" (\"INVALID\") while parsing: \"# HELP \\n\""),
    (b"# HELP m\n#EOF\n", "expected text in HELP"),
    (b"a\t1\n#EOF\n", "expected value after metric, got \"\\t\" (\"INVALID\") while parsing: \"a\\t\""),
    (b"a 1\t2\n#EOF\n", "strconv.ParseFloat: parsing \"1\\t2\": invalid syntax while parsing: \"a 1\\t2\""),
    (b"a 1 2 \n#EOF\n", "expected next entry after timestamp, got \" \\n\" (\"INVALID\") while parsing: \"a 1 2 \\n\""),
    (b"a 1 2 #\n#EOF\n", "expected next entry after timestamp, got \" #\\n\" (\"TIMESTAMP\") while parsing: \"a 1 2 #\\n\""),
    (b"a 1 1z\n#EOF\n", "strconv.ParseFloat: parsing \"1z\": invalid syntax while parsing: \"a 1 1z\""),
    (b" # EOF\n", "expected a valid start token, got \" \" (\"INVALID\") while parsing: \" \""),
    (b"# EOF\na 1", "unexpected data after # EOF"),
    (b"# EOF\n\n", "unexpected data after # EOF"),
    (b"# EOFa 1", "unexpected data after # EOF"),
    (b"#\tTYPE c counter\n", "expected a valid start token, got \"#\\t\" (\"INVALID\") while parsing: \"#\\t\""),
    (b"# TYPE c  counter\n", "invalid metric type \" counter\""),
    (b"a 1 1 1\n# EOF\n", "expected next entry after timestamp, got \" 1\\n\" (\"TIMESTAMP\") while parsing: \"a 1 1 1\\n\""),
    (b"a{b='c'} 1\n# EOF\n", "expected label value, got \"'\" (\"INVALID\") while parsing: \"a{b='\""),
    (b"a{,b=\"c\"} 1\n# EOF\n", "expected label name, got \",b\" (\"COMMA\") while parsing: \"a{,b\""),
    (b"a{b=\"c\"d=\"e\"} 1\n# EOF\n", "expected comma or brace close, got \"d=\" (\"LNAME\") while parsing: \"a{b=\\\"c\\\"d=\""),
    (b"a{b=\"c\",,d=\"e\"} 1\n# EOF\n", "expected label name, got \",d\" (\"COMMA\") while parsing: \"a{b=\\\"c\\\",,d\""),
    (b"a{b=\n# EOF\n", "expected label value, got \"\\n\" (\"INVALID\") while parsing: \"a{b=\\n\""),
    (b"a{\xff=\"foo\"} 1\n# EOF\n", "expected label name, got \"\\xff\" (\"INVALID\") while parsing: \"a{\\xff\""),
    (b"a{b=\"\xff\"} 1\n# EOF\n", "invalid UTF-8 label value: \"\\\"\\xff\\\"\""),
    (b"{\"a\",\"b = \"c\"}\n# EOF\n", "expected equal, got \"c\\\"\" (\"LNAME\") while parsing: \"{\\\"a\\\",\\\"b = \\\"c\\\"\""),
    (b"{\"a\",b\\nc=\"d\"} 1\n# EOF\n", "expected equal, got \"\\\\\" (\"INVALID\") while parsing: \"{\\\"a\\\",b\\\\\""),
    (b"a true\n", "strconv.ParseFloat: parsing \"true\": invalid syntax while parsing: \"a true\""),
    (b"something_weird{problem=\"\n# EOF\n", "expected label value, got \"\\\"\\n\" (\"INVALID\") while parsing: \"something_weird{problem=\\\"\\n\""),
    (b"empty_label_name{=\"\"} 0\n# EOF\n", "expected label name, got \"=\\\"\" (\"EQUAL\") while parsing: \"empty_label_name{=\\\"\""),
    (b"foo 1_2\n\n# EOF\n", "unsupported character in float while parsing: \"foo 1_2\""),
    (b"foo 0x1p-3\n\n# EOF\n", "unsupported character in float while parsing: \"foo 0x1p-3\""),
    (b"foo 0x1P-3\n\n# EOF\n", "unsupported character in float while parsing: \"foo 0x1P-3\""),
    (b"foo 0 1_2\n\n# EOF\n", "unsupported character in float while parsing: \"foo 0 1_2\""),
    (b"custom_metric_total 1 # {aa=bb}\n# EOF\n", "expected label value, got \"b\" (\"INVALID\") while parsing: \"custom_metric_total 1 # {aa=b\""),
    (b"custom_metric_total 1 # {aa=\"bb\"}\n# EOF\n", "expected value after exemplar labels, got \"\\n\" (\"INVALID\") while parsing: \"custom_metric_total 1 # {aa=\\\"bb\\\"}\\n\""),
    (b"custom_metric_total 1 # {aa=\"bb\"}", "expected value after exemplar labels, got \"}\" (\"EOF\") while parsing: \"custom_metric_total 1 # {aa=\\\"bb\\\"}\""),
    (b"custom_metric_total 1 # {bb}", "expected label name, got \"}\" (\"BCLOSE\") while parsing: \"custom_metric_total 1 # {bb}\""),
    (b"custom_metric_total 1 # {bb, a=\"dd\"}", "expected label name, got \", \" (\"COMMA\") while parsing: \"custom_metric_total 1 # {bb, \""),
    (b"custom_metric_total 1 # {aa=\"bb\",,cc=\"dd\"} 1", "expected label name, got \",c\" (\"COMMA\") while parsing: \"custom_metric_total 1 # {aa=\\\"bb\\\",,c\""),
    (b"custom_metric_total 1 # {aa=\"bb\"} 1_2", "unsupported character in float while parsing: \"custom_metric_total 1 # {aa=\\\"bb\\\"} 1_2\""),
    (b"custom_metric_total 1 # {aa=\"bb\"} 0x1p-3", "unsupported character in float while parsing: \"custom_metric_total 1 # {aa=\\\"bb\\\"} 0x1p-3\""),
    (b"custom_metric_total 1 # {aa=\"bb\"} true", "strconv.ParseFloat: parsing \"true\": invalid syntax while parsing: \"custom_metric_total 1 # {aa=\\\"bb\\\"} true\""),
    (b"custom_metric_total 1 # {aa=\"bb\",cc=}", "expected label value, got \"}\" (\"INVALID\") while parsing: \"custom_metric_total 1 # {aa=\\\"bb\\\",cc=}\""),
    (b"custom_metric_total 1 # {aa=\\\"\\xff\\\"} 9.0", "expected label value, got \"\\\\\" (\"INVALID\") while parsing: \"custom_metric_total 1 # {aa=\\\\\""),
    (b"{b=\"c\",} 1", "metric name not set while parsing: \"{b=\\\"c\\\",} 1\""),
    (b"a 1 NaN", "invalid timestamp NaN"),
    (b"a 1 -Inf", "invalid timestamp -Inf"),
    (b"a 1 Inf", "invalid timestamp +Inf"),
    (b"# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 NaN", "invalid exemplar timestamp NaN"),
    (b"# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 -Inf", "invalid exemplar timestamp -Inf"),
    // TestOMNullByteHandling
    (b"null_byte_metric{a=\"abc\x00\"} 1\n# EOF\n", ""),
    (b"a{b=\"\x00ss\"} 1\n# EOF\n", ""),
    (b"a{b=\"\x00\"} 1\n# EOF\n", ""),
    (b"a{b=\"\x00\"} 1\n# EOF", ""),
    (b"a{b=\x00\"ssss\"} 1\n# EOF\n", "expected label value, got \"\\x00\" (\"INVALID\") while parsing: \"a{b=\\x00\""),
    (b"a{b=\"\x00", "expected label value, got \"\\\"\\x00\" (\"INVALID\") while parsing: \"a{b=\\\"\\x00\""),
    (b"a{b\x00=\"hiih\"}\t1", "expected equal, got \"\\x00\" (\"INVALID\") while parsing: \"a{b\\x00\""),
    (b"a\x00{b=\"ddd\"} 1", "expected value after metric, got \"\\x00\" (\"INVALID\") while parsing: \"a\\x00\""),
    (b"#", "expected a valid start token, got \"#\" (\"INVALID\") while parsing: \"#\""),
    (b"# H", "expected a valid start token, got \"# H\" (\"INVALID\") while parsing: \"# H\""),
    (b"custom_metric_total 1 # {b=\x00\"ssss\"} 1\n", "expected label value, got \"\\x00\" (\"INVALID\") while parsing: \"custom_metric_total 1 # {b=\\x00\""),
    (b"custom_metric_total 1 # {b=\"\x00ss\"} 1\n", "expected label value, got \"\\\"\\x00\" (\"INVALID\") while parsing: \"custom_metric_total 1 # {b=\\\"\\x00\""),
];

#[test]
fn openmetrics_parser_errors_match_upstream_tables() {
    let mut failures = Vec::new();
    for (i, (input, want)) in OM_CASES.iter().enumerate() {
        let got = prometheus_error(input, FormatKind::OpenMetrics).unwrap_or_default();
        if got != *want {
            failures.push(format!(
                "case {i} {:?}:\n  want {want}\n  got  {got}",
                String::from_utf8_lossy(input)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        OM_CASES.len(),
        failures.join("\n")
    );
}

/// The OpenMetrics examples of upstream's parse tests are accepted, the UTF-8 one with its
/// quoted exemplar label names included.
#[test]
fn openmetrics_parser_accepts_upstream_valid_inputs() {
    let input = "# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n\
# TYPE go_gc_duration_seconds summary\n\
# UNIT go_gc_duration_seconds seconds\n\
go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05\n\
# HELP nohelp1 \n\
# HELP help2 escape \\ \\n \\\\ \\\" \\x chars\n\
# UNIT nounit \n\
go_goroutines 33 123.123\n\
# TYPE ggh gaugehistogram\n\
ggh_bucket{le=\"+Inf\"} 1 # {id=\"gaugehistogram-bucket-test\",xx=\"yy\"} 4 123.123\n\
# TYPE ss stateset\n\
ss{ss=\"foo\"} 1\n\
foo_total 17.0 1520879607.789 # {id=\"counter-test\"} 5\n\
{\"go.gc_duration_seconds\",quantile=\"0.25\"} 7.424100000000001e-05\n\
{q=\"0.9\",\"http.status\",a=\"b\"} 8.3835e-05\n\
quotedexemplar2_count 1 # {\"id.thing\"=\"histogram-count-test\",other=\"hello\"} 4\n\
# HELP metric foo\x00bar\n\
null_byte_metric{a=\"abc\x00\"} 1\n\
# EOF\n";
    assert_eq!(
        prometheus_error(input.as_bytes(), FormatKind::OpenMetrics),
        None
    );
}

/// Repeated label names pass the parsers; the TSDB head refuses the sample when the scrape
/// appends it (tsdb/head_append.go), after dropping labels with empty values.
#[test]
fn repeated_label_names_fail_at_append_as_the_head_words_it() {
    for kind in [FormatKind::Text, FormatKind::OpenMetrics] {
        let eof = if kind == FormatKind::OpenMetrics {
            "# EOF\n"
        } else {
            ""
        };
        let body = format!("a 1\nb{{z=\"1\",c=\"2\",z=\"3\",c=\"4\"}} 2\n{eof}");
        assert_eq!(
            prometheus_error(body.as_bytes(), kind).as_deref(),
            Some("label name \"c\" is not unique: invalid sample"),
            "{kind:?}"
        );
        let body = format!("b{{__name__=\"x\"}} 2\n{eof}");
        assert_eq!(
            prometheus_error(body.as_bytes(), kind).as_deref(),
            Some("label name \"__name__\" is not unique: invalid sample"),
            "{kind:?}"
        );
        // An empty value is no label: nothing repeats.
        let body = format!("b{{c=\"\",c=\"1\"}} 2\n{eof}");
        assert_eq!(prometheus_error(body.as_bytes(), kind), None, "{kind:?}");
        // An exemplar's labels are not the series'.
        if kind == FormatKind::OpenMetrics {
            let body = "b_total{c=\"1\"} 2 # {c=\"1\"} 1\n# EOF\n";
            assert_eq!(prometheus_error(body.as_bytes(), kind), None);
        }
    }
}

//! The indented form, checked against upstream's prettier_test.go (line limit 10 there).

use promplay_promql::parser::{parse_with, ParserOptions};
use promplay_promql::printer::{pretty, pretty_with_width};

/// (input, expected pretty form at width 10)
const CASES: &[(&str, &str)] = &[
    // TestAggregateExprPretty
    ("sum(foo)", "sum(foo)"),
    (
        r#"sum by() (task:errors:rate10s{job="s"})"#,
        "sum(\n  task:errors:rate10s{job=\"s\"}\n)",
    ),
    (
        r#"sum without(job,foo) (task:errors:rate10s{job="s"})"#,
        "sum without (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)",
    ),
    (
        r#"sum (task:errors:rate10s{job="s"}) by(job,foo)"#,
        "sum by (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)",
    ),
    (
        r#"topk(10, ask:errors:rate10s{job="s"})"#,
        "topk(\n  10,\n  ask:errors:rate10s{job=\"s\"}\n)",
    ),
    (
        r#"sum by(job,foo) (sum by(job,foo) (sum by(job,foo) (task:errors:rate10s{job="s"})))"#,
        "sum by (job, foo) (\n  sum by (job, foo) (\n    sum by (job, foo) (\n      task:errors:rate10s{job=\"s\"}\n    )\n  )\n)",
    ),
    (
        "sum by(job,foo) # Comment 1.\n(sum by(job,foo) ( # Comment 2.\ntask:errors:rate10s{job=\"s\"}))",
        "sum by (job, foo) (\n  sum by (job, foo) (\n    task:errors:rate10s{job=\"s\"}\n  )\n)",
    ),
    // TestBinaryExprPretty
    ("a+b", "a + b"),
    ("a == bool 1", "  a\n== bool\n  1"),
    ("a + ignoring(job) b", "  a\n+ ignoring (job)\n  b"),
    ("foo_1 + foo_2", "  foo_1\n+\n  foo_2"),
    ("foo_1 + foo_2 + foo_3", "    foo_1\n  +\n    foo_2\n+\n  foo_3"),
    ("foo + baar + foo_3", "  foo + baar\n+\n  foo_3"),
    (
        "foo_1 + ignoring(foo) foo_2 + ignoring(job) group_left foo_3 + on(instance) group_right foo_4",
        "      foo_1\n    + ignoring (foo)\n      foo_2\n  + ignoring (job) group_left ()\n    foo_3\n+ on (instance) group_right ()\n  foo_4",
    ),
    // TestCallExprPretty
    ("rate(foo[1m])", "rate(\n  foo[1m]\n)"),
    (
        "rate(long_vector_selector[10m:1m] @ start() offset 1m)",
        "rate(\n  long_vector_selector[10m:1m] @ start() offset 1m\n)",
    ),
    (
        "histogram_quantile(0.9, rate(foo[1m]))",
        "histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)",
    ),
    (
        "max_over_time(rate(demo_api_request_duration_seconds_count[1m])[1m:] @ start() offset 1m)",
        "max_over_time(\n  rate(\n    demo_api_request_duration_seconds_count[1m]\n  )[1m:] @ start() offset 1m\n)",
    ),
    (
        r#"label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*")"#,
        "label_replace(\n  up{job=\"api-server\",service=\"a:c\"},\n  \"foo\",\n  \"$1\",\n  \"service\",\n  \"(.*):.*\"\n)",
    ),
    // TestParenExprPretty
    ("(foo)", "(foo)"),
    ("(_foo_long_)", "(\n  _foo_long_\n)"),
    ("((foo_long))", "(\n  (foo_long)\n)"),
    ("((_foo_long_))", "(\n  (\n    _foo_long_\n  )\n)"),
    ("(((foo_long)))", "(\n  (\n    (foo_long)\n  )\n)"),
    // TestStepInvariantExpr
    ("a @ 1", "a @ 1.000"),
    ("vector_selector @ start()", "vector_selector @ start()"),
    // TestExprPretty
    ("(1 + 2)", "(1 + 2)"),
    ("(foo + bar)", "(\n  foo + bar\n)"),
    ("(foo_long + bar_long)", "(\n    foo_long\n  +\n    bar_long\n)"),
    (
        "((foo_long + bar_long) + bar_2_long)",
        "(\n    (\n        foo_long\n      +\n        bar_long\n    )\n  +\n    bar_2_long\n)",
    ),
    ("(1111 + 2222)", "(\n    1111\n  +\n    2222\n)"),
    (
        "(sum_over_time(foo[1m]))",
        "(\n  sum_over_time(\n    foo[1m]\n  )\n)",
    ),
    (
        r#"(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 40 and predict_linear(node_filesystem_avail_bytes{job="node",fstype!=""}[6h], 24*60*60) < 0 and node_filesystem_readonly{job="node",fstype!=""} == 0)"#,
        "(\n            node_filesystem_avail_bytes{fstype!=\"\",job=\"node\"}\n          /\n            node_filesystem_size_bytes{fstype!=\"\",job=\"node\"}\n        *\n          100\n      <\n        40\n    and\n        predict_linear(\n          node_filesystem_avail_bytes{fstype!=\"\",job=\"node\"}[6h],\n            24 * 60\n          *\n            60\n        )\n      <\n        0\n  and\n      node_filesystem_readonly{fstype!=\"\",job=\"node\"}\n    ==\n      0\n)",
    ),
    (
        "(node_timex_offset_seconds > 0.05 and deriv(node_timex_offset_seconds[5m]) >= 0) or (node_timex_offset_seconds < -0.05 and deriv(node_timex_offset_seconds[5m]) <= 0)",
        "  (\n        node_timex_offset_seconds\n      >\n        0.05\n    and\n        deriv(\n          node_timex_offset_seconds[5m]\n        )\n      >=\n        0\n  )\nor\n  (\n        node_timex_offset_seconds\n      <\n        -0.05\n    and\n        deriv(\n          node_timex_offset_seconds[5m]\n        )\n      <=\n        0\n  )",
    ),
    (
        r#"min by (job, integration) (rate(alertmanager_notifications_failed_total{job="alertmanager", integration=~".*"}[5m]) / rate(alertmanager_notifications_total{job="alertmanager", integration="~.*"}[5m])) > 0.01"#,
        "  min by (job, integration) (\n      rate(\n        alertmanager_notifications_failed_total{integration=~\".*\",job=\"alertmanager\"}[5m]\n      )\n    /\n      rate(\n        alertmanager_notifications_total{integration=\"~.*\",job=\"alertmanager\"}[5m]\n      )\n  )\n>\n  0.01",
    ),
    // TestUnaryPretty
    ("-1", "-1"),
    ("-vector_selector", "-vector_selector"),
    ("(-vector_selector)", "(\n  -vector_selector\n)"),
    (
        "-histogram_quantile(0.9, -rate(foo[1m] @ start()))",
        "-histogram_quantile(\n  0.9,\n  -rate(\n    foo[1m] @ start()\n  )\n)",
    ),
    // TestDurationExprPretty
    ("rate(foo[2*1h])", "rate(\n  foo[2 * 1h]\n)"),
    ("rate(foo[-5m+35m])", "rate(\n  foo[-5m + 35m]\n)"),
];

#[test]
fn upstream_prettier_cases() {
    let mut failures = Vec::new();
    for (input, want) in CASES {
        let e = parse_with(input, &ParserOptions::all()).expect("case parses");
        let got = pretty_with_width(&e, 10);
        if got != *want {
            failures.push(format!("{input}\n--- got\n{got}\n--- want\n{want}"));
        }
        // Whatever the layout, it parses back to the same expression.
        let again = parse_with(&got, &ParserOptions::all()).expect("pretty form parses");
        assert_eq!(again.to_string(), e.to_string());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn default_width_is_one_hundred() {
    let short = "sum by (job) (rate(http_requests_total[5m]))";
    assert_eq!(
        pretty(&parse_with(short, &ParserOptions::all()).unwrap()),
        short
    );
    let wide = r#"sum by (job) (rate(http_requests_total{code="500"}[5m]))"#;
    let long = format!("{wide} / {short}");
    assert!(long.len() > 100);
    assert_eq!(
        pretty(&parse_with(&long, &ParserOptions::all()).unwrap()),
        format!("  {wide}\n/\n  {short}")
    );
}

//! The parser's secondary entry points and error collection.

use promplay_model::{Labels, MatchType};
use promplay_promql::ast::{Duration, Expr};
use promplay_promql::parser::{
    parse, parse_duration, parse_metric, parse_metric_selector, parse_with, ParserOptions,
};
use promplay_promql::value::ValueType;

#[test]
fn metric_selector_returns_matchers_with_the_name_last() {
    let m = parse_metric_selector(r#"foo{b=~"x.*", a="1"}"#).unwrap();
    let got: Vec<String> = m.iter().map(|m| m.to_string()).collect();
    assert_eq!(got, [r#"a="1""#, r#"b=~"x.*""#, r#"__name__="foo""#]);
    assert!(m[1].matches("xyz") && !m[1].matches("y"));
    let m = parse_metric_selector(r#"{"my.metric", "a.b"='c'}"#).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(
        (m[1].name.as_str(), m[1].value.as_str()),
        ("__name__", "my.metric")
    );
    assert_eq!(m[0].kind, MatchType::Equal);
    assert!(parse_metric_selector("foo + bar").is_err());
    assert!(parse_metric_selector("").is_err());
    assert!(parse_metric_selector(r#"foo{a=~"("}"#).is_err());
}

#[test]
fn metric_parses_series_description_labels() {
    assert_eq!(
        parse_metric(r#"http_requests{job="api", instance="0"}"#).unwrap(),
        Labels::from_pairs(&[
            ("__name__", "http_requests"),
            ("instance", "0"),
            ("job", "api")
        ])
    );
    assert_eq!(
        parse_metric(r#"{__name__="x", "a.b"="c"}"#).unwrap(),
        Labels::from_pairs(&[("__name__", "x"), ("a.b", "c")])
    );
    assert_eq!(
        parse_metric("up").unwrap(),
        Labels::from_pairs(&[("__name__", "up")])
    );
    let e = parse_metric(r#"foo{a=~"b"}"#).unwrap_err();
    assert!(e.to_string().contains("in label set"), "{e}");
}

#[test]
fn durations() {
    assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
    assert_eq!(parse_duration("1y"), Ok(365 * 86_400_000));
    assert_eq!(parse_duration("0"), Ok(0));
    assert_eq!(
        parse_duration("1m1h").unwrap_err().to_string(),
        r#"not a valid duration string: "1m1h""#
    );
    assert_eq!(
        parse_duration("").unwrap_err().to_string(),
        "empty duration string"
    );
}

#[test]
fn several_errors_are_collected() {
    let e = parse("nope1() + nope2()").unwrap_err();
    let msgs: Vec<String> = e.0.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        msgs,
        [
            r#"1:1: parse error: unknown function with name "nope1""#,
            r#"1:11: parse error: unknown function with name "nope2""#
        ]
    );
    let e = parse("floor(1) + rate(foo)").unwrap_err();
    assert_eq!(e.0.len(), 2, "{e:?}");
}

#[test]
fn positions_count_lines_and_bytes() {
    let e = parse("sum(\n  rate(foo)\n)").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"2:8: parse error: expected type range vector in call to function "rate", got instant vector"#
    );
    let f = e.first().unwrap();
    assert_eq!((f.line, f.col, f.span.start, f.span.end), (2, 8, 12, 15));
}

#[test]
fn value_types_and_resolved_durations() {
    let t = |s: &str| parse_with(s, &ParserOptions::all()).unwrap().value_type();
    assert_eq!(t("1 + 2"), ValueType::Scalar);
    assert_eq!(t("foo + 2"), ValueType::Vector);
    assert_eq!(t("foo[5m]"), ValueType::Matrix);
    assert_eq!(t("(-(foo))"), ValueType::Vector);
    assert_eq!(t("scalar(foo)"), ValueType::Scalar);
    assert_eq!(t(r#""s""#), ValueType::String);
    let e = parse_with(
        "foo[step() * 2 + 1m:max_of(step(), 10s)]",
        &ParserOptions::all(),
    )
    .unwrap();
    let Expr::Subquery(sq) = &e else {
        panic!("{e:?}")
    };
    assert!(matches!(sq.range, Duration::Expr(_)));
    assert_eq!(sq.range.resolve(15_000, 0), Ok(90_000));
    assert_eq!(sq.step.as_ref().unwrap().resolve(15_000, 0), Ok(15_000));
    assert_eq!(sq.step.as_ref().unwrap().resolve(1_000, 0), Ok(10_000));
}

#[test]
fn inspect_visits_in_source_order() {
    let e = parse("topk(3, rate(a[5m]) + b) or -c").unwrap();
    let mut kinds = Vec::new();
    e.inspect(|n| kinds.push(n.kind_name()));
    assert_eq!(
        kinds,
        [
            "BinaryExpr",
            "AggregateExpr",
            "NumberLiteral",
            "BinaryExpr",
            "Call",
            "MatrixSelector",
            "VectorSelector",
            "UnaryExpr",
            "VectorSelector"
        ]
    );
    assert!(e.any(|n| matches!(n, Expr::Call(c) if c.func.name == "rate")));
    assert!(!e.any(|n| matches!(n, Expr::Call(c) if c.func.name == "time")));
}

#[test]
fn a_failed_range_is_reported_again_by_offset_as_upstream_does() {
    let e = parse("rate(food[1m])[1h] offset 1h").unwrap_err();
    let got: Vec<(u32, u32, &str)> =
        e.0.iter()
            .map(|e| (e.span.start, e.span.end, e.msg.as_str()))
            .collect();
    assert_eq!(
        got,
        [
            (14, 18, "ranges only allowed for vector selectors"),
            (0, 18, "ranges only allowed for vector selectors")
        ]
    );
}

#[test]
fn series_description_errors_speak_of_label_sets() {
    let e = parse_metric(r#"{"http.requests"xx}"#).unwrap_err();
    assert!(
        e.to_string().ends_with(
            r#"parse error: unexpected identifier "xx" in label set, expected "," or "}""#
        ),
        "{e}"
    );
    let e = parse_metric(r#"{"http.requests"=, x="y"}"#).unwrap_err();
    assert!(
        e.to_string()
            .ends_with(r#"parse error: unexpected "," in label set, expected string"#),
        "{e}"
    );
    let e = parse_metric(r#"{"http.requests}"#).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("parse error: unterminated quoted string"),
        "{e}"
    );
    assert_eq!(
        parse_metric(r#"{"http.requests", "service.name"="api-server", instance="0"}"#).unwrap(),
        Labels::from_pairs(&[
            ("__name__", "http.requests"),
            ("instance", "0"),
            ("service.name", "api-server")
        ])
    );
}

#[test]
fn duration_expressions_resolve_as_upstream_computes_them() {
    let opts = ParserOptions::all();
    let range = |s: &str| match &parse_with(s, &opts).unwrap() {
        Expr::MatrixSelector(m) => m.range.clone(),
        e => panic!("{e:?}"),
    };
    // Literal numbers are seconds; sub-millisecond parts are cut.
    assert_eq!(range("foo[1.5555]").as_millis(), Some(1555));
    assert_eq!(range("foo[4.18]").as_millis(), Some(4180));
    // Expressions: seconds × 1000, truncated; step() and range() from the query.
    let d = range("foo[step() / 3]");
    assert_eq!(d.resolve(10_000, 0), Ok(3333));
    assert_eq!(
        d.resolve_positive(0, 0).unwrap_err().to_string(),
        "duration must be greater than 0"
    );
    assert_eq!(
        range("foo[range() - 1m]").resolve(0, 3_600_000),
        Ok(3_540_000)
    );
    assert_eq!(
        range("foo[max_of(step(), 5s)]").resolve(1_000, 0),
        Ok(5_000)
    );
    let e = parse_with("foo offset -(step() * 2)", &opts).unwrap();
    let Expr::VectorSelector(vs) = &e else {
        panic!()
    };
    assert_eq!(vs.offset.resolve(15_000, 0), Ok(-30_000));
    assert_eq!(
        range("foo[step() / (step() - step())]")
            .resolve(1_000, 0)
            .unwrap_err()
            .to_string(),
        "division by zero"
    );
}

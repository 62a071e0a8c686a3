//! alertmanager.yml: the seed and a fuller file, through `Config::load` as a user's file goes.

mod common;

use common::shared;
use promplay_alertmanager::route::{test_routes, Route};
use promplay_alertmanager::Config;
use promplay_model::Labels;

#[test]
fn seed_config_loads_unchanged() {
    let src = shared("peers/conf/alertmanager.yml");
    let c = Config::load(&src).unwrap();
    assert_eq!(c.original.0, src);
    assert_eq!(c.receivers.len(), 1);
    assert_eq!(
        c.route.as_ref().unwrap().receiver.as_deref(),
        Some("example-email")
    );
    assert!(!c.global.smtp_require_tls);
    assert!(c.warnings.is_empty());
    // its display form loads again to the same configuration
    let again = Config::load(&c.to_yaml()).unwrap();
    assert_eq!(again.receivers, c.receivers);
    assert_eq!(again.route, c.route);
}

const FULL: &str = r#"
global:
  resolve_timeout: 1m
  smtp_smarthost: 'smtp.example.org:587'
  smtp_from: 'am@example.org'
  smtp_auth_username: am
  smtp_auth_password: hunter2
templates:
  - '/etc/alertmanager/templates/*.tmpl'
route:
  receiver: team-x
  group_by: ['alertname', 'cluster']
  routes:
    - matchers:
        - severity=~"crit.*"
        - 'service="db", env!="dev"'
      receiver: pager
      active_time_intervals: [business]
    - match_re:
        service: ^(foo1|foo2)$
      receiver: team-x
      mute_time_intervals: [weekends]
      continue: true
    - receiver: hook
time_intervals:
  - name: business
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '17:00'}]
        location: UTC
mute_time_intervals:
  - name: weekends
    time_intervals: [{weekdays: [saturday, sunday]}]
inhibit_rules:
  - source_match: {severity: critical}
    target_match_re: {severity: 'warning|info'}
    equal: [alertname]
receivers:
  - name: team-x
    email_configs:
      - to: 'x@example.org'
        send_resolved: true
        headers: {subject: 'custom {{ .Status }}'}
  - name: pager
    email_configs:
      - to: 'pager@example.org'
        smarthost: 'other:25'
        require_tls: false
  - name: hook
    webhook_configs:
      - url: 'https://hooks.example.org/am'
        max_alerts: 10
    slack_configs:
      - channel: '#x'
"#;

#[test]
fn full_config_defaults_inheritance_and_routing() {
    let c = Config::load(FULL).unwrap();
    let pager = &c.receiver("pager").unwrap().email_configs[0];
    assert_eq!(pager.smarthost.to_string(), "other:25");
    assert_eq!(pager.from, "am@example.org");
    assert_eq!(pager.auth_password.expose(), "hunter2");
    assert_eq!(pager.require_tls, Some(false));
    let x = &c.receiver("team-x").unwrap().email_configs[0];
    assert_eq!(x.require_tls, Some(true));
    assert_eq!(x.headers.get("Subject").unwrap(), "custom {{ .Status }}");
    assert_eq!(c.global.resolve_timeout.as_millis(), 60_000);
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(!c.to_yaml().contains("hunter2"));

    let r = Route::new(c.route.as_ref().unwrap()).unwrap();
    assert_eq!(
        r.routes[0].matchers.to_string(),
        r#"{env!="dev",service="db",severity=~"crit.*"}"#
    );
    let t = |l: &[(&str, &str)]| test_routes(&r, &Labels::from_pairs(l)).receivers;
    assert_eq!(
        t(&[("severity", "critical"), ("service", "db"), ("env", "prod")]),
        ["pager"]
    );
    assert_eq!(t(&[("service", "foo1")]), ["team-x", "hook"]);
    assert_eq!(t(&[("service", "bar")]), ["hook"]);
    assert_eq!(r.routes[1].opts.mute_time_intervals, ["weekends"]);
    assert_eq!(
        r.routes[0].opts.group_by.iter().collect::<Vec<_>>(),
        ["alertname", "cluster"]
    );
}

#[test]
fn empty_blocks_mean_defaults() {
    let c = Config::load(
        "global:\nroute:\n  receiver: a\n  routes:\nreceivers:\n  - name: a\ninhibit_rules:\n",
    )
    .unwrap();
    assert!(c.global.smtp_require_tls);
    assert_eq!(c.global.smtp_hello, "localhost");
}

#[test]
fn errors_name_line_and_field() {
    let e = Config::load("route:\n  receiver: a\n  routes:\n    - receiver: a\n      group_wait: soon\nreceivers:\n  - name: a\n").unwrap_err();
    assert_eq!(e.line, Some(5));
    assert!(e.message.starts_with("route.routes[0].group_wait: "), "{e}");
    assert!(
        e.message.contains("not a valid duration string: \"soon\""),
        "{e}"
    );

    let e = Config::load("route:\n  receiver: a\nreceivers:\n  - name: a\n    email_configs:\n      - to: x@y\n        smarthost: nohost\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 7 column 9: receivers[0].email_configs[0].smarthost: address nohost: missing port in address"
    );

    let e = Config::load("route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: http://x\n        sendresolved: true\n").unwrap_err();
    assert_eq!(e.line, Some(7));
    assert_eq!(
        e.to_string(),
        "yaml: unmarshal errors:\n  line 7: field sendresolved not found in type config.plain"
    );
    let e = Config::load(
        "global: {smtp_smarthost: 'h'}\nroute: {receiver: a}\nreceivers: [{name: a}]\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1 column 1: global.smtp_smarthost: address h: missing port in address"
    );

    let e = Config::load(
        "route:\n  receiver: a\n  routes:\n    - matchers: ['a=~\"(\"']\nreceivers:\n  - name: a\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(4));
    assert_eq!(
        e.message,
        "error parsing regexp: missing closing ): `^(?:()$`"
    );

    let e = Config::load(
        "route:\n  receiver: a\n  routes:\n    - group_by: [a, a]\nreceivers:\n  - name: a\n",
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "line 4: duplicated label \"a\" in group_by");

    let e = Config::load("route:\n  receiver: a\nreceivers:\n  - name: a\nmute_time_intervals:\n  - name: w\n    time_intervals: [{location: Europe/Paris}]\n").unwrap_err();
    assert!(e.message.contains("only UTC"), "{e}");
}

#[test]
fn truncated_or_mangled_configs_never_panic() {
    for (i, _) in FULL.char_indices() {
        let _ = Config::load(&FULL[..i]);
    }
    let lines: Vec<&str> = FULL.lines().collect();
    for skip in 0..lines.len() {
        let s: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        let _ = Config::load(&s.join("\n"));
    }
    // deep nesting is refused, not a stack overflow
    let mut deep = String::from("route:\n  receiver: a\n");
    let mut indent = String::from("  ");
    for _ in 0..200 {
        deep.push_str(&format!("{indent}routes:\n{indent}- receiver: a\n"));
        indent.push_str("  ");
    }
    deep.push_str("receivers: [{name: a}]\n");
    assert!(Config::load(&deep).is_err());
}

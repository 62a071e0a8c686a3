//! The Rules page's data: the `data` object of Prometheus's `GET /api/v1/rules`, decoded with
//! serde, and the rows the page shows (as Prometheus's `/rules` page: per group its file,
//! interval, last evaluation and evaluation duration; per rule its kind, name, expression,
//! labels, health, last error, last evaluation and duration).
//!
//! The playground's own groups go through the same JSON: [`local_rules`] renders the running
//! groups with `promplay_rules::api::rules_response` (what the companion serves as
//! `/api/v1/rules`) and parses it back, so the pages show exactly what the HTTP API gives, and
//! pointing them at a remote Prometheus later means fetching that body instead.
//! Plain Rust.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::playground::Playground;
use crate::time::{format_duration, format_seconds, format_utc};

/// `data` of `/api/v1/rules`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct RulesData {
    #[serde(default, deserialize_with = "null_default")]
    pub groups: Vec<RuleGroup>,
}

/// One rule group.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroup {
    pub name: String,
    pub file: String,
    #[serde(default, deserialize_with = "null_default")]
    pub rules: Vec<Rule>,
    /// The evaluation interval, seconds.
    pub interval: f64,
    #[serde(default)]
    pub limit: u64,
    /// How long the last evaluation took, seconds.
    #[serde(default)]
    pub evaluation_time: f64,
    /// When the group was last evaluated (ms); `None` when never (Go's zero time).
    #[serde(default, rename = "lastEvaluation", deserialize_with = "time_opt")]
    pub last_evaluation_ms: Option<i64>,
}

impl RuleGroup {
    /// The evaluation interval in ms.
    pub fn interval_ms(&self) -> i64 {
        seconds_to_ms(self.interval)
    }
}

/// A rule, tagged by `type` as the API tags it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Rule {
    Alerting(AlertingRule),
    Recording(RecordingRule),
}

impl Rule {
    pub fn name(&self) -> &str {
        match self {
            Rule::Alerting(a) => &a.name,
            Rule::Recording(r) => &r.name,
        }
    }
}

/// An alerting rule with its pending and firing alerts.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertingRule {
    /// `inactive`, `pending` or `firing` (the highest state of its alerts).
    #[serde(default)]
    pub state: String,
    pub name: String,
    pub query: String,
    /// `for`, seconds.
    #[serde(default)]
    pub duration: f64,
    /// `keep_firing_for`, seconds.
    #[serde(default)]
    pub keep_firing_for: f64,
    #[serde(default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    pub alerts: Vec<Alert>,
    /// `ok`, `err` or `unknown`.
    #[serde(default)]
    pub health: String,
    #[serde(default)]
    pub last_error: String,
    #[serde(default)]
    pub evaluation_time: f64,
    #[serde(default, rename = "lastEvaluation", deserialize_with = "time_opt")]
    pub last_evaluation_ms: Option<i64>,
}

impl AlertingRule {
    /// The rule's state: the API's, or (for servers that predate the field) the highest
    /// state of its alerts.
    pub fn state(&self) -> &str {
        if !self.state.is_empty() {
            return &self.state;
        }
        if self.alerts.iter().any(|a| a.state == "firing") {
            "firing"
        } else if self.alerts.iter().any(|a| a.state == "pending") {
            "pending"
        } else {
            "inactive"
        }
    }
}

/// A recording rule.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRule {
    pub name: String,
    pub query: String,
    #[serde(default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub health: String,
    #[serde(default)]
    pub last_error: String,
    #[serde(default)]
    pub evaluation_time: f64,
    #[serde(default, rename = "lastEvaluation", deserialize_with = "time_opt")]
    pub last_evaluation_ms: Option<i64>,
}

/// An alert of an alerting rule (also the items of `/api/v1/alerts`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    #[serde(default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    pub annotations: BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub state: String,
    /// When the alert became active (ms).
    #[serde(default, rename = "activeAt", deserialize_with = "time_opt")]
    pub active_at_ms: Option<i64>,
    /// When a firing alert's condition stopped holding while `keep_firing_for` keeps it (ms).
    #[serde(default, rename = "keepFiringSince", deserialize_with = "time_opt")]
    pub keep_firing_since_ms: Option<i64>,
    /// The expression's value at the last evaluation, as the API prints it (`0e+00`).
    #[serde(default)]
    pub value: String,
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn time_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_rfc3339(&s).map_err(serde::de::Error::custom),
    }
}

/// Seconds (the API's durations) to ms, rounded; not-finite or negative values are 0.
fn seconds_to_ms(s: f64) -> i64 {
    if s.is_finite() && s > 0.0 {
        (s * 1000.0).round().min(i64::MAX as f64) as i64
    } else {
        0
    }
}

/// Parses an RFC 3339 time as Go's `time.Time` JSON writes it (`2026-11-25T13:16:07.794Z`,
/// `2018-07-04T20:27:12.60602144+02:00`) into ms since the epoch (the fraction truncated to
/// ms). Go's zero time (`0001-01-01T00:00:00Z`) is `None`: never.
pub fn parse_rfc3339(s: &str) -> Result<Option<i64>, String> {
    let t = promplay_model::civil::parse_rfc3339(s)
        .ok_or_else(|| format!("cannot parse {s:?} as an RFC 3339 time"))?;
    // Go's zero time (0001-01-01T00:00:00Z), in whatever zone it is written, means never.
    const GO_ZERO_TIME_MS: i64 = -62_135_596_800_000;
    Ok((t > GO_ZERO_TIME_MS + 86_400_000).then_some(t))
}

/// Decodes the body of `/api/v1/rules`: the whole `{"status":"success","data":…}` answer, or
/// its `data` object alone. An error answer gives its `error` text.
pub fn parse_rules(json: &str) -> Result<RulesData, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("invalid rules JSON: {e}"))?;
    let data = match v.get("status").and_then(|s| s.as_str()) {
        Some("success") => v.get("data").cloned().unwrap_or_default(),
        Some(other) => {
            let err = v
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("no error text");
            return Err(format!("the rules API answered {other}: {err}"));
        }
        None => v,
    };
    serde_json::from_value(data).map_err(|e| format!("invalid rules JSON: {e}"))
}

/// The playground's running groups, through the JSON `/api/v1/rules` serves.
pub fn local_rules(p: &Playground) -> RulesData {
    let body = promplay_rules::api::rules_response(p.stack().prometheus.rule_manager().groups());
    // The body is produced by our own encoder; should it ever not decode, the page shows no
    // groups rather than failing.
    parse_rules(&body).unwrap_or_default()
}

/// One rule group as the Rules page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    pub name: String,
    pub file: String,
    /// `10s`.
    pub interval: String,
    /// `2026-01-01 00:00:07 UTC (3.000s ago)` or `never`.
    pub last_evaluation: String,
    /// The last evaluation's time (ms), for tests and `data-ms`.
    pub last_evaluation_ms: Option<i64>,
    /// `0.265ms`.
    pub evaluation_duration: String,
    /// `0` is no limit.
    pub limit: u64,
    pub rules: Vec<RuleRow>,
}

/// One rule as the Rules page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleRow {
    /// `alerting` or `recording`.
    pub kind: &'static str,
    pub name: String,
    pub expr: String,
    /// For alerting rules: `for: 1m`, `keep_firing_for: 5m` (when not zero).
    pub settings: Vec<String>,
    /// `key="value"` each.
    pub labels: Vec<String>,
    /// Alerting rules' annotations, `key: value` each.
    pub annotations: Vec<String>,
    /// `ok`, `err` or `unknown`.
    pub health: String,
    pub last_error: String,
    pub last_evaluation: String,
    pub last_evaluation_ms: Option<i64>,
    pub evaluation_duration: String,
}

/// `key="value"` for each label.
pub fn label_strings(l: &BTreeMap<String, String>) -> Vec<String> {
    l.iter().map(|(k, v)| format!("{k}={v:?}")).collect()
}

/// A time in virtual time with how long ago it was: `2026-01-01 00:00:07 UTC (3.000s ago)`.
pub fn format_when(t: Option<i64>, now_ms: i64) -> String {
    match t {
        None => "never".to_string(),
        Some(t) => format!(
            "{} UTC ({:.3}s ago)",
            format_utc(t),
            (now_ms - t).max(0) as f64 / 1000.0
        ),
    }
}

fn health(h: &str) -> String {
    if h.is_empty() {
        "unknown".into()
    } else {
        h.to_string()
    }
}

/// The Rules page's rows as of `now_ms`.
pub fn rules_page(data: &RulesData, now_ms: i64) -> Vec<GroupRow> {
    data.groups
        .iter()
        .map(|g| GroupRow {
            name: g.name.clone(),
            file: g.file.clone(),
            interval: format_duration(g.interval_ms()),
            last_evaluation: format_when(g.last_evaluation_ms, now_ms),
            last_evaluation_ms: g.last_evaluation_ms,
            evaluation_duration: format_seconds(g.evaluation_time),
            limit: g.limit,
            rules: g
                .rules
                .iter()
                .map(|r| match r {
                    Rule::Alerting(a) => RuleRow {
                        kind: "alerting",
                        name: a.name.clone(),
                        expr: a.query.clone(),
                        settings: [
                            ("for", seconds_to_ms(a.duration)),
                            ("keep_firing_for", seconds_to_ms(a.keep_firing_for)),
                        ]
                        .into_iter()
                        .filter(|(_, ms)| *ms > 0)
                        .map(|(k, ms)| format!("{k}: {}", format_duration(ms)))
                        .collect(),
                        labels: label_strings(&a.labels),
                        annotations: a
                            .annotations
                            .iter()
                            .map(|(k, v)| format!("{k}: {v}"))
                            .collect(),
                        health: health(&a.health),
                        last_error: a.last_error.clone(),
                        last_evaluation: format_when(a.last_evaluation_ms, now_ms),
                        last_evaluation_ms: a.last_evaluation_ms,
                        evaluation_duration: format_seconds(a.evaluation_time),
                    },
                    Rule::Recording(rr) => RuleRow {
                        kind: "recording",
                        name: rr.name.clone(),
                        expr: rr.query.clone(),
                        settings: Vec::new(),
                        labels: label_strings(&rr.labels),
                        annotations: Vec::new(),
                        health: health(&rr.health),
                        last_error: rr.last_error.clone(),
                        last_evaluation: format_when(rr.last_evaluation_ms, now_ms),
                        last_evaluation_ms: rr.last_evaluation_ms,
                        evaluation_duration: format_seconds(rr.evaluation_time),
                    },
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::{HostAction, Playground};
    use crate::time::parse_utc;

    /// The example answer of `GET /api/v1/rules` in Prometheus's HTTP API documentation
    /// (docs/querying/api.md, "Rules"), as published: no `state`, `lastEvaluation` or
    /// `evaluationTime`, times with a zone offset and nanoseconds.
    const DOC_EXAMPLE: &str = r#"{
    "data": {
        "groups": [
            {
                "rules": [
                    {
                        "alerts": [
                            {
                                "activeAt": "2018-07-04T20:27:12.60602144+02:00",
                                "annotations": {
                                    "summary": "High request latency"
                                },
                                "labels": {
                                    "alertname": "HighRequestLatency",
                                    "severity": "page"
                                },
                                "state": "firing",
                                "value": "1e+00"
                            }
                        ],
                        "annotations": {
                            "summary": "High request latency"
                        },
                        "duration": 600,
                        "health": "ok",
                        "labels": {
                            "severity": "page"
                        },
                        "name": "HighRequestLatency",
                        "query": "job:request_latency_seconds:mean5m{job=\"myjob\"} > 0.5",
                        "type": "alerting"
                    },
                    {
                        "health": "ok",
                        "name": "job:http_inprogress_requests:sum",
                        "query": "sum by (job) (http_inprogress_requests)",
                        "type": "recording"
                    }
                ],
                "file": "/rules.yaml",
                "interval": 60,
                "limit": 0,
                "name": "example"
            }
        ]
    },
    "status": "success"
}"#;

    #[test]
    fn the_documented_example_decodes() {
        let d = parse_rules(DOC_EXAMPLE).unwrap();
        assert_eq!(d.groups.len(), 1);
        let g = &d.groups[0];
        assert_eq!(
            (g.name.as_str(), g.file.as_str()),
            ("example", "/rules.yaml")
        );
        assert_eq!(g.interval_ms(), 60_000);
        assert_eq!(g.last_evaluation_ms, None);
        let Rule::Alerting(a) = &g.rules[0] else {
            panic!("{:?}", g.rules[0])
        };
        assert_eq!(a.state(), "firing", "derived from the alerts");
        assert_eq!(a.duration, 600.0);
        assert_eq!(a.labels.get("severity").map(String::as_str), Some("page"));
        assert_eq!(a.alerts[0].value, "1e+00");
        // 20:27:12.606 at +02:00 is 18:27:12.606 UTC
        assert_eq!(
            a.alerts[0].active_at_ms,
            Some(parse_utc("2018-07-04 18:27:12").unwrap() + 606)
        );
        let Rule::Recording(r) = &g.rules[1] else {
            panic!("{:?}", g.rules[1])
        };
        assert_eq!(r.name, "job:http_inprogress_requests:sum");
        assert!(r.labels.is_empty());
        let rows = rules_page(&d, 0);
        assert_eq!(rows[0].interval, "1m");
        assert_eq!(rows[0].last_evaluation, "never");
        assert_eq!(rows[0].rules[0].settings, ["for: 10m"]);
        assert_eq!(rows[0].rules[0].labels, [r#"severity="page""#]);
        assert_eq!(rows[0].rules[1].kind, "recording");
        assert_eq!(rows[0].rules[1].health, "ok");
    }

    /// A real answer of Debian's Prometheus 2.42 to the seed's story (../shared/samples).
    #[test]
    fn a_real_prometheus_answer_decodes() {
        let body = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/prom-api-rules.json"
        ))
        .unwrap();
        let d = parse_rules(&body).unwrap();
        let g = &d.groups[0];
        assert_eq!((g.name.as_str(), g.file.as_str()), ("example", "rules.yml"));
        assert_eq!(g.interval_ms(), 10_000);
        assert_eq!(
            g.last_evaluation_ms,
            Some(parse_utc("2026-11-25 13:18:37").unwrap() + 796)
        );
        let Rule::Alerting(a) = &g.rules[0] else {
            panic!()
        };
        assert_eq!((a.name.as_str(), a.state()), ("InstanceDown", "firing"));
        assert_eq!(a.duration, 60.0);
        assert_eq!(a.alerts.len(), 1);
        assert_eq!(
            a.alerts[0].active_at_ms,
            Some(parse_utc("2026-11-25 13:16:07").unwrap() + 794)
        );
        let rows = rules_page(&d, parse_utc("2026-11-25 13:18:40").unwrap());
        assert_eq!(
            rows[0].last_evaluation,
            "2026-11-25 13:18:37 UTC (2.204s ago)"
        );
        assert_eq!(rows[0].rules[0].evaluation_duration, "0.266ms");
    }

    #[test]
    fn data_alone_errors_and_garbage() {
        let d = parse_rules(r#"{"groups":[]}"#).unwrap();
        assert!(d.groups.is_empty());
        let e =
            parse_rules(r#"{"status":"error","errorType":"bad_data","error":"nope"}"#).unwrap_err();
        assert_eq!(e, "the rules API answered error: nope");
        assert!(parse_rules("{")
            .unwrap_err()
            .starts_with("invalid rules JSON"));
        let e = parse_rules(
            r#"{"groups":[{"name":"g","file":"f","interval":1,"lastEvaluation":"yesterday"}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("yesterday"), "{e}");
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), Ok(None));
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:01.5-00:30"),
            Ok(Some(1_500 + 1_800_000))
        );
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?}");
        }
    }

    /// The playground's groups through `/api/v1/rules`'s JSON: the seed's group and rule,
    /// health unknown before the first evaluation after a reload, ok after, last evaluation
    /// at the group's slot.
    #[test]
    fn the_local_rules_are_the_seed_group_with_health_and_last_evaluation() {
        let mut p = Playground::new();
        let d = local_rules(&p);
        assert_eq!(d.groups.len(), 1);
        let g = &d.groups[0];
        assert_eq!((g.name.as_str(), g.file.as_str()), ("example", "rules.yml"));
        assert_eq!(g.interval_ms(), 10_000);
        let last = g.last_evaluation_ms.unwrap();
        assert!(p.now_ms() - last < 10_000 && last <= p.now_ms());
        let Rule::Alerting(a) = &g.rules[0] else {
            panic!()
        };
        assert_eq!(
            (a.name.as_str(), a.query.as_str()),
            ("InstanceDown", "up == 0")
        );
        assert_eq!((a.state(), a.health.as_str()), ("inactive", "ok"));
        assert_eq!(a.last_evaluation_ms, Some(last));

        // A recording rule beside it, and a rule whose expression fails at run time.
        let rules = format!(
            "{}  - name: more\n    interval: 30s\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n        labels:\n          team: ops\n      - record: bad\n        expr: up + on() up\n",
            crate::playground::SEED_RULES
        );
        p.apply_rules(&rules).unwrap();
        let rows = rules_page(&local_rules(&p), p.now_ms());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].interval, "30s");
        assert_eq!(rows[1].rules[0].health, "unknown");
        assert_eq!(rows[1].last_evaluation, "never");
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(30_000);
        let rows = rules_page(&local_rules(&p), p.now_ms());
        let more = &rows[1];
        assert_eq!(more.rules[0].kind, "recording");
        assert_eq!(more.rules[0].labels, [r#"team="ops""#]);
        assert_eq!(more.rules[0].health, "ok");
        assert_eq!(more.rules[0].last_error, "");
        assert_eq!(more.rules[1].health, "err");
        assert!(
            more.rules[1].last_error.contains("many-to-many")
                || more.rules[1].last_error.contains("multiple matches"),
            "{}",
            more.rules[1].last_error
        );
        let t = more.last_evaluation_ms.unwrap();
        assert!(p.now_ms() - t < 30_000);
        assert_eq!(more.rules[1].last_evaluation_ms, Some(t));
        assert!(
            more.last_evaluation.ends_with("s ago)"),
            "{}",
            more.last_evaluation
        );
        assert_eq!(rows[0].rules[0].kind, "alerting");
        assert_eq!(rows[0].rules[0].settings, ["for: 1m"]);
    }
}

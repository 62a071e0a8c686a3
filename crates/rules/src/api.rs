//! The JSON of Prometheus's `/api/v1/rules` and `/api/v1/alerts` for a set of groups, with
//! Go's encoding (field order, whole floats without `.0`, `<>&` escaped, RFC 3339 times).

use serde::Serialize;
use serde_json::Value as Json;

use promplay_model::civil::civil_from_ms;
use promplay_model::Labels;

use crate::group::Group;
use crate::rule::{Alert, Rule};
use crate::template::format_e;

/// Go's `time.Time` JSON (RFC 3339 with trailing zeros of the fraction trimmed), in UTC;
/// `None` is Go's zero time.
pub fn rfc3339(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "0001-01-01T00:00:00Z".into();
    };
    let c = civil_from_ms(ms);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    if c.millis != 0 {
        let f = format!("{:03}", c.millis);
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// A float as Go's `encoding/json` writes a float64 (`60`, `0.25`).
fn num(v: f64) -> Json {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Json::from(v as i64)
    } else {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

fn labels_obj(l: &Labels) -> Json {
    Json::Object(
        l.iter()
            .map(|l| (l.name.to_string(), Json::from(l.value.to_string())))
            .collect(),
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiAlert {
    labels: Json,
    annotations: Json,
    state: &'static str,
    active_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_firing_since: Option<String>,
    value: String,
}

fn api_alert(a: &Alert) -> ApiAlert {
    ApiAlert {
        labels: labels_obj(&a.labels),
        annotations: labels_obj(&a.annotations),
        state: a.state.as_str(),
        active_at: rfc3339(Some(a.active_at)),
        keep_firing_since: a.keep_firing_since.map(|t| rfc3339(Some(t))),
        value: format_e(a.value).to_lowercase(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertingRuleJson {
    state: &'static str,
    name: String,
    query: String,
    duration: Json,
    keep_firing_for: Json,
    labels: Json,
    annotations: Json,
    alerts: Vec<ApiAlert>,
    health: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    evaluation_time: Json,
    last_evaluation: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecordingRuleJson {
    name: String,
    query: String,
    labels: Json,
    health: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    evaluation_time: Json,
    last_evaluation: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum RuleJson {
    Alerting(AlertingRuleJson),
    Recording(RecordingRuleJson),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupJson {
    name: String,
    file: String,
    rules: Vec<RuleJson>,
    interval: Json,
    limit: usize,
    evaluation_time: Json,
    last_evaluation: String,
}

/// Go's JSON escaping of `<`, `>`, `&`, U+2028 and U+2029 (they only occur inside strings).
fn go_escape(s: String) -> String {
    if !s.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return s;
    }
    s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Nanoseconds as float seconds, computed as Go's `time.Duration.Seconds` does.
fn ns_to_seconds(ns: i64) -> f64 {
    let sec = ns / 1_000_000_000;
    let nsec = ns % 1_000_000_000;
    sec as f64 + nsec as f64 / 1e9
}

fn rule_json(r: &Rule) -> RuleJson {
    let st = r.status();
    let last_error = st.last_error.as_ref().map(|e| e.to_string());
    let eval_time = num(ns_to_seconds(st.evaluation_duration_ns));
    let last = rfc3339(st.last_evaluation_ms);
    match r {
        Rule::Alerting(a) => RuleJson::Alerting(AlertingRuleJson {
            state: a.state().as_str(),
            name: a.name.clone(),
            query: a.expr.clone(),
            duration: num(a.hold_ms as f64 / 1000.0),
            keep_firing_for: num(a.keep_firing_for_ms as f64 / 1000.0),
            labels: labels_obj(&a.labels),
            annotations: labels_obj(&a.annotations),
            alerts: a.active_alerts().into_iter().map(api_alert).collect(),
            health: st.health.as_str(),
            last_error,
            evaluation_time: eval_time,
            last_evaluation: last,
            kind: "alerting",
        }),
        Rule::Recording(rr) => RuleJson::Recording(RecordingRuleJson {
            name: rr.name.clone(),
            query: rr.expr.clone(),
            labels: labels_obj(&rr.labels),
            health: st.health.as_str(),
            last_error,
            evaluation_time: eval_time,
            last_evaluation: last,
            kind: "recording",
        }),
    }
}

/// `/api/v1/rules`: `{"status":"success","data":{"groups":[…]}}` (a group's `file` is the
/// name it was loaded under).
pub fn rules_response(groups: &[Group]) -> String {
    let gs: Vec<GroupJson> = groups
        .iter()
        .map(|g| GroupJson {
            name: g.name.clone(),
            file: g.file.clone(),
            rules: g.rules.iter().map(rule_json).collect(),
            interval: num(g.interval_ms as f64 / 1000.0),
            limit: g.limit,
            evaluation_time: num(ns_to_seconds(g.evaluation_duration_ns)),
            last_evaluation: rfc3339(g.last_evaluation_ms),
        })
        .collect();
    #[derive(Serialize)]
    struct Data {
        groups: Vec<GroupJson>,
    }
    #[derive(Serialize)]
    struct Resp {
        status: &'static str,
        data: Data,
    }
    go_escape(
        serde_json::to_string(&Resp {
            status: "success",
            data: Data { groups: gs },
        })
        .unwrap_or_default(),
    )
}

/// `/api/v1/alerts`: every pending and firing alert of every group.
pub fn alerts_response(groups: &[Group]) -> String {
    let alerts: Vec<ApiAlert> = groups
        .iter()
        .flat_map(|g| g.rules.iter())
        .filter_map(|r| r.as_alerting())
        .flat_map(|a| a.active_alerts())
        .map(api_alert)
        .collect();
    #[derive(Serialize)]
    struct Data {
        alerts: Vec<ApiAlert>,
    }
    #[derive(Serialize)]
    struct Resp {
        status: &'static str,
        data: Data,
    }
    go_escape(
        serde_json::to_string(&Resp {
            status: "success",
            data: Data { alerts },
        })
        .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(rfc3339(Some(1_795_612_567_794)), "2026-11-25T13:16:07.794Z");
        assert_eq!(rfc3339(Some(1_795_612_567_000)), "2026-11-25T13:16:07Z");
        assert_eq!(rfc3339(Some(1_795_612_567_500)), "2026-11-25T13:16:07.5Z");
        assert_eq!(rfc3339(None), "0001-01-01T00:00:00Z");
    }
}

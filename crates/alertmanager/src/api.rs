//! The JSON of Alertmanager's API v2 for hosts that serve it (`/api/v2/alerts`,
//! `/api/v2/silences`) and the parsing of posted alerts. Field order and time format are
//! Alertmanager's.

use std::collections::BTreeMap;

use promplay_model::{Label, Labels, MatchType};
use serde::{Deserialize, Serialize};

use crate::alert::{fingerprint_string, PostableAlert};
use crate::dispatch::Alertmanager;
use crate::notify::{go_json, rfc3339_nano};
use crate::silence::Silence;

/// Parses an RFC 3339 timestamp (`2026-11-25T13:17:07.794Z`, `…+01:00`) to ms since the epoch.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    promplay_model::civil::parse_rfc3339(s).ok_or_else(|| format!("parsing time {s:?} as RFC 3339"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPostable {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
}

fn labels_of(m: BTreeMap<String, String>) -> Labels {
    Labels::new(m.into_iter().map(|(k, v)| Label::new(k, v)).collect())
}

/// Parses the body of `POST /api/v2/alerts`.
pub fn parse_postable_alerts(json: &str) -> Result<Vec<PostableAlert>, String> {
    let raw: Vec<RawPostable> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let t = |s: Option<String>| -> Result<Option<i64>, String> {
        match s.as_deref() {
            None | Some("") | Some("0001-01-01T00:00:00Z") => Ok(None),
            Some(s) => parse_rfc3339(s).map(Some),
        }
    };
    raw.into_iter()
        .map(|r| {
            Ok(PostableAlert {
                labels: labels_of(r.labels),
                annotations: labels_of(r.annotations),
                starts_at: t(r.starts_at)?,
                ends_at: t(r.ends_at)?,
                generator_url: r.generator_url,
            })
        })
        .collect()
}

#[derive(Serialize)]
struct ReceiverRef {
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusJson {
    inhibited_by: Vec<String>,
    silenced_by: Vec<String>,
    state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GettableAlert {
    annotations: BTreeMap<String, String>,
    ends_at: String,
    fingerprint: String,
    receivers: Vec<ReceiverRef>,
    starts_at: String,
    status: StatusJson,
    updated_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: String,
    labels: BTreeMap<String, String>,
}

fn map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.to_string(), l.value.to_string()))
        .collect()
}

/// `GET /api/v2/alerts` (active, silenced and inhibited; resolved alerts are not listed),
/// ordered by fingerprint.
pub fn alerts_json(am: &Alertmanager, now: i64) -> String {
    let list: Vec<GettableAlert> = am
        .alert_statuses(now)
        .into_iter()
        .map(|(a, st)| GettableAlert {
            annotations: map(&a.annotations),
            ends_at: rfc3339_nano(a.ends_at),
            fingerprint: fingerprint_string(a.fingerprint()),
            receivers: am
                .receivers_for(&a.labels)
                .into_iter()
                .map(|name| ReceiverRef { name })
                .collect(),
            starts_at: rfc3339_nano(Some(a.starts_at)),
            status: StatusJson {
                inhibited_by: st.inhibited_by,
                silenced_by: st.silenced_by,
                state: st.state,
            },
            updated_at: rfc3339_nano(Some(a.updated_at)),
            generator_url: a.generator_url.clone(),
            labels: map(&a.labels),
        })
        .collect();
    go_json(serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MatcherJson {
    is_equal: bool,
    is_regex: bool,
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SilenceStatusJson {
    state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GettableSilence {
    id: String,
    status: SilenceStatusJson,
    updated_at: String,
    comment: String,
    created_by: String,
    ends_at: String,
    matchers: Vec<MatcherJson>,
    starts_at: String,
}

/// One silence as `GET /api/v2/silences` lists it.
fn silence_json(s: &Silence, now: i64) -> GettableSilence {
    GettableSilence {
        id: s.id.clone(),
        status: SilenceStatusJson {
            state: s.state_at(now).as_str(),
        },
        updated_at: rfc3339_nano(Some(s.updated_at)),
        comment: s.comment.clone(),
        created_by: s.created_by.clone(),
        ends_at: rfc3339_nano(Some(s.ends_at)),
        matchers: s
            .matchers
            .iter()
            .map(|m| MatcherJson {
                is_equal: matches!(m.kind, MatchType::Equal | MatchType::Regexp),
                is_regex: matches!(m.kind, MatchType::Regexp | MatchType::NotRegexp),
                name: m.name.clone(),
                value: m.value.clone(),
            })
            .collect(),
        starts_at: rfc3339_nano(Some(s.starts_at)),
    }
}

/// `GET /api/v2/silences`.
pub fn silences_json(am: &Alertmanager, now: i64) -> String {
    let list: Vec<GettableSilence> = am.silences().list().map(|s| silence_json(s, now)).collect();
    go_json(serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parsing() {
        assert_eq!(
            parse_rfc3339("2026-11-25T13:17:07.794Z").unwrap(),
            1_795_612_627_794
        );
        assert_eq!(
            parse_rfc3339("2026-11-25T13:17:07.79467792Z").unwrap(),
            1_795_612_627_794
        );
        assert_eq!(
            parse_rfc3339("2026-11-25T14:17:07+01:00").unwrap(),
            1_795_612_627_000
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").unwrap(), 0);
        assert!(parse_rfc3339("2026-13-01T00:00:00Z").is_err());
        assert!(parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn postable_alerts_parse() {
        let a = parse_postable_alerts(
            r#"[{"labels":{"alertname":"X"},"annotations":{"summary":"s"},"startsAt":"2026-11-25T13:17:07.794Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://g"}]"#,
        )
        .unwrap();
        assert_eq!(a[0].starts_at, Some(1_795_612_627_794));
        assert_eq!(a[0].ends_at, None);
        assert_eq!(a[0].labels.get("alertname"), Some("X"));
        assert!(parse_postable_alerts("{").is_err());
    }
}

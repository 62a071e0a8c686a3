//! API v2 JSON against Alertmanager's own answer in shared/samples.

mod common;

use common::*;
use promplay_alertmanager::api::{
    alerts_json, parse_postable_alerts, parse_rfc3339, silences_json,
};
use promplay_alertmanager::matchers::{parse_matchers, Matchers};
use promplay_alertmanager::PostableSilence;

#[test]
fn alerts_json_matches_alertmanager() {
    let mut am = engine(&shared("peers/conf/alertmanager.yml"));
    // What Prometheus posted at 13:18:17.796 (its re-send of the firing alert).
    let posted = parse_postable_alerts(
        r#"[{"labels":{"alertname":"InstanceDown","instance":"localhost:9100","job":"node"},"annotations":{},"startsAt":"2026-11-25T13:17:07.794Z","endsAt":"2026-11-25T13:22:17.794Z","generatorURL":"http://vm:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"}]"#,
    )
    .unwrap();
    let now = parse_rfc3339("2026-11-25T13:18:17.796Z").unwrap();
    am.put_alerts(posted, now);
    let sample = shared("samples/am-api-v2-alerts-firing.json");
    assert_eq!(alerts_json(&am, now), sample.trim_end());
}

#[test]
fn silenced_alert_and_silence_json() {
    let mut am = engine(&shared("peers/conf/alertmanager.yml"));
    let now = T0;
    let id = am
        .silences_mut()
        .set(
            PostableSilence {
                id: None,
                matchers: Matchers::new(parse_matchers(r#"instance=~"localhost:.*""#).unwrap()),
                starts_at: now,
                ends_at: now + 3_600_000,
                created_by: "me".into(),
                comment: "upgrade".into(),
            },
            now,
        )
        .unwrap();
    am.put_alerts(vec![instance_down(now, Some(now + 300_000))], now);
    let j: serde_json::Value = serde_json::from_str(&alerts_json(&am, now + 1)).unwrap();
    assert_eq!(j[0]["status"]["state"], "suppressed");
    assert_eq!(j[0]["status"]["silencedBy"][0], id.as_str());
    let s: serde_json::Value = serde_json::from_str(&silences_json(&am, now + 1)).unwrap();
    assert_eq!(
        s[0],
        serde_json::json!({
            "id": id,
            "status": {"state": "active"},
            "updatedAt": "2026-11-25T13:15:56.656Z",
            "comment": "upgrade",
            "createdBy": "me",
            "endsAt": "2026-11-25T14:15:56.656Z",
            "matchers": [{"isEqual": true, "isRegex": true, "name": "instance", "value": "localhost:.*"}],
            "startsAt": "2026-11-25T13:15:56.656Z"
        })
    );
}

//! The Inbox page's view models: every notification the built-in Alertmanager sent (or failed
//! to send), newest first; one opened with its headers, bodies and the route each of its
//! alerts took through the routing tree (as `promplay routes test --tree` prints it, computed
//! by the alertmanager crate's route matching); and the notification log. Plain Rust.

use std::collections::BTreeMap;

use promplay_alertmanager::alert::{fingerprint_string, Alert};
use promplay_alertmanager::{test_routes, Notification, NotificationRecord, Payload};
use promplay_server::notifier::BuiltinAlertmanager;

use crate::playground::Playground;
use crate::time::format_utc;

/// A virtual time with milliseconds: `2026-01-01 00:01:41.537`.
pub fn format_time(ms: i64) -> String {
    format!("{}.{:03}", format_utc(ms), ms.rem_euclid(1000))
}

/// One line of the inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxItem {
    /// Identifies the notification: time, receiver, integration, index and group key.
    pub key: String,
    pub at_ms: i64,
    /// [`format_time`] of `at_ms`.
    pub time: String,
    pub receiver: String,
    /// `email` or `webhook`.
    pub integration: &'static str,
    /// The email's subject; for a webhook, `POST <url>`.
    pub subject: String,
    /// The envelope sender (email only).
    pub from: String,
    /// The envelope recipients, comma-separated (email), or the webhook URL.
    pub to: String,
    pub firing: usize,
    pub resolved: usize,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// One alert of an opened notification and the way it was routed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutedAlert {
    /// `{alertname="InstanceDown", …}`, or the fingerprint when the Alertmanager no longer
    /// holds the alert.
    pub labels: String,
    pub fingerprint: String,
    /// `firing` or `resolved` in the notification.
    pub status: &'static str,
    /// When it started firing ([`format_time`]), when known.
    pub starts: Option<String>,
    /// The receivers the routing tree sends it to now.
    pub receivers: Vec<String>,
    /// The IDs of the routes it matched (`{}` is the root route).
    pub route_ids: Vec<String>,
    /// The path through the routing tree, as `promplay routes test --tree` prints it.
    pub tree: String,
}

/// A notification opened: what the receiver got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxDetail {
    pub item: InboxItem,
    pub group_key: String,
    /// The message headers in order (email: as written before the body, `Date`, MIME
    /// headers included).
    pub headers: Vec<(String, String)>,
    pub html: Option<String>,
    pub text: Option<String>,
    /// The whole RFC 5322 message (email).
    pub raw: Option<String>,
    /// The JSON payload posted (webhook).
    pub json: Option<String>,
    pub alerts: Vec<RoutedAlert>,
}

/// One entry of the notification log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NflogRow {
    pub group_key: String,
    /// `example-email/email[0]`.
    pub receiver: String,
    /// When it was last notified.
    pub time: String,
    pub at_ms: i64,
    /// The alerts firing and resolved then (label sets).
    pub firing: Vec<String>,
    pub resolved: Vec<String>,
    /// When the entry is dropped (the log's retention).
    pub expires: String,
}

/// A notification or a failed attempt (which has no message).
enum Sent<'a> {
    Delivered(&'a Notification),
    Failed(&'a NotificationRecord),
}

fn builtin(p: &Playground) -> Option<&BuiltinAlertmanager> {
    p.stack().alertmanager.as_ref()
}

/// Everything sent, oldest first: the inbox's notifications and the failed attempts.
fn sent(b: &BuiltinAlertmanager) -> Vec<Sent<'_>> {
    let mut out: Vec<(i64, usize, Sent<'_>)> = b
        .inbox
        .notifications
        .iter()
        .enumerate()
        .map(|(i, n)| (n.at_ms, i, Sent::Delivered(n)))
        .collect();
    let base = out.len();
    out.extend(
        b.am.history()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.error.is_some())
            .map(|(i, r)| (r.at_ms, base + i, Sent::Failed(r))),
    );
    out.sort_by_key(|(t, i, _)| (*t, *i));
    out.into_iter().map(|(_, _, s)| s).collect()
}

fn key(at_ms: i64, receiver: &str, integration: &str, idx: usize, group_key: &str) -> String {
    format!("{at_ms}/{receiver}/{integration}[{idx}]/{group_key}")
}

fn item(s: &Sent<'_>) -> InboxItem {
    match s {
        Sent::Delivered(n) => {
            let (subject, from, to) = match &n.payload {
                Payload::Email(m) => (m.subject.clone(), m.from.clone(), m.to.join(", ")),
                Payload::Webhook(w) => {
                    let url = w
                        .url_file
                        .as_ref()
                        .map(|f| format!("(url_file {f})"))
                        .unwrap_or_else(|| w.url.clone());
                    (format!("POST {url}"), String::new(), url)
                }
            };
            InboxItem {
                key: key(n.at_ms, &n.receiver, n.integration, n.idx, &n.group_key),
                at_ms: n.at_ms,
                time: format_time(n.at_ms),
                receiver: n.receiver.clone(),
                integration: n.integration,
                subject,
                from,
                to,
                firing: n.firing.len(),
                resolved: n.resolved.len(),
                error: None,
            }
        }
        Sent::Failed(r) => InboxItem {
            key: key(r.at_ms, &r.receiver, r.integration, r.idx, &r.group_key),
            at_ms: r.at_ms,
            time: format_time(r.at_ms),
            receiver: r.receiver.clone(),
            integration: r.integration,
            subject: "(not sent)".into(),
            from: String::new(),
            to: String::new(),
            firing: r.firing.len(),
            resolved: r.resolved.len(),
            error: r.error.clone(),
        },
    }
}

/// The inbox, newest first.
pub fn items(p: &Playground) -> Vec<InboxItem> {
    let Some(b) = builtin(p) else {
        return Vec::new();
    };
    let mut v: Vec<InboxItem> = sent(b).iter().map(item).collect();
    v.reverse();
    v
}

/// The alerts the Alertmanager holds, by fingerprint.
fn alerts_by_fp(b: &BuiltinAlertmanager) -> BTreeMap<u64, &Alert> {
    b.am.alerts().map(|a| (a.fingerprint(), a)).collect()
}

fn label_set(alerts: &BTreeMap<u64, &Alert>, fp: u64) -> String {
    alerts
        .get(&fp)
        .map(|a| a.labels.to_string())
        .unwrap_or_else(|| format!("(alert {} no longer held)", fingerprint_string(fp)))
}

/// The notification with `key`, opened.
pub fn detail(p: &Playground, key_: &str) -> Option<InboxDetail> {
    let b = builtin(p)?;
    let all = sent(b);
    let s = all.iter().find(|s| item(s).key == key_)?;
    let alerts = alerts_by_fp(b);
    let (group_key, firing, resolved) = match s {
        Sent::Delivered(n) => (n.group_key.clone(), &n.firing, &n.resolved),
        Sent::Failed(r) => (r.group_key.clone(), &r.firing, &r.resolved),
    };
    let routed = firing
        .iter()
        .map(|fp| (*fp, "firing"))
        .chain(resolved.iter().map(|fp| (*fp, "resolved")))
        .map(|(fp, status)| {
            let a = alerts.get(&fp);
            let (receivers, route_ids, tree) = match a {
                Some(a) => {
                    let t = test_routes(b.am.route(), &a.labels);
                    (t.receivers, t.route_ids, t.tree)
                }
                None => (Vec::new(), Vec::new(), String::new()),
            };
            RoutedAlert {
                labels: label_set(&alerts, fp),
                fingerprint: fingerprint_string(fp),
                status,
                starts: a.map(|a| format_time(a.starts_at)),
                receivers,
                route_ids,
                tree,
            }
        })
        .collect();
    let mut d = InboxDetail {
        item: item(s),
        group_key,
        headers: Vec::new(),
        html: None,
        text: None,
        raw: None,
        json: None,
        alerts: routed,
    };
    if let Sent::Delivered(n) = s {
        match &n.payload {
            Payload::Email(m) => {
                d.headers = header_block(&m.raw);
                d.html = m.html.clone();
                d.text = m.text.clone();
                d.raw = Some(m.raw.replace("\r\n", "\n"));
            }
            Payload::Webhook(w) => {
                d.headers = vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("User-Agent".into(), "Alertmanager/0.25.0".into()),
                ];
                d.json = Some(w.body.clone());
            }
        }
    }
    Some(d)
}

/// The header fields of an RFC 5322 message (up to the first empty line; folded lines joined).
fn header_block(raw: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in raw.split("\r\n") {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.to_string(), v.trim_start().to_string()));
        }
    }
    out
}

/// The notification log, most recently notified first.
pub fn nflog(p: &Playground) -> Vec<NflogRow> {
    let Some(b) = builtin(p) else {
        return Vec::new();
    };
    let alerts = alerts_by_fp(b);
    let mut v: Vec<NflogRow> =
        b.am.notification_log()
            .entries()
            .map(|e| NflogRow {
                group_key: e.group_key.clone(),
                receiver: format!(
                    "{}/{}[{}]",
                    e.receiver.group_name, e.receiver.integration, e.receiver.idx
                ),
                time: format_time(e.timestamp),
                at_ms: e.timestamp,
                firing: e
                    .firing_alerts
                    .iter()
                    .map(|fp| label_set(&alerts, *fp))
                    .collect(),
                resolved: e
                    .resolved_alerts
                    .iter()
                    .map(|fp| label_set(&alerts, *fp))
                    .collect(),
                expires: format_time(e.expires_at),
            })
            .collect();
    v.sort_by(|a, b| {
        b.at_ms
            .cmp(&a.at_ms)
            .then_with(|| a.group_key.cmp(&b.group_key))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::HostAction;

    fn firing_time(p: &Playground, since: i64) -> i64 {
        p.stack()
            .prometheus
            .alert_log()
            .iter()
            .find(|t| t.rule == "InstanceDown" && t.state.as_str() == "firing" && t.at_ms >= since)
            .map(|t| t.at_ms)
            .expect("the alert fired")
    }

    #[test]
    fn the_seed_alert_email_lands_group_wait_after_firing_through_the_root_route() {
        let mut p = Playground::new();
        assert!(items(&p).is_empty());
        assert!(nflog(&p).is_empty());
        let stop = p.now_ms();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(180_000);
        let firing = firing_time(&p, stop);
        let list = items(&p);
        assert_eq!(list.len(), 1, "{list:?}");
        let it = &list[0];
        assert_eq!(it.subject, "[FIRING:1]  (InstanceDown localhost:9100 node)");
        assert_eq!(it.receiver, "example-email");
        assert_eq!(it.integration, "email");
        assert_eq!(it.from, "alertmanager@example.org");
        assert_eq!(it.to, "youraddress@example.org");
        assert_eq!(it.at_ms, firing + 30_000, "group_wait after firing");
        // The real stack's story: pending ≤ 20 s after the stop, firing 60 s later, email 30 s
        // after that.
        assert!(
            (90_000..=110_000).contains(&(it.at_ms - stop)),
            "{}",
            it.at_ms - stop
        );
        assert_eq!(it.time, format_time(it.at_ms));
        assert_eq!((it.firing, it.resolved), (1, 0));
        assert!(it.error.is_none());

        let d = detail(&p, &it.key).unwrap();
        // The seed route has no group_by: one group with no labels.
        assert_eq!(d.group_key, "{}:{}");
        let h = |k: &str| {
            d.headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {k} in {:?}", d.headers))
        };
        assert_eq!(h("Subject"), it.subject);
        assert_eq!(h("To"), "youraddress@example.org");
        assert_eq!(h("From"), "alertmanager@example.org");
        assert!(h("Date").ends_with("+0000"), "{}", h("Date"));
        assert!(h("Content-Type").starts_with("multipart/alternative"));
        let html = d.html.as_deref().unwrap();
        assert!(
            html.contains("InstanceDown") && html.contains("<html"),
            "{html}"
        );
        assert!(d.raw.as_deref().unwrap().starts_with("Subject: [FIRING:1]"));
        assert!(d.json.is_none());
        assert_eq!(d.alerts.len(), 1);
        let a = &d.alerts[0];
        assert_eq!(
            a.labels,
            r#"{alertname="InstanceDown", instance="localhost:9100", job="node"}"#
        );
        assert_eq!(a.status, "firing");
        assert_eq!(a.starts.as_deref(), Some(format_time(firing).as_str()));
        assert_eq!(a.receivers, ["example-email"]);
        // The root route: the seed's alertmanager.yml has no child routes.
        assert_eq!(a.route_ids, ["{}"]);
        assert_eq!(
            a.tree,
            "Matching routes:\n.\n└── default-route  receiver: example-email\n\n\n"
        );
        assert!(detail(&p, "nope").is_none());

        let log = nflog(&p);
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].receiver, "example-email/email[0]");
        assert_eq!(log[0].group_key, d.group_key);
        assert_eq!(log[0].at_ms, it.at_ms);
        assert_eq!(log[0].firing, vec![a.labels.clone()]);
        assert!(log[0].resolved.is_empty());
        assert_eq!(log[0].expires, format_time(it.at_ms + 120 * 3_600_000));

        // Deduplicated: another 10 minutes bring no second email (repeat_interval is 4h).
        p.advance(600_000);
        assert_eq!(items(&p).len(), 1);
    }

    #[test]
    fn a_webhook_shows_its_payload_and_a_child_route_its_path() {
        let mut p = Playground::new();
        let am = "route:\n  receiver: mail\n  routes:\n    - matchers: ['job=\"node\"']\n      receiver: hook\n      group_wait: 5s\nreceivers:\n  - name: mail\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:5001/\n";
        p.apply_alertmanager(am).unwrap();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(150_000);
        let list = items(&p);
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].subject, "POST http://127.0.0.1:5001/");
        assert_eq!(list[0].integration, "webhook");
        let d = detail(&p, &list[0].key).unwrap();
        let json = d.json.unwrap();
        assert!(json.starts_with("{\"receiver\":\"hook\""), "{json}");
        assert!(json.contains("\"alertname\":\"InstanceDown\""), "{json}");
        assert!(d.html.is_none() && d.raw.is_none());
        assert_eq!(d.alerts[0].receivers, ["hook"]);
        assert_eq!(d.alerts[0].route_ids, ["{}/{job=\"node\"}/0"]);
        assert_eq!(
            d.alerts[0].tree,
            "Matching routes:\n.\n└── default-route\n    └── {job=\"node\"}  receiver: hook\n\n\n"
        );
    }

    #[test]
    fn a_failed_notification_shows_its_error() {
        let mut p = Playground::new();
        let am = "route:\n  receiver: bad\n  group_wait: 5s\nreceivers:\n  - name: bad\n    email_configs:\n      - to: 'someone@example.org'\n        from: 'not an address'\n        smarthost: '127.0.0.1:2525'\n        require_tls: false\n";
        p.apply_alertmanager(am).unwrap();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(150_000);
        let list = items(&p);
        assert!(!list.is_empty(), "a failed attempt is listed");
        let e = list[0].error.as_deref().expect("an error");
        assert!(e.contains("from"), "{e}");
        assert_eq!(list[0].subject, "(not sent)");
        let d = detail(&p, &list[0].key).unwrap();
        assert_eq!(d.item.error, list[0].error);
        assert!(d.headers.is_empty() && d.raw.is_none());
        assert_eq!(d.alerts.len(), 1);
        // Nothing was delivered, so nothing is logged: the next flush retries.
        assert!(nflog(&p).is_empty());
    }

    #[test]
    fn headers_and_times() {
        assert_eq!(
            header_block("A: 1\r\nB: x\r\n  y\r\n\r\nbody: no\r\n"),
            [("A".into(), "1".into()), ("B".into(), "x y".into())]
        );
        assert_eq!(format_time(1_767_225_600_537), "2026-01-01 00:00:00.537");
    }
}

//! Prometheus's notifier (`notifier/manager.go`): alerts from the rule manager become
//! Alertmanager API v2 postable alerts — external labels added, `alerting.alert_relabel_configs`
//! applied, queued (capacity `--alertmanager.notification-queue-capacity`, oldest dropped), then
//! posted in batches of at most 256 to every configured Alertmanager, each with its own
//! `alert_relabel_configs`.
//!
//! The resend delay (`--rules.alert.resend-delay`) belongs to the rule manager (an alert is
//! handed over again only after it); `startsAt` is the alert's `FiredAt`, `endsAt` its
//! `ResolvedAt` or `ValidUntil`, as `rules.SendAlerts` sets them.
//!
//! No I/O: delivery goes through the host's [`AlertSink`] — the built-in Alertmanager
//! ([`BuiltinAlertmanager`]) in the playground and `promplay sim`, HTTP in the companion.

use std::collections::{BTreeMap, VecDeque};

use promplay_alertmanager::{Alertmanager, Notification, Notifier, NotifyError, PostableAlert};
use promplay_model::Labels;
use promplay_rules::NotifierAlert;

use crate::alerting::{static_alertmanagers, AlertmanagerTarget};
use crate::config::{AlertmanagerConfig, Config};
use crate::relabel::{process_builder, NameValidationScheme, RelabelConfig};

/// `maxBatchSize`: alerts per POST.
pub const MAX_BATCH_SIZE: usize = 256;
/// `--alertmanager.notification-queue-capacity` default.
pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;

/// Where alerts are posted: the built-in Alertmanager, or the host's HTTP client. A sink that
/// has timers of its own (an Alertmanager's group waits) reports them through
/// [`next_wakeup`](AlertSink::next_wakeup) so the server steps them in time order.
pub trait AlertSink {
    /// `POST url` (`…/api/v2/alerts`) of `alerts` at `now_ms`; `Err` is the failure's message.
    fn post(&mut self, url: &str, alerts: &[PostableAlert], now_ms: i64) -> Result<(), String>;
    /// The next instant the sink has work of its own, if any.
    fn next_wakeup(&self) -> Option<i64> {
        None
    }
    /// Runs the sink's own work due at or before `now_ms`.
    fn advance_to(&mut self, _now_ms: i64) {}
}

/// No Alertmanager listening: every post fails as a refused connection would.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAlertmanager;

impl AlertSink for NoAlertmanager {
    fn post(&mut self, url: &str, _alerts: &[PostableAlert], _now_ms: i64) -> Result<(), String> {
        Err(format!(
            "Post \"{url}\": dial tcp: connect: connection refused"
        ))
    }
}

/// Collects notifications as a mailbox does (every delivery succeeds).
#[derive(Clone, Debug, Default)]
pub struct Inbox {
    pub notifications: Vec<Notification>,
}

impl Notifier for Inbox {
    fn notify(&mut self, n: &Notification) -> Result<(), NotifyError> {
        self.notifications.push(n.clone());
        Ok(())
    }
}

/// The engine Alertmanager as the sink of every configured Alertmanager URL, its
/// notifications collected in an [`Inbox`].
pub struct BuiltinAlertmanager {
    pub am: Alertmanager,
    pub inbox: Inbox,
    /// When each post arrived (ms) and how many alerts it carried.
    pub received: Vec<(i64, usize)>,
}

impl BuiltinAlertmanager {
    pub fn new(am: Alertmanager) -> Self {
        BuiltinAlertmanager {
            am,
            inbox: Inbox::default(),
            received: Vec::new(),
        }
    }
}

impl AlertSink for BuiltinAlertmanager {
    fn post(&mut self, _url: &str, alerts: &[PostableAlert], now_ms: i64) -> Result<(), String> {
        // The Alertmanager's own timers up to now run first, then the alerts arrive.
        self.am.advance_to(now_ms, &mut self.inbox);
        let res = self.am.put_alerts(alerts.to_vec(), now_ms);
        self.received.push((now_ms, alerts.len()));
        match res.into_iter().find_map(|r| r.err()) {
            Some(e) => Err(e.to_string()),
            None => Ok(()),
        }
    }

    fn next_wakeup(&self) -> Option<i64> {
        self.am.next_wakeup()
    }

    fn advance_to(&mut self, now_ms: i64) {
        self.am.advance_to(now_ms, &mut self.inbox);
    }
}

/// One configured Alertmanager set (`alerting.alertmanagers[i]`) and its targets.
#[derive(Clone, Debug)]
pub struct AlertmanagerSet {
    pub config: AlertmanagerConfig,
    pub active: Vec<AlertmanagerTarget>,
    pub dropped: Vec<Labels>,
}

/// The notifier's counters (`prometheus_notifications_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifierStats {
    /// `prometheus_notifications_sent_total`, per Alertmanager URL.
    pub sent: BTreeMap<String, u64>,
    /// `prometheus_notifications_errors_total`, per Alertmanager URL.
    pub errors: BTreeMap<String, u64>,
    /// `prometheus_notifications_dropped_total`.
    pub dropped: u64,
}

/// A post the notifier made, for display (most recent last, bounded).
#[derive(Clone, Debug, PartialEq)]
pub struct SentBatch {
    pub at_ms: i64,
    pub url: String,
    pub alerts: Vec<PostableAlert>,
    pub error: Option<String>,
}

/// How many [`SentBatch`]es are kept.
pub const SENT_LOG_LIMIT: usize = 1000;

/// Prometheus's notifier manager.
pub struct NotifierManager {
    external_labels: Labels,
    relabel_configs: Vec<RelabelConfig>,
    scheme: NameValidationScheme,
    sets: Vec<AlertmanagerSet>,
    queue: VecDeque<PostableAlert>,
    pub capacity: usize,
    stats: NotifierStats,
    log: VecDeque<SentBatch>,
}

impl NotifierManager {
    /// A notifier for `config`'s `alerting` section and external labels. Returns it and the
    /// Alertmanager sets that could not be built (`"x" is not a valid hostname`).
    pub fn new(config: &Config) -> (NotifierManager, Vec<String>) {
        let mut n = NotifierManager {
            external_labels: Labels::default(),
            relabel_configs: Vec::new(),
            scheme: NameValidationScheme::Utf8,
            sets: Vec::new(),
            queue: VecDeque::new(),
            capacity: DEFAULT_QUEUE_CAPACITY,
            stats: NotifierStats::default(),
            log: VecDeque::new(),
        };
        let errs = n.apply_config(config);
        (n, errs)
    }

    /// Applies a configuration (a reload); queued alerts are kept.
    pub fn apply_config(&mut self, config: &Config) -> Vec<String> {
        self.external_labels = config.global.external_label_set();
        self.relabel_configs = config.alerting.alert_relabel_configs.clone();
        self.scheme = config.global.name_validation_scheme();
        let mut errs = Vec::new();
        self.sets.clear();
        for (i, c) in config.alerting.alertmanagers.iter().enumerate() {
            match static_alertmanagers(c) {
                Ok((active, dropped)) => self.sets.push(AlertmanagerSet {
                    config: c.clone(),
                    active,
                    dropped,
                }),
                Err(e) => errs.push(format!("alertmanager set config/{i}: {e}")),
            }
        }
        errs
    }

    pub fn alertmanager_sets(&self) -> &[AlertmanagerSet] {
        &self.sets
    }

    /// The URLs alerts go to (`/api/v1/alertmanagers`' active list).
    pub fn alertmanager_urls(&self) -> Vec<String> {
        self.sets
            .iter()
            .flat_map(|s| s.active.iter().map(|t| t.url()))
            .collect()
    }

    pub fn stats(&self) -> &NotifierStats {
        &self.stats
    }

    /// Posts made so far (bounded), oldest first.
    pub fn sent_log(&self) -> impl Iterator<Item = &SentBatch> {
        self.log.iter()
    }

    /// Alerts waiting to be sent.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// `Manager.Send`: external labels and relabeling, then into the queue (the oldest
    /// dropped beyond capacity).
    pub fn send(&mut self, alerts: &[NotifierAlert]) {
        let mut out: Vec<PostableAlert> = alerts
            .iter()
            .filter_map(|a| {
                let labels = relabel_alert(
                    &a.labels,
                    &self.external_labels,
                    &self.relabel_configs,
                    self.scheme,
                )?;
                Some(PostableAlert {
                    labels,
                    annotations: a.annotations.clone(),
                    starts_at: Some(a.starts_at),
                    ends_at: Some(a.ends_at),
                    generator_url: a.generator_url.clone(),
                })
            })
            .collect();
        if out.len() > self.capacity {
            let d = out.len() - self.capacity;
            out.drain(..d);
            self.stats.dropped += d as u64;
        }
        let overflow = (self.queue.len() + out.len()).saturating_sub(self.capacity);
        if overflow > 0 {
            self.queue.drain(..overflow);
            self.stats.dropped += overflow as u64;
        }
        self.queue.extend(out);
    }

    /// `sendAll` until the queue is empty: batches of at most [`MAX_BATCH_SIZE`] to every
    /// active Alertmanager, each set's `alert_relabel_configs` applied. Without any
    /// Alertmanager the alerts are discarded, as upstream.
    pub fn flush(&mut self, now_ms: i64, sink: &mut dyn AlertSink) {
        while !self.queue.is_empty() {
            let n = self.queue.len().min(MAX_BATCH_SIZE);
            let batch: Vec<PostableAlert> = self.queue.drain(..n).collect();
            for si in 0..self.sets.len() {
                let set = &self.sets[si];
                if set.active.is_empty() {
                    continue;
                }
                let alerts: Vec<PostableAlert> = if set.config.alert_relabel_configs.is_empty() {
                    batch.clone()
                } else {
                    batch
                        .iter()
                        .filter_map(|a| {
                            let labels = relabel_alert(
                                &a.labels,
                                &Labels::default(),
                                &set.config.alert_relabel_configs,
                                self.scheme,
                            )?;
                            Some(PostableAlert {
                                labels,
                                ..a.clone()
                            })
                        })
                        .collect()
                };
                if alerts.is_empty() {
                    continue;
                }
                let urls: Vec<String> = set.active.iter().map(|t| t.url()).collect();
                for url in urls {
                    let res = sink.post(&url, &alerts, now_ms);
                    let count = alerts.len() as u64;
                    match &res {
                        Ok(()) => *self.stats.sent.entry(url.clone()).or_default() += count,
                        Err(_) => {
                            *self.stats.errors.entry(url.clone()).or_default() += count;
                            *self.stats.sent.entry(url.clone()).or_default() += count;
                        }
                    }
                    if self.log.len() >= SENT_LOG_LIMIT {
                        self.log.pop_front();
                    }
                    self.log.push_back(SentBatch {
                        at_ms: now_ms,
                        url,
                        alerts: alerts.clone(),
                        error: res.err(),
                    });
                }
            }
        }
    }
}

/// `relabelAlerts` for one alert: external labels added where the alert has no such label,
/// then relabeling; `None` when dropped or left without labels.
fn relabel_alert(
    labels: &Labels,
    external: &Labels,
    cfgs: &[RelabelConfig],
    scheme: NameValidationScheme,
) -> Option<Labels> {
    let mut lb = labels.builder();
    for l in external.iter() {
        if !labels.has(&l.name) {
            lb.set(l.name.clone(), l.value.clone());
        }
    }
    if !process_builder(&mut lb, cfgs, scheme) {
        return None;
    }
    let out = lb.labels();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Vec<(String, Vec<PostableAlert>, i64)>);

    impl AlertSink for Recorder {
        fn post(&mut self, url: &str, a: &[PostableAlert], now: i64) -> Result<(), String> {
            self.0.push((url.to_string(), a.to_vec(), now));
            Ok(())
        }
    }

    fn alert(name: &str, instance: &str) -> NotifierAlert {
        NotifierAlert {
            labels: Labels::from_pairs(&[("alertname", name), ("instance", instance)]),
            annotations: Labels::default(),
            starts_at: 1_000,
            ends_at: 241_000,
            generator_url: "http://p/graph".into(),
        }
    }

    #[test]
    fn external_labels_relabeling_and_per_set_relabeling() {
        let cfg = Config::load(concat!(
            "global:\n  external_labels:\n    region: eu\n    instance: ext\n",
            "alerting:\n  alert_relabel_configs:\n    - source_labels: [instance]\n      regex: drop.*\n      action: drop\n",
            "  alertmanagers:\n    - static_configs:\n        - targets: ['a:9093']\n",
            "    - alert_relabel_configs:\n        - target_label: team\n          replacement: ops\n",
            "      static_configs:\n        - targets: ['b:9093', 'c:9093']\n",
        ))
        .unwrap();
        let (mut n, errs) = NotifierManager::new(&cfg);
        assert!(errs.is_empty());
        n.send(&[alert("A", "x:1"), alert("B", "drop:1")]);
        assert_eq!(n.queue_len(), 1);
        let mut rec = Recorder::default();
        n.flush(5_000, &mut rec);
        assert_eq!(n.queue_len(), 0);
        let urls: Vec<&str> = rec.0.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://a:9093/api/v2/alerts",
                "http://b:9093/api/v2/alerts",
                "http://c:9093/api/v2/alerts"
            ]
        );
        // The alert's own instance wins over the external one.
        assert_eq!(
            rec.0[0].1[0].labels.to_string(),
            r#"{alertname="A", instance="x:1", region="eu"}"#
        );
        assert_eq!(
            rec.0[1].1[0].labels.to_string(),
            r#"{alertname="A", instance="x:1", region="eu", team="ops"}"#
        );
        assert_eq!(rec.0[0].1[0].starts_at, Some(1_000));
        assert_eq!(rec.0[0].1[0].ends_at, Some(241_000));
        assert_eq!(rec.0[0].2, 5_000);
        assert_eq!(n.stats().sent["http://b:9093/api/v2/alerts"], 1);
    }

    #[test]
    fn the_queue_drops_the_oldest_and_batches_by_256() {
        let cfg = Config::load(
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['a:9093']\n",
        )
        .unwrap();
        let (mut n, _) = NotifierManager::new(&cfg);
        n.capacity = 300;
        let many: Vec<NotifierAlert> = (0..400).map(|i| alert("A", &i.to_string())).collect();
        n.send(&many);
        assert_eq!(n.stats().dropped, 100);
        n.send(&many[..10]);
        assert_eq!(n.stats().dropped, 110);
        let mut rec = Recorder::default();
        n.flush(0, &mut rec);
        let sizes: Vec<usize> = rec.0.iter().map(|p| p.1.len()).collect();
        assert_eq!(sizes, [256, 44]);
        // The oldest were dropped: the first alert left is instance 110.
        assert_eq!(rec.0[0].1[0].labels.get("instance"), Some("110"));
    }

    #[test]
    fn without_alertmanagers_alerts_are_discarded_and_refused_posts_count_as_errors() {
        let (mut n, _) = NotifierManager::new(&Config::load("").unwrap());
        n.send(&[alert("A", "x")]);
        let mut rec = Recorder::default();
        n.flush(0, &mut rec);
        assert!(rec.0.is_empty());
        assert_eq!(n.queue_len(), 0);
        let cfg = Config::load(
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['a:9093']\n",
        )
        .unwrap();
        n.apply_config(&cfg);
        n.send(&[alert("A", "x")]);
        n.flush(0, &mut NoAlertmanager);
        assert_eq!(n.stats().errors["http://a:9093/api/v2/alerts"], 1);
        assert!(n.sent_log().last().unwrap().error.is_some());
    }
}

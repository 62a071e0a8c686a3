//! The engine: alert store, dispatcher with aggregation groups and their timers, and the
//! notification pipeline (inhibition → time intervals → silences → per-integration dedup
//! against the notification log → delivery through the host's [`Notifier`]).
//!
//! Time is explicit. Alerts arrive with [`Alertmanager::put_alerts`] at a given `now`; the host
//! asks [`Alertmanager::next_wakeup`] when a group timer fires next and calls
//! [`Alertmanager::advance_to`], which runs every flush due up to that time in order, each at
//! its scheduled instant. Call `advance_to(now)` before `put_alerts(.., now)` so flushes due
//! earlier do not see alerts from their future.
//!
//! Deliberate simplifications (deterministic where Alertmanager is timing-dependent): an
//! aggregation group is removed as soon as a flush leaves it empty (Alertmanager does it in a
//! maintenance pass every 30 s); a failed delivery is not retried within the flush, it is
//! retried at the next `group_interval` because the notification log was not updated.

use std::collections::{BTreeMap, BTreeSet};

use promplay_model::Labels;

use crate::alert::{compare_alerts, fingerprint, Alert, AlertError, PostableAlert};
use crate::config::{Config, ConfigError};
use crate::inhibit::{Inhibitor, PreparedInhibitor};
use crate::nflog::{needs_update, NotificationLog, ReceiverKey, DEFAULT_RETENTION_MS};
use crate::notify::{
    build_email, template_data, webhook_body, EmailContext, Notification, Notifier, Payload,
    WebhookMessage,
};
use crate::route::{Route, RouteOpts};
use crate::silence::Silences;
use crate::template::{Template, TemplateError};
use crate::timeinterval::TimeInterval;

/// Settings of the engine that are not in the configuration file.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--web.external-url` (no trailing slash), used in templates and webhook payloads.
    pub external_url: String,
    /// The host name in email `Message-Id`s.
    pub hostname: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            external_url: "http://localhost:9093".into(),
            hostname: "localhost".into(),
        }
    }
}

/// An aggregation group: the alerts of one route with one set of group labels.
#[derive(Clone, Debug)]
pub struct AggrGroup {
    pub route_id: String,
    pub opts: RouteOpts,
    pub labels: Labels,
    /// `Route.Key() + ":" + labels`, the group key in the notification log and webhooks.
    pub key: String,
    pub alerts: BTreeMap<u64, Alert>,
    /// When the group's timer fires next (ms).
    pub next_flush: i64,
    pub has_flushed: bool,
}

/// What happened to one notification attempt (kept for display, most recent last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRecord {
    pub at_ms: i64,
    pub receiver: String,
    pub integration: &'static str,
    pub idx: usize,
    pub group_key: String,
    pub firing: Vec<u64>,
    pub resolved: Vec<u64>,
    /// `None` when delivered.
    pub error: Option<String>,
}

/// An alert's state as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertStatus {
    /// `active`, `suppressed` or `unprocessed`.
    pub state: &'static str,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
}

/// How many notification records are kept.
pub const HISTORY_LIMIT: usize = 1000;
/// Resolved alerts are garbage-collected this often (`--alerts.gc-interval`).
pub const ALERT_GC_INTERVAL_MS: i64 = 30 * 60_000;

type GroupId = (String, Labels);

/// An Alertmanager.
pub struct Alertmanager {
    config: Config,
    route: Route,
    template: Template,
    inhibitor: Inhibitor,
    time_intervals: BTreeMap<String, Vec<TimeInterval>>,
    opts: Options,
    alerts: BTreeMap<u64, Alert>,
    groups: BTreeMap<GroupId, AggrGroup>,
    silences: Silences,
    nflog: NotificationLog,
    history: Vec<NotificationRecord>,
    now: i64,
    last_gc: i64,
}

/// Errors building an engine from a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    Config(ConfigError),
    Template { file: String, error: TemplateError },
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Config(e) => write!(f, "{e}"),
            EngineError::Template { file, error } => write!(f, "{file}: {error}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// Parses Alertmanager's default templates and then the given template files, in order.
pub fn load_templates(files: &[(String, String)]) -> Result<Template, EngineError> {
    let mut t = Template::with_defaults();
    for (name, src) in files {
        t.parse(name, src).map_err(|error| EngineError::Template {
            file: name.clone(),
            error,
        })?;
    }
    Ok(t)
}

impl Alertmanager {
    /// Builds an engine. `templates` are the contents of the files the config's `templates`
    /// globs name (the host reads them), as (file name, contents).
    pub fn new(
        config: Config,
        templates: &[(String, String)],
        opts: Options,
        now: i64,
    ) -> Result<Alertmanager, EngineError> {
        let parts = Self::parts(&config, templates)?;
        Ok(Alertmanager {
            route: parts.0,
            template: parts.1,
            inhibitor: parts.2,
            time_intervals: config.named_time_intervals(),
            config,
            opts,
            alerts: BTreeMap::new(),
            groups: BTreeMap::new(),
            silences: Silences::new(),
            nflog: NotificationLog::new(),
            history: Vec::new(),
            now,
            last_gc: now,
        })
    }

    fn parts(
        config: &Config,
        templates: &[(String, String)],
    ) -> Result<(Route, Template, Inhibitor), EngineError> {
        let root = config.route.as_ref().ok_or_else(|| {
            EngineError::Config(ConfigError {
                line: None,
                column: None,
                message: "no routes provided".into(),
            })
        })?;
        let route = Route::new(root).map_err(EngineError::Config)?;
        let template = load_templates(templates)?;
        let inhibitor = Inhibitor::new(&config.inhibit_rules).map_err(EngineError::Config)?;
        Ok((route, template, inhibitor))
    }

    /// Applies a new configuration (a reload): alerts, silences and the notification log are
    /// kept; aggregation groups are rebuilt from the stored alerts.
    pub fn apply_config(
        &mut self,
        config: Config,
        templates: &[(String, String)],
        now: i64,
    ) -> Result<(), EngineError> {
        let (route, template, inhibitor) = Self::parts(&config, templates)?;
        self.route = route;
        self.template = template;
        self.inhibitor = inhibitor;
        self.time_intervals = config.named_time_intervals();
        self.config = config;
        self.groups.clear();
        let alerts: Vec<Alert> = self.alerts.values().cloned().collect();
        for a in alerts {
            if !a.resolved_at(now) {
                self.dispatch(&a, now);
            }
        }
        Ok(())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn route(&self) -> &Route {
        &self.route
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    pub fn silences(&self) -> &Silences {
        &self.silences
    }

    pub fn silences_mut(&mut self) -> &mut Silences {
        &mut self.silences
    }

    pub fn notification_log(&self) -> &NotificationLog {
        &self.nflog
    }

    /// Notification attempts, oldest first (at most [`HISTORY_LIMIT`]).
    pub fn history(&self) -> &[NotificationRecord] {
        &self.history
    }

    /// The aggregation groups, ordered by route and labels.
    pub fn groups(&self) -> impl Iterator<Item = &AggrGroup> {
        self.groups.values()
    }

    /// Every stored alert (firing and resolved-but-not-yet-collected).
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    /// The receivers an alert with `labels` is routed to.
    pub fn receivers_for(&self, labels: &Labels) -> Vec<String> {
        self.route
            .match_labels(labels)
            .iter()
            .map(|r| r.opts.receiver.clone())
            .collect()
    }

    /// Silenced/inhibited state of a label set at `now`.
    pub fn status(&self, labels: &Labels, now: i64) -> AlertStatus {
        let silenced_by = self.silences.muted_by(labels, now);
        let inhibited_by: Vec<String> = self
            .inhibitor
            .mutes(labels, self.alerts.values(), now)
            .map(|fp| vec![crate::alert::fingerprint_string(fp)])
            .unwrap_or_default();
        let state = if !silenced_by.is_empty() || !inhibited_by.is_empty() {
            "suppressed"
        } else {
            "active"
        };
        AlertStatus {
            state,
            silenced_by,
            inhibited_by,
        }
    }

    /// The status of every stored alert that is not resolved at `now`, ordered by
    /// fingerprint (the inhibition index is built once).
    pub fn alert_statuses(&self, now: i64) -> Vec<(&Alert, AlertStatus)> {
        let prepared = self.inhibitor.prepare(self.alerts.values(), now);
        self.alerts
            .values()
            .filter(|a| !a.resolved_at(now))
            .map(|a| {
                let silenced_by = self.silences.muted_by(&a.labels, now);
                let inhibited_by: Vec<String> = prepared
                    .mutes(&a.labels)
                    .map(|fp| vec![crate::alert::fingerprint_string(fp)])
                    .unwrap_or_default();
                let state = if !silenced_by.is_empty() || !inhibited_by.is_empty() {
                    "suppressed"
                } else {
                    "active"
                };
                (
                    a,
                    AlertStatus {
                        state,
                        silenced_by,
                        inhibited_by,
                    },
                )
            })
            .collect()
    }

    /// Receives alerts (`POST /api/v2/alerts`) at `now`. Returns, per alert, its fingerprint or
    /// why it was refused.
    pub fn put_alerts(
        &mut self,
        alerts: Vec<PostableAlert>,
        now: i64,
    ) -> Vec<Result<u64, AlertError>> {
        let rt = self.config.global.resolve_timeout.as_millis();
        let mut out = Vec::with_capacity(alerts.len());
        for p in alerts {
            let a = match Alert::from_postable(p, now, rt) {
                Ok(a) => a,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            let fp = a.fingerprint();
            let merged = match self.alerts.get(&fp) {
                Some(old) if overlaps(old, &a) => old.merge(&a, now),
                _ => a,
            };
            self.alerts.insert(fp, merged.clone());
            self.dispatch(&merged, now);
            out.push(Ok(fp));
        }
        self.now = self.now.max(now);
        out
    }

    fn dispatch(&mut self, a: &Alert, now: i64) {
        let fp = a.fingerprint();
        let targets: Vec<(String, String, RouteOpts, Labels)> = self
            .route
            .match_labels(&a.labels)
            .into_iter()
            .map(|r| {
                (
                    r.id.clone(),
                    r.key.clone(),
                    r.opts.clone(),
                    r.group_labels(&a.labels),
                )
            })
            .collect();
        for (id, key, opts, labels) in targets {
            let gid = (id.clone(), labels.clone());
            let g = self.groups.entry(gid).or_insert_with(|| AggrGroup {
                route_id: id,
                key: format!("{key}:{labels}"),
                next_flush: now + opts.group_wait.as_millis(),
                opts,
                labels,
                alerts: BTreeMap::new(),
                has_flushed: false,
            });
            g.alerts.insert(fp, a.clone());
            if !g.has_flushed && a.starts_at + g.opts.group_wait.as_millis() < now {
                g.next_flush = g.next_flush.min(now);
            }
        }
    }

    /// When the next group timer fires, if any group exists.
    pub fn next_wakeup(&self) -> Option<i64> {
        self.groups.values().map(|g| g.next_flush).min()
    }

    /// Runs every flush due at or before `now`, in time order, each at its scheduled time.
    /// Returns the notifications delivered or attempted, in order.
    pub fn advance_to(&mut self, now: i64, notifier: &mut dyn Notifier) -> Vec<Notification> {
        let mut sent = Vec::new();
        // Bounded: each flush moves a group's timer forward by group_interval (> 0).
        let mut budget: usize = 1_000_000;
        while budget > 0 {
            budget -= 1;
            let Some(t) = self
                .groups
                .values()
                .map(|g| g.next_flush)
                .filter(|t| *t <= now)
                .min()
            else {
                break;
            };
            // Every group due at `t`, in key order; flushes do not change the alert store, so
            // the inhibitor's index is built once for all of them.
            let due: Vec<GroupId> = self
                .groups
                .iter()
                .filter(|(_, g)| g.next_flush == t)
                .map(|(k, _)| k.clone())
                .collect();
            let prepared = (!self.inhibitor.rules.is_empty())
                .then(|| self.inhibitor.prepare(self.alerts.values(), t));
            for gid in due {
                self.flush(&gid, t, notifier, &mut sent, prepared.as_ref());
            }
        }
        self.now = self.now.max(now);
        if now - self.last_gc >= ALERT_GC_INTERVAL_MS {
            self.gc(now);
        }
        sent
    }

    /// The same as [`Alertmanager::advance_to`], under the name hosts driving a clock expect.
    pub fn tick(&mut self, now: i64, notifier: &mut dyn Notifier) -> Vec<Notification> {
        self.advance_to(now, notifier)
    }

    /// The latest time the engine has been advanced to or received alerts at.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Drops resolved alerts, expired notification log entries and old expired silences.
    pub fn gc(&mut self, now: i64) {
        self.alerts.retain(|_, a| !a.resolved_at(now));
        self.nflog.gc(now);
        self.silences.gc(now, DEFAULT_RETENTION_MS);
        self.last_gc = now;
    }

    fn flush(
        &mut self,
        gid: &GroupId,
        t: i64,
        notifier: &mut dyn Notifier,
        sent: &mut Vec<Notification>,
        inhibit: Option<&PreparedInhibitor>,
    ) {
        let Some(g) = self.groups.get_mut(gid) else {
            return;
        };
        g.next_flush = t + g.opts.group_interval.as_millis().max(1);
        g.has_flushed = true;
        if g.alerts.is_empty() {
            self.groups.remove(gid);
            return;
        }
        let group = g.clone();
        let mut alerts: Vec<Alert> = group
            .alerts
            .values()
            .map(|a| {
                let mut a = a.clone();
                if !a.resolved_at(t) {
                    a.ends_at = None;
                }
                a
            })
            .collect();
        alerts.sort_by(compare_alerts);

        let ok = self.pipeline(&group, alerts.clone(), t, notifier, sent, inhibit);

        if ok {
            if let Some(g) = self.groups.get_mut(gid) {
                for a in &alerts {
                    let fp = a.fingerprint();
                    let unchanged = g
                        .alerts
                        .get(&fp)
                        .is_some_and(|cur| cur.updated_at == a.updated_at && cur.resolved_at(t));
                    if unchanged {
                        g.alerts.remove(&fp);
                    }
                }
                if g.alerts.is_empty() {
                    self.groups.remove(gid);
                }
            }
        }
    }

    /// The notification pipeline for one flush. Returns whether every integration succeeded.
    fn pipeline(
        &mut self,
        g: &AggrGroup,
        mut alerts: Vec<Alert>,
        t: i64,
        notifier: &mut dyn Notifier,
        sent: &mut Vec<Notification>,
        inhibit: Option<&PreparedInhibitor>,
    ) -> bool {
        // Inhibition.
        if let Some(p) = inhibit {
            alerts.retain(|a| p.mutes(&a.labels).is_none());
        }
        if alerts.is_empty() {
            return true;
        }
        // Active and mute time intervals.
        let in_any = |names: &[String]| {
            names.iter().any(|n| {
                self.time_intervals
                    .get(n)
                    .is_some_and(|tis| tis.iter().any(|ti| ti.contains(t)))
            })
        };
        if !g.opts.active_time_intervals.is_empty() && !in_any(&g.opts.active_time_intervals) {
            return true;
        }
        if in_any(&g.opts.mute_time_intervals) {
            return true;
        }
        // Silences.
        alerts.retain(|a| self.silences.muted_by(&a.labels, t).is_empty());
        if alerts.is_empty() {
            return true;
        }

        let Some(rcv) = self.config.receiver(&g.opts.receiver).cloned() else {
            return true;
        };
        let firing: BTreeSet<u64> = alerts
            .iter()
            .filter(|a| !a.resolved_at(t))
            .map(Alert::fingerprint)
            .collect();
        let resolved: BTreeSet<u64> = alerts
            .iter()
            .filter(|a| a.resolved_at(t))
            .map(Alert::fingerprint)
            .collect();
        let repeat = g.opts.repeat_interval.as_millis();
        let mut all_ok = true;

        let integrations: Vec<(&'static str, usize, bool)> = rcv
            .email_configs
            .iter()
            .enumerate()
            .map(|(i, c)| ("email", i, c.send_resolved))
            .chain(
                rcv.webhook_configs
                    .iter()
                    .enumerate()
                    .map(|(i, c)| ("webhook", i, c.send_resolved)),
            )
            .collect();

        for (kind, idx, send_resolved) in integrations {
            let key = ReceiverKey {
                group_name: rcv.name.clone(),
                integration: kind.to_string(),
                idx,
            };
            if !needs_update(
                self.nflog.query(&g.key, &key),
                &firing,
                &resolved,
                send_resolved,
                repeat,
                t,
            ) {
                continue;
            }
            let to_send: Vec<Alert> = if send_resolved {
                alerts.clone()
            } else {
                alerts
                    .iter()
                    .filter(|a| !a.resolved_at(t))
                    .cloned()
                    .collect()
            };
            if to_send.is_empty() {
                // Only resolved alerts and send_resolved is off: log without sending.
                self.nflog.log(
                    &key,
                    &g.key,
                    firing.clone(),
                    resolved.clone(),
                    t,
                    DEFAULT_RETENTION_MS,
                );
                continue;
            }
            let payload = match kind {
                "email" => {
                    let c = &rcv.email_configs[idx];
                    let data =
                        template_data(&rcv.name, &g.labels, &to_send, &self.opts.external_url, t);
                    build_email(
                        c,
                        &EmailContext {
                            tmpl: &self.template,
                            data: &data,
                            group_key: &g.key,
                            now: t,
                            hostname: &self.opts.hostname,
                        },
                    )
                    .map(|m| Payload::Email(Box::new(m)))
                }
                _ => {
                    let c = &rcv.webhook_configs[idx];
                    Ok(Payload::Webhook(WebhookMessage {
                        url: c.url.as_ref().map(|u| u.0.clone()).unwrap_or_default(),
                        url_file: c.url_file.clone(),
                        body: webhook_body(
                            c,
                            &rcv.name,
                            &g.key,
                            &g.labels,
                            &to_send,
                            &self.opts.external_url,
                            t,
                        ),
                    }))
                }
            };
            let n_firing: Vec<u64> = to_send
                .iter()
                .filter(|a| !a.resolved_at(t))
                .map(|a| fingerprint(&a.labels))
                .collect();
            let n_resolved: Vec<u64> = to_send
                .iter()
                .filter(|a| a.resolved_at(t))
                .map(|a| fingerprint(&a.labels))
                .collect();
            let mut record = NotificationRecord {
                at_ms: t,
                receiver: rcv.name.clone(),
                integration: kind,
                idx,
                group_key: g.key.clone(),
                firing: n_firing.clone(),
                resolved: n_resolved.clone(),
                error: None,
            };
            match payload {
                Err(e) => {
                    record.error = Some(e.0);
                    all_ok = false;
                }
                Ok(payload) => {
                    let n = Notification {
                        receiver: rcv.name.clone(),
                        integration: kind,
                        idx,
                        group_key: g.key.clone(),
                        group_labels: g.labels.clone(),
                        at_ms: t,
                        firing: n_firing,
                        resolved: n_resolved,
                        payload,
                    };
                    match notifier.notify(&n) {
                        Ok(()) => {
                            self.nflog.log(
                                &key,
                                &g.key,
                                firing.clone(),
                                resolved.clone(),
                                t,
                                DEFAULT_RETENTION_MS,
                            );
                        }
                        Err(e) => {
                            record.error = Some(e.message);
                            all_ok = false;
                        }
                    }
                    sent.push(n);
                }
            }
            self.history.push(record);
            if self.history.len() > HISTORY_LIMIT {
                let excess = self.history.len() - HISTORY_LIMIT;
                self.history.drain(..excess);
            }
        }
        all_ok
    }
}

/// The overlap test of the alert store's `Put`.
fn overlaps(old: &Alert, new: &Alert) -> bool {
    let after = |a: Option<i64>, b: i64| a.is_some_and(|a| a > b);
    let before = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) => a < b,
        (None, Some(_)) => true,
        _ => false,
    };
    (after(new.ends_at, old.starts_at) && before(new.ends_at, old.ends_at))
        || (new.starts_at > old.starts_at && before(Some(new.starts_at), old.ends_at))
}

//! Recording and alerting rules (`rules/recording.go`, `rules/alerting.go`).

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use promplay_model::{Labels, LabelsBuilder};
use promplay_promql::value::{Sample, Vector};

use crate::template::{expand_alert, table_link, AlertTemplateData};
use crate::{QueryFunc, RuleError};

/// How long a resolved alert is kept (and re-sent) after it resolved: 15 minutes.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// A rule's health after its last evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Health {
    #[default]
    Unknown,
    Good,
    Bad,
}

impl Health {
    /// `unknown`, `ok`, `err` (the API's words).
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Good => "ok",
            Health::Bad => "err",
        }
    }
}

/// What every rule records about its last evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleStatus {
    pub health: Health,
    pub last_error: Option<RuleError>,
    /// The evaluation timestamp (ms) of the last evaluation.
    pub last_evaluation_ms: Option<i64>,
    /// How long the last evaluation took (ns), by the host's clock (0 without one).
    pub evaluation_duration_ns: i64,
}

/// A recording rule: writes its expression's result under a new metric name.
#[derive(Clone, Debug)]
pub struct RecordingRule {
    pub name: String,
    /// The expression, in canonical form (what is queried and shown).
    pub expr: String,
    pub labels: Labels,
    pub status: RuleStatus,
}

impl RecordingRule {
    pub fn new(name: &str, expr: &str, labels: Labels) -> Self {
        RecordingRule {
            name: name.to_string(),
            expr: expr.to_string(),
            labels,
            status: RuleStatus::default(),
        }
    }

    /// Evaluates at `ts_ms` (queried at `ts_ms - query_offset_ms`).
    pub fn eval(
        &self,
        query_offset_ms: i64,
        ts_ms: i64,
        query: &QueryFunc,
        limit: usize,
    ) -> Result<Vector, RuleError> {
        let mut v = query(&self.expr, ts_ms - query_offset_ms)?;
        let mut seen = HashSet::with_capacity(v.len());
        for s in v.iter_mut() {
            let mut b = s.metric.builder();
            b.set("__name__", self.name.as_str());
            for l in self.labels.iter() {
                b.set(l.name.clone(), l.value.clone());
            }
            s.metric = b.labels();
            s.drop_name = false;
            if !seen.insert(s.metric.clone()) {
                return Err(RuleError::SameLabelsetRule);
            }
        }
        if limit > 0 && v.len() > limit {
            return Err(RuleError::Limit {
                limit,
                got: v.len(),
                what: "series",
            });
        }
        Ok(v)
    }
}

/// The state of an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of an alerting rule (one output series of its expression). Times are ms.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub state: AlertState,
    pub labels: Labels,
    pub annotations: Labels,
    /// The expression's value at the last evaluation.
    pub value: f64,
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub last_sent_at: Option<i64>,
    pub valid_until: Option<i64>,
    pub keep_firing_since: Option<i64>,
}

impl Alert {
    fn needs_sending(&self, ts: i64, resend_delay_ms: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        // Resend a resolved alert once after it resolved.
        if let Some(r) = self.resolved_at {
            if self.last_sent_at.is_none_or(|s| r > s) {
                return true;
            }
        }
        match self.last_sent_at {
            None => true,
            Some(s) => s + resend_delay_ms < ts,
        }
    }
}

/// An alert as handed to the notifier (Prometheus's `notifier.Alert`): plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct NotifierAlert {
    pub labels: Labels,
    pub annotations: Labels,
    /// `FiredAt` (ms).
    pub starts_at: i64,
    /// `ResolvedAt` when resolved, else `ValidUntil` (ms).
    pub ends_at: i64,
    /// `EXTERNAL_URL/graph?g0.expr=…&g0.tab=1`.
    pub generator_url: String,
}

/// An alerting rule and its alerts.
#[derive(Clone, Debug)]
pub struct AlertingRule {
    pub name: String,
    pub expr: String,
    pub hold_ms: i64,
    pub keep_firing_for_ms: i64,
    pub labels: Labels,
    pub annotations: Labels,
    pub external_labels: Labels,
    pub external_url: String,
    /// Until set, no `ALERTS`/`ALERTS_FOR_STATE` samples are produced (Prometheus sets it once
    /// the state was restored after start-up).
    pub restored: bool,
    pub status: RuleStatus,
    active: BTreeMap<Labels, Alert>,
}

impl AlertingRule {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        expr: &str,
        hold_ms: i64,
        keep_firing_for_ms: i64,
        labels: Labels,
        annotations: Labels,
        external_labels: Labels,
        external_url: &str,
    ) -> Self {
        AlertingRule {
            name: name.to_string(),
            expr: expr.to_string(),
            hold_ms,
            keep_firing_for_ms,
            labels,
            annotations,
            external_labels,
            external_url: external_url.to_string(),
            restored: false,
            status: RuleStatus::default(),
            active: BTreeMap::new(),
        }
    }

    /// The alerts that are pending, firing, or resolved and still retained, by labels.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    /// Pending and firing alerts (Prometheus's `ActiveAlerts`).
    pub fn active_alerts(&self) -> Vec<&Alert> {
        self.active
            .values()
            .filter(|a| a.state != AlertState::Inactive)
            .collect()
    }

    /// The rule's state: the highest state of its alerts.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }

    /// Restores `ActiveAt` of the active alerts from the last `ALERTS_FOR_STATE` sample
    /// (time ms, value = ActiveAt in Unix seconds) `lookup` finds for their labels.
    pub(crate) fn restore_active_at(
        &mut self,
        lookup: impl Fn(&Labels) -> Option<(i64, f64)>,
        ts: i64,
        grace_ms: i64,
    ) {
        for a in self.active.values_mut() {
            if a.state == AlertState::Inactive {
                continue;
            }
            let Some((t, v)) = lookup(&a.labels) else {
                continue;
            };
            if promplay_model::is_stale_nan(v) || !v.is_finite() {
                continue;
            }
            let down_at = t.div_euclid(1000) * 1000;
            let mut restored = (v as i64) * 1000;
            let remaining = self.hold_ms - (down_at - restored);
            if remaining <= 0 {
                // It was firing when it went down: the next evaluation decides.
            } else if remaining < grace_ms {
                restored = ts + grace_ms - self.hold_ms;
            } else {
                restored += ts - down_at;
            }
            a.active_at = restored;
        }
    }

    pub(crate) fn copy_alerts_from(&mut self, other: &AlertingRule) {
        self.active = other.active.clone();
    }

    fn series(&self, a: &Alert, name: &str, ts: i64, v: f64, state: bool) -> Sample {
        let mut b: LabelsBuilder = self.labels.builder();
        for l in a.labels.iter() {
            b.set(l.name.clone(), l.value.clone());
        }
        b.set("__name__", name);
        b.set("alertname", self.name.as_str());
        if state {
            b.set("alertstate", a.state.as_str());
        }
        Sample::float(b.labels(), ts, v)
    }

    /// Evaluates at `ts_ms`: updates the alerts and returns the `ALERTS` and
    /// `ALERTS_FOR_STATE` samples to write.
    pub fn eval(
        &mut self,
        query_offset_ms: i64,
        ts_ms: i64,
        query: &Rc<QueryFunc>,
        limit: usize,
    ) -> Result<Vector, RuleError> {
        let ts = ts_ms;
        let res = query(&self.expr, ts - query_offset_ms)?;
        let mut fresh: BTreeMap<Labels, Alert> = BTreeMap::new();
        for s in &res {
            let data = AlertTemplateData {
                labels: &s.metric,
                external_labels: &self.external_labels,
                external_url: &self.external_url,
                value: s.f,
            };
            let expand = |text: &str| -> String {
                expand_alert(&self.name, text, &data, ts, Some(query.clone()))
                    .unwrap_or_else(|e| format!("<error expanding template: {e}>"))
            };
            let mut b = s.metric.builder();
            b.del("__name__");
            for l in self.labels.iter() {
                b.set(l.name.clone(), expand(&l.value));
            }
            b.set("alertname", self.name.as_str());
            let annotations = Labels::new(
                self.annotations
                    .iter()
                    .map(|a| promplay_model::Label::new(a.name.clone(), expand(&a.value)))
                    .collect(),
            );
            let labels = b.labels();
            if fresh.contains_key(&labels) {
                return Err(RuleError::SameLabelsetAlert);
            }
            fresh.insert(
                labels.clone(),
                Alert {
                    state: AlertState::Pending,
                    labels,
                    annotations,
                    value: s.f,
                    active_at: ts,
                    fired_at: None,
                    resolved_at: None,
                    last_sent_at: None,
                    valid_until: None,
                    keep_firing_since: None,
                },
            );
        }
        let result_fps: HashSet<Labels> = fresh.keys().cloned().collect();
        for (h, a) in fresh {
            match self.active.get_mut(&h) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = a.value;
                    old.annotations = a.annotations;
                }
                _ => {
                    self.active.insert(h, a);
                }
            }
        }
        let mut vec = Vector::new();
        let mut num_active_pending = 0usize;
        let mut remove = Vec::new();
        let keys: Vec<Labels> = self.active.keys().cloned().collect();
        for fp in keys {
            let Some(a) = self.active.get_mut(&fp) else {
                continue;
            };
            if !result_fps.contains(&fp) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    if ts - since < self.keep_firing_for_ms {
                        keep_firing = true;
                    }
                }
                if a.state == AlertState::Pending
                    || a.resolved_at
                        .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                {
                    remove.push(fp.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            num_active_pending += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= self.hold_ms {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            if self.restored {
                let a = a.clone();
                let t = ts - query_offset_ms;
                vec.push(self.series(&a, "ALERTS", t, 1.0, true));
                let active_s = a.active_at.div_euclid(1000) as f64;
                vec.push(self.series(&a, "ALERTS_FOR_STATE", t, active_s, false));
            }
        }
        for fp in remove {
            self.active.remove(&fp);
        }
        if limit > 0 && num_active_pending > limit {
            self.active.clear();
            return Err(RuleError::Limit {
                limit,
                got: num_active_pending,
                what: "alerts",
            });
        }
        Ok(vec)
    }

    /// The alerts due to be (re)sent at `ts_ms`, marking them sent (`sendAlerts`).
    pub fn send_alerts(
        &mut self,
        ts_ms: i64,
        resend_delay_ms: i64,
        interval_ms: i64,
        external_url: &str,
    ) -> Vec<NotifierAlert> {
        let mut out = Vec::new();
        let gen = format!("{external_url}{}", table_link(&self.expr));
        for a in self.active.values_mut() {
            if !a.needs_sending(ts_ms, resend_delay_ms) {
                continue;
            }
            a.last_sent_at = Some(ts_ms);
            let delta = resend_delay_ms.max(interval_ms);
            a.valid_until = Some(ts_ms + 4 * delta);
            out.push(NotifierAlert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.fired_at.unwrap_or(a.active_at),
                ends_at: a.resolved_at.or(a.valid_until).unwrap_or(ts_ms),
                generator_url: gen.clone(),
            });
        }
        out
    }
}

/// A rule of a group.
#[derive(Clone, Debug)]
pub enum Rule {
    Recording(RecordingRule),
    Alerting(AlertingRule),
}

impl Rule {
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.name,
            Rule::Alerting(r) => &r.name,
        }
    }

    pub fn expr(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.expr,
            Rule::Alerting(r) => &r.expr,
        }
    }

    pub fn labels(&self) -> &Labels {
        match self {
            Rule::Recording(r) => &r.labels,
            Rule::Alerting(r) => &r.labels,
        }
    }

    pub fn status(&self) -> &RuleStatus {
        match self {
            Rule::Recording(r) => &r.status,
            Rule::Alerting(r) => &r.status,
        }
    }

    pub fn status_mut(&mut self) -> &mut RuleStatus {
        match self {
            Rule::Recording(r) => &mut r.status,
            Rule::Alerting(r) => &mut r.status,
        }
    }

    pub fn as_alerting(&self) -> Option<&AlertingRule> {
        match self {
            Rule::Alerting(a) => Some(a),
            Rule::Recording(_) => None,
        }
    }
}

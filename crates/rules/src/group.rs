//! A rule group (`rules/group.go`): rules evaluated in order at one timestamp, results
//! written to storage, staleness markers for series a rule stopped producing.

use std::collections::BTreeSet;
use std::rc::Rc;

use promplay_model::{Clock, Labels, STALE_NAN};
use promplay_tsdb::Db;

use crate::rule::{NotifierAlert, Rule};
use crate::xxhash::labels_hash;
use crate::{QueryFunc, RuleError};

/// What a group evaluation needs from its host.
pub struct EvalContext<'a> {
    pub query: &'a Rc<QueryFunc>,
    /// Where results go.
    pub db: &'a Db,
    /// Used only to measure evaluation durations, with [`Clock::monotonic_ns`] (none:
    /// durations are 0).
    pub clock: Option<&'a dyn Clock>,
    /// Minimum time between re-sends of a firing alert (Prometheus: 1m).
    pub resend_delay_ms: i64,
    /// The query offset of groups without their own.
    pub default_query_offset_ms: i64,
    /// Prefix of the alerts' generator URLs.
    pub external_url: &'a str,
    /// How far back `for` state is restored from (`--rules.alert.for-outage-tolerance`, 1h).
    pub outage_tolerance_ms: i64,
    /// Minimum time a restored alert still waits before firing
    /// (`--rules.alert.for-grace-period`, 10m).
    pub for_grace_period_ms: i64,
}

/// A group of rules.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub file: String,
    pub interval_ms: i64,
    pub query_offset_ms: Option<i64>,
    pub limit: usize,
    pub rules: Vec<Rule>,
    /// Per rule: the series written at the previous evaluation.
    series_in_previous_eval: Vec<BTreeSet<Labels>>,
    /// Series of removed rules, marked stale at the next evaluation.
    stale_series: Vec<Labels>,
    pub last_evaluation_ms: Option<i64>,
    /// How long the last evaluation took (ns), by the host's clock.
    pub evaluation_duration_ns: i64,
    /// The next evaluation timestamp once scheduled.
    pub next_eval_ms: Option<i64>,
    /// A new group restores its alerts' `for` state from `ALERTS_FOR_STATE` after its first
    /// evaluation; a group carried over by a reload does not.
    pub should_restore: bool,
}

impl Group {
    pub fn new(
        name: &str,
        file: &str,
        interval_ms: i64,
        query_offset_ms: Option<i64>,
        limit: usize,
        rules: Vec<Rule>,
    ) -> Self {
        let n = rules.len();
        Group {
            name: name.to_string(),
            file: file.to_string(),
            interval_ms: interval_ms.max(1),
            query_offset_ms,
            limit,
            rules,
            series_in_previous_eval: vec![BTreeSet::new(); n],
            stale_series: Vec::new(),
            last_evaluation_ms: None,
            evaluation_duration_ns: 0,
            next_eval_ms: None,
            should_restore: true,
        }
    }

    /// The group's hash (`labels{name, file}.Hash()`), which spreads groups over the interval.
    pub fn hash(&self) -> u64 {
        labels_hash(&Labels::from_pairs(&[
            ("name", &self.name),
            ("file", &self.file),
        ]))
    }

    /// Prometheus's `EvalTimestamp`: the latest evaluation slot at or before `start_ms`, slots
    /// being `k × interval + (hash mod interval)` (in nanoseconds, as upstream), truncated to
    /// milliseconds. The host's clock has millisecond resolution, so `start_ms` stands for the
    /// whole millisecond: a slot that falls inside it (truncated to `start_ms` itself) counts
    /// as at or before it, and `eval_timestamp(eval_timestamp(t)) == eval_timestamp(t)`.
    pub fn eval_timestamp(&self, start_ms: i64) -> i64 {
        let interval = self.interval_ms as i128 * 1_000_000;
        let offset = (self.hash() as u128 % interval as u128) as i128;
        let adj = start_ms as i128 * 1_000_000 + 999_999 - offset;
        let base = adj - adj.rem_euclid(interval);
        let next = base + offset;
        next.div_euclid(1_000_000) as i64
    }

    /// Schedules the first evaluation at the first slot after `now_ms` (as a started group).
    pub fn schedule(&mut self, now_ms: i64) {
        let first = self.eval_timestamp(now_ms) + self.interval_ms;
        self.next_eval_ms = Some(first);
    }

    /// The state of the group's alerting rules (what `/api/v1/rules` and the page show).
    pub fn query_offset(&self, default_ms: i64) -> i64 {
        self.query_offset_ms.unwrap_or(default_ms)
    }

    /// Marks every alerting rule restored (its `ALERTS` series are written from now on).
    pub fn set_restored(&mut self) {
        for r in &mut self.rules {
            if let Rule::Alerting(a) = r {
                a.restored = true;
            }
        }
    }

    /// Takes over the state of `old` (same group after a reload): alerts and series of rules
    /// with the same name and labels; the series of rules that are gone are marked stale at
    /// the next evaluation.
    pub fn copy_state(&mut self, old: &Group) {
        self.should_restore = false;
        self.last_evaluation_ms = old.last_evaluation_ms;
        self.evaluation_duration_ns = old.evaluation_duration_ns;
        self.next_eval_ms = old.next_eval_ms;
        let mut used = vec![false; old.rules.len()];
        for (i, r) in self.rules.iter_mut().enumerate() {
            let found =
                old.rules.iter().enumerate().position(|(j, o)| {
                    !used[j] && o.name() == r.name() && o.labels() == r.labels()
                });
            let Some(j) = found else { continue };
            used[j] = true;
            if let Some(s) = old.series_in_previous_eval.get(j) {
                self.series_in_previous_eval[i] = s.clone();
            }
            *r.status_mut() = old.rules[j].status().clone();
            if let (Rule::Alerting(new), Rule::Alerting(o)) = (r, &old.rules[j]) {
                new.copy_alerts_from(o);
                new.restored = o.restored;
            }
        }
        for (j, u) in used.iter().enumerate() {
            if !u {
                if let Some(s) = old.series_in_previous_eval.get(j) {
                    self.stale_series.extend(s.iter().cloned());
                }
            }
        }
        self.stale_series.extend(old.stale_series.iter().cloned());
    }

    /// Every series the group wrote at its last evaluation (to mark stale when it stops).
    pub fn series_written(&self) -> Vec<Labels> {
        self.series_in_previous_eval
            .iter()
            .flat_map(|s| s.iter().cloned())
            .collect()
    }

    /// Evaluates every rule at `ts_ms` (`Group.Eval`); returns the alerts to send.
    pub fn eval(&mut self, ts_ms: i64, ctx: &EvalContext) -> Vec<NotifierAlert> {
        let start = ctx.clock.map(|c| c.monotonic_ns());
        let offset = self.query_offset(ctx.default_query_offset_ms);
        let mut to_send = Vec::new();
        for i in 0..self.rules.len() {
            let rule_start = ctx.clock.map(|c| c.monotonic_ns());
            let limit = self.limit;
            let result = match &mut self.rules[i] {
                Rule::Recording(r) => r.eval(offset, ts_ms, &**ctx.query, limit),
                Rule::Alerting(a) => a.eval(offset, ts_ms, ctx.query, limit),
            };
            let status_err = |r: &mut Rule, e: RuleError| {
                let st = r.status_mut();
                st.health = crate::rule::Health::Bad;
                st.last_error = Some(e);
            };
            match result {
                Err(e) => status_err(&mut self.rules[i], e),
                Ok(vector) => {
                    {
                        let st = self.rules[i].status_mut();
                        st.health = crate::rule::Health::Good;
                        st.last_error = None;
                    }
                    if let Rule::Alerting(a) = &mut self.rules[i] {
                        to_send.extend(a.send_alerts(
                            ts_ms,
                            ctx.resend_delay_ms,
                            self.interval_ms,
                            ctx.external_url,
                        ));
                    }
                    let mut app = ctx.db.appender();
                    let mut returned = BTreeSet::new();
                    let mut append_err = None;
                    for s in &vector {
                        let r = match &s.h {
                            Some(h) => app.append_histogram(&s.metric, s.t, h),
                            None => app.append(&s.metric, s.t, s.f),
                        };
                        match r {
                            Ok(_) => {
                                returned.insert(s.metric.clone());
                            }
                            Err(e) => append_err = Some(RuleError::Append(e.to_string())),
                        }
                    }
                    if let Some(prev) = self.series_in_previous_eval.get(i) {
                        for l in prev.iter().filter(|l| !returned.contains(*l)) {
                            // Errors (the series is written by another rule) are expected.
                            let _ = app.append(l, ts_ms - offset, STALE_NAN);
                        }
                    }
                    match app.commit() {
                        Err(e) => status_err(&mut self.rules[i], RuleError::Append(e.to_string())),
                        Ok(()) => {
                            if let Some(e) = append_err {
                                status_err(&mut self.rules[i], e);
                            }
                            if let Some(slot) = self.series_in_previous_eval.get_mut(i) {
                                *slot = returned;
                            }
                        }
                    }
                }
            }
            let st = self.rules[i].status_mut();
            st.last_evaluation_ms = Some(ts_ms);
            st.evaluation_duration_ns = match (rule_start, ctx.clock) {
                (Some(s), Some(c)) => c.monotonic_ns().saturating_sub(s).max(0),
                _ => 0,
            };
        }
        if !self.stale_series.is_empty() {
            let mut app = ctx.db.appender();
            for l in self.stale_series.drain(..) {
                let _ = app.append(&l, ts_ms - offset, STALE_NAN);
            }
            let _ = app.commit();
        }
        self.last_evaluation_ms = Some(ts_ms);
        self.evaluation_duration_ns = match (start, ctx.clock) {
            (Some(s), Some(c)) => c.monotonic_ns().saturating_sub(s).max(0),
            _ => 0,
        };
        to_send
    }

    /// Evaluates if an evaluation is due at `now_ms`: once, at the latest slot not after
    /// `now_ms` (missed slots are skipped, as upstream). Returns `None` when nothing was due.
    pub fn eval_due(&mut self, now_ms: i64, ctx: &EvalContext) -> Option<Vec<NotifierAlert>> {
        let next = match self.next_eval_ms {
            Some(n) => n,
            None => {
                self.schedule(now_ms);
                return None;
            }
        };
        if next > now_ms {
            return None;
        }
        let missed = (now_ms - next) / self.interval_ms;
        let ts = next + missed * self.interval_ms;
        self.next_eval_ms = Some(ts + self.interval_ms);
        let sent = self.eval(ts, ctx);
        if self.should_restore {
            self.should_restore = false;
            self.restore_for_state(ts, ctx);
        }
        Some(sent)
    }

    /// Prometheus's `RestoreForState`: after a (re)start, pending alerts that were active
    /// before get back their `ActiveAt` from `ALERTS_FOR_STATE` (written within the outage
    /// tolerance), shifted by the downtime, and never fire sooner than the grace period.
    /// Marks every alerting rule restored.
    pub fn restore_for_state(&mut self, ts: i64, ctx: &EvalContext) {
        use promplay_model::{MatchType, Matcher};
        use promplay_tsdb::{Queryable, ValType};
        let mint = ts - ctx.outage_tolerance_ms;
        for r in self.rules.iter_mut() {
            let Rule::Alerting(a) = r else { continue };
            let hold = a.hold_ms;
            if hold < ctx.for_grace_period_ms {
                a.restored = true;
                continue;
            }
            let mut matchers = Vec::new();
            let pairs = std::iter::once(("__name__", "ALERTS_FOR_STATE"))
                .chain(std::iter::once(("alertname", a.name.as_str())))
                .chain(a.labels.iter().map(|l| (&*l.name, &*l.value)));
            for (n, v) in pairs {
                if let Ok(m) = Matcher::new(MatchType::Equal, n, v) {
                    matchers.push(m);
                }
            }
            let Ok(q) = ctx.db.querier(mint, ts) else {
                a.restored = true;
                continue;
            };
            let Ok(set) = q.select(false, None, &matchers) else {
                a.restored = true;
                continue;
            };
            let mut last: std::collections::HashMap<Labels, (i64, f64)> = Default::default();
            for s in set.iter() {
                let mut it = s.iter();
                let mut tv = None;
                while it.next() == ValType::Float {
                    tv = Some(it.at());
                }
                if let Some(tv) = tv {
                    last.insert(s.labels().without_metric_name(), tv);
                }
            }
            a.restore_active_at(
                |labels| last.get(labels).copied(),
                ts,
                ctx.for_grace_period_ms,
            );
            a.restored = true;
        }
    }
}

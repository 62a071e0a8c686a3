//! The rule manager (`rules/manager.go`): groups loaded from rule files, evaluated on the
//! host's clock, state kept across reloads.

use std::rc::Rc;

use promplay_model::{Clock, Label, Labels};
use promplay_tsdb::Db;

use crate::group::{EvalContext, Group};
use crate::rule::{AlertingRule, NotifierAlert, RecordingRule, Rule};
use crate::rulefmt::{self, RuleFileError, RuleGroups};
use crate::QueryFunc;

/// Manager settings (Prometheus's `ManagerOptions` and the global configuration).
#[derive(Clone)]
pub struct ManagerOptions {
    pub query: Rc<QueryFunc>,
    /// The global `evaluation_interval` (groups without their own interval), default 1m.
    pub evaluation_interval_ms: i64,
    /// The global `rule_query_offset`, default 0.
    pub default_query_offset_ms: i64,
    pub external_labels: Labels,
    pub external_url: String,
    /// `--rules.alert.resend-delay`, default 1m.
    pub resend_delay_ms: i64,
    /// `--rules.alert.for-outage-tolerance`, default 1h.
    pub outage_tolerance_ms: i64,
    /// `--rules.alert.for-grace-period`, default 10m.
    pub for_grace_period_ms: i64,
}

impl ManagerOptions {
    pub fn new(query: Rc<QueryFunc>) -> Self {
        ManagerOptions {
            query,
            evaluation_interval_ms: 60_000,
            default_query_offset_ms: 0,
            external_labels: Labels::default(),
            external_url: String::new(),
            resend_delay_ms: 60_000,
            outage_tolerance_ms: 3_600_000,
            for_grace_period_ms: 600_000,
        }
    }
}

/// Groups of rules and their schedule.
pub struct RuleManager {
    pub opts: ManagerOptions,
    groups: Vec<Group>,
}

/// Labels of a rule: the group's, overridden by the rule's (`FromMaps`).
fn merge_labels(
    group: &std::collections::BTreeMap<String, String>,
    rule: &std::collections::BTreeMap<String, String>,
) -> Labels {
    let mut m = group.clone();
    for (k, v) in rule {
        m.insert(k.clone(), v.clone());
    }
    Labels::new(m.into_iter().map(|(k, v)| Label::new(k, v)).collect())
}

/// Builds groups from parsed rule files (`Manager.LoadGroups`): `interval_ms` is the default
/// group interval. Expressions are stored in canonical form.
pub fn build_groups(
    files: &[(String, RuleGroups)],
    interval_ms: i64,
    external_labels: &Labels,
    external_url: &str,
) -> Result<Vec<Group>, Vec<RuleFileError>> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (file, rgs) in files {
        for rg in &rgs.groups {
            let itv = if rg.interval_ms > 0 {
                rg.interval_ms
            } else {
                interval_ms
            };
            let mut rules = Vec::new();
            for r in &rg.rules {
                let expr = match crate::parse_expr(&r.expr) {
                    Ok(e) => e.to_string(),
                    Err(e) => {
                        errs.push(RuleFileError(format!("{file}: {e}")));
                        continue;
                    }
                };
                let labels = merge_labels(&rg.labels, &r.labels);
                if !r.alert.is_empty() {
                    let ann = Labels::new(
                        r.annotations
                            .iter()
                            .map(|(k, v)| Label::new(k.as_str(), v.as_str()))
                            .collect(),
                    );
                    rules.push(Rule::Alerting(AlertingRule::new(
                        &r.alert,
                        &expr,
                        r.for_ms,
                        r.keep_firing_for_ms,
                        labels,
                        ann,
                        external_labels.clone(),
                        external_url,
                    )));
                } else {
                    rules.push(Rule::Recording(RecordingRule::new(
                        &r.record, &expr, labels,
                    )));
                }
            }
            out.push(Group::new(
                &rg.name,
                file,
                itv,
                rg.query_offset_ms,
                rg.limit,
                rules,
            ));
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

impl RuleManager {
    pub fn new(opts: ManagerOptions) -> Self {
        RuleManager {
            opts,
            groups: Vec::new(),
        }
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Loads rule files given as `(name, content)` (`Manager.Update`): every file is parsed
    /// and validated first — on any error nothing changes. Groups that existed before (same
    /// file and name) keep their state and schedule; new ones are scheduled from `now_ms`;
    /// the series of groups that are gone are marked stale at `now_ms`.
    pub fn update(
        &mut self,
        files: &[(String, String)],
        ignore_unknown_fields: bool,
        now_ms: i64,
        db: &Db,
    ) -> Result<(), Vec<RuleFileError>> {
        let mut parsed = Vec::new();
        let mut errs = Vec::new();
        for (name, content) in files {
            match rulefmt::parse_file(name, content, ignore_unknown_fields) {
                Ok(g) => parsed.push((name.clone(), g)),
                Err(e) => errs.extend(e),
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut new = build_groups(
            &parsed,
            self.opts.evaluation_interval_ms,
            &self.opts.external_labels,
            &self.opts.external_url,
        )?;
        let mut old = std::mem::take(&mut self.groups);
        for g in new.iter_mut() {
            match old
                .iter()
                .position(|o| o.name == g.name && o.file == g.file)
            {
                Some(i) => {
                    let o = old.remove(i);
                    g.copy_state(&o);
                    if o.interval_ms != g.interval_ms {
                        g.schedule(now_ms);
                    }
                }
                None => g.schedule(now_ms),
            }
        }
        if !old.is_empty() {
            let mut app = db.appender();
            for o in &old {
                for l in o.series_written() {
                    let _ = app.append(&l, now_ms, promplay_model::STALE_NAN);
                }
            }
            let _ = app.commit();
        }
        self.groups = new;
        Ok(())
    }

    /// Every pending and firing alert of every group, with its rule (the Alerts page).
    pub fn active_alerts(&self) -> Vec<(&AlertingRule, &crate::rule::Alert)> {
        self.groups
            .iter()
            .flat_map(|g| g.rules.iter())
            .filter_map(|r| r.as_alerting())
            .flat_map(|r| r.active_alerts().into_iter().map(move |a| (r, a)))
            .collect()
    }

    /// The earliest scheduled evaluation.
    pub fn next_eval_ms(&self) -> Option<i64> {
        self.groups.iter().filter_map(|g| g.next_eval_ms).min()
    }

    /// Evaluates every group that is due at `now_ms` (at most once each, at its latest slot);
    /// returns the alerts to send to the notifier.
    pub fn eval_due(
        &mut self,
        now_ms: i64,
        db: &Db,
        clock: Option<&dyn Clock>,
    ) -> Vec<NotifierAlert> {
        let ctx = EvalContext {
            query: &self.opts.query,
            db,
            clock,
            resend_delay_ms: self.opts.resend_delay_ms,
            default_query_offset_ms: self.opts.default_query_offset_ms,
            external_url: &self.opts.external_url,
            outage_tolerance_ms: self.opts.outage_tolerance_ms,
            for_grace_period_ms: self.opts.for_grace_period_ms,
        };
        let mut out = Vec::new();
        for g in self.groups.iter_mut() {
            if let Some(sent) = g.eval_due(now_ms, &ctx) {
                out.extend(sent);
            }
        }
        out
    }

    /// Moves time forward to `to_ms`, evaluating every slot on the way (for a virtual clock
    /// that jumps): unlike [`eval_due`](Self::eval_due), no slot is skipped.
    pub fn advance_to(&mut self, to_ms: i64, db: &Db) -> Vec<NotifierAlert> {
        let mut out = Vec::new();
        let mut guard = 0usize;
        while let Some(t) = self.next_eval_ms() {
            if t > to_ms || guard > 10_000_000 {
                break;
            }
            guard += 1;
            out.extend(self.eval_due(t, db, None));
        }
        out
    }
}

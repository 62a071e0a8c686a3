//! One Prometheus on the host's clock: the configuration, the scrape manager, the rule manager
//! and the notifier, stepped together so that every scrape, rule evaluation and alert post
//! happens at its own virtual instant, in time order.
//!
//! At one instant: scrapes first, then the Alertmanager's own timers, then rule evaluations,
//! whose alerts are posted at the evaluation's instant (Prometheus sends right after the
//! evaluation that produced them).
//!
//! ```
//! use std::rc::Rc;
//! use promplay_promql::{Engine, EngineOptions};
//! use promplay_rules::engine_query_func;
//! use promplay_server::notifier::NoAlertmanager;
//! use promplay_server::prometheus::{Prometheus, PrometheusOptions};
//! use promplay_server::scrape::{ScrapeError, ScrapeRequest, ScrapeResponse};
//! use promplay_server::Config;
//! use promplay_tsdb::{Db, Options};
//!
//! let cfg = Config::load("global:\n  scrape_interval: 10s\n  evaluation_interval: 10s\nrule_files: [r.yml]\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['n:9100']\n").unwrap();
//! let rules = [("r.yml".to_string(), "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n".to_string())];
//! let db = Rc::new(Db::new(Options::default()));
//! let query = engine_query_func(Engine::new(EngineOptions::default()), db.clone());
//! let (mut prom, errs) = Prometheus::new(cfg, &rules, query, PrometheusOptions::default(), 0, &db).unwrap();
//! assert!(errs.is_empty());
//! let mut down = |r: &ScrapeRequest| -> Result<ScrapeResponse, ScrapeError> {
//!     Err(ScrapeError::connection_refused(&r.address))
//! };
//! prom.advance_to(60_000, &db, &mut down, &mut NoAlertmanager);
//! let firing: Vec<_> = prom.alert_log().iter().filter(|t| t.state.as_str() == "firing").collect();
//! assert_eq!(firing.len(), 1); // `for: 0s`: firing at the first evaluation that sees up == 0
//! ```

use std::collections::BTreeMap;
use std::rc::Rc;

use promplay_model::{Clock, Labels};
use promplay_rules::{AlertState, ManagerOptions, QueryFunc, RuleManager};
use promplay_tsdb::Db;

use crate::config::Config;
use crate::notifier::{AlertSink, NotifierManager, DEFAULT_QUEUE_CAPACITY};
use crate::scrape::{ScrapeManager, TargetFetcher};

/// Settings that are flags, not configuration, in Prometheus.
#[derive(Clone, Debug)]
pub struct PrometheusOptions {
    /// Seeds the spreading of scrape offsets (Prometheus uses its hostname and external labels).
    pub offset_seed: u64,
    /// `--web.external-url` (alerts' generator URLs).
    pub external_url: String,
    /// `--rules.alert.resend-delay`, default 1m.
    pub resend_delay_ms: i64,
    /// `--alertmanager.notification-queue-capacity`, default 10000.
    pub notification_queue_capacity: usize,
}

impl Default for PrometheusOptions {
    fn default() -> Self {
        PrometheusOptions {
            offset_seed: 0,
            external_url: "http://localhost:9090".into(),
            resend_delay_ms: 60_000,
            notification_queue_capacity: DEFAULT_QUEUE_CAPACITY,
        }
    }
}

/// Why a configuration could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrometheusError {
    /// The rule files did not load (each message names its file).
    #[error("error loading rules: {}", .0.join("; "))]
    Rules(Vec<String>),
}

/// An alert changing state at an evaluation (the Alerts page's history; `inactive` means
/// resolved).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertTransition {
    pub at_ms: i64,
    pub group: String,
    pub rule: String,
    /// The alert's labels (rule labels and the expression's output labels).
    pub labels: Labels,
    pub state: AlertState,
}

/// What one [`Prometheus::advance_to`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    pub scrapes: usize,
    /// Instants at which rule groups were evaluated.
    pub evaluations: usize,
    /// Alerts handed to the notifier.
    pub alerts_sent: usize,
}

/// How many transitions are kept.
pub const ALERT_LOG_LIMIT: usize = 10_000;

/// Prometheus, whole: scrape manager, rule manager and notifier on one virtual clock.
pub struct Prometheus {
    config: Config,
    opts: PrometheusOptions,
    scrapes: ScrapeManager,
    rules: RuleManager,
    notifier: NotifierManager,
    now_ms: i64,
    states: BTreeMap<(String, String, String), (Labels, AlertState)>,
    alert_log: Vec<AlertTransition>,
    stopwatch: Option<Rc<dyn Clock>>,
}

fn manager_options(
    config: &Config,
    opts: &PrometheusOptions,
    query: Rc<QueryFunc>,
) -> ManagerOptions {
    let mut m = ManagerOptions::new(query);
    m.evaluation_interval_ms = config.global.evaluation_interval.as_millis().max(1);
    m.default_query_offset_ms = config.global.rule_query_offset.as_millis();
    m.external_labels = config.global.external_label_set();
    m.external_url = opts.external_url.clone();
    m.resend_delay_ms = opts.resend_delay_ms;
    m
}

impl Prometheus {
    /// Starts a server at `now_ms`. `rule_files` are the contents of the files `rule_files`
    /// names, as (name, content) — the host resolves the globs and reads them. `query`
    /// answers rule expressions (usually [`promplay_rules::engine_query_func`] over `db`).
    /// Returns the server and the targets or Alertmanagers that could not be created.
    pub fn new(
        config: Config,
        rule_files: &[(String, String)],
        query: Rc<QueryFunc>,
        opts: PrometheusOptions,
        now_ms: i64,
        db: &Db,
    ) -> Result<(Prometheus, Vec<String>), PrometheusError> {
        let mut rules = RuleManager::new(manager_options(&config, &opts, query));
        rules
            .update(rule_files, false, now_ms, db)
            .map_err(|e| PrometheusError::Rules(e.into_iter().map(|e| e.0).collect()))?;
        let mut scrapes = ScrapeManager::new(opts.offset_seed);
        let mut failures = scrapes.apply_config(&config, now_ms);
        let (mut notifier, errs) = NotifierManager::new(&config);
        notifier.capacity = opts.notification_queue_capacity;
        failures.extend(errs);
        Ok((
            Prometheus {
                config,
                opts,
                scrapes,
                rules,
                notifier,
                now_ms,
                states: BTreeMap::new(),
                alert_log: Vec::new(),
                stopwatch: None,
            },
            failures,
        ))
    }

    /// A reload: the new configuration and rule files at `now_ms`. On a rule error nothing
    /// changes. Groups, targets and queued alerts that survive keep their state.
    pub fn apply_config(
        &mut self,
        config: Config,
        rule_files: &[(String, String)],
        now_ms: i64,
        db: &Db,
    ) -> Result<Vec<String>, PrometheusError> {
        let query = self.rules.opts.query.clone();
        let old_opts = std::mem::replace(
            &mut self.rules.opts,
            manager_options(&config, &self.opts, query),
        );
        if let Err(e) = self.rules.update(rule_files, false, now_ms, db) {
            self.rules.opts = old_opts;
            return Err(PrometheusError::Rules(e.into_iter().map(|e| e.0).collect()));
        }
        let mut failures = self.scrapes.apply_config(&config, now_ms);
        failures.extend(self.notifier.apply_config(&config));
        self.config = config;
        Ok(failures)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Measures how long rule evaluations take (`evaluationTime` of groups and rules) with
    /// `clock`'s [`Clock::monotonic_ns`]; only durations are read from it, never an instant,
    /// so a host whose time is virtual can still show how long the work really took. Without
    /// one, durations are 0 (evaluations take no virtual time).
    pub fn set_stopwatch(&mut self, clock: Option<Rc<dyn Clock>>) {
        self.stopwatch = clock;
    }

    pub fn scrape_manager(&self) -> &ScrapeManager {
        &self.scrapes
    }

    pub fn scrape_manager_mut(&mut self) -> &mut ScrapeManager {
        &mut self.scrapes
    }

    /// The rule groups and their alerts (`/api/v1/rules`, `/api/v1/alerts`:
    /// `promplay_rules::api`).
    pub fn rule_manager(&self) -> &RuleManager {
        &self.rules
    }

    pub fn notifier(&self) -> &NotifierManager {
        &self.notifier
    }

    /// The latest instant the server was advanced to.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Alert state changes, oldest first (bounded by [`ALERT_LOG_LIMIT`]).
    pub fn alert_log(&self) -> &[AlertTransition] {
        &self.alert_log
    }

    /// The next instant anything is due: a scrape, an evaluation or the sink's own timer.
    pub fn next_event_ms(&self, sink: &dyn AlertSink) -> Option<i64> {
        [
            self.scrapes.next_event_ms(),
            self.rules.next_eval_ms(),
            sink.next_wakeup(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs everything due up to `now_ms` (inclusive) in time order, each at its own instant.
    pub fn advance_to(
        &mut self,
        now_ms: i64,
        db: &Db,
        fetcher: &mut dyn TargetFetcher,
        sink: &mut dyn AlertSink,
    ) -> Step {
        let mut step = Step::default();
        // Bounded: every pass moves a scrape loop, a group or a sink timer forward.
        let mut budget: usize = 100_000_000;
        while budget > 0 {
            budget -= 1;
            let due = |t: Option<i64>| t.filter(|t| *t <= now_ms);
            let ts = due(self.scrapes.next_event_ms());
            let tr = due(self.rules.next_eval_ms());
            let ta = due(sink.next_wakeup());
            let Some(t) = [ts, tr, ta].into_iter().flatten().min() else {
                break;
            };
            if ts == Some(t) {
                let n = self.scrapes.run_until(t, db, fetcher);
                step.scrapes += n;
                if n == 0 && self.scrapes.next_event_ms() == Some(t) {
                    break; // nothing moved: do not spin
                }
            } else if ta == Some(t) {
                sink.advance_to(t);
                if sink.next_wakeup() == Some(t) {
                    break;
                }
            } else {
                let alerts = self.rules.eval_due(t, db, self.stopwatch.as_deref());
                step.evaluations += 1;
                step.alerts_sent += alerts.len();
                self.record_transitions(t);
                self.notifier.send(&alerts);
                self.notifier.flush(t, sink);
            }
        }
        self.now_ms = self.now_ms.max(now_ms);
        step
    }

    fn record_transitions(&mut self, t: i64) {
        let mut now: BTreeMap<(String, String, String), (Labels, AlertState)> = BTreeMap::new();
        for g in self.rules.groups() {
            for r in &g.rules {
                let Some(a) = r.as_alerting() else { continue };
                for al in a.alerts() {
                    now.insert(
                        (g.name.clone(), a.name.clone(), al.labels.to_string()),
                        (al.labels.clone(), al.state),
                    );
                }
            }
        }
        let mut events = Vec::new();
        for (k, (labels, st)) in &now {
            let before = self.states.get(k).map(|v| v.1);
            if before != Some(*st) && !(before.is_none() && *st == AlertState::Inactive) {
                events.push((k, labels.clone(), *st));
            }
        }
        for (k, (labels, st)) in &self.states {
            if !now.contains_key(k) && *st != AlertState::Inactive {
                events.push((k, labels.clone(), AlertState::Inactive));
            }
        }
        for (k, labels, state) in events {
            if self.alert_log.len() >= ALERT_LOG_LIMIT {
                self.alert_log.remove(0);
            }
            self.alert_log.push(AlertTransition {
                at_ms: t,
                group: k.0.clone(),
                rule: k.1.clone(),
                labels,
                state,
            });
        }
        self.states = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifier::AlertSink;
    use crate::scrape::{ScrapeError, ScrapeRequest, ScrapeResponse};
    use promplay_alertmanager::PostableAlert;
    use promplay_promql::{Engine, EngineOptions};
    use promplay_rules::engine_query_func;
    use promplay_tsdb::Options;

    const CFG: &str = "global:\n  scrape_interval: 10s\n  evaluation_interval: 10s\n  external_labels:\n    site: lab\nrule_files: [r.yml]\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['am:9093']\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['n:9100']\n";
    const RULES: &str =
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 30s\n";

    /// Records every event the sink sees, with a timer of its own at `wake`.
    #[derive(Default)]
    struct Probe {
        posts: Vec<(i64, Vec<PostableAlert>)>,
        wake: Option<i64>,
        woke: Vec<i64>,
    }

    impl AlertSink for Probe {
        fn post(&mut self, _url: &str, a: &[PostableAlert], now: i64) -> Result<(), String> {
            self.posts.push((now, a.to_vec()));
            Ok(())
        }
        fn next_wakeup(&self) -> Option<i64> {
            self.wake
        }
        fn advance_to(&mut self, now: i64) {
            if self.wake.is_some_and(|w| w <= now) {
                self.woke.push(now);
                self.wake = None;
            }
        }
    }

    fn server(db: &Rc<Db>) -> Prometheus {
        let query = engine_query_func(Engine::new(EngineOptions::default()), db.clone());
        let files = [("r.yml".to_string(), RULES.to_string())];
        let (p, errs) = Prometheus::new(
            Config::load(CFG).unwrap(),
            &files,
            query,
            PrometheusOptions::default(),
            0,
            db,
        )
        .unwrap();
        assert!(errs.is_empty(), "{errs:?}");
        p
    }

    #[test]
    fn events_run_at_their_own_instants_and_alerts_carry_external_labels() {
        let db = Rc::new(Db::new(Options::default()));
        let mut p = server(&db);
        let mut scraped = Vec::new();
        let mut fetch = |r: &ScrapeRequest| -> Result<ScrapeResponse, ScrapeError> {
            scraped.push(r.time_ms);
            Err(ScrapeError::connection_refused(&r.address))
        };
        let mut sink = Probe {
            wake: Some(42_500),
            ..Probe::default()
        };
        let step = p.advance_to(100_000, &db, &mut fetch, &mut sink);
        assert_eq!(sink.woke, [42_500], "the sink's timer at its own instant");
        assert_eq!(step.scrapes, scraped.len());
        assert!(scraped.windows(2).all(|w| w[1] - w[0] == 10_000));
        let g = &p.rule_manager().groups()[0];
        let log = p.alert_log();
        assert_eq!(log[0].state, AlertState::Pending);
        // Pending at the first evaluation at or after the first failed scrape.
        assert!(log[0].at_ms >= scraped[0] && log[0].at_ms - scraped[0] < 10_000);
        assert_eq!(
            (log[0].at_ms - g.eval_timestamp(0)).rem_euclid(10_000),
            0,
            "a group slot"
        );
        assert_eq!(log[1].state, AlertState::Firing);
        assert_eq!(log[1].at_ms - log[0].at_ms, 30_000);
        // Posted at the firing evaluation, with the external label; startsAt = firing time.
        let (t, alerts) = &sink.posts[0];
        assert_eq!(*t, log[1].at_ms);
        assert_eq!(
            alerts[0].labels.to_string(),
            r#"{alertname="Down", instance="n:9100", job="node", site="lab"}"#
        );
        assert_eq!(alerts[0].starts_at, Some(log[1].at_ms));
        assert_eq!(p.now_ms(), 100_000);
        assert_eq!(
            p.next_event_ms(&sink),
            Some(scraped[scraped.len() - 1] + 10_000)
        );
    }

    #[test]
    fn a_reload_with_a_bad_rule_file_changes_nothing() {
        let db = Rc::new(Db::new(Options::default()));
        let mut p = server(&db);
        let bad = [(
            "r.yml".to_string(),
            "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up ==\n".to_string(),
        )];
        let cfg = Config::load("global:\n  evaluation_interval: 1m\n").unwrap();
        let e = p.apply_config(cfg.clone(), &bad, 5_000, &db).unwrap_err();
        assert!(
            e.to_string().starts_with("error loading rules: r.yml"),
            "{e}"
        );
        assert_eq!(p.rule_manager().opts.evaluation_interval_ms, 10_000);
        assert_eq!(p.rule_manager().groups().len(), 1);
        assert_eq!(p.config().global.evaluation_interval.as_millis(), 10_000);
        // A good reload applies everything: no rules, no Alertmanagers, no targets.
        assert!(p.apply_config(cfg, &[], 5_000, &db).unwrap().is_empty());
        assert!(p.rule_manager().groups().is_empty());
        assert!(p.notifier().alertmanager_urls().is_empty());
        assert_eq!(p.next_event_ms(&Probe::default()), None);
    }

    /// A stopwatch that advances 250 µs every time it is read.
    struct Ticking(std::cell::Cell<i64>);

    impl Clock for Ticking {
        fn now_ms(&self) -> i64 {
            unreachable!("a stopwatch is never asked for an instant")
        }
        fn monotonic_ns(&self) -> i64 {
            self.0.set(self.0.get() + 250_000);
            self.0.get()
        }
    }

    #[test]
    fn a_stopwatch_measures_evaluations_and_leaves_the_instants_virtual() {
        let db = Rc::new(Db::new(Options::default()));
        let mut p = server(&db);
        let mut down = |r: &ScrapeRequest| -> Result<ScrapeResponse, ScrapeError> {
            Err(ScrapeError::connection_refused(&r.address))
        };
        p.advance_to(20_000, &db, &mut down, &mut Probe::default());
        let g = &p.rule_manager().groups()[0];
        assert_eq!(
            g.evaluation_duration_ns, 0,
            "no stopwatch: no virtual time passes"
        );
        let before = g.last_evaluation_ms;
        p.set_stopwatch(Some(Rc::new(Ticking(std::cell::Cell::new(0)))));
        p.advance_to(40_000, &db, &mut down, &mut Probe::default());
        let g = &p.rule_manager().groups()[0];
        assert!(
            g.evaluation_duration_ns >= 250_000,
            "{}",
            g.evaluation_duration_ns
        );
        assert_eq!(g.evaluation_duration_ns % 250_000, 0);
        // Instants stay on the virtual clock: one slot per interval.
        assert_eq!(
            g.last_evaluation_ms.map(|t| t - before.unwrap_or(0)),
            Some(20_000)
        );
    }
}

//! The whole seed stack on one virtual clock: a TSDB, one [`Prometheus`] (scrapes, rules,
//! notifier), the built-in Alertmanager and the [`World`] — what the playground's Alerts,
//! Rules and Inbox pages read, and what `promplay sim` runs.

use std::rc::Rc;

use promplay_alertmanager::Alertmanager;
use promplay_promql::{Engine, EngineOptions, QueryError, QueryResult};
use promplay_rules::engine_query_func;
use promplay_server::notifier::{AlertSink, BuiltinAlertmanager, NoAlertmanager};
use promplay_server::prometheus::{Prometheus, PrometheusError, PrometheusOptions};
use promplay_server::scrape::TargetsView;
use promplay_server::Config;
use promplay_tsdb::{Db, Options};

use crate::world::World;

/// Prometheus and Alertmanager over the simulated world.
pub struct Stack {
    pub db: Rc<Db>,
    pub prometheus: Prometheus,
    /// `None`: no Alertmanager listens (posts fail as refused connections).
    pub alertmanager: Option<BuiltinAlertmanager>,
    pub world: World,
    engine: Engine,
    scrapes: usize,
}

impl Stack {
    /// Starts Prometheus with `config` and `rule_files` (name, content) at the world's time,
    /// over a fresh TSDB. Returns the stack and the targets or Alertmanagers that could not be
    /// created.
    pub fn new(
        config: Config,
        rule_files: &[(String, String)],
        alertmanager: Option<Alertmanager>,
        world: World,
    ) -> Result<(Stack, Vec<String>), PrometheusError> {
        Stack::with_db(
            config,
            rule_files,
            alertmanager,
            world,
            Db::new(Options::default()),
        )
    }

    /// [`Stack::new`] with a database of the host's.
    pub fn with_db(
        config: Config,
        rule_files: &[(String, String)],
        alertmanager: Option<Alertmanager>,
        world: World,
        db: Db,
    ) -> Result<(Stack, Vec<String>), PrometheusError> {
        let db = Rc::new(db);
        let query = engine_query_func(Engine::new(EngineOptions::default()), db.clone());
        let opts = PrometheusOptions {
            offset_seed: world.seed(),
            ..PrometheusOptions::default()
        };
        let (prometheus, failures) =
            Prometheus::new(config, rule_files, query, opts, world.now_ms(), &db)?;
        Ok((
            Stack {
                db,
                prometheus,
                alertmanager: alertmanager.map(BuiltinAlertmanager::new),
                world,
                engine: Engine::new(EngineOptions::default()),
                scrapes: 0,
            },
            failures,
        ))
    }

    pub fn now_ms(&self) -> i64 {
        self.world.now_ms()
    }

    /// Runs every scrape, rule evaluation, alert post and Alertmanager flush due until
    /// `t_ms` (inclusive), each at its own instant, then moves the world to `t_ms`.
    pub fn run_until(&mut self, t_ms: i64) {
        let mut none = NoAlertmanager;
        let sink: &mut dyn AlertSink = match &mut self.alertmanager {
            Some(b) => b,
            None => &mut none,
        };
        let mut fetcher = self.world.fetcher(&self.db);
        self.scrapes += self
            .prometheus
            .advance_to(t_ms, &self.db, &mut fetcher, sink)
            .scrapes;
        self.world.advance_to(t_ms);
    }

    /// Scrapes run so far.
    pub fn scrapes(&self) -> usize {
        self.scrapes
    }

    /// The scrape manager's view of its targets (`/api/v1/targets`, the Targets page).
    pub fn targets(&self) -> TargetsView {
        self.prometheus.scrape_manager().targets()
    }

    /// Evaluates `expr` at `t_ms` over everything scraped and recorded so far.
    pub fn query(&self, expr: &str, t_ms: i64) -> Result<QueryResult, QueryError> {
        self.engine.instant_query(&*self.db, expr, t_ms)
    }
}

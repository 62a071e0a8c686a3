//! The playground's engine side: the virtual clock, the data, and queries over them.
//!
//! Plain Rust (no browser): the app drives it, native tests exercise it the way the app does.

use promplay_promql::ast::Expr;
use promplay_promql::engine::{Engine, EngineOptions, QueryOptions};
use promplay_promql::parser;
use promplay_promql::value::{Annotations, Value};
use promplay_server::scrape::TargetsView;
use promplay_server::Config;
use promplay_sim::{Example, Explosion, Faults, ProgramKind, Stack, World, WorldError};
use promplay_tsdb::{Db, Options};

use crate::share::{Action, Recorded, Replay, SessionLog};
use promplay_alertmanager::matchers::Matchers;
use promplay_alertmanager::PostableSilence;
use promplay_model::{MatchType, Matcher};

/// Where the virtual clock starts: 2026-01-01 00:00:00 UTC.
pub const START_MS: i64 = 1_767_225_600_000;
/// How much simulated history exists before [`START_MS`] when the playground opens (the
/// world starts this long before, so rates have data at once and the graph's default hour
/// is full).
pub const HISTORY_MS: i64 = 3_600_000;
/// Prometheus's limit on points per series of a range query.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;
/// The seed of the simulated world (traffic, latencies, failures).
pub const WORLD_SEED: u64 = 42;
/// The seed's prometheus.yml (a copy of `peers/conf/prometheus.yml`): three jobs scraped
/// every 10 s.
pub const SEED_CONFIG: &str = include_str!("../crates/sim/examples/prometheus.yml");
/// The seed's rules.yml (`InstanceDown`: `up == 0` for 1m), the file the seed's
/// prometheus.yml names in `rule_files`.
pub const SEED_RULES: &str = include_str!("../crates/sim/examples/seed-alert/rules.yml");
/// The seed's alertmanager.yml (one email receiver, Alertmanager's default timers).
pub const SEED_ALERTMANAGER: &str =
    include_str!("../crates/sim/examples/seed-alert/alertmanager.yml");
/// The name the playground's one rule file has (what `rule_files` globs must match).
pub const RULES_FILE: &str = "rules.yml";
/// The hello app's address in the seed's world.
pub const HELLO_APP: &str = "localhost:8000";
/// The slice the clock advances by at most per call of [`Playground::advance`]'s inner loop
/// (one scrape interval's worth of work at a time).
pub const SLICE_MS: i64 = 60_000;

/// A query that failed, to show under the editor.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryError {
    /// The whole message, as Prometheus prints it (`1:17: parse error: …` for parse errors).
    pub message: String,
    /// The offending byte range of the query text, when the error has a position.
    pub span: Option<(usize, usize)>,
}

impl QueryError {
    fn plain(message: impl Into<String>) -> Self {
        QueryError {
            message: message.into(),
            span: None,
        }
    }
}

/// A query's answer: its value and the warnings/infos beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryOutcome {
    pub value: Value,
    pub annotations: Annotations,
}

/// The time range of a graph (`/api/v1/query_range`'s start, end and step), in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeParams {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl RangeParams {
    /// `range` ending at `end`, with `step` or (when `None`) Prometheus UI's automatic step:
    /// `max(range / 250, 1s)` rounded down to whole seconds.
    pub fn new(end: i64, range: i64, step: Option<i64>) -> Result<Self, QueryError> {
        if range <= 0 {
            return Err(QueryError::plain("range must be positive"));
        }
        let step = step.unwrap_or_else(|| (range / 250 / 1000).max(1) * 1000);
        if step <= 0 {
            return Err(QueryError::plain(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        if range / step > MAX_POINTS_PER_SERIES {
            return Err(QueryError::plain(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ));
        }
        Ok(RangeParams {
            start: end - range,
            end,
            step,
        })
    }
}

/// What the Targets page can do to an endpoint (the World's fault injection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostAction {
    Stop,
    Start,
    Restart,
}

/// A fault the Targets page injects into an endpoint (the World's fault injection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every answer takes this many ms longer (0 clears the delay). Longer than the scrape
    /// timeout, the scrape fails with `context deadline exceeded`.
    Slow(i64),
    /// A metric of the program gains a label with [`EXPLOSION_VALUES`] values (see
    /// [`explosion_for`]).
    Explode,
    /// The body is not an exposition: the scrape fails to parse.
    Garbage,
    /// The body is padded to [`HUGE_BYTES`].
    Huge,
    /// Clears every fault (a stopped program stays stopped).
    Heal,
}

/// How many values an exploding label takes.
pub const EXPLOSION_VALUES: usize = 500;
/// How large a huge body is (bytes).
pub const HUGE_BYTES: usize = 1_000_000;

/// The cardinality explosion the Targets page injects into a program of `kind`: one of its
/// metrics gains a `user_id` label with [`EXPLOSION_VALUES`] values.
pub fn explosion_for(kind: ProgramKind) -> Explosion {
    let metric = match kind {
        ProgramKind::HelloApp => "hello_worlds_total",
        ProgramKind::NodeExporter => "node_load1",
        ProgramKind::Prometheus => "prometheus_ready",
    };
    Explosion {
        metric: metric.to_string(),
        label: "user_id".to_string(),
        values: EXPLOSION_VALUES,
    }
}

/// The simulated world and the whole stack over it (the TSDB, one Prometheus scraping it and
/// evaluating rules, the built-in Alertmanager and its inbox), with the query engine of one
/// session.
pub struct Playground {
    sim: Stack,
    /// The text of the prometheus.yml running now (the last one that loaded).
    config_text: String,
    /// The rules.yml running now.
    rules_text: String,
    /// The alertmanager.yml running now.
    alertmanager_text: String,
    engine: Engine,
    last_retention_ms: i64,
    /// Every user action so far, with its virtual time (what a shared URL replays).
    log: Vec<Recorded>,
}

impl Default for Playground {
    fn default() -> Self {
        Self::new()
    }
}

/// The most samples one query may hold (Prometheus's default is 50,000,000; a tab has less
/// memory than a server).
pub const MAX_SAMPLES: usize = 5_000_000;

/// How long the playground keeps samples.
pub const RETENTION_MS: i64 = 24 * 3_600_000;

impl Playground {
    /// The seed's world scraped with the seed's prometheus.yml, at [`START_MS`] with
    /// [`HISTORY_MS`] of scrapes behind it.
    pub fn new() -> Self {
        let world = World::seed_world(WORLD_SEED, START_MS - HISTORY_MS);
        // The embedded seed config is valid (a native test loads it); an empty config would
        // only mean no targets, never a panic.
        let config = Config::load(SEED_CONFIG).unwrap_or_default();
        let db = Db::new(Options {
            retention_ms: Some(RETENTION_MS),
            ..Default::default()
        });
        let rule_files = rule_files_for(&config, SEED_RULES);
        // The embedded seed files are valid (native tests load them); should one ever fail,
        // the playground still starts, with no rules or no Alertmanager, never a panic.
        let am = promplay_alertmanager::Config::load(SEED_ALERTMANAGER)
            .ok()
            .and_then(|c| {
                promplay_alertmanager::Alertmanager::new(c, &[], Default::default(), world.now_ms())
                    .ok()
            });
        let sim = match Stack::with_db(config.clone(), &rule_files, am, world, db) {
            Ok((sim, _failures)) => sim,
            Err(_) => {
                let world = World::seed_world(WORLD_SEED, START_MS - HISTORY_MS);
                let db = Db::new(Options {
                    retention_ms: Some(RETENTION_MS),
                    ..Default::default()
                });
                match Stack::with_db(config, &[], None, world, db) {
                    Ok((sim, _)) => sim,
                    Err(e) => unreachable!("a stack without rule files always starts: {e}"),
                }
            }
        };
        let mut p = Playground {
            sim,
            config_text: SEED_CONFIG.to_string(),
            rules_text: SEED_RULES.to_string(),
            alertmanager_text: SEED_ALERTMANAGER.to_string(),
            engine: Engine::new(EngineOptions {
                max_samples: MAX_SAMPLES,
                ..Default::default()
            }),
            last_retention_ms: START_MS - HISTORY_MS,
            log: Vec::new(),
        };
        p.advance_to(START_MS);
        p
    }

    /// The virtual time, ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.sim.now_ms()
    }

    /// Moves the virtual clock forward by `ms` (negative values are ignored), running the
    /// scrapes and requests that became due.
    pub fn advance(&mut self, ms: i64) {
        self.advance_to(self.now_ms().saturating_add(ms.max(0)));
    }

    /// Moves the virtual clock forward to `t` (earlier times are ignored: the world only
    /// moves forward). Callers that must stay responsive advance in slices (see
    /// [`crate::timecontrols::Driver`]).
    ///
    /// Slices end on whole minutes and retention runs at each whole minute, so how the time
    /// was reached (one jump, many small steps) never changes the result: a shared session
    /// replays bit for bit (see [`crate::share`]).
    pub fn advance_to(&mut self, t: i64) {
        while self.now_ms() < t {
            let boundary = (self.now_ms().div_euclid(SLICE_MS) + 1).saturating_mul(SLICE_MS);
            let next = boundary.min(t);
            self.sim.run_until(next);
            if next.rem_euclid(60_000) == 0 && next > self.last_retention_ms {
                self.sim.db.apply_retention(next);
                self.last_retention_ms = next;
            }
        }
    }

    /// Scrapes run so far.
    pub fn scrapes(&self) -> usize {
        self.sim.scrapes()
    }

    /// The prometheus.yml running now.
    pub fn config_text(&self) -> &str {
        &self.config_text
    }

    /// Reloads prometheus.yml from `text` now, as Prometheus's `/-/reload` does: a config that
    /// does not load is refused with its error and the running one keeps scraping; a valid
    /// one replaces it (removed jobs stop, changed jobs restart, new jobs start). Returns the
    /// target-creation failures of the new config (it is applied even so).
    pub fn apply_config(&mut self, text: &str) -> Result<Vec<String>, String> {
        let config = check_config(text)?;
        let rules = self.rules_text.clone();
        let failures = self.reload(config, &rules)?;
        self.config_text = text.to_string();
        self.record(Action::Config {
            text: text.to_string(),
        });
        Ok(failures)
    }

    /// The rules.yml running now.
    pub fn rules_text(&self) -> &str {
        &self.rules_text
    }

    /// Reloads rules.yml from `text` now (with the running prometheus.yml), as
    /// `POST /-/reload` does: rules that do not load are refused with every error (each
    /// naming its line) and the running groups keep evaluating; valid rules replace them,
    /// groups that survive keeping their alerts' state.
    pub fn apply_rules(&mut self, text: &str) -> Result<(), String> {
        check_rules(text)?;
        let config = self.sim.prometheus.config().clone();
        self.reload(config, text)?;
        self.rules_text = text.to_string();
        self.record(Action::Rules {
            text: text.to_string(),
        });
        Ok(())
    }

    fn reload(&mut self, config: Config, rules: &str) -> Result<Vec<String>, String> {
        let now = self.now_ms();
        let files = rule_files_for(&config, rules);
        self.sim
            .prometheus
            .apply_config(config, &files, now, &self.sim.db)
            .map_err(|e| e.to_string())
    }

    /// The alertmanager.yml running now.
    pub fn alertmanager_text(&self) -> &str {
        &self.alertmanager_text
    }

    /// Reloads alertmanager.yml from `text` now: a config that does not load is refused and
    /// the running one keeps routing; a valid one replaces it, keeping alerts, silences and
    /// the notification log (as Alertmanager's reload does).
    pub fn apply_alertmanager(&mut self, text: &str) -> Result<(), String> {
        let config = check_alertmanager(text)?;
        let now = self.now_ms();
        match &mut self.sim.alertmanager {
            Some(b) => {
                b.am.apply_config(config, &[], now)
                    .map_err(|e| e.to_string())?
            }
            None => {
                let am =
                    promplay_alertmanager::Alertmanager::new(config, &[], Default::default(), now)
                        .map_err(|e| e.to_string())?;
                self.sim.alertmanager =
                    Some(promplay_server::notifier::BuiltinAlertmanager::new(am));
            }
        }
        self.alertmanager_text = text.to_string();
        self.record(Action::Alertmanager {
            text: text.to_string(),
        });
        Ok(())
    }

    /// The whole stack: Prometheus (rule manager, alert log, notifier), the built-in
    /// Alertmanager (silences, notification log, inbox) and the world.
    pub fn stack(&self) -> &Stack {
        &self.sim
    }

    /// The stack, for actions (adding and expiring silences).
    pub fn stack_mut(&mut self) -> &mut Stack {
        &mut self.sim
    }

    /// The TSDB, for reading (e.g. its stats).
    pub fn db(&self) -> &Db {
        &self.sim.db
    }

    /// The scrape manager's view of its targets (the Targets page).
    pub fn targets(&self) -> TargetsView {
        self.sim.targets()
    }

    /// Stops, starts or restarts the program at `address` now.
    pub fn act(&mut self, address: &str, action: HostAction) -> Result<(), WorldError> {
        let h = address.to_string();
        match action {
            HostAction::Stop => self.sim.world.stop(address)?,
            HostAction::Start => self.sim.world.start(address)?,
            HostAction::Restart => self.sim.world.restart(address)?,
        }
        self.record(match action {
            HostAction::Stop => Action::Stop { h },
            HostAction::Start => Action::Start { h },
            HostAction::Restart => Action::Restart { h },
        });
        Ok(())
    }

    /// Whether the program at `address` runs.
    pub fn is_running(&self, address: &str) -> bool {
        self.sim
            .world
            .hosts()
            .iter()
            .any(|h| h.address == address && h.running)
    }

    /// The code variant the hello app runs.
    pub fn example(&self) -> Option<Example> {
        self.sim.world.hello(HELLO_APP).map(|a| a.example())
    }

    /// Deploys `example` on the hello app (its process restarts, as a redeploy does).
    pub fn set_example(&mut self, example: Example) -> Result<(), WorldError> {
        if self.example() == Some(example) {
            return Ok(());
        }
        self.sim.world.set_example(HELLO_APP, example)?;
        self.record(Action::Deploy {
            example: example.name().to_string(),
        });
        Ok(())
    }

    /// Turns on (or off) the hello app's tracking of what its last request changed.
    pub fn track_changes(&mut self, on: bool) {
        if let Some(app) = self.sim.world.hello_mut(HELLO_APP) {
            app.set_track_changes(on);
        }
    }

    /// Sends one request to the hello app now (it completes after its latency).
    pub fn send_request(&mut self) -> Result<(), WorldError> {
        self.sim.world.send_request(HELLO_APP)?;
        self.record(Action::Request);
        Ok(())
    }

    /// The hello app's `/metrics` now, as `curl` shows it (text format 0.0.4), with the
    /// indices of the lines its last request changed. An error message if it is down.
    pub fn app_metrics(&mut self) -> Result<(String, Vec<usize>), String> {
        let now = self.now_ms();
        let resp = self
            .sim
            .world
            .get(HELLO_APP, "/metrics", None, now)
            .map_err(|e| e.message(&format!("http://{HELLO_APP}/metrics")))?;
        let body = String::from_utf8_lossy(&resp.body).into_owned();
        let changed = self
            .sim
            .world
            .hello(HELLO_APP)
            .map(|a| a.changed_lines(&body))
            .unwrap_or_default();
        Ok((body, changed))
    }

    /// Evaluates `query` at instant `t` (ms). `interrupt` is polled during evaluation; when it
    /// returns true the query stops with Prometheus's timeout error.
    pub fn instant_query(
        &self,
        query: &str,
        t: i64,
        interrupt: Option<&dyn Fn() -> bool>,
    ) -> Result<QueryOutcome, QueryError> {
        let expr = parse_query(query)?;
        check_subquery_steps(&expr, 0, 0)?;
        let qo = QueryOptions {
            interrupt,
            ..Default::default()
        };
        self.engine
            .instant_query_expr(&*self.sim.db, &expr, t, &qo)
            .map(|r| QueryOutcome {
                value: r.value,
                annotations: r.annotations,
            })
            .map_err(|e| QueryError::plain(e.to_string()))
    }

    /// Evaluates `query` over `range` (a matrix, one series per label set).
    pub fn range_query(
        &self,
        query: &str,
        range: RangeParams,
        interrupt: Option<&dyn Fn() -> bool>,
    ) -> Result<QueryOutcome, QueryError> {
        let expr = parse_query(query)?;
        check_subquery_steps(&expr, range.step, range.end - range.start)?;
        let qo = QueryOptions {
            interrupt,
            ..Default::default()
        };
        self.engine
            .range_query_expr(
                &*self.sim.db,
                &expr,
                range.start,
                range.end,
                range.step,
                &qo,
            )
            .map(|r| QueryOutcome {
                value: r.value,
                annotations: r.annotations,
            })
            .map_err(|e| QueryError::plain(e.to_string()))
    }

    /// Injects `fault` into the program at `address` now (the Targets page's fault buttons).
    pub fn inject(&mut self, address: &str, fault: Fault) -> Result<(), WorldError> {
        let h = address.to_string();
        let kind = self
            .sim
            .world
            .hosts()
            .into_iter()
            .find(|i| i.address == address)
            .map(|i| i.kind)
            .ok_or_else(|| WorldError::NoSuchHost(h.clone()))?;
        let world = &mut self.sim.world;
        let action = match fault {
            Fault::Slow(ms) => {
                world.set_delay(address, ms)?;
                Action::Slow { h, ms: ms.max(0) }
            }
            Fault::Explode => {
                world.set_explosion(address, Some(explosion_for(kind)))?;
                Action::Explode { h }
            }
            Fault::Garbage => {
                world.set_garbage(address, true)?;
                Action::Garbage { h }
            }
            Fault::Huge => {
                world.set_huge(address, HUGE_BYTES)?;
                Action::Huge { h }
            }
            Fault::Heal => {
                world.heal(address)?;
                Action::Heal { h }
            }
        };
        self.record(action);
        Ok(())
    }

    /// The faults injected into the program at `address` (`None`: no such program).
    pub fn faults(&self, address: &str) -> Option<Faults> {
        self.sim
            .world
            .hosts()
            .into_iter()
            .find(|i| i.address == address)
            .map(|i| i.faults)
    }

    /// Adds a silence to the built-in Alertmanager now; its ID, or the engine's refusal.
    pub fn add_silence(&mut self, s: PostableSilence) -> Result<String, String> {
        let now = self.now_ms();
        let b = self.sim.alertmanager.as_mut().ok_or(NO_ALERTMANAGER)?;
        let action = Action::Silence {
            m: s.matchers
                .iter()
                .map(|m| [m.name.clone(), m.kind.as_str().to_string(), m.value.clone()])
                .collect(),
            starts: s.starts_at,
            ends: s.ends_at,
            by: s.created_by.clone(),
            comment: s.comment.clone(),
        };
        let id = b.am.silences_mut().set(s, now).map_err(|e| e.to_string())?;
        self.record(action);
        Ok(id)
    }

    /// Expires the silence `id` now.
    pub fn expire_silence(&mut self, id: &str) -> Result<(), String> {
        let now = self.now_ms();
        let b = self.sim.alertmanager.as_mut().ok_or(NO_ALERTMANAGER)?;
        b.am.silences_mut()
            .expire(id, now)
            .map_err(|e| e.to_string())?;
        self.record(Action::Expire { id: id.to_string() });
        Ok(())
    }

    fn record(&mut self, action: Action) {
        let t = self.now_ms();
        self.log.push(Recorded { t, action });
    }

    /// The actions so far, with their virtual times.
    pub fn actions(&self) -> &[Recorded] {
        &self.log
    }

    /// This session: the actions so far and the virtual time now (encode it with
    /// [`SessionLog::encode`] for a URL).
    pub fn session(&self) -> SessionLog {
        SessionLog {
            seed: WORLD_SEED,
            start_ms: START_MS,
            end_ms: self.now_ms(),
            actions: self.log.clone(),
        }
    }

    /// A fresh playground with `log` replayed: each action at its instant, then the clock
    /// advanced to the session's time. A session that does not replay is refused.
    pub fn replay(log: &SessionLog) -> Result<Playground, String> {
        let mut r = Replay::new(log.clone())?;
        let mut p = Playground::new();
        while !r.step(&mut p)? {}
        Ok(p)
    }

    /// Performs a recorded action now, as the page would (it is recorded again).
    pub fn perform(&mut self, action: &Action) -> Result<(), String> {
        let e = |e: WorldError| e.to_string();
        match action {
            Action::Stop { h } => self.act(h, HostAction::Stop).map_err(e),
            Action::Start { h } => self.act(h, HostAction::Start).map_err(e),
            Action::Restart { h } => self.act(h, HostAction::Restart).map_err(e),
            Action::Slow { h, ms } => self.inject(h, Fault::Slow(*ms)).map_err(e),
            Action::Explode { h } => self.inject(h, Fault::Explode).map_err(e),
            Action::Garbage { h } => self.inject(h, Fault::Garbage).map_err(e),
            Action::Huge { h } => self.inject(h, Fault::Huge).map_err(e),
            Action::Heal { h } => self.inject(h, Fault::Heal).map_err(e),
            Action::Deploy { example } => {
                let ex = Example::from_name(example)
                    .ok_or_else(|| format!("no example named {example:?}"))?;
                self.set_example(ex).map_err(e)
            }
            Action::Request => self.send_request().map_err(e),
            Action::Config { text } => self.apply_config(text).map(|_| ()),
            Action::Rules { text } => self.apply_rules(text),
            Action::Alertmanager { text } => self.apply_alertmanager(text),
            Action::Silence {
                m,
                starts,
                ends,
                by,
                comment,
            } => {
                let matchers = m
                    .iter()
                    .map(|[name, op, value]| {
                        let kind = match op.as_str() {
                            "=" => MatchType::Equal,
                            "!=" => MatchType::NotEqual,
                            "=~" => MatchType::Regexp,
                            "!~" => MatchType::NotRegexp,
                            other => return Err(format!("bad matcher operator {other:?}")),
                        };
                        Matcher::new(kind, name, value).map_err(|e| e.to_string())
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.add_silence(PostableSilence {
                    id: None,
                    matchers: Matchers::new(matchers),
                    starts_at: *starts,
                    ends_at: *ends,
                    created_by: by.clone(),
                    comment: comment.clone(),
                })
                .map(|_| ())
            }
            Action::Expire { id } => self.expire_silence(id),
        }
    }
}

/// Why a silence cannot be added or expired when no Alertmanager runs.
pub const NO_ALERTMANAGER: &str = "no Alertmanager runs (alertmanager.yml did not load)";

/// Loads `text` as prometheus.yml; the error names the line and the field when the YAML
/// does not decode.
pub fn check_config(text: &str) -> Result<Config, String> {
    Config::load(text).map_err(|e| e.to_string())
}

/// Checks `text` as a rule file, as `promtool check rules` does (YAML, fields, every
/// expression and template); the errors, one per line, name the rule's line.
pub fn check_rules(text: &str) -> Result<(), String> {
    let report = promplay_rules::check::check_rules(RULES_FILE, text, false, false);
    if report.ok() {
        Ok(())
    } else {
        Err(report.errors.join("\n"))
    }
}

/// Loads `text` as alertmanager.yml (routes, receivers, inhibit rules, time intervals).
pub fn check_alertmanager(text: &str) -> Result<promplay_alertmanager::Config, String> {
    promplay_alertmanager::Config::load(text).map_err(|e| e.to_string())
}

/// The rule files `config` loads, given the playground's one rules.yml: the file when a
/// `rule_files` pattern matches its name, nothing otherwise.
fn rule_files_for(config: &Config, rules: &str) -> Vec<(String, String)> {
    if config
        .rule_files
        .iter()
        .any(|p| promplay_alertmanager::glob_match(p, RULES_FILE))
    {
        vec![(RULES_FILE.to_string(), rules.to_string())]
    } else {
        Vec::new()
    }
}

/// The most steps one subquery may evaluate per series (over its whole window: the query's
/// range plus its own and its enclosing subqueries' ranges). The engine polls the deadline
/// between steps of an operator but not inside one selector's walk; this bound keeps every
/// such walk short (a million steps is milliseconds).
pub const MAX_SUBQUERY_STEPS: i64 = 1_000_000;

/// Rejects subqueries whose resolution would make evaluation run for minutes.
fn check_subquery_steps(expr: &Expr, step_ms: i64, span_ms: i64) -> Result<(), QueryError> {
    let mut stack = vec![(expr, span_ms)];
    while let Some((e, window)) = stack.pop() {
        let mut w = window;
        if let Expr::Subquery(sq) = e {
            let range = sq.range.resolve(step_ms, span_ms).unwrap_or(0).max(0);
            let step = sq
                .step
                .as_ref()
                .and_then(|d| d.resolve(step_ms, span_ms).ok())
                .filter(|s| *s > 0)
                .unwrap_or(EngineOptions::default().no_step_subquery_interval_ms);
            w = window.saturating_add(range);
            if w / step > MAX_SUBQUERY_STEPS {
                return Err(QueryError {
                    message: format!(
                        "subquery would evaluate {} steps per series; the playground allows at most {MAX_SUBQUERY_STEPS} (use a longer subquery step)",
                        w / step
                    ),
                    span: Some((sq.span.start as usize, sq.span.end as usize)),
                });
            }
        }
        stack.extend(e.children().into_iter().map(|c| (c, w)));
    }
    Ok(())
}

/// Parses with Prometheus's default options; a parse error keeps its first error's span.
fn parse_query(query: &str) -> Result<Expr, QueryError> {
    parser::parse(query).map_err(|errs| QueryError {
        message: errs.to_string(),
        span: errs
            .first()
            .map(|e| (e.span.start as usize, e.span.end as usize)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape;

    impl QueryOutcome {
        fn value_len(&self) -> usize {
            shape::table(&self.value).total
        }
    }

    fn rows(p: &Playground, q: &str) -> Vec<(String, String)> {
        let o = p.instant_query(q, p.now_ms(), None).unwrap();
        shape::table(&o.value)
            .rows
            .into_iter()
            .map(|r| (r.labels, r.value))
            .collect()
    }

    #[test]
    fn the_seed_config_loads() {
        let c = Config::load(SEED_CONFIG).unwrap();
        assert_eq!(c.scrape_configs.len(), 3);
    }

    #[test]
    fn up_has_one_row_per_target() {
        let p = Playground::new();
        assert_eq!(p.now_ms(), START_MS);
        // an hour of scrapes of 3 targets every 10 s
        assert!(p.scrapes() >= 3 * 359, "{}", p.scrapes());
        assert_eq!(
            rows(&p, "up"),
            vec![
                (
                    r#"up{instance="localhost:8000", job="example"}"#.into(),
                    "1".into()
                ),
                (
                    r#"up{instance="localhost:9100", job="node"}"#.into(),
                    "1".into()
                ),
                (
                    r#"up{instance="localhost:9090", job="prometheus"}"#.into(),
                    "1".into()
                ),
            ]
        );
    }

    #[test]
    fn a_stopped_exporter_is_down_and_its_series_go_stale() {
        let mut p = Playground::new();
        assert!(p.is_running("localhost:9100"));
        p.act("localhost:9100", HostAction::Stop).unwrap();
        assert!(!p.is_running("localhost:9100"));
        p.advance(30_000);
        let r = rows(&p, "up == 0");
        assert_eq!(r.len(), 1);
        assert!(r[0].0.contains("localhost:9100"), "{r:?}");
        assert_eq!(rows(&p, "count(node_load1)"), vec![]);
        p.act("localhost:9100", HostAction::Start).unwrap();
        p.advance(30_000);
        assert_eq!(rows(&p, "up == 0"), vec![]);
        assert_eq!(
            rows(&p, "count(node_load1)"),
            vec![("{}".into(), "1".into())]
        );
        assert!(p.act("localhost:1234", HostAction::Stop).is_err());
    }

    #[test]
    fn rates_are_positive_and_scalars_and_strings_show() {
        let p = Playground::new();
        let r = rows(&p, "rate(hello_worlds_total[1m])");
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].0.contains(r#"job="example""#), "{r:?}");
        let v: f64 = r[0].1.parse().unwrap();
        assert!(v > 0.1 && v < 5.0, "{r:?}");
        assert_eq!(rows(&p, "1 + 1"), vec![("scalar".into(), "2".into())]);
        assert_eq!(rows(&p, r#""hi""#), vec![("string".into(), "hi".into())]);
    }

    #[test]
    fn advancing_is_forward_only_and_whole() {
        let mut p = Playground::new();
        p.advance(-5);
        assert_eq!(p.now_ms(), START_MS);
        p.advance_to(START_MS - 1);
        assert_eq!(p.now_ms(), START_MS);
        let before = p.scrapes();
        p.advance(150_000);
        assert_eq!(p.now_ms(), START_MS + 150_000);
        // 3 targets every 10 s
        assert_eq!(p.scrapes() - before, 45);
    }

    #[test]
    fn parse_errors_carry_position_and_span() {
        let p = Playground::new();
        let e = p
            .instant_query("sum(rate(up[5m])", p.now_ms(), None)
            .unwrap_err();
        let (pos, rest) = e.message.split_once(": ").unwrap();
        let (line, col) = pos.split_once(':').unwrap();
        assert_eq!(line, "1");
        assert!(col.parse::<usize>().is_ok(), "{}", e.message);
        assert!(rest.starts_with("parse error: "), "{}", e.message);
        let (a, b) = e.span.unwrap();
        assert!(a <= b && b <= "sum(rate(up[5m])".len());
    }

    #[test]
    fn range_query_has_one_point_per_step() {
        let p = Playground::new();
        let range = RangeParams::new(p.now_ms(), 3_600_000, None).unwrap();
        assert_eq!(range.step, 14_000);
        let o = p.range_query("up", range, None).unwrap();
        let g = shape::graph(&o.value);
        assert_eq!(g.len(), 3);
        // the world started an hour before now: every step sees a scrape
        for s in &g {
            assert!(s.points.len() >= 250, "{}: {}", s.label, s.points.len());
            assert!(s.points.iter().all(|p| p.1 == 1.0), "{}", s.label);
        }
    }

    #[test]
    fn interrupt_stops_a_query() {
        let p = Playground::new();
        let stop = || true;
        let range = RangeParams::new(p.now_ms(), 3_600_000, Some(1000)).unwrap();
        let e = p
            .range_query("rate(node_cpu_seconds_total[5m])", range, Some(&stop))
            .unwrap_err();
        assert!(e.message.contains("query timed out"), "{}", e.message);
    }

    #[test]
    fn huge_queries_end_with_an_error_not_a_hang() {
        let p = Playground::new();
        let polls = std::cell::Cell::new(0u32);
        let stop = || {
            polls.set(polls.get() + 1);
            polls.get() > 100_000
        };
        for q in [
            "count_over_time(up[1y:1ms])",
            "max_over_time(sum(rate(hello_worlds_total[5m]))[1y:10ms])",
            "max_over_time(max_over_time(up[1d:1s])[2w:])",
        ] {
            let e = p.instant_query(q, p.now_ms(), Some(&stop)).unwrap_err();
            assert!(
                e.message.starts_with("subquery would evaluate"),
                "{q}: {}",
                e.message
            );
            let (a, b) = e.span.unwrap();
            assert!(
                q[a..b].contains(':'),
                "{q}: the span {:?} is a subquery",
                &q[a..b]
            );
            polls.set(0);
        }
        // A fine-grained but sane subquery runs.
        let q = "max_over_time(rate(node_cpu_seconds_total[5m])[1h:1s])";
        assert_eq!(
            p.instant_query(q, p.now_ms(), Some(&stop))
                .unwrap()
                .value_len(),
            16,
            "2 CPUs x 8 modes"
        );
        // In a range query the subquery's window includes the graph's range.
        let range = RangeParams::new(p.now_ms(), 86_400_000, Some(86_400)).unwrap();
        let e = p
            .range_query("max_over_time(up[1h:50ms])", range, None)
            .unwrap_err();
        assert!(
            e.message.starts_with("subquery would evaluate"),
            "{}",
            e.message
        );
    }

    #[test]
    fn range_limits_are_prometheus_limits() {
        assert!(RangeParams::new(0, 3_600_000, Some(0)).is_err());
        assert!(RangeParams::new(0, 0, None).is_err());
        let e = RangeParams::new(0, 86_400_000, Some(1000)).unwrap_err();
        assert!(e
            .message
            .starts_with("exceeded maximum resolution of 11,000 points"));
    }

    #[test]
    fn a_broken_config_is_refused_and_the_old_one_keeps_scraping() {
        let mut p = Playground::new();
        let broken = SEED_CONFIG.replace("scrape_interval: 10s", "scrape_interval: 1x");
        let e = p.apply_config(&broken).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("scrape_interval"), "{e}");
        assert_eq!(check_config(&broken).unwrap_err(), e);
        assert_eq!(p.config_text(), SEED_CONFIG);
        let before = p.scrapes();
        p.advance(60_000);
        // still 3 targets every 10 s
        assert_eq!(p.scrapes() - before, 18);
        assert_eq!(rows(&p, "count(up == 1)"), vec![("{}".into(), "3".into())]);
    }

    #[test]
    fn a_good_config_is_applied_now() {
        let mut p = Playground::new();
        let without_node = SEED_CONFIG
            .replace(
                "  - job_name: node\n    static_configs:\n      - targets:\n          - localhost:9100\n",
                "",
            )
            .replace("scrape_interval: 10s", "scrape_interval: 30s");
        assert_ne!(without_node, SEED_CONFIG);
        assert_eq!(p.apply_config(&without_node), Ok(vec![]));
        assert_eq!(p.config_text(), without_node);
        let before = p.scrapes();
        p.advance(120_000);
        // 2 targets every 30 s
        assert_eq!(p.scrapes() - before, 8);
        let up = rows(&p, "up");
        assert_eq!(up.len(), 2, "{up:?}");
        assert!(up.iter().all(|(l, _)| !l.contains("node")), "{up:?}");
        let jobs: Vec<String> = p
            .targets()
            .active
            .iter()
            .map(|t| t.scrape_pool.clone())
            .collect();
        assert!(!jobs.contains(&"node".to_string()), "{jobs:?}");
    }

    /// The seed's story, stepped as the Alerts page steps it (one evaluation interval at a
    /// time): the exporter stops, `up` drops at the next scrape, the alert is pending at the
    /// next evaluation, firing one minute later, and the email lands group_wait after that.
    #[test]
    fn the_seed_alert_goes_pending_firing_and_reaches_the_inbox() {
        let mut p = Playground::new();
        let stop = p.now_ms();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        let mut pending = None;
        let mut firing = None;
        let mut email = None;
        while p.now_ms() < stop + 180_000 {
            p.advance(10_000);
            let log = p.stack().prometheus.alert_log();
            for t in log
                .iter()
                .filter(|t| t.rule == "InstanceDown" && t.at_ms >= stop)
            {
                match t.state.as_str() {
                    "pending" => pending = pending.or(Some(t.at_ms - stop)),
                    "firing" => firing = firing.or(Some(t.at_ms - stop)),
                    _ => {}
                }
            }
            let inbox = &p.stack().alertmanager.as_ref().unwrap().inbox;
            if let Some(n) = inbox.notifications.first() {
                email = email.or(Some((n.at_ms - stop, n.clone())));
            }
        }
        let (pending, firing) = (pending.unwrap(), firing.unwrap());
        // one scrape interval and one evaluation interval at most
        assert!(pending > 0 && pending <= 20_000, "{pending}");
        assert_eq!(firing - pending, 60_000);
        let (at, n) = email.expect("an email");
        assert_eq!(at - firing, 30_000);
        match &n.payload {
            promplay_alertmanager::notify::Payload::Email(m) => {
                assert_eq!(m.subject, "[FIRING:1]  (InstanceDown localhost:9100 node)");
                assert_eq!(m.to, vec!["youraddress@example.org".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        // exactly one email: no resolved email (send_resolved defaults to false)
        p.act("localhost:9100", HostAction::Start).unwrap();
        p.advance(600_000);
        let inbox = &p.stack().alertmanager.as_ref().unwrap().inbox;
        assert_eq!(inbox.notifications.len(), 1);
    }

    /// The values of `q` at `t`, as bits (NaN-safe, exact).
    pub(crate) fn bits(p: &Playground, q: &str, t: i64) -> Vec<(String, u64)> {
        let o = p.instant_query(q, t, None).unwrap();
        match o.value {
            Value::Vector(v) => v
                .iter()
                .map(|s| (s.metric.to_string(), s.f.to_bits()))
                .collect(),
            Value::Scalar { v, .. } => vec![(String::new(), v.to_bits())],
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn how_the_clock_got_there_does_not_change_the_samples() {
        let mut a = Playground::new();
        let mut b = Playground::new();
        let end = START_MS + 3 * 3_600_000 + 12_345;
        a.advance_to(end);
        let mut step = 1_000;
        while b.now_ms() < end {
            b.advance_to((b.now_ms() + step).min(end));
            step = (step * 7 + 333) % 95_000 + 1;
        }
        for q in [
            "up",
            "rate(hello_worlds_total[1m])",
            "sum(rate(node_cpu_seconds_total[5m]))",
            "prometheus_tsdb_head_series",
            "count_over_time(scrape_duration_seconds[3h])",
            "sum(hello_worlds_total)",
        ] {
            for t in [end, end - 3_600_000] {
                assert_eq!(bits(&a, q, t), bits(&b, q, t), "{q} at {t}");
            }
        }
        // Every series' samples over the whole history.
        let names = bits(&a, "group by (__name__) ({__name__=~\".+\"})", end);
        assert!(names.len() > 50, "{}", names.len());
        for (n, _) in names {
            let name = n.trim_start_matches("{__name__=\"").trim_end_matches("\"}");
            let q = format!("count_over_time({name}[5h])");
            assert_eq!(bits(&a, &q, end), bits(&b, &q, end), "{q}");
        }
        let (sa, sb) = (a.db().stats(), b.db().stats());
        assert_eq!(
            (sa.series, sa.samples, sa.chunks, sa.max_time),
            (sb.series, sb.samples, sb.chunks, sb.max_time)
        );
    }

    #[test]
    fn broken_rules_are_refused_with_their_line_and_the_old_ones_keep_running() {
        let mut p = Playground::new();
        let broken = "groups:\n  - name: example\n    rules:\n      - alert: InstanceDown\n        expr: up ==\n";
        let err = p.apply_rules(broken).unwrap_err();
        assert!(err.contains("rules.yml") && err.contains('5'), "{err}");
        assert_eq!(p.rules_text(), SEED_RULES);
        let groups = p.stack().prometheus.rule_manager().groups();
        assert_eq!(groups.len(), 1);
        let good = "groups:\n  - name: other\n    interval: 30s\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n";
        assert_eq!(p.apply_rules(good), Ok(()));
        p.advance(60_000);
        assert_eq!(
            rows(&p, "count(job:up:sum)"),
            vec![("{}".into(), "3".into())]
        );
    }

    #[test]
    fn a_broken_alertmanager_yml_is_refused_and_a_good_one_routes() {
        let mut p = Playground::new();
        let err = p
            .apply_alertmanager("route:\n  receiver: nobody\n")
            .unwrap_err();
        assert!(err.contains("nobody"), "{err}");
        assert_eq!(p.alertmanager_text(), SEED_ALERTMANAGER);
        let hook = "route:\n  receiver: hook\n  group_wait: 5s\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:5001/\n";
        assert_eq!(p.apply_alertmanager(hook), Ok(()));
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(150_000);
        let inbox = &p.stack().alertmanager.as_ref().unwrap().inbox;
        assert_eq!(inbox.notifications.len(), 1);
        assert_eq!(inbox.notifications[0].receiver, "hook");
    }
}

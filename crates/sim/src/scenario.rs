//! Headless runs of the scenario files `promplay sim` reads (format: the crate's README), on
//! a [`Stack`] over a [`World`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value as Json};

use promplay_alertmanager::{Alertmanager, Payload};
use promplay_model::Labels;
use promplay_promql::value::Value;
use promplay_rules::AlertState;
use promplay_server::{Config, Duration};

use crate::hello::Example;
use crate::stack::Stack;
use crate::traffic::{Latency, Traffic};
use crate::world::{Explosion, ProgramKind, World, WorldError};

/// 2026-01-01T00:00:00Z, where scenarios start unless they say otherwise.
pub const DEFAULT_START_MS: i64 = 1_767_225_600_000;

/// Why a scenario could not be loaded or run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The YAML did not decode (syntax, unknown field, wrong type, bad value).
    #[error("{}", match line { Some(l) => format!("line {l}: {message}"), None => message.clone() })]
    Yaml {
        line: Option<usize>,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("prometheus config: {0}")]
    Config(String),
    /// A rule file did not load.
    #[error("{0}")]
    Rules(String),
    /// The alertmanager.yml did not load or build.
    #[error("alertmanager config: {0}")]
    Alertmanager(String),
    #[error("{0}")]
    World(#[from] WorldError),
}

// ---------------------------------------------------------------------------------------------
// The file format.

fn default_start() -> i64 {
    DEFAULT_START_MS / 1000
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    config: String,
    #[serde(default)]
    seed: u64,
    #[serde(default = "default_start")]
    start: i64,
    duration: Duration,
    #[serde(default)]
    programs: BTreeMap<String, String>,
    #[serde(default)]
    traffic: BTreeMap<String, RawTraffic>,
    #[serde(default)]
    events: Vec<Event>,
    #[serde(default)]
    queries: Vec<Query>,
    #[serde(default)]
    rules: Option<Vec<String>>,
    #[serde(default)]
    alertmanager: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    rate: f64,
    #[serde(default)]
    latency: Option<RawLatency>,
    #[serde(default)]
    example: Option<String>,
    #[serde(default)]
    failure_ratio: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    distribution: String,
    mean: Duration,
    #[serde(default)]
    sigma: Option<f64>,
}

/// Load on one app: rate, latency, code variant.
#[derive(Clone, Debug, PartialEq)]
pub struct AppTraffic {
    pub address: String,
    pub traffic: Traffic,
    pub example: Option<Example>,
}

impl TryFrom<RawTraffic> for Traffic {
    type Error = String;
    fn try_from(r: RawTraffic) -> Result<Traffic, String> {
        if !(r.rate.is_finite() && r.rate >= 0.0) {
            return Err(format!(
                "rate must be a non-negative number, got {}",
                r.rate
            ));
        }
        let mut t = Traffic {
            rate: r.rate,
            ..Traffic::default()
        };
        if let Some(f) = r.failure_ratio {
            if !(0.0..=1.0).contains(&f) {
                return Err(format!("failure_ratio must be between 0 and 1, got {f}"));
            }
            t.failure_ratio = f;
        }
        if let Some(l) = r.latency {
            let mean = l.mean.as_secs_f64();
            t.latency = match (l.distribution.as_str(), l.sigma) {
                ("constant", None) => Latency::Constant { mean },
                ("exponential", None) => Latency::Exponential { mean },
                ("lognormal", sigma) => {
                    let sigma = sigma.unwrap_or(0.5);
                    if !(sigma.is_finite() && sigma >= 0.0) {
                        return Err(format!("sigma must be a non-negative number, got {sigma}"));
                    }
                    if mean <= 0.0 {
                        return Err("a lognormal latency needs a mean above 0".to_string());
                    }
                    Latency::LogNormal { mean, sigma }
                }
                ("constant" | "exponential", Some(_)) => {
                    return Err(format!(
                        "sigma applies to the lognormal distribution, not {}",
                        l.distribution
                    ))
                }
                (d, _) => {
                    return Err(format!(
                        "unknown latency distribution {d:?} (constant, exponential, lognormal)"
                    ))
                }
            };
        }
        Ok(t)
    }
}

/// What happens at an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Stop(String),
    Start(String),
    Restart(String),
    /// Answers take `delay` longer (0s clears).
    Slow {
        address: String,
        delay: Duration,
    },
    Explode {
        address: String,
        explosion: Explosion,
    },
    Garbage(String),
    Huge {
        address: String,
        bytes: usize,
    },
    /// Clears every fault.
    Heal(String),
    /// New load on an app.
    Traffic {
        address: String,
        rate: f64,
    },
}

/// A timed event.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "RawEvent")]
pub struct Event {
    /// Since the start of the run.
    pub at: Duration,
    pub action: Action,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: Duration,
    stop: Option<String>,
    start: Option<String>,
    restart: Option<String>,
    slow: Option<String>,
    delay: Option<Duration>,
    explode: Option<String>,
    metric: Option<String>,
    label: Option<String>,
    values: Option<usize>,
    garbage: Option<String>,
    huge: Option<String>,
    bytes: Option<usize>,
    heal: Option<String>,
    traffic: Option<String>,
    rate: Option<f64>,
}

impl TryFrom<RawEvent> for Event {
    type Error = String;
    fn try_from(r: RawEvent) -> Result<Event, String> {
        let mut actions: Vec<(&str, Action)> = Vec::new();
        if let Some(a) = r.stop {
            actions.push(("stop", Action::Stop(a)));
        }
        if let Some(a) = r.start {
            actions.push(("start", Action::Start(a)));
        }
        if let Some(a) = r.restart {
            actions.push(("restart", Action::Restart(a)));
        }
        if let Some(a) = r.slow {
            let delay = r
                .delay
                .ok_or("slow needs a delay (how long answers take, e.g. delay: 15s)")?;
            actions.push(("slow", Action::Slow { address: a, delay }));
        } else if r.delay.is_some() {
            return Err("delay only goes with slow".to_string());
        }
        if let Some(a) = r.explode {
            let explosion = Explosion {
                metric: r
                    .metric
                    .ok_or("explode needs a metric (the name that gains a label)")?,
                label: r.label.unwrap_or_else(|| "path".to_string()),
                values: r
                    .values
                    .ok_or("explode needs values (how many label values)")?,
            };
            actions.push((
                "explode",
                Action::Explode {
                    address: a,
                    explosion,
                },
            ));
        } else if r.metric.is_some() || r.label.is_some() || r.values.is_some() {
            return Err("metric, label and values only go with explode".to_string());
        }
        if let Some(a) = r.garbage {
            actions.push(("garbage", Action::Garbage(a)));
        }
        if let Some(a) = r.huge {
            let bytes = r.bytes.ok_or("huge needs bytes (the body size)")?;
            actions.push(("huge", Action::Huge { address: a, bytes }));
        } else if r.bytes.is_some() {
            return Err("bytes only goes with huge".to_string());
        }
        if let Some(a) = r.heal {
            actions.push(("heal", Action::Heal(a)));
        }
        if let Some(a) = r.traffic {
            let rate = r.rate.ok_or("traffic needs a rate (requests per second)")?;
            if !(rate.is_finite() && rate >= 0.0) {
                return Err(format!("rate must be a non-negative number, got {rate}"));
            }
            actions.push(("traffic", Action::Traffic { address: a, rate }));
        } else if r.rate.is_some() {
            return Err("rate only goes with traffic".to_string());
        }
        match actions.len() {
            1 => Ok(Event {
                at: r.at,
                action: actions.remove(0).1,
            }),
            0 => Err("an event needs one of stop, start, restart, slow, explode, garbage, huge, heal, traffic".to_string()),
            _ => Err(format!(
                "an event has one action, this one has {}",
                actions.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// An instant query evaluated during the run.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    pub at: Duration,
    pub expr: String,
}

/// A parsed scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The prometheus.yml path, as written (relative to the scenario file).
    pub config: String,
    pub seed: u64,
    pub start_ms: i64,
    pub duration: Duration,
    /// Programs besides the seed's three.
    pub programs: Vec<(String, ProgramKind)>,
    pub traffic: Vec<AppTraffic>,
    pub events: Vec<Event>,
    pub queries: Vec<Query>,
    /// Rule files relative to this file; `None`: the prometheus.yml's `rule_files`
    /// (relative to the prometheus.yml).
    pub rules: Option<Vec<String>>,
    /// An alertmanager.yml relative to this file: the built-in Alertmanager receives the
    /// alerts posted to every Alertmanager of the prometheus.yml's `alerting` section.
    pub alertmanager: Option<String>,
}

/// The files a scenario names, read by the host: the prometheus.yml's text, the rule files
/// as (name, content) and the alertmanager.yml's text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    pub config: String,
    pub rule_files: Vec<(String, String)>,
    pub alertmanager: Option<String>,
}

fn yaml_error(e: &serde_yaml_ng::Error) -> ScenarioError {
    let line = e.location().map(|l| l.line());
    let mut message = e.to_string();
    // serde_yaml_ng appends " at line L column C"; the line is reported in front.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    ScenarioError::Yaml { line, message }
}

impl Scenario {
    /// Parses and validates a scenario file's text.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = serde_yaml_ng::from_str(text).map_err(|e| yaml_error(&e))?;
        let duration = raw.duration;
        if duration.is_zero() {
            return Err(ScenarioError::Invalid("duration must be above 0".into()));
        }
        let mut programs = Vec::new();
        for (address, kind) in raw.programs {
            let k = match kind.as_str() {
                "hello" => ProgramKind::HelloApp,
                "node_exporter" => ProgramKind::NodeExporter,
                "prometheus" => ProgramKind::Prometheus,
                other => {
                    return Err(ScenarioError::Invalid(format!(
                        "programs: {address}: unknown program {other:?} (hello, node_exporter, prometheus)"
                    )))
                }
            };
            programs.push((address, k));
        }
        let mut traffic = Vec::new();
        for (address, t) in raw.traffic {
            let example = match &t.example {
                Some(name) => Some(Example::from_name(name).ok_or_else(|| {
                    ScenarioError::Invalid(format!(
                        "traffic: {address}: unknown example {name:?} ({})",
                        Example::ALL.map(Example::name).join(", ")
                    ))
                })?),
                None => None,
            };
            let tr = Traffic::try_from(t)
                .map_err(|m| ScenarioError::Invalid(format!("traffic: {address}: {m}")))?;
            traffic.push(AppTraffic {
                address,
                traffic: tr,
                example,
            });
        }
        for e in &raw.events {
            if e.at > duration {
                return Err(ScenarioError::Invalid(format!(
                    "event at {} is after the end of the run ({duration})",
                    e.at
                )));
            }
        }
        for q in &raw.queries {
            if q.at > duration {
                return Err(ScenarioError::Invalid(format!(
                    "query at {} is after the end of the run ({duration})",
                    q.at
                )));
            }
        }
        Ok(Scenario {
            config: raw.config,
            seed: raw.seed,
            start_ms: raw.start.saturating_mul(1000),
            duration,
            programs,
            traffic,
            events: raw.events,
            queries: raw.queries,
            rules: raw.rules,
            alertmanager: raw.alertmanager,
        })
    }

    /// The world this scenario starts with.
    pub fn world(&self) -> Result<World, ScenarioError> {
        let mut world = World::seed_world(self.seed, self.start_ms);
        for (address, kind) in &self.programs {
            world.add(address, *kind)?;
        }
        for t in &self.traffic {
            if let Some(e) = t.example {
                world.set_example(&t.address, e)?;
            }
            world.set_traffic(&t.address, t.traffic)?;
        }
        Ok(world)
    }

    /// Runs the scenario against `config` (the text of the file [`Scenario::config`] names),
    /// without rule files or an Alertmanager.
    pub fn run(&self, config_text: &str) -> Result<Report, ScenarioError> {
        self.run_with(&Inputs {
            config: config_text.to_string(),
            ..Inputs::default()
        })
    }

    /// Runs the scenario: one Prometheus (scrapes, rule evaluations, alert posts, each at its
    /// own virtual instant) over the world, and the built-in Alertmanager when the scenario
    /// names one.
    pub fn run_with(&self, inputs: &Inputs) -> Result<Report, ScenarioError> {
        let config =
            Config::load(&inputs.config).map_err(|e| ScenarioError::Config(e.to_string()))?;
        let mut notes = Vec::new();
        let start = self.start_ms;
        let rules_loaded = !inputs.rule_files.is_empty();
        let has_ams = !config.alerting.alertmanagers.is_empty();
        let alertmanager = match &inputs.alertmanager {
            Some(text) => {
                let cfg = promplay_alertmanager::Config::load(text)
                    .map_err(|e| ScenarioError::Alertmanager(e.to_string()))?;
                if !cfg.templates.is_empty() {
                    notes.push(format!(
                        "alertmanager templates ({}) are not read by promplay sim; the default templates apply",
                        cfg.templates.join(", ")
                    ));
                }
                if !has_ams {
                    notes.push(
                        "the prometheus.yml has no alerting.alertmanagers: no alert reaches the Alertmanager"
                            .to_string(),
                    );
                }
                Some(
                    Alertmanager::new(cfg, &[], Default::default(), start)
                        .map_err(|e| ScenarioError::Alertmanager(e.to_string()))?,
                )
            }
            None => {
                if has_ams && rules_loaded {
                    notes.push(
                        "alerting: no alertmanager in the scenario, alert posts fail (connection refused)"
                            .to_string(),
                    );
                }
                None
            }
        };
        let (mut stack, failures) =
            Stack::new(config, &inputs.rule_files, alertmanager, self.world()?)
                .map_err(|e| ScenarioError::Rules(e.to_string()))?;
        notes.extend(failures);
        // Checkpoints: events and queries in time order; at one instant events apply before
        // that instant's scrapes, queries run after them.
        let mut events: Vec<&Event> = self.events.iter().collect();
        events.sort_by_key(|e| e.at);
        let mut queries: Vec<&Query> = self.queries.iter().collect();
        queries.sort_by_key(|q| q.at);
        let mut times: Vec<Duration> = events
            .iter()
            .map(|e| e.at)
            .chain(queries.iter().map(|q| q.at))
            .collect();
        times.sort();
        times.dedup();
        let mut outcomes = Vec::new();
        let (mut ei, mut qi) = (0, 0);
        for at in times {
            let t = start + at.as_millis();
            stack.run_until(t - 1);
            stack.world.advance_to(t);
            while ei < events.len() && events[ei].at == at {
                apply(&mut stack.world, &events[ei].action)?;
                ei += 1;
            }
            stack.run_until(t);
            while qi < queries.len() && queries[qi].at == at {
                let q = queries[qi];
                outcomes.push(QueryOutcome {
                    at: q.at,
                    time_ms: t,
                    expr: q.expr.clone(),
                    result: stack
                        .query(&q.expr, t)
                        .map(|r| r.value)
                        .map_err(|e| e.to_string()),
                });
                qi += 1;
            }
        }
        stack.run_until(start + self.duration.as_millis());
        let stats = stack.db.stats();
        let alerts = rules_loaded.then(|| {
            stack
                .prometheus
                .alert_log()
                .iter()
                .map(|a| AlertEvent {
                    at: Duration::from_millis(a.at_ms - start),
                    time_ms: a.at_ms,
                    group: a.group.clone(),
                    rule: a.rule.clone(),
                    labels: a.labels.clone(),
                    state: a.state,
                })
                .collect()
        });
        let inbox = stack.alertmanager.as_ref().map(|b| {
            b.inbox
                .notifications
                .iter()
                .map(|n| {
                    let (subject, to) = match &n.payload {
                        Payload::Email(e) => (e.subject.clone(), e.to.clone()),
                        Payload::Webhook(w) => (String::new(), vec![w.url.clone()]),
                    };
                    InboxMessage {
                        at: Duration::from_millis(n.at_ms - start),
                        time_ms: n.at_ms,
                        receiver: n.receiver.clone(),
                        integration: n.integration.to_string(),
                        subject,
                        to,
                        firing: n.firing.len(),
                        resolved: n.resolved.len(),
                    }
                })
                .collect()
        });
        Ok(Report {
            queries: outcomes,
            notes,
            scrapes: stack.scrapes(),
            series: stats.series,
            samples: stats.samples,
            alerts,
            inbox,
        })
    }
}

fn apply(world: &mut World, action: &Action) -> Result<(), WorldError> {
    match action {
        Action::Stop(a) => world.stop(a),
        Action::Start(a) => world.start(a),
        Action::Restart(a) => world.restart(a),
        Action::Slow { address, delay } => world.set_delay(address, delay.as_millis()),
        Action::Explode { address, explosion } => {
            world.set_explosion(address, Some(explosion.clone()))
        }
        Action::Garbage(a) => world.set_garbage(a, true),
        Action::Huge { address, bytes } => world.set_huge(address, *bytes),
        Action::Heal(a) => world.heal(a),
        Action::Traffic { address, rate } => {
            let current = world
                .hosts()
                .into_iter()
                .find(|h| h.address == *address)
                .and_then(|h| h.traffic)
                .unwrap_or_default();
            world.set_traffic(
                address,
                Traffic {
                    rate: *rate,
                    ..current
                },
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Results.

/// One query's result.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryOutcome {
    pub at: Duration,
    pub time_ms: i64,
    pub expr: String,
    /// The value, or the error message.
    pub result: Result<Value, String>,
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub queries: Vec<QueryOutcome>,
    /// Things the run did not do (rules, alerting) and target-creation failures.
    pub notes: Vec<String>,
    pub scrapes: usize,
    pub series: usize,
    pub samples: u64,
    /// Alert state changes, when rule files were loaded.
    pub alerts: Option<Vec<AlertEvent>>,
    /// The built-in Alertmanager's notifications, when the scenario has one.
    pub inbox: Option<Vec<InboxMessage>>,
}

/// An alert changing state at a rule evaluation (`inactive`: resolved).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEvent {
    /// Since the start of the run.
    pub at: Duration,
    pub time_ms: i64,
    pub group: String,
    pub rule: String,
    pub labels: Labels,
    pub state: AlertState,
}

/// A notification the built-in Alertmanager delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxMessage {
    /// Since the start of the run.
    pub at: Duration,
    pub time_ms: i64,
    pub receiver: String,
    /// `email` or `webhook`.
    pub integration: String,
    /// The email's subject ("" for webhooks).
    pub subject: String,
    /// The email's recipients, or the webhook's URL.
    pub to: Vec<String>,
    /// How many firing and resolved alerts it carried.
    pub firing: usize,
    pub resolved: usize,
}

/// A float as Prometheus's API writes sample values (`strconv.FormatFloat(f, 'f', -1, 64)`).
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

/// Milliseconds as the API's seconds (`1767225900`, `1767225900.123`).
fn format_time(ms: i64) -> String {
    let s = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    if frac == 0 {
        s.to_string()
    } else {
        format!("{s}.{frac:03}").trim_end_matches('0').to_string()
    }
}

fn time_json(ms: i64) -> Json {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

fn series_name(labels: &Labels) -> String {
    let rest = labels.without_metric_name();
    match labels.metric_name() {
        Some(name) if rest.is_empty() => name.to_string(),
        Some(name) => format!("{name}{rest}"),
        None => rest.to_string(),
    }
}

fn labels_json(labels: &Labels) -> Json {
    let m: serde_json::Map<String, Json> = labels
        .iter()
        .map(|l| (l.name.to_string(), Json::String(l.value.to_string())))
        .collect();
    Json::Object(m)
}

impl Report {
    /// One block per query: `at <time>: <expr>`, then one `<series> <value>` line per sample;
    /// blocks are separated by a blank line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (i, q) in self.queries.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("at {}: {}\n", q.at, q.expr));
            match &q.result {
                Err(e) => out.push_str(&format!("error: {e}\n")),
                Ok(Value::Scalar { v, .. }) => {
                    out.push_str(&format!("scalar {}\n", format_value(*v)))
                }
                Ok(Value::String { s, .. }) => out.push_str(&format!("string {s:?}\n")),
                Ok(Value::Vector(v)) => {
                    if v.is_empty() {
                        out.push_str("(empty)\n");
                    }
                    for s in v {
                        let val = match &s.h {
                            Some(h) => format!("{h:?}"),
                            None => format_value(s.f),
                        };
                        out.push_str(&format!("{} {val}\n", series_name(&s.metric)));
                    }
                }
                Ok(Value::Matrix(m)) => {
                    if m.is_empty() {
                        out.push_str("(empty)\n");
                    }
                    for s in m {
                        out.push_str(&series_name(&s.metric));
                        for p in &s.floats {
                            out.push_str(&format!(" {} @{}", format_value(p.f), format_time(p.t)));
                        }
                        out.push('\n');
                    }
                }
            }
        }
        if let Some(alerts) = &self.alerts {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("alerts:\n");
            if alerts.is_empty() {
                out.push_str("(none)\n");
            }
            for a in alerts {
                out.push_str(&format!(
                    "at {}: {}{} {}\n",
                    a.at,
                    a.rule,
                    a.labels.without(&["alertname"]),
                    a.state.as_str()
                ));
            }
        }
        if let Some(inbox) = &self.inbox {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("inbox:\n");
            if inbox.is_empty() {
                out.push_str("(empty)\n");
            }
            for m in inbox {
                let subject = if m.subject.is_empty() {
                    String::new()
                } else {
                    format!(": {}", m.subject)
                };
                out.push_str(&format!(
                    "at {}: {} to {}{subject}\n",
                    m.at,
                    m.integration,
                    m.to.join(", ")
                ));
            }
        }
        out
    }

    /// The queries as Prometheus's query API shapes results, plus the run's figures.
    pub fn to_json(&self) -> Json {
        let queries: Vec<Json> = self
            .queries
            .iter()
            .map(|q| {
                let mut o = json!({
                    "at": q.at.to_string(),
                    "time": time_json(q.time_ms),
                    "expr": q.expr,
                });
                match &q.result {
                    Err(e) => {
                        o["status"] = json!("error");
                        o["error"] = json!(e);
                    }
                    Ok(v) => {
                        o["status"] = json!("success");
                        let (typ, result) = match v {
                            Value::Scalar { t, v } => {
                                ("scalar", json!([time_json(*t), format_value(*v)]))
                            }
                            Value::String { t, s } => ("string", json!([time_json(*t), s])),
                            Value::Vector(v) => (
                                "vector",
                                Json::Array(
                                    v.iter()
                                        .map(|s| {
                                            let val = match &s.h {
                                                Some(h) => json!(format!("{h:?}")),
                                                None => json!(format_value(s.f)),
                                            };
                                            json!({
                                                "metric": labels_json(&s.metric),
                                                "value": [time_json(s.t), val],
                                            })
                                        })
                                        .collect(),
                                ),
                            ),
                            Value::Matrix(m) => (
                                "matrix",
                                Json::Array(
                                    m.iter()
                                        .map(|s| {
                                            json!({
                                                "metric": labels_json(&s.metric),
                                                "values": s.floats.iter().map(|p| json!([time_json(p.t), format_value(p.f)])).collect::<Vec<_>>(),
                                            })
                                        })
                                        .collect(),
                                ),
                            ),
                        };
                        o["resultType"] = json!(typ);
                        o["result"] = result;
                    }
                }
                o
            })
            .collect();
        let mut doc = json!({
            "queries": queries,
            "notes": self.notes,
            "scrapes": self.scrapes,
            "series": self.series,
            "samples": self.samples,
        });
        if let Some(alerts) = &self.alerts {
            doc["alerts"] = Json::Array(
                alerts
                    .iter()
                    .map(|a| {
                        json!({
                            "at": a.at.to_string(),
                            "time": time_json(a.time_ms),
                            "group": a.group,
                            "rule": a.rule,
                            "labels": labels_json(&a.labels),
                            "state": a.state.as_str(),
                        })
                    })
                    .collect(),
            );
        }
        if let Some(inbox) = &self.inbox {
            doc["inbox"] = Json::Array(
                inbox
                    .iter()
                    .map(|m| {
                        json!({
                            "at": m.at.to_string(),
                            "time": time_json(m.time_ms),
                            "receiver": m.receiver,
                            "integration": m.integration,
                            "subject": m.subject,
                            "to": m.to,
                            "firing": m.firing,
                            "resolved": m.resolved,
                        })
                    })
                    .collect(),
            );
        }
        doc
    }
}

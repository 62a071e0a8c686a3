//! Rule evaluation: the `rule_files` of the configuration, evaluated by the rules crate's
//! `RuleManager` on a thread of its own (the manager is single-threaded: `Rc` query
//! function) against the shared database, on the wall clock. After each round the thread
//! publishes the `/api/v1/rules` and `/api/v1/alerts` answers, and hands the alerts to send
//! to the notifier ([`super::notify`]).
//!
//! Evaluation durations (`evaluationTime`) are measured on the monotonic clock with
//! nanosecond resolution ([`HostClock`]), as Prometheus's `time.Since`.
//!
//! Reloads are synchronous: the new rule files are read and validated on the rules thread
//! and the answer comes back, so a reload with a bad rule file is refused as a whole.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration as StdDuration, Instant};

use promplay_model::{Clock, Label, Labels};
use promplay_promql::value::{Sample, Value};
use promplay_promql::Engine;
use promplay_rules::{ManagerOptions, NotifierAlert, RuleError, RuleManager};
use promplay_server::Config;
use promplay_tsdb::Db;

use super::now_ms;

/// What the rules thread needs from a configuration.
#[derive(Clone, Debug)]
pub struct RulesConfig {
    /// `(name, content)` of every rule file, names as listed (globs expanded).
    pub files: Vec<(String, String)>,
    pub evaluation_interval_ms: i64,
    pub query_offset_ms: i64,
    pub external_labels: Labels,
}

/// Reads the rule files a configuration names, relative to the config file's directory
/// (globs allowed in the last path element, as Prometheus allows them).
pub fn rules_config(config: &Config, config_file: &Path) -> Result<RulesConfig, String> {
    let base = config_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut files = Vec::new();
    for pat in &config.rule_files {
        let full = if Path::new(pat).is_absolute() {
            PathBuf::from(pat)
        } else {
            base.join(pat)
        };
        let mut paths = Vec::new();
        let name = full
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name.contains(['*', '?', '[']) {
            let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
            if let Ok(rd) = std::fs::read_dir(&dir) {
                for e in rd.flatten() {
                    let n = e.file_name().to_string_lossy().to_string();
                    if promplay_alertmanager::glob_match(&name, &n) {
                        paths.push(dir.join(n));
                    }
                }
            }
            paths.sort();
        } else {
            paths.push(full);
        }
        for p in paths {
            let content = std::fs::read_to_string(&p)
                .map_err(|e| format!("error loading rules file {}: {e}", p.display()))?;
            files.push((p.display().to_string(), content));
        }
    }
    let external_labels = Labels::new(
        config
            .global
            .external_labels
            .iter()
            .map(|(k, v)| Label::new(k.as_str(), v.as_str()))
            .collect(),
    );
    Ok(RulesConfig {
        files,
        evaluation_interval_ms: config.global.evaluation_interval.as_millis(),
        query_offset_ms: config.global.rule_query_offset.as_millis(),
        external_labels,
    })
}

/// The host's clock as the rule manager reads it: the wall clock for "now", the monotonic
/// clock (nanoseconds since the thread started) to measure evaluations.
pub struct HostClock {
    origin: Instant,
}

impl HostClock {
    pub fn new() -> Self {
        HostClock {
            origin: Instant::now(),
        }
    }
}

impl Default for HostClock {
    fn default() -> Self {
        HostClock::new()
    }
}

impl Clock for HostClock {
    fn now_ms(&self) -> i64 {
        now_ms()
    }
    fn monotonic_ns(&self) -> i64 {
        i64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(i64::MAX)
    }
}

enum Cmd {
    Apply(Box<RulesConfig>, Sender<Result<(), String>>),
    Stop,
}

/// The API's handle on the rules thread.
pub struct RulesHandle {
    tx: Mutex<Sender<Cmd>>,
    /// The whole `/api/v1/rules` and `/api/v1/alerts` answers.
    pub published: Arc<RwLock<(String, String)>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl RulesHandle {
    /// Loads new rule files; an invalid file refuses the whole update.
    pub fn apply(&self, cfg: RulesConfig) -> Result<(), String> {
        let (rtx, rrx) = mpsc::channel();
        self.tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Cmd::Apply(Box::new(cfg), rtx))
            .map_err(|_| "rule manager stopped".to_string())?;
        rrx.recv()
            .unwrap_or_else(|_| Err("rule manager stopped".into()))
    }

    pub fn stop(&self) {
        let _ = self
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Cmd::Stop);
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }

    pub fn rules_json(&self) -> String {
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    pub fn alerts_json(&self) -> String {
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }
}

/// Starts the rules thread with `cfg`; fails (and starts nothing) if a rule file is invalid.
pub fn start(
    db: Arc<Db>,
    engine: Engine,
    cfg: RulesConfig,
    alerts_out: Sender<Vec<NotifierAlert>>,
    external_url: String,
) -> Result<RulesHandle, String> {
    let (tx, rx) = mpsc::channel();
    let published = Arc::new(RwLock::new((
        promplay_rules::api::rules_response(&[]),
        promplay_rules::api::alerts_response(&[]),
    )));
    let pubc = published.clone();
    let (ready_tx, ready_rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("rules".into())
        .spawn(move || {
            run(
                db,
                engine,
                cfg,
                rx,
                pubc,
                alerts_out,
                external_url,
                ready_tx,
            )
        })
        .map_err(|e| format!("starting the rule manager: {e}"))?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(RulesHandle {
            tx: Mutex::new(tx),
            published,
            thread: Mutex::new(Some(thread)),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => Err("rule manager failed to start".into()),
    }
}

fn query_func(engine: Engine, db: Arc<Db>) -> Rc<promplay_rules::QueryFunc> {
    Rc::new(move |q: &str, t: i64| {
        let res = engine
            .instant_query(&*db, q, t)
            .map_err(|e| RuleError::Query(e.to_string()))?;
        match res.value {
            Value::Vector(v) => Ok(v),
            Value::Scalar { t, v } => Ok(vec![Sample::float(Labels::default(), t, v)]),
            _ => Err(RuleError::NotVectorOrScalar),
        }
    })
}

fn update(mgr: &mut RuleManager, cfg: &RulesConfig, db: &Db) -> Result<(), String> {
    mgr.opts.evaluation_interval_ms = cfg.evaluation_interval_ms;
    mgr.opts.default_query_offset_ms = cfg.query_offset_ms;
    mgr.opts.external_labels = cfg.external_labels.clone();
    mgr.update(&cfg.files, false, now_ms(), db).map_err(|errs| {
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

#[allow(clippy::too_many_arguments)]
fn run(
    db: Arc<Db>,
    engine: Engine,
    cfg: RulesConfig,
    rx: mpsc::Receiver<Cmd>,
    published: Arc<RwLock<(String, String)>>,
    alerts_out: Sender<Vec<NotifierAlert>>,
    external_url: String,
    ready: Sender<Result<(), String>>,
) {
    let mut opts = ManagerOptions::new(query_func(engine, db.clone()));
    opts.external_url = external_url;
    let mut mgr = RuleManager::new(opts);
    let clock = HostClock::new();
    let first = update(&mut mgr, &cfg, &db);
    let failed = first.is_err();
    let _ = ready.send(first);
    if failed {
        return;
    }
    loop {
        let now = now_ms();
        let alerts = mgr.eval_due(now, &db, Some(&clock));
        if !alerts.is_empty() {
            let _ = alerts_out.send(alerts);
        }
        {
            let mut p = published.write().unwrap_or_else(|e| e.into_inner());
            p.0 = promplay_rules::api::rules_response(mgr.groups());
            p.1 = promplay_rules::api::alerts_response(mgr.groups());
        }
        let after = now_ms();
        let wait = mgr
            .next_eval_ms()
            .map(|t| t.saturating_sub(after))
            .unwrap_or(1000)
            .clamp(0, 1000);
        match rx.recv_timeout(StdDuration::from_millis(wait as u64)) {
            Ok(Cmd::Apply(c, reply)) => {
                let _ = reply.send(update(&mut mgr, &c, &db));
            }
            Ok(Cmd::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

//! `promplay serve`: the engine crates as one running Prometheus — the configuration file,
//! real scraping over HTTP, an in-memory TSDB, and Prometheus's HTTP API.
//!
//! Threads and ownership:
//! - the [`Db`] is shared (`Arc`; it locks internally) by the HTTP handlers, the scraper and
//!   the importer;
//! - the scraper ([`scrape`]) owns the engine's `ScrapeManager` on a thread of its own: it
//!   starts each target's scrape when due, fetches it with reqwest on the tokio runtime, and
//!   appends the outcome when that fetch completes, so every target keeps its own schedule and
//!   one that hangs delays no other; after each change it publishes a snapshot of the targets
//!   and metadata, so the API never waits for a slow target;
//! - the HTTP API ([`api`]) runs on tokio/axum; queries run on the blocking pool with a
//!   deadline the engine polls.
//!
//! Reload (SIGHUP, or `POST /-/reload` with `--web.enable-lifecycle`): the new file is loaded
//! and validated first; a bad file is refused with its error and the old configuration keeps
//! running. Shutdown (SIGTERM, Ctrl-C, or `POST /-/quit` with `--web.enable-lifecycle`) is
//! graceful: requests under way are answered, then the scraper, rules, notifier and
//! `remote_write` threads stop. Without the flag `/-/reload` and `/-/quit` answer 403
//! `Lifecycle API is not enabled.`, as Prometheus does.
//!
//! What a page in a browser can make it do: every endpoint is listed in [`api`]'s router, and
//! none takes a URL to fetch — there is no proxy, no federation, no remote read or write
//! receiver, no admin API, and no way to send a configuration (`/api/v1/status/config` is
//! read-only; `POST /-/reload`, when enabled, re-reads the file given with `--config.file`).
//! The only requests the companion makes go to what the configuration file names: scrape
//! targets, Alertmanagers, `remote_write` URLs and SMTP servers. The playground needs no proxy: it
//! talks to the companion, or to a Prometheus that allows CORS, directly. Test:
//! `serve_fetches_no_url_a_caller_names`. Who may read the answers from a page of another
//! origin is `--web.cors.origin` (a fully anchored regex, default `.*`, as in Prometheus).
//!
//! Also on threads of their own: rule evaluation ([`rules`]), alert delivery to the
//! configured Alertmanagers and the built-in one with email/webhook delivery ([`notify`]),
//! and `remote_write` senders ([`remote_write`]).
//!
//! ```text
//! promplay serve --config.file prometheus.yml [--web.listen-address 127.0.0.1:9090]
//!     [--storage.tsdb.retention.time 15d] [--import FILE.om]... [--alertmanager.config am.yml]
//! ```
//!
//! Measured on the benchmark dataset (10,000 series x 1,440 samples), 2 shared cores, in the
//! same runs as Debian's Prometheus 2.42: `--import` 16.6-24.4 s (promtool's import: 71 s),
//! 19.3 MB of database (1.34 bytes/sample), RSS 117 MB peak during the import, about 60 MB
//! after; `peers/bench/bench.sh` query medians (BENCH_URL=…) 31 ms / 783 ms / 32 ms / 4.9 ms
//! against Prometheus's 69 ms / 1124 ms / 70 ms / 8.6 ms.
//!
//! Scraping the seed's three targets every 10 s (the Python app, node_exporter, itself), after
//! 150 s: RSS 10.5-10.8 MiB (peak the same) against Debian's Prometheus 2.42's 50.2-50.4 MiB
//! scraping the same; and `promplay node`'s `/metrics` in a median 3.5-4.2 ms (50.8 kB)
//! against `prometheus-node-exporter`'s 6.1-6.7 ms (57.8 kB), 20 interleaved curl timings.
//! Two runs of `companion/bench/rss.sh` (release build, 2 shared cores).

pub mod api;
pub mod import;
pub mod json;
pub mod notify;
pub mod remote_write;
pub mod rules;
pub mod scrape;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use promplay_promql::{Engine, EngineOptions};
use promplay_server::{Config, Duration};
use promplay_tsdb::{Db, Options};

/// `promplay serve`'s flags, spelled as Prometheus spells them.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Prometheus configuration file path.
    #[arg(long = "config.file", default_value = "prometheus.yml")]
    pub config_file: PathBuf,
    /// Address to listen on for the web interface and API.
    #[arg(long = "web.listen-address", default_value = "127.0.0.1:9090")]
    pub listen_address: String,
    /// How long to retain samples in storage (Prometheus's default: 15d).
    #[arg(long = "storage.tsdb.retention.time", default_value = "15d")]
    pub retention: String,
    /// Maximum time a query may take before being aborted.
    #[arg(long = "query.timeout", default_value = "2m")]
    pub query_timeout: String,
    /// Maximum number of samples a single query can load into memory.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub max_samples: usize,
    /// The delta difference allowed for retrieving metrics during expression evaluations.
    #[arg(long = "query.lookback-delta", default_value = "5m")]
    pub lookback_delta: String,
    /// OpenMetrics file(s) with timestamps to load before serving (streamed; repeatable).
    #[arg(long = "import")]
    pub import: Vec<PathBuf>,
    /// Built-in Alertmanager configuration file.
    #[arg(long = "alertmanager.config")]
    pub alertmanager_config: Option<PathBuf>,
    /// Enable shutdown and reload via HTTP request (`/-/quit`, `/-/reload`); without it they
    /// answer 403, as in Prometheus. SIGHUP always reloads.
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,
    /// Directory of the built playground (trunk's dist/) served at `/`; by default `dist` in
    /// the working directory when it holds an index.html.
    #[arg(long = "web.ui-dir")]
    pub ui_dir: Option<PathBuf>,
    /// Regex for CORS origin. It is fully anchored. Example: 'https?://(domain1|domain2)\.com'
    #[arg(long = "web.cors.origin", default_value = ".*")]
    pub cors_origin: String,
}

/// `--web.cors.origin` compiled as Prometheus compiles it (fully anchored, `.` matches a
/// newline too).
pub struct Cors {
    /// The flag's value.
    pub pattern: String,
    re: regex::Regex,
}

impl Cors {
    pub fn new(pattern: &str) -> Result<Cors, regex::Error> {
        Ok(Cors {
            pattern: pattern.to_string(),
            re: regex::Regex::new(&format!("^(?s:{pattern})$"))?,
        })
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`: `*` when every
    /// origin is allowed (the default `.*`), the origin itself when it matches, none otherwise
    /// (`httputil.SetCORS`).
    pub fn allow_origin(&self, origin: &str) -> Option<String> {
        if self.pattern == ".*" {
            Some("*".to_string())
        } else if self.re.is_match(origin) {
            Some(origin.to_string())
        } else {
            None
        }
    }
}

/// The configuration currently running.
pub struct Loaded {
    pub config: Config,
    /// `config.to_yaml()`: secrets shown as `<secret>`.
    pub yaml: String,
}

/// Counters exposed on `/metrics`.
#[derive(Default)]
pub struct SelfMetrics {
    pub http_requests: Mutex<std::collections::BTreeMap<(String, u16), u64>>,
    pub queries: AtomicU64,
    pub reloads_ok: AtomicU64,
    pub reloads_failed: AtomicU64,
    pub last_reload_ok: AtomicBool,
    pub last_reload_ms: AtomicU64,
    pub imported_samples: AtomicU64,
}

/// Everything the HTTP handlers see.
pub struct AppState {
    pub db: Arc<Db>,
    pub engine: Engine,
    pub config_file: PathBuf,
    pub loaded: RwLock<Loaded>,
    pub scraper: scrape::ScraperHandle,
    pub rules: rules::RulesHandle,
    pub notifier: notify::NotifierHandle,
    pub remote: remote_write::RemoteWriters,
    pub flags: Vec<(String, String)>,
    pub query_timeout_ms: i64,
    pub start_ms: i64,
    pub ready: AtomicBool,
    pub metrics: SelfMetrics,
    pub reload_lock: Mutex<()>,
    /// The playground's files, served at `/`.
    pub ui_dir: Option<PathBuf>,
    /// `--web.cors.origin`.
    pub cors: Cors,
    /// `--web.enable-lifecycle`: `/-/reload` and `/-/quit` answer.
    pub enable_lifecycle: bool,
    /// Set by the first `/-/quit`.
    pub quit: AtomicBool,
    /// Wakes the server's graceful shutdown on `/-/quit`.
    pub quit_notify: tokio::sync::Notify,
}

impl AppState {
    /// Loads the config file again; on success the scraper switches to it, on failure the
    /// running configuration stays and the error is returned.
    pub fn reload(&self) -> Result<(), String> {
        let _guard = self.reload_lock.lock().unwrap_or_else(|e| e.into_inner());
        let result = load_config(&self.config_file).map_err(|e| format!("{e:#}"));
        self.metrics
            .last_reload_ms
            .store(now_ms().max(0) as u64, Ordering::Relaxed);
        match result {
            Ok(loaded) => {
                let applied =
                    rules::rules_config(&loaded.config, &self.config_file).and_then(|rc| {
                        let targets = notify::Targets::from_config(&loaded.config)?;
                        self.rules.apply(rc)?;
                        Ok(targets)
                    });
                let targets = match applied {
                    Ok(t) => t,
                    Err(e) => {
                        self.metrics.reloads_failed.fetch_add(1, Ordering::Relaxed);
                        self.metrics.last_reload_ok.store(false, Ordering::Relaxed);
                        let e = format!("error loading rules, previous rule set restored: {e}");
                        eprintln!("promplay serve: error reloading config: {e}");
                        return Err(e);
                    }
                };
                self.notifier.set_targets(targets);
                self.scraper.apply(loaded.config.clone());
                let rw_changed = self
                    .loaded
                    .read()
                    .map(|l| l.config.remote_write != loaded.config.remote_write)
                    .unwrap_or(true);
                if rw_changed {
                    self.remote.apply(&loaded.config);
                }
                *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = loaded;
                self.metrics.reloads_ok.fetch_add(1, Ordering::Relaxed);
                self.metrics.last_reload_ok.store(true, Ordering::Relaxed);
                eprintln!(
                    "promplay serve: completed loading of configuration file {}",
                    self.config_file.display()
                );
                Ok(())
            }
            Err(e) => {
                self.metrics.reloads_failed.fetch_add(1, Ordering::Relaxed);
                self.metrics.last_reload_ok.store(false, Ordering::Relaxed);
                eprintln!("promplay serve: error reloading config: {e}");
                Err(e)
            }
        }
    }
}

/// Milliseconds since the Unix epoch, from the wall clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn load_config(path: &Path) -> anyhow::Result<Loaded> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "couldn't load configuration (--config.file={:?})",
            path.display().to_string()
        )
    })?;
    let config = Config::load(&text).map_err(|e| {
        anyhow::anyhow!(
            "couldn't load configuration (--config.file={:?}): parsing YAML file {}: {e}",
            path.display().to_string(),
            path.display()
        )
    })?;
    let yaml = config.to_yaml();
    Ok(Loaded { config, yaml })
}

/// The built-in Alertmanager's configuration and the template files it names (globs relative
/// to its directory).
fn load_alertmanager_config(
    path: &Path,
) -> anyhow::Result<(promplay_alertmanager::Config, Vec<(String, String)>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --alertmanager.config {}", path.display()))?;
    let cfg = promplay_alertmanager::Config::load(&text)
        .map_err(|e| anyhow::anyhow!("loading --alertmanager.config {}: {e}", path.display()))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut templates = Vec::new();
    for pat in &cfg.templates {
        let full = base.join(pat);
        let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = full
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().is_some_and(|n| {
                            promplay_alertmanager::glob_match(&name, &n.to_string_lossy())
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        for f in found {
            let src = std::fs::read_to_string(&f)
                .with_context(|| format!("reading template {}", f.display()))?;
            templates.push((f.display().to_string(), src));
        }
    }
    Ok((cfg, templates))
}

fn parse_flag_duration(flag: &str, s: &str) -> anyhow::Result<Duration> {
    Duration::parse(s).map_err(|e| anyhow::anyhow!("invalid value {s:?} for --{flag}: {e}"))
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let loaded = load_config(&args.config_file)?;
    let retention = parse_flag_duration("storage.tsdb.retention.time", &args.retention)?;
    let query_timeout = parse_flag_duration("query.timeout", &args.query_timeout)?;
    let lookback = parse_flag_duration("query.lookback-delta", &args.lookback_delta)?;
    let cors = Cors::new(&args.cors_origin).map_err(|e| {
        anyhow::anyhow!(
            "could not compile CORS regex string {:?}: {e}",
            args.cors_origin
        )
    })?;
    let addr: SocketAddr = args
        .listen_address
        .parse()
        .with_context(|| format!("invalid --web.listen-address {:?}", args.listen_address))?;
    let builtin_am = match &args.alertmanager_config {
        Some(am) => Some(load_alertmanager_config(am)?),
        None => None,
    };
    let rules_cfg = rules::rules_config(&loaded.config, &args.config_file)
        .map_err(|e| anyhow::anyhow!("error loading rules: {e}"))?;
    let targets = notify::Targets::from_config(&loaded.config)
        .map_err(|e| anyhow::anyhow!("alerting configuration: {e}"))?;

    let db = Arc::new(Db::new(Options {
        retention_ms: (!retention.is_zero()).then(|| retention.as_millis()),
        ..Default::default()
    }));

    let metrics = SelfMetrics::default();
    for path in &args.import {
        let started = std::time::Instant::now();
        let report = import::import_file(&db, path)
            .with_context(|| format!("importing {}", path.display()))?;
        eprintln!(
            "promplay serve: imported {}: {} samples, {} series, {} rejected, in {:.2}s",
            path.display(),
            report.samples,
            db.stats().series,
            report.rejected,
            started.elapsed().as_secs_f64()
        );
        metrics
            .imported_samples
            .fetch_add(report.samples, Ordering::Relaxed);
    }

    if let (Some(min), false) = (db.stats().min_time, retention.is_zero()) {
        if min < now_ms() - retention.as_millis() {
            eprintln!(
                "promplay serve: warning: imported samples older than --storage.tsdb.retention.time={} are dropped at the first retention run; pass a longer retention (e.g. 100y) to keep them",
                args.retention
            );
        }
    }
    let flags = vec![
        (
            "config.file".to_string(),
            args.config_file.display().to_string(),
        ),
        (
            "web.listen-address".to_string(),
            args.listen_address.clone(),
        ),
        (
            "storage.tsdb.retention.time".to_string(),
            args.retention.clone(),
        ),
        ("query.timeout".to_string(), args.query_timeout.clone()),
        (
            "query.max-samples".to_string(),
            args.max_samples.to_string(),
        ),
        (
            "query.lookback-delta".to_string(),
            args.lookback_delta.clone(),
        ),
        (
            "web.enable-lifecycle".to_string(),
            args.enable_lifecycle.to_string(),
        ),
        ("web.cors.origin".to_string(), args.cors_origin.clone()),
        (
            "alertmanager.config".to_string(),
            args.alertmanager_config
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    ];

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;

    let engine = Engine::new(EngineOptions {
        lookback_delta_ms: lookback.as_millis(),
        max_samples: args.max_samples,
        ..Default::default()
    });
    let (alerts_tx, alerts_rx) = std::sync::mpsc::channel();
    let notifier = notify::start(rt.handle().clone(), targets, alerts_rx, builtin_am)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let external_url = format!("http://{}", args.listen_address);
    let rules = rules::start(
        db.clone(),
        engine.clone(),
        rules_cfg,
        alerts_tx,
        external_url,
    )
    .map_err(|e| anyhow::anyhow!("error loading rules: {e}"))?;
    let scraper = scrape::start(db.clone(), loaded.config.clone(), rt.handle().clone());
    let remote = remote_write::RemoteWriters::new(db.clone(), rt.handle().clone());
    remote.apply(&loaded.config);
    let state = Arc::new(AppState {
        db,
        engine,
        config_file: args.config_file.clone(),
        loaded: RwLock::new(loaded),
        scraper,
        rules,
        notifier,
        remote,
        flags,
        query_timeout_ms: query_timeout.as_millis(),
        start_ms: now_ms(),
        ready: AtomicBool::new(false),
        metrics,
        reload_lock: Mutex::new(()),
        ui_dir: args
            .ui_dir
            .clone()
            .or_else(|| Some(PathBuf::from("dist")))
            .filter(|d| d.join("index.html").is_file()),
        cors,
        enable_lifecycle: args.enable_lifecycle,
        quit: AtomicBool::new(false),
        quit_notify: tokio::sync::Notify::new(),
    });

    let code = rt.block_on(serve(state.clone(), addr))?;
    state.scraper.stop();
    state.rules.stop();
    state.notifier.stop();
    state.remote.stop();
    rt.shutdown_timeout(StdDuration::from_secs(5));
    Ok(code)
}

async fn serve(state: Arc<AppState>, addr: SocketAddr) -> anyhow::Result<i32> {
    use tokio::signal::unix::{signal, SignalKind};
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    eprintln!("promplay serve: listening on http://{local}");
    state.ready.store(true, Ordering::SeqCst);

    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let hup_state = state.clone();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let st = hup_state.clone();
            let _ = tokio::task::spawn_blocking(move || st.reload()).await;
        }
    });

    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let quit_state = state.clone();
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                eprintln!("promplay serve: received shutdown signal, exiting gracefully");
            },
            _ = term.recv() => {
                eprintln!("promplay serve: received shutdown signal, exiting gracefully");
            },
            _ = quit_state.quit_notify.notified() => {},
        }
    };
    let app = api::router(state.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
    state.ready.store(false, Ordering::SeqCst);
    Ok(0)
}

//! Real scraping: the engine's `ScrapeManager` (targets, relabeling, scrape cache, staleness,
//! report series) on a thread of its own, fed by an HTTP [`TargetFetcher`] built on reqwest.
//!
//! The fetcher sends the request Prometheus sends (its `Accept` header for the configured
//! scrape protocols, `Accept-Encoding: gzip`, `X-Prometheus-Scrape-Timeout-Seconds`,
//! basic auth or an `Authorization` header), gives up after the scrape timeout, and stops
//! reading a body at the job's `body_size_limit` (or at [`HARD_BODY_LIMIT`] when the job has
//! none), so a target that hangs, answers garbage or streams a gigabyte costs at most the
//! timeout and the limit, and is reported through `up` and the targets API.
//!
//! Concurrency: every target keeps its own schedule, as Prometheus's goroutine per target.
//! The scraper thread asks the engine for the scrapes due ([`ScrapeManager::start_due`]),
//! spawns each fetch on the tokio runtime, and goes back to waiting; each fetch sends its
//! outcome back when it completes, and the thread appends it at the scrape's due timestamp
//! ([`ScrapeManager::complete`]). A target that hangs for its whole timeout holds only its own
//! loop: the other targets' fetches start on time and their samples keep their interval. A
//! loop whose previous scrape is still under way when its next slot comes (a timeout as long
//! as the interval) starts that slot as soon as the scrape completes, as Prometheus's ticker
//! keeps one tick; one that fell further behind (a suspended process) resumes at its latest
//! slot, as the ticker drops the others.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::{Duration as StdDuration, Instant};

use promplay_server::config::Config;
use promplay_server::scrape::{
    MetricMetadata, PendingScrape, ScrapeError, ScrapeErrorKind, ScrapeManager, ScrapeRequest,
    ScrapeResponse, TargetsView,
};
use promplay_tsdb::Db;
use tokio::runtime::Handle;

use super::now_ms;

/// The most a body may be when the job sets no `body_size_limit` (Prometheus has no default
/// limit; an unbounded read would let one target exhaust memory).
pub const HARD_BODY_LIMIT: u64 = 256 << 20;

/// How often retention runs.
const RETENTION_EVERY_MS: i64 = 60_000;

enum Cmd {
    Apply(Box<Config>),
    Stop,
    /// A fetch finished: its scrape and outcome.
    Done(Box<(PendingScrape, Result<ScrapeResponse, ScrapeError>)>),
}

/// What the API reads: the last published snapshot.
#[derive(Default)]
pub struct Snapshot {
    pub targets: TargetsView,
    pub metadata: BTreeMap<String, Vec<MetricMetadata>>,
    pub scrapes: u64,
}

/// The API's handle on the scraper thread.
pub struct ScraperHandle {
    tx: mpsc::Sender<Cmd>,
    pub snapshot: Arc<RwLock<Snapshot>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl ScraperHandle {
    /// Switches to a new (already validated) configuration.
    pub fn apply(&self, config: Config) {
        let _ = self.tx.send(Cmd::Apply(Box::new(config)));
    }

    /// Stops the thread and waits for it (at most one scrape timeout).
    pub fn stop(&self) {
        let _ = self.tx.send(Cmd::Stop);
        let t = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = t {
            let _ = t.join();
        }
    }

    pub fn targets(&self) -> TargetsView {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .targets
            .clone()
    }

    pub fn metadata(&self) -> BTreeMap<String, Vec<MetricMetadata>> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .metadata
            .clone()
    }
}

/// Starts the scraper thread on `config`.
pub fn start(db: Arc<Db>, config: Config, rt: Handle) -> ScraperHandle {
    let (tx, rx) = mpsc::channel();
    let snapshot = Arc::new(RwLock::new(Snapshot::default()));
    let snap = snapshot.clone();
    let done = tx.clone();
    let thread = std::thread::Builder::new()
        .name("scraper".into())
        .spawn(move || run(db, config, rt, rx, done, snap))
        .ok();
    ScraperHandle {
        tx,
        snapshot,
        thread: std::sync::Mutex::new(thread),
    }
}

fn offset_seed() -> u64 {
    // Prometheus hashes its external labels and host name; the host name alone spreads
    // several promplay instances on one machine no worse.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let mut h: u64 = 0xcbf29ce484222325;
    for b in host.trim().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn run(
    db: Arc<Db>,
    config: Config,
    rt: Handle,
    rx: mpsc::Receiver<Cmd>,
    done: mpsc::Sender<Cmd>,
    snap: Arc<RwLock<Snapshot>>,
) {
    let mut mgr = ScrapeManager::new(offset_seed());
    for f in mgr.apply_config(&config, now_ms()) {
        eprintln!("promplay serve: creating target failed: {f}");
    }
    let mut fetcher = HttpFetcher::new(rt, &config);
    let mut last_retention = i64::MIN;
    let mut scrapes: u64 = 0;
    let mut changed = true;
    loop {
        let now = now_ms();
        for p in mgr.start_due(now, &db) {
            fetcher.spawn(p, done.clone());
            changed = true;
        }
        if changed {
            let mut s = snap.write().unwrap_or_else(|e| e.into_inner());
            s.targets = mgr.targets();
            s.metadata = mgr.metadata();
            s.scrapes = scrapes;
            changed = false;
        }
        if now.saturating_sub(last_retention) >= RETENTION_EVERY_MS {
            db.apply_retention(now);
            last_retention = now;
        }
        let wait = mgr
            .next_event_ms()
            .map(|t| t.saturating_sub(now_ms()))
            .unwrap_or(1000)
            .clamp(0, 1000);
        match rx.recv_timeout(StdDuration::from_millis(wait as u64)) {
            Ok(Cmd::Done(d)) => {
                let (p, outcome) = *d;
                if mgr.complete(&p, outcome, &db) {
                    scrapes += 1;
                    changed = true;
                }
            }
            Ok(Cmd::Apply(cfg)) => {
                for f in mgr.apply_config(&cfg, now_ms()) {
                    eprintln!("promplay serve: creating target failed: {f}");
                }
                fetcher.set_config(&cfg);
                changed = true;
            }
            Ok(Cmd::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// Fetches targets over HTTP with reqwest on the tokio runtime.
pub struct HttpFetcher {
    rt: Handle,
    /// Clients by (follow redirects, gzip).
    clients: HashMap<(bool, bool), reqwest::Client>,
    /// `body_size_limit` per job (0: none).
    limits: BTreeMap<String, u64>,
    /// `enable_compression` per job.
    compression: BTreeMap<String, bool>,
}

impl HttpFetcher {
    pub fn new(rt: Handle, config: &Config) -> Self {
        let build = |redirects: bool, gzip: bool| {
            reqwest::Client::builder()
                .user_agent(concat!(
                    "Prometheus/3.14.0 promplay/",
                    env!("CARGO_PKG_VERSION")
                ))
                .redirect(if redirects {
                    reqwest::redirect::Policy::limited(10)
                } else {
                    reqwest::redirect::Policy::none()
                })
                .gzip(gzip)
                .no_proxy()
                .build()
                .unwrap_or_default()
        };
        let clients = [(true, true), (true, false), (false, true), (false, false)]
            .into_iter()
            .map(|(r, g)| ((r, g), build(r, g)))
            .collect();
        let mut f = HttpFetcher {
            rt,
            clients,
            limits: BTreeMap::new(),
            compression: BTreeMap::new(),
        };
        f.set_config(config);
        f
    }

    /// Starts fetching `p` on the runtime; its outcome is sent to `done` when it completes
    /// (at the latest after the scrape timeout).
    fn spawn(&self, p: PendingScrape, done: mpsc::Sender<Cmd>) {
        let (client, limit, timeout) = self.params(&p.request);
        self.rt.spawn(async move {
            let started = Instant::now();
            let r = tokio::time::timeout(timeout, fetch_async(client, &p.request, limit)).await;
            let outcome = finish(r, started);
            let _ = done.send(Cmd::Done(Box::new((p, outcome))));
        });
    }

    fn params(&self, req: &ScrapeRequest) -> (reqwest::Client, u64, StdDuration) {
        let limit = match self.limits.get(&req.job).copied().unwrap_or(0) {
            0 => HARD_BODY_LIMIT,
            l => l,
        };
        // `enable_compression: false` asks for an identity body.
        let gzip = self.compression.get(&req.job).copied().unwrap_or(true);
        let client = self
            .clients
            .get(&(req.http_client_config.follow_redirects, gzip))
            .cloned()
            .unwrap_or_default();
        let timeout = StdDuration::from_millis(req.timeout.as_millis().max(1) as u64);
        (client, limit, timeout)
    }

    pub fn set_config(&mut self, config: &Config) {
        self.limits = config
            .scrape_configs
            .iter()
            .map(|s| (s.job_name.clone(), s.body_size_limit.0))
            .collect();
        self.compression = config
            .scrape_configs
            .iter()
            .map(|s| (s.job_name.clone(), s.enable_compression))
            .collect();
    }
}

type FetchOutcome = Result<Result<(String, Vec<u8>), ScrapeErrorKind>, tokio::time::error::Elapsed>;

/// The fetch's outcome with its duration measured on the monotonic clock, in nanoseconds
/// (Prometheus: `time.Since(start)`).
fn finish(result: FetchOutcome, started: Instant) -> Result<ScrapeResponse, ScrapeError> {
    let ns = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    match result {
        Err(_) => Err(ScrapeError::new(ScrapeErrorKind::Timeout, ns)),
        Ok(Err(kind)) => Err(ScrapeError::new(kind, ns)),
        Ok(Ok((content_type, body))) => Ok(ScrapeResponse {
            content_type,
            body,
            duration_ns: ns,
        }),
    }
}

async fn fetch_async(
    client: reqwest::Client,
    req: &ScrapeRequest,
    limit: u64,
) -> Result<(String, Vec<u8>), ScrapeErrorKind> {
    let mut rb = client.get(&req.url).header("Accept", &req.accept).header(
        "X-Prometheus-Scrape-Timeout-Seconds",
        format_secs(req.timeout.as_secs_f64()),
    );
    let hc = &req.http_client_config;
    if let Some(ba) = &hc.basic_auth {
        let password = ba.password.expose();
        rb = rb.basic_auth(&ba.username, (!password.is_empty()).then_some(password));
    }
    if let Some(auth) = &hc.authorization {
        let kind = if auth.kind.is_empty() {
            "Bearer"
        } else {
            &auth.kind
        };
        rb = rb.header(
            "Authorization",
            format!("{kind} {}", auth.credentials.expose()),
        );
    }
    let mut resp = rb.send().await.map_err(|e| transport_error(req, &e))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(ScrapeErrorKind::Status {
            code: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
        });
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(req, &e))? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(ScrapeErrorKind::BodySizeLimit);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((content_type, body))
}

/// The timeout header's seconds as Prometheus writes them: `strconv.FormatFloat(s, 'f', -1,
/// 64)` ("10", "0.5").
fn format_secs(s: f64) -> String {
    promplay_model::gofmt::format_f(s)
}

/// A transport error worded as Go's net package words the common cases.
fn transport_error(req: &ScrapeRequest, e: &reqwest::Error) -> ScrapeErrorKind {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        chain.push_str(&s.to_string());
        chain.push_str(": ");
        src = s.source();
    }
    if chain.contains("Connection refused") {
        return ScrapeErrorKind::Transport(format!(
            "dial tcp {}: connect: connection refused",
            req.address
        ));
    }
    if chain.contains("failed to lookup address") || chain.contains("dns error") {
        let host = req
            .address
            .rsplit_once(':')
            .map_or(req.address.as_str(), |(h, _)| h);
        return ScrapeErrorKind::Transport(format!("dial tcp: lookup {host}: no such host"));
    }
    ScrapeErrorKind::Transport(chain.trim_end_matches(": ").to_string())
}

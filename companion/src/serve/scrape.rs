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
//! Concurrency: the engine's manager runs the due scrapes one after another. So that a target
//! that hangs does not delay the others, every target due in a round is fetched concurrently
//! first (re-issuing the request the loop made last time — same URL, `Accept`, credentials),
//! and the manager's fetches are answered from those results (a target's first request is
//! built from its job's configuration as the loop builds it). A round lasts at most the
//! longest scrape timeout of its targets; a target that falls a whole interval behind skips
//! the missed slot, as Prometheus's ticker does. Limitation (the manager is synchronous): a
//! target that hangs still delays the scrapes that fall due during its round by up to its
//! scrape timeout (samples keep their due timestamps); Prometheus's per-target goroutines do
//! not couple targets at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::{Duration as StdDuration, Instant};

use promplay_server::config::Config;
use promplay_server::scrape::{
    accept_header, MetricMetadata, ScrapeError, ScrapeErrorKind, ScrapeManager, ScrapeRequest,
    ScrapeResponse, TargetFetcher, TargetInfo, TargetsView,
};
use promplay_server::ScrapeConfig;
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
    let thread = std::thread::Builder::new()
        .name("scraper".into())
        .spawn(move || run(db, config, rt, rx, snap))
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
    snap: Arc<RwLock<Snapshot>>,
) {
    let mut mgr = ScrapeManager::new(offset_seed());
    for f in mgr.apply_config(&config, now_ms()) {
        eprintln!("promplay serve: creating target failed: {f}");
    }
    let mut fetcher = HttpFetcher::new(rt, &config);
    let mut last_retention = i64::MIN;
    let mut scrapes: u64 = 0;
    loop {
        let now = now_ms();
        // Fall behind by no more than one slot: missed slots are dropped, as Prometheus's
        // ticker drops missed ticks (slots older than the shortest interval are skipped).
        let view = mgr.targets();
        if let Some(min_iv) = view
            .active
            .iter()
            .map(|t| t.scrape_interval.as_millis())
            .filter(|&i| i > 0)
            .min()
        {
            if view.active.iter().any(|t| t.next_scrape_ms <= now - min_iv) {
                mgr.skip_until(now - min_iv + 1);
            }
        }
        let due: Vec<TargetInfo> = mgr
            .targets()
            .active
            .into_iter()
            .filter(|t| t.next_scrape_ms <= now)
            .collect();
        if !due.is_empty() {
            fetcher.prefetch(&due);
        }
        scrapes += mgr.run_until(now, &db, &mut fetcher) as u64;
        fetcher.prefetched.clear();
        {
            let mut s = snap.write().unwrap_or_else(|e| e.into_inner());
            s.targets = mgr.targets();
            s.metadata = mgr.metadata();
            s.scrapes = scrapes;
        }
        if now.saturating_sub(last_retention) >= RETENTION_EVERY_MS {
            db.apply_retention(now);
            last_retention = now;
        }
        let after = now_ms();
        let wait = mgr
            .next_event_ms()
            .map(|t| t.saturating_sub(after))
            .unwrap_or(1000)
            .clamp(0, 1000);
        match rx.recv_timeout(StdDuration::from_millis(wait as u64)) {
            Ok(Cmd::Apply(cfg)) => {
                for f in mgr.apply_config(&cfg, now_ms()) {
                    eprintln!("promplay serve: creating target failed: {f}");
                }
                fetcher.set_config(&cfg);
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
    /// The last request made for each target (job and URL), re-issued by
    /// [`HttpFetcher::prefetch`].
    last: HashMap<String, ScrapeRequest>,
    /// Scrape configs by job, to build a target's first request.
    configs: BTreeMap<String, ScrapeConfig>,
    /// Results fetched ahead, by target; consumed by `fetch`.
    prefetched: HashMap<String, Result<ScrapeResponse, ScrapeError>>,
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
            last: HashMap::new(),
            configs: BTreeMap::new(),
            prefetched: HashMap::new(),
        };
        f.set_config(config);
        f
    }

    /// Fetches the given targets concurrently, keeping the results for the manager's next
    /// `fetch` of each. The request is the one the loop made last time, or — before its first
    /// scrape — one built as the loop builds it from the job's configuration.
    pub fn prefetch(&mut self, targets: &[TargetInfo]) {
        let mut handles = Vec::new();
        for t in targets {
            let k = key(&t.scrape_pool, &t.scrape_url);
            let Some(req) = self.last.get(&k).cloned().or_else(|| self.synthesize(t)) else {
                continue;
            };
            let (client, limit, timeout) = self.params(&req);
            let h = self.rt.spawn(async move {
                let started = Instant::now();
                let r =
                    tokio::time::timeout(timeout, fetch_async(client, req.clone(), limit)).await;
                (key(&req.job, &req.url), finish(r, started))
            });
            handles.push(h);
        }
        for h in handles {
            if let Ok((k, r)) = self.rt.block_on(h) {
                self.prefetched.insert(k, r);
            }
        }
    }

    fn synthesize(&self, t: &TargetInfo) -> Option<ScrapeRequest> {
        let sc = self.configs.get(&t.scrape_pool)?;
        let rest = t.scrape_url.split_once("://").map_or("", |(_, r)| r);
        let address = rest.split(['/', '?']).next().unwrap_or("").to_string();
        Some(ScrapeRequest {
            time_ms: 0,
            url: t.scrape_url.clone(),
            scheme: sc.scheme.clone(),
            address,
            metrics_path: sc.metrics_path.clone(),
            params: Vec::new(),
            accept: accept_header(&sc.scrape_protocols, &sc.metric_name_escaping_scheme),
            timeout: t.scrape_timeout,
            job: t.scrape_pool.clone(),
            target_labels: t.labels.clone(),
            http_client_config: Arc::new(sc.http_client_config.clone()),
        })
    }

    fn params(&self, req: &ScrapeRequest) -> (reqwest::Client, u64, StdDuration) {
        let limit = match self.limits.get(&req.job).copied().unwrap_or(0) {
            0 => HARD_BODY_LIMIT,
            l => l,
        };
        // `enable_compression: false` asks for an identity body.
        let gzip = self
            .configs
            .get(&req.job)
            .is_none_or(|c| c.enable_compression);
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
        self.configs = config
            .scrape_configs
            .iter()
            .map(|s| (s.job_name.clone(), s.clone()))
            .collect();
        self.last.clear();
    }
}

impl TargetFetcher for HttpFetcher {
    fn fetch(&mut self, req: &ScrapeRequest) -> Result<ScrapeResponse, ScrapeError> {
        let k = key(&req.job, &req.url);
        if let Some(r) = self.prefetched.remove(&k) {
            self.last.insert(k, req.clone());
            return r;
        }
        self.last.insert(k, req.clone());
        let (client, limit, timeout) = self.params(req);
        let started = Instant::now();
        let fut = fetch_async(client, req.clone(), limit);
        let result = self
            .rt
            .block_on(async move { tokio::time::timeout(timeout, fut).await });
        finish(result, started)
    }
}

/// A target's identity for prefetching: its job and URL.
fn key(job: &str, url: &str) -> String {
    format!("{job}\n{url}")
}

type FetchOutcome = Result<Result<(String, Vec<u8>), ScrapeErrorKind>, tokio::time::error::Elapsed>;

fn finish(result: FetchOutcome, started: Instant) -> Result<ScrapeResponse, ScrapeError> {
    let ms = started.elapsed().as_millis() as i64;
    match result {
        Err(_) => Err(ScrapeError::new(ScrapeErrorKind::Timeout, ms)),
        Ok(Err(kind)) => Err(ScrapeError::new(kind, ms)),
        Ok(Ok((content_type, body))) => Ok(ScrapeResponse {
            content_type,
            body,
            duration_ms: ms,
        }),
    }
}

async fn fetch_async(
    client: reqwest::Client,
    req: ScrapeRequest,
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
    let mut resp = rb.send().await.map_err(|e| transport_error(&req, &e))?;
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
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&req, &e))? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(ScrapeErrorKind::BodySizeLimit);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((content_type, body))
}

/// Go's `%g`-like seconds for the timeout header ("10", "0.5").
fn format_secs(s: f64) -> String {
    format!("{s}")
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

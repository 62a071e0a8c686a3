//! Scraping on a virtual clock: targets from a scrape config (`scrape/target.go`), one
//! [`ScrapeLoop`] per target appending parsed samples into a [`promplay_tsdb::Db`], as
//! `scrape/scrape.go` does it — the scrape cache and its staleness markers, `honor_labels`
//! conflicts (`exported_`), `metric_relabel_configs`, `sample_limit`, label limits, body size
//! limit, timeouts, and the report series `up`, `scrape_duration_seconds`,
//! `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`, `scrape_series_added`.
//!
//! Time: nothing here reads a clock. The host calls [`ScrapeManager::run_until`] with "now";
//! every scrape due at or before it runs, in time order, with the timestamp it was due at
//! (Prometheus's aligned scrape timestamps). Fetching is the host's: [`TargetFetcher`].
//! A host with real, slow fetches (the companion) splits each scrape in two instead:
//! [`ScrapeManager::start_due`] hands out the requests due, the host fetches them
//! concurrently, and [`ScrapeManager::complete`] appends each outcome at its slot's timestamp
//! when it arrives — every target on its own schedule, as Prometheus's goroutine per target.
//!
//! Architecture invariant: a target's first scrape happens at the offset within its interval
//! that Prometheus would pick (a hash of the target, [`Target::offset`]), so two runs of the
//! same world scrape at the same instants.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use promplay_exposition::{FormatKind, ParseOptions};
use promplay_model::{is_stale_nan, Label, Labels, METRIC_NAME, STALE_NAN};
use promplay_tsdb::{AppendError, Appender, Db, SeriesRef};

use crate::config::{check_target_address, Config, HttpClientConfig, ScrapeConfig, StaticConfig};
use crate::duration::Duration;
use crate::relabel::{process_builder, NameValidationScheme};

pub const ADDRESS_LABEL: &str = "__address__";
pub const SCHEME_LABEL: &str = "__scheme__";
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
pub const PARAM_LABEL_PREFIX: &str = "__param_";
pub const META_LABEL_PREFIX: &str = "__meta_";
pub const RESERVED_LABEL_PREFIX: &str = "__";
pub const JOB_LABEL: &str = "job";
pub const INSTANCE_LABEL: &str = "instance";
pub const EXPORTED_LABEL_PREFIX: &str = "exported_";

// ---------------------------------------------------------------------------------------------
// Fetching.

/// What the scrape loop asks the host to fetch.
#[derive(Clone, Debug)]
pub struct ScrapeRequest {
    /// The virtual time of the scrape (ms): simulated programs answer as of this instant.
    pub time_ms: i64,
    /// `scheme://address/path?params`, as Prometheus builds it.
    pub url: String,
    pub scheme: String,
    pub address: String,
    pub metrics_path: String,
    /// Query parameters (config `params` overridden by `__param_*` labels), sorted by key.
    pub params: Vec<(String, String)>,
    /// The `Accept` header Prometheus sends for the configured scrape protocols.
    pub accept: String,
    /// The scrape timeout; the host may give up after it (and report
    /// [`ScrapeErrorKind::Timeout`]).
    pub timeout: Duration,
    pub job: String,
    /// The target's labels after relabeling, `__`-prefixed ones included.
    pub target_labels: Labels,
    pub http_client_config: Arc<HttpClientConfig>,
}

/// A fetched body.
#[derive(Clone, Debug, Default)]
pub struct ScrapeResponse {
    /// The `Content-Type` header ("" if none).
    pub content_type: String,
    /// The uncompressed body.
    pub body: Vec<u8>,
    /// How long the fetch took (simulated, or measured on the host's monotonic clock), in
    /// nanoseconds, as Go's `time.Duration`: `scrape_duration_seconds` and the targets view's
    /// `lastScrapeDuration` keep sub-millisecond precision. Longer than the scrape timeout makes
    /// the scrape fail with `context deadline exceeded`.
    pub duration_ns: i64,
}

/// Why a fetch failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScrapeErrorKind {
    /// A non-200 answer: `server returned HTTP status 500 Internal Server Error`.
    Status { code: u16, reason: String },
    /// The request did not complete: connection refused, DNS, TLS … (`message` as Go's net
    /// package words it, e.g. `dial tcp 127.0.0.1:9100: connect: connection refused`).
    Transport(String),
    /// The scrape timeout passed.
    Timeout,
    /// The body was larger than `body_size_limit`.
    BodySizeLimit,
}

/// A failed fetch and how long it took (ns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrapeError {
    pub kind: ScrapeErrorKind,
    pub duration_ns: i64,
}

impl ScrapeError {
    pub fn new(kind: ScrapeErrorKind, duration_ns: i64) -> Self {
        ScrapeError { kind, duration_ns }
    }
    pub fn connection_refused(address: &str) -> Self {
        ScrapeError::new(
            ScrapeErrorKind::Transport(format!("dial tcp {address}: connect: connection refused")),
            0,
        )
    }

    /// The text Prometheus shows as the target's last error.
    pub fn message(&self, url: &str) -> String {
        match &self.kind {
            ScrapeErrorKind::Status { code, reason } => {
                format!("server returned HTTP status {code} {reason}")
            }
            ScrapeErrorKind::Transport(m) => format!("Get {url:?}: {m}"),
            ScrapeErrorKind::Timeout => format!("Get {url:?}: context deadline exceeded"),
            ScrapeErrorKind::BodySizeLimit => "body size limit exceeded".to_string(),
        }
    }
}

/// The host's way to fetch a target: simulated programs in the playground, HTTP in the
/// companion. Synchronous: the engine has no runtime.
pub trait TargetFetcher {
    fn fetch(&mut self, request: &ScrapeRequest) -> Result<ScrapeResponse, ScrapeError>;
}

impl<F: FnMut(&ScrapeRequest) -> Result<ScrapeResponse, ScrapeError>> TargetFetcher for F {
    fn fetch(&mut self, request: &ScrapeRequest) -> Result<ScrapeResponse, ScrapeError> {
        self(request)
    }
}

// ---------------------------------------------------------------------------------------------
// Targets.

/// A target's health after its last scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetHealth {
    #[default]
    Unknown,
    Up,
    Down,
}

impl TargetHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetHealth::Unknown => "unknown",
            TargetHealth::Up => "up",
            TargetHealth::Down => "down",
        }
    }
}

/// One scrape target (`scrape.Target`).
#[derive(Clone, Debug)]
pub struct Target {
    /// All labels after relabeling, `__`-prefixed ones included.
    labels: Labels,
    /// The labels before relabeling.
    discovered_labels: Labels,
    /// Config `params`.
    params: BTreeMap<String, Vec<String>>,
    pub health: TargetHealth,
    pub last_error: String,
    /// Start of the last scrape (ms), if any.
    pub last_scrape_ms: Option<i64>,
    /// How long the last scrape took (ns).
    pub last_scrape_duration_ns: i64,
    /// Samples of the last scrape (`scrape_samples_scraped`).
    pub last_samples: usize,
}

impl Target {
    pub fn new(
        labels: Labels,
        discovered_labels: Labels,
        params: BTreeMap<String, Vec<String>>,
    ) -> Self {
        Target {
            labels,
            discovered_labels,
            params,
            health: TargetHealth::Unknown,
            last_error: String::new(),
            last_scrape_ms: None,
            last_scrape_duration_ns: 0,
            last_samples: 0,
        }
    }

    /// The labels attached to the target's samples: those not starting with `__`.
    pub fn labels(&self) -> Labels {
        Labels::new(
            self.labels
                .iter()
                .filter(|l| !l.name.starts_with(RESERVED_LABEL_PREFIX))
                .cloned()
                .collect(),
        )
    }

    /// Every label, `__`-prefixed included.
    pub fn all_labels(&self) -> &Labels {
        &self.labels
    }

    pub fn discovered_labels(&self) -> &Labels {
        &self.discovered_labels
    }

    pub fn get(&self, name: &str) -> &str {
        self.labels.get_or_empty(name)
    }

    /// Query parameters: config `params`, the first value overridden by `__param_<k>` labels.
    pub fn params(&self) -> BTreeMap<String, Vec<String>> {
        let mut params = self.params.clone();
        for l in self.labels.iter() {
            if let Some(k) = l.name.strip_prefix(PARAM_LABEL_PREFIX) {
                let e = params.entry(k.to_string()).or_default();
                if e.is_empty() {
                    e.push(l.value.to_string());
                } else {
                    e[0] = l.value.to_string();
                }
            }
        }
        params
    }

    /// `scheme://address/path?query` (`Target.URL`).
    pub fn url(&self) -> String {
        let mut q = String::new();
        for (k, vs) in self.params() {
            for v in vs {
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(&query_escape(&k));
                q.push('=');
                q.push_str(&query_escape(&v));
            }
        }
        let mut url = format!(
            "{}://{}{}",
            self.get(SCHEME_LABEL),
            self.get(ADDRESS_LABEL),
            self.get(METRICS_PATH_LABEL)
        );
        if !q.is_empty() {
            url.push('?');
            url.push_str(&q);
        }
        url
    }

    /// An identifying hash (`Target.hash`): FNV-1a over the labels and the URL. Stable across
    /// runs and platforms.
    pub fn hash(&self) -> u64 {
        let mut h = Fnv64a::new();
        for l in self.labels.iter() {
            h.write(l.name.as_bytes());
            h.write(&[0xff]);
            h.write(l.value.as_bytes());
            h.write(&[0xff]);
        }
        h.write(self.url().as_bytes());
        h.finish()
    }

    /// Milliseconds from `now_ms` to this target's first scrape (`Target.offset`): scrapes are
    /// pinned to absolute time, spread over the interval by the target's hash.
    pub fn offset(&self, interval_ms: i64, now_ms: i64, offset_seed: u64) -> i64 {
        if interval_ms <= 0 {
            return 0;
        }
        let base = interval_ms - now_ms.rem_euclid(interval_ms);
        let off = ((self.hash() ^ offset_seed) % interval_ms as u64) as i64;
        let mut next = base + off;
        if next > interval_ms {
            next -= interval_ms;
        }
        next
    }

    /// Interval and timeout from the `__scrape_interval__`/`__scrape_timeout__` labels.
    pub fn interval_and_timeout(&self, default: (Duration, Duration)) -> (Duration, Duration) {
        let i = Duration::parse(self.get(SCRAPE_INTERVAL_LABEL)).unwrap_or(default.0);
        let t = Duration::parse(self.get(SCRAPE_TIMEOUT_LABEL)).unwrap_or(default.1);
        (i, t)
    }
}

/// `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

struct Fnv64a(u64);

impl Fnv64a {
    fn new() -> Self {
        Fnv64a(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A group of targets sharing labels (`targetgroup.Group`), from `static_configs` or from a
/// discovery mechanism the host runs (file SD).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetGroup {
    /// Each target's own labels (at least `__address__`).
    pub targets: Vec<Labels>,
    /// Labels common to the group.
    pub labels: Labels,
    /// Where the group comes from ("0", "1" … for static configs).
    pub source: String,
}

impl TargetGroup {
    pub fn from_static(sc: &StaticConfig, index: usize) -> Self {
        TargetGroup {
            targets: sc
                .targets
                .iter()
                .map(|t| Labels::new(vec![Label::new(ADDRESS_LABEL, t.as_str())]))
                .collect(),
            labels: Labels::new(
                sc.labels
                    .iter()
                    .map(|(k, v)| Label::new(k.as_str(), v.as_str()))
                    .collect(),
            ),
            source: index.to_string(),
        }
    }
}

/// The labels of a target before relabeling (`PopulateDiscoveredLabels`).
pub fn populate_discovered_labels(cfg: &ScrapeConfig, target: &Labels, group: &Labels) -> Labels {
    let mut lb = target.builder();
    for l in group.iter() {
        if !target.has(&l.name) {
            lb.set(l.name.clone(), l.value.clone());
        }
    }
    let defaults = [
        (JOB_LABEL, cfg.job_name.clone()),
        (SCRAPE_INTERVAL_LABEL, cfg.scrape_interval.to_string()),
        (SCRAPE_TIMEOUT_LABEL, cfg.scrape_timeout.to_string()),
        (METRICS_PATH_LABEL, cfg.metrics_path.clone()),
        (SCHEME_LABEL, cfg.scheme.clone()),
    ];
    for (name, value) in defaults {
        if lb.get(name).is_none() {
            lb.set(name, value);
        }
    }
    for (k, v) in &cfg.params {
        let name = format!("{PARAM_LABEL_PREFIX}{k}");
        if let Some(first) = v.first() {
            if lb.get(&name).is_none() {
                lb.set(name, first.as_str());
            }
        }
    }
    lb.labels()
}

/// A target's final labels (`PopulateLabels`): relabeling, address and interval checks,
/// `__meta_*` removed, `instance` defaulting to the address. `Ok(None)`: dropped by
/// relabeling.
pub fn populate_labels(cfg: &ScrapeConfig, discovered: &Labels) -> Result<Option<Labels>, String> {
    let mut lb = discovered.builder();
    if !process_builder(&mut lb, &cfg.relabel_configs, cfg.name_validation_scheme()) {
        return Ok(None);
    }
    let addr = lb.get(ADDRESS_LABEL).unwrap_or("").to_string();
    if addr.is_empty() {
        return Err("no address".into());
    }
    check_target_address(&addr)?;
    let interval = lb.get(SCRAPE_INTERVAL_LABEL).unwrap_or("").to_string();
    let interval_d =
        Duration::parse(&interval).map_err(|e| format!("error parsing scrape interval: {e}"))?;
    if interval_d.is_zero() {
        return Err("scrape interval cannot be 0".into());
    }
    let timeout = lb.get(SCRAPE_TIMEOUT_LABEL).unwrap_or("").to_string();
    let timeout_d =
        Duration::parse(&timeout).map_err(|e| format!("error parsing scrape timeout: {e}"))?;
    if timeout_d.is_zero() {
        return Err("scrape timeout cannot be 0".into());
    }
    if timeout_d > interval_d {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})"
        ));
    }
    for l in lb.labels().iter() {
        if l.name.starts_with(META_LABEL_PREFIX) {
            lb.del(l.name.clone());
        }
    }
    if lb.get(INSTANCE_LABEL).is_none() {
        lb.set(INSTANCE_LABEL, addr);
    }
    Ok(Some(lb.labels()))
}

/// Targets of one group (`TargetsFromGroup`): active and dropped targets, and the failures
/// worded as Prometheus does (`instance 0 in group 0: "http://x" is not a valid hostname`).
pub fn targets_from_group(
    cfg: &ScrapeConfig,
    tg: &TargetGroup,
) -> (Vec<Target>, Vec<Target>, Vec<String>) {
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    let mut failures = Vec::new();
    for (i, t) in tg.targets.iter().enumerate() {
        let discovered = populate_discovered_labels(cfg, t, &tg.labels);
        match populate_labels(cfg, &discovered) {
            Ok(Some(labels)) => active.push(Target::new(labels, discovered, cfg.params.clone())),
            Ok(None) => dropped.push(Target::new(Labels::empty(), discovered, cfg.params.clone())),
            Err(e) => failures.push(format!("instance {i} in group {}: {e}", tg.source)),
        }
    }
    (active, dropped, failures)
}

/// Type, help and unit of a metric family as last scraped (`scrape.MetricMetadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricMetadata {
    pub metric_family: String,
    /// Prometheus's spelling: `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`,
    /// `info`, `stateset`, `unknown`.
    pub typ: String,
    pub help: String,
    pub unit: String,
}

// ---------------------------------------------------------------------------------------------
// The scrape cache.

/// A cached exposed series: its exposed name and labels, its stored series and labels.
#[derive(Clone, Debug)]
struct CacheEntry {
    name: Arc<str>,
    labels: Labels,
    sref: SeriesRef,
    last_iter: u64,
    lset: Arc<Labels>,
}

/// A hash of an exposed series (name + labels) to look it up without building a key.
///
/// Speed over DoS resistance: an unkeyed multiply-rotate hash over 8-byte words, finished with
/// a full avalanche (so the map can use the value as it is, [`PreHashed`]). Trade-off: a
/// target that crafts colliding label sets on purpose can make lookups in its own loop's cache
/// linear in the number of colliding series (they share a bucket and are compared in full);
/// correctness never depends on the hash. Prometheus's Go map is seeded per process; the
/// engine crates have no randomness source, and the previous SipHash here was unkeyed too.
fn exposed_hash(name: &str, labels: &Labels) -> u64 {
    let mut h = WordHash(0);
    h.bytes(name.as_bytes());
    for l in labels.iter() {
        h.sep(0xfe);
        h.bytes(l.name.as_bytes());
        h.sep(0xff);
        h.bytes(l.value.as_bytes());
    }
    h.finish()
}

/// The word-at-a-time hash of [`exposed_hash`].
struct WordHash(u64);

impl WordHash {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    #[inline]
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(Self::K);
    }
    #[inline]
    fn sep(&mut self, b: u8) {
        self.word(u64::from(b) | 0x100);
    }
    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            // The length keeps "a\0" and "a" apart.
            self.word(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    /// murmur3's fmix64: every output bit depends on every input bit.
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        h
    }
}

/// A hasher for keys that are already well-mixed hashes ([`exposed_hash`]) or small series
/// references: it passes the `u64` through (references are mixed first).
#[derive(Default, Clone, Copy)]
struct PreHashed(u64);

impl std::hash::Hasher for PreHashed {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(WordHash::K);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type PreHashedMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<PreHashed>>;

/// A series reference as a hash-map key: mixed, since references are small consecutive ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RefKey(SeriesRef);

impl std::hash::Hash for RefKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(
            self.0
                 .0
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29),
        );
    }
}

/// Per-target memory of exposed series → stored series, and the series of the current and
/// previous scrape for staleness (`scrapeCache`).
#[derive(Clone, Debug, Default)]
pub struct ScrapeCache {
    iter: u64,
    successful_count: usize,
    /// Exposed series by [`exposed_hash`] (collisions share a bucket).
    series: PreHashedMap<u64, Vec<CacheEntry>>,
    /// Exposed series dropped by metric relabeling, with the iteration they were last seen.
    dropped: PreHashedMap<u64, Vec<(Arc<str>, Labels, u64)>>,
    series_cur: PreHashedMap<RefKey, Arc<Labels>>,
    series_prev: PreHashedMap<RefKey, Arc<Labels>>,
    /// The report series (`up` …) by name; never subject to scrape staleness.
    report: HashMap<&'static str, (SeriesRef, Labels)>,
    /// Metadata by family name, with the iteration it was last seen at.
    metadata: BTreeMap<String, (MetricMetadata, u64)>,
    /// The shape of the last classic-text exposition parsed in full ([`TextShape`]).
    shape: Option<TextShape>,
}

/// The shape of a classic-text exposition: its lines but for the values and timestamps.
///
/// Targets expose the same series in the same order scrape after scrape. When every line of a
/// new body is the same as the remembered body's up to where the value starts (comment and
/// blank lines byte for byte), the text parser would produce the same families, types, help,
/// names and labels — its state depends on nothing else — so only the values and timestamps
/// are read, and the parse is skipped (Prometheus's scrape cache keys series by their bytes
/// for the same reason). The only value-dependent checks of the parser (the value is a float,
/// the timestamp an integer with nothing after it, histogram `_count`/`_bucket` samples are
/// not negative) are made again; any doubt falls back to the full parse.
#[derive(Clone, Debug)]
struct TextShape {
    body: Vec<u8>,
    /// Per line of `body`: its span, and for a sample line the value's offset and the index of
    /// its sample in `samples`.
    lines: Vec<ShapeLine>,
    /// The samples in the parser's output order: name, labels, whether a negative value is a
    /// parse error, and their [`exposed_hash`].
    samples: Vec<(Arc<str>, Labels, bool, u64)>,
    /// The family names, for the metadata's iteration.
    families: Vec<String>,
}

/// A sample to append: name, labels, value, timestamp, and [`exposed_hash`] if known.
type SampleRef<'s> = (&'s Arc<str>, &'s Labels, f64, Option<i64>, Option<u64>);

/// A line of a [`TextShape`]: start, end, and for a sample line (value offset, sample index).
type ShapeLine = (usize, usize, Option<(usize, usize)>);

/// Splits a body into lines as the text parser does.
fn body_lines(body: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= body.len() {
            return None;
        }
        let start = pos;
        let end = memchr_nl(&body[pos..]).map_or(body.len(), |i| pos + i);
        pos = end + 1;
        Some((start, end))
    })
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl TextShape {
    /// The shape of `body`, parsed in full into `families` with its sample lines.
    fn new(
        body: &[u8],
        families: &[promplay_exposition::ParsedFamily],
        lines: &[promplay_exposition::SampleLine],
    ) -> Option<TextShape> {
        let mut spans: Vec<ShapeLine> = body_lines(body).map(|(a, b)| (a, b, None)).collect();
        // Output order: family by family.
        let mut order: Vec<usize> = (0..lines.len()).collect();
        order.sort_by_key(|&k| (lines[k].family, lines[k].sample));
        let mut samples = Vec::with_capacity(lines.len());
        let mut line_sample = vec![0usize; lines.len()];
        for (j, &k) in order.iter().enumerate() {
            let sl = lines[k];
            let fam = families.get(sl.family)?;
            let s = fam.samples.get(sl.sample)?;
            let neg = fam.typ == promplay_exposition::MetricType::Histogram
                && *s.name != *fam.name
                && (s.name.ends_with("_count") || s.name.ends_with("_bucket"));
            let hash = exposed_hash(&s.name, &s.labels);
            samples.push((s.name.clone(), s.labels.clone(), neg, hash));
            line_sample[k] = j;
        }
        for (k, sl) in lines.iter().enumerate() {
            spans.get_mut(sl.line - 1)?.2 = Some((sl.value_col, line_sample[k]));
        }
        Some(TextShape {
            body: body.to_vec(),
            lines: spans,
            samples,
            families: families.iter().map(|f| f.name.clone()).collect(),
        })
    }

    /// The values and timestamps of `body` in output order, if it has this shape.
    fn read(&self, body: &[u8], out: &mut Vec<(f64, Option<i64>)>) -> bool {
        out.clear();
        out.resize(self.samples.len(), (0.0, None));
        if body.last() != Some(&b'\n') {
            return false;
        }
        let mut lines = body_lines(body);
        for &(a, b, sample) in &self.lines {
            let Some((na, nb)) = lines.next() else {
                return false;
            };
            let old = &self.body[a..b];
            let line = &body[na..nb];
            let Some((vcol, j)) = sample else {
                if line != old {
                    return false;
                }
                continue;
            };
            if line.len() <= vcol || line[..vcol] != old[..vcol] || is_blank(line[vcol]) {
                return false;
            }
            let vend = line[vcol..]
                .iter()
                .position(|&c| is_blank(c))
                .map_or(line.len(), |i| vcol + i);
            let Some(v) = promplay_exposition::float::parse_float(&line[vcol..vend]) else {
                return false;
            };
            if v < 0.0 && self.samples[j].2 {
                return false;
            }
            let mut pos = vend;
            while pos < line.len() && is_blank(line[pos]) {
                pos += 1;
            }
            let mut ts = None;
            if pos < line.len() {
                let tend = line[pos..]
                    .iter()
                    .position(|&c| is_blank(c))
                    .map_or(line.len(), |i| pos + i);
                match std::str::from_utf8(&line[pos..tend])
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    Some(t) => ts = Some(t),
                    None => return false,
                }
                pos = tend;
                while pos < line.len() && is_blank(line[pos]) {
                    pos += 1;
                }
                if pos < line.len() {
                    return false;
                }
            }
            out[j] = (v, ts);
        }
        lines.next().is_none()
    }
}

impl ScrapeCache {
    fn iter_done(&mut self, flush: bool) {
        let count = self.len() + self.dropped.values().map(Vec::len).sum::<usize>();
        let mut flush = flush;
        if flush {
            self.successful_count = count;
        } else if count > self.successful_count * 2 + 1000 {
            flush = true;
        }
        if flush {
            let iter = self.iter;
            self.series.retain(|_, b| {
                b.retain(|e| e.last_iter == iter);
                !b.is_empty()
            });
            self.dropped.retain(|_, b| {
                b.retain(|e| e.2 == iter);
                !b.is_empty()
            });
            // Keep metadata around for 10 scrapes after its metric disappeared.
            self.metadata.retain(|_, (_, i)| iter - *i <= 10);
        }
        // Swap rather than move: both maps keep their capacity across scrapes.
        std::mem::swap(&mut self.series_prev, &mut self.series_cur);
        self.series_cur.clear();
        self.iter += 1;
    }

    /// The stored series and labels of an exposed series, and whether it was already seen in
    /// this scrape.
    fn get(
        &mut self,
        hash: u64,
        name: &Arc<str>,
        labels: &Labels,
    ) -> Option<(SeriesRef, Arc<Labels>, bool)> {
        let iter = self.iter;
        // `Arc`'s equality compares pointers first: a body read by its shape hands back the
        // strings the entry was made from.
        let e = self
            .series
            .get_mut(&hash)?
            .iter_mut()
            .find(|e| e.name == *name && e.labels == *labels)?;
        let already = e.last_iter == iter;
        e.last_iter = iter;
        Some((e.sref, e.lset.clone(), already))
    }

    fn add(
        &mut self,
        hash: u64,
        name: Arc<str>,
        labels: Labels,
        sref: SeriesRef,
        lset: Arc<Labels>,
    ) {
        self.series.entry(hash).or_default().push(CacheEntry {
            name,
            labels,
            sref,
            last_iter: self.iter,
            lset,
        });
    }

    fn get_dropped(&mut self, hash: u64, name: &str, labels: &Labels) -> bool {
        let iter = self.iter;
        match self
            .dropped
            .get_mut(&hash)
            .and_then(|b| b.iter_mut().find(|e| &*e.0 == name && e.1 == *labels))
        {
            Some(e) => {
                e.2 = iter;
                true
            }
            None => false,
        }
    }

    fn add_dropped(&mut self, hash: u64, name: Arc<str>, labels: Labels) {
        let iter = self.iter;
        self.dropped
            .entry(hash)
            .or_default()
            .push((name, labels, iter));
    }

    /// Number of exposed series the cache knows (for the UI).
    pub fn len(&self) -> usize {
        self.series.values().map(Vec::len).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// The scrape loop.

/// Settings a loop takes from its scrape config.
#[derive(Clone, Debug)]
struct LoopOptions {
    job: String,
    interval: Duration,
    timeout: Duration,
    honor_labels: bool,
    honor_timestamps: bool,
    track_timestamps_staleness: bool,
    sample_limit: usize,
    label_limit: usize,
    label_name_length_limit: usize,
    label_value_length_limit: usize,
    body_size_limit: u64,
    fallback_protocol: String,
    accept: String,
    extra_metrics: bool,
    scheme: NameValidationScheme,
    metric_relabel_configs: Vec<crate::relabel::RelabelConfig>,
    http: Arc<HttpClientConfig>,
}

impl LoopOptions {
    fn new(cfg: &ScrapeConfig, interval: Duration, timeout: Duration) -> Self {
        LoopOptions {
            job: cfg.job_name.clone(),
            interval,
            timeout,
            honor_labels: cfg.honor_labels,
            honor_timestamps: cfg.honor_timestamps,
            track_timestamps_staleness: cfg.track_timestamps_staleness,
            sample_limit: cfg.sample_limit as usize,
            label_limit: cfg.label_limit as usize,
            label_name_length_limit: cfg.label_name_length_limit as usize,
            label_value_length_limit: cfg.label_value_length_limit as usize,
            body_size_limit: cfg.body_size_limit.0,
            fallback_protocol: protocol_media_type(&cfg.fallback_scrape_protocol).to_string(),
            accept: accept_header(&cfg.scrape_protocols, &cfg.metric_name_escaping_scheme),
            extra_metrics: cfg.extra_scrape_metrics,
            scheme: cfg.name_validation_scheme(),
            metric_relabel_configs: cfg.metric_relabel_configs.clone(),
            http: Arc::new(cfg.http_client_config.clone()),
        }
    }
}

fn protocol_header(p: &str) -> &'static str {
    match p {
        "PrometheusProto" => {
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
        }
        "PrometheusText0.0.4" => "text/plain;version=0.0.4",
        "PrometheusText1.0.0" => "text/plain;version=1.0.0",
        "OpenMetricsText0.0.1" => "application/openmetrics-text;version=0.0.1",
        "OpenMetricsText1.0.0" => "application/openmetrics-text;version=1.0.0",
        _ => "",
    }
}

fn protocol_media_type(p: &str) -> &'static str {
    match p {
        "PrometheusProto" => "application/vnd.google.protobuf",
        "PrometheusText0.0.4" | "PrometheusText1.0.0" => "text/plain",
        "OpenMetricsText0.0.1" | "OpenMetricsText1.0.0" => "application/openmetrics-text",
        _ => "",
    }
}

/// The `Accept` header for the scrape protocols (`acceptHeader`).
pub fn accept_header(protocols: &[String], escaping: &str) -> String {
    let mut vals = Vec::new();
    let mut weight = 6;
    for p in protocols {
        let mut v = protocol_header(p).to_string();
        if p == "PrometheusText1.0.0" || p == "OpenMetricsText1.0.0" {
            v.push_str(";escaping=");
            v.push_str(escaping);
        }
        v.push_str(&format!(";q=0.{weight}"));
        vals.push(v);
        weight -= 1;
    }
    vals.push(format!("*/*;q=0.{weight}"));
    vals.join(",")
}

/// Errors of one append pass.
#[derive(Debug, PartialEq)]
enum AppendFailure {
    SampleLimit,
    Other(String),
}

impl fmt::Display for AppendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendFailure::SampleLimit => f.write_str("sample limit exceeded"),
            AppendFailure::Other(s) => f.write_str(s),
        }
    }
}

struct AppendCounts {
    total: usize,
    added: usize,
    series_added: usize,
}

/// One target's scrape loop (`scrapeLoop`).
#[derive(Debug)]
pub struct ScrapeLoop {
    pub target: Target,
    cache: ScrapeCache,
    opts: LoopOptions,
    /// When the next scrape is due (ms).
    next_ms: i64,
    /// When the last scrape happened (for end-of-run staleness).
    last_ms: Option<i64>,
    forced_error: Option<String>,
    /// The timestamp of the scrape started by [`ScrapeManager::start_due`] and not yet
    /// completed.
    in_flight: Option<i64>,
}

impl ScrapeLoop {
    fn new(target: Target, opts: LoopOptions, cache: ScrapeCache, first_ms: i64) -> Self {
        ScrapeLoop {
            target,
            cache,
            opts,
            next_ms: first_ms,
            last_ms: None,
            forced_error: None,
            in_flight: None,
        }
    }

    /// When the next scrape is due (ms).
    pub fn next_scrape_ms(&self) -> i64 {
        self.next_ms
    }
    pub fn interval(&self) -> Duration {
        self.opts.interval
    }
    /// The metadata of the families this target exposed recently (`/api/v1/targets/metadata`).
    pub fn metadata(&self) -> Vec<MetricMetadata> {
        self.cache
            .metadata
            .values()
            .map(|(m, _)| m.clone())
            .collect()
    }
    pub fn timeout(&self) -> Duration {
        self.opts.timeout
    }

    fn request(&self, t: i64) -> ScrapeRequest {
        ScrapeRequest {
            time_ms: t,
            url: self.target.url(),
            scheme: self.target.get(SCHEME_LABEL).to_string(),
            address: self.target.get(ADDRESS_LABEL).to_string(),
            metrics_path: self.target.get(METRICS_PATH_LABEL).to_string(),
            params: self
                .target
                .params()
                .into_iter()
                .flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v)))
                .collect(),
            accept: self.opts.accept.clone(),
            timeout: self.opts.timeout,
            job: self.opts.job.clone(),
            target_labels: self.target.labels.clone(),
            http_client_config: self.opts.http.clone(),
        }
    }

    /// One scrape at `t` (`scrapeAndReport`): fetch, append, stale markers, report, commit.
    pub fn scrape_and_report(&mut self, t: i64, db: &Db, fetcher: &mut dyn TargetFetcher) {
        if self.forced_error.is_some() {
            self.report_forced_error(t, db);
            return;
        }
        let req = self.request(t);
        let outcome = fetcher.fetch(&req);
        self.append_outcome(t, db, &req.url, outcome);
    }

    /// A scrape at `t` of a loop whose pool is over its `target_limit`: no fetch; stale
    /// markers for the last scrape's series and `up` 0 with the limit error.
    fn report_forced_error(&mut self, t: i64, db: &Db) {
        let Some(forced) = self.forced_error.clone() else {
            return;
        };
        let mut app = db.appender();
        // Add stale markers.
        if self.append(&mut app, &[], "", t).1.is_err() {
            app.rollback();
            app = db.appender();
        }
        self.report(&mut app, t, 0, 0, 0, 0, 0, Some(forced));
        let _ = app.commit();
        self.last_ms = Some(t);
    }

    /// The second half of a scrape at `t`: the fetch's outcome parsed and appended, stale
    /// markers, report series, commit.
    fn append_outcome(
        &mut self,
        t: i64,
        db: &Db,
        url: &str,
        outcome: Result<ScrapeResponse, ScrapeError>,
    ) {
        let timeout_ns = self.opts.timeout.as_millis().saturating_mul(1_000_000);
        let mut app = db.appender();
        let (body, content_type, duration_ns, mut scrape_err, bytes) = match outcome {
            Ok(resp) if resp.duration_ns > timeout_ns => (
                Vec::new(),
                String::new(),
                timeout_ns,
                Some(ScrapeError::new(ScrapeErrorKind::Timeout, timeout_ns).message(url)),
                0i64,
            ),
            Ok(resp)
                if self.opts.body_size_limit > 0
                    && resp.body.len() as u64 >= self.opts.body_size_limit =>
            {
                (
                    Vec::new(),
                    String::new(),
                    resp.duration_ns.max(0),
                    Some(ScrapeError::new(ScrapeErrorKind::BodySizeLimit, 0).message(url)),
                    -1,
                )
            }
            Ok(resp) => {
                let n = resp.body.len() as i64;
                (
                    resp.body,
                    resp.content_type,
                    resp.duration_ns.max(0),
                    None,
                    n,
                )
            }
            Err(e) => {
                let bytes = if e.kind == ScrapeErrorKind::BodySizeLimit {
                    -1
                } else {
                    0
                };
                let d = if e.kind == ScrapeErrorKind::Timeout {
                    timeout_ns
                } else {
                    e.duration_ns.clamp(0, timeout_ns)
                };
                (Vec::new(), String::new(), d, Some(e.message(url)), bytes)
            }
        };
        // A failed scrape is the same as an empty scrape: append still runs to write stale
        // markers.
        let (counts, res) = self.append(&mut app, &body, &content_type, t);
        if let Err(e) = &res {
            app.rollback();
            app = db.appender();
            // Call append again with an empty scrape to trigger stale markers.
            if self.append(&mut app, &[], "", t).1.is_err() {
                app.rollback();
                app = db.appender();
            }
            if scrape_err.is_none() {
                scrape_err = Some(e.to_string());
            }
        }
        self.report(
            &mut app,
            t,
            duration_ns,
            counts.total,
            counts.added,
            counts.series_added,
            bytes,
            scrape_err,
        );
        let _ = app.commit();
        self.last_ms = Some(t);
    }

    /// Parses `body` and appends its samples (`scrapeLoopAppender.append`). An empty body only
    /// writes stale markers for the series of the previous scrape.
    fn append(
        &mut self,
        app: &mut Appender<'_>,
        body: &[u8],
        content_type: &str,
        t: i64,
    ) -> (AppendCounts, Result<(), AppendFailure>) {
        let mut counts = AppendCounts {
            total: 0,
            added: 0,
            series_added: 0,
        };
        if body.is_empty() {
            self.update_stale_markers(app, t);
            self.cache.iter_done(false);
            return (counts, Ok(()));
        }
        let kind = match media_type(content_type, &self.opts.fallback_protocol) {
            Ok(k) => k,
            Err(e) => return (counts, Err(AppendFailure::Other(e))),
        };
        let iter = self.cache.iter;
        // A classic-text body shaped as the last one: only its values are read.
        let mut values = Vec::new();
        if kind == FormatKind::Text {
            if let Some(shape) = self.cache.shape.take() {
                if shape.read(body, &mut values) {
                    for name in &shape.families {
                        if let Some((_, i)) = self.cache.metadata.get_mut(name.as_str()) {
                            *i = iter;
                        }
                    }
                    let samples = shape
                        .samples
                        .iter()
                        .zip(&values)
                        .map(|(s, &(v, ts))| (&s.0, &s.1, v, ts, Some(s.3)));
                    let res = self.append_samples(app, samples, t, &mut counts);
                    self.cache.shape = Some(shape);
                    return (counts, res);
                }
            }
        }
        let parsed = match kind {
            FormatKind::Text => promplay_exposition::parse_text_indexed(body).map(|(f, l)| {
                self.cache.shape = TextShape::new(body, &f, &l);
                f
            }),
            _ => promplay_exposition::parse(body, kind, ParseOptions { strict: false }),
        };
        let families = match parsed {
            Ok(f) => f,
            // Prometheus's scrape parsers word the error their own way (not expfmt's).
            Err(e) => {
                let msg = promplay_exposition::prometheus_error(body, kind)
                    .unwrap_or_else(|| e.to_string());
                return (counts, Err(AppendFailure::Other(msg)));
            }
        };
        for fam in &families {
            let typ = fam.typ.as_str();
            let help = fam.help.as_deref().unwrap_or_default();
            let unit = fam.unit.as_deref().unwrap_or_default();
            // Unchanged metadata (the usual case) only has its iteration bumped.
            if let Some((m, i)) = self.cache.metadata.get_mut(fam.name.as_str()) {
                if m.typ == typ && m.help == help && m.unit == unit {
                    *i = iter;
                    continue;
                }
            }
            self.cache.metadata.insert(
                fam.name.clone(),
                (
                    MetricMetadata {
                        metric_family: fam.name.clone(),
                        typ: typ.to_string(),
                        help: help.to_string(),
                        unit: unit.to_string(),
                    },
                    iter,
                ),
            );
        }
        let samples = families
            .iter()
            .flat_map(|f| &f.samples)
            .map(|s| (&s.name, &s.labels, s.value, s.timestamp_ms, None));
        let res = self.append_samples(app, samples, t, &mut counts);
        (counts, res)
    }

    /// Appends parsed samples (name, labels, value, timestamp), then stale markers.
    fn append_samples<'s>(
        &mut self,
        app: &mut Appender<'_>,
        samples: impl Iterator<Item = SampleRef<'s>>,
        t: i64,
        counts: &mut AppendCounts,
    ) -> Result<(), AppendFailure> {
        let mut err: Option<AppendFailure> = None;
        let mut sample_limit_hit = false;
        let mut limited = 0usize;
        'outer: {
            for (s_name, s_labels, s_value, s_ts, s_hash) in samples {
                counts.total += 1;
                let parsed_ts = if self.opts.honor_timestamps {
                    s_ts
                } else {
                    None
                };
                let ts = parsed_ts.unwrap_or(t);
                let hash = s_hash.unwrap_or_else(|| exposed_hash(s_name, s_labels));
                if self.cache.get_dropped(hash, s_name, s_labels) {
                    continue;
                }
                let cached = self.cache.get(hash, s_name, s_labels);
                let (sref, lset, already) = match cached {
                    Some((r, lset, already)) => (Some(r), lset, already),
                    None => {
                        let Some(lset) = mutate_sample_labels(
                            &series_labels(s_name, s_labels),
                            &self.target,
                            self.opts.honor_labels,
                            &self.opts.metric_relabel_configs,
                            self.opts.scheme,
                        ) else {
                            self.cache
                                .add_dropped(hash, s_name.clone(), s_labels.clone());
                            continue;
                        };
                        if !lset.has(METRIC_NAME) {
                            err = Some(AppendFailure::Other(
                                "missing metric name (__name__ label)".into(),
                            ));
                            break 'outer;
                        }
                        if !labels_valid(&lset, self.opts.scheme) {
                            err = Some(AppendFailure::Other(format!(
                                "invalid metric name or label names: {lset}"
                            )));
                            break 'outer;
                        }
                        if let Err(e) = self.verify_label_limits(&lset) {
                            err = Some(AppendFailure::Other(e));
                            break 'outer;
                        }
                        (None, Arc::new(lset), false)
                    }
                };
                let result: Result<SeriesRef, AppendError> = if already && parsed_ts.is_none() {
                    Err(AppendError::DuplicateSampleForTimestamp {
                        timestamp: ts,
                        existing: None,
                        new_value: Some(s_value),
                    })
                } else if self.opts.sample_limit > 0 && {
                    // limitAppender: stale markers of known series bypass the limit.
                    if sref.is_none() || !is_stale_nan(s_value) {
                        limited += 1;
                    }
                    limited > self.opts.sample_limit
                } {
                    sample_limit_hit = true;
                    counts.added += 1;
                    continue;
                } else {
                    match sref {
                        Some(r) => match app.append_ref(r, ts, s_value) {
                            Err(AppendError::UnknownSeriesRef(_)) => app.append(&lset, ts, s_value),
                            other => other,
                        },
                        None => app.append(&lset, ts, s_value),
                    }
                };
                let track = parsed_ts.is_none() || self.opts.track_timestamps_staleness;
                let added = match result {
                    Ok(r) => {
                        if track && sref.is_some() {
                            self.cache.series_cur.insert(RefKey(r), lset.clone());
                        }
                        Some(r)
                    }
                    Err(
                        AppendError::OutOfOrderSample
                        | AppendError::DuplicateSampleForTimestamp { .. }
                        | AppendError::OutOfBounds,
                    ) => None,
                    Err(e) => {
                        err = Some(AppendFailure::Other(e.to_string()));
                        break 'outer;
                    }
                };
                if let (None, Some(r)) = (sref, added) {
                    self.cache
                        .add(hash, s_name.clone(), s_labels.clone(), r, lset.clone());
                    if track {
                        self.cache.series_cur.insert(RefKey(r), lset);
                    }
                    if !sample_limit_hit {
                        counts.series_added += 1;
                    }
                }
                counts.added += 1;
            }
        }
        if err.is_none() && sample_limit_hit {
            err = Some(AppendFailure::SampleLimit);
        }
        if let Some(e) = err {
            return Err(e);
        }
        self.update_stale_markers(app, t);
        self.cache.iter_done(true);
        Ok(())
    }

    fn verify_label_limits(&self, lset: &Labels) -> Result<(), String> {
        let met = lset.get_or_empty(METRIC_NAME);
        let met50: String = met.chars().take(50).collect();
        if self.opts.label_limit > 0 && lset.len() > self.opts.label_limit {
            return Err(format!(
                "label_limit exceeded (metric: {met50}, number of labels: {}, limit: {})",
                lset.len(),
                self.opts.label_limit
            ));
        }
        for l in lset.iter() {
            let n = self.opts.label_name_length_limit;
            if n > 0 && l.name.len() > n {
                let name50: String = l.name.chars().take(50).collect();
                return Err(format!(
                    "label_name_length_limit exceeded (metric: {met50}, label name: {name50}, length: {}, limit: {n})",
                    l.name.len()
                ));
            }
            let n = self.opts.label_value_length_limit;
            if n > 0 && l.value.len() > n {
                let name50: String = l.name.chars().take(50).collect();
                let value50: String = l.value.chars().take(50).collect();
                return Err(format!(
                    "label_value_length_limit exceeded (metric: {met50}, label name: {name50}, value: {value50:?}, length: {}, limit: {n})",
                    l.value.len()
                ));
            }
        }
        Ok(())
    }

    /// Writes a staleness marker for every series of the previous scrape missing from this one.
    fn update_stale_markers(&mut self, app: &mut Appender<'_>, t: i64) {
        let mut stale: Vec<(RefKey, Arc<Labels>)> = self
            .cache
            .series_prev
            .iter()
            .filter(|(r, _)| !self.cache.series_cur.contains_key(r))
            .map(|(r, l)| (*r, l.clone()))
            .collect();
        // In reference order, as before (the maps are unordered).
        stale.sort_unstable_by_key(|(r, _)| *r);
        for (RefKey(r), lset) in stale {
            // Out-of-order and duplicate markers are expected when a target comes back.
            if let Err(AppendError::UnknownSeriesRef(_)) = app.append_ref(r, t, STALE_NAN) {
                let _ = app.append(&lset, t, STALE_NAN);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        app: &mut Appender<'_>,
        t: i64,
        duration_ns: i64,
        scraped: usize,
        added: usize,
        series_added: usize,
        bytes: i64,
        scrape_err: Option<String>,
    ) {
        self.target.health = if scrape_err.is_none() {
            TargetHealth::Up
        } else {
            TargetHealth::Down
        };
        self.target.last_error = scrape_err.clone().unwrap_or_default();
        self.target.last_scrape_ms = Some(t);
        self.target.last_scrape_duration_ns = duration_ns;
        self.target.last_samples = scraped;
        let health = if scrape_err.is_none() { 1.0 } else { 0.0 };
        let mut samples = vec![
            ("up", health),
            ("scrape_duration_seconds", ns_to_seconds(duration_ns)),
            ("scrape_samples_scraped", scraped as f64),
            ("scrape_samples_post_metric_relabeling", added as f64),
            ("scrape_series_added", series_added as f64),
        ];
        if self.opts.extra_metrics {
            samples.push(("scrape_timeout_seconds", self.opts.timeout.as_secs_f64()));
            samples.push(("scrape_sample_limit", self.opts.sample_limit as f64));
            samples.push(("scrape_body_size_bytes", bytes as f64));
        }
        for (name, v) in samples {
            self.add_report_sample(app, name, t, v);
        }
    }

    fn add_report_sample(&mut self, app: &mut Appender<'_>, name: &'static str, t: i64, v: f64) {
        if let Some((r, l)) = self.cache.report.get(name) {
            if let Err(AppendError::UnknownSeriesRef(_)) = app.append_ref(*r, t, v) {
                let _ = app.append(l, t, v);
            }
            return;
        }
        let lset = report_sample_labels(name, &self.target);
        if let Ok(r) = app.append(&lset, t, v) {
            self.cache.report.insert(name, (r, lset));
        }
    }

    /// End-of-run staleness (`endOfRunStaleness`): the target went away; mark every series of
    /// its last scrape and its report series stale at `stale_ms`.
    fn write_end_of_run_staleness(&mut self, db: &Db, stale_ms: i64) {
        let mut app = db.appender();
        if self.append(&mut app, &[], "", stale_ms).1.is_err() {
            app.rollback();
            app = db.appender();
        }
        let mut names: Vec<&'static str> = self.cache.report.keys().copied().collect();
        names.sort_unstable();
        for name in names {
            if let Some((r, _)) = self.cache.report.get(name) {
                let _ = app.append_ref(*r, stale_ms, STALE_NAN);
            }
        }
        let _ = app.commit();
    }
}

/// The series labels a scrape stores: the exposed labels plus `__name__`
/// ([`promplay_exposition::ParsedSample::series_labels`]).
fn series_labels(name: &Arc<str>, labels: &Labels) -> Labels {
    let mut v: Vec<Label> = Vec::with_capacity(labels.len() + 1);
    v.extend(labels.iter().cloned());
    v.push(Label::new(METRIC_NAME, name.clone()));
    Labels::new(v)
}

fn labels_valid(lset: &Labels, scheme: NameValidationScheme) -> bool {
    lset.iter().all(|l| {
        if &*l.name == METRIC_NAME {
            scheme.is_valid_metric_name(&l.value)
        } else {
            scheme.is_valid_label_name(&l.name)
        }
    })
}

/// `extractMediaType`: the exposition format for a `Content-Type`, with the fallback protocol.
fn media_type(content_type: &str, fallback: &str) -> Result<FormatKind, String> {
    let kind_of = |mt: &str| match mt {
        "application/openmetrics-text" => Ok(FormatKind::OpenMetrics),
        "text/plain" => Ok(FormatKind::Text),
        "application/vnd.google.protobuf" => {
            Err("protobuf exposition is not supported by promplay".to_string())
        }
        _ => Err(format!("unsupported media type {mt:?}")),
    };
    if content_type.trim().is_empty() {
        if fallback.is_empty() {
            return Err("non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target".into());
        }
        return kind_of(fallback);
    }
    let mt = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mt.as_str() {
        "application/openmetrics-text" | "text/plain" | "application/vnd.google.protobuf" => {
            kind_of(&mt)
        }
        _ if fallback.is_empty() => Err(format!(
            "received unsupported Content-Type {content_type:?} and no fallback_scrape_protocol specified for target"
        )),
        _ => kind_of(fallback),
    }
}

/// A scraped series' labels with the target's labels attached (`mutateSampleLabels`):
/// `honor_labels` keeps the exposed values; otherwise the target wins and exposed values move
/// to `exported_<name>`. Then `metric_relabel_configs`. `None`: dropped.
pub fn mutate_sample_labels(
    lset: &Labels,
    target: &Target,
    honor: bool,
    rc: &[crate::relabel::RelabelConfig],
    scheme: NameValidationScheme,
) -> Option<Labels> {
    let mut lb = lset.builder();
    let target_labels = target.labels();
    if honor {
        for l in target_labels.iter() {
            if !lset.has(&l.name) {
                lb.set(l.name.clone(), l.value.clone());
            }
        }
    } else {
        let mut conflicts: Vec<Label> = Vec::new();
        for l in target_labels.iter() {
            if let Some(existing) = lset.get(&l.name) {
                conflicts.push(Label::new(l.name.clone(), existing));
            }
            lb.set(l.name.clone(), l.value.clone());
        }
        conflicts.sort_by_key(|l| l.name.len());
        for l in conflicts {
            let mut name = l.name.to_string();
            loop {
                name = format!("{EXPORTED_LABEL_PREFIX}{name}");
                if lb.get(&name).is_none() {
                    lb.set(name, l.value.clone());
                    break;
                }
            }
        }
    }
    if !process_builder(&mut lb, rc, scheme) {
        return None;
    }
    let out = lb.labels();
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Labels of a report series (`mutateReportSampleLabels`): the name plus the target's labels.
fn report_sample_labels(name: &str, target: &Target) -> Labels {
    let base = Labels::new(vec![Label::new(METRIC_NAME, name)]);
    let mut lb = base.builder();
    for l in target.labels().iter() {
        lb.set(
            format!("{EXPORTED_LABEL_PREFIX}{}", l.name),
            base.get_or_empty(&l.name),
        );
        lb.set(l.name.clone(), l.value.clone());
    }
    lb.labels()
}

// ---------------------------------------------------------------------------------------------
// Pools and the manager.

/// A dropped target: its labels before relabeling.
#[derive(Clone, Debug, PartialEq)]
pub struct DroppedTarget {
    pub discovered_labels: Labels,
    pub scrape_pool: String,
}

/// All targets of one scrape config (`scrapePool`).
#[derive(Debug)]
pub struct ScrapePool {
    config: ScrapeConfig,
    loops: BTreeMap<u64, ScrapeLoop>,
    dropped: Vec<Target>,
    dropped_count: usize,
    /// Errors creating targets, worded as Prometheus logs them.
    pub sync_failures: Vec<String>,
}

impl ScrapePool {
    fn new(config: ScrapeConfig) -> Self {
        ScrapePool {
            config,
            loops: BTreeMap::new(),
            dropped: Vec::new(),
            dropped_count: 0,
            sync_failures: Vec::new(),
        }
    }

    pub fn config(&self) -> &ScrapeConfig {
        &self.config
    }

    pub fn loops(&self) -> impl Iterator<Item = &ScrapeLoop> {
        self.loops.values()
    }

    /// Replaces the pool's targets with those of `groups` (`scrapePool.Sync`). New targets get
    /// a loop whose first scrape is at their offset after `now_ms`; vanished targets are
    /// returned so their end-of-run staleness can be scheduled.
    fn sync(&mut self, groups: &[TargetGroup], now_ms: i64, offset_seed: u64) -> Vec<ScrapeLoop> {
        let mut all = Vec::new();
        self.dropped.clear();
        self.dropped_count = 0;
        self.sync_failures.clear();
        for tg in groups {
            let (active, dropped, failures) = targets_from_group(&self.config, tg);
            self.sync_failures.extend(failures);
            all.extend(active);
            for d in dropped {
                if self.config.keep_dropped_targets == 0
                    || (self.dropped.len() as u64) < self.config.keep_dropped_targets
                {
                    self.dropped.push(d);
                }
                self.dropped_count += 1;
            }
        }
        let mut keep: BTreeMap<u64, ScrapeLoop> = BTreeMap::new();
        for t in all {
            let h = t.hash();
            if keep.contains_key(&h) {
                continue;
            }
            if let Some(l) = self.loops.remove(&h) {
                let mut l = l;
                l.target.discovered_labels = t.discovered_labels.clone();
                keep.insert(h, l);
                continue;
            }
            let (interval, timeout) =
                t.interval_and_timeout((self.config.scrape_interval, self.config.scrape_timeout));
            let first = now_ms.saturating_add(t.offset(interval.as_millis(), now_ms, offset_seed));
            let opts = LoopOptions::new(&self.config, interval, timeout);
            keep.insert(h, ScrapeLoop::new(t, opts, ScrapeCache::default(), first));
        }
        let gone: Vec<ScrapeLoop> = std::mem::take(&mut self.loops).into_values().collect();
        self.loops = keep;
        let forced = self.target_limit_error();
        for l in self.loops.values_mut() {
            l.forced_error = forced.clone();
        }
        gone
    }

    fn target_limit_error(&self) -> Option<String> {
        let limit = self.config.target_limit;
        if limit > 0 && self.loops.len() as u64 > limit {
            Some(format!(
                "target_limit exceeded (number of targets: {}, limit: {limit})",
                self.loops.len()
            ))
        } else {
            None
        }
    }
}

/// A scrape started by [`ScrapeManager::start_due`]: what to fetch, and the token to hand
/// back with the fetch's outcome to [`ScrapeManager::complete`].
#[derive(Clone, Debug)]
pub struct PendingScrape {
    pub job: String,
    /// The target's hash ([`Target::hash`]) within its pool.
    pub target_hash: u64,
    /// The scrape's timestamp: the slot it was due at.
    pub time_ms: i64,
    pub request: ScrapeRequest,
}

/// Where and when end-of-run staleness markers will be written for a loop that stopped.
#[derive(Debug)]
struct EndOfRun {
    stale_ms: i64,
    due_ms: i64,
    lp: ScrapeLoop,
}

/// Everything that scrapes (`scrape.Manager`): one [`ScrapePool`] per job.
#[derive(Debug, Default)]
pub struct ScrapeManager {
    pools: BTreeMap<String, ScrapePool>,
    offset_seed: u64,
    end_of_run: Vec<EndOfRun>,
    /// Target groups the host discovered for a job (file SD …), added to its static configs.
    extra_groups: BTreeMap<String, Vec<TargetGroup>>,
}

/// One target as the Targets page and `/api/v1/targets` show it.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetInfo {
    pub scrape_pool: String,
    pub discovered_labels: Labels,
    /// Public labels (no `__` prefix).
    pub labels: Labels,
    pub scrape_url: String,
    pub health: TargetHealth,
    pub last_error: String,
    pub last_scrape_ms: Option<i64>,
    pub last_scrape_duration_seconds: f64,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub next_scrape_ms: i64,
}

/// The Targets view: active and dropped targets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetsView {
    pub active: Vec<TargetInfo>,
    pub dropped: Vec<DroppedTarget>,
    pub dropped_counts: BTreeMap<String, usize>,
}

impl ScrapeManager {
    /// `offset_seed` spreads scrapes of several servers (Prometheus hashes its external labels
    /// and host name); any fixed value gives a deterministic world.
    pub fn new(offset_seed: u64) -> Self {
        ScrapeManager {
            offset_seed,
            ..Default::default()
        }
    }

    /// Applies a (re)loaded configuration at `now_ms` (`Manager.ApplyConfig` + `Sync`): pools
    /// of removed jobs stop, changed jobs restart with their targets, new jobs start. Returns
    /// the target-creation failures.
    pub fn apply_config(&mut self, cfg: &Config, now_ms: i64) -> Vec<String> {
        let mut failures = Vec::new();
        let jobs: Vec<String> = cfg
            .scrape_configs
            .iter()
            .map(|s| s.job_name.clone())
            .collect();
        let removed: Vec<String> = self
            .pools
            .keys()
            .filter(|k| !jobs.contains(k))
            .cloned()
            .collect();
        for job in removed {
            if let Some(pool) = self.pools.remove(&job) {
                for (_, l) in pool.loops {
                    self.schedule_end_of_run(l);
                }
            }
        }
        for sc in &cfg.scrape_configs {
            let groups = self.groups_for(sc);
            if !self.pools.contains_key(&sc.job_name) {
                self.pools
                    .insert(sc.job_name.clone(), ScrapePool::new(sc.clone()));
            }
            let Some(pool) = self.pools.get_mut(&sc.job_name) else {
                continue;
            };
            if pool.config != *sc {
                // Changed config: loops restart; the cache survives when only settings that
                // do not alter samples changed (`reusableCache`).
                let reuse = reusable_cache(&pool.config, sc);
                let old = std::mem::take(&mut pool.loops);
                pool.config = sc.clone();
                for (h, l) in old {
                    let (interval, timeout) = l
                        .target
                        .interval_and_timeout((sc.scrape_interval, sc.scrape_timeout));
                    let opts = LoopOptions::new(sc, interval, timeout);
                    let next = l.next_ms;
                    if reuse {
                        let mut nl = ScrapeLoop::new(l.target, opts, l.cache, next);
                        nl.last_ms = l.last_ms;
                        // Same target, same cache: the scrape under way still lands.
                        nl.in_flight = l.in_flight;
                        pool.loops.insert(h, nl);
                    } else {
                        let target = l.target.clone();
                        if l.last_ms.is_some() {
                            let iv = l.opts.interval.as_millis();
                            self.end_of_run.push(EndOfRun {
                                stale_ms: next,
                                due_ms: next + iv + iv / 10,
                                lp: l,
                            });
                        }
                        pool.loops.insert(
                            h,
                            ScrapeLoop::new(target, opts, ScrapeCache::default(), next),
                        );
                    }
                }
            }
            let gone = pool.sync(&groups, now_ms, self.offset_seed);
            failures.extend(pool.sync_failures.iter().cloned());
            for l in gone {
                self.schedule_end_of_run(l);
            }
        }
        failures
    }

    /// Sets target groups the host discovered for `job` (file SD …) and re-syncs the pool.
    pub fn set_discovered_groups(&mut self, job: &str, groups: Vec<TargetGroup>, now_ms: i64) {
        self.extra_groups.insert(job.to_string(), groups);
        if let Some(sc) = self.pools.get(job).map(|p| p.config.clone()) {
            let groups = self.groups_for(&sc);
            if let Some(pool) = self.pools.get_mut(job) {
                let gone = pool.sync(&groups, now_ms, self.offset_seed);
                for l in gone {
                    self.schedule_end_of_run(l);
                }
            }
        }
    }

    fn groups_for(&self, sc: &ScrapeConfig) -> Vec<TargetGroup> {
        let mut groups: Vec<TargetGroup> = sc
            .service_discovery
            .static_configs
            .iter()
            .enumerate()
            .map(|(i, s)| TargetGroup::from_static(s, i))
            .collect();
        if let Some(extra) = self.extra_groups.get(&sc.job_name) {
            groups.extend(extra.iter().cloned());
        }
        groups
    }

    fn schedule_end_of_run(&mut self, l: ScrapeLoop) {
        if l.last_ms.is_none() {
            // There never was a scrape, so there will be no stale markers.
            return;
        }
        let interval = l.opts.interval.as_millis();
        // Markers carry the time the next scrape would have had; they are written after two
        // more intervals and 10%, so a target that came back has already written newer samples
        // and the markers are rejected as out of order.
        self.end_of_run.push(EndOfRun {
            stale_ms: l.next_ms,
            due_ms: l.next_ms + interval + interval / 10,
            lp: l,
        });
    }

    /// The earliest instant anything is due (a scrape or end-of-run staleness). A loop with a
    /// scrape under way ([`ScrapeManager::start_due`]) has nothing due until it completes.
    pub fn next_event_ms(&self) -> Option<i64> {
        let scrapes = self.pools.values().flat_map(|p| {
            p.loops
                .values()
                .filter(|l| l.in_flight.is_none())
                .map(|l| l.next_ms)
        });
        let eor = self.end_of_run.iter().map(|e| e.due_ms);
        scrapes.chain(eor).min()
    }

    /// Runs every scrape due at or before `now_ms`, in time order (ties: job name, then target
    /// hash), each at the instant it was due. Returns how many scrapes ran.
    pub fn run_until(&mut self, now_ms: i64, db: &Db, fetcher: &mut dyn TargetFetcher) -> usize {
        let mut n = 0;
        loop {
            let next_scrape = self
                .pools
                .iter()
                .flat_map(|(job, p)| {
                    p.loops
                        .iter()
                        .map(move |(h, l)| (l.next_ms, job.clone(), *h))
                })
                .min();
            let next_eor = self
                .end_of_run
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.due_ms)
                .map(|(i, e)| (e.due_ms, i));
            let eor_first = match next_eor {
                Some((due, _)) if due <= now_ms => next_scrape.as_ref().is_none_or(|s| due <= s.0),
                _ => false,
            };
            if eor_first {
                if let Some((_, i)) = next_eor {
                    let mut e = self.end_of_run.swap_remove(i);
                    e.lp.write_end_of_run_staleness(db, e.stale_ms);
                }
                continue;
            }
            let Some((t, job, h)) = next_scrape.filter(|s| s.0 <= now_ms) else {
                break;
            };
            let Some(l) = self.pools.get_mut(&job).and_then(|p| p.loops.get_mut(&h)) else {
                break;
            };
            l.scrape_and_report(t, db, fetcher);
            l.next_ms = t.saturating_add(l.opts.interval.as_millis().max(1));
            n += 1;
        }
        n
    }

    /// Writes the end-of-run staleness markers due at or before `now_ms`.
    fn write_due_staleness(&mut self, now_ms: i64, db: &Db) {
        let mut i = 0;
        while i < self.end_of_run.len() {
            if self.end_of_run[i].due_ms <= now_ms {
                let mut e = self.end_of_run.swap_remove(i);
                e.lp.write_end_of_run_staleness(db, e.stale_ms);
            } else {
                i += 1;
            }
        }
    }

    /// The host with a clock and asynchronous fetches drives scraping with this and
    /// [`ScrapeManager::complete`] instead of [`ScrapeManager::run_until`], so that every
    /// target keeps its own schedule (Prometheus's goroutine per target): a target whose fetch
    /// hangs for its whole timeout shifts no other target's scrapes.
    ///
    /// Starts the scrape of every loop due at or before `now_ms` and returns the fetches to
    /// make; the host fetches them concurrently and hands each outcome to
    /// [`ScrapeManager::complete`], which appends at the slot's timestamp. A loop whose
    /// previous scrape is still under way waits for it: its slot stays due and starts at the
    /// first call after the completion (Prometheus's ticker keeps one tick); a loop that fell
    /// more than an interval behind starts at its latest slot at or before `now_ms` (the ticker
    /// drops the others). Also writes the end-of-run staleness markers now due, and the
    /// scrapes of pools over their `target_limit` (which fetch nothing). Do not mix with
    /// `run_until` on the same manager.
    pub fn start_due(&mut self, now_ms: i64, db: &Db) -> Vec<PendingScrape> {
        self.write_due_staleness(now_ms, db);
        let mut out = Vec::new();
        for (job, p) in self.pools.iter_mut() {
            for (h, l) in p.loops.iter_mut() {
                if l.next_ms > now_ms || l.in_flight.is_some() {
                    continue;
                }
                let iv = l.opts.interval.as_millis().max(1);
                // The latest slot at or before now.
                let t = l.next_ms + (now_ms - l.next_ms) / iv * iv;
                l.next_ms = t.saturating_add(iv);
                if l.forced_error.is_some() {
                    l.report_forced_error(t, db);
                    continue;
                }
                l.in_flight = Some(t);
                out.push(PendingScrape {
                    job: job.clone(),
                    target_hash: *h,
                    time_ms: t,
                    request: l.request(t),
                });
            }
        }
        out
    }

    /// Completes a scrape started by [`ScrapeManager::start_due`]: the outcome is parsed and
    /// appended at the scrape's timestamp, with staleness markers and report series. Returns
    /// false, and stores nothing, when the target's loop stopped or restarted meanwhile
    /// (Prometheus cancels the scrape of a stopped loop).
    pub fn complete(
        &mut self,
        pending: &PendingScrape,
        outcome: Result<ScrapeResponse, ScrapeError>,
        db: &Db,
    ) -> bool {
        let Some(l) = self
            .pools
            .get_mut(&pending.job)
            .and_then(|p| p.loops.get_mut(&pending.target_hash))
        else {
            return false;
        };
        if l.in_flight != Some(pending.time_ms) {
            return false;
        }
        l.in_flight = None;
        if l.forced_error.is_some() {
            l.report_forced_error(pending.time_ms, db);
        } else {
            l.append_outcome(pending.time_ms, db, &pending.request.url, outcome);
        }
        true
    }

    /// Moves every loop's next scrape to its first slot at or after `now_ms` without scraping
    /// the ones in between — a server that was suspended. (Prometheus's ticker drops missed
    /// ticks the same way.) Pending end-of-run staleness is kept.
    pub fn skip_until(&mut self, now_ms: i64) {
        for p in self.pools.values_mut() {
            for l in p.loops.values_mut() {
                let iv = l.opts.interval.as_millis().max(1);
                if l.next_ms < now_ms {
                    let missed = (now_ms - l.next_ms + iv - 1) / iv;
                    l.next_ms += missed * iv;
                }
            }
        }
    }

    /// Metadata of every family scraped recently, by family name, as `/api/v1/metadata`
    /// lists it (distinct entries per family).
    pub fn metadata(&self) -> BTreeMap<String, Vec<MetricMetadata>> {
        let mut out: BTreeMap<String, Vec<MetricMetadata>> = BTreeMap::new();
        for p in self.pools.values() {
            for l in p.loops.values() {
                for m in l.metadata() {
                    let e = out.entry(m.metric_family.clone()).or_default();
                    if !e.contains(&m) {
                        e.push(m);
                    }
                }
            }
        }
        out
    }

    pub fn pools(&self) -> impl Iterator<Item = &ScrapePool> {
        self.pools.values()
    }

    pub fn pool(&self, job: &str) -> Option<&ScrapePool> {
        self.pools.get(job)
    }

    /// The Targets view for the UI and `/api/v1/targets`.
    pub fn targets(&self) -> TargetsView {
        let mut view = TargetsView::default();
        for (job, p) in &self.pools {
            let mut active: Vec<TargetInfo> = p
                .loops
                .values()
                .map(|l| TargetInfo {
                    scrape_pool: job.clone(),
                    discovered_labels: l.target.discovered_labels.clone(),
                    labels: l.target.labels(),
                    scrape_url: l.target.url(),
                    health: l.target.health,
                    last_error: l.target.last_error.clone(),
                    last_scrape_ms: l.target.last_scrape_ms,
                    last_scrape_duration_seconds: ns_to_seconds(l.target.last_scrape_duration_ns),
                    scrape_interval: l.opts.interval,
                    scrape_timeout: l.opts.timeout,
                    next_scrape_ms: l.next_ms,
                })
                .collect();
            active.sort_by(|a, b| a.scrape_url.cmp(&b.scrape_url));
            view.active.extend(active);
            for d in &p.dropped {
                view.dropped.push(DroppedTarget {
                    discovered_labels: d.discovered_labels.clone(),
                    scrape_pool: job.clone(),
                });
            }
            view.dropped_counts.insert(job.clone(), p.dropped_count);
        }
        view
    }
}

/// Nanoseconds as float seconds, computed as Go's `time.Duration.Seconds` does.
pub fn ns_to_seconds(ns: i64) -> f64 {
    let sec = ns / 1_000_000_000;
    let nsec = ns % 1_000_000_000;
    sec as f64 + nsec as f64 / 1e9
}

/// Whether a scrape cache survives a config change (`reusableCache`): only interval, timeout,
/// sample limit and HTTP client settings changed.
fn reusable_cache(a: &ScrapeConfig, b: &ScrapeConfig) -> bool {
    let zero = |c: &ScrapeConfig| {
        let mut z = c.clone();
        z.scrape_interval = Duration::ZERO;
        z.scrape_timeout = Duration::ZERO;
        z.sample_limit = 0;
        z.http_client_config = HttpClientConfig::default();
        z
    };
    zero(a) == zero(b)
}

#[cfg(test)]
mod tests;

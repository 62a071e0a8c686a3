//! The playground's own Prometheus at `localhost:9090`: the self-metrics the seed looks at,
//! computed from the real TSDB's figures, which the host passes in ([`TsdbStats`]); the
//! simulation never owns the database.

use std::cell::RefCell;
use std::rc::Rc;

use promplay_exposition::{MetricFamily, MetricType, Sample};
use promplay_instrument::{Collector, Registry};
use promplay_model::Clock;

/// What the Prometheus program reports about its TSDB head.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TsdbStats {
    /// Live series in the head.
    pub series: u64,
    /// Series created since start.
    pub series_created: u64,
    /// Samples appended since start (floats).
    pub samples_appended: u64,
    /// Head chunks.
    pub chunks: u64,
    /// Estimated heap bytes of the head.
    pub bytes: u64,
    pub min_time_ms: Option<i64>,
    pub max_time_ms: Option<i64>,
}

impl TsdbStats {
    /// From [`promplay_tsdb::Db::stats`]. Without retention, stored samples are the samples
    /// appended and live series the series created.
    pub fn from_db(stats: &promplay_tsdb::Stats) -> TsdbStats {
        TsdbStats {
            series: stats.series as u64,
            series_created: stats.series as u64,
            samples_appended: stats.samples,
            chunks: stats.chunks as u64,
            bytes: stats.bytes as u64,
            min_time_ms: stats.min_time,
            max_time_ms: stats.max_time,
        }
    }
}

/// Resident memory of an idle Prometheus before it holds any data.
const BASE_RSS: f64 = 41_943_040.0;
/// Go's heap and runtime overhead over the live bytes of the head.
const RSS_PER_HEAD_BYTE: f64 = 2.5;

struct SelfCollector {
    stats: Rc<RefCell<TsdbStats>>,
    start_s: f64,
}

fn family(name: &str, help: &str, typ: MetricType, samples: Vec<Sample>) -> MetricFamily {
    MetricFamily {
        name: if typ == MetricType::Counter {
            name.strip_suffix("_total").unwrap_or(name).to_string()
        } else {
            name.to_string()
        },
        help: help.to_string(),
        typ,
        unit: String::new(),
        samples,
    }
}

fn one(name: &str, help: &str, typ: MetricType, v: f64) -> MetricFamily {
    family(name, help, typ, vec![Sample::new(name, vec![], v)])
}

impl Collector for SelfCollector {
    fn collect(&self) -> Vec<MetricFamily> {
        let s = *self.stats.borrow();
        let g = MetricType::Gauge;
        let info_labels = [
            ("branch", "HEAD"),
            ("goarch", "wasm"),
            ("goos", "js"),
            ("goversion", "promplay"),
            ("revision", "promplay"),
            ("tags", "promplay"),
            ("version", "3.14.0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let typed = |t: &str| vec![("type".to_string(), t.to_string())];
        let mut out = vec![
            one(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                g,
                (BASE_RSS + s.bytes as f64 * RSS_PER_HEAD_BYTE).floor(),
            ),
            one(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                g,
                self.start_s,
            ),
            family(
                "prometheus_build_info",
                "A metric with a constant '1' value labeled by version, revision, branch, goversion from which prometheus was built, and the goos and goarch for the build.",
                g,
                vec![Sample::new("prometheus_build_info", info_labels, 1.0)],
            ),
            one(
                "prometheus_ready",
                "Whether Prometheus startup was fully completed and the server is ready for normal operation.",
                g,
                1.0,
            ),
            one(
                "prometheus_tsdb_head_chunks",
                "Total number of chunks in the head block.",
                g,
                s.chunks as f64,
            ),
            one(
                "prometheus_tsdb_head_max_time",
                "Maximum timestamp of the head block.",
                g,
                s.max_time_ms.unwrap_or(i64::MIN) as f64,
            ),
            one(
                "prometheus_tsdb_head_min_time",
                "Minimum time bound of the head block.",
                g,
                s.min_time_ms.unwrap_or(i64::MAX) as f64,
            ),
            family(
                "prometheus_tsdb_head_samples_appended_total",
                "Total number of appended samples.",
                MetricType::Counter,
                vec![
                    Sample::new(
                        "prometheus_tsdb_head_samples_appended_total",
                        typed("float"),
                        s.samples_appended as f64,
                    ),
                    Sample::new(
                        "prometheus_tsdb_head_samples_appended_total",
                        typed("histogram"),
                        0.0,
                    ),
                ],
            ),
            one(
                "prometheus_tsdb_head_series",
                "Total number of series in the head block.",
                g,
                s.series as f64,
            ),
            one(
                "prometheus_tsdb_head_series_created_total",
                "Total number of series created in the head",
                MetricType::Counter,
                s.series_created as f64,
            ),
        ];
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// The Prometheus program: its registry and the stats it reports.
pub struct PrometheusSelf {
    registry: Registry,
    stats: Rc<RefCell<TsdbStats>>,
}

impl PrometheusSelf {
    pub fn new(clock: Rc<dyn Clock>) -> PrometheusSelf {
        let registry = Registry::new(clock.clone());
        registry.set_created_series(false);
        let stats = Rc::new(RefCell::new(TsdbStats::default()));
        let collector = SelfCollector {
            stats: stats.clone(),
            start_s: clock.now_ms() as f64 / 1000.0,
        };
        let _ = registry.register(Rc::new(collector));
        PrometheusSelf { registry, stats }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn set_stats(&self, stats: TsdbStats) {
        *self.stats.borrow_mut() = stats;
    }

    pub fn stats(&self) -> TsdbStats {
        *self.stats.borrow()
    }
}

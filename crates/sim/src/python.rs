//! What prometheus_client's default registry adds to every Python app's `/metrics`: the GC,
//! platform and process collectors, with the names, labels and HELP of
//! `samples/hello-text.txt`. Values are functions of the process's uptime (a CPython 3.11
//! process on Linux idling between requests), so a request never changes them.

use std::rc::Rc;

use promplay_exposition::{MetricFamily, MetricType, Sample};
use promplay_instrument::Collector;
use promplay_model::Clock;

pub(crate) struct PythonDefaults {
    pub clock: Rc<dyn Clock>,
    /// When the process started, seconds since the epoch.
    pub start_s: f64,
}

fn family(name: &str, help: &str, typ: MetricType, samples: Vec<Sample>) -> MetricFamily {
    MetricFamily {
        name: match typ {
            MetricType::Counter => name.strip_suffix("_total").unwrap_or(name).to_string(),
            _ => name.to_string(),
        },
        help: help.to_string(),
        typ,
        unit: String::new(),
        samples,
    }
}

fn generations(name: &str, values: [f64; 3]) -> Vec<Sample> {
    values
        .iter()
        .enumerate()
        .map(|(g, v)| Sample::new(name, vec![("generation".to_string(), g.to_string())], *v))
        .collect()
}

impl Collector for PythonDefaults {
    fn collect(&self) -> Vec<MetricFamily> {
        let up = (self.clock.now_ms() as f64 / 1000.0 - self.start_s).max(0.0);
        let g = MetricType::Gauge;
        let c = MetricType::Counter;
        // Start-up work, then a young-generation collection about every 20 s.
        let gen0 = 40.0 + (up / 20.0).floor();
        let gen1 = 3.0 + (gen0 / 11.0).floor();
        let gen2 = (gen1 / 11.0).floor();
        let python_info = vec![Sample::new(
            "python_info",
            [
                ("implementation", "CPython"),
                ("major", "3"),
                ("minor", "11"),
                ("patchlevel", "7"),
                ("version", "3.11.7"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            1.0,
        )];
        let one = |name: &str, v: f64| vec![Sample::new(name, vec![], v)];
        vec![
            family(
                "python_gc_objects_collected",
                "Objects collected during gc",
                c,
                generations(
                    "python_gc_objects_collected_total",
                    [
                        485.0 + (gen0 - 40.0) * 37.0,
                        53.0 + (gen1 - 3.0) * 12.0,
                        gen2 * 4.0,
                    ],
                ),
            ),
            family(
                "python_gc_objects_uncollectable",
                "Uncollectable objects found during GC",
                c,
                generations("python_gc_objects_uncollectable_total", [0.0; 3]),
            ),
            family(
                "python_gc_collections",
                "Number of times this generation was collected",
                c,
                generations("python_gc_collections_total", [gen0, gen1, gen2]),
            ),
            family("python_info", "Python platform information", g, python_info),
            family(
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                g,
                one("process_virtual_memory_bytes", 1.81579776e+08),
            ),
            family(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                g,
                one(
                    "process_resident_memory_bytes",
                    2.4584192e+07 + (up / 300.0).floor().min(64.0) * 4096.0,
                ),
            ),
            family(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                g,
                one(
                    "process_start_time_seconds",
                    (self.start_s * 100.0).floor() / 100.0,
                ),
            ),
            family(
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
                c,
                one(
                    "process_cpu_seconds_total",
                    ((0.23 + up * 0.0004) * 100.0).floor() / 100.0,
                ),
            ),
            family(
                "process_open_fds",
                "Number of open file descriptors.",
                g,
                one("process_open_fds", 9.0),
            ),
            family(
                "process_max_fds",
                "Maximum number of open file descriptors.",
                g,
                one("process_max_fds", 20000.0),
            ),
        ]
    }
}

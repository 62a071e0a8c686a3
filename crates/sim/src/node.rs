//! A node exporter: the families of node_exporter 1.5 the seed's queries use, with the names,
//! labels, types and HELP of `samples/node_exporter.txt`, on a simulated 2-CPU, 24 GiB VM.
//!
//! Every value is a pure function of the clock and the seed (smooth daily and hourly waves
//! plus hashed noise per 10 s bucket), so a value does not depend on when it is scraped.
//! Counters are closed-form integrals of non-negative rates since boot: they never decrease,
//! and they do not reset when the exporter restarts (the kernel keeps counting); the
//! exporter's own `process_resident_memory_bytes` does.

use std::f64::consts::TAU;
use std::rc::Rc;

use promplay_exposition::{MetricFamily, MetricType, Sample};
use promplay_instrument::{Collector, Registry};
use promplay_model::Clock;

use crate::rng::{hash_unit, mix64};

/// `/proc/meminfo` fields as node_exporter names them, with the sample's values.
const MEMORY: &[(&str, f64)] = &[
    ("Active_anon_bytes", 1.642496e+06),
    ("Active_bytes", 4.17779712e+08),
    ("Active_file_bytes", 4.16137216e+08),
    ("AnonHugePages_bytes", 0.0),
    ("AnonPages_bytes", 3.62971136e+08),
    ("Balloon_bytes", 0.0),
    ("Bounce_bytes", 0.0),
    ("Buffers_bytes", 4.3872256e+07),
    ("Cached_bytes", 1.805848576e+09),
    ("CommitLimit_bytes", 1.2638253056e+10),
    ("Committed_AS_bytes", 4.65084416e+08),
    ("DirectMap1G_bytes", 2.5769803776e+10),
    ("DirectMap2M_bytes", 2.120220672e+09),
    ("DirectMap4k_bytes", 2.7262976e+07),
    ("Dirty_bytes", 4.74996736e+08),
    ("FileHugePages_bytes", 1.4680064e+07),
    ("FilePmdMapped_bytes", 0.0),
    ("HugePages_Free", 0.0),
    ("HugePages_Rsvd", 0.0),
    ("HugePages_Surp", 0.0),
    ("HugePages_Total", 0.0),
    ("Hugepagesize_bytes", 2.097152e+06),
    ("Hugetlb_bytes", 0.0),
    ("Inactive_anon_bytes", 3.51698944e+08),
    ("Inactive_bytes", 1.776123904e+09),
    ("Inactive_file_bytes", 1.42442496e+09),
    ("KReclaimable_bytes", 1.19324672e+08),
    ("KernelStack_bytes", 2.019328e+06),
    ("Mapped_bytes", 1.57507584e+08),
    ("MemAvailable_bytes", 2.4535834624e+10),
    ("MemFree_bytes", 2.2851448832e+10),
    ("MemTotal_bytes", 2.5276510208e+10),
    ("Mlocked_bytes", 1.7727488e+07),
    ("NFS_Unstable_bytes", 0.0),
    ("PageTables_bytes", 4.329472e+06),
    ("Percpu_bytes", 950272.0),
    ("SReclaimable_bytes", 1.19324672e+08),
    ("SUnreclaim_bytes", 2.7398144e+07),
    ("SecPageTables_bytes", 0.0),
    ("ShmemHugePages_bytes", 0.0),
    ("ShmemPmdMapped_bytes", 0.0),
    ("Shmem_bytes", 9.068544e+06),
    ("Slab_bytes", 1.46722816e+08),
    ("SwapCached_bytes", 0.0),
    ("SwapFree_bytes", 0.0),
    ("SwapTotal_bytes", 0.0),
    ("Unevictable_bytes", 1.8542592e+07),
    ("VmallocChunk_bytes", 0.0),
    ("VmallocTotal_bytes", 3.5184372087808e+13),
    ("VmallocUsed_bytes", 1.5118336e+07),
    ("WritebackTmp_bytes", 0.0),
    ("Writeback_bytes", 0.0),
    ("Zswap_bytes", 0.0),
    ("Zswapped_bytes", 0.0),
];

/// Fields that move with the workload (page cache, anonymous memory, dirty pages).
const MEMORY_VARYING: &[&str] = &[
    "Active_anon_bytes",
    "Active_bytes",
    "Active_file_bytes",
    "AnonPages_bytes",
    "Buffers_bytes",
    "Cached_bytes",
    "Committed_AS_bytes",
    "Dirty_bytes",
    "Inactive_anon_bytes",
    "Inactive_bytes",
    "Inactive_file_bytes",
    "KReclaimable_bytes",
    "Mapped_bytes",
    "SReclaimable_bytes",
    "Shmem_bytes",
    "Slab_bytes",
];

const CPUS: usize = 2;
/// Modes in node_exporter's order, with the mean share of one CPU each mode takes (idle takes
/// the rest).
const MODES: &[(&str, f64)] = &[
    ("idle", 0.0),
    ("iowait", 0.012),
    ("irq", 0.0),
    ("nice", 0.0),
    ("softirq", 0.002),
    ("steal", 0.003),
    ("system", 0.04),
    ("user", 0.05),
];

/// Network devices: (name, receive bytes/s, transmit bytes/s).
const DEVICES: &[(&str, f64, f64)] = &[
    ("eth0", 6000.0, 1800.0),
    ("ifb0", 0.0, 0.0),
    ("ifb1", 0.0, 0.0),
];

const FS_LABELS: [(&str, &str); 3] = [
    ("device", "/dev/vda"),
    ("fstype", "ext4"),
    ("mountpoint", "/"),
];
const FS_SIZE: f64 = 2.70553174016e+11;
const FS_FREE_AT_BOOT: f64 = 2.5723437056e+11;
const FS_FILES: f64 = 1.6777216e+07;
const FS_FILES_FREE_AT_BOOT: f64 = 1.6364433e+07;
/// Bytes reserved for root (free − avail in the sample).
const FS_RESERVED: f64 = 2.5723437056e+11 - 8.4253945856e+10;

/// How long the machine has been up when the world starts, seconds.
const UPTIME_AT_START: f64 = 456.0;

/// `∫₀ᵗ (1 + a·sin(ωs + φ)) ds` for a wave of period `period` seconds.
fn wave_integral(t: f64, a: f64, period: f64, phase: f64) -> f64 {
    let w = TAU / period;
    t - a / w * (libm::cos(w * t + phase) - libm::cos(phase))
}

fn wave(t: f64, a: f64, period: f64, phase: f64) -> f64 {
    1.0 + a * libm::sin(TAU / period * t + phase)
}

/// The node exporter's collector: reads the clock at every collection.
pub struct NodeCollector {
    clock: Rc<dyn Clock>,
    seed: u64,
    /// Boot time, seconds since the epoch.
    boot_s: f64,
    /// When this exporter process started, seconds.
    process_start_s: f64,
    /// `node_memory_*` names and HELP, built once.
    memory_names: Vec<(String, String)>,
}

impl NodeCollector {
    fn phase(&self, key: u64) -> f64 {
        (mix64(self.seed ^ key) >> 11) as f64 / (1u64 << 53) as f64 * TAU
    }

    /// Seconds of CPU `cpu` spent in mode `m` since boot, at `now` seconds since the epoch.
    fn cpu_seconds(&self, cpu: usize, m: usize, now: f64) -> f64 {
        let up = (now - self.boot_s).max(0.0);
        let busy = |mode: usize| {
            let share = MODES[mode].1;
            if share == 0.0 {
                return 0.0;
            }
            let key = (cpu * 16 + mode) as u64;
            // A daily and an hourly wave; the sum of shares stays far below 1.
            share
                * (0.6 * wave_integral(up, 0.8, 86_400.0, self.phase(key))
                    + 0.4 * wave_integral(up, 0.9, 3_600.0, self.phase(key + 100)))
        };
        let v = if m == 0 {
            up - (1..MODES.len()).map(busy).sum::<f64>()
        } else {
            busy(m)
        };
        // USER_HZ resolution, rounded down (keeps counters monotonic).
        (v * 100.0).floor() / 100.0
    }

    /// The busy share of the machine's CPUs at `now`, for the load averages.
    fn busy_share(&self, now: f64) -> f64 {
        let up = (now - self.boot_s).max(0.0);
        let mut s = 0.0;
        for cpu in 0..CPUS {
            for (m, (_, share)) in MODES.iter().enumerate().skip(1) {
                let key = (cpu * 16 + m) as u64;
                s += share
                    * (0.6 * wave(up, 0.8, 86_400.0, self.phase(key))
                        + 0.4 * wave(up, 0.9, 3_600.0, self.phase(key + 100)));
            }
        }
        s / CPUS as f64
    }

    fn noise(&self, key: u64, now: f64, bucket_s: f64) -> f64 {
        hash_unit(self.seed, key, (now / bucket_s).floor() as i64) - 0.5
    }

    fn load(&self, now: f64, window: f64) -> f64 {
        // The running-queue length around the busy share, smoothed over `window` seconds.
        // Noise interpolated between points a quarter window apart: a load average moves
        // smoothly, the longer the window the less.
        let base = self.busy_share(now) * CPUS as f64 * 4.0;
        let step = window / 4.0;
        let x = now / step;
        let i = x.floor();
        let (a, b) = (
            hash_unit(self.seed, window as u64, i as i64) - 0.5,
            hash_unit(self.seed, window as u64, i as i64 + 1) - 0.5,
        );
        let jitter = (a + (b - a) * (x - i)) * 0.8 * (60.0 / window).sqrt();
        ((base * (1.0 + jitter)).max(0.0) * 100.0).round() / 100.0
    }

    fn memory(&self, field: &str, base: f64, now: f64) -> f64 {
        if !MEMORY_VARYING.contains(&field) {
            return base;
        }
        let key = field.bytes().fold(7u64, |h, b| mix64(h ^ u64::from(b)));
        let up = (now - self.boot_s).max(0.0);
        let v = base
            * (wave(up, 0.03, 86_400.0, self.phase(key))
                + 0.01 * wave(up, 1.0, 600.0, self.phase(key + 1))
                + 0.01 * self.noise(key, now, 10.0));
        ((v / 4096.0).floor() * 4096.0).max(0.0)
    }

    fn network(&self, rate: f64, key: u64, now: f64) -> f64 {
        let up = (now - self.boot_s).max(0.0);
        // About as much traffic in the first minutes after boot as the sample shows.
        (rate * wave_integral(up, 0.7, 3_600.0, self.phase(key))).floor()
    }
}

fn gauge(name: &str, help: &str, samples: Vec<Sample>) -> MetricFamily {
    MetricFamily {
        name: name.to_string(),
        help: help.to_string(),
        typ: MetricType::Gauge,
        unit: String::new(),
        samples,
    }
}

fn counter(name: &str, help: &str, samples: Vec<Sample>) -> MetricFamily {
    MetricFamily {
        name: name.strip_suffix("_total").unwrap_or(name).to_string(),
        help: help.to_string(),
        typ: MetricType::Counter,
        unit: String::new(),
        samples,
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Collector for NodeCollector {
    fn collect(&self) -> Vec<MetricFamily> {
        let now = self.clock.now_ms() as f64 / 1000.0;
        let up = (now - self.boot_s).max(0.0);
        let mut out = Vec::with_capacity(80);
        out.push(gauge(
            "node_boot_time_seconds",
            "Node boot time, in unixtime.",
            vec![Sample::new(
                "node_boot_time_seconds",
                vec![],
                self.boot_s.floor(),
            )],
        ));
        let mut cpu = Vec::with_capacity(CPUS * MODES.len());
        for c in 0..CPUS {
            let cs = c.to_string();
            for (m, (mode, _)) in MODES.iter().enumerate() {
                cpu.push(Sample::new(
                    "node_cpu_seconds_total",
                    labels(&[("cpu", &cs), ("mode", mode)]),
                    self.cpu_seconds(c, m, now),
                ));
            }
        }
        out.push(counter(
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
            cpu,
        ));
        let fs = labels(&FS_LABELS);
        let fs_free = ((FS_FREE_AT_BOOT - 2500.0 * up) / 4096.0).floor() * 4096.0;
        let fs_files_free = (FS_FILES_FREE_AT_BOOT - up / 20.0).floor();
        let fs_family = |name: &str, help: &str, v: f64| {
            gauge(name, help, vec![Sample::new(name, fs.clone(), v)])
        };
        out.push(fs_family(
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            (fs_free - FS_RESERVED).max(0.0),
        ));
        out.push(fs_family(
            "node_filesystem_device_error",
            "Whether an error occurred while getting statistics for the given device.",
            0.0,
        ));
        out.push(fs_family(
            "node_filesystem_files",
            "Filesystem total file nodes.",
            FS_FILES,
        ));
        out.push(fs_family(
            "node_filesystem_files_free",
            "Filesystem total free file nodes.",
            fs_files_free,
        ));
        out.push(fs_family(
            "node_filesystem_free_bytes",
            "Filesystem free space in bytes.",
            fs_free.max(0.0),
        ));
        out.push(fs_family(
            "node_filesystem_readonly",
            "Filesystem read-only status.",
            0.0,
        ));
        out.push(fs_family(
            "node_filesystem_size_bytes",
            "Filesystem size in bytes.",
            FS_SIZE,
        ));
        for (name, help, window) in [
            ("node_load1", "1m load average.", 60.0),
            ("node_load15", "15m load average.", 900.0),
            ("node_load5", "5m load average.", 300.0),
        ] {
            out.push(gauge(
                name,
                help,
                vec![Sample::new(name, vec![], self.load(now, window))],
            ));
        }
        for ((field, base), (name, help)) in MEMORY.iter().zip(&self.memory_names) {
            let v = match *field {
                // Free memory is what the varying fields leave.
                "MemFree_bytes" | "MemAvailable_bytes" => {
                    let delta: f64 = MEMORY_VARYING
                        .iter()
                        .filter(|f| matches!(**f, "AnonPages_bytes" | "Cached_bytes"))
                        .map(|f| {
                            let b = MEMORY.iter().find(|(n, _)| n == f).map_or(0.0, |x| x.1);
                            self.memory(f, b, now) - b
                        })
                        .sum();
                    ((base - delta) / 4096.0).floor() * 4096.0
                }
                _ => self.memory(field, *base, now),
            };
            out.push(gauge(
                name,
                help,
                vec![Sample::new(name.as_str(), vec![], v)],
            ));
        }
        for (name, help, rx) in [
            (
                "node_network_receive_bytes_total",
                "Network device statistic receive_bytes.",
                true,
            ),
            (
                "node_network_transmit_bytes_total",
                "Network device statistic transmit_bytes.",
                false,
            ),
        ] {
            let samples = DEVICES
                .iter()
                .enumerate()
                .map(|(i, (dev, r, t))| {
                    let rate = if rx { *r } else { *t };
                    let key = 1000 + i as u64 * 2 + u64::from(rx);
                    Sample::new(
                        name,
                        labels(&[("device", dev)]),
                        self.network(rate, key, now),
                    )
                })
                .collect();
            out.push(counter(name, help, samples));
        }
        out.push(gauge(
            "node_time_seconds",
            "System time in seconds since epoch (1970).",
            vec![Sample::new("node_time_seconds", vec![], now)],
        ));
        let rss = 1.5302656e+07
            + ((now - self.process_start_s).max(0.0) / 600.0).min(40.0) * 65536.0
            + (self.noise(77, now, 10.0) * 32.0).floor() * 4096.0;
        out.push(gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            vec![Sample::new("process_resident_memory_bytes", vec![], rss)],
        ));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// A node exporter process: a registry holding the [`NodeCollector`].
pub struct NodeExporter {
    registry: Registry,
}

impl NodeExporter {
    /// A machine that booted `UPTIME_AT_START` seconds before `world_start_ms`; this exporter
    /// process starts now (the clock's time).
    pub fn new(clock: Rc<dyn Clock>, seed: u64, world_start_ms: i64) -> NodeExporter {
        let registry = Registry::new(clock.clone());
        registry.set_created_series(false);
        let process_start_s = clock.now_ms() as f64 / 1000.0;
        let collector = NodeCollector {
            clock,
            seed,
            boot_s: world_start_ms as f64 / 1000.0 - UPTIME_AT_START,
            process_start_s,
            memory_names: MEMORY
                .iter()
                .map(|(f, _)| {
                    (
                        format!("node_memory_{f}"),
                        format!("Memory information field {f}."),
                    )
                })
                .collect(),
        };
        // Registering into a fresh registry cannot collide.
        let _ = registry.register(Rc::new(collector));
        NodeExporter { registry }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promplay_model::ManualClock;

    #[test]
    fn counters_never_decrease_and_values_are_pure() {
        let clock = Rc::new(ManualClock::new(1_767_225_600_000));
        let node = NodeExporter::new(clock.clone(), 42, 1_767_225_600_000);
        let twin = NodeExporter::new(clock.clone(), 42, 1_767_225_600_000);
        let mut last: Vec<f64> = Vec::new();
        for step in 0..2000 {
            clock.set(1_767_225_600_000 + step * 37_000);
            let fams = node.registry().collect();
            assert_eq!(fams, twin.registry().collect());
            let counters: Vec<f64> = fams
                .iter()
                .filter(|f| f.typ == MetricType::Counter)
                .flat_map(|f| f.samples.iter().map(|s| s.value))
                .collect();
            if !last.is_empty() {
                for (a, b) in last.iter().zip(&counters) {
                    assert!(b >= a, "counter went down: {a} -> {b}");
                }
            }
            last = counters;
            for f in &fams {
                for s in &f.samples {
                    assert!(s.value.is_finite() && s.value >= 0.0, "{}", s.name);
                }
            }
        }
    }
}

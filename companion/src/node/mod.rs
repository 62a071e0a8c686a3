//! `promplay node [--web.listen-address 127.0.0.1:9100]`: this machine's metrics from /proc and
//! /sys under node_exporter 1.5's metric names, labels, types and HELP texts, served at
//! `/metrics` (text 0.0.4 or OpenMetrics, negotiated by `Accept`) with a small index page at `/`.
//!
//! One module per collector. Each reads its files through [`Paths`] (so tests can point it at a
//! fake procfs) and hands their *contents* to a pure `parse_*` function tested on fixed text.
//! A collector that fails (missing or malformed file) reports
//! `node_scrape_collector_success{collector="x"} 0`; the others keep working.
//!
//! Collectors (node_exporter's names): arp, conntrack, cpu (with thermal throttles), cpufreq,
//! diskstats, dmi, entropy, filefd, filesystem, loadavg, meminfo, netclass, netdev, netstat, os,
//! pressure, schedstat, selinux, sockstat, softnet, stat, textfile, thermal_zone, time, timex,
//! udp_queues, uname, vmstat. They run concurrently; `/metrics?collect[]=cpu&collect[]=...`
//! runs only those named, as node_exporter's filter does. Besides the collectors' families:
//! `node_scrape_collector_{duration_seconds,success}`, this process's `process_*` and the
//! handler's `promhttp_metric_handler_*`.
//!
//! Defaults are those of Debian's `prometheus-node-exporter` 1.5 (netdev excludes `^lo$`, the
//! filesystem, diskstats, vmstat and netstat patterns of its `--help`, textfile directory
//! /var/lib/prometheus/node-exporter).

mod arp;
mod conntrack;
mod cpu;
mod cpufreq;
mod diskstats;
mod dmi;
mod entropy;
mod expose;
mod families;
mod filefd;
mod filesystem;
mod loadavg;
mod meminfo;
mod netclass;
mod netdev;
mod netstat;
mod os;
mod pressure;
mod process;
mod schedstat;
mod selinux;
mod server;
mod sockstat;
mod softnet;
mod stat;
mod textfile;
mod thermal_zone;
mod time;
mod timex;
mod udp_queues;
mod uname;
mod vmstat;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

pub use families::Families;
use promplay_exposition::MetricFamily;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address on which to expose metrics and the index page
    #[arg(long = "web.listen-address", default_value = "127.0.0.1:9100")]
    pub listen_address: String,
    /// procfs mountpoint
    #[arg(long = "path.procfs", default_value = "/proc")]
    pub procfs: PathBuf,
    /// sysfs mountpoint
    #[arg(long = "path.sysfs", default_value = "/sys")]
    pub sysfs: PathBuf,
    /// rootfs mountpoint (filesystem statistics are taken below it)
    #[arg(long = "path.rootfs", default_value = "/")]
    pub rootfs: PathBuf,
    /// udev data directory (disk info labels)
    #[arg(long = "path.udev.data", default_value = "/run/udev/data")]
    pub udev_data: PathBuf,
    /// Directory to read text files with metrics from
    #[arg(
        long = "collector.textfile.directory",
        default_value = "/var/lib/prometheus/node-exporter"
    )]
    pub textfile_directory: PathBuf,
    /// Print one scrape (text format 0.0.4) to stdout and exit instead of serving
    #[arg(long)]
    pub once: bool,
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let mut node = Node::new(Paths {
        proc: args.procfs.clone(),
        sys: args.sysfs.clone(),
        rootfs: args.rootfs.clone(),
        udev_data: args.udev_data.clone(),
    });
    node.ctx.textfile_directory = args.textfile_directory.clone();
    if args.once {
        node.handler.in_flight.store(1, Ordering::Relaxed);
        let (_, body) = node.scrape(None, &[]);
        print!("{body}");
        return Ok(0);
    }
    server::serve(node, &args.listen_address)
}

/// Where the collectors read from.
#[derive(Clone, Debug)]
pub struct Paths {
    pub proc: PathBuf,
    pub sys: PathBuf,
    pub rootfs: PathBuf,
    pub udev_data: PathBuf,
}

impl Paths {
    pub fn proc(&self, rel: &str) -> PathBuf {
        self.proc.join(rel)
    }

    pub fn sys(&self, rel: &str) -> PathBuf {
        self.sys.join(rel)
    }
}

/// Why a collector failed.
#[derive(Debug)]
pub enum NodeError {
    /// A file could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file's contents could not be parsed.
    Parse { path: PathBuf, msg: String },
    /// A system call failed.
    Sys {
        call: &'static str,
        source: std::io::Error,
    },
    /// The collector panicked (a bug; reported, not fatal).
    Panic,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Io { path, source } => write!(f, "read {}: {source}", path.display()),
            NodeError::Parse { path, msg } => write!(f, "parse {}: {msg}", path.display()),
            NodeError::Sys { call, source } => write!(f, "{call}: {source}"),
            NodeError::Panic => f.write_str("collector panicked"),
        }
    }
}

impl std::error::Error for NodeError {}

/// Reads a whole file as text (lossy: /proc files are ASCII, a stray byte is no reason to fail).
pub fn read(path: &Path) -> Result<String, NodeError> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|source| NodeError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Runs a pure parser on a file's contents, attaching the path to its error.
pub fn parse_file<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, NodeError> {
    let text = read(path)?;
    parse(&text).map_err(|msg| NodeError::Parse {
        path: path.to_path_buf(),
        msg,
    })
}

/// What every collector gets: the paths and the state kept between scrapes.
pub struct Ctx {
    pub paths: Paths,
    pub cpu_state: Mutex<cpu::CpuState>,
    pub device_filters: DeviceFilters,
    pub textfile_directory: PathBuf,
    pub stuck_mounts: filesystem::StuckMounts,
}

/// The devices and mounts left out, as Debian's node_exporter 1.5 leaves them out by default.
pub struct DeviceFilters {
    pub netdev_exclude: regex::Regex,
    pub diskstats_exclude: regex::Regex,
    pub mount_points_exclude: regex::Regex,
    pub fs_types_exclude: regex::Regex,
    pub vmstat_fields: regex::Regex,
    pub netstat_fields: regex::Regex,
}

impl Default for DeviceFilters {
    fn default() -> Self {
        // The patterns are constants: compiling them cannot fail at run time (tested below).
        let re = |s: &str| regex::Regex::new(s).expect("constant pattern");
        DeviceFilters {
            netdev_exclude: re("^lo$"),
            diskstats_exclude: re(r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"),
            mount_points_exclude: re(
                "^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)",
            ),
            fs_types_exclude: re(
                "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
            ),
            vmstat_fields: re("^(oom_kill|pgpg|pswp|pg.*fault).*"),
            netstat_fields: re(netstat::DEFAULT_FIELDS),
        }
    }
}

type CollectFn = fn(&Ctx, &mut Families) -> Result<(), NodeError>;

/// One collector's run: its position, families, duration in seconds and result.
type Outcome = (usize, Families, f64, Result<(), NodeError>);

/// Checks `collect[]` names as node_exporter does: `missing collector: x` for an unknown one.
pub fn check_collectors(names: &[String]) -> Result<(), String> {
    match names
        .iter()
        .find(|n| !COLLECTORS.iter().any(|(c, _)| c == n))
    {
        Some(n) => Err(format!("missing collector: {n}")),
        None => Ok(()),
    }
}

/// The collectors, by node_exporter's names.
const COLLECTORS: &[(&str, CollectFn)] = &[
    ("arp", arp::collect),
    ("conntrack", conntrack::collect),
    ("cpu", cpu::collect),
    ("cpufreq", cpufreq::collect),
    ("diskstats", diskstats::collect),
    ("dmi", dmi::collect),
    ("entropy", entropy::collect),
    ("filefd", filefd::collect),
    ("filesystem", filesystem::collect),
    ("loadavg", loadavg::collect),
    ("meminfo", meminfo::collect),
    ("netclass", netclass::collect),
    ("netdev", netdev::collect),
    ("netstat", netstat::collect),
    ("os", os::collect),
    ("pressure", pressure::collect),
    ("schedstat", schedstat::collect),
    ("selinux", selinux::collect),
    ("sockstat", sockstat::collect),
    ("softnet", softnet::collect),
    ("stat", stat::collect),
    ("textfile", textfile::collect),
    ("thermal_zone", thermal_zone::collect),
    ("time", time::collect),
    ("timex", timex::collect),
    ("udp_queues", udp_queues::collect),
    ("uname", uname::collect),
    ("vmstat", vmstat::collect),
];

/// The exporter: collectors plus their state.
pub struct Node {
    ctx: Ctx,
    /// The `/metrics` handler's own counts (promhttp's instrumentation).
    pub handler: HandlerStats,
}

/// What client_golang's promhttp counts about the metrics handler.
#[derive(Default)]
pub struct HandlerStats {
    /// Scrapes being served now.
    pub in_flight: AtomicU64,
    /// Scrapes answered, by status code: 200, 500, 503.
    pub answered: [AtomicU64; 3],
    /// Gathering errors (a collector thread that died).
    pub gathering_errors: AtomicU64,
}

impl HandlerStats {
    fn expose(&self, out: &mut Families) {
        const ERRORS: &str =
            "Total number of internal errors encountered by the promhttp metric handler.";
        out.counter(
            "promhttp_metric_handler_errors_total",
            ERRORS,
            &[("cause", "encoding")],
            0.0,
        );
        out.counter(
            "promhttp_metric_handler_errors_total",
            ERRORS,
            &[("cause", "gathering")],
            self.gathering_errors.load(Ordering::Relaxed) as f64,
        );
        out.gauge(
            "promhttp_metric_handler_requests_in_flight",
            "Current number of scrapes being served.",
            &[],
            self.in_flight.load(Ordering::Relaxed) as f64,
        );
        for (code, n) in ["200", "500", "503"].iter().zip(&self.answered) {
            out.counter(
                "promhttp_metric_handler_requests_total",
                "Total number of scrapes by HTTP status code.",
                &[("code", code)],
                n.load(Ordering::Relaxed) as f64,
            );
        }
    }
}

impl Node {
    pub fn new(paths: Paths) -> Node {
        Node {
            ctx: Ctx {
                paths,
                cpu_state: Mutex::new(cpu::CpuState::default()),
                device_filters: DeviceFilters::default(),
                textfile_directory: PathBuf::from("/var/lib/prometheus/node-exporter"),
                stuck_mounts: filesystem::StuckMounts::default(),
            },
            handler: HandlerStats::default(),
        }
    }

    /// Runs every collector (or those named in `only`, node_exporter's `collect[]`); adds the
    /// per-collector duration and success families and the exporter's own families.
    pub fn gather(&self, only: &[String]) -> Vec<MetricFamily> {
        let selected: Vec<&(&str, CollectFn)> = COLLECTORS
            .iter()
            .filter(|(name, _)| only.is_empty() || only.iter().any(|o| o == name))
            .collect();
        // Like node_exporter, collectors run concurrently (here on up to 4 threads taking the
        // next collector as they finish one); results are merged in the fixed order.
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<Outcome>> = Mutex::new(Vec::with_capacity(selected.len()));
        let work = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((_, collect)) = selected.get(i) else {
                break;
            };
            let start = Instant::now();
            let mut fams = Families::default();
            // A collector that panics fails alone.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                collect(&self.ctx, &mut fams)
            }))
            .unwrap_or(Err(NodeError::Panic));
            let elapsed = start.elapsed().as_secs_f64();
            done.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((i, fams, elapsed, result));
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4)
            .min(selected.len().max(1));
        std::thread::scope(|s| {
            for _ in 1..threads {
                // If no thread can be started, this one does all the work.
                let _ = std::thread::Builder::new().spawn_scoped(s, work);
            }
            work();
        });
        let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
        done.sort_by_key(|d| d.0);
        let mut out = Families::default();
        let mut meta = Vec::with_capacity(done.len());
        for (i, fams, elapsed, result) in done {
            let name = selected[i].0;
            // Like node_exporter, what a failing collector sent before failing is still exposed.
            out.merge(fams);
            if let Err(e) = &result {
                eprintln!("promplay node: collector {name} failed: {e}");
            }
            meta.push((name, elapsed, result.is_ok()));
        }
        for (name, elapsed, ok) in meta {
            let labels = [("collector", name)];
            out.gauge(
                "node_scrape_collector_duration_seconds",
                "node_exporter: Duration of a collector scrape.",
                &labels,
                elapsed,
            );
            out.gauge(
                "node_scrape_collector_success",
                "node_exporter: Whether a collector succeeded.",
                &labels,
                if ok { 1.0 } else { 0.0 },
            );
        }
        process::collect(&mut out);
        self.handler.expose(&mut out);
        out.into_sorted()
    }

    /// One scrape for an `Accept` header: the `Content-Type` and the body.
    pub fn scrape(&self, accept: Option<&str>, only: &[String]) -> (String, String) {
        let format = promplay_exposition::negotiate(accept);
        let families = self.gather(only);
        let mut body = String::with_capacity(64 * 1024);
        expose::write(&mut body, &families, &format);
        (format.content_type().to_string(), body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_filters_compile_and_match_as_node_exporter() {
        let f = DeviceFilters::default();
        assert!(f.netdev_exclude.is_match("lo"));
        assert!(!f.netdev_exclude.is_match("lo0"));
        for d in ["loop0", "ram1", "vda1", "sda12", "xvdb3", "nvme0n1p2"] {
            assert!(f.diskstats_exclude.is_match(d), "{d}");
        }
        for d in ["vda", "zram0", "nvme0n1", "dm-0", "sr0"] {
            assert!(!f.diskstats_exclude.is_match(d), "{d}");
        }
        for m in [
            "/dev",
            "/dev/shm",
            "/proc",
            "/run/user/0",
            "/sys/fs/cgroup",
            "/mnt/x",
        ] {
            assert!(f.mount_points_exclude.is_match(m), "{m}");
        }
        for m in ["/", "/home", "/devx", "/var/lib/docker"] {
            assert!(!f.mount_points_exclude.is_match(m), "{m}");
        }
        assert!(f.fs_types_exclude.is_match("cgroup2"));
        assert!(!f.fs_types_exclude.is_match("ext4"));
        for k in ["oom_kill", "pgpgin", "pswpout", "pgfault", "pgmajfault"] {
            assert!(f.vmstat_fields.is_match(k), "{k}");
        }
        assert!(!f.vmstat_fields.is_match("nr_free_pages"));
    }

    /// Every parser on every prefix of real /proc files (and mangled copies): errors are fine,
    /// panics are not.
    #[test]
    fn parsers_never_panic_on_truncated_or_mangled_input() {
        let mut texts: Vec<String> = [
            "",
            "\n",
            "\0\0",
            ":",
            "a:",
            "()",
            ")(",
            "x=\"",
            "%",
            "é ü 6 ) :",
            "cpu",
            "cpu0 ",
            "IP address\n1 2 3 4 5 6 7\n",
            "some total=",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for f in [
            "/proc/stat",
            "/proc/meminfo",
            "/proc/net/dev",
            "/proc/diskstats",
            "/proc/net/netstat",
            "/proc/net/snmp6",
            "/proc/net/sockstat",
            "/proc/self/stat",
            "/proc/self/limits",
            "/proc/1/mounts",
            "/proc/net/udp",
            "/proc/pressure/io",
        ] {
            if let Ok(t) = std::fs::read_to_string(f) {
                let t: String = t.chars().take(1500).collect();
                let cuts: Vec<usize> = t.char_indices().map(|(i, _)| i).step_by(5).collect();
                for c in cuts {
                    texts.push(t[..c].to_string());
                }
                texts.push(t.replace(' ', ""));
                texts.push(t.replace(char::is_numeric, "x"));
                texts.push(t.replace('\n', " "));
                texts.push(t.replace(':', "("));
            }
        }
        for t in &texts {
            let _ = stat::parse_proc_stat(t);
            let _ = meminfo::parse_meminfo(t);
            let _ = loadavg::parse_loadavg(t);
            let _ = netdev::parse_net_dev(t);
            let _ = diskstats::parse_diskstats(t);
            let _ = diskstats::parse_udev_properties(t);
            let _ = filesystem::parse_mounts(t);
            let _ = filefd::parse_file_nr(t);
            let _ = vmstat::parse_vmstat(t);
            let _ = pressure::parse_psi(t);
            let _ = time::parse_available(t);
            let _ = netstat::parse_netstat(t);
            let _ = netstat::parse_snmp6(t);
            let _ = sockstat::parse_sockstat(t);
            let _ = softnet::parse_softnet(t);
            let _ = entropy::parse_uint(t);
            let _ = arp::parse_arp(t);
            let _ = udp_queues::parse_udp_queues(t);
            let _ = conntrack::parse_conntrack_stat(t);
            let _ = os::parse_os_release(t);
            let _ = os::version_number(t);
            let _ = selinux::parse_config_mode(t);
            let _ = process::parse_self_stat(t);
            let _ = process::parse_limits(t);
            let _ = netclass::parse_int_auto(t.trim());
            let _ = textfile::parse_textfile(t, "/x.prom");
            let _ = schedstat::parse_schedstat(t);
            let _ = cpufreq::parse_khz(t);
            let _ = thermal_zone::parse_int(t);
        }
        assert!(texts.len() > 14);
    }

    #[test]
    fn collect_filters_select_collectors() {
        assert!(check_collectors(&["cpu".into(), "meminfo".into()]).is_ok());
        assert_eq!(
            check_collectors(&["cpu".into(), "bogus".into()]),
            Err("missing collector: bogus".to_string())
        );
        let node = Node::new(Paths {
            proc: "/proc".into(),
            sys: "/sys".into(),
            rootfs: "/".into(),
            udev_data: "/run/udev/data".into(),
        });
        let fams = node.gather(&["loadavg".into()]);
        let success = fams
            .iter()
            .find(|f| f.name == "node_scrape_collector_success")
            .unwrap();
        assert_eq!(success.samples.len(), 1);
        assert!(fams.iter().any(|f| f.name == "node_load1"));
        assert!(!fams.iter().any(|f| f.name == "node_cpu_seconds"));
    }

    #[test]
    fn a_missing_procfs_fails_collectors_without_panicking() {
        let dir = std::env::temp_dir().join(format!("promplay-node-empty-{}", std::process::id()));
        let node = Node::new(Paths {
            proc: dir.join("proc"),
            sys: dir.join("sys"),
            rootfs: dir.clone(),
            udev_data: dir.join("udev"),
        });
        let fams = node.gather(&[]);
        let success = fams
            .iter()
            .find(|f| f.name == "node_scrape_collector_success")
            .expect("success family");
        let failed: Vec<&str> = success
            .samples
            .iter()
            .filter(|s| s.value == 0.0)
            .map(|s| s.labels[0].1.as_str())
            .collect();
        for c in [
            "cpu", "meminfo", "loadavg", "stat", "vmstat", "filefd", "netdev",
        ] {
            assert!(failed.contains(&c), "{c} should fail: {failed:?}");
        }
        // uname and time do not read procfs.
        assert!(!failed.contains(&"uname"));
        assert!(fams.iter().any(|f| f.name == "node_uname_info"));
    }
}

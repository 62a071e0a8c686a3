//! The `cpu` collector: seconds each CPU spent in each mode, from the `cpuN` lines of
//! /proc/stat, as node_exporter 1.5 exposes them, including its guard against counters that
//! jump backwards (a counter that goes down keeps its previous value; an idle counter that drops
//! by 3 s or more means the CPU was hot-plugged, and its cache is reset).

use std::collections::BTreeMap;
use std::path::Path;

use super::parse_file;
use super::stat::{parse_proc_stat, CpuStat};
use super::{read, Ctx, Families, NodeError};

/// node_exporter's `jumpBackSeconds`.
const JUMP_BACK_SECONDS: f64 = 3.0;

/// The counters exposed at the previous scrape, by CPU number.
#[derive(Default, Debug)]
pub struct CpuState {
    cpus: BTreeMap<u32, CpuStat>,
}

/// Folds new readings into the cache as node_exporter's `updateCPUStats` does and returns the
/// values to expose. Pure: the cache is the only state.
pub fn update_cpu_stats(state: &mut CpuState, new: &[(u32, CpuStat)]) -> Vec<(u32, CpuStat)> {
    for (id, n) in new {
        let mut c = state.cpus.get(id).copied().unwrap_or_default();
        if c.idle - n.idle >= JUMP_BACK_SECONDS {
            c = CpuStat::default();
        }
        let keep_max = |old: &mut f64, new: f64| {
            if new >= *old {
                *old = new;
            }
        };
        keep_max(&mut c.idle, n.idle);
        keep_max(&mut c.user, n.user);
        keep_max(&mut c.nice, n.nice);
        keep_max(&mut c.system, n.system);
        keep_max(&mut c.iowait, n.iowait);
        keep_max(&mut c.irq, n.irq);
        keep_max(&mut c.softirq, n.softirq);
        keep_max(&mut c.steal, n.steal);
        keep_max(&mut c.guest, n.guest);
        keep_max(&mut c.guest_nice, n.guest_nice);
        state.cpus.insert(*id, c);
    }
    // CPUs gone offline leave the cache.
    state.cpus.retain(|id, _| new.iter().any(|(n, _)| n == id));
    state.cpus.iter().map(|(id, c)| (*id, *c)).collect()
}

/// What /sys/devices/system/cpu/cpuN says about thermal throttling.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Throttle {
    pub package: u64,
    pub core: u64,
    pub core_count: Option<u64>,
    pub package_count: Option<u64>,
}

/// Adds the throttle counters: one per core (the first CPU of a core seen wins, as hyper-threads
/// share it) and one per package.
pub fn expose_throttles(cpus: &[Throttle], out: &mut Families) {
    let mut cores: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    let mut packages: BTreeMap<u64, u64> = BTreeMap::new();
    for t in cpus {
        if let Some(n) = t.core_count {
            cores.entry((t.package, t.core)).or_insert(n);
        }
        if let Some(n) = t.package_count {
            packages.entry(t.package).or_insert(n);
        }
    }
    for (package, n) in packages {
        out.counter(
            "node_cpu_package_throttles_total",
            "Number of times this CPU package has been throttled.",
            &[("package", &package.to_string())],
            n as f64,
        );
    }
    for ((package, core), n) in cores {
        out.counter(
            "node_cpu_core_throttles_total",
            "Number of times this CPU core has been throttled.",
            &[
                ("package", &package.to_string()),
                ("core", &core.to_string()),
            ],
            n as f64,
        );
    }
}

fn read_uint(path: &Path) -> Option<u64> {
    read(path).ok()?.trim().parse().ok()
}

/// Reads the topology and throttle counts of every CPU that has them.
fn read_throttles(ctx: &Ctx) -> Vec<Throttle> {
    let dir = ctx.paths.sys("devices/system/cpu");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut cpus: Vec<(u32, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("cpu")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    cpus.sort();
    cpus.into_iter()
        .filter_map(|(_, p)| {
            Some(Throttle {
                package: read_uint(&p.join("topology/physical_package_id"))?,
                core: read_uint(&p.join("topology/core_id"))?,
                core_count: read_uint(&p.join("thermal_throttle/core_throttle_count")),
                package_count: read_uint(&p.join("thermal_throttle/package_throttle_count")),
            })
        })
        .collect()
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let st = parse_file(&ctx.paths.proc("stat"), parse_proc_stat)?;
    let cpus = {
        let mut state = ctx
            .cpu_state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        update_cpu_stats(&mut state, &st.cpus)
    };
    const HELP: &str = "Seconds the CPUs spent in each mode.";
    const GUEST_HELP: &str = "Seconds the CPUs spent in guests (VMs) for each mode.";
    for (id, c) in cpus {
        let cpu = id.to_string();
        for (mode, v) in [
            ("user", c.user),
            ("nice", c.nice),
            ("system", c.system),
            ("idle", c.idle),
            ("iowait", c.iowait),
            ("irq", c.irq),
            ("softirq", c.softirq),
            ("steal", c.steal),
        ] {
            out.counter(
                "node_cpu_seconds_total",
                HELP,
                &[("cpu", &cpu), ("mode", mode)],
                v,
            );
        }
        // Guest time is also counted in user and nice; node_exporter exposes it separately.
        for (mode, v) in [("user", c.guest), ("nice", c.guest_nice)] {
            out.counter(
                "node_cpu_guest_seconds_total",
                GUEST_HELP,
                &[("cpu", &cpu), ("mode", mode)],
                v,
            );
        }
    }
    expose_throttles(&read_throttles(ctx), out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(idle: f64, user: f64) -> CpuStat {
        CpuStat {
            idle,
            user,
            ..CpuStat::default()
        }
    }

    #[test]
    fn counters_never_go_backwards_and_hotplug_resets() {
        let mut st = CpuState::default();
        let got = update_cpu_stats(&mut st, &[(0, stat(100.0, 10.0)), (1, stat(50.0, 5.0))]);
        assert_eq!(got[0].1.idle, 100.0);
        // user drops a little: the old value stays.
        let got = update_cpu_stats(&mut st, &[(0, stat(101.0, 9.5)), (1, stat(51.0, 6.0))]);
        assert_eq!(got[0].1.user, 10.0);
        assert_eq!(got[0].1.idle, 101.0);
        // idle drops by 3 s or more: reset, then the new values.
        let got = update_cpu_stats(&mut st, &[(0, stat(90.0, 1.0)), (1, stat(52.0, 6.0))]);
        assert_eq!(got[0].1.idle, 90.0);
        assert_eq!(got[0].1.user, 1.0);
        // cpu1 goes offline.
        let got = update_cpu_stats(&mut st, &[(0, stat(91.0, 1.0))]);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn throttles_per_core_and_package() {
        let t = |package, core, c, p| Throttle {
            package,
            core,
            core_count: c,
            package_count: p,
        };
        let mut f = Families::default();
        expose_throttles(
            &[
                t(0, 0, Some(5), Some(9)),
                t(0, 1, Some(2), Some(9)),
                t(0, 0, Some(5), Some(9)), // hyper-thread sibling
                t(1, 0, None, Some(1)),
            ],
            &mut f,
        );
        assert_eq!(
            f.get("node_cpu_core_throttles_total")
                .unwrap()
                .samples
                .len(),
            2
        );
        assert_eq!(
            f.value(
                "node_cpu_core_throttles_total",
                &[("package", "0"), ("core", "1")]
            ),
            Some(2.0)
        );
        assert_eq!(
            f.value("node_cpu_package_throttles_total", &[("package", "1")]),
            Some(1.0)
        );
        let mut f = Families::default();
        expose_throttles(&[], &mut f);
        assert!(f.get("node_cpu_core_throttles_total").is_none());
    }

    #[test]
    fn exposes_every_mode_per_cpu() {
        let st =
            parse_proc_stat("cpu  3 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\ncpu1 1 1 1 1\n").unwrap();
        let mut state = CpuState::default();
        let cpus = update_cpu_stats(&mut state, &st.cpus);
        assert_eq!(cpus.len(), 2);
        assert_eq!(cpus[0].1.steal, 0.08);
        assert_eq!(cpus[0].1.guest_nice, 0.1);
    }
}

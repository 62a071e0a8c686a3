//! The `schedstat` collector: per-CPU scheduler statistics from /proc/schedstat (time running,
//! time waiting to run, timeslices), as node_exporter 1.5 exposes them. Kernels without
//! CONFIG_SCHEDSTATS have no such file: the collector fails, as node_exporter's reports no data.

use super::{parse_file, Ctx, Families, NodeError};

/// One `cpuN` line: (N as written, running ns, waiting ns, timeslices).
pub type CpuSched = (String, u64, u64, u64);

/// Parses /proc/schedstat: each `cpuN` line's 7th, 8th and 9th numbers.
pub fn parse_schedstat(text: &str) -> Result<Vec<CpuSched>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_ascii_whitespace();
        let Some(cpu) = parts.next().and_then(|k| k.strip_prefix("cpu")) else {
            continue;
        };
        if cpu.is_empty() || !cpu.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let nums = parts
            .map(|p| p.parse::<u64>())
            .collect::<Result<Vec<u64>, _>>()
            .map_err(|_| format!("invalid schedstat line: {line:?}"))?;
        if nums.len() < 9 {
            return Err(format!("invalid schedstat line: {line:?}"));
        }
        out.push((cpu.to_string(), nums[6], nums[7], nums[8]));
    }
    Ok(out)
}

/// Adds the families for parsed lines (nanoseconds → seconds).
pub fn expose(cpus: &[CpuSched], out: &mut Families) {
    for (cpu, running, waiting, slices) in cpus {
        let l = [("cpu", cpu.as_str())];
        out.counter(
            "node_schedstat_running_seconds_total",
            "Number of seconds CPU spent running a process.",
            &l,
            *running as f64 / 1e9,
        );
        out.counter(
            "node_schedstat_waiting_seconds_total",
            "Number of seconds spent by processing waiting for this CPU.",
            &l,
            *waiting as f64 / 1e9,
        );
        out.counter(
            "node_schedstat_timeslices_total",
            "Number of timeslices executed by CPU.",
            &l,
            *slices as f64,
        );
    }
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    expose(
        &parse_file(&ctx.paths.proc("schedstat"), parse_schedstat)?,
        out,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schedstat() {
        let t = "version 15\ntimestamp 15819019232\n\
                 cpu0 498494191 0 3533438552 2553969831 3853684107 2465731542 2045936778163039 343796328169361 4767485306\n\
                 domain0 00000000,00000003 212499247 210112015 1861015 1860405436 536440 369895 32599 210079416 25368550 24241256 384652 927363878 807233 6366 1647 0\n\
                 cpu1 518377256 0 4155211005 2778589869 10466382 2867629021 1904686152592476 364107263788241 5145567945\n";
        let c = parse_schedstat(t).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0],
            ("0".into(), 2045936778163039, 343796328169361, 4767485306)
        );
        let mut f = Families::default();
        expose(&c, &mut f);
        let cpu0 = [("cpu", "0")];
        assert_eq!(
            f.value("node_schedstat_running_seconds_total", &cpu0),
            Some(2045936.778163039)
        );
        assert_eq!(
            f.value("node_schedstat_waiting_seconds_total", &cpu0),
            Some(343796.328169361)
        );
        assert_eq!(
            f.value("node_schedstat_timeslices_total", &cpu0),
            Some(4767485306.0)
        );
        assert!(parse_schedstat("cpu0 1 2 3\n").is_err());
        assert!(parse_schedstat("cpu0 1 2 3 4 5 6 7 8 x\n").is_err());
        assert_eq!(parse_schedstat("version 15\n").unwrap(), vec![]);
    }
}

//! The `stat` collector (/proc/stat: boot time, context switches, forks, interrupts, runnable
//! and blocked processes) and the parser of /proc/stat that the `cpu` collector shares.

use super::{parse_file, Ctx, Families, NodeError};

/// The kernel's USER_HZ: /proc/stat counts CPU time in 1/100 s.
pub const USER_HZ: f64 = 100.0;

/// One `cpuN` line in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuStat {
    pub user: f64,
    pub nice: f64,
    pub system: f64,
    pub idle: f64,
    pub iowait: f64,
    pub irq: f64,
    pub softirq: f64,
    pub steal: f64,
    pub guest: f64,
    pub guest_nice: f64,
}

/// What node_exporter reads from /proc/stat.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcStat {
    /// `cpuN` lines, by N, in file order.
    pub cpus: Vec<(u32, CpuStat)>,
    pub intr: Option<u64>,
    pub ctxt: Option<u64>,
    pub btime: Option<u64>,
    pub processes: Option<u64>,
    pub procs_running: Option<u64>,
    pub procs_blocked: Option<u64>,
}

fn parse_u64(key: &str, v: Option<&str>) -> Result<u64, String> {
    let v = v.ok_or_else(|| format!("no value for {key}"))?;
    v.parse()
        .map_err(|_| format!("invalid value for {key}: {v:?}"))
}

/// Parses /proc/stat. CPU times are converted to seconds; a `cpuN` line may have fewer than ten
/// values (older kernels), the missing ones are 0. Unknown lines are ignored.
pub fn parse_proc_stat(text: &str) -> Result<ProcStat, String> {
    let mut st = ProcStat::default();
    let mut known = false;
    for line in text.lines() {
        let mut parts = line.split_ascii_whitespace();
        let Some(key) = parts.next() else { continue };
        match key {
            "cpu" => known = true,
            "intr" => st.intr = Some(parse_u64(key, parts.next())?),
            "ctxt" => st.ctxt = Some(parse_u64(key, parts.next())?),
            "btime" => st.btime = Some(parse_u64(key, parts.next())?),
            "processes" => st.processes = Some(parse_u64(key, parts.next())?),
            "procs_running" => st.procs_running = Some(parse_u64(key, parts.next())?),
            "procs_blocked" => st.procs_blocked = Some(parse_u64(key, parts.next())?),
            _ => {
                let Some(num) = key.strip_prefix("cpu") else {
                    continue;
                };
                let id: u32 = num
                    .parse()
                    .map_err(|_| format!("invalid cpu line: {line:?}"))?;
                let mut vals = [0f64; 10];
                let mut n = 0;
                for (slot, p) in vals.iter_mut().zip(parts) {
                    let v: f64 = p
                        .parse()
                        .map_err(|_| format!("invalid cpu line: {line:?}"))?;
                    *slot = v / USER_HZ;
                    n += 1;
                }
                if n == 0 {
                    return Err(format!("invalid cpu line: {line:?}"));
                }
                let [user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice] =
                    vals;
                st.cpus.push((
                    id,
                    CpuStat {
                        user,
                        nice,
                        system,
                        idle,
                        iowait,
                        irq,
                        softirq,
                        steal,
                        guest,
                        guest_nice,
                    },
                ));
            }
        }
    }
    let any = known
        || !st.cpus.is_empty()
        || st.intr.is_some()
        || st.ctxt.is_some()
        || st.btime.is_some();
    if !any {
        return Err("no cpu, intr, ctxt or btime line".to_string());
    }
    Ok(st)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let st = parse_file(&ctx.paths.proc("stat"), parse_proc_stat)?;
    let put = |out: &mut Families, v: Option<u64>, name: &str, help: &str, counter: bool| {
        if let Some(v) = v {
            if counter {
                out.counter(name, help, &[], v as f64);
            } else {
                out.gauge(name, help, &[], v as f64);
            }
        }
    };
    put(
        out,
        st.intr,
        "node_intr_total",
        "Total number of interrupts serviced.",
        true,
    );
    put(
        out,
        st.ctxt,
        "node_context_switches_total",
        "Total number of context switches.",
        true,
    );
    put(
        out,
        st.btime,
        "node_boot_time_seconds",
        "Node boot time, in unixtime.",
        false,
    );
    put(
        out,
        st.processes,
        "node_forks_total",
        "Total number of forks.",
        true,
    );
    put(
        out,
        st.procs_running,
        "node_procs_running",
        "Number of processes in runnable state.",
        false,
    );
    put(
        out,
        st.procs_blocked,
        "node_procs_blocked",
        "Number of processes blocked waiting for I/O to complete.",
        false,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROC_STAT: &str = "\
cpu  450803 126 62394 55972 569 0 342 266 0 0
cpu0 224107 46 30256 30440 191 0 21 134 7 3
cpu1 226695 79 32137 25532 378 0 320 132 0 0
intr 2647897 0 0 0 0 0 0 0 0 0
ctxt 4762724
btime 1795616904
processes 187947
procs_running 8
procs_blocked 1
softirq 1047853 0 232917 20 65384 0 0 14 405484 0 344034
";

    #[test]
    fn parses_proc_stat() {
        let st = parse_proc_stat(PROC_STAT).unwrap();
        assert_eq!(st.cpus.len(), 2);
        assert_eq!(st.cpus[0].0, 0);
        assert_eq!(st.cpus[0].1.user, 2241.07);
        assert_eq!(st.cpus[0].1.idle, 304.4);
        assert_eq!(st.cpus[0].1.guest, 0.07);
        assert_eq!(st.cpus[0].1.guest_nice, 0.03);
        assert_eq!(st.cpus[1].1.softirq, 3.2);
        assert_eq!(st.intr, Some(2647897));
        assert_eq!(st.ctxt, Some(4762724));
        assert_eq!(st.btime, Some(1795616904));
        assert_eq!(st.processes, Some(187947));
        assert_eq!(st.procs_running, Some(8));
        assert_eq!(st.procs_blocked, Some(1));
    }

    #[test]
    fn short_cpu_lines_and_bad_input() {
        let st = parse_proc_stat("cpu0 100 0 100 200\n").unwrap();
        assert_eq!(st.cpus[0].1.idle, 2.0);
        assert_eq!(st.cpus[0].1.steal, 0.0);
        assert!(parse_proc_stat("").is_err());
        assert!(parse_proc_stat("hello world\n").is_err());
        assert!(parse_proc_stat("btime x\n").is_err());
        assert!(parse_proc_stat("ctxt\n").is_err());
        assert!(parse_proc_stat("cpu0 1 a\n").is_err());
        assert!(parse_proc_stat("cpux 1 2\n").is_err());
        assert!(parse_proc_stat("cpu0\n").is_err());
    }
}

//! The exporter's own `process_*` families (as client_golang's process collector writes them
//! for node_exporter): CPU time, memory, file descriptors and start time of this process, from
//! the real /proc/self whatever `--path.procfs` says. Not a node_exporter collector: no
//! `node_scrape_collector_*` series; a failure just leaves the families out.

use std::path::Path;

use super::stat::{parse_proc_stat, USER_HZ};
use super::{read, Families};

/// What /proc/self/stat says: CPU ticks, start time in ticks after boot, sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SelfStat {
    pub utime: u64,
    pub stime: u64,
    pub starttime: u64,
    pub vsize: u64,
    /// Resident set size in pages.
    pub rss: u64,
}

/// Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields are
/// counted from its last `)`.
pub fn parse_self_stat(text: &str) -> Result<SelfStat, String> {
    let close = text.rfind(')').ok_or("no ')' in stat")?;
    let fields: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    // fields[0] is field 3 (state) of proc(5).
    let get = |n: usize| -> Result<u64, String> {
        let v = fields
            .get(n - 3)
            .ok_or_else(|| format!("no field {n} in stat"))?;
        v.parse()
            .map_err(|_| format!("invalid field {n} in stat: {v:?}"))
    };
    Ok(SelfStat {
        utime: get(14)?,
        stime: get(15)?,
        starttime: get(22)?,
        vsize: get(23)?,
        rss: get(24)?,
    })
}

/// Parses /proc/<pid>/limits: the soft limits of open files and address space
/// (`unlimited` is u64::MAX, as Go's procfs reads it).
pub fn parse_limits(text: &str) -> (Option<f64>, Option<f64>) {
    let soft = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_ascii_whitespace().next())
            .and_then(|v| match v {
                "unlimited" => Some(u64::MAX as f64),
                v => v.parse::<u64>().ok().map(|n| n as f64),
            })
    };
    (soft("Max open files"), soft("Max address space"))
}

fn page_size() -> f64 {
    // SAFETY: sysconf has no memory effects.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as f64
    } else {
        4096.0
    }
}

pub fn collect(out: &mut Families) {
    let proc_ = Path::new("/proc");
    if let Ok(st) = read(&proc_.join("self/stat")).and_then(|t| {
        parse_self_stat(&t).map_err(|msg| super::NodeError::Parse {
            path: proc_.join("self/stat"),
            msg,
        })
    }) {
        out.counter(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            &[],
            (st.utime + st.stime) as f64 / USER_HZ,
        );
        out.gauge(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            &[],
            st.vsize as f64,
        );
        out.gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            &[],
            st.rss as f64 * page_size(),
        );
        let btime = read(&proc_.join("stat"))
            .ok()
            .and_then(|t| parse_proc_stat(&t).ok())
            .and_then(|s| s.btime);
        if let Some(btime) = btime {
            out.gauge(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                &[],
                btime as f64 + st.starttime as f64 / USER_HZ,
            );
        }
    }
    if let Ok(fds) = std::fs::read_dir(proc_.join("self/fd")) {
        out.gauge(
            "process_open_fds",
            "Number of open file descriptors.",
            &[],
            fds.count() as f64,
        );
    }
    if let Ok(text) = read(&proc_.join("self/limits")) {
        let (files, address_space) = parse_limits(&text);
        if let Some(v) = files {
            out.gauge(
                "process_max_fds",
                "Maximum number of open file descriptors.",
                &[],
                v,
            );
        }
        if let Some(v) = address_space {
            out.gauge(
                "process_virtual_memory_max_bytes",
                "Maximum amount of virtual memory available in bytes.",
                &[],
                v,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_self_stat_with_awkward_names() {
        let t = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 50 0 0 20 0 9 0 \
                 12345 1122181120 3736 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        let s = parse_self_stat(t).unwrap();
        assert_eq!(s.utime, 150);
        assert_eq!(s.stime, 50);
        assert_eq!(s.starttime, 12345);
        assert_eq!(s.vsize, 1122181120);
        assert_eq!(s.rss, 3736);
        assert!(parse_self_stat("1 (x) S 1 2\n").is_err());
        assert!(parse_self_stat("no paren\n").is_err());
    }

    #[test]
    fn parses_limits() {
        let t = "Limit                     Soft Limit           Hard Limit           Units     \n\
                 Max open files            20000                1048576              files     \n\
                 Max address space         unlimited            unlimited            bytes     \n";
        assert_eq!(
            parse_limits(t),
            (Some(20000.0), Some(1.8446744073709552e19))
        );
        assert_eq!(parse_limits(""), (None, None));
    }
}

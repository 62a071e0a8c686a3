//! The `conntrack` collector: connection-tracking table size and limit
//! (/proc/sys/net/netfilter/nf_conntrack_{count,max}) and the per-CPU statistics of
//! /proc/net/stat/nf_conntrack summed over CPUs, as node_exporter 1.5 exposes them (gauges).
//! Without the netfilter conntrack module the collector fails, as node_exporter's reports no
//! data.

use std::collections::HashMap;

use super::entropy::parse_uint;
use super::{parse_file, Ctx, Families, NodeError};

/// Sums the columns of /proc/net/stat/nf_conntrack (a header of names, then one row of
/// hexadecimal values per CPU).
pub fn parse_conntrack_stat(text: &str) -> Result<HashMap<String, u64>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty conntrack statistics")?
        .split_ascii_whitespace()
        .collect();
    let mut sums: HashMap<String, u64> = header.iter().map(|h| (h.to_string(), 0)).collect();
    for line in lines {
        let vals: Vec<&str> = line.split_ascii_whitespace().collect();
        if vals.is_empty() {
            continue;
        }
        if vals.len() != header.len() {
            return Err(format!("invalid conntrack statistics row: {line:?}"));
        }
        for (name, v) in header.iter().zip(vals) {
            let n = u64::from_str_radix(v, 16)
                .map_err(|_| format!("invalid conntrack statistic {v:?}"))?;
            if let Some(s) = sums.get_mut(*name) {
                *s = s.saturating_add(n);
            }
        }
    }
    Ok(sums)
}

/// (column, metric, help), in node_exporter's order.
#[rustfmt::skip]
const STATS: &[(&str, &str, &str)] = &[
    ("found", "node_nf_conntrack_stat_found", "Number of searched entries which were successful."),
    ("invalid", "node_nf_conntrack_stat_invalid", "Number of packets seen which can not be tracked."),
    ("ignore", "node_nf_conntrack_stat_ignore", "Number of packets seen which are already connected to a conntrack entry."),
    ("insert", "node_nf_conntrack_stat_insert", "Number of entries inserted into the list."),
    ("insert_failed", "node_nf_conntrack_stat_insert_failed", "Number of entries for which list insertion was attempted but failed."),
    ("drop", "node_nf_conntrack_stat_drop", "Number of packets dropped due to conntrack failure."),
    ("early_drop", "node_nf_conntrack_stat_early_drop", "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached."),
    ("search_restart", "node_nf_conntrack_stat_search_restart", "Number of conntrack table lookups which had to be restarted due to hashtable resizes."),
];

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let count = parse_file(
        &ctx.paths.proc("sys/net/netfilter/nf_conntrack_count"),
        parse_uint,
    )?;
    out.gauge(
        "node_nf_conntrack_entries",
        "Number of currently allocated flow entries for connection tracking.",
        &[],
        count as f64,
    );
    let max = parse_file(
        &ctx.paths.proc("sys/net/netfilter/nf_conntrack_max"),
        parse_uint,
    )?;
    out.gauge(
        "node_nf_conntrack_entries_limit",
        "Maximum size of connection tracking table.",
        &[],
        max as f64,
    );
    let stats = parse_file(
        &ctx.paths.proc("net/stat/nf_conntrack"),
        parse_conntrack_stat,
    )?;
    for (col, name, help) in STATS {
        if let Some(v) = stats.get(*col) {
            out.gauge(name, help, &[], *v as f64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_conntrack_statistics_over_cpus() {
        let t = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n\
                 00000021  00000000 0000000a 00000000 00000001 00000002 00000000 00000000 00000003 00000000 00000000 00000000 00000000  00000000 00000000 00000000 0000000f\n\
                 00000021  00000000 00000001 00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000004 00000000 00000000  00000000 00000000 00000000 00000001\n";
        let s = parse_conntrack_stat(t).unwrap();
        assert_eq!(s["found"], 11);
        assert_eq!(s["invalid"], 2);
        assert_eq!(s["drop"], 4);
        assert_eq!(s["search_restart"], 16);
        assert!(parse_conntrack_stat("").is_err());
        assert!(parse_conntrack_stat("a b\n1\n").is_err());
        assert!(parse_conntrack_stat("a b\n1 zz\n").is_err());
    }
}

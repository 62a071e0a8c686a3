//! The `netdev` collector: per-device counters as node_exporter 1.5 exposes them by default
//! (netlink statistics under their legacy names, which are the columns of /proc/net/dev:
//! `node_network_receive_bytes_total{device="eth0"}`), plus `receive_nohandler`, which
//! /proc/net/dev does not show, from /sys/class/net/<dev>/statistics/rx_nohandler.
//! Devices matching `^lo$` are left out.

use super::{parse_file, read, Ctx, Families, NodeError};

/// One device's counters: (`receive_bytes`, value), ... in header order.
pub type DevStats = Vec<(String, f64)>;

/// Parses /proc/net/dev: the second header line names the receive and transmit columns.
pub fn parse_net_dev(text: &str) -> Result<Vec<(String, DevStats)>, String> {
    let mut lines = text.lines();
    let _ = lines.next();
    let header = lines.next().ok_or("no header in net/dev")?;
    let cols: Vec<&str> = header.split('|').collect();
    if cols.len() != 3 {
        return Err(format!("invalid header line in net/dev: {header:?}"));
    }
    let rx: Vec<&str> = cols[1].split_ascii_whitespace().collect();
    let tx: Vec<&str> = cols[2].split_ascii_whitespace().collect();
    let mut out = Vec::new();
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        let (dev, rest) = line
            .split_once(':')
            .ok_or_else(|| format!("invalid line in net/dev: {line:?}"))?;
        let vals: Vec<&str> = rest.split_ascii_whitespace().collect();
        if vals.len() != rx.len() + tx.len() {
            return Err(format!("invalid line in net/dev: {line:?}"));
        }
        let mut stats = Vec::with_capacity(vals.len());
        for (i, v) in vals.iter().enumerate() {
            let n: u64 = v
                .parse()
                .map_err(|_| format!("invalid value {v:?} in net/dev"))?;
            let key = if i < rx.len() {
                format!("receive_{}", rx[i])
            } else {
                format!("transmit_{}", tx[i - rx.len()])
            };
            stats.push((key, n as f64));
        }
        out.push((dev.trim().to_string(), stats));
    }
    Ok(out)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let devs = parse_file(&ctx.paths.proc("net/dev"), parse_net_dev)?;
    for (dev, mut stats) in devs {
        if ctx.device_filters.netdev_exclude.is_match(&dev) {
            continue;
        }
        let nohandler = ctx
            .paths
            .sys(&format!("class/net/{dev}/statistics/rx_nohandler"));
        if let Some(v) = read(&nohandler)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            stats.push(("receive_nohandler".to_string(), v as f64));
        }
        for (key, v) in stats {
            out.counter(
                &format!("node_network_{key}_total"),
                &format!("Network device statistic {key}."),
                &[("device", &dev)],
                v,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET_DEV: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 229415376    6084    0    0    0     0          0         0 229415376    6084    0    0    0     0       0          0
  eth0: 614618278   24582    1    2    3     4          5         6  1413887   14934    7    8    9    10      11         12
";

    #[test]
    fn parses_net_dev() {
        let devs = parse_net_dev(NET_DEV).unwrap();
        assert_eq!(devs.len(), 2);
        assert_eq!(devs[1].0, "eth0");
        let eth0 = &devs[1].1;
        assert_eq!(eth0.len(), 16);
        assert_eq!(eth0[0], ("receive_bytes".to_string(), 614618278.0));
        assert_eq!(eth0[5], ("receive_frame".to_string(), 4.0));
        assert_eq!(eth0[8], ("transmit_bytes".to_string(), 1413887.0));
        assert_eq!(eth0[13], ("transmit_colls".to_string(), 10.0));
        assert_eq!(eth0[15], ("transmit_compressed".to_string(), 12.0));
    }

    #[test]
    fn rejects_malformed_net_dev() {
        assert!(parse_net_dev("").is_err());
        assert!(parse_net_dev("a\nb\n").is_err());
        let short = NET_DEV.replace(" 11         12", " 11");
        assert!(parse_net_dev(&short).is_err());
        let bad = NET_DEV.replace("614618278", "6x");
        assert!(parse_net_dev(&bad).is_err());
        let nocolon = NET_DEV.replace("eth0:", "eth0 ");
        assert!(parse_net_dev(&nocolon).is_err());
    }
}

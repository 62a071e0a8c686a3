//! The `arp` collector: ARP entries per device from /proc/net/arp.

use std::collections::BTreeMap;

use super::{parse_file, Ctx, Families, NodeError};

/// Counts the entries of /proc/net/arp by device (its last column); the first line is a header.
pub fn parse_arp(text: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty arp table")?;
    if !header.starts_with("IP address") {
        return Err(format!("unexpected arp header: {header:?}"));
    }
    let mut out = BTreeMap::new();
    for line in lines {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        if parts.len() != 6 {
            return Err(format!("malformed arp line: {line:?}"));
        }
        *out.entry(parts[5].to_string()).or_insert(0) += 1;
    }
    Ok(out)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let counts = parse_file(&ctx.paths.proc("net/arp"), parse_arp)?;
    for (dev, n) in counts {
        out.gauge(
            "node_arp_entries",
            "ARP entries by device",
            &[("device", &dev)],
            n as f64,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_arp_entries_by_device() {
        let t = "IP address       HW type     Flags       HW address            Mask     Device\n\
                 192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n\
                 192.0.2.9        0x1         0x0         00:00:00:00:00:00     *        eth0\n\
                 10.0.0.1         0x1         0x2         02:fc:00:00:00:06     *        eth1\n";
        let c = parse_arp(t).unwrap();
        assert_eq!(c["eth0"], 2);
        assert_eq!(c["eth1"], 1);
        assert!(parse_arp("").is_err());
        assert!(parse_arp("IP address x\n1.2.3.4 0x1\n").is_err());
    }
}

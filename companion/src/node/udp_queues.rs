//! The `udp_queues` collector: the memory queued in UDP sockets, summed over /proc/net/udp and
//! /proc/net/udp6 (`tx_queue:rx_queue`, hexadecimal). A missing udp6 (IPv6 disabled) is not an
//! error.

use std::io::ErrorKind;

use super::{parse_file, Ctx, Families, NodeError};

/// Sums the transmit and receive queues of a /proc/net/udp table: (tx, rx).
pub fn parse_udp_queues(text: &str) -> Result<(u64, u64), String> {
    let mut lines = text.lines();
    let _ = lines.next().ok_or("empty udp table")?;
    let (mut tx, mut rx) = (0u64, 0u64);
    for line in lines {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        let q = parts
            .get(4)
            .ok_or_else(|| format!("malformed udp line: {line:?}"))?;
        let (t, r) = q
            .split_once(':')
            .ok_or_else(|| format!("malformed udp queues: {q:?}"))?;
        let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|_| format!("invalid queue {s:?}"));
        tx = tx.saturating_add(hex(t)?);
        rx = rx.saturating_add(hex(r)?);
    }
    Ok((tx, rx))
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    const HELP: &str = "Number of allocated memory in the kernel for UDP datagrams in bytes.";
    let mut missing = 0;
    for (ip, file) in [("v4", "net/udp"), ("v6", "net/udp6")] {
        match parse_file(&ctx.paths.proc(file), parse_udp_queues) {
            Ok((tx, rx)) => {
                out.gauge(
                    "node_udp_queues",
                    HELP,
                    &[("ip", ip), ("queue", "tx")],
                    tx as f64,
                );
                out.gauge(
                    "node_udp_queues",
                    HELP,
                    &[("ip", ip), ("queue", "rx")],
                    rx as f64,
                );
            }
            // IPv6 (or IPv4) disabled: that table is simply absent.
            Err(NodeError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                missing += 1;
            }
            Err(e) => return Err(e),
        }
    }
    if missing == 2 {
        return Err(NodeError::Parse {
            path: ctx.paths.proc("net/udp"),
            msg: "no udp tables".to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_udp_queues() {
        let t = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
                 \x20 1: 00000000:0044 00000000:0000 07 00000010:00000200 00:00000000 00000000     0        0 1 2 0000000000000000 0\n\
                 \x20 2: 00000000:0045 00000000:0000 07 00000001:00000001 00:00000000 00000000     0        0 1 2 0000000000000000 0\n";
        assert_eq!(parse_udp_queues(t).unwrap(), (0x11, 0x201));
        let header_only = t.lines().next().unwrap();
        assert_eq!(parse_udp_queues(header_only).unwrap(), (0, 0));
        assert!(parse_udp_queues("").is_err());
        assert!(parse_udp_queues("h\n 1: a b 07 zz:00\n").is_err());
        assert!(parse_udp_queues("h\n 1: a\n").is_err());
    }
}

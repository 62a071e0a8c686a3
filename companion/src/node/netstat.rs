//! The `netstat` collector: protocol statistics from /proc/net/netstat, /proc/net/snmp and
//! /proc/net/snmp6 (`node_netstat_Tcp_InSegs`, untyped), the fields node_exporter 1.5 keeps by
//! default. A missing snmp6 (IPv6 disabled) is not an error.

use std::io::ErrorKind;

use super::{parse_file, Ctx, Families, NodeError};

/// node_exporter 1.5's default `--collector.netstat.fields`.
pub const DEFAULT_FIELDS: &str = "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

/// (protocol, field, value) triples.
pub type Stats = Vec<(String, String, f64)>;

/// Parses /proc/net/netstat or /proc/net/snmp: pairs of lines, `Proto: names...` then
/// `Proto: values...`.
pub fn parse_netstat(text: &str) -> Result<Stats, String> {
    let mut out = Vec::new();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    while let Some(names) = lines.next() {
        let values = lines
            .next()
            .ok_or_else(|| format!("no values after {names:?}"))?;
        let names: Vec<&str> = names.split_ascii_whitespace().collect();
        let values: Vec<&str> = values.split_ascii_whitespace().collect();
        let proto = names[0]
            .strip_suffix(':')
            .ok_or_else(|| format!("invalid protocol {:?}", names[0]))?;
        if values.first() != Some(&names[0]) || names.len() != values.len() {
            return Err(format!("field count mismatch for {proto}"));
        }
        for (n, v) in names[1..].iter().zip(&values[1..]) {
            let v: f64 = v
                .parse()
                .map_err(|_| format!("invalid value {v:?} of {proto} {n}"))?;
            out.push((proto.to_string(), n.to_string(), v));
        }
    }
    Ok(out)
}

/// Parses /proc/net/snmp6 (`Ip6InReceives  123`): the protocol is the name up to its `6`.
pub fn parse_snmp6(text: &str) -> Result<Stats, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.len() < 2 {
            continue;
        }
        let Some(six) = parts[0].find('6') else {
            continue;
        };
        let v: f64 = parts[1]
            .parse()
            .map_err(|_| format!("invalid value in snmp6: {line:?}"))?;
        out.push((
            parts[0][..=six].to_string(),
            parts[0][six + 1..].to_string(),
            v,
        ));
    }
    Ok(out)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let mut stats = parse_file(&ctx.paths.proc("net/netstat"), parse_netstat)?;
    stats.extend(parse_file(&ctx.paths.proc("net/snmp"), parse_netstat)?);
    match parse_file(&ctx.paths.proc("net/snmp6"), parse_snmp6) {
        Ok(s) => stats.extend(s),
        Err(NodeError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    for (proto, field, v) in stats {
        let key = format!("{proto}_{field}");
        if !ctx.device_filters.netstat_fields.is_match(&key) {
            continue;
        }
        out.untyped(
            &format!("node_netstat_{key}"),
            &format!("Statistic {proto}{field}."),
            &[],
            v,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_netstat_and_snmp() {
        let text = "TcpExt: SyncookiesSent ListenDrops\nTcpExt: 0 7\n\
                    IpExt: InOctets OutOctets\nIpExt: 233154092 692380\n\
                    Tcp: RtoAlgorithm MaxConn CurrEstab\nTcp: 1 -1 6\n";
        let s = parse_netstat(text).unwrap();
        assert_eq!(s.len(), 7);
        assert_eq!(s[1], ("TcpExt".into(), "ListenDrops".into(), 7.0));
        assert_eq!(s[3], ("IpExt".into(), "OutOctets".into(), 692380.0));
        assert_eq!(s[5].2, -1.0);
        assert!(parse_netstat("Tcp: A B\nTcp: 1\n").is_err());
        assert!(parse_netstat("Tcp: A B\n").is_err());
        assert!(parse_netstat("Tcp: A\nUdp: 1\n").is_err());
        assert!(parse_netstat("Tcp: A\nTcp: x\n").is_err());
    }

    #[test]
    fn parses_snmp6() {
        let s = parse_snmp6("Ip6InOctets  128\nIcmp6InMsgs 1\nUdpLite6InErrors 0\nx\n").unwrap();
        assert_eq!(s[0], ("Ip6".into(), "InOctets".into(), 128.0));
        assert_eq!(s[2], ("UdpLite6".into(), "InErrors".into(), 0.0));
        assert!(parse_snmp6("Ip6InOctets x\n").is_err());
    }
}

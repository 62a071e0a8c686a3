//! The `sockstat` collector: socket counts from /proc/net/sockstat and /proc/net/sockstat6
//! (`node_sockstat_TCP_inuse`, `node_sockstat_TCP_mem_bytes` = pages × page size, ...), as
//! node_exporter 1.5 exposes them. A missing sockstat6 (IPv6 disabled) is not an error.

use std::io::ErrorKind;

use super::{parse_file, Ctx, Families, NodeError};

/// One parsed sockstat file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sockstat {
    /// `sockets: used N`.
    pub used: Option<u64>,
    /// (protocol, [(state, value)]) in file order.
    pub protocols: Vec<(String, Vec<(String, u64)>)>,
}

/// Parses /proc/net/sockstat or sockstat6 (`TCP: inuse 10 orphan 0 tw 64 alloc 10 mem 179`).
pub fn parse_sockstat(text: &str) -> Result<Sockstat, String> {
    let mut st = Sockstat::default();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        let proto = parts[0]
            .strip_suffix(':')
            .ok_or_else(|| format!("malformed sockstat line: {line:?}"))?;
        if parts.len() % 2 != 1 {
            return Err(format!("malformed sockstat line: {line:?}"));
        }
        let mut fields = Vec::new();
        for kv in parts[1..].chunks(2) {
            let v: u64 = kv[1]
                .parse()
                .map_err(|_| format!("invalid value in sockstat line: {line:?}"))?;
            fields.push((kv[0].to_string(), v));
        }
        if proto == "sockets" {
            st.used = fields.iter().find(|(k, _)| k == "used").map(|(_, v)| *v);
        } else {
            st.protocols.push((proto.to_string(), fields));
        }
    }
    Ok(st)
}

/// Adds one file's families; `page_size` turns `mem` (pages) into `mem_bytes`.
pub fn expose(st: &Sockstat, page_size: u64, out: &mut Families) {
    if let Some(used) = st.used {
        out.gauge(
            "node_sockstat_sockets_used",
            "Number of IPv4 sockets in use.",
            &[],
            used as f64,
        );
    }
    for (proto, fields) in &st.protocols {
        for (state, v) in fields {
            // node_exporter knows these states only.
            if !matches!(
                state.as_str(),
                "inuse" | "orphan" | "tw" | "alloc" | "mem" | "memory"
            ) {
                continue;
            }
            out.gauge(
                &format!("node_sockstat_{proto}_{state}"),
                &format!("Number of {proto} sockets in state {state}."),
                &[],
                *v as f64,
            );
            if state == "mem" {
                out.gauge(
                    &format!("node_sockstat_{proto}_mem_bytes"),
                    &format!("Number of {proto} sockets in state mem_bytes."),
                    &[],
                    (*v * page_size) as f64,
                );
            }
        }
    }
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(n).unwrap_or(4096)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let v4 = parse_file(&ctx.paths.proc("net/sockstat"), parse_sockstat)?;
    let ps = page_size();
    expose(&v4, ps, out);
    match parse_file(&ctx.paths.proc("net/sockstat6"), parse_sockstat) {
        Ok(v6) => expose(&v6, ps, out),
        Err(NodeError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_exposes_sockstat() {
        let st = parse_sockstat(
            "sockets: used 33\nTCP: inuse 10 orphan 0 tw 64 alloc 10 mem 179\n\
             UDP: inuse 0 mem 0\nFRAG: inuse 0 memory 0\n",
        )
        .unwrap();
        assert_eq!(st.used, Some(33));
        assert_eq!(st.protocols.len(), 3);
        let mut f = Families::default();
        expose(&st, 4096, &mut f);
        assert_eq!(f.value("node_sockstat_sockets_used", &[]), Some(33.0));
        assert_eq!(f.value("node_sockstat_TCP_tw", &[]), Some(64.0));
        assert_eq!(f.value("node_sockstat_TCP_mem_bytes", &[]), Some(733184.0));
        assert_eq!(f.value("node_sockstat_FRAG_memory", &[]), Some(0.0));
        assert!(f.get("node_sockstat_FRAG_memory_bytes").is_none());
        let st6 = parse_sockstat("TCP6: inuse 0\nFRAG6: inuse 0 memory 0\n").unwrap();
        assert_eq!(st6.used, None);
        assert!(parse_sockstat("TCP inuse 1\n").is_err());
        assert!(parse_sockstat("TCP: inuse\n").is_err());
        assert!(parse_sockstat("TCP: inuse x\n").is_err());
    }
}

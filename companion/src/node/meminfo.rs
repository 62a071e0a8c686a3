//! The `meminfo` collector: every field of /proc/meminfo as `node_memory_<field>`, named as
//! node_exporter names them (`Active(anon):  1604 kB` → `node_memory_Active_anon_bytes`, the
//! value times 1024; a field without a unit keeps its name and value: `HugePages_Total`).

use super::{parse_file, Ctx, Families, NodeError};

/// Parses /proc/meminfo into (metric-name suffix, value) pairs in file order.
pub fn parse_meminfo(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        // Some kernels print empty lines.
        if parts.is_empty() {
            continue;
        }
        let value: f64 = parts
            .get(1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("invalid value in meminfo: {line:?}"))?;
        let key = parts[0].strip_suffix(':').unwrap_or(parts[0]);
        if key.is_empty() {
            return Err(format!("invalid line in meminfo: {line:?}"));
        }
        // `Active(anon)` → `Active_anon` (Go's `\((.*)\)` → `_${1}`).
        let mut key = match (key.find('('), key.rfind(')')) {
            (Some(open), Some(close)) if open < close => {
                format!(
                    "{}_{}{}",
                    &key[..open],
                    &key[open + 1..close],
                    &key[close + 1..]
                )
            }
            _ => key.to_string(),
        };
        let value = match parts.len() {
            2 => value,
            3 => {
                key.push_str("_bytes");
                value * 1024.0
            }
            _ => return Err(format!("invalid line in meminfo: {line:?}")),
        };
        out.push((key, value));
    }
    if out.is_empty() {
        return Err("no fields in meminfo".to_string());
    }
    Ok(out)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let fields = parse_file(&ctx.paths.proc("meminfo"), parse_meminfo)?;
    for (key, value) in fields {
        let name = format!("node_memory_{key}");
        let help = format!("Memory information field {key}.");
        if key.ends_with("_total") {
            out.counter(&name, &help, &[], value);
        } else {
            out.gauge(&name, &help, &[], value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "\
MemTotal:       24684084 kB
MemFree:        20000000 kB
Active(anon):       1604 kB
Inactive(file):   500000 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB

DirectMap1G:    25165824 kB
";

    #[test]
    fn parses_meminfo_with_node_exporter_names() {
        let got = parse_meminfo(MEMINFO).unwrap();
        let get = |k: &str| got.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        assert_eq!(get("MemTotal_bytes"), Some(24684084.0 * 1024.0));
        assert_eq!(get("Active_anon_bytes"), Some(1604.0 * 1024.0));
        assert_eq!(get("Inactive_file_bytes"), Some(512000000.0));
        assert_eq!(get("HugePages_Total"), Some(0.0));
        assert_eq!(get("Hugepagesize_bytes"), Some(2097152.0));
        assert_eq!(get("DirectMap1G_bytes"), Some(25769803776.0));
        assert_eq!(got.len(), 8);
    }

    #[test]
    fn rejects_malformed_meminfo() {
        assert!(parse_meminfo("").is_err());
        assert!(parse_meminfo("MemTotal:\n").is_err());
        assert!(parse_meminfo("MemTotal: abc kB\n").is_err());
        assert!(parse_meminfo("MemTotal: 1 kB extra\n").is_err());
        assert!(parse_meminfo(": 1 kB\n").is_err());
    }
}

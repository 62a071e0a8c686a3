//! The `vmstat` collector: the fields of /proc/vmstat that node_exporter 1.5 keeps by default
//! (`^(oom_kill|pgpg|pswp|pg.*fault).*`), untyped, as `node_vmstat_<field>`.

use super::{parse_file, Ctx, Families, NodeError};

/// Parses /proc/vmstat (`key value` per line).
pub fn parse_vmstat(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        if parts.len() != 2 {
            return Err(format!("invalid line in vmstat: {line:?}"));
        }
        let v: f64 = parts[1]
            .parse()
            .map_err(|_| format!("invalid value in vmstat: {line:?}"))?;
        out.push((parts[0].to_string(), v));
    }
    if out.is_empty() {
        return Err("no fields in vmstat".to_string());
    }
    Ok(out)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let fields = parse_file(&ctx.paths.proc("vmstat"), parse_vmstat)?;
    for (key, v) in fields {
        if !ctx.device_filters.vmstat_fields.is_match(&key) {
            continue;
        }
        out.untyped(
            &format!("node_vmstat_{key}"),
            &format!("/proc/vmstat information field {key}."),
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
    fn parses_vmstat() {
        let got = parse_vmstat("nr_free_pages 5000\npgfault 1959529\noom_kill 0\n").unwrap();
        assert_eq!(got[1], ("pgfault".to_string(), 1959529.0));
        assert_eq!(got.len(), 3);
        assert!(parse_vmstat("pgfault\n").is_err());
        assert!(parse_vmstat("pgfault x\n").is_err());
        assert!(parse_vmstat("").is_err());
    }
}

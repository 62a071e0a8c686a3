//! The `loadavg` collector: node_load1, node_load5, node_load15 from /proc/loadavg.

use super::{parse_file, Ctx, Families, NodeError};

/// Parses the first three fields of /proc/loadavg.
pub fn parse_loadavg(text: &str) -> Result<[f64; 3], String> {
    let mut parts = text.split_ascii_whitespace();
    let mut loads = [0f64; 3];
    for slot in &mut loads {
        let p = parts
            .next()
            .ok_or_else(|| format!("unexpected content in loadavg: {text:?}"))?;
        *slot = p
            .parse()
            .map_err(|_| format!("could not parse load {p:?}"))?;
    }
    Ok(loads)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let [l1, l5, l15] = parse_file(&ctx.paths.proc("loadavg"), parse_loadavg)?;
    out.gauge("node_load1", "1m load average.", &[], l1);
    out.gauge("node_load5", "5m load average.", &[], l5);
    out.gauge("node_load15", "15m load average.", &[], l15);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loadavg() {
        assert_eq!(
            parse_loadavg("1.25 0.40 0.14 5/312 21243\n").unwrap(),
            [1.25, 0.4, 0.14]
        );
        assert!(parse_loadavg("").is_err());
        assert!(parse_loadavg("1.0 2.0\n").is_err());
        assert!(parse_loadavg("1.0 x 2.0\n").is_err());
    }
}

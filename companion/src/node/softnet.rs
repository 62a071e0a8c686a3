//! The `softnet` collector: per-CPU packet processing statistics from /proc/net/softnet_stat
//! (hexadecimal columns: processed, dropped, time squeezed), as node_exporter 1.5 exposes them
//! (`cpu` is the line's position).

use super::{parse_file, Ctx, Families, NodeError};

/// (processed, dropped, time_squeeze) per line.
pub fn parse_softnet(text: &str) -> Result<Vec<[u64; 3]>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        if parts.len() < 3 {
            return Err(format!("too few columns in softnet_stat: {line:?}"));
        }
        let mut v = [0u64; 3];
        for (slot, p) in v.iter_mut().zip(&parts) {
            *slot = u64::from_str_radix(p, 16)
                .map_err(|_| format!("invalid value {p:?} in softnet_stat"))?;
        }
        out.push(v);
    }
    Ok(out)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let rows = parse_file(&ctx.paths.proc("net/softnet_stat"), parse_softnet)?;
    for (cpu, [processed, dropped, squeezed]) in rows.into_iter().enumerate() {
        let cpu = cpu.to_string();
        let l = [("cpu", cpu.as_str())];
        out.counter(
            "node_softnet_processed_total",
            "Number of processed packets",
            &l,
            processed as f64,
        );
        out.counter(
            "node_softnet_dropped_total",
            "Number of dropped packets",
            &l,
            dropped as f64,
        );
        out.counter(
            "node_softnet_times_squeezed_total",
            "Number of times processing packets ran out of quota",
            &l,
            squeezed as f64,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_softnet_stat() {
        let rows = parse_softnet(
            "00001510 00000000 00000002 00000000 00000000 00000000 00000000\n\
             00007d98 00000001 00000000 00000000 00000000 00000000 00000000\n",
        )
        .unwrap();
        assert_eq!(rows, vec![[0x1510, 0, 2], [0x7d98, 1, 0]]);
        assert!(parse_softnet("0001 0002\n").is_err());
        assert!(parse_softnet("zz 0 0\n").is_err());
    }
}

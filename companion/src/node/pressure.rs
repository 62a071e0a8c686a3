//! The `pressure` collector: pressure stall information from /proc/pressure/{cpu,io,memory}
//! (the `total=` microseconds of the `some` and `full` lines, in seconds). Without PSI (kernel
//! before 4.20 or CONFIG_PSI off) the collector fails, as node_exporter's reports no data.

use super::{parse_file, Ctx, Families, NodeError};

/// The `total=` of a PSI file's `some` and `full` lines, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Psi {
    pub some: Option<u64>,
    pub full: Option<u64>,
}

/// Parses one /proc/pressure file
/// (`some avg10=0.00 avg60=0.00 avg300=0.00 total=13338412`).
pub fn parse_psi(text: &str) -> Result<Psi, String> {
    let mut psi = Psi::default();
    for line in text.lines() {
        let mut parts = line.split_ascii_whitespace();
        let Some(kind) = parts.next() else { continue };
        let mut total = None;
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("malformed pressure line: {line:?}"))?;
            if k == "total" {
                total = Some(
                    v.parse::<u64>()
                        .map_err(|_| format!("malformed pressure line: {line:?}"))?,
                );
            }
        }
        let total = total.ok_or_else(|| format!("no total in pressure line: {line:?}"))?;
        match kind {
            "some" => psi.some = Some(total),
            "full" => psi.full = Some(total),
            _ => return Err(format!("unknown pressure line: {line:?}")),
        }
    }
    if psi.some.is_none() {
        return Err("no 'some' line".to_string());
    }
    Ok(psi)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    // node_exporter reads every resource before it exposes any.
    let mut psi = Vec::with_capacity(3);
    for res in ["cpu", "io", "memory"] {
        psi.push(parse_file(
            &ctx.paths.proc(&format!("pressure/{res}")),
            parse_psi,
        )?);
    }
    // As node_exporter computes it (two divisions round differently from one by 1e6).
    let secs = |us: Option<u64>| us.map(|v| v as f64 / 1000.0 / 1000.0);
    let mut put = |name: &str, help: &str, v: Option<f64>| {
        if let Some(v) = v {
            out.counter(name, help, &[], v);
        }
    };
    put(
        "node_pressure_cpu_waiting_seconds_total",
        "Total time in seconds that processes have waited for CPU time",
        secs(psi[0].some),
    );
    put(
        "node_pressure_io_waiting_seconds_total",
        "Total time in seconds that processes have waited due to IO congestion",
        secs(psi[1].some),
    );
    put(
        "node_pressure_io_stalled_seconds_total",
        "Total time in seconds no process could make progress due to IO congestion",
        secs(psi[1].full),
    );
    put(
        "node_pressure_memory_waiting_seconds_total",
        "Total time in seconds that processes have waited for memory",
        secs(psi[2].some),
    );
    put(
        "node_pressure_memory_stalled_seconds_total",
        "Total time in seconds no process could make progress due to memory congestion",
        secs(psi[2].full),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_psi() {
        let p = parse_psi(
            "some avg10=0.30 avg60=0.44 avg300=0.53 total=20901373\n\
             full avg10=0.00 avg60=0.00 avg300=0.00 total=3229545\n",
        )
        .unwrap();
        assert_eq!(p.some, Some(20901373));
        assert_eq!(p.full, Some(3229545));
        let p = parse_psi("some avg10=97.58 avg60=93.17 avg300=89.16 total=1862942088\n").unwrap();
        assert_eq!(p.full, None);
        assert!(parse_psi("").is_err());
        assert!(parse_psi("some avg10=1\n").is_err());
        assert!(parse_psi("some total=x\n").is_err());
        assert!(parse_psi("other total=1\n").is_err());
        assert!(parse_psi("some total\n").is_err());
    }
}

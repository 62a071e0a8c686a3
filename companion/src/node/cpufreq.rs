//! The `cpufreq` collector: current, minimum and maximum frequency of each CPU thread, as the
//! hardware (`cpuinfo_*`) and the governor (`scaling_*`) see them, from
//! /sys/devices/system/cpu/cpuN/cpufreq (kHz → Hz), as node_exporter 1.5 exposes them. CPUs
//! without cpufreq (virtual machines) expose nothing; an unreadable file (cpuinfo_cur_freq is
//! root-only) is left out.

use super::{read, Ctx, Families, NodeError};

/// (file, metric, help), in node_exporter's order.
#[rustfmt::skip]
const FILES: &[(&str, &str, &str)] = &[
    ("cpuinfo_cur_freq", "node_cpu_frequency_hertz", "Current cpu thread frequency in hertz."),
    ("cpuinfo_min_freq", "node_cpu_frequency_min_hertz", "Minimum cpu thread frequency in hertz."),
    ("cpuinfo_max_freq", "node_cpu_frequency_max_hertz", "Maximum cpu thread frequency in hertz."),
    ("scaling_cur_freq", "node_cpu_scaling_frequency_hertz", "Current scaled CPU thread frequency in hertz."),
    ("scaling_min_freq", "node_cpu_scaling_frequency_min_hertz", "Minimum scaled CPU thread frequency in hertz."),
    ("scaling_max_freq", "node_cpu_scaling_frequency_max_hertz", "Maximum scaled CPU thread frequency in hertz."),
];

/// A frequency file's kHz as Hz.
pub fn parse_khz(text: &str) -> Option<f64> {
    text.trim()
        .parse::<u64>()
        .ok()
        .map(|khz| khz as f64 * 1000.0)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let dir = ctx.paths.sys("devices/system/cpu");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut cpus: Vec<(u32, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("cpu")?.parse().ok()?;
            Some((n, e.path().join("cpufreq")))
        })
        .filter(|(_, p)| p.is_dir())
        .collect();
    cpus.sort();
    for (n, path) in cpus {
        let cpu = n.to_string();
        for (file, name, help) in FILES {
            if let Some(hz) = read(&path.join(file)).ok().and_then(|t| parse_khz(&t)) {
                out.gauge(name, help, &[("cpu", &cpu)], hz);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_khz() {
        assert_eq!(parse_khz("3800000\n"), Some(3.8e9));
        assert_eq!(parse_khz("<unknown>\n"), None);
        assert_eq!(parse_khz(""), None);
    }
}

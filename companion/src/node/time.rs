//! The `time` collector: the system time, the local time zone's offset, and the clock sources of
//! /sys/devices/system/clocksource, as node_exporter 1.5 exposes them.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{read, Ctx, Families, NodeError};

/// Parses `available_clocksource` (`tsc kvm-clock `).
pub fn parse_available(text: &str) -> Vec<String> {
    text.split_ascii_whitespace().map(str::to_string).collect()
}

extern "C" {
    /// POSIX tzset(3), which the libc crate does not declare.
    fn tzset();
}

/// The local time zone's abbreviation and offset east of UTC in seconds, as localtime(3) sees
/// them (the `TZ` variable, else /etc/localtime).
fn zone(now_secs: i64) -> (String, i64) {
    let t: libc::time_t = now_secs as libc::time_t;
    // SAFETY: `tm` is a plain C struct that localtime_r fills; tzset reads TZ.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { tzset() };
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() || tm.tm_zone.is_null() {
        return ("UTC".to_string(), 0);
    }
    // SAFETY: tm_zone points to a NUL-terminated static string of the C library.
    let name = unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }
        .to_string_lossy()
        .into_owned();
    #[allow(clippy::unnecessary_cast)]
    (name, tm.tm_gmtoff as i64)
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    out.gauge(
        "node_time_seconds",
        "System time in seconds since epoch (1970).",
        &[],
        now.as_nanos() as f64 / 1e9,
    );
    let (name, offset) = zone(now.as_secs() as i64);
    out.gauge(
        "node_time_zone_offset_seconds",
        "System time zone offset in seconds.",
        &[("time_zone", &name)],
        offset as f64,
    );
    // clocksource0, clocksource1, ...: `device` is the position in that list.
    let dir = ctx.paths.sys("devices/system/clocksource");
    let mut sources: Vec<(u32, std::path::PathBuf)> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name.strip_prefix("clocksource")?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect(),
        // No sysfs: no clock sources, as a glob that matches nothing.
        Err(_) => Vec::new(),
    };
    sources.sort();
    for (i, (_, path)) in sources.iter().enumerate() {
        let device = i.to_string();
        let available = parse_available(&read(&path.join("available_clocksource"))?);
        let current = read(&path.join("current_clocksource"))?;
        for cs in available {
            out.gauge(
                "node_time_clocksource_available_info",
                "Available clocksources read from '/sys/devices/system/clocksource'.",
                &[("device", &device), ("clocksource", &cs)],
                1.0,
            );
        }
        out.gauge(
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
            &[("device", &device), ("clocksource", current.trim())],
            1.0,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clocksources_and_reads_the_zone() {
        assert_eq!(
            parse_available("tsc kvm-clock \n"),
            vec!["tsc", "kvm-clock"]
        );
        assert!(parse_available("\n").is_empty());
        let (name, offset) = zone(1_795_612_042);
        assert!(!name.is_empty());
        assert!(offset.abs() <= 14 * 3600);
    }
}

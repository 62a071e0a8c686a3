//! The `thermal_zone` collector: the temperature of each thermal zone and the throttle states
//! of each cooling device under /sys/class/thermal, as node_exporter 1.5 exposes them. A zone
//! whose sensor cannot be read right now is left out; no /sys/class/thermal means nothing to
//! expose.

use super::{read, Ctx, Families, NodeError};

/// A sysfs integer file.
pub fn parse_int(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// The `<prefix>N` entries of a directory, by N.
fn numbered(dir: &std::path::Path, prefix: &str) -> Vec<(u32, std::path::PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(u32, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            Some((name.strip_prefix(prefix)?.parse().ok()?, e.path()))
        })
        .collect();
    v.sort();
    v
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let dir = ctx.paths.sys("class/thermal");
    for (n, zone) in numbered(&dir, "thermal_zone") {
        let typ = read(&zone.join("type")).map(|t| t.trim().to_string());
        let temp = read(&zone.join("temp")).ok().and_then(|t| parse_int(&t));
        if let (Ok(typ), Some(millideg)) = (typ, temp) {
            out.gauge(
                "node_thermal_zone_temp",
                "Zone temperature in Celsius",
                &[("zone", &n.to_string()), ("type", &typ)],
                millideg as f64 / 1000.0,
            );
        }
    }
    for (n, dev) in numbered(&dir, "cooling_device") {
        let Ok(typ) = read(&dev.join("type")).map(|t| t.trim().to_string()) else {
            continue;
        };
        let name = n.to_string();
        let labels = [("name", name.as_str()), ("type", typ.as_str())];
        if let Some(v) = read(&dev.join("cur_state"))
            .ok()
            .and_then(|t| parse_int(&t))
        {
            out.gauge(
                "node_cooling_device_cur_state",
                "Current throttle state of the cooling device",
                &labels,
                v as f64,
            );
        }
        if let Some(v) = read(&dev.join("max_state"))
            .ok()
            .and_then(|t| parse_int(&t))
        {
            out.gauge(
                "node_cooling_device_max_state",
                "Maximum throttle state of the cooling device",
                &labels,
                v as f64,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sysfs_integers() {
        assert_eq!(parse_int("51000\n"), Some(51000));
        assert_eq!(parse_int("-1\n"), Some(-1));
        assert_eq!(parse_int("x"), None);
    }
}

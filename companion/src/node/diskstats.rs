//! The `diskstats` collector: /proc/diskstats as node_exporter 1.5 exposes it (sectors × 512 →
//! bytes, milliseconds → seconds; discard statistics from kernel 4.18, flush statistics from
//! 5.5, when the line has them) plus `node_disk_info` with the udev properties of the device
//! (empty when udev has no data). Partitions, ram, loop and fd devices are left out.

use std::collections::HashMap;

use super::{parse_file, read, Ctx, Families, NodeError};

/// The kernel counts /proc/diskstats sectors in 512-byte units whatever the device's sector size.
const SECTOR_BYTES: f64 = 512.0;

/// One line of /proc/diskstats: major, minor, name and its 11 to 20 counters.
#[derive(Clone, Debug, PartialEq)]
pub struct DiskStat {
    pub major: u32,
    pub minor: u32,
    pub name: String,
    pub fields: Vec<u64>,
}

/// Parses /proc/diskstats.
pub fn parse_diskstats(text: &str) -> Result<Vec<DiskStat>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        if parts.len() < 14 {
            return Err(format!("invalid line in diskstats: {line:?}"));
        }
        let num = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("invalid value {s:?} in diskstats"))
        };
        let major = u32::try_from(num(parts[0])?).map_err(|e| e.to_string())?;
        let minor = u32::try_from(num(parts[1])?).map_err(|e| e.to_string())?;
        let fields = parts[3..]
            .iter()
            .take(20)
            .map(|s| num(s))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(DiskStat {
            major,
            minor,
            name: parts[2].to_string(),
            fields,
        });
    }
    Ok(out)
}

/// Parses a udev database file (`/run/udev/data/b254:0`): its `E:KEY=VALUE` properties.
pub fn parse_udev_properties(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("E:"))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// (field index, name, help, is counter, factor). Index 8 (io_now) is the only gauge.
#[rustfmt::skip]
const FIELDS: &[(usize, &str, &str, bool, f64)] = &[
    (0, "node_disk_reads_completed_total", "The total number of reads completed successfully.", true, 1.0),
    (1, "node_disk_reads_merged_total", "The total number of reads merged.", true, 1.0),
    (2, "node_disk_read_bytes_total", "The total number of bytes read successfully.", true, SECTOR_BYTES),
    (3, "node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", true, 0.001),
    (4, "node_disk_writes_completed_total", "The total number of writes completed successfully.", true, 1.0),
    (5, "node_disk_writes_merged_total", "The number of writes merged.", true, 1.0),
    (6, "node_disk_written_bytes_total", "The total number of bytes written successfully.", true, SECTOR_BYTES),
    (7, "node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", true, 0.001),
    (8, "node_disk_io_now", "The number of I/Os currently in progress.", false, 1.0),
    (9, "node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", true, 0.001),
    (10, "node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", true, 0.001),
    (11, "node_disk_discards_completed_total", "The total number of discards completed successfully.", true, 1.0),
    (12, "node_disk_discards_merged_total", "The total number of discards merged.", true, 1.0),
    (13, "node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", true, 1.0),
    (14, "node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", true, 0.001),
    (15, "node_disk_flush_requests_total", "The total number of flush requests completed successfully", true, 1.0),
    (16, "node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", true, 0.001),
];

/// Adds one device's families.
pub fn expose(d: &DiskStat, udev: &HashMap<String, String>, out: &mut Families) {
    let dev = [("device", d.name.as_str())];
    for &(i, name, help, counter, factor) in FIELDS {
        let Some(&v) = d.fields.get(i) else { continue };
        let v = v as f64 * factor;
        if counter {
            out.counter(name, help, &dev, v);
        } else {
            out.gauge(name, help, &dev, v);
        }
    }
    let prop = |k: &str| udev.get(k).map(String::as_str).unwrap_or("");
    // The serial printed on the disk's label when udev knows it, else the short one.
    let serial = match prop("SCSI_IDENT_SERIAL") {
        "" => prop("ID_SERIAL_SHORT"),
        s => s,
    };
    let (major, minor) = (d.major.to_string(), d.minor.to_string());
    out.gauge(
        "node_disk_info",
        "Info of /sys/block/<block_device>.",
        &[
            ("device", &d.name),
            ("major", &major),
            ("minor", &minor),
            ("path", prop("ID_PATH")),
            ("wwn", prop("ID_WWN")),
            ("model", prop("ID_MODEL")),
            ("serial", serial),
            ("revision", prop("ID_REVISION")),
        ],
        1.0,
    );
    let dm_name = prop("DM_NAME");
    if !dm_name.is_empty() {
        out.gauge(
            "node_disk_device_mapper_info",
            "Info about disk device mapper.",
            &[
                ("device", &d.name),
                ("name", dm_name),
                ("uuid", prop("DM_UUID")),
                ("vg_name", prop("DM_VG_NAME")),
                ("lv_name", prop("DM_LV_NAME")),
                ("lv_layer", prop("DM_LV_LAYER")),
            ],
            1.0,
        );
    }
    if !prop("ID_ATA").is_empty() {
        for (key, name, help) in [
            (
                "ID_ATA_WRITE_CACHE",
                "node_disk_ata_write_cache",
                "ATA disk has a write cache.",
            ),
            (
                "ID_ATA_WRITE_CACHE_ENABLED",
                "node_disk_ata_write_cache_enabled",
                "ATA disk has its write cache enabled.",
            ),
            (
                "ID_ATA_ROTATION_RATE_RPM",
                "node_disk_ata_rotation_rate_rpm",
                "ATA disk rotation rate in RPMs (0 for SSDs).",
            ),
        ] {
            if let Some(v) = udev.get(key).and_then(|v| v.parse::<f64>().ok()) {
                out.gauge(name, help, &dev, v);
            }
        }
    }
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let disks = parse_file(&ctx.paths.proc("diskstats"), parse_diskstats)?;
    for d in disks {
        if ctx.device_filters.diskstats_exclude.is_match(&d.name) {
            continue;
        }
        let udev = read(
            &ctx.paths
                .udev_data
                .join(format!("b{}:{}", d.major, d.minor)),
        )
        .map(|t| parse_udev_properties(&t))
        .unwrap_or_default();
        expose(&d, &udev, out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISKSTATS: &str = "\
   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 375434 11981 11497818 530717 99117 157266 86534520 595789 0 52984 1144674 62878 68 53209336 17637 4209 530
 254       1 vda1 10 0 80 1 0 0 0 0 0 1 1
";

    #[test]
    fn parses_diskstats_and_converts_units() {
        let disks = parse_diskstats(DISKSTATS).unwrap();
        assert_eq!(disks.len(), 3);
        assert_eq!((disks[1].major, disks[1].minor), (254, 0));
        assert_eq!(disks[1].fields.len(), 17);
        assert_eq!(disks[2].fields.len(), 11);
        let mut f = Families::default();
        let udev = parse_udev_properties(
            "S:disk/by-id/x\nE:ID_MODEL=QEMU\nE:ID_SERIAL_SHORT=abc\nE:ID_ATA=1\n\
             E:ID_ATA_ROTATION_RATE_RPM=0\nE:ID_ATA_WRITE_CACHE=1\nE:ID_ATA_WRITE_CACHE_ENABLED=x\n\
             E:DM_NAME=vg-root\nE:DM_VG_NAME=vg\nE:DM_LV_NAME=root\n",
        );
        expose(&disks[1], &udev, &mut f);
        let dev = [("device", "vda")];
        assert_eq!(
            f.value("node_disk_read_bytes_total", &dev),
            Some(11497818.0 * 512.0)
        );
        assert_eq!(
            f.value("node_disk_read_time_seconds_total", &dev),
            Some(530.717)
        );
        assert_eq!(f.value("node_disk_io_now", &dev), Some(0.0));
        assert_eq!(
            f.value("node_disk_io_time_weighted_seconds_total", &dev),
            Some(1144.674)
        );
        assert_eq!(
            f.value("node_disk_discarded_sectors_total", &dev),
            Some(53209336.0)
        );
        assert_eq!(
            f.value("node_disk_flush_requests_total", &dev),
            Some(4209.0)
        );
        assert_eq!(
            f.value("node_disk_flush_requests_time_seconds_total", &dev),
            Some(0.53)
        );
        let info = [
            ("device", "vda"),
            ("major", "254"),
            ("minor", "0"),
            ("path", ""),
            ("wwn", ""),
            ("model", "QEMU"),
            ("serial", "abc"),
            ("revision", ""),
        ];
        assert_eq!(f.value("node_disk_info", &info), Some(1.0));
        assert_eq!(f.value("node_disk_ata_rotation_rate_rpm", &dev), Some(0.0));
        assert_eq!(f.value("node_disk_ata_write_cache", &dev), Some(1.0));
        // An unparsable value is left out.
        assert!(f.get("node_disk_ata_write_cache_enabled").is_none());
        let dm = [
            ("device", "vda"),
            ("name", "vg-root"),
            ("uuid", ""),
            ("vg_name", "vg"),
            ("lv_name", "root"),
            ("lv_layer", ""),
        ];
        assert_eq!(f.value("node_disk_device_mapper_info", &dm), Some(1.0));
        // An old kernel's line has no discard or flush statistics.
        let mut f = Families::default();
        expose(&disks[2], &HashMap::new(), &mut f);
        assert!(f.get("node_disk_discards_completed_total").is_none());
        assert_eq!(
            f.value("node_disk_io_time_seconds_total", &[("device", "vda1")]),
            Some(0.001)
        );
    }

    #[test]
    fn rejects_malformed_diskstats() {
        assert!(parse_diskstats("254 0 vda 1 2 3\n").is_err());
        assert!(parse_diskstats("254 0 vda 1 2 3 4 5 6 7 8 9 10 x\n").is_err());
        assert!(parse_diskstats("x 0 vda 1 2 3 4 5 6 7 8 9 10 11\n").is_err());
        assert_eq!(parse_diskstats("").unwrap(), vec![]);
    }
}

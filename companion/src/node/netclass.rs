//! The `netclass` collector: the properties of every network interface under /sys/class/net
//! (`node_network_up`, `node_network_info`, `node_network_mtu_bytes`, ...), as node_exporter 1.5
//! exposes them. An attribute the kernel refuses to give (EINVAL for the carrier of a device that
//! is down, EOPNOTSUPP, a missing file) is left out, as procfs leaves it out.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::Path;

use super::{Ctx, Families, NodeError};

/// The attribute files read for each interface.
pub const ATTRIBUTES: &[&str] = &[
    "addr_assign_type",
    "address",
    "broadcast",
    "carrier",
    "carrier_changes",
    "carrier_down_count",
    "carrier_up_count",
    "dev_id",
    "dormant",
    "duplex",
    "flags",
    "ifalias",
    "ifindex",
    "iflink",
    "link_mode",
    "mtu",
    "name_assign_type",
    "netdev_group",
    "operstate",
    "speed",
    "tx_queue_len",
    "type",
];

/// (attribute, exposed name, is counter), in node_exporter's order.
const NUMERIC: &[(&str, &str, bool)] = &[
    ("addr_assign_type", "address_assign_type", false),
    ("carrier", "carrier", false),
    ("carrier_changes", "carrier_changes_total", true),
    ("carrier_up_count", "carrier_up_changes_total", true),
    ("carrier_down_count", "carrier_down_changes_total", true),
    ("dev_id", "device_id", false),
    ("dormant", "dormant", false),
    ("flags", "flags", false),
    ("ifindex", "iface_id", false),
    ("iflink", "iface_link", false),
    ("link_mode", "iface_link_mode", false),
    ("mtu", "mtu_bytes", false),
    ("name_assign_type", "name_assign_type", false),
    ("netdev_group", "net_dev_group", false),
    ("tx_queue_len", "transmit_queue_length", false),
    ("type", "protocol_type", false),
];

/// Go's `strconv.ParseInt(s, 0, 64)`: decimal, `0x` hex, `0o`/leading-`0` octal, `0b` binary.
pub fn parse_int_auto(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, h)
    } else if let Some(b) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, b)
    } else if let Some(o) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, o)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// Adds one interface's families from its attributes (trimmed file contents).
pub fn expose(
    device: &str,
    attrs: &BTreeMap<String, String>,
    out: &mut Families,
) -> Result<(), String> {
    let get = |k: &str| attrs.get(k).map(String::as_str).unwrap_or("");
    let dev = [("device", device)];
    let operstate = get("operstate");
    out.gauge(
        "node_network_up",
        "Value is 1 if operstate is 'up', 0 otherwise.",
        &dev,
        if operstate == "up" { 1.0 } else { 0.0 },
    );
    out.gauge(
        "node_network_info",
        "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
        &[
            ("device", device),
            ("address", get("address")),
            ("broadcast", get("broadcast")),
            ("duplex", get("duplex")),
            ("operstate", operstate),
            ("ifalias", get("ifalias")),
        ],
        1.0,
    );
    let int = |k: &str| -> Result<Option<i64>, String> {
        match attrs.get(k) {
            None => Ok(None),
            Some(v) => parse_int_auto(v)
                .map(Some)
                .ok_or_else(|| format!("invalid {k} of {device}: {v:?}")),
        }
    };
    for &(attr, name, counter) in NUMERIC {
        let Some(v) = int(attr)? else { continue };
        let full = format!("node_network_{name}");
        let help = format!("Network device property: {name}");
        if counter {
            out.counter(&full, &help, &dev, v as f64);
        } else {
            out.gauge(&full, &help, &dev, v as f64);
        }
    }
    // Mbit/s to bytes/s; an unknown speed (-1) is exposed as node_exporter does, -125000.
    if let Some(speed) = int("speed")? {
        out.gauge(
            "node_network_speed_bytes",
            "Network device property: speed_bytes",
            &dev,
            (speed.saturating_mul(1000 * 1000) / 8) as f64,
        );
    }
    Ok(())
}

/// Reads one attribute: `None` when the kernel has no value for it.
fn read_attr(path: &Path) -> Result<Option<String>, NodeError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).trim().to_string())),
        Err(e)
            if e.kind() == ErrorKind::NotFound
                || matches!(
                    e.raw_os_error(),
                    Some(libc::EINVAL) | Some(libc::EOPNOTSUPP)
                ) =>
        {
            Ok(None)
        }
        Err(source) => Err(NodeError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let dir = ctx.paths.sys("class/net");
    let entries = std::fs::read_dir(&dir).map_err(|source| NodeError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut devices: Vec<String> = entries
        .filter_map(Result::ok)
        // Interfaces are symlinks (or directories); `bonding_masters` is a regular file.
        .filter(|e| !e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    devices.sort();
    for device in devices {
        let mut attrs = BTreeMap::new();
        for attr in ATTRIBUTES {
            if let Some(v) = read_attr(&dir.join(&device).join(attr))? {
                attrs.insert(attr.to_string(), v);
            }
        }
        expose(&device, &attrs, out).map_err(|msg| NodeError::Parse {
            path: dir.join(&device),
            msg,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ints_as_go_does() {
        assert_eq!(parse_int_auto("0x1003"), Some(4099));
        assert_eq!(parse_int_auto("1400"), Some(1400));
        assert_eq!(parse_int_auto("-1"), Some(-1));
        assert_eq!(parse_int_auto("0"), Some(0));
        assert_eq!(parse_int_auto("010"), Some(8));
        assert_eq!(parse_int_auto(""), None);
        assert_eq!(parse_int_auto("0x"), None);
        assert_eq!(parse_int_auto("x1"), None);
        assert_eq!(parse_int_auto("--1"), None);
    }

    #[test]
    fn exposes_an_interface_like_node_exporter() {
        let attrs: BTreeMap<String, String> = [
            ("addr_assign_type", "0"),
            ("address", "02:fc:00:00:00:01"),
            ("broadcast", "ff:ff:ff:ff:ff:ff"),
            ("carrier", "1"),
            ("carrier_changes", "2"),
            ("dev_id", "0x0"),
            ("duplex", "unknown"),
            ("flags", "0x1003"),
            ("ifindex", "4"),
            ("mtu", "1400"),
            ("operstate", "up"),
            ("speed", "-1"),
            ("type", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut f = Families::default();
        expose("eth0", &attrs, &mut f).unwrap();
        let d = [("device", "eth0")];
        assert_eq!(f.value("node_network_up", &d), Some(1.0));
        assert_eq!(f.value("node_network_flags", &d), Some(4099.0));
        assert_eq!(f.value("node_network_speed_bytes", &d), Some(-125000.0));
        assert_eq!(f.value("node_network_carrier_changes_total", &d), Some(2.0));
        assert_eq!(f.value("node_network_mtu_bytes", &d), Some(1400.0));
        assert!(f.get("node_network_dormant").is_none());
        let info = [
            ("device", "eth0"),
            ("address", "02:fc:00:00:00:01"),
            ("broadcast", "ff:ff:ff:ff:ff:ff"),
            ("duplex", "unknown"),
            ("operstate", "up"),
            ("ifalias", ""),
        ];
        assert_eq!(f.value("node_network_info", &info), Some(1.0));
        let mut bad = attrs.clone();
        bad.insert("mtu".into(), "big".into());
        assert!(expose("eth0", &bad, &mut Families::default()).is_err());
    }
}

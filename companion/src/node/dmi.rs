//! The `dmi` collector: `node_dmi_info`, labelled by the DMI (SMBIOS) strings of
//! /sys/class/dmi/id that exist and are readable (serials and the UUID are root-only), as
//! node_exporter 1.5 exposes it. Without DMI (many virtual machines) the collector fails, as
//! node_exporter's reports no data.

use std::collections::BTreeMap;
use std::io::ErrorKind;

use super::{Ctx, Families, NodeError};

/// The DMI files, which are also the label names.
pub const FIELDS: &[&str] = &[
    "bios_date",
    "bios_release",
    "bios_vendor",
    "bios_version",
    "board_asset_tag",
    "board_name",
    "board_serial",
    "board_vendor",
    "board_version",
    "chassis_asset_tag",
    "chassis_serial",
    "chassis_vendor",
    "chassis_version",
    "product_family",
    "product_name",
    "product_serial",
    "product_sku",
    "product_uuid",
    "product_version",
    "system_vendor",
];

pub fn expose(values: &BTreeMap<String, String>, out: &mut Families) {
    let labels: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    out.gauge(
        "node_dmi_info",
        "A metric with a constant '1' value labeled by bios_date, bios_release, bios_vendor, bios_version, board_asset_tag, board_name, board_serial, board_vendor, board_version, chassis_asset_tag, chassis_serial, chassis_vendor, chassis_version, product_family, product_name, product_serial, product_sku, product_uuid, product_version, system_vendor if provided by DMI.",
        &labels,
        1.0,
    );
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let dir = ctx.paths.sys("class/dmi/id");
    if let Err(source) = std::fs::metadata(&dir) {
        return Err(NodeError::Io { path: dir, source });
    }
    let mut values = BTreeMap::new();
    for f in FIELDS {
        let path = dir.join(f);
        match std::fs::read(&path) {
            Ok(b) => {
                values.insert(
                    f.to_string(),
                    String::from_utf8_lossy(&b).trim().to_string(),
                );
            }
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied) => {}
            Err(source) => return Err(NodeError::Io { path, source }),
        }
    }
    expose(&values, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_only_what_dmi_provides() {
        let v: BTreeMap<String, String> =
            [("bios_vendor", "innotek GmbH"), ("board_asset_tag", "")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let mut f = Families::default();
        expose(&v, &mut f);
        assert_eq!(
            f.value(
                "node_dmi_info",
                &[("bios_vendor", "innotek GmbH"), ("board_asset_tag", "")]
            ),
            Some(1.0)
        );
    }
}

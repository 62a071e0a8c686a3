//! The `selinux` collector: `node_selinux_enabled`, and when SELinux is enabled (its filesystem
//! at /sys/fs/selinux has an `enforce` file) the configured and current enforcement modes
//! (1 enforcing, 0 permissive, -1 disabled).

use super::{read, Ctx, Families, NodeError};

/// The mode of an /etc/selinux/config (`SELINUX=enforcing`).
pub fn parse_config_mode(text: &str) -> Option<f64> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("SELINUX="))
        .map(|v| match v.trim().trim_matches('"') {
            "enforcing" => 1.0,
            "permissive" => 0.0,
            _ => -1.0,
        })
        .next_back()
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let enforce = read(&ctx.paths.sys("fs/selinux/enforce")).ok();
    out.gauge(
        "node_selinux_enabled",
        "SELinux is enabled, 1 is true, 0 is false",
        &[],
        if enforce.is_some() { 1.0 } else { 0.0 },
    );
    let Some(enforce) = enforce else {
        return Ok(());
    };
    let config = read(&ctx.paths.rootfs.join("etc/selinux/config"))
        .ok()
        .and_then(|t| parse_config_mode(&t))
        .unwrap_or(-1.0);
    out.gauge(
        "node_selinux_config_mode",
        "Configured SELinux enforcement mode",
        &[],
        config,
    );
    let current = if enforce.trim() == "1" { 1.0 } else { 0.0 };
    out.gauge(
        "node_selinux_current_mode",
        "Current SELinux enforcement mode",
        &[],
        current,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_config_modes() {
        assert_eq!(
            parse_config_mode("# x\nSELINUX=enforcing\nSELINUXTYPE=targeted\n"),
            Some(1.0)
        );
        assert_eq!(parse_config_mode("SELINUX=permissive\n"), Some(0.0));
        assert_eq!(parse_config_mode("SELINUX=disabled\n"), Some(-1.0));
        assert_eq!(parse_config_mode("nothing\n"), None);
    }
}

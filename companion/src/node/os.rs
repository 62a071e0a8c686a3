//! The `os` collector: /etc/os-release (falling back to /usr/lib/os-release), below
//! `--path.rootfs`, as `node_os_info` and `node_os_version`, as node_exporter 1.5 exposes them.

use std::collections::HashMap;

use super::{read, Ctx, Families, NodeError};

/// Parses an os-release file: `KEY=value` lines, values bare, 'single-quoted' (literal) or
/// "double-quoted" (with `\"`, `\\`, `\$` and `` \` `` escapes); comments and blank lines
/// ignored.
pub fn parse_os_release(text: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, raw) = line
            .split_once('=')
            .ok_or_else(|| format!("invalid os-release line: {line:?}"))?;
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("invalid os-release key: {key:?}"));
        }
        let value = if let Some(inner) = raw.strip_prefix('\'') {
            inner
                .strip_suffix('\'')
                .ok_or_else(|| format!("unterminated quote: {line:?}"))?
                .to_string()
        } else if let Some(inner) = raw.strip_prefix('"') {
            let inner = inner
                .strip_suffix('"')
                .ok_or_else(|| format!("unterminated quote: {line:?}"))?;
            let mut v = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some(e @ ('"' | '\\' | '$' | '`')) => v.push(e),
                        Some(other) => {
                            v.push('\\');
                            v.push(other);
                        }
                        None => v.push('\\'),
                    }
                } else {
                    v.push(c);
                }
            }
            v
        } else {
            raw.to_string()
        };
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

/// The leading `major[.minor]` of a VERSION_ID as a number (`12` → 12, `22.04` → 22.04).
pub fn version_number(version_id: &str) -> Option<f64> {
    let mut end = 0;
    let mut dot = false;
    for (i, c) in version_id.char_indices() {
        if c.is_ascii_digit() {
            end = i + 1;
        } else if c == '.' && !dot && end == i && i > 0 {
            dot = true;
            end = i + 1;
        } else {
            break;
        }
    }
    version_id[..end].trim_end_matches('.').parse().ok()
}

/// The label names of `node_os_info` and the os-release keys they come from.
const INFO: &[(&str, &str)] = &[
    ("build_id", "BUILD_ID"),
    ("id", "ID"),
    ("id_like", "ID_LIKE"),
    ("image_id", "IMAGE_ID"),
    ("image_version", "IMAGE_VERSION"),
    ("name", "NAME"),
    ("pretty_name", "PRETTY_NAME"),
    ("variant", "VARIANT"),
    ("variant_id", "VARIANT_ID"),
    ("version", "VERSION"),
    ("version_codename", "VERSION_CODENAME"),
    ("version_id", "VERSION_ID"),
];

pub fn expose(os: &HashMap<String, String>, out: &mut Families) {
    let get = |k: &str| os.get(k).map(String::as_str).unwrap_or("");
    let labels: Vec<(&str, &str)> = INFO.iter().map(|(l, k)| (*l, get(k))).collect();
    out.gauge(
        "node_os_info",
        "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.",
        &labels,
        1.0,
    );
    if let Some(v) = version_number(get("VERSION_ID")).filter(|v| *v > 0.0) {
        out.gauge(
            "node_os_version",
            "Metric containing the major.minor part of the OS version.",
            &[
                ("id", get("ID")),
                ("id_like", get("ID_LIKE")),
                ("name", get("NAME")),
            ],
            v,
        );
    }
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let primary = ctx.paths.rootfs.join("etc/os-release");
    let text = read(&primary).or_else(|_| read(&ctx.paths.rootfs.join("usr/lib/os-release")))?;
    let os = parse_os_release(&text).map_err(|msg| NodeError::Parse { path: primary, msg })?;
    expose(&os, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_os_release() {
        let os = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
             VERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n# comment\n\n\
             X='a \"b\"'\nY=\"q\\\"uote\"\n",
        )
        .unwrap();
        assert_eq!(os["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(os["VERSION_CODENAME"], "bookworm");
        assert_eq!(os["X"], "a \"b\"");
        assert_eq!(os["Y"], "q\"uote");
        let mut f = Families::default();
        expose(&os, &mut f);
        assert_eq!(
            f.value(
                "node_os_version",
                &[
                    ("id", "debian"),
                    ("id_like", ""),
                    ("name", "Debian GNU/Linux")
                ]
            ),
            Some(12.0)
        );
        assert_eq!(f.get("node_os_info").unwrap().samples[0].labels.len(), 12);
        assert!(parse_os_release("NOEQUALS\n").is_err());
        assert!(parse_os_release("A=\"open\n").is_err());
    }

    #[test]
    fn version_numbers() {
        assert_eq!(version_number("12"), Some(12.0));
        assert_eq!(version_number("22.04"), Some(22.04));
        assert_eq!(version_number("22.04.3"), Some(22.04));
        assert_eq!(version_number("7."), Some(7.0));
        assert_eq!(version_number("rolling"), None);
        assert_eq!(version_number(""), None);
    }
}

//! Content negotiation: which format a scraper gets for its `Accept` header, and the
//! `Content-Type` answered, as prometheus_client 0.26's `choose_encoder` decides.

use std::fmt;

/// How names outside the legacy character set are written (the `escaping=` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escaping {
    /// `allow-utf-8`: such names are quoted.
    AllowUtf8,
    /// `underscores`: every invalid character becomes `_` (the default).
    Underscores,
    /// `dots`: `.` becomes `_dot_`, `_` becomes `__`, other invalid characters `__`.
    Dots,
    /// `values`: `U__` prefix and `_<hex code point>_` for invalid characters.
    Values,
}

impl Escaping {
    pub fn as_str(self) -> &'static str {
        match self {
            Escaping::AllowUtf8 => "allow-utf-8",
            Escaping::Underscores => "underscores",
            Escaping::Dots => "dots",
            Escaping::Values => "values",
        }
    }

    /// prometheus_client's `_get_escaping`: unknown values fall back to `underscores`.
    fn from_param(s: &str) -> Escaping {
        match s {
            "allow-utf-8" => Escaping::AllowUtf8,
            "dots" => Escaping::Dots,
            "values" => Escaping::Values,
            _ => Escaping::Underscores,
        }
    }
}

/// The exposition format family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatKind {
    /// The classic Prometheus text format.
    Text,
    /// OpenMetrics text (written as OpenMetrics 1.0).
    OpenMetrics,
}

/// A negotiated format: what to write and the `Content-Type` to answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pub kind: FormatKind,
    pub escaping: Escaping,
    content_type: String,
}

/// `text/plain; version=0.0.4; charset=utf-8`.
pub const CONTENT_TYPE_TEXT_0_0_4: &str = "text/plain; version=0.0.4; charset=utf-8";
/// `text/plain; version=1.0.0; charset=utf-8` (prometheus_client's `CONTENT_TYPE_LATEST`).
pub const CONTENT_TYPE_TEXT_1_0_0: &str = "text/plain; version=1.0.0; charset=utf-8";
/// `application/openmetrics-text; version=1.0.0; charset=utf-8`.
pub const CONTENT_TYPE_OPENMETRICS_1_0_0: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Format {
    /// The classic text format 0.0.4, as answered to a scraper without `Accept`.
    pub fn text() -> Format {
        Format {
            kind: FormatKind::Text,
            escaping: Escaping::Underscores,
            content_type: CONTENT_TYPE_TEXT_0_0_4.to_string(),
        }
    }

    /// OpenMetrics 1.0.0 with the given escaping, as answered to a versioned OpenMetrics Accept.
    pub fn openmetrics(escaping: Escaping) -> Format {
        Format {
            kind: FormatKind::OpenMetrics,
            escaping,
            content_type: format!(
                "{CONTENT_TYPE_OPENMETRICS_1_0_0}; escaping={}",
                escaping.as_str()
            ),
        }
    }

    /// The `Content-Type` header value to send with this format.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.content_type)
    }
}

/// The `version=` parameter of one media range (`_get_version`), "" when absent.
fn param<'a>(toks: &[&'a str], key: &str) -> Option<&'a str> {
    toks.iter().find_map(|tok| {
        let (k, v) = tok.trim().split_once('=')?;
        (k == key).then_some(v)
    })
}

/// prometheus_client's `parse_version(v) >= (1, 0, 0)`.
fn version_at_least_1(v: &str) -> bool {
    let mut parts = v.split('.').map(|p| p.parse::<u64>());
    let mut nums = Vec::new();
    for p in parts.by_ref() {
        match p {
            Ok(n) => nums.push(n),
            Err(_) => return false,
        }
    }
    nums.resize(3.max(nums.len()), 0);
    nums.as_slice() >= [1u64, 0, 0].as_slice()
}

/// Chooses the format for an `Accept` header as prometheus_client 0.26's `choose_encoder`:
/// the first `application/openmetrics-text` range wins (unversioned: OpenMetrics 1.0.0 without
/// an escaping parameter; version ≥ 1.0.0: that version with `escaping=`); a `text/plain` range
/// with version ≥ 1.0.0 gets text 1.0.0 with `escaping=`; anything else gets text 0.0.4.
pub fn negotiate(accept_header: Option<&str>) -> Format {
    let accept = accept_header.unwrap_or("");
    for accepted in accept.split(',') {
        let toks: Vec<&str> = accepted.split(';').collect();
        let mime = toks.first().map(|m| m.trim()).unwrap_or("");
        if mime == "application/openmetrics-text" {
            let version = param(&toks, "version").unwrap_or("");
            let escaping = Escaping::from_param(param(&toks, "escaping").unwrap_or(""));
            if version.is_empty() {
                return Format {
                    kind: FormatKind::OpenMetrics,
                    escaping: Escaping::Underscores,
                    content_type: CONTENT_TYPE_OPENMETRICS_1_0_0.to_string(),
                };
            }
            if version_at_least_1(version) {
                return Format {
                    kind: FormatKind::OpenMetrics,
                    escaping,
                    content_type: format!(
                        "application/openmetrics-text; version={version}; charset=utf-8; escaping={}",
                        escaping.as_str()
                    ),
                };
            }
        } else if mime == "text/plain" {
            let version = param(&toks, "version").unwrap_or("");
            let escaping = Escaping::from_param(param(&toks, "escaping").unwrap_or(""));
            if !version.is_empty() && version_at_least_1(version) {
                return Format {
                    kind: FormatKind::Text,
                    escaping,
                    content_type: format!(
                        "{CONTENT_TYPE_TEXT_1_0_0}; escaping={}",
                        escaping.as_str()
                    ),
                };
            }
        }
    }
    Format::text()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_scrape_accept_gets_openmetrics_with_underscores() {
        // Prometheus 2.42's scrape Accept header; the sample's Content-Type.
        let f = negotiate(Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
        assert_eq!(f.kind, FormatKind::OpenMetrics);
        let headers = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/samples/hello-openmetrics.headers"
        ))
        .unwrap();
        assert!(
            headers.contains(&format!("Content-Type: {}\r\n", f.content_type()))
                || headers.contains(&format!("Content-Type: {}\n", f.content_type()))
        );
    }

    #[test]
    fn no_accept_gets_text_0_0_4() {
        let f = negotiate(None);
        assert_eq!(f.kind, FormatKind::Text);
        let headers = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/samples/hello-text.headers"
        ))
        .unwrap();
        assert!(headers.contains(&format!("Content-Type: {}", f.content_type())));
        assert_eq!(negotiate(Some("text/html")), Format::text());
        assert_eq!(negotiate(Some("text/plain;version=0.0.4")), Format::text());
    }

    #[test]
    fn negotiation_follows_choose_encoder() {
        let f = negotiate(Some("application/openmetrics-text"));
        assert_eq!(f.content_type(), CONTENT_TYPE_OPENMETRICS_1_0_0);
        let f = negotiate(Some(
            "application/openmetrics-text; version=0.0.1, text/plain",
        ));
        assert_eq!(f, Format::text());
        let f = negotiate(Some(
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8",
        ));
        assert_eq!(f.escaping, Escaping::AllowUtf8);
        assert_eq!(
            f.content_type(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
        );
        let f = negotiate(Some("text/plain;version=1.0.0;escaping=bogus"));
        assert_eq!(f.kind, FormatKind::Text);
        assert_eq!(
            f.content_type(),
            "text/plain; version=1.0.0; charset=utf-8; escaping=underscores"
        );
    }
}

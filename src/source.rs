//! Where the pages read their data from: the simulated world in the tab, the companion that
//! served the page, or any Prometheus-compatible server that allows CORS.
//!
//! Plain Rust (no browser): the choice, how it is written in the page's URL (`?source=…`, so a
//! link reopens it), and the request URLs built from it. The requests themselves are in
//! [`crate::api`].

use std::fmt;

/// The value of `?source=` that names the companion serving the page.
pub const COMPANION_PARAM: &str = "companion";

/// The data source of the Query and Targets pages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// The simulated world in this tab, on the virtual clock (the default).
    #[default]
    Simulated,
    /// The `promplay serve` that served this page (same origin).
    Companion,
    /// A Prometheus HTTP API at this base URL (e.g. `http://127.0.0.1:9090`, no trailing `/`).
    Url(String),
}

impl Source {
    /// True for the sources reached over HTTP (real data, the wall clock).
    pub fn is_remote(&self) -> bool {
        !matches!(self, Source::Simulated)
    }

    /// The base the API paths are appended to: `""` (same origin) for the companion, the URL
    /// for a Prometheus URL, `None` for the simulated world.
    pub fn base(&self) -> Option<&str> {
        match self {
            Source::Simulated => None,
            Source::Companion => Some(""),
            Source::Url(u) => Some(u),
        }
    }

    /// The full URL of an API `path` (`/api/v1/query`) with `params`, percent-encoded;
    /// `None` for the simulated world.
    pub fn url(&self, path: &str, params: &[(&str, &str)]) -> Option<String> {
        let mut out = format!("{}{path}", self.base()?);
        for (i, (k, v)) in params.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&encode_component(k));
            out.push('=');
            out.push_str(&encode_component(v));
        }
        Some(out)
    }

    /// The value of `?source=` for this source (`None`: the parameter is left out).
    pub fn to_param(&self) -> Option<String> {
        match self {
            Source::Simulated => None,
            Source::Companion => Some(COMPANION_PARAM.into()),
            Source::Url(u) => Some(u.clone()),
        }
    }

    /// The source a `?source=` value names: `companion`, a URL, anything else the simulated
    /// world.
    pub fn from_param(v: &str) -> Source {
        let v = v.trim();
        if v == COMPANION_PARAM {
            Source::Companion
        } else {
            normalize_base_url(v).map_or(Source::Simulated, Source::Url)
        }
    }

    /// The source named by a location's search string (`?a=b&source=…`).
    pub fn from_search(search: &str) -> Source {
        search
            .trim_start_matches('?')
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "source")
            .map_or(Source::Simulated, |(_, v)| {
                Source::from_param(&decode_component(v))
            })
    }

    /// `search` with its `source` parameter replaced by this source's (removed for the
    /// simulated world); the other parameters are kept in order.
    pub fn to_search(&self, search: &str) -> String {
        let mut parts: Vec<String> = search
            .trim_start_matches('?')
            .split('&')
            .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("source"))
            .map(str::to_string)
            .collect();
        if let Some(v) = self.to_param() {
            parts.push(format!("source={}", encode_component(&v)));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Simulated => f.write_str("the simulated world"),
            Source::Companion => f.write_str("this companion"),
            Source::Url(u) => f.write_str(u),
        }
    }
}

/// A base URL as typed (`localhost:9090`, `http://h:9090/`, `https://h/prom/graph`) made into
/// the base API paths are appended to: a scheme (`http://` when none is given), no trailing
/// `/`, and without the `/graph` or `/query` of a UI page's address.
pub fn normalize_base_url(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("enter the URL of a Prometheus server, e.g. http://localhost:9090".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{s:?} is not a URL: it contains spaces"));
    }
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("http://{s}")
    };
    let (scheme, rest) = with_scheme
        .split_once("://")
        .ok_or_else(|| format!("{s:?} is not a URL"))?;
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "{s:?} is not an http:// or https:// URL (the browser can only fetch those)"
        ));
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("{s:?} has no host"));
    }
    let mut path = rest[host.len()..].trim_end_matches('/').to_string();
    for ui in ["/graph", "/query"] {
        if let Some(p) = path.strip_suffix(ui) {
            path = p.trim_end_matches('/').to_string();
        }
    }
    Ok(format!("{scheme}://{host}{path}"))
}

/// Percent-encodes a query-string component (everything but RFC 3986's unreserved set).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (as a space); invalid escapes are kept as they are.
pub fn decode_component(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalized() {
        assert_eq!(
            normalize_base_url("localhost:9090").unwrap(),
            "http://localhost:9090"
        );
        assert_eq!(
            normalize_base_url(" http://127.0.0.1:9090/ ").unwrap(),
            "http://127.0.0.1:9090"
        );
        assert_eq!(
            normalize_base_url("https://h.example/prom/graph?g0.expr=up").unwrap(),
            "https://h.example/prom"
        );
        assert_eq!(
            normalize_base_url("http://h:9090/query").unwrap(),
            "http://h:9090"
        );
        assert!(normalize_base_url("").is_err());
        assert!(normalize_base_url("ftp://h").unwrap_err().contains("http"));
        assert!(normalize_base_url("http://")
            .unwrap_err()
            .contains("no host"));
        assert!(normalize_base_url("a b").is_err());
    }

    #[test]
    fn request_urls_encode_parameters() {
        let s = Source::Url("http://h:9090".into());
        assert_eq!(
            s.url(
                "/api/v1/query",
                &[("query", "sum by (job) (rate(x{a=\"b\"}[5m]))"), ("time", "1.5")]
            )
            .unwrap(),
            "http://h:9090/api/v1/query?query=sum%20by%20%28job%29%20%28rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29%29&time=1.5"
        );
        assert_eq!(
            Source::Companion.url("/api/v1/targets", &[]).unwrap(),
            "/api/v1/targets"
        );
        assert_eq!(Source::Simulated.url("/api/v1/targets", &[]), None);
    }

    #[test]
    fn the_choice_round_trips_through_the_search_string() {
        for s in [
            Source::Simulated,
            Source::Companion,
            Source::Url("http://127.0.0.1:9090/prom".into()),
        ] {
            let search = s.to_search("?x=1");
            assert_eq!(Source::from_search(&search), s, "{search}");
            assert!(search.starts_with("?x=1"), "{search}");
        }
        assert_eq!(Source::Simulated.to_search("?source=companion"), "");
        assert_eq!(
            Source::Companion.to_search(""),
            "?source=companion".to_string()
        );
        assert_eq!(
            Source::from_search("?source=http%3A%2F%2Fh%3A9090%2F"),
            Source::Url("http://h:9090".into())
        );
        assert_eq!(
            Source::from_search("?source=localhost:9090"),
            Source::Url("http://localhost:9090".into())
        );
        assert_eq!(Source::from_search("?source="), Source::Simulated);
        assert_eq!(Source::from_search(""), Source::Simulated);
        assert_eq!(decode_component("a%2"), "a%2");
        assert_eq!(decode_component("%zz+%41"), "%zz A");
    }

    #[test]
    fn only_the_simulated_world_is_local() {
        assert!(!Source::Simulated.is_remote());
        assert!(Source::Companion.is_remote());
        assert!(Source::Url("http://h".into()).is_remote());
        assert_eq!(Source::Companion.to_string(), "this companion");
    }
}

//! Alertmanager's label matchers: the `{name="value", other=~"re.*"}` syntax of
//! `pkg/labels/parse.go`, the sort order of `labels.Matchers` and their `String()` form.
//!
//! Values may be quoted or bare (`severity=critical`); inside quotes `\"`, `\\` and `\n` are
//! escapes, any other backslash is literal. Regexes are fully anchored, as everywhere in
//! Prometheus.

use std::cmp::Ordering;
use std::fmt;

use promplay_model::{Labels, MatchType, Matcher};

/// A matcher that could not be parsed, with Alertmanager's wording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatcherParseError(pub String);

impl fmt::Display for MatcherParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MatcherParseError {}

/// An ordered list of matchers; all must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    pub fn new(mut v: Vec<Matcher>) -> Self {
        v.sort_by(compare_matchers);
        Matchers(v)
    }

    /// Whether every matcher matches `labels` (an absent label has the value "").
    pub fn matches(&self, labels: &Labels) -> bool {
        self.0
            .iter()
            .all(|m| m.matches(labels.get_or_empty(&m.name)))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Matcher> {
        self.0.iter()
    }
}

/// `labels.Matchers.Less`: by name, then value, then type.
pub fn compare_matchers(a: &Matcher, b: &Matcher) -> Ordering {
    a.name
        .cmp(&b.name)
        .then_with(|| a.value.cmp(&b.value))
        .then_with(|| type_rank(a.kind).cmp(&type_rank(b.kind)))
}

fn type_rank(t: MatchType) -> u8 {
    match t {
        MatchType::Equal => 0,
        MatchType::NotEqual => 1,
        MatchType::Regexp => 2,
        MatchType::NotRegexp => 3,
    }
}

/// Alertmanager's `Matcher.String()`: `name="value"` with `\`, `"` and newline escaped.
pub fn matcher_string(m: &Matcher) -> String {
    let mut s = String::with_capacity(m.name.len() + m.value.len() + 4);
    s.push_str(&m.name);
    s.push_str(m.kind.as_str());
    s.push('"');
    for c in m.value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

impl fmt::Display for Matchers {
    /// `{a="b",c=~"d"}` — no space after the comma, as `labels.Matchers.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&matcher_string(m))?;
        }
        f.write_str("}")
    }
}

/// Parses a list of matchers, optionally wrapped in braces: `{a="b", c=~"d"}` or `a=b,c!=d`.
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>, MatcherParseError> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens: Vec<String> = Vec::new();
    let mut token = String::new();
    let mut inside_quotes = false;
    let mut escaped = false;
    for c in s.chars() {
        match c {
            ',' if !inside_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' => {
                if !escaped {
                    inside_quotes = !inside_quotes;
                } else {
                    escaped = false;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_string());
    }
    tokens.iter().map(|t| parse_matcher(t)).collect()
}

/// Parses one matcher: `name<op>value` with `op` one of `=~ = != !~`.
pub fn parse_matcher(s: &str) -> Result<Matcher, MatcherParseError> {
    let bad = || MatcherParseError(format!("bad matcher format: {s}"));
    let t = s.trim_start();
    let name_len = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
        })
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    if name_len == 0 {
        return Err(bad());
    }
    let name = &t[..name_len];
    let rest = t[name_len..].trim_start();
    let (kind, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchType::Regexp, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchType::Equal, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchType::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchType::NotRegexp, r)
    } else {
        return Err(bad());
    };
    let raw_full = rest.trim();
    let mut raw = raw_full;
    let mut expect_trailing_quote = false;
    if let Some(r) = raw.strip_prefix('"') {
        raw = r;
        expect_trailing_quote = true;
    }
    let unescaped_quote = || {
        MatcherParseError(format!(
            "matcher value contains unescaped double quote: {raw_full}"
        ))
    };
    let mut value = String::with_capacity(raw.len());
    let mut escaped = false;
    let n = raw.len();
    for (i, c) in raw.char_indices() {
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' => {
                if i < n - 1 {
                    escaped = true;
                    continue;
                }
                value.push('\\');
            }
            '"' => {
                if !expect_trailing_quote || i < n - 1 {
                    return Err(unescaped_quote());
                }
                expect_trailing_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(unescaped_quote());
    }
    Matcher::new(kind, name, &value)
        .map_err(|e| MatcherParseError(crate::config::go_regexp_error(&value, &e.message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[Matcher]) -> String {
        Matchers::new(v.to_vec()).to_string()
    }

    #[test]
    fn parses_braced_list_with_quotes_and_commas_inside() {
        let m = parse_matchers(r#"{foo="bar,baz", severity=~"crit.*"}"#).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].value, "bar,baz");
        assert_eq!(m[1].kind, MatchType::Regexp);
        assert_eq!(s(&m), r#"{foo="bar,baz",severity=~"crit.*"}"#);
    }

    #[test]
    fn bare_values_and_all_operators() {
        let m = parse_matchers("a=b, c!=d,e=~f.*,g!~h").unwrap();
        let kinds: Vec<_> = m.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            vec![
                MatchType::Equal,
                MatchType::NotEqual,
                MatchType::Regexp,
                MatchType::NotRegexp
            ]
        );
        assert_eq!(m[1].value, "d");
    }

    #[test]
    fn escapes_in_quoted_values() {
        let m = parse_matcher(r#"a="x\"y\\z\nw\q""#).unwrap();
        assert_eq!(m.value, "x\"y\\z\nw\\q");
        assert_eq!(matcher_string(&m), r#"a="x\"y\\z\nw\\q""#);
    }

    #[test]
    fn errors_have_alertmanager_wording() {
        assert_eq!(parse_matcher("=x").unwrap_err().0, "bad matcher format: =x");
        assert_eq!(
            parse_matcher(r#"a="b"c""#).unwrap_err().0,
            r#"matcher value contains unescaped double quote: "b"c""#
        );
        assert!(parse_matcher(r#"a=~"(""#).is_err());
    }

    #[test]
    fn sort_order_is_name_value_type() {
        let m = parse_matchers(r#"b="1",a!="2",a="2",a="1""#).unwrap();
        assert_eq!(s(&m), r#"{a="1",a="2",a!="2",b="1"}"#);
    }
}

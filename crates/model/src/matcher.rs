//! Label matchers: `=`, `!=`, `=~`, `!~`.
//!
//! Regex matchers are fully anchored and use RE2 semantics through the `regex` crate, exactly as
//! Prometheus anchors them: the pattern `p` is compiled as `^(?s:p)$`.

use std::fmt;

use regex::Regex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchType {
    Equal,
    NotEqual,
    Regexp,
    NotRegexp,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }
}

impl fmt::Display for MatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A regex that did not compile. The message is the `regex` crate's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatcherError {
    pub pattern: String,
    pub message: String,
}

impl fmt::Display for MatcherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid regular expression {:?}: {}",
            self.pattern, self.message
        )
    }
}

impl std::error::Error for MatcherError {}

/// One label matcher. Construct with [`Matcher::new`], which compiles regexes once.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub kind: MatchType,
    pub name: String,
    pub value: String,
    re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.name == other.name && self.value == other.value
    }
}
impl Eq for Matcher {}

impl std::hash::Hash for Matcher {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        self.name.hash(state);
        self.value.hash(state);
    }
}

impl Matcher {
    pub fn new(
        kind: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let name = name.into();
        let value = value.into();
        let re = match kind {
            MatchType::Regexp | MatchType::NotRegexp => {
                let anchored = format!("^(?s:{value})$");
                Some(Regex::new(&anchored).map_err(|e| MatcherError {
                    pattern: value.clone(),
                    message: e.to_string(),
                })?)
            }
            _ => None,
        };
        Ok(Matcher {
            kind,
            name,
            value,
            re,
        })
    }

    /// Whether the label value `v` ("" when the label is absent) satisfies this matcher.
    pub fn matches(&self, v: &str) -> bool {
        match self.kind {
            MatchType::Equal => v == self.value,
            MatchType::NotEqual => v != self.value,
            MatchType::Regexp => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchType::NotRegexp => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// Whether this matcher matches the empty string (so it also selects series without the label).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if crate::labels::is_legacy_label_name(&self.name) {
            f.write_str(&self.name)?;
        } else {
            crate::labels::write_go_quoted(f, &self.name)?;
        }
        f.write_str(self.kind.as_str())?;
        crate::labels::write_go_quoted(f, &self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_fully_anchored_and_dot_matches_newline() {
        let m = Matcher::new(MatchType::Regexp, "a", "fo.").unwrap();
        assert!(m.matches("foo"));
        assert!(!m.matches("xfoo"));
        assert!(!m.matches("foox"));
        assert!(Matcher::new(MatchType::Regexp, "a", "f.o")
            .unwrap()
            .matches("f\no"));
    }

    #[test]
    fn bad_regex_is_an_error() {
        let e = Matcher::new(MatchType::Regexp, "a", "(").unwrap_err();
        assert!(e.to_string().starts_with("invalid regular expression"));
    }

    #[test]
    fn not_regexp_matches_absent_label() {
        let m = Matcher::new(MatchType::NotRegexp, "a", "x+").unwrap();
        assert!(m.matches_empty());
    }
}

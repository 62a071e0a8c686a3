//! Label sets.
//!
//! Invariants of [`Labels`]: pairs are sorted by name, names are unique, and no value is empty
//! (an empty value means "label absent", as in Prometheus). Strings are reference-counted so a
//! label set is cheap to clone; the TSDB interns them so equal strings share one allocation.

use std::fmt;
use std::sync::Arc;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub name: Arc<str>,
    pub value: Arc<str>,
}

impl Label {
    pub fn new(name: impl Into<Arc<str>>, value: impl Into<Arc<str>>) -> Self {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.name, self.value)
    }
}

/// A sorted set of labels identifying one series.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<Label>);

impl Labels {
    pub const fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Builds a label set from pairs in any order. Pairs with an empty value are dropped; of
    /// two pairs with one name the later wins.
    pub fn new(mut pairs: Vec<Label>) -> Self {
        pairs.retain(|l| !l.value.is_empty());
        // stable sort keeps insertion order among equal names; keep the last of each run
        pairs.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out: Vec<Label> = Vec::with_capacity(pairs.len());
        for l in pairs {
            match out.last_mut() {
                Some(last) if last.name == l.name => *last = l,
                _ => out.push(l),
            }
        }
        Labels(out)
    }

    /// Convenience for tests and literals: `Labels::from_pairs(&[("__name__", "up"), ("job", "node")])`.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Labels::new(pairs.iter().map(|(n, v)| Label::new(*n, *v)).collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| (*l.name).cmp(name))
            .ok()
            .map(|i| &*self.0[i].value)
    }

    /// The value of `name`, or "" when absent (Prometheus's `Labels.Get`).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// A copy without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        self.without(&[METRIC_NAME])
    }

    /// A copy keeping only the listed names.
    pub fn keep(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| names.iter().any(|n| n.as_ref() == &*l.name))
                .cloned()
                .collect(),
        )
    }

    /// A copy dropping the listed names.
    pub fn without(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| !names.iter().any(|n| n.as_ref() == &*l.name))
                .cloned()
                .collect(),
        )
    }

    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            base: self.clone(),
            set: Vec::new(),
            del: Vec::new(),
        }
    }

    /// Prometheus's exposition of a label set: `{a="b", c="d"}`; with a metric name
    /// `name{a="b"}`. Names that are not valid legacy names are quoted (UTF-8 names).
    pub fn to_prom_string(&self) -> String {
        self.to_string()
    }
}

impl From<Vec<Label>> for Labels {
    fn from(v: Vec<Label>) -> Self {
        Labels::new(v)
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Whether `s` is a legacy (unquoted) metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_legacy_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Whether `s` is a legacy (unquoted) label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Writes `s` as a Go-quoted string (`strconv.Quote`), as Prometheus prints label values.
pub fn write_go_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{07}' => f.write_str("\\a")?,
            '\u{08}' => f.write_str("\\b")?,
            '\u{0c}' => f.write_str("\\f")?,
            '\u{0b}' => f.write_str("\\v")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Labels {
    /// `{__name__="up", job="node"}` style, as Prometheus's `Labels.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if is_legacy_label_name(&l.name) {
                f.write_str(&l.name)?;
            } else {
                write_go_quoted(f, &l.name)?;
            }
            f.write_str("=")?;
            write_go_quoted(f, &l.value)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Edits a label set: set and delete, then [`LabelsBuilder::labels`].
#[derive(Clone, Debug)]
pub struct LabelsBuilder {
    base: Labels,
    set: Vec<Label>,
    del: Vec<Arc<str>>,
}

impl LabelsBuilder {
    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: impl Into<Arc<str>>, value: impl Into<Arc<str>>) -> &mut Self {
        let name = name.into();
        let value = value.into();
        self.set.retain(|l| l.name != name);
        self.del.retain(|n| *n != name);
        if value.is_empty() {
            self.del.push(name);
        } else {
            self.set.push(Label { name, value });
        }
        self
    }

    pub fn del(&mut self, name: impl Into<Arc<str>>) -> &mut Self {
        let name = name.into();
        self.set.retain(|l| l.name != name);
        self.del.push(name);
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        if let Some(l) = self.set.iter().find(|l| &*l.name == name) {
            return Some(&l.value);
        }
        if self.del.iter().any(|n| &**n == name) {
            return None;
        }
        self.base.get(name)
    }

    pub fn labels(&self) -> Labels {
        let mut v: Vec<Label> = self
            .base
            .iter()
            .filter(|l| !self.del.contains(&l.name) && !self.set.iter().any(|s| s.name == l.name))
            .cloned()
            .collect();
        v.extend(self.set.iter().cloned());
        Labels::new(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sorts_dedups_and_drops_empty_values() {
        let l = Labels::new(vec![
            Label::new("b", "1"),
            Label::new("a", "x"),
            Label::new("b", "2"),
            Label::new("c", ""),
        ]);
        assert_eq!(l.to_string(), r#"{a="x", b="2"}"#);
        assert_eq!(l.get("b"), Some("2"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn display_quotes_utf8_names_and_escapes_values() {
        let l = Labels::from_pairs(&[("a.b", "q\"\n")]);
        assert_eq!(l.to_string(), r#"{"a.b"="q\"\n"}"#);
    }

    #[test]
    fn builder_sets_and_deletes() {
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", "n")]);
        let mut b = l.builder();
        b.del(METRIC_NAME).set("x", "1").set("job", "");
        assert_eq!(b.labels().to_string(), r#"{x="1"}"#);
    }
}

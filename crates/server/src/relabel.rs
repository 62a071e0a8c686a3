//! Relabeling, as Prometheus's `model/relabel/relabel.go` does it: the eleven actions, their
//! defaults (separator `;`, regex `(.*)` fully anchored, replacement `$1`), their validation
//! messages, and `$1` / `${1}` / `${name}` expansion with Go's `regexp.Expand` rules.

use std::fmt;

use md5::{Digest, Md5};
use promplay_model::labels::is_legacy_label_name;
use promplay_model::{Label, Labels, LabelsBuilder};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How label and metric names are validated (`model.ValidationScheme`). Prometheus 3 defaults
/// to UTF-8: any non-empty name is valid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NameValidationScheme {
    #[default]
    Utf8,
    Legacy,
}

impl NameValidationScheme {
    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            NameValidationScheme::Utf8 => !name.is_empty(),
            NameValidationScheme::Legacy => is_legacy_label_name(name),
        }
    }
    pub fn is_valid_metric_name(self, name: &str) -> bool {
        match self {
            NameValidationScheme::Utf8 => !name.is_empty(),
            NameValidationScheme::Legacy => promplay_model::labels::is_legacy_metric_name(name),
        }
    }
}

/// A relabel action. Parsed case-insensitively, as Prometheus does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Action {
    #[default]
    Replace,
    Keep,
    Drop,
    KeepEqual,
    DropEqual,
    HashMod,
    LabelMap,
    LabelDrop,
    LabelKeep,
    Lowercase,
    Uppercase,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    pub fn parse(s: &str) -> Result<Action, String> {
        Ok(match s.to_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return Err(format!("unknown relabel action {s:?}")),
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fully anchored regular expression (`^(?s:…)$`) remembering the text it was written as.
#[derive(Clone, Debug)]
pub struct Regexp {
    original: String,
    re: regex::Regex,
    /// True only for the default `(.*)` that was not written in the file (Prometheus compares
    /// the default by identity, so an explicit `regex: (.*)` is not "the default").
    is_default: bool,
}

impl Regexp {
    pub fn new(s: &str) -> Result<Regexp, String> {
        let re = regex::Regex::new(&format!("^(?s:{s})$"))
            .map_err(|e| format!("error parsing regexp: {}", first_line(&e.to_string())))?;
        Ok(Regexp {
            original: s.to_string(),
            re,
            is_default: false,
        })
    }

    /// The default `(.*)`.
    pub fn default_regex() -> Regexp {
        let mut r = Regexp::new("(.*)").unwrap_or_else(|_| unreachable_regex());
        r.is_default = true;
        r
    }

    pub fn as_str(&self) -> &str {
        &self.original
    }
    pub fn is_default(&self) -> bool {
        self.is_default
    }
    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }
    pub fn regex(&self) -> &regex::Regex {
        &self.re
    }
}

fn unreachable_regex() -> Regexp {
    // `(.*)` always compiles; this keeps the code free of unwrap on a path nobody reaches.
    Regexp {
        original: "(.*)".into(),
        re: regex::Regex::new("^(?s:(.*))$").expect("static regex"),
        is_default: true,
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

impl PartialEq for Regexp {
    fn eq(&self, other: &Self) -> bool {
        self.original == other.original && self.is_default == other.is_default
    }
}

impl Serialize for Regexp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.original)
    }
}

/// One relabeling step (`relabel.Config`), validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RelabelConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_labels: Vec<String>,
    pub separator: String,
    /// Not printed when it is the default, as Prometheus does.
    #[serde(skip_serializing_if = "Regexp::is_default")]
    pub regex: Regexp,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub modulus: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target_label: String,
    pub replacement: String,
    pub action: Action,
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: ";".to_string(),
            regex: Regexp::default_regex(),
            modulus: 0,
            target_label: String::new(),
            replacement: "$1".to_string(),
            action: Action::Replace,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelabelConfig {
    #[serde(default)]
    source_labels: Option<Vec<String>>,
    #[serde(default)]
    separator: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    regex: Option<Option<String>>,
    #[serde(default)]
    modulus: Option<u64>,
    #[serde(default)]
    target_label: Option<String>,
    #[serde(default)]
    replacement: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    action: Option<Option<String>>,
}

/// Distinguishes an absent key (`None`) from an explicit null (`Some(None)`).
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl<'de> Deserialize<'de> for RelabelConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_checked(d, |raw: RawRelabelConfig| {
            let c = raw.into_config()?;
            // Validate under the most permissive name scheme now, so errors carry this rule's
            // line; the configured scheme is applied again once the whole file is known.
            c.validate(NameValidationScheme::Utf8)?;
            Ok(c)
        })
    }
}

/// Deserializes a mapping as `T`, then runs `check` inside the mapping's visitor, so that a
/// YAML deserializer attaches the mapping's own line and path to the check's error.
pub(crate) fn deserialize_checked<'de, D, T, R, F>(d: D, check: F) -> Result<R, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    F: FnOnce(T) -> Result<R, String>,
{
    struct V<T, F>(F, std::marker::PhantomData<T>);
    impl<'de, T, R, F> serde::de::Visitor<'de> for V<T, F>
    where
        T: Deserialize<'de>,
        F: FnOnce(T) -> Result<R, String>,
    {
        type Value = R;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<R, A::Error> {
            use serde::de::Error;
            let t = T::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            (self.0)(t).map_err(A::Error::custom)
        }
    }
    d.deserialize_map(V(check, std::marker::PhantomData))
}

impl RawRelabelConfig {
    fn into_config(self) -> Result<RelabelConfig, String> {
        let raw = self;
        let mut c = RelabelConfig::default();
        if let Some(v) = raw.source_labels {
            c.source_labels = v;
        }
        if let Some(v) = raw.separator {
            c.separator = v;
        }
        match raw.regex {
            None => {}
            Some(None) => c.regex = Regexp::new("")?,
            Some(Some(s)) => c.regex = Regexp::new(&s)?,
        }
        if let Some(v) = raw.modulus {
            c.modulus = v;
        }
        if let Some(v) = raw.target_label {
            c.target_label = v;
        }
        if let Some(v) = raw.replacement {
            c.replacement = v;
        }
        match raw.action {
            None => {}
            // `action:` with no value leaves Go's Action empty.
            Some(None) => return Err("relabel action cannot be empty".into()),
            Some(Some(v)) => c.action = Action::parse(&v)?,
        }
        Ok(c)
    }
}

/// `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`: a legacy label name with `$var`s in it.
fn is_legacy_target_with_vars(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    // Every position must be consumed by: a letter/underscore, a `$word`/`${word}`, or (after
    // at least one of those) a word character.
    let mut started = false;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            started = true;
            i += 1;
        } else if c == b'$' {
            if i + 1 < b.len() && b[i + 1] == b'{' {
                let mut j = i + 2;
                while j < b.len() && word(b[j]) {
                    j += 1;
                }
                if j == i + 2 || j >= b.len() || b[j] != b'}' {
                    return false;
                }
                i = j + 1;
            } else {
                let mut j = i + 1;
                while j < b.len() && word(b[j]) {
                    j += 1;
                }
                if j == i + 1 {
                    return false;
                }
                i = j;
            }
            started = true;
        } else if c.is_ascii_digit() && started {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn has_var(s: &str) -> bool {
    s.contains('$')
}

impl RelabelConfig {
    /// Prometheus's `relabel.Config.Validate`, with its messages.
    pub fn validate(&self, scheme: NameValidationScheme) -> Result<(), String> {
        let a = self.action;
        let valid_name = |s: &str| scheme.is_valid_label_name(s);
        let valid_with_vars = |s: &str| match scheme {
            NameValidationScheme::Utf8 => !s.is_empty(),
            NameValidationScheme::Legacy => is_legacy_target_with_vars(s),
        };
        if self.modulus == 0 && a == Action::HashMod {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            a,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return Err(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        let invalid_target = || {
            format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            )
        };
        if a == Action::Replace && !has_var(&self.target_label) && !valid_name(&self.target_label) {
            return Err(invalid_target());
        }
        if a == Action::Replace
            && has_var(&self.target_label)
            && !valid_with_vars(&self.target_label)
        {
            return Err(invalid_target());
        }
        let eq_or_case = matches!(
            a,
            Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual
        );
        if eq_or_case && !valid_name(&self.target_label) {
            return Err(invalid_target());
        }
        if eq_or_case && self.replacement != "$1" {
            return Err(format!("'replacement' can not be set for {a} action"));
        }
        if a == Action::LabelMap && !valid_with_vars(&self.replacement) {
            return Err(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        if a == Action::HashMod && !valid_name(&self.target_label) {
            return Err(invalid_target());
        }
        if matches!(a, Action::DropEqual | Action::KeepEqual)
            && (!self.regex.is_default
                || self.modulus != 0
                || self.separator != ";"
                || self.replacement != "$1")
        {
            return Err(format!(
                "{a} action requires only 'source_labels' and `target_label`, and no other fields"
            ));
        }
        if matches!(a, Action::LabelDrop | Action::LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != ";"
                || self.replacement != "$1")
        {
            return Err(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }
}

/// Go's `regexp.Regexp.Expand` for a template against one match of `re` in `src`.
pub fn expand(re: &regex::Regex, template: &str, src: &str, caps: &regex::Captures<'_>) -> String {
    let mut dst = String::new();
    let mut t = template;
    while let Some(pos) = t.find('$') {
        dst.push_str(&t[..pos]);
        t = &t[pos + 1..];
        if let Some(rest) = t.strip_prefix('$') {
            dst.push('$');
            t = rest;
            continue;
        }
        match extract(t) {
            None => dst.push('$'),
            Some((name, num, rest)) => {
                t = rest;
                let m = match num {
                    Some(n) => caps.get(n),
                    None => re
                        .capture_names()
                        .position(|n| n == Some(name))
                        .and_then(|i| caps.get(i)),
                };
                if let Some(m) = m {
                    dst.push_str(&src[m.start()..m.end()]);
                }
            }
        }
    }
    dst.push_str(t);
    dst
}

/// Go's `regexp.extract`: `name` or `{name}` at the start of `s`; the number if the name is
/// all digits without a leading zero (below 1e8).
fn extract(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(body.len());
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let mut rest = &body[end..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => {
                num = Some(n * 10 + (b - b'0') as usize)
            }
            _ => {
                num = None;
                break;
            }
        }
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, rest))
}

/// Applies `cfgs` in order. `None` means the label set was dropped.
pub fn process(labels: &Labels, cfgs: &[RelabelConfig]) -> Option<Labels> {
    process_with_scheme(labels, cfgs, NameValidationScheme::Utf8)
}

/// [`process`] with an explicit name validation scheme (it decides whether a `$`-expanded
/// `target_label` is a usable label name).
pub fn process_with_scheme(
    labels: &Labels,
    cfgs: &[RelabelConfig],
    scheme: NameValidationScheme,
) -> Option<Labels> {
    if cfgs.is_empty() {
        return Some(labels.clone());
    }
    let mut lb = labels.builder();
    if process_builder(&mut lb, cfgs, scheme) {
        Some(lb.labels())
    } else {
        None
    }
}

/// Applies `cfgs` to a builder in place; false means drop (`relabel.ProcessBuilder`).
pub fn process_builder(
    lb: &mut LabelsBuilder,
    cfgs: &[RelabelConfig],
    scheme: NameValidationScheme,
) -> bool {
    cfgs.iter().all(|cfg| relabel_one(cfg, lb, scheme))
}

fn relabel_one(cfg: &RelabelConfig, lb: &mut LabelsBuilder, scheme: NameValidationScheme) -> bool {
    let val = cfg
        .source_labels
        .iter()
        .map(|n| lb.get(n).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(&cfg.separator);
    match cfg.action {
        Action::Drop => {
            if cfg.regex.is_match(&val) {
                return false;
            }
        }
        Action::Keep => {
            if !cfg.regex.is_match(&val) {
                return false;
            }
        }
        Action::DropEqual => {
            if lb.get(&cfg.target_label).unwrap_or("") == val {
                return false;
            }
        }
        Action::KeepEqual => {
            if lb.get(&cfg.target_label).unwrap_or("") != val {
                return false;
            }
        }
        Action::Replace => {
            // Fast path to add or delete a label pair.
            if val.is_empty()
                && cfg.regex.is_default
                && !has_var(&cfg.target_label)
                && !has_var(&cfg.replacement)
            {
                lb.set(cfg.target_label.as_str(), cfg.replacement.as_str());
                return true;
            }
            let re = cfg.regex.regex();
            let Some(caps) = re.captures(&val) else {
                return true;
            };
            let target = expand(re, &cfg.target_label, &val, &caps);
            if !scheme.is_valid_label_name(&target) {
                return true;
            }
            let res = expand(re, &cfg.replacement, &val, &caps);
            if res.is_empty() {
                lb.del(target);
            } else {
                lb.set(target, res);
            }
        }
        Action::Lowercase => {
            lb.set(cfg.target_label.as_str(), val.to_lowercase());
        }
        Action::Uppercase => {
            lb.set(cfg.target_label.as_str(), val.to_uppercase());
        }
        Action::HashMod => {
            let hash = Md5::digest(val.as_bytes());
            let mut last8 = [0u8; 8];
            last8.copy_from_slice(&hash[8..16]);
            let m = u64::from_be_bytes(last8) % cfg.modulus.max(1);
            lb.set(cfg.target_label.as_str(), m.to_string());
        }
        Action::LabelMap => {
            let re = cfg.regex.regex();
            for l in lb.labels().iter() {
                if let Some(caps) = re.captures(&l.name) {
                    let name = expand(re, &cfg.replacement, &l.name, &caps);
                    lb.set(name, l.value.clone());
                }
            }
        }
        Action::LabelDrop => {
            for l in lb.labels().iter() {
                if cfg.regex.is_match(&l.name) {
                    lb.del(l.name.clone());
                }
            }
        }
        Action::LabelKeep => {
            for l in lb.labels().iter() {
                if !cfg.regex.is_match(&l.name) {
                    lb.del(l.name.clone());
                }
            }
        }
    }
    true
}

/// Convenience for building label sets in tests and hosts.
pub fn labels_of(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().map(|(n, v)| Label::new(*n, *v)).collect())
}

#[cfg(test)]
mod tests;

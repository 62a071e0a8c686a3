//! Rule files (Prometheus's `model/rulefmt`): parsing, strict field checking and validation,
//! with promtool's messages (`5:11: group "x", rule 1, "name": could not parse expression: …`).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde_yaml_ng::Value as Yaml;

use crate::duration::parse_duration;
use crate::yamlpos::{Pos, Positions, Seg};

/// One error in a rule file, worded as Prometheus prints it (without the file name; see
/// [`parse_file`] for the `FILE: ` prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFileError(pub String);

impl fmt::Display for RuleFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuleFileError {}

/// The groups of a rule file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleGroups {
    pub groups: Vec<RuleGroup>,
}

/// A group of rules evaluated in sequence at one interval.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    /// 0: the global evaluation interval.
    pub interval_ms: i64,
    /// `None`: the global rule query offset.
    pub query_offset_ms: Option<i64>,
    /// 0: no limit.
    pub limit: usize,
    pub rules: Vec<Rule>,
    /// Labels added to every rule of the group (a rule's own labels win).
    pub labels: BTreeMap<String, String>,
}

/// A recording (`record`) or alerting (`alert`) rule, as written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    pub record: String,
    pub alert: String,
    pub expr: String,
    pub for_ms: i64,
    pub keep_firing_for_ms: i64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    /// The alert name, or the recorded metric name.
    pub fn name(&self) -> &str {
        if self.alert.is_empty() {
            &self.record
        } else {
            &self.alert
        }
    }
}

/// Parses and validates a rule file (`rulefmt.ParseFile`): every error is prefixed `FILE: `.
pub fn parse_file(
    file: &str,
    content: &str,
    ignore_unknown_fields: bool,
) -> Result<RuleGroups, Vec<RuleFileError>> {
    parse(content, ignore_unknown_fields).map_err(|errs| {
        errs.into_iter()
            .map(|e| RuleFileError(format!("{file}: {}", e.0)))
            .collect()
    })
}

/// Parses and validates rule-file content (`rulefmt.Parse`).
pub fn parse(content: &str, ignore_unknown_fields: bool) -> Result<RuleGroups, Vec<RuleFileError>> {
    let doc: Yaml = match serde_yaml_ng::from_str(content) {
        Ok(v) => v,
        Err(e) => return Err(vec![RuleFileError(yaml_error(&e))]),
    };
    let pos = Positions::scan(content);
    let mut d = Decoder {
        pos: &pos,
        src: content,
        unknown_ok: ignore_unknown_fields,
        errors: Vec::new(),
        fatal: None,
    };
    let groups = d.groups(&doc);
    if let Some(f) = d.fatal {
        return Err(vec![RuleFileError(f)]);
    }
    if !d.errors.is_empty() {
        let mut m = String::from("yaml: unmarshal errors:");
        for e in &d.errors {
            m.push_str("\n  ");
            m.push_str(e);
        }
        return Err(vec![RuleFileError(m)]);
    }
    let errs = validate(&groups, &pos);
    if errs.is_empty() {
        Ok(groups)
    } else {
        Err(errs)
    }
}

fn yaml_error(e: &serde_yaml_ng::Error) -> String {
    let msg = e.to_string();
    // serde_yaml_ng appends " at line L column C"; Go's yaml says "yaml: line L: …".
    match e.location() {
        Some(l) => {
            let base = msg
                .split(" at line ")
                .next()
                .unwrap_or(&msg)
                .trim_end()
                .to_string();
            format!("yaml: line {}: {}", l.line(), base)
        }
        None => format!("yaml: {msg}"),
    }
}

struct Decoder<'a> {
    pos: &'a Positions,
    src: &'a str,
    unknown_ok: bool,
    errors: Vec<String>,
    fatal: Option<String>,
}

fn kind(v: &Yaml) -> &'static str {
    match v {
        Yaml::Null => "!!null",
        Yaml::Bool(_) => "!!bool",
        Yaml::Number(n) if n.is_f64() => "!!float",
        Yaml::Number(_) => "!!int",
        Yaml::String(_) => "!!str",
        Yaml::Sequence(_) => "!!seq",
        Yaml::Mapping(_) => "!!map",
        Yaml::Tagged(_) => "!!tag",
    }
}

fn scalar_text(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Null => Some(String::new()),
        _ => None,
    }
}

impl Decoder<'_> {
    fn line(&self, path: &[Seg]) -> usize {
        self.pos
            .value(path)
            .or_else(|| self.pos.key(path))
            .map(|p| p.line)
            .unwrap_or(0)
    }

    fn type_err(&mut self, path: &[Seg], v: &Yaml, into: &str) {
        let shown = match v {
            Yaml::String(s) => format!(" `{s}`"),
            Yaml::Number(n) => format!(" `{n}`"),
            Yaml::Bool(b) => format!(" `{b}`"),
            _ => String::new(),
        };
        let line = self.line(path);
        self.errors.push(format!(
            "line {line}: cannot unmarshal {}{shown} into {into}",
            kind(v)
        ));
    }

    fn fields<'v>(
        &mut self,
        path: &[Seg],
        v: &'v Yaml,
        ty: &str,
        known: &[&str],
    ) -> Vec<(String, Vec<Seg>, &'v Yaml)> {
        let mut out = Vec::new();
        let Yaml::Mapping(m) = v else {
            if !matches!(v, Yaml::Null) {
                self.type_err(path, v, ty);
            }
            return out;
        };
        for (k, val) in m {
            let Some(key) = scalar_text(k) else { continue };
            let mut p = path.to_vec();
            p.push(Seg::Key(key.clone()));
            if !known.contains(&key.as_str()) {
                if !self.unknown_ok {
                    let line = self.pos.key(&p).map(|p| p.line).unwrap_or(0);
                    self.errors
                        .push(format!("line {line}: field {key} not found in type {ty}"));
                }
                continue;
            }
            out.push((key, p, val));
        }
        out
    }

    fn string(&mut self, path: &[Seg], v: &Yaml) -> String {
        match v {
            Yaml::Sequence(_) | Yaml::Mapping(_) | Yaml::Tagged(_) => {
                self.type_err(path, v, "string");
                String::new()
            }
            Yaml::Number(_) | Yaml::Bool(_) => self
                .raw_plain_scalar(path)
                .unwrap_or_else(|| scalar_text(v).unwrap_or_default()),
            _ => scalar_text(v).unwrap_or_default(),
        }
    }

    /// The text of a plain scalar as written (`1e3`, `0x10`): Go decodes a number or bool
    /// into a string field as its text.
    fn raw_plain_scalar(&self, path: &[Seg]) -> Option<String> {
        let p = self.pos.value(path)?;
        let line = self.src.lines().nth(p.line.checked_sub(1)?)?;
        let start = line.char_indices().nth(p.col.checked_sub(1)?)?.0;
        let rest = &line[start..];
        let end = rest.find(" #").unwrap_or(rest.len());
        let text = rest[..end].trim();
        if text.is_empty() || text.starts_with(['"', '\'', '{', '[', '|', '>', '&', '*', '!']) {
            return None;
        }
        Some(text.to_string())
    }

    fn duration(&mut self, path: &[Seg], v: &Yaml) -> i64 {
        let s = self.string(path, v);
        if s.is_empty() {
            return 0;
        }
        match parse_duration(&s) {
            Ok(d) => d,
            Err(e) => {
                if self.fatal.is_none() {
                    self.fatal = Some(e);
                }
                0
            }
        }
    }

    fn string_map(&mut self, path: &[Seg], v: &Yaml) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        match v {
            Yaml::Null => {}
            Yaml::Mapping(m) => {
                for (k, val) in m {
                    let Some(key) = scalar_text(k) else { continue };
                    let mut p = path.to_vec();
                    p.push(Seg::Key(key.clone()));
                    let s = self.string(&p, val);
                    out.insert(key, s);
                }
            }
            _ => self.type_err(path, v, "map[string]string"),
        }
        out
    }

    fn groups(&mut self, doc: &Yaml) -> RuleGroups {
        let mut out = RuleGroups::default();
        for (key, p, v) in self.fields(&[], doc, "rulefmt.RuleGroups", &["groups"]) {
            if key != "groups" {
                continue;
            }
            match v {
                Yaml::Null => {}
                Yaml::Sequence(items) => {
                    for (i, g) in items.iter().enumerate() {
                        let mut gp = p.clone();
                        gp.push(Seg::Index(i));
                        out.groups.push(self.group(&gp, g));
                    }
                }
                _ => self.type_err(&p, v, "[]rulefmt.RuleGroup"),
            }
        }
        out
    }

    fn group(&mut self, path: &[Seg], v: &Yaml) -> RuleGroup {
        let mut g = RuleGroup::default();
        let known = [
            "name",
            "interval",
            "query_offset",
            "limit",
            "rules",
            "labels",
        ];
        for (key, p, v) in self.fields(path, v, "rulefmt.RuleGroup", &known) {
            match key.as_str() {
                "name" => g.name = self.string(&p, v),
                "interval" => g.interval_ms = self.duration(&p, v),
                "query_offset" if !matches!(v, Yaml::Null) => {
                    g.query_offset_ms = Some(self.duration(&p, v));
                }
                "limit" => match v {
                    Yaml::Null => {}
                    Yaml::Number(n) if n.as_u64().is_some() => {
                        g.limit = n.as_u64().unwrap_or(0) as usize
                    }
                    _ => self.type_err(&p, v, "int"),
                },
                "labels" => g.labels = self.string_map(&p, v),
                "rules" => match v {
                    Yaml::Null => {}
                    Yaml::Sequence(items) => {
                        for (i, r) in items.iter().enumerate() {
                            let mut rp = p.clone();
                            rp.push(Seg::Index(i));
                            g.rules.push(self.rule(&rp, r));
                        }
                    }
                    _ => self.type_err(&p, v, "[]rulefmt.Rule"),
                },
                _ => {}
            }
        }
        g
    }

    fn rule(&mut self, path: &[Seg], v: &Yaml) -> Rule {
        let mut r = Rule::default();
        let known = [
            "record",
            "alert",
            "expr",
            "for",
            "keep_firing_for",
            "labels",
            "annotations",
        ];
        for (key, p, v) in self.fields(path, v, "rulefmt.Rule", &known) {
            match key.as_str() {
                "record" => r.record = self.string(&p, v),
                "alert" => r.alert = self.string(&p, v),
                "expr" => r.expr = self.string(&p, v),
                "for" => r.for_ms = self.duration(&p, v),
                "keep_firing_for" => r.keep_firing_for_ms = self.duration(&p, v),
                "labels" => r.labels = self.string_map(&p, v),
                "annotations" => r.annotations = self.string_map(&p, v),
                _ => {}
            }
        }
        r
    }
}

fn key_path(g: usize, r: usize, field: &str) -> Vec<Seg> {
    vec![
        Seg::Key("groups".into()),
        Seg::Index(g),
        Seg::Key("rules".into()),
        Seg::Index(r),
        Seg::Key(field.into()),
    ]
}

fn at(p: Option<Pos>) -> String {
    let p = p.unwrap_or(Pos { line: 0, col: 0 });
    format!("{}:{}: ", p.line, p.col)
}

/// Whether `n` is a valid label name under the UTF-8 validation scheme (Prometheus 3's
/// default): non-empty.
fn valid_label_name(n: &str) -> bool {
    !n.is_empty()
}

/// Validates parsed groups (`RuleGroups.Validate`), with positions from the source.
fn validate(groups: &RuleGroups, pos: &Positions) -> Vec<RuleFileError> {
    let mut errs = Vec::new();
    let mut seen = HashSet::new();
    for (j, g) in groups.groups.iter().enumerate() {
        let gpath = vec![Seg::Key("groups".into()), Seg::Index(j)];
        if g.name.is_empty() {
            errs.push(RuleFileError(format!(
                "{}Groupname must not be empty",
                at(pos.value(&gpath))
            )));
        }
        if !seen.insert(g.name.clone()) {
            errs.push(RuleFileError(format!(
                "{}groupname: \"{}\" is repeated in the same file",
                at(pos.value(&gpath)),
                g.name
            )));
        }
        for k in g.labels.keys() {
            if !valid_label_name(k) || k == "__name__" {
                errs.push(RuleFileError(format!("invalid label name: {k}")));
            }
        }
        for (i, r) in g.rules.iter().enumerate() {
            for e in validate_rule(r, j, i, pos) {
                errs.push(RuleFileError(format!(
                    "{}group {:?}, rule {}, {:?}: {}",
                    e.0,
                    g.name,
                    i + 1,
                    r.name(),
                    e.1
                )));
            }
        }
    }
    errs
}

/// A rule's errors: (position prefix, message).
fn validate_rule(r: &Rule, g: usize, i: usize, pos: &Positions) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let rec = pos.value(&key_path(g, i, "record"));
    let alert = pos.value(&key_path(g, i, "alert"));
    let both = format!("{}{}", at(rec), at(alert));
    if !r.record.is_empty() && !r.alert.is_empty() {
        out.push((
            both.clone(),
            "only one of 'record' and 'alert' must be set".into(),
        ));
    }
    if r.record.is_empty() && r.alert.is_empty() {
        out.push((both, "one of 'record' or 'alert' must be set".into()));
    }
    let expr_at = at(pos.value(&key_path(g, i, "expr")));
    if r.expr.is_empty() {
        out.push((expr_at, "field 'expr' must be set in rule".into()));
    } else if let Err(e) = crate::parse_expr(&r.expr) {
        out.push((expr_at, format!("could not parse expression: {e}")));
    }
    if !r.record.is_empty() {
        let rec_at = at(rec);
        if !r.annotations.is_empty() {
            out.push((
                rec_at.clone(),
                "invalid field 'annotations' in recording rule".into(),
            ));
        }
        if r.for_ms != 0 {
            out.push((
                rec_at.clone(),
                "invalid field 'for' in recording rule".into(),
            ));
        }
        if r.keep_firing_for_ms != 0 {
            out.push((
                rec_at.clone(),
                "invalid field 'keep_firing_for' in recording rule".into(),
            ));
        }
        if r.record.contains('{') || r.record.contains('}') {
            out.push((
                rec_at,
                format!(
                    "braces present in the recording rule name; should it be in expr?: {}",
                    r.record
                ),
            ));
        }
    }
    for k in r.labels.keys() {
        if !valid_label_name(k) || k == "__name__" {
            out.push((String::new(), format!("invalid label name: {k}")));
        }
    }
    for k in r.annotations.keys() {
        if !valid_label_name(k) {
            out.push((String::new(), format!("invalid annotation name: {k}")));
        }
    }
    if !r.alert.is_empty() {
        for (what, map) in [("label", &r.labels), ("annotation", &r.annotations)] {
            for (k, v) in map {
                if let Err(e) = crate::template::parse_test(&r.alert, v) {
                    out.push((String::new(), format!("{what} {k:?}: {e}")));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_group() {
        let src = "groups:\n  - name: example\n    interval: 10s\n    limit: 3\n    labels: {team: a}\n    rules:\n      - alert: InstanceDown\n        expr: up == 0\n        for: 1m\n        keep_firing_for: 30s\n        labels: {severity: page}\n        annotations:\n          summary: \"{{ $labels.instance }} down\"\n      - record: job:up:sum\n        expr: sum by (job) (up)\n";
        let g = parse(src, false).unwrap();
        let g0 = &g.groups[0];
        assert_eq!(g0.name, "example");
        assert_eq!(g0.interval_ms, 10_000);
        assert_eq!(g0.limit, 3);
        assert_eq!(g0.labels.get("team").map(String::as_str), Some("a"));
        assert_eq!(g0.rules[0].for_ms, 60_000);
        assert_eq!(g0.rules[0].keep_firing_for_ms, 30_000);
        assert_eq!(g0.rules[1].name(), "job:up:sum");
    }

    #[test]
    fn errors_name_group_rule_and_position() {
        let src = "groups:\n  - name: bad-syntax\n    rules:\n      - record: x\n        expr: 'test +'\n";
        let e = parse_file("f.yml", src, false).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].0.starts_with(
                "f.yml: 5:15: group \"bad-syntax\", rule 1, \"x\": could not parse expression: "
            ),
            "{}",
            e[0]
        );
    }

    #[test]
    fn record_and_alert_rules() {
        let src = "groups:\n- name: g\n  rules:\n  - expr: up\n  - record: a\n    alert: b\n    expr: up\n  - record: 'x{a=\"b\"}'\n    expr: up\n    for: 1m\n    annotations: {a: b}\n    labels: {__name__: z}\n";
        let e: Vec<String> = parse(src, false)
            .unwrap_err()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(
            e,
            vec![
                "0:0: 0:0: group \"g\", rule 1, \"\": one of 'record' or 'alert' must be set",
                "5:13: 6:12: group \"g\", rule 2, \"b\": only one of 'record' and 'alert' must be set",
                "8:13: group \"g\", rule 3, \"x{a=\\\"b\\\"}\": invalid field 'annotations' in recording rule",
                "8:13: group \"g\", rule 3, \"x{a=\\\"b\\\"}\": invalid field 'for' in recording rule",
                "8:13: group \"g\", rule 3, \"x{a=\\\"b\\\"}\": braces present in the recording rule name; should it be in expr?: x{a=\"b\"}",
                "group \"g\", rule 3, \"x{a=\\\"b\\\"}\": invalid label name: __name__",
            ]
        );
    }

    #[test]
    fn unknown_fields_rejected_unless_ignored() {
        let src = "groups:\n  - name: a\n    namespace: x\n    rules:\n      - record: r\n        expr: up\n        owner: me\n";
        let e = parse(src, false).unwrap_err();
        assert_eq!(
            e[0].0,
            "yaml: unmarshal errors:\n  line 3: field namespace not found in type rulefmt.RuleGroup\n  line 7: field owner not found in type rulefmt.Rule"
        );
        assert!(parse(src, true).is_ok());
    }

    #[test]
    fn numbers_keep_their_text_in_string_fields() {
        let src = "groups:\n- name: g\n  rules:\n  - record: r\n    expr: 0x10 # c\n    labels:\n      v: 1e3\n      b: true\n";
        let g = parse(src, false).unwrap();
        let r = &g.groups[0].rules[0];
        assert_eq!(r.expr, "0x10");
        assert_eq!(r.labels.get("v").map(String::as_str), Some("1e3"));
        assert_eq!(r.labels.get("b").map(String::as_str), Some("true"));
    }

    #[test]
    fn groups_names_and_durations() {
        let e = parse(
            "groups:\n- name: a\n  rules: []\n- name: a\n  rules: []\n- rules: []\n",
            false,
        )
        .unwrap_err();
        let e: Vec<String> = e.into_iter().map(|e| e.0).collect();
        assert_eq!(
            e,
            vec![
                "4:3: groupname: \"a\" is repeated in the same file",
                "6:3: Groupname must not be empty"
            ]
        );
        let e = parse("groups:\n- name: a\n  interval: 5x\n", false).unwrap_err();
        assert_eq!(e[0].0, "not a valid duration string: \"5x\"");
        assert!(parse("", false).unwrap().groups.is_empty());
        let e = parse("groups: 5\n", false).unwrap_err();
        assert_eq!(
            e[0].0,
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `5` into []rulefmt.RuleGroup"
        );
    }

    #[test]
    fn template_errors_in_alert_rules() {
        let src = "groups:\n- name: a\n  rules:\n  - alert: X\n    expr: up\n    annotations:\n      summary: '{{ $label.foo }}'\n";
        let e = parse(src, false).unwrap_err();
        assert_eq!(
            e[0].0,
            "group \"a\", rule 1, \"X\": annotation \"summary\": template: __alert_X:1: undefined variable \"$label\""
        );
    }
}

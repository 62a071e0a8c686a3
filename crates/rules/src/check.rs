//! `promtool check rules`: parse and validate a rule file, count its rules, lint duplicates.

use std::fmt::Write as _;

use promplay_model::Labels;

use crate::rulefmt::{self, RuleGroups};
use crate::unittest::Out;

/// promtool's `check rules` output for one file, and how it went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckOutput {
    /// `Checking NAME`, then `  SUCCESS: N rules found` or `  FAILED:` and the errors, in
    /// order (stdout and stderr lines as promtool writes them).
    pub lines: Vec<Out>,
    /// Something was reported (errors or lint findings).
    pub failed: bool,
    /// Real errors (not only lint findings): exit code 1.
    pub has_errors: bool,
}

/// Checks one file as `promtool check rules` does (and as `check config` does for each rule
/// file): `content` is the file's text or the reason it could not be read (printed as is).
/// `name` is shown in `Checking NAME` and prefixes errors; `None` means standard input.
pub fn check_rules_output(
    name: Option<&str>,
    content: Result<&str, &str>,
    ignore_unknown_fields: bool,
    lint_duplicates: bool,
) -> CheckOutput {
    let mut o = CheckOutput::default();
    o.lines.push(Out::Stdout(match name {
        Some(n) => format!("Checking {n}"),
        None => "Checking standard input".into(),
    }));
    let content = match content {
        Ok(c) => c,
        Err(e) => {
            o.lines.push(Out::Stderr("  FAILED:".into()));
            o.lines.push(Out::Stderr(e.to_string()));
            o.failed = true;
            o.has_errors = true;
            return o;
        }
    };
    let report = check_rules(
        name.unwrap_or(""),
        content,
        ignore_unknown_fields,
        lint_duplicates,
    );
    if !report.ok() {
        o.lines.push(Out::Stderr("  FAILED:".into()));
        for e in &report.errors {
            let e = match name {
                None => e.strip_prefix(": ").unwrap_or(e),
                Some(_) => e,
            };
            o.lines.push(Out::Stderr(e.to_string()));
        }
        o.failed = true;
        o.has_errors = true;
        return o;
    }
    match report.lint {
        Some(l) => {
            o.lines.push(Out::Stderr("  FAILED:".into()));
            o.lines.push(Out::Stderr(l));
            o.failed = true;
        }
        None => o.lines.push(Out::Stdout(format!(
            "  SUCCESS: {} rules found",
            report.rules
        ))),
    }
    o.lines.push(Out::Stdout(String::new()));
    o
}

/// The result of checking one rule file.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    /// Number of rules (when the file is valid).
    pub rules: usize,
    /// Errors (the file is invalid), each as promtool prints it.
    pub errors: Vec<String>,
    /// The duplicate-rules lint message (`lint error N duplicate rule(s) found.…`), if any.
    pub lint: Option<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks rule-file content (`checkRules` for one file): `name` prefixes the errors.
pub fn check_rules(
    name: &str,
    content: &str,
    ignore_unknown_fields: bool,
    lint_duplicates: bool,
) -> CheckReport {
    match rulefmt::parse_file(name, content, ignore_unknown_fields) {
        Err(errs) => CheckReport {
            rules: 0,
            errors: errs.into_iter().map(|e| e.0).collect(),
            lint: None,
        },
        Ok(rgs) => {
            let rules = rgs.groups.iter().map(|g| g.rules.len()).sum();
            let lint = if lint_duplicates {
                duplicates_message(&rgs)
            } else {
                None
            };
            CheckReport {
                rules,
                errors: Vec::new(),
                lint,
            }
        }
    }
}

/// The duplicate rules (same name and labels, counting group labels), sorted, each once.
pub fn duplicates(rgs: &RuleGroups) -> Vec<(String, Labels)> {
    let mut all: Vec<(String, Labels)> = Vec::new();
    for g in &rgs.groups {
        for r in &g.rules {
            let mut m = g.labels.clone();
            for (k, v) in &r.labels {
                m.insert(k.clone(), v.clone());
            }
            let l = Labels::new(
                m.into_iter()
                    .map(|(k, v)| promplay_model::Label::new(k, v))
                    .collect(),
            );
            all.push((r.name().to_string(), l));
        }
    }
    all.sort();
    let mut dups: Vec<(String, Labels)> = Vec::new();
    for w in all.windows(2) {
        if w[0] == w[1] && dups.last() != Some(&w[1]) {
            dups.push(w[1].clone());
        }
    }
    dups
}

fn duplicates_message(rgs: &RuleGroups) -> Option<String> {
    let d = duplicates(rgs);
    if d.is_empty() {
        return None;
    }
    let mut m = format!("lint error {} duplicate rule(s) found.\n", d.len());
    for (metric, labels) in &d {
        let _ = write!(m, "Metric: {metric}\nLabel(s):\n");
        for l in labels.iter() {
            let _ = writeln!(m, "\t{}: {}", l.name, l.value);
        }
    }
    m.push_str("Might cause inconsistency while recording expressions");
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promtool_output() {
        let o = check_rules_output(
            Some("r.yml"),
            Ok("groups:\n- name: a\n  rules:\n  - record: x\n    expr: up\n"),
            false,
            true,
        );
        assert_eq!(
            o.lines,
            vec![
                Out::Stdout("Checking r.yml".into()),
                Out::Stdout("  SUCCESS: 1 rules found".into()),
                Out::Stdout(String::new())
            ]
        );
        assert!(!o.failed);
        let o = check_rules_output(
            None,
            Ok("groups:\n- name: a\n  rules:\n  - record: x\n"),
            false,
            true,
        );
        assert_eq!(
            o.lines,
            vec![
                Out::Stdout("Checking standard input".into()),
                Out::Stderr("  FAILED:".into()),
                Out::Stderr(
                    "0:0: group \"a\", rule 1, \"x\": field 'expr' must be set in rule".into()
                ),
            ]
        );
        assert!(o.failed && o.has_errors);
        let o = check_rules_output(
            Some("m.yml"),
            Err("m.yml: open m.yml: no such file or directory"),
            false,
            true,
        );
        assert!(o.has_errors);
        assert_eq!(o.lines.len(), 3);
    }

    #[test]
    fn counts_and_duplicates() {
        let src = "groups:\n- name: a\n  rules:\n  - record: x\n    expr: up\n  - alert: A\n    expr: up\n    labels: {s: p}\n- name: b\n  rules:\n  - record: x\n    expr: up\n  - alert: A\n    expr: up == 0\n    labels: {s: p}\n";
        let r = check_rules("f", src, false, true);
        assert!(r.ok());
        assert_eq!(r.rules, 4);
        assert_eq!(
            r.lint.as_deref(),
            Some("lint error 2 duplicate rule(s) found.\nMetric: A\nLabel(s):\n\ts: p\nMetric: x\nLabel(s):\nMight cause inconsistency while recording expressions")
        );
        assert!(check_rules("f", src, false, false).lint.is_none());
    }
}

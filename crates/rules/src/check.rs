//! `promtool check rules`: parse and validate a rule file, count its rules, lint duplicates.

use std::fmt::Write as _;

use promplay_model::Labels;

use crate::rulefmt::{self, RuleGroups};

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

//! The Inhibitor (`inhibit/inhibit.go`): a firing alert matching a rule's source side mutes the
//! alerts matching its target side that have the same values for the `equal` labels. An alert
//! matching both sides cannot inhibit another one that also matches both.

use promplay_model::Labels;

use crate::alert::{fingerprint, Alert};
use crate::config::{build_matchers, ConfigError, InhibitRuleConfig};
use crate::matchers::Matchers;

#[derive(Clone, Debug)]
pub struct InhibitRule {
    pub name: Option<String>,
    pub source: Matchers,
    pub target: Matchers,
    pub equal: Vec<String>,
}

impl InhibitRule {
    pub fn new(c: &InhibitRuleConfig) -> Result<InhibitRule, ConfigError> {
        Ok(InhibitRule {
            name: c.name.clone(),
            source: build_matchers(&c.source_match, &c.source_match_re, &c.source_matchers)?,
            target: build_matchers(&c.target_match, &c.target_match_re, &c.target_matchers)?,
            equal: c.equal.clone(),
        })
    }

    /// The fingerprint of an alert among `alerts` that inhibits `labels` under this rule.
    fn has_equal<'a>(
        &self,
        labels: &Labels,
        exclude_two_sided: bool,
        alerts: impl Iterator<Item = &'a Alert>,
        now: i64,
    ) -> Option<u64> {
        'outer: for a in alerts {
            if a.resolved_at(now) || !self.source.matches(&a.labels) {
                continue;
            }
            for n in &self.equal {
                if a.labels.get_or_empty(n) != labels.get_or_empty(n) {
                    continue 'outer;
                }
            }
            if exclude_two_sided && self.target.matches(&a.labels) {
                continue;
            }
            return Some(fingerprint(&a.labels));
        }
        None
    }
}

/// The inhibition rules of a configuration.
#[derive(Clone, Debug, Default)]
pub struct Inhibitor {
    pub rules: Vec<InhibitRule>,
}

impl Inhibitor {
    pub fn new(rules: &[InhibitRuleConfig]) -> Result<Inhibitor, ConfigError> {
        Ok(Inhibitor {
            rules: rules
                .iter()
                .map(InhibitRule::new)
                .collect::<Result<_, _>>()?,
        })
    }

    /// `Inhibitor.Mutes`: the fingerprint of the inhibiting alert, if `labels` is inhibited at
    /// `now` by one of the (firing) `alerts`.
    pub fn mutes<'a, I>(&self, labels: &Labels, alerts: I, now: i64) -> Option<u64>
    where
        I: Iterator<Item = &'a Alert> + Clone,
    {
        for r in &self.rules {
            if !r.target.matches(labels) {
                continue;
            }
            if let Some(fp) = r.has_equal(labels, r.source.matches(labels), alerts.clone(), now) {
                return Some(fp);
            }
        }
        None
    }
}

/// Equal-label values → the labels and fingerprints of the firing source alerts.
type SourceIndex = std::collections::HashMap<Vec<String>, Vec<(Labels, u64)>>;

/// The inhibitor's view of the firing source alerts at one instant, indexed by the values of
/// each rule's `equal` labels, so that testing many alerts costs one lookup each.
pub struct PreparedInhibitor {
    rules: Vec<InhibitRule>,
    sources: Vec<SourceIndex>,
}

impl Inhibitor {
    /// Indexes the firing source alerts among `alerts` at `now`.
    pub fn prepare<'a>(
        &self,
        alerts: impl Iterator<Item = &'a Alert> + Clone,
        now: i64,
    ) -> PreparedInhibitor {
        let sources = self
            .rules
            .iter()
            .map(|r| {
                let mut m = SourceIndex::new();
                for a in alerts.clone() {
                    if a.resolved_at(now) || !r.source.matches(&a.labels) {
                        continue;
                    }
                    let key: Vec<String> = r
                        .equal
                        .iter()
                        .map(|n| a.labels.get_or_empty(n).to_string())
                        .collect();
                    m.entry(key)
                        .or_default()
                        .push((a.labels.clone(), fingerprint(&a.labels)));
                }
                m
            })
            .collect();
        PreparedInhibitor {
            rules: self.rules.clone(),
            sources,
        }
    }
}

impl PreparedInhibitor {
    /// Same answer as [`Inhibitor::mutes`] for the alerts this was prepared from.
    pub fn mutes(&self, labels: &Labels) -> Option<u64> {
        for (r, src) in self.rules.iter().zip(&self.sources) {
            if !r.target.matches(labels) {
                continue;
            }
            let exclude_two_sided = r.source.matches(labels);
            let key: Vec<String> = r
                .equal
                .iter()
                .map(|n| labels.get_or_empty(n).to_string())
                .collect();
            if let Some(cands) = src.get(&key) {
                for (l, fp) in cands {
                    if exclude_two_sided && r.target.matches(l) {
                        continue;
                    }
                    return Some(*fp);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(l: &[(&str, &str)], ends: Option<i64>) -> Alert {
        Alert {
            labels: Labels::from_pairs(l),
            annotations: Labels::empty(),
            starts_at: 0,
            ends_at: ends,
            generator_url: String::new(),
            updated_at: 0,
            timeout: false,
        }
    }

    fn inhibitor() -> Inhibitor {
        let c: InhibitRuleConfig = serde_yaml_ng::from_str(
            "source_matchers: [severity=critical]\ntarget_match: {severity: warning}\nequal: [cluster]",
        )
        .unwrap();
        Inhibitor::new(&[c]).unwrap()
    }

    #[test]
    fn critical_inhibits_warning_in_same_cluster() {
        let ih = inhibitor();
        let alerts = [alert(&[("severity", "critical"), ("cluster", "a")], None)];
        let warn_a = Labels::from_pairs(&[("severity", "warning"), ("cluster", "a")]);
        let warn_b = Labels::from_pairs(&[("severity", "warning"), ("cluster", "b")]);
        assert!(ih.mutes(&warn_a, alerts.iter(), 10).is_some());
        assert!(ih.mutes(&warn_b, alerts.iter(), 10).is_none());
        // a resolved source no longer inhibits
        let resolved = [alert(
            &[("severity", "critical"), ("cluster", "a")],
            Some(5),
        )];
        assert!(ih.mutes(&warn_a, resolved.iter(), 10).is_none());
    }

    #[test]
    fn prepared_agrees_with_plain() {
        let ih = inhibitor();
        let alerts: Vec<Alert> = (0..40)
            .map(|i| {
                let sev = if i % 3 == 0 { "critical" } else { "warning" };
                let cluster = format!("c{}", i % 4);
                let ends = if i % 5 == 0 { Some(5) } else { None };
                alert(
                    &[
                        ("severity", sev),
                        ("cluster", &cluster),
                        ("i", &i.to_string()),
                    ],
                    ends,
                )
            })
            .collect();
        let p = ih.prepare(alerts.iter(), 10);
        for a in &alerts {
            assert_eq!(p.mutes(&a.labels), ih.mutes(&a.labels, alerts.iter(), 10));
        }
    }

    #[test]
    fn alert_matching_both_sides_does_not_inhibit_itself() {
        let c: InhibitRuleConfig =
            serde_yaml_ng::from_str("source_matchers: [team=a]\ntarget_matchers: [team=a]")
                .unwrap();
        let ih = Inhibitor::new(&[c]).unwrap();
        let a = [alert(&[("team", "a")], None)];
        assert!(ih
            .mutes(&Labels::from_pairs(&[("team", "a")]), a.iter(), 1)
            .is_none());
    }
}

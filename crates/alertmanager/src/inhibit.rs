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

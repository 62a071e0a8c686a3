//! Alerts (`types.Alert`): label set, annotations, activity range, and the rules for merging an
//! incoming alert with the one already stored under the same fingerprint.

use std::cmp::Ordering;
use std::fmt;

use promplay_model::labels::is_legacy_label_name;
use promplay_model::Labels;

/// An alert as a client posts it (`POST /api/v2/alerts`). Times are ms since the epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PostableAlert {
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub generator_url: String,
}

/// An alert held by the Alertmanager.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: i64,
    /// `None` is Go's zero time: no end known.
    pub ends_at: Option<i64>,
    pub generator_url: String,
    pub updated_at: i64,
    /// The end time was set by `resolve_timeout`, not by the client.
    pub timeout: bool,
}

/// An alert the API refused, with Alertmanager's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertError(pub String);

impl fmt::Display for AlertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AlertError {}

/// `model.LabelSet.Fingerprint`: FNV-1a 64 over sorted `name 0xff value 0xff`.
pub fn fingerprint(labels: &Labels) -> u64 {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    if labels.is_empty() {
        return OFFSET;
    }
    let mut h = OFFSET;
    for l in labels.iter() {
        for b in l
            .name
            .bytes()
            .chain([0xff])
            .chain(l.value.bytes())
            .chain([0xff])
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    h
}

/// The 16-hex-digit form of a fingerprint.
pub fn fingerprint_string(fp: u64) -> String {
    format!("{fp:016x}")
}

impl Alert {
    /// `POST /api/v2/alerts` normalisation: fills `startsAt`, sets a `resolve_timeout` end when
    /// none is given, stamps `updatedAt`, and validates.
    pub fn from_postable(
        p: PostableAlert,
        now: i64,
        resolve_timeout_ms: i64,
    ) -> Result<Alert, AlertError> {
        let starts_at = match (p.starts_at, p.ends_at) {
            (Some(s), _) => s,
            (None, None) => now,
            (None, Some(e)) => e,
        };
        let (ends_at, timeout) = match p.ends_at {
            Some(e) => (Some(e), false),
            None => (Some(now + resolve_timeout_ms), true),
        };
        let a = Alert {
            labels: p.labels,
            annotations: p.annotations,
            starts_at,
            ends_at,
            generator_url: p.generator_url,
            updated_at: now,
            timeout,
        };
        a.validate()?;
        Ok(a)
    }

    /// `types.Alert.Validate`.
    pub fn validate(&self) -> Result<(), AlertError> {
        if let Some(e) = self.ends_at {
            if e < self.starts_at {
                return Err(AlertError("start time must be before end time".into()));
            }
        }
        if self.labels.is_empty() {
            return Err(AlertError("at least one label pair required".into()));
        }
        for l in self.labels.iter().chain(self.annotations.iter()) {
            if !is_legacy_label_name(&l.name) {
                return Err(AlertError(format!("invalid name {:?}", &*l.name)));
            }
        }
        Ok(())
    }

    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.labels)
    }

    /// Resolved at `t`: an end time is set and is not after `t`.
    pub fn resolved_at(&self, t: i64) -> bool {
        self.ends_at.is_some_and(|e| e <= t)
    }

    /// `"firing"` or `"resolved"` at `t`.
    pub fn status_at(&self, t: i64) -> &'static str {
        if self.resolved_at(t) {
            "resolved"
        } else {
            "firing"
        }
    }

    /// `types.Alert.Merge`: combines the stored alert `self` with the newer `o`.
    pub fn merge(&self, o: &Alert, now: i64) -> Alert {
        if o.updated_at < self.updated_at {
            return o.merge(self, now);
        }
        let mut res = o.clone();
        if self.starts_at < o.starts_at {
            res.starts_at = self.starts_at;
        }
        let later = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            _ => false,
        };
        if o.resolved_at(now) {
            if self.resolved_at(now) && later(self.ends_at, o.ends_at) {
                res.ends_at = self.ends_at;
            }
        } else if later(self.ends_at, o.ends_at) && !self.timeout {
            res.ends_at = self.ends_at;
        }
        res
    }
}

/// `types.AlertSlice` order: by `job`, then `instance`, then the whole label set.
pub fn compare_alerts(a: &Alert, b: &Alert) -> Ordering {
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    label_set_before(&a.labels, &b.labels)
}

/// `model.LabelSet.Before`.
fn label_set_before(a: &Labels, b: &Labels) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let o = x.name.cmp(&y.name).then_with(|| x.value.cmp(&y.value));
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_prometheus_fnv() {
        // model.LabelSet{"alertname":"InstanceDown","instance":"localhost:9100","job":"node"}
        let l = Labels::from_pairs(&[
            ("alertname", "InstanceDown"),
            ("instance", "localhost:9100"),
            ("job", "node"),
        ]);
        let fp = fingerprint(&l);
        assert_eq!(fingerprint_string(fp).len(), 16);
        assert_ne!(fp, fingerprint(&Labels::from_pairs(&[("a", "b")])));
        assert_eq!(fingerprint(&Labels::empty()), 14_695_981_039_346_656_037);
    }

    #[test]
    fn postable_defaults() {
        let p = PostableAlert {
            labels: Labels::from_pairs(&[("a", "b")]),
            ..Default::default()
        };
        let a = Alert::from_postable(p, 1000, 300_000).unwrap();
        assert_eq!(a.starts_at, 1000);
        assert_eq!(a.ends_at, Some(301_000));
        assert!(a.timeout);
        assert!(Alert::from_postable(PostableAlert::default(), 0, 1).is_err());
    }

    #[test]
    fn merge_keeps_earliest_start_and_explicit_end() {
        let l = Labels::from_pairs(&[("a", "b")]);
        let old = Alert {
            labels: l.clone(),
            annotations: Labels::empty(),
            starts_at: 100,
            ends_at: Some(10_000),
            generator_url: String::new(),
            updated_at: 100,
            timeout: false,
        };
        let new = Alert {
            starts_at: 200,
            ends_at: Some(5_000),
            updated_at: 200,
            timeout: true,
            ..old.clone()
        };
        let m = old.merge(&new, 300);
        assert_eq!(m.starts_at, 100);
        assert_eq!(m.ends_at, Some(10_000));
    }
}

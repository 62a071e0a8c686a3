//! The notification log (`nflog/nflog.go`) and the deduplication decision of `DedupStage`.
//!
//! One entry per (group key, receiver integration): when it was last notified and which
//! alerts (by fingerprint) were firing and resolved then.

use std::collections::{BTreeMap, BTreeSet};

/// Identifies one integration of one receiver (`nflogpb.Receiver`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReceiverKey {
    /// The receiver's name.
    pub group_name: String,
    /// `email` or `webhook`.
    pub integration: String,
    /// The index of the config among the receiver's configs of that kind.
    pub idx: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub group_key: String,
    pub receiver: ReceiverKey,
    pub timestamp: i64,
    pub firing_alerts: BTreeSet<u64>,
    pub resolved_alerts: BTreeSet<u64>,
    pub expires_at: i64,
}

impl Entry {
    /// Whether every alert of `subset` was firing in this entry.
    pub fn is_firing_subset(&self, subset: &BTreeSet<u64>) -> bool {
        subset.is_subset(&self.firing_alerts)
    }

    pub fn is_resolved_subset(&self, subset: &BTreeSet<u64>) -> bool {
        subset.is_subset(&self.resolved_alerts)
    }
}

/// The log.
#[derive(Clone, Debug, Default)]
pub struct NotificationLog {
    entries: BTreeMap<(String, ReceiverKey), Entry>,
}

/// How long entries are kept (`--data.retention`, 120h).
pub const DEFAULT_RETENTION_MS: i64 = 120 * 3_600_000;

impl NotificationLog {
    pub fn new() -> Self {
        NotificationLog::default()
    }

    pub fn query(&self, group_key: &str, receiver: &ReceiverKey) -> Option<&Entry> {
        self.entries.get(&(group_key.to_string(), receiver.clone()))
    }

    pub fn log(
        &mut self,
        receiver: &ReceiverKey,
        group_key: &str,
        firing: BTreeSet<u64>,
        resolved: BTreeSet<u64>,
        now: i64,
        expiry_ms: i64,
    ) {
        self.entries.insert(
            (group_key.to_string(), receiver.clone()),
            Entry {
                group_key: group_key.to_string(),
                receiver: receiver.clone(),
                timestamp: now,
                firing_alerts: firing,
                resolved_alerts: resolved,
                expires_at: now + expiry_ms,
            },
        );
    }

    /// Drops expired entries.
    pub fn gc(&mut self, now: i64) {
        self.entries.retain(|_, e| e.expires_at > now);
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }
}

/// `DedupStage.needsUpdate`.
pub fn needs_update(
    entry: Option<&Entry>,
    firing: &BTreeSet<u64>,
    resolved: &BTreeSet<u64>,
    send_resolved: bool,
    repeat_interval_ms: i64,
    now: i64,
) -> bool {
    let Some(entry) = entry else {
        // Never notified: notify unless there are only resolved alerts.
        return !firing.is_empty();
    };
    if !entry.is_firing_subset(firing) {
        return true;
    }
    // All resolved: notify (regardless of send_resolved, so the log is cleared) only if the
    // receiver was told about firing alerts.
    if firing.is_empty() {
        return !entry.firing_alerts.is_empty();
    }
    if send_resolved && !entry.is_resolved_subset(resolved) {
        return true;
    }
    // Alertmanager's test is `timestamp.Before(now - repeat)`, on wall-clock times where the
    // log is written after the send and group ticks drift later; observed on Alertmanager 0.25,
    // a repeat goes out at the first tick at or after `timestamp + repeat_interval`. With exact
    // virtual times that is `<=`.
    entry.timestamp <= now - repeat_interval_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u64]) -> BTreeSet<u64> {
        v.iter().copied().collect()
    }

    fn entry(f: &[u64], r: &[u64], ts: i64) -> Entry {
        Entry {
            group_key: "g".into(),
            receiver: ReceiverKey {
                group_name: "r".into(),
                integration: "email".into(),
                idx: 0,
            },
            timestamp: ts,
            firing_alerts: set(f),
            resolved_alerts: set(r),
            expires_at: i64::MAX,
        }
    }

    #[test]
    fn needs_update_table() {
        let rep = 4 * 3_600_000;
        // first notification only with firing alerts
        assert!(needs_update(None, &set(&[1]), &set(&[]), false, rep, 0));
        assert!(!needs_update(None, &set(&[]), &set(&[1]), true, rep, 0));
        let e = entry(&[1], &[], 0);
        // same firing set within repeat interval: no
        assert!(!needs_update(
            Some(&e),
            &set(&[1]),
            &set(&[]),
            false,
            rep,
            1000
        ));
        // new firing alert: yes
        assert!(needs_update(
            Some(&e),
            &set(&[1, 2]),
            &set(&[]),
            false,
            rep,
            1000
        ));
        // one of two resolved with send_resolved: yes; without: no
        let e2 = entry(&[1, 2], &[], 0);
        assert!(needs_update(
            Some(&e2),
            &set(&[1]),
            &set(&[2]),
            true,
            rep,
            1000
        ));
        assert!(!needs_update(
            Some(&e2),
            &set(&[1]),
            &set(&[2]),
            false,
            rep,
            1000
        ));
        // all resolved: yes (clears the log) whatever send_resolved says
        assert!(needs_update(
            Some(&e),
            &set(&[]),
            &set(&[1]),
            false,
            rep,
            1000
        ));
        // nothing firing before nor now: no
        let e3 = entry(&[], &[1], 0);
        assert!(!needs_update(
            Some(&e3),
            &set(&[]),
            &set(&[1]),
            true,
            rep,
            1000
        ));
        // repeat interval passed
        assert!(!needs_update(
            Some(&e),
            &set(&[1]),
            &set(&[]),
            false,
            rep,
            rep - 1
        ));
        assert!(needs_update(
            Some(&e),
            &set(&[1]),
            &set(&[]),
            false,
            rep,
            rep
        ));
    }
}

//! Silences (`silence/silence.go`): matchers, a time range, author and comment. An active
//! silence mutes every alert its matchers match. IDs are generated deterministically.

use std::collections::BTreeMap;
use std::fmt;

use promplay_model::Labels;

use crate::matchers::Matchers;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SilenceError(pub String);

impl fmt::Display for SilenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SilenceError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SilenceState {
    Pending,
    Active,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Pending => "pending",
            SilenceState::Active => "active",
            SilenceState::Expired => "expired",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Silence {
    pub id: String,
    pub matchers: Matchers,
    pub starts_at: i64,
    pub ends_at: i64,
    pub updated_at: i64,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    pub fn state_at(&self, now: i64) -> SilenceState {
        if self.ends_at <= now {
            SilenceState::Expired
        } else if self.starts_at > now {
            SilenceState::Pending
        } else {
            SilenceState::Active
        }
    }
}

/// What a client posts to create or update a silence (`id` set to update).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PostableSilence {
    pub id: Option<String>,
    pub matchers: Matchers,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: String,
    pub comment: String,
}

/// The silence store.
#[derive(Clone, Debug, Default)]
pub struct Silences {
    by_id: BTreeMap<String, Silence>,
    seq: u64,
}

impl Silences {
    pub fn new() -> Self {
        Silences::default()
    }

    fn next_id(&mut self, now: i64, s: &PostableSilence) -> String {
        self.seq += 1;
        // A UUID-shaped ID from a hash of the sequence number, the time and the matchers.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let feed = format!("{}|{}|{}|{}", self.seq, now, s.matchers, s.created_by);
        for b in feed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        let h2 = h.rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ self.seq;
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            (h >> 32) as u32,
            (h >> 16) as u16,
            (h & 0xfff) as u16,
            ((h2 >> 48) as u16 & 0x3fff) | 0x8000,
            h2 & 0xffff_ffff_ffff
        )
    }

    /// Creates a silence, or updates the one with `s.id` (in place when only the end time or
    /// comment changes on a non-expired silence; otherwise the old one is expired and a new ID
    /// issued). Returns the ID.
    pub fn set(&mut self, s: PostableSilence, now: i64) -> Result<String, SilenceError> {
        if s.matchers.is_empty() {
            return Err(SilenceError("at least one matcher required".into()));
        }
        if s.matchers.iter().all(|m| m.matches_empty()) {
            return Err(SilenceError(
                "at least one matcher must not match the empty string".into(),
            ));
        }
        if s.ends_at <= s.starts_at {
            return Err(SilenceError("start time must be before end time".into()));
        }
        if s.ends_at < now {
            return Err(SilenceError("end time can't be in the past".into()));
        }
        if let Some(id) = &s.id {
            let Some(old) = self.by_id.get(id).cloned() else {
                return Err(SilenceError(format!("silence {id} not found")));
            };
            let state = old.state_at(now);
            // silence.go canUpdate: same matchers, and for an active silence the same start
            // and an end not in the past, for a pending one a start not in the past.
            let in_place = old.matchers == s.matchers
                && match state {
                    SilenceState::Expired => false,
                    SilenceState::Active => old.starts_at == s.starts_at && s.ends_at >= now,
                    SilenceState::Pending => s.starts_at >= now,
                };
            if in_place {
                let e = self
                    .by_id
                    .get_mut(id)
                    .ok_or_else(|| SilenceError("vanished".into()))?;
                e.starts_at = s.starts_at;
                e.ends_at = s.ends_at;
                e.comment = s.comment;
                e.created_by = s.created_by;
                e.matchers = s.matchers;
                e.updated_at = now;
                return Ok(id.clone());
            }
            if state != SilenceState::Expired {
                self.expire(id, now)?;
            }
        }
        let id = self.next_id(now, &s);
        let starts_at = s.starts_at.max(now);
        self.by_id.insert(
            id.clone(),
            Silence {
                id: id.clone(),
                matchers: s.matchers,
                starts_at,
                ends_at: s.ends_at,
                updated_at: now,
                created_by: s.created_by,
                comment: s.comment,
            },
        );
        Ok(id)
    }

    /// Expires a silence now (a pending one gets start = end = now).
    pub fn expire(&mut self, id: &str, now: i64) -> Result<(), SilenceError> {
        let Some(s) = self.by_id.get_mut(id) else {
            return Err(SilenceError(format!("silence {id} not found")));
        };
        match s.state_at(now) {
            SilenceState::Expired => Err(SilenceError(format!("silence {id} already expired"))),
            SilenceState::Pending => {
                s.starts_at = now;
                s.ends_at = now;
                s.updated_at = now;
                Ok(())
            }
            SilenceState::Active => {
                s.ends_at = now;
                s.updated_at = now;
                Ok(())
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Silence> {
        self.by_id.get(id)
    }

    /// All silences, ordered by ID.
    pub fn list(&self) -> impl Iterator<Item = &Silence> {
        self.by_id.values()
    }

    /// IDs of the active silences that mute `labels` at `now`.
    pub fn muted_by(&self, labels: &Labels, now: i64) -> Vec<String> {
        self.by_id
            .values()
            .filter(|s| s.state_at(now) == SilenceState::Active && s.matchers.matches(labels))
            .map(|s| s.id.clone())
            .collect()
    }

    /// Drops silences expired for longer than `retention_ms`.
    pub fn gc(&mut self, now: i64, retention_ms: i64) {
        self.by_id.retain(|_, s| s.ends_at + retention_ms > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matchers::parse_matchers;

    fn post(m: &str, s: i64, e: i64) -> PostableSilence {
        PostableSilence {
            id: None,
            matchers: Matchers::new(parse_matchers(m).unwrap()),
            starts_at: s,
            ends_at: e,
            created_by: "me".into(),
            comment: "c".into(),
        }
    }

    #[test]
    fn lifecycle() {
        let mut ss = Silences::new();
        let id = ss.set(post("job=node", 0, 1000), 0).unwrap();
        let l = Labels::from_pairs(&[("job", "node")]);
        assert_eq!(ss.muted_by(&l, 10), vec![id.clone()]);
        assert!(ss
            .muted_by(&Labels::from_pairs(&[("job", "x")]), 10)
            .is_empty());
        ss.expire(&id, 20).unwrap();
        assert!(ss.muted_by(&l, 21).is_empty());
        assert_eq!(ss.get(&id).unwrap().state_at(21), SilenceState::Expired);
        assert_eq!(
            ss.expire(&id, 30).unwrap_err().0,
            format!("silence {id} already expired")
        );
    }

    #[test]
    fn refusals() {
        let mut ss = Silences::new();
        let mut p = post("job=node", 0, 1000);
        p.matchers = Matchers::default();
        assert_eq!(ss.set(p, 0).unwrap_err().0, "at least one matcher required");
        assert_eq!(
            ss.set(post("job=~\".*\"", 0, 1000), 0).unwrap_err().0,
            "at least one matcher must not match the empty string"
        );
        assert_eq!(
            ss.set(post("a=b", 10, 10), 0).unwrap_err().0,
            "start time must be before end time"
        );
        assert_eq!(
            ss.set(post("a=b", 0, 10), 50).unwrap_err().0,
            "end time can't be in the past"
        );
    }

    #[test]
    fn update_in_place_or_replace() {
        let mut ss = Silences::new();
        let id = ss.set(post("a=b", 0, 1000), 0).unwrap();
        // extend an active silence: same ID
        let mut p = post("a=b", 0, 2000);
        p.id = Some(id.clone());
        assert_eq!(ss.set(p, 10).unwrap(), id);
        assert_eq!(ss.get(&id).unwrap().ends_at, 2000);
        // change its matchers: the old one expires, a new ID is issued
        let mut p = post("a=c", 0, 2000);
        p.id = Some(id.clone());
        let id2 = ss.set(p, 20).unwrap();
        assert_ne!(id2, id);
        assert_eq!(ss.get(&id).unwrap().state_at(20), SilenceState::Expired);
        assert_eq!(ss.get(&id2).unwrap().starts_at, 20, "start moved to now");
        let mut p = post("a=c", 0, 2000);
        p.id = Some("nope".into());
        assert_eq!(ss.set(p, 30).unwrap_err().0, "silence nope not found");
    }

    #[test]
    fn pending_then_active_and_ids_distinct() {
        let mut ss = Silences::new();
        let a = ss.set(post("a=b", 100, 200), 0).unwrap();
        let b = ss.set(post("a=b", 100, 200), 0).unwrap();
        assert_ne!(a, b);
        assert_eq!(ss.get(&a).unwrap().state_at(50), SilenceState::Pending);
        assert_eq!(ss.get(&a).unwrap().state_at(150), SilenceState::Active);
    }
}

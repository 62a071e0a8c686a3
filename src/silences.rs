//! The Silences page's rows and actions: the built-in Alertmanager's silences with their state
//! on the virtual clock and the alerts each mutes now; adding one from a form (matchers in
//! Alertmanager's syntax, a start, a duration or an end) and expiring one. Plain Rust.
//!
//! Validation belongs to the engine: matchers are parsed by the alertmanager crate's
//! [`parse_matcher`] (this module only locates the failing one in the text), and a silence is
//! accepted or refused by [`promplay_alertmanager::Silences::set`] (no matcher, only
//! empty-matching matchers, an end before the start or in the past).

use promplay_alertmanager::matchers::{matcher_string, parse_matcher, parse_matchers, Matchers};
use promplay_alertmanager::{PostableSilence, SilenceState};
use promplay_model::{MatchType, Matcher};

use crate::playground::Playground;
use crate::time::{format_utc, parse_duration, parse_utc};

/// One silence as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SilenceRow {
    pub id: String,
    /// `{alertname="InstanceDown",instance=~"localhost.*"}` (Alertmanager's `String()`).
    pub matchers: String,
    /// `active`, `pending` or `expired` at the virtual time.
    pub state: &'static str,
    /// `YYYY-MM-DD HH:MM:SS` UTC, virtual time.
    pub starts: String,
    pub ends: String,
    pub created_by: String,
    pub comment: String,
    /// The alerts it mutes now (their label sets).
    pub mutes: Vec<String>,
}

/// What the user typed into the add form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SilenceForm {
    /// `alertname="InstanceDown", instance=~"localhost.*"` (braces optional).
    pub matchers: String,
    /// Empty for now, else `YYYY-MM-DD HH:MM[:SS]` (UTC) or Unix seconds.
    pub start: String,
    /// A duration from the start (`2h`), or an end time as `start` takes it.
    pub end: String,
    pub created_by: String,
    pub comment: String,
}

/// Why a silence could not be added or expired: the message shown under the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SilenceError(pub String);

impl std::fmt::Display for SilenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SilenceError {}

/// The silences, as Alertmanager's UI orders them: active first, then pending, then expired;
/// within a state by end time (expired ones newest first).
pub fn rows(p: &Playground) -> Vec<SilenceRow> {
    let Some(b) = p.stack().alertmanager.as_ref() else {
        return Vec::new();
    };
    let now = p.now_ms();
    let statuses = b.am.alert_statuses(now);
    let mut out: Vec<(u8, i64, SilenceRow)> =
        b.am.silences()
            .list()
            .map(|s| {
                let state = s.state_at(now);
                let mutes = statuses
                    .iter()
                    .filter(|(_, st)| st.silenced_by.contains(&s.id))
                    .map(|(a, _)| a.labels.to_string())
                    .collect();
                let (rank, key) = match state {
                    SilenceState::Active => (0, s.ends_at),
                    SilenceState::Pending => (1, s.starts_at),
                    SilenceState::Expired => (2, -s.ends_at),
                };
                (
                    rank,
                    key,
                    SilenceRow {
                        id: s.id.clone(),
                        matchers: s.matchers.to_string(),
                        state: state.as_str(),
                        starts: format_utc(s.starts_at),
                        ends: format_utc(s.ends_at),
                        created_by: s.created_by.clone(),
                        comment: s.comment.clone(),
                        mutes,
                    },
                )
            })
            .collect();
    out.sort_by(|a, b| (a.0, a.1, &a.2.id).cmp(&(b.0, b.1, &b.2.id)));
    out.into_iter().map(|(_, _, r)| r).collect()
}

/// An alert the Alertmanager holds, with whether it is muted now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRow {
    /// `{alertname="InstanceDown", …}`.
    pub labels: String,
    /// The label set as matchers (`alertname="InstanceDown", instance="…"`), to prefill the
    /// form with.
    pub matchers: String,
    /// `active` or `suppressed` (Alertmanager's API state).
    pub state: &'static str,
    /// The IDs of the silences that mute it now.
    pub silenced_by: Vec<String>,
    /// Fingerprints of the alerts that inhibit it now.
    pub inhibited_by: Vec<String>,
    /// When it started firing.
    pub starts: String,
}

/// The alerts the Alertmanager holds that are not resolved now (its API's `/api/v2/alerts`).
pub fn alerts(p: &Playground) -> Vec<AlertRow> {
    let Some(b) = p.stack().alertmanager.as_ref() else {
        return Vec::new();
    };
    b.am.alert_statuses(p.now_ms())
        .into_iter()
        .map(|(a, st)| AlertRow {
            labels: a.labels.to_string(),
            matchers: a
                .labels
                .iter()
                .filter_map(|l| Matcher::new(MatchType::Equal, &*l.name, &*l.value).ok())
                .map(|m| matcher_string(&m))
                .collect::<Vec<_>>()
                .join(", "),
            state: st.state,
            silenced_by: st.silenced_by,
            inhibited_by: st.inhibited_by,
            starts: format_utc(a.starts_at),
        })
        .collect()
}

/// Parses matchers in Alertmanager's syntax with the engine's parser; an error names the
/// failing matcher and the character (1-based) where it starts.
pub fn parse(text: &str) -> Result<Matchers, SilenceError> {
    match parse_matchers(text) {
        Ok(v) => Ok(Matchers::new(v)),
        Err(e) => {
            for (i, (at, token)) in tokens(text).into_iter().enumerate() {
                if let Err(te) = parse_matcher(&token) {
                    let col = text[..at].chars().count() + 1;
                    return Err(SilenceError(format!(
                        "matcher {} at character {col}: {te}",
                        i + 1
                    )));
                }
            }
            Err(SilenceError(e.to_string()))
        }
    }
}

/// The byte offset and text of each comma-separated matcher, split as the engine's
/// `parse_matchers` splits (commas inside quotes do not split; optional braces).
fn tokens(text: &str) -> Vec<(usize, String)> {
    let mut start = 0;
    let mut body = text;
    if let Some(r) = body.strip_prefix('{') {
        body = r;
        start = 1;
    }
    body = body.strip_suffix('}').unwrap_or(body);
    let mut out = Vec::new();
    let (mut inside, mut escaped) = (false, false);
    let mut tok_start = 0;
    for (i, c) in body.char_indices() {
        match c {
            ',' if !inside => {
                out.push((start + tok_start, body[tok_start..i].to_string()));
                tok_start = i + 1;
                continue;
            }
            '"' if !escaped => inside = !inside,
            '"' => escaped = false,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
    }
    let last = &body[tok_start..];
    if !last.trim().is_empty() {
        let lead = last.len() - last.trim_start().len();
        out.push((start + tok_start + lead, last.trim().to_string()));
    }
    // Point at the matcher's first character, not at the blanks before it.
    out.into_iter()
        .map(|(at, t)| {
            let lead = t.len() - t.trim_start().len();
            (at + lead, t)
        })
        .collect()
}

/// The start and end (ms) the form names, at virtual time `now`.
pub fn times(form: &SilenceForm, now: i64) -> Result<(i64, i64), SilenceError> {
    let start = match form.start.trim() {
        "" | "now" => now,
        s => parse_utc(s).map_err(|e| SilenceError(format!("start: {e}")))?,
    };
    let end_text = form.end.trim();
    let end = if end_text.is_empty() {
        return Err(SilenceError(
            "end: give a duration (e.g. 2h) or an end time".into(),
        ));
    } else if let Ok(d) = parse_duration(end_text) {
        start.saturating_add(d)
    } else {
        parse_utc(end_text).map_err(|_| {
            SilenceError(format!(
                "end: {end_text:?} is neither a duration (e.g. 2h) nor a time (YYYY-MM-DD HH:MM:SS UTC)"
            ))
        })?
    };
    Ok((start, end))
}

/// Adds the silence the form describes, now; returns its ID. The engine's refusal (e.g.
/// "at least one matcher required") is returned as is.
pub fn add(p: &mut Playground, form: &SilenceForm) -> Result<String, SilenceError> {
    let matchers = parse(&form.matchers)?;
    let now = p.now_ms();
    let (starts_at, ends_at) = times(form, now)?;
    // Through the playground, which records it for a shared session.
    p.add_silence(PostableSilence {
        id: None,
        matchers,
        starts_at,
        ends_at,
        created_by: form.created_by.trim().to_string(),
        comment: form.comment.trim().to_string(),
    })
    .map_err(SilenceError)
}

/// Expires the silence `id` now.
pub fn expire(p: &mut Playground, id: &str) -> Result<(), SilenceError> {
    p.expire_silence(id).map_err(SilenceError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox;
    use crate::playground::HostAction;

    fn form(m: &str, end: &str) -> SilenceForm {
        SilenceForm {
            matchers: m.into(),
            start: String::new(),
            end: end.into(),
            created_by: "ops@example.org".into(),
            comment: "maintenance".into(),
        }
    }

    fn instance_down_state(p: &Playground) -> Option<&'static str> {
        let am = &p.stack().alertmanager.as_ref().unwrap().am;
        am.alert_statuses(p.now_ms())
            .into_iter()
            .find(|(a, _)| a.labels.get("alertname") == Some("InstanceDown"))
            .map(|(_, s)| s.state)
    }

    #[test]
    fn a_silence_mutes_the_seed_alert_and_expiring_it_lets_the_email_go_at_the_next_flush() {
        let mut p = Playground::new();
        let id = add(&mut p, &form(r#"alertname="InstanceDown""#, "2h")).unwrap();
        let r = rows(&p);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].id, id);
        assert_eq!(r[0].matchers, r#"{alertname="InstanceDown"}"#);
        assert_eq!(r[0].state, "active");
        assert_eq!(r[0].starts, format_utc(p.now_ms()));
        assert_eq!(r[0].ends, format_utc(p.now_ms() + 7_200_000));
        assert_eq!(r[0].created_by, "ops@example.org");
        assert_eq!(r[0].comment, "maintenance");
        assert!(r[0].mutes.is_empty());

        let stop = p.now_ms();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(180_000);
        // The alert fired and reached the Alertmanager, but no email went out.
        let firing = p
            .stack()
            .prometheus
            .alert_log()
            .iter()
            .find(|t| t.rule == "InstanceDown" && t.state.as_str() == "firing" && t.at_ms >= stop)
            .map(|t| t.at_ms)
            .expect("the alert fired");
        assert!(inbox::items(&p).is_empty());
        assert_eq!(instance_down_state(&p), Some("suppressed"));
        let held = alerts(&p);
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].state, "suppressed");
        assert_eq!(held[0].silenced_by, vec![id.clone()]);
        assert_eq!(
            held[0].matchers,
            r#"alertname="InstanceDown", instance="localhost:9100", job="node""#
        );
        // The matchers offered for a new silence parse back to the alert's labels.
        assert_eq!(
            parse(&held[0].matchers).unwrap().to_string(),
            r#"{alertname="InstanceDown",instance="localhost:9100",job="node"}"#
        );
        let r = rows(&p);
        assert_eq!(
            r[0].mutes,
            [r#"{alertname="InstanceDown", instance="localhost:9100", job="node"}"#]
        );

        let expired_at = p.now_ms();
        expire(&mut p, &id).unwrap();
        assert_eq!(rows(&p)[0].state, "expired");
        assert_eq!(instance_down_state(&p), Some("active"));
        assert_eq!(
            expire(&mut p, &id).unwrap_err().0,
            format!("silence {id} already expired")
        );
        p.advance(300_000);
        let items = inbox::items(&p);
        assert_eq!(items.len(), 1, "{items:?}");
        let at = items[0].at_ms;
        assert!(at > expired_at && at <= expired_at + 300_000, "{at}");
        // The group's first flush was group_wait after the alert fired; the email goes at a
        // later flush, group_interval (5m) steps after it.
        assert_eq!((at - (firing + 30_000)) % 300_000, 0, "{at} {firing}");
        assert_eq!(
            items[0].subject,
            "[FIRING:1]  (InstanceDown localhost:9100 node)"
        );
    }

    #[test]
    fn a_silence_without_matchers_is_refused_by_the_engine() {
        let mut p = Playground::new();
        for empty in ["", "  ", "{}"] {
            assert_eq!(
                add(&mut p, &form(empty, "1h")).unwrap_err().0,
                "at least one matcher required"
            );
        }
        assert_eq!(
            add(&mut p, &form(r#"instance=~".*""#, "1h")).unwrap_err().0,
            "at least one matcher must not match the empty string"
        );
        assert!(rows(&p).is_empty());
    }

    #[test]
    fn matcher_errors_name_the_matcher_and_its_position() {
        let e = parse(r#"alertname="InstanceDown", =x"#).unwrap_err();
        assert_eq!(e.0, "matcher 2 at character 27: bad matcher format: =x");
        let e = parse(r#"{d=e, a="b"c"}"#).unwrap_err();
        assert_eq!(
            e.0,
            r#"matcher 2 at character 7: matcher value contains unescaped double quote: "b"c""#
        );
        let e = parse(r#"a=b, job=~"(""#).unwrap_err();
        assert!(e.0.starts_with("matcher 2 at character 6: "), "{e}");
        let m = parse(r#"alertname="InstanceDown", instance=~"localhost.*""#).unwrap();
        assert_eq!(
            m.to_string(),
            r#"{alertname="InstanceDown",instance=~"localhost.*"}"#
        );
    }

    #[test]
    fn start_and_end_as_durations_or_times() {
        let now = 1_767_225_600_000;
        assert_eq!(times(&form("a=b", "2h"), now), Ok((now, now + 7_200_000)));
        let mut f = form("a=b", "2026-01-01 03:00:00");
        f.start = "2026-01-01 01:00".into();
        assert_eq!(times(&f, now), Ok((now + 3_600_000, now + 3 * 3_600_000)));
        assert!(times(&form("a=b", ""), now).is_err());
        assert!(times(&form("a=b", "soon"), now)
            .unwrap_err()
            .0
            .contains("neither a duration"));
        // A pending silence (starts later) mutes nothing yet.
        let mut p = Playground::new();
        let mut f = form("alertname=InstanceDown", "1h");
        f.start = format_utc(p.now_ms() + 600_000);
        add(&mut p, &f).unwrap();
        assert_eq!(rows(&p)[0].state, "pending");
        // An end before the start is the engine's refusal.
        let mut f = form("alertname=InstanceDown", "2026-01-01 00:00:00");
        f.start = "2026-01-01 01:00".into();
        assert_eq!(
            add(&mut p, &f).unwrap_err().0,
            "start time must be before end time"
        );
    }
}

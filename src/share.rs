//! A URL that shares a whole session. The engine is deterministic: the same configs, seed and
//! actions at the same virtual instants give the same samples, so a session is its action log
//! (every user action on the simulated world with its virtual time) and the virtual time it
//! had reached. [`crate::playground::Playground::session`] writes the log,
//! [`crate::playground::Playground::replay`] (or a [`Replay`] stepped a slice at a time, as the
//! page does) plays it on a fresh playground.
//!
//! The encoding, for `?session=` in the page's URL: `v1.` + base64url (no padding) of the
//! log's JSON + `.` + the XXH64 of that JSON in 16 hex digits. Times in the JSON are ms after
//! the session's start. Plain Rust.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::playground::{Playground, SLICE_MS, START_MS, WORLD_SEED};

/// The encoding's version prefix.
pub const VERSION: &str = "v1";
/// The name of the URL parameter that carries a session.
pub const PARAM: &str = "session";
/// The longest session replayed (virtual time after the start): a week.
pub const MAX_SPAN_MS: i64 = 7 * 24 * 3_600_000;
/// The most actions a session holds.
pub const MAX_ACTIONS: usize = 10_000;
/// The longest encoded session accepted (characters).
pub const MAX_ENCODED: usize = 4_000_000;

/// One user action on the simulated world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "a", rename_all = "snake_case")]
pub enum Action {
    /// Targets: stop, start or restart the program at `h`.
    Stop {
        h: String,
    },
    Start {
        h: String,
    },
    Restart {
        h: String,
    },
    /// Targets: faults.
    Slow {
        h: String,
        ms: i64,
    },
    Explode {
        h: String,
    },
    Garbage {
        h: String,
    },
    Huge {
        h: String,
    },
    Heal {
        h: String,
    },
    /// Workshop: deploy an example (its name) on the hello app.
    Deploy {
        example: String,
    },
    /// Workshop: send one request to the hello app.
    Request,
    /// Config: apply prometheus.yml, rules.yml, alertmanager.yml.
    Config {
        text: String,
    },
    Rules {
        text: String,
    },
    Alertmanager {
        text: String,
    },
    /// Silences: add one (matchers as `[name, op, value]`, times absolute ms).
    Silence {
        m: Vec<[String; 3]>,
        starts: i64,
        ends: i64,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        by: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        comment: String,
    },
    /// Silences: expire one.
    Expire {
        id: String,
    },
}

/// An action and the virtual time it happened at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// Virtual time, ms since the Unix epoch (ms after the start in the encoding).
    pub t: i64,
    #[serde(flatten)]
    pub action: Action,
}

/// A whole session: where it started, its actions in order, and the virtual time it reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionLog {
    pub seed: u64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub actions: Vec<Recorded>,
}

/// The JSON form (times relative to the start).
#[derive(Serialize, Deserialize)]
struct Wire {
    seed: u64,
    start: i64,
    end: i64,
    #[serde(default)]
    actions: Vec<Recorded>,
}

impl SessionLog {
    /// `v1.<base64url of the JSON>.<xxh64 of the JSON>`.
    pub fn encode(&self) -> String {
        let wire = Wire {
            seed: self.seed,
            start: self.start_ms,
            end: self.end_ms - self.start_ms,
            actions: self
                .actions
                .iter()
                .map(|r| Recorded {
                    t: r.t - self.start_ms,
                    action: r.action.clone(),
                })
                .collect(),
        };
        // Serializing plain structs of strings and integers cannot fail.
        let json = serde_json::to_vec(&wire).unwrap_or_default();
        format!(
            "{VERSION}.{}.{:016x}",
            URL_SAFE_NO_PAD.encode(&json),
            promplay_model::hash::xxhash64(&json)
        )
    }

    /// Decodes [`SessionLog::encode`]'s form; anything else (another version, a truncated or
    /// altered string) is refused with the reason.
    pub fn decode(text: &str) -> Result<SessionLog, String> {
        let text = text.trim();
        if text.len() > MAX_ENCODED {
            return Err(format!(
                "the session is too long ({} characters; at most {MAX_ENCODED})",
                text.len()
            ));
        }
        let mut parts = text.split('.');
        let (Some(version), Some(body), Some(sum), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "not a shared session (expected {VERSION}.<data>.<checksum>)"
            ));
        };
        if version != VERSION {
            return Err(format!(
                "a session of version {version:?}; this playground reads {VERSION}"
            ));
        }
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|e| format!("the session is damaged (truncated or altered): {e}"))?;
        let want = u64::from_str_radix(sum, 16)
            .ok()
            .filter(|_| sum.len() == 16)
            .ok_or("the session is damaged (truncated or altered): bad checksum")?;
        if promplay_model::hash::xxhash64(&json) != want {
            return Err(
                "the session is damaged (truncated or altered): its checksum does not match".into(),
            );
        }
        let wire: Wire = serde_json::from_slice(&json)
            .map_err(|e| format!("the session does not decode: {e}"))?;
        let abs = |t: i64| {
            wire.start
                .checked_add(t)
                .ok_or_else(|| format!("the session's time {t} is out of range"))
        };
        let log = SessionLog {
            seed: wire.seed,
            start_ms: wire.start,
            end_ms: abs(wire.end)?,
            actions: wire
                .actions
                .into_iter()
                .map(|r| {
                    Ok(Recorded {
                        t: abs(r.t)?,
                        action: r.action,
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        log.validate()?;
        Ok(log)
    }

    /// The checks a replay needs: this playground's world, times in order and within bounds.
    pub fn validate(&self) -> Result<(), String> {
        if self.seed != WORLD_SEED || self.start_ms != START_MS {
            return Err(format!(
                "the session is of another world (seed {}, start {}); this playground runs seed {WORLD_SEED} from {START_MS}",
                self.seed, self.start_ms
            ));
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(format!(
                "the session has {} actions; at most {MAX_ACTIONS} are replayed",
                self.actions.len()
            ));
        }
        if self.end_ms < self.start_ms || self.end_ms - self.start_ms > MAX_SPAN_MS {
            return Err(format!(
                "the session's virtual time must be between its start and {} days later",
                MAX_SPAN_MS / 86_400_000
            ));
        }
        let mut last = self.start_ms;
        for (i, r) in self.actions.iter().enumerate() {
            if r.t < last || r.t > self.end_ms {
                return Err(format!(
                    "action {} of the session is out of order (at {} ms)",
                    i + 1,
                    r.t - self.start_ms
                ));
            }
            last = r.t;
        }
        Ok(())
    }
}

/// A replay in progress: [`Replay::step`] does at most one slice of virtual time (or the
/// actions due now), so a page can spread it over frames.
#[derive(Clone, Debug)]
pub struct Replay {
    log: SessionLog,
    next: usize,
}

impl Replay {
    /// A replay of `log` (checked first).
    pub fn new(log: SessionLog) -> Result<Replay, String> {
        log.validate()?;
        Ok(Replay { log, next: 0 })
    }

    /// The virtual time the replay ends at.
    pub fn end_ms(&self) -> i64 {
        self.log.end_ms
    }

    /// One step on `p` (a playground at the log's start, stepped by this replay only): the
    /// next action if it is due now, or one slice towards the next action or the end.
    /// `Ok(true)` when done; an action that fails stops the replay with its error.
    pub fn step(&mut self, p: &mut Playground) -> Result<bool, String> {
        let now = p.now_ms();
        if let Some(r) = self.log.actions.get(self.next).filter(|r| r.t <= now) {
            if r.t < now {
                return Err(format!(
                    "action {} of the session comes before the playground's time",
                    self.next + 1
                ));
            }
            p.perform(&r.action).map_err(|e| {
                format!(
                    "action {} of the session ({}) failed: {e}",
                    self.next + 1,
                    describe(&r.action)
                )
            })?;
            self.next += 1;
            return Ok(false);
        }
        let target = self
            .log
            .actions
            .get(self.next)
            .map_or(self.log.end_ms, |r| r.t);
        if now >= target {
            return Ok(true);
        }
        p.advance_to(now.saturating_add(SLICE_MS).min(target));
        Ok(false)
    }

    /// How far the replay is, in `[0, 1]`.
    pub fn progress(&self, now: i64) -> f64 {
        let span = (self.log.end_ms - self.log.start_ms).max(1) as f64;
        ((now - self.log.start_ms) as f64 / span).clamp(0.0, 1.0)
    }
}

/// A short description of an action, for errors.
pub fn describe(a: &Action) -> String {
    match a {
        Action::Stop { h } => format!("stop {h}"),
        Action::Start { h } => format!("start {h}"),
        Action::Restart { h } => format!("restart {h}"),
        Action::Slow { h, ms } => format!("slow {h} by {ms} ms"),
        Action::Explode { h } => format!("explode {h}"),
        Action::Garbage { h } => format!("garbage from {h}"),
        Action::Huge { h } => format!("huge bodies from {h}"),
        Action::Heal { h } => format!("heal {h}"),
        Action::Deploy { example } => format!("deploy {example}"),
        Action::Request => "send a request".into(),
        Action::Config { .. } => "apply prometheus.yml".into(),
        Action::Rules { .. } => "apply rules.yml".into(),
        Action::Alertmanager { .. } => "apply alertmanager.yml".into(),
        Action::Silence { .. } => "add a silence".into(),
        Action::Expire { id } => format!("expire silence {id}"),
    }
}

/// The value of `?session=` in a URL's search string (`None` when there is none).
pub fn from_search(search: &str) -> Option<String> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == PARAM)
        .map(|(_, v)| v.to_string())
}

/// `search` with its `session` parameter set to `encoded` (the other parameters, such as
/// `source`, kept in order).
pub fn to_search(search: &str, encoded: &str) -> String {
    let mut parts: Vec<String> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some(PARAM))
        .map(str::to_string)
        .collect();
    parts.push(format!("{PARAM}={encoded}"));
    format!("?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox;
    use crate::playground::{Fault, HostAction, SEED_CONFIG, SEED_RULES};
    use crate::silences::{self, SilenceForm};
    use promplay_promql::value::Value;

    /// The values of `q` at `t`, as bits (exact, NaN-safe).
    fn bits(p: &Playground, q: &str, t: i64) -> Vec<(String, u64)> {
        match p.instant_query(q, t, None).unwrap().value {
            Value::Vector(v) => v
                .iter()
                .map(|s| (s.metric.to_string(), s.f.to_bits()))
                .collect(),
            other => panic!("{q}: {other:?}"),
        }
    }

    fn form(m: &str, end: &str) -> SilenceForm {
        SilenceForm {
            matchers: m.into(),
            end: end.into(),
            created_by: "ops@example.org".into(),
            comment: "maintenance".into(),
            ..Default::default()
        }
    }

    /// A session with every kind of action: hosts, faults, configs, silences, the Workshop.
    fn a_session() -> Playground {
        let mut p = Playground::new();
        p.advance(4_321);
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.inject("localhost:8000", Fault::Slow(2_000)).unwrap();
        p.advance(37_000);
        let rules = SEED_RULES.replace("for: 1m", "for: 30s");
        assert_ne!(rules, SEED_RULES);
        p.apply_rules(&rules).unwrap();
        let id = silences::add(
            &mut p,
            &form(r#"alertname="InstanceDown", job=~"no.*""#, "10m"),
        )
        .unwrap();
        p.send_request().unwrap();
        p.advance(61_500);
        p.inject("localhost:8000", Fault::Explode).unwrap();
        p.set_example(promplay_sim::Example::Sales).unwrap();
        p.advance(95_000);
        silences::expire(&mut p, &id).unwrap();
        silences::add(&mut p, &form(r#"alertname="Nothing""#, "1h")).unwrap();
        p.inject("localhost:8000", Fault::Heal).unwrap();
        p.inject("localhost:9090", Fault::Garbage).unwrap();
        p.apply_config(
            &SEED_CONFIG.replace("evaluation_interval: 10s", "evaluation_interval: 15s"),
        )
        .unwrap();
        p.advance(400_000);
        p.act("localhost:9100", HostAction::Start).unwrap();
        p.advance(123_456);
        p
    }

    #[test]
    fn a_replayed_session_gives_bit_identical_answers_alerts_and_inbox() {
        let a = a_session();
        assert_eq!(a.actions().len(), 13);
        let url = a.session().encode();
        let log = SessionLog::decode(&url).unwrap();
        assert_eq!(log, a.session());
        let b = Playground::replay(&log).unwrap();
        assert_eq!(b.now_ms(), a.now_ms());
        // The replayed playground records the same session (sharing it again gives the same URL).
        assert_eq!(b.session().encode(), url);
        let end = a.now_ms();
        for q in [
            "up",
            "rate(hello_worlds_total[1m])",
            "hello_world_sales_euro_total",
            "ALERTS",
            "ALERTS_FOR_STATE",
            "scrape_samples_scraped",
            "scrape_duration_seconds",
            "sum(rate(node_cpu_seconds_total[5m]))",
            "prometheus_tsdb_head_series",
        ] {
            for t in [end, end - 100_000, end - 500_000, START_MS + 30_000] {
                assert_eq!(bits(&a, q, t), bits(&b, q, t), "{q} at {t}");
            }
        }
        assert!(
            !bits(&a, "ALERTS", end - 500_000).is_empty(),
            "the alert fired"
        );
        let log_a = a.stack().prometheus.alert_log();
        assert!(log_a.iter().any(|t| t.state.as_str() == "firing"));
        assert_eq!(log_a, b.stack().prometheus.alert_log());
        let mail = |p: &Playground| -> Vec<(i64, String)> {
            inbox::items(p)
                .into_iter()
                .map(|i| (i.at_ms, i.subject))
                .collect()
        };
        assert!(!mail(&a).is_empty(), "an email after the silence expired");
        assert_eq!(mail(&a), mail(&b));
        assert_eq!(silences::rows(&a), silences::rows(&b));
        assert_eq!(silences::rows(&a).len(), 2);
        assert_eq!(
            crate::targets::groups(&a.targets(), end),
            crate::targets::groups(&b.targets(), end)
        );
        assert_eq!(a.faults("localhost:9090"), b.faults("localhost:9090"));
        assert_eq!(a.config_text(), b.config_text());
        assert_eq!(a.rules_text(), b.rules_text());
        assert_eq!(a.example(), b.example());
    }

    /// The Workshop page turns change tracking on while it is open, unrecorded: it must not
    /// change what a replay computes.
    #[test]
    fn change_tracking_is_not_an_action() {
        let mut a = Playground::new();
        let mut b = Playground::new();
        b.track_changes(true);
        for p in [&mut a, &mut b] {
            p.send_request().unwrap();
            p.advance(90_000);
            p.send_request().unwrap();
            p.advance(90_000);
        }
        assert_eq!(a.session(), b.session());
        for q in [
            "hello_worlds_total",
            "rate(hello_world_exceptions_total[1m])",
            "up",
        ] {
            assert_eq!(bits(&a, q, a.now_ms()), bits(&b, q, b.now_ms()), "{q}");
        }
    }

    #[test]
    fn tampered_truncated_and_foreign_sessions_are_refused() {
        let a = a_session();
        let url = a.session().encode();
        let (head, sum) = url.rsplit_once('.').unwrap();
        // Truncated anywhere.
        for cut in [url.len() - 1, url.len() / 2, 5, 3, 0] {
            let e = SessionLog::decode(&url[..cut]).unwrap_err();
            assert!(!e.is_empty(), "{cut}");
        }
        // One character of the data changed.
        let mut bytes = head.as_bytes().to_vec();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let altered = format!("{}.{sum}", String::from_utf8(bytes).unwrap());
        let e = SessionLog::decode(&altered).unwrap_err();
        assert!(e.contains("damaged"), "{e}");
        // Another version, no separators, junk.
        assert!(SessionLog::decode(&url.replacen("v1.", "v2.", 1))
            .unwrap_err()
            .contains("version"));
        for junk in ["", "hello", "v1..", "v1.!!!.0000000000000000", "v1.e30.x"] {
            assert!(SessionLog::decode(junk).is_err(), "{junk}");
        }
        // Well-formed but not replayable: refused with the reason, never a panic.
        let mut log = a.session();
        log.actions.swap(0, 3);
        assert!(SessionLog::decode(&log.encode())
            .unwrap_err()
            .contains("out of order"));
        let mut log = a.session();
        log.seed = 7;
        assert!(SessionLog::decode(&log.encode())
            .unwrap_err()
            .contains("another world"));
        let mut log = a.session();
        log.end_ms = START_MS + MAX_SPAN_MS + 1;
        assert!(SessionLog::decode(&log.encode()).is_err());
        let log = SessionLog {
            seed: WORLD_SEED,
            start_ms: START_MS,
            end_ms: START_MS + 20_000,
            actions: vec![Recorded {
                t: START_MS + 10_000,
                action: Action::Stop {
                    h: "localhost:1".into(),
                },
            }],
        };
        let e = Playground::replay(&SessionLog::decode(&log.encode()).unwrap())
            .err()
            .unwrap();
        assert_eq!(
            e,
            "action 1 of the session (stop localhost:1) failed: no program listens at localhost:1"
        );
        let mut bad = log.clone();
        bad.actions[0].action = Action::Config {
            text: "scrape_configs: [".into(),
        };
        assert!(Playground::replay(&bad)
            .err()
            .unwrap()
            .starts_with("action 1 of the session (apply prometheus.yml) failed: "));
    }

    #[test]
    fn a_typical_session_url_stays_small() {
        // The e2e story: stop the node exporter, three minutes, a silence.
        let mut p = Playground::new();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(180_000);
        silences::add(&mut p, &form(r#"alertname="InstanceDown""#, "2h")).unwrap();
        let small = p.session().encode();
        // ... and with an edited prometheus.yml applied.
        p.apply_config(&SEED_CONFIG.replace("scrape_interval: 10s", "scrape_interval: 15s"))
            .unwrap();
        let with_config = p.session().encode();
        let big = a_session().session().encode();
        println!(
            "session URL parameter: {} characters (stop, 3 min, silence); {} with a prometheus.yml applied; {} for the 13-action session (rules.yml and prometheus.yml applied)",
            small.len(),
            with_config.len(),
            big.len()
        );
        assert!(small.len() < 600, "{}", small.len());
        assert!(with_config.len() < 2_500, "{}", with_config.len());
    }

    #[test]
    fn the_session_parameter_sits_beside_source() {
        assert_eq!(to_search("", "v1.x.y"), "?session=v1.x.y");
        assert_eq!(
            to_search("?source=companion&session=old", "v1.x.y"),
            "?source=companion&session=v1.x.y"
        );
        assert_eq!(
            from_search("?source=companion&session=v1.x.y").as_deref(),
            Some("v1.x.y")
        );
        assert_eq!(from_search("?source=companion"), None);
    }
}

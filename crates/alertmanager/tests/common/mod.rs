//! Helpers shared by the integration tests.
#![allow(dead_code)]

use promplay_alertmanager::{
    Alertmanager, Config, Notification, Notifier, NotifyError, Options, PostableAlert,
};
use promplay_model::Labels;

pub fn shared(path: &str) -> String {
    let p = format!("{}/../../../shared/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// A notifier that records what it is given and can be told to fail.
#[derive(Default)]
pub struct Inbox {
    pub got: Vec<Notification>,
    pub fail: bool,
}

impl Notifier for Inbox {
    fn notify(&mut self, n: &Notification) -> Result<(), NotifyError> {
        if self.fail {
            return Err(NotifyError {
                message: "connection refused".into(),
                retry: true,
            });
        }
        self.got.push(n.clone());
        Ok(())
    }
}

/// 2026-11-25T13:15:56.656Z, when the seed's node_exporter was killed (alert-kill-time.txt).
pub const T0: i64 = 1_795_612_556_656;

pub fn s(secs: f64) -> i64 {
    T0 + (secs * 1000.0).round() as i64
}

pub fn engine(cfg: &str) -> Alertmanager {
    let c = Config::load(cfg).unwrap_or_else(|e| panic!("{e}"));
    Alertmanager::new(
        c,
        &[],
        Options {
            external_url: "http://vm:9093".into(),
            hostname: "vm".into(),
        },
        T0,
    )
    .unwrap()
}

pub fn alert(labels: &[(&str, &str)], starts: i64, ends: Option<i64>) -> PostableAlert {
    PostableAlert {
        labels: Labels::from_pairs(labels),
        annotations: Labels::empty(),
        starts_at: Some(starts),
        ends_at: ends,
        generator_url: "http://vm:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1".into(),
    }
}

pub fn instance_down(starts: i64, ends: Option<i64>) -> PostableAlert {
    alert(
        &[
            ("alertname", "InstanceDown"),
            ("instance", "localhost:9100"),
            ("job", "node"),
        ],
        starts,
        ends,
    )
}

/// Advances to `t`, returning what was delivered meanwhile.
pub fn run_to(am: &mut Alertmanager, inbox: &mut Inbox, t: i64) -> Vec<Notification> {
    let before = inbox.got.len();
    am.advance_to(t, inbox);
    inbox.got[before..].to_vec()
}

/// Steps through every wakeup up to `end`, returning (time, notification) pairs.
pub fn timeline(am: &mut Alertmanager, inbox: &mut Inbox, end: i64) -> Vec<(i64, Notification)> {
    let mut out = Vec::new();
    while let Some(w) = am.next_wakeup() {
        if w > end {
            break;
        }
        for n in run_to(am, inbox, w) {
            out.push((w, n));
        }
    }
    am.advance_to(end, inbox);
    out
}

//! Times the engine on a larger load: 10,000 alerts in 100 groups, re-sent every minute for an
//! hour of virtual time, webhook receiver. `cargo run --release -p promplay-alertmanager
//! --example bench_dispatch`. (The wall clock is read here, in the example, never in the
//! library.)

use std::time::Instant;

use promplay_alertmanager::{
    Alertmanager, Config, Notification, Notifier, NotifyError, Options, PostableAlert,
};
use promplay_model::Labels;

struct Count(usize, usize);

impl Notifier for Count {
    fn notify(&mut self, n: &Notification) -> Result<(), NotifyError> {
        self.0 += 1;
        self.1 += n.firing.len() + n.resolved.len();
        Ok(())
    }
}

fn main() {
    let cfg = Config::load(
        "route:\n  receiver: hook\n  group_by: [alertname]\ninhibit_rules:\n  - source_matchers: [severity=critical]\n    target_matchers: [severity=warning]\n    equal: [instance]\nreceivers:\n  - name: hook\n    webhook_configs: [{url: 'http://127.0.0.1:1/'}]\n",
    )
    .expect("config");
    let mut am = Alertmanager::new(cfg, &[], Options::default(), 0).expect("engine");
    let mut n = Count(0, 0);
    let alerts = |t: i64| -> Vec<PostableAlert> {
        (0..10_000)
            .map(|i| {
                let g = format!("Alert{}", i % 100);
                let inst = format!("host{i}");
                let sev = if i % 10 == 0 { "critical" } else { "warning" };
                PostableAlert {
                    labels: Labels::from_pairs(&[
                        ("alertname", &g),
                        ("instance", &inst),
                        ("severity", sev),
                    ]),
                    annotations: Labels::empty(),
                    starts_at: Some(0),
                    ends_at: Some(t + 240_000),
                    generator_url: String::new(),
                }
            })
            .collect()
    };
    let start = Instant::now();
    let mut t = 0;
    while t <= 3_600_000 {
        am.advance_to(t, &mut n);
        am.put_alerts(alerts(t), t);
        t += 60_000;
    }
    am.advance_to(t, &mut n);
    let el = start.elapsed();
    println!(
        "61 rounds × 10,000 alerts, 100 groups, 1 h virtual: {:.2?} ({} notifications, {} alert entries)",
        el, n.0, n.1
    );
}

//! Alerts out: what the rule manager says to send goes (a) to the Alertmanagers of the
//! configuration's `alerting:` section, posted as JSON to `/api/v2/alerts` (Prometheus's
//! notifier: external labels added, one POST per Alertmanager per batch, the section's
//! `timeout`), and (b) to the built-in Alertmanager (`--alertmanager.config`): the
//! alertmanager crate's engine on a thread of its own, advanced on the wall clock, whose
//! notifications are delivered here — email over SMTP with lettre (implicit TLS on port 465,
//! STARTTLS when `require_tls`, AUTH when a username is set), webhooks with reqwest — each
//! retried with exponential backoff; a notification that still fails is retried by the engine
//! at the group's next flush (it is only logged as sent once delivered).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration as StdDuration;

use promplay_alertmanager::{
    Alertmanager, Notification, Notifier, NotifyError, Payload, PostableAlert,
};
use promplay_model::Labels;
use promplay_rules::NotifierAlert;
use promplay_server::alerting::static_alertmanagers;
use promplay_server::relabel::{self, RelabelConfig};
use promplay_server::Config;
use tokio::runtime::Handle;

use super::json::{write_labels, write_str};
use super::now_ms;

/// Where alerts go, from the configuration.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// `(alerts URL, timeout ms, the section's alert_relabel_configs)` per Alertmanager.
    pub alertmanagers: Vec<(String, u64, Vec<RelabelConfig>)>,
    pub external_labels: Labels,
    /// `alerting.alert_relabel_configs`, applied to every alert.
    pub alert_relabel_configs: Vec<RelabelConfig>,
}

impl Targets {
    pub fn from_config(cfg: &Config) -> Result<Targets, String> {
        let mut alertmanagers = Vec::new();
        for am in &cfg.alerting.alertmanagers {
            let (active, _) = static_alertmanagers(am)?;
            for t in active {
                alertmanagers.push((
                    t.url(),
                    am.timeout.as_millis().max(1) as u64,
                    am.alert_relabel_configs.clone(),
                ));
            }
        }
        let external_labels = Labels::new(
            cfg.global
                .external_labels
                .iter()
                .map(|(k, v)| promplay_model::Label::new(k.as_str(), v.as_str()))
                .collect(),
        );
        Ok(Targets {
            alertmanagers,
            external_labels,
            alert_relabel_configs: cfg.alerting.alert_relabel_configs.clone(),
        })
    }
}

/// The API's handle on the notifier.
pub struct NotifierHandle {
    pub targets: Arc<RwLock<Targets>>,
    /// Counts of alerts posted, and of failed posts, to the configured Alertmanagers.
    pub sent: Arc<std::sync::atomic::AtomicU64>,
    pub errors: Arc<std::sync::atomic::AtomicU64>,
    builtin: Option<Mutex<Sender<AmCmd>>>,
}

impl NotifierHandle {
    pub fn set_targets(&self, t: Targets) {
        *self.targets.write().unwrap_or_else(|e| e.into_inner()) = t;
    }

    pub fn stop(&self) {
        if let Some(b) = &self.builtin {
            let _ = b
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .send(AmCmd::Stop);
        }
    }
}

enum AmCmd {
    Alerts(Vec<PostableAlert>),
    Stop,
}

/// Starts the notifier: a thread reading the rule manager's batches from `rx`.
pub fn start(
    rt: Handle,
    targets: Targets,
    rx: Receiver<Vec<NotifierAlert>>,
    builtin: Option<(promplay_alertmanager::Config, Vec<(String, String)>)>,
) -> Result<NotifierHandle, String> {
    let targets = Arc::new(RwLock::new(targets));
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let builtin_tx = match builtin {
        Some((cfg, templates)) => {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "localhost".into());
            let am = Alertmanager::new(
                cfg,
                &templates,
                promplay_alertmanager::Options {
                    external_url: "http://localhost:9093".into(),
                    hostname: host,
                },
                now_ms(),
            )
            .map_err(|e| format!("built-in Alertmanager: {e}"))?;
            let (tx, arx) = mpsc::channel();
            let rt2 = rt.clone();
            std::thread::Builder::new()
                .name("alertmanager".into())
                .spawn(move || run_builtin(am, arx, rt2))
                .map_err(|e| e.to_string())?;
            Some(tx)
        }
        None => None,
    };
    let t2 = targets.clone();
    let (s2, e2) = (sent.clone(), errors.clone());
    let btx = builtin_tx.clone();
    std::thread::Builder::new()
        .name("notifier".into())
        .spawn(move || {
            let client = reqwest::Client::new();
            while let Ok(batch) = rx.recv() {
                let t = t2.read().unwrap_or_else(|e| e.into_inner()).clone();
                // External labels, then alert relabeling (an alert relabeled to nothing is
                // dropped), as Prometheus's notifier does.
                let alerts: Vec<PostableAlert> = batch
                    .into_iter()
                    .filter_map(|a| {
                        let labels = relabel::process(
                            &with_external(&a.labels, &t.external_labels),
                            &t.alert_relabel_configs,
                        )?;
                        (!labels.is_empty()).then_some(PostableAlert {
                            labels,
                            annotations: a.annotations,
                            starts_at: Some(a.starts_at),
                            ends_at: Some(a.ends_at),
                            generator_url: a.generator_url,
                        })
                    })
                    .collect();
                if let Some(tx) = &btx {
                    let _ = tx.send(AmCmd::Alerts(alerts.clone()));
                }
                if t.alertmanagers.is_empty() {
                    continue;
                }
                for (url, timeout, am_relabel) in t.alertmanagers {
                    let mine: Vec<PostableAlert> = alerts
                        .iter()
                        .filter_map(|a| {
                            let labels = relabel::process(&a.labels, &am_relabel)?;
                            (!labels.is_empty()).then(|| PostableAlert {
                                labels,
                                ..a.clone()
                            })
                        })
                        .collect();
                    if mine.is_empty() {
                        continue;
                    }
                    let b = alerts_json(&mine);
                    let (c, s3, e3) = (client.clone(), s2.clone(), e2.clone());
                    let n = mine.len() as u64;
                    rt.spawn(async move {
                        let r = c
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .header("User-Agent", "Prometheus/3.14.0")
                            .timeout(StdDuration::from_millis(timeout))
                            .body(b)
                            .send()
                            .await;
                        match r {
                            Ok(resp) if resp.status().is_success() => {
                                s3.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                            }
                            Ok(resp) => {
                                e3.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                eprintln!(
                                    "promplay serve: error sending alerts to {url}: bad response status {}",
                                    resp.status()
                                );
                            }
                            Err(e) => {
                                e3.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                eprintln!("promplay serve: error sending alerts to {url}: {e}");
                            }
                        }
                    });
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(NotifierHandle {
        targets,
        sent,
        errors,
        builtin: builtin_tx.map(Mutex::new),
    })
}

/// External labels added to an alert's labels where it does not have them.
fn with_external(labels: &Labels, ext: &Labels) -> Labels {
    if ext.is_empty() {
        return labels.clone();
    }
    let mut b = labels.builder();
    for l in ext.iter() {
        if !labels.has(&l.name) {
            b.set(l.name.clone(), l.value.clone());
        }
    }
    b.labels()
}

/// The `/api/v2/alerts` body Prometheus posts.
pub fn alerts_json(alerts: &[PostableAlert]) -> String {
    let mut out = String::from("[");
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"annotations\":");
        write_labels(&mut out, &a.annotations);
        out.push_str(",\"endsAt\":");
        write_str(&mut out, &rfc3339_ms(a.ends_at.unwrap_or(0)));
        out.push_str(",\"startsAt\":");
        write_str(&mut out, &rfc3339_ms(a.starts_at.unwrap_or(0)));
        out.push_str(",\"generatorURL\":");
        write_str(&mut out, &a.generator_url);
        out.push_str(",\"labels\":");
        write_labels(&mut out, &a.labels);
        out.push('}');
    }
    out.push(']');
    out
}

fn rfc3339_ms(ms: i64) -> String {
    promplay_rules::api::rfc3339(Some(ms))
}

fn run_builtin(mut am: Alertmanager, rx: Receiver<AmCmd>, rt: Handle) {
    let mut notifier = Delivery {
        rt,
        client: reqwest::Client::new(),
        max_attempts: 5,
    };
    let mut last_gc = now_ms();
    loop {
        let now = now_ms();
        for n in am.advance_to(now, &mut notifier) {
            eprintln!(
                "promplay serve: built-in Alertmanager notified {}/{} ({} firing, {} resolved)",
                n.receiver,
                n.integration,
                n.firing.len(),
                n.resolved.len()
            );
        }
        if now - last_gc > 60_000 {
            am.gc(now);
            last_gc = now;
        }
        let wait = am
            .next_wakeup()
            .map(|t| t.saturating_sub(now_ms()))
            .unwrap_or(1000)
            .clamp(0, 1000);
        match rx.recv_timeout(StdDuration::from_millis(wait as u64)) {
            Ok(AmCmd::Alerts(a)) => {
                for r in am.put_alerts(a, now_ms()) {
                    if let Err(e) = r {
                        eprintln!("promplay serve: built-in Alertmanager refused an alert: {e}");
                    }
                }
            }
            Ok(AmCmd::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// Delivers the built-in Alertmanager's notifications.
struct Delivery {
    rt: Handle,
    client: reqwest::Client,
    max_attempts: u32,
}

impl Notifier for Delivery {
    fn notify(&mut self, n: &Notification) -> Result<(), NotifyError> {
        let mut delay = StdDuration::from_millis(500);
        let mut last = NotifyError {
            message: "no attempt".into(),
            retry: true,
        };
        for attempt in 1..=self.max_attempts {
            let r = match &n.payload {
                Payload::Email(m) => send_email(m),
                Payload::Webhook(w) => self.send_webhook(w),
            };
            match r {
                Ok(()) => return Ok(()),
                Err(e) => {
                    eprintln!(
                        "promplay serve: notify {}/{} attempt {attempt} failed: {}",
                        n.receiver, n.integration, e.message
                    );
                    let retry = e.retry;
                    last = e;
                    if !retry {
                        break;
                    }
                }
            }
            if attempt < self.max_attempts {
                std::thread::sleep(delay);
                delay = (delay * 2).min(StdDuration::from_secs(10));
            }
        }
        Err(last)
    }
}

impl Delivery {
    fn send_webhook(&self, w: &promplay_alertmanager::WebhookMessage) -> Result<(), NotifyError> {
        let url = match &w.url_file {
            Some(f) => std::fs::read_to_string(f)
                .map(|s| s.trim().to_string())
                .map_err(|e| NotifyError {
                    message: format!("reading url_file: {e}"),
                    retry: false,
                })?,
            None => w.url.clone(),
        };
        let c = self.client.clone();
        let body = w.body.clone();
        let r = self.rt.block_on(async move {
            c.post(&url)
                .header("Content-Type", "application/json")
                .timeout(StdDuration::from_secs(10))
                .body(body)
                .send()
                .await
        });
        match r {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) => Err(NotifyError {
                message: format!("unexpected status code {}", resp.status().as_u16()),
                retry: resp.status().is_server_error(),
            }),
            Err(e) => Err(NotifyError {
                message: e.to_string(),
                retry: true,
            }),
        }
    }
}

fn secret_or_file(secret: &str, file: &str) -> Result<String, NotifyError> {
    if !file.is_empty() {
        return std::fs::read_to_string(file)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| NotifyError {
                message: format!("reading {file}: {e}"),
                retry: false,
            });
    }
    Ok(secret.to_string())
}

/// Sends one email as Alertmanager's email notifier does.
fn send_email(m: &promplay_alertmanager::EmailMessage) -> Result<(), NotifyError> {
    use lettre::address::{Address, Envelope};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::transport::smtp::extension::ClientId;
    use lettre::{SmtpTransport, Transport};

    let fail = |message: String, retry: bool| NotifyError { message, retry };
    let host = m.smarthost.host.clone();
    let port: u16 = m.smarthost.port.parse().map_err(|_| {
        fail(
            format!("invalid smarthost port {:?}", m.smarthost.port),
            false,
        )
    })?;
    let params = || TlsParameters::new(host.clone()).map_err(|e| fail(format!("tls: {e}"), false));
    let tls = if port == 465 {
        Tls::Wrapper(params()?)
    } else if m.require_tls {
        Tls::Required(params()?)
    } else {
        Tls::None
    };
    let mut b = SmtpTransport::builder_dangerous(host.as_str())
        .port(port)
        .tls(tls)
        .timeout(Some(StdDuration::from_secs(30)));
    if !m.hello.is_empty() {
        b = b.hello_name(ClientId::Domain(m.hello.clone()));
    }
    if !m.auth_username.is_empty() {
        let pw = secret_or_file(m.auth_password.expose(), &m.auth_password_file)?;
        b = b.credentials(Credentials::new(m.auth_username.clone(), pw));
    }
    let transport = b.build();
    let from: Address = m
        .from
        .parse()
        .map_err(|e| fail(format!("parsing from address: {e}"), false))?;
    let to: Result<Vec<Address>, _> = m.to.iter().map(|t| t.parse::<Address>()).collect();
    let to = to.map_err(|e| fail(format!("parsing to addresses: {e}"), false))?;
    let envelope =
        Envelope::new(Some(from), to).map_err(|e| fail(format!("envelope: {e}"), false))?;
    transport
        .send_raw(&envelope, m.raw.as_bytes())
        .map(|_| ())
        .map_err(|e| fail(format!("send: {e}"), !e.is_permanent()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_body_as_prometheus_posts_it() {
        let a = PostableAlert {
            labels: Labels::from_pairs(&[("alertname", "InstanceDown"), ("job", "node")]),
            annotations: Labels::from_pairs(&[("summary", "down")]),
            starts_at: Some(1_795_612_718_717),
            ends_at: Some(1_795_612_958_717),
            generator_url: "http://x/graph?g0.expr=up+%3D%3D+0".into(),
        };
        assert_eq!(
            alerts_json(&[a]),
            r#"[{"annotations":{"summary":"down"},"endsAt":"2026-11-25T13:22:38.717Z","startsAt":"2026-11-25T13:18:38.717Z","generatorURL":"http://x/graph?g0.expr=up+%3D%3D+0","labels":{"alertname":"InstanceDown","job":"node"}}]"#
        );
    }

    #[test]
    fn external_labels_do_not_override() {
        let l = Labels::from_pairs(&[("a", "1")]);
        let e = Labels::from_pairs(&[("a", "x"), ("dc", "eu")]);
        assert_eq!(with_external(&l, &e).to_string(), r#"{a="1", dc="eu"}"#);
    }
}

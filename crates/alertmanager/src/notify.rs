//! Notifications: the template data (`template.Data`), the email Alertmanager builds
//! (`notify/email`), the webhook payload (`notify/webhook`), and the [`Notifier`] trait through
//! which the host delivers them. Nothing here does I/O.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use promplay_model::Labels;
use serde::Serialize;

use crate::alert::{fingerprint_string, Alert};
use crate::config::{EmailConfig, HostPort, Secret, WebhookConfig, DEFAULT_EMAIL_SUBJECT};
use crate::template::{go_time_format, Template, TemplateError, Value};

/// Why a notification could not be delivered (reported by the host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyError {
    pub message: String,
    /// Whether retrying may help (Alertmanager's `recoverable`).
    pub retry: bool,
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NotifyError {}

/// Delivers notifications: the playground puts them in a simulated inbox, the companion sends
/// them by SMTP / HTTP.
pub trait Notifier {
    fn notify(&mut self, n: &Notification) -> Result<(), NotifyError>;
}

/// A fully built email and the SMTP settings to send it with.
#[derive(Clone, Debug, PartialEq)]
pub struct EmailMessage {
    /// The envelope sender: the address of the rendered `from` setting.
    pub from: String,
    /// The envelope recipients: the addresses of the rendered `to` setting.
    pub to: Vec<String>,
    pub subject: String,
    /// Headers in the order written, values already MIME-encoded where needed.
    pub headers: Vec<(String, String)>,
    pub html: Option<String>,
    pub text: Option<String>,
    /// The whole RFC 5322 message, CRLF line ends, as Alertmanager writes it after `DATA`.
    pub raw: String,
    pub smarthost: HostPort,
    pub hello: String,
    pub auth_username: String,
    pub auth_password: Secret,
    /// When set, the host reads the password from this file (`auth_password_file`).
    pub auth_password_file: String,
    pub auth_identity: String,
    pub auth_secret: Secret,
    pub auth_secret_file: String,
    pub require_tls: bool,
}

/// A webhook POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookMessage {
    /// The URL, or "" when `url_file` is set.
    pub url: String,
    /// When set, the host reads the URL from this file (`url_file`).
    pub url_file: Option<String>,
    /// The JSON body.
    pub body: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    Email(Box<EmailMessage>),
    Webhook(WebhookMessage),
}

/// One notification to one receiver integration for one aggregation group.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub receiver: String,
    /// `email` or `webhook`.
    pub integration: &'static str,
    /// Index of the config among the receiver's configs of that kind.
    pub idx: usize,
    pub group_key: String,
    pub group_labels: Labels,
    /// The time of the flush (ms since the epoch).
    pub at_ms: i64,
    /// Fingerprints of the alerts in the notification, firing then resolved.
    pub firing: Vec<u64>,
    pub resolved: Vec<u64>,
    pub payload: Payload,
}

/// `template.Data` for a set of alerts (the notification's, at time `now`).
pub fn template_data(
    receiver: &str,
    group_labels: &Labels,
    alerts: &[Alert],
    external_url: &str,
    now: i64,
) -> Value {
    let kv = |l: &Labels| {
        Value::KV(Arc::new(
            l.iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect(),
        ))
    };
    let list: Vec<Value> = alerts
        .iter()
        .map(|a| {
            Value::structure(vec![
                ("Status", Value::str(a.status_at(now))),
                ("Labels", kv(&a.labels)),
                ("Annotations", kv(&a.annotations)),
                ("StartsAt", Value::Time(Some(a.starts_at))),
                ("EndsAt", Value::Time(a.ends_at)),
                ("GeneratorURL", Value::str(&a.generator_url)),
                (
                    "Fingerprint",
                    Value::str(fingerprint_string(a.fingerprint())),
                ),
            ])
        })
        .collect();
    let (common_labels, common_annotations) = common(alerts);
    let status = if alerts.iter().any(|a| !a.resolved_at(now)) {
        "firing"
    } else {
        "resolved"
    };
    Value::structure(vec![
        ("Receiver", Value::str(quote_meta(receiver))),
        ("Status", Value::str(status)),
        ("Alerts", Value::Alerts(Arc::new(list))),
        ("GroupLabels", kv(group_labels)),
        ("CommonLabels", Value::KV(Arc::new(common_labels))),
        ("CommonAnnotations", Value::KV(Arc::new(common_annotations))),
        ("ExternalURL", Value::str(external_url)),
    ])
}

fn common(alerts: &[Alert]) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let to_map = |l: &Labels| -> BTreeMap<String, String> {
        l.iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect()
    };
    let Some(first) = alerts.first() else {
        return (BTreeMap::new(), BTreeMap::new());
    };
    let mut cl = to_map(&first.labels);
    let mut ca = to_map(&first.annotations);
    for a in &alerts[1..] {
        if cl.is_empty() && ca.is_empty() {
            break;
        }
        cl.retain(|k, v| a.labels.get(k) == Some(v.as_str()));
        ca.retain(|k, v| a.annotations.get(k) == Some(v.as_str()));
    }
    (cl, ca)
}

/// Go's `regexp.QuoteMeta` (Alertmanager passes the receiver name through it).
pub fn quote_meta(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// Go's `time.RFC3339Nano` in UTC: `2026-11-25T13:17:07.794Z`; the zero time for `None`.
pub fn rfc3339_nano(ms: Option<i64>) -> String {
    match ms {
        None => "0001-01-01T00:00:00Z".into(),
        Some(_) => go_time_format(ms, "2006-01-02T15:04:05.999999999Z07:00"),
    }
}

/// A small deterministic hash for message IDs and MIME boundaries (no randomness here).
fn mix(seed: u64, s: &str) -> u64 {
    let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Inputs to [`build_email`] besides the config.
pub struct EmailContext<'a> {
    pub tmpl: &'a Template,
    pub data: &'a Value,
    pub group_key: &'a str,
    pub now: i64,
    /// The host name in `Message-Id` (Alertmanager uses `os.Hostname()`).
    pub hostname: &'a str,
}

/// Builds the email exactly as Alertmanager 0.25's email notifier writes it.
pub fn build_email(c: &EmailConfig, ctx: &EmailContext<'_>) -> Result<EmailMessage, TemplateError> {
    let t = ctx.tmpl;
    let from = t.execute_text_string(&c.from, ctx.data)?;
    let to = t.execute_text_string(&c.to, ctx.data)?;
    // Subject, To, From unless given, then the configured headers.
    let mut header_tmpls: Vec<(String, String)> = Vec::new();
    let get = |k: &str| c.headers.get(k).cloned();
    header_tmpls.push((
        "Subject".into(),
        get("Subject").unwrap_or_else(|| DEFAULT_EMAIL_SUBJECT.into()),
    ));
    header_tmpls.push(("To".into(), get("To").unwrap_or_else(|| c.to.clone())));
    header_tmpls.push(("From".into(), get("From").unwrap_or_else(|| c.from.clone())));
    for (k, v) in &c.headers {
        if k != "Subject" && k != "To" && k != "From" {
            header_tmpls.push((k.clone(), v.clone()));
        }
    }
    let mut headers = Vec::new();
    let mut subject = String::new();
    for (k, v) in header_tmpls {
        let value = t
            .execute_text_string(&v, ctx.data)
            .map_err(|e| TemplateError(format!("executing {k:?} header template: {}", e.0)))?;
        if k == "Subject" {
            subject = value.clone();
        }
        headers.push((k, q_encode(&value)));
    }
    let seed = mix(ctx.now as u64, ctx.group_key);
    if !c.headers.contains_key("Message-Id") {
        headers.push((
            "Message-Id".into(),
            format!(
                "<{}.{}@{}>",
                ctx.now.saturating_mul(1_000_000),
                mix(seed, "message-id"),
                ctx.hostname
            ),
        ));
    }
    let date = go_time_format(Some(ctx.now), "Mon, 02 Jan 2006 15:04:05 -0700");
    let boundary: String = (0..4)
        .map(|i| format!("{:016x}", mix(seed, &format!("boundary{i}"))))
        .collect::<String>()[..60]
        .to_string();

    let mut raw = String::new();
    for (k, v) in &headers {
        let _ = write!(raw, "{k}: {v}\r\n");
    }
    let _ = write!(raw, "Date: {date}\r\n");
    let _ = write!(
        raw,
        "Content-Type: multipart/alternative;  boundary={boundary}\r\n"
    );
    raw.push_str("MIME-Version: 1.0\r\n\r\n");

    let text = if c.text.is_empty() {
        None
    } else {
        Some(
            t.execute_text_string(&c.text, ctx.data)
                .map_err(|e| TemplateError(format!("executing email text template: {}", e.0)))?,
        )
    };
    let html = if c.html.is_empty() {
        None
    } else {
        Some(
            t.execute_html_string(&c.html, ctx.data)
                .map_err(|e| TemplateError(format!("executing email html template: {}", e.0)))?,
        )
    };
    let mut first = true;
    for (ct, body) in [("text/plain", &text), ("text/html", &html)] {
        let Some(body) = body else { continue };
        if first {
            let _ = write!(raw, "--{boundary}\r\n");
            first = false;
        } else {
            let _ = write!(raw, "\r\n--{boundary}\r\n");
        }
        let _ = write!(
            raw,
            "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: {ct}; charset=UTF-8\r\n\r\n"
        );
        raw.push_str(&quoted_printable(body));
    }
    if first {
        let _ = write!(raw, "--{boundary}--\r\n");
    } else {
        let _ = write!(raw, "\r\n--{boundary}--\r\n");
    }
    let from_addrs = parse_address_list(&from)
        .map_err(|e| TemplateError(format!("parsing from addresses: {e}")))?;
    let [from_addr] = from_addrs.as_slice() else {
        return Err(TemplateError("must be exactly one from address".into()));
    };
    let to_addrs =
        parse_address_list(&to).map_err(|e| TemplateError(format!("parsing to addresses: {e}")))?;
    Ok(EmailMessage {
        from: from_addr.clone(),
        to: to_addrs,
        subject,
        headers,
        html,
        text,
        raw,
        smarthost: c.smarthost.clone(),
        hello: c.hello.clone(),
        auth_username: c.auth_username.clone(),
        auth_password: c.auth_password.clone(),
        auth_password_file: c.auth_password_file.clone(),
        auth_identity: c.auth_identity.clone(),
        auth_secret: c.auth_secret.clone(),
        auth_secret_file: c.auth_secret_file.clone(),
        require_tls: c.require_tls.unwrap_or(true),
    })
}

/// The bare addresses of an RFC 5322 address list (`a@x, "B, C" <b@y>`), as Go's
/// `mail.ParseAddressList` returns them (simplified: no groups or comments).
pub fn parse_address_list(s: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut angle = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                items.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    items.push(cur);
    let mut out = Vec::new();
    for it in items {
        let it = it.trim();
        if it.is_empty() {
            return Err("mail: no address".into());
        }
        let addr = match (it.rfind('<'), it.rfind('>')) {
            (Some(a), Some(b)) if a < b => it[a + 1..b].trim(),
            (None, None) => it,
            _ => return Err("mail: unclosed angle-addr".into()),
        };
        match addr.rsplit_once('@') {
            Some((l, d))
                if !l.is_empty() && !d.is_empty() && !addr.contains(char::is_whitespace) =>
            {
                out.push(addr.to_string())
            }
            _ => return Err("mail: missing @ in addr-spec".into()),
        }
    }
    Ok(out)
}

/// `mime.QEncoding.Encode("utf-8", s)`: unchanged when printable ASCII, else encoded-words of
/// at most 75 characters.
pub fn q_encode(s: &str) -> String {
    if !s.bytes().any(|b| !(b' '..=b'~').contains(&b) && b != b'\t') {
        return s.to_string();
    }
    const MAX: usize = 75 - "=?utf-8?q?".len() - "?=".len();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for ch in s.chars() {
        let mut enc = String::new();
        let mut buf = [0u8; 4];
        for &b in ch.encode_utf8(&mut buf).as_bytes() {
            match b {
                b' ' => enc.push('_'),
                b'!'..=b'~' if b != b'=' && b != b'?' && b != b'_' => enc.push(b as char),
                _ => {
                    let _ = write!(enc, "={b:02X}");
                }
            }
        }
        if cur.len() + enc.len() > MAX {
            words.push(std::mem::take(&mut cur));
        }
        cur.push_str(&enc);
    }
    words.push(cur);
    words
        .iter()
        .map(|w| format!("=?utf-8?q?{w}?="))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Go's `mime/quotedprintable.Writer` (text mode): 76-character lines with `=` soft breaks,
/// CRLF line ends, trailing spaces and tabs encoded.
pub fn quoted_printable(s: &str) -> String {
    const MAX: usize = 76;
    let mut out = String::with_capacity(s.len() * 11 / 10);
    let mut line: Vec<u8> = Vec::with_capacity(MAX + 2);
    let mut cr = false;
    let flush = |line: &mut Vec<u8>, out: &mut String| {
        out.push_str(&String::from_utf8_lossy(line));
        line.clear();
    };
    let encode = |b: u8, line: &mut Vec<u8>, out: &mut String| {
        if MAX - 1 - line.len() < 3 {
            line.push(b'=');
            line.extend_from_slice(b"\r\n");
            flush(line, out);
        }
        let hex = b"0123456789ABCDEF";
        line.push(b'=');
        line.push(hex[(b >> 4) as usize]);
        line.push(hex[(b & 0x0f) as usize]);
    };
    let check_last = |line: &mut Vec<u8>, out: &mut String| {
        if let Some(&b) = line.last() {
            if b == b' ' || b == b'\t' {
                line.pop();
                encode(b, line, out);
            }
        }
    };
    for &b in s.as_bytes() {
        let plain = (b'!'..=b'~').contains(&b) && b != b'=';
        let ws = b == b' ' || b == b'\t';
        if plain || ws || b == b'\n' || b == b'\r' {
            if b == b'\n' || b == b'\r' {
                if cr && b == b'\n' {
                    cr = false;
                    continue;
                }
                if b == b'\r' {
                    cr = true;
                }
                check_last(&mut line, &mut out);
                line.extend_from_slice(b"\r\n");
                flush(&mut line, &mut out);
                continue;
            }
            if line.len() == MAX - 1 {
                line.push(b'=');
                line.extend_from_slice(b"\r\n");
                flush(&mut line, &mut out);
            }
            line.push(b);
            cr = false;
        } else {
            encode(b, &mut line, &mut out);
        }
    }
    check_last(&mut line, &mut out);
    flush(&mut line, &mut out);
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert<'a> {
    status: &'a str,
    labels: BTreeMap<&'a str, &'a str>,
    annotations: BTreeMap<&'a str, &'a str>,
    starts_at: String,
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookBody<'a> {
    receiver: String,
    status: &'a str,
    alerts: Vec<WebhookAlert<'a>>,
    group_labels: BTreeMap<&'a str, &'a str>,
    common_labels: BTreeMap<String, String>,
    common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'a str,
    group_key: &'a str,
    truncated_alerts: u64,
}

/// The webhook JSON body (`notify/webhook`, version "4"), truncated to `max_alerts`.
pub fn webhook_body(
    c: &WebhookConfig,
    receiver: &str,
    group_key: &str,
    group_labels: &Labels,
    alerts: &[Alert],
    external_url: &str,
    now: i64,
) -> String {
    let (kept, truncated) = if c.max_alerts > 0 && alerts.len() as u64 > c.max_alerts {
        (
            &alerts[..c.max_alerts as usize],
            alerts.len() as u64 - c.max_alerts,
        )
    } else {
        (alerts, 0)
    };
    // Alertmanager truncates first, then builds the data: status and common labels come from
    // the alerts that are sent.
    let (common_labels, common_annotations) = common(kept);
    let body = WebhookBody {
        receiver: quote_meta(receiver),
        status: if kept.iter().any(|a| !a.resolved_at(now)) {
            "firing"
        } else {
            "resolved"
        },
        alerts: kept
            .iter()
            .map(|a| WebhookAlert {
                status: a.status_at(now),
                labels: a.labels.iter().map(|l| (&*l.name, &*l.value)).collect(),
                annotations: a
                    .annotations
                    .iter()
                    .map(|l| (&*l.name, &*l.value))
                    .collect(),
                starts_at: rfc3339_nano(Some(a.starts_at)),
                ends_at: rfc3339_nano(a.ends_at),
                generator_url: &a.generator_url,
                fingerprint: fingerprint_string(a.fingerprint()),
            })
            .collect(),
        group_labels: group_labels.iter().map(|l| (&*l.name, &*l.value)).collect(),
        common_labels,
        common_annotations,
        external_url,
        version: "4",
        group_key,
        truncated_alerts: truncated,
    };
    go_json(serde_json::to_string(&body).unwrap_or_default())
}

/// Go's `encoding/json` escapes `&`, `<`, `>`, U+2028 and U+2029 inside strings; those
/// characters only occur inside strings in JSON text, so replacing them everywhere is exact.
pub fn go_json(s: String) -> String {
    if !s.contains(['&', '<', '>', '\u{2028}', '\u{2029}']) {
        return s;
    }
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => o.push_str("\\u0026"),
            '<' => o.push_str("\\u003c"),
            '>' => o.push_str("\\u003e"),
            '\u{2028}' => o.push_str("\\u2028"),
            '\u{2029}' => o.push_str("\\u2029"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qp_matches_go() {
        assert_eq!(quoted_printable("a=b \nc"), "a=3Db=20\r\nc");
        let long = "x".repeat(80);
        assert_eq!(
            quoted_printable(&long),
            format!("{}=\r\n{}", "x".repeat(75), "x".repeat(5))
        );
        assert_eq!(quoted_printable("é"), "=C3=A9");
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            parse_address_list(r#"a@x.org, "B, C" <b@y.org>, D <d@z>"#).unwrap(),
            ["a@x.org", "b@y.org", "d@z"]
        );
        assert!(parse_address_list("nobody").is_err());
        assert!(parse_address_list("").is_err());
    }

    #[test]
    fn q_encoding() {
        assert_eq!(q_encode("[FIRING:1] x"), "[FIRING:1] x");
        assert_eq!(q_encode("café ok"), "=?utf-8?q?caf=C3=A9_ok?=");
    }

    #[test]
    fn rfc3339() {
        assert_eq!(
            rfc3339_nano(Some(1_795_612_627_794)),
            "2026-11-25T13:17:07.794Z"
        );
        assert_eq!(
            rfc3339_nano(Some(1_795_612_627_000)),
            "2026-11-25T13:17:07Z"
        );
        assert_eq!(rfc3339_nano(None), "0001-01-01T00:00:00Z");
    }
}

//! The seed's InstanceDown email, built by the engine, against the real Alertmanager 0.25 email
//! in shared/samples/alert-email.eml.

mod common;

use common::*;
use promplay_alertmanager::alert::{fingerprint, fingerprint_string};
use promplay_alertmanager::notify::quoted_printable;
use promplay_alertmanager::Payload;
use promplay_model::Labels;

fn seed_email() -> (i64, promplay_alertmanager::EmailMessage) {
    let mut am = engine(&shared("peers/conf/alertmanager.yml"));
    let mut inbox = Inbox::default();
    // Prometheus sends the alert when it fires (71 s after the kill), startsAt = firing time.
    am.put_alerts(
        vec![instance_down(s(71.138), Some(s(71.138) + 4 * 60_000))],
        s(71.212),
    );
    let got = timeline(&mut am, &mut inbox, s(200.0));
    assert_eq!(got.len(), 1, "one email");
    let (at, n) = got.into_iter().next().unwrap();
    let Payload::Email(m) = n.payload else {
        panic!("not an email")
    };
    (at, *m)
}

/// The sample's html part, decoded, and its raw quoted-printable text (LF line ends).
fn sample_html_part() -> (String, String) {
    let eml = shared("samples/alert-email.eml").replace("\r\n", "\n");
    let start = eml
        .find("Content-Type: text/html; charset=UTF-8\n\n")
        .expect("html part")
        + "Content-Type: text/html; charset=UTF-8\n\n".len();
    let end = eml.rfind("\n--").expect("closing boundary");
    let qp = eml[start..end].to_string();
    // decode quoted-printable
    let mut out = Vec::new();
    let b = qp.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && b.get(i + 1) == Some(&b'\n') {
            i += 2;
        } else if b[i] == b'=' {
            out.push(u8::from_str_radix(&qp[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    (String::from_utf8(out).unwrap(), qp)
}

#[test]
fn email_is_sent_30s_after_the_alert_arrives() {
    let (at, _) = seed_email();
    // group_wait 30 s after the group was created at 71.212 s: 101.212 s, as on the real stack.
    assert_eq!(at, s(101.212));
}

#[test]
fn subject_and_headers_match_alertmanager() {
    let (_, m) = seed_email();
    assert_eq!(m.subject, "[FIRING:1]  (InstanceDown localhost:9100 node)");
    let names: Vec<&str> = m.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["Subject", "To", "From", "Message-Id"]);
    assert_eq!(m.to, ["youraddress@example.org"]);
    assert_eq!(m.from, "alertmanager@example.org");
    assert_eq!(m.smarthost.to_string(), "127.0.0.1:2525");
    assert!(!m.require_tls);
    assert!(
        m.text.is_none(),
        "Alertmanager 0.25 sends no text part by default"
    );
    let eml = shared("samples/alert-email.eml").replace("\r\n", "\n");
    let ours = m.raw.replace("\r\n", "\n");
    // Same header lines in the same order; Message-Id, Date and boundary differ in value only.
    let shape = |s: &str| -> Vec<String> {
        s.split("\n\n")
            .next()
            .unwrap()
            .lines()
            .map(|l| {
                let k = l.split(':').next().unwrap();
                match k {
                    "Message-Id" | "Date" => k.to_string(),
                    "Content-Type" => l.split("boundary=").next().unwrap().to_string(),
                    _ => l.to_string(),
                }
            })
            .collect()
    };
    assert_eq!(shape(&ours), shape(&eml));
    assert!(
        ours.contains("\nDate: Wed, 25 Nov 2026 13:17:37 +0000\n"),
        "{ours}"
    );
    assert!(ours.starts_with("Subject: [FIRING:1]  (InstanceDown localhost:9100 node)\n"));
    let mid = m.headers.iter().find(|(k, _)| k == "Message-Id").unwrap();
    assert!(
        mid.1.starts_with("<1795612657868000000.") && mid.1.ends_with("@vm>"),
        "{}",
        mid.1
    );
}

#[test]
fn html_body_is_byte_identical_to_alertmanagers() {
    let (_, m) = seed_email();
    let (html, qp) = sample_html_part();
    let ours = m.html.expect("html part");
    if ours != html {
        let first = ours
            .bytes()
            .zip(html.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(html.len()));
        panic!(
            "first difference at byte {first}:\nours:   {:?}\nsample: {:?}",
            &ours[first.saturating_sub(40)..(first + 80).min(ours.len())],
            &html[first.saturating_sub(40)..(first + 80).min(html.len())]
        );
    }
    // and the quoted-printable encoding too
    assert_eq!(quoted_printable(&ours).replace("\r\n", "\n"), qp);
    let raw = m.raw.replace("\r\n", "\n");
    assert!(raw.contains(&qp));
}

#[test]
fn fingerprint_matches_alertmanager_api() {
    // shared/samples/am-api-v2-alerts-firing.json
    let l = Labels::from_pairs(&[
        ("alertname", "InstanceDown"),
        ("instance", "localhost:9100"),
        ("job", "node"),
    ]);
    assert_eq!(fingerprint_string(fingerprint(&l)), "25f94d8dc99c5cc6");
}

const RESOLVING: &str = r#"
global:
  smtp_smarthost: '127.0.0.1:2525'
  smtp_from: 'Alertmanager <alertmanager@example.org>'
route:
  receiver: mail
  group_by: [alertname]
receivers:
  - name: mail
    email_configs:
      - to: 'a@example.org, b@example.org'
        send_resolved: true
        text: '{{ template "__text_alert_list" .Alerts }}'
        headers:
          X-Group: '{{ .GroupLabels.alertname }}'
"#;

#[test]
fn resolved_email_with_text_part_and_custom_header() {
    let mut am = engine(RESOLVING);
    let mut inbox = Inbox::default();
    let mut a = instance_down(s(0.0), Some(s(3600.0)));
    a.annotations = Labels::from_pairs(&[("summary", "node <down> & out")]);
    am.put_alerts(vec![a.clone()], s(0.0));
    let first = timeline(&mut am, &mut inbox, s(60.0));
    assert_eq!(first.len(), 1);
    let Payload::Email(m) = &first[0].1.payload else {
        panic!()
    };
    assert_eq!(m.to, ["a@example.org", "b@example.org"]);
    assert_eq!(m.from, "alertmanager@example.org");
    assert!(m
        .raw
        .contains("\r\nFrom: Alertmanager <alertmanager@example.org>\r\n"));
    assert!(m.require_tls, "require_tls defaults to true");
    assert_eq!(m.subject, "[FIRING:1] InstanceDown (localhost:9100 node)");
    assert!(m
        .headers
        .contains(&("X-Group".to_string(), "InstanceDown".to_string())));
    assert_eq!(
        m.text.as_deref(),
        Some("Labels:\n - alertname = InstanceDown\n - instance = localhost:9100\n - job = node\nAnnotations:\n - summary = node <down> & out\nSource: http://vm:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1\n")
    );
    let html = m.html.as_deref().unwrap();
    assert!(
        html.contains("summary = node &lt;down&gt; &amp; out<br"),
        "annotations escaped"
    );
    // Alertmanager 0.25's template: no space after the group labels in the firing header,
    // one in the resolved header (checked against emails from a live Alertmanager 0.25).
    assert!(
        html.contains("bgcolor=\"#E6522C\">\n              1 alert for \n                alertname=InstanceDown\n              \n            </td>"),
        "group labels in the header"
    );
    // text part first, then html, as Alertmanager orders them
    let raw = &m.raw;
    let tp = raw.find("Content-Type: text/plain; charset=UTF-8").unwrap();
    let hp = raw.find("Content-Type: text/html; charset=UTF-8").unwrap();
    assert!(tp < hp);

    a.ends_at = Some(s(100.0));
    am.put_alerts(vec![a], s(100.0));
    let second = timeline(&mut am, &mut inbox, s(400.0));
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].0, s(330.0));
    let Payload::Email(m) = &second[0].1.payload else {
        panic!()
    };
    assert_eq!(m.subject, "[RESOLVED] InstanceDown (localhost:9100 node)");
    let html = m.html.as_deref().unwrap();
    assert!(html.contains("alert alert-good"));
    assert!(html.contains("bgcolor=\"#68B90F\">\n              1 alert for \n                alertname=InstanceDown \n              \n            </td>"));
    assert!(html.contains("[1] Resolved</strong>"));
    assert!(!html.contains("] Firing</strong>"));
}

#[test]
fn user_template_files_override_defaults() {
    let c = promplay_alertmanager::Config::load(
        "global: {smtp_smarthost: 'h:25', smtp_from: f@x}\ntemplates: ['/etc/am/*.tmpl']\nroute: {receiver: m}\nreceivers:\n- name: m\n  email_configs: [{to: t@x, headers: {Subject: '{{ template \"my.subject\" . }}'}}]\n",
    )
    .unwrap();
    let files = vec![(
        "my.tmpl".to_string(),
        "{{ define \"my.subject\" }}{{ .CommonLabels.job | toUpper }} is {{ .Status }}{{ end }}\n{{ define \"__alertmanager\" }}AM{{ end }}".to_string(),
    )];
    let mut am = promplay_alertmanager::Alertmanager::new(
        c,
        &files,
        promplay_alertmanager::Options::default(),
        T0,
    )
    .unwrap();
    let mut inbox = Inbox::default();
    am.put_alerts(vec![instance_down(s(0.0), Some(s(600.0)))], s(0.0));
    let got = timeline(&mut am, &mut inbox, s(40.0));
    let Payload::Email(m) = &got[0].1.payload else {
        panic!()
    };
    assert_eq!(m.subject, "NODE is firing");
    assert!(m.html.as_deref().unwrap().contains("View in AM</a>"));
    // a broken template file is refused with its name
    let bad = vec![("bad.tmpl".to_string(), "{{ if }}".to_string())];
    let c = promplay_alertmanager::Config::load(&shared("peers/conf/alertmanager.yml")).unwrap();
    let e = promplay_alertmanager::Alertmanager::new(c, &bad, Default::default(), T0)
        .err()
        .unwrap();
    assert!(
        e.to_string().starts_with("bad.tmpl: template: bad.tmpl:1:"),
        "{e}"
    );
}

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

//! An Alertmanager: routing, grouping, inhibition, silences, notifications — with
//! Alertmanager 0.25's semantics, and no I/O.
//!
//! - [`api`]: API v2 JSON (alerts, silences) and posted-alert parsing, for hosts.
//! - [`config`]: `alertmanager.yml` (strict parsing, defaults, validation, secrets hidden).
//! - [`route`]: the routing tree, and `amtool config routes test` ([`route::test_routes`]).
//! - [`dispatch`]: the engine [`Alertmanager`]: alerts in with [`Alertmanager::put_alerts`],
//!   group timers run by [`Alertmanager::advance_to`] (ask [`Alertmanager::next_wakeup`]),
//!   notifications out through the host's [`Notifier`].
//! - [`silence`], [`inhibit`], [`nflog`]: silences, the inhibitor, the notification log.
//! - [`notify`]: template data, the email (headers, quoted-printable multipart) and webhook
//!   payloads exactly as Alertmanager builds them.
//! - [`template`]: the Go `text/template` engine with `html/template`-style escaping and
//!   Alertmanager's `default.tmpl` (re-exported from the `promplay-template` crate).
//!
//! Architecture invariant: no I/O, no wall clock, no network. Time is a parameter (ms since
//! the Unix epoch); SMTP and HTTP delivery belong to the host. Template files are passed in as
//! contents; only the UTC location is known to time intervals.

pub mod alert;
pub mod api;
pub mod config;
pub mod dispatch;
pub mod duration;
pub mod inhibit;
pub mod matchers;
pub mod nflog;
pub mod notify;
pub mod route;
pub mod silence;
pub mod template;
pub mod timeinterval;

pub use alert::{Alert, AlertError, PostableAlert};
pub use config::{Config, ConfigError};
pub use dispatch::{Alertmanager, EngineError, NotificationRecord, Options};
pub use notify::{EmailMessage, Notification, Notifier, NotifyError, Payload, WebhookMessage};
pub use route::{test_routes, Route, RouteTest};
pub use silence::{PostableSilence, Silence, SilenceState, Silences};

/// Whether `name` matches the glob `pattern` (`*`, `?`, `[...]`, as Go's `filepath.Match`;
/// `*` does not cross `/`). For hosts resolving the config's `templates` globs.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char], depth: usize) -> bool {
        if depth > 256 {
            return false;
        }
        match p.first() {
            None => n.is_empty(),
            Some('*') => {
                let rest = &p[1..];
                for i in 0..=n.len() {
                    if i > 0 && n[i - 1] == '/' {
                        break;
                    }
                    if go(rest, &n[i..], depth + 1) {
                        return true;
                    }
                }
                false
            }
            Some('?') => !n.is_empty() && n[0] != '/' && go(&p[1..], &n[1..], depth + 1),
            Some('[') => {
                let Some(end) = p.iter().position(|c| *c == ']') else {
                    return false;
                };
                let Some(&c) = n.first() else { return false };
                let class = &p[1..end];
                let (neg, class) = match class.first() {
                    Some('^') | Some('!') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        if class[i] <= c && c <= class[i + 2] {
                            hit = true;
                        }
                        i += 3;
                    } else {
                        if class[i] == c {
                            hit = true;
                        }
                        i += 1;
                    }
                }
                hit != neg && go(&p[end + 1..], &n[1..], depth + 1)
            }
            Some('\\') if p.len() > 1 => {
                !n.is_empty() && n[0] == p[1] && go(&p[2..], &n[1..], depth + 1)
            }
            Some(&c) => !n.is_empty() && n[0] == c && go(&p[1..], &n[1..], depth + 1),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n, 0)
}

/// The engine can move between threads (the companion serves it from a multi-threaded host).
#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Alertmanager>();
    is::<Config>();
    is::<template::Template>();
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("/etc/am/*.tmpl", "/etc/am/a.tmpl"));
        assert!(!glob_match("/etc/am/*.tmpl", "/etc/am/x/a.tmpl"));
        assert!(glob_match("t?[0-9].tmpl", "ta1.tmpl"));
        assert!(!glob_match("t[!a].tmpl", "ta.tmpl"));
    }
}

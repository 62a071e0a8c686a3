//! `alertmanager.yml`: parsing, defaults and validation as Alertmanager's `config/config.go`
//! does them.
//!
//! [`Config::load`] decodes strictly (unknown fields are errors, as `yaml.UnmarshalStrict`),
//! fills in the defaults (global SMTP settings into every email config, route options), and
//! validates (undefined receivers, missing smarthost/from, root route rules, time interval
//! names). Errors say the line when one can be found. Secrets (`smtp_auth_password`,
//! `auth_secret`, …) serialize as `<secret>`, so displaying a config never reveals them.
//!
//! Receivers of kinds promplay does not deliver (slack, pagerduty, …) are accepted and listed in
//! [`Config::warnings`]; only email and webhook configs produce notifications.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use promplay_model::{MatchType, Matcher};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::Duration;
use crate::matchers::{parse_matchers, Matchers};
use crate::timeinterval::TimeInterval;

/// The default `group_wait`, `group_interval` and `repeat_interval` (dispatch/route.go).
pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 3600);
/// `global.resolve_timeout` default.
pub const DEFAULT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// `config.DefaultEmailSubject`.
pub const DEFAULT_EMAIL_SUBJECT: &str = r#"{{ template "email.default.subject" . }}"#;
/// The default `html` of an email config.
pub const DEFAULT_EMAIL_HTML: &str = r#"{{ template "email.default.html" . }}"#;

/// A configuration error: Alertmanager's message, and the line (1-based) when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        ConfigError {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn at(mut self, line: Option<usize>) -> Self {
        if self.line.is_none() {
            self.line = line;
        }
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.starts_with("yaml: ") {
            // Go yaml's own form, which carries the line itself.
            return f.write_str(&self.message);
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l} column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A string that serializes as `<secret>` (and debug-prints so) when set.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("<secret>")
        }
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            s.serialize_str("")
        } else {
            s.serialize_str("<secret>")
        }
    }
}

/// A `host:port` address (`config.HostPort`); the port must be present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: String,
}

impl HostPort {
    pub fn is_empty(&self) -> bool {
        self.host.is_empty() && self.port.is_empty()
    }

    /// Go's `net.SplitHostPort` rules, with Alertmanager's extra "port cannot be empty".
    pub fn parse(s: &str) -> Result<HostPort, String> {
        if s.is_empty() {
            return Ok(HostPort::default());
        }
        let missing = || format!("address {s}: missing port in address");
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, p) = rest
                .split_once(']')
                .ok_or_else(|| format!("address {s}: missing ']' in address"))?;
            let p = p.strip_prefix(':').ok_or_else(missing)?;
            (h, p)
        } else {
            let (h, p) = s.rsplit_once(':').ok_or_else(missing)?;
            if h.contains(':') {
                return Err(format!("address {s}: too many colons in address"));
            }
            (h, p)
        };
        if port.is_empty() {
            return Err(format!("address {s:?}: port cannot be empty"));
        }
        Ok(HostPort {
            host: host.to_string(),
            port: port.to_string(),
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl Serialize for HostPort {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for HostPort {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        HostPort::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An http(s) URL as `config.URL` accepts it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Url(pub String);

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        fn e<E: serde::de::Error>(m: &str) -> E {
            E::custom(m)
        }
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| e::<D::Error>("unsupported scheme \"\" for URL"))?;
        if scheme != "http" && scheme != "https" {
            return Err(e(&format!("unsupported scheme {scheme:?} for URL")));
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() {
            return Err(e("missing host for URL"));
        }
        Ok(Url(s))
    }
}

/// Any YAML value, accepted and ignored (settings of features promplay does not implement).
/// Never serialized back, so secrets inside cannot leak.
pub type Ignored = Option<serde_yaml_ng::Value>;

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GlobalConfig {
    pub resolve_timeout: Duration,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_from: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_hello: String,
    #[serde(skip_serializing_if = "HostPort::is_empty")]
    pub smtp_smarthost: HostPort,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_username: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub smtp_auth_password: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_password_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub smtp_auth_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_secret_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_identity: String,
    pub smtp_require_tls: bool,
    #[serde(skip_serializing)]
    pub smtp_tls_config: Ignored,
    #[serde(skip_serializing)]
    pub http_config: Ignored,
    #[serde(skip_serializing)]
    pub slack_api_url: Ignored,
    #[serde(skip_serializing)]
    pub slack_api_url_file: Ignored,
    #[serde(skip_serializing)]
    pub pagerduty_url: Ignored,
    #[serde(skip_serializing)]
    pub opsgenie_api_url: Ignored,
    #[serde(skip_serializing)]
    pub opsgenie_api_key: Ignored,
    #[serde(skip_serializing)]
    pub opsgenie_api_key_file: Ignored,
    #[serde(skip_serializing)]
    pub wechat_api_url: Ignored,
    #[serde(skip_serializing)]
    pub wechat_api_secret: Ignored,
    #[serde(skip_serializing)]
    pub wechat_api_corp_id: Ignored,
    #[serde(skip_serializing)]
    pub victorops_api_url: Ignored,
    #[serde(skip_serializing)]
    pub victorops_api_key: Ignored,
    #[serde(skip_serializing)]
    pub victorops_api_key_file: Ignored,
    #[serde(skip_serializing)]
    pub telegram_api_url: Ignored,
    #[serde(skip_serializing)]
    pub webex_api_url: Ignored,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            resolve_timeout: DEFAULT_RESOLVE_TIMEOUT,
            smtp_from: String::new(),
            smtp_hello: "localhost".into(),
            smtp_smarthost: HostPort::default(),
            smtp_auth_username: String::new(),
            smtp_auth_password: Secret::default(),
            smtp_auth_password_file: String::new(),
            smtp_auth_secret: Secret::default(),
            smtp_auth_secret_file: String::new(),
            smtp_auth_identity: String::new(),
            smtp_require_tls: true,
            smtp_tls_config: None,
            http_config: None,
            slack_api_url: None,
            slack_api_url_file: None,
            pagerduty_url: None,
            opsgenie_api_url: None,
            opsgenie_api_key: None,
            opsgenie_api_key_file: None,
            wechat_api_url: None,
            wechat_api_secret: None,
            wechat_api_corp_id: None,
            victorops_api_url: None,
            victorops_api_key: None,
            victorops_api_key_file: None,
            telegram_api_url: None,
            webex_api_url: None,
        }
    }
}

/// A node of the routing tree as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub group_by: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        rename = "match",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_re: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub matchers: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub mute_time_intervals: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub active_time_intervals: Vec<String>,
    #[serde(default, rename = "continue")]
    pub continue_: bool,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub routes: Vec<RouteConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRuleConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub source_match: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub source_match_re: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub source_matchers: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub target_match: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub target_match_re: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub target_matchers: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub equal: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub hello: String,
    #[serde(default)]
    pub smarthost: HostPort,
    #[serde(default)]
    pub auth_username: String,
    #[serde(default)]
    pub auth_password: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_password_file: String,
    #[serde(default)]
    pub auth_secret: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_secret_file: String,
    #[serde(default)]
    pub auth_identity: String,
    #[serde(default, deserialize_with = "null_default")]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_html")]
    pub html: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default)]
    pub require_tls: Option<bool>,
    #[serde(default, skip_serializing)]
    pub tls_config: Ignored,
}

fn default_html() -> String {
    DEFAULT_EMAIL_HTML.into()
}

fn default_true() -> bool {
    true
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    #[serde(default = "default_true")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    #[serde(default)]
    pub max_alerts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(default, skip_serializing)]
    pub http_config: Ignored,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    pub name: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub email_configs: Vec<EmailConfig>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub webhook_configs: Vec<WebhookConfig>,
    #[serde(default, skip_serializing)]
    pub discord_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub pagerduty_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub slack_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub opsgenie_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub wechat_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub pushover_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub victorops_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub sns_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub telegram_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub webex_configs: Ignored,
    #[serde(default, skip_serializing)]
    pub msteams_configs: Ignored,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTimeInterval {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub time_intervals: Vec<TimeInterval>,
}

/// The whole file, as decoded; [`Config::load`] fills defaults and validates.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, deserialize_with = "null_default")]
    pub global: GlobalConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteConfig>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub receivers: Vec<Receiver>,
    #[serde(default, deserialize_with = "null_default")]
    pub templates: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub mute_time_intervals: Vec<NamedTimeInterval>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub time_intervals: Vec<NamedTimeInterval>,
    /// Notes about accepted-but-ignored settings (receiver kinds promplay does not deliver).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// The text the config was loaded from.
    #[serde(skip)]
    pub original: SourceText,
}

/// The source of a configuration; its `Debug` form does not show the text (it may hold secrets).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SourceText(pub String);

impl fmt::Debug for SourceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// An explicit YAML `null` (an empty block such as `global:`) means the default, as in Go.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Whether `s` is a valid label name (`model.LabelNameRE`).
pub fn is_valid_label_name(s: &str) -> bool {
    promplay_model::labels::is_legacy_label_name(s)
}

impl Config {
    /// Parses and validates an `alertmanager.yml`.
    pub fn load(src: &str) -> Result<Config, ConfigError> {
        let mut cfg: Config = if src.trim().is_empty() {
            Config::default()
        } else {
            serde_yaml_ng::from_str(src).map_err(|e| yaml_error(e, src))?
        };
        cfg.original = SourceText(src.to_string());
        cfg.validate().map_err(|e| {
            let line = e.line;
            e.at(line)
        })?;
        Ok(cfg)
    }

    /// The configuration as YAML, secrets shown as `<secret>`.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self)
            .unwrap_or_else(|e| format!("<error creating config string: {e}>"))
    }

    /// All named time intervals (`mute_time_intervals` and `time_intervals`).
    pub fn named_time_intervals(&self) -> BTreeMap<String, Vec<TimeInterval>> {
        self.mute_time_intervals
            .iter()
            .chain(self.time_intervals.iter())
            .map(|t| (t.name.clone(), t.time_intervals.clone()))
            .collect()
    }

    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        let src = self.original.0.clone();
        let line_of = |key: &str, value: &str| find_line(&src, key, value);

        // Decode-time checks (UnmarshalYAML of the parts).
        if let Some(route) = &self.route {
            check_route_fields(route, &src, 0)?;
        }
        for r in &self.inhibit_rules {
            for k in r.source_match.keys().chain(r.target_match.keys()) {
                if !is_valid_label_name(k) {
                    return Err(ConfigError::new(format!("invalid label name {k:?}"))
                        .at(find_line(&src, k, "")));
                }
            }
            for l in &r.equal {
                if !is_valid_label_name(l) {
                    return Err(ConfigError::new(format!("{l:?} is not a valid label name"))
                        .at(line_of("equal", l)));
                }
            }
            for s in r.source_matchers.iter().chain(r.target_matchers.iter()) {
                parse_matchers(s).map_err(|e| ConfigError::new(e.0).at(line_of("", s)))?;
            }
            for v in r.source_match_re.values().chain(r.target_match_re.values()) {
                compile_re(v).map_err(|e| e.at(line_of("", v)))?;
            }
        }
        for t in self.mute_time_intervals.iter() {
            if t.name.is_empty() {
                return Err(ConfigError::new("missing name in mute time interval"));
            }
        }
        for t in self.time_intervals.iter() {
            if t.name.is_empty() {
                return Err(ConfigError::new("missing name in time interval"));
            }
        }

        let g = self.global.clone();
        let mut names: BTreeSet<String> = BTreeSet::new();
        let mut warnings = Vec::new();
        for rcv in &mut self.receivers {
            let rline = line_of("name", &rcv.name);
            if names.contains(&rcv.name) {
                return Err(ConfigError::new(format!(
                    "notification config name {:?} is not unique",
                    rcv.name
                ))
                .at(rline));
            }
            for ec in &mut rcv.email_configs {
                if ec.to.is_empty() {
                    return Err(ConfigError::new("missing to address in email config").at(rline));
                }
                let mut normalized: BTreeMap<String, String> = BTreeMap::new();
                for (h, v) in &ec.headers {
                    let n = canonical_mime_header_key(h);
                    if normalized.contains_key(&n) {
                        return Err(ConfigError::new(format!(
                            "duplicate header {n:?} in email config"
                        ))
                        .at(line_of(h, "")));
                    }
                    normalized.insert(n, v.clone());
                }
                ec.headers = normalized;
                if ec.smarthost.is_empty() {
                    if g.smtp_smarthost.is_empty() {
                        return Err(ConfigError::new("no global SMTP smarthost set").at(rline));
                    }
                    ec.smarthost = g.smtp_smarthost.clone();
                }
                if ec.from.is_empty() {
                    if g.smtp_from.is_empty() {
                        return Err(ConfigError::new("no global SMTP from set").at(rline));
                    }
                    ec.from = g.smtp_from.clone();
                }
                if ec.hello.is_empty() {
                    ec.hello = g.smtp_hello.clone();
                }
                if ec.auth_username.is_empty() {
                    ec.auth_username = g.smtp_auth_username.clone();
                }
                if ec.auth_password.is_empty() && ec.auth_password_file.is_empty() {
                    ec.auth_password = g.smtp_auth_password.clone();
                    ec.auth_password_file = g.smtp_auth_password_file.clone();
                }
                if ec.auth_secret.is_empty() && ec.auth_secret_file.is_empty() {
                    ec.auth_secret = g.smtp_auth_secret.clone();
                    ec.auth_secret_file = g.smtp_auth_secret_file.clone();
                }
                if ec.auth_identity.is_empty() {
                    ec.auth_identity = g.smtp_auth_identity.clone();
                }
                if ec.require_tls.is_none() {
                    ec.require_tls = Some(g.smtp_require_tls);
                }
            }
            for wh in &rcv.webhook_configs {
                match (&wh.url, &wh.url_file) {
                    (None, None) => {
                        return Err(ConfigError::new("missing URL in webhook config").at(rline))
                    }
                    (Some(_), Some(_)) => {
                        return Err(ConfigError::new(
                            "at most one of url & url_file must be configured",
                        )
                        .at(rline))
                    }
                    _ => {}
                }
            }
            let ignored = [
                ("discord_configs", &rcv.discord_configs),
                ("pagerduty_configs", &rcv.pagerduty_configs),
                ("slack_configs", &rcv.slack_configs),
                ("opsgenie_configs", &rcv.opsgenie_configs),
                ("wechat_configs", &rcv.wechat_configs),
                ("pushover_configs", &rcv.pushover_configs),
                ("victorops_configs", &rcv.victorops_configs),
                ("sns_configs", &rcv.sns_configs),
                ("telegram_configs", &rcv.telegram_configs),
                ("webex_configs", &rcv.webex_configs),
                ("msteams_configs", &rcv.msteams_configs),
            ];
            for (kind, v) in ignored {
                if v.is_some() {
                    warnings.push(format!(
                        "receiver {:?}: {kind} are accepted but not delivered by promplay",
                        rcv.name
                    ));
                }
            }
            names.insert(rcv.name.clone());
        }
        self.warnings = warnings;

        let Some(route) = &self.route else {
            if src.trim().is_empty() {
                return Err(ConfigError::new("no route provided in config"));
            }
            return Err(ConfigError::new("no routes provided"));
        };
        let rline = line_of("route", "");
        if route.receiver.as_deref().unwrap_or("").is_empty() {
            return Err(ConfigError::new("root route must specify a default receiver").at(rline));
        }
        if !route.match_.is_empty() || !route.match_re.is_empty() || !route.matchers.is_empty() {
            return Err(ConfigError::new("root route must not have any matchers").at(rline));
        }
        if !route.mute_time_intervals.is_empty() {
            return Err(
                ConfigError::new("root route must not have any mute time intervals").at(rline),
            );
        }
        if !route.active_time_intervals.is_empty() {
            return Err(
                ConfigError::new("root route must not have any active time intervals").at(rline),
            );
        }
        check_receiver(route, &names, &src, 0)?;

        let mut ti_names = BTreeSet::new();
        for mt in &self.mute_time_intervals {
            if !ti_names.insert(mt.name.clone()) {
                return Err(ConfigError::new(format!(
                    "mute time interval {:?} is not unique",
                    mt.name
                ))
                .at(line_of("name", &mt.name)));
            }
        }
        for t in &self.time_intervals {
            if !ti_names.insert(t.name.clone()) {
                return Err(
                    ConfigError::new(format!("time interval {:?} is not unique", t.name))
                        .at(line_of("name", &t.name)),
                );
            }
        }
        check_time_intervals(route, &ti_names, &src, 0)?;
        if route.continue_ {
            return Err(ConfigError::new("cannot have continue in root route").at(rline));
        }
        Ok(())
    }
}

impl fmt::Display for Config {
    /// The configuration as YAML, secrets shown as `<secret>` (Alertmanager's `Config.String`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_yaml())
    }
}

/// Routing trees deeper than this are refused (recursion on user input is bounded).
pub const MAX_ROUTE_DEPTH: usize = 100;

fn depth_error(depth: usize) -> Result<(), ConfigError> {
    if depth > MAX_ROUTE_DEPTH {
        return Err(ConfigError::new(format!(
            "routing tree is deeper than {MAX_ROUTE_DEPTH} levels"
        )));
    }
    Ok(())
}

fn check_route_fields(r: &RouteConfig, src: &str, depth: usize) -> Result<(), ConfigError> {
    depth_error(depth)?;
    for k in r.match_.keys() {
        if !is_valid_label_name(k) {
            return Err(
                ConfigError::new(format!("invalid label name {k:?}")).at(find_line(src, k, ""))
            );
        }
    }
    for v in r.match_re.values() {
        compile_re(v).map_err(|e| e.at(find_line(src, "", v)))?;
    }
    for m in &r.matchers {
        parse_matchers(m).map_err(|e| ConfigError::new(e.0).at(find_line(src, "", m)))?;
    }
    let mut all = false;
    let mut seen = BTreeSet::new();
    for l in &r.group_by {
        if l == "..." {
            all = true;
        } else {
            if !is_valid_label_name(l) {
                return Err(
                    ConfigError::new(format!("invalid label name {l:?} in group_by list"))
                        .at(find_line(src, "group_by", l)),
                );
            }
            if !seen.insert(l.clone()) {
                return Err(
                    ConfigError::new(format!("duplicated label {l:?} in group_by"))
                        .at(find_line(src, "group_by", l)),
                );
            }
        }
    }
    if all && !seen.is_empty() {
        return Err(ConfigError::new(
            // sic: Alertmanager 0.25's wording
            "cannot have wildcard group_by (`...`) and other other labels at the same time",
        )
        .at(find_line(src, "group_by", "...")));
    }
    if r.group_interval == Some(Duration(0)) {
        return Err(
            ConfigError::new("group_interval cannot be zero").at(find_line(
                src,
                "group_interval",
                "",
            )),
        );
    }
    if r.repeat_interval == Some(Duration(0)) {
        return Err(
            ConfigError::new("repeat_interval cannot be zero").at(find_line(
                src,
                "repeat_interval",
                "",
            )),
        );
    }
    for c in &r.routes {
        check_route_fields(c, src, depth + 1)?;
    }
    Ok(())
}

fn check_receiver(
    r: &RouteConfig,
    names: &BTreeSet<String>,
    src: &str,
    depth: usize,
) -> Result<(), ConfigError> {
    depth_error(depth)?;
    for c in &r.routes {
        check_receiver(c, names, src, depth + 1)?;
    }
    match r.receiver.as_deref() {
        None | Some("") => Ok(()),
        Some(n) if names.contains(n) => Ok(()),
        Some(n) => Err(
            ConfigError::new(format!("undefined receiver {n:?} used in route"))
                .at(find_line(src, "receiver", n)),
        ),
    }
}

fn check_time_intervals(
    r: &RouteConfig,
    names: &BTreeSet<String>,
    src: &str,
    depth: usize,
) -> Result<(), ConfigError> {
    depth_error(depth)?;
    for c in &r.routes {
        check_time_intervals(c, names, src, depth + 1)?;
    }
    for t in r
        .active_time_intervals
        .iter()
        .chain(r.mute_time_intervals.iter())
    {
        if !names.contains(t) {
            return Err(
                ConfigError::new(format!("undefined time interval {t:?} used in route"))
                    .at(find_line(src, "", t)),
            );
        }
    }
    Ok(())
}

/// Compiles a `match_re` value as Alertmanager's `config.Regexp` does (anchored).
pub fn compile_re(v: &str) -> Result<Matcher, ConfigError> {
    Matcher::new(MatchType::Regexp, "_", v)
        .map_err(|e| ConfigError::new(go_regexp_error(v, &e.message)))
}

/// A regex error in Go's shape: ``error parsing regexp: <what>: `^(?:<pattern>)$` `` (the
/// description is the `regex` crate's where Go's differs).
pub fn go_regexp_error(pattern: &str, rust_message: &str) -> String {
    let what = rust_message
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .map(|l| {
            l.trim_start()
                .trim_start_matches("error:")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| rust_message.lines().next().unwrap_or("").to_string());
    let what = match what.as_str() {
        "unclosed group" => "missing closing )".to_string(),
        "unopened group" => "unexpected )".to_string(),
        "unclosed character class" => "missing closing ]".to_string(),
        _ => what,
    };
    format!("error parsing regexp: {what}: `^(?:{pattern})$`")
}

/// Builds the matchers of a route or rule side from the old `match`/`match_re` maps and the new
/// `matchers` list, sorted as `labels.Matchers`.
pub fn build_matchers(
    match_: &BTreeMap<String, String>,
    match_re: &BTreeMap<String, String>,
    matchers: &[String],
) -> Result<Matchers, ConfigError> {
    let mut v = Vec::new();
    for (k, val) in match_ {
        v.push(Matcher::new(MatchType::Equal, k, val).map_err(|e| ConfigError::new(e.message))?);
    }
    for (k, val) in match_re {
        // config.Regexp keeps the anchored form, which is what the matcher (and so the route
        // key and amtool's output) shows.
        let anchored = format!("^(?:{val})$");
        v.push(
            Matcher::new(MatchType::Regexp, k, anchored)
                .map_err(|e| ConfigError::new(go_regexp_error(val, &e.message)))?,
        );
    }
    for m in matchers {
        v.extend(parse_matchers(m).map_err(|e| ConfigError::new(e.0))?);
    }
    Ok(Matchers::new(v))
}

/// `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`.
pub fn canonical_mime_header_key(s: &str) -> String {
    if s.bytes().any(|b| b == b' ' || !b.is_ascii_graphic()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut upper = true;
    for c in s.chars() {
        if upper {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
        upper = c == '-';
    }
    out
}

fn yaml_error(e: serde_yaml_ng::Error, src: &str) -> ConfigError {
    let (mut line, mut column) = match e.location() {
        Some(l) => (Some(l.line()), Some(l.column())),
        None => (None, None),
    };
    let mut msg = e.to_string();
    // serde_yaml_ng appends " at line L column C"; the location is printed by ConfigError.
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    // For an unknown field the location is the start of the enclosing mapping; point at the
    // field's own line instead.
    if let Some(rest) = msg
        .strip_prefix("unknown field `")
        .or_else(|| msg.split("unknown field `").nth(1))
    {
        if let Some(name) = rest.split('`').next() {
            let from = line.unwrap_or(1).saturating_sub(1);
            let hit = src.lines().enumerate().skip(from).find(|(_, l)| {
                let t = l.trim_start().trim_start_matches("- ").trim_start();
                t.strip_prefix(name)
                    .is_some_and(|r| r.trim_start().starts_with(':'))
            });
            if let Some((i, l)) = hit {
                line = Some(i + 1);
                column = Some(l.len() - l.trim_start_matches([' ', '-']).len() + 1);
            }
            let ty = if msg.contains("time_intervals[") && !msg.contains("`name`") {
                "timeinterval.TimeInterval"
            } else {
                "config.plain"
            };
            msg = format!(
                "yaml: unmarshal errors:\n  line {}: field {name} not found in type {ty}",
                line.unwrap_or(0)
            );
        }
    } else if let Some(value) = quoted_in(strip_path(&msg).1) {
        // A bad value: the location is the start of the enclosing mapping; find the line that
        // holds the value and name its field.
        let from = line.unwrap_or(1).saturating_sub(1);
        let hit = src
            .lines()
            .enumerate()
            .skip(from)
            .find(|(_, l)| l.contains(value.as_str()));
        if let Some((i, l)) = hit {
            line = Some(i + 1);
            column = Some(l.len() - l.trim_start_matches([' ', '-']).len() + 1);
            if let Some(key) = key_before(l, &value) {
                let (path, rest) = strip_path(&msg);
                msg = match path {
                    Some(p) if p == key || p.ends_with(&format!(".{key}")) => msg.clone(),
                    Some(p) => format!("{p}.{key}: {rest}"),
                    None => format!("{key}: {rest}"),
                };
            }
        }
    }
    ConfigError {
        line,
        column,
        message: msg,
    }
}

/// The mapping key written before `value` on `line` (`key: value` or `{key: value}`).
fn key_before<'a>(line: &'a str, value: &str) -> Option<&'a str> {
    line.match_indices(value).find_map(|(idx, _)| {
        let before = line[..idx]
            .trim_end()
            .trim_end_matches(['"', '\''])
            .trim_end();
        let before = before
            .strip_suffix(':')?
            .trim_end()
            .trim_end_matches(['"', '\'']);
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let key = &before[start..];
        (!key.is_empty()).then_some(key)
    })
}

/// Splits serde_yaml_ng's `path.to[0].field: ` prefix off a message.
fn strip_path(msg: &str) -> (Option<&str>, &str) {
    if let Some((p, rest)) = msg.split_once(": ") {
        let pathlike = !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
        if pathlike && p != "address" {
            return (Some(p), rest);
        }
    }
    (None, msg)
}

/// The first `"…"` or `` `…` `` quoted text of an error message.
fn quoted_in(msg: &str) -> Option<String> {
    // net.SplitHostPort: "address h: missing port in address"
    if let Some(rest) = msg.strip_prefix("address ") {
        if let Some((a, _)) = rest.split_once(": ") {
            return Some(a.trim_matches('"').to_string());
        }
    }
    for q in ['"', '`'] {
        if let Some(start) = msg.find(q) {
            let rest = &msg[start + 1..];
            if let Some(end) = rest.find(q) {
                let v = &rest[..end];
                if !v.is_empty() {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

/// The first line (1-based) that has `key:` (any key when empty) followed by `value` (any value
/// when empty), quoted or not. A heuristic to point at the line of a semantic error.
pub fn find_line(src: &str, key: &str, value: &str) -> Option<usize> {
    for (i, line) in src.lines().enumerate() {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let (k, rest) = match t.split_once(':') {
            Some((k, rest)) => (k.trim(), rest.trim()),
            None => ("", t.trim()),
        };
        if !key.is_empty() && k.trim_matches(['"', '\'']) != key {
            continue;
        }
        if value.is_empty() {
            if !key.is_empty() {
                return Some(i + 1);
            }
            continue;
        }
        let candidates = [rest, t];
        if candidates.iter().any(|c| {
            let c = c.trim_matches(['[', ']', ' ']);
            c == value
                || c.trim_matches(['"', '\'']) == value
                || c.contains(&format!("\"{value}\""))
                || c.contains(&format!("'{value}'"))
                || c.split([',', '[', ']'])
                    .any(|p| p.trim().trim_matches(['"', '\'']) == value)
        }) {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "global:
  smtp_smarthost: '127.0.0.1:2525'
  smtp_from: 'alertmanager@example.org'
  smtp_require_tls: false

route:
  receiver: example-email

receivers:
  - name: example-email
    email_configs:
      - to: 'youraddress@example.org'
";

    #[test]
    fn seed_loads_with_defaults_filled() {
        let c = Config::load(SEED).unwrap();
        let ec = &c.receivers[0].email_configs[0];
        assert_eq!(ec.smarthost.to_string(), "127.0.0.1:2525");
        assert_eq!(ec.from, "alertmanager@example.org");
        assert_eq!(ec.hello, "localhost");
        assert_eq!(ec.require_tls, Some(false));
        assert!(!ec.send_resolved);
        assert_eq!(ec.html, DEFAULT_EMAIL_HTML);
        assert_eq!(c.global.resolve_timeout, DEFAULT_RESOLVE_TIMEOUT);
    }

    fn err(src: &str) -> ConfigError {
        Config::load(src).unwrap_err()
    }

    #[test]
    fn undefined_receiver_names_its_line() {
        let e = err(
            "route:\n  receiver: a\n  routes:\n    - receiver: nope\nreceivers:\n  - name: a\n",
        );
        assert_eq!(e.message, "undefined receiver \"nope\" used in route");
        assert_eq!(e.line, Some(4));
        assert_eq!(
            e.to_string(),
            "line 4: undefined receiver \"nope\" used in route"
        );
    }

    #[test]
    fn email_needs_smarthost_and_from() {
        let e = err("route: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{to: x@y}]\n");
        assert_eq!(e.message, "no global SMTP smarthost set");
        let e = err("global: {smtp_smarthost: 'h:25'}\nroute: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{to: x@y}]\n");
        assert_eq!(e.message, "no global SMTP from set");
        let e = err("global: {smtp_smarthost: 'h'}\nroute: {receiver: a}\nreceivers:\n- name: a\n");
        assert!(e.message.contains("missing port in address"), "{e}");
        let e =
            err("route: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{from: x@y}]\n");
        assert_eq!(e.message, "missing to address in email config");
    }

    #[test]
    fn unknown_field_has_line_and_field() {
        let e = err("route:\n  receiver: a\n  group_wiat: 1m\nreceivers:\n- name: a\n");
        assert_eq!(e.line, Some(3));
        assert_eq!(
            e.to_string(),
            "yaml: unmarshal errors:\n  line 3: field group_wiat not found in type config.plain"
        );
        let e = err("route:\n  receiver: a\n  group_wait: 1x\nreceivers:\n- name: a\n");
        assert!(e.message.contains("not a valid duration string"), "{e}");
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn root_route_rules() {
        assert_eq!(err("receivers:\n- name: a\n").message, "no routes provided");
        assert_eq!(err("").message, "no route provided in config");
        assert_eq!(
            err("route: {receiver: a, matchers: ['x=y']}\nreceivers: [{name: a}]").message,
            "root route must not have any matchers"
        );
        assert_eq!(
            err("route: {receiver: a, continue: true}\nreceivers: [{name: a}]").message,
            "cannot have continue in root route"
        );
        assert_eq!(
            err("route: {group_by: [a]}\nreceivers: [{name: a}]").message,
            "root route must specify a default receiver"
        );
        assert_eq!(
            err("route: {receiver: a, group_by: ['...', x]}\nreceivers: [{name: a}]").message,
            "cannot have wildcard group_by (`...`) and other other labels at the same time"
        );
        assert_eq!(
            err("route: {receiver: a, routes: [{mute_time_intervals: [x]}]}\nreceivers: [{name: a}]").message,
            "undefined time interval \"x\" used in route"
        );
        assert_eq!(
            err("route: {receiver: a}\nreceivers: [{name: a}, {name: a}]").message,
            "notification config name \"a\" is not unique"
        );
        assert_eq!(
            err("route: {receiver: a, routes: [{matchers: ['a=\"b']}]}\nreceivers: [{name: a}]")
                .message,
            "matcher value contains unescaped double quote: \"b"
        );
    }

    #[test]
    fn secrets_are_not_displayed() {
        let c = Config::load(
            "global: {smtp_smarthost: 'h:25', smtp_from: f@x, smtp_auth_password: hunter2}\nroute: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{to: x@y, auth_secret: s3cr3t}]\n",
        )
        .unwrap();
        let y = c.to_yaml();
        assert!(!y.contains("hunter2") && !y.contains("s3cr3t"), "{y}");
        assert!(y.contains("<secret>"));
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.to_string().contains("hunter2"));
        assert_eq!(
            c.receivers[0].email_configs[0].auth_password.expose(),
            "hunter2"
        );
    }

    #[test]
    fn headers_are_canonicalised_and_duplicates_refused() {
        let c = Config::load("global: {smtp_smarthost: 'h:25', smtp_from: f@x}\nroute: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{to: x@y, headers: {subject: hi, x-foo-bar: z}}]\n").unwrap();
        let h = &c.receivers[0].email_configs[0].headers;
        assert_eq!(h.get("Subject").map(String::as_str), Some("hi"));
        assert!(h.contains_key("X-Foo-Bar"));
        let e = err("global: {smtp_smarthost: 'h:25', smtp_from: f@x}\nroute: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{to: x@y, headers: {subject: hi, Subject: ho}}]\n");
        assert_eq!(e.message, "duplicate header \"Subject\" in email config");
    }

    #[test]
    fn webhook_defaults_and_checks() {
        let c = Config::load("route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs: [{url: 'http://x/y'}]\n").unwrap();
        assert!(c.receivers[0].webhook_configs[0].send_resolved);
        assert!(err("route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs: [{url: 'ftp://x/y'}]\n").message.contains("unsupported scheme \"ftp\" for URL"));
        assert_eq!(
            err("route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs: [{max_alerts: 2}]\n").message,
            "missing URL in webhook config"
        );
    }
}

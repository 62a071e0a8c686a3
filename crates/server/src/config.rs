//! `prometheus.yml`, as Prometheus v3 reads it (`config/config.go` and the HTTP client config
//! of `prometheus/common`): the same fields, the same defaults, the same validation messages,
//! unknown fields rejected. Secrets print as `<secret>`.
//!
//! Service-discovery mechanisms other than `static_configs` and `file_sd_configs` are accepted
//! (so real configs load) but kept as uninterpreted YAML: the playground has no cloud to
//! discover from.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::duration::{ByteSize, Duration};
use crate::relabel::{NameValidationScheme, RelabelConfig};

/// Uninterpreted YAML (service-discovery sections the engine does not run).
pub type YamlValue = serde_yaml_ng::Value;

/// Why a configuration could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The YAML could not be decoded into the configuration (syntax, unknown field, wrong
    /// type, bad value). `line` is 1-based.
    #[error("{}", yaml_error_text(*line, path, message))]
    Yaml {
        line: Option<usize>,
        column: Option<usize>,
        /// The field, as a path from the document root (`scrape_configs[0].scrape_interval`).
        path: String,
        message: String,
    },
    /// The document decoded but is not a valid configuration (Prometheus's validation).
    #[error("{0}")]
    Invalid(String),
}

fn yaml_error_text(line: Option<usize>, path: &str, message: &str) -> String {
    let mut out = String::from("yaml: unmarshal errors:\n  ");
    if let Some(l) = line {
        out.push_str(&format!("line {l}: "));
    }
    if !path.is_empty() && !message.starts_with("field ") {
        out.push_str(path);
        out.push_str(": ");
    }
    out.push_str(message);
    out
}

/// A string whose value is never shown: it serializes and debug-prints as `<secret>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<secret>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(crate::duration::ScalarString::deserialize(d)?.0))
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}
fn is_zero_dur(d: &Duration) -> bool {
    d.is_zero()
}
fn is_zero_size(d: &ByteSize) -> bool {
    d.0 == 0
}
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}
fn yes() -> bool {
    true
}

/// A null YAML value gives the type's default (Go leaves the default in place).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// HTTP client configuration (prometheus/common config.HTTPClientConfig), inlined in scrape,
// alertmanager, remote write and remote read configs.

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    #[serde(default)]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username_ref: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub password: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password_ref: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub credentials: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credentials_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credentials_ref: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cert: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub key: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cert_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_ref: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cert_ref: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key_ref: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_name: String,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub min_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub max_version: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Secret,
    #[serde(default)]
    pub client_secret_file: String,
    #[serde(default)]
    pub client_secret_ref: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub token_url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_params: BTreeMap<String, String>,
    #[serde(default)]
    pub tls_config: TlsConfig,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub proxy_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub no_proxy: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub proxy_from_environment: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
}

/// The HTTP client settings shared by every section that talks to a server.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpClientConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2>,
    #[serde(skip_serializing_if = "is_default")]
    pub tls_config: TlsConfig,
    pub follow_redirects: bool,
    pub enable_http2: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub proxy_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub no_proxy: String,
    #[serde(skip_serializing_if = "is_false")]
    pub proxy_from_environment: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<serde_yaml_ng::Value>,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            tls_config: TlsConfig::default(),
            follow_redirects: true,
            enable_http2: true,
            proxy_url: String::new(),
            no_proxy: String::new(),
            proxy_from_environment: false,
            proxy_connect_header: BTreeMap::new(),
            http_headers: None,
        }
    }
}

/// The HTTP client fields as they appear inline in a section, before `Validate` folds
/// `bearer_token(_file)` into `authorization`.
#[derive(Clone, Debug, Default)]
struct HttpFields {
    basic_auth: Option<BasicAuth>,
    authorization: Option<Authorization>,
    oauth2: Option<OAuth2>,
    bearer_token: Secret,
    bearer_token_file: String,
    tls_config: Option<TlsConfig>,
    follow_redirects: Option<bool>,
    enable_http2: Option<bool>,
    proxy_url: String,
    no_proxy: String,
    proxy_from_environment: bool,
    proxy_connect_header: BTreeMap<String, Vec<Secret>>,
    http_headers: Option<serde_yaml_ng::Value>,
}

impl HttpFields {
    /// `HTTPClientConfig.Validate` of prometheus/common, with its messages.
    fn into_config(self, defaults: HttpClientConfig) -> Result<HttpClientConfig, ConfigError> {
        let inv = |s: &str| Err(ConfigError::Invalid(s.to_string()));
        let bearer = !self.bearer_token.is_empty();
        let bearer_file = !self.bearer_token_file.is_empty();
        if bearer && bearer_file {
            return inv("at most one of bearer_token & bearer_token_file must be configured");
        }
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && (bearer || bearer_file) {
            return inv(
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
            );
        }
        if let Some(b) = &self.basic_auth {
            let n = [
                !b.username.is_empty(),
                !b.username_file.is_empty(),
                !b.username_ref.is_empty(),
            ];
            if n.iter().filter(|x| **x).count() > 1 {
                return inv(
                    "at most one of basic_auth username, username_file & username_ref must be configured",
                );
            }
            let n = [
                !b.password.is_empty(),
                !b.password_file.is_empty(),
                !b.password_ref.is_empty(),
            ];
            if n.iter().filter(|x| **x).count() > 1 {
                return inv(
                    "at most one of basic_auth password, password_file & password_ref must be configured",
                );
            }
        }
        let mut authorization = self.authorization;
        if let Some(a) = authorization.as_mut() {
            if bearer || bearer_file {
                return inv(
                    "authorization is not compatible with bearer_token & bearer_token_file",
                );
            }
            let n = [
                !a.credentials.is_empty(),
                !a.credentials_file.is_empty(),
                !a.credentials_ref.is_empty(),
            ];
            if n.iter().filter(|x| **x).count() > 1 {
                return inv("at most one of authorization credentials & credentials_file must be configured");
            }
            a.kind = a.kind.trim().to_string();
            if a.kind.is_empty() {
                a.kind = "Bearer".to_string();
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return inv(
                    r#"authorization type cannot be set to "basic", use "basic_auth" instead"#,
                );
            }
            if self.basic_auth.is_some() || self.oauth2.is_some() {
                return inv("at most one of basic_auth, oauth2 & authorization must be configured");
            }
        } else if bearer {
            authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: self.bearer_token.clone(),
                ..Default::default()
            });
        } else if bearer_file {
            authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials_file: self.bearer_token_file.clone(),
                ..Default::default()
            });
        }
        if let Some(o) = &self.oauth2 {
            if self.basic_auth.is_some() {
                return inv("at most one of basic_auth, oauth2 & authorization must be configured");
            }
            if o.client_id.is_empty() {
                return inv("oauth2 client_id must be configured");
            }
            if o.token_url.is_empty() {
                return inv("oauth2 token_url must be configured");
            }
            let n = [
                !o.client_secret.is_empty(),
                !o.client_secret_file.is_empty(),
                !o.client_secret_ref.is_empty(),
            ];
            if n.iter().filter(|x| **x).count() > 1 {
                return inv("at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured");
            }
        }
        if !self.proxy_connect_header.is_empty()
            && self.proxy_url.is_empty()
            && !self.proxy_from_environment
        {
            return inv("if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured");
        }
        if self.proxy_from_environment && (!self.proxy_url.is_empty() || !self.no_proxy.is_empty())
        {
            return inv("if proxy_from_environment is configured, proxy_url and no_proxy must not be configured");
        }
        if !self.no_proxy.is_empty() && self.proxy_url.is_empty() {
            return inv("if no_proxy is configured, proxy_url must also be configured");
        }
        Ok(HttpClientConfig {
            basic_auth: self.basic_auth,
            authorization,
            oauth2: self.oauth2,
            tls_config: self.tls_config.unwrap_or_default(),
            follow_redirects: self.follow_redirects.unwrap_or(defaults.follow_redirects),
            enable_http2: self.enable_http2.unwrap_or(defaults.enable_http2),
            proxy_url: self.proxy_url,
            no_proxy: self.no_proxy,
            proxy_from_environment: self.proxy_from_environment,
            proxy_connect_header: self.proxy_connect_header,
            http_headers: self.http_headers,
        })
    }
}

/// Declares a raw (as-written) section struct with the inline HTTP client fields appended.
macro_rules! with_http_fields {
    ($(#[$m:meta])* struct $name:ident { $($body:tt)* }) => {
        $(#[$m])*
        struct $name {
            $($body)*
            #[serde(default)] basic_auth: Option<BasicAuth>,
            #[serde(default)] authorization: Option<Authorization>,
            #[serde(default)] oauth2: Option<OAuth2>,
            #[serde(default)] bearer_token: Secret,
            #[serde(default)] bearer_token_file: String,
            #[serde(default)] tls_config: Option<TlsConfig>,
            #[serde(default)] follow_redirects: Option<bool>,
            #[serde(default)] enable_http2: Option<bool>,
            #[serde(default)] proxy_url: String,
            #[serde(default)] no_proxy: String,
            #[serde(default)] proxy_from_environment: bool,
            #[serde(default)] proxy_connect_header: BTreeMap<String, Vec<Secret>>,
            #[serde(default)] http_headers: Option<serde_yaml_ng::Value>,
        }
        impl $name {
            fn http_fields(&mut self) -> HttpFields {
                HttpFields {
                    basic_auth: self.basic_auth.take(),
                    authorization: self.authorization.take(),
                    oauth2: self.oauth2.take(),
                    bearer_token: std::mem::take(&mut self.bearer_token),
                    bearer_token_file: std::mem::take(&mut self.bearer_token_file),
                    tls_config: self.tls_config.take(),
                    follow_redirects: self.follow_redirects.take(),
                    enable_http2: self.enable_http2.take(),
                    proxy_url: std::mem::take(&mut self.proxy_url),
                    no_proxy: std::mem::take(&mut self.no_proxy),
                    proxy_from_environment: self.proxy_from_environment,
                    proxy_connect_header: std::mem::take(&mut self.proxy_connect_header),
                    http_headers: self.http_headers.take(),
                }
            }

            /// The HTTP client validation, without consuming the fields (run while decoding,
            /// so an error carries the section's line).
            #[allow(dead_code)]
            fn http_check(&self) -> Result<(), ConfigError> {
                HttpFields {
                    basic_auth: self.basic_auth.clone(),
                    authorization: self.authorization.clone(),
                    oauth2: self.oauth2.clone(),
                    bearer_token: self.bearer_token.clone(),
                    bearer_token_file: self.bearer_token_file.clone(),
                    tls_config: None,
                    follow_redirects: None,
                    enable_http2: None,
                    proxy_url: self.proxy_url.clone(),
                    no_proxy: self.no_proxy.clone(),
                    proxy_from_environment: self.proxy_from_environment,
                    proxy_connect_header: self.proxy_connect_header.clone(),
                    http_headers: None,
                }
                .into_config(HttpClientConfig::default())
                .map(|_| ())
            }
        }
    };
}

/// Declares a raw section struct with the service-discovery fields appended, then the HTTP
/// fields.
macro_rules! with_sd_and_http_fields {
    ($(#[$m:meta])* struct $name:ident { $($body:tt)* }) => {
        with_http_fields! {
            $(#[$m])*
            struct $name {
                $($body)*
                #[serde(default, deserialize_with = "static_configs")] static_configs: Vec<StaticConfig>,
                #[serde(default, deserialize_with = "nullable")] file_sd_configs: Vec<FileSdConfig>,
                #[serde(default)] azure_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] consul_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] digitalocean_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] docker_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] dockerswarm_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] dns_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] ec2_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] ecs_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] elasticache_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] eureka_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] gce_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] hetzner_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] http_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] ionos_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] kubernetes_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] kuma_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] lightsail_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] linode_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] marathon_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] msk_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] nerve_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] nomad_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] openstack_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] ovhcloud_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] puppetdb_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] rds_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] scaleway_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] serverset_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] stackit_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] triton_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] uyuni_sd_configs: Option<serde_yaml_ng::Value>,
                #[serde(default)] vultr_sd_configs: Option<serde_yaml_ng::Value>,
            }
        }
        impl $name {
            fn sd_configs(&mut self) -> ServiceDiscoveryConfigs {
                let mut other = BTreeMap::new();
                for (k, v) in [
                    ("azure_sd_configs", self.azure_sd_configs.take()),
                    ("consul_sd_configs", self.consul_sd_configs.take()),
                    ("digitalocean_sd_configs", self.digitalocean_sd_configs.take()),
                    ("docker_sd_configs", self.docker_sd_configs.take()),
                    ("dockerswarm_sd_configs", self.dockerswarm_sd_configs.take()),
                    ("dns_sd_configs", self.dns_sd_configs.take()),
                    ("ec2_sd_configs", self.ec2_sd_configs.take()),
                    ("ecs_sd_configs", self.ecs_sd_configs.take()),
                    ("elasticache_sd_configs", self.elasticache_sd_configs.take()),
                    ("eureka_sd_configs", self.eureka_sd_configs.take()),
                    ("gce_sd_configs", self.gce_sd_configs.take()),
                    ("hetzner_sd_configs", self.hetzner_sd_configs.take()),
                    ("http_sd_configs", self.http_sd_configs.take()),
                    ("ionos_sd_configs", self.ionos_sd_configs.take()),
                    ("kubernetes_sd_configs", self.kubernetes_sd_configs.take()),
                    ("kuma_sd_configs", self.kuma_sd_configs.take()),
                    ("lightsail_sd_configs", self.lightsail_sd_configs.take()),
                    ("linode_sd_configs", self.linode_sd_configs.take()),
                    ("marathon_sd_configs", self.marathon_sd_configs.take()),
                    ("msk_sd_configs", self.msk_sd_configs.take()),
                    ("nerve_sd_configs", self.nerve_sd_configs.take()),
                    ("nomad_sd_configs", self.nomad_sd_configs.take()),
                    ("openstack_sd_configs", self.openstack_sd_configs.take()),
                    ("ovhcloud_sd_configs", self.ovhcloud_sd_configs.take()),
                    ("puppetdb_sd_configs", self.puppetdb_sd_configs.take()),
                    ("rds_sd_configs", self.rds_sd_configs.take()),
                    ("scaleway_sd_configs", self.scaleway_sd_configs.take()),
                    ("serverset_sd_configs", self.serverset_sd_configs.take()),
                    ("stackit_sd_configs", self.stackit_sd_configs.take()),
                    ("triton_sd_configs", self.triton_sd_configs.take()),
                    ("uyuni_sd_configs", self.uyuni_sd_configs.take()),
                    ("vultr_sd_configs", self.vultr_sd_configs.take()),
                ] {
                    if let Some(v) = v {
                        other.insert(k.to_string(), v);
                    }
                }
                ServiceDiscoveryConfigs {
                    static_configs: std::mem::take(&mut self.static_configs),
                    file_sd_configs: std::mem::take(&mut self.file_sd_configs),
                    other,
                }
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Service discovery.

/// A target group of `static_configs` (`targetgroup.Group`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    #[serde(default, deserialize_with = "nullable")]
    pub targets: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    #[serde(default, deserialize_with = "nullable")]
    pub files: Vec<String>,
    #[serde(default = "five_minutes")]
    pub refresh_interval: Duration,
}

/// `static_configs`: a null entry is Prometheus's "empty or null section in static_configs".
fn static_configs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<StaticConfig>, D::Error> {
    Option::<Vec<Option<StaticConfig>>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            s.ok_or_else(|| serde::de::Error::custom("empty or null section in static_configs"))
        })
        .collect()
}

fn five_minutes() -> Duration {
    Duration::from_secs(300)
}

/// Where a section's targets come from.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServiceDiscoveryConfigs {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_configs: Vec<StaticConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Other mechanisms, by config key (`ec2_sd_configs` …), uninterpreted.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_yaml_ng::Value>,
}

// ---------------------------------------------------------------------------------------------
// The sections.

/// `global:`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GlobalConfig {
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_protocols: Vec<String>,
    pub evaluation_interval: Duration,
    #[serde(skip_serializing_if = "is_zero_dur")]
    pub rule_query_offset: Duration,
    /// Accepted and kept; the engine has no file system to log to.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub query_log_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scrape_failure_log_file: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub external_labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "is_zero_size")]
    pub body_size_limit: ByteSize,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub sample_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub target_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub label_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub label_name_length_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub label_value_length_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub keep_dropped_targets: u64,
    pub metric_name_validation_scheme: String,
    pub metric_name_escaping_scheme: String,
    pub scrape_native_histograms: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub convert_classic_histograms_to_nhcb: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub always_scrape_classic_histograms: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub extra_scrape_metrics: bool,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            scrape_protocols: Vec::new(),
            evaluation_interval: Duration::from_secs(60),
            rule_query_offset: Duration::ZERO,
            query_log_file: String::new(),
            scrape_failure_log_file: String::new(),
            external_labels: BTreeMap::new(),
            body_size_limit: ByteSize(0),
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            metric_name_validation_scheme: "utf8".into(),
            metric_name_escaping_scheme: "allow-utf-8".into(),
            scrape_native_histograms: false,
            convert_classic_histograms_to_nhcb: false,
            always_scrape_classic_histograms: false,
            extra_scrape_metrics: false,
        }
    }
}

impl GlobalConfig {
    pub fn name_validation_scheme(&self) -> NameValidationScheme {
        scheme_of(&self.metric_name_validation_scheme)
    }

    /// `external_labels` as a label set.
    pub fn external_label_set(&self) -> promplay_model::Labels {
        promplay_model::Labels::new(
            self.external_labels
                .iter()
                .map(|(k, v)| promplay_model::Label::new(k.as_str(), v.as_str()))
                .collect(),
        )
    }
}

fn scheme_of(s: &str) -> NameValidationScheme {
    if s == "legacy" {
        NameValidationScheme::Legacy
    } else {
        NameValidationScheme::Utf8
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGlobal {
    #[serde(default)]
    scrape_interval: Duration,
    #[serde(default)]
    scrape_timeout: Duration,
    #[serde(default)]
    scrape_protocols: Option<Vec<String>>,
    #[serde(default)]
    evaluation_interval: Duration,
    #[serde(default)]
    rule_query_offset: Duration,
    #[serde(default)]
    query_log_file: String,
    #[serde(default)]
    scrape_failure_log_file: String,
    #[serde(default, deserialize_with = "nullable")]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    body_size_limit: ByteSize,
    #[serde(default)]
    sample_limit: u64,
    #[serde(default)]
    target_limit: u64,
    #[serde(default)]
    label_limit: u64,
    #[serde(default)]
    label_name_length_limit: u64,
    #[serde(default)]
    label_value_length_limit: u64,
    #[serde(default)]
    keep_dropped_targets: u64,
    #[serde(default)]
    metric_name_validation_scheme: String,
    #[serde(default)]
    metric_name_escaping_scheme: String,
    #[serde(default)]
    scrape_native_histograms: Option<bool>,
    #[serde(default)]
    convert_classic_histograms_to_nhcb: bool,
    #[serde(default)]
    always_scrape_classic_histograms: bool,
    #[serde(default)]
    extra_scrape_metrics: bool,
}

const SCRAPE_PROTOCOLS: [&str; 5] = [
    "OpenMetricsText0.0.1",
    "OpenMetricsText1.0.0",
    "PrometheusProto",
    "PrometheusText0.0.4",
    "PrometheusText1.0.0",
];

fn validate_scrape_protocols(sps: &[String]) -> Result<(), String> {
    if sps.is_empty() {
        return Err("scrape_protocols cannot be empty".into());
    }
    let mut seen = Vec::new();
    for sp in sps {
        let low = sp.to_lowercase();
        if seen.contains(&low) {
            return Err(format!(
                "duplicated protocol in scrape_protocols, got [{}]",
                sps.join(" ")
            ));
        }
        if !SCRAPE_PROTOCOLS.contains(&sp.as_str()) {
            return Err(format!(
                "scrape_protocols: unknown scrape protocol {sp}, supported: [{}]",
                SCRAPE_PROTOCOLS.join(" ")
            ));
        }
        seen.push(low);
    }
    Ok(())
}

impl RawGlobal {
    fn into_global(self) -> Result<GlobalConfig, ConfigError> {
        let d = GlobalConfig::default();
        let scheme = match self.metric_name_validation_scheme.as_str() {
            "utf8" | "legacy" => self.metric_name_validation_scheme.clone(),
            _ => d.metric_name_validation_scheme.clone(),
        };
        for (name, value) in &self.external_labels {
            if !scheme_of(&scheme).is_valid_label_name(name) {
                return Err(ConfigError::Invalid(format!(
                    "{name:?} is not a valid label name"
                )));
            }
            let _ = value;
        }
        let scrape_interval = if self.scrape_interval.is_zero() {
            d.scrape_interval
        } else {
            self.scrape_interval
        };
        if self.scrape_timeout > scrape_interval {
            return Err(ConfigError::Invalid(
                "global scrape timeout greater than scrape interval".into(),
            ));
        }
        let scrape_timeout = if self.scrape_timeout.is_zero() {
            d.scrape_timeout.min(scrape_interval)
        } else {
            self.scrape_timeout
        };
        if let Some(sps) = &self.scrape_protocols {
            validate_scrape_protocols(sps)
                .map_err(|e| ConfigError::Invalid(format!("{e} for global config")))?;
        }
        let escaping = if self.metric_name_escaping_scheme.is_empty() {
            if scheme == "legacy" {
                "underscores".to_string()
            } else {
                "allow-utf-8".to_string()
            }
        } else {
            self.metric_name_escaping_scheme
        };
        Ok(GlobalConfig {
            scrape_interval,
            scrape_timeout,
            scrape_protocols: self.scrape_protocols.unwrap_or_default(),
            evaluation_interval: if self.evaluation_interval.is_zero() {
                d.evaluation_interval
            } else {
                self.evaluation_interval
            },
            rule_query_offset: self.rule_query_offset,
            query_log_file: self.query_log_file,
            scrape_failure_log_file: self.scrape_failure_log_file,
            external_labels: self.external_labels,
            body_size_limit: self.body_size_limit,
            sample_limit: self.sample_limit,
            target_limit: self.target_limit,
            label_limit: self.label_limit,
            label_name_length_limit: self.label_name_length_limit,
            label_value_length_limit: self.label_value_length_limit,
            keep_dropped_targets: self.keep_dropped_targets,
            metric_name_validation_scheme: scheme,
            metric_name_escaping_scheme: escaping,
            scrape_native_histograms: self.scrape_native_histograms.unwrap_or(false),
            convert_classic_histograms_to_nhcb: self.convert_classic_histograms_to_nhcb,
            always_scrape_classic_histograms: self.always_scrape_classic_histograms,
            extra_scrape_metrics: self.extra_scrape_metrics,
        })
    }
}

/// One `scrape_configs` entry, with the globals applied.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScrapeConfig {
    pub job_name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub scrape_protocols: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fallback_scrape_protocol: String,
    pub scrape_native_histograms: bool,
    pub always_scrape_classic_histograms: bool,
    pub convert_classic_histograms_to_nhcb: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scrape_failure_log_file: String,
    pub metrics_path: String,
    pub scheme: String,
    pub enable_compression: bool,
    #[serde(skip_serializing_if = "is_zero_size")]
    pub body_size_limit: ByteSize,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub sample_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub target_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub label_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub label_name_length_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub label_value_length_limit: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub native_histogram_bucket_limit: u64,
    #[serde(skip_serializing_if = "f64_is_zero")]
    pub native_histogram_min_bucket_factor: f64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub keep_dropped_targets: u64,
    pub metric_name_validation_scheme: String,
    pub metric_name_escaping_scheme: String,
    pub extra_scrape_metrics: bool,
    #[serde(flatten)]
    pub http_client_config: HttpClientConfig,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Printed last, as Prometheus appends the discovery configs to the marshalled struct.
    #[serde(flatten)]
    pub service_discovery: ServiceDiscoveryConfigs,
}

fn f64_is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl ScrapeConfig {
    pub fn name_validation_scheme(&self) -> NameValidationScheme {
        scheme_of(&self.metric_name_validation_scheme)
    }
}

with_sd_and_http_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawScrapeConfig {
        #[serde(default)] job_name: String,
        #[serde(default)] honor_labels: bool,
        #[serde(default = "yes")] honor_timestamps: bool,
        #[serde(default)] track_timestamps_staleness: bool,
        #[serde(default, deserialize_with = "nullable")] params: BTreeMap<String, Vec<String>>,
        #[serde(default)] scrape_interval: Duration,
        #[serde(default)] scrape_timeout: Duration,
        #[serde(default)] scrape_protocols: Option<Vec<String>>,
        #[serde(default)] fallback_scrape_protocol: String,
        #[serde(default)] scrape_native_histograms: Option<bool>,
        #[serde(default)] always_scrape_classic_histograms: Option<bool>,
        #[serde(default)] convert_classic_histograms_to_nhcb: Option<bool>,
        #[serde(default)] scrape_failure_log_file: String,
        #[serde(default)] metrics_path: Option<String>,
        #[serde(default)] scheme: Option<String>,
        #[serde(default = "yes")] enable_compression: bool,
        #[serde(default)] body_size_limit: ByteSize,
        #[serde(default)] sample_limit: u64,
        #[serde(default)] target_limit: u64,
        #[serde(default)] label_limit: u64,
        #[serde(default)] label_name_length_limit: u64,
        #[serde(default)] label_value_length_limit: u64,
        #[serde(default)] native_histogram_bucket_limit: u64,
        #[serde(default)] native_histogram_min_bucket_factor: f64,
        #[serde(default)] keep_dropped_targets: u64,
        #[serde(default)] metric_name_validation_scheme: String,
        #[serde(default)] metric_name_escaping_scheme: String,
        #[serde(default)] extra_scrape_metrics: Option<bool>,
        #[serde(default, deserialize_with = "nullable_relabels")] relabel_configs: Vec<Option<RelabelConfig>>,
        #[serde(default, deserialize_with = "nullable_relabels")] metric_relabel_configs: Vec<Option<RelabelConfig>>,
    }
}

/// A scrape config whose checks that need no globals ran while decoding, so their errors
/// carry the line of the `- job_name:` entry.
struct CheckedScrapeConfig(RawScrapeConfig);

impl<'de> Deserialize<'de> for CheckedScrapeConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::relabel::deserialize_checked(d, |raw: RawScrapeConfig| {
            if raw.job_name.is_empty() {
                return Err("job_name is empty".to_string());
            }
            raw.http_check().map_err(|e| e.to_string())?;
            if raw.relabel_configs.is_empty() {
                for t in raw.static_configs.iter().flat_map(|s| s.targets.iter()) {
                    check_target_address(t)?;
                }
            }
            Ok(CheckedScrapeConfig(raw))
        })
    }
}

fn nullable_relabels<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<Option<RelabelConfig>>, D::Error> {
    Ok(Option::<Vec<Option<RelabelConfig>>>::deserialize(d)?.unwrap_or_default())
}

fn no_null_relabels(
    v: Vec<Option<RelabelConfig>>,
    msg: &str,
) -> Result<Vec<RelabelConfig>, ConfigError> {
    v.into_iter()
        .map(|c| c.ok_or_else(|| ConfigError::Invalid(msg.to_string())))
        .collect()
}

/// `config.CheckTargetAddress`: a target address may not contain a `/`.
pub fn check_target_address(address: &str) -> Result<(), String> {
    if address.contains('/') {
        return Err(format!("{address:?} is not a valid hostname"));
    }
    Ok(())
}

fn check_static_targets(sd: &ServiceDiscoveryConfigs) -> Result<(), ConfigError> {
    for tg in &sd.static_configs {
        for t in &tg.targets {
            check_target_address(t).map_err(ConfigError::Invalid)?;
        }
    }
    Ok(())
}

impl RawScrapeConfig {
    fn into_scrape_config(mut self, g: &GlobalConfig) -> Result<ScrapeConfig, ConfigError> {
        let inv = |s: String| Err(ConfigError::Invalid(s));
        if self.job_name.is_empty() {
            return inv("job_name is empty".into());
        }
        let http = self
            .http_fields()
            .into_config(HttpClientConfig::default())?;
        let sd = self.sd_configs();
        if self.relabel_configs.is_empty() {
            check_static_targets(&sd)?;
        }
        let relabel_configs = no_null_relabels(
            std::mem::take(&mut self.relabel_configs),
            "empty or null target relabeling rule in scrape config",
        )?;
        let metric_relabel_configs = no_null_relabels(
            std::mem::take(&mut self.metric_relabel_configs),
            "empty or null metric relabeling rule in scrape config",
        )?;
        // ScrapeConfig.Validate(globalConfig).
        let job = self.job_name.clone();
        let scrape_interval = if self.scrape_interval.is_zero() {
            g.scrape_interval
        } else {
            self.scrape_interval
        };
        if self.scrape_timeout > scrape_interval {
            return inv(format!(
                "scrape timeout greater than scrape interval for scrape config with job name {job:?}"
            ));
        }
        let scrape_timeout = if self.scrape_timeout.is_zero() {
            g.scrape_timeout.min(scrape_interval)
        } else {
            self.scrape_timeout
        };
        let or_global = |v: u64, gv: u64| if v == 0 { gv } else { v };
        let native = self
            .scrape_native_histograms
            .unwrap_or(g.scrape_native_histograms);
        let scrape_protocols = match self.scrape_protocols.take() {
            Some(p) => p,
            None if !g.scrape_protocols.is_empty() => g.scrape_protocols.clone(),
            None if native => vec![
                "PrometheusProto".into(),
                "OpenMetricsText1.0.0".into(),
                "OpenMetricsText0.0.1".into(),
                "PrometheusText1.0.0".into(),
                "PrometheusText0.0.4".into(),
            ],
            None => vec![
                "OpenMetricsText1.0.0".into(),
                "OpenMetricsText0.0.1".into(),
                "PrometheusText1.0.0".into(),
                "PrometheusText0.0.4".into(),
            ],
        };
        validate_scrape_protocols(&scrape_protocols).map_err(|e| {
            ConfigError::Invalid(format!("{e} for scrape config with job name {job:?}"))
        })?;
        if !self.fallback_scrape_protocol.is_empty()
            && !SCRAPE_PROTOCOLS.contains(&self.fallback_scrape_protocol.as_str())
        {
            return inv(format!(
                "invalid fallback_scrape_protocol for scrape config with job name {job:?}: unknown scrape protocol {}, supported: [{}]",
                self.fallback_scrape_protocol,
                SCRAPE_PROTOCOLS.join(" ")
            ));
        }
        let local_unset = self.metric_name_validation_scheme.is_empty();
        let validation = match self.metric_name_validation_scheme.as_str() {
            "" => g.metric_name_validation_scheme.clone(),
            "legacy" | "utf8" => self.metric_name_validation_scheme.clone(),
            other => {
                return inv(format!(
                    "unknown scrape config name validation method specified, must be either '', 'legacy' or 'utf8', got {other}"
                ))
            }
        };
        let escaping = if self.metric_name_escaping_scheme.is_empty() {
            if local_unset {
                g.metric_name_escaping_scheme.clone()
            } else if validation == "legacy" {
                "underscores".to_string()
            } else {
                "allow-utf-8".to_string()
            }
        } else {
            self.metric_name_escaping_scheme.clone()
        };
        match escaping.as_str() {
            "allow-utf-8" => {
                if validation != "utf8" {
                    return inv(
                        "utf8 metric names requested but validation scheme is not set to UTF8"
                            .into(),
                    );
                }
            }
            "underscores" | "dots" | "values" => {}
            other => {
                return inv(format!(
                    "unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {other:?}"
                ))
            }
        }
        let scheme_kind = scheme_of(&validation);
        for rc in relabel_configs.iter().chain(metric_relabel_configs.iter()) {
            rc.validate(scheme_kind).map_err(ConfigError::Invalid)?;
        }
        Ok(ScrapeConfig {
            job_name: self.job_name,
            honor_labels: self.honor_labels,
            honor_timestamps: self.honor_timestamps,
            track_timestamps_staleness: self.track_timestamps_staleness,
            params: self.params,
            scrape_interval,
            scrape_timeout,
            scrape_protocols,
            fallback_scrape_protocol: self.fallback_scrape_protocol,
            scrape_native_histograms: native,
            always_scrape_classic_histograms: self
                .always_scrape_classic_histograms
                .unwrap_or(g.always_scrape_classic_histograms),
            convert_classic_histograms_to_nhcb: self
                .convert_classic_histograms_to_nhcb
                .unwrap_or(g.convert_classic_histograms_to_nhcb),
            scrape_failure_log_file: if self.scrape_failure_log_file.is_empty() {
                g.scrape_failure_log_file.clone()
            } else {
                self.scrape_failure_log_file
            },
            metrics_path: self.metrics_path.unwrap_or_else(|| "/metrics".into()),
            scheme: self.scheme.unwrap_or_else(|| "http".into()),
            enable_compression: self.enable_compression,
            body_size_limit: if self.body_size_limit.0 == 0 {
                g.body_size_limit
            } else {
                self.body_size_limit
            },
            sample_limit: or_global(self.sample_limit, g.sample_limit),
            target_limit: or_global(self.target_limit, g.target_limit),
            label_limit: or_global(self.label_limit, g.label_limit),
            label_name_length_limit: or_global(
                self.label_name_length_limit,
                g.label_name_length_limit,
            ),
            label_value_length_limit: or_global(
                self.label_value_length_limit,
                g.label_value_length_limit,
            ),
            native_histogram_bucket_limit: self.native_histogram_bucket_limit,
            native_histogram_min_bucket_factor: self.native_histogram_min_bucket_factor,
            keep_dropped_targets: or_global(self.keep_dropped_targets, g.keep_dropped_targets),
            metric_name_validation_scheme: validation,
            metric_name_escaping_scheme: escaping,
            extra_scrape_metrics: self.extra_scrape_metrics.unwrap_or(g.extra_scrape_metrics),
            service_discovery: sd,
            http_client_config: http,
            relabel_configs,
            metric_relabel_configs,
        })
    }
}

/// One `alerting.alertmanagers` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertmanagerConfig {
    #[serde(flatten)]
    pub http_client_config: HttpClientConfig,
    pub scheme: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path_prefix: String,
    pub timeout: Duration,
    pub api_version: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    #[serde(flatten)]
    pub service_discovery: ServiceDiscoveryConfigs,
}

with_sd_and_http_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawAlertmanagerConfig {
        #[serde(default)] sigv4: Option<serde_yaml_ng::Value>,
        #[serde(default)] scheme: Option<String>,
        #[serde(default)] path_prefix: String,
        #[serde(default)] timeout: Duration,
        #[serde(default)] api_version: Option<String>,
        #[serde(default, deserialize_with = "nullable_relabels")] relabel_configs: Vec<Option<RelabelConfig>>,
        #[serde(default, deserialize_with = "nullable_relabels")] alert_relabel_configs: Vec<Option<RelabelConfig>>,
    }
}

impl RawAlertmanagerConfig {
    fn into_config(
        mut self,
        scheme: NameValidationScheme,
    ) -> Result<AlertmanagerConfig, ConfigError> {
        let http = self.http_fields();
        let auth = http.basic_auth.is_some()
            || http.authorization.is_some()
            || http.oauth2.is_some()
            || !http.bearer_token.is_empty()
            || !http.bearer_token_file.is_empty();
        let http = http.into_config(HttpClientConfig::default())?;
        if let Some(v) = &self.api_version {
            if v != "v2" {
                return Err(ConfigError::Invalid(format!(
                    "expected Alertmanager api version to be one of [v2] but got {v}"
                )));
            }
        }
        if auth && self.sigv4.is_some() {
            return Err(ConfigError::Invalid(
                "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured"
                    .into(),
            ));
        }
        let sd = self.sd_configs();
        if self.relabel_configs.is_empty() {
            check_static_targets(&sd)?;
        }
        let relabel_configs = no_null_relabels(
            std::mem::take(&mut self.relabel_configs),
            "empty or null Alertmanager target relabeling rule",
        )?;
        let alert_relabel_configs = no_null_relabels(
            std::mem::take(&mut self.alert_relabel_configs),
            "empty or null Alertmanager alert relabeling rule",
        )?;
        for rc in alert_relabel_configs.iter().chain(relabel_configs.iter()) {
            rc.validate(scheme).map_err(ConfigError::Invalid)?;
        }
        Ok(AlertmanagerConfig {
            service_discovery: sd,
            http_client_config: http,
            scheme: self.scheme.unwrap_or_else(|| "http".into()),
            path_prefix: self.path_prefix,
            timeout: if self.timeout.is_zero() {
                Duration::from_secs(10)
            } else {
                self.timeout
            },
            api_version: self.api_version.unwrap_or_else(|| "v2".into()),
            relabel_configs,
            alert_relabel_configs,
        })
    }
}

/// `alerting:`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertingConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlerting {
    #[serde(default, deserialize_with = "nullable_relabels")]
    alert_relabel_configs: Vec<Option<RelabelConfig>>,
    #[serde(default, deserialize_with = "nullable")]
    alertmanagers: Vec<Option<RawAlertmanagerConfig>>,
}

/// `remote_write.queue_config`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    pub capacity: i64,
    pub max_shards: i64,
    pub min_shards: i64,
    pub max_samples_per_send: i64,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    #[serde(rename = "retry_on_http_429", skip_serializing_if = "is_false")]
    pub retry_on_http_429: bool,
    #[serde(skip_serializing_if = "is_zero_dur")]
    pub sample_age_limit: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_http_429: false,
            sample_age_limit: Duration::ZERO,
        }
    }
}

/// `remote_write.metadata_config`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    pub send: bool,
    pub send_interval: Duration,
    pub max_samples_per_send: i64,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: Duration::from_secs(60),
            max_samples_per_send: 2000,
        }
    }
}

/// One `remote_write` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RemoteWriteConfig {
    pub url: String,
    pub remote_timeout: Duration,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub write_relabel_configs: Vec<RelabelConfig>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub send_exemplars: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub send_native_histograms: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub round_robin_dns: bool,
    pub protobuf_message: String,
    #[serde(flatten)]
    pub http_client_config: HttpClientConfig,
    pub queue_config: QueueConfig,
    pub metadata_config: MetadataConfig,
}

with_http_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawRemoteWrite {
        #[serde(default)] url: Option<String>,
        #[serde(default)] remote_timeout: Duration,
        #[serde(default, deserialize_with = "nullable")] headers: BTreeMap<String, String>,
        #[serde(default, deserialize_with = "nullable_relabels")] write_relabel_configs: Vec<Option<RelabelConfig>>,
        #[serde(default)] name: String,
        #[serde(default)] send_exemplars: bool,
        #[serde(default)] send_native_histograms: bool,
        #[serde(default)] round_robin_dns: bool,
        #[serde(default)] protobuf_message: Option<String>,
        #[serde(default, deserialize_with = "nullable")] queue_config: QueueConfig,
        #[serde(default, deserialize_with = "nullable")] metadata_config: MetadataConfig,
        #[serde(default)] sigv4: Option<serde_yaml_ng::Value>,
        #[serde(default)] azuread: Option<serde_yaml_ng::Value>,
        #[serde(default)] google_iam: Option<serde_yaml_ng::Value>,
    }
}

const RESERVED_HEADERS: [&str; 17] = [
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "authorization-reserved-placeholder",
];

fn validate_headers(headers: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    for h in headers.keys() {
        let low = h.to_lowercase();
        if low == "authorization" {
            return Err(ConfigError::Invalid("authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter".into()));
        }
        if RESERVED_HEADERS.contains(&low.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "{h} is a reserved header. It must not be changed"
            )));
        }
    }
    Ok(())
}

impl RawRemoteWrite {
    fn into_config(
        mut self,
        scheme: NameValidationScheme,
    ) -> Result<RemoteWriteConfig, ConfigError> {
        let Some(url) = self.url.take().filter(|u| !u.is_empty()) else {
            return Err(ConfigError::Invalid("url for remote_write is empty".into()));
        };
        let relabels = no_null_relabels(
            std::mem::take(&mut self.write_relabel_configs),
            "empty or null relabeling rule in remote write config",
        )?;
        validate_headers(&self.headers)?;
        let protobuf_message = self
            .protobuf_message
            .take()
            .unwrap_or_else(|| "prometheus.WriteRequest".into());
        if protobuf_message != "prometheus.WriteRequest"
            && protobuf_message != "io.prometheus.write.v2.Request"
        {
            return Err(ConfigError::Invalid(format!(
                "invalid protobuf_message value: unknown remote write protobuf message {protobuf_message}, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request"
            )));
        }
        let http = self.http_fields();
        let mut configured = Vec::new();
        if http.basic_auth.is_some() {
            configured.push("basic_auth");
        }
        if http.authorization.is_some()
            || !http.bearer_token.is_empty()
            || !http.bearer_token_file.is_empty()
        {
            configured.push("authorization");
        }
        if http.oauth2.is_some() {
            configured.push("oauth2");
        }
        if self.sigv4.is_some() {
            configured.push("sigv4");
        }
        if self.azuread.is_some() {
            configured.push("azuread");
        }
        if self.google_iam.is_some() {
            configured.push("google_iam");
        }
        let http = http.into_config(HttpClientConfig {
            enable_http2: false,
            ..HttpClientConfig::default()
        })?;
        if configured.len() > 1 {
            return Err(ConfigError::Invalid(format!(
                "at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [{}]",
                configured.join(" ")
            )));
        }
        for rc in &relabels {
            rc.validate(scheme).map_err(ConfigError::Invalid)?;
        }
        Ok(RemoteWriteConfig {
            url,
            remote_timeout: if self.remote_timeout.is_zero() {
                Duration::from_secs(30)
            } else {
                self.remote_timeout
            },
            headers: self.headers,
            write_relabel_configs: relabels,
            name: self.name,
            send_exemplars: self.send_exemplars,
            send_native_histograms: self.send_native_histograms,
            round_robin_dns: self.round_robin_dns,
            protobuf_message,
            http_client_config: http,
            queue_config: self.queue_config,
            metadata_config: self.metadata_config,
        })
    }
}

/// One `remote_read` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RemoteReadConfig {
    pub url: String,
    pub remote_timeout: Duration,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub chunked_read_limit: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "is_false")]
    pub read_recent: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(flatten)]
    pub http_client_config: HttpClientConfig,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub required_matchers: BTreeMap<String, String>,
    pub filter_external_labels: bool,
}

with_http_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawRemoteRead {
        #[serde(default)] url: Option<String>,
        #[serde(default)] remote_timeout: Duration,
        #[serde(default)] chunked_read_limit: Option<u64>,
        #[serde(default, deserialize_with = "nullable")] headers: BTreeMap<String, String>,
        #[serde(default)] read_recent: bool,
        #[serde(default)] name: String,
        #[serde(default, deserialize_with = "nullable")] required_matchers: BTreeMap<String, String>,
        #[serde(default = "yes")] filter_external_labels: bool,
    }
}

impl RawRemoteRead {
    fn into_config(mut self) -> Result<RemoteReadConfig, ConfigError> {
        let Some(url) = self.url.take().filter(|u| !u.is_empty()) else {
            return Err(ConfigError::Invalid("url for remote_read is empty".into()));
        };
        validate_headers(&self.headers)?;
        let http = self
            .http_fields()
            .into_config(HttpClientConfig::default())?;
        Ok(RemoteReadConfig {
            url,
            remote_timeout: if self.remote_timeout.is_zero() {
                Duration::from_secs(60)
            } else {
                self.remote_timeout
            },
            chunked_read_limit: self.chunked_read_limit.unwrap_or(50_000_000),
            headers: self.headers,
            read_recent: self.read_recent,
            name: self.name,
            http_client_config: http,
            required_matchers: self.required_matchers,
            filter_external_labels: self.filter_external_labels,
        })
    }
}

/// `storage:`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsdb: Option<TsdbConfig>,
    #[serde(default = "default_exemplars")]
    pub exemplars: Option<ExemplarsConfig>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            tsdb: None,
            exemplars: default_exemplars(),
        }
    }
}

fn default_exemplars() -> Option<ExemplarsConfig> {
    Some(ExemplarsConfig {
        max_exemplars: 100_000,
    })
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsdbConfig {
    #[serde(default, skip_serializing_if = "is_zero_dur")]
    pub out_of_order_time_window: Duration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<TsdbRetentionConfig>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsdbRetentionConfig {
    #[serde(default, skip_serializing_if = "is_zero_dur")]
    pub time: Duration,
    #[serde(default, skip_serializing_if = "is_zero_size")]
    pub size: ByteSize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemplarsConfig {
    #[serde(default)]
    pub max_exemplars: i64,
}

/// `runtime:`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(default = "default_gogc")]
    pub gogc: i64,
}

fn default_gogc() -> i64 {
    75
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig { gogc: 75 }
    }
}

/// `tracing:` — accepted; the engine does not trace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingConfig {
    #[serde(default)]
    pub client_type: Option<String>,
    #[serde(default)]
    pub endpoint: String,
    #[serde(default)]
    pub sampling_fraction: f64,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub tls_config: TlsConfig,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub compression: String,
    #[serde(default)]
    pub timeout: Duration,
}

/// `otlp:` — accepted and kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    #[serde(skip_serializing_if = "is_false")]
    pub promote_all_resource_attributes: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promote_resource_attributes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_resource_attributes: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub translation_strategy: String,
    #[serde(skip_serializing_if = "is_false")]
    pub keep_identifying_resource_attributes: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub convert_histograms_to_nhcb: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub promote_scope_metadata: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub label_name_underscore_sanitization: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub label_name_preserve_multiple_underscores: bool,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            promote_all_resource_attributes: false,
            promote_resource_attributes: Vec::new(),
            ignore_resource_attributes: Vec::new(),
            translation_strategy: "UnderscoreEscapingWithSuffixes".into(),
            keep_identifying_resource_attributes: false,
            convert_histograms_to_nhcb: false,
            promote_scope_metadata: false,
            label_name_underscore_sanitization: true,
            label_name_preserve_multiple_underscores: true,
        }
    }
}

/// The whole `prometheus.yml`, validated, with defaults and globals applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Config {
    pub global: GlobalConfig,
    pub runtime: RuntimeConfig,
    #[serde(skip_serializing_if = "is_default")]
    pub alerting: AlertingConfig,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_config_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_configs: Vec<ScrapeConfig>,
    #[serde(skip_serializing_if = "is_default")]
    pub storage: StorageConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<RemoteWriteConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_read: Vec<RemoteReadConfig>,
    pub otlp: OtlpConfig,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default, deserialize_with = "nullable")]
    global: RawGlobal,
    #[serde(default, deserialize_with = "nullable")]
    runtime: RuntimeConfig,
    #[serde(default, deserialize_with = "nullable")]
    alerting: RawAlerting,
    #[serde(default, deserialize_with = "nullable")]
    rule_files: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    scrape_config_files: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    scrape_configs: Vec<Option<CheckedScrapeConfig>>,
    #[serde(default, deserialize_with = "nullable")]
    storage: StorageConfig,
    #[serde(default)]
    tracing: Option<TracingConfig>,
    #[serde(default, deserialize_with = "nullable")]
    remote_write: Vec<Option<RawRemoteWrite>>,
    #[serde(default, deserialize_with = "nullable")]
    remote_read: Vec<Option<RawRemoteRead>>,
    #[serde(default, deserialize_with = "nullable")]
    otlp: OtlpConfig,
}

/// `^[^*]*(\*[^/]*)?$`: a rule file path with at most one `*`, only in the last element.
fn is_valid_rule_path(p: &str) -> bool {
    match p.find('*') {
        None => true,
        Some(i) => !p[i + 1..].contains('*') && !p[i..].contains('/'),
    }
}

impl Config {
    /// Parses and validates `prometheus.yml` text (Prometheus's `config.Load`).
    pub fn load(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = if is_blank_yaml(text) {
            RawConfig::default()
        } else {
            match serde_yaml_ng::from_str::<Option<RawConfig>>(text) {
                Ok(r) => r.unwrap_or_default(),
                Err(e) => return Err(yaml_error(&e)),
            }
        };
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Config, ConfigError> {
        let global = raw.global.into_global()?;
        for rf in &raw.rule_files {
            if !is_valid_rule_path(rf) {
                return Err(ConfigError::Invalid(format!(
                    "invalid rule file path {rf:?}"
                )));
            }
        }
        for sf in &raw.scrape_config_files {
            if !is_valid_rule_path(sf) {
                return Err(ConfigError::Invalid(format!(
                    "invalid scrape config file path {sf:?}"
                )));
            }
        }
        let mut scrape_configs = Vec::new();
        for sc in raw.scrape_configs {
            let Some(sc) = sc else {
                return Err(ConfigError::Invalid(
                    "empty or null scrape config section".into(),
                ));
            };
            let sc = sc.0.into_scrape_config(&global)?;
            if scrape_configs
                .iter()
                .any(|s: &ScrapeConfig| s.job_name == sc.job_name)
            {
                return Err(ConfigError::Invalid(format!(
                    "found multiple scrape configs with job name {:?}",
                    sc.job_name
                )));
            }
            scrape_configs.push(sc);
        }
        let scheme = global.name_validation_scheme();
        let alert_relabel_configs = no_null_relabels(
            raw.alerting.alert_relabel_configs,
            "empty or null alert relabeling rule",
        )?;
        for rc in &alert_relabel_configs {
            rc.validate(scheme).map_err(ConfigError::Invalid)?;
        }
        let mut alertmanagers = Vec::new();
        for am in raw.alerting.alertmanagers {
            let am = am.unwrap_or_else(|| {
                serde_yaml_ng::from_str::<RawAlertmanagerConfig>("{}").unwrap_or_else(|_| {
                    unreachable!("an empty mapping is a valid alertmanager config")
                })
            });
            alertmanagers.push(am.into_config(scheme)?);
        }
        let mut remote_write = Vec::new();
        for rw in raw.remote_write {
            let Some(rw) = rw else {
                return Err(ConfigError::Invalid(
                    "empty or null remote write config section".into(),
                ));
            };
            let rw = rw.into_config(scheme)?;
            if !rw.name.is_empty()
                && remote_write
                    .iter()
                    .any(|r: &RemoteWriteConfig| r.name == rw.name)
            {
                return Err(ConfigError::Invalid(format!(
                    "found multiple remote write configs with job name {:?}",
                    rw.name
                )));
            }
            remote_write.push(rw);
        }
        let mut remote_read = Vec::new();
        for rr in raw.remote_read {
            let Some(rr) = rr else {
                return Err(ConfigError::Invalid(
                    "empty or null remote read config section".into(),
                ));
            };
            let rr = rr.into_config()?;
            if !rr.name.is_empty()
                && remote_read
                    .iter()
                    .any(|r: &RemoteReadConfig| r.name == rr.name)
            {
                return Err(ConfigError::Invalid(format!(
                    "found multiple remote read configs with job name {:?}",
                    rr.name
                )));
            }
            remote_read.push(rr);
        }
        if let Some(t) = &raw.tracing {
            if t.endpoint.is_empty() {
                return Err(ConfigError::Invalid("tracing endpoint must be set".into()));
            }
        }
        match raw.otlp.translation_strategy.as_str() {
            "UnderscoreEscapingWithSuffixes" | "UnderscoreEscapingWithoutSuffixes" | "" => {}
            "NoTranslation" | "NoUTF8EscapingWithSuffixes" => {
                if scheme == NameValidationScheme::Legacy {
                    return Err(ConfigError::Invalid(format!(
                        "OTLP translation strategy {:?} is not allowed when UTF8 is disabled",
                        raw.otlp.translation_strategy
                    )));
                }
            }
            other => {
                return Err(ConfigError::Invalid(format!(
                    "unsupported OTLP translation strategy {other:?}"
                )))
            }
        }
        Ok(Config {
            global,
            runtime: raw.runtime,
            alerting: AlertingConfig {
                alert_relabel_configs,
                alertmanagers,
            },
            rule_files: raw.rule_files,
            scrape_config_files: raw.scrape_config_files,
            scrape_configs,
            storage: raw.storage,
            tracing: raw.tracing,
            remote_write,
            remote_read,
            otlp: raw.otlp,
        })
    }

    /// The configuration as YAML, secrets shown as `<secret>` (what `/api/v1/status/config`
    /// returns).
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self)
            .unwrap_or_else(|e| format!("<error creating config string: {e}>"))
    }

    pub fn scrape_config(&self, job_name: &str) -> Option<&ScrapeConfig> {
        self.scrape_configs.iter().find(|s| s.job_name == job_name)
    }
}

/// A file of `scrape_config_files`: only `scrape_configs:` (`config.ScrapeConfigs`), each
/// validated against the main file's globals.
pub fn parse_scrape_config_file(
    text: &str,
    global: &GlobalConfig,
) -> Result<Vec<ScrapeConfig>, ConfigError> {
    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawScrapeConfigs {
        #[serde(default, deserialize_with = "nullable")]
        scrape_configs: Vec<Option<CheckedScrapeConfig>>,
    }
    let raw: RawScrapeConfigs = if is_blank_yaml(text) {
        RawScrapeConfigs::default()
    } else {
        serde_yaml_ng::from_str::<Option<RawScrapeConfigs>>(text)
            .map_err(|e| yaml_error(&e))?
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for sc in raw.scrape_configs {
        let Some(sc) = sc else {
            return Err(ConfigError::Invalid(
                "empty or null scrape config section".into(),
            ));
        };
        out.push(sc.0.into_scrape_config(global)?);
    }
    Ok(out)
}

/// The target groups of a file-SD file (YAML or JSON: a list of `{targets, labels}`), read
/// strictly as `promtool` does.
pub fn parse_sd_file(text: &str) -> Result<Vec<StaticConfig>, ConfigError> {
    if is_blank_yaml(text) {
        return Ok(Vec::new());
    }
    let groups = serde_yaml_ng::from_str::<Option<Vec<Option<StaticConfig>>>>(text)
        .map_err(|e| match yaml_error(&e) {
            ConfigError::Yaml {
                line,
                column,
                path,
                message,
            } => {
                let message = match message.strip_suffix(" not found in type config.plain") {
                    Some(m) => format!(
                        "{m} not found in type struct {{ Targets []string \"yaml:\\\"targets\\\"\"; Labels model.LabelSet \"yaml:\\\"labels\\\"\" }}"
                    ),
                    None => message,
                };
                ConfigError::Yaml {
                    line,
                    column,
                    path,
                    message,
                }
            }
            other => other,
        })?
        .unwrap_or_default();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            g.ok_or_else(|| {
                ConfigError::Invalid(format!("nil target group item found (index {i})"))
            })
        })
        .collect()
}

fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    })
}

/// The Go type name Prometheus's YAML decoder names in "field X not found in type T", by the
/// key of the section the unknown field is in.
fn go_type_for_section(path: &str) -> &'static str {
    let last = path
        .rsplit('.')
        .next()
        .unwrap_or("")
        .split('[')
        .next()
        .unwrap_or("");
    match last {
        "" | "global" | "alerting" | "remote_write" | "remote_read" | "basic_auth" | "tls_config"
        | "oauth2" | "storage" | "tsdb" | "runtime" | "otlp" | "tracing" => "config.plain",
        "scrape_configs" => "config.ScrapeConfig",
        "alertmanagers" => "config.AlertmanagerConfig",
        "relabel_configs" | "metric_relabel_configs" | "alert_relabel_configs"
        | "write_relabel_configs" => "relabel.plain",
        "static_configs" => "struct { Targets []string \"yaml:\\\"targets\\\"\"; Labels model.LabelSet \"yaml:\\\"labels\\\"\" }",
        "file_sd_configs" => "file.plain",
        "queue_config" => "config.QueueConfig",
        "metadata_config" => "config.MetadataConfig",
        "authorization" => "config.Authorization",
        "exemplars" => "config.ExemplarsConfig",
        "retention" => "config.TSDBRetentionConfig",
        _ => "config.plain",
    }
}

/// Turns a serde_yaml_ng error into Prometheus's wording, keeping the line and the field.
fn yaml_error(e: &serde_yaml_ng::Error) -> ConfigError {
    let loc = e.location();
    let mut text = e.to_string();
    if let Some(l) = &loc {
        let suffix = format!(" at line {} column {}", l.line(), l.column());
        if let Some(stripped) = text.strip_suffix(&suffix) {
            text = stripped.to_string();
        }
    }
    // serde_yaml_ng prefixes "path: " for errors below the root.
    let (path, message) = match text.split_once(": ") {
        Some((p, m))
            if !p.contains(' ') && (p.contains('.') || p.contains('[') || is_key_like(p)) =>
        {
            (p.to_string(), m.to_string())
        }
        _ => (String::new(), text.clone()),
    };
    let message = if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or("");
        format!(
            "field {field} not found in type {}",
            go_type_for_section(&path)
        )
    } else if let Some(rest) = message.strip_prefix("duplicate field `") {
        let field = rest.split('`').next().unwrap_or("");
        format!(
            "field {field} already set in type {}",
            go_type_for_section(&path)
        )
    } else {
        message
    };
    ConfigError::Yaml {
        line: loc.as_ref().map(|l| l.line()),
        column: loc.as_ref().map(|l| l.column()),
        path,
        message,
    }
}

fn is_key_like(p: &str) -> bool {
    !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests;

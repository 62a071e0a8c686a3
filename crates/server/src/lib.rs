//! The pieces composed as one Prometheus: the configuration file ([`config`]), relabeling
//! ([`relabel`]) and scraping on a [`promplay_model::Clock`] ([`scrape`]).
//!
//! ```
//! use promplay_server::scrape::{ScrapeManager, ScrapeRequest, ScrapeResponse, ScrapeError};
//! use promplay_server::Config;
//! use promplay_tsdb::{Db, Options};
//!
//! let cfg = Config::load(
//!     "scrape_configs:\n  - job_name: app\n    scrape_interval: 15s\n    static_configs:\n      - targets: ['app:8000']\n",
//! )
//! .unwrap();
//! let db = Db::new(Options::default());
//! let mut scrapes = ScrapeManager::new(0);
//! assert!(scrapes.apply_config(&cfg, 0).is_empty());
//! // The host answers scrapes; here a closure plays the target.
//! let mut fetch = |req: &ScrapeRequest| -> Result<ScrapeResponse, ScrapeError> {
//!     assert_eq!(req.url, "http://app:8000/metrics");
//!     Ok(ScrapeResponse {
//!         content_type: "text/plain; version=0.0.4".into(),
//!         body: b"requests_total 7\n".to_vec(),
//!         duration_ns: 3_000_000,
//!     })
//! };
//! // One minute of virtual time: four scrapes, each at its due instant.
//! assert_eq!(scrapes.run_until(60_000, &db, &mut fetch), 4);
//! let t = &scrapes.targets().active[0];
//! assert_eq!(t.health.as_str(), "up");
//! assert_eq!(t.labels.to_string(), r#"{instance="app:8000", job="app"}"#);
//! ```
//!
//! Architecture invariant: nothing here does I/O or reads the wall clock. Files reach
//! [`config::Config::load`] as text; targets are fetched through [`scrape::TargetFetcher`],
//! which the host implements (simulated programs in the browser, HTTP in the companion).

pub mod alerting;
pub mod config;
pub mod duration;
pub mod notifier;
pub mod prometheus;
pub mod relabel;
pub mod scrape;

pub use config::{Config, ConfigError, ScrapeConfig};
pub use duration::{ByteSize, Duration};
pub use notifier::{AlertSink, BuiltinAlertmanager, Inbox, NoAlertmanager, NotifierManager};
pub use prometheus::{AlertTransition, Prometheus, PrometheusError, PrometheusOptions, Step};
pub use relabel::{process, Action, RelabelConfig};
pub use scrape::{
    ScrapeError, ScrapeErrorKind, ScrapeManager, ScrapeRequest, ScrapeResponse, TargetFetcher,
    TargetHealth, TargetsView,
};

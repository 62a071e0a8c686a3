//! The pieces composed as one Prometheus: the configuration file ([`config`]), relabeling
//! ([`relabel`]) and scraping on a [`promplay_model::Clock`] ([`scrape`]).
//!
//! Architecture invariant: nothing here does I/O or reads the wall clock. Files reach
//! [`config::Config::load`] as text; targets are fetched through [`scrape::TargetFetcher`],
//! which the host implements (simulated programs in the browser, HTTP in the companion).

pub mod config;
pub mod duration;
pub mod relabel;
pub mod scrape;

pub use config::{Config, ConfigError, ScrapeConfig};
pub use duration::{ByteSize, Duration};
pub use relabel::{process, Action, RelabelConfig};
pub use scrape::{
    ScrapeError, ScrapeErrorKind, ScrapeManager, ScrapeRequest, ScrapeResponse, TargetFetcher,
    TargetHealth, TargetsView,
};

//! A simulated world to scrape: the programs of the seed (`localhost:9090` the playground's
//! own Prometheus, `localhost:9100` a node exporter, `localhost:8000` the hello app of
//! "Prometheus: Up & Running" in each of its code variants), seeded traffic, faults on the
//! virtual clock, and headless runs of scenario files.
//!
//! - [`World`] maps `host:port` to programs and answers scrapes as the real programs would
//!   (it implements the server's [`promplay_server::TargetFetcher`]); programs expose
//!   `/metrics` through a `promplay-instrument` registry each, written in the format the
//!   scraper's `Accept` header negotiates.
//! - [`Stack`] is the whole seed stack: a TSDB, one Prometheus (scrapes, rules, notifier),
//!   the built-in Alertmanager and a world, each event at its own virtual instant.
//! - [`Scenario`] is the file `promplay sim` runs (format: README.md).
//!
//! Architecture invariants: no I/O, no wall clock (one [`promplay_model::ManualClock`] that
//! only the world moves), no threads; every random draw comes from a seeded [`rng::Rng`], so a
//! seed determines a run bit for bit. Compiles for `wasm32-unknown-unknown`.

pub mod hello;
pub mod node;
mod python;
pub mod rng;
pub mod scenario;
pub mod selfmon;
pub mod stack;
pub mod traffic;
pub mod world;

pub use hello::{Example, HelloApp};
pub use scenario::{AlertEvent, InboxMessage, Inputs, Report, Scenario, ScenarioError};
pub use selfmon::TsdbStats;
pub use stack::Stack;
pub use traffic::{Latency, Traffic};
pub use world::{Explosion, Faults, HostInfo, Program, ProgramKind, World, WorldError};

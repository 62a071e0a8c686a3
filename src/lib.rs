//! The promplay playground: Prometheus in a browser tab.
//!
//! Module map:
//! - [`playground`] — the engine side of one session: the simulated world (crates/sim) scraped
//!   with the seed's prometheus.yml into the TSDB, its virtual clock, queries. Plain Rust.
//! - [`timecontrols`] — play/pause, speed, step and jump, reached in bounded slices. Plain Rust.
//! - [`targets`] — the Targets page's rows per job. Plain Rust.
//! - [`rules_view`] — `/api/v1/rules` decoded (the local groups go through the same JSON) and
//!   the Rules page's rows. Plain Rust.
//! - [`alerts`] — the Alerts page at a cursor in virtual time: states, alerts, `for`
//!   countdowns and pending/firing lanes from the `ALERTS` series. Plain Rust.
//! - [`inbox`] — the Inbox page: notifications sent, opened, their route paths, the
//!   notification log. Plain Rust.
//! - [`silences`] — the Silences page: rows, adding from a form, expiring. Plain Rust.
//! - [`workshop`] — the Workshop's queries and the app's `/metrics` lines. Plain Rust.
//! - [`explain`] — the Query page's Explain tab: the query's tree, each node evaluated on
//!   its own, with label changes and binary matching counts. Plain Rust.
//! - [`shape`] — query results shaped into table rows and graph series. Plain Rust.
//! - [`share`] — a session's action log, its URL encoding and its replay. Plain Rust.
//! - [`source`] — the data source (simulated world, this companion, a Prometheus URL) and its
//!   place in the page's URL. Plain Rust.
//! - [`api`] — Prometheus HTTP API answers decoded into what the pages render (plain Rust), and
//!   the async requests (`api::get`, `api::query`, …; browser build only).
//! - [`time`] — UTC date-times and Prometheus durations for the controls. Plain Rust.
//! - `app`, `chart`, `pages` (wasm only) — the Leptos components and the plotters graph.
//!
//! Architecture invariant: only `app`, `chart`, `pages` and `api`'s requests (`api::get`, …)
//! know the browser. Everything else compiles
//! and is tested natively (`cargo test -p promplay-web`).

pub mod alerts;
pub mod api;
pub mod explain;
pub mod inbox;
pub mod playground;
pub mod rules_view;
pub mod shape;
pub mod share;
pub mod silences;
pub mod source;
pub mod targets;
pub mod time;
pub mod timecontrols;
pub mod workshop;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod chart;
#[cfg(target_arch = "wasm32")]
pub mod pages;

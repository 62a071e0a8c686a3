//! The promplay playground: Prometheus in a browser tab.
//!
//! Module map:
//! - [`playground`] — the engine side of one session: virtual clock, data, queries. Plain Rust.
//! - [`dataset`] — the generated dataset used until simulated scraping lands. Plain Rust.
//! - [`shape`] — query results shaped into table rows and graph series. Plain Rust.
//! - [`time`] — UTC date-times and Prometheus durations for the controls. Plain Rust.
//! - `app`, `chart` (wasm only) — the Leptos components and the plotters graph.
//!
//! Architecture invariant: only `app` and `chart` know the browser. Everything else compiles
//! and is tested natively (`cargo test -p promplay-web`).

pub mod dataset;
pub mod playground;
pub mod shape;
pub mod time;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod chart;

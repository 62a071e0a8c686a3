//! A client library with the semantics of Python's prometheus_client 0.26: counters, gauges,
//! histograms, summaries, info and enum metrics, labelled families (`.labels()`), a registry
//! that refuses duplicate names, the `_total` and `_created` conventions, and exposition in
//! both text formats through `promplay-exposition`'s writer.
//!
//! Architecture invariants: single-threaded (`Rc`), for the wasm playground and the companion
//! alike; time comes only from the registry's [`promplay_model::Clock`] (created timestamps,
//! `set_to_current_time`, timers); no I/O. Misuse returns [`InstrumentError`] with
//! prometheus_client's wording instead of raising.
//!
//! ```
//! use std::rc::Rc;
//! use promplay_instrument::{Counter, Registry};
//! use promplay_model::ManualClock;
//!
//! let registry = Registry::new(Rc::new(ManualClock::new(1_700_000_000_000)));
//! let c = Counter::new(&registry, "hello_worlds_total", "Hello Worlds requested.").unwrap();
//! c.inc(1.0).unwrap();
//! let text = registry.render(&promplay_exposition::Format::text());
//! assert!(text.contains("hello_worlds_total 1.0\n"));
//! assert!(text.contains("hello_worlds_created 1.7e+09\n"));
//! ```

mod core;
pub mod error;
mod metrics;
mod pyrepr;
pub mod registry;

pub use crate::core::Opts;
pub use error::InstrumentError;
pub use metrics::{
    Counter, Enum, ExceptionCounter, Gauge, Histogram, Info, InprogressTracker, Summary, Timer,
    DEFAULT_BUCKETS,
};
pub use registry::{Collector, Registry};

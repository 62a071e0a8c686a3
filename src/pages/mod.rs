//! Pages and header controls of the app beyond the Query page (wasm only). They render what
//! the plain-Rust modules ([`crate::targets`], [`crate::workshop`],
//! [`crate::timecontrols`], [`crate::playground`]) compute.

pub mod clock;
pub mod config;
pub mod targets;
pub mod workshop;

pub use clock::TimeControls;
pub use config::ConfigPage;
pub use targets::TargetsPage;
pub use workshop::WorkshopPage;

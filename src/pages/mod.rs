//! Pages and header controls of the app beyond the Query page (wasm only). They render what
//! the plain-Rust modules ([`crate::targets`], [`crate::workshop`],
//! [`crate::timecontrols`]) compute.

pub mod clock;
pub mod targets;
pub mod workshop;

pub use clock::TimeControls;
pub use targets::TargetsPage;
pub use workshop::WorkshopPage;

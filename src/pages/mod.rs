//! Pages and header controls of the app (wasm only). They render what
//! the plain-Rust modules ([`crate::targets`], [`crate::workshop`],
//! [`crate::timecontrols`], [`crate::playground`]) compute.

pub mod alerts;
pub mod clock;
pub mod common;
pub mod config;
pub mod explain;
pub mod inbox;
pub mod query;
pub mod rules;
pub mod share;
pub mod silences;
pub mod source;
pub mod targets;
pub mod workshop;

pub use alerts::AlertsPage;
pub use clock::TimeControls;
pub use config::ConfigPage;
pub use inbox::InboxPage;
pub use query::QueryPage;
pub use rules::RulesPage;
pub use silences::SilencesPage;
pub use targets::TargetsPage;
pub use workshop::WorkshopPage;

//! The Go `text/template` engine now lives in the `promplay-template` crate (shared with rule
//! templates); re-exported here so `promplay_alertmanager::template::…` keeps working.

pub use promplay_template::*;

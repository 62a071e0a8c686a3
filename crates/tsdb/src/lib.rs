//! An in-memory time-series database modelled on Prometheus's TSDB head block.
//!
//! - [`Db`] holds series; each series' samples sit in append-only chunks: Gorilla XOR chunks
//!   for floats (bit-exact with Prometheus's `chunkenc.XORChunk`, [`chunkenc`]), simple vectors
//!   for native histograms.
//! - Writes go through an [`Appender`] (batch, then [`Appender::commit`]); out-of-order and
//!   duplicate samples are rejected with a typed [`AppendError`].
//! - Reads go through the storage traits the PromQL engine is generic over: [`Queryable`] →
//!   [`Querier`] → [`SeriesSet`] of [`Series`] → [`SeriesIterator`]. Matchers are evaluated on
//!   an inverted index (postings per label pair, interned strings) with Prometheus's rules for
//!   matchers that match the empty string.
//! - [`Db::apply_retention`] drops whole chunks older than the retention.
//!
//! ```
//! use promplay_model::{Labels, MatchType, Matcher};
//! use promplay_tsdb::{Db, Options, Queryable, ValType};
//!
//! let db = Db::new(Options::default());
//! let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! let mut app = db.appender();
//! app.append(&up, 1000, 1.0).unwrap();
//! app.append(&up, 16000, 0.0).unwrap();
//! app.commit().unwrap();
//!
//! let q = db.querier(0, 20000).unwrap();
//! let m = Matcher::new(MatchType::Equal, "job", "node").unwrap();
//! let set = q.select(false, None, &[m]).unwrap();
//! let mut it = set.series[0].iter();
//! assert_eq!(it.next(), ValType::Float);
//! assert_eq!(it.at(), (1000, 1.0));
//! assert_eq!(it.seek(5000), ValType::Float);
//! assert_eq!(it.at(), (16000, 0.0));
//! assert_eq!(it.next(), ValType::None);
//! ```
//!
//! Architecture invariant: no I/O, no wall clock (time is always a parameter), no threads of
//! its own; compiles for `wasm32-unknown-unknown`.

pub mod chunkenc;
mod error;
mod fxhash;
mod head;
mod index;
mod storage;

pub use error::{AppendError, CommitError, StorageError};
pub use head::{Appender, Db, DbQuerier, Options, RetentionReport, Stats};
pub use storage::{
    Querier, Queryable, SelectHints, Series, SeriesIterator, SeriesRef, SeriesSet, ValType,
};

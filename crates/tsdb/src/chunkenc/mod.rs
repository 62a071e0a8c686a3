//! Chunk encodings (Prometheus's `tsdb/chunkenc`).
//!
//! A float chunk is a Gorilla chunk, bit for bit the layout of Prometheus's `XORChunk`: a
//! 2-byte big-endian sample count, then the first timestamp as a zig-zag varint and the first
//! value as 64 raw bits, the second timestamp as a uvarint delta, then delta-of-delta
//! timestamps in `0 | 10+14 | 110+17 | 1110+20 | 1111+64` bit classes and XOR-compressed values.
//! Every `f64` bit pattern round-trips exactly (NaN payloads, the stale marker, `-0.0`).
//!
//! A closed float chunk whose values are all integers is re-encoded as an [`int`] chunk when
//! that is smaller (a promplay extension that halves the memory of counters).
//!
//! Contract (as `chunkenc.Chunk`, but with errors instead of panics): appending to a full or
//! malformed chunk returns an error; iterating a truncated chunk stops with an error.

mod bstream;
pub mod int;
mod xor;

pub use bstream::{BitReader, BitWriter, Eof};
pub use int::{encode_int_chunk, is_int_exact, IntIterator};
pub use xor::{XorAppender, XorChunk, XorIterator, XOR_HEADER_LEN};

use std::fmt;

/// A chunk could not be decoded or appended to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// The chunk's bytes ended before its declared samples did.
    UnexpectedEof,
    /// The chunk's header is missing or inconsistent.
    BadHeader,
    /// The chunk already holds `u16::MAX` samples.
    Full,
    /// Timestamps must strictly increase within a chunk.
    OutOfOrder { last: i64, t: i64 },
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::UnexpectedEof => f.write_str("unexpected end of chunk data"),
            ChunkError::BadHeader => f.write_str("invalid chunk header"),
            ChunkError::Full => f.write_str("chunk is full"),
            ChunkError::OutOfOrder { last, t } => {
                write!(f, "out of order sample in chunk: {t} after {last}")
            }
        }
    }
}

impl std::error::Error for ChunkError {}

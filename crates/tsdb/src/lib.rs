//! An in-memory time-series database: head block, postings index, Gorilla chunks.

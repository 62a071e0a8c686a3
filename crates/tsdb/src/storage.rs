//! The storage interfaces the PromQL engine codes against (Prometheus's `storage/interface.go`
//! and `tsdb/chunkenc.Iterator`), and the series values a [`Querier`] returns.
//!
//! Architecture invariant: the evaluator depends only on [`Queryable`], [`Querier`],
//! [`SeriesSet`], [`Series`] and [`SeriesIterator`]; it never sees chunks, postings or locks.
//! A [`SeriesSet`] owns its data (a snapshot taken by `select`), so a querier holds no lock
//! while the caller iterates and appends may proceed concurrently.

use std::sync::Arc;

use promplay_model::{FloatHistogram, Labels, Matcher};

use crate::chunkenc::{ChunkError, IntIterator, XorIterator};
use crate::error::StorageError;

/// A series reference returned by the appender (Prometheus's `storage.SeriesRef`). References
/// are stable for the life of a series; a series dropped by retention never gets its reference
/// back, and a re-created series gets a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// Something that can open a [`Querier`] over a time range (`storage.Queryable`).
pub trait Queryable {
    /// Opens a querier over the closed interval `[mint, maxt]` (milliseconds). Series returned
    /// by it yield only samples inside that interval. `mint > maxt` is an error.
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError>;
}

/// Read access to the series of a fixed time range (`storage.Querier` + `LabelQuerier`).
///
/// Contracts:
/// - Every method returns only series that have at least one sample in the querier's range.
/// - Matchers are ANDed; a matcher that matches the empty string also selects series that
///   lack the label (Prometheus's `PostingsForMatchers`). An empty matcher list selects no
///   series in `select` and all series in `label_names`/`label_values`.
pub trait Querier {
    /// The series matching all `matchers`. With `sorted`, series come in ascending label-set
    /// order; otherwise in an unspecified (but deterministic) order. `hints` may narrow the
    /// time range further (`hints.start..=hints.end`, intersected with the querier's range).
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError>;

    /// The distinct values of label `name` among series matching `matchers`, sorted ascending.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;

    /// The distinct label names among series matching `matchers`, sorted ascending.
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
}

/// Optional hints for [`Querier::select`] (`storage.SelectHints`). Build with
/// `SelectHints { start, end, ..Default::default() }`: fields may be added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectHints {
    /// Start of the needed time range (ms, inclusive).
    pub start: i64,
    /// End of the needed time range (ms, inclusive).
    pub end: i64,
    /// Query step (ms), 0 for instant queries. Informational.
    pub step: i64,
    /// Range of a range-vector selector (ms). Informational.
    pub range: i64,
    /// The surrounding function or aggregation, e.g. "rate". Informational.
    pub func: String,
}

/// The result of [`Querier::select`]: owned series plus warnings (`storage.SeriesSet`).
#[derive(Clone, Debug, Default)]
pub struct SeriesSet {
    pub series: Vec<Series>,
    pub warnings: Vec<String>,
}

impl SeriesSet {
    pub fn new(series: Vec<Series>) -> Self {
        SeriesSet {
            series,
            warnings: Vec::new(),
        }
    }
    pub fn len(&self) -> usize {
        self.series.len()
    }
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Series> {
        self.series.iter()
    }
}

impl IntoIterator for SeriesSet {
    type Item = Series;
    type IntoIter = std::vec::IntoIter<Series>;
    fn into_iter(self) -> Self::IntoIter {
        self.series.into_iter()
    }
}

impl<'a> IntoIterator for &'a SeriesSet {
    type Item = &'a Series;
    type IntoIter = std::slice::Iter<'a, Series>;
    fn into_iter(self) -> Self::IntoIter {
        self.series.iter()
    }
}

/// The sample data of one chunk of a [`Series`] snapshot.
#[derive(Clone, Debug)]
pub(crate) enum ChunkData {
    /// A Gorilla XOR chunk (`chunkenc.XORChunk` layout) at `buf[start..end]`.
    Xor {
        buf: Arc<Vec<u8>>,
        start: u32,
        end: u32,
    },
    /// An integer chunk ([`crate::chunkenc::int`]) at `buf[start..end]`.
    Int {
        buf: Arc<Vec<u8>>,
        start: u32,
        end: u32,
    },
    /// Uncompressed float samples (for series built by hand).
    Floats(Arc<[(i64, f64)]>),
    /// Native histogram samples.
    Histograms(Arc<Vec<(i64, FloatHistogram)>>),
}

#[derive(Clone, Debug)]
pub(crate) struct ChunkSnap {
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) data: ChunkData,
}

/// One selected series: its labels and its samples within `[mint, maxt]`
/// (`storage.Series`). Cheap to clone (chunk data is shared).
#[derive(Clone, Debug)]
pub struct Series {
    labels: Labels,
    mint: i64,
    maxt: i64,
    chunks: Vec<ChunkSnap>,
    /// Known start timestamps, `(t, st)` sorted by `t` (samples without one are absent).
    /// `None` for series that never had one: iteration then costs nothing extra.
    sts: Option<Arc<Vec<(i64, i64)>>>,
}

impl Series {
    pub(crate) fn from_chunks(
        labels: Labels,
        mint: i64,
        maxt: i64,
        chunks: Vec<ChunkSnap>,
    ) -> Self {
        Series {
            labels,
            mint,
            maxt,
            chunks,
            sts: None,
        }
    }

    /// Attaches start timestamps (Prometheus's `ST`, "created timestamp"): `(t, st)` pairs
    /// for the samples at `t`, in any order; an `st` of 0 means unknown and is dropped, and
    /// pairs whose `t` is not a sample's time are never reported. Replaces earlier ones.
    pub fn with_start_timestamps(mut self, sts: Vec<(i64, i64)>) -> Self {
        let mut v: Vec<(i64, i64)> = sts.into_iter().filter(|x| x.1 != 0).collect();
        v.sort_by_key(|x| x.0);
        v.dedup_by_key(|x| x.0);
        self.sts = (!v.is_empty()).then(|| Arc::new(v));
        self
    }

    pub(crate) fn set_start_timestamps(&mut self, sts: Option<Arc<Vec<(i64, i64)>>>) {
        self.sts = sts.filter(|v| !v.is_empty());
    }

    /// Whether any sample of the series has a known start timestamp (then
    /// [`SeriesIterator::at_st`] can return `Some`).
    pub fn has_start_timestamps(&self) -> bool {
        self.sts.is_some()
    }

    /// A series from float samples, which must be in strictly increasing time order (samples
    /// out of order are dropped). For tests and for storages other than [`crate::Db`].
    pub fn from_floats(labels: Labels, samples: Vec<(i64, f64)>) -> Self {
        let mut s = samples;
        dedup_ordered(&mut s, |x| x.0);
        let chunks = match (s.first(), s.last()) {
            (Some(a), Some(b)) => vec![ChunkSnap {
                min_t: a.0,
                max_t: b.0,
                data: ChunkData::Floats(s.clone().into()),
            }],
            _ => Vec::new(),
        };
        Series::from_chunks(labels, i64::MIN, i64::MAX, chunks)
    }

    /// A series from native histogram samples, in strictly increasing time order (samples out
    /// of order are dropped).
    pub fn from_histograms(labels: Labels, samples: Vec<(i64, FloatHistogram)>) -> Self {
        let mut s = samples;
        dedup_ordered(&mut s, |x| x.0);
        let chunks = match (s.first(), s.last()) {
            (Some(a), Some(b)) => {
                let (min_t, max_t) = (a.0, b.0);
                vec![ChunkSnap {
                    min_t,
                    max_t,
                    data: ChunkData::Histograms(Arc::new(s)),
                }]
            }
            _ => Vec::new(),
        };
        Series::from_chunks(labels, i64::MIN, i64::MAX, chunks)
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// An iterator over the samples in time order. Allocation-free per sample.
    pub fn iter(&self) -> SeriesIterator<'_> {
        SeriesIterator {
            chunks: &self.chunks,
            sts: self.sts.as_deref().map_or(&[], |v| v.as_slice()),
            next_chunk: 0,
            mint: self.mint,
            maxt: self.maxt,
            cur: ChunkIter::Empty,
            typ: ValType::None,
            t: i64::MIN,
            v: 0.0,
            h: None,
            err: None,
            done: false,
            inside: false,
        }
    }

    /// Time of the first and last sample (in range) by chunk bounds, if any chunk.
    pub fn time_bounds(&self) -> Option<(i64, i64)> {
        let a = self.chunks.first()?;
        let b = self.chunks.last()?;
        Some((a.min_t.max(self.mint), b.max_t.min(self.maxt)))
    }
}

fn dedup_ordered<T>(v: &mut Vec<T>, key: impl Fn(&T) -> i64) {
    let mut last: Option<i64> = None;
    v.retain(|x| {
        let t = key(x);
        if last.is_some_and(|l| t <= l) {
            false
        } else {
            last = Some(t);
            true
        }
    });
}

/// The type of the sample an iterator is positioned on (`chunkenc.ValueType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// Exhausted (or failed: see [`SeriesIterator::err`]).
    None,
    Float,
    /// A native histogram (always float counts here).
    Histogram,
}

#[derive(Clone)]
enum ChunkIter<'a> {
    Empty,
    Xor(XorIterator<'a>),
    Int(IntIterator<'a>),
    Floats(&'a [(i64, f64)], usize),
    Histograms(&'a [(i64, FloatHistogram)], usize),
}

/// Iterates the samples of one [`Series`] in time order (`chunkenc.Iterator`).
///
/// Contract: call [`next`](Self::next) or [`seek`](Self::seek) first; `at`/`at_histogram`/
/// `at_t` are valid only while the last call returned a value other than [`ValType::None`]
/// (`at` of a histogram sample returns NaN, `at_histogram` of a float sample `None`).
/// Once `None` is returned, the iterator stays exhausted. Decoding failures end iteration and
/// are reported by [`err`](Self::err) — never a panic. Cloning saves a position (cheap: no
/// allocation), e.g. to resume a scan at the next step of a range query.
#[derive(Clone)]
pub struct SeriesIterator<'a> {
    chunks: &'a [ChunkSnap],
    /// The series' known start timestamps, `(t, st)` sorted by `t`; empty if none.
    sts: &'a [(i64, i64)],
    next_chunk: usize,
    mint: i64,
    maxt: i64,
    cur: ChunkIter<'a>,
    typ: ValType,
    t: i64,
    v: f64,
    h: Option<&'a FloatHistogram>,
    err: Option<ChunkError>,
    done: bool,
    /// The current chunk lies inside `[mint, maxt]`: no per-sample bound checks.
    inside: bool,
}

impl<'a> SeriesIterator<'a> {
    fn open_chunk(&mut self, i: usize) {
        let c = &self.chunks[i];
        self.inside = c.min_t >= self.mint && c.max_t <= self.maxt;
        self.cur = match &c.data {
            ChunkData::Xor { buf, start, end } => match buf
                .get(*start as usize..*end as usize)
                .ok_or(ChunkError::BadHeader)
                .and_then(XorIterator::new)
            {
                Ok(it) => ChunkIter::Xor(it),
                Err(e) => {
                    self.err = Some(e);
                    ChunkIter::Empty
                }
            },
            ChunkData::Int { buf, start, end } => match buf
                .get(*start as usize..*end as usize)
                .ok_or(ChunkError::BadHeader)
                .and_then(IntIterator::new)
            {
                Ok(it) => ChunkIter::Int(it),
                Err(e) => {
                    self.err = Some(e);
                    ChunkIter::Empty
                }
            },
            ChunkData::Floats(s) => ChunkIter::Floats(s, 0),
            ChunkData::Histograms(s) => ChunkIter::Histograms(s, 0),
        };
        self.next_chunk = i + 1;
    }

    /// Advances within the current chunk; false when the chunk is exhausted.
    #[inline]
    fn step_chunk(&mut self) -> bool {
        match &mut self.cur {
            ChunkIter::Empty => false,
            ChunkIter::Xor(it) => match it.next() {
                Ok(Some((t, v))) => {
                    self.t = t;
                    self.v = v;
                    self.h = None;
                    self.typ = ValType::Float;
                    true
                }
                Ok(None) => false,
                Err(e) => {
                    self.err = Some(e);
                    false
                }
            },
            ChunkIter::Int(it) => match it.next() {
                Ok(Some((t, v))) => {
                    self.t = t;
                    self.v = v;
                    self.h = None;
                    self.typ = ValType::Float;
                    true
                }
                Ok(None) => false,
                Err(e) => {
                    self.err = Some(e);
                    false
                }
            },
            ChunkIter::Floats(s, i) => match s.get(*i) {
                Some(&(t, v)) => {
                    *i += 1;
                    self.t = t;
                    self.v = v;
                    self.h = None;
                    self.typ = ValType::Float;
                    true
                }
                None => false,
            },
            ChunkIter::Histograms(s, i) => match s.get(*i) {
                Some((t, h)) => {
                    *i += 1;
                    self.t = *t;
                    self.v = f64::NAN;
                    self.h = Some(h);
                    self.typ = ValType::Histogram;
                    true
                }
                None => false,
            },
        }
    }

    fn finish(&mut self) -> ValType {
        self.done = true;
        self.typ = ValType::None;
        self.h = None;
        ValType::None
    }

    /// Advances to the next sample and returns its type; [`ValType::None`] at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> ValType {
        if self.done {
            return ValType::None;
        }
        loop {
            if self.step_chunk() {
                if self.inside {
                    return self.typ;
                }
                if self.t < self.mint {
                    continue;
                }
                if self.t > self.maxt {
                    return self.finish();
                }
                return self.typ;
            }
            if self.err.is_some() || self.next_chunk >= self.chunks.len() {
                return self.finish();
            }
            // skip chunks entirely before mint
            let mut i = self.next_chunk;
            while i < self.chunks.len() && self.chunks[i].max_t < self.mint {
                i += 1;
            }
            if i >= self.chunks.len() || self.chunks[i].min_t > self.maxt {
                return self.finish();
            }
            self.open_chunk(i);
        }
    }

    /// Advances to the first sample with timestamp `>= t` and returns its type. If the iterator
    /// is already positioned on such a sample, it does not move. Skips whole chunks by their
    /// time bounds without decoding them.
    pub fn seek(&mut self, t: i64) -> ValType {
        if self.done {
            return ValType::None;
        }
        if self.typ != ValType::None && self.t >= t {
            return self.typ;
        }
        // Skip whole chunks that end before t, if the current one also ends before t.
        let cur_ends_before = self.next_chunk == 0
            || self
                .chunks
                .get(self.next_chunk - 1)
                .is_none_or(|c| c.max_t < t);
        if cur_ends_before {
            let mut i = self.next_chunk;
            while i < self.chunks.len() && self.chunks[i].max_t < t {
                i += 1;
            }
            if i >= self.chunks.len() {
                return self.finish();
            }
            self.open_chunk(i);
            self.typ = ValType::None;
        }
        loop {
            match self.next() {
                ValType::None => return ValType::None,
                typ if self.t >= t => return typ,
                _ => {}
            }
        }
    }

    /// The current float sample `(t, v)`.
    #[inline]
    pub fn at(&self) -> (i64, f64) {
        (self.t, self.v)
    }

    /// The current histogram sample, if the iterator is on one.
    #[inline]
    pub fn at_histogram(&self) -> Option<(i64, &'a FloatHistogram)> {
        self.h.map(|h| (self.t, h))
    }

    /// The timestamp of the current sample.
    #[inline]
    pub fn at_t(&self) -> i64 {
        self.t
    }

    /// The start timestamp of the current sample (ms; Prometheus's `AtST`), if known.
    /// Always `None` for series without start timestamps.
    #[inline]
    pub fn at_st(&self) -> Option<i64> {
        if self.sts.is_empty() || self.typ == ValType::None {
            return None;
        }
        let i = self.sts.partition_point(|x| x.0 < self.t);
        match self.sts.get(i) {
            Some(&(t, st)) if t == self.t => Some(st),
            _ => None,
        }
    }

    /// The decoding error that ended iteration, if any.
    pub fn err(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }
}

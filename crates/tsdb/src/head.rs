//! The head block: series, their chunks, the index, appenders and queriers.
//!
//! Concurrency: a [`Db`] is `Send + Sync`; state sits behind one `RwLock`. Appenders lock
//! per call and on commit; queriers lock per call and return owned snapshots
//! ([`SeriesSet`]), so no lock is held while a caller iterates samples and appends may run
//! at the same time (on the same thread too).

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use promplay_model::{FloatHistogram, Labels, Matcher};

use crate::chunkenc::{encode_int_chunk, is_int_exact, XorAppender, XorIterator};
use crate::error::{AppendError, CommitError, StorageError};
use crate::fxhash::{FxHashMap, FxHasher};
use crate::index::{Postings, Symbols};
use crate::storage::{
    ChunkData, ChunkSnap, Querier, Queryable, SelectHints, Series, SeriesRef, SeriesSet, ValType,
};

/// Options of a [`Db`]. Build with `Options { retention_ms: Some(..), ..Default::default() }`:
/// fields may be added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How long samples are kept, in ms; `None` keeps everything.
    /// [`Db::apply_retention`] drops whole chunks older than `now - retention_ms`.
    pub retention_ms: Option<i64>,
    /// Samples per float chunk before a new chunk is cut (Prometheus: 120). Clamped to
    /// `1..=u16::MAX`.
    pub samples_per_chunk: usize,
    /// Samples per native histogram chunk.
    pub histograms_per_chunk: usize,
    /// Re-encode closed float chunks whose values are all integers as integer chunks when
    /// smaller ([`crate::chunkenc::int`]); `false` keeps every float chunk in Prometheus's XOR
    /// layout.
    pub integer_chunks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention_ms: None,
            samples_per_chunk: 120,
            histograms_per_chunk: 120,
            integer_chunks: true,
        }
    }
}

/// Figures about the contents and memory of a [`Db`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Live series (including series created by appends not yet committed).
    pub series: usize,
    /// Stored samples (floats and histograms).
    pub samples: u64,
    /// Estimated heap bytes of everything: chunk data, chunk metadata, series, labels,
    /// postings and symbols.
    pub bytes: usize,
    /// `bytes / samples` (0 when empty).
    pub bytes_per_sample: f64,
    /// Chunks (float and histogram).
    pub chunks: usize,
    /// Bytes allocated for encoded float chunk data (capacity, included in `bytes`).
    pub chunk_bytes: usize,
    /// Bytes of encoded float chunk data in use.
    pub chunk_bytes_used: usize,
    /// Interned strings.
    pub symbols: usize,
    /// Oldest and newest sample timestamps, if any sample.
    pub min_time: Option<i64>,
    pub max_time: Option<i64>,
}

/// What [`Db::apply_retention`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub chunks_removed: usize,
    pub samples_removed: u64,
    pub series_removed: usize,
}

const KIND_XOR: u32 = 0;
const KIND_INT: u32 = 1;
const KIND_HIST: u32 = 2;
const LOC_MASK: u32 = (1 << 30) - 1;

/// Where a chunk is and its time bounds, in 16 bytes. `loc` holds the kind in its top two bits
/// and, below, the byte offset in the series' buffer (XOR and integer chunks, which end where
/// the next such chunk starts or at the buffer's end) or the index of a histogram chunk.
#[derive(Clone, Copy, Debug)]
struct ChunkMeta {
    min_t: i64,
    /// `max_t - min_t`; a chunk is cut before this would overflow.
    max_dt: u32,
    loc: u32,
}

impl ChunkMeta {
    fn new(kind: u32, pos: usize, t: i64) -> Self {
        ChunkMeta {
            min_t: t,
            max_dt: 0,
            loc: (kind << 30) | (pos as u32 & LOC_MASK),
        }
    }
    #[inline]
    fn kind(&self) -> u32 {
        self.loc >> 30
    }
    #[inline]
    fn pos(&self) -> usize {
        (self.loc & LOC_MASK) as usize
    }
    #[inline]
    fn max_t(&self) -> i64 {
        self.min_t.wrapping_add(self.max_dt as i64)
    }
    fn set_pos(&mut self, pos: usize) {
        self.loc = (self.loc & !LOC_MASK) | (pos as u32 & LOC_MASK);
    }
    fn set_kind(&mut self, kind: u32) {
        self.loc = (self.loc & LOC_MASK) | (kind << 30);
    }
}

const LAST_NONE: u8 = 0;
const LAST_FLOAT: u8 = 1;
const LAST_HIST: u8 = 2;

/// The newest sample of a series (or of a series plus an appender's pending samples).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Last {
    t: i64,
    kind: u8,
    bits: u64,
}

impl Last {
    const NONE: Last = Last {
        t: i64::MIN,
        kind: LAST_NONE,
        bits: 0,
    };
}

struct MemSeries {
    labels: Labels,
    /// Encoded float chunks, back to back. Shared with snapshots; copied on write while shared.
    data: Arc<Vec<u8>>,
    chunks: Vec<ChunkMeta>,
    hists: Vec<Arc<Vec<(i64, FloatHistogram)>>>,
    /// Appender of the last chunk, when it is an XOR chunk that is still open.
    app: Option<XorAppender>,
    last: Last,
    /// Appenders holding uncommitted samples for this series; retention keeps such series.
    pending: AtomicU32,
}

impl MemSeries {
    fn new(labels: Labels) -> Self {
        MemSeries {
            labels,
            data: Arc::new(Vec::new()),
            chunks: Vec::new(),
            hists: Vec::new(),
            app: None,
            last: Last::NONE,
            pending: AtomicU32::new(0),
        }
    }

    fn last_histogram(&self) -> Option<&FloatHistogram> {
        self.hists.last().and_then(|h| h.last()).map(|x| &x.1)
    }

    /// End offset of float chunk `i` in `data`.
    fn data_end(&self, i: usize) -> usize {
        self.chunks[i + 1..]
            .iter()
            .find(|c| c.kind() != KIND_HIST)
            .map_or(self.data.len(), |c| c.pos())
    }

    fn push_chunk(&mut self, meta: ChunkMeta) {
        if self.chunks.len() == self.chunks.capacity() {
            // grow by a quarter: a series' chunk list is long-lived
            self.chunks.reserve_exact((self.chunks.len() / 4).max(2));
        }
        self.chunks.push(meta);
    }

    /// Closes the open XOR chunk, re-encoding it as an integer chunk when that is smaller.
    /// Returns the closed chunk's XOR size, an estimate for the next one.
    fn close_head(&mut self, int_chunks: bool) -> Option<usize> {
        let app = self.app.take()?;
        let header = app.header_offset();
        let buf = Arc::make_mut(&mut self.data);
        let xor_len = buf.len().checked_sub(header)?;
        if !int_chunks {
            return Some(xor_len);
        }
        if let Some(enc) = transcode_int(&buf[header..]) {
            if enc.len() < xor_len {
                buf.truncate(header);
                buf.extend_from_slice(&enc);
                if let Some(c) = self.chunks.last_mut() {
                    c.set_kind(KIND_INT);
                }
            }
        }
        Some(xor_len)
    }

    /// Appends a float sample already checked to be in order.
    fn append_float(&mut self, t: i64, v: f64, per_chunk: usize, int_chunks: bool) {
        let need_new = match (&self.app, self.chunks.last()) {
            (Some(a), Some(c)) => {
                a.num_samples() as usize >= per_chunk
                    || t.checked_sub(c.min_t).is_none_or(|d| d > u32::MAX as i64)
            }
            _ => true,
        };
        if need_new {
            let est = self.close_head(int_chunks).map_or(64, |l| l + 8);
            let buf = Arc::make_mut(&mut self.data);
            let want = buf.len() + est;
            if buf.capacity() < want {
                buf.reserve_exact(want - buf.len());
            } else if buf.capacity() > want + 64 {
                buf.shrink_to(want);
            }
            let app = XorAppender::start(buf);
            self.push_chunk(ChunkMeta::new(KIND_XOR, app.header_offset(), t));
            self.app = Some(app);
        }
        let buf = Arc::make_mut(&mut self.data);
        if let Some(app) = self.app.as_mut() {
            if buf.capacity() - buf.len() < 24 {
                // growing inside a chunk: modest steps instead of doubling
                buf.reserve_exact((buf.len() / 16).max(32));
            }
            if app.append(buf, t, v).is_ok() {
                if let Some(c) = self.chunks.last_mut() {
                    c.max_dt = t.wrapping_sub(c.min_t) as u32;
                }
                self.last = Last {
                    t,
                    kind: LAST_FLOAT,
                    bits: v.to_bits(),
                };
            }
        }
    }

    fn append_histogram(&mut self, t: i64, h: &FloatHistogram, per_chunk: usize, int_chunks: bool) {
        let need_new = match self.chunks.last() {
            Some(c) if c.kind() == KIND_HIST => {
                t.checked_sub(c.min_t).is_none_or(|d| d > u32::MAX as i64)
                    || self.hists.get(c.pos()).is_none_or(|c| c.len() >= per_chunk)
            }
            _ => true,
        };
        if need_new {
            self.close_head(int_chunks);
            self.hists
                .push(Arc::new(Vec::with_capacity(per_chunk.min(16))));
            self.push_chunk(ChunkMeta::new(KIND_HIST, self.hists.len() - 1, t));
        }
        if let Some(c) = self.hists.last_mut() {
            Arc::make_mut(c).push((t, h.clone()));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.max_dt = t.wrapping_sub(c.min_t) as u32;
        }
        self.last = Last {
            t,
            kind: LAST_HIST,
            bits: 0,
        };
    }

    fn chunk_samples(&self, i: usize) -> u64 {
        let c = &self.chunks[i];
        if c.kind() == KIND_HIST {
            return self.hists.get(c.pos()).map_or(0, |h| h.len() as u64);
        }
        match self.data.get(c.pos()..c.pos() + 2) {
            Some(b) => u16::from_be_bytes([b[0], b[1]]) as u64,
            None => 0,
        }
    }

    /// Snapshots of the chunks overlapping `[mint, maxt]`.
    fn snapshot(&self, mint: i64, maxt: i64) -> Vec<ChunkSnap> {
        // chunks are in time order: skip to the first one that ends at or after mint
        let first = self.chunks.partition_point(|c| c.max_t() < mint);
        let mut out = Vec::new();
        for (i, c) in self.chunks.iter().enumerate().skip(first) {
            if c.min_t > maxt {
                break;
            }
            let data = match c.kind() {
                KIND_HIST => match self.hists.get(c.pos()) {
                    Some(v) => ChunkData::Histograms(v.clone()),
                    None => continue,
                },
                kind => {
                    let (buf, start, end) =
                        (self.data.clone(), c.pos() as u32, self.data_end(i) as u32);
                    if kind == KIND_INT {
                        ChunkData::Int { buf, start, end }
                    } else {
                        ChunkData::Xor { buf, start, end }
                    }
                }
            };
            out.push(ChunkSnap {
                min_t: c.min_t,
                max_t: c.max_t(),
                data,
            });
        }
        out
    }

    /// Whether the series has a sample in `[mint, maxt]`. Decodes at most one chunk: only one
    /// that strictly contains the range leaves the question open.
    fn has_samples_in(&self, mint: i64, maxt: i64) -> bool {
        let first = self.chunks.partition_point(|c| c.max_t() < mint);
        let Some(c) = self.chunks.get(first) else {
            return false;
        };
        if c.min_t > maxt {
            return false;
        }
        if c.min_t >= mint || c.max_t() <= maxt {
            return true;
        }
        let snap = self.snapshot(mint, maxt);
        Series::from_chunks(Labels::empty(), mint, maxt, snap)
            .iter()
            .next()
            != ValType::None
    }

    /// Drops chunks whose samples are all older than `cutoff`. Returns (chunks, samples).
    fn truncate_before(&mut self, cutoff: i64) -> (usize, u64) {
        let n = self.chunks.partition_point(|c| c.max_t() < cutoff);
        if n == 0 {
            return (0, 0);
        }
        let samples: u64 = (0..n).map(|i| self.chunk_samples(i)).sum();
        if n == self.chunks.len() {
            self.chunks = Vec::new();
            self.hists = Vec::new();
            self.data = Arc::new(Vec::new());
            self.app = None;
            return (n, samples);
        }
        let kept = &self.chunks[n..];
        let cut = kept
            .iter()
            .find(|c| c.kind() != KIND_HIST)
            .map_or(self.data.len(), |c| c.pos());
        let hcut = kept
            .iter()
            .find(|c| c.kind() == KIND_HIST)
            .map_or(self.hists.len(), |c| c.pos());
        if cut > 0 {
            let rest = self.data.get(cut..).unwrap_or(&[]);
            let mut v =
                Vec::with_capacity(self.data.capacity().saturating_sub(cut).max(rest.len()));
            v.extend_from_slice(rest);
            self.data = Arc::new(v);
        }
        self.hists.drain(..hcut.min(self.hists.len()));
        self.chunks.drain(..n);
        for c in &mut self.chunks {
            let p = c.pos();
            c.set_pos(if c.kind() == KIND_HIST {
                p - hcut
            } else {
                p - cut
            });
        }
        if let Some(app) = self.app.as_mut() {
            app.rebase(cut);
        }
        (n, samples)
    }

    fn heap_bytes(&self) -> usize {
        let mut b = std::mem::size_of::<MemSeries>() + 8; // + the Box slot
        b += self.labels.len() * std::mem::size_of::<promplay_model::Label>();
        b += 16 + self.data.capacity(); // Arc header + bytes
        b += self.chunks.capacity() * std::mem::size_of::<ChunkMeta>();
        b += self.hists.capacity() * 8;
        for h in &self.hists {
            b += 16 + 24 + h.capacity() * std::mem::size_of::<(i64, FloatHistogram)>();
            for (_, x) in h.iter() {
                b += (x.positive_spans.capacity() + x.negative_spans.capacity()) * 8
                    + (x.positive_buckets.capacity()
                        + x.negative_buckets.capacity()
                        + x.custom_values.capacity())
                        * 8;
            }
        }
        b
    }
}

/// The integer-chunk encoding of the XOR chunk `xor`, if all its values are integral.
fn transcode_int(xor: &[u8]) -> Option<Vec<u8>> {
    let mut it = XorIterator::new(xor).ok()?;
    let mut ok = true;
    let mut check = it.clone();
    while let Ok(Some((_, v))) = check.next() {
        if !is_int_exact(v) {
            ok = false;
            break;
        }
    }
    if !ok {
        return None;
    }
    let mut out = Vec::with_capacity(xor.len());
    let samples = std::iter::from_fn(|| it.next().ok().flatten());
    let n = encode_int_chunk(samples, &mut out).ok()?;
    // the XOR chunk must have decoded completely
    (n == XorIterator::new(xor).ok()?.num_samples()).then_some(out)
}

#[derive(Default)]
struct Inner {
    series: Vec<Option<Box<MemSeries>>>,
    /// Labels hash → series id; further ids with the same hash in `collisions`.
    by_hash: FxHashMap<u64, u32>,
    collisions: FxHashMap<u64, Vec<u32>>,
    postings: Postings,
    symbols: Symbols,
    samples: u64,
    live: usize,
    /// Samples older than this were dropped by retention; appends before it are out of bounds.
    min_valid_t: i64,
    /// Known start timestamps by series id: `(t, st)` sorted by `t`, only for samples that
    /// have one. Series without any have no entry, so data without start timestamps costs
    /// nothing. Shared with snapshots, copied on write while shared.
    sts: FxHashMap<u32, Arc<Vec<(i64, i64)>>>,
}

fn labels_hash(l: &Labels) -> u64 {
    let mut h = FxHasher::default();
    l.hash(&mut h);
    h.finish()
}

impl Inner {
    fn get(&self, id: u32) -> Option<&MemSeries> {
        self.series.get(id as usize).and_then(|s| s.as_deref())
    }

    fn get_mut(&mut self, id: u32) -> Option<&mut MemSeries> {
        self.series
            .get_mut(id as usize)
            .and_then(|s| s.as_deref_mut())
    }

    fn lookup(&self, hash: u64, l: &Labels) -> Option<u32> {
        let id = *self.by_hash.get(&hash)?;
        if self.get(id).is_some_and(|s| s.labels == *l) {
            return Some(id);
        }
        self.collisions
            .get(&hash)?
            .iter()
            .copied()
            .find(|id| self.get(*id).is_some_and(|s| s.labels == *l))
    }

    fn get_or_create(&mut self, l: &Labels) -> u32 {
        let hash = labels_hash(l);
        if let Some(id) = self.lookup(hash, l) {
            return id;
        }
        let labels = self.symbols.intern_labels(l);
        let id = self.series.len() as u32;
        self.postings.add(id, &labels);
        self.series.push(Some(Box::new(MemSeries::new(labels))));
        self.live += 1;
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collisions.entry(hash).or_default().push(id)
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(id);
            }
        }
        id
    }

    /// Removes series `ids` (sorted) from the series table, the hash map and the postings.
    fn remove_series(&mut self, ids: &[u32]) {
        let mut removed = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(s) = self.series.get_mut(id as usize).and_then(|s| s.take()) {
                self.sts.remove(&id);
                self.unhash(id, &s.labels);
                self.live -= 1;
                removed.push((id, s.labels));
            }
        }
        self.postings.remove_many(&removed);
    }

    fn unhash(&mut self, id: u32, labels: &Labels) {
        let s_labels = labels;
        let hash = labels_hash(s_labels);
        if self.by_hash.get(&hash) == Some(&id) {
            // promote a colliding series, if any
            let next = self.collisions.get_mut(&hash).and_then(|v| v.pop());
            match next {
                Some(n) => {
                    self.by_hash.insert(hash, n);
                }
                None => {
                    self.by_hash.remove(&hash);
                }
            }
        } else if let Some(v) = self.collisions.get_mut(&hash) {
            v.retain(|x| *x != id);
        }
        if self.collisions.get(&hash).is_some_and(|v| v.is_empty()) {
            self.collisions.remove(&hash);
        }
    }
}

enum Check {
    Ok,
    /// Identical to the newest sample: accepted, stored nothing.
    NoOp,
    Err(AppendError),
}

/// Whether a sample at `t` (float `v` or histogram `h`) may follow `last`. `last_h` is the
/// newest histogram when `last` is one (needed only for equal timestamps).
fn check_against(
    last: Last,
    last_h: Option<&FloatHistogram>,
    t: i64,
    v: Option<f64>,
    h: Option<&FloatHistogram>,
    min_valid_t: i64,
) -> Check {
    if t < min_valid_t {
        return Check::Err(AppendError::OutOfBounds);
    }
    if last.kind == LAST_NONE || t > last.t {
        return Check::Ok;
    }
    if t < last.t {
        return Check::Err(AppendError::OutOfOrderSample);
    }
    let existing = (last.kind == LAST_FLOAT).then(|| f64::from_bits(last.bits));
    let same = match (v, h) {
        (Some(v), _) => last.kind == LAST_FLOAT && last.bits == v.to_bits(),
        (None, Some(h)) => last.kind == LAST_HIST && last_h == Some(h),
        _ => false,
    };
    if same {
        Check::NoOp
    } else {
        Check::Err(AppendError::DuplicateSampleForTimestamp {
            timestamp: t,
            existing,
            new_value: v,
        })
    }
}

/// The in-memory time-series database (Prometheus's head block).
pub struct Db {
    opts: Options,
    inner: RwLock<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Default for Db {
    fn default() -> Self {
        Db::new(Options::default())
    }
}

impl Db {
    pub fn new(opts: Options) -> Self {
        let mut opts = opts;
        opts.samples_per_chunk = opts.samples_per_chunk.clamp(1, u16::MAX as usize);
        opts.histograms_per_chunk = opts.histograms_per_chunk.max(1);
        Db {
            opts,
            inner: RwLock::new(Inner {
                min_valid_t: i64::MIN,
                ..Default::default()
            }),
        }
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock cannot leave Inner half-updated in a way that breaks
        // memory safety; keep serving.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A new appender. Samples become visible to queriers when it commits.
    pub fn appender(&self) -> Appender<'_> {
        Appender {
            db: self,
            pending: Vec::new(),
            series: FxHashMap::default(),
            min_valid_t: i64::MIN,
        }
    }

    /// Figures about contents and memory.
    pub fn stats(&self) -> Stats {
        let inner = self.read();
        let mut bytes = inner.series.capacity() * 8;
        let mut chunks = 0;
        let mut chunk_bytes = 0;
        let mut chunk_bytes_used = 0;
        let mut min_time: Option<i64> = None;
        let mut max_time: Option<i64> = None;
        for s in inner.series.iter().flatten() {
            bytes += s.heap_bytes();
            chunks += s.chunks.len();
            chunk_bytes += s.data.capacity();
            chunk_bytes_used += s.data.len();
            if let (Some(a), Some(b)) = (s.chunks.first(), s.chunks.last()) {
                min_time = Some(min_time.map_or(a.min_t, |m| m.min(a.min_t)));
                max_time = Some(max_time.map_or(b.max_t(), |m| m.max(b.max_t())));
            }
        }
        bytes += inner.by_hash.capacity() * (16 + 1);
        bytes += inner.collisions.capacity() * (32 + 1);
        bytes += inner.postings.heap_bytes();
        bytes += inner.symbols.heap_bytes();
        bytes += inner.sts.capacity() * (12 + 1);
        for v in inner.sts.values() {
            bytes += 16 + 24 + v.capacity() * 16;
        }
        Stats {
            series: inner.live,
            samples: inner.samples,
            bytes,
            bytes_per_sample: if inner.samples == 0 {
                0.0
            } else {
                bytes as f64 / inner.samples as f64
            },
            chunks,
            chunk_bytes,
            chunk_bytes_used,
            symbols: inner.symbols.len(),
            min_time,
            max_time,
        }
    }

    /// Drops whole chunks whose newest sample is older than `now_ms - retention_ms`, then
    /// series left without chunks (and their postings and unused symbols). Appends older than
    /// that cutoff are rejected as out of bounds afterwards. Without a retention only series
    /// that never got a sample (e.g. after a rollback) are dropped.
    pub fn apply_retention(&self, now_ms: i64) -> RetentionReport {
        match self.opts.retention_ms {
            Some(r) => self.truncate_before(now_ms.saturating_sub(r)),
            None => self.truncate_before(i64::MIN),
        }
    }

    /// Drops whole chunks whose samples are all older than `cutoff` (ms) and series left
    /// empty, as [`Db::apply_retention`] does with an explicit cutoff.
    pub fn truncate_before(&self, cutoff: i64) -> RetentionReport {
        let mut inner = self.write();
        let mut rep = RetentionReport::default();
        let mut empty = Vec::new();
        let Inner { series, sts, .. } = &mut *inner;
        for (id, slot) in series.iter_mut().enumerate() {
            if let Some(s) = slot.as_deref_mut() {
                let (c, n) = s.truncate_before(cutoff);
                rep.chunks_removed += c;
                rep.samples_removed += n;
                if c > 0 {
                    if let Some(v) = sts.get_mut(&(id as u32)) {
                        let keep_from = s.chunks.first().map_or(i64::MAX, |c| c.min_t);
                        let cut = v.partition_point(|x| x.0 < keep_from);
                        if cut == v.len() {
                            sts.remove(&(id as u32));
                        } else if cut > 0 {
                            Arc::make_mut(v).drain(..cut);
                        }
                    }
                }
                if s.chunks.is_empty() && s.pending.load(Ordering::Relaxed) == 0 {
                    empty.push(id as u32);
                }
            }
        }
        rep.series_removed = empty.len();
        inner.remove_series(&empty);
        inner.samples -= rep.samples_removed.min(inner.samples);
        if rep.series_removed > 0 {
            inner.symbols.gc();
        }
        inner.min_valid_t = inner.min_valid_t.max(cutoff);
        rep
    }
}

impl Queryable for Db {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        if mint > maxt {
            return Err(StorageError::InvalidTimeRange { mint, maxt });
        }
        Ok(Box::new(DbQuerier {
            db: self,
            mint,
            maxt,
        }))
    }
}

/// A querier over a [`Db`]'s time range `[mint, maxt]`.
pub struct DbQuerier<'a> {
    db: &'a Db,
    mint: i64,
    maxt: i64,
}

impl DbQuerier<'_> {
    fn matching_ids(&self, inner: &Inner, matchers: &[Matcher], all_if_empty: bool) -> Vec<u32> {
        if matchers.is_empty() && all_if_empty {
            inner.postings.all().to_vec()
        } else {
            inner.postings.for_matchers(matchers)
        }
    }
}

impl Querier for DbQuerier<'_> {
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let (mut mint, mut maxt) = (self.mint, self.maxt);
        if let Some(h) = hints {
            mint = mint.max(h.start);
            maxt = maxt.min(h.end);
        }
        if mint > maxt {
            return Ok(SeriesSet::default());
        }
        let inner = self.db.read();
        let ids = inner.postings.for_matchers(matchers);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(s) = inner.get(id) else { continue };
            if !s.has_samples_in(mint, maxt) {
                continue;
            }
            let chunks = s.snapshot(mint, maxt);
            let mut series = Series::from_chunks(s.labels.clone(), mint, maxt, chunks);
            if let Some(v) = inner.sts.get(&id) {
                series.set_start_timestamps(Some(v.clone()));
            }
            out.push(series);
        }
        drop(inner);
        if sorted {
            out.sort_by(|a, b| a.labels().cmp(b.labels()));
        }
        Ok(SeriesSet::new(out))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let inner = self.db.read();
        let (mint, maxt) = (self.mint, self.maxt);
        if matchers.is_empty() {
            let Some(values) = inner.postings.values(name) else {
                return Ok(Vec::new());
            };
            return Ok(values
                .iter()
                .filter(|(_, ids)| {
                    ids.iter()
                        .any(|id| inner.get(*id).is_some_and(|s| s.has_samples_in(mint, maxt)))
                })
                .map(|(v, _)| v.to_string())
                .collect());
        }
        let mut vals: Vec<&str> = Vec::new();
        for id in self.matching_ids(&inner, matchers, true) {
            if let Some(s) = inner.get(id) {
                if s.has_samples_in(mint, maxt) {
                    if let Some(v) = s.labels.get(name) {
                        vals.push(v);
                    }
                }
            }
        }
        vals.sort_unstable();
        vals.dedup();
        Ok(vals.into_iter().map(String::from).collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let inner = self.db.read();
        let (mint, maxt) = (self.mint, self.maxt);
        let mut names: Vec<&str> = Vec::new();
        if matchers.is_empty() {
            for n in inner.postings.names() {
                let any = inner.postings.values(n).is_some_and(|vals| {
                    vals.values().any(|ids| {
                        ids.iter()
                            .any(|id| inner.get(*id).is_some_and(|s| s.has_samples_in(mint, maxt)))
                    })
                });
                if any {
                    names.push(n);
                }
            }
        } else {
            for id in self.matching_ids(&inner, matchers, true) {
                if let Some(s) = inner.get(id) {
                    if s.has_samples_in(mint, maxt) {
                        names.extend(s.labels.iter().map(|l| &*l.name));
                    }
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        Ok(names.into_iter().map(String::from).collect())
    }
}

enum PendingValue {
    Float(f64),
    Histogram(Box<FloatHistogram>),
}

struct Pending {
    id: u32,
    t: i64,
    /// Start timestamp, 0 if unknown.
    st: i64,
    v: PendingValue,
}

/// Per-series state of an appender: the newest sample, committed or pending.
struct PendingSeries {
    last: Last,
    /// Index in `pending` of the newest pending histogram of this series.
    last_hist: Option<usize>,
}

/// A batch of appends (Prometheus's `storage.Appender`). Not visible to queriers until
/// [`commit`](Appender::commit); dropped without commit it rolls back.
///
/// Contracts: within one series samples must come in increasing time order, across this batch
/// and the committed data. A sample older than the newest one of its series is rejected with
/// [`AppendError::OutOfOrderSample`]; one at the same timestamp with a different value (bit
/// pattern) with [`AppendError::DuplicateSampleForTimestamp`]; the same timestamp and the same
/// value is accepted and stores nothing. A series is created by its first append (an empty
/// series is invisible to queries and removed by retention once no appender holds it).
pub struct Appender<'a> {
    db: &'a Db,
    pending: Vec<Pending>,
    series: FxHashMap<u32, PendingSeries>,
    min_valid_t: i64,
}

impl Appender<'_> {
    /// Registers series `s` (id `id`) with this appender, under the caller's lock.
    fn hold(&mut self, id: u32, s: &MemSeries) {
        s.pending.fetch_add(1, Ordering::Relaxed);
        self.series.insert(
            id,
            PendingSeries {
                last: s.last,
                last_hist: None,
            },
        );
    }

    fn resolve(&mut self, labels: &Labels) -> Result<u32, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::EmptyLabels);
        }
        let hash = labels_hash(labels);
        {
            let inner = self.db.read();
            if let Some(id) = inner.lookup(hash, labels) {
                if !self.series.contains_key(&id) {
                    if let Some(s) = inner.get(id) {
                        self.min_valid_t = inner.min_valid_t;
                        self.hold(id, s);
                    }
                }
                return Ok(id);
            }
        }
        let mut inner = self.db.write();
        let id = inner.get_or_create(labels);
        self.min_valid_t = inner.min_valid_t;
        if !self.series.contains_key(&id) {
            if let Some(s) = inner.get(id) {
                self.hold(id, s);
            }
        }
        Ok(id)
    }

    fn add(
        &mut self,
        id: u32,
        st: i64,
        t: i64,
        v: Option<f64>,
        h: Option<&FloatHistogram>,
    ) -> Result<SeriesRef, AppendError> {
        let r = SeriesRef(id as u64);
        let Some(p) = self.series.get(&id) else {
            return Err(AppendError::UnknownSeriesRef(r));
        };
        let check = if p.last.kind == LAST_HIST && t == p.last.t && h.is_some() {
            // comparing histograms: the newest is pending here or committed in the series
            match p.last_hist.and_then(|i| self.pending.get(i)) {
                Some(Pending {
                    v: PendingValue::Histogram(ph),
                    ..
                }) => check_against(p.last, Some(ph), t, v, h, self.min_valid_t),
                _ => {
                    let inner = self.db.read();
                    let last_h = inner.get(id).and_then(|s| s.last_histogram());
                    check_against(p.last, last_h, t, v, h, self.min_valid_t)
                }
            }
        } else {
            check_against(p.last, None, t, v, h, self.min_valid_t)
        };
        match check {
            Check::Err(e) => Err(e),
            Check::NoOp => Ok(r),
            Check::Ok => {
                let idx = self.pending.len();
                let (pv, last) = match (v, h) {
                    (Some(v), _) => (
                        PendingValue::Float(v),
                        Last {
                            t,
                            kind: LAST_FLOAT,
                            bits: v.to_bits(),
                        },
                    ),
                    (None, Some(h)) => (
                        PendingValue::Histogram(Box::new(h.clone())),
                        Last {
                            t,
                            kind: LAST_HIST,
                            bits: 0,
                        },
                    ),
                    (None, None) => return Ok(r),
                };
                self.pending.push(Pending { id, t, st, v: pv });
                if let Some(p) = self.series.get_mut(&id) {
                    p.last = last;
                    if last.kind == LAST_HIST {
                        p.last_hist = Some(idx);
                    }
                }
                Ok(r)
            }
        }
    }

    /// Appends a float sample (staleness markers, [`promplay_model::STALE_NAN`], are values
    /// like any other). Returns the series' reference for [`append_ref`](Self::append_ref).
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        let id = self.resolve(labels)?;
        self.add(id, 0, t, Some(v), None)
    }

    /// Appends a float sample to a series by reference (from an earlier append; skips the
    /// label lookup). Fails with [`AppendError::UnknownSeriesRef`] if the series no longer
    /// exists.
    pub fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        let id = u32::try_from(r.0).map_err(|_| AppendError::UnknownSeriesRef(r))?;
        self.hold_ref(id, r)?;
        self.add(id, 0, t, Some(v), None)
    }

    /// Appends a native histogram sample. Same ordering rules as floats; a series may switch
    /// between floats and histograms over time.
    pub fn append_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<SeriesRef, AppendError> {
        let id = self.resolve(labels)?;
        self.add(id, 0, t, None, Some(h))
    }

    /// Appends a native histogram sample to a series by reference (see
    /// [`append_ref`](Self::append_ref)).
    pub fn append_histogram_ref(
        &mut self,
        r: SeriesRef,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<SeriesRef, AppendError> {
        let id = u32::try_from(r.0).map_err(|_| AppendError::UnknownSeriesRef(r))?;
        self.hold_ref(id, r)?;
        self.add(id, 0, t, None, Some(h))
    }

    /// Registers series `id` with this appender if it is not yet.
    fn hold_ref(&mut self, id: u32, r: SeriesRef) -> Result<(), AppendError> {
        if !self.series.contains_key(&id) {
            let db = self.db;
            let inner = db.read();
            let Some(s) = inner.get(id) else {
                return Err(AppendError::UnknownSeriesRef(r));
            };
            self.min_valid_t = inner.min_valid_t;
            self.hold(id, s);
        }
        Ok(())
    }

    /// Appends a float sample with its start timestamp `st` (ms; Prometheus's `ST`, the
    /// "created timestamp" of a counter or the start of a delta sample's interval), stored
    /// next to the sample and read back with [`crate::SeriesIterator::at_st`]. An `st` of 0
    /// means unknown (as [`append`](Self::append)). `st` is not validated against `t`:
    /// readers decide what an invalid one means.
    pub fn append_with_st(
        &mut self,
        labels: &Labels,
        st: i64,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        let id = self.resolve(labels)?;
        self.add(id, st, t, Some(v), None)
    }

    /// [`append_with_st`](Self::append_with_st) by series reference.
    pub fn append_ref_with_st(
        &mut self,
        r: SeriesRef,
        st: i64,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        let id = u32::try_from(r.0).map_err(|_| AppendError::UnknownSeriesRef(r))?;
        self.hold_ref(id, r)?;
        self.add(id, st, t, Some(v), None)
    }

    /// Appends a native histogram sample with its start timestamp (see
    /// [`append_with_st`](Self::append_with_st)).
    pub fn append_histogram_with_st(
        &mut self,
        labels: &Labels,
        st: i64,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<SeriesRef, AppendError> {
        let id = self.resolve(labels)?;
        self.add(id, st, t, None, Some(h))
    }

    /// Records a start (created) timestamp `st` for the sample at `t` by appending a 0 sample at
    /// `st` (Prometheus's `AppendSTZeroSample`). Errors: `st >= t`
    /// ([`AppendError::StartTimestampNotOlder`]); `st` not after the series' newest sample
    /// ([`AppendError::OutOfOrderStartTimestamp`]) — callers usually ignore both.
    pub fn append_start_timestamp(
        &mut self,
        labels: &Labels,
        t: i64,
        st: i64,
    ) -> Result<SeriesRef, AppendError> {
        if st >= t {
            return Err(AppendError::StartTimestampNotOlder);
        }
        let id = self.resolve(labels)?;
        if let Some(p) = self.series.get(&id) {
            if p.last.kind != LAST_NONE && st <= p.last.t {
                return Err(AppendError::OutOfOrderStartTimestamp);
            }
        }
        self.add(id, 0, st, Some(0.0), None)
    }

    /// Number of samples waiting for commit.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn release(&mut self) {
        if self.series.is_empty() {
            return;
        }
        let inner = self.db.read();
        for id in self.series.keys() {
            if let Some(s) = inner.get(*id) {
                s.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
        drop(inner);
        self.series.clear();
        self.pending.clear();
    }

    /// Makes the batch visible. Samples that became out of order or duplicate because another
    /// appender committed in between are dropped and counted in the error; all others are
    /// stored either way.
    pub fn commit(mut self) -> Result<(), CommitError> {
        let pending = std::mem::take(&mut self.pending);
        let per_chunk = self.db.opts.samples_per_chunk;
        let per_hchunk = self.db.opts.histograms_per_chunk;
        let int_chunks = self.db.opts.integer_chunks;
        let mut err = CommitError::default();
        {
            let mut inner = self.db.write();
            let min_valid_t = inner.min_valid_t;
            let mut stored = 0u64;
            for p in &pending {
                // held series cannot be removed, so the id is valid
                let Some(s) = inner.get_mut(p.id) else {
                    continue;
                };
                let (v, h) = match &p.v {
                    PendingValue::Float(v) => (Some(*v), None),
                    PendingValue::Histogram(h) => (None, Some(&**h)),
                };
                let check = if s.last.t == p.t {
                    check_against(s.last, s.last_histogram(), p.t, v, h, min_valid_t)
                } else {
                    check_against(s.last, None, p.t, v, h, min_valid_t)
                };
                match check {
                    Check::Ok => {
                        match (v, h) {
                            (Some(v), _) => s.append_float(p.t, v, per_chunk, int_chunks),
                            (None, Some(h)) => s.append_histogram(p.t, h, per_hchunk, int_chunks),
                            _ => {}
                        }
                        stored += 1;
                        if p.st != 0 {
                            let v = inner.sts.entry(p.id).or_default();
                            Arc::make_mut(v).push((p.t, p.st));
                        }
                    }
                    Check::NoOp => {}
                    Check::Err(AppendError::OutOfOrderSample) => err.out_of_order += 1,
                    Check::Err(AppendError::OutOfBounds) => err.out_of_bounds += 1,
                    Check::Err(_) => err.duplicate += 1,
                }
            }
            inner.samples += stored;
            for id in self.series.keys() {
                if let Some(s) = inner.get(*id) {
                    s.pending.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
        self.series.clear();
        if err == CommitError::default() {
            Ok(())
        } else {
            Err(err)
        }
    }

    /// Discards the batch.
    pub fn rollback(mut self) {
        self.release();
    }
}

impl Drop for Appender<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

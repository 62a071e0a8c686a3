//! The head block: series, their chunks, the index, appenders and queriers.
//!
//! Concurrency: a [`Db`] is `Send + Sync`; state sits behind one `RwLock`. Appenders lock
//! per call and on commit; queriers lock per call and return owned snapshots
//! ([`SeriesSet`]), so no lock is held while a caller iterates samples and appends may run
//! at the same time (on the same thread too).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use promplay_model::{FloatHistogram, Labels, Matcher};

use crate::chunkenc::{XorAppender, XOR_HEADER_LEN};
use crate::error::{AppendError, CommitError, StorageError};
use crate::index::{Postings, Symbols};
use crate::storage::{
    ChunkData, ChunkSnap, Querier, Queryable, SelectHints, Series, SeriesRef, SeriesSet,
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention_ms: None,
            samples_per_chunk: 120,
            histograms_per_chunk: 120,
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
    /// Bytes of encoded float chunk data alone (capacity included).
    pub chunk_bytes: usize,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkKind {
    /// Gorilla chunk at this byte offset of the series' buffer (ends where the next XOR
    /// chunk starts, or at the buffer's end).
    Xor(u32),
    /// Index into the series' histogram chunks.
    Hist(u32),
}

#[derive(Clone, Copy, Debug)]
struct ChunkMeta {
    min_t: i64,
    max_t: i64,
    kind: ChunkKind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Last {
    None,
    Float(u64),
    Histogram,
}

struct MemSeries {
    labels: Labels,
    /// Encoded XOR chunks, back to back. Shared with snapshots; copied on write while shared.
    data: Arc<Vec<u8>>,
    chunks: Vec<ChunkMeta>,
    hists: Vec<Arc<Vec<(i64, FloatHistogram)>>>,
    /// Appender of the last chunk, when it is an XOR chunk that is still open.
    app: Option<XorAppender>,
    last_t: i64,
    last: Last,
}

impl MemSeries {
    fn new(labels: Labels) -> Self {
        MemSeries {
            labels,
            data: Arc::new(Vec::new()),
            chunks: Vec::new(),
            hists: Vec::new(),
            app: None,
            last_t: i64::MIN,
            last: Last::None,
        }
    }

    fn last_histogram(&self) -> Option<&FloatHistogram> {
        self.hists.last().and_then(|h| h.last()).map(|x| &x.1)
    }

    fn xor_end(&self, i: usize) -> usize {
        self.chunks[i + 1..]
            .iter()
            .find_map(|c| match c.kind {
                ChunkKind::Xor(o) => Some(o as usize),
                ChunkKind::Hist(_) => None,
            })
            .unwrap_or(self.data.len())
    }

    /// Appends a float sample already checked to be in order.
    fn append_float(&mut self, t: i64, v: f64, per_chunk: usize) {
        let buf = Arc::make_mut(&mut self.data);
        let need_new = match &self.app {
            Some(a) => a.num_samples() as usize >= per_chunk,
            None => true,
        };
        if need_new {
            // Size the allocation for one more chunk like the last, so buffers stay tight.
            let est = match self.app {
                Some(a) => buf.len() - a.header_offset() + 8,
                None => 64,
            };
            let want = buf.len() + est;
            if buf.capacity() < want {
                buf.reserve_exact(want - buf.len());
            }
            let app = XorAppender::start(buf);
            self.chunks.push(ChunkMeta {
                min_t: t,
                max_t: t,
                kind: ChunkKind::Xor(app.header_offset() as u32),
            });
            self.app = Some(app);
        }
        if let Some(app) = self.app.as_mut() {
            if buf.len() == buf.capacity() {
                // growing inside a chunk: modest steps instead of doubling
                buf.reserve_exact((buf.len() / 8).max(32));
            }
            if app.append(buf, t, v).is_ok() {
                if let Some(c) = self.chunks.last_mut() {
                    c.max_t = t;
                }
                self.last_t = t;
                self.last = Last::Float(v.to_bits());
            }
        }
    }

    fn append_histogram(&mut self, t: i64, h: &FloatHistogram, per_chunk: usize) {
        let need_new = match self.chunks.last() {
            Some(ChunkMeta {
                kind: ChunkKind::Hist(i),
                ..
            }) => self
                .hists
                .get(*i as usize)
                .is_none_or(|c| c.len() >= per_chunk),
            _ => true,
        };
        if need_new {
            self.app = None;
            let mut v = Vec::new();
            v.reserve_exact(per_chunk.min(16));
            self.hists.push(Arc::new(v));
            self.chunks.push(ChunkMeta {
                min_t: t,
                max_t: t,
                kind: ChunkKind::Hist((self.hists.len() - 1) as u32),
            });
        }
        if let Some(c) = self.hists.last_mut() {
            Arc::make_mut(c).push((t, h.clone()));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.max_t = t;
        }
        self.last_t = t;
        self.last = Last::Histogram;
    }

    fn chunk_samples(&self, i: usize) -> u64 {
        match self.chunks[i].kind {
            ChunkKind::Xor(o) => {
                let o = o as usize;
                match self.data.get(o..o + XOR_HEADER_LEN) {
                    Some(b) => u16::from_be_bytes([b[0], b[1]]) as u64,
                    None => 0,
                }
            }
            ChunkKind::Hist(h) => self.hists.get(h as usize).map_or(0, |c| c.len() as u64),
        }
    }

    /// Snapshots of the chunks overlapping `[mint, maxt]`.
    fn snapshot(&self, mint: i64, maxt: i64) -> Vec<ChunkSnap> {
        let mut out = Vec::new();
        for (i, c) in self.chunks.iter().enumerate() {
            if c.max_t < mint || c.min_t > maxt {
                continue;
            }
            let data = match c.kind {
                ChunkKind::Xor(o) => ChunkData::Xor {
                    buf: self.data.clone(),
                    start: o,
                    end: self.xor_end(i) as u32,
                },
                ChunkKind::Hist(h) => match self.hists.get(h as usize) {
                    Some(v) => ChunkData::Histograms(v.clone()),
                    None => continue,
                },
            };
            out.push(ChunkSnap {
                min_t: c.min_t,
                max_t: c.max_t,
                data,
            });
        }
        out
    }

    fn has_samples_in(&self, mint: i64, maxt: i64) -> bool {
        self.chunks
            .iter()
            .any(|c| c.max_t >= mint && c.min_t <= maxt)
    }

    /// Drops chunks whose samples are all older than `cutoff`. Returns (chunks, samples).
    fn truncate_before(&mut self, cutoff: i64) -> (usize, u64) {
        let n = self.chunks.iter().take_while(|c| c.max_t < cutoff).count();
        if n == 0 {
            return (0, 0);
        }
        let samples: u64 = (0..n).map(|i| self.chunk_samples(i)).sum();
        if n == self.chunks.len() {
            self.chunks.clear();
            self.hists.clear();
            self.data = Arc::new(Vec::new());
            self.app = None;
            return (n, samples);
        }
        // bytes and histogram chunks before the first kept chunk
        let first_xor = self.chunks[n..].iter().find_map(|c| match c.kind {
            ChunkKind::Xor(o) => Some(o),
            _ => None,
        });
        let cut = first_xor.unwrap_or(self.data.len() as u32);
        let first_hist = self.chunks[n..].iter().find_map(|c| match c.kind {
            ChunkKind::Hist(h) => Some(h),
            _ => None,
        });
        let hcut = first_hist.unwrap_or(self.hists.len() as u32);
        if cut > 0 {
            let mut kept = Vec::with_capacity(self.data.len() - cut as usize);
            kept.extend_from_slice(&self.data[cut as usize..]);
            self.data = Arc::new(kept);
        }
        self.hists.drain(..hcut as usize);
        self.chunks.drain(..n);
        for c in &mut self.chunks {
            c.kind = match c.kind {
                ChunkKind::Xor(o) => ChunkKind::Xor(o - cut),
                ChunkKind::Hist(h) => ChunkKind::Hist(h - hcut),
            };
        }
        if let Some(app) = self.app.as_mut() {
            app.rebase(cut as usize);
        }
        (n, samples)
    }

    fn heap_bytes(&self) -> usize {
        let mut b = std::mem::size_of::<MemSeries>() + 8; // + the Box slot
        b += self.labels.len() * std::mem::size_of::<promplay_model::Label>();
        b += 16 + self.data.capacity(); // Arc header + bytes
        b += self.chunks.capacity() * std::mem::size_of::<ChunkMeta>();
        for h in &self.hists {
            b += 16 + h.capacity() * std::mem::size_of::<(i64, FloatHistogram)>();
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

enum Refs {
    One(u32),
    Many(Vec<u32>),
}

#[derive(Default)]
struct Inner {
    series: Vec<Option<Box<MemSeries>>>,
    by_hash: HashMap<u64, Refs>,
    postings: Postings,
    symbols: Symbols,
    samples: u64,
    live: usize,
    /// Samples older than this were dropped by retention; appends before it are out of bounds.
    min_valid_t: i64,
}

fn labels_hash(l: &Labels) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
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
        match self.by_hash.get(&hash)? {
            Refs::One(id) => (self.get(*id)?.labels == *l).then_some(*id),
            Refs::Many(ids) => ids
                .iter()
                .copied()
                .find(|id| self.get(*id).is_some_and(|s| s.labels == *l)),
        }
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
        match self.by_hash.get_mut(&hash) {
            None => {
                self.by_hash.insert(hash, Refs::One(id));
            }
            Some(Refs::One(other)) => {
                let other = *other;
                self.by_hash.insert(hash, Refs::Many(vec![other, id]));
            }
            Some(Refs::Many(v)) => v.push(id),
        }
        id
    }

    fn remove_series(&mut self, id: u32) {
        let Some(s) = self.series.get_mut(id as usize).and_then(|s| s.take()) else {
            return;
        };
        self.postings.remove(id, &s.labels);
        self.live -= 1;
        let hash = labels_hash(&s.labels);
        let drop_entry = match self.by_hash.get_mut(&hash) {
            Some(Refs::One(x)) => *x == id,
            Some(Refs::Many(v)) => {
                v.retain(|x| *x != id);
                v.is_empty()
            }
            None => false,
        };
        if drop_entry {
            self.by_hash.remove(&hash);
        }
    }

    /// Whether a sample at `t` may follow the committed state of series `id`.
    fn check(&self, s: &MemSeries, t: i64, v: Option<f64>, h: Option<&FloatHistogram>) -> Check {
        check_against(
            s.last_t,
            s.last,
            s.last_histogram(),
            t,
            v,
            h,
            self.min_valid_t,
        )
    }
}

enum Check {
    Ok,
    /// Identical to the newest sample: accepted, stored nothing.
    NoOp,
    Err(AppendError),
}

fn check_against(
    last_t: i64,
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
    if last == Last::None || t > last_t {
        return Check::Ok;
    }
    if t < last_t {
        return Check::Err(AppendError::OutOfOrderSample);
    }
    match (last, v, h) {
        (Last::Float(bits), Some(v), _) if bits == v.to_bits() => Check::NoOp,
        (Last::Float(bits), Some(v), _) => Check::Err(AppendError::DuplicateSampleForTimestamp {
            timestamp: t,
            existing: Some(f64::from_bits(bits)),
            new_value: Some(v),
        }),
        (Last::Histogram, Some(v), _) => Check::Err(AppendError::DuplicateSampleForTimestamp {
            timestamp: t,
            existing: None,
            new_value: Some(v),
        }),
        (Last::Histogram, None, Some(h)) if last_h == Some(h) => Check::NoOp,
        (Last::Float(bits), None, _) => Check::Err(AppendError::DuplicateSampleForTimestamp {
            timestamp: t,
            existing: Some(f64::from_bits(bits)),
            new_value: None,
        }),
        _ => Check::Err(AppendError::DuplicateSampleForTimestamp {
            timestamp: t,
            existing: None,
            new_value: None,
        }),
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
            pending_series: HashMap::new(),
        }
    }

    /// Figures about contents and memory.
    pub fn stats(&self) -> Stats {
        let inner = self.read();
        let mut bytes = inner.series.capacity() * 8;
        let mut chunks = 0;
        let mut chunk_bytes = 0;
        let mut min_time: Option<i64> = None;
        let mut max_time: Option<i64> = None;
        for s in inner.series.iter().flatten() {
            bytes += s.heap_bytes();
            chunks += s.chunks.len();
            chunk_bytes += s.data.capacity();
            if let (Some(a), Some(b)) = (s.chunks.first(), s.chunks.last()) {
                min_time = Some(min_time.map_or(a.min_t, |m| m.min(a.min_t)));
                max_time = Some(max_time.map_or(b.max_t, |m| m.max(b.max_t)));
            }
        }
        bytes += inner.by_hash.capacity() * (8 + std::mem::size_of::<Refs>() + 1);
        bytes += inner.postings.heap_bytes();
        bytes += inner.symbols.heap_bytes();
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
            symbols: inner.symbols.len(),
            min_time,
            max_time,
        }
    }

    /// Drops whole chunks whose newest sample is older than `now_ms - retention_ms`, then
    /// series left without chunks (and their postings and unused symbols). Appends older than
    /// that cutoff are rejected as out of bounds afterwards. No-op without a retention.
    pub fn apply_retention(&self, now_ms: i64) -> RetentionReport {
        match self.opts.retention_ms {
            Some(r) => self.truncate_before(now_ms.saturating_sub(r)),
            None => RetentionReport::default(),
        }
    }

    /// Drops whole chunks whose samples are all older than `cutoff` (ms) and series left
    /// empty, as [`Db::apply_retention`] does with an explicit cutoff.
    pub fn truncate_before(&self, cutoff: i64) -> RetentionReport {
        let mut inner = self.write();
        let mut rep = RetentionReport::default();
        let mut empty = Vec::new();
        for (id, slot) in inner.series.iter_mut().enumerate() {
            if let Some(s) = slot.as_deref_mut() {
                let (c, n) = s.truncate_before(cutoff);
                rep.chunks_removed += c;
                rep.samples_removed += n;
                if s.chunks.is_empty() {
                    empty.push(id as u32);
                }
            }
        }
        for id in empty {
            inner.remove_series(id);
            rep.series_removed += 1;
        }
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
            let chunks = s.snapshot(mint, maxt);
            if chunks.is_empty() {
                continue;
            }
            out.push(Series::from_chunks(s.labels.clone(), mint, maxt, chunks));
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
    v: PendingValue,
}

struct PendingSeries {
    labels: Labels,
    last_t: i64,
    last: Last,
    /// Index in `pending` of the newest histogram of this series, for duplicate checks.
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
/// series is invisible to queries and removed by retention).
pub struct Appender<'a> {
    db: &'a Db,
    pending: Vec<Pending>,
    pending_series: HashMap<u32, PendingSeries>,
}

impl Appender<'_> {
    fn resolve(&mut self, labels: &Labels) -> Result<u32, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::EmptyLabels);
        }
        let hash = labels_hash(labels);
        {
            let inner = self.db.read();
            if let Some(id) = inner.lookup(hash, labels) {
                return Ok(id);
            }
        }
        Ok(self.db.write().get_or_create(labels))
    }

    fn add(
        &mut self,
        id: u32,
        t: i64,
        v: Option<f64>,
        h: Option<&FloatHistogram>,
    ) -> Result<SeriesRef, AppendError> {
        let check = match self.pending_series.get(&id) {
            Some(p) => {
                let last_h = match p.last_hist.and_then(|i| self.pending.get(i)) {
                    Some(Pending {
                        v: PendingValue::Histogram(h),
                        ..
                    }) => Some(&**h),
                    _ => None,
                };
                let min_valid = self.db.read().min_valid_t;
                check_against(p.last_t, p.last, last_h, t, v, h, min_valid)
            }
            None => {
                let inner = self.db.read();
                let Some(s) = inner.get(id) else {
                    return Err(AppendError::UnknownSeriesRef(SeriesRef(id as u64)));
                };
                let c = inner.check(s, t, v, h);
                if let Check::Ok = c {
                    let labels = s.labels.clone();
                    drop(inner);
                    self.pending_series.insert(
                        id,
                        PendingSeries {
                            labels,
                            last_t: i64::MIN,
                            last: Last::None,
                            last_hist: None,
                        },
                    );
                }
                c
            }
        };
        match check {
            Check::Err(e) => Err(e),
            Check::NoOp => Ok(SeriesRef(id as u64)),
            Check::Ok => {
                let idx = self.pending.len();
                let (pv, last) = match (v, h) {
                    (Some(v), _) => (PendingValue::Float(v), Last::Float(v.to_bits())),
                    (None, Some(h)) => (
                        PendingValue::Histogram(Box::new(h.clone())),
                        Last::Histogram,
                    ),
                    (None, None) => return Ok(SeriesRef(id as u64)),
                };
                self.pending.push(Pending { id, t, v: pv });
                if let Some(p) = self.pending_series.get_mut(&id) {
                    p.last_t = t;
                    p.last = last;
                    if last == Last::Histogram {
                        p.last_hist = Some(idx);
                    }
                }
                Ok(SeriesRef(id as u64))
            }
        }
    }

    /// Appends a float sample (staleness markers, [`promplay_model::STALE_NAN`], are values
    /// like any other). Returns the series' reference for [`append_ref`](Self::append_ref).
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        let id = self.resolve(labels)?;
        self.add(id, t, Some(v), None)
    }

    /// Appends a float sample to a series by reference (from an earlier append). Fails with
    /// [`AppendError::UnknownSeriesRef`] if the series no longer exists.
    pub fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        let id = u32::try_from(r.0).map_err(|_| AppendError::UnknownSeriesRef(r))?;
        self.add(id, t, Some(v), None)
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
        self.add(id, t, None, Some(h))
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
        let last_t = match self.pending_series.get(&id) {
            Some(p) if p.last != Last::None => Some(p.last_t),
            _ => {
                let inner = self.db.read();
                inner
                    .get(id)
                    .and_then(|s| (s.last != Last::None).then_some(s.last_t))
            }
        };
        if last_t.is_some_and(|l| st <= l) {
            return Err(AppendError::OutOfOrderStartTimestamp);
        }
        self.add(id, st, Some(0.0), None)
    }

    /// Number of samples waiting for commit.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Makes the batch visible. Samples that became out of order or duplicate because another
    /// appender committed in between are dropped and counted in the error; all others are
    /// stored either way.
    pub fn commit(mut self) -> Result<(), CommitError> {
        let pending = std::mem::take(&mut self.pending);
        let series = std::mem::take(&mut self.pending_series);
        if pending.is_empty() {
            return Ok(());
        }
        let per_chunk = self.db.opts.samples_per_chunk;
        let per_hchunk = self.db.opts.histograms_per_chunk;
        let mut inner = self.db.write();
        let mut err = CommitError::default();
        let mut remap: HashMap<u32, u32> = HashMap::new();
        let mut stored = 0u64;
        for p in pending {
            let mut id = remap.get(&p.id).copied().unwrap_or(p.id);
            if inner.get(id).is_none() {
                // removed by retention meanwhile: re-create from the labels
                let Some(ps) = series.get(&p.id) else {
                    continue;
                };
                let labels = ps.labels.clone();
                id = inner.get_or_create(&labels);
                remap.insert(p.id, id);
            }
            let min_valid_t = inner.min_valid_t;
            let Some(s) = inner.get_mut(id) else { continue };
            let (v, h) = match &p.v {
                PendingValue::Float(v) => (Some(*v), None),
                PendingValue::Histogram(h) => (None, Some(&**h)),
            };
            match check_against(s.last_t, s.last, s.last_histogram(), p.t, v, h, min_valid_t) {
                Check::Ok => {
                    match (v, h) {
                        (Some(v), _) => s.append_float(p.t, v, per_chunk),
                        (None, Some(h)) => s.append_histogram(p.t, h, per_hchunk),
                        _ => {}
                    }
                    stored += 1;
                }
                Check::NoOp => {}
                Check::Err(AppendError::OutOfOrderSample) => err.out_of_order += 1,
                Check::Err(AppendError::OutOfBounds) => err.out_of_bounds += 1,
                Check::Err(_) => err.duplicate += 1,
            }
        }
        inner.samples += stored;
        if err == CommitError::default() {
            Ok(())
        } else {
            Err(err)
        }
    }

    /// Discards the batch.
    pub fn rollback(mut self) {
        self.pending.clear();
        self.pending_series.clear();
    }
}

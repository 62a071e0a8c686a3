//! Native histograms, as float histograms (Prometheus's `histogram.FloatHistogram`), and the
//! arithmetic PromQL needs on them (`model/histogram/float_histogram.go`, `generic.go`).
//!
//! The struct mirrors Prometheus's fields. Exponential schemas are -4..=8; schema
//! [`CUSTOM_BUCKETS_SCHEMA`] (-53) means custom bucket bounds in `custom_values` (NHCB).
//!
//! Every operation keeps Prometheus's floating-point order of operations (bucket by bucket,
//! in index order), so results match upstream bit for bit where upstream's own tests check.
//! Nothing here panics on malformed input: spans that claim more buckets than exist are
//! read as far as the buckets go.

use std::collections::BTreeMap;
use std::fmt;

/// Schema number of native histograms with custom buckets.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;
/// Highest exponential schema.
pub const EXPONENTIAL_SCHEMA_MAX: i32 = 8;
/// Lowest exponential schema.
pub const EXPONENTIAL_SCHEMA_MIN: i32 = -4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CounterResetHint {
    #[default]
    Unknown,
    CounterReset,
    NotCounterReset,
    Gauge,
}

/// A run of `length` consecutive buckets, starting `offset` buckets after the previous span's
/// end (or, for the first span, at bucket index `offset`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub offset: i32,
    pub length: u32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FloatHistogram {
    pub counter_reset_hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    /// Absolute bucket counts (not deltas), one per bucket covered by `positive_spans`.
    pub positive_buckets: Vec<f64>,
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the custom buckets (schema -53 only); +Inf is implicit.
    pub custom_values: Vec<f64>,
}

/// Errors of histogram arithmetic (`histogram.Err…` in Prometheus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistogramError {
    /// One operand uses exponential buckets, the other custom buckets.
    IncompatibleSchema,
}

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistogramError::IncompatibleSchema => f.write_str(
                "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas",
            ),
        }
    }
}

impl std::error::Error for HistogramError {}

/// What an addition or subtraction noticed besides its result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddOutcome {
    /// One operand was hinted `CounterReset`, the other `NotCounterReset`
    /// (Prometheus's `counterResetCollision`).
    pub counter_reset_collision: bool,
    /// Custom-bucket histograms with different bounds were reconciled to the bounds they have
    /// in common (`nhcbBoundsReconciled`).
    pub nhcb_bounds_reconciled: bool,
}

/// One bucket as the iterators return it (`histogram.Bucket[float64]`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bucket {
    pub lower: f64,
    pub upper: f64,
    pub lower_inclusive: bool,
    pub upper_inclusive: bool,
    pub count: f64,
    /// Index within the schema; irrelevant for the zero bucket.
    pub index: i32,
}

/// Neumaier's variant of Kahan summation, as Prometheus's `kahansum.Inc`: adds `inc` to
/// `sum`, carrying the lost low-order bits in `c`. Returns the new `(sum, c)`; the final
/// value is `sum + c` (unless `sum` is infinite).
pub fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Go's `math.Ldexp`: `frac × 2^exp`, exact unless the result is subnormal.
fn ldexp(frac: f64, exp: i32) -> f64 {
    let mut x = frac;
    let mut e = exp;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * 2f64.powi(e)
}

/// The upper bound of bucket `idx` of an exponential schema (`getBoundExponential`).
pub fn bound_exponential(idx: i32, schema: i32) -> f64 {
    if schema < 0 {
        // Schemas below -4 are invalid; keep the arithmetic in range for them anyway.
        let shift = (schema as i64).unsigned_abs().min(40) as u32;
        let exp = (idx as i64) << shift;
        if exp == 1024 {
            return f64::MAX;
        }
        if exp > 2000 {
            return f64::INFINITY;
        }
        if exp < -2000 {
            return 0.0;
        }
        return ldexp(1.0, exp as i32);
    }
    let schema = schema.min(EXPONENTIAL_SCHEMA_MAX);
    let frac_idx = idx & ((1 << schema) - 1);
    let frac = EXPONENTIAL_BOUNDS[(frac_idx as usize) << (8 - schema)];
    let exp = (idx >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// The upper bound of bucket `idx` (`getBound`): custom bounds for schema -53 (with -Inf for
/// index -1 and +Inf past the last bound), exponential bounds otherwise.
pub fn bound(idx: i32, schema: i32, custom_values: &[f64]) -> f64 {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        let len = custom_values.len() as i64;
        let i = idx as i64;
        return if i >= len {
            f64::INFINITY
        } else if i < 0 {
            f64::NEG_INFINITY
        } else {
            custom_values[idx as usize]
        };
    }
    bound_exponential(idx, schema)
}

/// The index in `target` schema of bucket `idx` of `origin` schema (`targetIdx`).
fn target_idx(idx: i32, origin: i32, target: i32) -> i32 {
    let shift = (origin as i64 - target as i64).clamp(0, 31) as u32;
    ((idx as i64 - 1) >> shift) as i32 + 1
}

/// Bucket `(index, count)` pairs of one side, in index order.
fn decode(spans: &[Span], buckets: &[f64]) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(buckets.len());
    let mut idx: i32 = 0;
    let mut b = 0usize;
    for (n, s) in spans.iter().enumerate() {
        if n == 0 {
            idx = s.offset;
        } else {
            idx = idx.saturating_add(s.offset);
        }
        for _ in 0..s.length {
            if b >= buckets.len() {
                return out;
            }
            out.push((idx, buckets[b]));
            b += 1;
            idx = idx.saturating_add(1);
        }
    }
    out
}

/// Spans and buckets from `(index, count)` pairs in index order; adjacent indices share a span.
fn encode(pairs: impl IntoIterator<Item = (i32, f64)>) -> (Vec<Span>, Vec<f64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut buckets = Vec::new();
    let mut next: Option<i32> = None;
    for (idx, c) in pairs {
        match next {
            Some(n) if n == idx => {
                if let Some(s) = spans.last_mut() {
                    s.length += 1;
                }
            }
            Some(n) => spans.push(Span {
                offset: idx.saturating_sub(n),
                length: 1,
            }),
            None => spans.push(Span {
                offset: idx,
                length: 1,
            }),
        }
        buckets.push(c);
        next = Some(idx.saturating_add(1));
    }
    (spans, buckets)
}

/// Merges buckets into a lower-resolution schema, summing in index order (`reduceResolution`).
fn reduce_pairs(pairs: &[(i32, f64)], origin: i32, target: i32) -> Vec<(i32, f64)> {
    if origin == target {
        return pairs.to_vec();
    }
    let mut out: Vec<(i32, f64)> = Vec::with_capacity(pairs.len());
    for &(idx, c) in pairs {
        let t = target_idx(idx, origin, target);
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 += c,
            _ => out.push((t, c)),
        }
    }
    out
}

/// Buckets of one side as [`Bucket`]s in ascending index order, merged to `target_schema`,
/// skipping (exponential schemas only) buckets whose absolute upper bound is ≤
/// `absolute_start` (Prometheus's `floatBucketIterator`).
fn side_buckets(
    spans: &[Span],
    buckets: &[f64],
    schema: i32,
    custom_values: &[f64],
    positive: bool,
    absolute_start: f64,
    target_schema: i32,
) -> Vec<Bucket> {
    let pairs = decode(spans, buckets);
    let pairs = if schema != CUSTOM_BUCKETS_SCHEMA && target_schema < schema {
        reduce_pairs(&pairs, schema, target_schema)
    } else {
        pairs
    };
    let sch = if schema == CUSTOM_BUCKETS_SCHEMA {
        schema
    } else {
        target_schema
    };
    let mut out = Vec::with_capacity(pairs.len());
    let mut reached = absolute_start == 0.0;
    for (idx, count) in pairs {
        if !reached && sch != CUSTOM_BUCKETS_SCHEMA && bound_exponential(idx, sch) <= absolute_start
        {
            continue;
        }
        reached = true;
        out.push(make_bucket(idx, count, sch, custom_values, positive));
    }
    out
}

fn make_bucket(idx: i32, count: f64, schema: i32, custom_values: &[f64], positive: bool) -> Bucket {
    let (lower, upper) = if positive {
        (
            bound(idx.saturating_sub(1), schema, custom_values),
            bound(idx, schema, custom_values),
        )
    } else {
        (
            -bound(idx, schema, custom_values),
            -bound(idx.saturating_sub(1), schema, custom_values),
        )
    };
    let (lower_inclusive, upper_inclusive) = if schema == CUSTOM_BUCKETS_SCHEMA {
        (idx == 0, true)
    } else {
        (lower < 0.0, upper > 0.0)
    };
    Bucket {
        lower,
        upper,
        lower_inclusive,
        upper_inclusive,
        count,
        index: idx,
    }
}

/// The intersection of two sorted custom-bound lists (bounds present in both).
fn intersect_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Index of the first bound in `target` that is ≥ the upper bound of bucket `idx` under
/// `bounds`; `target.len()` (the +Inf bucket) if none.
fn map_to_bounds(idx: i32, bounds: &[f64], target: &[f64]) -> i32 {
    if idx < 0 || idx as usize >= bounds.len() {
        return target.len() as i32;
    }
    let b = bounds[idx as usize];
    target.iter().position(|&t| t >= b).unwrap_or(target.len()) as i32
}

fn bits_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn span_indices(spans: &[Span]) -> Vec<i32> {
    let mut out = Vec::new();
    let mut idx = 0i32;
    for (n, s) in spans.iter().enumerate() {
        idx = if n == 0 {
            s.offset
        } else {
            idx.saturating_add(s.offset)
        };
        for _ in 0..s.length {
            out.push(idx);
            idx = idx.saturating_add(1);
        }
    }
    out
}

/// Removes empty buckets (count 0 and, if given, compensation 0) and fills gaps of at most
/// `max_empty` buckets with explicit zeros (`compactBuckets`).
fn compact_side(
    spans: &[Span],
    buckets: &[f64],
    comp: Option<&[f64]>,
    max_empty: usize,
) -> (Vec<Span>, Vec<f64>, Option<Vec<f64>>) {
    let pairs = decode(spans, buckets);
    let comps: Vec<f64> = match comp {
        Some(c) => (0..pairs.len())
            .map(|i| c.get(i).copied().unwrap_or(0.0))
            .collect(),
        None => vec![0.0; pairs.len()],
    };
    let mut kept: Vec<(i32, f64, f64)> = Vec::with_capacity(pairs.len());
    for (i, &(idx, c)) in pairs.iter().enumerate() {
        if c == 0.0 && comps[i] == 0.0 {
            continue;
        }
        kept.push((idx, c, comps[i]));
    }
    let mut spans_out: Vec<Span> = Vec::new();
    let mut b_out = Vec::with_capacity(kept.len());
    let mut c_out = Vec::with_capacity(kept.len());
    let mut next: Option<i32> = None;
    for (idx, c, k) in kept {
        match next {
            Some(n) => {
                let gap = (idx as i64 - n as i64).max(0) as usize;
                if gap <= max_empty {
                    if let Some(s) = spans_out.last_mut() {
                        s.length += gap as u32 + 1;
                    }
                    for _ in 0..gap {
                        b_out.push(0.0);
                        c_out.push(0.0);
                    }
                } else {
                    spans_out.push(Span {
                        offset: idx.saturating_sub(n),
                        length: 1,
                    });
                }
            }
            None => spans_out.push(Span {
                offset: idx,
                length: 1,
            }),
        }
        b_out.push(c);
        c_out.push(k);
        next = Some(idx.saturating_add(1));
    }
    (spans_out, b_out, comp.map(|_| c_out))
}

/// The exponential-schema bucket boundaries in [0.5, 1) for schema 8 (Prometheus's
/// `exponentialBounds[8]`, whose every 2^(8-s)-th entry is the table of schema s).
static EXPONENTIAL_BOUNDS: [f64; 256] = [
    0.5,
    0.5013556375251013,
    0.5027149505564014,
    0.5040779490592088,
    0.5054446430258502,
    0.5068150424757447,
    0.5081891574554764,
    0.509566998038869,
    0.5109485743270583,
    0.5123338964485679,
    0.5137229745593818,
    0.5151158188430205,
    0.5165124395106142,
    0.5179128468009786,
    0.5193170509806894,
    0.520725062344158,
    0.5221368912137069,
    0.5235525479396449,
    0.5249720429003435,
    0.526395386502313,
    0.5278225891802786,
    0.5292536613972564,
    0.5306886136446309,
    0.5321274564422321,
    0.5335702003384117,
    0.5350168559101208,
    0.5364674337629877,
    0.5379219445313954,
    0.5393803988785598,
    0.5408428074966075,
    0.5423091811066545,
    0.5437795304588847,
    0.5452538663326288,
    0.5467321995364429,
    0.5482145409081883,
    0.549700901315111,
    0.5511912916539204,
    0.5526857228508706,
    0.5541842058618393,
    0.5556867516724088,
    0.5571933712979462,
    0.5587040757836845,
    0.5602188762048033,
    0.5617377836665098,
    0.5632608093041209,
    0.564787964283144,
    0.5663192597993595,
    0.5678547070789026,
    0.5693943173783458,
    0.5709381019847808,
    0.572486072215902,
    0.5740382394200894,
    0.5755946149764913,
    0.5771552102951081,
    0.5787200368168754,
    0.5802891060137493,
    0.5818624293887887,
    0.5834400184762408,
    0.585021884841625,
    0.5866080400818185,
    0.5881984958251406,
    0.5897932637314379,
    0.5913923554921704,
    0.5929957828304968,
    0.5946035575013605,
    0.5962156912915756,
    0.5978321960199137,
    0.5994530835371903,
    0.6010783657263515,
    0.6027080545025619,
    0.6043421618132907,
    0.6059806996384005,
    0.6076236799902344,
    0.6092711149137041,
    0.6109230164863786,
    0.6125793968185725,
    0.6142402680534349,
    0.6159056423670379,
    0.6175755319684665,
    0.6192499490999082,
    0.620928906036742,
    0.622612415087629,
    0.6243004885946023,
    0.6259931389331581,
    0.6276903785123455,
    0.6293922197748583,
    0.6310986751971253,
    0.6328097572894031,
    0.6345254785958666,
    0.6362458516947014,
    0.637970889198196,
    0.6397006037528346,
    0.6414350080393891,
    0.6431741147730128,
    0.6449179367033329,
    0.6466664866145447,
    0.6484197773255048,
    0.6501778216898253,
    0.6519406325959679,
    0.6537082229673385,
    0.6554806057623822,
    0.6572577939746774,
    0.659039800633032,
    0.6608266388015788,
    0.6626183215798706,
    0.6644148621029772,
    0.6662162735415805,
    0.6680225691020727,
    0.6698337620266515,
    0.6716498655934177,
    0.6734708931164728,
    0.6752968579460171,
    0.6771277734684463,
    0.6789636531064505,
    0.6808045103191123,
    0.6826503586020058,
    0.6845012114872953,
    0.6863570825438342,
    0.688217985377265,
    0.690083933630119,
    0.6919549409819159,
    0.6938310211492645,
    0.6957121878859629,
    0.6975984549830999,
    0.6994898362691555,
    0.7013863456101023,
    0.7032879969095076,
    0.7051948041086352,
    0.7071067811865475,
    0.7090239421602076,
    0.7109463010845827,
    0.7128738720527471,
    0.7148066691959849,
    0.7167447066838943,
    0.718687998724491,
    0.7206365595643126,
    0.7225904034885232,
    0.7245495448210174,
    0.7265139979245261,
    0.7284837772007218,
    0.7304588970903234,
    0.7324393720732029,
    0.7344252166684908,
    0.7364164454346837,
    0.7384130729697496,
    0.7404151139112358,
    0.7424225829363761,
    0.7444354947621984,
    0.7464538641456323,
    0.7484777058836176,
    0.7505070348132126,
    0.7525418658117031,
    0.7545822137967112,
    0.7566280937263048,
    0.7586795205991071,
    0.7607365094544071,
    0.762799075372269,
    0.7648672334736434,
    0.7669409989204777,
    0.7690203869158282,
    0.7711054127039704,
    0.7731960915705107,
    0.7752924388424999,
    0.7773944698885442,
    0.7795022001189185,
    0.7816156449856788,
    0.7837348199827764,
    0.7858597406461707,
    0.7879904225539431,
    0.7901268813264122,
    0.7922691326262467,
    0.7944171921585818,
    0.7965710756711334,
    0.7987307989543135,
    0.8008963778413465,
    0.8030678282083853,
    0.805245165974627,
    0.8074284071024302,
    0.8096175675974316,
    0.8118126635086642,
    0.8140137109286738,
    0.8162207259936375,
    0.8184337248834821,
    0.820652723822003,
    0.8228777390769823,
    0.8251087869603088,
    0.8273458838280969,
    0.8295890460808079,
    0.8318382901633681,
    0.8340936325652911,
    0.8363550898207981,
    0.8386226785089391,
    0.8408964152537144,
    0.8431763167241966,
    0.8454623996346523,
    0.8477546807446661,
    0.8500531768592616,
    0.8523579048290255,
    0.8546688815502312,
    0.8569861239649629,
    0.8593096490612387,
    0.8616394738731368,
    0.8639756154809185,
    0.8663180910111553,
    0.8686669176368529,
    0.871022112577578,
    0.8733836930995842,
    0.8757516765159389,
    0.8781260801866495,
    0.8805069215187917,
    0.8828942179666361,
    0.8852879870317771,
    0.8876882462632604,
    0.890095013257712,
    0.8925083056594671,
    0.8949281411607002,
    0.8973545375015533,
    0.8997875124702672,
    0.9022270839033115,
    0.9046732696855155,
    0.9071260877501991,
    0.909585556079304,
    0.9120516927035263,
    0.9145245157024483,
    0.9170040432046711,
    0.9194902933879467,
    0.9219832844793128,
    0.9244830347552253,
    0.9269895625416926,
    0.92950288621441,
    0.9320230241988943,
    0.9345499949706191,
    0.9370838170551498,
    0.93962450902828,
    0.9421720895161669,
    0.9447265771954693,
    0.9472879907934827,
    0.9498563490882775,
    0.9524316709088368,
    0.9550139751351947,
    0.9576032806985735,
    0.9601996065815236,
    0.9628029718180622,
    0.9654133954938133,
    0.9680308967461471,
    0.9706554947643201,
    0.9732872087896164,
    0.9759260581154889,
    0.9785720620876999,
    0.9812252401044634,
    0.9838856116165875,
    0.9865531961276168,
    0.9892280131939752,
    0.9919100824251095,
    0.9945994234836328,
    0.9972960560854698,
];

fn to_map(spans: &[Span], buckets: &[f64]) -> BTreeMap<i32, f64> {
    let mut m = BTreeMap::new();
    for (i, c) in decode(spans, buckets) {
        *m.entry(i).or_insert(0.0) += c;
    }
    m
}

impl FloatHistogram {
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// The zero bucket `[-threshold, threshold]` with the zero count.
    pub fn zero_bucket(&self) -> Bucket {
        Bucket {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            lower_inclusive: true,
            upper_inclusive: true,
            count: self.zero_count,
            index: 0,
        }
    }

    /// Positive buckets in ascending order (`PositiveBucketIterator`), empty ones included.
    pub fn positive_bucket_list(&self) -> Vec<Bucket> {
        side_buckets(
            &self.positive_spans,
            &self.positive_buckets,
            self.schema,
            &self.custom_values,
            true,
            0.0,
            self.schema,
        )
    }

    /// Negative buckets from the zero bucket downwards, i.e. ascending absolute value
    /// (`NegativeBucketIterator`). Custom-bucket histograms have none.
    pub fn negative_bucket_list(&self) -> Vec<Bucket> {
        if self.uses_custom_buckets() {
            return Vec::new();
        }
        side_buckets(
            &self.negative_spans,
            &self.negative_buckets,
            self.schema,
            &[],
            false,
            0.0,
            self.schema,
        )
    }

    /// All buckets, lowest first: negative buckets, the zero bucket (only if its count is
    /// positive), positive buckets (`AllBucketIterator`). Bounds of the buckets next to the zero
    /// bucket are clamped to the zero threshold.
    pub fn all_buckets(&self) -> Vec<Bucket> {
        let mut out = Vec::new();
        let mut neg = self.negative_bucket_list();
        neg.reverse();
        for mut b in neg {
            self.clamp_to_zero_bucket(&mut b);
            out.push(b);
        }
        if self.zero_count > 0.0 {
            out.push(self.zero_bucket());
        }
        for mut b in self.positive_bucket_list() {
            self.clamp_to_zero_bucket(&mut b);
            out.push(b);
        }
        out
    }

    /// All buckets, highest first (`AllReverseBucketIterator`).
    pub fn all_reverse_buckets(&self) -> Vec<Bucket> {
        let mut v = self.all_buckets();
        v.reverse();
        v
    }

    fn clamp_to_zero_bucket(&self, b: &mut Bucket) {
        let zt = self.zero_threshold;
        if b.upper < 0.0 && b.upper > -zt {
            b.upper = -zt;
        } else if b.lower > 0.0 && b.lower < zt {
            b.lower = zt;
        }
    }

    /// Scales count, sum, zero count and every bucket by `factor`, in place.
    pub fn mul(&mut self, factor: f64) -> &mut Self {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        self.positive_buckets.iter_mut().for_each(|b| *b *= factor);
        self.negative_buckets.iter_mut().for_each(|b| *b *= factor);
        self
    }

    /// Divides like [`mul`](Self::mul) multiplies. Dividing by zero sets count, sum and zero
    /// count to ±Inf/NaN and removes all buckets, as Prometheus does.
    pub fn div(&mut self, scalar: f64) -> &mut Self {
        self.zero_count /= scalar;
        self.count /= scalar;
        self.sum /= scalar;
        if scalar == 0.0 {
            self.positive_buckets.clear();
            self.negative_buckets.clear();
            self.positive_spans.clear();
            self.negative_spans.clear();
            return self;
        }
        self.positive_buckets.iter_mut().for_each(|b| *b /= scalar);
        self.negative_buckets.iter_mut().for_each(|b| *b /= scalar);
        self
    }

    /// True if count, sum, zero count or any bucket is infinite (`HasOverflow`).
    pub fn has_overflow(&self) -> bool {
        self.count.is_infinite()
            || self.sum.is_infinite()
            || self.zero_count.is_infinite()
            || self.positive_buckets.iter().any(|b| b.is_infinite())
            || self.negative_buckets.iter().any(|b| b.is_infinite())
    }

    /// Sets the counter reset hint of a sum or difference (`adjustCounterReset`); returns true
    /// on a direct collision of `CounterReset` and `NotCounterReset`.
    fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        let (a, b) = (self.counter_reset_hint, other.counter_reset_hint);
        if a == b || a == Gauge {
            return false;
        }
        if b == Gauge {
            self.counter_reset_hint = Gauge;
            return false;
        }
        if a == Unknown {
            return false;
        }
        self.counter_reset_hint = Unknown;
        b != Unknown
    }

    /// Adds `other` to `self` (`FloatHistogram.Add`). Schemas and zero thresholds are
    /// reconciled to the lower resolution and the wider zero bucket; custom-bucket histograms
    /// with different bounds are reconciled to their common bounds. The result may contain
    /// empty buckets: call [`compact`](Self::compact) to normalize.
    ///
    /// Errors with [`HistogramError::IncompatibleSchema`] (leaving `self` unchanged) if one
    /// histogram has custom buckets and the other exponential ones.
    pub fn add(&mut self, other: &FloatHistogram) -> Result<AddOutcome, HistogramError> {
        self.combine(other, false, None)
    }

    /// Subtracts `other` from `self`; otherwise like [`add`](Self::add).
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<AddOutcome, HistogramError> {
        self.combine(other, true, None)
    }

    /// Adds `other` with Kahan (Neumaier) compensation (`KahanAdd`). `c` holds the running
    /// compensation terms (start with `None`); the updated compensation is returned and the
    /// final value is `self + compensation` (via [`add`](Self::add)).
    pub fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        c: Option<FloatHistogram>,
    ) -> Result<(FloatHistogram, AddOutcome), HistogramError> {
        let mut comp = c.unwrap_or_else(|| FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            custom_values: self.custom_values.clone(),
            ..Default::default()
        });
        let out = self.combine(other, false, Some(&mut comp))?;
        Ok((comp, out))
    }

    fn combine(
        &mut self,
        other: &FloatHistogram,
        negative: bool,
        mut comp: Option<&mut FloatHistogram>,
    ) -> Result<AddOutcome, HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::IncompatibleSchema);
        }
        let mut outcome = AddOutcome {
            counter_reset_collision: self.adjust_counter_reset(other),
            nhcb_bounds_reconciled: false,
        };
        let sign = if negative { -1.0 } else { 1.0 };
        let op = |a: &mut f64, c: Option<&mut f64>, b: f64| match c {
            Some(c) => {
                let (s, k) = kahan_sum_inc(sign * b, *a, *c);
                *a = s;
                *c = k;
            }
            None => {
                if negative {
                    *a -= b
                } else {
                    *a += b
                }
            }
        };

        if self.uses_custom_buckets() {
            op(
                &mut self.count,
                comp.as_deref_mut().map(|c| &mut c.count),
                other.count,
            );
            op(
                &mut self.sum,
                comp.as_deref_mut().map(|c| &mut c.sum),
                other.sum,
            );
            let a = decode(&self.positive_spans, &self.positive_buckets);
            let b = decode(&other.positive_spans, &other.positive_buckets);
            if self.custom_values == other.custom_values {
                let mut m: BTreeMap<i32, f64> = a.into_iter().collect();
                let mut cm = comp
                    .as_deref()
                    .map(|c| to_map(&c.positive_spans, &c.positive_buckets))
                    .unwrap_or_default();
                for (i, v) in b {
                    let e = m.entry(i).or_insert(0.0);
                    let ce = cm.entry(i).or_insert(0.0);
                    op(e, comp.is_some().then_some(ce), v);
                }
                let (s, bk) = encode(m);
                self.positive_spans = s;
                self.positive_buckets = bk;
                if let Some(c) = comp {
                    let (s, bk) = encode(cm);
                    c.positive_spans = s;
                    c.positive_buckets = bk;
                }
            } else {
                outcome.nhcb_bounds_reconciled = true;
                let target = intersect_bounds(&self.custom_values, &other.custom_values);
                let mut m: BTreeMap<i32, f64> = BTreeMap::new();
                for (i, v) in a {
                    *m.entry(map_to_bounds(i, &self.custom_values, &target))
                        .or_insert(0.0) += v;
                }
                let mut cm: BTreeMap<i32, f64> = BTreeMap::new();
                if let Some(c) = comp.as_deref() {
                    for (i, v) in decode(&c.positive_spans, &c.positive_buckets) {
                        *cm.entry(map_to_bounds(i, &c.custom_values, &target))
                            .or_insert(0.0) += v;
                    }
                }
                for (i, v) in b {
                    let t = map_to_bounds(i, &other.custom_values, &target);
                    let e = m.entry(t).or_insert(0.0);
                    let ce = cm.entry(t).or_insert(0.0);
                    op(e, comp.is_some().then_some(ce), v);
                }
                let (s, bk) = encode(m);
                self.positive_spans = s;
                self.positive_buckets = bk;
                self.custom_values = target.clone();
                if let Some(c) = comp {
                    let (s, bk) = encode(cm);
                    c.positive_spans = s;
                    c.positive_buckets = bk;
                    c.custom_values = target;
                }
            }
            return Ok(outcome);
        }

        let other_zero = self.reconcile_zero_buckets(other, comp.as_deref_mut());
        op(
            &mut self.zero_count,
            comp.as_deref_mut().map(|c| &mut c.zero_count),
            other_zero,
        );
        op(
            &mut self.count,
            comp.as_deref_mut().map(|c| &mut c.count),
            other.count,
        );
        op(
            &mut self.sum,
            comp.as_deref_mut().map(|c| &mut c.sum),
            other.sum,
        );

        let target = self.schema.min(other.schema);
        let threshold = self.zero_threshold;
        for positive in [true, false] {
            let (hs, hb) = if positive {
                (&self.positive_spans, &self.positive_buckets)
            } else {
                (&self.negative_spans, &self.negative_buckets)
            };
            let (os, ob) = if positive {
                (&other.positive_spans, &other.positive_buckets)
            } else {
                (&other.negative_spans, &other.negative_buckets)
            };
            let hp = reduce_pairs(&decode(hs, hb), self.schema, target);
            let op_pairs = reduce_pairs(&decode(os, ob), other.schema, target);
            let mut m: BTreeMap<i32, f64> = BTreeMap::new();
            for (i, v) in hp {
                *m.entry(i).or_insert(0.0) += v;
            }
            let mut cm: BTreeMap<i32, f64> = BTreeMap::new();
            if let Some(c) = comp.as_deref() {
                let (cs, cb) = if positive {
                    (&c.positive_spans, &c.positive_buckets)
                } else {
                    (&c.negative_spans, &c.negative_buckets)
                };
                for (i, v) in reduce_pairs(&decode(cs, cb), c.schema.max(target), target) {
                    *cm.entry(i).or_insert(0.0) += v;
                }
            }
            let mut below = true;
            for (i, v) in op_pairs {
                if below && bound_exponential(i, target) <= threshold {
                    continue;
                }
                below = false;
                let e = m.entry(i).or_insert(0.0);
                let ce = cm.entry(i).or_insert(0.0);
                op(e, comp.is_some().then_some(ce), v);
            }
            let (s, bk) = encode(m);
            if positive {
                self.positive_spans = s;
                self.positive_buckets = bk;
            } else {
                self.negative_spans = s;
                self.negative_buckets = bk;
            }
            if let Some(c) = comp.as_deref_mut() {
                let (s, bk) = encode(cm);
                if positive {
                    c.positive_spans = s;
                    c.positive_buckets = bk;
                } else {
                    c.negative_spans = s;
                    c.negative_buckets = bk;
                }
            }
        }
        self.schema = target;
        if let Some(c) = comp {
            c.schema = target;
            c.zero_threshold = self.zero_threshold;
        }
        Ok(outcome)
    }

    /// What the zero count would be with the given larger (or equal) zero threshold; if the
    /// threshold falls inside a populated bucket it is raised to that bucket's upper bound.
    /// Returns `(zero_count, threshold)` (`zeroCountForLargerThreshold`).
    fn zero_count_for_larger_threshold(&self, larger: f64) -> (f64, f64) {
        if larger <= self.zero_threshold {
            return (self.zero_count, self.zero_threshold.max(larger));
        }
        let mut larger = larger;
        let pos = self.positive_bucket_list();
        let neg = self.negative_bucket_list();
        'outer: loop {
            let mut count = self.zero_count;
            for b in &pos {
                if b.lower >= larger {
                    break;
                }
                count += b.count;
                if b.upper > larger {
                    if b.count != 0.0 {
                        larger = b.upper;
                    }
                    break;
                }
            }
            for b in &neg {
                if b.upper <= -larger {
                    break;
                }
                count += b.count;
                if b.lower < -larger {
                    if b.count != 0.0 {
                        larger = -b.lower;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (count, larger);
        }
    }

    /// Zeroes the buckets now inside the zero bucket, then compacts (`trimBucketsInZeroBucket`).
    fn trim_buckets_in_zero_bucket(&mut self) {
        let zt = self.zero_threshold;
        for (i, b) in self.positive_bucket_list().iter().enumerate() {
            if b.lower >= zt {
                break;
            }
            self.positive_buckets[i] = 0.0;
        }
        for (i, b) in self.negative_bucket_list().iter().enumerate() {
            if b.upper <= -zt {
                break;
            }
            self.negative_buckets[i] = 0.0;
        }
        self.compact(0);
    }

    /// Widens the zero buckets of `self` (in place) and `other` (virtually) to a common
    /// threshold; returns the zero count `other` would have (`reconcileZeroBuckets`).
    fn reconcile_zero_buckets(
        &mut self,
        other: &FloatHistogram,
        mut comp: Option<&mut FloatHistogram>,
    ) -> f64 {
        let mut other_count = other.zero_count;
        let mut other_threshold = other.zero_threshold;
        let mut guard = 0;
        while other_threshold != self.zero_threshold && guard < 64 {
            guard += 1;
            if self.zero_threshold > other_threshold {
                let (c, t) = other.zero_count_for_larger_threshold(self.zero_threshold);
                other_count = c;
                other_threshold = t;
            }
            if other_threshold > self.zero_threshold {
                let (c, t) = self.zero_count_for_larger_threshold(other_threshold);
                self.zero_count = c;
                self.zero_threshold = t;
                self.trim_buckets_in_zero_bucket();
                if let Some(c) = comp.as_deref_mut() {
                    let mut tmp = c.clone();
                    tmp.schema = self.schema.max(c.schema);
                    let (zc, _) = tmp.zero_count_for_larger_threshold(t);
                    c.zero_count = zc;
                    c.zero_threshold = t;
                    c.trim_buckets_in_zero_bucket();
                }
            }
        }
        other_count
    }

    /// Removes empty buckets and merges spans closer than `max_empty_buckets` (filling the gap
    /// with explicit zeros), in place (`Compact`).
    pub fn compact(&mut self, max_empty_buckets: usize) -> &mut Self {
        let (s, b, _) = compact_side(
            &self.positive_spans,
            &self.positive_buckets,
            None,
            max_empty_buckets,
        );
        self.positive_spans = s;
        self.positive_buckets = b;
        let (s, b, _) = compact_side(
            &self.negative_spans,
            &self.negative_buckets,
            None,
            max_empty_buckets,
        );
        self.negative_spans = s;
        self.negative_buckets = b;
        self
    }

    /// Exact equality of the data (`Equals`): schema, counts and sum compared by bit pattern,
    /// the same bucket layout (spans may differ in empty spans) and the same bucket values.
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        if self.schema != other.schema
            || self.count.to_bits() != other.count.to_bits()
            || self.sum.to_bits() != other.sum.to_bits()
        {
            return false;
        }
        if self.uses_custom_buckets() && !bits_match(&self.custom_values, &other.custom_values) {
            return false;
        }
        if self.zero_threshold != other.zero_threshold
            || self.zero_count.to_bits() != other.zero_count.to_bits()
        {
            return false;
        }
        span_indices(&self.negative_spans) == span_indices(&other.negative_spans)
            && bits_match(&self.negative_buckets, &other.negative_buckets)
            && span_indices(&self.positive_spans) == span_indices(&other.positive_spans)
            && bits_match(&self.positive_buckets, &other.positive_buckets)
    }

    /// True if `self` cannot follow `previous` without a counter reset (`DetectReset`): a
    /// `CounterReset` hint, a lower count, a missing populated bucket or a lower bucket count,
    /// an increased resolution or decreased zero threshold. A `NotCounterReset` hint means no.
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            _ => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() != previous.uses_custom_buckets() {
            return true;
        }
        if self.uses_custom_buckets() {
            if self.custom_values != previous.custom_values {
                return self.detect_reset_mismatched_bounds(previous);
            }
        } else {
            if self.schema > previous.schema {
                return true;
            }
            if self.zero_threshold < previous.zero_threshold {
                return true;
            }
            let (prev_zero, new_threshold) =
                previous.zero_count_for_larger_threshold(self.zero_threshold);
            if new_threshold != self.zero_threshold {
                return true;
            }
            if self.zero_count < prev_zero {
                return true;
            }
        }
        for positive in [true, false] {
            let (cs, cb, ps, pb) = if positive {
                (
                    &self.positive_spans,
                    &self.positive_buckets,
                    &previous.positive_spans,
                    &previous.positive_buckets,
                )
            } else {
                (
                    &self.negative_spans,
                    &self.negative_buckets,
                    &previous.negative_spans,
                    &previous.negative_buckets,
                )
            };
            let curr = side_buckets(
                cs,
                cb,
                self.schema,
                &self.custom_values,
                positive,
                self.zero_threshold,
                self.schema,
            );
            let target = if previous.uses_custom_buckets() {
                previous.schema
            } else {
                self.schema.min(previous.schema)
            };
            let prev = side_buckets(
                ps,
                pb,
                previous.schema,
                &previous.custom_values,
                positive,
                self.zero_threshold,
                target,
            );
            if detect_reset_side(&curr, &prev) {
                return true;
            }
        }
        false
    }

    /// Reset detection between custom-bucket histograms with different bounds: compares the
    /// cumulative counts at the bounds both have.
    fn detect_reset_mismatched_bounds(&self, previous: &FloatHistogram) -> bool {
        let common = intersect_bounds(&self.custom_values, &previous.custom_values);
        let roll = |h: &FloatHistogram| {
            let mut v = vec![0.0; common.len() + 1];
            for (i, c) in decode(&h.positive_spans, &h.positive_buckets) {
                let t = map_to_bounds(i, &h.custom_values, &common) as usize;
                if t < v.len() {
                    v[t] += c;
                }
            }
            v
        };
        let (c, p) = (roll(self), roll(previous));
        c.iter().zip(&p).any(|(a, b)| a < b)
    }

    /// A deep copy at the given lower-or-equal resolution (`CopyToSchema`). Custom-bucket
    /// histograms and higher target schemas are copied unchanged.
    pub fn copy_to_schema(&self, target_schema: i32) -> FloatHistogram {
        let mut c = self.clone();
        if target_schema < self.schema && !self.uses_custom_buckets() {
            c.reduce_resolution(target_schema);
            c.counter_reset_hint = CounterResetHint::Unknown;
        }
        c
    }

    /// Merges buckets into the given lower resolution in place (`ReduceResolution`). Does
    /// nothing for custom buckets or a target schema that is not lower.
    pub fn reduce_resolution(&mut self, target_schema: i32) -> &mut Self {
        if self.uses_custom_buckets()
            || target_schema >= self.schema
            || target_schema == CUSTOM_BUCKETS_SCHEMA
        {
            return self;
        }
        let p = reduce_pairs(
            &decode(&self.positive_spans, &self.positive_buckets),
            self.schema,
            target_schema,
        );
        let n = reduce_pairs(
            &decode(&self.negative_spans, &self.negative_buckets),
            self.schema,
            target_schema,
        );
        (self.positive_spans, self.positive_buckets) = encode(p);
        (self.negative_spans, self.negative_buckets) = encode(n);
        self.schema = target_schema;
        self
    }
}

impl FloatHistogram {
    /// The `</` operator: keeps only the observations below `cut` (`TRIM_UPPER`).
    /// See [`trim`](Self::trim).
    pub fn trim_upper(&self, cut: f64) -> FloatHistogram {
        self.trim(cut, false)
    }

    /// The `>/` operator: keeps only the observations above `cut` (`TRIM_LOWER`).
    /// See [`trim`](Self::trim).
    pub fn trim_lower(&self, cut: f64) -> FloatHistogram {
        self.trim(cut, true)
    }

    /// Removes the observations on one side of `cut`: below it when `keep_above`, above it
    /// otherwise. A bucket the cut falls into keeps the share of its count on the kept side,
    /// interpolated on a logarithmic scale for exponential buckets and linearly for custom
    /// buckets and the zero bucket (which spans only `[0, threshold]` when the histogram has
    /// only positive buckets, `[-threshold, 0]` with only negative ones). The lowest custom
    /// bucket counts from 0 when its bound is positive; an unbounded bucket the cut falls
    /// into is kept whole when the cut is on its unbounded side and dropped otherwise.
    ///
    /// Count and sum are recomputed from the kept buckets, each observation taken at its
    /// bucket's geometric (exponential) or arithmetic (custom, zero bucket) mean, an
    /// unbounded bucket at its finite bound. If nothing is removed, the histogram is returned
    /// unchanged. Schema, zero threshold and custom bounds are kept.
    pub fn trim(&self, cut: f64, keep_above: bool) -> FloatHistogram {
        let custom = self.uses_custom_buckets();
        let neg_empty = self.negative_buckets.is_empty();
        let pos_empty = self.positive_buckets.is_empty();
        let mut changed = false;
        let (mut count, mut sum) = (0.0, 0.0);
        let mut zero_count = 0.0;
        let mut pos: Vec<(i32, f64)> = Vec::new();
        let mut neg: Vec<(i32, f64)> = Vec::new();
        let mut buckets: Vec<(Bucket, u8)> = Vec::new(); // 0 = negative, 1 = zero, 2 = positive
        let mut n = self.negative_bucket_list();
        n.reverse();
        for mut b in n {
            self.clamp_to_zero_bucket(&mut b);
            buckets.push((b, 0));
        }
        if self.zero_count > 0.0 {
            buckets.push((self.zero_bucket(), 1));
        }
        for mut b in self.positive_bucket_list() {
            self.clamp_to_zero_bucket(&mut b);
            buckets.push((b, 2));
        }
        for (b, side) in buckets {
            let zero = side == 1;
            let (mut lo, mut hi) = (b.lower, b.upper);
            if zero {
                if neg_empty && !pos_empty {
                    lo = 0.0;
                } else if pos_empty && !neg_empty {
                    hi = 0.0;
                }
            } else if custom && lo == f64::NEG_INFINITY && hi > 0.0 {
                lo = 0.0;
            }
            let linear = custom || zero;
            // The kept fraction and kept interval.
            let (frac, klo, khi) = if keep_above {
                if cut <= lo {
                    (1.0, lo, hi)
                } else if cut >= hi {
                    (0.0, hi, hi)
                } else if lo == f64::NEG_INFINITY {
                    (0.0, cut, hi)
                } else if hi == f64::INFINITY {
                    (1.0, cut, hi)
                } else if linear {
                    ((hi - cut) / (hi - lo), cut, hi)
                } else {
                    (1.0 - log_fraction(lo, hi, cut), cut, hi)
                }
            } else if cut >= hi {
                (1.0, lo, hi)
            } else if cut <= lo {
                (0.0, lo, lo)
            } else if hi == f64::INFINITY {
                (0.0, lo, cut)
            } else if lo == f64::NEG_INFINITY {
                (1.0, lo, cut)
            } else if linear {
                ((cut - lo) / (hi - lo), lo, cut)
            } else {
                (log_fraction(lo, hi, cut), lo, cut)
            };
            if frac != 1.0 {
                changed = true;
            }
            let kept = b.count * frac;
            if kept != 0.0 {
                let rep = if linear {
                    if klo == f64::NEG_INFINITY {
                        khi
                    } else if khi == f64::INFINITY {
                        klo
                    } else {
                        (klo + khi) / 2.0
                    }
                } else if khi <= 0.0 {
                    -(klo * khi).sqrt()
                } else {
                    (klo * khi).sqrt()
                };
                sum += kept * rep;
                count += kept;
            }
            match side {
                0 => neg.push((b.index, kept)),
                1 => zero_count = kept,
                _ => pos.push((b.index, kept)),
            }
        }
        if !changed {
            return self.clone();
        }
        let mut out = FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count,
            count,
            sum,
            custom_values: self.custom_values.clone(),
            ..Default::default()
        };
        (out.positive_spans, out.positive_buckets) = encode(pos);
        (out.negative_spans, out.negative_buckets) = encode(neg);
        out.compact(0);
        out
    }
}

/// Where `x` lies within the bucket `(lo, hi]` (or `[lo, hi)` for negative buckets), as the
/// share of the bucket below `x` on a logarithmic scale.
fn log_fraction(lo: f64, hi: f64, x: f64) -> f64 {
    let (l, h, v) = (lo.abs().log2(), hi.abs().log2(), x.abs().log2());
    (v - l) / (h - l)
}

/// `detectReset` over two bucket lists of one side, both in the same schema.
fn detect_reset_side(curr: &[Bucket], prev: &[Bucket]) -> bool {
    let mut ci = 0usize;
    for p in prev {
        while ci < curr.len() && curr[ci].index < p.index {
            ci += 1;
        }
        if ci >= curr.len() || curr[ci].index > p.index {
            if p.count != 0.0 {
                return true;
            }
        } else if curr[ci].count < p.count {
            return true;
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::excessive_precision, clippy::approx_constant)]
mod tests {
    use super::*;

    fn exp_hist(schema: i32, offset: i32, buckets: &[f64]) -> FloatHistogram {
        FloatHistogram {
            schema,
            count: buckets.iter().sum(),
            positive_spans: vec![Span {
                offset,
                length: buckets.len() as u32,
            }],
            positive_buckets: buckets.to_vec(),
            ..Default::default()
        }
    }

    fn nhcb(bounds: &[f64], buckets: &[f64], count: f64, sum: f64) -> FloatHistogram {
        FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count,
            sum,
            positive_spans: vec![Span {
                offset: 0,
                length: buckets.len() as u32,
            }],
            positive_buckets: buckets.to_vec(),
            custom_values: bounds.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn exponential_bounds() {
        assert_eq!(bound_exponential(0, 0), 1.0);
        assert_eq!(bound_exponential(1, 0), 2.0);
        assert_eq!(bound_exponential(-1, 0), 0.5);
        // Go's table holds 0.7071067811865475, one ULP below sqrt(2)/2.
        assert_eq!(bound_exponential(1, 1), 2.0 * 0.7071067811865475);
        assert_eq!(bound_exponential(1, -1), 4.0);
        assert_eq!(bound_exponential(4, 2), 2.0);
    }

    // native_histograms.test: irate(nhcb_add_buckets[2m]) * 60 reconciles [1..8] with
    // [2 4 6] to {{custom_values:[2 4 6] buckets:[29 68 105 233] count:435 sum:500}}.
    #[test]
    fn nhcb_sub_reconciles_to_common_bounds() {
        let mut later = nhcb(
            &[1., 2., 3., 4., 5., 6., 7., 8.],
            &[10., 20., 30., 40., 50., 60., 70., 80., 90.],
            450.,
            555.,
        );
        let earlier = nhcb(&[2., 4., 6.], &[1., 2., 5., 7.], 15., 55.);
        let out = later.sub(&earlier).unwrap();
        assert!(out.nhcb_bounds_reconciled);
        assert_eq!(later.custom_values, vec![2., 4., 6.]);
        assert_eq!(later.positive_buckets, vec![29., 68., 105., 233.]);
        assert_eq!((later.count, later.sum), (435., 500.));
    }

    #[test]
    fn add_reduces_to_lower_schema() {
        let mut a = exp_hist(0, 0, &[1., 1.]);
        let b = exp_hist(1, 0, &[1., 2., 3., 4.]);
        a.add(&b).unwrap();
        assert_eq!(a.schema, 0);
        // schema 1 buckets 0,1,2,3 fall into schema 0 buckets 0,1,1,2.
        assert_eq!(
            decode(&a.positive_spans, &a.positive_buckets),
            vec![(0, 2.), (1, 6.), (2, 4.)]
        );
        assert_eq!(a.count, 12.);
    }

    #[test]
    fn mixed_schemas_are_incompatible() {
        let mut a = exp_hist(0, 0, &[1.]);
        let b = nhcb(&[1.], &[1.], 1., 1.);
        assert_eq!(a.add(&b), Err(HistogramError::IncompatibleSchema));
    }

    #[test]
    fn counter_reset_hints_collide() {
        let mut a = exp_hist(0, 0, &[1.]);
        a.counter_reset_hint = CounterResetHint::CounterReset;
        let mut b = exp_hist(0, 0, &[1.]);
        b.counter_reset_hint = CounterResetHint::NotCounterReset;
        assert!(a.add(&b).unwrap().counter_reset_collision);
        assert_eq!(a.counter_reset_hint, CounterResetHint::Unknown);
    }

    #[test]
    fn compact_removes_empty_buckets() {
        let mut h = exp_hist(0, -1, &[0., 1., 0., 0., 2., 0.]);
        h.compact(0);
        assert_eq!(
            h.positive_spans,
            vec![
                Span {
                    offset: 0,
                    length: 1
                },
                Span {
                    offset: 2,
                    length: 1
                }
            ]
        );
        assert_eq!(h.positive_buckets, vec![1., 2.]);
        let mut h = exp_hist(0, -1, &[0., 1., 0., 0., 2., 0.]);
        h.compact(2);
        assert_eq!(
            h.positive_spans,
            vec![Span {
                offset: 0,
                length: 4
            }]
        );
        assert_eq!(h.positive_buckets, vec![1., 0., 0., 2.]);
    }

    #[test]
    fn detect_reset_on_lower_bucket() {
        let prev = exp_hist(0, 0, &[2., 2.]);
        let curr = exp_hist(0, 0, &[3., 1., 5.]);
        assert!(curr.detect_reset(&prev));
        let curr = exp_hist(0, 0, &[2., 3.]);
        assert!(!curr.detect_reset(&prev));
        // A bucket that disappeared while populated is a reset.
        let curr = exp_hist(0, 1, &[9.]);
        assert!(curr.detect_reset(&prev));
    }

    #[test]
    fn copy_to_schema_merges_buckets() {
        let h = exp_hist(1, 0, &[1., 2., 3., 4.]);
        let c = h.copy_to_schema(0);
        assert_eq!(c.schema, 0);
        assert_eq!(c.positive_buckets, vec![1., 5., 4.]);
        assert_eq!(h.schema, 1);
    }

    #[test]
    fn equals_ignores_span_splits() {
        let a = exp_hist(0, 0, &[1., 2.]);
        let mut b = a.clone();
        b.positive_spans = vec![
            Span {
                offset: 0,
                length: 1,
            },
            Span {
                offset: 0,
                length: 1,
            },
        ];
        assert!(a.equals(&b));
        b.positive_buckets[1] = 3.;
        assert!(!a.equals(&b));
    }

    #[test]
    fn zero_threshold_reconciliation() {
        // A wider zero bucket in `other` swallows self's buckets below it.
        let mut a = exp_hist(0, 0, &[1., 1.]); // (0.5,1], (1,2]
        let mut b = exp_hist(0, 1, &[1.]);
        b.zero_threshold = 1.0;
        b.zero_count = 3.;
        b.count = 4.;
        a.add(&b).unwrap();
        assert_eq!(a.zero_threshold, 1.0);
        assert_eq!(a.zero_count, 4.);
        assert_eq!(
            decode(&a.positive_spans, &a.positive_buckets),
            vec![(1, 2.)]
        );
    }

    #[test]
    fn kahan_add_compensates() {
        let mut s = exp_hist(0, 0, &[1e16]);
        s.sum = 1e16;
        let mut one = exp_hist(0, 0, &[1.]);
        one.sum = 1.;
        let mut comp = None;
        for _ in 0..10 {
            let (c, _) = s.kahan_add(&one, comp.take()).unwrap();
            comp = Some(c);
        }
        s.add(&comp.unwrap()).unwrap();
        assert_eq!(s.sum, 1e16 + 10.);
        assert_eq!(s.positive_buckets, vec![1e16 + 10.]);
    }

    #[test]
    fn all_buckets_iterates_negative_zero_positive() {
        let h = FloatHistogram {
            schema: 0,
            zero_threshold: 0.5,
            zero_count: 1.,
            count: 4.,
            positive_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![2.],
            negative_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            negative_buckets: vec![1.],
            ..Default::default()
        };
        let b = h.all_buckets();
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].lower, b[0].upper), (-1.0, -0.5));
        assert_eq!((b[1].lower, b[1].upper), (-0.5, 0.5));
        assert_eq!((b[2].lower, b[2].upper), (0.5, 1.0));
    }
    // native_histograms.test, trim operators on
    // h_test {{schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]}}
    fn h_test() -> FloatHistogram {
        FloatHistogram {
            schema: 0,
            sum: 123.75,
            count: 34.,
            zero_count: 1.,
            zero_threshold: 0.001,
            positive_spans: vec![Span {
                offset: 0,
                length: 4,
            }],
            positive_buckets: vec![2., 4., 8., 16.],
            negative_spans: vec![Span {
                offset: 0,
                length: 2,
            }],
            negative_buckets: vec![1., 2.],
            ..Default::default()
        }
    }

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (a.abs() + b.abs()).max(1e-300)
    }

    #[test]
    fn trim_exponential() {
        let h = h_test();
        assert!(h.trim_lower(f64::NEG_INFINITY).equals(&h));
        let t = h.trim_lower(0.0);
        assert!(near(t.count, 30.5) && near(t.sum, 120.20840280171308));
        assert_eq!(t.zero_count, 0.5);
        assert!(t.negative_buckets.is_empty());
        let t = h.trim_upper(1.4142135624);
        assert!(
            near(t.count, 8.0) && near(t.sum, 0.2570938865989847),
            "{t:?}"
        );
        let t = h.trim_lower(2.0);
        assert!(near(t.count, 24.0) && near(t.sum, 113.13708498984761));
        let t = h.trim_upper(-1.0);
        assert!(near(t.count, 2.0) && near(t.sum, -2.8284271247461903));
        let t = h.trim_lower(f64::INFINITY);
        assert_eq!((t.count, t.sum, t.zero_threshold), (0.0, 0.0, 0.001));
    }

    #[test]
    fn trim_custom_buckets() {
        // cbh {{schema:-53 sum:172.5 count:15 custom_values:[5 10 15 20] buckets:[1 6 4 3 1]}}
        let h = nhcb(&[5., 10., 15., 20.], &[1., 6., 4., 3., 1.], 15., 172.5);
        let t = h.trim_upper(13.0);
        assert!(near(t.count, 9.4) && near(t.sum, 75.1));
        let t = h.trim_lower(13.0);
        assert!(near(t.count, 5.6) && near(t.sum, 94.9));
        let t = h.trim_upper(50.0);
        assert!(near(t.count, 14.0) && near(t.sum, 150.0));
        assert!(h.trim_lower(0.0).equals(&h));
        assert_eq!(h.trim_upper(0.0).count, 0.0);
        for t in [h.trim_lower(f64::INFINITY), h.trim_upper(f64::NEG_INFINITY)] {
            assert_eq!((t.count, t.sum), (0.0, 0.0));
            assert!(t.positive_buckets.is_empty());
        }
        assert!(h.trim_upper(f64::INFINITY).equals(&h));
        // cbh_has_neg: custom_values:[-10 5 10 15 20] buckets:[2 1 6 4 3 1]
        let h = nhcb(
            &[-10., 5., 10., 15., 20.],
            &[2., 1., 6., 4., 3., 1.],
            15.,
            172.5,
        );
        let t = h.trim_upper(2.0);
        assert!(near(t.count, 2.8) && near(t.sum, -23.2));
        let t = h.trim_upper(-15.0);
        assert!(near(t.count, 2.0) && near(t.sum, -30.0));
    }

    #[test]
    fn trim_zero_bucket() {
        // zero_bucket_only {{schema:0 count:5 sum:0 z_bucket:5 z_bucket_w:0.1}}
        let h = FloatHistogram {
            count: 5.,
            zero_count: 5.,
            zero_threshold: 0.1,
            ..Default::default()
        };
        let t = h.trim_lower(0.05);
        assert!(near(t.count, 1.25) && near(t.sum, 0.09375));
        let t = h.trim_upper(-0.05);
        assert!(near(t.count, 1.25) && near(t.sum, -0.09375));
        assert!(h.trim_upper(0.1).equals(&h));
        // h_positive_buckets {{schema:0 sum:8.0210678118654755 count:12 z_bucket:2 z_bucket_w:0.5 buckets:[10]}}
        let h = FloatHistogram {
            sum: 8.0210678118654755,
            count: 12.,
            zero_count: 2.,
            zero_threshold: 0.5,
            positive_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![10.],
            ..Default::default()
        };
        let t = h.trim_lower(0.1);
        assert!(near(t.count, 11.6) && near(t.sum, 7.551067811865476));
        let t = h.trim_upper(0.1);
        assert!(near(t.count, 0.4) && near(t.sum, 0.02));
        assert!(h.trim_lower(0.0).equals(&h));
    }
    /// Random (also malformed) histograms through every operation: nothing may panic.
    #[test]
    fn operations_never_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let gen = |rnd: &mut dyn FnMut(u64) -> u64| {
            let custom = rnd(4) == 0;
            let schema = if custom {
                CUSTOM_BUCKETS_SCHEMA
            } else {
                rnd(13) as i32 - 4
            };
            let spans: Vec<Span> = (0..rnd(4))
                .map(|_| Span {
                    offset: rnd(7) as i32 - 2,
                    length: rnd(4) as u32,
                })
                .collect();
            let nb = rnd(8) as usize;
            let buckets: Vec<f64> = (0..nb).map(|_| rnd(5) as f64).collect();
            FloatHistogram {
                schema,
                zero_threshold: if custom {
                    0.0
                } else {
                    [0.0, 0.001, 0.5, 1.0][rnd(4) as usize]
                },
                zero_count: if custom { 0.0 } else { rnd(3) as f64 },
                count: rnd(20) as f64,
                sum: rnd(100) as f64,
                positive_spans: spans.clone(),
                positive_buckets: buckets.clone(),
                negative_spans: if custom { vec![] } else { spans },
                negative_buckets: if custom { vec![] } else { buckets },
                custom_values: if custom {
                    (1..=rnd(5)).map(|i| i as f64).collect()
                } else {
                    vec![]
                },
                ..Default::default()
            }
        };
        for _ in 0..2000 {
            let a = gen(&mut rnd);
            let b = gen(&mut rnd);
            let mut x = a.clone();
            let _ = x.add(&b);
            let mut x = a.clone();
            let _ = x.sub(&b);
            let mut x = a.clone();
            let _ = x.kahan_add(&b, None);
            let _ = a.detect_reset(&b);
            let _ = a.equals(&b);
            let _ = a.copy_to_schema(-4);
            let _ = a.trim_lower(rnd(5) as f64 - 2.0);
            let _ = a.trim_upper(rnd(5) as f64 - 2.0);
            let _ = a.all_buckets();
            let mut x = a.clone();
            x.compact(rnd(3) as usize);
        }
    }
}

//! Property tests: random sample sequences round-trip bit-exactly through the chunk encodings
//! and through the database (append → commit → select → next/seek), against a plain model.
//! A seeded generator keeps failures reproducible; the failing seed is in the message.

use promplay_model::{Labels, MatchType, Matcher, STALE_NAN};
use promplay_tsdb::chunkenc::{encode_int_chunk, is_int_exact, IntIterator, XorChunk};
use promplay_tsdb::{Db, Options, Queryable, ValType};

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const SPECIALS: [f64; 12] = [
    STALE_NAN,
    f64::NAN,
    -f64::NAN,
    -0.0,
    0.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
    5e-324,
    f64::MAX,
    f64::MIN,
    1.0,
];

/// Timestamps with irregular gaps: regular scrapes with jitter, bursts, huge jumps.
fn timestamps(r: &mut Rng, n: usize) -> Vec<i64> {
    let mut t = (r.next() as i64) >> (r.below(40) + 20); // anywhere, incl. negative
    let mode = r.below(4);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(t);
        let gap = match mode {
            0 => 15_000,
            1 => 15_000 + r.below(200) as i64 - 100,
            2 => 1 + r.below(3) as i64,
            _ => match r.below(6) {
                0 => 1,
                1 => 1 << r.below(45),
                2 => r.below(20_000) as i64 + 1,
                _ => 15_000,
            },
        };
        t = match t.checked_add(gap) {
            Some(x) => x,
            None => break,
        };
    }
    out
}

/// Values of one of several shapes, every shape mixing in special bit patterns.
fn values(r: &mut Rng, n: usize) -> Vec<f64> {
    let mode = r.below(5);
    let mut v = r.below(1000) as f64;
    (0..n)
        .map(|_| {
            if r.below(20) == 0 {
                return SPECIALS[r.below(SPECIALS.len() as u64) as usize];
            }
            match mode {
                0 => f64::from_bits(r.next()), // any bit pattern, NaN payloads included
                1 => {
                    v += r.below(10) as f64; // counter
                    v
                }
                2 => (r.below(2000) as f64 - 1000.0) / 8.0, // gauge
                3 => {
                    if r.below(3) == 0 {
                        v = (r.next() as i64 >> r.below(63)) as f64; // huge integers
                    }
                    v
                }
                _ => v, // constant
            }
        })
        .collect()
}

fn sequence(r: &mut Rng, max: usize) -> Vec<(i64, f64)> {
    let n = 1 + r.below(max as u64) as usize;
    let ts = timestamps(r, n);
    let vs = values(r, ts.len());
    ts.into_iter().zip(vs).collect()
}

#[test]
fn xor_chunks_round_trip_every_bit_pattern() {
    for seed in 0..3000u64 {
        let mut r = Rng(seed);
        let s = sequence(&mut r, 300);
        let mut c = XorChunk::new();
        for &(t, v) in &s {
            c.append(t, v).unwrap();
        }
        let mut it = c.iter();
        for (i, &(t, v)) in s.iter().enumerate() {
            let (gt, gv) = it
                .next()
                .unwrap()
                .unwrap_or_else(|| panic!("seed {seed}: ended at {i}"));
            assert_eq!(
                (gt, gv.to_bits()),
                (t, v.to_bits()),
                "seed {seed} sample {i}"
            );
        }
        assert_eq!(it.next().unwrap(), None, "seed {seed}");
    }
}

#[test]
fn int_chunks_round_trip_integral_values() {
    for seed in 0..3000u64 {
        let mut r = Rng(seed);
        let s: Vec<(i64, f64)> = sequence(&mut r, 300)
            .into_iter()
            .filter(|(_, v)| is_int_exact(*v))
            .collect();
        let mut buf = Vec::new();
        let n = encode_int_chunk(s.iter().copied(), &mut buf).unwrap();
        assert_eq!(n as usize, s.len());
        let mut it = IntIterator::new(&buf).unwrap();
        for (i, &(t, v)) in s.iter().enumerate() {
            let (gt, gv) = it.next().unwrap().unwrap();
            assert_eq!(
                (gt, gv.to_bits()),
                (t, v.to_bits()),
                "seed {seed} sample {i}"
            );
        }
        assert_eq!(it.next().unwrap(), None);
    }
}

/// The model's answer: samples of `s` in `[mint, maxt]`.
fn window(s: &[(i64, f64)], mint: i64, maxt: i64) -> Vec<(i64, u64)> {
    s.iter()
        .filter(|(t, _)| *t >= mint && *t <= maxt)
        .map(|(t, v)| (*t, v.to_bits()))
        .collect()
}

#[test]
fn database_selects_match_a_plain_model() {
    for seed in 0..300u64 {
        let mut r = Rng(seed);
        let per_chunk = [3usize, 17, 120][r.below(3) as usize];
        let db = Db::new(Options {
            samples_per_chunk: per_chunk,
            integer_chunks: r.below(4) != 0,
            ..Default::default()
        });
        let nseries = 1 + r.below(5) as usize;
        let mut model = Vec::new();
        for i in 0..nseries {
            let labels = Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]);
            let s = sequence(&mut r, 500);
            // several batches, as scrapes would
            let mut k = 0;
            while k < s.len() {
                let n = 1 + r.below(50) as usize;
                let mut app = db.appender();
                for &(t, v) in &s[k..(k + n).min(s.len())] {
                    app.append(&labels, t, v).unwrap();
                }
                app.commit().unwrap();
                k += n;
            }
            model.push(s);
        }
        assert_eq!(
            db.stats().samples,
            model.iter().map(|s| s.len() as u64).sum::<u64>()
        );
        let all = [Matcher::new(MatchType::Equal, "__name__", "m").unwrap()];
        for _ in 0..10 {
            // a window around some series' samples
            let s = &model[r.below(nseries as u64) as usize];
            let a = s[r.below(s.len() as u64) as usize].0;
            let b = s[r.below(s.len() as u64) as usize].0;
            let (mint, maxt) = (a.min(b) - r.below(3) as i64, a.max(b) + r.below(3) as i64);
            let set = db
                .querier(mint, maxt)
                .unwrap()
                .select(true, None, &all)
                .unwrap();
            let mut expected: Vec<(String, Vec<(i64, u64)>)> = model
                .iter()
                .enumerate()
                .map(|(i, s)| (i.to_string(), window(s, mint, maxt)))
                .filter(|(_, w)| !w.is_empty())
                .collect();
            expected.sort();
            assert_eq!(set.len(), expected.len(), "seed {seed}");
            for (series, (name, want)) in set.iter().zip(&expected) {
                assert_eq!(series.labels().get("i"), Some(name.as_str()));
                let mut it = series.iter();
                let mut got = vec![];
                while it.next() == ValType::Float {
                    let (t, v) = it.at();
                    got.push((t, v.to_bits()));
                }
                assert!(it.err().is_none());
                assert_eq!(&got, want, "seed {seed} window [{mint}, {maxt}]");
                // seeks land on the first sample at or after the target
                let mut it = series.iter();
                let mut pos = 0usize;
                for _ in 0..5 {
                    let target = want[r.below(want.len() as u64) as usize].0 + r.below(2) as i64;
                    let idx = want.iter().position(|(t, _)| *t >= target);
                    let typ = it.seek(target);
                    match idx {
                        Some(j) => {
                            let j = j.max(pos);
                            assert_eq!(typ, ValType::Float, "seed {seed}");
                            assert_eq!((it.at().0, it.at().1.to_bits()), want[j], "seed {seed}");
                            pos = j;
                        }
                        None => {
                            assert_eq!(typ, ValType::None, "seed {seed}");
                            break;
                        }
                    }
                }
            }
        }
        // retention at a random cutoff keeps every sample in chunks that reach past it
        let s0 = &model[0];
        let cutoff = s0[r.below(s0.len() as u64) as usize].0;
        db.truncate_before(cutoff);
        let set = db
            .querier(i64::MIN, i64::MAX)
            .unwrap()
            .select(true, None, &all)
            .unwrap();
        for series in &set {
            let i: usize = series.labels().get("i").unwrap().parse().unwrap();
            let mut it = series.iter();
            let mut got = vec![];
            while it.next() == ValType::Float {
                got.push((it.at().0, it.at().1.to_bits()));
            }
            let full = window(&model[i], i64::MIN, i64::MAX);
            // a suffix of the series that includes everything at or after the cutoff
            assert!(full.ends_with(&got), "seed {seed}");
            assert!(got.len() >= full.iter().filter(|(t, _)| *t >= cutoff).count());
        }
    }
}

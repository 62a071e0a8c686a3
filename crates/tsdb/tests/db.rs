//! The database through the path its users take: appender → commit → querier → iterator.

use promplay_model::{FloatHistogram, Labels, MatchType, Matcher, Span, STALE_NAN_BITS};
use promplay_tsdb::{AppendError, Db, Options, Queryable, SelectHints, Series, ValType};

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

fn m(kind: MatchType, name: &str, value: &str) -> Matcher {
    Matcher::new(kind, name, value).unwrap()
}

fn floats(s: &Series) -> Vec<(i64, u64)> {
    let mut it = s.iter();
    let mut out = vec![];
    while it.next() == ValType::Float {
        let (t, v) = it.at();
        out.push((t, v.to_bits()));
    }
    assert!(it.err().is_none());
    out
}

fn select(db: &Db, mint: i64, maxt: i64, ms: &[Matcher]) -> Vec<Series> {
    db.querier(mint, maxt)
        .unwrap()
        .select(true, None, ms)
        .unwrap()
        .series
}

#[test]
fn samples_are_visible_only_after_commit() {
    let db = Db::default();
    let a = l(&[("__name__", "x")]);
    let mut app = db.appender();
    app.append(&a, 10, 1.0).unwrap();
    let eq = [m(MatchType::Equal, "__name__", "x")];
    assert!(select(&db, 0, 100, &eq).is_empty());
    app.commit().unwrap();
    let s = select(&db, 0, 100, &eq);
    assert_eq!(s.len(), 1);
    assert_eq!(floats(&s[0]), vec![(10, 1.0f64.to_bits())]);
}

#[test]
fn rollback_discards() {
    let db = Db::default();
    let a = l(&[("__name__", "x")]);
    let mut app = db.appender();
    app.append(&a, 10, 1.0).unwrap();
    app.rollback();
    assert!(select(&db, 0, 100, &[m(MatchType::Equal, "__name__", "x")]).is_empty());
    assert_eq!(db.stats().samples, 0);
    // the empty series left behind is collected, even without a retention
    assert_eq!(db.stats().series, 1);
    assert_eq!(db.apply_retention(0).series_removed, 1);
    assert_eq!(db.stats().series, 0);
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    assert!(q.label_names(&[]).unwrap().is_empty());
}

#[test]
fn out_of_order_and_duplicate_samples_are_rejected() {
    let db = Db::default();
    let a = l(&[("__name__", "x")]);
    let mut app = db.appender();
    app.append(&a, 100, 1.0).unwrap();
    // within the same batch
    assert_eq!(app.append(&a, 50, 1.0), Err(AppendError::OutOfOrderSample));
    app.commit().unwrap();
    let mut app = db.appender();
    // against committed data
    let e = app.append(&a, 99, 1.0).unwrap_err();
    assert_eq!(e.to_string(), "out of order sample");
    let e = app.append(&a, 100, 2.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "duplicate sample for timestamp 100; overrides not allowed: existing 1, new value 2"
    );
    // same timestamp, same value: accepted, no-op
    app.append(&a, 100, 1.0).unwrap();
    // NaN with a different payload is a different value
    app.append(&a, 200, f64::NAN).unwrap();
    assert!(matches!(
        app.append(&a, 200, f64::from_bits(STALE_NAN_BITS)),
        Err(AppendError::DuplicateSampleForTimestamp { .. })
    ));
    app.commit().unwrap();
    assert_eq!(db.stats().samples, 2);
}

#[test]
fn stale_markers_and_negative_zero_are_stored_bit_exact() {
    let db = Db::default();
    let a = l(&[("__name__", "x")]);
    let mut app = db.appender();
    let vals = [
        1.0,
        f64::from_bits(STALE_NAN_BITS),
        -0.0,
        0.0,
        f64::NAN,
        3.5,
    ];
    for (i, v) in vals.iter().enumerate() {
        app.append(&a, i as i64 * 15_000, *v).unwrap();
    }
    app.commit().unwrap();
    let s = select(
        &db,
        i64::MIN,
        i64::MAX,
        &[m(MatchType::Equal, "__name__", "x")],
    );
    let got: Vec<u64> = floats(&s[0]).into_iter().map(|x| x.1).collect();
    let want: Vec<u64> = vals.iter().map(|v| v.to_bits()).collect();
    assert_eq!(got, want);
}

#[test]
fn iteration_is_trimmed_to_the_querier_range_and_seeks_across_chunks() {
    let db = Db::new(Options {
        samples_per_chunk: 10,
        ..Default::default()
    });
    let a = l(&[("__name__", "x")]);
    let mut app = db.appender();
    for i in 0..100 {
        app.append(&a, i * 10, i as f64).unwrap();
    }
    app.commit().unwrap();
    let s = select(&db, 205, 555, &[m(MatchType::Equal, "__name__", "x")]);
    let got = floats(&s[0]);
    assert_eq!(got.first().unwrap().0, 210);
    assert_eq!(got.last().unwrap().0, 550);
    assert_eq!(got.len(), 35);
    let mut it = s[0].iter();
    assert_eq!(it.seek(333), ValType::Float);
    assert_eq!(it.at(), (340, 34.0));
    assert_eq!(it.seek(100), ValType::Float); // no move backwards
    assert_eq!(it.at_t(), 340);
    assert_eq!(it.next(), ValType::Float);
    assert_eq!(it.at_t(), 350);
    assert_eq!(it.seek(551), ValType::None);
    assert_eq!(it.next(), ValType::None);
    // hints narrow further
    let q = db.querier(0, 1000).unwrap();
    let hints = SelectHints {
        start: 500,
        end: 520,
        ..Default::default()
    };
    let set = q
        .select(false, Some(&hints), &[m(MatchType::Equal, "__name__", "x")])
        .unwrap();
    assert_eq!(floats(&set.series[0]).len(), 3);
}

fn index_db() -> Db {
    let db = Db::default();
    let mut app = db.appender();
    for (i, ls) in [
        l(&[("__name__", "up"), ("job", "a"), ("env", "prod")]),
        l(&[("__name__", "up"), ("job", "b")]),
        l(&[("__name__", "up"), ("job", "c"), ("env", "dev")]),
        l(&[("__name__", "down"), ("job", "a")]),
    ]
    .iter()
    .enumerate()
    {
        app.append(ls, 1000, i as f64).unwrap();
    }
    app.commit().unwrap();
    db
}

fn names(db: &Db, ms: &[Matcher]) -> Vec<String> {
    select(db, 0, 2000, ms)
        .iter()
        .map(|s| s.labels().to_string())
        .collect()
}

#[test]
fn matchers_of_all_four_kinds_on_the_index() {
    let db = index_db();
    let up = m(MatchType::Equal, "__name__", "up");
    assert_eq!(
        names(&db, &[up.clone(), m(MatchType::Equal, "env", "prod")]),
        vec![r#"{__name__="up", env="prod", job="a"}"#]
    );
    assert_eq!(
        names(&db, &[up.clone(), m(MatchType::NotEqual, "env", "prod")]),
        vec![
            r#"{__name__="up", env="dev", job="c"}"#,
            r#"{__name__="up", job="b"}"#
        ]
    );
    assert_eq!(names(&db, &[m(MatchType::Regexp, "job", "a|c")]).len(), 3);
    // regex is anchored: "a" does not match "ab"-style partial values
    assert!(names(&db, &[m(MatchType::Regexp, "job", "")]).is_empty());
    assert_eq!(
        names(&db, &[up.clone(), m(MatchType::NotRegexp, "job", "a|b")]),
        vec![r#"{__name__="up", env="dev", job="c"}"#]
    );
    // a matcher matching "" selects series without the label
    assert_eq!(
        names(&db, &[up.clone(), m(MatchType::Equal, "env", "")]),
        vec![r#"{__name__="up", job="b"}"#]
    );
    assert_eq!(
        names(&db, &[up.clone(), m(MatchType::Regexp, "env", "prod|")]),
        vec![
            r#"{__name__="up", env="prod", job="a"}"#,
            r#"{__name__="up", job="b"}"#
        ]
    );
    // `!=""` requires the label
    assert_eq!(names(&db, &[m(MatchType::NotEqual, "env", "")]).len(), 2);
    // only negative matchers: subtract from all series
    assert_eq!(names(&db, &[m(MatchType::NotEqual, "job", "a")]).len(), 2);
    assert!(names(&db, &[]).is_empty());
    let q = db.querier(0, 2000).unwrap();
    assert_eq!(q.label_names(&[]).unwrap(), vec!["__name__", "env", "job"]);
    assert_eq!(
        q.label_names(&[m(MatchType::Equal, "__name__", "down")])
            .unwrap(),
        vec!["__name__", "job"]
    );
    assert_eq!(q.label_values("job", &[]).unwrap(), vec!["a", "b", "c"]);
    assert_eq!(
        q.label_values("job", &[m(MatchType::Equal, "env", "")])
            .unwrap(),
        vec!["a", "b"]
    );
    // nothing in range
    let q = db.querier(5000, 6000).unwrap();
    assert!(q.label_names(&[]).unwrap().is_empty());
    assert!(db.querier(10, 5).is_err());
}

#[test]
fn retention_drops_whole_chunks_and_empty_series() {
    let db = Db::new(Options {
        retention_ms: Some(1000),
        samples_per_chunk: 10,
        ..Default::default()
    });
    let a = l(&[("__name__", "a")]);
    let b = l(&[("__name__", "b"), ("x", "only-b")]);
    let mut app = db.appender();
    for i in 0..100 {
        app.append(&a, i * 100, i as f64).unwrap();
    }
    for i in 0..5 {
        app.append(&b, i * 100, i as f64).unwrap();
    }
    app.commit().unwrap();
    assert_eq!(db.stats().samples, 105);
    let rep = db.apply_retention(9900 + 1000 - 5000); // cutoff 4900
    assert_eq!(rep.series_removed, 1);
    assert_eq!(rep.samples_removed, 40 + 5);
    let st = db.stats();
    assert_eq!(st.series, 1);
    assert_eq!(st.samples, 60);
    assert_eq!(st.min_time, Some(4000));
    let s = select(
        &db,
        i64::MIN,
        i64::MAX,
        &[m(MatchType::Regexp, "__name__", ".+")],
    );
    assert_eq!(s.len(), 1);
    let got = floats(&s[0]);
    assert_eq!(got.len(), 60);
    assert_eq!(got[0], (4000, 40.0f64.to_bits()));
    // the postings forgot b
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    assert_eq!(q.label_names(&[]).unwrap(), vec!["__name__"]);
    assert!(q.label_values("x", &[]).unwrap().is_empty());
    // appends keep working on the truncated series, older than the cutoff are out of bounds
    let mut app = db.appender();
    app.append(&a, 10_000, 1.0).unwrap();
    assert_eq!(app.append(&b, 100, 1.0), Err(AppendError::OutOfBounds));
    app.commit().unwrap();
    let s = select(&db, 9000, 20000, &[m(MatchType::Equal, "__name__", "a")]);
    assert_eq!(floats(&s[0]).len(), 11);
}

fn hist(count: f64) -> FloatHistogram {
    FloatHistogram {
        schema: 0,
        zero_threshold: 1e-128,
        zero_count: 1.0,
        count,
        sum: count * 2.0,
        positive_spans: vec![Span {
            offset: 0,
            length: 2,
        }],
        positive_buckets: vec![count - 2.0, 1.0],
        ..Default::default()
    }
}

#[test]
fn histograms_and_floats_in_one_series() {
    let db = Db::default();
    let a = l(&[("__name__", "h")]);
    let mut app = db.appender();
    app.append_histogram(&a, 10, &hist(5.0)).unwrap();
    app.append_histogram(&a, 20, &hist(6.0)).unwrap();
    app.append_histogram(&a, 20, &hist(6.0)).unwrap(); // identical: no-op
    assert!(matches!(
        app.append_histogram(&a, 20, &hist(7.0)),
        Err(AppendError::DuplicateSampleForTimestamp { .. })
    ));
    let e = app.append(&a, 20, 1.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "duplicate sample for timestamp 20; overrides not allowed: existing is a histogram, new value 1"
    );
    let r = app.append(&a, 30, 1.0).unwrap();
    app.append_histogram_ref(r, 40, &hist(8.0)).unwrap();
    app.commit().unwrap();
    let s = select(&db, 0, 100, &[m(MatchType::Equal, "__name__", "h")]);
    let mut it = s[0].iter();
    assert_eq!(it.next(), ValType::Histogram);
    assert_eq!(it.at_histogram().unwrap(), (10, &hist(5.0)));
    assert_eq!(it.next(), ValType::Histogram);
    assert_eq!(it.at_histogram().unwrap().1.count, 6.0);
    assert_eq!(it.next(), ValType::Float);
    assert_eq!(it.at(), (30, 1.0));
    assert!(it.at_histogram().is_none());
    assert_eq!(it.next(), ValType::Histogram);
    assert_eq!(it.at_t(), 40);
    assert_eq!(it.next(), ValType::None);
    assert_eq!(db.stats().samples, 4);
}

#[test]
fn append_ref_and_start_timestamps() {
    let db = Db::default();
    let a = l(&[("__name__", "c")]);
    let mut app = db.appender();
    let r = app.append(&a, 1000, 5.0).unwrap();
    app.append_ref(r, 2000, 6.0).unwrap();
    assert_eq!(
        app.append_start_timestamp(&a, 3000, 3000),
        Err(AppendError::StartTimestampNotOlder)
    );
    assert_eq!(
        app.append_start_timestamp(&a, 3000, 1500),
        Err(AppendError::OutOfOrderStartTimestamp)
    );
    app.append_start_timestamp(&a, 4000, 2500).unwrap();
    app.append_ref(r, 4000, 1.0).unwrap();
    app.commit().unwrap();
    let s = select(&db, 0, 10_000, &[m(MatchType::Equal, "__name__", "c")]);
    let ts: Vec<(i64, f64)> = floats(&s[0])
        .into_iter()
        .map(|(t, b)| (t, f64::from_bits(b)))
        .collect();
    assert_eq!(ts, vec![(1000, 5.0), (2000, 6.0), (2500, 0.0), (4000, 1.0)]);
    let mut app = db.appender();
    assert!(matches!(
        app.append_ref(promplay_tsdb::SeriesRef(999), 1, 1.0),
        Err(AppendError::UnknownSeriesRef(_))
    ));
    assert_eq!(
        app.append(&Labels::empty(), 1, 1.0),
        Err(AppendError::EmptyLabels)
    );
}

#[test]
fn concurrent_appenders_conflicts_are_reported_at_commit() {
    let db = Db::default();
    let a = l(&[("__name__", "x")]);
    let mut a1 = db.appender();
    let mut a2 = db.appender();
    a1.append(&a, 20, 1.0).unwrap();
    a2.append(&a, 30, 1.0).unwrap();
    a2.commit().unwrap();
    let e = a1.commit().unwrap_err();
    assert_eq!(e.out_of_order, 1);
    assert_eq!(db.stats().samples, 1);
}

#[test]
fn snapshots_survive_appends_and_retention() {
    let db = Db::new(Options {
        samples_per_chunk: 4,
        ..Default::default()
    });
    let a = l(&[("__name__", "x")]);
    let mut app = db.appender();
    for i in 0..10 {
        app.append(&a, i, i as f64).unwrap();
    }
    app.commit().unwrap();
    let set = select(&db, 0, 100, &[m(MatchType::Equal, "__name__", "x")]);
    let mut app = db.appender();
    for i in 10..20 {
        app.append(&a, i, i as f64).unwrap();
    }
    app.commit().unwrap();
    db.truncate_before(15);
    // the earlier snapshot still reads its 10 samples
    assert_eq!(floats(&set[0]).len(), 10);
    let now = select(&db, 0, 100, &[m(MatchType::Equal, "__name__", "x")]);
    assert_eq!(floats(&now[0]).first().unwrap().0, 12);
}

#[test]
fn db_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Db>();
    fn assert_send<T: Send>() {}
    assert_send::<promplay_tsdb::Appender<'static>>();
    assert_send::<promplay_tsdb::SeriesSet>();
    let db = std::sync::Arc::new(Db::default());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let a = l(&[("__name__", "x"), ("w", &w.to_string())]);
                for i in 0..500 {
                    let mut app = db.appender();
                    app.append(&a, i, i as f64).unwrap();
                    app.commit().unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let db = db.clone();
        std::thread::spawn(move || {
            for _ in 0..50 {
                let q = db.querier(0, 1000).unwrap();
                for s in &q
                    .select(false, None, &[m(MatchType::Equal, "__name__", "x")])
                    .unwrap()
                {
                    let got = floats(s);
                    // every snapshot is a gap-free prefix 0, 1, 2, ...
                    assert!(got.iter().enumerate().all(|(i, (t, _))| *t == i as i64));
                }
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    reader.join().unwrap();
    assert_eq!(db.stats().samples, 2000);
}

#[test]
fn integer_chunks_halve_counter_memory_and_read_back_the_same() {
    let run = |int_chunks: bool| {
        let db = Db::new(Options {
            integer_chunks: int_chunks,
            ..Default::default()
        });
        let a = l(&[("__name__", "requests_total")]);
        let mut app = db.appender();
        let mut v = 1000.0;
        for i in 0..1200i64 {
            v += (i % 7 + 1) as f64;
            app.append(&a, i * 15_000, v).unwrap();
        }
        app.commit().unwrap();
        let s = select(
            &db,
            0,
            i64::MAX,
            &[m(MatchType::Equal, "__name__", "requests_total")],
        );
        (floats(&s[0]), db.stats().chunk_bytes_used)
    };
    let (xor_samples, xor_bytes) = run(false);
    let (int_samples, int_bytes) = run(true);
    assert_eq!(xor_samples, int_samples);
    assert_eq!(int_samples.len(), 1200);
    assert!(int_bytes * 10 < xor_bytes * 6, "{int_bytes} vs {xor_bytes}");
}

#[test]
fn retention_keeps_series_an_open_appender_holds() {
    let db = Db::new(Options {
        retention_ms: Some(10),
        ..Default::default()
    });
    let a = l(&[("__name__", "held")]);
    let mut app = db.appender();
    app.append(&a, 1000, 1.0).unwrap();
    // the series has no committed sample yet; retention must not take it away
    assert_eq!(db.apply_retention(1005).series_removed, 0);
    app.commit().unwrap();
    let s = select(&db, 0, 2000, &[m(MatchType::Equal, "__name__", "held")]);
    assert_eq!(floats(&s[0]), vec![(1000, 1.0f64.to_bits())]);
    // a dropped appender releases its hold
    let b = l(&[("__name__", "dropped")]);
    {
        let mut app = db.appender();
        app.append(&b, 2000, 1.0).unwrap();
    }
    assert_eq!(db.apply_retention(1005).series_removed, 1);
}

#[test]
fn extreme_timestamps_round_trip() {
    let db = Db::default();
    let a = l(&[("__name__", "x")]);
    let ts = [i64::MIN + 1, -1, 0, 1, 1 << 40, i64::MAX - 1, i64::MAX];
    let mut app = db.appender();
    for (i, t) in ts.iter().enumerate() {
        app.append(&a, *t, i as f64).unwrap();
    }
    app.commit().unwrap();
    let s = select(
        &db,
        i64::MIN,
        i64::MAX,
        &[m(MatchType::Equal, "__name__", "x")],
    );
    let got: Vec<i64> = floats(&s[0]).into_iter().map(|x| x.0).collect();
    assert_eq!(got, ts);
    let s = select(&db, 0, 1 << 40, &[m(MatchType::Equal, "__name__", "x")]);
    assert_eq!(floats(&s[0]).len(), 3);
}

/// (t, start timestamp) of every sample, floats and histograms.
fn sts(s: &Series) -> Vec<(i64, Option<i64>)> {
    let mut it = s.iter();
    let mut out = vec![];
    while it.next() != ValType::None {
        out.push((it.at_t(), it.at_st()));
    }
    out
}

#[test]
fn per_sample_start_timestamps_are_stored_next_to_samples() {
    let db = Db::new(Options {
        samples_per_chunk: 4,
        ..Default::default()
    });
    let a = l(&[("__name__", "a")]);
    let b = l(&[("__name__", "b")]);
    let mut app = db.appender();
    app.append_with_st(&a, 500, 1000, 1.0).unwrap();
    app.append(&a, 2000, 2.0).unwrap(); // unknown
    let r = app.append_with_st(&a, 0, 3000, 3.0).unwrap(); // 0 = unknown
    app.append_ref_with_st(r, 3000, 4000, 4.0).unwrap();
    app.append_histogram_with_st(&a, -5, 5000, &hist(1.0))
        .unwrap();
    for i in 6..12 {
        app.append_with_st(&a, i * 1000 - 1, i * 1000, i as f64)
            .unwrap();
    }
    app.append(&b, 1000, 1.0).unwrap();
    app.commit().unwrap();
    // An identical re-append is a no-op and does not change the stored start timestamp.
    let mut app = db.appender();
    app.append_with_st(&a, 42, 11000, 11.0).unwrap();
    app.commit().unwrap();

    let all = [m(MatchType::Regexp, "__name__", ".+")];
    let s = select(&db, 0, 20_000, &all);
    assert_eq!(s.len(), 2);
    assert!(s[0].has_start_timestamps());
    assert!(!s[1].has_start_timestamps());
    let mut want = vec![
        (1000, Some(500)),
        (2000, None),
        (3000, None),
        (4000, Some(3000)),
        (5000, Some(-5)),
    ];
    want.extend((6..12).map(|i| (i * 1000, Some(i * 1000 - 1))));
    assert_eq!(sts(&s[0]), want);
    assert_eq!(sts(&s[1]), vec![(1000, None)]);
    // Seeking keeps them aligned; a querier range trims them with the samples.
    let mut it = s[0].iter();
    assert_eq!(it.seek(7500), ValType::Float);
    assert_eq!((it.at_t(), it.at_st()), (8000, Some(7999)));
    assert_eq!(
        sts(&select(&db, 3500, 6000, &all)[0])[0],
        (4000, Some(3000))
    );

    // Retention drops the start timestamps of dropped chunks with them.
    let before = db.stats().bytes;
    db.truncate_before(9000);
    let s = select(&db, i64::MIN, i64::MAX, &all);
    let left = sts(&s[0]);
    assert!(left
        .iter()
        .all(|(t, st)| st.is_some() && st.unwrap() == t - 1));
    assert!(left.first().is_some_and(|x| x.0 <= 9000));
    assert!(db.stats().bytes < before);
}

#[test]
fn hand_built_series_take_start_timestamps() {
    let s = Series::from_floats(l(&[("a", "b")]), vec![(1, 1.0), (2, 2.0), (3, 3.0)])
        .with_start_timestamps(vec![(3, 2), (1, 0), (2, -7), (9, 9)]);
    assert!(s.has_start_timestamps());
    assert_eq!(sts(&s), vec![(1, None), (2, Some(-7)), (3, Some(2))]);
    let none =
        Series::from_floats(l(&[("a", "b")]), vec![(1, 1.0)]).with_start_timestamps(vec![(1, 0)]);
    assert!(!none.has_start_timestamps());
}

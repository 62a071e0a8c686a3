//! The streaming parser hands over the samples the collecting one keeps, and needs no memory
//! per sample: the importer's path for the benchmark dataset.

use promplay_exposition::{parse_openmetrics, parse_openmetrics_with, MetricType, ParseOptions};

/// The bench dataset's layout (../shared/peers/bench/gen_openmetrics.py): time-major, so the
/// series of the one family interleave; valid for Prometheus, not for the strict reference.
fn time_major(series: usize, steps: usize) -> String {
    let mut s =
        String::from("# HELP http_requests Total HTTP requests.\n# TYPE http_requests counter\n");
    for k in 0..steps {
        for i in 0..series {
            s.push_str(&format!(
                "http_requests_total{{instance=\"host-{i:03}:8080\",job=\"job{}\"}} {} {}\n",
                i % 5,
                k * 3 + i,
                1_767_225_600 + k * 15
            ));
        }
    }
    s.push_str("# EOF\n");
    s
}

#[test]
fn streams_the_bench_dataset_shape_leniently() {
    let input = time_major(50, 20);
    let mut n = 0;
    let mut last_ts = 0;
    parse_openmetrics_with(
        input.as_bytes(),
        ParseOptions { strict: false },
        |fam, s| {
            assert_eq!(fam.name, "http_requests");
            assert_eq!(fam.typ, MetricType::Counter);
            assert_eq!(fam.help, Some("Total HTTP requests."));
            assert_eq!(&*s.name, "http_requests_total");
            last_ts = s.timestamp_ms.unwrap();
            n += 1;
        },
    )
    .unwrap();
    assert_eq!(n, 1000);
    assert_eq!(last_ts, (1_767_225_600 + 19 * 15) * 1000);
    // The strict reference rules reject the interleaving, with the line of the first repeat.
    let e = parse_openmetrics(input.as_bytes(), ParseOptions { strict: true }).unwrap_err();
    assert_eq!(e.line, 53);
    assert!(e.msg.starts_with("invalid metric grouping"), "{e}");
}

#[test]
fn streaming_and_collecting_agree() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/exposition/openmetrics/exemplars_with_hash_in_label_values/metrics"
    ))
    .unwrap();
    let fams = parse_openmetrics(&input, ParseOptions::default()).unwrap();
    let mut streamed = Vec::new();
    parse_openmetrics_with(&input, ParseOptions::default(), |_, s| streamed.push(s)).unwrap();
    let collected: Vec<_> = fams.into_iter().flat_map(|f| f.samples).collect();
    assert_eq!(streamed, collected);
    assert_eq!(collected.len(), 3);
    assert_eq!(
        collected[0].exemplar.as_ref().unwrap().labels.get("foo"),
        Some("bar # bar")
    );
}

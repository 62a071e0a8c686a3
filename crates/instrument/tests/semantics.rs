//! prometheus_client's behaviours, through the public API, rendered the way a scrape sees them.

use std::rc::Rc;

use promplay_exposition::{negotiate, Format};
use promplay_instrument::{
    Counter, Enum, Gauge, Histogram, Info, InstrumentError, Opts, Registry, Summary,
};
use promplay_model::ManualClock;

fn setup() -> (Registry, Rc<ManualClock>) {
    let clock = Rc::new(ManualClock::new(1_700_000_000_000));
    (Registry::new(clock.clone()), clock)
}

fn om(registry: &Registry) -> String {
    registry.render(&negotiate(Some(
        "application/openmetrics-text; version=1.0.0",
    )))
}

#[test]
fn counter_rejects_negative_increments() {
    let (r, _) = setup();
    let c = Counter::new(&r, "c_total", "help").unwrap();
    let e = c.inc(-1.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Counters can only be incremented by non-negative amounts."
    );
    c.inc(2.5).unwrap();
    assert_eq!(r.get_sample_value("c_total", &[]), Some(2.5));
    assert_eq!(r.get_sample_value("c_created", &[]), Some(1.7e9));
}

#[test]
fn label_misuse_errors_have_python_wording() {
    let (r, _) = setup();
    let plain = Counter::new(&r, "plain", "help").unwrap();
    assert_eq!(
        plain.labels(&["x"]).err().unwrap().to_string(),
        "No label names were set when constructing counter:plain"
    );
    let c = Counter::with_opts(
        &r,
        Opts::new("req_total", "help").labelnames(&["method", "path"]),
    )
    .unwrap();
    assert_eq!(
        c.labels(&["get"]).err().unwrap(),
        InstrumentError::IncorrectLabelCount
    );
    assert_eq!(
        c.inc(1.0).unwrap_err().to_string(),
        "counter metric is missing label values"
    );
    let child = c.labels(&["get", "/"]).unwrap();
    assert_eq!(
        child.labels(&["a", "b"]).err().unwrap().to_string(),
        "counter:req already has labels set ({'method': 'get', 'path': '/'}); can not chain calls to .labels()"
    );
    assert_eq!(
        c.labels_by_name(&[("method", "get")])
            .err()
            .unwrap()
            .to_string(),
        "Incorrect label names"
    );
    // By name, in any order: the same child.
    child.inc(1.0).unwrap();
    c.labels_by_name(&[("path", "/"), ("method", "get")])
        .unwrap()
        .inc(1.0)
        .unwrap();
    assert_eq!(
        r.get_sample_value("req_total", &[("method", "get"), ("path", "/")]),
        Some(2.0)
    );
    assert_eq!(
        Counter::with_opts(&r, Opts::new("x", "h").labelnames(&["__x"]))
            .err()
            .unwrap()
            .to_string(),
        "Reserved label metric name: __x"
    );
    assert_eq!(
        Histogram::with_opts(&r, Opts::new("hh", "h").labelnames(&["le"]), &[1.0])
            .err()
            .unwrap()
            .to_string(),
        "Reserved label metric name: le"
    );
    c.remove(&["get", "/"]).unwrap();
    assert_eq!(
        r.get_sample_value("req_total", &[("method", "get"), ("path", "/")]),
        None
    );
}

#[test]
fn registry_rejects_duplicate_timeseries() {
    let (r, _) = setup();
    Counter::new(&r, "hello_worlds_total", "help").unwrap();
    let e = Gauge::new(&r, "hello_worlds_total", "help").err().unwrap();
    assert_eq!(
        e.to_string(),
        "Duplicated timeseries in CollectorRegistry: {'hello_worlds_total'}"
    );
    let e = Counter::new(&r, "hello_worlds", "help").err().unwrap();
    assert_eq!(
        e.to_string(),
        "Duplicated timeseries in CollectorRegistry: {'hello_worlds', 'hello_worlds_total', 'hello_worlds_created'}"
    );
    assert_eq!(
        Counter::new(&r, "", "help").err().unwrap().to_string(),
        "Invalid metric name: "
    );
    r.set_legacy_validation(true);
    assert_eq!(
        Gauge::new(&r, "my.gauge", "help")
            .err()
            .unwrap()
            .to_string(),
        "Invalid metric name: my.gauge"
    );
}

#[test]
fn gauge_operations_guards_and_functions() {
    let (r, clock) = setup();
    let g = Gauge::new(&r, "g", "help").unwrap();
    g.inc(5.0).unwrap();
    g.dec(2.0).unwrap();
    assert_eq!(g.get().unwrap(), 3.0);
    {
        let _t = g.track_inprogress().unwrap();
        assert_eq!(g.get().unwrap(), 4.0);
    }
    assert_eq!(g.get().unwrap(), 3.0);
    clock.set(1_700_000_012_345);
    g.set_to_current_time().unwrap();
    assert!(Format::text() == negotiate(None));
    assert!(r
        .render(&Format::text())
        .contains("\ng 1.700000012345e+09\n"));
    {
        let _t = g.time().unwrap();
        clock.advance(1500);
    }
    assert_eq!(g.get().unwrap(), 1.5);
    let f = Gauge::new(&r, "f", "help").unwrap();
    f.set_function(|| 42.0).unwrap();
    f.set(1.0).unwrap();
    assert_eq!(r.get_sample_value("f", &[]), Some(42.0));
}

#[test]
fn count_exceptions_counts_errors_and_panics() {
    let (r, _) = setup();
    let c = Counter::new(&r, "errors_total", "help").unwrap();
    let ok: Result<u8, &str> = c.count_exceptions_in(|| Ok(1)).unwrap();
    assert_eq!(ok, Ok(1));
    let err: Result<u8, &str> = c.count_exceptions_in(|| Err("boom")).unwrap();
    assert_eq!(err, Err("boom"));
    let c2 = c.clone();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _guard = c2.count_exceptions().unwrap();
        panic!("raised");
    }));
    assert!(caught.is_err());
    assert_eq!(c.get().unwrap(), 2.0);
}

#[test]
fn histogram_buckets_count_sum_and_timer() {
    let (r, clock) = setup();
    assert_eq!(
        Histogram::with_opts(&r, Opts::new("bad", "h"), &[2.0, 1.0])
            .err()
            .unwrap()
            .to_string(),
        "Buckets not in sorted order"
    );
    assert_eq!(
        Histogram::with_opts(&r, Opts::new("bad2", "h"), &[f64::INFINITY])
            .err()
            .unwrap()
            .to_string(),
        "Must have at least two buckets"
    );
    let h = Histogram::with_opts(
        &r,
        Opts::new("latency", "Latency.").unit("seconds"),
        &[0.1, 1.0],
    )
    .unwrap();
    h.observe(0.05).unwrap();
    h.observe(0.5).unwrap();
    h.observe(7.0).unwrap();
    {
        let _t = h.time().unwrap();
        clock.advance(250);
    }
    let text = om(&r);
    let want = "# HELP latency_seconds Latency.\n# TYPE latency_seconds histogram\n# UNIT latency_seconds seconds\n\
                latency_seconds_bucket{le=\"0.1\"} 1.0\nlatency_seconds_bucket{le=\"1.0\"} 3.0\n\
                latency_seconds_bucket{le=\"+Inf\"} 4.0\nlatency_seconds_count 4.0\nlatency_seconds_sum 7.8\n\
                latency_seconds_created 1.7e+09\n";
    assert!(text.contains(want), "{text}");
    let d = Histogram::new(&r, "default", "h").unwrap();
    d.observe(0.3).unwrap();
    assert_eq!(
        r.get_sample_value("default_bucket", &[("le", "0.005")]),
        Some(0.0)
    );
    assert_eq!(
        r.get_sample_value("default_bucket", &[("le", "0.5")]),
        Some(1.0)
    );
    assert_eq!(
        r.get_sample_value("default_bucket", &[("le", "10.0")]),
        Some(1.0)
    );
}

#[test]
fn summary_info_and_enum() {
    let (r, _) = setup();
    let s =
        Summary::with_opts(&r, Opts::new("size_bytes", "Sizes.").labelnames(&["kind"])).unwrap();
    s.labels(&["a"]).unwrap().observe(512.0).unwrap();
    let i = Info::new(&r, "build", "Build info.").unwrap();
    i.info(&[("version", "1.2.3"), ("buildhost", "foo@bar")])
        .unwrap();
    let il = Info::with_opts(&r, Opts::new("comp", "h").labelnames(&["name"])).unwrap();
    assert_eq!(
        il.info(&[("name", "x")]).unwrap_err().to_string(),
        "Overlapping labels for Info metric, metric: ('name',) child: {'name': 'x'}"
    );
    let e = Enum::new(
        &r,
        "task_state",
        "State.",
        &["starting", "running", "stopped"],
    )
    .unwrap();
    e.state("running").unwrap();
    assert_eq!(
        e.state("gone").unwrap_err().to_string(),
        "'gone' is not in list"
    );
    assert_eq!(
        Enum::new(&r, "none", "h", &[]).err().unwrap().to_string(),
        "No states provided for Enum metric: none"
    );
    assert_eq!(
        Info::with_opts(&r, Opts::new("i", "h").unit("s"))
            .err()
            .unwrap()
            .to_string(),
        "Metric name is of a type that cannot have a unit: i_s"
    );
    let text = r.render(&Format::text());
    let want_text = "# HELP size_bytes Sizes.\n# TYPE size_bytes summary\nsize_bytes_count{kind=\"a\"} 1.0\n\
                     size_bytes_sum{kind=\"a\"} 512.0\n# HELP size_bytes_created Sizes.\n# TYPE size_bytes_created gauge\n\
                     size_bytes_created{kind=\"a\"} 1.7e+09\n# HELP build_info Build info.\n# TYPE build_info gauge\n\
                     build_info{buildhost=\"foo@bar\",version=\"1.2.3\"} 1.0\n";
    assert!(text.starts_with(want_text), "{text}");
    assert!(text.contains(
        "# HELP task_state State.\n# TYPE task_state gauge\ntask_state{task_state=\"starting\"} 0.0\n\
         task_state{task_state=\"running\"} 1.0\ntask_state{task_state=\"stopped\"} 0.0\n"
    ));
    let text = om(&r);
    assert!(
        text.contains("build_info{version=\"1.2.3\",buildhost=\"foo@bar\"} 1.0\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE task_state stateset\n"));
    // What we write, our own strict parser accepts.
    promplay_exposition::parse_openmetrics(text.as_bytes(), Default::default()).unwrap();
}

#[test]
fn created_series_can_be_disabled() {
    let (r, _) = setup();
    Counter::new(&r, "c", "h").unwrap().inc(1.0).unwrap();
    r.set_created_series(false);
    assert!(!r.render(&Format::text()).contains("_created"));
}

#[test]
fn exemplars_are_written_in_openmetrics() {
    let (r, _) = setup();
    let c = Counter::new(&r, "ex_total", "h").unwrap();
    c.inc_with_exemplar(1.0, &[("trace_id", "abc")]).unwrap();
    let long = "x".repeat(130);
    assert!(matches!(
        c.inc_with_exemplar(1.0, &[("a", long.as_str())]),
        Err(InstrumentError::ExemplarTooLong(131))
    ));
    let text = om(&r);
    assert!(
        text.contains("ex_total 2.0 # {trace_id=\"abc\"} 1.0 1700000000.0\n"),
        "{text}"
    );
}

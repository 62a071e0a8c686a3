//! Decoding real API answers: the examples of Prometheus's docs/querying/api.md, answers of
//! Prometheus 2.42 (../shared/samples) and of the companion's API (companion/src/serve/json.rs).

use super::*;
use crate::shape;
use promplay_model::Bucket;

fn shared(name: &str) -> String {
    let p = format!("{}/../shared/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn instant_vector_from_the_docs_renders_as_the_playground_does() {
    let body = r#"{
   "status" : "success",
   "data" : {
      "resultType" : "vector",
      "result" : [
         { "metric" : { "__name__" : "up", "job" : "prometheus", "instance" : "localhost:9090" },
           "value": [ 1435781451.781, "1" ] },
         { "metric" : { "__name__" : "up", "job" : "node", "instance" : "localhost:9100" },
           "value" : [ 1435781451.781, "0" ] }
      ]
   }
}"#;
    let o = decode_query(200, body).unwrap();
    assert!(o.annotations.warnings.is_empty());
    let t = shape::table(&o.value);
    assert_eq!(t.total, 2);
    assert_eq!(
        t.rows[0].labels,
        r#"up{instance="localhost:9090", job="prometheus"}"#
    );
    assert_eq!(t.rows[0].value, "1");
    assert_eq!(t.rows[1].value, "0");
    let Value::Vector(v) = &o.value else {
        panic!("{:?}", o.value)
    };
    assert_eq!(v[0].t, 1_435_781_451_781);
}

#[test]
fn range_query_from_the_docs_becomes_graph_lines() {
    let body = r#"{
   "status" : "success",
   "data" : {
      "resultType" : "matrix",
      "result" : [
         { "metric" : { "__name__" : "up", "job" : "prometheus", "instance" : "localhost:9090" },
           "values" : [ [ 1435781430.781, "1" ], [ 1435781445.781, "1" ], [ 1435781460.781, "1" ] ] },
         { "metric" : { "__name__" : "up", "job" : "node", "instance" : "localhost:9091" },
           "values" : [ [ 1435781430.781, "0" ], [ 1435781445.781, "0" ], [ 1435781460.781, "1" ] ] }
      ]
   }
}"#;
    let o = decode_query(200, body).unwrap();
    let g = shape::graph(&o.value);
    assert_eq!(g.len(), 2);
    assert_eq!(g[1].label, r#"up{instance="localhost:9091", job="node"}"#);
    assert_eq!(
        g[1].points,
        vec![
            (1_435_781_430_781, 0.0),
            (1_435_781_445_781, 0.0),
            (1_435_781_460_781, 1.0)
        ]
    );
}

#[test]
fn prometheus_242_answer_decodes() {
    let o = decode_query(200, &shared("prom-ALERTS-query.json")).unwrap();
    let t = shape::table(&o.value);
    assert_eq!(
        t.rows[0].labels,
        r#"ALERTS{alertname="InstanceDown", alertstate="firing", instance="localhost:9100", job="node"}"#
    );
    assert_eq!(t.rows[0].value, "1");
}

#[test]
fn scalars_strings_special_values_and_annotations() {
    let o = decode_query(
        200,
        r#"{"status":"success","data":{"resultType":"scalar","result":[1767225600,"+Inf"]},"warnings":["w1"],"infos":["PromQL info: i1"]}"#,
    )
    .unwrap();
    assert_eq!(
        o.value,
        Value::Scalar {
            t: 1_767_225_600_000,
            v: f64::INFINITY
        }
    );
    assert_eq!(o.annotations.warnings, ["w1"]);
    assert_eq!(o.annotations.infos, ["PromQL info: i1"]);
    let o = decode_query(
        200,
        r#"{"status":"success","data":{"resultType":"string","result":[1.5,"hi"]}}"#,
    )
    .unwrap();
    assert_eq!(
        o.value,
        Value::String {
            t: 1500,
            s: "hi".into()
        }
    );
    let o = decode_query(
        200,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"NaN"]},{"metric":{"a":"b"},"value":[0,"1e+21"]},{"metric":{},"value":[0,"-Inf"]}]}}"#,
    )
    .unwrap();
    let t = shape::table(&o.value);
    assert_eq!(t.rows[0].value, "NaN");
    assert_eq!(t.rows[1].value, "1000000000000000000000");
    assert_eq!(t.rows[1].labels, r#"{a="b"}"#);
    assert_eq!(t.rows[2].value, "-Inf");
}

#[test]
fn error_answers_keep_prometheus_words() {
    // What Prometheus (and the companion) answers for `sum(rate(up[5m])`.
    let e = decode_query(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:17: parse error: unclosed left parenthesis"}"#,
    )
    .unwrap_err();
    assert_eq!(
        e,
        ApiError::Prometheus {
            error_type: "bad_data".into(),
            error: "invalid parameter \"query\": 1:17: parse error: unclosed left parenthesis"
                .into()
        }
    );
    assert_eq!(
        QueryError::from(e).message,
        "invalid parameter \"query\": 1:17: parse error: unclosed left parenthesis"
    );
    // Not a Prometheus: an HTML page, a 404 text, an empty body.
    let e = decode_query(200, "<!doctype html><html>hello</html>").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("not a Prometheus API answer (HTTP 200): \"<!doctype html>"),
        "{e}"
    );
    let e = decode_query(404, "404 page not found\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "not a Prometheus API answer (HTTP 404): \"404 page not found\""
    );
    assert!(decode_query(200, "")
        .unwrap_err()
        .to_string()
        .contains("empty body"));
    assert!(decode_query(200, r#"{"a":1}"#).is_err());
    assert!(decode_query(200, r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0]}]}}"#).is_err());
    assert!(decode_query(
        200,
        r#"{"status":"success","data":{"resultType":"bogus","result":[]}}"#
    )
    .is_err());
    let net = ApiError::Network {
        url: "http://127.0.0.1:1/api/v1/query?query=up".into(),
        message: "Failed to fetch".into(),
    };
    assert!(net.to_string().contains("Failed to fetch"));
    assert!(net.to_string().contains("CORS"));
}

fn api_buckets(h: &FloatHistogram) -> Vec<(u64, f64, f64, f64)> {
    h.all_buckets()
        .into_iter()
        .filter(|b: &Bucket| b.count != 0.0)
        .map(|b| {
            let kind = match (b.lower_inclusive, b.upper_inclusive) {
                (true, true) => 3,
                (true, false) => 1,
                (false, true) => 0,
                (false, false) => 2,
            };
            (kind, b.lower, b.upper, b.count)
        })
        .collect()
}

#[test]
fn native_histograms_decode_into_their_schema() {
    // An exponential histogram of schema 3 with a zero bucket, negative buckets and a gap,
    // written as the companion's json::write_histogram writes it.
    let mut h = FloatHistogram {
        schema: 3,
        zero_threshold: 0.001,
        zero_count: 2.0,
        count: 17.0,
        sum: 12.5,
        positive_spans: vec![
            Span {
                offset: 0,
                length: 2,
            },
            Span {
                offset: 3,
                length: 1,
            },
        ],
        positive_buckets: vec![3.0, 4.0, 5.0],
        negative_spans: vec![Span {
            offset: 1,
            length: 1,
        }],
        negative_buckets: vec![3.0],
        ..Default::default()
    };
    let buckets = api_buckets(&h);
    let json = format!(
        r#"{{"count":"17","sum":"12.5","buckets":[{}]}}"#,
        buckets
            .iter()
            .map(|(k, l, u, c)| format!(r#"[{k},"{l}","{u}","{c}"]"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let body = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"h"}},"histogram":[1767225600,{json}]}}]}}}}"#
    );
    let o = decode_query(200, &body).unwrap();
    let Value::Vector(v) = &o.value else { panic!() };
    let got = v[0].h.as_deref().unwrap();
    assert_eq!(got.schema, 3);
    assert_eq!(got.count, 17.0);
    assert_eq!(got.sum, 12.5);
    assert_eq!(api_buckets(got), buckets);
    assert_eq!(
        shape::table(&o.value).rows[0].value,
        "histogram {count: 17, sum: 12.5}"
    );
    // The same through a range query's "histograms".
    let body = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"h"}},"histograms":[[1767225600,{json}],[1767225615,{json}]]}}]}}}}"#
    );
    let o = decode_query(200, &body).unwrap();
    assert_eq!(
        shape::graph(&o.value)[0].points,
        vec![(1_767_225_600_000, 17.0), (1_767_225_615_000, 17.0)]
    );
    h.zero_count = 0.0;
    assert_ne!(api_buckets(&h), buckets);
}

#[test]
fn custom_bucket_histograms_decode_into_custom_bounds() {
    // NHCB: bounds 0.1, 0.5, 2.5; the (0.1, 0.5] bucket is empty and left out.
    let json: Json = serde_json::from_str(
        r#"{"count":"6","sum":"4.2","buckets":[[3,"-Inf","0.1","1"],[0,"0.5","2.5","3"],[0,"2.5","+Inf","2"]]}"#,
    )
    .unwrap();
    let h = decode_histogram(&json).unwrap();
    assert_eq!(h.schema, CUSTOM_BUCKETS_SCHEMA);
    assert_eq!(h.custom_values, [0.1, 0.5, 2.5]);
    assert_eq!(
        api_buckets(&h),
        vec![
            (3, f64::NEG_INFINITY, 0.1, 1.0),
            (0, 0.5, 2.5, 3.0),
            (0, 2.5, f64::INFINITY, 2.0)
        ]
    );
    // Count and sum only.
    let h = decode_histogram(&serde_json::from_str(r#"{"count":"0","sum":"0"}"#).unwrap()).unwrap();
    assert_eq!((h.count, h.sum), (0.0, 0.0));
    assert!(
        decode_histogram(&serde_json::from_str(r#"{"count":"x","sum":"0"}"#).unwrap()).is_none()
    );
}

#[test]
fn targets_from_the_docs_render_as_the_targets_page_does() {
    let body = r#"{
  "status": "success",
  "data": {
    "activeTargets": [
      {
        "discoveredLabels": { "__address__": "127.0.0.1:9090", "__metrics_path__": "/metrics", "__scheme__": "http", "job": "prometheus" },
        "labels": { "instance": "127.0.0.1:9090", "job": "prometheus" },
        "scrapePool": "prometheus",
        "scrapeUrl": "http://127.0.0.1:9090/metrics",
        "globalUrl": "http://example-prometheus:9090/metrics",
        "lastError": "",
        "lastScrape": "2017-01-17T15:07:44.723715405+01:00",
        "lastScrapeDuration": 0.050688943,
        "health": "up",
        "scrapeInterval": "1m",
        "scrapeTimeout": "10s"
      },
      {
        "discoveredLabels": {},
        "labels": { "instance": "localhost:9100", "job": "node" },
        "scrapePool": "node",
        "scrapeUrl": "http://localhost:9100/metrics",
        "lastError": "Get \"http://localhost:9100/metrics\": dial tcp 127.0.0.1:9100: connect: connection refused",
        "lastScrape": "0001-01-01T00:00:00Z",
        "lastScrapeDuration": 0,
        "health": "unknown"
      }
    ],
    "droppedTargets": [ { "discoveredLabels": { "__address__": "127.0.0.1:9100", "job": "node" } } ]
  }
}"#;
    let view = decode_targets(200, body).unwrap();
    assert_eq!(view.active.len(), 2);
    let t = &view.active[0];
    assert_eq!(t.health, TargetHealth::Up);
    assert_eq!(
        t.scrape_interval,
        promplay_server::Duration::parse("1m").unwrap()
    );
    // 2017-01-17T14:07:44.723Z
    assert_eq!(t.last_scrape_ms, Some(1_484_662_064_723));
    let g = crate::targets::groups(&view, 1_484_662_066_723);
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].job, "prometheus");
    assert_eq!(g[0].up, 1);
    let r = &g[0].rows[0];
    assert_eq!(r.state, "up");
    assert_eq!(r.endpoint, "http://127.0.0.1:9090/metrics");
    assert_eq!(r.last_scrape, "2.000s ago");
    assert_eq!(r.duration, "50.689ms");
    assert_eq!(
        r.labels,
        ["instance=\"127.0.0.1:9090\"", "job=\"prometheus\""]
    );
    let r = &g[1].rows[0];
    assert_eq!(r.state, "unknown");
    assert_eq!(r.last_scrape, "never");
    assert!(r.error.contains("connection refused"));
    assert!(decode_targets(200, r#"{"status":"success","data":{}}"#).is_err());
}

#[test]
fn parse_error_positions_become_spans() {
    let msg = "invalid parameter \"query\": 1:17: parse error: unclosed left parenthesis";
    assert_eq!(error_span("sum(rate(up[5m])", msg), Some((16, 16)));
    assert_eq!(
        error_span("up +", "1:5: parse error: unexpected end of input"),
        Some((4, 4))
    );
    assert_eq!(
        error_span(
            "up\n  + foo{",
            "invalid parameter \"query\": 2:8: parse error: x"
        ),
        Some((10, 11))
    );
    assert_eq!(error_span("up", "bad_data: something else"), None);
    assert_eq!(error_span("up", "9:1: parse error: x"), None);
}

#[test]
fn buildinfo_and_rfc3339() {
    let b = decode_buildinfo(
        200,
        r#"{"status":"success","data":{"version":"3.14.0","revision":"promplay-0.1.0","branch":"promplay","buildUser":"promplay","buildDate":"","goVersion":"promplay 0.1.0 (Rust)"}}"#,
    )
    .unwrap();
    assert_eq!(b.version, "3.14.0");
    assert!(decode_buildinfo(200, r#"{"status":"success","data":{}}"#).is_err());
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        parse_rfc3339("2026-01-01T00:00:00.5Z"),
        Some(1_767_225_600_500)
    );
    assert_eq!(
        parse_rfc3339("2026-11-25T13:18:37.796032145Z"),
        Some(1_795_612_717_796)
    );
    assert_eq!(
        parse_rfc3339("2026-01-01T01:00:00-01:00"),
        Some(1_767_232_800_000)
    );
    assert!(parse_rfc3339("0001-01-01T00:00:00Z").unwrap() < 0);
    for bad in [
        "",
        "2026-01-01",
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00+1:00",
    ] {
        assert_eq!(parse_rfc3339(bad), None, "{bad}");
    }
    assert_eq!(format_seconds(1_767_225_600_500), "1767225600.5");
}

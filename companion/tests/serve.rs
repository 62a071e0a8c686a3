//! `promplay serve`, run as a user runs it: the binary on a free 127.0.0.1 port, asked over
//! HTTP. (a) an imported OpenMetrics file through the query API, errors, CORS, reload and the
//! lifecycle API; (b) scraping: misbehaving targets played by this test (hang, garbage, a body
//! over the limit, refused), and — when installed — Debian's `prometheus-node-exporter` and the
//! seed's Python app; (c) — when Debian's `prometheus` is installed — the same targets scraped
//! by both, the series and PromQL answers compared. Tests that need a program that is missing
//! print why on stderr and pass without checking anything.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("promplay-serve-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One HTTP/1.0 request; returns status, headers (lowercase names) and body.
fn http(
    port: u16,
    method: &str,
    target: &str,
    extra_headers: &[(&str, &str)],
    body: &str,
) -> (u16, BTreeMap<String, String>, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {target} HTTP/1.0\r\nHost: 127.0.0.1\r\n");
    for (k, v) in extra_headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn get(port: u16, target: &str) -> (u16, String) {
    let (s, _, b) = http(port, "GET", target, &[], "");
    (s, b)
}

fn get_json(port: u16, target: &str) -> Value {
    let (s, b) = get(port, target);
    assert_eq!(s, 200, "GET {target}: {b}");
    serde_json::from_str(&b).unwrap_or_else(|e| panic!("GET {target}: {e}: {b}"))
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn start_serve(dir: &Path, config: &str, extra: &[&str]) -> (Proc, u16) {
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, config).unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_promplay"));
    cmd.arg("serve")
        .arg("--config.file")
        .arg(&cfg)
        .arg("--web.listen-address")
        .arg(format!("127.0.0.1:{port}"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("serve.log")).unwrap(),
        ));
    let child = cmd.spawn().expect("start promplay serve");
    let p = Proc(child);
    wait_ready(port, "/-/ready", Duration::from_secs(60));
    (p, port)
}

fn wait_ready(port: u16, path: &str, max: Duration) {
    let t0 = Instant::now();
    while t0.elapsed() < max {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes());
            let mut b = String::new();
            let _ = s.read_to_string(&mut b);
            if b.starts_with("HTTP/1.0 200") || b.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("127.0.0.1:{port}{path} not ready after {max:?}");
}

const OM: &str = r#"# HELP x Requests.
# TYPE x counter
x_total{path="/a",code="200"} 10 1767225600
x_total{path="/b",code="500"} 1 1767225600
g{k="big"} 1e21 1767225600
g{k="inf"} +Inf 1767225600
x_total{path="/a",code="200"} 25 1767225615
x_total{path="/b",code="500"} 1 1767225615
g{k="big"} 1.5e-7 1767225615
g{k="inf"} NaN 1767225615
x_total{path="/a",code="200"} 40.5 1767225630
x_total{path="/b",code="500"} 4 1767225630
# EOF
"#;

#[test]
fn serve_imported_file_answers_the_query_api() {
    let dir = tmpdir("import");
    std::fs::write(dir.join("data.om"), OM).unwrap();
    let import = dir.join("data.om");
    let ui = dir.join("ui");
    std::fs::create_dir_all(&ui).unwrap();
    std::fs::write(
        ui.join("index.html"),
        "<!doctype html><title>promplay</title>",
    )
    .unwrap();
    std::fs::write(ui.join("app.wasm"), b"\0asm").unwrap();
    let (_p, port) = start_serve(
        &dir,
        "global:\n  scrape_interval: 15s\n",
        &[
            "--import",
            import.to_str().unwrap(),
            "--storage.tsdb.retention.time",
            "100y",
            "--web.ui-dir",
            ui.to_str().unwrap(),
        ],
    );
    // The playground's files at /.
    let (s, h, b) = http(port, "GET", "/", &[], "");
    assert_eq!(
        (s, b.as_str()),
        (200, "<!doctype html><title>promplay</title>")
    );
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let (s, h, _) = http(port, "GET", "/app.wasm", &[], "");
    assert_eq!((s, h["content-type"].as_str()), (200, "application/wasm"));
    let (s, _) = get(port, "/%2e%2e/prometheus.yml");
    assert_eq!(s, 404);

    // Instant query: values as strings, timestamps as seconds.
    let (s, b) = get(
        port,
        &format!("/api/v1/query?query={}&time=1767225630", enc("x_total")),
    );
    assert_eq!(s, 200);
    assert_eq!(
        b,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"x_total","code":"200","path":"/a"},"value":[1767225630,"40.5"]},{"metric":{"__name__":"x_total","code":"500","path":"/b"},"value":[1767225630,"4"]}]}}"#
    );
    // RFC 3339 time, Go float formatting of big/small/special values.
    let (_, b) = get(
        port,
        &format!(
            "/api/v1/query?query=g&time={}",
            enc("2026-01-01T00:00:00.250Z")
        ),
    );
    assert_eq!(
        b,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"g","k":"big"},"value":[1767225600.250,"1e+21"]},{"metric":{"__name__":"g","k":"inf"},"value":[1767225600.250,"+Inf"]}]}}"#
    );
    // Range query.
    let (_, b) = get(
        port,
        &format!(
            "/api/v1/query_range?query={}&start=1767225600&end=1767225630&step=15s",
            enc("g")
        ),
    );
    assert_eq!(
        b,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"g","k":"big"},"values":[[1767225600,"1e+21"],[1767225615,"1.5e-07"],[1767225630,"1.5e-07"]]},{"metric":{"__name__":"g","k":"inf"},"values":[[1767225600,"+Inf"],[1767225615,"NaN"],[1767225630,"NaN"]]}]}}"#
    );
    // Scalar result.
    let (_, b) = get(
        port,
        &format!("/api/v1/query?query={}&time=100.5", enc("1+1")),
    );
    assert_eq!(
        b,
        r#"{"status":"success","data":{"resultType":"scalar","result":[100.500,"2"]}}"#
    );
    // POST form, stats=all.
    let (s, _, b) = http(
        port,
        "POST",
        "/api/v1/query",
        &[],
        &format!("query={}&time=1767225630&stats=all", enc("sum(x_total)")),
    );
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "44.5");
    assert!(
        v["data"]["stats"]["timings"]["execTotalTime"].is_f64(),
        "{b}"
    );
    assert!(
        v["data"]["stats"]["samples"]["totalQueryableSamples"]
            .as_u64()
            .unwrap()
            >= 2
    );
    // Annotations come back as warnings/infos.
    let v = get_json(
        port,
        &format!("/api/v1/query?query={}&time=1767225630", enc("rate(g[1m])")),
    );
    assert!(
        v["infos"][0]
            .as_str()
            .unwrap_or("")
            .contains("does not end in _total"),
        "{v}"
    );

    // Series, labels, label values.
    let (_, b) = get(
        port,
        &format!(
            "/api/v1/series?{}={}",
            enc("match[]"),
            enc("{code=\"500\"}")
        ),
    );
    assert_eq!(
        b,
        r#"{"status":"success","data":[{"__name__":"x_total","code":"500","path":"/b"}]}"#
    );
    let (_, b) = get(port, "/api/v1/labels");
    assert_eq!(
        b,
        r#"{"status":"success","data":["__name__","code","k","path"]}"#
    );
    let (_, b) = get(port, "/api/v1/label/__name__/values");
    assert_eq!(b, r#"{"status":"success","data":["g","x_total"]}"#);
    let (_, b) = get(
        port,
        &format!(
            "/api/v1/label/path/values?{}=x_total&start=1767225600&end=1767225601",
            enc("match[]")
        ),
    );
    assert_eq!(b, r#"{"status":"success","data":["/a","/b"]}"#);

    // Errors: JSON shape and status codes.
    let (s, b) = get(port, &format!("/api/v1/query?query={}", enc("sum(")));
    assert_eq!(s, 400);
    assert_eq!(
        b,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}"#
    );
    let (s, b) = get(port, "/api/v1/query?query=1&time=yesterday");
    assert_eq!(s, 400);
    assert_eq!(
        b,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp"}"#
    );
    let (s, b) = get(port, "/api/v1/query_range?query=1&start=10&end=5&step=1");
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("end timestamp must not be before start time"));
    let (s, b) = get(
        port,
        "/api/v1/query_range?query=1&start=0&end=100000&step=1",
    );
    assert_eq!(s, 400);
    assert!(
        b.contains("exceeded maximum resolution of 11,000 points"),
        "{b}"
    );
    let (s, b) = get(port, "/api/v1/series");
    assert_eq!(s, 400);
    assert!(b.contains("no match[] parameter provided"));
    let (s, b) = get(
        port,
        &format!(
            "/api/v1/query?query={}&time=1767225630",
            enc("x_total + on() x_total")
        ),
    );
    assert_eq!(s, 422, "{b}");
    assert!(b.contains("\"errorType\":\"execution\""), "{b}");

    // A deadline from the timeout parameter: 503, errorType timeout.
    let (s, b) = get(
        port,
        &format!(
            "/api/v1/query?query={}&time=1767225630&timeout=0.005",
            enc("sum(count_over_time(x_total[30d:1s]))")
        ),
    );
    assert_eq!(s, 503, "{b}");
    assert_eq!(
        b,
        r#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#
    );

    // format_query, buildinfo, flags, health, CORS.
    let (_, b) = get(
        port,
        &format!(
            "/api/v1/format_query?query={}",
            enc("sum(rate(x[5m]))by(job)")
        ),
    );
    assert_eq!(
        b,
        r#"{"status":"success","data":"sum by (job) (rate(x[5m]))"}"#
    );
    // parse_query: the tree as Prometheus's translateAST gives it (Go maps: sorted keys).
    let (_, b) = get(
        port,
        &format!(
            "/api/v1/parse_query?query={}",
            enc("sum by (job) (rate(x{a=\"<b>\"}[5m] offset 1m))")
        ),
    );
    assert_eq!(
        b,
        r#"{"status":"success","data":{"expr":{"args":[{"anchored":false,"matchers":[{"name":"a","type":"=","value":"\u003cb\u003e"},{"name":"__name__","type":"=","value":"x"}],"name":"x","offset":60000,"range":300000,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"matrixSelector"}],"func":{"argTypes":["matrix"],"name":"rate","returnType":"vector","variadic":0},"type":"call"},"grouping":["job"],"op":"sum","param":null,"type":"aggregation","without":false}}"#
    );
    let v = get_json(port, "/api/v1/status/tsdb?limit=1");
    assert_eq!(v["data"]["headStats"]["numSeries"], 4);
    assert_eq!(
        v["data"]["seriesCountByMetricName"],
        serde_json::json!([{"name": "g", "value": 2}])
    );
    assert_eq!(
        v["data"]["labelValueCountByLabelName"],
        serde_json::json!([{"name": "__name__", "value": 2}])
    );
    let v = get_json(port, "/api/v1/status/buildinfo");
    assert_eq!(v["data"]["version"], "3.14.0");
    let v = get_json(port, "/api/v1/status/flags");
    assert_eq!(v["data"]["storage.tsdb.retention.time"], "100y");
    let (s, b) = get(port, "/-/healthy");
    assert_eq!((s, b.as_str()), (200, "Prometheus Server is Healthy.\n"));
    let (_, h, _) = http(
        port,
        "GET",
        "/api/v1/labels",
        &[("Origin", "http://grafana.local")],
        "",
    );
    assert_eq!(
        h.get("access-control-allow-origin").map(String::as_str),
        Some("*")
    );
    let (_, b) = get(port, "/metrics");
    assert!(b.contains("prometheus_tsdb_head_series 4\n"), "{b}");

    // promtool (Prometheus's client_golang API client) reads the same answers.
    if Path::new("/usr/bin/promtool").exists() {
        let url = format!("http://127.0.0.1:{port}");
        let out = Command::new("/usr/bin/promtool")
            .args(["query", "instant", &url, "x_total", "--time=1767225630"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "x_total{code=\"200\", path=\"/a\"} => 40.5 @[1767225630]\nx_total{code=\"500\", path=\"/b\"} => 4 @[1767225630]\n"
        );
        let out = Command::new("/usr/bin/promtool")
            .args(["query", "series", &url, "--match=g"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "{__name__=\"g\", k=\"big\"}\n{__name__=\"g\", k=\"inf\"}\n"
        );
    } else {
        eprintln!("SKIP (part) promtool checks: /usr/bin/promtool is not installed");
    }
}

#[test]
fn serve_reload_refuses_a_bad_config_and_keeps_the_old_one() {
    let dir = tmpdir("reload");
    let (p, port) = start_serve(
        &dir,
        "global:\n  scrape_interval: 15s\n",
        &["--web.enable-lifecycle"],
    );
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 7s\n  bogus: 1\n").unwrap();
    let (s, _, b) = http(port, "POST", "/-/reload", &[], "");
    assert_eq!(s, 500);
    assert!(b.contains("field bogus not found"), "{b}");
    let v = get_json(port, "/api/v1/status/config");
    assert!(v["data"]["yaml"]
        .as_str()
        .unwrap()
        .contains("scrape_interval: 15s"));
    // A valid config naming a bad rule file is refused as a whole.
    std::fs::write(
        dir.join("bad.rules.yml"),
        "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n",
    )
    .unwrap();
    std::fs::write(
        &cfg,
        "global:\n  scrape_interval: 9s\nrule_files: [bad.rules.yml]\n",
    )
    .unwrap();
    let (s, _, b) = http(port, "POST", "/-/reload", &[], "");
    assert_eq!(s, 500, "{b}");
    assert!(b.contains("bad.rules.yml"), "{b}");
    let v = get_json(port, "/api/v1/status/config");
    assert!(!v["data"]["yaml"].as_str().unwrap().contains("9s"));
    std::fs::write(
        &cfg,
        "global:\n  scrape_interval: 7s\nscrape_configs:\n  - job_name: j\n    basic_auth: {username: u, password: hunter2}\n    static_configs: [{targets: ['127.0.0.1:1']}]\n",
    )
    .unwrap();
    // SIGHUP reloads too.
    let pid = p.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = Instant::now();
    loop {
        let v = get_json(port, "/api/v1/status/config");
        let yaml = v["data"]["yaml"].as_str().unwrap().to_string();
        if yaml.contains("scrape_interval: 7s") {
            assert!(yaml.contains("password: <secret>"), "{yaml}");
            assert!(!yaml.contains("hunter2"));
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Graceful shutdown on SIGTERM.
    let mut p = p;
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = Instant::now();
    loop {
        if let Some(st) = p.0.try_wait().unwrap() {
            assert!(st.success(), "exit status {st}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// As in Prometheus, `/-/reload` and `/-/quit` answer only with `--web.enable-lifecycle`:
/// without it a POST or PUT gets 403 `Lifecycle API is not enabled.` and changes nothing, a GET
/// 405; SIGHUP still reloads. With it, `/-/quit` says goodbye and the process exits 0 after
/// answering.
#[test]
fn serve_lifecycle_api_needs_the_flag() {
    let dir = tmpdir("lifecycle");
    let (p, port) = start_serve(&dir, "global:\n  scrape_interval: 15s\n", &[]);
    let v = get_json(port, "/api/v1/status/flags");
    assert_eq!(v["data"]["web.enable-lifecycle"], "false");
    std::fs::write(
        dir.join("prometheus.yml"),
        "global:\n  scrape_interval: 7s\n",
    )
    .unwrap();
    for (method, path) in [
        ("POST", "/-/reload"),
        ("PUT", "/-/reload"),
        ("POST", "/-/quit"),
        ("PUT", "/-/quit"),
    ] {
        let (s, h, b) = http(port, method, path, &[], "");
        assert_eq!(s, 403, "{method} {path}: {b}");
        assert_eq!(b, "Lifecycle API is not enabled.", "{method} {path}");
        assert_eq!(
            h.get("content-type").map(String::as_str),
            Some("text/plain; charset=utf-8")
        );
    }
    for path in ["/-/reload", "/-/quit"] {
        let (s, _, b) = http(port, "GET", path, &[], "");
        assert_eq!((s, b.as_str()), (405, "Only POST or PUT requests allowed"));
    }
    // Nothing was reloaded, and the process is still serving.
    let v = get_json(port, "/api/v1/status/config");
    assert!(v["data"]["yaml"]
        .as_str()
        .unwrap()
        .contains("scrape_interval: 15s"));
    assert_eq!(get(port, "/-/ready").0, 200);
    // SIGHUP reloads without the flag.
    let pid = p.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = Instant::now();
    while !get_json(port, "/api/v1/status/config")["data"]["yaml"]
        .as_str()
        .unwrap()
        .contains("scrape_interval: 7s")
    {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(p);

    // With the flag: /-/quit answers, then the process shuts down gracefully.
    let (mut p, port) = start_serve(
        &dir,
        "global:\n  scrape_interval: 15s\n",
        &["--web.enable-lifecycle"],
    );
    let v = get_json(port, "/api/v1/status/flags");
    assert_eq!(v["data"]["web.enable-lifecycle"], "true");
    let (s, _, b) = http(port, "POST", "/-/quit", &[], "");
    assert_eq!((s, b.as_str()), (200, "Requesting termination... Goodbye!"));
    let t0 = Instant::now();
    loop {
        if let Some(st) = p.0.try_wait().unwrap() {
            assert!(st.success(), "exit status {st}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "no exit after /-/quit"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening after /-/quit"
    );
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    assert!(log.contains("termination request"), "{log}");
}

/// `--web.cors.origin` is a fully anchored regex: a matching origin is echoed in
/// `Access-Control-Allow-Origin`, another gets none; every answer varies on `Origin`; a regex
/// that does not compile stops the start, as Prometheus does.
#[test]
fn serve_cors_origin_flag_decides_who_may_read() {
    let dir = tmpdir("cors");
    let (_p, port) = start_serve(
        &dir,
        "global:\n  scrape_interval: 10s\n",
        &["--web.cors.origin", r"https?://(grafana|play)\.local"],
    );
    let allow = |origin: Option<&str>, method: &str| {
        let hs: Vec<(&str, &str)> = origin.map(|o| ("Origin", o)).into_iter().collect();
        let (s, h, _) = http(port, method, "/api/v1/labels", &hs, "");
        assert_eq!(s, 200, "{method} with Origin {origin:?}");
        assert_eq!(h.get("vary").map(String::as_str), Some("Origin"), "{h:?}");
        if origin.is_some() {
            assert_eq!(
                h.get("access-control-allow-methods").map(String::as_str),
                Some("GET, POST, OPTIONS")
            );
        }
        h.get("access-control-allow-origin").cloned()
    };
    assert_eq!(
        allow(Some("http://grafana.local"), "GET").as_deref(),
        Some("http://grafana.local")
    );
    assert_eq!(
        allow(Some("https://play.local"), "OPTIONS").as_deref(),
        Some("https://play.local")
    );
    assert_eq!(allow(Some("http://evil.example"), "GET"), None);
    assert_eq!(
        allow(Some("http://grafana.local.evil.example"), "GET"),
        None,
        "anchored"
    );
    assert_eq!(
        allow(Some("http://x.grafana.local"), "GET"),
        None,
        "anchored"
    );
    assert_eq!(allow(None, "GET"), None);
    let v = get_json(port, "/api/v1/status/flags");
    assert_eq!(
        v["data"]["web.cors.origin"],
        r"https?://(grafana|play)\.local"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_promplay"))
        .args(["serve", "--config.file"])
        .arg(dir.join("prometheus.yml"))
        .args([
            "--web.listen-address",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .args(["--web.cors.origin", "(unclosed"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not compile CORS regex string \"(unclosed\""),
        "{err}"
    );
}

/// No endpoint makes the companion fetch a URL its caller names: a page in a browser can
/// query, read and reload, but every request below that carries a URL (a proxy, federation,
/// remote read/write, a config POSTed or PUT, alerts pushed) is refused, and the canary
/// listener whose address they carry is never connected to. Targets come only from the
/// configuration file.
#[test]
fn serve_fetches_no_url_a_caller_names() {
    let dir = tmpdir("noproxy");
    let canary = TcpListener::bind("127.0.0.1:0").unwrap();
    let cport = canary.local_addr().unwrap().port();
    canary.set_nonblocking(true).unwrap();
    let (_p, port) = start_serve(
        &dir,
        "global:\n  scrape_interval: 1s\n",
        &["--web.enable-lifecycle"],
    );
    let url = format!("http://127.0.0.1:{cport}/metrics");
    let u = enc(&url);
    let config = format!(
        "scrape_configs:\n- job_name: canary\n  static_configs: [{{targets: ['127.0.0.1:{cport}']}}]\n"
    );
    let form = format!("config={}", enc(&config));
    let requests: Vec<(&str, String, String)> = vec![
        ("GET", format!("/api/proxy?url={u}"), String::new()),
        ("POST", format!("/api/proxy?url={u}"), String::new()),
        ("GET", format!("/proxy?url={u}"), String::new()),
        ("GET", format!("/api/v1/proxy?url={u}"), String::new()),
        (
            "GET",
            format!("/federate?{}={}", enc("match[]"), enc("up")),
            String::new(),
        ),
        ("POST", "/api/v1/status/config".into(), form.clone()),
        ("PUT", "/api/v1/status/config".into(), form.clone()),
        ("POST", "/api/v1/targets".into(), format!("url={u}")),
        ("POST", "/api/v1/read".into(), format!("url={u}")),
        ("POST", "/api/v1/write".into(), format!("url={u}")),
        ("POST", "/api/v1/otlp/v1/metrics".into(), String::new()),
        ("POST", "/api/v1/alerts".into(), format!("generatorURL={u}")),
        ("POST", "/api/v2/alerts".into(), format!("url={u}")),
        ("POST", "/api/v1/admin/tsdb/snapshot".into(), String::new()),
        ("GET", format!("/{url}"), String::new()),
    ];
    for (method, target, body) in &requests {
        let (s, _, b) = http(port, method, target, &[], body);
        assert!(s == 404 || s == 405, "{method} {target} answered {s}: {b}");
    }
    // What is allowed takes no URL: a query naming one is only a string; a reload (body
    // ignored) re-reads the file given at start.
    let q = format!(
        "/api/v1/query?query={}",
        enc(&format!("vector(1) + 0 # {url}"))
    );
    assert_eq!(get(port, &q).0, 200);
    let (s, _, b) = http(port, "POST", "/-/reload", &[], &form);
    assert_eq!(s, 200, "{b}");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        canary.accept().is_err(),
        "the companion connected to the canary at {url}"
    );
    let ts = targets_by_job(port);
    assert!(ts.is_empty(), "{ts:?}");
}

/// A target played by the test: answers each connection with `behaviour`.
fn bad_target(behaviour: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                match behaviour {
                    "hang" => std::thread::sleep(Duration::from_secs(30)),
                    "garbage" => {
                        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nthis is {{{ not metrics\n");
                    }
                    "huge" => {
                        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
                        let line = b"# a comment line that makes the body large\n".repeat(1000);
                        for _ in 0..2000 {
                            if c.write_all(&line).is_err() {
                                break;
                            }
                        }
                    }
                    _ => {
                        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\n\r\nok_metric{a=\"b\"} 1\n");
                    }
                }
            });
        }
    });
    port
}

fn targets_by_job(port: u16) -> BTreeMap<String, Value> {
    let v = get_json(port, "/api/v1/targets");
    v["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["scrapePool"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

/// A measured duration (seconds) is carried with sub-millisecond precision: more than 0, and
/// not a whole number of milliseconds (as a millisecond clock would give; a real measurement is
/// one with probability 1e-6).
fn assert_sub_ms_precision(what: &str, secs: f64) {
    assert!(secs > 0.0 && secs < 5.0, "{what}: {secs}");
    let ns = (secs * 1e9).round() as i64;
    assert_ne!(ns % 1_000_000, 0, "{what}: {secs} is whole milliseconds");
}

/// Against a real local target, durations are measured on the monotonic clock to the
/// nanosecond, as Prometheus does: `lastScrapeDuration` in `/api/v1/targets`,
/// `scrape_duration_seconds`, and the rule group's and rules' `evaluationTime` in
/// `/api/v1/rules` are above 0 and not rounded to milliseconds.
#[test]
fn serve_reports_sub_millisecond_durations() {
    let dir = tmpdir("durations");
    let good = bad_target("good");
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n- name: g\n  rules:\n  - record: job:ok_metric:sum\n    expr: sum by (job) (ok_metric)\n",
    )
    .unwrap();
    let cfg = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n\
         scrape_configs:\n- job_name: good\n  static_configs: [{{targets: ['127.0.0.1:{good}']}}]\n"
    );
    let (_p, port) = start_serve(&dir, &cfg, &[]);
    wait_up(port, &["good"], Duration::from_secs(30));
    let t = &targets_by_job(port)["good"];
    assert_eq!(t["health"], "up", "{t}");
    assert_sub_ms_precision(
        "lastScrapeDuration",
        t["lastScrapeDuration"].as_f64().unwrap(),
    );
    let v = get_json(
        port,
        &format!(
            "/api/v1/query?query={}",
            enc("scrape_duration_seconds{job=\"good\"}")
        ),
    );
    let d: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .parse()
        .unwrap();
    assert_sub_ms_precision("scrape_duration_seconds", d);

    let t0 = Instant::now();
    let g = loop {
        let v = get_json(port, "/api/v1/rules");
        let g = v["data"]["groups"][0].clone();
        if g["lastEvaluation"]
            .as_str()
            .is_some_and(|s| !s.starts_with("0001-"))
            && g["rules"][0]["health"] == "ok"
        {
            break g;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "no evaluation: {v}");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_sub_ms_precision(
        "group evaluationTime",
        g["evaluationTime"].as_f64().unwrap(),
    );
    assert_sub_ms_precision(
        "rule evaluationTime",
        g["rules"][0]["evaluationTime"].as_f64().unwrap(),
    );
    assert!(
        g["rules"][0]["evaluationTime"].as_f64().unwrap() <= g["evaluationTime"].as_f64().unwrap(),
        "{g}"
    );
}

#[test]
fn serve_survives_targets_that_hang_send_garbage_or_too_much() {
    let dir = tmpdir("bad");
    let (hang, garbage, huge, good) = (
        bad_target("hang"),
        bad_target("garbage"),
        bad_target("huge"),
        bad_target("good"),
    );
    let refused = free_port();
    let cfg = format!(
        "global:\n  scrape_interval: 2s\n  scrape_timeout: 1s\nscrape_configs:\n\
         - job_name: hang\n  static_configs: [{{targets: ['127.0.0.1:{hang}']}}]\n\
         - job_name: garbage\n  static_configs: [{{targets: ['127.0.0.1:{garbage}']}}]\n\
         - job_name: huge\n  body_size_limit: 1MB\n  static_configs: [{{targets: ['127.0.0.1:{huge}']}}]\n\
         - job_name: refused\n  static_configs: [{{targets: ['127.0.0.1:{refused}']}}]\n\
         - job_name: good\n  honor_labels: true\n  static_configs: [{{targets: ['127.0.0.1:{good}'], labels: {{a: overridden}}}}]\n"
    );
    let (_p, port) = start_serve(&dir, &cfg, &[]);
    let t0 = Instant::now();
    let ts = loop {
        let ts = targets_by_job(port);
        if ts.len() == 5 && ts.values().all(|t| t["health"] != "unknown") {
            break ts;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "targets not scraped: {ts:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let err = |j: &str| ts[j]["lastError"].as_str().unwrap().to_string();
    assert_eq!(ts["hang"]["health"], "down");
    assert!(
        err("hang").ends_with("context deadline exceeded"),
        "{}",
        err("hang")
    );
    assert_eq!(ts["garbage"]["health"], "down");
    assert!(!err("garbage").is_empty());
    assert_eq!(ts["huge"]["health"], "down");
    assert_eq!(err("huge"), "body size limit exceeded");
    assert_eq!(ts["refused"]["health"], "down");
    assert!(
        err("refused").contains("connection refused"),
        "{}",
        err("refused")
    );
    assert_eq!(ts["good"]["health"], "up", "{}", ts["good"]);
    let v = get_json(port, &format!("/api/v1/query?query={}", enc("up")));
    let up: BTreeMap<String, String> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metric"]["job"].as_str().unwrap().to_string(),
                r["value"][1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeMap<String, String> = [
        ("garbage", "0"),
        ("good", "1"),
        ("hang", "0"),
        ("huge", "0"),
        ("refused", "0"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(up, want);
    // honor_labels: the exposed a="b" wins over the target label.
    let v = get_json(port, &format!("/api/v1/query?query={}", enc("ok_metric")));
    assert_eq!(v["data"]["result"][0]["metric"]["a"], "b", "{v}");
}

/// A good target that notes when each request arrives.
fn recording_target() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Instant>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let seen = seen2.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                seen.lock().unwrap().push(Instant::now());
                let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\n\r\nok_metric 1\n");
            });
        }
    });
    (port, seen)
}

/// A target that hangs for its whole timeout holds no other target: beside two hanging
/// targets (every 3 s, timeout 2.5 s; every 2 s, timeout 2 s) a fast one (every 1 s) is
/// fetched every second, and its samples' timestamps are exactly 1 s apart; the hanging ones
/// report up 0 with Prometheus's timeout error, and the one whose timeout is its whole
/// interval is scraped again right after each timeout (its slots are not dropped).
#[test]
fn serve_hanging_targets_do_not_delay_the_others() {
    let dir = tmpdir("hangers");
    let (fast, arrivals) = recording_target();
    let hangs: Vec<u16> = (0..2).map(|_| bad_target("hang")).collect();
    let mut cfg = String::from("scrape_configs:\n");
    cfg.push_str(&format!(
        "  - job_name: fast\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    static_configs: [{{targets: ['127.0.0.1:{fast}']}}]\n"
    ));
    for (i, h) in hangs.iter().enumerate() {
        let (iv, to) = [("3s", "2500ms"), ("2s", "2s")][i];
        cfg.push_str(&format!(
            "  - job_name: hang{i}\n    scrape_interval: {iv}\n    scrape_timeout: {to}\n    static_configs: [{{targets: ['127.0.0.1:{h}']}}]\n"
        ));
    }
    let (_p, port) = start_serve(&dir, &cfg, &[]);
    std::thread::sleep(Duration::from_secs(14));

    // The samples: one per second, each stamped at its slot.
    let v = get_json(
        port,
        &format!("/api/v1/query?query={}", enc("up{job=\"fast\"}[10s]")),
    );
    let values = v["data"]["result"][0]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ts: Vec<f64> = values.iter().map(|p| p[0].as_f64().unwrap()).collect();
    assert!(
        ts.len() >= 9,
        "fast target: {} samples in 10 s: {v}",
        ts.len()
    );
    for w in ts.windows(2) {
        assert!(
            (w[1] - w[0] - 1.0).abs() < 1e-9,
            "fast target's scrape timestamps are not 1 s apart: {ts:?}"
        );
    }
    assert!(values.iter().all(|p| p[1] == "1"), "{v}");
    // scrape_duration_seconds shares the timestamps.
    let v = get_json(
        port,
        &format!(
            "/api/v1/query?query={}",
            enc("scrape_duration_seconds{job=\"fast\"}[10s]")
        ),
    );
    let ts2: Vec<f64> = v["data"]["result"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_f64().unwrap())
        .collect();
    assert_eq!(ts2, ts);

    // The requests themselves arrived on time, not after a hanging round.
    let arr = arrivals.lock().unwrap().clone();
    assert!(arr.len() >= 11, "{} requests in 14 s", arr.len());
    let gaps: Vec<u128> = arr.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
    assert!(
        gaps.iter().all(|g| (300..=1700).contains(g)),
        "fast target's requests not ~1 s apart: {gaps:?} ms"
    );

    // The hanging ones: up 0, the timeout error.
    let ts = targets_by_job(port);
    for i in 0..2 {
        let t = &ts[&format!("hang{i}")];
        assert_eq!(t["health"], "down", "{t}");
        let e = t["lastError"].as_str().unwrap();
        assert_eq!(
            e,
            format!(
                "Get \"http://127.0.0.1:{}/metrics\": context deadline exceeded",
                hangs[i]
            )
        );
        assert_eq!(t["lastScrapeDuration"].as_f64(), Some([2.5, 2.0][i]), "{t}");
    }
    let v = get_json(
        port,
        &format!("/api/v1/query?query={}", enc("up{job=~\"hang.\"}")),
    );
    let r = v["data"]["result"].as_array().unwrap();
    assert_eq!(r.len(), 2, "{v}");
    assert!(r.iter().all(|s| s["value"][1] == "0"), "{v}");
    assert_eq!(ts["fast"]["health"], "up");
    // The target whose timeout is its interval: a sample every 2 s, none dropped.
    let v = get_json(
        port,
        &format!("/api/v1/query?query={}", enc("up{job=\"hang1\"}[10s]")),
    );
    let ts: Vec<f64> = v["data"]["result"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_f64().unwrap())
        .collect();
    assert!(ts.len() >= 4, "{v}");
    for w in ts.windows(2) {
        assert!((w[1] - w[0] - 2.0).abs() < 1e-9, "slots dropped: {ts:?}");
    }
}

/// `promplay serve` scraping a good target every second, once its first samples are in.
fn serve_with_a_good_target(name: &str) -> (Proc, u16) {
    let dir = tmpdir(name);
    let good = bad_target("good");
    let cfg = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n\
         - job_name: good\n  static_configs: [{{targets: ['127.0.0.1:{good}']}}]\n"
    );
    let (p, port) = start_serve(&dir, &cfg, &[]);
    wait_up(port, &["good"], Duration::from_secs(30));
    // A few samples for range queries.
    std::thread::sleep(Duration::from_secs(3));
    (p, port)
}

/// Debian's `promtool query` (Prometheus's own API client) against `promplay serve`: instant,
/// range and label queries succeed and print what promtool prints for Prometheus.
#[test]
fn promtool_queries_serve() {
    let promtool = "/usr/bin/promtool";
    if !Path::new(promtool).exists() {
        eprintln!("SKIP promtool_queries_serve: /usr/bin/promtool is not installed (apt-get install prometheus; scripts/tools.sh installs it in CI)");
        return;
    }
    let (_p, port) = serve_with_a_good_target("promtool");
    let url = format!("http://127.0.0.1:{port}");
    let run = |args: &[&str]| {
        let out = Command::new(promtool)
            .arg("query")
            .args(args)
            .output()
            .expect("run promtool");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "promtool query {args:?}: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let out = run(&["instant", &url, "up"]);
    let line = out.lines().next().unwrap_or("");
    assert!(
        line.starts_with("up{instance=\"127.0.0.1:") && line.contains("job=\"good\"} => 1 @["),
        "{out}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (start, end) = (format!("--start={}", now - 3), format!("--end={now}"));
    let out = run(&["range", &url, "up{job=\"good\"}", &start, &end, "--step=1s"]);
    let mut lines = out.lines();
    assert!(
        lines
            .next()
            .is_some_and(|l| l.ends_with("job=\"good\"} =>")),
        "{out}"
    );
    let points: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert!(points.len() >= 3, "{out}");
    assert!(points.iter().all(|p| p.starts_with("1 @[")), "{out}");
    let out = run(&["labels", &url, "job"]);
    assert_eq!(out, "good\n");
    let out = run(&["series", &url, "--match=up"]);
    assert!(
        out.starts_with("{__name__=\"up\", instance=\"127.0.0.1:"),
        "{out}"
    );
    // JSON output is Prometheus's data as promtool decodes it.
    let out = run(&["-o", "json", "instant", &url, "scalar(up) * 2"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v[1], "2", "{v}");
}

/// The requests Grafana's Prometheus data source makes on "Save & test" and in Explore, as
/// it makes them (POST with a form body where it uses POST), answered with the status and
/// JSON shape Grafana reads.
#[test]
fn grafana_data_source_requests() {
    let (_p, port) = serve_with_a_good_target("grafana");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (start, end) = (now - 3600, now);
    let grafana = [
        ("User-Agent", "Grafana/11.3.0"),
        ("Accept", "application/json, text/plain, */*"),
        ("X-Grafana-Org-Id", "1"),
    ];
    let call = |method: &str, target: &str, body: &str| -> Value {
        let (s, h, b) = http(port, method, target, &grafana, body);
        assert_eq!(s, 200, "{method} {target} {body}: {b}");
        assert_eq!(
            h.get("content-type").map(String::as_str),
            Some("application/json"),
            "{target}"
        );
        let v: Value = serde_json::from_str(&b).unwrap_or_else(|e| panic!("{target}: {e}: {b}"));
        assert_eq!(v["status"], "success", "{target}: {v}");
        v
    };
    // Save & test: the build info (Grafana reads the version to pick features), then `1+1`.
    let v = call("GET", "/api/v1/status/buildinfo", "");
    assert!(
        v["data"]["version"]
            .as_str()
            .is_some_and(|s| s.starts_with('3')),
        "{v}"
    );
    let v = call(
        "POST",
        "/api/v1/query",
        &format!("query={}&time={end}", enc("1+1")),
    );
    assert_eq!(v["data"]["resultType"], "scalar", "{v}");
    assert_eq!(v["data"]["result"][1], "2", "{v}");
    // Explore: metric names, label names and values, series, then the query as a range.
    let v = call(
        "GET",
        &format!("/api/v1/label/__name__/values?start={start}&end={end}"),
        "",
    );
    let names: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(names.contains(&"up") && names.contains(&"ok_metric"), "{v}");
    for (method, target, body) in [
        (
            "GET",
            format!("/api/v1/labels?start={start}&end={end}"),
            String::new(),
        ),
        (
            "POST",
            "/api/v1/labels".to_string(),
            format!("start={start}&end={end}"),
        ),
    ] {
        let v = call(method, &target, &body);
        let labels: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            labels.contains(&"__name__") && labels.contains(&"job") && labels.contains(&"instance"),
            "{v}"
        );
    }
    let m = enc("match[]");
    let v = call(
        "GET",
        &format!(
            "/api/v1/label/job/values?start={start}&end={end}&{m}={}",
            enc("up")
        ),
        "",
    );
    assert_eq!(v["data"], serde_json::json!(["good"]));
    for (method, target, body) in [
        (
            "GET",
            format!(
                "/api/v1/series?{m}={}&start={start}&end={end}",
                enc("up{job=\"good\"}")
            ),
            String::new(),
        ),
        (
            "POST",
            "/api/v1/series".to_string(),
            format!("{m}={}&start={start}&end={end}", enc("up{job=\"good\"}")),
        ),
    ] {
        let v = call(method, &target, &body);
        let s = v["data"].as_array().unwrap();
        assert_eq!(s.len(), 1, "{v}");
        assert_eq!(s[0]["__name__"], "up");
        assert_eq!(s[0]["job"], "good");
    }
    let v = call("GET", "/api/v1/metadata", "");
    assert!(v["data"].is_object(), "{v}");
    let v = call(
        "POST",
        "/api/v1/query_range",
        &format!(
            "query={}&start={}&end={end}&step=1",
            enc("sum by (job) (up)"),
            end - 60
        ),
    );
    assert_eq!(v["data"]["resultType"], "matrix", "{v}");
    let r = &v["data"]["result"][0];
    assert_eq!(r["metric"], serde_json::json!({"job": "good"}));
    let points = r["values"].as_array().unwrap();
    assert!(points.len() >= 3, "{v}");
    assert!(
        points.iter().all(|p| p[0].is_number() && p[1] == "1"),
        "{v}"
    );
    // Explore's instant query beside the range one, and the exemplars it asks for.
    let v = call(
        "POST",
        "/api/v1/query",
        &format!("query={}&time={end}", enc("up")),
    );
    assert_eq!(v["data"]["resultType"], "vector", "{v}");
    assert_eq!(v["data"]["result"][0]["value"][1], "1", "{v}");
    let v = call(
        "POST",
        "/api/v1/query_exemplars",
        &format!("query={}&start={start}&end={end}", enc("up")),
    );
    assert!(v["data"].is_array(), "{v}");
    // A bad query: Prometheus's error shape, which Grafana shows.
    let (s, _, b) = http(
        port,
        "POST",
        "/api/v1/query_range",
        &grafana,
        &format!("query={}&start={start}&end={end}&step=15", enc("sum(")),
    );
    assert_eq!(s, 400, "{b}");
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["status"], "error");
    assert_eq!(v["errorType"], "bad_data");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("parse error")),
        "{v}"
    );
}

fn python_with_prometheus_client() -> Option<String> {
    let mut candidates = vec![];
    if let Ok(p) = std::env::var("PROMPLAY_PYTHON") {
        candidates.push(p);
    }
    candidates.push("/tmp/promplay-peers/venv/bin/python".into());
    candidates.push("python3".into());
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import prometheus_client"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// The seed's hello app on free ports (its source with the two port numbers replaced).
fn start_hello(python: &str) -> (Proc, u16) {
    let src = std::fs::read_to_string(shared().join("peers/app/hello.py")).expect("hello.py");
    let (mport, aport) = (free_port(), free_port());
    let src = src
        .replace("8000", &mport.to_string())
        .replace("8001", &aport.to_string());
    let child = Command::new(python)
        .args(["-c", &src])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hello.py");
    let p = Proc(child);
    wait_ready(mport, "/metrics", Duration::from_secs(30));
    // Some traffic, so the counters move.
    for _ in 0..5 {
        let _ = get(aport, "/");
    }
    (p, mport)
}

fn start_node_exporter() -> Option<(Proc, u16)> {
    let bin = "/usr/bin/prometheus-node-exporter";
    if !Path::new(bin).exists() {
        return None;
    }
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let p = Proc(child);
    wait_ready(port, "/metrics", Duration::from_secs(30));
    Some((p, port))
}

fn series_set(port: u16, matcher: &str) -> BTreeSet<String> {
    let v = get_json(
        port,
        &format!("/api/v1/series?{}={}", enc("match[]"), enc(matcher)),
    );
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let m: BTreeMap<String, String> = serde_json::from_value(s.clone()).unwrap();
            format!("{m:?}")
        })
        .collect()
}

fn wait_up(port: u16, jobs: &[&str], max: Duration) {
    let t0 = Instant::now();
    loop {
        let v = get_json(port, &format!("/api/v1/query?query={}", enc("up == 1")));
        let up: BTreeSet<String> = v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["metric"]["job"].as_str().unwrap_or("").to_string())
            .collect();
        if jobs.iter().all(|j| up.contains(*j)) {
            return;
        }
        assert!(t0.elapsed() < max, "jobs {jobs:?} not up on :{port}: {v}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn serve_scrapes_node_exporter_and_the_python_app() {
    let Some((_ne, ne_port)) = start_node_exporter() else {
        eprintln!("SKIP serve_scrapes_node_exporter_and_the_python_app: /usr/bin/prometheus-node-exporter is not installed (apt-get install prometheus-node-exporter)");
        return;
    };
    let Some(python) = python_with_prometheus_client() else {
        eprintln!("SKIP serve_scrapes_node_exporter_and_the_python_app: no python with prometheus_client (pip install 'prometheus_client==0.26.*', or set PROMPLAY_PYTHON)");
        return;
    };
    let (_hello, hello_port) = start_hello(&python);
    let dir = tmpdir("real");
    let cfg = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n\
         - job_name: node\n  static_configs: [{{targets: ['127.0.0.1:{ne_port}']}}]\n\
         - job_name: example\n  static_configs: [{{targets: ['127.0.0.1:{hello_port}']}}]\n"
    );
    let (_p, port) = start_serve(&dir, &cfg, &[]);
    wait_up(port, &["node", "example"], Duration::from_secs(30));
    let node = series_set(port, "{job=\"node\"}");
    assert!(node.len() > 200, "node series: {}", node.len());
    assert!(node
        .iter()
        .any(|s| s.contains("\"node_cpu_seconds_total\"")));
    let v = get_json(
        port,
        &format!(
            "/api/v1/query?query={}",
            enc("hello_worlds_total{job=\"example\"}")
        ),
    );
    let n: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 5.0, "{v}");
    let v = get_json(port, "/api/v1/metadata?metric=hello_worlds");
    assert_eq!(v["data"]["hello_worlds"][0]["type"], "counter", "{v}");
    assert_eq!(
        v["data"]["hello_worlds"][0]["help"],
        "Hello Worlds requested."
    );
    let v = get_json(
        port,
        &format!(
            "/api/v1/query?query={}",
            enc("scrape_samples_scraped{job=\"node\"}")
        ),
    );
    let scraped: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(scraped > 200.0);
}

/// Debian's Prometheus and promplay scrape the same two targets; every series Prometheus has,
/// promplay has with the same labels, and PromQL over stable series answers the same.
#[test]
fn serve_side_by_side_with_prometheus() {
    let prom = "/usr/bin/prometheus";
    if !Path::new(prom).exists() {
        eprintln!("SKIP serve_side_by_side_with_prometheus: /usr/bin/prometheus is not installed (apt-get install prometheus)");
        return;
    }
    let Some((_ne, ne_port)) = start_node_exporter() else {
        eprintln!(
            "SKIP serve_side_by_side_with_prometheus: prometheus-node-exporter is not installed"
        );
        return;
    };
    let Some(python) = python_with_prometheus_client() else {
        eprintln!("SKIP serve_side_by_side_with_prometheus: no python with prometheus_client");
        return;
    };
    let (_hello, hello_port) = start_hello(&python);
    let dir = tmpdir("side");
    let cfg = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n\
         - job_name: node\n  static_configs: [{{targets: ['127.0.0.1:{ne_port}']}}]\n\
         - job_name: example\n  static_configs: [{{targets: ['127.0.0.1:{hello_port}']}}]\n"
    );
    let (_p, port) = start_serve(&dir, &cfg, &[]);
    let pdir = dir.join("prom");
    std::fs::create_dir_all(&pdir).unwrap();
    std::fs::write(pdir.join("prometheus.yml"), &cfg).unwrap();
    let pport = free_port();
    let child = Command::new(prom)
        .arg(format!(
            "--config.file={}",
            pdir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            pdir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(pdir.join("log")).unwrap(),
        ))
        .spawn()
        .expect("start prometheus");
    let _prom = Proc(child);
    wait_ready(pport, "/-/ready", Duration::from_secs(60));
    wait_up(pport, &["node", "example"], Duration::from_secs(30));
    wait_up(port, &["node", "example"], Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));

    for job in ["node", "example"] {
        let m = format!("{{job=\"{job}\"}}");
        let theirs = series_set(pport, &m);
        let ours = series_set(port, &m);
        let missing: Vec<&String> = theirs.difference(&ours).collect();
        assert!(
            missing.is_empty(),
            "job {job}: {} of Prometheus's {} series missing in promplay, e.g. {:?}",
            missing.len(),
            theirs.len(),
            &missing[..missing.len().min(5)]
        );
    }
    // The same PromQL through both APIs: answers over series whose values do not change.
    for q in [
        "count by (job) (up)",
        "count by (__name__) ({job=\"example\"})",
        "count(node_cpu_seconds_total) by (mode)",
        "node_uname_info",
        "python_info",
        "sum by (device) (node_filesystem_size_bytes)",
    ] {
        let ask = |p: u16| {
            let v = get_json(p, &format!("/api/v1/query?query={}", enc(q)));
            let mut res: Vec<String> = v["data"]["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| format!("{} {}", r["metric"], r["value"][1]))
                .collect();
            res.sort();
            res
        };
        assert_eq!(ask(port), ask(pport), "query {q}");
    }
}

/// Accepts HTTP POSTs and keeps their bodies (an Alertmanager's `/api/v2/alerts`).
fn alert_receiver() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut data = Vec::new();
            let mut buf = [0u8; 65536];
            // Read headers, then Content-Length bytes.
            loop {
                let n = c.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&data).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())
                                .flatten()
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        g.lock()
                            .unwrap()
                            .push(format!("{}\n{body}", head.lines().next().unwrap_or("")));
                        let _ = c.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                        break;
                    }
                }
            }
        }
    });
    (port, got)
}

/// A minimal SMTP server that stores each message's DATA; it starts listening on `port` only
/// after `delay`, playing a mail server that is down for a while.
fn smtp_sink(port: u16, delay: Duration) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let l = TcpListener::bind(("127.0.0.1", port)).expect("smtp sink port");
        for c in l.incoming() {
            let Ok(c) = c else { continue };
            let g = g.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                let mut w = c.try_clone().unwrap();
                let mut r = std::io::BufReader::new(c);
                let _ = w.write_all(b"220 sink ESMTP\r\n");
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_ascii_uppercase();
                    if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        let _ = w.write_all(b"250-sink\r\n250 8BITMIME\r\n");
                    } else if cmd.starts_with("DATA") {
                        let _ = w.write_all(b"354 go ahead\r\n");
                        let mut msg = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" || line == ".\n" {
                                break;
                            }
                            msg.push_str(&line);
                        }
                        g.lock().unwrap().push(msg);
                        let _ = w.write_all(b"250 accepted\r\n");
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        let _ = w.write_all(b"250 ok\r\n");
                    }
                }
            });
        }
    });
    got
}

/// Rules from `rule_files`, evaluated on the wall clock: a target that is down makes
/// InstanceDown pending then firing; the alert is posted to the Alertmanager under
/// `alerting:`, and the built-in Alertmanager emails it — to an SMTP server that is down at
/// first, so the email goes out once it is back, exactly once.
#[test]
fn serve_rules_alerts_and_email() {
    let dir = tmpdir("rules");
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: example\n    rules:\n      - alert: InstanceDown\n        expr: up == 0\n        for: 2s\n        annotations:\n          summary: 'Instance {{ $labels.instance }} down'\n      - record: job:up:sum\n        expr: sum by (job) (up)\n",
    )
    .unwrap();
    let smtp_port = free_port();
    let mails = smtp_sink(smtp_port, Duration::from_secs(6));
    std::fs::write(
        dir.join("alertmanager.yml"),
        format!(
            "global:\n  smtp_smarthost: '127.0.0.1:{smtp_port}'\n  smtp_from: 'alertmanager@example.org'\n  smtp_require_tls: false\nroute:\n  receiver: mail\n  group_wait: 1s\n  group_interval: 1m\n  repeat_interval: 1h\nreceivers:\n  - name: mail\n    email_configs:\n      - to: 'you@example.org'\n"
        ),
    )
    .unwrap();
    let (am_port, posts) = alert_receiver();
    let down = free_port();
    let cfg = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\nalerting:\n  alert_relabel_configs:\n    - {{target_label: team, replacement: ops}}\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\nscrape_configs:\n  - job_name: node\n    static_configs: [{{targets: ['127.0.0.1:{down}']}}]\n"
    );
    let am_cfg = dir.join("alertmanager.yml");
    let (_p, port) = start_serve(
        &dir,
        &cfg,
        &["--alertmanager.config", am_cfg.to_str().unwrap()],
    );

    let t0 = Instant::now();
    let mut saw_pending = false;
    loop {
        let v = get_json(port, "/api/v1/alerts");
        let state = v["data"]["alerts"][0]["state"]
            .as_str()
            .unwrap_or("")
            .to_string();
        saw_pending |= state == "pending";
        if state == "firing" {
            assert_eq!(
                v["data"]["alerts"][0]["labels"]["alertname"],
                "InstanceDown"
            );
            assert_eq!(
                v["data"]["alerts"][0]["annotations"]["summary"],
                format!("Instance 127.0.0.1:{down} down")
            );
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no firing alert: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(saw_pending, "the alert was never seen pending");
    let v = get_json(port, "/api/v1/alertmanagers");
    assert_eq!(
        v["data"]["activeAlertmanagers"][0]["url"],
        format!("http://127.0.0.1:{am_port}/api/v2/alerts")
    );
    let v = get_json(port, "/api/v1/rules");
    assert_eq!(v["data"]["groups"][0]["name"], "example");
    assert_eq!(v["data"]["groups"][0]["rules"][0]["type"], "alerting");
    assert_eq!(v["data"]["groups"][0]["rules"][1]["type"], "recording");
    // The recording rule writes its series.
    let t0 = Instant::now();
    loop {
        let v = get_json(port, &format!("/api/v1/query?query={}", enc("job:up:sum")));
        if v["data"]["result"][0]["value"][1] == "0" {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "no job:up:sum: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // ALERTS series.
    let v = get_json(
        port,
        &format!(
            "/api/v1/query?query={}",
            enc("ALERTS{alertstate=\"firing\"}")
        ),
    );
    assert_eq!(
        v["data"]["result"][0]["metric"]["alertname"], "InstanceDown",
        "{v}"
    );

    // Posted to the configured Alertmanager as Prometheus posts alerts.
    let t0 = Instant::now();
    loop {
        let got = posts.lock().unwrap().clone();
        if let Some(p) = got.iter().find(|p| p.contains("InstanceDown")) {
            assert!(p.starts_with("POST /api/v2/alerts HTTP/1.1"), "{p}");
            let body = p.split_once('\n').unwrap().1;
            let v: Value = serde_json::from_str(body).unwrap();
            assert_eq!(v[0]["labels"]["alertname"], "InstanceDown");
            assert_eq!(v[0]["labels"]["job"], "node");
            assert_eq!(v[0]["labels"]["team"], "ops", "alert_relabel_configs");
            assert!(v[0]["startsAt"].as_str().unwrap().ends_with('Z'));
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "no alert posted: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The email: the SMTP server comes up 6 s after start; delivered once, by retrying.
    let t0 = Instant::now();
    loop {
        if !mails.lock().unwrap().is_empty() {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(40), "no email");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(4));
    let got = mails.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "emails: {got:?}");
    assert!(
        // Alertmanager 0.25's default subject (no group_by: empty group labels; the labels
        // include team=ops from alert_relabel_configs).
        got[0].contains(&format!(
            "Subject: [FIRING:1]  (InstanceDown 127.0.0.1:{down} node ops)"
        )),
        "{}",
        got[0]
    );
    assert!(got[0].contains("To: you@example.org"), "{}", got[0]);
}

/// remote_write into Debian's Prometheus (`--web.enable-remote-write-receiver`), which comes
/// up only after promplay has started sending: the batches are retried until it takes them,
/// and it ends up with the same samples as promplay.
#[test]
fn serve_remote_write_into_prometheus() {
    let prom = "/usr/bin/prometheus";
    if !Path::new(prom).exists() {
        eprintln!("SKIP serve_remote_write_into_prometheus: /usr/bin/prometheus is not installed (apt-get install prometheus)");
        return;
    }
    let good = bad_target("good");
    let pport = free_port();
    let dir = tmpdir("rw");
    let cfg = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: good\n    static_configs: [{{targets: ['127.0.0.1:{good}']}}]\nremote_write:\n  - url: http://127.0.0.1:{pport}/api/v1/write\n    queue_config: {{batch_send_deadline: 1s, min_backoff: 200ms, max_backoff: 1s}}\n    write_relabel_configs:\n      - {{source_labels: [__name__], regex: scrape_series_added, action: drop}}\n"
    );
    let (_p, port) = start_serve(&dir, &cfg, &[]);
    std::thread::sleep(Duration::from_secs(4));
    let pdir = dir.join("prom");
    std::fs::create_dir_all(&pdir).unwrap();
    std::fs::write(
        pdir.join("prometheus.yml"),
        "global:\n  scrape_interval: 1h\n",
    )
    .unwrap();
    let child = Command::new(prom)
        .arg(format!(
            "--config.file={}",
            pdir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            pdir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(pdir.join("log")).unwrap(),
        ))
        .spawn()
        .expect("start prometheus");
    let _prom = Proc(child);
    wait_ready(pport, "/-/ready", Duration::from_secs(60));
    // Wait for the retried batches to land, then compare counts at a fixed past instant.
    std::thread::sleep(Duration::from_secs(5));
    let t = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 2)
    .to_string();
    let count = |p: u16, q: &str| -> String {
        let v = get_json(p, &format!("/api/v1/query?query={}&time={t}", enc(q)));
        v["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or("none")
            .to_string()
    };
    for q in [
        "count_over_time(up{job=\"good\"}[10m])",
        "count_over_time(ok_metric[10m])",
    ] {
        let ours = count(port, q);
        let theirs = count(pport, q);
        assert_eq!(ours, theirs, "{q}");
        assert!(ours.parse::<f64>().unwrap_or(0.0) >= 6.0, "{q}: {ours}");
    }
    // write_relabel_configs dropped a series.
    let v = get_json(
        pport,
        &format!(
            "/api/v1/query?query={}&time={t}",
            enc("scrape_series_added")
        ),
    );
    assert_eq!(v["data"]["result"], serde_json::json!([]));
    let (_, m) = get(port, "/metrics");
    assert!(
        m.contains("promplay_remote_storage_retried_sends_total "),
        "{m}"
    );
    assert!(
        !m.contains("promplay_remote_storage_retried_sends_total 0\n"),
        "no retry happened: {m}"
    );
}

/// The seed's alert on real programs: node_exporter scraped, then killed → InstanceDown
/// pending, firing, and the built-in Alertmanager's email lands in the seed's aiosmtpd sink
/// (peers/app/smtp_sink.py on a free port), once.
#[test]
fn serve_instance_down_email_to_aiosmtpd() {
    let Some((ne, ne_port)) = start_node_exporter() else {
        eprintln!(
            "SKIP serve_instance_down_email_to_aiosmtpd: prometheus-node-exporter is not installed"
        );
        return;
    };
    let python = python_with_prometheus_client().filter(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    let Some(python) = python else {
        eprintln!("SKIP serve_instance_down_email_to_aiosmtpd: no python with prometheus_client and aiosmtpd (pip install aiosmtpd, or set PROMPLAY_PYTHON)");
        return;
    };
    let dir = tmpdir("aiosmtpd");
    let outdir = dir.join("smtp");
    let smtp_port = free_port();
    let src = std::fs::read_to_string(shared().join("peers/app/smtp_sink.py")).unwrap();
    let src = src.replace("port=2525", &format!("port={smtp_port}"));
    let sink = Command::new(&python)
        .args(["-c", &src, outdir.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start smtp_sink.py");
    let _sink = Proc(sink);
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", smtp_port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "smtp sink not listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: example\n    rules:\n      - alert: InstanceDown\n        expr: up == 0\n        for: 2s\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("alertmanager.yml"),
        format!("global:\n  smtp_smarthost: '127.0.0.1:{smtp_port}'\n  smtp_from: 'alertmanager@example.org'\n  smtp_require_tls: false\nroute:\n  receiver: example-email\n  group_wait: 1s\nreceivers:\n  - name: example-email\n    email_configs:\n      - to: 'youraddress@example.org'\n"),
    )
    .unwrap();
    let cfg = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\nscrape_configs:\n  - job_name: node\n    static_configs: [{{targets: ['127.0.0.1:{ne_port}']}}]\n"
    );
    let am = dir.join("alertmanager.yml");
    let (_p, port) = start_serve(&dir, &cfg, &["--alertmanager.config", am.to_str().unwrap()]);
    wait_up(port, &["node"], Duration::from_secs(30));
    drop(ne); // kill node_exporter
    let t0 = Instant::now();
    let mails = loop {
        let mails: Vec<PathBuf> = std::fs::read_dir(&outdir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if !mails.is_empty() {
            break mails;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(40),
            "no email in {}",
            outdir.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let mail = std::fs::read_to_string(&mails[0]).unwrap();
    assert!(
        mail.contains(&format!(
            "Subject: [FIRING:1]  (InstanceDown 127.0.0.1:{ne_port} node)"
        )),
        "{mail}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let n = std::fs::read_dir(&outdir).unwrap().count();
    assert_eq!(n, 1, "emails: {n}");
}

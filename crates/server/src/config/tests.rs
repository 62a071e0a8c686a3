use super::*;

fn shared(path: &str) -> String {
    let p = format!("{}/../../../shared/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn the_seed_config_loads_unchanged() {
    let c = Config::load(&shared("peers/conf/prometheus.yml")).unwrap();
    assert_eq!(c.global.scrape_interval, Duration::from_secs(10));
    assert_eq!(c.global.evaluation_interval, Duration::from_secs(10));
    // scrape_timeout defaults to min(10s, interval).
    assert_eq!(c.global.scrape_timeout, Duration::from_secs(10));
    assert_eq!(c.rule_files, vec!["rules.yml".to_string()]);
    let jobs: Vec<_> = c
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(jobs, ["prometheus", "node", "example"]);
    let node = c.scrape_config("node").unwrap();
    assert_eq!(node.scrape_interval, Duration::from_secs(10));
    assert_eq!(node.scrape_timeout, Duration::from_secs(10));
    assert_eq!(node.metrics_path, "/metrics");
    assert_eq!(node.scheme, "http");
    assert!(node.honor_timestamps);
    assert!(!node.honor_labels);
    assert_eq!(
        node.service_discovery.static_configs[0].targets,
        vec!["localhost:9100".to_string()]
    );
    let am = &c.alerting.alertmanagers[0];
    assert_eq!(am.api_version, "v2");
    assert_eq!(am.timeout, Duration::from_secs(10));
    assert_eq!(
        am.service_discovery.static_configs[0].targets,
        vec!["127.0.0.1:9093".to_string()]
    );
}

#[test]
fn an_empty_file_gives_prometheus_defaults() {
    for text in ["", "# nothing\n", "global:\n", "{}"] {
        let c = Config::load(text).unwrap();
        assert_eq!(
            c.global.scrape_interval,
            Duration::from_secs(60),
            "{text:?}"
        );
        assert_eq!(c.global.scrape_timeout, Duration::from_secs(10));
        assert_eq!(c.global.evaluation_interval, Duration::from_secs(60));
        assert!(c.scrape_configs.is_empty());
        assert_eq!(c.storage.exemplars.as_ref().unwrap().max_exemplars, 100_000);
    }
}

#[test]
fn scrape_configs_inherit_globals_and_timeout_is_capped_by_interval() {
    let c = Config::load(
        "global:\n  scrape_interval: 5s\n  sample_limit: 100\njobs_placeholder: 1\n"
            .replace("jobs_placeholder: 1\n", "scrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: 1m30s\n    sample_limit: 7\n")
            .as_str(),
    )
    .unwrap();
    let a = c.scrape_config("a").unwrap();
    assert_eq!(a.scrape_interval, Duration::from_secs(5));
    assert_eq!(a.scrape_timeout, Duration::from_secs(5));
    assert_eq!(a.sample_limit, 100);
    let b = c.scrape_config("b").unwrap();
    assert_eq!(b.scrape_interval, Duration::from_secs(90));
    assert_eq!(b.scrape_timeout, Duration::from_secs(5));
    assert_eq!(b.sample_limit, 7);
}

#[test]
fn unknown_fields_are_rejected_with_line_and_go_type() {
    let e = Config::load(&shared("conformance/promtool/prometheus-config.bad.yml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "yaml: unmarshal errors:\n  line 1: field not-prometheus not found in type config.plain"
    );
    let e = Config::load("global:\n  scrape_interval: 1m\n  scrape_intervall: 2m\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "yaml: unmarshal errors:\n  line 3: field scrape_intervall not found in type config.plain"
    );
    let e = Config::load(
        "scrape_configs:\n  - job_name: x\n    relabel_configs:\n      - source_labels: [a]\n        targetlabel: b\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "yaml: unmarshal errors:\n  line 5: field targetlabel not found in type relabel.plain"
    );
}

#[test]
fn bad_values_name_the_line_and_the_field() {
    let e =
        Config::load("scrape_configs:\n  - job_name: x\n    scrape_interval: 1x\n").unwrap_err();
    match &e {
        ConfigError::Yaml {
            line,
            path,
            message,
            ..
        } => {
            assert_eq!(*line, Some(3));
            assert_eq!(path, "scrape_configs[0].scrape_interval");
            assert_eq!(message, r#"not a valid duration string: "1x""#);
        }
        other => panic!("{other:?}"),
    }
    assert!(e
        .to_string()
        .contains("line 3: scrape_configs[0].scrape_interval: not a valid"));
}

#[test]
fn validation_messages_are_prometheus_s() {
    let cases = [
        (
            "global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n",
            "global scrape timeout greater than scrape interval",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
            r#"scrape timeout greater than scrape interval for scrape config with job name "j""#,
        ),
        ("scrape_configs:\n  - scrape_interval: 5s\n", "job_name is empty"),
        (
            "scrape_configs:\n  - job_name: j\n  - job_name: j\n",
            r#"found multiple scrape configs with job name "j""#,
        ),
        (
            "scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['http://x:9100']\n",
            r#""http://x:9100" is not a valid hostname"#,
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n",
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - source_labels: [a]\n",
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - action: labeldrop\n        regex: x\n        target_label: y\n",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - action: keepequal\n        source_labels: [a]\n        target_label: b\n        regex: (.*)\n",
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - action: uppercase\n        source_labels: [a]\n        target_label: b\n        replacement: x\n",
            "'replacement' can not be set for uppercase action",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    metric_name_validation_scheme: legacy\n    metric_relabel_configs:\n      - source_labels: [a]\n        target_label: 0${1}\n",
            r#""0${1}" is invalid 'target_label' for replace action"#,
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - action: Explode\n",
            r#"unknown relabel action "Explode""#,
        ),
        (
            "scrape_configs:\n  - job_name: j\n    basic_auth: {username: u}\n    bearer_token: t\n",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    authorization: {type: Basic}\n",
            r#"authorization type cannot be set to "basic", use "basic_auth" instead"#,
        ),
        ("remote_write:\n  - name: x\n", "url for remote_write is empty"),
        (
            "remote_write:\n  - url: http://x/\n    headers: {User-Agent: me}\n",
            "User-Agent is a reserved header. It must not be changed",
        ),
        ("rule_files: ['a/*/b.yml']\n", r#"invalid rule file path "a/*/b.yml""#),
        (
            "alerting:\n  alertmanagers:\n    - api_version: v1\n",
            "expected Alertmanager api version to be one of [v2] but got v1",
        ),
        // Modelled on upstream's config/testdata/*.bad.yml.
        (
            "scrape_configs:\n  - job_name: j\n    static_configs:\n      -\n",
            "empty or null section in static_configs",
        ),
        (
            "scrape_configs:\n  - job_name: j\nscrape_configs:\n  - job_name: k\n",
            "field scrape_configs already set in type config.plain",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    body_size_limit: 100\n",
            "units: unknown unit  in 100",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - action:\n",
            "relabel action cannot be empty",
        ),
        ("scrape_configs:\n  -\n", "empty or null scrape config section"),
        (
            "scrape_configs:\n  - job_name: j\n    metric_relabel_configs:\n      -\n",
            "empty or null metric relabeling rule in scrape config",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      -\n",
            "empty or null target relabeling rule in scrape config",
        ),
        ("remote_write:\n  -\n", "empty or null remote write config section"),
        ("remote_read:\n  -\n", "empty or null remote read config section"),
        (
            "remote_read:\n  - name: x\n",
            "url for remote_read is empty",
        ),
        (
            "remote_write:\n  - url: http://a/\n    name: q\n  - url: http://b/\n    name: q\n",
            r#"found multiple remote write configs with job name "q""#,
        ),
        (
            "remote_write:\n  - url: http://a/\n    headers: {x-prometheus-remote-write-version: '9'}\n",
            "x-prometheus-remote-write-version is a reserved header. It must not be changed",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    bearer_token: a\n    bearer_token_file: b\n",
            "at most one of bearer_token & bearer_token_file must be configured",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - action: hashmod\n        modulus: 2\n",
            "relabel configuration for hashmod action requires 'target_label' value",
        ),
        (
            "alerting:\n  alert_relabel_configs:\n    -\n",
            "empty or null alert relabeling rule",
        ),
        (
            "alerting:\n  alertmanagers:\n    - relabel_configs:\n        -\n",
            "empty or null Alertmanager target relabeling rule",
        ),
        (
            "remote_write:\n  - url: http://a/\n    write_relabel_configs:\n      -\n",
            "empty or null relabeling rule in remote write config",
        ),
        (
            "scrape_configs:\n  - job_name: j\n    consult_sd_configs: []\n",
            "field consult_sd_configs not found in type",
        ),
    ];
    for (text, want) in cases {
        let got = Config::load(text).map(|_| ()).unwrap_err().to_string();
        assert!(
            got.contains(want),
            "config:\n{text}\nwant: {want}\ngot:  {got}"
        );
    }
}

#[test]
fn relabel_defaults_are_applied() {
    let c = Config::load(
        "scrape_configs:\n  - job_name: j\n    relabel_configs:\n      - target_label: env\n        replacement: prod\n      - action: LabelMap\n        regex: __meta_(.+)\n",
    )
    .unwrap();
    let rc = &c.scrape_configs[0].relabel_configs;
    assert_eq!(rc[0].action, crate::relabel::Action::Replace);
    assert_eq!(rc[0].separator, ";");
    assert_eq!(rc[0].regex.as_str(), "(.*)");
    assert!(rc[0].regex.is_default());
    assert_eq!(rc[1].action, crate::relabel::Action::LabelMap);
    assert_eq!(rc[1].replacement, "$1");
}

#[test]
fn secrets_are_never_printed() {
    let c = Config::load(
        "scrape_configs:\n  - job_name: j\n    basic_auth:\n      username: u\n      password: hunter2\n  - job_name: k\n    bearer_token: tok123\nremote_write:\n  - url: http://rw/\n    authorization:\n      credentials: cred456\n",
    )
    .unwrap();
    let y = c.to_yaml();
    for s in ["hunter2", "tok123", "cred456"] {
        assert!(!y.contains(s), "{s} leaked:\n{y}");
        assert!(!format!("{c:?}").contains(s), "{s} leaked in Debug");
    }
    assert!(y.contains("password: <secret>"), "{y}");
    assert!(y.contains("credentials: <secret>"), "{y}");
    // bearer_token is folded into authorization, as prometheus/common does.
    let k = c.scrape_config("k").unwrap();
    let auth = k.http_client_config.authorization.as_ref().unwrap();
    assert_eq!(auth.kind, "Bearer");
    assert_eq!(auth.credentials.expose(), "tok123");
    // The printed config loads again.
    let again = Config::load(&y).unwrap();
    assert_eq!(again.scrape_configs.len(), 2);
}

#[test]
fn remote_write_defaults() {
    let c = Config::load("remote_write:\n  - url: http://rw/api/v1/write\n").unwrap();
    let rw = &c.remote_write[0];
    assert_eq!(rw.remote_timeout, Duration::from_secs(30));
    assert_eq!(rw.queue_config.capacity, 10000);
    assert_eq!(rw.queue_config.max_shards, 50);
    assert_eq!(rw.queue_config.min_shards, 1);
    assert_eq!(rw.queue_config.max_samples_per_send, 2000);
    assert_eq!(rw.queue_config.batch_send_deadline, Duration::from_secs(5));
    assert_eq!(rw.queue_config.min_backoff, Duration::from_millis(30));
    assert_eq!(rw.queue_config.max_backoff, Duration::from_secs(5));
    assert!(rw.metadata_config.send);
    assert_eq!(rw.protobuf_message, "prometheus.WriteRequest");
    assert!(!rw.http_client_config.enable_http2);
}

#[test]
fn the_promtool_config_corpus_loads_or_fails_as_prometheus_does() {
    let dir = "conformance/promtool/";
    for f in [
        "prometheus-config.good.yml",
        "prometheus-config.lint.yml",
        "prometheus-config.lint.too_long_scrape_interval.yml",
        "prometheus-aws-sd-empty-region.good.yml",
        "authorization_credentials_file.good.yml",
        "authorization_credentials_file.bad.yml",
        "config_with_rule_files.yml",
        "config_with_service_discovery_files.yml",
        "config_with_tls_files.yml",
        "url_in_scrape_targetgroup_with_relabel_config.good.yml",
        "url_in_scrape_targetgroup_with_relabel_config.bad.yml",
        "url_in_alert_targetgroup_with_relabel_config.good.yml",
        "url_in_alert_targetgroup_with_relabel_config.bad.yml",
    ] {
        // These parse; the bad ones fail later, in `check config`'s file and target checks.
        Config::load(&shared(&format!("{dir}{f}"))).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    assert!(Config::load(&shared(&format!("{dir}prometheus-config.bad.yml"))).is_err());
}

#[test]
fn validation_errors_found_while_decoding_carry_the_line() {
    let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    relabel_configs:\n      - source_labels: [x]\n        target_label: y\n      - action: hashmod\n        source_labels: [x]\n        target_label: z\n";
    match Config::load(text).unwrap_err() {
        ConfigError::Yaml {
            line,
            path,
            message,
            ..
        } => {
            assert_eq!(line, Some(9));
            assert_eq!(path, "scrape_configs[1].relabel_configs[1]");
            assert_eq!(
                message,
                "relabel configuration for hashmod requires non-zero modulus"
            );
        }
        other => panic!("{other:?}"),
    }
    match Config::load("scrape_configs:\n  - job_name: ok\n  - scrape_interval: 5s\n").unwrap_err()
    {
        ConfigError::Yaml { line, message, .. } => {
            assert_eq!(line, Some(3));
            assert_eq!(message, "job_name is empty");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_seed_config_prints_as_prometheus_v3_does() {
    let c = Config::load(&shared("peers/conf/prometheus.yml")).unwrap();
    let y = c.to_yaml();
    let job = |name: &str, target: &str| {
        format!(
            "- job_name: {name}
  honor_timestamps: true
  track_timestamps_staleness: false
  scrape_interval: 10s
  scrape_timeout: 10s
  scrape_protocols:
  - OpenMetricsText1.0.0
  - OpenMetricsText0.0.1
  - PrometheusText1.0.0
  - PrometheusText0.0.4
  scrape_native_histograms: false
  always_scrape_classic_histograms: false
  convert_classic_histograms_to_nhcb: false
  metrics_path: /metrics
  scheme: http
  enable_compression: true
  metric_name_validation_scheme: utf8
  metric_name_escaping_scheme: allow-utf-8
  extra_scrape_metrics: false
  follow_redirects: true
  enable_http2: true
  static_configs:
  - targets:
    - {target}
"
        )
    };
    let want = format!(
        "global:
  scrape_interval: 10s
  scrape_timeout: 10s
  evaluation_interval: 10s
  metric_name_validation_scheme: utf8
  metric_name_escaping_scheme: allow-utf-8
  scrape_native_histograms: false
runtime:
  gogc: 75
alerting:
  alertmanagers:
  - follow_redirects: true
    enable_http2: true
    scheme: http
    timeout: 10s
    api_version: v2
    static_configs:
    - targets:
      - 127.0.0.1:9093
rule_files:
- rules.yml
scrape_configs:
{}{}{}otlp:
  translation_strategy: UnderscoreEscapingWithSuffixes
  label_name_underscore_sanitization: true
  label_name_preserve_multiple_underscores: true
",
        job("prometheus", "localhost:9090"),
        job("node", "localhost:9100"),
        job("example", "localhost:8000")
    );
    assert_eq!(y, want);
    // And it loads back to the same configuration.
    assert_eq!(Config::load(&y).unwrap(), c);
}

/// A small deterministic generator (xorshift) for mutation tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_configs_never_panic() {
    let base = format!(
        "{}\n  - job_name: extra\n    scrape_timeout: 5s\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: '(.*):(\\d+)'\n        target_label: port\n        replacement: '${{2}}'\n      - action: hashmod\n        modulus: 3\n        source_labels: [port]\n        target_label: shard\n    static_configs:\n      - targets: ['a:1']\n        labels: {{x: y}}\n",
        shared("peers/conf/prometheus.yml").trim_end()
    );
    let pieces = [
        ":",
        "-",
        " ",
        "\n",
        "[",
        "]",
        "{",
        "}",
        "'",
        "\"",
        "*",
        "$",
        "${1}",
        "(",
        ")",
        "0",
        "1m",
        "-1",
        "\t",
        "&a",
        "*a",
        "!!str",
        "~",
        "null",
        "job_name: x",
        "action: drop",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut loaded = 0;
    for _ in 0..1500 {
        let mut text = base.clone().into_bytes();
        for _ in 0..1 + rng.below(4) {
            let pos = rng.below(text.len());
            match rng.below(3) {
                0 => {
                    text.remove(pos);
                }
                1 => {
                    let p = pieces[rng.below(pieces.len())];
                    for (i, b) in p.bytes().enumerate() {
                        text.insert(pos + i, b);
                    }
                }
                _ => {
                    let set = b"a:- \n[]{}$'";
                    text[pos] = set[rng.below(set.len())];
                }
            }
        }
        let Ok(text) = String::from_utf8(text) else {
            continue;
        };
        if let Ok(c) = Config::load(&text) {
            loaded += 1;
            // Whatever loads prints and loads again.
            Config::load(&c.to_yaml())
                .unwrap_or_else(|e| panic!("{text}\n---\n{}\n{e}", c.to_yaml()));
        }
    }
    assert!(
        loaded > 50,
        "the mutations should not all be fatal: {loaded}"
    );
}

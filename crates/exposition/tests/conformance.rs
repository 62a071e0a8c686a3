//! Runs every case of ../shared/conformance/exposition and lists the ones we get wrong.

use std::path::{Path, PathBuf};

use promplay_exposition::{parse_openmetrics, parse_text, ParseOptions};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/exposition")
}

#[test]
fn openmetrics_suite() {
    let dir = corpus().join("openmetrics");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the OpenMetrics suite at ../shared")
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let mut wrong = Vec::new();
    let mut n = 0;
    for case in &cases {
        let Ok(meta) = std::fs::read_to_string(case.join("test.json")) else {
            continue;
        };
        let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
        let should = meta["shouldParse"].as_bool().unwrap();
        let input = std::fs::read(case.join(meta["file"].as_str().unwrap_or("metrics"))).unwrap();
        n += 1;
        let got = parse_openmetrics(&input, ParseOptions { strict: true });
        if got.is_ok() != should {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            wrong.push(format!(
                "{name}: want shouldParse={should}, got {:?}",
                got.err()
            ));
        }
    }
    println!("OpenMetrics cases right: {}/{n}", n - wrong.len());
    assert_eq!(n, 211);
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn text_0_0_4_suite() {
    let dir = corpus().join("text-0.0.4");
    let mut wrong = Vec::new();
    let mut n = 0;
    for sub in ["valid", "invalid"] {
        let index: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(sub).join("index.json")).unwrap(),
        )
        .unwrap();
        for case in index.as_array().unwrap() {
            let file = case["file"].as_str().unwrap();
            let input = std::fs::read(dir.join(sub).join(file)).unwrap();
            let should = case["shouldParseUTF8"].as_bool().unwrap();
            let want_err = case["errUTF8"].as_str().unwrap_or("");
            n += 1;
            match parse_text(&input) {
                Ok(_) if should => {}
                Ok(_) => wrong.push(format!("{sub}/{file}: accepted, want error {want_err:?}")),
                Err(e) if should => {
                    wrong.push(format!("{sub}/{file}: rejected: {}", e.expfmt_string()))
                }
                Err(e) => {
                    if !e.expfmt_string().starts_with(want_err) {
                        wrong.push(format!(
                            "{sub}/{file}: error {:?}, want prefix {want_err:?}",
                            e.expfmt_string()
                        ));
                    }
                }
            }
        }
    }
    println!("text 0.0.4 cases right: {}/{n}", n - wrong.len());
    assert_eq!(n, 66);
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn valid_bench_files_parse() {
    for entry in std::fs::read_dir(corpus().join("valid-bench")).unwrap() {
        let path = entry.unwrap().path();
        let input = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let fams = if name.contains(".om.") {
            // Prometheus-valid, not reference-parser-valid: a histogram there has a negative _sum.
            parse_openmetrics(&input, ParseOptions { strict: false })
        } else {
            parse_text(&input)
        };
        let fams = fams.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!fams.is_empty(), "{name}");
    }
}

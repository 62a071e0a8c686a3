//! The `textfile` collector: metrics from `*.prom` files (text format 0.0.4) in
//! `--collector.textfile.directory` (Debian's default: /var/lib/prometheus/node-exporter), their
//! modification times, and `node_textfile_scrape_error`, as node_exporter 1.5 exposes them. A
//! file that does not parse, or has client-side timestamps, is skipped and sets the error to 1;
//! the collector itself still succeeds.

use std::path::Path;
use std::time::UNIX_EPOCH;

use promplay_exposition::{parse_text, MetricFamily, MetricType, Sample};

use super::{read, Ctx, Families, NodeError};

/// Parses one textfile into snapshot families. Families without HELP get node_exporter's
/// `Metric read from <path>`. A counter whose name lacks `_total` cannot be written back as a
/// counter by the workspace's (OpenMetrics-modelled) writer: it is exposed untyped.
pub fn parse_textfile(text: &str, path: &str) -> Result<Vec<MetricFamily>, String> {
    let parsed = parse_text(text.as_bytes()).map_err(|e| {
        format!(
            "failed to parse textfile data from {path:?}: {}",
            e.expfmt_string()
        )
    })?;
    let mut out = Vec::with_capacity(parsed.len());
    for pf in parsed {
        if pf.samples.iter().any(|s| s.timestamp_ms.is_some()) {
            return Err(format!(
                "textfile {path:?} contains unsupported client-side timestamps, skipping entire file"
            ));
        }
        let (name, typ) = match pf.typ {
            MetricType::Counter => match pf.name.strip_suffix("_total") {
                Some(base) => (base.to_string(), MetricType::Counter),
                None => (pf.name.clone(), MetricType::Unknown),
            },
            t => (pf.name.clone(), t),
        };
        let samples = pf
            .samples
            .iter()
            .map(|s| {
                let mut labels: Vec<(String, String)> = s
                    .labels
                    .iter()
                    .map(|l| (l.name.to_string(), l.value.to_string()))
                    .collect();
                labels.sort();
                Sample::new(s.name.to_string(), labels, s.value)
            })
            .collect();
        out.push(MetricFamily {
            name,
            help: pf
                .help
                .unwrap_or_else(|| format!("Metric read from {path}")),
            typ,
            unit: String::new(),
            samples,
        });
    }
    Ok(out)
}

/// The name a family is exposed under in the text format.
fn exposed_name(f: &MetricFamily) -> String {
    match f.typ {
        MetricType::Counter => format!("{}_total", f.name),
        _ => f.name.clone(),
    }
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let dir: &Path = &ctx.textfile_directory;
    let mut errored = false;
    let mut mtimes = Vec::new();
    match std::fs::read_dir(dir) {
        Err(e) => {
            errored = true;
            eprintln!(
                "promplay node: textfile: failed to read textfile collector directory {}: {e}",
                dir.display()
            );
        }
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".prom"))
                .collect();
            names.sort();
            for name in names {
                let path = dir.join(&name);
                let shown = path.to_string_lossy().into_owned();
                let result = read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|text| parse_textfile(&text, &shown))
                    .and_then(|fams| {
                        let mtime = std::fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .map_err(|e| e.to_string())?;
                        Ok((fams, mtime))
                    });
                match result {
                    Ok((fams, mtime)) => {
                        for f in fams {
                            out.insert_family(&exposed_name(&f), f);
                        }
                        let secs = mtime
                            .duration_since(UNIX_EPOCH)
                            .map(|d| d.as_secs())
                            .unwrap_or(0);
                        mtimes.push((shown, secs));
                    }
                    Err(e) => {
                        errored = true;
                        eprintln!("promplay node: textfile: failed to collect textfile data from {shown}: {e}");
                    }
                }
            }
        }
    }
    for (file, secs) in mtimes {
        out.gauge(
            "node_textfile_mtime_seconds",
            "Unixtime mtime of textfiles successfully read.",
            &[("file", &file)],
            secs as f64,
        );
    }
    out.gauge(
        "node_textfile_scrape_error",
        "1 if there was an error opening or reading a file, 0 otherwise",
        &[],
        if errored { 1.0 } else { 0.0 },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_textfiles_like_node_exporter() {
        let fams = parse_textfile(
            "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total{a=\"b\"} 3\n\
             # TYPE legacy counter\nlegacy 1\nother 5\n\
             # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
            "/d/a.prom",
        )
        .unwrap();
        assert_eq!(fams[0].name, "jobs");
        assert_eq!(fams[0].typ, MetricType::Counter);
        assert_eq!(fams[0].help, "Jobs.");
        assert_eq!(fams[0].samples[0].name, "jobs_total");
        assert_eq!(fams[1].typ, MetricType::Unknown);
        assert_eq!(fams[2].help, "Metric read from /d/a.prom");
        assert_eq!(fams[3].samples.len(), 4);
        let mut f = Families::default();
        for fam in fams {
            f.insert_family(&exposed_name(&fam), fam);
        }
        let mut s = String::new();
        super::super::expose::write(
            &mut s,
            &f.into_sorted(),
            &promplay_exposition::Format::text(),
        );
        assert!(
            s.contains(
                "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"
            ),
            "{s}"
        );
        assert!(
            s.contains("# TYPE jobs_total counter\njobs_total{a=\"b\"} 3\n"),
            "{s}"
        );
        let err = parse_textfile("x 1 1700000000000\n", "/d/t.prom").unwrap_err();
        assert!(err.contains("client-side timestamps"), "{err}");
        let err = parse_textfile("bad line {\n", "/d/b.prom").unwrap_err();
        assert!(
            err.starts_with("failed to parse textfile data from \"/d/b.prom\""),
            "{err}"
        );
    }
}

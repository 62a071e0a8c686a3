//! `promplay test rules [--run REGEX]... [--ignore-unknown-fields] FILE...`: promtool's rule
//! unit tests.
//!
//! Output contract (promtool's): per file `Unit Testing:  FILE` then `  SUCCESS` (stdout), or
//! `  FAILED:` and each failure (stderr) each followed by a blank line (stdout), then a blank
//! line. Exit code 0 if every file passed, 1 otherwise.

use std::io::Write as _;
use std::path::Path;

use promplay_rules::unittest::{junit_xml, run_files_junit, Files, Out, TestOptions};

#[derive(clap::Args)]
pub struct Args {
    /// Only run test groups whose name matches this regular expression (repeatable).
    #[arg(long = "run")]
    pub run: Vec<String>,
    /// Ignore unknown fields in the rule files.
    #[arg(long = "ignore-unknown-fields")]
    pub ignore_unknown_fields: bool,
    /// File path to store JUnit XML test results.
    #[arg(long = "junit")]
    pub junit: Option<String>,
    /// Unit-test files.
    #[arg(required = true)]
    pub files: Vec<String>,
}

struct Fs;

impl Files for Fs {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| format!("open {path}: {}", io_reason(&e)))
    }

    fn glob(&self, pattern: &str) -> Result<Vec<String>, String> {
        Ok(glob(pattern))
    }
}

/// Go's wording of common I/O errors.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `filepath.Glob`, with wildcards allowed in the last path component only.
pub fn glob(pattern: &str) -> Vec<String> {
    let has_meta = |s: &str| s.contains(['*', '?', '[']);
    if !has_meta(pattern) {
        return if Path::new(pattern).exists() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(i) => (&pattern[..i], &pattern[i + 1..]),
        None => ("", pattern),
    };
    if has_meta(dir) {
        return Vec::new();
    }
    let Ok(rd) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| promplay_alertmanager::glob_match(file, n))
        .map(|n| {
            if dir.is_empty() {
                n
            } else {
                format!("{dir}/{n}")
            }
        })
        .collect();
    out.sort();
    out
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let run = if args.run.is_empty() {
        None
    } else {
        Some(regex::Regex::new(&args.run.join("|"))?)
    };
    // The suites' timestamp (`2006-01-02T15:04:05`, UTC).
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let timestamp = promplay_rules::api::rfc3339(Some(now_ms / 1000 * 1000))
        .trim_end_matches('Z')
        .to_string();
    let opts = TestOptions {
        run,
        ignore_unknown_fields: args.ignore_unknown_fields,
        timestamp,
    };
    let (lines, code, suites) = run_files_junit(&args.files, &Fs, &opts);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    for l in lines {
        match l {
            Out::Stdout(s) => {
                let mut o = stdout.lock();
                writeln!(o, "{s}")?;
                o.flush()?;
            }
            Out::Stderr(s) => {
                let mut e = stderr.lock();
                writeln!(e, "{s}")?;
                e.flush()?;
            }
        }
    }
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, junit_xml(&suites)) {
            eprintln!("failed to write JUnit XML: {e}");
        }
    }
    Ok(code)
}

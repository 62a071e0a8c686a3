//! `promplay check config FILE...`: promtool's `check config` (cmd/promtool/main.go
//! `CheckConfig`/`checkConfig`): load each file as Prometheus does, check the files it refers
//! to (rule files, scrape config files, credentials and TLS files, file-SD files), check its
//! static and file-SD targets, lint scrape intervals against the lookback delta.
//!
//! Output (stdout/stderr split and wording) and exit codes are promtool's: 0 valid, 1 invalid,
//! 3 lint problems with `--lint-fatal`. The rule files it names are checked as
//! `promplay check rules` checks them (the rules crate's `check_rules`).

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use promplay_rules::check::check_rules;
use promplay_server::alerting::alertmanagers_from_group;
use promplay_server::config::{
    parse_scrape_config_file, parse_sd_file, AlertmanagerConfig, Config, ScrapeConfig, TlsConfig,
    YamlValue,
};
use promplay_server::scrape::{targets_from_group, TargetGroup};
use promplay_server::Duration;

const SUCCESS: i32 = 0;
const FAILURE: i32 = 1;
const LINT_ERROR: i32 = 3;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The config files to check.
    #[arg(required = true, value_name = "CONFIG-FILES")]
    pub files: Vec<PathBuf>,
    /// Only check the config file syntax, ignoring file and content validation referenced in
    /// the config.
    #[arg(long)]
    pub syntax_only: bool,
    /// Linting checks to apply to the rules/scrape configs specified in the config. Available
    /// options are: all, duplicate-rules, none, too-long-scrape-interval. Use --lint=none to
    /// disable linting.
    #[arg(long, default_value = "duplicate-rules")]
    pub lint: String,
    /// Make lint errors exit with exit code 3.
    #[arg(long)]
    pub lint_fatal: bool,
    /// Check config file for Prometheus in Agent mode.
    #[arg(long)]
    pub agent: bool,
    /// Ignore unknown fields in the rule groups read by the config files.
    #[arg(long)]
    pub ignore_unknown_fields: bool,
    /// The server's maximum query lookback duration.
    #[arg(long = "query.lookback-delta", default_value = "5m", value_parser = parse_duration)]
    pub lookback_delta: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    Duration::parse(s)
}

/// Lint settings derived from `--lint` (promtool's `newConfigLintConfig`).
struct Lint {
    /// 0 disables the scrape interval lint.
    lookback_delta: Duration,
    /// The duplicate-rules lint of the rule files.
    duplicate_rules: bool,
}

fn lint_settings(args: &Args) -> Lint {
    let mut lookback = Duration::ZERO;
    let mut none = false;
    let mut duplicate_rules = false;
    for setting in args.lint.split(',') {
        match setting {
            "all" => {
                lookback = args.lookback_delta;
                duplicate_rules = true;
            }
            "too-long-scrape-interval" => lookback = args.lookback_delta,
            "duplicate-rules" => duplicate_rules = true,
            "none" => none = true,
            _ => {}
        }
    }
    if none {
        lookback = Duration::ZERO;
        duplicate_rules = false;
    }
    Lint {
        lookback_delta: lookback,
        duplicate_rules,
    }
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_to(args, &mut stdout.lock(), &mut stderr.lock())
}

/// [`run`] writing to the given streams (stdout, stderr).
pub fn run_to(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<i32> {
    for f in &args.files {
        if !f.exists() {
            writeln!(
                err,
                "promplay: error: path '{}' does not exist, try --help",
                f.display()
            )?;
            return Ok(FAILURE);
        }
    }
    let lint = lint_settings(args);
    let mut failed = false;
    let mut has_errors = false;
    for f in &args.files {
        let name = f.display().to_string();
        writeln!(out, "Checking {name}")?;
        let (rule_files, scrape_configs) = match check_config(args, f, out) {
            Err(e) => {
                writeln!(err, "  FAILED: {e}")?;
                has_errors = true;
                failed = true;
                (Vec::new(), Vec::new())
            }
            Ok((rule_files, scrape_configs)) => {
                if !rule_files.is_empty() {
                    writeln!(out, "  SUCCESS: {} rule files found", rule_files.len())?;
                }
                writeln!(
                    out,
                    " SUCCESS: {name} is valid prometheus config file syntax"
                )?;
                (rule_files, scrape_configs)
            }
        };
        writeln!(out)?;
        if !args.syntax_only {
            failed |= lint_scrape_configs(&scrape_configs, &lint, err)?;
            let (rules_failed, rules_errors) =
                check_rule_files(&rule_files, args.ignore_unknown_fields, &lint, out, err)?;
            failed |= rules_failed;
            has_errors |= rules_errors;
        }
    }
    Ok(if failed && has_errors {
        FAILURE
    } else if failed && args.lint_fatal {
        LINT_ERROR
    } else {
        SUCCESS
    })
}

/// `checkConfig`: the rule files found and the scrape configs, or the first error.
fn check_config(
    args: &Args,
    file: &Path,
    out: &mut dyn Write,
) -> Result<(Vec<String>, Vec<ScrapeConfig>), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("open {}: {}", file.display(), io_text(&e)))?;
    let cfg =
        Config::load(&text).map_err(|e| format!("parsing YAML file {}: {e}", file.display()))?;
    if args.agent {
        if !cfg.alerting.alertmanagers.is_empty() || !cfg.alerting.alert_relabel_configs.is_empty()
        {
            return Err("field alerting is not allowed in agent mode".into());
        }
        if !cfg.rule_files.is_empty() {
            return Err("field rule_files is not allowed in agent mode".into());
        }
        if !cfg.remote_read.is_empty() {
            return Err("field remote_read is not allowed in agent mode".into());
        }
    }
    let dir = go_dir(file);
    let syntax_only = args.syntax_only;

    let mut rule_files = Vec::new();
    if !syntax_only {
        for rf in &cfg.rule_files {
            let rf = join_dir(&dir, rf);
            let found = glob(&rf);
            if !rf.contains('*') {
                if found.is_empty() {
                    return Err(format!("{rf:?} does not point to an existing file"));
                }
                check_file_exists(&found[0])
                    .map_err(|e| format!("error checking rule file {:?}: {e}", found[0]))?;
            }
            rule_files.extend(found);
        }
    }

    let mut scrape_configs = cfg.scrape_configs.clone();
    if !syntax_only {
        let mut job_files: Vec<(String, String)> = scrape_configs
            .iter()
            .map(|s| (s.job_name.clone(), "main config file".to_string()))
            .collect();
        for pat in &cfg.scrape_config_files {
            for f in glob(&join_dir(&dir, pat)) {
                let abs = absolute(&f);
                let file_err = |e: String| format!("error loading scrape configs: {abs:?}: {e}");
                let text = std::fs::read_to_string(&f).map_err(|e| file_err(io_text(&e)))?;
                let scs = parse_scrape_config_file(&text, &cfg.global)
                    .map_err(|e| file_err(e.to_string()))?;
                for sc in scs {
                    if let Some((_, first)) = job_files.iter().find(|(j, _)| *j == sc.job_name) {
                        return Err(file_err(format!(
                            "found multiple scrape configs with job name {:?}, first found in {first}",
                            sc.job_name
                        )));
                    }
                    job_files.push((sc.job_name.clone(), format!("{abs:?}")));
                    scrape_configs.push(sc);
                }
            }
        }
    }

    for sc in &scrape_configs {
        let http = &sc.http_client_config;
        if !syntax_only {
            if let Some(a) = &http.authorization {
                let cf = join_dir(&dir, &a.credentials_file);
                check_file_exists(&cf).map_err(|e| {
                    format!(
                        "error checking authorization credentials or bearer token file {cf:?}: {e}"
                    )
                })?;
            }
        }
        check_tls_config(&http.tls_config, &dir, syntax_only)?;
        if let Some(k8s) = sc.service_discovery.other.get("kubernetes_sd_configs") {
            for tls in kubernetes_tls_configs(k8s) {
                check_tls_config(&tls, &dir, syntax_only)?;
            }
        }
        if !syntax_only {
            for fsd in &sc.service_discovery.file_sd_configs {
                for pat in &fsd.files {
                    let pat = join_dir(&dir, pat);
                    let found = glob(&pat);
                    if found.is_empty() {
                        let _ = writeln!(
                            out,
                            "  WARNING: file {pat:?} for file_sd in scrape job {:?} does not exist",
                            sc.job_name
                        );
                        continue;
                    }
                    for f in found {
                        let groups = check_sd_file(&f)
                            .map_err(|e| format!("checking SD file {pat:?}: {e}"))?;
                        check_groups_for_scrape_config(&groups, sc)?;
                    }
                }
            }
        }
        let static_groups: Vec<TargetGroup> = sc
            .service_discovery
            .static_configs
            .iter()
            .enumerate()
            .map(|(i, s)| TargetGroup::from_static(s, i))
            .collect();
        check_groups_for_scrape_config(&static_groups, sc)?;
    }

    for am in &cfg.alerting.alertmanagers {
        if !syntax_only {
            for fsd in &am.service_discovery.file_sd_configs {
                for pat in &fsd.files {
                    let pat = join_dir(&dir, pat);
                    let found = glob(&pat);
                    if found.is_empty() {
                        let _ = writeln!(
                            out,
                            "  WARNING: file {pat:?} for file_sd in alertmanager config does not exist"
                        );
                        continue;
                    }
                    for f in found {
                        let groups = check_sd_file(&f)
                            .map_err(|e| format!("checking SD file {pat:?}: {e}"))?;
                        check_groups_for_alertmanager(&groups, am)?;
                    }
                }
            }
        }
        let static_groups: Vec<TargetGroup> = am
            .service_discovery
            .static_configs
            .iter()
            .enumerate()
            .map(|(i, s)| TargetGroup::from_static(s, i))
            .collect();
        check_groups_for_alertmanager(&static_groups, am)?;
    }
    Ok((rule_files, scrape_configs))
}

fn check_tls_config(tls: &TlsConfig, dir: &str, syntax_only: bool) -> Result<(), String> {
    if !tls.cert_file.is_empty() && tls.key_file.is_empty() {
        return Err(format!(
            "client cert file {:?} specified without client key file",
            join_dir(dir, &tls.cert_file)
        ));
    }
    if !tls.key_file.is_empty() && tls.cert_file.is_empty() {
        return Err(format!(
            "client key file {:?} specified without client cert file",
            join_dir(dir, &tls.key_file)
        ));
    }
    if syntax_only {
        return Ok(());
    }
    let cert = join_dir(dir, &tls.cert_file);
    check_file_exists(&cert)
        .map_err(|e| format!("error checking client cert file {cert:?}: {e}"))?;
    let key = join_dir(dir, &tls.key_file);
    check_file_exists(&key).map_err(|e| format!("error checking client key file {key:?}: {e}"))?;
    Ok(())
}

/// The `tls_config` of each `kubernetes_sd_configs` entry (kept as YAML by the engine).
fn kubernetes_tls_configs(v: &YamlValue) -> Vec<TlsConfig> {
    let Some(seq) = v.as_sequence() else {
        return Vec::new();
    };
    seq.iter()
        .filter_map(|c| c.get("tls_config"))
        .map(|t| {
            let field = |k: &str| t.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            TlsConfig {
                cert_file: field("cert_file"),
                key_file: field("key_file"),
                ..TlsConfig::default()
            }
        })
        .collect()
}

/// `checkSDFile`: a file-SD file's target groups.
fn check_sd_file(path: &str) -> Result<Vec<TargetGroup>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("open {path}: {}", io_text(&e)))?;
    let ext = Path::new(path)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    match ext.to_lowercase().as_str() {
        ".json" | ".yml" | ".yaml" => {}
        _ => return Err(format!("invalid file extension: {ext:?}")),
    }
    let groups = parse_sd_file(&text).map_err(|e| e.to_string())?;
    Ok(groups
        .iter()
        .map(|g| {
            let mut tg = TargetGroup::from_static(g, 0);
            tg.source = String::new();
            tg
        })
        .collect())
}

/// `checkTargetGroupsForScrapeConfig`: the first target that cannot be created.
fn check_groups_for_scrape_config(groups: &[TargetGroup], sc: &ScrapeConfig) -> Result<(), String> {
    for tg in groups {
        let (_, _, failures) = targets_from_group(sc, tg);
        if let Some(first) = failures.into_iter().next() {
            return Err(first);
        }
    }
    Ok(())
}

/// `checkTargetGroupsForAlertmanager` (`notifier.AlertmanagerFromGroup`): relabel each
/// Alertmanager target and check its address.
fn check_groups_for_alertmanager(
    groups: &[TargetGroup],
    am: &AlertmanagerConfig,
) -> Result<(), String> {
    for tg in groups {
        alertmanagers_from_group(tg, am)?;
    }
    Ok(())
}

/// `lintScrapeConfigs`: a scrape interval at or above the lookback delta makes every sample
/// stale between scrapes.
fn lint_scrape_configs(
    scs: &[ScrapeConfig],
    lint: &Lint,
    err: &mut dyn Write,
) -> std::io::Result<bool> {
    for sc in scs {
        if !lint.lookback_delta.is_zero() && sc.scrape_interval >= lint.lookback_delta {
            writeln!(
                err,
                "  FAILED: too long scrape interval found, data point will be marked as stale - job: {}, interval: {}",
                sc.job_name, sc.scrape_interval
            )?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// promtool's `checkRules` over the rule files the config names: `Checking FILE`, then
/// `  SUCCESS: N rules found` or `  FAILED:` with the errors or the duplicate-rules lint.
/// Returns (failed, has_errors).
fn check_rule_files(
    files: &[String],
    ignore_unknown_fields: bool,
    lint: &Lint,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<(bool, bool)> {
    let mut failed = false;
    let mut has_errors = false;
    for f in files {
        writeln!(out, "Checking {f}")?;
        let content = match std::fs::read_to_string(f) {
            Ok(c) => c,
            Err(e) => {
                writeln!(err, "  FAILED:")?;
                writeln!(err, "{f}: open {f}: {}", io_text(&e))?;
                failed = true;
                has_errors = true;
                continue;
            }
        };
        let report = check_rules(f, &content, ignore_unknown_fields, lint.duplicate_rules);
        if !report.ok() {
            writeln!(err, "  FAILED:")?;
            for e in &report.errors {
                writeln!(err, "{e}")?;
            }
            failed = true;
            has_errors = true;
            continue;
        }
        match &report.lint {
            Some(l) => {
                writeln!(err, "  FAILED:")?;
                writeln!(err, "{l}")?;
                failed = true;
            }
            None => writeln!(out, "  SUCCESS: {} rules found", report.rules)?,
        }
        writeln!(out)?;
    }
    Ok((failed, has_errors))
}

/// Go's `os.Stat` error text for a missing file.
fn check_file_exists(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Ok(());
    }
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| format!("stat {path}: {}", io_text(&e)))
}

/// An I/O error as Go's syscall package words it.
fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    }
}

/// `filepath.Dir`.
fn go_dir(file: &Path) -> String {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => clean(&p.to_string_lossy()),
        _ => ".".into(),
    }
}

/// `config.JoinDir`: relative paths are taken relative to the config file's directory.
fn join_dir(dir: &str, path: &str) -> String {
    if path.is_empty() || Path::new(path).is_absolute() {
        return path.to_string();
    }
    clean(&format!("{dir}/{path}"))
}

/// `filepath.Clean`, lexically.
fn clean(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<String> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if parts.last().is_some_and(|l| l != "..") {
                    parts.pop();
                } else if !abs {
                    parts.push("..".into());
                }
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn absolute(p: &str) -> String {
    if Path::new(p).is_absolute() {
        return clean(p);
    }
    match std::env::current_dir() {
        Ok(d) => clean(&format!("{}/{p}", d.display())),
        Err(_) => p.to_string(),
    }
}

/// `filepath.Glob` for patterns whose metacharacters are in the last element (as
/// `rule_files` allows): sorted matches; a pattern without metacharacters matches itself if
/// it exists.
fn glob(pattern: &str) -> Vec<String> {
    let has_meta = |s: &str| s.contains(['*', '?', '[']);
    if !has_meta(pattern) {
        return if Path::new(pattern).exists() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    }
    let (dir, base) = match pattern.rfind('/') {
        Some(i) => (&pattern[..i], &pattern[i + 1..]),
        None => ("", pattern),
    };
    if has_meta(dir) {
        return Vec::new();
    }
    let read_dir = if dir.is_empty() { "." } else { dir };
    let Ok(entries) = std::fs::read_dir(read_dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| wildcard_match(base.as_bytes(), n.as_bytes()))
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

/// `filepath.Match` for one path element: `*`, `?`, `[...]` classes (with `^` negation and
/// ranges), `\` escapes. Iterative with backtracking on the last `*`.
fn wildcard_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, len)) = class_match(&pat[p..], name[n]) {
                        if matched {
                            p += len;
                            n += 1;
                            continue;
                        }
                    }
                }
                b'\\' if p + 1 < pat.len() => {
                    if pat[p + 1] == name[n] {
                        p += 2;
                        n += 1;
                        continue;
                    }
                }
                c => {
                    if c == name[n] {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, sn)) if sn < name.len() => {
                star = Some((sp, sn + 1));
                p = sp + 1;
                n = sn + 1;
            }
            _ => return false,
        }
    }
    pat[p..].iter().all(|c| *c == b'*')
}

/// Matches `c` against the class at the start of `pat` (`[...]`): (matched, class length).
fn class_match(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = pat.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pat.len() {
        if pat[i] == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let lo = pat[i];
        if i + 2 < pat.len() && pat[i + 1] == b'-' && pat[i + 2] != b']' {
            if lo <= c && c <= pat[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_and_clean_like_go() {
        assert_eq!(go_dir(Path::new("prometheus.yml")), ".");
        assert_eq!(join_dir(".", "rules.yml"), "rules.yml");
        assert_eq!(join_dir("a/b", "../c.yml"), "a/c.yml");
        assert_eq!(join_dir("a", "/etc/x.yml"), "/etc/x.yml");
        assert_eq!(clean("./a//b/./c"), "a/b/c");
    }

    #[test]
    fn glob_patterns() {
        assert!(wildcard_match(b"*.yml", b"rules.yml"));
        assert!(!wildcard_match(b"*.yml", b"rules.yaml"));
        assert!(wildcard_match(b"r?les-[a-c]*.y*", b"rules-b1.yml"));
        assert!(!wildcard_match(b"r[^u]les", b"rules"));
        assert!(wildcard_match(b"a*b*c", b"axxbyyc"));
    }

    fn check(files: &[&str], extra: &[&str]) -> (i32, String, String) {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        let dir = format!(
            "{}/../../shared/conformance/promtool/",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut argv: Vec<String> = vec!["check-config".into()];
        argv.extend(extra.iter().map(|s| s.to_string()));
        argv.extend(files.iter().map(|f| format!("{dir}{f}")));
        let cli = Cli::try_parse_from(argv).unwrap();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_to(&cli.args, &mut out, &mut err).unwrap();
        let clean_dir = clean(&dir);
        let norm = |b: Vec<u8>| {
            String::from_utf8(b)
                .unwrap()
                .replace(&format!("{clean_dir}/"), "")
                .replace(&dir, "")
        };
        (code, norm(out), norm(err))
    }

    #[test]
    fn promtool_config_corpus_outcomes() {
        // (file, exit code, expected stderr)
        let cases: &[(&str, i32, &str)] = &[
            ("prometheus-config.good.yml", 0, ""),
            ("prometheus-aws-sd-empty-region.good.yml", 0, ""),
            ("authorization_credentials_file.good.yml", 0, ""),
            ("url_in_scrape_targetgroup_with_relabel_config.good.yml", 0, ""),
            ("url_in_alert_targetgroup_with_relabel_config.good.yml", 0, ""),
            ("config_with_service_discovery_files.yml", 0, ""),
            ("prometheus-config.lint.too_long_scrape_interval.yml", 0, ""),
            (
                "prometheus-config.bad.yml",
                1,
                "  FAILED: parsing YAML file prometheus-config.bad.yml: yaml: unmarshal errors:\n  line 1: field not-prometheus not found in type config.plain\n",
            ),
            (
                "authorization_credentials_file.bad.yml",
                1,
                "  FAILED: error checking authorization credentials or bearer token file \"/random/file/which/does/not/exist.yml\": stat /random/file/which/does/not/exist.yml: no such file or directory\n",
            ),
            (
                "config_with_rule_files.yml",
                1,
                "  FAILED: \"non-existent-file.yml\" does not point to an existing file\n",
            ),
            (
                "config_with_tls_files.yml",
                1,
                "  FAILED: error checking client cert file \"nonexistent_cert_file.yml\": stat nonexistent_cert_file.yml: no such file or directory\n",
            ),
            (
                "url_in_scrape_targetgroup_with_relabel_config.bad.yml",
                1,
                "  FAILED: instance 0 in group 0: \"http://bad\" is not a valid hostname\n",
            ),
            (
                "url_in_alert_targetgroup_with_relabel_config.bad.yml",
                1,
                "  FAILED: \"http://bad\" is not a valid hostname\n",
            ),
        ];
        for (file, code, stderr) in cases {
            let (got_code, out, err) = check(&[file], &[]);
            assert_eq!(got_code, *code, "{file}\n{out}{err}");
            assert_eq!(err, *stderr, "{file}");
            assert!(out.starts_with(&format!("Checking {file}\n")), "{out}");
            if *code == 0 {
                assert!(
                    out.contains(&format!(
                        " SUCCESS: {file} is valid prometheus config file syntax\n\n"
                    )),
                    "{out}"
                );
            }
        }
    }

    #[test]
    fn rule_files_are_checked_as_check_rules_does() {
        let (code, out, _) = check(
            &["prometheus-config.lint.too_long_scrape_interval.yml"],
            &[],
        );
        assert_eq!(code, 0);
        assert_eq!(
            out,
            "Checking prometheus-config.lint.too_long_scrape_interval.yml\n  SUCCESS: 1 rule files found\n SUCCESS: prometheus-config.lint.too_long_scrape_interval.yml is valid prometheus config file syntax\n\nChecking prometheus-config.rules.good.yml\n  SUCCESS: 0 rules found\n\n"
        );
    }

    #[test]
    fn too_long_scrape_interval_is_a_lint_problem() {
        let f = "prometheus-config.lint.too_long_scrape_interval.yml";
        let want = "  FAILED: too long scrape interval found, data point will be marked as stale - job: too_long_scrape_interval_test, interval: 10m\n";
        let (code, _, err) = check(&[f], &["--lint=all"]);
        assert_eq!((code, err.as_str()), (0, want));
        let (code, _, err) = check(&[f], &["--lint=too-long-scrape-interval", "--lint-fatal"]);
        assert_eq!((code, err.as_str()), (3, want));
        let (code, _, err) = check(
            &[f],
            &["--lint=all", "--lint-fatal", "--query.lookback-delta=11m"],
        );
        assert_eq!((code, err.as_str()), (0, ""));
    }

    #[test]
    fn syntax_only_skips_file_checks_and_agent_mode_rejects_rules() {
        let (code, out, err) = check(
            &["config_with_tls_files.yml", "config_with_rule_files.yml"],
            &["--syntax-only"],
        );
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains("rule files found"));
        let (code, _, err) = check(&["config_with_rule_files.yml"], &["--agent"]);
        assert_eq!(code, 1);
        assert_eq!(
            err,
            "  FAILED: field rule_files is not allowed in agent mode\n"
        );
        // Several files: all are checked, the exit code is the worst.
        let (code, out, _) = check(
            &["prometheus-config.bad.yml", "prometheus-config.good.yml"],
            &[],
        );
        assert_eq!(code, 1);
        assert!(out.contains("Checking prometheus-config.good.yml\n SUCCESS"));
    }

    #[test]
    fn the_seed_config_checks() {
        let (code, out, err) = check(&["../../peers/conf/prometheus.yml"], &[]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("  SUCCESS: 1 rule files found\n"), "{out}");
        assert!(
            out.contains("Checking ../../peers/conf/rules.yml\n")
                || out.contains("peers/conf/rules.yml\n"),
            "{out}"
        );
    }

    #[test]
    fn scrape_config_files_are_loaded_and_job_names_stay_unique() {
        let dir =
            std::env::temp_dir().join(format!("promplay-check-config-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("jobs")).unwrap();
        std::fs::write(
            dir.join("prometheus.yml"),
            "global:\n  scrape_interval: 20m\nscrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: main\n",
        )
        .unwrap();
        std::fs::write(dir.join("jobs/a.yml"), "scrape_configs:\n  - job_name: a\n").unwrap();
        let args = |lint: &str| Args {
            files: vec![dir.join("prometheus.yml")],
            syntax_only: false,
            lint: lint.into(),
            lint_fatal: true,
            agent: false,
            ignore_unknown_fields: false,
            lookback_delta: Duration::from_secs(300),
        };
        // The job from the scrape config file is linted like the others.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run_to(&args("all"), &mut out, &mut err).unwrap(), 3);
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains("job: main, interval: 20m"), "{err}");
        // A job name used twice.
        std::fs::write(
            dir.join("jobs/b.yml"),
            "scrape_configs:\n  - job_name: main\n",
        )
        .unwrap();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run_to(&args("none"), &mut out, &mut err).unwrap(), 1);
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.contains("error loading scrape configs: ")
                && err.contains("jobs/b.yml\": found multiple scrape configs with job name \"main\", first found in main config file"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn duplicate_rules_in_a_referenced_rule_file_are_a_lint_problem() {
        let f = "prometheus-config.lint.yml";
        let (code, out, err) = check(&[f], &[]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("  SUCCESS: 1 rule files found\n"), "{out}");
        assert!(
            out.contains("Checking prometheus-rules.lint.yml\n"),
            "{out}"
        );
        assert!(
            err.starts_with(
                "  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: HighRequestLatency\n"
            ),
            "{err}"
        );
        let (code, _, _) = check(&[f], &["--lint-fatal"]);
        assert_eq!(code, 3);
        let (code, _, err) = check(&[f], &["--lint=none", "--lint-fatal"]);
        assert_eq!((code, err.as_str()), (0, ""));
    }

    #[test]
    fn kubernetes_sd_tls_files_are_checked() {
        let dir = std::env::temp_dir().join(format!("promplay-check-k8s-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("prometheus.yml"),
            "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - role: pod\n        tls_config:\n          cert_file: c.pem\n",
        )
        .unwrap();
        let args = Args {
            files: vec![dir.join("prometheus.yml")],
            syntax_only: true,
            lint: "none".into(),
            lint_fatal: false,
            agent: false,
            ignore_unknown_fields: false,
            lookback_delta: Duration::from_secs(300),
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run_to(&args, &mut out, &mut err).unwrap(), 1);
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.contains("c.pem\" specified without client key file"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

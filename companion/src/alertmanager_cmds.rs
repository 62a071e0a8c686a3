//! Alertmanager verbs, as amtool does them:
//!
//! - `promplay check alertmanager FILE...` (amtool `check-config`): prints
//!   `Checking 'FILE'  SUCCESS` and what was found, or `  FAILED: <error>`; exit 1 when any
//!   file fails.
//! - `promplay routes test --config FILE [--tree] [--verify.receivers R] label=value...`
//!   (amtool `config routes test`): prints the receivers the label set is routed to,
//!   comma-separated; `--tree` first prints the path through the routing tree.
//! - `promplay routes show --config FILE` (amtool `config routes show`): the routing tree.

use std::io::Write;
use std::path::{Path, PathBuf};

use promplay_alertmanager::matchers::parse_matcher;
use promplay_alertmanager::route::{show_routes, test_routes, Route};
use promplay_alertmanager::template::Template;
use promplay_alertmanager::{glob_match, Config};
use promplay_model::{Label, Labels, MatchType};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Alertmanager configuration files to check
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RoutesTestArgs {
    /// The Alertmanager configuration file
    #[arg(long = "config", visible_alias = "config.file")]
    pub config: PathBuf,
    /// Print the matching routes tree
    #[arg(long)]
    pub tree: bool,
    /// Fail unless the label set is routed to exactly these receivers (comma-separated)
    #[arg(long = "verify.receivers")]
    pub verify_receivers: Option<String>,
    /// Labels of the alert, as name=value
    pub labels: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RoutesShowArgs {
    /// The Alertmanager configuration file
    #[arg(long = "config", visible_alias = "config.file")]
    pub config: PathBuf,
}

pub fn run_check(args: &CheckArgs) -> anyhow::Result<i32> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    check(&args.files, &mut stdout.lock(), &mut stderr.lock())
}

pub fn run_routes_test(args: &RoutesTestArgs) -> anyhow::Result<i32> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    routes_test(args, &mut stdout.lock(), &mut stderr.lock())
}

pub fn run_routes_show(args: &RoutesShowArgs) -> anyhow::Result<i32> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let route = match load_route(&args.config) {
        Ok(r) => r,
        Err(e) => {
            writeln!(stderr.lock(), "promplay: error: {e}")?;
            return Ok(1);
        }
    };
    write!(stdout.lock(), "{}", show_routes(&route))?;
    Ok(0)
}

/// Expands a `templates` glob (relative to the config's directory); only the last path
/// component may hold wildcards. A glob matching nothing is not an error (as in amtool).
fn expand_glob(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let full = base.join(pattern);
    let (dir, file_pat) = match (full.parent(), full.file_name()) {
        (Some(d), Some(f)) => (d.to_path_buf(), f.to_string_lossy().into_owned()),
        _ => return Vec::new(),
    };
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| glob_match(&file_pat, &e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// amtool `check-config` for `files`; returns the exit code.
pub fn check(files: &[PathBuf], out: &mut impl Write, err: &mut impl Write) -> anyhow::Result<i32> {
    // amtool refuses missing files before checking any (kingpin's ExistingFiles).
    if let Some(f) = files.iter().find(|f| !f.exists()) {
        writeln!(
            err,
            "promplay: error: path '{}' does not exist",
            f.display()
        )?;
        return Ok(1);
    }
    let mut failed = 0;
    for f in files {
        write!(out, "Checking '{}'", f.display())?;
        let cfg = match std::fs::read_to_string(f) {
            Err(e) => Err(e.to_string()),
            Ok(src) => Config::load(&src).map_err(|e| e.to_string()),
        };
        match &cfg {
            Err(e) => {
                writeln!(out, "  FAILED: {e}")?;
                failed += 1;
            }
            Ok(_) => writeln!(out, "  SUCCESS")?,
        }
        if let Ok(cfg) = cfg {
            writeln!(out, "Found:")?;
            writeln!(out, " - global config")?;
            writeln!(out, " - route")?;
            writeln!(out, " - {} inhibit rules", cfg.inhibit_rules.len())?;
            writeln!(out, " - {} receivers", cfg.receivers.len())?;
            writeln!(out, " - {} templates", cfg.templates.len())?;
            if !cfg.templates.is_empty() {
                let base = f.parent().unwrap_or(Path::new("."));
                let mut t = Template::with_defaults();
                let mut terr = None;
                'globs: for g in &cfg.templates {
                    for p in expand_glob(base, g) {
                        let parsed = std::fs::read_to_string(&p)
                            .map_err(|e| e.to_string())
                            .and_then(|src| {
                                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                                t.parse(&name.unwrap_or_default(), &src)
                                    .map_err(|e| e.to_string())
                            });
                        if let Err(e) = parsed {
                            terr = Some(e);
                            break 'globs;
                        }
                    }
                }
                match terr {
                    Some(e) => {
                        writeln!(out, "  FAILED: {e}")?;
                        failed += 1;
                    }
                    None => writeln!(out, "  SUCCESS")?,
                }
            }
            for w in &cfg.warnings {
                writeln!(err, "warning: {w}")?;
            }
        }
        writeln!(out)?;
    }
    if failed > 0 {
        writeln!(err, "promplay: error: failed to validate {failed} file(s)")?;
        return Ok(1);
    }
    Ok(0)
}

fn load_route(path: &Path) -> Result<Route, String> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg = Config::load(&src).map_err(|e| e.to_string())?;
    let root = cfg.route.as_ref().ok_or("no routes provided")?;
    Route::new(root).map_err(|e| e.to_string())
}

/// amtool `config routes test`; returns the exit code.
pub fn routes_test(
    args: &RoutesTestArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<i32> {
    if !args.config.exists() {
        writeln!(
            err,
            "promplay: error: path '{}' does not exist",
            args.config.display()
        )?;
        return Ok(1);
    }
    let route = match load_route(&args.config) {
        Ok(r) => r,
        Err(e) => {
            writeln!(err, "promplay: error: {e}")?;
            return Ok(1);
        }
    };
    let mut labels = Vec::new();
    for l in &args.labels {
        let m = match parse_matcher(l) {
            Ok(m) => m,
            Err(e) => {
                writeln!(err, "promplay: error: Failed to parse labels: {e}\n")?;
                return Ok(1);
            }
        };
        if m.kind != MatchType::Equal {
            writeln!(
                err,
                "promplay: error: Failed to parse labels: labels must be specified as key=value pairs\n"
            )?;
            return Ok(1);
        }
        labels.push(Label::new(m.name, m.value));
    }
    let labels = Labels::new(labels);
    let t = test_routes(&route, &labels);
    if args.tree {
        write!(out, "{}", t.tree)?;
    }
    let slug = t.receivers.join(",");
    writeln!(out, "{slug}")?;
    if let Some(want) = &args.verify_receivers {
        if !want.is_empty() && *want != slug {
            writeln!(
                out,
                "WARNING: Expected receivers did not match resolved receivers."
            )?;
            return Ok(1);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/conf/alertmanager.yml")
    }

    fn run_check_on(files: &[PathBuf]) -> (i32, String, String) {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let code = check(files, &mut o, &mut e).unwrap();
        (
            code,
            String::from_utf8(o).unwrap(),
            String::from_utf8(e).unwrap(),
        )
    }

    #[test]
    fn check_seed_succeeds_like_amtool() {
        let p = seed();
        let (code, out, _) = run_check_on(std::slice::from_ref(&p));
        assert_eq!(code, 0);
        assert_eq!(
            out,
            format!(
                "Checking '{}'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n - 1 receivers\n - 0 templates\n\n",
                p.display()
            )
        );
    }

    #[test]
    fn check_reports_error_and_exit_1() {
        let dir = std::env::temp_dir().join(format!("promplay-am-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.yml");
        std::fs::write(&bad, "route:\n  receiver: nope\nreceivers:\n  - name: a\n").unwrap();
        let tmpl = dir.join("t.yml");
        std::fs::write(
            &tmpl,
            "route: {receiver: a}\nreceivers: [{name: a}]\ntemplates: ['*.tmpl']\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("x.tmpl"),
            "{{ define \"x\" }}{{ .Status }}{{ end }}",
        )
        .unwrap();
        let (code, out, err) = run_check_on(&[bad.clone(), tmpl.clone()]);
        assert_eq!(code, 1);
        assert_eq!(
            out,
            format!(
                "Checking '{}'  FAILED: line 2: undefined receiver \"nope\" used in route\n\nChecking '{}'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n - 1 receivers\n - 1 templates\n  SUCCESS\n\n",
                bad.display(),
                tmpl.display()
            )
        );
        assert_eq!(err, "promplay: error: failed to validate 1 file(s)\n");
        std::fs::write(dir.join("x.tmpl"), "{{ if }}").unwrap();
        let (code, out, _) = run_check_on(&[tmpl]);
        assert_eq!(code, 1);
        assert!(
            out.contains(" - 1 templates\n  FAILED: template: x.tmpl:1:"),
            "{out}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    fn rt(labels: &[&str], tree: bool, verify: Option<&str>) -> (i32, String, String) {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("promplay-am-routes-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("am.yml");
        std::fs::write(
            &cfg,
            "route:\n  receiver: default\n  group_by: [alertname]\n  routes:\n    - matchers: ['severity=~\"crit.*\"']\n      receiver: pager\n      continue: true\n    - match: {team: db}\n      receiver: db\nreceivers: [{name: default}, {name: pager}, {name: db}]\n",
        )
        .unwrap();
        let args = RoutesTestArgs {
            config: cfg,
            tree,
            verify_receivers: verify.map(String::from),
            labels: labels.iter().map(|s| s.to_string()).collect(),
        };
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let code = routes_test(&args, &mut o, &mut e).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        (
            code,
            String::from_utf8(o).unwrap(),
            String::from_utf8(e).unwrap(),
        )
    }

    #[test]
    fn routes_test_prints_receivers() {
        assert_eq!(
            rt(&["severity=critical", "team=db"], false, None),
            (0, "pager,db\n".into(), String::new())
        );
        assert_eq!(rt(&["alertname=x"], false, None).1, "default\n");
        assert_eq!(rt(&["team=db"], false, Some("db")).0, 0);
        let (code, out, _) = rt(&["team=db"], false, Some("pager"));
        assert_eq!(code, 1);
        assert_eq!(
            out,
            "db\nWARNING: Expected receivers did not match resolved receivers.\n"
        );
        let (code, _, err) = rt(&["team!=db"], false, None);
        assert_eq!(code, 1);
        assert_eq!(
            err,
            "promplay: error: Failed to parse labels: labels must be specified as key=value pairs\n\n"
        );
    }

    #[test]
    fn routes_test_tree() {
        let (_, out, _) = rt(&["severity=critical"], true, None);
        assert_eq!(
            out,
            "Matching routes:\n.\n└── default-route\n    └── {severity=~\"crit.*\"}  receiver: pager\n\n\npager\n"
        );
    }
}

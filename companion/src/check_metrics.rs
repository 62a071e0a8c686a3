//! `promplay check metrics [--format text|openmetrics] [--lint] < FILE`: promtool's
//! `check metrics`. Reads an exposition on stdin and parses it (OpenMetrics strictly, every rule
//! of the reference parser). Exit 0: it parses (and, with `--lint`, has no lint problems);
//! 1: it does not, the error printed to stderr as `line:col: parse error: ...`; 3: `--lint`
//! found problems, printed to stderr one per line as promtool prints them (`metric text`).
//!
//! The format defaults to OpenMetrics when the input's last line is `# EOF`, else text 0.0.4.

use std::io::{Read, Write};

use promplay_exposition::{lint::lint, looks_like_openmetrics, parse, FormatKind, ParseOptions};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FormatArg {
    Text,
    Openmetrics,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input format [default: openmetrics if the input ends with "# EOF", else text]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Also report promtool's lint problems (exit 3 when there are any)
    #[arg(long)]
    pub lint: bool,
}

pub fn run(args: &Args) -> anyhow::Result<i32> {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input)?;
    let stderr = std::io::stderr();
    Ok(check(&input, args, &mut stderr.lock())?)
}

/// Checks `input`; writes the error or the problems to `err`; returns the exit code.
pub fn check(input: &[u8], args: &Args, err: &mut impl Write) -> std::io::Result<i32> {
    let kind = match args.format {
        Some(FormatArg::Text) => FormatKind::Text,
        Some(FormatArg::Openmetrics) => FormatKind::OpenMetrics,
        None if looks_like_openmetrics(input) => FormatKind::OpenMetrics,
        None => FormatKind::Text,
    };
    let families = match parse(input, kind, ParseOptions { strict: true }) {
        Ok(f) => f,
        Err(e) => {
            writeln!(err, "{e}")?;
            return Ok(1);
        }
    };
    if args.lint {
        let problems = lint(&families, kind == FormatKind::OpenMetrics);
        for p in &problems {
            writeln!(err, "{} {}", p.metric, p.text)?;
        }
        if !problems.is_empty() {
            return Ok(3);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_check(input: &str, format: Option<FormatArg>, lint: bool) -> (i32, String) {
        let mut err = Vec::new();
        let code = check(input.as_bytes(), &Args { format, lint }, &mut err).unwrap();
        (code, String::from_utf8(err).unwrap())
    }

    #[test]
    fn exit_codes_and_messages() {
        assert_eq!(run_check("a 1\n", None, false), (0, String::new()));
        assert_eq!(run_check("a 1\n# EOF\n", None, false), (0, String::new()));
        let (code, msg) = run_check("a 1\n", Some(FormatArg::Openmetrics), false);
        assert_eq!(
            (code, msg.as_str()),
            (1, "2:1: parse error: missing # EOF at end\n")
        );
        let (code, msg) = run_check("a{b=\"c\" 1\n", None, false);
        assert_eq!(code, 1);
        assert!(
            msg.starts_with("1:9: parse error: unexpected end of label value"),
            "{msg}"
        );
        let (code, msg) = run_check("# TYPE requests counter\nrequests 1\n", None, true);
        assert_eq!(code, 3);
        assert_eq!(
            msg,
            "requests counter metrics should have \"_total\" suffix\nrequests no help text\n"
        );
    }

    #[test]
    fn the_seed_apps_exposition_is_clean() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/samples");
        for f in ["hello-text.txt", "hello-openmetrics.txt"] {
            let input = std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
            assert_eq!(run_check(&input, None, true), (0, String::new()), "{f}");
        }
    }
}

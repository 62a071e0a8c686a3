//! The Workshop page's content: the seed's examples and its one-click queries, and the hello
//! app's `/metrics` split into lines with the last request's changes marked. Plain Rust.

/// The queries of the seed's exercises, with what each one shows.
pub const QUERIES: [(&str, &str); 4] = [
    ("requests per second", "rate(hello_worlds_total[1m])"),
    (
        "ratio of requests that failed",
        "rate(hello_world_exceptions_total[1m]) / rate(hello_worlds_total[1m])",
    ),
    (
        "euros made per second",
        "rate(hello_world_sales_euro_total[1m])",
    ),
    (
        "seconds since the last request",
        "time() - hello_world_last_time_seconds",
    ),
];

/// One line of a `/metrics` page.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsLine {
    pub text: String,
    /// The last request changed this sample.
    pub changed: bool,
}

/// Splits `body` into lines, marking the lines whose 1-based numbers are in `changed` (as
/// `HelloApp::changed_lines` gives them).
pub fn metrics_lines(body: &str, changed: &[usize]) -> Vec<MetricsLine> {
    body.lines()
        .enumerate()
        .map(|(i, l)| MetricsLine {
            text: l.to_string(),
            changed: changed.contains(&(i + 1)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::Playground;
    use crate::shape;
    use promplay_sim::Example;

    fn value(p: &Playground, q: &str) -> Vec<f64> {
        let o = p.instant_query(q, p.now_ms(), None).unwrap();
        shape::table(&o.value)
            .rows
            .iter()
            .map(|r| r.value.parse::<f64>().unwrap())
            .collect()
    }

    #[test]
    fn line_numbers_are_one_based() {
        let l = metrics_lines("# HELP a x\na 1\nb 2\n", &[2]);
        assert_eq!(l.len(), 3);
        assert!(!l[0].changed && l[1].changed && !l[2].changed);
    }

    #[test]
    fn every_seed_query_answers_on_the_seed_app() {
        let mut p = Playground::new();
        assert_eq!(p.example(), Some(Example::Hello));
        p.advance(20 * 60_000);
        let r = value(&p, QUERIES[0].1);
        assert_eq!(r.len(), 1);
        assert!(r[0] > 0.3 && r[0] < 3.0, "requests/s {r:?}");
        let ratio = value(&p, QUERIES[1].1);
        assert_eq!(ratio.len(), 1);
        assert!(ratio[0] > 0.0 && ratio[0] < 0.6, "ratio {ratio:?}");
        let euros = value(&p, QUERIES[2].1);
        assert!(euros[0] > 0.0, "{euros:?}");
        let since = value(&p, QUERIES[3].1);
        assert!(since[0] >= 0.0 && since[0] < 60.0, "{since:?}");
    }

    #[test]
    fn the_ratio_averages_to_the_failure_probability() {
        // hello.py fails with probability 0.2: over an hour the 1m ratios average near it.
        let mut p = Playground::new();
        let mut sum = 0.0;
        let n = 60;
        for _ in 0..n {
            p.advance(60_000);
            sum += value(&p, QUERIES[1].1)[0];
        }
        let mean = sum / n as f64;
        assert!((0.15..0.25).contains(&mean), "{mean}");
    }

    #[test]
    fn a_request_changes_lines_of_the_metrics_page() {
        let mut p = Playground::new();
        p.track_changes(true);
        p.send_request().unwrap();
        p.advance(5_000);
        let (body, changed) = p.app_metrics().unwrap();
        assert!(!changed.is_empty(), "the request changed something");
        let lines = metrics_lines(&body, &changed);
        assert!(lines
            .iter()
            .filter(|l| l.changed)
            .all(|l| !l.text.starts_with('#')));
        assert!(
            lines
                .iter()
                .any(|l| l.changed && l.text.starts_with("hello_worlds_total ")),
            "{:?}",
            lines.iter().filter(|l| l.changed).collect::<Vec<_>>()
        );
    }

    #[test]
    fn deploying_an_example_shows_its_metrics_and_a_stopped_app_refuses() {
        let mut p = Playground::new();
        p.set_example(Example::SetFunction).unwrap();
        let (body, _) = p.app_metrics().unwrap();
        assert!(body.contains("\ntime_seconds "), "{body}");
        assert!(!body.contains("hello_worlds_total"));
        p.act(
            crate::playground::HELLO_APP,
            crate::playground::HostAction::Stop,
        )
        .unwrap();
        let e = p.app_metrics().unwrap_err();
        assert!(e.contains("connection refused"), "{e}");
    }
}

//! The playground's engine side: the virtual clock, the data, and queries over them.
//!
//! Plain Rust (no browser): the app drives it, native tests exercise it the way the app does.

use promplay_model::{Clock, ManualClock};
use promplay_promql::ast::Expr;
use promplay_promql::engine::{Engine, EngineOptions, QueryOptions};
use promplay_promql::parser;
use promplay_promql::value::{Annotations, Value};
use promplay_tsdb::{Db, Options};

use crate::dataset::Dataset;

/// Where the virtual clock starts: 2026-01-01 00:00:00 UTC.
pub const START_MS: i64 = 1_767_225_600_000;
/// How much generated history exists before [`START_MS`] when the playground opens.
pub const HISTORY_MS: i64 = 3_600_000;
/// Prometheus's limit on points per series of a range query.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// A query that failed, to show under the editor.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryError {
    /// The whole message, as Prometheus prints it (`1:17: parse error: …` for parse errors).
    pub message: String,
    /// The offending byte range of the query text, when the error has a position.
    pub span: Option<(usize, usize)>,
}

impl QueryError {
    fn plain(message: impl Into<String>) -> Self {
        QueryError {
            message: message.into(),
            span: None,
        }
    }
}

/// A query's answer: its value and the warnings/infos beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryOutcome {
    pub value: Value,
    pub annotations: Annotations,
}

/// The time range of a graph (`/api/v1/query_range`'s start, end and step), in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeParams {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl RangeParams {
    /// `range` ending at `end`, with `step` or (when `None`) Prometheus UI's automatic step:
    /// `max(range / 250, 1s)` rounded down to whole seconds.
    pub fn new(end: i64, range: i64, step: Option<i64>) -> Result<Self, QueryError> {
        if range <= 0 {
            return Err(QueryError::plain("range must be positive"));
        }
        let step = step.unwrap_or_else(|| (range / 250 / 1000).max(1) * 1000);
        if step <= 0 {
            return Err(QueryError::plain(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        if range / step > MAX_POINTS_PER_SERIES {
            return Err(QueryError::plain(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ));
        }
        Ok(RangeParams {
            start: end - range,
            end,
            step,
        })
    }
}

/// The virtual clock, the data and the query engine of one playground session.
pub struct Playground {
    clock: ManualClock,
    dataset: Dataset,
    db: Db,
    engine: Engine,
    samples: usize,
    rejected: usize,
    last_retention_ms: i64,
}

impl Default for Playground {
    fn default() -> Self {
        Self::new()
    }
}

/// The most samples one query may hold (Prometheus's default is 50,000,000; a tab has less
/// memory than a server).
pub const MAX_SAMPLES: usize = 5_000_000;

/// How long the playground keeps samples.
pub const RETENTION_MS: i64 = 24 * 3_600_000;

impl Playground {
    /// A playground at [`START_MS`] with [`HISTORY_MS`] of generated data behind it.
    pub fn new() -> Self {
        let mut p = Playground {
            clock: ManualClock::new(START_MS),
            dataset: Dataset::new(START_MS - HISTORY_MS),
            db: Db::new(Options {
                retention_ms: Some(RETENTION_MS),
                ..Default::default()
            }),
            engine: Engine::new(EngineOptions {
                max_samples: MAX_SAMPLES,
                ..Default::default()
            }),
            samples: 0,
            rejected: 0,
            last_retention_ms: START_MS,
        };
        p.catch_up();
        p
    }

    /// The virtual time, ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Moves the virtual clock forward by `ms` (negative values are ignored) and writes the
    /// scrapes that became due.
    pub fn advance(&mut self, ms: i64) {
        self.clock.advance(ms.max(0));
        self.catch_up();
    }

    /// Samples written so far, and samples the TSDB rejected (should stay 0).
    pub fn samples_written(&self) -> (usize, usize) {
        (self.samples, self.rejected)
    }

    /// The TSDB, for reading (e.g. its stats).
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn catch_up(&mut self) {
        let now = self.clock.now_ms();
        let (mut ok, mut rejected) = (0, 0);
        let mut app = self.db.appender();
        self.dataset
            .advance_to(now, &mut |l, t, v| match app.append(l, t, v) {
                Ok(_) => ok += 1,
                Err(_) => rejected += 1,
            });
        if app.commit().is_err() {
            rejected += 1;
        }
        self.samples += ok;
        self.rejected += rejected;
        if now - self.last_retention_ms >= 60_000 {
            self.db.apply_retention(now);
            self.last_retention_ms = now;
        }
    }

    /// Evaluates `query` at instant `t` (ms). `interrupt` is polled during evaluation; when it
    /// returns true the query stops with Prometheus's timeout error.
    pub fn instant_query(
        &self,
        query: &str,
        t: i64,
        interrupt: Option<&dyn Fn() -> bool>,
    ) -> Result<QueryOutcome, QueryError> {
        let expr = parse_query(query)?;
        check_subquery_steps(&expr, 0, 0)?;
        let qo = QueryOptions {
            interrupt,
            ..Default::default()
        };
        self.engine
            .instant_query_expr(&self.db, &expr, t, &qo)
            .map(|r| QueryOutcome {
                value: r.value,
                annotations: r.annotations,
            })
            .map_err(|e| QueryError::plain(e.to_string()))
    }

    /// Evaluates `query` over `range` (a matrix, one series per label set).
    pub fn range_query(
        &self,
        query: &str,
        range: RangeParams,
        interrupt: Option<&dyn Fn() -> bool>,
    ) -> Result<QueryOutcome, QueryError> {
        let expr = parse_query(query)?;
        check_subquery_steps(&expr, range.step, range.end - range.start)?;
        let qo = QueryOptions {
            interrupt,
            ..Default::default()
        };
        self.engine
            .range_query_expr(&self.db, &expr, range.start, range.end, range.step, &qo)
            .map(|r| QueryOutcome {
                value: r.value,
                annotations: r.annotations,
            })
            .map_err(|e| QueryError::plain(e.to_string()))
    }
}

/// The most steps one subquery may evaluate per series (over its whole window: the query's
/// range plus its own and its enclosing subqueries' ranges). The engine polls the deadline
/// between steps of an operator but not inside one selector's walk; this bound keeps every
/// such walk short (a million steps is milliseconds).
pub const MAX_SUBQUERY_STEPS: i64 = 1_000_000;

/// Rejects subqueries whose resolution would make evaluation run for minutes.
fn check_subquery_steps(expr: &Expr, step_ms: i64, span_ms: i64) -> Result<(), QueryError> {
    let mut stack = vec![(expr, span_ms)];
    while let Some((e, window)) = stack.pop() {
        let mut w = window;
        if let Expr::Subquery(sq) = e {
            let range = sq.range.resolve(step_ms, span_ms).unwrap_or(0).max(0);
            let step = sq
                .step
                .as_ref()
                .and_then(|d| d.resolve(step_ms, span_ms).ok())
                .filter(|s| *s > 0)
                .unwrap_or(EngineOptions::default().no_step_subquery_interval_ms);
            w = window.saturating_add(range);
            if w / step > MAX_SUBQUERY_STEPS {
                return Err(QueryError {
                    message: format!(
                        "subquery would evaluate {} steps per series; the playground allows at most {MAX_SUBQUERY_STEPS} (use a longer subquery step)",
                        w / step
                    ),
                    span: Some((sq.span.start as usize, sq.span.end as usize)),
                });
            }
        }
        stack.extend(e.children().into_iter().map(|c| (c, w)));
    }
    Ok(())
}

/// Parses with Prometheus's default options; a parse error keeps its first error's span.
fn parse_query(query: &str) -> Result<Expr, QueryError> {
    parser::parse(query).map_err(|errs| QueryError {
        message: errs.to_string(),
        span: errs
            .first()
            .map(|e| (e.span.start as usize, e.span.end as usize)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape;

    impl QueryOutcome {
        fn value_len(&self) -> usize {
            shape::table(&self.value).total
        }
    }

    fn rows(p: &Playground, q: &str) -> Vec<(String, String)> {
        let o = p.instant_query(q, p.now_ms(), None).unwrap();
        shape::table(&o.value)
            .rows
            .into_iter()
            .map(|r| (r.labels, r.value))
            .collect()
    }

    #[test]
    fn up_has_one_row_per_target() {
        let p = Playground::new();
        assert_eq!(p.samples_written().1, 0, "no sample rejected");
        assert_eq!(
            rows(&p, "up"),
            vec![
                (r#"up{instance="api-0:8080", job="api"}"#.into(), "1".into()),
                (r#"up{instance="api-1:8080", job="api"}"#.into(), "1".into()),
                (
                    r#"up{instance="node-0:9100", job="node"}"#.into(),
                    "1".into()
                ),
            ]
        );
    }

    #[test]
    fn the_flaky_target_is_down_twenty_minutes_in() {
        let mut p = Playground::new();
        p.advance(21 * 60_000);
        let r = rows(&p, "up == 0");
        assert_eq!(r.len(), 1);
        assert!(r[0].0.contains("api-1:8080"));
        // its other series went stale: only api-0's request counters remain
        assert_eq!(
            rows(&p, "count(http_requests_total)"),
            vec![("{}".into(), "6".into())]
        );
    }

    #[test]
    fn rates_are_positive_and_scalars_and_strings_show() {
        let p = Playground::new();
        let r = rows(
            &p,
            r#"sum by (path) (rate(http_requests_total{status="200"}[5m]))"#,
        );
        assert_eq!(r.len(), 3);
        for (_, v) in &r {
            assert!(v.parse::<f64>().unwrap() > 0.0, "{r:?}");
        }
        assert_eq!(rows(&p, "1 + 1"), vec![("scalar".into(), "2".into())]);
        assert_eq!(rows(&p, r#""hi""#), vec![("string".into(), "hi".into())]);
    }

    #[test]
    fn parse_errors_carry_position_and_span() {
        let p = Playground::new();
        let e = p
            .instant_query("sum(rate(up[5m])", p.now_ms(), None)
            .unwrap_err();
        let (pos, rest) = e.message.split_once(": ").unwrap();
        let (line, col) = pos.split_once(':').unwrap();
        assert_eq!(line, "1");
        assert!(col.parse::<usize>().is_ok(), "{}", e.message);
        assert!(rest.starts_with("parse error: "), "{}", e.message);
        let (a, b) = e.span.unwrap();
        assert!(a <= b && b <= "sum(rate(up[5m])".len());
    }

    #[test]
    fn range_query_has_one_point_per_step() {
        let p = Playground::new();
        let range = RangeParams::new(p.now_ms(), 3_600_000, None).unwrap();
        assert_eq!(range.step, 14_000);
        let o = p.range_query("up", range, None).unwrap();
        let g = shape::graph(&o.value);
        assert_eq!(g.len(), 3);
        // the dataset starts one hour before the end: the first step sees its first scrape
        for s in &g {
            assert!(s.points.len() >= 250, "{}: {}", s.label, s.points.len());
            let zeros = s.points.iter().filter(|p| p.1 == 0.0).count();
            if s.label.contains("api-1") {
                // down 23:20–23:25 and 23:50–23:55: two 5-minute windows at a 14 s step
                assert!((40..=46).contains(&zeros), "{zeros}");
            } else {
                assert_eq!(zeros, 0, "{}", s.label);
            }
        }
    }

    #[test]
    fn interrupt_stops_a_query() {
        let p = Playground::new();
        let stop = || true;
        let range = RangeParams::new(p.now_ms(), 3_600_000, Some(1000)).unwrap();
        let e = p
            .range_query("rate(http_requests_total[5m])", range, Some(&stop))
            .unwrap_err();
        assert!(e.message.contains("query timed out"), "{}", e.message);
    }

    #[test]
    fn huge_queries_end_with_an_error_not_a_hang() {
        let p = Playground::new();
        let polls = std::cell::Cell::new(0u32);
        let stop = || {
            polls.set(polls.get() + 1);
            polls.get() > 100_000
        };
        for q in [
            "count_over_time(up[1y:1ms])",
            "max_over_time(sum(rate(http_requests_total[5m]))[1y:10ms])",
            "max_over_time(max_over_time(up[1d:1s])[2w:])",
        ] {
            let e = p.instant_query(q, p.now_ms(), Some(&stop)).unwrap_err();
            assert!(
                e.message.starts_with("subquery would evaluate"),
                "{q}: {}",
                e.message
            );
            let (a, b) = e.span.unwrap();
            assert!(
                q[a..b].contains(':'),
                "{q}: the span {:?} is a subquery",
                &q[a..b]
            );
            polls.set(0);
        }
        // A fine-grained but sane subquery runs.
        let q = "max_over_time(rate(http_requests_total[5m])[1h:1s])";
        assert_eq!(
            p.instant_query(q, p.now_ms(), Some(&stop))
                .unwrap()
                .value_len(),
            12
        );
        // In a range query the subquery's window includes the graph's range.
        let range = RangeParams::new(p.now_ms(), 86_400_000, Some(86_400)).unwrap();
        let e = p
            .range_query("max_over_time(up[1h:50ms])", range, None)
            .unwrap_err();
        assert!(
            e.message.starts_with("subquery would evaluate"),
            "{}",
            e.message
        );
    }

    #[test]
    fn range_limits_are_prometheus_limits() {
        assert!(RangeParams::new(0, 3_600_000, Some(0)).is_err());
        assert!(RangeParams::new(0, 0, None).is_err());
        let e = RangeParams::new(0, 86_400_000, Some(1000)).unwrap_err();
        assert!(e
            .message
            .starts_with("exceeded maximum resolution of 11,000 points"));
    }
}

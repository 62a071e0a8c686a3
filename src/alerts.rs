//! The Alerts page at a cursor in virtual time: each alerting rule with its state, `for`,
//! `keep_firing_for`, labels and annotations, its alerts (labels, state, active since, value,
//! annotations, a `for` countdown while pending), a graph of its expression over a window
//! ending at the cursor, and one lane per alert with its pending and firing bands.
//!
//! Where the data comes from (only what Prometheus's HTTP API offers, so the page can later
//! read a remote Prometheus the same way):
//! - the rules and, at the present, the alerts: `/api/v1/rules`, decoded by
//!   [`crate::rules_view`] (the playground's groups go through that JSON);
//! - the lanes: a range query of `ALERTS{alertname="…"}` stepped by the group's evaluation
//!   interval and aligned to its evaluation slots (the phase of `lastEvaluation`), so each
//!   step sees exactly what one evaluation wrote; a band runs from the evaluation that wrote a
//!   state to the next one (or the cursor);
//! - at a cursor in the past: the state of each alert is the lanes' last step (the last
//!   evaluation at or before the cursor); its active-since is `ALERTS_FOR_STATE` at the
//!   cursor (whole seconds, snapped to the group's evaluation slot in that second); its value
//!   is the rule's expression at that evaluation. Annotations are the present alert's when it
//!   is still active (the series do not keep them).
//!
//! The alert log (`Prometheus::alert_log`) is not read here; the native tests check the lanes
//! against it. The cursor helpers ([`back`], [`step`], [`scrub`]) decide what the page's
//! controls do: Back and the slider move a cursor over the retained history, Step moves it
//! forward to the present and then advances the clock by one evaluation interval.
//! Plain Rust.

use std::collections::BTreeMap;

use promplay_model::Labels;
use promplay_promql::value::Value;

use crate::playground::{Playground, RangeParams, HISTORY_MS, RETENTION_MS, START_MS};
use crate::rules_view::{local_rules, AlertingRule, Rule, RuleGroup, RulesData};
use crate::shape::{self, GraphSeries};
use crate::time::{format_duration, format_utc};

/// How much history the graph and the lanes show, ending at the cursor.
pub const WINDOW_MS: i64 = 15 * 60_000;
/// The scrub slider reaches this far back (Back goes on to the retention limit).
pub const SLIDER_SPAN_MS: i64 = 3_600_000;
/// The step when no alerting rule is loaded (the seed's evaluation interval).
pub const DEFAULT_STEP_MS: i64 = 10_000;

/// Runs the queries the page needs (the playground's engine, or later a remote server's
/// `/api/v1/query` and `/api/v1/query_range`).
pub trait QueryRunner {
    fn range(&self, query: &str, range: RangeParams) -> Result<Value, String>;
    fn instant(&self, query: &str, t_ms: i64) -> Result<Value, String>;
}

/// A query the page makes, to fetch ahead from a remote server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `/api/v1/query_range`.
    Range(String, RangeParams),
    /// `/api/v1/query` at a time (ms).
    Instant(String, i64),
}

/// Notes the queries [`build`] makes (answering each with an error): what to fetch from a
/// remote server before building the page with [`Prefetched`]. The queries depend only on
/// `/api/v1/rules` and the cursor, never on other answers.
#[derive(Default)]
struct Recorder(std::cell::RefCell<Vec<Request>>);

impl QueryRunner for Recorder {
    fn range(&self, query: &str, range: RangeParams) -> Result<Value, String> {
        self.0
            .borrow_mut()
            .push(Request::Range(query.to_string(), range));
        Err("not fetched".into())
    }
    fn instant(&self, query: &str, t_ms: i64) -> Result<Value, String> {
        self.0
            .borrow_mut()
            .push(Request::Instant(query.to_string(), t_ms));
        Err("not fetched".into())
    }
}

/// The queries the page as of `cursor` needs, given `/api/v1/rules`'s data.
pub fn requests(data: &RulesData, now_ms: i64, cursor: Option<i64>) -> Vec<Request> {
    let r = Recorder::default();
    build(data, now_ms, cursor, &r);
    let mut v = r.0.into_inner();
    v.dedup();
    v
}

/// Answers fetched beforehand (from a remote server's HTTP API), looked up by query.
#[derive(Clone, Debug, Default)]
pub struct Prefetched(pub Vec<(Request, Result<Value, String>)>);

impl Prefetched {
    fn answer(&self, want: &Request) -> Result<Value, String> {
        self.0
            .iter()
            .find(|(r, _)| r == want)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| Err("not fetched".into()))
    }
}

impl QueryRunner for Prefetched {
    fn range(&self, query: &str, range: RangeParams) -> Result<Value, String> {
        self.answer(&Request::Range(query.to_string(), range))
    }
    fn instant(&self, query: &str, t_ms: i64) -> Result<Value, String> {
        self.answer(&Request::Instant(query.to_string(), t_ms))
    }
}

impl QueryRunner for Playground {
    fn range(&self, query: &str, range: RangeParams) -> Result<Value, String> {
        self.range_query(query, range, None)
            .map(|o| o.value)
            .map_err(|e| e.message)
    }
    fn instant(&self, query: &str, t_ms: i64) -> Result<Value, String> {
        self.instant_query(query, t_ms, None)
            .map(|o| o.value)
            .map_err(|e| e.message)
    }
}

/// A pending or firing stretch of one alert's lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    /// `pending` or `firing`.
    pub state: &'static str,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// One alert's lane under the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// The alert's labels as `{alertname="…", …}`.
    pub key: String,
    pub bands: Vec<Band>,
}

/// One alert at the cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    /// `{alertname="…", …}` (the lane's key).
    pub key: String,
    /// `key="value"` each.
    pub labels: Vec<String>,
    /// `pending` or `firing`.
    pub state: &'static str,
    pub active_at_ms: Option<i64>,
    /// `2026-01-01 00:00:07 UTC` or `unknown`.
    pub active_since: String,
    /// For a pending alert: the evaluation at which it fires if its condition holds.
    pub fires_at_ms: Option<i64>,
    /// `fires in 40s` (whole seconds, rounded up) for a pending alert.
    pub countdown: Option<String>,
    /// For a firing alert: when it began firing, when the lanes show it.
    pub firing_since_ms: Option<i64>,
    /// The expression's value at the last evaluation at or before the cursor.
    pub value: String,
    /// `key: value` each.
    pub annotations: Vec<String>,
    /// When `keep_firing_for` keeps it firing, since when (present only).
    pub keep_firing_since_ms: Option<i64>,
}

/// One alerting rule at the cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleView {
    pub group: String,
    pub file: String,
    pub interval_ms: i64,
    pub name: String,
    pub expr: String,
    /// `inactive`, `pending` or `firing` at the cursor.
    pub state: &'static str,
    pub pending: usize,
    pub firing: usize,
    pub hold_ms: i64,
    pub keep_firing_for_ms: i64,
    pub labels: Vec<String>,
    pub annotations: Vec<String>,
    pub health: String,
    pub last_error: String,
    pub alerts: Vec<AlertRow>,
    pub lanes: Vec<Lane>,
    /// What the lanes span (the window ending at the cursor).
    pub lane_from_ms: i64,
    pub lane_to_ms: i64,
    /// The expression's graph over the window, or the query's error.
    pub graph: Result<Vec<GraphSeries>, String>,
    pub graph_range: RangeParams,
    /// The `ALERTS` query's error, if it failed.
    pub lanes_error: Option<String>,
}

/// Rules per state at the cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub inactive: usize,
    pub pending: usize,
    pub firing: usize,
}

/// The whole Alerts page.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertsPage {
    pub now_ms: i64,
    /// The instant shown: the present, or a cursor before it.
    pub at_ms: i64,
    /// Whether the page shows the past.
    pub past: bool,
    /// What Step and Back move by: the shortest evaluation interval of the groups with
    /// alerting rules.
    pub step_ms: i64,
    pub counts: Counts,
    pub rules: Vec<RuleView>,
}

/// The earliest instant the cursor can show (the retention limit, or the playground's first
/// data).
pub fn earliest_cursor(now_ms: i64) -> i64 {
    let floor = if now_ms >= START_MS {
        // The simulated world has no data before it started.
        START_MS - HISTORY_MS
    } else {
        // A real server's clock before the playground's start date.
        i64::MIN
    };
    (now_ms - RETENTION_MS).max(floor).min(now_ms)
}

/// The scrub slider's range: the last [`SLIDER_SPAN_MS`] within the retained history.
pub fn slider_bounds(now_ms: i64) -> (i64, i64) {
    (
        (now_ms - SLIDER_SPAN_MS).max(earliest_cursor(now_ms)),
        now_ms,
    )
}

/// Back: the cursor one step before where it is (the present when there is none), not before
/// the retained history.
pub fn back(cursor: Option<i64>, now_ms: i64, step_ms: i64) -> Option<i64> {
    let c = cursor.unwrap_or(now_ms).min(now_ms);
    Some((c - step_ms.max(1)).max(earliest_cursor(now_ms)))
}

/// What Step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepAction {
    /// Move the cursor (`None`: back to the present).
    Cursor(Option<i64>),
    /// At the present: advance the clock by this much.
    Advance(i64),
}

/// Step: a cursor in the past moves forward by one step, to the present once it reaches it;
/// at the present the clock advances by one step.
pub fn step(cursor: Option<i64>, now_ms: i64, step_ms: i64) -> StepAction {
    match cursor {
        Some(c) if c < now_ms => {
            let next = c + step_ms.max(1);
            StepAction::Cursor((next < now_ms).then_some(next))
        }
        _ => StepAction::Advance(step_ms.max(1)),
    }
}

/// The slider moved to `v`: the present at its right end, otherwise a cursor.
pub fn scrub(v: i64, now_ms: i64) -> Option<i64> {
    (v < now_ms).then(|| v.max(earliest_cursor(now_ms)))
}

/// The page as of `cursor` (`None`: the present), for the playground.
pub fn alerts_page(p: &Playground, cursor: Option<i64>) -> AlertsPage {
    build(&local_rules(p), p.now_ms(), cursor, p)
}

/// The page from decoded `/api/v1/rules` data and a query runner.
pub fn build(
    data: &RulesData,
    now_ms: i64,
    cursor: Option<i64>,
    q: &dyn QueryRunner,
) -> AlertsPage {
    let at = cursor.unwrap_or(now_ms).min(now_ms);
    let past = at < now_ms;
    let mut rules = Vec::new();
    let mut step_ms = None::<i64>;
    for g in &data.groups {
        for r in &g.rules {
            if let Rule::Alerting(a) = r {
                let iv = g.interval_ms().max(1);
                step_ms = Some(step_ms.map_or(iv, |s| s.min(iv)));
                rules.push(rule_view(g, a, at, past, q));
            }
        }
    }
    let mut counts = Counts::default();
    for r in &rules {
        match r.state {
            "firing" => counts.firing += 1,
            "pending" => counts.pending += 1,
            _ => counts.inactive += 1,
        }
    }
    AlertsPage {
        now_ms,
        at_ms: at,
        past,
        step_ms: step_ms.unwrap_or(DEFAULT_STEP_MS),
        counts,
        rules,
    }
}

/// The last evaluation slot at or before `t` of a group whose slots are `phase + k·interval`.
fn slot_at_or_before(t: i64, phase: i64, interval: i64) -> i64 {
    t - (t - phase).rem_euclid(interval)
}

/// PromQL's double-quoted string for `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `{a="b", …}` of a label map.
fn key_of(l: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// A series' labels without `__name__` and `alertstate`, as a map.
fn alert_labels(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .filter(|l| &*l.name != "__name__" && &*l.name != "alertstate")
        .map(|l| (l.name.to_string(), l.value.to_string()))
        .collect()
}

fn state_str(s: &str) -> &'static str {
    match s {
        "firing" => "firing",
        "pending" => "pending",
        _ => "inactive",
    }
}

/// Parses the API's value text (`0e+00`, `+Inf`, `NaN`) and prints it as the Table does.
fn value_text(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(f) => shape::format_value(f),
        Err(_) => v.to_string(),
    }
}

/// The evaluation at which an alert active since `active_at` fires if its condition holds:
/// the first slot at least `hold` after it.
fn fires_at(active_at: i64, hold_ms: i64, interval: i64) -> i64 {
    let k = (hold_ms + interval - 1).div_euclid(interval).max(0);
    active_at + k * interval
}

/// `fires in 40s`: the time left, rounded up to whole seconds.
fn countdown(fires_at: i64, at: i64) -> String {
    let secs = (fires_at - at).max(0).saturating_add(999) / 1000;
    format!("fires in {}", format_duration(secs * 1000))
}

/// An alert's labels and the states the `ALERTS` series showed, by evaluation time.
type Observed = (BTreeMap<String, String>, Vec<(i64, &'static str)>);

fn rule_view(
    g: &RuleGroup,
    a: &AlertingRule,
    at: i64,
    past: bool,
    q: &dyn QueryRunner,
) -> RuleView {
    let interval = g.interval_ms().max(1);
    let hold_ms = (a.duration * 1000.0).round() as i64;
    let phase = g.last_evaluation_ms.unwrap_or(at);
    let last_slot = slot_at_or_before(at, phase, interval);
    let lane_from = at - WINDOW_MS;

    // The graph of the expression over the window.
    let graph_range = RangeParams::new(at, WINDOW_MS, None).unwrap_or(RangeParams {
        start: lane_from,
        end: at,
        step: 1000,
    });
    let graph = q.range(&a.query, graph_range).map(|v| shape::graph(&v));

    // The lanes: ALERTS at every evaluation slot of the window (and the one before it).
    let selector = format!("{{alertname={}}}", quote(&a.name));
    let lanes_range = RangeParams {
        start: slot_at_or_before(lane_from, phase, interval),
        end: at,
        step: interval.max((WINDOW_MS + interval) / crate::playground::MAX_POINTS_PER_SERIES),
    };
    let mut lanes_error = None;
    // key → (labels, [(t, state)])
    let mut seen: BTreeMap<String, Observed> = BTreeMap::new();
    match q.range(&format!("ALERTS{selector}"), lanes_range) {
        Ok(Value::Matrix(m)) => {
            for s in &m {
                let st = state_str(s.metric.get("alertstate").unwrap_or(""));
                if st == "inactive" {
                    continue;
                }
                let labels = alert_labels(&s.metric);
                let e = seen
                    .entry(key_of(&labels))
                    .or_insert_with(|| (labels, Vec::new()));
                e.1.extend(s.floats.iter().map(|p| (p.t, st)));
            }
        }
        Ok(_) => {}
        Err(e) => lanes_error = Some(e),
    }
    let mut lanes = Vec::new();
    // The state at the cursor is the state the last evaluation at or before it wrote.
    let mut at_cursor: BTreeMap<String, &'static str> = BTreeMap::new();
    let last_step =
        lanes_range.start + (at - lanes_range.start).max(0) / lanes_range.step * lanes_range.step;
    for (key, (_, points)) in seen.iter_mut() {
        points.sort_by_key(|p| p.0);
        if let Some((t, st)) = points.last() {
            if *t == last_step {
                at_cursor.insert(key.clone(), st);
            }
        }
        let mut bands: Vec<Band> = Vec::new();
        for (t, st) in points.iter() {
            let from = (*t).max(lane_from);
            let to = (t + lanes_range.step).min(at);
            if to <= from {
                continue;
            }
            match bands.last_mut() {
                Some(b) if b.state == *st && b.to_ms >= from => b.to_ms = to,
                _ => bands.push(Band {
                    state: st,
                    from_ms: from,
                    to_ms: to,
                }),
            }
        }
        lanes.push(Lane {
            key: key.clone(),
            bands,
        });
    }
    // When a firing alert began firing: the start of the lanes' firing stretch that reaches
    // the cursor, if it began inside the lanes' span.
    let firing_since = |key: &str| -> Option<i64> {
        let (_, points) = seen.get(key)?;
        let mut since = None;
        let mut prev: Option<(i64, &str)> = None;
        for (t, st) in points {
            let continues = prev.is_some_and(|(pt, ps)| ps == *st && t - pt <= lanes_range.step);
            if *st == "firing" && !continues {
                since = Some(*t);
            }
            prev = Some((*t, st));
        }
        // Unknown when the stretch started at the lanes' first step (it may be older).
        since.filter(|s| *s > lanes_range.start)
    };

    let mut alerts: Vec<AlertRow> = Vec::new();
    if !past {
        for al in &a.alerts {
            let key = key_of(&al.labels);
            let state = state_str(&al.state);
            let fires = (state == "pending")
                .then(|| al.active_at_ms.map(|t| fires_at(t, hold_ms, interval)))
                .flatten();
            alerts.push(AlertRow {
                labels: crate::rules_view::label_strings(&al.labels),
                state,
                active_at_ms: al.active_at_ms,
                active_since: al
                    .active_at_ms
                    .map_or("unknown".to_string(), |t| format!("{} UTC", format_utc(t))),
                fires_at_ms: fires,
                countdown: fires.map(|f| countdown(f, at)),
                firing_since_ms: (state == "firing").then(|| firing_since(&key)).flatten(),
                value: value_text(&al.value),
                annotations: al
                    .annotations
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect(),
                keep_firing_since_ms: al.keep_firing_since_ms,
                key,
            });
        }
    } else {
        // ALERTS_FOR_STATE at the cursor: active-since in whole seconds.
        let mut active: BTreeMap<String, i64> = BTreeMap::new();
        if let Ok(Value::Vector(v)) = q.instant(&format!("ALERTS_FOR_STATE{selector}"), at) {
            for s in &v {
                if s.f.is_finite() {
                    let secs_ms = (s.f as i64).saturating_mul(1000);
                    let slot = slot_at_or_before(secs_ms + 999, phase, interval);
                    let t = if slot >= secs_ms { slot } else { secs_ms };
                    active.insert(key_of(&alert_labels(&s.metric)), t);
                }
            }
        }
        // The expression at the last evaluation at or before the cursor.
        let values: Vec<(BTreeMap<String, String>, f64)> = match q.instant(&a.query, last_slot) {
            Ok(Value::Vector(v)) => v
                .iter()
                .map(|s| (alert_labels(&s.metric.without_metric_name()), s.f))
                .collect(),
            _ => Vec::new(),
        };
        for (key, state) in &at_cursor {
            let Some((labels, _)) = seen.get(key) else {
                continue;
            };
            let active_at = active.get(key).copied();
            let fires = (*state == "pending")
                .then(|| active_at.map(|t| fires_at(t, hold_ms, interval)))
                .flatten();
            // The sample whose labels (with the rule's labels and alertname set) are the
            // alert's.
            let value = values
                .iter()
                .find(|(sl, _)| {
                    let mut l = sl.clone();
                    for (k, v) in &a.labels {
                        l.insert(k.clone(), v.clone());
                    }
                    l.insert("alertname".into(), a.name.clone());
                    l == *labels
                })
                .map_or("unknown".to_string(), |(_, f)| shape::format_value(*f));
            let annotations = a
                .alerts
                .iter()
                .find(|x| key_of(&x.labels) == *key)
                .map(|x| {
                    x.annotations
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect()
                })
                .unwrap_or_default();
            alerts.push(AlertRow {
                key: key.clone(),
                labels: crate::rules_view::label_strings(labels),
                state,
                active_at_ms: active_at,
                active_since: active_at
                    .map_or("unknown".to_string(), |t| format!("{} UTC", format_utc(t))),
                fires_at_ms: fires,
                countdown: fires.map(|f| countdown(f, at)),
                firing_since_ms: (*state == "firing").then(|| firing_since(key)).flatten(),
                value,
                annotations,
                keep_firing_since_ms: None,
            });
        }
    }
    // An alert active at the cursor has a lane even before its first ALERTS sample.
    for al in &alerts {
        if !lanes.iter().any(|l| l.key == al.key) {
            lanes.push(Lane {
                key: al.key.clone(),
                bands: Vec::new(),
            });
        }
    }
    lanes.sort_by(|x, y| x.key.cmp(&y.key));
    let pending = alerts.iter().filter(|x| x.state == "pending").count();
    let firing = alerts.iter().filter(|x| x.state == "firing").count();
    let state = if firing > 0 {
        "firing"
    } else if pending > 0 {
        "pending"
    } else {
        "inactive"
    };
    RuleView {
        group: g.name.clone(),
        file: g.file.clone(),
        interval_ms: interval,
        name: a.name.clone(),
        expr: a.query.clone(),
        state,
        pending,
        firing,
        hold_ms,
        keep_firing_for_ms: (a.keep_firing_for * 1000.0).round() as i64,
        labels: crate::rules_view::label_strings(&a.labels),
        annotations: a
            .annotations
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect(),
        health: if a.health.is_empty() {
            "unknown".into()
        } else {
            a.health.clone()
        },
        last_error: a.last_error.clone(),
        alerts,
        lanes,
        lane_from_ms: lane_from,
        lane_to_ms: at,
        graph,
        graph_range,
        lanes_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::HostAction;
    use promplay_rules::AlertState;

    /// Steps the page's way: Step at the present advances the clock by one interval.
    fn step_clock(p: &mut Playground) {
        let page = alerts_page(p, None);
        match step(None, p.now_ms(), page.step_ms) {
            StepAction::Advance(ms) => p.advance(ms),
            other => panic!("{other:?}"),
        }
    }

    fn transitions(p: &Playground, since: i64) -> Vec<(i64, AlertState)> {
        p.stack()
            .prometheus
            .alert_log()
            .iter()
            .filter(|t| t.rule == "InstanceDown" && t.at_ms >= since)
            .map(|t| (t.at_ms, t.state))
            .collect()
    }

    /// The seed's story on the Alerts page: inactive, pending at the first evaluation after
    /// the failed scrape with a countdown to the evaluation that fires it, firing one minute
    /// later; the lanes agree with the alert log to the millisecond; and every past cursor
    /// shows what the present showed at that instant.
    #[test]
    fn the_seed_alert_pends_counts_down_fires_and_can_be_scrubbed_back() {
        let mut p = Playground::new();
        let page = alerts_page(&p, None);
        assert_eq!(page.step_ms, 10_000);
        assert_eq!(page.rules.len(), 1);
        let r = &page.rules[0];
        assert_eq!(
            (r.name.as_str(), r.expr.as_str()),
            ("InstanceDown", "up == 0")
        );
        assert_eq!(
            (r.state, r.hold_ms, r.group.as_str()),
            ("inactive", 60_000, "example")
        );
        assert!(r.alerts.is_empty() && r.lanes.is_empty(), "{r:?}");
        assert_eq!(
            page.counts,
            Counts {
                inactive: 1,
                pending: 0,
                firing: 0
            }
        );
        assert_eq!(
            (r.graph_range.end, r.graph_range.end - r.graph_range.start),
            (p.now_ms(), WINDOW_MS)
        );
        assert_eq!(
            r.graph,
            Ok(vec![]),
            "up == 0 has no series while all are up"
        );

        let stop = p.now_ms();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        // (now, page) after each step
        let mut shots: Vec<(i64, AlertsPage)> = Vec::new();
        while p.now_ms() < stop + 120_000 {
            step_clock(&mut p);
            shots.push((p.now_ms(), alerts_page(&p, None)));
        }
        let log = transitions(&p, stop);
        assert_eq!(log.len(), 2, "{log:?}");
        let (pending, firing) = (log[0].0, log[1].0);
        assert_eq!(
            (log[0].1, log[1].1),
            (AlertState::Pending, AlertState::Firing)
        );
        assert!(
            pending > stop && pending - stop <= 20_000,
            "{}",
            pending - stop
        );
        assert_eq!(firing - pending, 60_000);

        let key = r#"{alertname="InstanceDown", instance="localhost:9100", job="node"}"#;
        for (now, page) in &shots {
            let r = &page.rules[0];
            let want = if *now < pending {
                "inactive"
            } else if *now < firing {
                "pending"
            } else {
                "firing"
            };
            assert_eq!(r.state, want, "at {}", now - stop);
            if want == "inactive" {
                assert!(r.alerts.is_empty());
                continue;
            }
            assert_eq!(page.counts.inactive, 0);
            let a = &r.alerts[0];
            assert_eq!(a.key, key);
            assert_eq!(a.active_at_ms, Some(pending));
            assert_eq!(a.value, "0");
            assert_eq!(r.lanes.len(), 1);
            assert_eq!(r.lanes[0].key, key);
            let graph = r.graph.as_ref().unwrap();
            assert_eq!(graph.len(), 1, "up == 0 for the node exporter");
            assert!(graph[0].points.iter().all(|p| p.1 == 0.0));
            if want == "pending" {
                assert_eq!(a.fires_at_ms, Some(firing));
                let secs = (firing - now + 999) / 1000;
                assert_eq!(
                    a.countdown,
                    Some(format!("fires in {}", format_duration(secs * 1000)))
                );
                assert_eq!(
                    r.lanes[0].bands,
                    [Band {
                        state: "pending",
                        from_ms: pending,
                        to_ms: *now
                    }]
                );
            } else {
                assert_eq!(a.countdown, None);
                assert_eq!(a.firing_since_ms, Some(firing));
                assert_eq!(
                    r.lanes[0].bands,
                    [
                        Band {
                            state: "pending",
                            from_ms: pending,
                            to_ms: firing
                        },
                        Band {
                            state: "firing",
                            from_ms: firing,
                            to_ms: *now
                        },
                    ]
                );
            }
        }
        let countdowns: Vec<String> = shots
            .iter()
            .filter_map(|(_, pg)| pg.rules[0].alerts.first().and_then(|a| a.countdown.clone()))
            .collect();
        assert_eq!(countdowns.len(), 6, "{countdowns:?}");

        // Scrub back: every earlier shot is what the page shows with the cursor there.
        let now = p.now_ms();
        for (t, then) in &shots[..shots.len() - 1] {
            let past = alerts_page(&p, Some(*t));
            assert!(past.past);
            assert_eq!(past.at_ms, *t);
            let (r, was) = (&past.rules[0], &then.rules[0]);
            assert_eq!(r.state, was.state, "at {}", t - stop);
            assert_eq!(r.alerts.len(), was.alerts.len());
            for (a, b) in r.alerts.iter().zip(&was.alerts) {
                assert_eq!(a.key, b.key);
                assert_eq!(a.state, b.state);
                assert_eq!(a.active_at_ms, b.active_at_ms, "from ALERTS_FOR_STATE");
                assert_eq!(a.countdown, b.countdown);
                assert_eq!(a.firing_since_ms, b.firing_since_ms);
                assert_eq!(a.value, b.value);
            }
            assert_eq!(r.lanes, was.lanes, "at {}", t - stop);
            assert_eq!(r.graph_range.end, *t);
        }
        // Back from the present walks the cursor to before the firing: pending, counting down.
        let mut cursor = None;
        while cursor.unwrap_or(now) >= firing {
            cursor = back(cursor, now, 10_000);
        }
        let c = cursor.unwrap();
        assert!(c < firing && firing - c <= 10_000);
        let past = alerts_page(&p, cursor);
        let a = &past.rules[0].alerts[0];
        assert_eq!((past.rules[0].state, a.state), ("pending", "pending"));
        assert_eq!(
            a.countdown,
            Some(format!(
                "fires in {}",
                format_duration((firing - c + 999) / 1000 * 1000)
            ))
        );
        // Before the stop: nothing.
        let past = alerts_page(&p, Some(stop));
        assert_eq!(past.rules[0].state, "inactive");
        assert!(past.rules[0].alerts.is_empty() && past.rules[0].lanes.is_empty());

        // Step from the past walks forward to the present, then the clock moves.
        let mut cur = cursor;
        let mut presses = 0;
        while let StepAction::Cursor(next) = step(cur, now, 10_000) {
            cur = next;
            presses += 1;
            if cur.is_none() {
                break;
            }
        }
        assert_eq!(cur, None);
        assert!(presses >= 1);
        assert_eq!(step(None, now, 10_000), StepAction::Advance(10_000));

        // Started again: resolved at the next evaluation; the lane keeps the history.
        p.act("localhost:9100", HostAction::Start).unwrap();
        p.advance(20_000);
        let page = alerts_page(&p, None);
        let r = &page.rules[0];
        assert_eq!(r.state, "inactive");
        assert!(r.alerts.is_empty());
        let resolved = transitions(&p, stop)[2].0;
        assert_eq!(
            r.lanes[0].bands,
            [
                Band {
                    state: "pending",
                    from_ms: pending,
                    to_ms: firing
                },
                Band {
                    state: "firing",
                    from_ms: firing,
                    to_ms: resolved
                },
            ]
        );
    }

    #[test]
    fn keep_firing_for_labels_and_annotations_show() {
        let mut p = Playground::new();
        p.apply_rules(
            "groups:\n  - name: g\n    interval: 20s\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 30s\n        keep_firing_for: 1m\n        labels:\n          severity: page\n        annotations:\n          summary: '{{ $labels.instance }} is down'\n",
        )
        .unwrap();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(100_000);
        let page = alerts_page(&p, None);
        assert_eq!(page.step_ms, 20_000);
        let r = &page.rules[0];
        assert_eq!((r.hold_ms, r.keep_firing_for_ms), (30_000, 60_000));
        assert_eq!(r.labels, [r#"severity="page""#]);
        assert_eq!(r.annotations, ["summary: {{ $labels.instance }} is down"]);
        let a = &r.alerts[0];
        assert_eq!(a.state, "firing");
        // `for: 30s` at 20 s evaluations: fires at the second evaluation after the first.
        assert_eq!(a.firing_since_ms, a.active_at_ms.map(|t| t + 40_000));
        assert_eq!(a.annotations, ["summary: localhost:9100 is down"]);
        assert!(a.labels.contains(&r#"severity="page""#.to_string()));
        p.act("localhost:9100", HostAction::Start).unwrap();
        p.advance(30_000);
        let page = alerts_page(&p, None);
        let a = &page.rules[0].alerts[0];
        assert_eq!(a.state, "firing", "kept firing");
        let since = a.keep_firing_since_ms.expect("keep_firing_since");
        // At a past cursor the value comes from the expression with the rule's labels set.
        let past = alerts_page(&p, Some(since - 1));
        let a = &past.rules[0].alerts[0];
        assert_eq!((a.state, a.value.as_str()), ("firing", "0"));
        assert_eq!(a.annotations, ["summary: localhost:9100 is down"]);
    }

    /// A remote server's page: the queries noted from `/api/v1/rules`, answered ahead (here by
    /// the playground, as an HTTP API would), build the very page the direct path builds.
    #[test]
    fn prefetched_answers_build_the_same_page() {
        let mut p = Playground::new();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(45_000);
        let data = local_rules(&p);
        let now = p.now_ms();
        for cursor in [None, Some(now - 15_000), Some(now - 60_000)] {
            let reqs = requests(&data, now, cursor);
            let n = if cursor.is_some() { 4 } else { 2 };
            assert_eq!(reqs.len(), n, "{reqs:?}");
            let answers = Prefetched(
                reqs.into_iter()
                    .map(|r| {
                        let a = match &r {
                            Request::Range(q, range) => p.range(q, *range),
                            Request::Instant(q, t) => p.instant(q, *t),
                        };
                        (r, a)
                    })
                    .collect(),
            );
            let remote = build(&data, now, cursor, &answers);
            assert_eq!(remote, alerts_page(&p, cursor), "{cursor:?}");
            let want = if cursor == Some(now - 60_000) {
                "inactive" // before the stop
            } else {
                "pending"
            };
            assert_eq!(remote.rules[0].state, want);
        }
        // Nothing fetched: the page still builds, with the errors shown.
        let page = build(&data, now, None, &Prefetched::default());
        assert_eq!(page.rules[0].graph, Err("not fetched".into()));
        assert_eq!(page.rules[0].lanes_error.as_deref(), Some("not fetched"));
        assert_eq!(page.rules[0].state, "pending", "from /api/v1/rules");
    }

    /// What one render of the page costs (the page recomputes when the clock moves):
    /// `cargo test --release -p promplay-web --lib -- --ignored --nocapture alerts_page_cost`.
    #[test]
    #[ignore]
    fn alerts_page_cost() {
        let mut p = Playground::new();
        p.act("localhost:9100", HostAction::Stop).unwrap();
        p.advance(90_000);
        let n = 50;
        for (what, cursor) in [("present", None), ("past", Some(p.now_ms() - 40_000))] {
            let t0 = std::time::Instant::now();
            for _ in 0..n {
                std::hint::black_box(alerts_page(&p, cursor));
            }
            println!(
                "alerts_page ({what}, firing alert, 15 min window): {:.2} ms",
                t0.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
            );
        }
    }

    #[test]
    fn cursor_controls_stay_within_the_history() {
        let now = START_MS + 10 * 86_400_000;
        assert_eq!(earliest_cursor(now), now - RETENTION_MS);
        assert_eq!(earliest_cursor(START_MS), START_MS - HISTORY_MS);
        assert_eq!(back(None, now, 10_000), Some(now - 10_000));
        assert_eq!(
            back(Some(now - RETENTION_MS + 5), now, 10_000),
            Some(now - RETENTION_MS)
        );
        assert_eq!(
            step(Some(now - 15_000), now, 10_000),
            StepAction::Cursor(Some(now - 5_000))
        );
        assert_eq!(
            step(Some(now - 5_000), now, 10_000),
            StepAction::Cursor(None)
        );
        assert_eq!(step(None, now, 10_000), StepAction::Advance(10_000));
        assert_eq!(scrub(now, now), None);
        assert_eq!(scrub(now - 1, now), Some(now - 1));
        assert_eq!(scrub(0, now), Some(now - RETENTION_MS));
        assert_eq!(slider_bounds(now), (now - SLIDER_SPAN_MS, now));
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(fires_at(5, 60_000, 10_000), 60_005);
        assert_eq!(fires_at(5, 45_000, 10_000), 50_005);
        assert_eq!(countdown(60_005, 20_000), "fires in 41s");
        assert_eq!(slot_at_or_before(25, 7, 10), 17);
        assert_eq!(slot_at_or_before(17, 7, 10), 17);
        // A real server's clock before the playground's start: a day back.
        assert_eq!(
            earliest_cursor(START_MS - 86_400_000 * 30),
            START_MS - 86_400_000 * 31
        );
    }
}

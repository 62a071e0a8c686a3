//! The Query page's Explain tab: the query's tree, each node evaluated at the Table's instant
//! (see [`crate::explain`]).
//!
//! In the simulated world each node is evaluated in its own turn of the event loop, with the
//! Table's interrupt deadline; with a remote source each node is one `/api/v1/query` at one
//! fixed time, one after the other. An execution that is no longer the latest stops.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::Session;
use crate::explain::{Explain, Matching, Node, MAX_LEVELS, MAX_NODES};
use crate::pages::common::perf_now;
use crate::playground::QueryError;
use crate::source::Source;

/// Evaluates every node of `query` at `at` (ms) and calls `done` with the explained tree (or
/// the parse error). `current` says whether this execution is still wanted.
pub fn run_explain(
    session: StoredValue<Session, LocalStorage>,
    source: Source,
    query: String,
    at: i64,
    timeout_ms: f64,
    current: Rc<dyn Fn() -> bool>,
    done: Rc<dyn Fn(Result<Explain, QueryError>)>,
) {
    let ex = match Explain::parse(&query, at) {
        Ok(ex) => ex,
        Err(e) => {
            done(Err(e));
            return;
        }
    };
    if source.is_remote() {
        spawn_local(async move {
            let mut ex = ex;
            for (id, text) in ex.pending() {
                if !current() {
                    return;
                }
                let outcome = api::query(&source, &text, Some(at))
                    .await
                    .map_err(QueryError::from);
                ex.record(id, outcome);
            }
            if current() {
                ex.finish();
                done(Ok(ex));
            }
        });
    } else {
        let pending = ex.pending();
        step_local(session, ex, pending, 0, timeout_ms, current, done);
    }
}

/// Evaluates node `pending[i]` in its own turn, then schedules the next.
fn step_local(
    session: StoredValue<Session, LocalStorage>,
    mut ex: Explain,
    pending: Vec<(usize, String)>,
    i: usize,
    timeout_ms: f64,
    current: Rc<dyn Fn() -> bool>,
    done: Rc<dyn Fn(Result<Explain, QueryError>)>,
) {
    Timeout::new(0, move || {
        if !current() {
            return;
        }
        let Some((id, text)) = pending.get(i) else {
            ex.finish();
            done(Ok(ex));
            return;
        };
        let deadline = perf_now() + timeout_ms;
        let stop = move || perf_now() > deadline;
        let interrupt: Option<&dyn Fn() -> bool> = Some(&stop);
        let at = ex.at;
        let outcome = session
            .try_with_value(|s| s.with(|p| p.instant_query(text, at, interrupt)))
            .flatten()
            .unwrap_or_else(|| {
                Err(QueryError {
                    message: "the playground is busy; try again".into(),
                    span: None,
                })
            });
        ex.record(*id, outcome);
        step_local(session, ex, pending, i + 1, timeout_ms, current, done);
    })
    .forget();
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a node returned, in a few words.
fn summary(n: &Node) -> String {
    match &n.result {
        None => "not evaluated".into(),
        Some(Err(e)) => format!("error: {e}"),
        Some(Ok(r)) => match r.value_type {
            "scalar" | "string" => r.value_type.to_string(),
            t => format!("{} ({t})", plural(r.count, "series", "series")),
        },
    }
}

fn matching_text(m: &Matching) -> String {
    match m {
        Matching::Scalars => "both sides are scalars".into(),
        Matching::WithScalar { series } => format!(
            "one side is a scalar: applied to each of {}",
            plural(*series, "series", "series")
        ),
        Matching::Vectors {
            lhs,
            rhs,
            lhs_matched,
            rhs_matched,
            pairs,
            duplicates_on_one_side,
        } => {
            let mut s = format!(
                "left {lhs}, right {rhs} series; {} matched ({lhs_matched} of {lhs} left, \
                 {rhs_matched} of {rhs} right series have a partner)",
                plural(*pairs, "pair", "pairs")
            );
            if *pairs == 0 {
                s.push_str(": no series share the match labels");
            }
            if *duplicates_on_one_side > 0 {
                s.push_str(&format!(
                    "; {} on the side that must be unique",
                    plural(
                        *duplicates_on_one_side,
                        "match label set occurs more than once",
                        "match label sets occur more than once"
                    )
                ));
            }
            s
        }
    }
}

/// The Explain tab's tree.
#[component]
pub fn ExplainView(explain: Explain) -> impl IntoView {
    let omitted = (explain.omitted > 0).then(|| {
        view! {
            <p class="explain-omitted" data-testid="explain-omitted">
                {format!(
                    "{} not shown (at most {MAX_NODES} nodes and {MAX_LEVELS} levels are explained)",
                    plural(explain.omitted, "node is", "nodes are"),
                )}
            </p>
        }
    });
    let at = crate::time::format_utc(explain.at);
    view! {
        <div class="explain" data-testid="explain">
            <p class="explain-at">{format!("Each node evaluated on its own at {at}.")}</p>
            <ul class="explain-tree">
                {explain.nodes.into_iter().map(node_view).collect_view()}
            </ul>
            {omitted}
        </div>
    }
}

fn node_view(n: Node) -> impl IntoView {
    let summary_text = summary(&n);
    let failed = matches!(n.result, Some(Err(_)));
    let rows = match &n.result {
        Some(Ok(r)) if !r.rows.is_empty() => {
            let more = (r.count > r.rows.len()).then(|| {
                view! {
                    <tr>
                        <td class="more" colspan="2">
                            {format!("… {} more", r.count - r.rows.len())}
                        </td>
                    </tr>
                }
            });
            Some(view! {
                <table class="explain-rows" data-testid="explain-rows">
                    <tbody>
                        {r
                            .rows
                            .iter()
                            .map(|row| {
                                view! {
                                    <tr>
                                        <td class="labels">{row.labels.clone()}</td>
                                        <td class="value">{row.value.clone()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                        {more}
                    </tbody>
                </table>
            })
        }
        _ => None,
    };
    let warnings = match &n.result {
        Some(Ok(r)) => r.warnings.clone(),
        _ => Vec::new(),
    };
    let change = n.change.as_ref().map(|c| {
        let mut s = format!("from its operand: {} → {} series", c.from, c.to);
        if !c.labels_dropped.is_empty() {
            s.push_str(&format!("; labels gone: {}", c.labels_dropped.join(", ")));
        }
        view! { <div class="explain-change" data-testid="explain-change">{s}</div> }
    });
    let matching = n.matching.as_ref().map(|m| {
        view! { <div class="explain-matching" data-testid="explain-matching">{matching_text(m)}</div> }
    });
    let hidden = (n.hidden_below > 0).then(|| {
        view! {
            <div class="explain-hidden">
                {format!("{} below not shown", plural(n.hidden_below, "node", "nodes"))}
            </div>
        }
    });
    let in_sub = n.in_subquery.then(|| {
        view! {
            <div class="explain-sub">
                "Inside a subquery: shown at the instant only; the subquery evaluates it at each step."
            </div>
        }
    });
    view! {
        <li
            class="explain-node"
            data-testid="explain-node"
            data-depth=n.depth.to_string()
            style=format!("margin-left: {}em", n.depth * 2)
        >
            <div class="explain-head">
                <code class="explain-text" data-testid="explain-text">{n.text}</code>
                <span class="explain-kind" data-testid="explain-kind">{n.kind.as_str()}</span>
                {n.detail.map(|d| view! { <span class="explain-detail">{d}</span> })}
                <span class="explain-count" class:failed=failed data-testid="explain-count">
                    {summary_text}
                </span>
            </div>
            <div class="explain-note">{n.note}</div>
            {change}
            {matching}
            {in_sub}
            {warnings.into_iter().map(|w| view! { <div class="explain-warning">"warning: "{w}</div> }).collect_view()}
            {rows}
            {hidden}
        </li>
    }
}

//! The Query page: editor, Execute, Table, Graph and Explain tabs.
//!
//! With the simulated world the query runs in the tab on the virtual clock; with a remote
//! source (see [`crate::pages::source`]) it goes to `/api/v1/query` (at the server's now) or
//! `/api/v1/query_range` (ending at the wall clock's now unless End is set), asynchronously,
//! and the answer is rendered by the same table and graph. A newer execution wins: the answer
//! of an older one is dropped. The Explain tab (see [`crate::pages::explain`]) evaluates each
//! node of the query's tree at the Table's instant.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::api;
use crate::app::Session;
use crate::explain::Explain;
use crate::pages::common::perf_now;
use crate::pages::explain::{run_explain, ExplainView};
use crate::pages::source::{use_source, wall_now};
use crate::playground::{QueryError, QueryOutcome, RangeParams};
use crate::shape::{self, GraphSeries, Table};
use crate::source::Source;
use crate::time::{format_duration, format_utc, parse_duration, parse_utc};

/// A query running longer than this (wall-clock ms in the tab) is stopped.
pub(crate) const QUERY_TIMEOUT_MS: f64 = 10_000.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Table,
    Graph,
    Explain,
}

/// What the last execution produced, ready to render.
#[derive(Clone, Debug, PartialEq)]
enum Shown {
    Table(Table),
    Graph {
        series: Vec<GraphSeries>,
        range: RangeParams,
    },
    Explain(Explain),
}

#[derive(Clone, Debug, PartialEq)]
struct Executed {
    shown: Shown,
    warnings: Vec<String>,
    infos: Vec<String>,
    elapsed_ms: f64,
}

/// The Query page: editor, Execute, Table and Graph tabs.
#[component]
pub fn QueryPage(
    /// The session to query.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time, for the default evaluation time.
    now: RwSignal<i64>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let tab = RwSignal::new(Tab::Table);
    let result = RwSignal::new(None::<Result<Executed, QueryError>>);
    let busy = RwSignal::new(false);
    let executed = RwSignal::new(String::new());
    // Graph controls, as typed.
    let range_text = RwSignal::new("1h".to_string());
    let end_text = RwSignal::new(String::new());
    let step_text = RwSignal::new(String::new());
    let source = use_source();
    // Bumped by each execution and each change of source: an answer is shown only if it
    // belongs to the latest one.
    let generation = StoredValue::new(0u64);
    // "now" of the End placeholder: the virtual clock, or the wall clock for a remote source.
    let shown_now = Signal::derive(move || {
        if source.with(Source::is_remote) {
            now.get();
            wall_now()
        } else {
            now.get()
        }
    });
    // A new source: the old answer is not its answer.
    Effect::new(move |prev: Option<Source>| {
        let s = source.get();
        if prev.is_some_and(|p| p != s) {
            generation.update_value(|g| *g += 1);
            result.set(None);
            busy.set(false);
        }
        s
    });

    let run_remote = move |src: Source, query: String, which: Tab| {
        let g = generation.get_value();
        let t0 = perf_now();
        let range = match which {
            Tab::Table | Tab::Explain => None,
            Tab::Graph => match graph_params(
                &range_text.get_untracked(),
                &end_text.get_untracked(),
                &step_text.get_untracked(),
                wall_now(),
            ) {
                Ok(r) => Some(r),
                Err(e) => {
                    result.set(Some(Err(e)));
                    busy.set(false);
                    return;
                }
            },
        };
        spawn_local(async move {
            let outcome = match range {
                None => api::query(&src, &query, None)
                    .await
                    .map(|o| (Shown::Table(shape::table(&o.value)), o)),
                Some(range) => api::query_range(&src, &query, range).await.map(|o| {
                    (
                        Shown::Graph {
                            series: shape::graph(&o.value),
                            range,
                        },
                        o,
                    )
                }),
            };
            if generation.try_get_value() != Some(g) {
                return; // a newer execution or another source
            }
            let elapsed_ms = perf_now() - t0;
            result.set(Some(
                outcome
                    .map(|(shown, o)| Executed {
                        shown,
                        warnings: o.annotations.warnings,
                        infos: o.annotations.infos,
                        elapsed_ms,
                    })
                    .map_err(|e| remote_error(e, &query)),
            ));
            busy.set(false);
        });
    };

    let run = move || {
        let query = text.get_untracked();
        executed.set(query.clone());
        let which = tab.get_untracked();
        busy.set(true);
        generation.update_value(|g| *g += 1);
        let src = source.get_untracked();
        if which == Tab::Explain {
            let g = generation.get_value();
            let t0 = perf_now();
            // The Table's instant: the virtual clock, or the wall clock for a remote source
            // (one fixed time for every node).
            let at = if src.is_remote() {
                wall_now()
            } else {
                now.get_untracked()
            };
            let current: Rc<dyn Fn() -> bool> =
                Rc::new(move || generation.try_get_value() == Some(g));
            let done: Rc<dyn Fn(Result<Explain, QueryError>)> = Rc::new(move |r| {
                if generation.try_get_value() != Some(g) {
                    return;
                }
                let elapsed_ms = perf_now() - t0;
                result.set(Some(r.map(|ex| Executed {
                    shown: Shown::Explain(ex),
                    warnings: Vec::new(),
                    infos: Vec::new(),
                    elapsed_ms,
                })));
                busy.set(false);
            });
            run_explain(session, src, query, at, QUERY_TIMEOUT_MS, current, done);
            return;
        }
        if src.is_remote() {
            run_remote(src, query, which);
            return;
        }
        let g = generation.get_value();
        // Let the browser paint "running…" before the (synchronous, bounded) evaluation.
        Timeout::new(0, move || {
            let t0 = perf_now();
            // Long work is bounded: the engine polls this and stops with a timeout error.
            let deadline = t0 + QUERY_TIMEOUT_MS;
            let stop = move || perf_now() > deadline;
            let interrupt: Option<&dyn Fn() -> bool> = Some(&stop);
            let at = now.get_untracked();
            let outcome = match which {
                // The Explain tab returned before this.
                Tab::Table | Tab::Explain => session
                    .with_value(|s| s.with(|p| p.instant_query(&query, at, interrupt)))
                    .map(|r| r.map(|o| (Shown::Table(shape::table(&o.value)), o))),
                Tab::Graph => {
                    let params = graph_params(
                        &range_text.get_untracked(),
                        &end_text.get_untracked(),
                        &step_text.get_untracked(),
                        at,
                    );
                    Some(params.and_then(|range| {
                        session
                            .with_value(|s| s.with(|p| p.range_query(&query, range, interrupt)))
                            .unwrap_or_else(|| Err(busy_error()))
                            .map(|o| {
                                (
                                    Shown::Graph {
                                        series: shape::graph(&o.value),
                                        range,
                                    },
                                    o,
                                )
                            })
                    }))
                }
            };
            let outcome = outcome.unwrap_or_else(|| Err(busy_error()));
            if generation.try_get_value() != Some(g) {
                return; // the source changed meanwhile
            }
            let elapsed_ms = perf_now() - t0;
            result.set(Some(outcome.map(|(shown, o): (Shown, QueryOutcome)| {
                Executed {
                    shown,
                    warnings: o.annotations.warnings,
                    infos: o.annotations.infos,
                    elapsed_ms,
                }
            })));
            busy.set(false);
        })
        .forget();
    };

    // The span is marked only while the text is still the text that was executed.
    let error_span = Memo::new(move |_| match result.get() {
        Some(Err(e)) if text.with(|t| *t == executed.get()) => e.span,
        _ => None,
    });

    view! {
        <section class="query-page">
            <QueryEditor text=text error_span=error_span on_execute=Callback::new(move |_| run()) />
            <div class="query-actions">
                <button class="execute" data-testid="execute" on:click=move |_| run()>
                    "Execute"
                </button>
                <span class="hint">"Enter runs the query, Shift+Enter adds a line."</span>
                <span class="stats" data-testid="stats">
                    {move || {
                        if busy.get() {
                            "running…".to_string()
                        } else {
                            match result.get() {
                                Some(Ok(e)) if source.with(Source::is_remote) => {
                                    format!("answered in {:.0} ms", e.elapsed_ms)
                                }
                                Some(Ok(e)) => format!("evaluated in {:.1} ms", e.elapsed_ms),
                                _ => String::new(),
                            }
                        }
                    }}
                </span>
            </div>
            {move || match result.get() {
                Some(Err(e)) => {
                    view! { <div class="query-error" data-testid="query-error" role="alert">{e.message}</div> }
                        .into_any()
                }
                Some(Ok(e)) if !(e.warnings.is_empty() && e.infos.is_empty()) => {
                    view! {
                        <div class="annotations" data-testid="annotations">
                            {e.warnings.into_iter().map(|w| view! { <div>"warning: "{w}</div> }).collect_view()}
                            {e.infos.into_iter().map(|i| view! { <div>"info: "{i}</div> }).collect_view()}
                        </div>
                    }
                        .into_any()
                }
                _ => ().into_any(),
            }}
            <div class="tabs" role="tablist">
                <button
                    role="tab"
                    data-testid="tab-table"
                    class:active=move || tab.get() == Tab::Table
                    on:click=move |_| {
                        if tab.get_untracked() != Tab::Table {
                            tab.set(Tab::Table);
                            if result.get_untracked().is_some() {
                                run();
                            }
                        }
                    }
                >
                    "Table"
                </button>
                <button
                    role="tab"
                    data-testid="tab-graph"
                    class:active=move || tab.get() == Tab::Graph
                    on:click=move |_| {
                        if tab.get_untracked() != Tab::Graph {
                            tab.set(Tab::Graph);
                            if result.get_untracked().is_some() {
                                run();
                            }
                        }
                    }
                >
                    "Graph"
                </button>
                <button
                    role="tab"
                    data-testid="tab-explain"
                    class:active=move || tab.get() == Tab::Explain
                    on:click=move |_| {
                        if tab.get_untracked() != Tab::Explain {
                            tab.set(Tab::Explain);
                            if result.get_untracked().is_some() {
                                run();
                            }
                        }
                    }
                >
                    "Explain"
                </button>
            </div>
            {move || match tab.get() {
                Tab::Table => view! { <TableView result=result /> }.into_any(),
                Tab::Explain => {
                    view! {
                        {move || match result.get() {
                            Some(Ok(Executed { shown: Shown::Explain(ex), .. })) => {
                                view! { <ExplainView explain=ex /> }.into_any()
                            }
                            Some(_) => ().into_any(),
                            None => view! { <p class="empty">"No data queried yet"</p> }.into_any(),
                        }}
                    }
                        .into_any()
                }
                Tab::Graph => {
                    view! {
                        <RangeControls
                            range_text=range_text
                            end_text=end_text
                            step_text=step_text
                            now=shown_now
                            on_change=Callback::new(move |_| {
                                if result.get_untracked().is_some() {
                                    run();
                                }
                            })
                        />
                        <GraphView result=result />
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// A remote error, with the span of a parse error marked when Prometheus's message gives its
/// position (`invalid parameter "query": 1:17: parse error: …`).
fn remote_error(e: api::ApiError, query: &str) -> QueryError {
    let mut q = QueryError::from(e);
    q.span = api::error_span(query, &q.message);
    q
}

fn busy_error() -> QueryError {
    QueryError {
        message: "the playground is busy; try again".into(),
        span: None,
    }
}

/// Reads the graph controls: range (a duration), end (empty = now) and step (empty = auto).
fn graph_params(range: &str, end: &str, step: &str, now: i64) -> Result<RangeParams, QueryError> {
    let err = |message: String| QueryError {
        message,
        span: None,
    };
    let range = parse_duration(range.trim()).map_err(err)?;
    let end = if end.trim().is_empty() {
        now
    } else {
        parse_utc(end).map_err(err)?
    };
    let step = if step.trim().is_empty() {
        None
    } else {
        Some(parse_duration(step.trim()).map_err(err)?)
    };
    RangeParams::new(end, range, step)
}

/// The query editor: a textarea over a backdrop that marks the error span.
#[component]
pub fn QueryEditor(
    /// The query text.
    text: RwSignal<String>,
    /// The byte range to mark as wrong, if any.
    #[prop(into)]
    error_span: Signal<Option<(usize, usize)>>,
    /// Called on Enter (without Shift).
    on_execute: Callback<()>,
) -> impl IntoView {
    let backdrop = NodeRef::<leptos::html::Div>::new();
    let marked = move || {
        let t = text.get();
        match error_span.get() {
            Some((a, b)) => {
                let (a, b) = clamp_span(&t, a, b);
                // An empty span (e.g. at the end of input) marks one blank cell.
                let mid = if a == b {
                    " ".to_string()
                } else {
                    t[a..b].to_string()
                };
                let after = if a == b { &t[a..] } else { &t[b..] };
                view! {
                    {t[..a].to_string()}
                    <mark data-testid="error-mark">{mid}</mark>
                    {after.to_string()}
                    " "
                }
                .into_any()
            }
            None => view! { {t}" " }.into_any(),
        }
    };
    view! {
        <div class="editor" class:invalid=move || error_span.get().is_some()>
            <div class="backdrop" node_ref=backdrop aria-hidden="true">
                {marked}
            </div>
            <textarea
                data-testid="query-input"
                rows="2"
                spellcheck="false"
                placeholder="Expression (press Enter to execute), e.g. up"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:scroll=move |ev| {
                    let (Some(b), Some(ta)) = (
                        backdrop.get_untracked(),
                        ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()),
                    ) else {
                        return;
                    };
                    b.set_scroll_top(ta.scroll_top());
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        on_execute.run(());
                    }
                }
            ></textarea>
        </div>
    }
}

/// Clamps a byte span to `t` and to char boundaries.
fn clamp_span(t: &str, a: usize, b: usize) -> (usize, usize) {
    let fix = |mut i: usize| {
        i = i.min(t.len());
        while !t.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (a, b) = (fix(a), fix(b));
    (a.min(b), a.max(b))
}

/// The Table tab.
#[component]
fn TableView(result: RwSignal<Option<Result<Executed, QueryError>>>) -> impl IntoView {
    move || match result.get() {
        Some(Ok(Executed {
            shown: Shown::Table(t),
            ..
        })) => {
            if t.rows.is_empty() {
                view! { <p class="empty" data-testid="empty">"Empty query result"</p> }.into_any()
            } else {
                let more = (t.total > t.rows.len()).then(|| {
                    view! {
                        <p class="empty">{format!("showing {} of {} series", t.rows.len(), t.total)}</p>
                    }
                });
                view! {
                    <table class="result" data-testid="result-table">
                        <tbody>
                            {t
                                .rows
                                .into_iter()
                                .map(|r| {
                                    view! {
                                        <tr>
                                            <td class="labels">{r.labels}</td>
                                            <td class="value" style="white-space: pre">{r.value}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                    {more}
                }
                    .into_any()
            }
        }
        Some(Ok(_)) | Some(Err(_)) => ().into_any(),
        None => view! { <p class="empty">"No data queried yet"</p> }.into_any(),
    }
}

/// Range, end and step of the graph.
#[component]
fn RangeControls(
    range_text: RwSignal<String>,
    end_text: RwSignal<String>,
    step_text: RwSignal<String>,
    #[prop(into)] now: Signal<i64>,
    on_change: Callback<()>,
) -> impl IntoView {
    let auto_step = move || match parse_duration(range_text.get().trim()) {
        Ok(r) if r > 0 => format!("auto: {}", format_duration((r / 250 / 1000).max(1) * 1000)),
        _ => "auto".to_string(),
    };
    view! {
        <div class="range-controls" data-testid="range-controls">
            <label>
                "Range"
                <input
                    data-testid="range"
                    prop:value=move || range_text.get()
                    on:change=move |ev| {
                        range_text.set(event_target_value(&ev));
                        on_change.run(());
                    }
                />
            </label>
            <label>
                "End"
                <input
                    class="end"
                    data-testid="end"
                    placeholder=move || format!("now ({})", format_utc(now.get()))
                    prop:value=move || end_text.get()
                    on:change=move |ev| {
                        end_text.set(event_target_value(&ev));
                        on_change.run(());
                    }
                />
            </label>
            <label>
                "Step"
                <input
                    data-testid="step"
                    placeholder=auto_step
                    prop:value=move || step_text.get()
                    on:change=move |ev| {
                        step_text.set(event_target_value(&ev));
                        on_change.run(());
                    }
                />
            </label>
        </div>
    }
}

/// The Graph tab: the canvas and the legend.
#[component]
fn GraphView(result: RwSignal<Option<Result<Executed, QueryError>>>) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let graph = Memo::new(move |_| match result.get() {
        Some(Ok(Executed {
            shown: Shown::Graph { series, range },
            ..
        })) => Some((series, range)),
        _ => None,
    });
    Effect::new(move |_| {
        let g = graph.get();
        if let (Some(c), Some((series, range))) = (canvas.get(), g) {
            if let Err(e) = crate::chart::draw(&c, &series, range) {
                web_sys::console::error_1(&format!("graph: {e}").into());
            }
        }
    });
    view! {
        {move || match graph.get() {
            Some((s, _)) if s.is_empty() => {
                view! { <p class="empty" data-testid="empty">"Empty query result"</p> }.into_any()
            }
            Some(_) => ().into_any(),
            None => view! { <p class="empty">"No data queried yet"</p> }.into_any(),
        }}
        <canvas
            class="graph"
            data-testid="graph"
            width="1000"
            height="360"
            node_ref=canvas
            style:display=move || {
                if graph.get().is_some_and(|(s, _)| !s.is_empty()) { "block" } else { "none" }
            }
        ></canvas>
        <ul class="legend" data-testid="legend">
            {move || {
                graph
                    .get()
                    .map(|(series, _)| {
                        series
                            .into_iter()
                            .enumerate()
                            .map(|(i, s)| {
                                let (r, g, b) = crate::chart::color(i);
                                view! {
                                    <li>
                                        <span
                                            class="swatch"
                                            style=format!("background: rgb({r},{g},{b})")
                                        ></span>
                                        {s.label}
                                    </li>
                                }
                            })
                            .collect_view()
                    })
            }}
        </ul>
    }
}

//! The Leptos components of the playground.
//!
//! [`App`] is the shell (header with the virtual clock, the page nav, the error banner); the
//! pages live below it. The components own no engine logic: they call
//! [`crate::playground::Playground`] and render what [`crate::shape`] returns.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::pages::{ConfigPage, TargetsPage, TimeControls, WorkshopPage};
use crate::playground::{Playground, QueryError, QueryOutcome, RangeParams};
use crate::shape::{self, GraphSeries, Table};
use crate::time::{format_duration, format_utc, parse_duration, parse_utc};

/// A query running longer than this (wall-clock ms in the tab) is stopped.
const QUERY_TIMEOUT_MS: f64 = 10_000.0;

/// The id of the banner a panic writes into (outside Leptos, so it works after a panic too).
const BANNER_ID: &str = "panic-banner";

/// Installs a panic hook that logs to the console (with the Rust message and location) and
/// shows an error banner at the top of the page, so a panic never leaves a blank tab.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_banner(&format!(
            "promplay hit an internal error and may not respond any more; reload the page. {info}"
        ));
    }));
}

/// Writes `msg` into the error banner at the top of `<body>`, creating the banner if needed.
pub fn show_banner(msg: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let banner = match doc.get_element_by_id(BANNER_ID) {
        Some(b) => b,
        None => {
            let Ok(b) = doc.create_element("div") else {
                return;
            };
            b.set_id(BANNER_ID);
            b.set_class_name("banner");
            let _ = b.set_attribute("role", "alert");
            if let Some(body) = doc.body() {
                let _ = body.prepend_with_node_1(&b);
            }
            b
        }
    };
    banner.set_text_content(Some(msg));
}

/// The pages of the nav bar. Query, Targets, Config and Workshop exist yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Query,
    Targets,
    Alerts,
    Rules,
    Config,
    Workshop,
    Inbox,
}

impl Page {
    pub const ALL: [Page; 7] = [
        Page::Query,
        Page::Targets,
        Page::Alerts,
        Page::Rules,
        Page::Config,
        Page::Workshop,
        Page::Inbox,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Page::Query => "Query",
            Page::Targets => "Targets",
            Page::Alerts => "Alerts",
            Page::Rules => "Rules",
            Page::Config => "Config",
            Page::Workshop => "Workshop",
            Page::Inbox => "Inbox",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Page::Query => "query",
            Page::Targets => "targets",
            Page::Alerts => "alerts",
            Page::Rules => "rules",
            Page::Config => "config",
            Page::Workshop => "workshop",
            Page::Inbox => "inbox",
        }
    }

    /// The page a `#/slug` location hash names (the Query page for anything else).
    pub fn from_hash(hash: &str) -> Page {
        let slug = hash.trim_start_matches('#').trim_start_matches('/');
        Page::ALL
            .into_iter()
            .find(|p| p.slug() == slug)
            .unwrap_or(Page::Query)
    }

    /// What a page that does not exist yet will bring.
    fn arrives_with(self) -> &'static str {
        match self {
            Page::Query => "",
            Page::Targets => "simulated scraping (scrape pools, target health, last scrape)",
            Page::Alerts => "the rule evaluator (alerting rules, pending and firing alerts)",
            Page::Rules => "the rule evaluator (recording and alerting rule groups)",
            Page::Config => "",
            Page::Workshop => "the guided exercises",
            Page::Inbox => "the Alertmanager (notifications delivered as emails)",
        }
    }
}

/// The shared session: the engine side behind `Rc<RefCell<…>>` (single-threaded wasm).
#[derive(Clone)]
pub struct Session(Rc<RefCell<Playground>>);

impl Session {
    pub fn new(p: Playground) -> Self {
        Session(Rc::new(RefCell::new(p)))
    }
    /// Runs `f` on the playground; `None` if it is busy (re-entrant call), never a panic.
    pub fn with<R>(&self, f: impl FnOnce(&mut Playground) -> R) -> Option<R> {
        self.0.try_borrow_mut().ok().map(|mut p| f(&mut p))
    }
}

/// The whole app: header with the virtual clock, nav bar and the current page.
#[component]
pub fn App() -> impl IntoView {
    let session = StoredValue::new_local(Session::new(Playground::new()));
    let now = RwSignal::new(session.with_value(|s| s.with(|p| p.now_ms()).unwrap_or(0)));
    let initial = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|h| Page::from_hash(&h))
        .unwrap_or(Page::Query);
    let page = RwSignal::new(initial);
    // Back/forward and typed URLs move between pages too.
    let on_hash = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(h) = web_sys::window().and_then(|w| w.location().hash().ok()) {
            page.set(Page::from_hash(&h));
        }
    });
    on_cleanup(move || on_hash.remove());

    view! {
        <header class="top">
            <span class="brand">"prom"<span>"play"</span></span>
            <TimeControls session=session now=now />
        </header>
        <nav class="pages">
            {Page::ALL
                .into_iter()
                .map(|p| {
                    view! {
                        <a
                            href=format!("#/{}", p.slug())
                            class:active=move || page.get() == p
                            on:click=move |_| page.set(p)
                        >
                            {p.title()}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <main>
            {move || match page.get() {
                Page::Query => view! { <QueryPage session=session now=now /> }.into_any(),
                Page::Targets => {
                    view! { <TargetsPage session=session now=now /> }.into_any()
                }
                Page::Workshop => {
                    view! { <WorkshopPage session=session now=now /> }.into_any()
                }
                Page::Config => view! { <ConfigPage session=session /> }.into_any(),
                other => view! { <NotYet page=other /> }.into_any(),
            }}
        </main>
    }
}

/// A page that does not exist yet, saying so plainly.
#[component]
pub fn NotYet(
    /// The page that was asked for.
    page: Page,
) -> impl IntoView {
    view! {
        <h1>{page.title()}</h1>
        <p class="placeholder" data-testid="not-yet">
            {format!("This page arrives with {}; nothing here works yet.", page.arrives_with())}
        </p>
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Table,
    Graph,
}

/// What the last execution produced, ready to render.
#[derive(Clone, Debug, PartialEq)]
enum Shown {
    Table(Table),
    Graph {
        series: Vec<GraphSeries>,
        range: RangeParams,
    },
}

#[derive(Clone, Debug, PartialEq)]
struct Executed {
    shown: Shown,
    warnings: Vec<String>,
    infos: Vec<String>,
    elapsed_ms: f64,
}

fn perf_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
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

    let run = move || {
        let query = text.get_untracked();
        executed.set(query.clone());
        let which = tab.get_untracked();
        busy.set(true);
        // Let the browser paint "running…" before the (synchronous, bounded) evaluation.
        Timeout::new(0, move || {
            let t0 = perf_now();
            // Long work is bounded: the engine polls this and stops with a timeout error.
            let deadline = t0 + QUERY_TIMEOUT_MS;
            let stop = move || perf_now() > deadline;
            let interrupt: Option<&dyn Fn() -> bool> = Some(&stop);
            let at = now.get_untracked();
            let outcome = match which {
                Tab::Table => session
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
            </div>
            {move || match tab.get() {
                Tab::Table => view! { <TableView result=result /> }.into_any(),
                Tab::Graph => {
                    view! {
                        <RangeControls
                            range_text=range_text
                            end_text=end_text
                            step_text=step_text
                            now=now
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
    now: RwSignal<i64>,
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

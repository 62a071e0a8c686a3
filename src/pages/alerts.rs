//! The Alerts page: each alerting rule with its state, definition and alerts, a graph of its
//! expression over the 15 minutes ending at the cursor, and one lane per alert with its
//! pending and firing bands and, while pending, the `for` countdown.
//!
//! Controls: Step advances the virtual clock by one evaluation interval (it pauses the
//! header's clock first, as the header's own step does; the world advances with
//! `Playground::advance`, the call the clock's slices make, and `now` moves so the header and
//! every page re-render). Back and the slider move a cursor over the retained history; the
//! page then shows the instant at the cursor, marked as the past, and Step moves the cursor
//! forward until it reaches the present again. It renders what [`crate::alerts`] computes.
//!
//! With a remote data source (a Prometheus URL, this companion) the page reads that server's
//! `/api/v1/rules` and the queries [`crate::alerts::requests`] lists, on the wall clock: Step
//! at the present re-reads it (there is no clock to move), and it is re-read every
//! [`REMOTE_REFRESH_MS`] while showing the present.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::alerts::{self, AlertRow, Lane, Prefetched, Request, RuleView, StepAction};
use crate::api;
use crate::app::Session;
use crate::pages::clock::ClockPlaying;
use crate::pages::common::LabelsAndAnnotations;
use crate::pages::source::{use_source, wall_now};
use crate::playground::RangeParams;
use crate::rules_view::parse_rules;
use crate::shape::GraphSeries;
use crate::source::Source;
use crate::time::{format_duration, format_utc};

/// How often a remote source's alerts are re-read while the page shows the present
/// (wall-clock ms).
pub const REMOTE_REFRESH_MS: u32 = 10_000;

/// Pauses the header's clock: stepping is for looking closely, and a playing clock would
/// move on under the page.
fn pause_clock(clock: Option<ClockPlaying>) {
    if let Some(ClockPlaying(playing)) = clock {
        playing.set(false);
    }
}

/// A remote server's page at `cursor`: its rules, then every query the page needs.
async fn fetch_page(src: &Source, cursor: Option<i64>) -> Result<alerts::AlertsPage, String> {
    let body = api::rules(src).await.map_err(|e| e.to_string())?;
    let data = parse_rules(&body)?;
    let now = wall_now();
    let cursor = cursor.filter(|c| *c < now);
    let mut answers = Vec::new();
    for r in alerts::requests(&data, now, cursor) {
        let a = match &r {
            Request::Range(q, range) => api::query_range(src, q, *range).await,
            Request::Instant(q, t) => api::query(src, q, Some(*t)).await,
        };
        answers.push((r, a.map(|o| o.value).map_err(|e| e.to_string())));
    }
    Ok(alerts::build(&data, now, cursor, &Prefetched(answers)))
}

#[component]
pub fn AlertsPage(
    /// The session whose rules and alerts are shown.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time: the page re-reads as it moves; Step moves it.
    now: RwSignal<i64>,
) -> impl IntoView {
    let source = use_source();
    let remote = Memo::new(move |_| source.with(Source::is_remote));
    // `None`: the present.
    let cursor = RwSignal::new(None::<i64>);
    let error = RwSignal::new(None::<String>);
    // A remote source's page, as last read.
    let fetched = RwSignal::new(None::<Result<alerts::AlertsPage, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let page = Memo::new(move |_| {
        if remote.get() {
            return fetched.get();
        }
        now.get();
        let c = cursor.get();
        Some(
            session
                .with_value(|s| s.with(|p| alerts::alerts_page(p, c)))
                .ok_or_else(|| "the playground is busy; try again".to_string()),
        )
    });
    let load = move || {
        let src = source.get_untracked();
        if !src.is_remote() {
            return;
        }
        let c = cursor.get_untracked();
        let g = generation.get_value() + 1;
        generation.set_value(g);
        loading.set(true);
        spawn_local(async move {
            let r = fetch_page(&src, c).await;
            // An answer older than the last one asked for is dropped.
            if generation.try_get_value() != Some(g) {
                return;
            }
            loading.set(false);
            fetched.set(Some(r));
        });
    };
    // Another source: back to its present.
    Effect::new(move |prev: Option<Source>| {
        let s = source.get();
        if prev.is_some_and(|p| p != s) {
            cursor.set(None);
            fetched.set(None);
        }
        s
    });
    Effect::new(move |_| {
        source.track();
        cursor.track();
        load();
    });
    let timer = Interval::new(REMOTE_REFRESH_MS, move || {
        if cursor.get_untracked().is_none() {
            load();
        }
    });
    let timer = StoredValue::new_local(Some(timer));
    on_cleanup(move || timer.update_value(|t| drop(t.take())));

    // The present: the simulated world's virtual time, or a remote source's wall clock.
    let current_now = move || {
        if remote.get_untracked() {
            return wall_now();
        }
        session
            .with_value(|s| s.with(|p| p.now_ms()))
            .unwrap_or_else(|| now.get_untracked())
    };
    let shown = move || page.with(|p| p.as_ref().and_then(|r| r.as_ref().ok()).cloned());
    let step_ms = move || {
        page.with(|p| p.as_ref().and_then(|r| r.as_ref().ok()).map(|p| p.step_ms))
            .unwrap_or(alerts::DEFAULT_STEP_MS)
    };
    let page_now = move || {
        page.with(|p| p.as_ref().and_then(|r| r.as_ref().ok()).map(|p| p.now_ms))
            .unwrap_or_else(|| now.get())
    };
    let clock = use_context::<ClockPlaying>();
    let on_step = move |_| {
        let step = step_ms_untracked(page);
        match alerts::step(cursor.get_untracked(), current_now(), step) {
            StepAction::Cursor(c) => cursor.set(c),
            StepAction::Advance(_) if remote.get_untracked() => load(),
            StepAction::Advance(ms) => {
                pause_clock(clock);
                match session.with_value(|s| {
                    s.with(|p| {
                        p.advance(ms);
                        p.now_ms()
                    })
                }) {
                    Some(t) => {
                        error.set(None);
                        now.set(t);
                    }
                    None => error.set(Some("the playground is busy; try again".into())),
                }
            }
        }
    };
    let on_back = move |_| {
        let step = step_ms_untracked(page);
        cursor.set(alerts::back(cursor.get_untracked(), current_now(), step));
    };
    let on_live = move |_| cursor.set(None);
    let on_scrub = move |ev| {
        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
            cursor.set(alerts::scrub(v as i64, current_now()));
        }
    };

    view! {
        <div class="alerts-page">
            <h1>"Alerts"</h1>
            {move || {
                remote
                    .get()
                    .then(|| {
                        view! {
                            <p class="remote-note" data-testid="alerts-remote">
                                {move || {
                                    format!(
                                        "Alerting rules of {} (its /api/v1/rules and ALERTS series, on the real clock; re-read every {} s at the present). ",
                                        source.get(),
                                        REMOTE_REFRESH_MS / 1000,
                                    )
                                }}
                                {move || loading.get().then_some("reading…")}
                            </p>
                        }
                    })
            }}
            <div
                class="alerts-controls"
                class:past=move || cursor.get().is_some()
                data-testid="alerts-controls"
            >
                <button
                    data-testid="alerts-back"
                    title="Move the cursor back one evaluation interval"
                    on:click=on_back
                >
                    "◀ back"
                </button>
                <button
                    data-testid="alerts-step"
                    title="In the past: move the cursor forward. At the present: pause the clock and advance it one evaluation interval (a remote source: read it again)"
                    on:click=on_step
                >
                    {move || {
                        if remote.get() && cursor.get().is_none() {
                            "refresh".to_string()
                        } else {
                            format!("step {} ▶", format_duration(step_ms()))
                        }
                    }}
                </button>
                <input
                    type="range"
                    class="scrub"
                    data-testid="alerts-scrub"
                    title="Scrub back over the last hour"
                    prop:min=move || alerts::slider_bounds(page_now()).0.to_string()
                    prop:max=move || page_now().to_string()
                    prop:step=move || step_ms().to_string()
                    prop:value=move || cursor.get().unwrap_or_else(page_now).to_string()
                    on:input=on_scrub
                />
                <button
                    data-testid="alerts-live"
                    disabled=move || cursor.get().is_none()
                    on:click=on_live
                >
                    "live"
                </button>
                {move || {
                    shown()
                        .map(|pg| {
                            let (at, nw) = (pg.at_ms, pg.now_ms);
                            view! {
                                <span
                                    class="alerts-at"
                                    data-testid="alerts-at"
                                    data-ms=at.to_string()
                                    data-now-ms=nw.to_string()
                                    data-past=pg.past.to_string()
                                >
                                    {if pg.past {
                                        format!(
                                            "THE PAST: {} UTC, {} before now",
                                            format_utc(at),
                                            format_duration((nw - at) / 1000 * 1000),
                                        )
                                    } else {
                                        format!("now: {} UTC", format_utc(at))
                                    }}
                                </span>
                            }
                        })
                }}
            </div>
            {move || {
                cursor
                    .get()
                    .map(|_| {
                        view! {
                            <div class="past-banner" data-testid="alerts-past-banner" role="status">
                                "You are looking at the past. The states, alerts, countdowns and lanes \
                                 below are as they were at the cursor; step moves it forward, live \
                                 returns to now."
                            </div>
                        }
                    })
            }}
            {move || error.get().map(|e| view! { <div class="query-error" role="alert">{e}</div> })}
            {move || {
                let pg = match page.get() {
                    None => return view! { <p class="empty">"Reading the rules…"</p> }.into_any(),
                    Some(Err(e)) => {
                        return view! {
                            <div class="query-error" data-testid="alerts-error" role="alert">
                                {e}
                            </div>
                        }
                            .into_any();
                    }
                    Some(Ok(pg)) => pg,
                };
                if pg.rules.is_empty() {
                    return view! {
                        <p class="empty" data-testid="alerts-empty">
                            "No alerting rules are loaded (rules.yml, on the Config page)."
                        </p>
                    }
                        .into_any();
                }
                let c = pg.counts;
                view! {
                    <div class="alert-counts" data-testid="alerts-counts">
                        <span class="state inactive">{format!("inactive ({})", c.inactive)}</span>
                        <span class="state pending">{format!("pending ({})", c.pending)}</span>
                        <span class="state firing">{format!("firing ({})", c.firing)}</span>
                    </div>
                    {pg.rules.into_iter().map(|r| rule_view(r, pg.at_ms)).collect_view()}
                }
                    .into_any()
            }}
        </div>
    }
}

fn step_ms_untracked(page: Memo<Option<Result<alerts::AlertsPage, String>>>) -> i64 {
    page.with_untracked(|p| p.as_ref().and_then(|r| r.as_ref().ok()).map(|p| p.step_ms))
        .unwrap_or(alerts::DEFAULT_STEP_MS)
}

fn rule_view(r: RuleView, at: i64) -> impl IntoView {
    let counts = match (r.pending, r.firing) {
        (0, 0) => String::new(),
        (p, 0) => format!("{p} pending"),
        (0, f) => format!("{f} firing"),
        (p, f) => format!("{p} pending, {f} firing"),
    };
    let graph = match &r.graph {
        Ok(series) => {
            let empty = series.is_empty().then(|| {
                view! {
                    <p class="empty graph-note">
                        "The expression has no series in this window (nothing would alert)."
                    </p>
                }
            });
            view! {
                <RuleGraph series=series.clone() range=r.graph_range />
                {empty}
            }
            .into_any()
        }
        Err(e) => view! { <div class="query-error">{e.clone()}</div> }.into_any(),
    };
    let span = (r.lane_from_ms, r.lane_to_ms);
    view! {
        <section
            class=format!("alert-rule {}", r.state)
            data-testid="alert-rule"
            data-rule=r.name.clone()
            data-state=r.state
        >
            <h2>
                <span class=format!("state {}", r.state) data-testid="rule-state">
                    {r.state.to_uppercase()}
                </span>
                " "
                {r.name.clone()}
                <span class="alert-counts-rule">{counts}</span>
            </h2>
            <div class="rule-def">
                <div>
                    <span class="key">"expr: "</span>
                    <code>{r.expr.clone()}</code>
                </div>
                <div>
                    <span class="key">"for: "</span>
                    {format_duration(r.hold_ms)}
                    <span class="key">" keep_firing_for: "</span>
                    {format_duration(r.keep_firing_for_ms)}
                    <span class="key">" group: "</span>
                    {format!("{} ({}, every {})", r.group, r.file, format_duration(r.interval_ms))}
                </div>
                <LabelsAndAnnotations labels=r.labels.clone() annotations=r.annotations.clone() />
                {(r.health == "err")
                    .then(|| view! { <div class="rule-error">{r.last_error.clone()}</div> })}
            </div>
            {graph}
            <div class="lanes" data-testid="lanes">
                {r.lanes.is_empty().then(|| view! { <p class="empty">"No alert in this window."</p> })}
                {r
                    .lanes
                    .iter()
                    .map(|l| lane_view(l, &r.alerts, span))
                    .collect_view()}
                {r.lanes_error.clone().map(|e| view! { <div class="query-error">{e}</div> })}
            </div>
            {(!r.alerts.is_empty())
                .then(|| {
                    view! {
                        <table class="alerts">
                            <thead>
                                <tr>
                                    <th>"Labels"</th>
                                    <th>"State"</th>
                                    <th>"Active since"</th>
                                    <th>"Value"</th>
                                    <th>"Annotations"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {r.alerts.iter().map(|a| alert_row(a, at)).collect_view()}
                            </tbody>
                        </table>
                    }
                })}
        </section>
    }
}

fn ms_attr(t: Option<i64>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

fn alert_row(a: &AlertRow, at: i64) -> impl IntoView {
    let firing_since = a.firing_since_ms.map(|t| {
        view! {
            <div class="firing-since" data-testid="alert-firing-since" data-ms=t.to_string()>
                {format!("firing since {} UTC", format_utc(t))}
            </div>
        }
    });
    let keep = a.keep_firing_since_ms.map(|t| {
        view! {
            <div class="keep-firing">
                {format!("condition gone since {} UTC: kept firing", format_utc(t))}
            </div>
        }
    });
    let ago = a.active_at_ms.map(|t| {
        format!(
            " ({} before)",
            format_duration((at - t).max(0) / 1000 * 1000)
        )
    });
    view! {
        <tr data-testid="alert-row" data-key=a.key.clone() data-state=a.state>
            <td class="labels">
                {a.labels.iter().map(|l| view! { <span class="label">{l.clone()}</span> }).collect_view()}
            </td>
            <td>
                <span class=format!("state {}", a.state) data-testid="alert-state">
                    {a.state.to_uppercase()}
                </span>
                {a
                    .countdown
                    .clone()
                    .map(|c| {
                        view! {
                            <div
                                class="countdown"
                                data-testid="alert-countdown"
                                data-fires-ms=ms_attr(a.fires_at_ms)
                            >
                                {c}
                            </div>
                        }
                    })}
                {firing_since}
                {keep}
            </td>
            <td data-testid="alert-active-since" data-ms=ms_attr(a.active_at_ms)>
                {a.active_since.clone()}
                {ago}
            </td>
            <td data-testid="alert-value">{a.value.clone()}</td>
            <td>
                {a.annotations.iter().map(|x| view! { <div class="annotation">{x.clone()}</div> }).collect_view()}
            </td>
        </tr>
    }
}

fn lane_view(l: &Lane, alerts: &[AlertRow], (from, to): (i64, i64)) -> impl IntoView {
    let width = (to - from).max(1) as f64;
    let pct = |t: i64| ((t - from) as f64 / width * 100.0).clamp(0.0, 100.0);
    let countdown = alerts
        .iter()
        .find(|a| a.key == l.key)
        .and_then(|a| a.countdown.clone());
    view! {
        <div class="lane" data-testid="lane" data-key=l.key.clone()>
            <div class="lane-label">
                {l.key.clone()}
                {countdown.map(|c| view! { <span class="countdown" data-testid="lane-countdown">{c}</span> })}
            </div>
            <div class="lane-track">
                {l
                    .bands
                    .iter()
                    .map(|b| {
                        let (x, w) = (pct(b.from_ms), pct(b.to_ms) - pct(b.from_ms));
                        view! {
                            <div
                                class=format!("band {}", b.state)
                                data-testid="band"
                                data-state=b.state
                                data-from=b.from_ms.to_string()
                                data-to=b.to_ms.to_string()
                                style=format!("left: {x:.3}%; width: {w:.3}%")
                                title=format!(
                                    "{} {} – {} UTC",
                                    b.state,
                                    format_utc(b.from_ms),
                                    format_utc(b.to_ms),
                                )
                            ></div>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

/// The expression's graph (the Query page's chart code).
#[component]
fn RuleGraph(series: Vec<GraphSeries>, range: RangeParams) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        if let Some(c) = canvas.get() {
            if let Err(e) = crate::chart::draw(&c, &series, range) {
                web_sys::console::error_1(&format!("graph: {e}").into());
            }
        }
    });
    view! {
        <canvas
            class="graph alert-graph"
            data-testid="alert-graph"
            width="1000"
            height="220"
            node_ref=canvas
        ></canvas>
    }
}

//! The Targets page: per job, each endpoint with its state, labels, last scrape, duration and
//! error, and (in the simulated world) buttons that stop, start or restart the program behind
//! it and inject faults (slow answers, a cardinality explosion, garbage or huge bodies; heal
//! clears them), with the active faults shown on the row. With a remote source the rows come from its `/api/v1/targets`, re-read every
//! [`REMOTE_REFRESH_MS`]; there are no programs to stop there, so no buttons.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::Session;
use crate::pages::source::{use_source, wall_now};
use crate::playground::{Fault, HostAction};
use crate::source::Source;
use crate::targets::{fault_labels, groups, TargetGroup};

/// What a button on a row does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Do {
    Host(HostAction),
    Fault(Fault),
}

/// The state of the program behind an endpoint: running, its delay and its faults' labels.
#[derive(Clone, Debug, Default, PartialEq)]
struct HostState {
    address: String,
    running: bool,
    delay_ms: i64,
    faults: Vec<String>,
}

/// The delays the slow control offers (ms): none, within the scrape timeout, beyond it.
const DELAYS: [(i64, &str); 3] = [(0, "0 s"), (2_000, "2 s"), (15_000, "15 s")];

/// How often a remote source's targets are re-read (wall-clock ms).
const REMOTE_REFRESH_MS: u32 = 5_000;

#[component]
pub fn TargetsPage(
    /// The session whose scrape manager and world are shown.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time: the page re-reads the targets as it moves.
    now: RwSignal<i64>,
) -> impl IntoView {
    let source = use_source();
    let remote = Memo::new(move |_| source.with(Source::is_remote));
    view! {
        <h1>"Targets"</h1>
        {move || {
            if remote.get() {
                view! { <RemoteTargets source=source /> }.into_any()
            } else {
                view! { <SimulatedTargets session=session now=now /> }.into_any()
            }
        }}
    }
}

/// The simulated world's targets, with the programs' buttons.
#[component]
fn SimulatedTargets(
    session: StoredValue<Session, LocalStorage>,
    now: RwSignal<i64>,
) -> impl IntoView {
    let bump = RwSignal::new(0u32);
    let error = RwSignal::new(None::<String>);
    // Re-rendered only when what is shown changes (not at every tick of the clock), so a
    // button is not replaced under the pointer.
    let view_now = Memo::new(move |_| {
        now.get();
        bump.get();
        session
            .with_value(|s| {
                s.with(|p| {
                    let g = groups(&p.targets(), p.now_ms());
                    let hosts: Vec<HostState> = g
                        .iter()
                        .flat_map(|g| g.rows.iter())
                        .map(|r| {
                            let f = p.faults(&r.address).unwrap_or_default();
                            HostState {
                                address: r.address.clone(),
                                running: p.is_running(&r.address),
                                delay_ms: f.delay_ms,
                                faults: fault_labels(&f),
                            }
                        })
                        .collect();
                    (g, hosts)
                })
            })
            .unwrap_or_default()
    });
    let act = move |address: String, what: Do| {
        let r = session.with_value(|s| {
            s.with(|p| match what {
                Do::Host(a) => p.act(&address, a),
                Do::Fault(f) => p.inject(&address, f),
            })
        });
        error.set(match r {
            Some(Ok(())) => None,
            Some(Err(e)) => Some(e.to_string()),
            None => Some("the playground is busy; try again".into()),
        });
        bump.update(|b| *b += 1);
    };
    view! {
        {move || error.get().map(|e| view! { <div class="query-error" role="alert">{e}</div> })}
        {move || {
            let (g, running) = view_now.get();
            g.into_iter()
                .map(|grp| pool_view(grp, Some((running.clone(), act))))
                .collect_view()
        }}
    }
}

/// A remote source's targets: read at once and every [`REMOTE_REFRESH_MS`]; an answer older
/// than the last one shown is dropped.
#[component]
fn RemoteTargets(source: RwSignal<Source>) -> impl IntoView {
    let data = RwSignal::new(None::<Result<Vec<TargetGroup>, String>>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let load = move || {
        let src = source.get_untracked();
        if !src.is_remote() {
            return;
        }
        let g = generation.get_value() + 1;
        generation.set_value(g);
        loading.set(true);
        spawn_local(async move {
            let r = api::targets(&src).await;
            if generation.try_get_value() != Some(g) {
                return;
            }
            loading.set(false);
            data.set(Some(
                r.map(|v| groups(&v, wall_now())).map_err(|e| e.to_string()),
            ));
        });
    };
    Effect::new(move |_| {
        source.track();
        data.set(None);
        load();
    });
    let timer = Interval::new(REMOTE_REFRESH_MS, load);
    let timer = StoredValue::new_local(Some(timer));
    on_cleanup(move || timer.update_value(|t| drop(t.take())));
    view! {
        <p class="remote-note" data-testid="targets-remote">
            {move || format!("Targets of {} (real scrapes; refreshed every {} s). ", source.get(), REMOTE_REFRESH_MS / 1000)}
            <button data-testid="targets-refresh" on:click=move |_| load()>
                {move || if loading.get() { "refreshing…" } else { "refresh" }}
            </button>
        </p>
        {move || match data.get() {
            None => view! { <p class="empty">"Loading targets…"</p> }.into_any(),
            Some(Err(e)) => {
                view! { <div class="query-error" data-testid="targets-error" role="alert">{e}</div> }
                    .into_any()
            }
            Some(Ok(g)) if g.is_empty() => {
                view! { <p class="empty">"No active targets."</p> }.into_any()
            }
            Some(Ok(g)) => {
                g.into_iter()
                    .map(|grp| pool_view::<fn(String, Do)>(grp, None))
                    .collect_view()
                    .into_any()
            }
        }}
    }
}

/// One scrape pool's table; `actions` (the programs' running state and what a button does)
/// only for the simulated world.
fn pool_view<F>(grp: TargetGroup, actions: Option<(Vec<HostState>, F)>) -> impl IntoView
where
    F: Fn(String, Do) + Copy + 'static,
{
    let total = grp.rows.len();
    let with_actions = actions.is_some();
    view! {
        <section class="target-pool" data-testid="target-pool" data-job=grp.job.clone()>
            <h2>{format!("{} ({}/{} up)", grp.job, grp.up, total)}</h2>
            <table class="targets">
                <thead>
                    <tr>
                        <th>"Endpoint"</th>
                        <th>"State"</th>
                        <th>"Labels"</th>
                        <th>"Last scrape"</th>
                        <th>"Scrape duration"</th>
                        <th>"Error"</th>
                        {with_actions.then(|| view! { <th>"Process"</th> <th>"Faults"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {grp
                        .rows
                        .into_iter()
                        .map(|r| {
                            let buttons = actions
                                .as_ref()
                                .map(|(hosts, act)| {
                                    let act = *act;
                                    let host = hosts
                                        .iter()
                                        .find(|h| h.address == r.address)
                                        .cloned()
                                        .unwrap_or_default();
                                    let is_running = host.running;
                                    let addr = r.address.clone();
                                    let button = move |tid: &'static str,
                                                       label: &'static str,
                                                       what: Do,
                                                       disabled: bool| {
                                        let a = addr.clone();
                                        view! {
                                            <button
                                                data-testid=tid
                                                disabled=disabled
                                                on:click=move |_| act(a.clone(), what)
                                            >
                                                {label}
                                            </button>
                                        }
                                    };
                                    let a_slow = r.address.clone();
                                    let delay = host.delay_ms;
                                    let faults = host.faults.join(", ");
                                    let healthy = host.faults.is_empty();
                                    view! {
                                        <td class="actions">
                                            {button("target-stop", "stop", Do::Host(HostAction::Stop), !is_running)}
                                            {button("target-start", "start", Do::Host(HostAction::Start), is_running)}
                                            {button("target-restart", "restart", Do::Host(HostAction::Restart), false)}
                                        </td>
                                        <td class="actions faults">
                                            <label title="Extra time every answer takes; beyond scrape_timeout the scrape fails">
                                                "slow "
                                                <select
                                                    data-testid="target-slow"
                                                    on:change=move |ev| {
                                                        let ms = event_target_value(&ev).parse().unwrap_or(0);
                                                        act(a_slow.clone(), Do::Fault(Fault::Slow(ms)));
                                                    }
                                                >
                                                    {DELAYS
                                                        .into_iter()
                                                        .map(|(ms, l)| {
                                                            view! {
                                                                <option value=ms.to_string() selected=ms == delay>
                                                                    {l}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </select>
                                            </label>
                                            {button("target-explode", "explode", Do::Fault(Fault::Explode), false)}
                                            {button("target-garbage", "garbage", Do::Fault(Fault::Garbage), false)}
                                            {button("target-huge", "huge", Do::Fault(Fault::Huge), false)}
                                            {button("target-heal", "heal", Do::Fault(Fault::Heal), healthy)}
                                            <span class="active-faults" data-testid="target-faults">
                                                {faults}
                                            </span>
                                        </td>
                                    }
                                });
                            view! {
                                <tr data-testid="target-row" data-address=r.address.clone()>
                                    <td class="endpoint">{r.endpoint}</td>
                                    <td>
                                        <span
                                            class=format!("state {}", r.state)
                                            data-testid="target-state"
                                        >
                                            {r.state.to_uppercase()}
                                        </span>
                                    </td>
                                    <td class="labels">
                                        {r
                                            .labels
                                            .into_iter()
                                            .map(|l| view! { <span class="label">{l}</span> })
                                            .collect_view()}
                                    </td>
                                    <td>{r.last_scrape}</td>
                                    <td>{r.duration}</td>
                                    <td class="error" data-testid="target-error">{r.error}</td>
                                    {buttons}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

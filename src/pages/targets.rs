//! The Targets page: per job, each endpoint with its state, labels, last scrape, duration and
//! error, and (in the simulated world) buttons that stop, start or restart the program behind
//! it. With a remote source the rows come from its `/api/v1/targets`, re-read every
//! [`REMOTE_REFRESH_MS`]; there are no programs to stop there, so no buttons.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::Session;
use crate::pages::source::{use_source, wall_now};
use crate::playground::HostAction;
use crate::source::Source;
use crate::targets::{groups, TargetGroup};

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
                    let running: Vec<(String, bool)> = g
                        .iter()
                        .flat_map(|g| g.rows.iter())
                        .map(|r| (r.address.clone(), p.is_running(&r.address)))
                        .collect();
                    (g, running)
                })
            })
            .unwrap_or_default()
    });
    let act = move |address: String, action: HostAction| {
        let r = session.with_value(|s| s.with(|p| p.act(&address, action)));
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
                    .map(|grp| pool_view::<fn(String, HostAction)>(grp, None))
                    .collect_view()
                    .into_any()
            }
        }}
    }
}

/// One scrape pool's table; `actions` (the programs' running state and what a button does)
/// only for the simulated world.
fn pool_view<F>(grp: TargetGroup, actions: Option<(Vec<(String, bool)>, F)>) -> impl IntoView
where
    F: Fn(String, HostAction) + Copy + 'static,
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
                        {with_actions.then(|| view! { <th>"Process"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {grp
                        .rows
                        .into_iter()
                        .map(|r| {
                            let buttons = actions
                                .as_ref()
                                .map(|(running, act)| {
                                    let act = *act;
                                    let is_running = running
                                        .iter()
                                        .any(|(a, on)| *a == r.address && *on);
                                    let (a1, a2, a3) = (
                                        r.address.clone(),
                                        r.address.clone(),
                                        r.address.clone(),
                                    );
                                    view! {
                                        <td class="actions">
                                            <button
                                                data-testid="target-stop"
                                                disabled=!is_running
                                                on:click=move |_| act(a1.clone(), HostAction::Stop)
                                            >
                                                "stop"
                                            </button>
                                            <button
                                                data-testid="target-start"
                                                disabled=is_running
                                                on:click=move |_| act(a2.clone(), HostAction::Start)
                                            >
                                                "start"
                                            </button>
                                            <button
                                                data-testid="target-restart"
                                                on:click=move |_| act(a3.clone(), HostAction::Restart)
                                            >
                                                "restart"
                                            </button>
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

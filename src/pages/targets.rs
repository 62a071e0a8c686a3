//! The Targets page: per job, each endpoint with its state, labels, last scrape, duration and
//! error, and buttons that stop, start or restart the program behind it.

use leptos::prelude::*;

use crate::app::Session;
use crate::playground::HostAction;
use crate::targets::{groups, TargetGroup};

#[component]
pub fn TargetsPage(
    /// The session whose scrape manager and world are shown.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time: the page re-reads the targets as it moves.
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
        <h1>"Targets"</h1>
        {move || error.get().map(|e| view! { <div class="query-error" role="alert">{e}</div> })}
        {move || {
            let (g, running) = view_now.get();
            g.into_iter()
                .map(|grp: TargetGroup| {
                    let total = grp.rows.len();
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
                                        <th>"Process"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {grp
                                        .rows
                                        .into_iter()
                                        .map(|r| {
                                            let is_running = running
                                                .iter()
                                                .any(|(a, on)| *a == r.address && *on);
                                            let (a1, a2, a3) = (
                                                r.address.clone(),
                                                r.address.clone(),
                                                r.address.clone(),
                                            );
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
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }
                })
                .collect_view()
        }}
    }
}

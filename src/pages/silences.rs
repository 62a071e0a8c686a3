//! The Silences page: the built-in Alertmanager's silences (state on the virtual clock, the
//! alerts each mutes now), a form to add one and an Expire button per silence. It renders
//! what [`crate::silences`] computes; the engine validates.

use leptos::prelude::*;

use crate::app::Session;
use crate::silences::{self, AlertRow, SilenceForm, SilenceRow};

#[component]
pub fn SilencesPage(
    /// The session whose Alertmanager holds the silences.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time: states and muted alerts are re-read as it moves.
    now: RwSignal<i64>,
) -> impl IntoView {
    let bump = RwSignal::new(0u32);
    let matchers = RwSignal::new(String::new());
    let start = RwSignal::new(String::new());
    let end = RwSignal::new("2h".to_string());
    let created_by = RwSignal::new("you@example.org".to_string());
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let added = RwSignal::new(None::<String>);
    let rows = Memo::new(move |_| {
        now.get();
        bump.get();
        session
            .with_value(|s| s.with(|p| silences::rows(p)))
            .unwrap_or_default()
    });
    let held = Memo::new(move |_| {
        now.get();
        bump.get();
        session
            .with_value(|s| s.with(|p| silences::alerts(p)))
            .unwrap_or_default()
    });
    let busy = || "the playground is busy; try again".to_string();
    let add = move |_| {
        let form = SilenceForm {
            matchers: matchers.get_untracked(),
            start: start.get_untracked(),
            end: end.get_untracked(),
            created_by: created_by.get_untracked(),
            comment: comment.get_untracked(),
        };
        match session.with_value(|s| s.with(|p| silences::add(p, &form))) {
            Some(Ok(id)) => {
                error.set(None);
                added.set(Some(id));
            }
            Some(Err(e)) => {
                error.set(Some(e.to_string()));
                added.set(None);
            }
            None => error.set(Some(busy())),
        }
        bump.update(|b| *b += 1);
    };
    let expire = move |id: String| {
        let r = session.with_value(|s| s.with(|p| silences::expire(p, &id)));
        error.set(match r {
            Some(Ok(())) => None,
            Some(Err(e)) => Some(e.to_string()),
            None => Some(busy()),
        });
        bump.update(|b| *b += 1);
    };
    let field = |label: &'static str,
                 testid: &'static str,
                 placeholder: &'static str,
                 sig: RwSignal<String>| {
        view! {
            <label>
                <span>{label}</span>
                <input
                    data-testid=testid
                    placeholder=placeholder
                    spellcheck="false"
                    prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev))
                />
            </label>
        }
    };
    view! {
        <h1>"Silences"</h1>
        <p>
            "A silence mutes the alerts its matchers match while it is active: the built-in \
             Alertmanager sends no notification for them. Times are the playground's virtual time (UTC)."
        </p>
        <form class="silence-form" data-testid="silence-form" on:submit=move |ev| {
            ev.prevent_default();
            add(());
        }>
            {field(
                "Matchers",
                "silence-matchers",
                "alertname=\"InstanceDown\", instance=~\"localhost.*\"",
                matchers,
            )}
            {field("Start", "silence-start", "now, or 2026-01-01 12:00:00", start)}
            {field("Duration or end", "silence-end", "2h, or 2026-01-01 14:00:00", end)}
            {field("Created by", "silence-author", "you@example.org", created_by)}
            {field("Comment", "silence-comment", "why", comment)}
            <div class="config-actions">
                <button type="submit" data-testid="silence-add">
                    "Add silence"
                </button>
                {move || {
                    added
                        .get()
                        .map(|id| {
                            view! {
                                <span class="config-status applied" data-testid="silence-added">
                                    {format!("Silence {id} added.")}
                                </span>
                            }
                        })
                }}
            </div>
        </form>
        {move || {
            error
                .get()
                .map(|e| {
                    view! {
                        <div class="query-error" data-testid="silence-error" role="alert">
                            {e}
                        </div>
                    }
                })
        }}
        <h2>"Alerts in the Alertmanager"</h2>
        {move || {
            let list = held.get();
            if list.is_empty() {
                return view! {
                    <p class="empty" data-testid="am-alerts-empty">
                        "The Alertmanager holds no firing alert now."
                    </p>
                }
                    .into_any();
            }
            view! {
                <table class="targets silences" data-testid="am-alerts">
                    <thead>
                        <tr>
                            <th>"Alert"</th>
                            <th>"State"</th>
                            <th>"Since"</th>
                            <th>"Silenced by"</th>
                            <th>"Inhibited by"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|a: AlertRow| {
                                let m = a.matchers.clone();
                                view! {
                                    <tr data-testid="am-alert">
                                        <td class="endpoint">{a.labels}</td>
                                        <td>
                                            <span
                                                class=format!("state am-{}", a.state)
                                                data-testid="am-alert-state"
                                            >
                                                {a.state}
                                            </span>
                                        </td>
                                        <td>{a.starts}</td>
                                        <td class="endpoint">{a.silenced_by.join(", ")}</td>
                                        <td class="endpoint">{a.inhibited_by.join(", ")}</td>
                                        <td class="actions">
                                            <button
                                                data-testid="am-alert-silence"
                                                title="Fill the form with this alert's labels"
                                                on:click=move |_| matchers.set(m.clone())
                                            >
                                                "Silence…"
                                            </button>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
                .into_any()
        }}
        <h2>"Silences"</h2>
        {move || {
            let rows = rows.get();
            if rows.is_empty() {
                return view! { <p class="empty" data-testid="silences-empty">"No silences."</p> }
                    .into_any();
            }
            view! {
                <table class="targets silences" data-testid="silences">
                    <thead>
                        <tr>
                            <th>"ID"</th>
                            <th>"Matchers"</th>
                            <th>"State"</th>
                            <th>"Starts"</th>
                            <th>"Ends"</th>
                            <th>"Created by"</th>
                            <th>"Comment"</th>
                            <th>"Mutes now"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|r: SilenceRow| {
                                let id = r.id.clone();
                                let row_id = r.id.clone();
                                let expired = r.state == "expired";
                                view! {
                                    <tr data-testid="silence-row" data-id=row_id data-state=r.state>
                                        <td class="endpoint">{r.id}</td>
                                        <td class="endpoint" data-testid="silence-matchers-shown">
                                            {r.matchers}
                                        </td>
                                        <td>
                                            <span
                                                class=format!("state silence-{}", r.state)
                                                data-testid="silence-state"
                                            >
                                                {r.state}
                                            </span>
                                        </td>
                                        <td>{r.starts}</td>
                                        <td>{r.ends}</td>
                                        <td>{r.created_by}</td>
                                        <td>{r.comment}</td>
                                        <td class="labels" data-testid="silence-mutes">
                                            {r
                                                .mutes
                                                .into_iter()
                                                .map(|l| view! { <div class="label">{l}</div> })
                                                .collect_view()}
                                        </td>
                                        <td class="actions">
                                            <button
                                                data-testid="silence-expire"
                                                disabled=expired
                                                on:click=move |_| expire(id.clone())
                                            >
                                                "Expire"
                                            </button>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
                .into_any()
        }}
    }
}

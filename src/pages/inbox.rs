//! The Inbox page: every notification the built-in Alertmanager sent (newest first); one
//! opened shows its headers and bodies (the HTML body in a sandboxed iframe, no scripts; the
//! text part; the raw RFC 5322 message; a webhook's JSON payload), and for each of its alerts
//! the route it took through the routing tree; beside it, the notification log. It renders
//! what [`crate::inbox`] computes.

use leptos::prelude::*;

use crate::app::Session;
use crate::inbox::{self, InboxDetail, InboxItem, NflogRow};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    Html,
    Text,
    Raw,
}

#[component]
pub fn InboxPage(
    /// The session whose Alertmanager's notifications are shown.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time: the inbox is re-read as it moves.
    now: RwSignal<i64>,
) -> impl IntoView {
    let items = Memo::new(move |_| {
        now.get();
        session
            .with_value(|s| s.with(|p| inbox::items(p)))
            .unwrap_or_default()
    });
    let log = Memo::new(move |_| {
        now.get();
        session
            .with_value(|s| s.with(|p| inbox::nflog(p)))
            .unwrap_or_default()
    });
    let selected = RwSignal::new(None::<String>);
    let body = RwSignal::new(Body::Html);
    let detail = Memo::new(move |_| {
        items.track();
        let key = selected.get()?;
        session
            .with_value(|s| s.with(|p| inbox::detail(p, &key)))
            .flatten()
    });
    view! {
        <h1>"Inbox"</h1>
        <p>
            "Every notification the built-in Alertmanager sent, newest first, at the playground's \
             virtual time (UTC). Open one to read it and to see the route each of its alerts took."
        </p>
        <div class="inbox">
            <div class="inbox-list">
                {move || {
                    let list = items.get();
                    if list.is_empty() {
                        return view! {
                            <p class="empty" data-testid="inbox-empty">
                                "No notifications yet. Stop a target (Targets page) and let the clock run: \
                                 the seed's InstanceDown alert fires after 1m and its email follows group_wait (30s) later."
                            </p>
                        }
                            .into_any();
                    }
                    view! {
                        <table class="targets inbox-table" data-testid="inbox-list">
                            <thead>
                                <tr>
                                    <th>"Time"</th>
                                    <th>"Receiver"</th>
                                    <th>"Subject"</th>
                                    <th>"From"</th>
                                    <th>"To"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list
                                    .into_iter()
                                    .map(|it: InboxItem| {
                                        let key = it.key.clone();
                                        let key2 = it.key.clone();
                                        let failed = it.error.is_some();
                                        view! {
                                            <tr
                                                data-testid="inbox-row"
                                                class="inbox-row"
                                                class:selected=move || selected.get().as_deref() == Some(key2.as_str())
                                                class:failed=failed
                                                on:click=move |_| selected.set(Some(key.clone()))
                                            >
                                                <td class="endpoint" data-testid="inbox-time">{it.time}</td>
                                                <td>{format!("{} ({})", it.receiver, it.integration)}</td>
                                                <td data-testid="inbox-subject">
                                                    {it.subject}
                                                    {it
                                                        .error
                                                        .map(|e| {
                                                            view! { <div class="error" data-testid="inbox-row-error">{e}</div> }
                                                        })}
                                                </td>
                                                <td>{it.from}</td>
                                                <td>{it.to}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }}
            </div>
            <div class="inbox-detail">
                {move || match detail.get() {
                    Some(d) => view! { <Opened d=d body=body /> }.into_any(),
                    None => {
                        view! { <p class="empty">"Select a notification to read it."</p> }.into_any()
                    }
                }}
            </div>
        </div>
        <h2>"Notification log"</h2>
        <p class="placeholder">
            "What was sent, when, to whom and for which alerts: one entry per aggregation group and \
             receiver integration. A flush whose alerts are already in the entry sends nothing \
             (deduplication) until repeat_interval has passed."
        </p>
        {move || {
            let rows = log.get();
            if rows.is_empty() {
                return view! { <p class="empty" data-testid="nflog-empty">"The log is empty."</p> }
                    .into_any();
            }
            view! {
                <table class="targets" data-testid="nflog">
                    <thead>
                        <tr>
                            <th>"Last notified"</th>
                            <th>"Receiver"</th>
                            <th>"Group key"</th>
                            <th>"Firing alerts"</th>
                            <th>"Resolved alerts"</th>
                            <th>"Expires"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|r: NflogRow| {
                                view! {
                                    <tr data-testid="nflog-row">
                                        <td class="endpoint">{r.time}</td>
                                        <td>{r.receiver}</td>
                                        <td class="endpoint">{r.group_key}</td>
                                        <td class="labels">
                                            {r.firing.into_iter().map(|l| view! { <div class="label">{l}</div> }).collect_view()}
                                        </td>
                                        <td class="labels">
                                            {r.resolved.into_iter().map(|l| view! { <div class="label">{l}</div> }).collect_view()}
                                        </td>
                                        <td class="endpoint">{r.expires}</td>
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

/// One notification, opened.
#[component]
fn Opened(d: InboxDetail, body: RwSignal<Body>) -> impl IntoView {
    let html = d.html.clone();
    let text = d.text.clone();
    let raw = d.raw.clone();
    let is_email = raw.is_some();
    let tab = move |b: Body, label: &'static str, testid: &'static str| {
        view! {
            <button
                role="tab"
                data-testid=testid
                class:active=move || body.get() == b
                on:click=move |_| body.set(b)
            >
                {label}
            </button>
        }
    };
    view! {
        <section class="opened" data-testid="inbox-detail">
            <h2 data-testid="inbox-detail-subject">{d.item.subject.clone()}</h2>
            {d
                .item
                .error
                .clone()
                .map(|e| {
                    view! {
                        <div class="query-error" data-testid="inbox-error" role="alert">
                            {format!("Notify for receiver {:?} ({}) failed: {e}", d.item.receiver, d.item.integration)}
                        </div>
                    }
                })}
            <table class="headers" data-testid="inbox-headers">
                <tbody>
                    <tr>
                        <th>"Sent at"</th>
                        <td data-testid="inbox-detail-time">{d.item.time.clone()}</td>
                    </tr>
                    <tr>
                        <th>"Receiver"</th>
                        <td>{format!("{} ({}[0])", d.item.receiver, d.item.integration)}</td>
                    </tr>
                    <tr>
                        <th>"Group key"</th>
                        <td>{d.group_key.clone()}</td>
                    </tr>
                    {d
                        .headers
                        .iter()
                        .map(|(k, v)| {
                            view! {
                                <tr>
                                    <th>{k.clone()}</th>
                                    <td>{v.clone()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {is_email
                .then(|| {
                    view! {
                        <div class="tabs" role="tablist">
                            {tab(Body::Html, "HTML", "inbox-tab-html")}
                            {tab(Body::Text, "Text", "inbox-tab-text")}
                            {tab(Body::Raw, "Raw message", "inbox-tab-raw")}
                        </div>
                    }
                })}
            {move || {
                if !is_email {
                    return ().into_any();
                }
                match body.get() {
                    Body::Html => match html.clone() {
                        // sandbox with no permissions: no scripts, no forms, no navigation.
                        Some(h) => view! {
                            <iframe
                                class="mail-body"
                                data-testid="inbox-html"
                                title="HTML body"
                                sandbox=""
                                srcdoc=h
                            ></iframe>
                        }
                            .into_any(),
                        None => view! { <p class="empty">"This email has no HTML part."</p> }.into_any(),
                    },
                    Body::Text => match text.clone() {
                        Some(t) => view! { <pre class="code" data-testid="inbox-text">{t}</pre> }.into_any(),
                        None => view! { <p class="empty" data-testid="inbox-text">"This email has no text part (email_configs text is empty by default)."</p> }.into_any(),
                    },
                    Body::Raw => view! { <pre class="code" data-testid="inbox-raw">{raw.clone()}</pre> }.into_any(),
                }
            }}
            {d
                .json
                .clone()
                .map(|j| {
                    view! {
                        <h3>"JSON payload"</h3>
                        <pre class="code json" data-testid="inbox-json">{j}</pre>
                    }
                })}
            <h3>"Alerts and their route"</h3>
            {d
                .alerts
                .iter()
                .map(|a| {
                    view! {
                        <div class="routed-alert" data-testid="inbox-alert">
                            <div>
                                <span class=format!("state alert-{}", a.status)>{a.status}</span>
                                " "
                                <code data-testid="inbox-alert-labels">{a.labels.clone()}</code>
                            </div>
                            {a
                                .starts
                                .clone()
                                .map(|s| {
                                    view! {
                                        <div class="placeholder">
                                            "firing since "
                                            <span data-testid="inbox-alert-starts">{s}</span>
                                        </div>
                                    }
                                })}
                            <div class="placeholder">
                                {format!("receivers: {}", a.receivers.join(", "))}
                            </div>
                            {if a.tree.is_empty() {
                                view! {
                                    <p class="placeholder" data-testid="inbox-route">
                                        "The Alertmanager no longer holds this alert: its route cannot be traced."
                                    </p>
                                }
                                    .into_any()
                            } else {
                                view! { <pre class="code" data-testid="inbox-route">{a.tree.clone()}</pre> }
                                    .into_any()
                            }}
                        </div>
                    }
                })
                .collect_view()}
        </section>
    }
}

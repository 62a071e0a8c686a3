//! The Workshop page: the seed's code examples deployed on the simulated hello app, its live
//! `/metrics` with the lines the last request changed, a button that sends a request, and the
//! seed's queries answered inline.

use leptos::prelude::*;
use promplay_sim::Example;

use crate::app::Session;
use crate::shape;
use crate::workshop::{metrics_lines, QUERIES};

#[component]
pub fn WorkshopPage(
    /// The session whose hello app is shown.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time: metrics and query results follow it.
    now: RwSignal<i64>,
) -> impl IntoView {
    // Tracking what each request changes costs a registry snapshot per step: only while the
    // page is open.
    session.with_value(|s| s.with(|p| p.track_changes(true)));
    on_cleanup(move || {
        session.try_with_value(|s| s.with(|p| p.track_changes(false)));
    });
    let bump = RwSignal::new(0u32);
    let example = RwSignal::new(
        session
            .with_value(|s| s.with(|p| p.example()))
            .flatten()
            .unwrap_or(Example::Hello),
    );
    let query = RwSignal::new(None::<&'static str>);
    let message = RwSignal::new(None::<String>);

    let deploy = move |e: Example| {
        let r = session.with_value(|s| s.with(|p| p.set_example(e)));
        match r {
            Some(Ok(())) => {
                example.set(e);
                message.set(None);
            }
            Some(Err(err)) => message.set(Some(err.to_string())),
            None => message.set(Some("the playground is busy; try again".into())),
        }
        bump.update(|b| *b += 1);
    };
    let send = move |_| {
        let r = session.with_value(|s| s.with(|p| p.send_request()));
        message.set(match r {
            Some(Ok(())) => None,
            Some(Err(err)) => Some(err.to_string()),
            None => Some("the playground is busy; try again".into()),
        });
        bump.update(|b| *b += 1);
    };
    let metrics = Memo::new(move |_| {
        now.get();
        bump.get();
        session.with_value(|s| s.with(|p| p.app_metrics()))
    });
    let result = Memo::new(move |_| {
        now.get();
        let q = query.get()?;
        let r = session.with_value(|s| s.with(|p| p.instant_query(q, p.now_ms(), None)))?;
        Some(r.map(|o| shape::table(&o.value)))
    });

    view! {
        <h1>"Workshop"</h1>
        <p class="hint">
            "The hello app at localhost:8000 runs the example you pick (deploying restarts it). Prometheus scrapes it every 10 s; requests arrive about once a second."
        </p>
        <div class="examples" role="tablist">
            {Example::ALL
                .into_iter()
                .map(|e| {
                    view! {
                        <button
                            role="tab"
                            data-testid=format!("example-{}", e.name())
                            class:active=move || example.get() == e
                            on:click=move |_| deploy(e)
                        >
                            {e.title()}
                        </button>
                    }
                })
                .collect_view()}
        </div>
        {move || message.get().map(|m| view! { <div class="query-error" role="alert">{m}</div> })}
        <div class="workshop">
            <div>
                <h2>{move || format!("{}.py", example.get().name())}</h2>
                <pre class="code" data-testid="python">{move || example.get().python()}</pre>
                <button class="execute" data-testid="send-request" on:click=send>
                    "send a request"
                </button>
            </div>
            <div>
                <h2>"http://localhost:8000/metrics"</h2>
                <pre class="code metrics" data-testid="app-metrics">
                    {move || match metrics.get() {
                        Some(Ok((body, changed))) => {
                            metrics_lines(&body, &changed)
                                .into_iter()
                                .map(|l| {
                                    view! {
                                        <span class:changed=l.changed data-changed=l.changed.to_string()>
                                            {l.text}
                                            "\n"
                                        </span>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        }
                        Some(Err(e)) => view! { <span class="error">{e}</span> }.into_any(),
                        None => ().into_any(),
                    }}
                </pre>
            </div>
        </div>
        <h2>"Queries"</h2>
        <ul class="workshop-queries">
            {QUERIES
                .into_iter()
                .map(|(what, q)| {
                    view! {
                        <li>
                            <button
                                data-testid="workshop-query"
                                class:active=move || query.get() == Some(q)
                                on:click=move |_| query.set(Some(q))
                            >
                                <code>{q}</code>
                            </button>
                            " "
                            {what}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        {move || match result.get() {
            Some(Ok(t)) if t.rows.is_empty() => {
                view! { <p class="empty" data-testid="workshop-result-empty">"Empty query result"</p> }
                    .into_any()
            }
            Some(Ok(t)) => {
                view! {
                    <table class="result" data-testid="workshop-result">
                        <tbody>
                            {t
                                .rows
                                .into_iter()
                                .map(|r| {
                                    view! {
                                        <tr>
                                            <td class="labels">{r.labels}</td>
                                            <td class="value" data-testid="workshop-value">{r.value}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }
            Some(Err(e)) => {
                view! { <div class="query-error" role="alert">{e.message}</div> }.into_any()
            }
            None => ().into_any(),
        }}
    }
}

//! The Config page: prometheus.yml in an editor, checked as it is typed, and an Apply button
//! that reloads it into the running simulation (a refused config leaves the running one in
//! place). rules.yml and alertmanager.yml are not editable yet.

use leptos::prelude::*;

use crate::app::Session;
use crate::playground::check_config;

/// What the last press of Apply did.
#[derive(Clone, Debug, PartialEq)]
enum Applied {
    Refused(String),
    Reloaded(Vec<String>),
}

#[component]
pub fn ConfigPage(
    /// The session whose scrape configuration is edited.
    session: StoredValue<Session, LocalStorage>,
) -> impl IntoView {
    let running = move || {
        session
            .with_value(|s| s.with(|p| p.config_text().to_string()))
            .unwrap_or_default()
    };
    let text = RwSignal::new(running());
    let applied = RwSignal::new(None::<Applied>);
    // Validation as you type: the same load the reload does.
    let check = Memo::new(move |_| check_config(&text.get()).err());
    let apply = move |_| {
        let r = session.with_value(|s| s.with(|p| p.apply_config(&text.get_untracked())));
        applied.set(Some(match r {
            Some(Ok(failures)) => Applied::Reloaded(failures),
            Some(Err(e)) => Applied::Refused(e),
            None => Applied::Refused("the playground is busy; try again".into()),
        }));
    };
    view! {
        <h1>"Config"</h1>
        <h2>"prometheus.yml"</h2>
        <p>
            "The configuration the simulated Prometheus runs. Edit it, then Apply to reload it \
             (as "<code>"POST /-/reload"</code>" does): a configuration that does not load is \
             refused and the running one keeps scraping."
        </p>
        <textarea
            class="config-editor"
            data-testid="config-input"
            rows="28"
            cols="80"
            spellcheck="false"
            prop:value=move || text.get()
            on:input=move |ev| {
                text.set(event_target_value(&ev));
                applied.set(None);
            }
        ></textarea>
        {move || {
            check
                .get()
                .map(|e| {
                    view! {
                        <div class="query-error" data-testid="config-error" role="alert">
                            {e}
                        </div>
                    }
                })
        }}
        <div class="config-actions">
            <button data-testid="config-apply" on:click=apply>
                "Apply"
            </button>
            <button
                data-testid="config-revert"
                on:click=move |_| {
                    text.set(running());
                    applied.set(None);
                }
            >
                "Revert to running"
            </button>
            {move || match applied.get() {
                Some(Applied::Refused(_)) => {
                    view! {
                        <span class="config-status refused" data-testid="config-status">
                            "Refused: the running configuration is unchanged."
                        </span>
                    }
                        .into_any()
                }
                Some(Applied::Reloaded(failures)) => {
                    view! {
                        <span class="config-status applied" data-testid="config-status">
                            "Applied: the simulation runs this configuration now."
                            {failures
                                .into_iter()
                                .map(|f| view! { <div class="query-error">{f}</div> })
                                .collect_view()}
                        </span>
                    }
                        .into_any()
                }
                None => ().into_any(),
            }}
        </div>
        <h2>"rules.yml and alertmanager.yml"</h2>
        <p class="placeholder" data-testid="config-not-yet">
            "Editing rules.yml and alertmanager.yml arrives with the Rules and Alerts work; \
             they cannot be edited here yet."
        </p>
    }
}

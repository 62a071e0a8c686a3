//! The header's data-source switch: the simulated world (default), this companion (offered
//! when the page's origin answers `/api/v1/status/buildinfo`, asked when the switch is first
//! focused), or a Prometheus URL. The choice
//! is the context's [`CurrentSource`] and is written into the page's URL (`?source=…`).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::source::{normalize_base_url, Source};

/// The current data source, provided by the app to every page.
#[derive(Clone, Copy)]
pub struct CurrentSource(pub RwSignal<Source>);

/// The current source from the context; the simulated world when there is none (a page
/// mounted on its own, as in the wasm tests).
pub fn use_source() -> RwSignal<Source> {
    use_context::<CurrentSource>()
        .map(|c| c.0)
        .unwrap_or_else(|| RwSignal::new(Source::Simulated))
}

/// The source the page's URL names (`?source=companion`, `?source=http://…`).
pub fn source_from_location() -> Source {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .map(|s| Source::from_search(&s))
        .unwrap_or_default()
}

/// Writes `source` into the page's URL without reloading (the hash, the page, is kept).
fn write_location(source: &Source) {
    let Some(w) = web_sys::window() else {
        return;
    };
    let loc = w.location();
    let (Ok(path), Ok(search), Ok(hash)) = (loc.pathname(), loc.search(), loc.hash()) else {
        return;
    };
    let new_search = source.to_search(&search);
    if new_search == search {
        return;
    }
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{new_search}{hash}")),
        );
    }
}

/// The wall clock (ms since the Unix epoch): the time of the remote sources.
pub fn wall_now() -> i64 {
    js_sys::Date::now() as i64
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Choice {
    Simulated,
    Companion,
    Url,
}

impl Choice {
    fn of(s: &Source) -> Choice {
        match s {
            Source::Simulated => Choice::Simulated,
            Source::Companion => Choice::Companion,
            Source::Url(_) => Choice::Url,
        }
    }
}

/// The switch: a select, and for a Prometheus URL an input and Connect. Connecting first asks
/// the server for its build info; a failure is shown and the source stays as it was.
#[component]
pub fn SourceSwitch(
    /// The source the pages read.
    source: RwSignal<Source>,
) -> impl IntoView {
    let choice = RwSignal::new(Choice::of(&source.get_untracked()));
    let url_text = RwSignal::new(match source.get_untracked() {
        Source::Url(u) => u,
        _ => String::new(),
    });
    let error = RwSignal::new(None::<String>);
    let connecting = RwSignal::new(false);
    let server = RwSignal::new(None::<String>);
    // Whether the page's own origin is a promplay companion (or a Prometheus).
    let companion = RwSignal::new(source.get_untracked() == Source::Companion);
    let generation = StoredValue::new(0u64);

    // Asked once, when the switch is first touched: on a page not served by a companion the
    // probe's 404 is logged by the browser as an error, which a page that never uses the
    // switch should not have.
    let probed = StoredValue::new(false);
    let probe = move || {
        if probed.get_value() {
            return;
        }
        probed.set_value(true);
        spawn_local(async move {
            if api::buildinfo(&Source::Companion).await.is_ok() {
                companion.try_set(true);
            }
        });
    };

    // Every change of source goes into the URL, and the server's version is asked for.
    Effect::new(move |_| {
        let s = source.get();
        write_location(&s);
        server.set(None);
        if s.is_remote() {
            let g = generation.get_value() + 1;
            generation.set_value(g);
            spawn_local(async move {
                let r = api::buildinfo(&s).await;
                if generation.try_get_value() == Some(g) {
                    server.set(r.ok().map(|b| b.version));
                }
            });
        }
    });

    let connect = move || {
        let url = match normalize_base_url(&url_text.get_untracked()) {
            Ok(u) => u,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        url_text.set(url.clone());
        let candidate = Source::Url(url);
        connecting.set(true);
        error.set(None);
        let g = generation.get_value() + 1;
        generation.set_value(g);
        spawn_local(async move {
            let r = api::buildinfo(&candidate).await;
            if generation.try_get_value() != Some(g) {
                return;
            }
            connecting.set(false);
            match r {
                Ok(_) => source.set(candidate),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let on_select = move |ev| {
        let v = event_target_value(&ev);
        error.set(None);
        match v.as_str() {
            "simulated" => {
                choice.set(Choice::Simulated);
                source.set(Source::Simulated);
            }
            "companion" => {
                choice.set(Choice::Companion);
                source.set(Source::Companion);
            }
            _ => choice.set(Choice::Url),
        }
    };

    view! {
        <span class="source-switch" title="Where the Query and Targets pages read their data">
            "data "
            <select
                data-testid="source-select"
                on:change=on_select
                on:focus=move |_| probe()
                on:pointerdown=move |_| probe()
            >
                <option value="simulated" selected=move || choice.get() == Choice::Simulated>
                    "Simulated world"
                </option>
                {move || {
                    (companion.get() || choice.get() == Choice::Companion)
                        .then(|| {
                            view! {
                                <option
                                    value="companion"
                                    selected=move || choice.get() == Choice::Companion
                                >
                                    "This companion"
                                </option>
                            }
                        })
                }}
                <option value="url" selected=move || choice.get() == Choice::Url>
                    "Prometheus URL…"
                </option>
            </select>
            {move || {
                (choice.get() == Choice::Url)
                    .then(|| {
                        view! {
                            <input
                                class="source-url"
                                data-testid="source-url"
                                placeholder="http://localhost:9090"
                                prop:value=move || url_text.get()
                                on:input=move |ev| url_text.set(event_target_value(&ev))
                                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                    if ev.key() == "Enter" {
                                        connect();
                                    }
                                }
                            />
                            <button data-testid="source-connect" on:click=move |_| connect()>
                                {move || if connecting.get() { "connecting…" } else { "connect" }}
                            </button>
                        }
                    })
            }}
            <span class="source-status" data-testid="source-status">
                {move || match source.get() {
                    Source::Simulated => String::new(),
                    s => {
                        let version = server
                            .get()
                            .map(|v| format!(" (Prometheus API {v})"))
                            .unwrap_or_default();
                        format!(
                            "Query, Targets, Alerts and Rules read {s}{version}, on the real clock; Config, Workshop, Inbox and Silences show the simulated world"
                        )
                    }
                }}
            </span>
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <span class="source-error" data-testid="source-error" role="alert">
                                {e}
                            </span>
                        }
                    })
            }}
        </span>
    }
}

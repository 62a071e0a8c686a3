//! Sharing a session by URL: the header's Share button, and the replay of `?session=` when the
//! page opens. The log, its encoding and the replay are plain Rust in [`crate::share`]; this
//! module only reads and writes the location, drives [`Replay`] from a timer (a slice at a
//! time, within a frame budget, with its progress shown) and pauses the clock after it, so the
//! state is exactly what was shared.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::app::Session;
use crate::pages::clock::ClockPlaying;
use crate::pages::common::perf_now;
use crate::share::{self, Replay, SessionLog};
use crate::time::format_utc;

/// How often the replay's timer fires (wall-clock ms), and the most time one callback spends.
const TICK_MS: u32 = 16;
const BUDGET_MS: f64 = 25.0;

/// Bumped when a replay has finished: the app re-renders the current page from the replayed
/// playground (pages read some state once, when they open).
#[derive(Clone, Copy)]
pub struct Replayed(pub RwSignal<u32>);

/// The `?session=` of the page's URL, if any (not decoded yet).
pub fn session_param() -> Option<String> {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| share::from_search(&s))
}

/// The page's URL with `?session=` set to `encoded` (the page in the hash and `?source=` kept).
fn share_url(encoded: &str) -> Option<String> {
    let loc = web_sys::window()?.location();
    let (origin, path, search, hash) = (
        loc.origin().ok()?,
        loc.pathname().ok()?,
        loc.search().ok()?,
        loc.hash().ok()?,
    );
    Some(format!(
        "{origin}{path}{}{hash}",
        share::to_search(&search, encoded)
    ))
}

/// Asks the browser to put `text` on the clipboard; a refusal (no permission, no secure
/// context) is ignored: the URL is shown to copy by hand.
fn copy_to_clipboard(text: &str) {
    let Some(w) = web_sys::window() else {
        return;
    };
    let Ok(navigator) = js_sys::Reflect::get(&w, &JsValue::from_str("navigator")) else {
        return;
    };
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")) else {
        return;
    };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")) else {
        return;
    };
    let Some(write) = write.dyn_ref::<js_sys::Function>() else {
        return;
    };
    if let Ok(p) = write.call1(&clipboard, &JsValue::from_str(text)) {
        if let Ok(p) = p.dyn_into::<js_sys::Promise>() {
            let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
            let _ = p.catch(&ignore);
            ignore.forget();
        }
    }
}

/// The header's Share button and what it shows (the URL, its length), plus the replay of a
/// shared session when the page opens with one: progress while it runs, a notice when done,
/// a banner when the session cannot be opened (the page then starts fresh).
#[component]
pub fn Share(
    /// The session shared and replayed into.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time (set when the replay ends).
    now: RwSignal<i64>,
) -> impl IntoView {
    let url = RwSignal::new(None::<String>);
    let copied = RwSignal::new(false);
    let replaying = RwSignal::new(None::<f64>);
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let playing = use_context::<ClockPlaying>().map(|c| c.0);
    let replayed = use_context::<Replayed>().map(|c| c.0);

    // A shared session in the URL: decode it and replay it in slices.
    if let Some(param) = session_param() {
        match SessionLog::decode(&param).and_then(|log| {
            let n = log.actions.len();
            Replay::new(log).map(|r| (r, n))
        }) {
            Err(e) => error.set(Some(format!(
                "The shared session could not be opened: {e}. The playground starts fresh."
            ))),
            Ok((replay, n)) => {
                // Paused before the clock's first tick: only the replay moves the world.
                if let Some(p) = playing {
                    p.set(false);
                }
                replaying.set(Some(0.0));
                let replay = StoredValue::new_local(Some(replay));
                let timer = StoredValue::new_local(None::<Interval>);
                let tick = move || {
                    let t0 = perf_now();
                    let r = session.with_value(|s| {
                        s.with(|p| {
                            replay.update_value(|slot| {
                                let Some(r) = slot.as_mut() else {
                                    return;
                                };
                                let outcome = loop {
                                    match r.step(p) {
                                        Ok(false) if perf_now() - t0 < BUDGET_MS => continue,
                                        other => break other,
                                    }
                                };
                                match outcome {
                                    Ok(false) => replaying.set(Some(r.progress(p.now_ms()))),
                                    Ok(true) => {
                                        *slot = None;
                                        replaying.set(None);
                                        notice.set(Some(format!(
                                            "Shared session replayed: {n} actions, virtual time {} UTC. The clock is paused.",
                                            format_utc(p.now_ms())
                                        )));
                                    }
                                    Err(e) => {
                                        *slot = None;
                                        replaying.set(None);
                                        error.set(Some(format!(
                                            "The shared session could not be replayed: {e}. The playground shows the session up to that action."
                                        )));
                                    }
                                }
                            });
                            p.now_ms()
                        })
                    });
                    if let Some(t) = r {
                        now.set(t);
                    }
                    if replay.with_value(Option::is_none) {
                        timer.update_value(|t| drop(t.take()));
                        if let Some(g) = replayed {
                            g.update(|g| *g += 1);
                        }
                    }
                };
                timer.set_value(Some(Interval::new(TICK_MS, tick)));
                on_cleanup(move || timer.update_value(|t| drop(t.take())));
            }
        }
    }

    let on_share = move |_| {
        if let Some(p) = playing {
            p.set(false); // the URL holds the time it was made at
        }
        let encoded = session.with_value(|s| s.with(|p| p.session().encode()));
        let Some(encoded) = encoded else {
            url.set(Some("the playground is busy; try again".into()));
            return;
        };
        let u = share_url(&encoded).unwrap_or(encoded);
        copy_to_clipboard(&u);
        copied.set(true);
        url.set(Some(u));
    };

    view! {
        <span class="share">
            <button
                data-testid="share"
                title="A URL that replays this session: the same virtual time, data, alerts and inbox"
                disabled=move || replaying.get().is_some()
                on:click=on_share
            >
                "share"
            </button>
            {move || {
                url.get()
                    .map(|u| {
                        let len = u.len();
                        view! {
                            <span class="share-panel" data-testid="share-panel">
                                <input
                                    data-testid="share-url"
                                    readonly=true
                                    size="60"
                                    prop:value=u
                                />
                                <span class="share-note">
                                    {move || {
                                        format!(
                                            "{len} characters{}",
                                            if copied.get() { "; copied to the clipboard if the browser allowed it" } else { "" },
                                        )
                                    }}
                                </span>
                                <button data-testid="share-close" on:click=move |_| url.set(None)>
                                    "×"
                                </button>
                            </span>
                        }
                    })
            }}
        </span>
        {move || {
            replaying
                .get()
                .map(|f| {
                    view! {
                        <div class="session-replaying" data-testid="session-replaying" role="status">
                            <div>
                                {format!("Replaying the shared session… {:.0}%", f * 100.0)}
                                <progress max="100" value=format!("{:.0}", f * 100.0)></progress>
                            </div>
                        </div>
                    }
                })
        }}
        {move || {
            notice
                .get()
                .map(|m| {
                    view! {
                        <span class="session-notice" data-testid="session-replayed" role="status">
                            {m}
                            <button on:click=move |_| notice.set(None)>"×"</button>
                        </span>
                    }
                })
        }}
        {move || {
            error
                .get()
                .map(|m| {
                    view! {
                        <div class="banner session-error" data-testid="session-error" role="alert">
                            {m}
                            <button on:click=move |_| error.set(None)>"×"</button>
                        </div>
                    }
                })
        }}
    }
}

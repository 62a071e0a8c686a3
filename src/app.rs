//! The Leptos components of the playground.
//!
//! [`App`] is the shell (header with the virtual clock, the page nav, the error banner); the
//! pages live below it. The components own no engine logic: they call
//! [`crate::playground::Playground`] and render what [`crate::shape`] returns.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

use crate::pages::clock::ClockPlaying;
use crate::pages::common::TabStopwatch;
use crate::pages::share::{Replayed, Share};
use crate::pages::source::{source_from_location, CurrentSource, SourceSwitch};
use crate::pages::{AlertsPage, RulesPage};
use crate::pages::{
    ConfigPage, InboxPage, QueryPage, SilencesPage, TargetsPage, TimeControls, WorkshopPage,
};
use crate::playground::Playground;

/// The id of the banner a panic writes into (outside Leptos, so it works after a panic too).
const BANNER_ID: &str = "panic-banner";

/// Installs a panic hook that logs to the console (with the Rust message and location) and
/// shows an error banner at the top of the page, so a panic never leaves a blank tab.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_banner(&format!(
            "promplay hit an internal error and may not respond any more; reload the page. {info}"
        ));
    }));
}

/// Writes `msg` into the error banner at the top of `<body>`, creating the banner if needed.
pub fn show_banner(msg: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let banner = match doc.get_element_by_id(BANNER_ID) {
        Some(b) => b,
        None => {
            let Ok(b) = doc.create_element("div") else {
                return;
            };
            b.set_id(BANNER_ID);
            b.set_class_name("banner");
            let _ = b.set_attribute("role", "alert");
            if let Some(body) = doc.body() {
                let _ = body.prepend_with_node_1(&b);
            }
            b
        }
    };
    banner.set_text_content(Some(msg));
}

/// The pages of the nav bar. Query, Targets, Config and Workshop exist yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Query,
    Targets,
    Alerts,
    Rules,
    Config,
    Workshop,
    Inbox,
    Silences,
}

impl Page {
    pub const ALL: [Page; 8] = [
        Page::Query,
        Page::Targets,
        Page::Alerts,
        Page::Rules,
        Page::Config,
        Page::Workshop,
        Page::Inbox,
        Page::Silences,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Page::Query => "Query",
            Page::Targets => "Targets",
            Page::Alerts => "Alerts",
            Page::Rules => "Rules",
            Page::Config => "Config",
            Page::Workshop => "Workshop",
            Page::Inbox => "Inbox",
            Page::Silences => "Silences",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Page::Query => "query",
            Page::Targets => "targets",
            Page::Alerts => "alerts",
            Page::Rules => "rules",
            Page::Config => "config",
            Page::Workshop => "workshop",
            Page::Inbox => "inbox",
            Page::Silences => "silences",
        }
    }

    /// The page a `#/slug` location hash names (the Query page for anything else).
    pub fn from_hash(hash: &str) -> Page {
        let slug = hash.trim_start_matches('#').trim_start_matches('/');
        Page::ALL
            .into_iter()
            .find(|p| p.slug() == slug)
            .unwrap_or(Page::Query)
    }
}

/// The shared session: the engine side behind `Rc<RefCell<…>>` (single-threaded wasm).
#[derive(Clone)]
pub struct Session(Rc<RefCell<Playground>>);

impl Session {
    pub fn new(p: Playground) -> Self {
        Session(Rc::new(RefCell::new(p)))
    }
    /// Runs `f` on the playground; `None` if it is busy (re-entrant call), never a panic.
    pub fn with<R>(&self, f: impl FnOnce(&mut Playground) -> R) -> Option<R> {
        self.0.try_borrow_mut().ok().map(|mut p| f(&mut p))
    }
}

/// The whole app: header with the virtual clock, nav bar and the current page.
#[component]
pub fn App() -> impl IntoView {
    let mut playground = Playground::new();
    playground
        .stack_mut()
        .prometheus
        .set_stopwatch(Some(Rc::new(TabStopwatch)));
    let session = StoredValue::new_local(Session::new(playground));
    let now = RwSignal::new(session.with_value(|s| s.with(|p| p.now_ms()).unwrap_or(0)));
    let initial = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|h| Page::from_hash(&h))
        .unwrap_or(Page::Query);
    let page = RwSignal::new(initial);
    // The data source of the Query and Targets pages (`?source=` in the URL).
    let source = RwSignal::new(source_from_location());
    provide_context(CurrentSource(source));
    provide_context(ClockPlaying(RwSignal::new(true)));
    // A shared session (`?session=`) is replayed by the header's Share; the page re-renders after.
    let replayed = RwSignal::new(0u32);
    provide_context(Replayed(replayed));
    let remote = Memo::new(move |_| source.with(|s| s.is_remote()));
    // Back/forward and typed URLs move between pages too.
    let on_hash = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(h) = web_sys::window().and_then(|w| w.location().hash().ok()) {
            page.set(Page::from_hash(&h));
        }
    });
    on_cleanup(move || on_hash.remove());

    view! {
        <header class="top">
            <span class="brand">"prom"<span>"play"</span></span>
            <SourceSwitch source=source />
            {move || {
                if remote.get() {
                    view! {
                        <span class="clock" data-testid="real-clock">
                            "real time: the virtual clock drives only the simulated world"
                        </span>
                    }
                        .into_any()
                } else {
                    view! { <TimeControls session=session now=now /> }.into_any()
                }
            }}
            <Share session=session now=now />
        </header>
        <nav class="pages">
            {Page::ALL
                .into_iter()
                .map(|p| {
                    view! {
                        <a
                            href=format!("#/{}", p.slug())
                            class:active=move || page.get() == p
                            on:click=move |_| page.set(p)
                        >
                            {p.title()}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <main>
            {move || match (replayed.track(), page.get()).1 {
                Page::Query => view! { <QueryPage session=session now=now /> }.into_any(),
                Page::Targets => {
                    view! { <TargetsPage session=session now=now /> }.into_any()
                }
                Page::Workshop => {
                    view! { <WorkshopPage session=session now=now /> }.into_any()
                }
                Page::Config => view! { <ConfigPage session=session /> }.into_any(),
                Page::Alerts => view! { <AlertsPage session=session now=now /> }.into_any(),
                Page::Rules => view! { <RulesPage session=session now=now /> }.into_any(),
                Page::Inbox => view! { <InboxPage session=session now=now /> }.into_any(),
                Page::Silences => {
                    view! { <SilencesPage session=session now=now /> }.into_any()
                }
            }}
        </main>
    }
}

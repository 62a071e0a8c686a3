//! The Config page: prometheus.yml, rules.yml and alertmanager.yml, one tab each, in an
//! editor checked as it is typed, with an Apply button that reloads the file into the running
//! simulation (a refused file leaves the running one in place) and the text that runs now.

use leptos::prelude::*;

use crate::app::Session;
use crate::playground::{check_alertmanager, check_config, check_rules, Playground};

/// What the last press of Apply did.
#[derive(Clone, Debug, PartialEq)]
enum Applied {
    Refused(String),
    Reloaded(Vec<String>),
}

/// The three files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum File {
    Prometheus,
    Rules,
    Alertmanager,
}

impl File {
    const ALL: [File; 3] = [File::Prometheus, File::Rules, File::Alertmanager];

    fn name(self) -> &'static str {
        match self {
            File::Prometheus => "prometheus.yml",
            File::Rules => "rules.yml",
            File::Alertmanager => "alertmanager.yml",
        }
    }

    /// The prefix of the file's `data-testid`s (`config-input`, `rules-input`, …).
    fn prefix(self) -> &'static str {
        match self {
            File::Prometheus => "config",
            File::Rules => "rules",
            File::Alertmanager => "alertmanager",
        }
    }

    fn running(self, p: &Playground) -> String {
        match self {
            File::Prometheus => p.config_text(),
            File::Rules => p.rules_text(),
            File::Alertmanager => p.alertmanager_text(),
        }
        .to_string()
    }

    /// The same load the reload does, as you type; the error names the line.
    fn check(self, text: &str) -> Option<String> {
        match self {
            File::Prometheus => check_config(text).err(),
            File::Rules => check_rules(text).err(),
            File::Alertmanager => check_alertmanager(text).err(),
        }
    }

    fn apply(self, p: &mut Playground, text: &str) -> Result<Vec<String>, String> {
        match self {
            File::Prometheus => p.apply_config(text),
            File::Rules => p.apply_rules(text).map(|()| Vec::new()),
            File::Alertmanager => p.apply_alertmanager(text).map(|()| Vec::new()),
        }
    }

    fn about(self) -> &'static str {
        match self {
            File::Prometheus => {
                "The configuration the simulated Prometheus runs. Edit it, then Apply to reload it \
                 (as POST /-/reload does): a configuration that does not load is refused and the \
                 running one keeps scraping."
            }
            File::Rules => {
                "The rule file prometheus.yml's rule_files names. Apply reloads it (as POST /-/reload \
                 does): a file with a broken rule is refused, every error naming its line, and the \
                 running rules keep evaluating; groups that survive keep their alerts' state."
            }
            File::Alertmanager => {
                "The built-in Alertmanager's configuration: routes, receivers, inhibit rules. Apply \
                 reloads it (as POST /-/reload does): a configuration that does not load is refused \
                 and the running one keeps routing; alerts, silences and the notification log are kept."
            }
        }
    }
}

#[component]
pub fn ConfigPage(
    /// The session whose configuration files are edited.
    session: StoredValue<Session, LocalStorage>,
) -> impl IntoView {
    let tab = RwSignal::new(File::Prometheus);
    // One editor state per file, kept while switching tabs.
    let states = File::ALL.map(|f| {
        let running = session
            .with_value(|s| s.with(|p| f.running(p)))
            .unwrap_or_default();
        (
            f,
            RwSignal::new(running.clone()),
            RwSignal::new(None::<Applied>),
            RwSignal::new(running),
        )
    });
    view! {
        <h1>"Config"</h1>
        <div class="tabs" role="tablist">
            {File::ALL
                .into_iter()
                .map(|f| {
                    view! {
                        <button
                            role="tab"
                            data-testid=format!("config-tab-{}", f.prefix())
                            class:active=move || tab.get() == f
                            on:click=move |_| tab.set(f)
                        >
                            {f.name()}
                        </button>
                    }
                })
                .collect_view()}
        </div>
        {move || {
            let f = tab.get();
            let (_, text, applied, running) = states
                .into_iter()
                .find(|s| s.0 == f)
                .unwrap_or(states[0]);
            view! { <FileEditor session=session file=f text=text applied=applied running=running /> }
        }}
    }
}

/// The editor of one file: text, its check, Apply, Revert and what runs now.
#[component]
fn FileEditor(
    session: StoredValue<Session, LocalStorage>,
    file: File,
    text: RwSignal<String>,
    applied: RwSignal<Option<Applied>>,
    /// The text running now (updated on Apply).
    running: RwSignal<String>,
) -> impl IntoView {
    let read_running = move || {
        session
            .with_value(|s| s.with(|p| file.running(p)))
            .unwrap_or_default()
    };
    // Another part of the app may have changed the running file: show it as it is.
    running.set(read_running());
    let check = Memo::new(move |_| file.check(&text.get()));
    let apply = move |_| {
        let r = session.with_value(|s| s.with(|p| file.apply(p, &text.get_untracked())));
        applied.set(Some(match r {
            Some(Ok(failures)) => Applied::Reloaded(failures),
            Some(Err(e)) => Applied::Refused(e),
            None => Applied::Refused("the playground is busy; try again".into()),
        }));
        running.set(read_running());
    };
    let pre = file.prefix();
    let tid = move |s: &str| format!("{pre}-{s}");
    view! {
        <h2>{file.name()}</h2>
        <p>{file.about()}</p>
        <textarea
            class="config-editor"
            data-testid=tid("input")
            rows="24"
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
                        <div class="query-error" data-testid=tid("error") role="alert">
                            {e}
                        </div>
                    }
                })
        }}
        <div class="config-actions">
            <button data-testid=tid("apply") on:click=apply>
                "Apply"
            </button>
            <button
                data-testid=tid("revert")
                on:click=move |_| {
                    text.set(running.get_untracked());
                    applied.set(None);
                }
            >
                "Revert to running"
            </button>
            {move || {
                (text.get() != running.get())
                    .then(|| view! { <span class="placeholder" data-testid=tid("modified")>"modified (not applied)"</span> })
            }}
            {move || match applied.get() {
                Some(Applied::Refused(e)) => {
                    view! {
                        <span class="config-status refused" data-testid=tid("status")>
                            {format!("Refused: the running {} is unchanged.", file.name())}
                            <div class="query-error">{e}</div>
                        </span>
                    }
                        .into_any()
                }
                Some(Applied::Reloaded(failures)) => {
                    view! {
                        <span class="config-status applied" data-testid=tid("status")>
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
        <details class="running">
            <summary>{format!("Running now: {}", file.name())}</summary>
            <pre class="code" data-testid=tid("running")>{move || running.get()}</pre>
        </details>
    }
}

//! The Rules page: every rule group (file, interval, last evaluation in virtual time,
//! evaluation duration, limit) and every rule in it (recording or alerting, name, expression,
//! labels, health, last error, last evaluation, evaluation duration), as Prometheus's `/rules`
//! page shows them. It renders what [`crate::rules_view`] decodes from `/api/v1/rules`: the
//! playground's own groups through that JSON, or a remote data source's answer.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::Session;
use crate::pages::common::LabelsAndAnnotations;
use crate::pages::source::{use_source, wall_now};
use crate::rules_view::{local_rules, parse_rules, rules_page, GroupRow, RuleRow};
use crate::source::Source;

/// How often a remote source's rules are re-read (wall-clock ms).
const REMOTE_REFRESH_MS: u32 = 10_000;

#[component]
pub fn RulesPage(
    /// The session whose rule groups are shown.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time: the groups are re-read as it moves.
    now: RwSignal<i64>,
) -> impl IntoView {
    let source = use_source();
    let remote = Memo::new(move |_| source.with(Source::is_remote));
    let fetched = RwSignal::new(None::<Result<Vec<GroupRow>, String>>);
    let generation = StoredValue::new(0u64);
    let load = move || {
        let src = source.get_untracked();
        if !src.is_remote() {
            return;
        }
        let g = generation.get_value() + 1;
        generation.set_value(g);
        spawn_local(async move {
            let r = match api::rules(&src).await {
                Ok(body) => parse_rules(&body).map(|d| rules_page(&d, wall_now())),
                Err(e) => Err(e.to_string()),
            };
            if generation.try_get_value() == Some(g) {
                fetched.set(Some(r));
            }
        });
    };
    Effect::new(move |_| {
        source.track();
        fetched.set(None);
        load();
    });
    let timer = Interval::new(REMOTE_REFRESH_MS, load);
    let timer = StoredValue::new_local(Some(timer));
    on_cleanup(move || timer.update_value(|t| drop(t.take())));
    let groups = Memo::new(move |_| {
        if remote.get() {
            return fetched.get();
        }
        now.get();
        Some(
            session
                .with_value(|s| s.with(|p| rules_page(&local_rules(p), p.now_ms())))
                .ok_or_else(|| "the playground is busy; try again".to_string()),
        )
    });
    view! {
        <h1>"Rules"</h1>
        <p>
            {move || {
                if remote.get() {
                    format!(
                        "The rule groups of {}, as its /api/v1/rules reports them (re-read every {} s). Times are UTC.",
                        source.get(),
                        REMOTE_REFRESH_MS / 1000,
                    )
                } else {
                    "The rule groups Prometheus evaluates (rules.yml, edited on the Config page), as \
                     its /api/v1/rules reports them. Times are the playground's virtual time (UTC)."
                        .to_string()
                }
            }}
        </p>
        {move || {
            let gs = match groups.get() {
                None => return view! { <p class="empty">"Reading the rules…"</p> }.into_any(),
                Some(Err(e)) => {
                    return view! {
                        <div class="query-error" data-testid="rules-error" role="alert">
                            {e}
                        </div>
                    }
                        .into_any();
                }
                Some(Ok(gs)) => gs,
            };
            if gs.is_empty() {
                return view! {
                    <p class="empty" data-testid="rules-empty">
                        "No rule groups are loaded: the configuration names no rule files, or \
                         they have no groups."
                    </p>
                }
                    .into_any();
            }
            gs.into_iter().map(group_view).collect_view().into_any()
        }}
    }
}

fn group_view(g: GroupRow) -> impl IntoView {
    view! {
        <section class="rule-group" data-testid="rule-group" data-group=g.name.clone()>
            <h2>
                {g.name.clone()}
                <span class="rule-file">{g.file.clone()}</span>
            </h2>
            <div class="group-meta">
                <span>"interval " <b data-testid="group-interval">{g.interval.clone()}</b></span>
                <span>
                    "last evaluation "
                    <b
                        data-testid="group-last-evaluation"
                        data-ms=g.last_evaluation_ms.map(|t| t.to_string()).unwrap_or_default()
                    >
                        {g.last_evaluation.clone()}
                    </b>
                </span>
                <span>
                    "evaluation time "
                    <b data-testid="group-evaluation-time">{g.evaluation_duration.clone()}</b>
                </span>
                {(g.limit > 0).then(|| view! { <span>"limit " <b>{g.limit}</b></span> })}
            </div>
            <table class="rules">
                <thead>
                    <tr>
                        <th>"Rule"</th>
                        <th>"Health"</th>
                        <th>"Last evaluation"</th>
                        <th>"Evaluation time"</th>
                    </tr>
                </thead>
                <tbody>{g.rules.into_iter().map(rule_view).collect_view()}</tbody>
            </table>
        </section>
    }
}

fn rule_view(r: RuleRow) -> impl IntoView {
    let keyword = if r.kind == "alerting" {
        "alert"
    } else {
        "record"
    };
    view! {
        <tr data-testid="rule-row" data-rule=r.name.clone() data-kind=r.kind>
            <td class="rule-def">
                <div>
                    <span class=format!("kind {}", r.kind) data-testid="rule-kind">
                        {r.kind}
                    </span>
                    <span class="key">{format!("{keyword}: ")}</span>
                    <b data-testid="rule-name">{r.name.clone()}</b>
                </div>
                <div>
                    <span class="key">"expr: "</span>
                    <code data-testid="rule-expr">{r.expr.clone()}</code>
                </div>
                {r
                    .settings
                    .iter()
                    .map(|s| view! { <div class="setting">{s.clone()}</div> })
                    .collect_view()}
                <LabelsAndAnnotations labels=r.labels.clone() annotations=r.annotations.clone() />
                {(!r.last_error.is_empty())
                    .then(|| {
                        view! {
                            <div class="rule-error" data-testid="rule-error">
                                {r.last_error.clone()}
                            </div>
                        }
                    })}
            </td>
            <td>
                <span class=format!("health {}", r.health) data-testid="rule-health">
                    {r.health.to_uppercase()}
                </span>
            </td>
            <td
                data-testid="rule-last-evaluation"
                data-ms=r.last_evaluation_ms.map(|t| t.to_string()).unwrap_or_default()
            >
                {r.last_evaluation.clone()}
            </td>
            <td data-testid="rule-evaluation-time">{r.evaluation_duration.clone()}</td>
        </tr>
    }
}

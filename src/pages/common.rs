//! Pieces several pages share: the tab's high-resolution timer, and what they render the
//! same way.

use leptos::prelude::*;
use promplay_model::Clock;

/// `performance.now()`: wall-clock ms since the page loaded, for budgets and timings (0 when
/// the browser has no performance timer).
pub fn perf_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// The tab's timer as a stopwatch for [`promplay_server::prometheus::Prometheus::set_stopwatch`]:
/// the Rules page then shows how long each evaluation really took in the tab, while every
/// instant (and so every sample, and a shared session's replay) stays on the virtual clock.
pub struct TabStopwatch;

impl Clock for TabStopwatch {
    /// Not an instant of the world: the stopwatch's own reading in ms (Prometheus never asks a
    /// stopwatch for one).
    fn now_ms(&self) -> i64 {
        perf_now() as i64
    }
    fn monotonic_ns(&self) -> i64 {
        (perf_now() * 1e6) as i64
    }
}

/// A rule's labels as chips under `labels:` and its annotations under `annotations:`, each
/// only when there are some (the Alerts and Rules pages).
#[component]
pub fn LabelsAndAnnotations(
    /// `name="value"` strings.
    labels: Vec<String>,
    /// `name: text` strings.
    annotations: Vec<String>,
) -> impl IntoView {
    view! {
        {(!labels.is_empty())
            .then(|| {
                view! {
                    <div>
                        <span class="key">"labels: "</span>
                        {labels
                            .into_iter()
                            .map(|l| view! { <span class="label">{l}</span> })
                            .collect_view()}
                    </div>
                }
            })}
        {(!annotations.is_empty())
            .then(|| {
                view! {
                    <div>
                        <span class="key">"annotations:"</span>
                        {annotations
                            .into_iter()
                            .map(|a| view! { <div class="annotation">{a}</div> })
                            .collect_view()}
                    </div>
                }
            })}
    }
}

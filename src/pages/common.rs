//! Pieces several pages render the same way.

use leptos::prelude::*;

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

//! The header's time controls: the virtual time, play/pause, speed, one-interval step and
//! jump. The world advances from a timer in slices within a frame budget, so a jump of hours
//! keeps the tab responsive and shows its progress.

use gloo_timers::callback::Interval;
use leptos::prelude::*;

use crate::app::Session;
use crate::pages::common::perf_now;
use crate::time::{format_duration, format_utc, parse_duration, parse_utc};
use crate::timecontrols::{speed_label, Driver, SPEEDS, STEP_MS};

/// How often the clock's timer fires (wall-clock ms).
const TICK_MS: u32 = 50;
/// The most wall-clock time one timer callback spends simulating (ms).
const BUDGET_MS: f64 = 25.0;

/// Whether the header's virtual clock plays. The app provides it as context, so a page that
/// steps time itself (the Alerts page's Step) can pause the clock the header shows.
#[derive(Clone, Copy, Debug)]
pub struct ClockPlaying(pub RwSignal<bool>);

/// The virtual clock and its controls; moves `now` as the world advances. It plays and pauses
/// with the [`ClockPlaying`] context when there is one.
#[component]
pub fn TimeControls(
    /// The session whose world the clock drives.
    session: StoredValue<Session, LocalStorage>,
    /// The virtual time, set after each burst of work.
    now: RwSignal<i64>,
) -> impl IntoView {
    let driver = StoredValue::new_local(Driver::new(now.get_untracked()));
    let playing = use_context::<ClockPlaying>()
        .map(|c| c.0)
        .unwrap_or_else(|| RwSignal::new(true));
    // The driver follows the signal, whoever sets it.
    Effect::new(move |_| {
        let p = playing.get();
        driver.update_value(|d| d.playing = p);
    });
    let speed = RwSignal::new(1u32);
    let progress = RwSignal::new(None::<f64>);
    let jump_text = RwSignal::new(String::new());
    let jump_error = RwSignal::new(None::<String>);
    let last = StoredValue::new_local(perf_now());

    let timer = Interval::new(TICK_MS, move || {
        let t0 = perf_now();
        let real = t0 - last.get_value();
        last.set_value(t0);
        let Some(t) = session.with_value(|s| {
            s.with(|p| {
                driver.update_value(|d| d.tick(p.now_ms(), real));
                while let Some(next) = driver
                    .try_update_value(|d| d.next_slice(p.now_ms()))
                    .flatten()
                {
                    p.advance_to(next);
                    if perf_now() - t0 > BUDGET_MS {
                        break;
                    }
                }
                p.now_ms()
            })
        }) else {
            return; // busy (a query runs): next tick
        };
        // The header shows whole seconds: pages re-render at most once per virtual second.
        if now.get_untracked().div_euclid(1000) != t.div_euclid(1000) {
            now.set(t);
        }
        let pr = driver.with_value(|d| d.progress(t));
        if progress.get_untracked() != pr {
            progress.set(pr);
        }
    });
    let timer = StoredValue::new_local(Some(timer));
    on_cleanup(move || timer.update_value(|t| drop(t.take())));

    let toggle = move |_| playing.set(!playing.get_untracked());
    let step = move |_| {
        driver.update_value(|d| d.step(now.get_untracked()));
        playing.set(false);
    };
    let jump = move || {
        let text = jump_text.get_untracked();
        let text = text.trim();
        let at = now.get_untracked();
        let r = match text.strip_prefix('+') {
            Some(d) => parse_duration(d.trim()).and_then(|ms| {
                driver
                    .try_update_value(|dr| dr.jump_by(at, ms))
                    .unwrap_or(Ok(()))
            }),
            None => parse_utc(text).and_then(|t| {
                driver
                    .try_update_value(|dr| dr.jump_to(at, t))
                    .unwrap_or(Ok(()))
            }),
        };
        jump_error.set(r.err());
    };

    view! {
        <span class="clock" title="The playground's virtual time (UTC)">
            "virtual time "
            <time data-testid="virtual-time">{move || format_utc(now.get())}" UTC"</time>
            <button data-testid="clock-toggle" on:click=toggle>
                {move || if playing.get() { "pause" } else { "play" }}
            </button>
            <select
                data-testid="speed"
                title="Virtual seconds per real second"
                on:change=move |ev| {
                    let v: u32 = event_target_value(&ev).parse().unwrap_or(1);
                    driver.update_value(|d| d.set_speed(v));
                    speed.set(v);
                }
            >
                {SPEEDS
                    .into_iter()
                    .map(|s| {
                        view! {
                            <option value=s.to_string() selected=move || speed.get() == s>
                                {speed_label(s)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button
                data-testid="clock-step"
                title="Pause and advance one scrape interval"
                on:click=step
            >
                {format!("step {}", format_duration(STEP_MS))}
            </button>
            <input
                class="jump"
                data-testid="jump"
                placeholder="+1h or 2026-01-01 12:00:00"
                prop:value=move || jump_text.get()
                on:input=move |ev| jump_text.set(event_target_value(&ev))
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" {
                        jump();
                    }
                }
            />
            <button data-testid="jump-go" on:click=move |_| jump()>
                "jump"
            </button>
            {move || {
                progress
                    .get()
                    .map(|f| {
                        view! {
                            <span class="catchup" data-testid="catchup">
                                <progress max="100" value=format!("{:.0}", f * 100.0)></progress>
                                {format!(" catching up {:.0}%", f * 100.0)}
                            </span>
                        }
                    })
            }}
            {move || {
                jump_error
                    .get()
                    .map(|e| view! { <span class="jump-error" data-testid="jump-error">{e}</span> })
            }}
        </span>
    }
}

//! Browser tests of the components (wasm-bindgen-test in headless Chromium):
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p promplay-web --test web`.
//! Each test mounts a component into a fresh `<div>`, acts as a user would (input events,
//! clicks), waits for the DOM to settle and reads it back.
#![cfg(target_arch = "wasm32")]

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::StoredValue;
use promplay_web::app::{App, Session};
use promplay_web::pages::ConfigPage;
use promplay_web::playground::Playground;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn find(root: &Element, sel: &str) -> Option<Element> {
    root.query_selector(sel).unwrap()
}

fn count(root: &Element, sel: &str) -> u32 {
    root.query_selector_all(sel).unwrap().length()
}

/// Polls until `cond` holds (up to ~5 s), so tests do not depend on timer granularity.
async fn until(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if cond() {
            return true;
        }
        TimeoutFuture::new(50).await;
    }
    cond()
}

fn type_query(root: &Element, q: &str) {
    type_into(root, "[data-testid=query-input]", q);
}

fn type_into(root: &Element, sel: &str, q: &str) {
    let ta: HtmlTextAreaElement = find(root, sel).unwrap().unchecked_into();
    ta.set_value(q);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    ta.dispatch_event(&ev).unwrap();
}

fn click(root: &Element, sel: &str) {
    find(root, sel)
        .unwrap_or_else(|| panic!("no {sel}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

#[wasm_bindgen_test]
async fn the_config_page_checks_and_refuses_a_broken_prometheus_yml() {
    let c = container();
    let shared = Session::new(Playground::new());
    let session = StoredValue::new_local(shared.clone());
    let _h = leptos::mount::mount_to(
        c.clone(),
        move || leptos::view! { <ConfigPage session=session /> },
    );
    let ta: HtmlTextAreaElement = find(&c, "[data-testid=config-input]")
        .unwrap()
        .unchecked_into();
    assert!(
        until(|| ta.value().contains("job_name: node")).await,
        "{}",
        ta.value()
    );
    let seed = ta.value();
    assert_eq!(count(&c, "[data-testid=config-error]"), 0);
    type_into(
        &c,
        "[data-testid=config-input]",
        &seed.replace("scrape_interval: 10s", "scrape_interval: 1x"),
    );
    assert!(until(|| count(&c, "[data-testid=config-error]") == 1).await);
    let err = find(&c, "[data-testid=config-error]")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(
        err.contains("line 2") && err.contains("scrape_interval"),
        "{err}"
    );
    click(&c, "[data-testid=config-apply]");
    assert!(until(|| count(&c, "[data-testid=config-status]") == 1).await);
    let status = find(&c, "[data-testid=config-status]")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(status.starts_with("Refused"), "{status}");
    let running = shared.with(|p| p.config_text().to_string()).unwrap();
    assert_eq!(running, seed);
    // What runs is shown beside the editor, unchanged by the refused Apply.
    let shown = find(&c, "[data-testid=config-running]")
        .unwrap()
        .text_content()
        .unwrap();
    assert_eq!(shown, seed);
}

#[wasm_bindgen_test]
async fn the_app_has_the_nav_and_the_clock() {
    let c = container();
    let _h = leptos::mount::mount_to(c.clone(), App);
    let links: Vec<String> = (0..count(&c, "nav.pages a"))
        .map(|i| {
            c.query_selector_all("nav.pages a")
                .unwrap()
                .item(i)
                .unwrap()
                .text_content()
                .unwrap()
        })
        .collect();
    assert_eq!(
        links,
        ["Query", "Targets", "Alerts", "Rules", "Config", "Workshop", "Inbox", "Silences"]
    );
    let clock = find(&c, "[data-testid=virtual-time]")
        .unwrap()
        .text_content()
        .unwrap();
    // `YYYY-MM-DD HH:MM:SS UTC`
    let (date, rest) = clock.split_once(' ').unwrap();
    assert_eq!(date.len(), 10, "{clock}");
    assert!(rest.ends_with(" UTC") && rest.len() == 12, "{clock}");
}

#[wasm_bindgen_test]
async fn executing_up_fills_the_table() {
    let c = container();
    let _h = leptos::mount::mount_to(c.clone(), App);
    type_query(&c, "up");
    click(&c, "[data-testid=execute]");
    assert!(
        until(|| count(&c, "[data-testid=result-table] tr") > 0).await,
        "no rows; error: {:?}",
        find(&c, "[data-testid=query-error]").and_then(|e| e.text_content())
    );
    // One row per scrape target, whatever the playground's data.
    let rows = c
        .query_selector_all("[data-testid=result-table] tr")
        .unwrap();
    for i in 0..rows.length() {
        let row = rows.item(i).unwrap().text_content().unwrap();
        assert!(row.starts_with("up{") && row.contains("instance="), "{row}");
        assert!(row.ends_with('1') || row.ends_with('0'), "{row}");
    }
}

#[wasm_bindgen_test]
async fn targets_stop_and_step_shows_the_exporter_down() {
    let c = container();
    let _h = leptos::mount::mount_to(c.clone(), App);
    let nav = c.query_selector_all("nav.pages a").unwrap();
    let targets = (0..nav.length())
        .map(|i| nav.item(i).unwrap())
        .find(|n| n.text_content().as_deref() == Some("Targets"))
        .unwrap();
    targets.unchecked_into::<HtmlElement>().click();
    assert!(until(|| count(&c, "[data-testid=target-row]") == 3).await);
    let node = "[data-testid=target-row][data-address='localhost:9100']";
    let state = |c: &HtmlElement| {
        find(c, &format!("{node} [data-testid=target-state]"))
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    assert_eq!(state(&c), "UP");
    click(&c, &format!("{node} [data-testid=target-stop]"));
    click(&c, "[data-testid=clock-step]");
    assert!(until(|| state(&c) == "DOWN").await, "state {}", state(&c));
    let err = find(&c, &format!("{node} [data-testid=target-error]"))
        .unwrap()
        .text_content()
        .unwrap();
    assert!(err.ends_with("connect: connection refused"), "{err}");
    // The link set the location's hash: later tests mount the app on the Query page again.
    // (hashchange is asynchronous: let it reach this app, not the next test's.)
    web_sys::window().unwrap().location().set_hash("").unwrap();
    TimeoutFuture::new(200).await;
}

#[wasm_bindgen_test]
async fn a_parse_error_has_a_position_and_a_mark() {
    let c = container();
    let _h = leptos::mount::mount_to(c.clone(), App);
    type_query(&c, "sum(rate(up[5m])");
    click(&c, "[data-testid=execute]");
    assert!(until(|| find(&c, "[data-testid=query-error]").is_some()).await);
    let msg = find(&c, "[data-testid=query-error]")
        .unwrap()
        .text_content()
        .unwrap();
    let (pos, rest) = msg.split_once(": ").unwrap();
    let (line, col) = pos.split_once(':').unwrap();
    assert!(
        line.parse::<u32>().is_ok() && col.parse::<u32>().is_ok(),
        "{msg}"
    );
    assert!(rest.starts_with("parse error: "), "{msg}");
    assert!(find(&c, "[data-testid=error-mark]").is_some());
}

#[wasm_bindgen_test]
fn the_error_banner_is_written_outside_the_app() {
    promplay_web::app::show_banner("first");
    promplay_web::app::show_banner("second");
    let doc = web_sys::window().unwrap().document().unwrap();
    let banners = doc.query_selector_all("#panic-banner").unwrap();
    assert_eq!(banners.length(), 1, "one banner, updated in place");
    let b = doc.get_element_by_id("panic-banner").unwrap();
    assert_eq!(b.text_content().unwrap(), "second");
    assert_eq!(b.get_attribute("role").as_deref(), Some("alert"));
    b.remove();
}

// --- Inbox and Silences pages ---

/// Sets an `<input>`'s value and fires `input`, as typing does.
fn type_input(root: &Element, sel: &str, v: &str) {
    let el = find(root, sel).unwrap_or_else(|| panic!("no {sel}"));
    js_sys::Reflect::set(&el, &"value".into(), &v.into()).unwrap();
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

fn text_of(root: &Element, sel: &str) -> String {
    find(root, sel)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn the_inbox_shows_the_seed_email_in_a_sandboxed_frame_and_its_route() {
    use promplay_web::pages::InboxPage;
    use promplay_web::playground::HostAction;
    let mut p = Playground::new();
    p.act("localhost:9100", HostAction::Stop).unwrap();
    p.advance(180_000);
    let now = leptos::prelude::RwSignal::new(p.now_ms());
    let session = StoredValue::new_local(Session::new(p));
    let c = container();
    let _h = leptos::mount::mount_to(
        c.clone(),
        move || leptos::view! { <InboxPage session=session now=now /> },
    );
    assert!(until(|| count(&c, "[data-testid=inbox-row]") == 1).await);
    assert_eq!(
        text_of(&c, "[data-testid=inbox-subject]"),
        "[FIRING:1]  (InstanceDown localhost:9100 node)"
    );
    assert_eq!(count(&c, "[data-testid=nflog-row]"), 1);
    click(&c, "[data-testid=inbox-row]");
    assert!(until(|| count(&c, "[data-testid=inbox-html]") == 1).await);
    let frame = find(&c, "[data-testid=inbox-html]").unwrap();
    // Sandboxed with no permission at all: the email's HTML runs no script.
    assert_eq!(frame.get_attribute("sandbox").as_deref(), Some(""));
    let srcdoc = frame.get_attribute("srcdoc").unwrap_or_default();
    assert!(srcdoc.contains("InstanceDown"), "{srcdoc}");
    assert!(
        text_of(&c, "[data-testid=inbox-route]").contains("default-route  receiver: example-email")
    );
    click(&c, "[data-testid=inbox-tab-raw]");
    assert!(
        until(|| text_of(&c, "[data-testid=inbox-raw]").starts_with("Subject: [FIRING:1]")).await
    );
}

#[wasm_bindgen_test]
async fn the_silences_page_refuses_no_matchers_adds_and_expires() {
    use promplay_web::pages::SilencesPage;
    let p = Playground::new();
    let now = leptos::prelude::RwSignal::new(p.now_ms());
    let shared = Session::new(p);
    let session = StoredValue::new_local(shared.clone());
    let c = container();
    let _h = leptos::mount::mount_to(
        c.clone(),
        move || leptos::view! { <SilencesPage session=session now=now /> },
    );
    assert!(until(|| count(&c, "[data-testid=silences-empty]") == 1).await);
    click(&c, "[data-testid=silence-add]");
    assert!(until(|| count(&c, "[data-testid=silence-error]") == 1).await);
    assert_eq!(
        text_of(&c, "[data-testid=silence-error]"),
        "at least one matcher required"
    );
    type_input(
        &c,
        "[data-testid=silence-matchers]",
        r#"alertname="InstanceDown", instance=~"localhost.*""#,
    );
    type_input(&c, "[data-testid=silence-comment]", "maintenance");
    click(&c, "[data-testid=silence-add]");
    assert!(until(|| count(&c, "[data-testid=silence-row]") == 1).await);
    assert_eq!(count(&c, "[data-testid=silence-error]"), 0);
    assert_eq!(
        text_of(&c, "[data-testid=silence-matchers-shown]"),
        r#"{alertname="InstanceDown",instance=~"localhost.*"}"#
    );
    assert_eq!(text_of(&c, "[data-testid=silence-state]"), "active");
    click(&c, "[data-testid=silence-expire]");
    assert!(until(|| text_of(&c, "[data-testid=silence-state]") == "expired").await);
    let states: Vec<String> = shared
        .with(|p| {
            p.stack()
                .alertmanager
                .as_ref()
                .unwrap()
                .am
                .silences()
                .list()
                .map(|s| s.state_at(p.now_ms()).as_str().to_string())
                .collect()
        })
        .unwrap();
    assert_eq!(states, ["expired"]);
}

// --- Data-source switch (source helper) ---

/// Sets a `<select>`'s value and fires `change`, as choosing an option does.
fn choose(root: &Element, sel: &str, v: &str) {
    let el = find(root, sel).unwrap_or_else(|| panic!("no {sel}"));
    js_sys::Reflect::set(&el, &"value".into(), &v.into()).unwrap();
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("change", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

#[wasm_bindgen_test]
async fn the_source_switch_refuses_bad_urls_and_keeps_the_simulated_world() {
    use leptos::prelude::{GetUntracked, RwSignal};
    use promplay_web::pages::source::SourceSwitch;
    use promplay_web::source::Source;
    let c = container();
    let source = RwSignal::new(Source::Simulated);
    let _h = leptos::mount::mount_to(c.clone(), move || {
        leptos::view! { <SourceSwitch source=source /> }
    });
    assert_eq!(count(&c, "[data-testid=source-url]"), 0);
    choose(&c, "[data-testid=source-select]", "url");
    assert!(until(|| count(&c, "[data-testid=source-url]") == 1).await);

    type_input(&c, "[data-testid=source-url]", "ftp://x");
    click(&c, "[data-testid=source-connect]");
    assert!(until(|| text_of(&c, "[data-testid=source-error]").contains("not an http://")).await);
    assert_eq!(source.get_untracked(), Source::Simulated);

    // Nothing listens on port 1: the fetch fails and says what to check.
    type_input(&c, "[data-testid=source-url]", "127.0.0.1:1");
    click(&c, "[data-testid=source-connect]");
    assert!(
        until(|| text_of(&c, "[data-testid=source-error]")
            .starts_with("could not fetch http://127.0.0.1:1/api/v1/status/buildinfo: "))
        .await,
        "{}",
        text_of(&c, "[data-testid=source-error]")
    );
    assert_eq!(source.get_untracked(), Source::Simulated);
    assert_eq!(text_of(&c, "[data-testid=source-status]"), "");
}

#[wasm_bindgen_test]
async fn targets_of_an_unreachable_source_show_the_error_and_no_host_actions() {
    use leptos::prelude::{provide_context, RwSignal};
    use promplay_web::pages::source::CurrentSource;
    use promplay_web::pages::TargetsPage;
    use promplay_web::source::Source;
    let c = container();
    let session = StoredValue::new_local(Session::new(Playground::new()));
    let now = RwSignal::new(0i64);
    let source = RwSignal::new(Source::Url("http://127.0.0.1:1".into()));
    let _h = leptos::mount::mount_to(c.clone(), move || {
        provide_context(CurrentSource(source));
        leptos::view! { <TargetsPage session=session now=now /> }
    });
    assert!(
        until(|| text_of(&c, "[data-testid=targets-error]")
            .starts_with("could not fetch http://127.0.0.1:1/api/v1/targets?state=active: "))
        .await,
        "{}",
        c.inner_html()
    );
    assert_eq!(count(&c, "[data-testid=target-stop]"), 0);
    assert!(text_of(&c, "[data-testid=targets-remote]").contains("http://127.0.0.1:1"));
    // Back to the simulated world: its three targets with their buttons.
    leptos::prelude::Set::set(&source, Source::Simulated);
    assert!(until(|| count(&c, "[data-testid=target-row]") == 3).await);
    assert_eq!(count(&c, "[data-testid=target-stop]"), 3);
}

fn attr(root: &Element, sel: &str, name: &str) -> String {
    find(root, sel)
        .and_then(|e| e.get_attribute(name))
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn alerts_step_to_pending_then_back_shows_the_past_with_a_countdown() {
    use leptos::prelude::RwSignal;
    use promplay_web::pages::AlertsPage;
    use promplay_web::playground::HostAction;
    let c = container();
    let shared = Session::new(Playground::new());
    let start = shared.with(|p| p.now_ms()).unwrap();
    let session = StoredValue::new_local(shared.clone());
    let now = RwSignal::new(start);
    let _h = leptos::mount::mount_to(
        c.clone(),
        move || leptos::view! { <AlertsPage session=session now=now /> },
    );
    let rule = "[data-testid=alert-rule][data-rule=InstanceDown]";
    assert!(until(|| count(&c, rule) == 1).await, "{}", c.inner_html());
    assert_eq!(attr(&c, rule, "data-state"), "inactive");
    shared
        .with(|p| p.act("localhost:9100", HostAction::Stop))
        .unwrap()
        .unwrap();
    let mut presses = 0;
    while attr(&c, rule, "data-state") != "pending" && presses < 5 {
        click(&c, "[data-testid=alerts-step]");
        presses += 1;
        TimeoutFuture::new(20).await;
    }
    assert_eq!(attr(&c, rule, "data-state"), "pending");
    let t = shared.with(|p| p.now_ms()).unwrap();
    assert_eq!(
        t,
        start + presses * 10_000,
        "each Step is one evaluation interval"
    );
    assert_eq!(leptos::prelude::GetUntracked::get_untracked(&now), t);
    let since: i64 = attr(&c, "[data-testid=alert-active-since]", "data-ms")
        .parse()
        .unwrap();
    assert!(
        since > start && since - start <= 20_000,
        "{}",
        since - start
    );
    let cd = text_of(&c, "[data-testid=alert-countdown]");
    let secs = (since + 60_000 - t + 999) / 1000;
    assert_eq!(cd, format!("fires in {secs}s"));
    assert_eq!(count(&c, "[data-testid=alerts-past-banner]"), 0);

    // Back before the alert began: the past, marked, and nothing pending; the clock stays.
    while attr(&c, "[data-testid=alerts-at]", "data-ms")
        .parse::<i64>()
        .unwrap()
        >= since
    {
        click(&c, "[data-testid=alerts-back]");
        TimeoutFuture::new(20).await;
    }
    assert!(until(|| count(&c, "[data-testid=alerts-past-banner]") == 1).await);
    assert_eq!(attr(&c, "[data-testid=alerts-at]", "data-past"), "true");
    assert_eq!(attr(&c, rule, "data-state"), "inactive");
    assert_eq!(shared.with(|p| p.now_ms()).unwrap(), t);
    // Live returns to the present.
    click(&c, "[data-testid=alerts-live]");
    assert!(until(|| attr(&c, rule, "data-state") == "pending").await);
    assert_eq!(count(&c, "[data-testid=alerts-past-banner]"), 0);
}

#[wasm_bindgen_test]
async fn the_rules_page_lists_the_seed_group_and_a_broken_rule_with_its_error() {
    use leptos::prelude::RwSignal;
    use promplay_web::pages::RulesPage;
    let c = container();
    let shared = Session::new(Playground::new());
    let session = StoredValue::new_local(shared.clone());
    let now = RwSignal::new(shared.with(|p| p.now_ms()).unwrap());
    let _h = leptos::mount::mount_to(
        c.clone(),
        move || leptos::view! { <RulesPage session=session now=now /> },
    );
    let row = "[data-testid=rule-row][data-rule=InstanceDown]";
    assert!(until(|| count(&c, row) == 1).await, "{}", c.inner_html());
    assert_eq!(attr(&c, row, "data-kind"), "alerting");
    assert_eq!(
        text_of(&c, &format!("{row} [data-testid=rule-health]")),
        "OK"
    );
    assert_eq!(text_of(&c, "[data-testid=group-interval]"), "10s");

    // A rule that fails at run time: err, with its error, after the next evaluation.
    let rules = format!(
        "{}      - record: dup\n        expr: up + on() up\n",
        promplay_web::playground::SEED_RULES
    );
    let t = shared
        .with(|p| {
            p.apply_rules(&rules).unwrap();
            p.advance(10_000);
            p.now_ms()
        })
        .unwrap();
    leptos::prelude::Set::set(&now, t);
    let dup = "[data-testid=rule-row][data-rule=dup]";
    assert!(until(|| text_of(&c, &format!("{dup} [data-testid=rule-health]")) == "ERR").await);
    assert!(
        text_of(&c, &format!("{dup} [data-testid=rule-error]")).contains("many-to-many"),
        "{}",
        text_of(&c, &format!("{dup} [data-testid=rule-error]"))
    );
}

// --- Targets' faults and Share (share helper) ---

#[wasm_bindgen_test]
async fn targets_slow_beyond_the_timeout_is_down_heal_restores_and_share_makes_a_url() {
    let c = container();
    let _h = leptos::mount::mount_to(c.clone(), App);
    let nav = c.query_selector_all("nav.pages a").unwrap();
    let targets = (0..nav.length())
        .map(|i| nav.item(i).unwrap())
        .find(|n| n.text_content().as_deref() == Some("Targets"))
        .unwrap();
    targets.unchecked_into::<HtmlElement>().click();
    assert!(until(|| count(&c, "[data-testid=target-row]") == 3).await);
    let node = "[data-testid=target-row][data-address='localhost:9100']";
    let text = |c: &HtmlElement, tid: &str| {
        find(c, &format!("{node} [data-testid={tid}]"))
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    assert_eq!(text(&c, "target-state"), "UP");
    choose(&c, &format!("{node} [data-testid=target-slow]"), "15000");
    assert!(until(|| text(&c, "target-faults") == "slow 15s").await);
    click(&c, "[data-testid=clock-step]");
    assert!(until(|| text(&c, "target-state") == "DOWN").await);
    assert_eq!(
        text(&c, "target-error"),
        "Get \"http://localhost:9100/metrics\": context deadline exceeded"
    );
    click(&c, &format!("{node} [data-testid=target-heal]"));
    assert!(until(|| text(&c, "target-faults").is_empty()).await);
    click(&c, "[data-testid=clock-step]");
    assert!(until(|| text(&c, "target-state") == "UP").await);

    click(&c, "[data-testid=share]");
    assert!(until(|| find(&c, "[data-testid=share-url]").is_some()).await);
    let url: String = js_sys::Reflect::get(
        &find(&c, "[data-testid=share-url]").unwrap(),
        &"value".into(),
    )
    .unwrap()
    .as_string()
    .unwrap();
    let encoded = promplay_web::share::from_search(url.split_once('?').unwrap().1)
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .to_string();
    let log = promplay_web::share::SessionLog::decode(&encoded).unwrap();
    let kinds: Vec<String> = log
        .actions
        .iter()
        .map(|r| promplay_web::share::describe(&r.action))
        .collect();
    assert_eq!(
        kinds,
        ["slow localhost:9100 by 15000 ms", "heal localhost:9100"]
    );
    web_sys::window().unwrap().location().set_hash("").unwrap();
    TimeoutFuture::new(200).await;
}

#[wasm_bindgen_test]
async fn the_explain_tab_shows_each_node_with_its_count_and_a_matching_of_zero_pairs() {
    let c = container();
    let _h = leptos::mount::mount_to(c.clone(), App);
    click(&c, "[data-testid=tab-explain]");
    type_query(
        &c,
        "up == on (job) group_left label_replace(up, \"job\", \"x-$1\", \"job\", \"(.*)\")",
    );
    click(&c, "[data-testid=execute]");
    assert!(
        until(|| count(&c, "[data-testid=explain-node]") == 8).await,
        "nodes: {}; error: {:?}",
        count(&c, "[data-testid=explain-node]"),
        find(&c, "[data-testid=query-error]").and_then(|e| e.text_content())
    );
    let all = |sel: &str| {
        let l = c.query_selector_all(sel).unwrap();
        (0..l.length())
            .map(|i| l.item(i).unwrap().text_content().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    // the call's arguments are nodes too
    assert_eq!(
        all("[data-testid=explain-text]"),
        [
            "up == on (job) group_left () label_replace(up, \"job\", \"x-$1\", \"job\", \"(.*)\")",
            "up",
            "label_replace(up, \"job\", \"x-$1\", \"job\", \"(.*)\")",
            "up",
            "\"job\"",
            "\"x-$1\"",
            "\"job\"",
            "\"(.*)\""
        ]
    );
    assert_eq!(
        all("[data-testid=explain-kind]"),
        [
            "binary operation",
            "selector",
            "function call",
            "selector",
            "string",
            "string",
            "string",
            "string"
        ]
    );
    assert_eq!(
        all("[data-testid=explain-count]")[..4],
        [
            "0 series (instant vector)",
            "3 series (instant vector)",
            "3 series (instant vector)",
            "3 series (instant vector)"
        ]
    );
    assert_eq!(all("[data-testid=explain-count]")[4..], ["string"; 4]);
    let matching = text_of(&c, "[data-testid=explain-matching]");
    assert!(
        matching.starts_with("left 3, right 3 series; 0 pairs matched"),
        "{matching}"
    );
    // a parse error: no tree, the error under the editor
    type_query(&c, "sum(up");
    click(&c, "[data-testid=execute]");
    assert!(until(|| find(&c, "[data-testid=query-error]").is_some()).await);
    assert_eq!(count(&c, "[data-testid=explain-node]"), 0);
}

#[wasm_bindgen_test]
async fn the_explain_tab_of_a_remote_source_asks_for_each_node_at_one_time() {
    use leptos::prelude::{provide_context, RwSignal};
    use promplay_web::pages::source::CurrentSource;
    use promplay_web::pages::QueryPage;
    use promplay_web::source::Source;
    let c = container();
    let session = StoredValue::new_local(Session::new(Playground::new()));
    let now = RwSignal::new(0i64);
    // Nothing listens on port 1: every node's request fails, each on its own node.
    let source = RwSignal::new(Source::Url("http://127.0.0.1:1".into()));
    let _h = leptos::mount::mount_to(c.clone(), move || {
        provide_context(CurrentSource(source));
        leptos::view! { <QueryPage session=session now=now /> }
    });
    click(&c, "[data-testid=tab-explain]");
    type_query(&c, "sum(up)");
    click(&c, "[data-testid=execute]");
    assert!(
        until(|| count(&c, "[data-testid=explain-node]") == 2).await,
        "{}",
        c.inner_html()
    );
    let counts: Vec<String> = {
        let l = c.query_selector_all("[data-testid=explain-count]").unwrap();
        (0..l.length())
            .map(|i| l.item(i).unwrap().text_content().unwrap_or_default())
            .collect()
    };
    assert_eq!(counts.len(), 2);
    let time = |s: &str| {
        s.split("time=")
            .nth(1)
            .map(|t| t.split([':', '&', ' ']).next().unwrap_or("").to_string())
    };
    for (count, query) in counts.iter().zip(["query=sum", "query=up&"]) {
        assert!(
            count.starts_with("error: could not fetch http://127.0.0.1:1/api/v1/query?"),
            "{count}"
        );
        assert!(count.contains(query), "{count}");
    }
    // both nodes at the same fixed time
    assert!(time(&counts[0]).is_some(), "{}", counts[0]);
    assert_eq!(time(&counts[0]), time(&counts[1]));
}

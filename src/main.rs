//! Entry point of the browser build: install the panic hook, mount the app.

#[cfg(target_arch = "wasm32")]
fn main() {
    promplay_web::app::install_panic_hook();
    leptos::mount::mount_to_body(promplay_web::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "promplay-web is the browser playground: build it with `trunk build` (see README.md)"
    );
    std::process::exit(2);
}

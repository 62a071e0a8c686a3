//! The seed world has the same bits in the browser as natively: the fingerprint of
//! crates/sim/tests/determinism.rs, compiled to wasm32 and run in headless Chromium
//! (`CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p promplay-web --test determinism`).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

include!("../crates/sim/tests/support/fingerprint.rs");

#[wasm_bindgen_test]
fn the_seed_world_has_the_same_bits_in_the_browser() {
    assert_eq!(
        format!("{:#018x}", fingerprint()),
        format!("{SEED_42_FINGERPRINT:#018x}")
    );
}

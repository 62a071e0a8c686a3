//! The same seed gives the same bits on every platform: the float transforms go through the
//! pure-Rust `libm`, not the platform's math library. tests/determinism.rs (root) runs the same fingerprint
//! in the browser (wasm32) and expects the same value.

include!("support/fingerprint.rs");

#[test]
fn the_seed_world_has_the_same_bits_everywhere() {
    assert_eq!(fingerprint(), fingerprint(), "pure function of the seed");
    assert_eq!(
        format!("{:#018x}", fingerprint()),
        format!("{SEED_42_FINGERPRINT:#018x}")
    );
}

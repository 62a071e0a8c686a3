// The determinism fingerprint, shared (with `include!`) by crates/sim/tests/determinism.rs
// (native) and tests/determinism.rs (the same code compiled to wasm32, run in Chromium).

use promplay_sim::rng::Rng;
use promplay_sim::World;

/// FNV-1a over the bits of the draws and the bodies of the seed world's three programs after
/// ten simulated minutes.
fn fingerprint() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    let mut r = Rng::stream(42, "determinism");
    for _ in 0..1000 {
        eat(&r.exponential(0.2).to_bits().to_le_bytes());
        eat(&r.normal().to_bits().to_le_bytes());
        eat(&r.lognormal(0.05, 0.7).to_bits().to_le_bytes());
    }
    let mut w = World::seed_world(42, 1_767_225_600_000);
    let t = 1_767_225_600_000 + 600_000;
    for addr in ["localhost:8000", "localhost:9100", "localhost:9090"] {
        let body = w.get(addr, "/metrics", None, t).map(|r| r.body).unwrap_or_default();
        assert!(!body.is_empty(), "{addr}");
        eat(&body);
    }
    h
}

/// Computed natively; tests/web.rs checks the browser gets the same.
pub const SEED_42_FINGERPRINT: u64 = 0x4cc9_fb9c_9f54_7487;


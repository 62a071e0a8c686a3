//! A small deterministic random number generator (SplitMix64) and the distributions the
//! simulation draws from. Same seed, same sequence, on every platform: the float transforms
//! use `sqrt` (exact in IEEE 754) and `libm`'s `log`, `exp`, `cos` (pure Rust, the same bits
//! natively and in wasm; tests/determinism.rs checks both).

/// SplitMix64 (Steele, Lea, Flood 2014): 64 bits of state, passes BigCrush, trivially seeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Mixes `x` into a well-distributed 64-bit value (SplitMix64's finaliser).
pub fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent stream for `name` derived from `seed` (one per program, per purpose).
    pub fn stream(seed: u64, name: &str) -> Rng {
        // FNV-1a over the name, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng::new(mix64(seed ^ mix64(h)))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform in [0, 1) with 53 random bits (Python's `random.random()` range).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1]: safe to take the logarithm of.
    fn open_unit(&mut self) -> f64 {
        1.0 - self.next_f64()
    }

    /// Exponentially distributed with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(self.open_unit())
    }

    /// Standard normal (Box–Muller; one value per call, the other is dropped for simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.open_unit();
        let u2 = self.next_f64();
        (-2.0 * libm::log(u1)).sqrt() * libm::cos(std::f64::consts::TAU * u2)
    }

    /// Log-normally distributed with the given mean and shape `sigma` (the standard deviation
    /// of the underlying normal): `mu = ln(mean) - sigma²/2`.
    pub fn lognormal(&mut self, mean: f64, sigma: f64) -> f64 {
        let mu = libm::log(mean) - sigma * sigma / 2.0;
        libm::exp(mu + sigma * self.normal())
    }
}

/// A deterministic value in [0, 1) for `(seed, key, index)`: noise that is a pure function of
/// its arguments, so a program's value at an instant does not depend on when it was scraped.
pub fn hash_unit(seed: u64, key: u64, index: i64) -> f64 {
    let h = mix64(seed ^ mix64(key ^ mix64(index as u64)));
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        let mut s1 = Rng::stream(7, "hello");
        let mut s2 = Rng::stream(7, "node");
        assert_ne!(s1.next_u64(), s2.next_u64());
    }

    #[test]
    fn distributions_have_their_means() {
        let mut r = Rng::new(1);
        let n = 200_000;
        let u: f64 = (0..n).map(|_| r.next_f64()).sum::<f64>() / n as f64;
        assert!((u - 0.5).abs() < 0.01, "{u}");
        let e: f64 = (0..n).map(|_| r.exponential(0.25)).sum::<f64>() / n as f64;
        assert!((e - 0.25).abs() < 0.01, "{e}");
        let l: f64 = (0..n).map(|_| r.lognormal(0.1, 0.5)).sum::<f64>() / n as f64;
        assert!((l - 0.1).abs() < 0.005, "{l}");
        assert!((0..n).all(|_| {
            let x = r.next_f64();
            (0.0..1.0).contains(&x)
        }));
    }
}

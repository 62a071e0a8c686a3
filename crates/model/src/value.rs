//! Sample values and timestamps.

/// Milliseconds since the Unix epoch, as Prometheus stores them.
pub type Timestamp = i64;

/// The bit pattern Prometheus writes as a staleness marker (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as an `f64`. Compare with [`is_stale_nan`], never with `==`.
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// Whether `v` is exactly the staleness marker (a NaN with Prometheus's payload).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn stale_nan_is_a_nan_but_only_the_marker_is_stale() {
        assert!(STALE_NAN.is_nan());
        assert!(is_stale_nan(STALE_NAN));
        assert!(!is_stale_nan(f64::NAN));
        assert!(!is_stale_nan(1.0));
    }
}

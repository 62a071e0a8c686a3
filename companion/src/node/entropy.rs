//! The `entropy` collector: the kernel's available entropy and pool size in bits.

use super::{parse_file, Ctx, Families, NodeError};

/// Parses a file holding one unsigned integer.
pub fn parse_uint(text: &str) -> Result<u64, String> {
    let t = text.trim();
    t.parse().map_err(|_| format!("invalid integer {t:?}"))
}

pub fn collect(ctx: &Ctx, out: &mut Families) -> Result<(), NodeError> {
    let avail = parse_file(
        &ctx.paths.proc("sys/kernel/random/entropy_avail"),
        parse_uint,
    )?;
    out.gauge(
        "node_entropy_available_bits",
        "Bits of available entropy.",
        &[],
        avail as f64,
    );
    let pool = parse_file(&ctx.paths.proc("sys/kernel/random/poolsize"), parse_uint)?;
    out.gauge(
        "node_entropy_pool_size_bits",
        "Bits of entropy pool.",
        &[],
        pool as f64,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_integers() {
        assert_eq!(parse_uint("256\n").unwrap(), 256);
        assert!(parse_uint("").is_err());
        assert!(parse_uint("-1\n").is_err());
        assert!(parse_uint("2 3\n").is_err());
    }
}

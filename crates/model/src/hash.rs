//! XXH64 (seed 0), the hash behind Prometheus's `labels.Labels.Hash`: `limit_ratio`'s sample
//! selection and the rule groups' evaluation offsets use it.

const P1: u64 = 11400714785074694791;
const P2: u64 = 14029467366897019727;
const P3: u64 = 1609587929392839161;
const P4: u64 = 9650029242287828579;
const P5: u64 = 2870177450012600261;

fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge(acc: u64, val: u64) -> u64 {
    (acc ^ round(0, val)).wrapping_mul(P1).wrapping_add(P4)
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

fn u32_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[i..i + 4]);
    u32::from_le_bytes(a) as u64
}

/// XXH64 of `b` with seed 0 (Go's `github.com/cespare/xxhash/v2.Sum64`).
pub fn xxhash64(b: &[u8]) -> u64 {
    let n = b.len();
    let mut i = 0;
    let mut h: u64;
    if n >= 32 {
        let mut v1 = P1.wrapping_add(P2);
        let mut v2 = P2;
        let mut v3 = 0u64;
        let mut v4 = 0u64.wrapping_sub(P1);
        while i + 32 <= n {
            v1 = round(v1, u64_at(b, i));
            v2 = round(v2, u64_at(b, i + 8));
            v3 = round(v3, u64_at(b, i + 16));
            v4 = round(v4, u64_at(b, i + 24));
            i += 32;
        }
        h = v1
            .rotate_left(1)
            .wrapping_add(v2.rotate_left(7))
            .wrapping_add(v3.rotate_left(12))
            .wrapping_add(v4.rotate_left(18));
        h = merge(h, v1);
        h = merge(h, v2);
        h = merge(h, v3);
        h = merge(h, v4);
    } else {
        h = P5;
    }
    h = h.wrapping_add(n as u64);
    while i + 8 <= n {
        h ^= round(0, u64_at(b, i));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= n {
        h ^= u32_at(b, i).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < n {
        h ^= (b[i] as u64).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^= h >> 32;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        // Published XXH64 test vectors (seed 0).
        assert_eq!(xxhash64(b""), 0xef46db3751d8e999);
        assert_eq!(xxhash64(b"a"), 0xd24ec4f1a98c6e5b);
        assert_eq!(xxhash64(b"abc"), 0x44bc2cf5ad770999);
        assert_eq!(
            xxhash64(b"Nobody inspects the spammish repetition"),
            0xfbcea83c8a378bf1
        );
        assert_eq!(
            xxhash64(b"The quick brown fox jumps over the lazy dog"),
            0x0b242d361fda71bc
        );
    }
}

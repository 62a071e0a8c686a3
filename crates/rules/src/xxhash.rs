//! XXH64 (seed 0), the hash behind Prometheus's `labels.Labels.Hash`, so that group
//! evaluation offsets are the ones Prometheus computes.

use promplay_model::Labels;

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

/// XXH64 of `b` with seed 0 (Go's `xxhash.Sum64`).
pub fn sum64(b: &[u8]) -> u64 {
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

/// Prometheus's `labels.Labels.Hash()` as built by default (the `stringlabels` layout,
/// Prometheus 3): XXH64 of the encoded label set, each name and value preceded by its length
/// (one byte below 255, else 255 and three bytes little-endian).
pub fn labels_hash(l: &Labels) -> u64 {
    let mut b = Vec::new();
    let mut put = |s: &str| {
        let n = s.len();
        if n < 255 {
            b.push(n as u8);
        } else {
            b.push(255);
            b.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        b.extend_from_slice(s.as_bytes());
    };
    for l in l.iter() {
        put(&l.name);
        put(&l.value);
    }
    sum64(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_hashed_in_their_encoded_form() {
        let l = Labels::from_pairs(&[("name", "example"), ("file", "rules.yml")]);
        assert_eq!(
            labels_hash(&l),
            sum64(b"\x04file\x09rules.yml\x04name\x07example")
        );
        let long = "x".repeat(300);
        let l = Labels::from_pairs(&[("a", &long)]);
        let mut want = b"\x01a\xff\x2c\x01\x00".to_vec();
        want.extend_from_slice(long.as_bytes());
        assert_eq!(labels_hash(&l), sum64(&want));
    }

    #[test]
    fn reference_vectors() {
        // Published XXH64 test vectors (seed 0).
        assert_eq!(sum64(b""), 0xef46db3751d8e999);
        assert_eq!(sum64(b"a"), 0xd24ec4f1a98c6e5b);
        assert_eq!(sum64(b"abc"), 0x44bc2cf5ad770999);
        assert_eq!(
            sum64(b"Nobody inspects the spammish repetition"),
            0xfbcea83c8a378bf1
        );
        assert_eq!(
            sum64(b"The quick brown fox jumps over the lazy dog"),
            0x0b242d361fda71bc
        );
    }
}

//! Prometheus's `labels.Labels.Hash` (XXH64 of the encoded label set), so that group
//! evaluation offsets are the ones Prometheus computes.

pub use promplay_model::hash::xxhash64 as sum64;
use promplay_model::Labels;

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
}

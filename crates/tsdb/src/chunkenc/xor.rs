//! The Gorilla float chunk (Prometheus's `xor.go`): delta-of-delta timestamps, XOR values.

use super::bstream::{write_uvarint, write_varint, BitReader, BitWriter, Eof};
use super::ChunkError;

/// Bytes of the chunk header (the big-endian sample count).
pub const XOR_HEADER_LEN: usize = 2;

/// The state needed to append to an XOR chunk that sits at the end of a byte vector
/// (`xorAppender`). The chunk's bytes live in the caller's vector so many chunks of one series
/// can share one allocation; `header` is the offset of the chunk's first byte in it.
///
/// Contract: only the last chunk of a vector can be appended to, and nothing else may write to
/// the vector between appends.
#[derive(Clone, Copy, Debug)]
pub struct XorAppender {
    header: u32,
    num: u16,
    leading: u8,
    trailing: u8,
    free: u8,
    t: i64,
    t_delta: u64,
    v: u64,
}

fn bit_range(x: i64, nbits: u32) -> bool {
    -((1i64 << (nbits - 1)) - 1) <= x && x <= 1i64 << (nbits - 1)
}

impl XorAppender {
    /// Starts a new, empty chunk at the end of `buf` (writes its header).
    pub fn start(buf: &mut Vec<u8>) -> Self {
        let header = buf.len() as u32;
        buf.extend_from_slice(&[0, 0]);
        XorAppender {
            header,
            num: 0,
            leading: 0xff,
            trailing: 0,
            free: 0,
            t: 0,
            t_delta: 0,
            v: 0,
        }
    }

    /// Moves the chunk's position after `n` bytes were removed from the front of its vector.
    pub fn rebase(&mut self, n: usize) {
        self.header = self.header.saturating_sub(n as u32);
    }

    /// Offset of the chunk's header in its vector.
    pub fn header_offset(&self) -> usize {
        self.header as usize
    }

    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// Timestamp of the last appended sample (meaningless while empty).
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// Value of the last appended sample, bit-exact.
    pub fn last_v(&self) -> f64 {
        f64::from_bits(self.v)
    }

    /// Appends one sample. `t` must be greater than the last sample's timestamp.
    pub fn append(&mut self, buf: &mut Vec<u8>, t: i64, v: f64) -> Result<(), ChunkError> {
        if self.num == u16::MAX {
            return Err(ChunkError::Full);
        }
        if self.num > 0 && t <= self.t {
            return Err(ChunkError::OutOfOrder { last: self.t, t });
        }
        let header = self.header as usize;
        if header + XOR_HEADER_LEN > buf.len() {
            return Err(ChunkError::BadHeader);
        }
        let vbits = v.to_bits();
        let mut t_delta = 0u64;
        {
            let mut w = BitWriter::new(buf, &mut self.free);
            match self.num {
                0 => {
                    write_varint(&mut w, t);
                    w.write_bits(vbits, 64);
                }
                1 => {
                    t_delta = t.wrapping_sub(self.t) as u64;
                    write_uvarint(&mut w, t_delta);
                    xor_write(&mut w, vbits, self.v, &mut self.leading, &mut self.trailing);
                }
                _ => {
                    t_delta = t.wrapping_sub(self.t) as u64;
                    let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                    if dod == 0 {
                        w.write_bit(false);
                    } else if bit_range(dod, 14) {
                        w.write_bits(0b10, 2);
                        w.write_bits(dod as u64, 14);
                    } else if bit_range(dod, 17) {
                        w.write_bits(0b110, 3);
                        w.write_bits(dod as u64, 17);
                    } else if bit_range(dod, 20) {
                        w.write_bits(0b1110, 4);
                        w.write_bits(dod as u64, 20);
                    } else {
                        w.write_bits(0b1111, 4);
                        w.write_bits(dod as u64, 64);
                    }
                    xor_write(&mut w, vbits, self.v, &mut self.leading, &mut self.trailing);
                }
            }
        }
        self.t = t;
        self.v = vbits;
        self.t_delta = t_delta;
        self.num += 1;
        buf[header..header + 2].copy_from_slice(&self.num.to_be_bytes());
        Ok(())
    }
}

#[inline]
fn xor_write(w: &mut BitWriter<'_>, new: u64, cur: u64, leading: &mut u8, trailing: &mut u8) {
    let delta = new ^ cur;
    if delta == 0 {
        w.write_bit(false);
        return;
    }
    w.write_bit(true);
    let mut new_leading = delta.leading_zeros() as u8;
    let new_trailing = delta.trailing_zeros() as u8;
    if new_leading >= 32 {
        new_leading = 31;
    }
    if *leading != 0xff && new_leading >= *leading && new_trailing >= *trailing {
        w.write_bit(false);
        w.write_bits(delta >> *trailing, 64 - *leading as u32 - *trailing as u32);
        return;
    }
    *leading = new_leading;
    *trailing = new_trailing;
    w.write_bit(true);
    w.write_bits(new_leading as u64, 5);
    // 64 significant bits do not fit in 6 bits: written as 0, read back as 64.
    let sigbits = 64 - new_leading as u32 - new_trailing as u32;
    w.write_bits(sigbits as u64, 6);
    w.write_bits(delta >> new_trailing, sigbits);
}

/// A standalone XOR chunk that owns its bytes.
#[derive(Clone, Debug)]
pub struct XorChunk {
    buf: Vec<u8>,
    app: XorAppender,
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(128);
        let app = XorAppender::start(&mut buf);
        XorChunk { buf, app }
    }

    /// Appends a sample; see [`XorAppender::append`].
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), ChunkError> {
        self.app.append(&mut self.buf, t, v)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn num_samples(&self) -> u16 {
        self.app.num
    }

    pub fn iter(&self) -> XorIterator<'_> {
        // The header is always present in a chunk we built.
        XorIterator::new(&self.buf).unwrap_or_else(|_| XorIterator::empty())
    }
}

/// Decodes an XOR chunk sample by sample (`xorIterator`). Allocation-free.
#[derive(Clone)]
pub struct XorIterator<'a> {
    br: BitReader<'a>,
    num_total: u16,
    num_read: u16,
    t: i64,
    v: u64,
    leading: u8,
    trailing: u8,
    t_delta: u64,
}

impl<'a> XorIterator<'a> {
    /// An iterator over the chunk in `bytes` (header included).
    pub fn new(bytes: &'a [u8]) -> Result<Self, ChunkError> {
        if bytes.len() < XOR_HEADER_LEN {
            return Err(ChunkError::BadHeader);
        }
        let num_total = u16::from_be_bytes([bytes[0], bytes[1]]);
        Ok(XorIterator {
            br: BitReader::new(&bytes[XOR_HEADER_LEN..]),
            num_total,
            num_read: 0,
            t: 0,
            v: 0,
            leading: 0,
            trailing: 0,
            t_delta: 0,
        })
    }

    fn empty() -> Self {
        XorIterator {
            br: BitReader::new(&[]),
            num_total: 0,
            num_read: 0,
            t: 0,
            v: 0,
            leading: 0,
            trailing: 0,
            t_delta: 0,
        }
    }

    pub fn num_samples(&self) -> u16 {
        self.num_total
    }

    /// The next sample, `Ok(None)` after the last.
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<(i64, f64)>, ChunkError> {
        if self.num_read >= self.num_total {
            return Ok(None);
        }
        match self.num_read {
            0 => {
                self.t = self.br.read_varint()?;
                self.v = self.br.read_bits(64)?;
            }
            1 => {
                self.t_delta = self.br.read_uvarint()?;
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.read_value()?;
            }
            _ => {
                let dod: i64 = match self.br.read_ones(4)? {
                    0 => 0,
                    1 => read_signed(&mut self.br, 14)?,
                    2 => read_signed(&mut self.br, 17)?,
                    3 => read_signed(&mut self.br, 20)?,
                    _ => self.br.read_bits(64)? as i64,
                };
                self.t_delta = (self.t_delta as i64).wrapping_add(dod) as u64;
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.read_value()?;
            }
        }
        self.num_read += 1;
        Ok(Some((self.t, f64::from_bits(self.v))))
    }

    #[inline(always)]
    fn read_value(&mut self) -> Result<(), ChunkError> {
        let ctl = self.br.read_ones(2)?;
        if ctl == 0 {
            return Ok(());
        }
        let mbits: u32 = if ctl == 1 {
            64u32
                .checked_sub(self.leading as u32 + self.trailing as u32)
                .ok_or(ChunkError::BadHeader)?
        } else {
            self.leading = self.br.read_bits(5)? as u8;
            let mut m = self.br.read_bits(6)? as u32;
            if m == 0 {
                m = 64;
            }
            let tr = 64u32
                .checked_sub(self.leading as u32 + m)
                .ok_or(ChunkError::BadHeader)?;
            self.trailing = tr as u8;
            m
        };
        let bits = self.br.read_bits(mbits)?;
        self.v ^= if self.trailing >= 64 {
            0
        } else {
            bits << self.trailing
        };
        Ok(())
    }
}

#[inline]
fn read_signed(br: &mut BitReader<'_>, sz: u32) -> Result<i64, Eof> {
    let mut bits = br.read_bits(sz)?;
    if bits > (1u64 << (sz - 1)) {
        bits = bits.wrapping_sub(1u64 << sz);
    }
    Ok(bits as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(samples: &[(i64, f64)]) {
        let mut c = XorChunk::new();
        for &(t, v) in samples {
            c.append(t, v).unwrap();
        }
        let mut it = c.iter();
        for &(t, v) in samples {
            let (gt, gv) = it.next().unwrap().unwrap();
            assert_eq!(gt, t);
            assert_eq!(gv.to_bits(), v.to_bits(), "at t={t}");
        }
        assert_eq!(it.next().unwrap(), None);
    }

    #[test]
    fn regular_counter_round_trips() {
        let s: Vec<(i64, f64)> = (0..120)
            .map(|i| (1000 + i * 15000, (i * 7) as f64))
            .collect();
        round_trip(&s);
    }

    #[test]
    fn special_values_round_trip_bit_exact() {
        round_trip(&[
            (-5, f64::from_bits(0x7ff0_0000_0000_0002)),
            (0, -0.0),
            (1, 0.0),
            (2, f64::NAN),
            (3, f64::from_bits(0xfff8_dead_beef_0001)),
            (1 << 40, f64::INFINITY),
            ((1 << 40) + 1, f64::MIN_POSITIVE),
            (i64::MAX - 1, f64::NEG_INFINITY),
            (i64::MAX, 1.5),
        ]);
    }

    #[test]
    fn all_dod_classes_round_trip() {
        let mut t = 0i64;
        let mut s = vec![];
        for (i, gap) in [
            1i64,
            1,
            8192,
            1,
            8193,
            65536,
            2,
            65537,
            524288,
            3,
            524289,
            1 << 33,
            1,
        ]
        .iter()
        .enumerate()
        {
            t += gap;
            s.push((t, i as f64 * 1.25));
        }
        round_trip(&s);
    }

    #[test]
    fn appending_out_of_order_is_an_error() {
        let mut c = XorChunk::new();
        c.append(10, 1.0).unwrap();
        assert_eq!(
            c.append(10, 2.0),
            Err(ChunkError::OutOfOrder { last: 10, t: 10 })
        );
    }

    #[test]
    fn truncated_chunk_ends_with_an_error() {
        let mut c = XorChunk::new();
        for i in 0..10 {
            c.append(i * 1000, i as f64 * 0.1).unwrap();
        }
        let bytes = &c.bytes()[..c.bytes().len() - 3];
        let mut it = XorIterator::new(bytes).unwrap();
        let mut err = None;
        loop {
            match it.next() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert_eq!(err, Some(ChunkError::UnexpectedEof));
        assert!(XorIterator::new(&[1]).is_err());
    }
}

//! Bit streams, most significant bit first (Prometheus's `bstream.go`).

use super::ChunkError;

/// The bit stream ended (a zero-sized error so reads return in registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Eof;

impl From<Eof> for ChunkError {
    fn from(_: Eof) -> Self {
        ChunkError::UnexpectedEof
    }
}

/// Appends bits to the end of a byte vector. `free` is the number of unused low bits in the
/// last byte (0 when the next bit starts a new byte); it is the only state and is kept by the
/// caller between appends so a writer can be re-created over the same vector at any time.
pub struct BitWriter<'a> {
    buf: &'a mut Vec<u8>,
    free: &'a mut u8,
}

impl<'a> BitWriter<'a> {
    pub fn new(buf: &'a mut Vec<u8>, free: &'a mut u8) -> Self {
        BitWriter { buf, free }
    }

    #[inline]
    pub fn write_bit(&mut self, bit: bool) {
        if *self.free == 0 {
            self.buf.push(0);
            *self.free = 8;
        }
        if bit {
            if let Some(last) = self.buf.last_mut() {
                *last |= 1 << (*self.free - 1);
            }
        }
        *self.free -= 1;
    }

    /// Writes the low `nbits` bits of `u`, most significant first. `nbits <= 64`.
    #[inline]
    pub fn write_bits(&mut self, u: u64, nbits: u32) {
        debug_assert!(nbits <= 64);
        let mut nbits = nbits;
        let mut u = if nbits == 64 {
            u
        } else {
            u & ((1u64 << nbits) - 1)
        };
        if nbits < 64 {
            u <<= 64 - nbits;
        }
        // u now holds the bits left-aligned.
        while nbits > 0 {
            if *self.free == 0 {
                self.buf.push(0);
                *self.free = 8;
            }
            let take = nbits.min(*self.free as u32);
            let top = (u >> (64 - take)) as u8; // the next `take` bits
            let shift = *self.free as u32 - take;
            if let Some(last) = self.buf.last_mut() {
                *last |= top << shift;
            }
            *self.free -= take as u8;
            nbits -= take;
            u = if take == 64 { 0 } else { u << take };
        }
    }

    #[inline]
    pub fn write_byte(&mut self, b: u8) {
        self.write_bits(b as u64, 8);
    }
}

/// Reads bits from a byte slice, most significant bit first, through a 64-bit buffer.
#[derive(Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Index of the next byte of `data` not yet loaded into `buf`.
    pos: usize,
    /// Buffered bits, left-aligned: the next bit is bit 63.
    buf: u64,
    /// Number of valid bits in `buf`.
    valid: u32,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            buf: 0,
            valid: 0,
        }
    }

    /// Loads as many whole bytes as fit into the buffer.
    #[inline]
    fn refill(&mut self) {
        if self.valid <= 56 && self.pos + 8 <= self.data.len() {
            // fast path: read 8 bytes and take what fits
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.data[self.pos..self.pos + 8]);
            let word = u64::from_be_bytes(w);
            let nbytes = (64 - self.valid) / 8;
            let nbits = nbytes * 8;
            let add = if nbits == 64 {
                word
            } else {
                word >> (64 - nbits)
            };
            self.buf |= if self.valid == 0 && nbits == 64 {
                add
            } else {
                add << (64 - self.valid - nbits)
            };
            self.valid += nbits;
            self.pos += nbytes as usize;
            return;
        }
        while self.valid <= 56 && self.pos < self.data.len() {
            self.buf |= (self.data[self.pos] as u64) << (56 - self.valid);
            self.valid += 8;
            self.pos += 1;
        }
    }

    #[inline]
    pub fn read_bit(&mut self) -> Result<bool, Eof> {
        if self.valid == 0 {
            self.refill();
            if self.valid == 0 {
                return Err(Eof);
            }
        }
        let bit = self.buf >> 63 == 1;
        self.buf <<= 1;
        self.valid -= 1;
        Ok(bit)
    }

    /// Reads a run of 1 bits ended by a 0 bit, at most `max` (< 32) ones (the terminating 0 is
    /// absent after `max` ones), and returns the number of ones: the prefix classes of the
    /// delta-of-delta encodings in one step.
    #[inline(always)]
    pub fn read_ones(&mut self, max: u32) -> Result<u32, Eof> {
        if self.valid <= max {
            self.refill();
        }
        let ones = (!self.buf).leading_zeros().min(max);
        let used = if ones < max { ones + 1 } else { max };
        if used > self.valid {
            return Err(Eof);
        }
        self.buf <<= used;
        self.valid -= used;
        Ok(ones)
    }

    /// Reads `nbits` (<= 64) bits as an unsigned integer.
    #[inline(always)]
    pub fn read_bits(&mut self, nbits: u32) -> Result<u64, Eof> {
        debug_assert!(nbits <= 64);
        if nbits == 0 {
            return Ok(0);
        }
        if nbits > self.valid {
            self.refill();
        }
        if nbits <= self.valid {
            let v = self.buf >> (64 - nbits);
            self.buf = if nbits == 64 { 0 } else { self.buf << nbits };
            self.valid -= nbits;
            return Ok(v);
        }
        // more than the buffer holds (only possible for long reads): split
        let first = self.valid;
        if first == 0 {
            return Err(Eof);
        }
        let hi = self.read_bits(first)?;
        let rest = nbits - first;
        let lo = self.read_bits(rest)?;
        Ok((hi << rest) | lo)
    }

    #[inline]
    pub fn read_byte(&mut self) -> Result<u8, Eof> {
        Ok(self.read_bits(8)? as u8)
    }

    /// Reads a Go `binary.Uvarint` from the bit stream.
    pub fn read_uvarint(&mut self) -> Result<u64, ChunkError> {
        let mut x: u64 = 0;
        let mut s: u32 = 0;
        for i in 0..10 {
            let b = self.read_byte()?;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return Err(ChunkError::BadHeader);
                }
                return Ok(x | (b as u64) << s);
            }
            x |= ((b & 0x7f) as u64) << s;
            s += 7;
        }
        Err(ChunkError::BadHeader)
    }

    /// Reads a Go `binary.Varint` (zig-zag) from the bit stream.
    pub fn read_varint(&mut self) -> Result<i64, ChunkError> {
        let ux = self.read_uvarint()?;
        let mut x = (ux >> 1) as i64;
        if ux & 1 != 0 {
            x = !x;
        }
        Ok(x)
    }
}

/// Writes a Go `binary.PutUvarint` through the bit writer.
pub(crate) fn write_uvarint(w: &mut BitWriter<'_>, mut x: u64) {
    while x >= 0x80 {
        w.write_byte((x as u8) | 0x80);
        x >>= 7;
    }
    w.write_byte(x as u8);
}

/// Writes a Go `binary.PutVarint` (zig-zag) through the bit writer.
pub(crate) fn write_varint(w: &mut BitWriter<'_>, x: i64) {
    let mut ux = (x as u64) << 1;
    if x < 0 {
        ux = !ux;
    }
    write_uvarint(w, ux);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_across_byte_boundaries() {
        let mut buf = Vec::new();
        let mut free = 0u8;
        let items: Vec<(u64, u32)> = vec![
            (1, 1),
            (0b101, 3),
            (0x3fff, 14),
            (u64::MAX, 64),
            (0, 5),
            (0x1_2345_6789, 33),
            (0xdead_beef_dead_beef, 64),
            (7, 3),
        ];
        {
            let mut w = BitWriter::new(&mut buf, &mut free);
            for &(v, n) in &items {
                w.write_bits(v, n);
            }
            write_varint(&mut w, -123456789);
            write_uvarint(&mut w, u64::MAX);
        }
        let mut r = BitReader::new(&buf);
        for &(v, n) in &items {
            assert_eq!(r.read_bits(n).unwrap(), v, "{n} bits");
        }
        assert_eq!(r.read_varint().unwrap(), -123456789);
        assert_eq!(r.read_uvarint().unwrap(), u64::MAX);
    }

    #[test]
    fn ones_prefixes() {
        // 0 | 10 | 110 | 1111 (max 4) | 1110
        let buf = vec![0b0101_1011, 0b1111_1000];
        let mut r = BitReader::new(&buf);
        assert_eq!(r.read_ones(4).unwrap(), 0);
        assert_eq!(r.read_ones(4).unwrap(), 1);
        assert_eq!(r.read_ones(4).unwrap(), 2);
        assert_eq!(r.read_ones(4).unwrap(), 4);
        assert_eq!(r.read_ones(4).unwrap(), 3);
        assert_eq!(r.read_ones(4).unwrap(), 0);
        assert_eq!(r.read_ones(4).unwrap(), 0);
        assert_eq!(r.read_ones(4), Err(Eof));
    }

    #[test]
    fn reading_past_the_end_is_an_error() {
        let buf = vec![0xffu8];
        let mut r = BitReader::new(&buf);
        assert_eq!(r.read_bits(8).unwrap(), 0xff);
        assert_eq!(r.read_bit(), Err(Eof));
        let mut r = BitReader::new(&buf);
        assert_eq!(r.read_bits(9), Err(Eof));
    }
}

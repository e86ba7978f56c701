//! The status list itself: a byte array of `bits`-wide entries, packed from
//! the least significant bit of each byte (draft §4.1), and its `lst` form:
//! zlib (RFC 1950) around DEFLATE, then base64url.

use std::io::Write;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use flate2::write::ZlibEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};

/// base64url as JWTs write it (no padding), reading padded input too.
const LST_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Bits per entry: the draft allows 1, 2, 4 and 8, so an entry never spans
/// two bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bits {
    /// Two statuses (VALID, INVALID).
    One,
    /// Four statuses.
    Two,
    /// Sixteen statuses.
    Four,
    /// 256 statuses.
    Eight,
}

impl Bits {
    /// The `bits` claim's value, if it is one the draft allows.
    pub fn from_claim(bits: u8) -> Option<Self> {
        match bits {
            1 => Some(Self::One),
            2 => Some(Self::Two),
            4 => Some(Self::Four),
            8 => Some(Self::Eight),
            _ => None,
        }
    }

    /// The `bits` claim's value.
    pub fn claim(self) -> u8 {
        match self {
            Self::One => 1,
            Self::Two => 2,
            Self::Four => 4,
            Self::Eight => 8,
        }
    }

    fn mask(self) -> u8 {
        match self {
            Self::Eight => 0xff,
            other => (1 << other.claim()) - 1,
        }
    }
}

/// Why a list could not be read or changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// `lst` is not base64url.
    #[error("lst is not base64url")]
    Base64,
    /// The compressed data is not a complete zlib stream (corrupt,
    /// truncated, a bad checksum, or bytes after its end).
    #[error("lst is not a complete zlib stream")]
    Corrupt,
    /// The list inflates beyond the accepted size.
    #[error("the list inflates beyond {0} bytes")]
    TooLarge(usize),
    /// An index past the list's end.
    #[error("index {0} is outside the list")]
    OutOfRange(u64),
    /// A status that does not fit the list's `bits`.
    #[error("status {status} does not fit in {bits} bits")]
    TooWide {
        /// The status.
        status: u8,
        /// The list's bits per entry.
        bits: u8,
    },
}

/// A status list: one `bits`-wide status per index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    bits: Bits,
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of at least `entries` statuses, every one VALID (zero).
    pub fn new(bits: Bits, entries: usize) -> Self {
        let total_bits = entries.saturating_mul(usize::from(bits.claim()));
        Self {
            bits,
            bytes: vec![0; total_bits.div_ceil(8)],
        }
    }

    /// A list over an uncompressed byte array.
    pub fn from_bytes(bits: Bits, bytes: Vec<u8>) -> Self {
        Self { bits, bytes }
    }

    /// Bits per entry.
    pub fn bits(&self) -> Bits {
        self.bits
    }

    /// The uncompressed byte array.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many entries the list holds.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8 / u64::from(self.bits.claim())
    }

    /// Whether the list holds no entry.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The byte holding entry `idx` and the entry's shift within it.
    fn position(&self, idx: u64) -> Option<(usize, u32)> {
        let bit = idx.checked_mul(u64::from(self.bits.claim()))?;
        let byte = usize::try_from(bit / 8).ok()?;
        (byte < self.bytes.len()).then_some((byte, (bit % 8) as u32))
    }

    /// The status at `idx`; `None` past the end (the draft: no statement
    /// can be made, so the token must be refused).
    pub fn get(&self, idx: u64) -> Option<u8> {
        let (byte, shift) = self.position(idx)?;
        Some((self.bytes[byte] >> shift) & self.bits.mask())
    }

    /// Sets the status at `idx`.
    pub fn set(&mut self, idx: u64, status: u8) -> Result<(), ListError> {
        let mask = self.bits.mask();
        if status & !mask != 0 {
            return Err(ListError::TooWide {
                status,
                bits: self.bits.claim(),
            });
        }
        let (byte, shift) = self.position(idx).ok_or(ListError::OutOfRange(idx))?;
        self.bytes[byte] = (self.bytes[byte] & !(mask << shift)) | (status << shift);
        Ok(())
    }

    /// The `lst` value: zlib at the best compression (as the draft
    /// recommends), base64url without padding.
    pub fn encode(&self) -> String {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        // Writing to a Vec cannot fail.
        let compressed = encoder
            .write_all(&self.bytes)
            .and_then(|()| encoder.finish())
            .unwrap_or_default();
        LST_BASE64.encode(compressed)
    }

    /// Reads an `lst` value, refusing one that inflates beyond `max_bytes`
    /// as soon as it does (never inflating a bomb to its full size).
    pub fn decode(bits: Bits, lst: &str, max_bytes: usize) -> Result<Self, ListError> {
        let compressed = LST_BASE64.decode(lst).map_err(|_| ListError::Base64)?;
        let bytes = inflate_bounded(&compressed, max_bytes)?;
        Ok(Self { bits, bytes })
    }
}

/// Inflates a whole zlib stream into at most `max_bytes`.
fn inflate_bounded(input: &[u8], max_bytes: usize) -> Result<Vec<u8>, ListError> {
    const STEP: usize = 16 * 1024;
    let mut inflater = Decompress::new(true);
    let mut out: Vec<u8> = Vec::with_capacity(input.len().saturating_mul(4).clamp(64, STEP));
    loop {
        if out.len() == out.capacity() {
            out.reserve(STEP.min(max_bytes.saturating_sub(out.len()) + 1));
        }
        let (read, written) = (inflater.total_in(), out.len());
        let consumed = usize::try_from(read).map_err(|_| ListError::Corrupt)?;
        let status = inflater
            .decompress_vec(
                input.get(consumed..).unwrap_or_default(),
                &mut out,
                // Not `Finish`: miniz then wants the whole output in one buffer.
                FlushDecompress::None,
            )
            .map_err(|_| ListError::Corrupt)?;
        if out.len() > max_bytes {
            return Err(ListError::TooLarge(max_bytes));
        }
        match status {
            // Bytes after the stream's end are not part of a list.
            Status::StreamEnd if inflater.total_in() == input.len() as u64 => return Ok(out),
            Status::StreamEnd => return Err(ListError::Corrupt),
            Status::Ok | Status::BufError => {
                let stalled = inflater.total_in() == read && out.len() == written;
                if stalled && out.len() < out.capacity() {
                    return Err(ListError::Corrupt); // truncated: no more input
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The draft's §4.1 examples.
    #[test]
    fn the_drafts_small_examples() {
        let one = StatusList::decode(Bits::One, "eNrbuRgAAhcBXQ", 64).unwrap();
        assert_eq!(one.bytes(), [0xb9, 0xa3]);
        let expected = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
        for (idx, status) in expected.iter().enumerate() {
            assert_eq!(one.get(idx as u64), Some(*status), "index {idx}");
        }
        assert_eq!(one.get(16), None);

        let two = StatusList::decode(Bits::Two, "eNo76fITAAPfAgc", 64).unwrap();
        assert_eq!(two.bytes(), [0xc9, 0x44, 0xf9]);
        let expected = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
        for (idx, status) in expected.iter().enumerate() {
            assert_eq!(two.get(idx as u64), Some(*status), "index {idx}");
        }
    }

    /// The draft's 1-bit test vector: 2^20 entries, eleven of them INVALID.
    #[test]
    fn the_drafts_one_bit_test_vector() {
        let lst = "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogEAAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAAA7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAAACAZC8L2AEb";
        let list = StatusList::decode(Bits::One, lst, 1 << 20).unwrap();
        assert_eq!(list.len(), 1 << 20);
        let invalid = [
            0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345,
        ];
        let mut expected = StatusList::new(Bits::One, 1 << 20);
        for idx in invalid {
            expected.set(idx, crate::INVALID).unwrap();
        }
        assert_eq!(list, expected);
        assert_eq!(list.get(1), Some(crate::VALID));
    }

    #[test]
    fn a_bomb_is_refused_before_it_is_inflated() {
        let huge = StatusList::new(Bits::One, 64 << 20); // 8 MiB of zeros
        let lst = huge.encode();
        assert!(lst.len() < 16 * 1024, "zeros compress: {}", lst.len());
        assert_eq!(
            StatusList::decode(Bits::One, &lst, 1 << 20),
            Err(ListError::TooLarge(1 << 20))
        );
    }

    #[test]
    fn broken_streams_are_refused() {
        let mut list = StatusList::new(Bits::One, 4096);
        list.set(100, 1).unwrap();
        let compressed = LST_BASE64.decode(list.encode()).unwrap();
        let encode = |bytes: &[u8]| LST_BASE64.encode(bytes);
        let truncated = encode(&compressed[..compressed.len() - 3]);
        assert_eq!(
            StatusList::decode(Bits::One, &truncated, 1 << 20),
            Err(ListError::Corrupt)
        );
        let mut bad_checksum = compressed.clone();
        *bad_checksum.last_mut().unwrap() ^= 1;
        assert_eq!(
            StatusList::decode(Bits::One, &encode(&bad_checksum), 1 << 20),
            Err(ListError::Corrupt)
        );
        let mut trailing = compressed.clone();
        trailing.push(0);
        assert_eq!(
            StatusList::decode(Bits::One, &encode(&trailing), 1 << 20),
            Err(ListError::Corrupt)
        );
        // Raw DEFLATE without the zlib header is not the draft's format.
        assert_eq!(
            StatusList::decode(Bits::One, &encode(&compressed[2..]), 1 << 20),
            Err(ListError::Corrupt)
        );
        assert_eq!(
            StatusList::decode(Bits::One, "not base64!", 1 << 20),
            Err(ListError::Base64)
        );
        assert_eq!(
            StatusList::decode(Bits::One, "", 1 << 20),
            Err(ListError::Corrupt)
        );
    }

    #[test]
    fn set_refuses_what_does_not_fit() {
        let mut list = StatusList::new(Bits::Two, 8);
        assert_eq!(list.len(), 8);
        assert_eq!(list.set(8, 1), Err(ListError::OutOfRange(8)));
        assert_eq!(
            list.set(0, 4),
            Err(ListError::TooWide { status: 4, bits: 2 })
        );
        assert_eq!(list.set(u64::MAX, 1), Err(ListError::OutOfRange(u64::MAX)));
        list.set(3, 3).unwrap();
        list.set(3, 1).unwrap();
        assert_eq!(list.get(3), Some(1), "a set replaces the old status");
        assert_eq!(Bits::from_claim(3), None);
        assert_eq!(Bits::from_claim(8).map(Bits::claim), Some(8));
    }

    proptest! {
        #[test]
        fn what_is_set_is_read_back_after_a_round_trip(
            bits in prop::sample::select(vec![Bits::One, Bits::Two, Bits::Four, Bits::Eight]),
            sets in prop::collection::vec((0u64..2048, any::<u8>()), 0..64),
        ) {
            let mut list = StatusList::new(bits, 2048);
            let mut expected = vec![0u8; 2048];
            for (idx, status) in sets {
                let status = status & bits.mask();
                list.set(idx, status).unwrap();
                expected[idx as usize] = status;
            }
            let read = StatusList::decode(bits, &list.encode(), 1 << 20).unwrap();
            for (idx, status) in expected.iter().enumerate() {
                prop_assert_eq!(read.get(idx as u64), Some(*status));
            }
        }
    }
}

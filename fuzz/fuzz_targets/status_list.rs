//! The status list itself (draft-ietf-oauth-status-list §4): the `lst`
//! value as a status list token carries it, base64url around zlib, read
//! with `StatusList::decode` under a size cap; and lists built from the
//! fuzzer's bytes through `encode`. The first byte chooses the mode, the
//! bits per entry and the cap.
//!
//! Asserts: a decoded list never exceeds its cap (no bomb gets through),
//! and holds exactly what flate2's own zlib reader inflates from the same
//! bytes; a decoded or built list round-trips through `encode`/`decode`;
//! every index below `len()` has a status that fits the bits, `len()` and
//! beyond have none; `set` then `get` gives back the status.
#![no_main]

use std::io::Read;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use status_list::{Bits, StatusList};

const LST_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const CAPS: [usize; 4] = [0, 16, 4096, 2 << 20];

fn check_list(list: &StatusList, bits: Bits) {
    let width = u64::from(bits.claim());
    let len = list.len();
    assert_eq!(len, list.bytes().len() as u64 * 8 / width);
    for idx in [0, 1, len / 2, len.saturating_sub(1)] {
        if idx < len {
            let status = list.get(idx).expect("a status below len");
            assert!(u16::from(status) < 1 << width, "{status} in {width} bits");
        }
    }
    assert_eq!(list.get(len), None);
    assert_eq!(list.get(u64::MAX), None);
    let again = StatusList::decode(bits, &list.encode(), list.bytes().len())
        .expect("an encoded list decodes within its own size");
    assert_eq!(&again, list);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bits = [Bits::One, Bits::Two, Bits::Four, Bits::Eight][usize::from(mode & 3)];
    let cap = CAPS[usize::from((mode >> 2) & 3)];
    if mode & 0x80 == 0 {
        let Ok(lst) = std::str::from_utf8(rest) else {
            return;
        };
        let Ok(list) = StatusList::decode(bits, lst, cap) else {
            return;
        };
        assert!(list.bytes().len() <= cap, "a list past its cap");
        let compressed = LST_BASE64.decode(lst).expect("decoded lst is base64url");
        let mut inflated = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .take(cap as u64 + 1)
            .read_to_end(&mut inflated)
            .expect("flate2 inflates what decode accepted");
        assert_eq!(inflated, list.bytes(), "decode and flate2 disagree");
        check_list(&list, bits);
    } else {
        let mut list = StatusList::from_bytes(bits, rest.to_vec());
        check_list(&list, bits);
        if let Some((&value, _)) = rest.split_last() {
            let idx = u64::from(value) % list.len().max(1);
            let status = value & ((1u16 << bits.claim()) - 1) as u8;
            if list.set(idx, status).is_ok() {
                assert_eq!(list.get(idx), Some(status));
            }
        }
    }
});

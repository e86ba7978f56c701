//! Key material an IdP should never publish, and a DPoP client never send,
//! refused before aws-lc-rs ever sees it. Every check works on the
//! big-endian bytes of the JWK members with small-integer arithmetic: no
//! bignum dependency, and a 2048-bit modulus costs under a thousand 64-bit
//! divisions.

use crate::error::JwkError;

/// The largest public exponent accepted: 2^32 − 1. Every IdP publishes
/// 65537 (a few legacy ones 3); a larger exponent buys nothing, costs
/// CPU on every verification, and is refused by several verifiers
/// (Go's crypto/rsa stops at 2^31 − 1), so a key carrying one is not one
/// a sane IdP generated.
pub const MAX_RSA_EXPONENT: u64 = u32::MAX as u64;

/// The odd primes a modulus is trial-divided by: those below 256. A
/// modulus with one of them as a factor is not an RSA modulus (its other
/// factor is then found at once); no key generator makes one, so the bound
/// is a sanity check's, kept low because every new DPoP proof key, which a
/// client chooses, pays for it. The first 38 are the ROCA primes.
const ODD_PRIMES: [u32; 53] = odd_primes();

const fn odd_primes() -> [u32; 53] {
    let mut primes = [0u32; 53];
    let mut found = 0;
    let mut candidate = 3u32;
    while found < 53 {
        let mut divisor = 3u32;
        let mut prime = true;
        while divisor * divisor <= candidate {
            if candidate.is_multiple_of(divisor) {
                prime = false;
                break;
            }
            divisor += 2;
        }
        if prime {
            primes[found] = candidate;
            found += 1;
        }
        candidate += 2;
    }
    primes
}

/// `n mod m` for a big-endian unsigned integer `n` and `m < 2^32`, a
/// 32-bit word at a time (`r < m`, so `r·2^32 + word` fits in a `u64`).
fn residue(n: &[u8], m: u64) -> u64 {
    let head = n.len() % 4;
    let mut r = n[..head]
        .iter()
        .fold(0u64, |r, &byte| (r << 8) | u64::from(byte))
        % m;
    for word in n[head..].chunks_exact(4) {
        let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        r = ((r << 32) | u64::from(word)) % m;
    }
    r
}

/// `n mod p` for every prime of [`ODD_PRIMES`]. The primes are taken in
/// runs whose product stays below 2^32: one pass over `n` per run (12
/// runs) rather than one per prime, so a 2048-bit modulus costs under a
/// thousand 64-bit divisions. It runs for every RSA key of a fetched JWKS
/// and every new DPoP proof key.
fn residues(n: &[u8]) -> [u32; ODD_PRIMES.len()] {
    let mut out = [0u32; ODD_PRIMES.len()];
    let mut start = 0;
    while start < ODD_PRIMES.len() {
        let mut product = 1u64;
        let mut end = start;
        while end < ODD_PRIMES.len() && product * u64::from(ODD_PRIMES[end]) <= u64::from(u32::MAX)
        {
            product *= u64::from(ODD_PRIMES[end]);
            end += 1;
        }
        let r = residue(n, product);
        for (slot, &p) in out[start..end].iter_mut().zip(&ODD_PRIMES[start..end]) {
            // r mod p < p < 256.
            *slot = (r % u64::from(p)) as u32;
        }
        start = end;
    }
    out
}

/// The public exponent `e` (its bytes as decoded from the JWK): odd, at
/// least 3, at most [`MAX_RSA_EXPONENT`], and in the minimal encoding RFC
/// 7518 §2 requires of a Base64urlUInt (no leading zero byte). An even `e`
/// has no inverse modulo φ(n), so the "key" cannot be an RSA key; `e = 1`
/// makes the signature equal to the padded message, which anyone can
/// compute.
pub(crate) fn check_exponent(e: &[u8]) -> Result<(), JwkError> {
    let Some(&first) = e.first() else {
        return Err(JwkError::BadMember("e"));
    };
    if first == 0 {
        return Err(JwkError::RsaExponent(
            "has a leading zero byte (RFC 7518 §2 wants the minimal encoding)".into(),
        ));
    }
    if e.len() > 4 {
        return Err(JwkError::RsaExponent(format!(
            "of {} bits is over 32 bits",
            e.len() * 8 - first.leading_zeros() as usize
        )));
    }
    let value = e.iter().fold(0u64, |v, &byte| (v << 8) | u64::from(byte));
    if value < 3 {
        return Err(JwkError::RsaExponent(format!("{value} is below 3")));
    }
    if value.is_multiple_of(2) {
        return Err(JwkError::RsaExponent(format!("{value} is even")));
    }
    Ok(())
}

/// The modulus `n` (minimal big-endian bytes, its size already checked):
/// odd, without a factor below 256, and without the ROCA fingerprint.
pub(crate) fn check_modulus(n: &[u8]) -> Result<(), JwkError> {
    if n.last().is_none_or(|&last| last % 2 == 0) {
        return Err(JwkError::RsaModulus("is even".into()));
    }
    let residues = residues(n);
    if let Some((p, _)) = ODD_PRIMES.iter().zip(&residues).find(|(_, &r)| r == 0) {
        return Err(JwkError::RsaModulus(format!("has the small factor {p}")));
    }
    if roca_fingerprint(&residues) {
        return Err(JwkError::Roca);
    }
    Ok(())
}

/// The odd primes of the ROCA fingerprint: the primorial M of every
/// vulnerable key size (Nemec et al., "The Return of Coppersmith's Attack",
/// CCS 2017, §2.3) is a multiple of the primes up to 167. (2 tells nothing:
/// 65537 ≡ 1 and n ≡ 1 mod 2.)
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

/// The generator of the vulnerable primes: p = k·M + (65537^a mod M).
const ROCA_GENERATOR: u32 = 65537;

/// Whether `n` (big-endian) has the ROCA fingerprint.
///
/// The vulnerable library made both primes of the form k·M + (65537^a mod
/// M), so n = p·q ≡ 65537^(a+b) (mod M): n lies in the subgroup 65537
/// generates modulo M. The paper's test checks it prime by prime: for each
/// small prime pᵢ, n mod pᵢ must be a power of 65537 mod pᵢ. We compute
/// that power (the discrete log dᵢ, modulo the order oᵢ of 65537 mod pᵢ) by
/// walking the subgroup, and also require one exponent for every prime at
/// once (dᵢ ≡ dⱼ mod gcd(oᵢ, oⱼ) for every pair: the Chinese remainder
/// condition), which is exactly membership in the subgroup modulo M. The
/// per-prime test alone is what the paper publishes; the joint condition
/// is the same as its authors' discrete-log detector, and it clears the
/// moduli they constructed to pass prime by prime without being of the
/// vulnerable form. A random modulus passes with probability far below
/// 2^-100.
pub fn has_roca_fingerprint(n: &[u8]) -> bool {
    roca_fingerprint(&residues(n))
}

/// [`has_roca_fingerprint`] from the residues of `n` modulo [`ODD_PRIMES`]
/// (whose first primes are [`ROCA_PRIMES`]). A modulus that is not
/// fingerprinted almost always fails at one of the first primes, so the
/// pairwise condition runs for fingerprinted moduli (and the rare
/// impostor) only.
fn roca_fingerprint(residues: &[u32; ODD_PRIMES.len()]) -> bool {
    let mut logs = [(0u32, 0u32); ROCA_PRIMES.len()];
    for ((slot, (table, order)), &r) in logs.iter_mut().zip(ROCA_LOGS.iter()).zip(residues) {
        match table[r as usize] {
            NOT_A_POWER => return false,
            log => *slot = (u32::from(log), u32::from(*order)),
        }
    }
    logs.iter().enumerate().all(|(i, &(d_i, o_i))| {
        logs[i + 1..].iter().all(|&(d_j, o_j)| {
            let g = gcd(o_i, o_j);
            d_i % g == d_j % g
        })
    })
}

/// Marks a residue that is no power of 65537 in [`ROCA_LOGS`].
const NOT_A_POWER: u8 = u8::MAX;

/// For each ROCA prime p, the discrete log base 65537 of every residue
/// mod p (or [`NOT_A_POWER`]), and the order of 65537 mod p: built at
/// compile time by walking the subgroup, so the check is one lookup per
/// prime. (Orders divide p − 1 ≤ 166, so a log fits a `u8`.)
const ROCA_LOGS: [([u8; 168], u8); ROCA_PRIMES.len()] = roca_logs();

const fn roca_logs() -> [([u8; 168], u8); ROCA_PRIMES.len()] {
    let mut out = [([NOT_A_POWER; 168], 0u8); ROCA_PRIMES.len()];
    let mut i = 0;
    while i < ROCA_PRIMES.len() {
        let p = ROCA_PRIMES[i];
        let g = ROCA_GENERATOR % p;
        // The powers of g are distinct until they come back to 1.
        let mut power = 1u32;
        let mut log = 0u32;
        loop {
            out[i].0[power as usize] = log as u8;
            power = power * g % p;
            log += 1;
            if power == 1 {
                break;
            }
        }
        out[i].1 = log as u8;
        i += 1;
    }
    out
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The y coordinates (sign bit cleared, little-endian) of the eight
/// Edwards25519 points of small order: 0, 1, p − 1 and the two order-8
/// values (the list libsodium refuses). With such a public key A, a
/// signature (R = identity, S = 0) verifies for one message in eight,
/// whatever the "private key": anyone can forge.
const ED25519_SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    // p - 1 = 2^255 - 20
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// An Ed25519 public key `x` (32 bytes): not a point of small order, and
/// its y below the field prime p = 2^255 − 19 (a larger y is a second
/// spelling of a smaller one, which RFC 8032 §5.1.3 says to refuse).
pub(crate) fn check_ed25519(x: &[u8; 32]) -> Result<(), JwkError> {
    let mut y = *x;
    y[31] &= 0x7f;
    // y >= p exactly when bytes 1..=30 are 0xff, the top byte is 0x7f and
    // the lowest at least 0xed.
    if y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed {
        return Err(JwkError::WeakPoint("a non-canonical encoding (y >= p)"));
    }
    if ED25519_SMALL_ORDER_Y.contains(&y) {
        return Err(JwkError::WeakPoint("a point of small order"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let text = text.trim().trim_start_matches("0x");
        let text = if text.len() % 2 == 1 {
            format!("0{text}")
        } else {
            text.to_owned()
        };
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_odd_primes_are_the_primes_from_3_to_251() {
        assert_eq!(ODD_PRIMES[..5], [3, 5, 7, 11, 13]);
        assert_eq!(ODD_PRIMES[52], 251);
        assert_eq!(&ODD_PRIMES[..38], &ROCA_PRIMES[..]);
        assert!(ODD_PRIMES.windows(2).all(|w| w[0] < w[1]));
    }

    /// `n mod p` the slow way: a byte at a time.
    fn residue_bytewise(n: &[u8], p: u32) -> u32 {
        n.iter()
            .fold(0u32, |r, &byte| (r * 256 + u32::from(byte)) % p)
    }

    #[test]
    fn residues_of_big_endian_bytes() {
        assert_eq!(residue(&[0x01, 0x00, 0x01], 7), 65537 % 7);
        assert_eq!(residue(&[0xff; 64], 167), {
            // (2^512 - 1) mod 167, by repeated doubling
            let mut r = 1u64;
            for _ in 0..512 {
                r = r * 2 % 167;
            }
            (r + 166) % 167
        });
        assert_eq!(residue(&[], 3), 0);
        // Grouped, word-wise residues agree with the byte-wise ones, for
        // every length modulo 4.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in [1usize, 2, 3, 4, 5, 255, 256, 257, 258, 512] {
            let n: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect();
            let fast = residues(&n);
            for (&p, &r) in ODD_PRIMES.iter().zip(&fast) {
                assert_eq!(r, residue_bytewise(&n, p), "len {len}, p {p}");
            }
        }
    }

    /// `(d, o)`: `g^d ≡ r (mod p)` with `0 <= d < o`, `o` the order of `g`
    /// modulo `p`; `None` when `r` is not a power of `g` (0 never is).
    fn discrete_log(r: u32, g: u32, p: u32) -> Option<(u32, u32)> {
        let mut power = 1u32;
        let mut log = None;
        let mut order = 0u32;
        loop {
            if power == r && log.is_none() {
                log = Some(order);
            }
            power = power * g % p;
            order += 1;
            if power == 1 || order >= p {
                break;
            }
        }
        log.map(|d| (d, order))
    }

    #[test]
    fn the_log_tables_are_the_subgroup_walks() {
        for (&p, (table, order)) in ROCA_PRIMES.iter().zip(ROCA_LOGS.iter()) {
            for r in 0..p {
                let walked = discrete_log(r, ROCA_GENERATOR % p, p);
                let looked_up = match table[r as usize] {
                    NOT_A_POWER => None,
                    log => Some((u32::from(log), u32::from(*order))),
                };
                assert_eq!(looked_up, walked, "p {p}, r {r}");
            }
        }
    }

    #[test]
    fn discrete_logs_walk_the_subgroup() {
        // 65537 mod 7 = 3, a generator of (Z/7)*: order 6.
        assert_eq!(discrete_log(3, 3, 7), Some((1, 6)));
        assert_eq!(discrete_log(1, 3, 7), Some((0, 6)));
        assert_eq!(discrete_log(0, 3, 7), None);
        // 65537 mod 17 = 2, of order 8: half the units are outside.
        assert_eq!(discrete_log(8, 65537 % 17, 17), Some((3, 8)));
        assert_eq!(discrete_log(3, 65537 % 17, 17), None);
        // A generator 1: the subgroup is {1}.
        assert_eq!(discrete_log(1, 1, 17), Some((0, 1)));
        assert_eq!(discrete_log(2, 1, 17), None);
    }

    #[test]
    fn exponents() {
        for ok in [
            vec![3u8],
            vec![1, 0, 1],
            vec![0xff, 0xff, 0xff, 0xff],
            vec![0x25],
        ] {
            assert_eq!(check_exponent(&ok), Ok(()), "{ok:?}");
        }
        for bad in [
            vec![1u8],
            vec![2],
            vec![0x01, 0x00, 0x00],
            vec![0x00, 0x01, 0x00, 0x01],
            vec![0x01, 0x00, 0x00, 0x00, 0x01],
            vec![0],
        ] {
            assert!(
                matches!(check_exponent(&bad), Err(JwkError::RsaExponent(_))),
                "{bad:?}"
            );
        }
        assert_eq!(check_exponent(&[]), Err(JwkError::BadMember("e")));
    }

    /// Moduli the ROCA authors publish as fingerprinted
    /// (github.com/crocs-muni/roca, tests/data: mod01, mod02, mod03, mod08,
    /// mod09: 512, 512, 2048, 1021 and 4096 bits).
    pub(crate) const ROCA_POSITIVE: [&str; 5] = [
        "944e13208a280c37efc31c3114485e590192adbb8e11c87cad60cdef0037ce99278330d3f471a2538fa667802ed2a3c44a8b7dea826e888d0aa341fd664f7fa7",
        "a23475d6b86e7deb1e1483747c0e1aaa1390f24dcbc0d05399d025c985861601d91ba7a1ce5dd9d9721fac7b65cbf73f9fa39399f6cbf33edc6e094f9eda639f",
        "9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11",
        "1db349e1f58f5d41f65aa5b0ffa6ae0cea80de6c170b2b4abf9c358d79494ca59cab008f5ee92759b91d497e2131701047f953935a163e91db5460c82566f4df0c05bca02a8576f7c4e916b274e2f307b56fc8a20ad452b1b54d3924726a3b2329da882c7b8e102379dfe7a8c6b01d62e7ff0fd58e1e9822f6e32b5b0486561fb",
        "c39a928060db513091b604eadad719ed94e246de8fe15fb76efab5cfabbc3fc5486fe2ef2a5a5a8472f0c5be089edec071fb284df4467fa1fa6c8f0b013d3173fe636744666289bf67b5c998c87b59015d94bb9c20d30a70cfe275e42fd3c6f44d4c5252f9c6b6803f92afd928153bdb90ef08ede934c076f33543f9a1c362130929b9a1324c5ebee6831c251c48a7dee24d75ac538ce9a58d7ff09c12a5d772b6c33f4265a4e4830bd73ad221d24d4d3f092e24279c15fc1d10ca69561f4f071313c86b11ab36a5dd28df392f581834eecfdc9e183a466198e33cf01d273bd41d4b7e288cc66f24eba04676bd2090f6f73830336a317bc2d423b558b9d8f632e12af7b0e7fc9bdb69282e81fdf41a68cf4e85f01fc343dfe52a3ad01f67459d380165159e1209ef1ce4ecd26648e061faf0896551f7f1f92d6b6a19af0ab7f1f092d7e168bcec0ee478b8618489a8967a71e5e0a5c197662d8e9756f090a177109d4a34ae20a18c5629efea5ca66623960fc325f779cdae891a7ec051f00e837b8f2fb9fd19f6a35832ca0e5ce8375972c42a308f7d5ca0434022c131874087e826ed737994e46fbe44f5f1e908934f6033e6851ebd05447dddbaa51c0671849cafd3a503cdc150101914edf33b140c168c3dbea4791e74ea619ab1b31c90691de1d425b746b222a2b26ed54222cbcaf27a054f9f66f77be6466198c33e37dd",
    ];

    /// The same project's negatives: mod04 and mod05 (2048-bit keys),
    /// mod06 and mod07 (mod03 with one digit changed).
    const ROCA_NEGATIVE: [&str; 4] = [
        "af659676197f1db06da7ac111a0a0ec175b8b7ef07192ffcd1f6b854c327785f1a7fd3db7da45cd4a31b2b2e5ce0d823a68e28c8adf1747316becce1fe5768064039ad2062260c8d1a34e0586dce9bc13090fcc9fb8b8b2c08ed3ae8d61b29818a669689a7d9c1dab053b557fb8d3f9c44faad3e18c55e739b00d3c9126558bc8e980cd2af377126ef5b1374136774b8bd370e3c1c149db395c8f99696b628b105946fea20106fe24d103ac062661a9248e8c3f628e00b308d33953aabe555132e218e74ef4b578716b4fe7cf340e8e604a319bf6e9951e1942601d34291032db54999d09e5d036dde3544ad35256bbb97d5e3fffd38166c21eae9199548853b",
        "ba68fc5fbb606c4d428ab98b355d66214db4f7e475b5f7ffddc349c73f7d659965121ab16a4014e6c465c111d850205853d113f712127e4a230aa97f481eed6410f6c345f48e25fb81c42ec6815dc35cdd839e0de91fb2bec848d0910fa77e2c31f99ec9bcc7ed167812bd724318b0adf492d6b47c5ce050184e877ea64045f9501bf70569cffd102db7299f49e9c00222af9115d0aada967dfe759b7e4576e85c3a4ff594039231b90b448b90c3236083bcf819bc318d53a2018ec9b401f102ba9ee13dde592a42b032df136689d9c5619db55d519853a422d3100624d2d9e478218375f460c26930eda8cd0d947e58ffe9b7be2445356deaed988223e3ed1d",
        "8dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11",
        "9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa21",
    ];

    #[test]
    fn the_published_roca_moduli_are_fingerprinted() {
        for (i, modulus) in ROCA_POSITIVE.iter().enumerate() {
            assert!(has_roca_fingerprint(&hex(modulus)), "positive {i}");
        }
        for (i, modulus) in ROCA_NEGATIVE.iter().enumerate() {
            assert!(!has_roca_fingerprint(&hex(modulus)), "negative {i}");
        }
    }

    #[test]
    fn random_moduli_are_not_fingerprinted() {
        // A xorshift stream: deterministic, and unrelated to 65537's powers.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut n: Vec<u8> = (0..32).flat_map(|_| next().to_be_bytes()).collect();
            n[0] |= 0x80;
            n[255] |= 1;
            assert!(!has_roca_fingerprint(&n), "{n:02x?}");
        }
    }

    /// The ROCA authors' constructed moduli that pass the per-prime test
    /// without being of the vulnerable form (roca tests: `test_fake_mods`,
    /// positive for their per-prime detector, negative for their
    /// discrete-log one), in decimal.
    const PER_PRIME_ONLY: [&str; 3] = [
        "72414128973967872688332736535017614208620368242015797102796086827882754006260204061799547004983731426777596445658889886861027045033760014948048067467947960318205453778973975867532910489227970143091184725760290172935872752222320334100097730483600892686353719855397381316384244147860260153198611313067061116317",
        "138345973265163614694352477004469191286459111070564516299381495188624946671065451924677704628892476011773201612117597303315530745738015579159106259811204610647347662150159814774894784524366138220226431598991937057442020694466365850170057813627445465881816985939192840583168136876337135351417253708364245923133",
        "127791896675045040395064468573109425010219774613093240038326469106056928318395608480165676859635771156871330139281596703754063207095456065784747740162970184880536590144647003492364759169502217854388165521994268206346785403332622195574508223431200064645819724980706217912475871209058082764033948277691466089251",
    ];

    fn decimal(text: &str) -> Vec<u8> {
        let mut bytes: Vec<u8> = Vec::new(); // little-endian while building
        for digit in text.bytes() {
            let mut carry = u32::from(digit - b'0');
            for byte in bytes.iter_mut() {
                let value = u32::from(*byte) * 10 + carry;
                *byte = (value & 0xff) as u8;
                carry = value >> 8;
            }
            while carry > 0 {
                bytes.push((carry & 0xff) as u8);
                carry >>= 8;
            }
        }
        bytes.reverse();
        bytes
    }

    fn passes_prime_by_prime(n: &[u8]) -> bool {
        ROCA_PRIMES
            .iter()
            .all(|&p| discrete_log(residue_bytewise(n, p), ROCA_GENERATOR % p, p).is_some())
    }

    #[test]
    fn generated_rsa_keys_pass_every_modulus_and_exponent_check() {
        use aws_lc_rs::rsa::{KeyPair, KeySize};
        use aws_lc_rs::signature::KeyPair as _;
        for size in [KeySize::Rsa2048, KeySize::Rsa2048, KeySize::Rsa3072]
            .into_iter()
            .cycle()
            .take(GENERATED_KEYS)
        {
            let pair = KeyPair::generate(size).unwrap();
            let public = pair.public_key();
            let n = public.modulus().big_endian_without_leading_zero().to_vec();
            let e = public.exponent().big_endian_without_leading_zero().to_vec();
            assert_eq!(check_modulus(&n), Ok(()), "{n:02x?}");
            assert_eq!(check_exponent(&e), Ok(()));
        }
    }

    /// RSA key generation is the slow part of this crate's tests.
    const GENERATED_KEYS: usize = 30;

    #[test]
    fn moduli_that_pass_prime_by_prime_only_are_not_fingerprinted() {
        assert_eq!(decimal("65537"), [1, 0, 1]);
        for (i, modulus) in PER_PRIME_ONLY.iter().enumerate() {
            let n = decimal(modulus);
            assert!(passes_prime_by_prime(&n), "{i}: the paper's test flags it");
            assert!(!has_roca_fingerprint(&n), "{i}: but no one exponent fits");
        }
        for modulus in ROCA_POSITIVE {
            assert!(passes_prime_by_prime(&hex(modulus)));
        }
    }

    #[test]
    fn ed25519_small_order_and_non_canonical_keys() {
        for weak in ED25519_SMALL_ORDER_Y {
            assert!(check_ed25519(&weak).is_err());
            let mut signed = weak;
            signed[31] |= 0x80;
            assert!(check_ed25519(&signed).is_err());
        }
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(check_ed25519(&p).is_err());
        // RFC 8032 §7.1 test 1's public key.
        let rfc = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        assert_eq!(check_ed25519(&rfc.try_into().unwrap()), Ok(()));
    }
}

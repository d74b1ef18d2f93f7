//! Base64 and base64url runs: found with a skipping byte scan, decoded only when the result is
//! text. Pure: bytes in, [`Decoded`] spans out; no I/O.
//!
//! A run is at least [`MIN_RUN`] characters of one alphabet (`+/` or `-_`, never both), with
//! both upper- and lower-case letters (identifiers in `snake_case` or `ALL_CAPS`, hex digests
//! and paths are not base64 of text), and up to two `=` after it. It is decoded only if the
//! bytes are text (see [`is_text`]): a run that decodes to random bytes yields nothing.

use super::{Decoded, Encoding};

/// Shortest run decoded: 20 characters are 15 bytes, room for the shortest secrets the rules
/// know (an AWS key id is 20 characters, 28 in base64).
pub const MIN_RUN: usize = 20;

/// 0: not base64; 1: in both alphabets; 2: standard only (`+/`); 3: url only (`-_`).
const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() {
            1
        } else if c == b'+' || c == b'/' {
            2
        } else if c == b'-' || c == b'_' {
            3
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Finds base64 runs in `data` and calls `found` with each one that decodes to text, until it
/// returns false.
pub fn find(data: &[u8], found: &mut dyn FnMut(Decoded) -> bool) {
    each_run(data, &mut |start, end| {
        decode_run(&data[start..end]).is_none_or(|decoded| found(decoded.at(start)))
    });
}

/// Calls `run` with the bounds of every run of at least [`MIN_RUN`] base64 characters, until it
/// returns false.
///
/// Reads 64 bytes at a time as a bit mask of base64 characters, and ANDs the mask with itself
/// shifted, 20 deep in five steps, which marks every position where a long run starts; the
/// next block's mask is looked at too, so runs that cross a block boundary are seen. Only a block with a mark is looked at byte by byte. A
/// per-byte loop with a skipping probe cost 13% of a whole source-tree scan; this costs a few.
pub fn each_run(data: &[u8], run: &mut dyn FnMut(usize, usize) -> bool) {
    const _: () = assert!(MIN_RUN == 20, "the shift ladder below is built for 20");
    let blocks = data.len().div_ceil(64);
    let mask_of = |block: usize| -> u64 {
        let from = block * 64;
        match data.get(from..from + 64) {
            Some(bytes) => mask64(bytes.try_into().expect("64 bytes")),
            None if from < data.len() => {
                let mut padded = [0u8; 64];
                padded[..data.len() - from].copy_from_slice(&data[from..]);
                mask64(&padded)
            }
            None => 0,
        }
    };
    let is = |b: u8| CLASS[usize::from(b)] != 0;
    let mut next = 0;
    let mut current = mask_of(0);
    for block in 0..blocks {
        let ahead = mask_of(block + 1);
        // Runs of 20 that start and reach 20 inside the block, with 64-bit shifts (a 128-bit
        // ladder over both blocks cost twice as much)...
        let two = current & current >> 1;
        let four = two & two >> 2;
        let eight = four & four >> 4;
        let sixteen = eight & eight >> 8;
        let mut starts = sixteen & four >> 16;
        // ...and the block's last run, when it reaches 20 only with the next block's first.
        let tail = current.leading_ones();
        if (1..20).contains(&tail) && tail + ahead.trailing_ones() >= 20 {
            starts |= 1 << (64 - tail);
        }
        current = ahead;
        let base = block * 64;
        while starts != 0 {
            let start = base + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if start < next {
                continue;
            }
            let mut end = start + MIN_RUN;
            while end < data.len() && is(data[end]) {
                end += 1;
            }
            if !run(start, end) {
                return;
            }
            next = end + 1;
        }
    }
}

/// Bit `i` set when `bytes[i]` is a base64 character (either alphabet): SSE2 (every x86-64
/// CPU has it) classifies 16 bytes at a time and `movemask` packs the flags, a fifth of the
/// work of the portable version, which is what each byte of every scanned blob pays.
#[cfg(target_arch = "x86_64")]
fn mask64(bytes: &[u8; 64]) -> u64 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i, sub_i8_m128i,
    };
    let splat = |b: u8| set_splat_i8_m128i(b as i8);
    let within = |x: m128i, low: u8, span: u8| {
        // `x - low <= span`, unsigned: the minimum with `span` is itself.
        let offset = sub_i8_m128i(x, splat(low));
        cmp_eq_mask_i8_m128i(min_u8_m128i(offset, splat(span)), offset)
    };
    let mut mask = 0u64;
    for (i, chunk) in bytes.chunks_exact(16).enumerate() {
        let x = m128i::from(<[u8; 16]>::try_from(chunk).expect("16 bytes"));
        let letter = within(bitor_m128i(x, splat(0x20)), b'a', 25);
        let digit = within(x, b'0', 9);
        let plus_slash = cmp_eq_mask_i8_m128i(bitor_m128i(x, splat(0x04)), splat(b'/'));
        let dash = cmp_eq_mask_i8_m128i(x, splat(b'-'));
        let underscore = cmp_eq_mask_i8_m128i(x, splat(b'_'));
        let any = bitor_m128i(
            bitor_m128i(letter, digit),
            bitor_m128i(plus_slash, bitor_m128i(dash, underscore)),
        );
        mask |= u64::from(move_mask_i8_m128i(any) as u16) << (16 * i);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
fn mask64(bytes: &[u8; 64]) -> u64 {
    portable_mask64(bytes)
}

/// [`mask64`] without SIMD intrinsics: the flags are computed byte-wise (vectorised by the
/// compiler), then packed 8 at a time with a multiply: byte `i` of a word of 0/1 bytes lands
/// on bit `56 + i`, and no two partial products meet.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn portable_mask64(bytes: &[u8; 64]) -> u64 {
    let mut flags = [0u8; 64];
    for (flag, &b) in flags.iter_mut().zip(bytes) {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        // `+ , - . / 0-9` without `,` and `.` (the two values of `b & 0xFD == 0x2C`).
        let digit_or_symbol = (b.wrapping_sub(b'+') < 15) & ((b & 0xFD) != 0x2C);
        *flag = u8::from(letter | digit_or_symbol | (b == b'_'));
    }
    let mut mask = 0u64;
    for (i, word) in flags.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        mask |= (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
    }
    mask
}

/// Decodes one run if it is base64 of text. `run` holds no padding; `Decoded::range` is set
/// relative to the run (the caller moves it).
pub fn decode_run(run: &[u8]) -> Option<Decoded> {
    if !leaders_look_like_text(run) {
        return None;
    }
    let (mut upper, mut lower, mut standard, mut url) = (false, false, false, false);
    for &b in run {
        upper |= b.is_ascii_uppercase();
        lower |= b.is_ascii_lowercase();
        match CLASS[usize::from(b)] {
            2 => standard = true,
            3 => url = true,
            _ => {}
        }
    }
    if !(upper && lower) || (standard && url) {
        return None;
    }
    // A length of 1 mod 4 cannot be base64: the last character is not part of it.
    let len = if run.len() % 4 == 1 { run.len() - 1 } else { run.len() };
    // Random bytes are told from text in the first 48 bytes, without decoding the rest.
    let head = len.min(64);
    let mut text = Vec::with_capacity(len / 4 * 3 + 2);
    decode_into(&run[..head], &mut text);
    if !is_text(&text, head < len) {
        return None;
    }
    text.clear();
    decode_into(&run[..len], &mut text);
    if !is_text(&text, false) {
        return None;
    }
    let encoding = if url { Encoding::Base64Url } else { Encoding::Base64 };
    Some(Decoded { encoding, range: 0..len, text })
}

/// The first character of each 4-character group holds the top 6 bits of a byte: for ASCII
/// text (0x20-0x7F, tab, line breaks) one of `C D I..Z a..f`. Most identifiers and random
/// strings fail this within a few groups, before anything is decoded; a few misses are allowed
/// for UTF-8 beyond ASCII (`é` is 0xC3 0xA9).
fn leaders_look_like_text(run: &[u8]) -> bool {
    let groups = run.len() / 4;
    let allowed = (groups / 4).max(1);
    let mut misses = 0;
    for &c in run.iter().step_by(4) {
        if !matches!(c, b'C' | b'D' | b'I'..=b'Z' | b'a'..=b'f') {
            misses += 1;
            if misses > allowed {
                return false;
            }
        }
    }
    true
}

fn value(b: u8) -> u32 {
    u32::from(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        _ => 63,
    })
}

/// Decodes characters of either alphabet (already checked), unpadded; a trailing group of 2
/// or 3 characters gives 1 or 2 bytes.
fn decode_into(chars: &[u8], out: &mut Vec<u8>) {
    let mut quads = chars.chunks_exact(4);
    for quad in &mut quads {
        let n = value(quad[0]) << 18 | value(quad[1]) << 12 | value(quad[2]) << 6 | value(quad[3]);
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = quads.remainder();
    if rest.len() >= 2 {
        let n =
            value(rest[0]) << 18 | value(rest[1]) << 12 | rest.get(2).map_or(0, |&c| value(c) << 6);
        out.push((n >> 16) as u8);
        if rest.len() == 3 {
            out.push((n >> 8) as u8);
        }
    }
}

/// Text: no control characters but tab, line feed and carriage return (at most one in 50, for
/// the odd form feed), and valid UTF-8 unless `partial` (a prefix may end inside a character).
pub fn is_text(bytes: &[u8], partial: bool) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let control =
        bytes.iter().filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7F);
    if control.count() > bytes.len() / 50 {
        return false;
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(error) => partial && error.error_len().is_none(),
    }
}

/// Where decoded byte `offset` comes from in a run: the first character holding its bits.
/// `offset` equal to the decoded length gives the run's length.
pub fn locate(run: &[u8], offset: usize) -> usize {
    (offset / 3 * 4 + offset % 3).min(run.len())
}

/// One past the last character holding bits of decoded byte `end - 1`.
pub fn locate_end(run: &[u8], end: usize) -> usize {
    if end == 0 {
        return 0;
    }
    (locate(run, end - 1) + 2).min(run.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard base64 without padding, as runs in the wild often are.
    fn encode(bytes: &[u8]) -> String {
        use ::base64::Engine as _;
        ::base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    }

    fn all(data: &[u8]) -> Vec<Decoded> {
        let mut out = Vec::new();
        find(data, &mut |d| {
            out.push(d);
            true
        });
        out
    }

    #[test]
    fn decodes_runs_of_text_with_their_range() {
        let inner = "user:some-long-password-here";
        let data = format!("auth: \"{}\"\n", encode(inner.as_bytes()));
        let got = all(data.as_bytes());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, inner.as_bytes());
        assert_eq!(got[0].encoding, Encoding::Base64);
        let start = data.find('"').expect("quote") + 1;
        assert_eq!(&data[got[0].range.clone()], encode(inner.as_bytes()).trim_end_matches('='));
        assert_eq!(got[0].range.start, start);
    }

    #[test]
    fn random_bytes_identifiers_and_digests_yield_nothing() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let random: Vec<u8> = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for data in [
            encode(&random),
            encode(&random[..15]),
            "some_really_long_snake_case_identifier".to_string(),
            "SOME_REALLY_LONG_CONSTANT_NAME_HERE".to_string(),
            "0123456789abcdef0123456789abcdef01234567".to_string(),
            "/usr/local/lib/python3/site-packages/x".to_string(),
            "short dGVzdA== words".to_string(),
        ] {
            assert!(all(data.as_bytes()).is_empty(), "{data}");
        }
    }

    #[test]
    fn url_alphabet_and_unpadded_tails() {
        let inner = b"{\"sub\":\"1234567890\",\"name\":\"J?n>\"}";
        let url = encode(inner).replace('+', "-").replace('/', "_");
        let url = url.trim_end_matches('=');
        let got = all(url.as_bytes());
        assert_eq!(got.len(), 1, "{url}");
        assert_eq!(got[0].text, inner);
        assert_eq!(got[0].encoding, Encoding::Base64Url);
    }

    #[test]
    fn runs_are_found_wherever_they_sit() {
        let mut seen = Vec::new();
        let data = b"a ABCDEFGHIJKLMNOPQRSTUVWXYZ, xx 0123456789012345678 abcdefghijklmnopqrstu";
        each_run(data, &mut |s, e| {
            seen.push((s, e));
            true
        });
        assert_eq!(seen, vec![(2, 28), (53, 74)]);
        let mut none = Vec::new();
        each_run(b"", &mut |s, e| {
            none.push((s, e));
            true
        });
        each_run(b"abc", &mut |s, e| {
            none.push((s, e));
            true
        });
        assert!(none.is_empty());
    }

    #[test]
    fn runs_across_blocks_match_a_byte_by_byte_scan() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let lengths = [0, 19, 20, 63, 64, 65, 127, 128, 129, 300, 1000, 5000];
        for (len, gap) in lengths.iter().flat_map(|&len| [(len, 23), (len, 11), (len, 41)]) {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Mostly base64 characters, with a separator now and then.
                    if x % gap == 0 { b' ' } else { b"aZ9+/_-Q"[(x % 8) as usize] }
                })
                .collect();
            let mut want = Vec::new();
            let mut i = 0;
            while i < data.len() {
                let start = i;
                while i < data.len() && CLASS[usize::from(data[i])] != 0 {
                    i += 1;
                }
                if i - start >= MIN_RUN {
                    want.push((start, i));
                }
                i += 1;
            }
            let mut got = Vec::new();
            each_run(&data, &mut |s, e| {
                got.push((s, e));
                true
            });
            assert_eq!(got, want, "len {len}");
        }
    }

    #[test]
    fn the_simd_mask_is_the_portable_mask() {
        for first in (0..=255u8).step_by(16) {
            let bytes: [u8; 64] = std::array::from_fn(|i| first.wrapping_add(i as u8));
            let want: u64 =
                (0..64).filter(|&i| CLASS[usize::from(bytes[i])] != 0).map(|i| 1u64 << i).sum();
            assert_eq!(portable_mask64(&bytes), want, "from {first}");
            assert_eq!(mask64(&bytes), want, "from {first}");
        }
    }

    #[test]
    fn locates_decoded_offsets_in_the_run() {
        let run = b"QUtJQUlPU0ZPRE5ON0VYQU1QTEU";
        assert_eq!(locate(run, 0), 0);
        assert_eq!(locate(run, 3), 4);
        assert_eq!(locate(run, 4), 5);
        assert_eq!(locate_end(run, 3), 4);
        assert_eq!(locate_end(run, 20), run.len());
    }
}

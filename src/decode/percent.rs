//! Percent-encoding (`%2F`, `%3D`...): URLs, query strings and form bodies. Pure: bytes in,
//! [`Decoded`] out.
//!
//! Found with `memchr` for `%`. A line is decoded when it holds a `%XX` that encodes what URL
//! encoders encode (punctuation, space, line breaks, UTF-8 bytes); `printf`'s `%10s` or
//! `%02d` decode to control characters or letters and do not count. `+` stays `+` (a base64
//! secret keeps its `+` more often than a form turns spaces into `+`).

use super::{Decoded, Encoding, line_window};

/// Finds lines with percent-escapes and calls `found` with each decoded line,
/// until it returns false.
pub fn find(data: &[u8], found: &mut dyn FnMut(Decoded) -> bool) {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'%', &data[from..]).map(|i| from + i) {
        from = i + 1;
        if !escape_at(data, i).is_some_and(worth_decoding) {
            continue;
        }
        let range = line_window(data, i);
        from = range.end.max(from);
        let mut text = Vec::with_capacity(range.len());
        walk(&data[range.clone()], &mut |_, bytes| text.extend_from_slice(bytes));
        if !found(Decoded { encoding: Encoding::Percent, range, text }) {
            return;
        }
    }
}

fn worth_decoding(byte: u8) -> bool {
    matches!(byte, b'\n' | b'\r' | b'\t' | 0x80..=0xFF)
        || (byte.is_ascii_punctuation() || byte == b' ')
}

fn escape_at(data: &[u8], i: usize) -> Option<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let (high, low) = (hex(*data.get(i + 1)?)?, hex(*data.get(i + 2)?)?);
    u8::try_from(high * 16 + low).ok()
}

/// Walks `input`, calling `emit(offset, bytes)` with each piece of decoded text and the offset
/// in `input` it was decoded from.
pub fn walk(input: &[u8], emit: &mut dyn FnMut(usize, &[u8])) {
    let mut i = 0;
    while i < input.len() {
        let Some(next) = memchr::memchr(b'%', &input[i..]).map(|n| i + n) else {
            emit(i, &input[i..]);
            return;
        };
        if next > i {
            emit(i, &input[i..next]);
        }
        i = next;
        match escape_at(input, i) {
            Some(byte) => {
                emit(i, &[byte]);
                i += 3;
            }
            None => {
                emit(i, b"%");
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_keeps_the_rest() {
        let mut out = Vec::new();
        walk(b"a%2Fb%2fc%3D%zz%4+%", &mut |_, b| out.extend_from_slice(b));
        assert_eq!(out, b"a/b/c=%zz%4+%");
    }

    #[test]
    fn finds_lines_with_url_escapes_only() {
        let data = b"printf(\"%10s %02d\", a, b);\nhttps://h/?next=https%3A%2F%2Fx\n";
        let mut got = Vec::new();
        find(data, &mut |d| {
            got.push(d);
            true
        });
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, b"https://h/?next=https://x");
        assert_eq!(got[0].range, 27..data.len() - 1);
    }
}

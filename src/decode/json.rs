//! JSON string escapes (`\/`, `\u002f`, `\n`, `\"`, `\\`...): PHP's `json_encode` and many
//! loggers escape `/`, which breaks a naive match of a secret that holds one, and agent
//! transcripts hold whole files as one escaped string. Pure: bytes in, [`Decoded`] out.
//!
//! Found with `memchr` for `\`. A line is decoded (as one span, or a window of a very long
//! line) when it holds an escape that can hide a secret: `\/`, `\uXXXX`, or any escape right
//! before a run of 16 token characters (`\nAKIA...`, `\"ghp_...`). Lines whose only escapes
//! sit elsewhere (`printf("done\n")`) are left alone, so source code costs next to nothing.
//! Decoding is lenient: an escape JSON does not know (`\d`, `C:\Users`) stays as written.

use super::{Decoded, Encoding, line_window};

/// Token characters needed after an escape for it to matter.
const TOKEN_AFTER: usize = 16;

/// Finds lines with JSON escapes worth decoding and calls `found` with each decoded line,
/// until it returns false.
pub fn find(data: &[u8], found: &mut dyn FnMut(Decoded) -> bool) {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'\\', &data[from..]).map(|i| from + i) {
        from = i + 1;
        if !worth_decoding(data, i) {
            continue;
        }
        let range = line_window(data, i);
        from = range.end.max(from);
        let mut text = Vec::with_capacity(range.len());
        walk(&data[range.clone()], &mut |_, bytes| text.extend_from_slice(bytes));
        if text != data[range.clone()] && !found(Decoded { encoding: Encoding::Json, range, text })
        {
            return;
        }
    }
}

fn worth_decoding(data: &[u8], i: usize) -> bool {
    match data.get(i + 1) {
        Some(b'/') => true,
        Some(b'u') => data.get(i + 2..i + 6).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
        Some(b'n' | b't' | b'r' | b'"' | b'\\' | b'b' | b'f') => {
            let after = data.get(i + 2..).unwrap_or_default();
            after.len() >= TOKEN_AFTER
                && after[..TOKEN_AFTER]
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/'))
        }
        _ => false,
    }
}

fn hex4(bytes: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(bytes.get(..4)?).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// Walks `input`, calling `emit(offset, bytes)` with each piece of the decoded text and the
/// offset in `input` of what it was decoded from: runs of plain bytes whole, escapes one by one.
pub fn walk(input: &[u8], emit: &mut dyn FnMut(usize, &[u8])) {
    let mut i = 0;
    while i < input.len() {
        let Some(next) = memchr::memchr(b'\\', &input[i..]).map(|n| i + n) else {
            emit(i, &input[i..]);
            return;
        };
        if next > i {
            emit(i, &input[i..next]);
        }
        i = next;
        let simple = match input.get(i + 1) {
            Some(b'"') => Some(b'"'),
            Some(b'\\') => Some(b'\\'),
            Some(b'/') => Some(b'/'),
            Some(b'b') => Some(0x08),
            Some(b'f') => Some(0x0C),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            _ => None,
        };
        if let Some(byte) = simple {
            emit(i, &[byte]);
            i += 2;
            continue;
        }
        let Some(unit) = (input.get(i + 1) == Some(&b'u')).then(|| hex4(&input[i + 2..])).flatten()
        else {
            emit(i, b"\\");
            i += 1;
            continue;
        };
        let mut len = 6;
        let code = if (0xD800..0xDC00).contains(&unit)
            && input.get(i + 6..i + 8) == Some(b"\\u")
            && let Some(low) = hex4(&input[i + 8..]).filter(|l| (0xDC00..0xE000).contains(l))
        {
            len = 12;
            0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else {
            unit
        };
        let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        emit(i, c.encode_utf8(&mut [0; 4]).as_bytes());
        i += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &str) -> String {
        let mut out = Vec::new();
        walk(input.as_bytes(), &mut |_, b| out.extend_from_slice(b));
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn decodes_every_json_escape_leniently() {
        assert_eq!(decode(r#"a\/b\u002Fc\n\t\r\"\\"#), "a/b/c\n\t\r\"\\");
        assert_eq!(decode(r"\ud83d\ude00 \u00e9"), "😀 é");
        assert_eq!(decode(r"C:\Users\d+ \u12 \"), r"C:\Users\d+ \u12 \");
        assert_eq!(decode(r"\ud800x"), "\u{FFFD}x");
    }

    #[test]
    fn finds_only_lines_with_escapes_that_matter() {
        let data =
            b"printf(\"done\\n\");\n{\"k\": \"abc\\/def\"}\nx\n\"\\nAKIAXXXXXXXXXXXXXXXX\"\n";
        let mut got = Vec::new();
        find(data, &mut |d| {
            got.push(d);
            true
        });
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].text, b"{\"k\": \"abc/def\"}");
        assert_eq!(&data[got[0].range.clone()], b"{\"k\": \"abc\\/def\"}");
        assert_eq!(got[1].text, b"\"\nAKIAXXXXXXXXXXXXXXXX\"");
    }
}

//! Quoted-printable (RFC 2045), the body encoding of e-mail (`.eml`): `=XX` escapes and `=`
//! soft line breaks that cut long lines, secrets included. Pure: bytes in, [`Decoded`] out.
//!
//! `=XX` is too common in code and `KEY=VALUE` files to decode blindly, so only what follows a
//! `Content-Transfer-Encoding: quoted-printable` header is decoded, as one span, up to the
//! next MIME boundary line (`--...`) or the end.

use super::{Decoded, Encoding};

const HEADER: &[u8] = b"content-transfer-encoding:";
const VALUE: &[u8] = b"quoted-printable";

/// Finds quoted-printable bodies and calls `found` with each one decoded,
/// until it returns false. Only a blob that starts like a message (see [`looks_like_mail`])
/// is searched, so source files cost nothing.
pub fn find(data: &[u8], found: &mut dyn FnMut(Decoded) -> bool) {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"-printable"));
    if !looks_like_mail(data) {
        return;
    }
    let finder = &*FINDER;
    let mut from = 0;
    while let Some(hit) = finder.find(&data[from..]).map(|i| from + i) {
        from = hit + 1;
        let Some(body) = body_after(data, hit) else { continue };
        let end = boundary(data, body).unwrap_or(data.len());
        if end <= body {
            continue;
        }
        let mut text = Vec::with_capacity(end - body);
        walk(&data[body..end], &mut |_, bytes| text.extend_from_slice(bytes));
        let decoded = Decoded { encoding: Encoding::QuotedPrintable, range: body..end, text };
        if decoded.text != data[decoded.range.clone()] && !found(decoded) {
            return;
        }
        from = end.max(from);
    }
}

/// A message or MIME part starts with a header line (`Received: ...`, `MIME-Version: 1.0`,
/// `Content-Type: ...`), an mbox file with `From `.
fn looks_like_mail(data: &[u8]) -> bool {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if data.starts_with(b"From ") {
        return true;
    }
    let name_len = data.iter().take(64).take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-');
    let name = &data[..name_len.count()];
    if data.get(name.len()) != Some(&b':') || name.is_empty() {
        return false;
    }
    name.contains(&b'-')
        || [&b"From"[..], b"To", b"Cc", b"Date", b"Subject", b"Received", b"Sender"]
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known))
}

/// The start of the body when `hit` (`-printable`) ends a transfer-encoding header: the byte
/// after the header block's blank line.
fn body_after(data: &[u8], hit: usize) -> Option<usize> {
    let value_start = (hit + 10).checked_sub(VALUE.len())?;
    if !data[value_start..hit + 10].eq_ignore_ascii_case(VALUE) {
        return None;
    }
    let line_start = memchr::memrchr(b'\n', &data[..value_start]).map_or(0, |i| i + 1);
    let line = &data[line_start..value_start];
    let header = line.iter().take(HEADER.len()).map(u8::to_ascii_lowercase).collect::<Vec<u8>>();
    if header != HEADER {
        return None;
    }
    let blank = memchr::memmem::find(&data[hit..], b"\n\n")
        .map(|i| hit + i + 2)
        .into_iter()
        .chain(memchr::memmem::find(&data[hit..], b"\n\r\n").map(|i| hit + i + 3))
        .min();
    Some(
        blank.unwrap_or_else(|| {
            memchr::memchr(b'\n', &data[hit..]).map_or(data.len(), |i| hit + i + 1)
        }),
    )
}

/// The next MIME boundary line (`--` at a line start) after `from`.
fn boundary(data: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(&data[from..], b"\n--").map(|i| from + i + 1)
}

/// Walks `input`, calling `emit(offset, bytes)` with each piece of decoded text and the offset
/// in `input` it was decoded from.
pub fn walk(input: &[u8], emit: &mut dyn FnMut(usize, &[u8])) {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut i = 0;
    while i < input.len() {
        let Some(next) = memchr::memchr(b'=', &input[i..]).map(|n| i + n) else {
            emit(i, &input[i..]);
            return;
        };
        if next > i {
            emit(i, &input[i..next]);
        }
        i = next;
        let rest = &input[i + 1..];
        if rest.starts_with(b"\r\n") {
            i += 3;
        } else if rest.starts_with(b"\n") {
            i += 2;
        } else if let (Some(h), Some(l)) =
            (rest.first().and_then(|&b| hex(b)), rest.get(1).and_then(|&b| hex(b)))
        {
            emit(i, &[u8::try_from(h * 16 + l).unwrap_or(b'?')]);
            i += 3;
        } else {
            emit(i, b"=");
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_soft_breaks_and_escapes() {
        let mut out = Vec::new();
        walk(b"token=3Dghp_abc=\r\ndef=\nghi =C3=A9=", &mut |_, b| out.extend_from_slice(b));
        assert_eq!(String::from_utf8(out).expect("utf-8"), "token=ghp_abcdefghi é=");
    }

    #[test]
    fn decodes_only_bodies_declared_quoted_printable() {
        let mail = b"Subject: x\nContent-Transfer-Encoding: quoted-printable\n\nkey=3Dab=\ncd\n--b\nA=3DB\n";
        let mut got = Vec::new();
        find(mail, &mut |d| {
            got.push(d);
            true
        });
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, b"key=abcd\n");
        assert_eq!(&mail[got[0].range.clone()], b"key=3Dab=\ncd\n");
        let mut none = Vec::new();
        find(b"FOO=BAR\nX=3D\n", &mut |d| {
            none.push(d);
            true
        });
        assert!(none.is_empty());
        let mut code = Vec::new();
        find(b"x = 1\nContent-Transfer-Encoding: quoted-printable\n\na=3Db\n", &mut |d| {
            code.push(d);
            true
        });
        assert!(code.is_empty(), "not a message");
    }
}

//! Sources: everything that touches the file system or standard input.
//!
//! A source turns its inputs into blobs (bytes plus [`crate::provenance::Provenance`]) and hands
//! each to a callback; it never matches. Errors on one input are reported as [`InputError`]s and
//! the source goes on with the rest.

pub mod fs;
pub mod mmap;

use std::fmt;

use serde::Serialize;

/// An input that could not be read, named, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    /// The input (a path, `<stdin>`).
    pub input: String,
    /// Why it failed.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.message)
    }
}

/// Bytes at the start of a blob looked at to decide whether it is binary.
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// True when the first [`BINARY_SNIFF_LEN`] bytes contain a NUL, as git and ripgrep decide.
pub fn looks_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}

/// Transcodes UTF-16 text that starts with a byte-order mark to UTF-8, so that a secret in a
/// Windows-saved file (`.ps1`, `.reg`, `.config`) is not mistaken for binary. Lines and code
/// point columns are the same in both encodings. `None` when there is no UTF-16 BOM.
pub fn utf16_to_utf8(data: &[u8]) -> Option<Vec<u8>> {
    let little = match data {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    let units = data[2..].chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if little { u16::from_le_bytes(pair) } else { u16::from_be_bytes(pair) }
    });
    let text: String = char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')).collect();
    Some(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_with_bom_becomes_utf8() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("k=AKIA\n".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(utf16_to_utf8(&le).as_deref(), Some(&b"k=AKIA\n"[..]));
        let mut be = vec![0xFE, 0xFF];
        be.extend("é".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(utf16_to_utf8(&be).as_deref(), Some("é".as_bytes()));
        assert_eq!(utf16_to_utf8(b"plain"), None);
    }
}

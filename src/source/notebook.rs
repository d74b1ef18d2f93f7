//! Jupyter notebooks (`.ipynb`, nbformat 4): the text of each cell's source and of each of its
//! outputs, with a map from that text back to the notebook's own bytes.
//!
//! Pure: bytes in, [`Part`]s out; no I/O, no matching. Notebooks are told by their content (a
//! JSON object with `"cells"` and `"nbformat"` keys), not their name, so a notebook is read the
//! same from a working tree, a git blob, an image layer or an archive. The scan's worker
//! (`scan::notebook`) matches each part as its own text and places findings in the cell and
//! in the file.
//!
//! What is read, per cell (0-based index as in nbformat): `source` (a string or a list of
//! strings, joined), and per output (0-based index in `outputs`): `text` (stream), every
//! `data` entry (`text/plain`, `text/html`, `application/json`...; base64 images are left to
//! the raw scan) and `traceback` (error; entries joined with `\n`). ANSI escape sequences are
//! removed from outputs (tracebacks are coloured).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The UTF-8 byte-order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One text of a notebook: a cell's source or one field of one of its outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 0-based cell index.
    pub cell: usize,
    /// 0-based output index; `None` for the source.
    pub output: Option<usize>,
    /// `source`, `text`, `traceback`, or the MIME type of a `data` entry.
    pub field: String,
    /// The text (JSON escapes decoded, ANSI escapes removed from outputs).
    pub text: Vec<u8>,
    /// The notebook bytes this part was read from (its JSON value).
    pub extent: Range<usize>,
    /// `(offset in text, offset in the notebook)`, ascending by text offset; between two
    /// anchors, bytes were copied one for one.
    anchors: Vec<(usize, usize)>,
}

impl Part {
    /// The offset in the notebook's bytes of `offset` in [`Part::text`] (inside an escape
    /// sequence: the escape's start).
    pub fn raw_offset(&self, offset: usize) -> usize {
        let at = self.anchors.partition_point(|&(text, _)| text <= offset);
        match at.checked_sub(1).and_then(|i| self.anchors.get(i)) {
            Some(&(text, raw)) => raw + (offset - text),
            None => self.extent.start,
        }
    }
}

/// Why a blob that looked like a notebook was not read as one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not UTF-8 (nbformat requires it).
    #[error("not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// Not JSON, or not shaped as nbformat 4.
    #[error("not an nbformat 4 notebook")]
    Malformed(#[source] serde_json::Error),
}

/// True when `data` looks like a notebook: a JSON object holding `"cells"` and `"nbformat"`.
pub fn detect(data: &[u8]) -> bool {
    let body = data.strip_prefix(UTF8_BOM).unwrap_or(data);
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && memchr::memmem::find(body, b"\"nbformat\"").is_some()
        && memchr::memmem::find(body, b"\"cells\"").is_some()
}

#[derive(Deserialize)]
struct NotebookWire<'a> {
    #[serde(borrow, default)]
    cells: Option<Vec<CellWire<'a>>>,
}

#[derive(Deserialize)]
struct CellWire<'a> {
    #[serde(borrow, default)]
    source: Option<&'a RawValue>,
    #[serde(borrow, default)]
    outputs: Option<Vec<OutputWire<'a>>>,
}

#[derive(Deserialize)]
struct OutputWire<'a> {
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<BTreeMap<String, &'a RawValue>>,
    #[serde(borrow, default)]
    traceback: Option<&'a RawValue>,
}

/// Reads the parts of a notebook. `Ok(None)`: valid JSON without a top-level `cells` list (an
/// nbformat 3 notebook, some other document), to be scanned as plain bytes.
///
/// # Errors
/// When the bytes are not UTF-8, not JSON, or `cells` is not shaped as nbformat 4.
pub fn parse(data: &[u8]) -> Result<Option<Vec<Part>>, Error> {
    let body = data.strip_prefix(UTF8_BOM).unwrap_or(data);
    let text = std::str::from_utf8(body).map_err(Error::NotUtf8)?;
    let notebook: NotebookWire<'_> = serde_json::from_str(text).map_err(Error::Malformed)?;
    let Some(cells) = notebook.cells else { return Ok(None) };
    let mut parts = Vec::new();
    for (index, cell) in cells.iter().enumerate() {
        if let Some(source) = cell.source {
            push(&mut parts, data, source, (index, None, "source"), "")?;
        }
        for (output_index, output) in cell.outputs.iter().flatten().enumerate() {
            let at = |field| (index, Some(output_index), field);
            if let Some(text) = output.text {
                push(&mut parts, data, text, at("text"), "")?;
            }
            for (mime, value) in output.data.iter().flatten() {
                if !is_binary_image(mime) {
                    push(&mut parts, data, value, at(mime), "")?;
                }
            }
            if let Some(traceback) = output.traceback {
                push(&mut parts, data, traceback, at("traceback"), "\n")?;
            }
        }
    }
    Ok(Some(parts))
}

/// Base64 image data: nothing a person wrote or printed.
fn is_binary_image(mime: &str) -> bool {
    mime.starts_with("image/") && !mime.contains("svg")
}

/// Reads one value (a string, a list of strings joined with `separator`, or any other JSON
/// kept as written) into a [`Part`].
fn push(
    parts: &mut Vec<Part>,
    data: &[u8],
    value: &RawValue,
    (cell, output, field): (usize, Option<usize>, &str),
    separator: &str,
) -> Result<(), Error> {
    let raw = value.get();
    let start = offset_in(data, raw);
    let mut part = Part {
        cell,
        output,
        field: field.to_string(),
        text: Vec::new(),
        extent: start..start + raw.len(),
        anchors: Vec::new(),
    };
    if raw.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(raw).map_err(Error::Malformed)?;
        for (i, item) in items.iter().enumerate() {
            if i > 0 && !separator.is_empty() {
                let end = part.text.len();
                part.anchors.push((end, offset_in(data, item.get())));
                part.text.extend_from_slice(separator.as_bytes());
            }
            append(&mut part, data, item.get());
        }
    } else {
        append(&mut part, data, raw);
    }
    if output.is_some() {
        strip_ansi(&mut part);
    }
    if !part.text.is_empty() {
        parts.push(part);
    }
    Ok(())
}

/// Appends a string literal (decoded) or any other value (as written) to `part`.
fn append(part: &mut Part, data: &[u8], raw: &str) {
    let base = offset_in(data, raw);
    let Some(literal) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        part.anchors.push((part.text.len(), base));
        part.text.extend_from_slice(raw.as_bytes());
        return;
    };
    decode_literal(part, literal.as_bytes(), base + 1);
}

/// Where `inner` (borrowed from `outer`, as serde_json's borrowed raw values are) starts in it.
fn offset_in(outer: &[u8], inner: &str) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize).min(outer.len())
}

/// Decodes the content of a JSON string literal that starts at `raw` in the notebook.
fn decode_literal(part: &mut Part, literal: &[u8], raw: usize) {
    part.anchors.push((part.text.len(), raw));
    let mut i = 0;
    while i < literal.len() {
        let Some(next) = memchr::memchr(b'\\', &literal[i..]).map(|n| i + n) else {
            part.text.extend_from_slice(&literal[i..]);
            break;
        };
        part.text.extend_from_slice(&literal[i..next]);
        let escape = literal.get(next + 1).copied().unwrap_or(b'\\');
        let mut consumed = 2;
        match escape {
            b'n' => part.text.push(b'\n'),
            b't' => part.text.push(b'\t'),
            b'r' => part.text.push(b'\r'),
            b'b' => part.text.push(0x08),
            b'f' => part.text.push(0x0C),
            b'u' => {
                let (c, used) = unicode_escape(&literal[next..]);
                consumed = used;
                let mut buf = [0u8; 4];
                part.text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            other => part.text.push(other),
        }
        i = (next + consumed).min(literal.len());
        part.anchors.push((part.text.len(), raw + i));
    }
}

/// A `\uXXXX` escape (with its low surrogate, when it is a high one) at the start of `s`:
/// the character and the bytes it took.
fn unicode_escape(s: &[u8]) -> (char, usize) {
    let hex = |at: usize| {
        s.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let Some(first) = hex(2) else { return (char::REPLACEMENT_CHARACTER, 2) };
    if (0xD800..0xDC00).contains(&first) && s.get(6..8) == Some(b"\\u") {
        if let Some(low @ 0xDC00..0xE000) = hex(8) {
            let code = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
            return (char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER), 12);
        }
    }
    (char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER), 6)
}

/// Removes ANSI escape sequences (CSI, OSC and other string sequences, two-byte escapes) from
/// the part's text, keeping its map to the notebook.
fn strip_ansi(part: &mut Part) {
    if memchr::memchr(0x1B, &part.text).is_none() {
        return;
    }
    let old_anchors = std::mem::take(&mut part.anchors);
    let old = std::mem::take(&mut part.text);
    let old_part = Part { anchors: old_anchors, text: Vec::new(), ..part.clone() };
    let mut kept_from = 0;
    let mut i = 0;
    let keep = |part: &mut Part, from: usize, to: usize| {
        if from >= to {
            return;
        }
        part.anchors.push((part.text.len(), old_part.raw_offset(from)));
        for &(text, raw) in &old_part.anchors {
            if text > from && text < to {
                part.anchors.push((part.text.len() + (text - from), raw));
            }
        }
        part.text.extend_from_slice(&old[from..to]);
    };
    while i < old.len() {
        if old[i] != 0x1B {
            i += 1;
            continue;
        }
        keep(part, kept_from, i);
        i = escape_end(&old, i);
        kept_from = i;
    }
    keep(part, kept_from, old.len());
}

/// The end of the escape sequence starting with the ESC at `start`.
fn escape_end(text: &[u8], start: usize) -> usize {
    let at = |i: usize| text.get(i).copied();
    match at(start + 1) {
        Some(b'[') => {
            let mut i = start + 2;
            while let Some(b) = at(i) {
                i += 1;
                match b {
                    0x20..=0x3F => {}
                    0x40..=0x7E => return i,
                    _ => return i - 1,
                }
            }
            i
        }
        Some(b']' | b'P' | b'X' | b'^' | b'_') => {
            let mut i = start + 2;
            while let Some(b) = at(i) {
                match b {
                    0x07 => return i + 1,
                    0x1B if at(i + 1) == Some(b'\\') => return i + 2,
                    0x1B => return i,
                    _ => i += 1,
                }
            }
            i
        }
        Some(b) if b.is_ascii() => start + 2,
        _ => start + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(part: &Part) -> &str {
        std::str::from_utf8(&part.text).expect("utf-8")
    }

    #[test]
    fn reads_sources_and_outputs_with_their_offsets() {
        let nb = concat!(
            "{\"cells\": [{\"cell_type\": \"code\", \"source\": [\"a = 1\\n\", \"b = \\\"x\\/y\\\"\"],\n",
            " \"outputs\": [{\"output_type\": \"stream\", \"text\": \"out\\u00e9 \\ud83d\\udd11 z\"},\n",
            "  {\"output_type\": \"error\", \"traceback\": [\"\\u001b[0;31mKeyError\\u001b[0m\", \"k=v\"]},\n",
            "  {\"output_type\": \"execute_result\", \"data\": {\"image/png\": \"iVBOR\", \"text/plain\": [\"p\"]}}]}],\n",
            " \"nbformat\": 4, \"nbformat_minor\": 5}\n"
        );
        assert!(detect(nb.as_bytes()));
        let parts = parse(nb.as_bytes()).expect("parses").expect("a notebook");
        let got: Vec<(usize, Option<usize>, &str, &str)> =
            parts.iter().map(|p| (p.cell, p.output, p.field.as_str(), text(p))).collect();
        assert_eq!(
            got,
            [
                (0, None, "source", "a = 1\nb = \"x/y\""),
                (0, Some(0), "text", "outé 🔑 z"),
                (0, Some(1), "traceback", "KeyError\nk=v"),
                (0, Some(2), "text/plain", "p"),
            ]
        );
        // Every byte maps to where it is written in the notebook.
        let source = &parts[0];
        let b = text(source).find('b').expect("b");
        assert_eq!(&nb[source.raw_offset(b)..][..5], "b = \\");
        let slash = text(source).find('/').expect("/");
        assert_eq!(&nb[source.raw_offset(slash) + 1..][..2], "/y");
        let z = parts[1].text.len() - 1;
        assert_eq!(&nb[parts[1].raw_offset(z)..][..2], "z\"");
        let k = text(&parts[2]).find("k=v").expect("k");
        assert_eq!(&nb[parts[2].raw_offset(k)..][..3], "k=v");
        assert_eq!(&nb[parts[2].raw_offset(0)..][..8], "KeyError");
    }

    #[test]
    fn what_is_not_a_notebook() {
        assert!(!detect(b"[\"cells\", \"nbformat\"]"));
        assert!(!detect(b"{\"cells\": []}"));
        assert!(
            parse(b"{\"nbformat\": 3, \"worksheets\": [], \"x\": \"cells\"}")
                .expect("json")
                .is_none()
        );
        assert!(matches!(parse(b"{\"cells\": [{\"source\": 1,}]}"), Err(Error::Malformed(_))));
        assert!(matches!(parse(b"{\"cells\": \xff}"), Err(Error::NotUtf8(_))));
        assert!(matches!(parse(b"{\"cells\": [{\"source\": 5}]}"), Ok(Some(p)) if p.len() == 1));
    }

    #[test]
    fn strips_ansi_sequences() {
        let mut part = Part {
            cell: 0,
            output: Some(0),
            field: "text".into(),
            text: b"\x1b[1;31mAB\x1b]0;t\x07C\x1bcD\x1b[".to_vec(),
            extent: 0..20,
            anchors: vec![(0, 100)],
        };
        strip_ansi(&mut part);
        assert_eq!(part.text, b"ABCD");
        assert_eq!(part.raw_offset(0), 107);
        assert_eq!(part.raw_offset(2), 115);
        assert_eq!(part.raw_offset(3), 118);
    }
}

//! Sources: everything that touches the file system or standard input.
//!
//! A source turns its inputs into blobs (bytes plus [`crate::provenance::Provenance`]) and hands
//! each to a callback; it never matches. Errors on one input are reported as [`InputError`]s and
//! the source goes on with the rest.

pub mod archive;
pub mod fs;
pub mod git;
pub mod image;
pub mod log;
pub mod notebook;

use std::{collections::HashMap, fmt, sync::Arc};

use serde::Serialize;

use crate::provenance::Provenance;

/// Why an input was passed over without being scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// It looked binary.
    Binary,
    /// It was larger than the size limit.
    TooLarge,
    /// An allowlisted path.
    Allowlisted,
}

/// What changed in a file, for scans that report only what a change added (`--staged`,
/// `--range`): the byte ranges of added lines in the new content, and the old content.
#[derive(Debug, Clone, Default)]
pub struct Delta {
    /// Byte ranges of lines in the new content that the old content does not have.
    pub added: Vec<(usize, usize)>,
    /// The old content (empty for a new file); shared when many files compare with one.
    pub old: Arc<[u8]>,
}

/// An old content with its lines counted, built once for all the files compared with it (the
/// removed files a renamed one may have come from).
#[derive(Debug, Clone, Default)]
pub struct OldContent {
    bytes: Arc<[u8]>,
    /// Occurrences of each line, by hash (a 64-bit collision would at worst hide one line).
    lines: HashMap<u64, usize>,
}

impl OldContent {
    /// Counts the lines of `bytes`.
    pub fn new(bytes: Vec<u8>) -> OldContent {
        let mut lines = HashMap::new();
        for line in bytes.split(|&b| b == b'\n') {
            *lines.entry(line_hash(line)).or_default() += 1;
        }
        OldContent { bytes: bytes.into(), lines }
    }
}

impl Delta {
    /// Compares two versions line by line: a line of `new` is added unless `old` has the same
    /// line (counted, so a duplicated line is added once more).
    pub fn between(old: Vec<u8>, new: &[u8]) -> Delta {
        Delta::against(&OldContent::new(old), new)
    }

    /// [`Delta::between`] with the old content's lines already counted.
    pub fn against(old: &OldContent, new: &[u8]) -> Delta {
        let mut used: HashMap<u64, usize> = HashMap::new();
        let mut added = Vec::new();
        let mut start = 0;
        for line in new.split(|&b| b == b'\n') {
            let end = start + line.len();
            let hash = line_hash(line);
            let seen = used.entry(hash).or_default();
            if old.lines.get(&hash).is_some_and(|&count| count > *seen) {
                *seen += 1;
            } else {
                added.push((start, end));
            }
            start = end + 1;
        }
        Delta { added, old: old.bytes.clone() }
    }

    /// True when a secret at `span` of the new content was added: it lies on an added line and
    /// the old content does not already hold the same secret.
    pub fn added(&self, new: &[u8], start: usize, end: usize) -> bool {
        let on_added_line = self.added.iter().any(|&(a, b)| start >= a && start <= b);
        on_added_line && memchr::memmem::find(&self.old, &new[start..end]).is_none()
    }
}

/// A line's hash, without its carriage return; the same in every process of a run.
fn line_hash(line: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    trim_cr(line).hash(&mut hasher);
    hasher.finish()
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// An error and its causes on one line, as the CLI prints anyhow chains.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Receives what a source reads. One sink per worker thread.
pub trait BlobSink: Send {
    /// A blob to scan, found at every place `provenances` lists (called only when the blob has
    /// a finding, so sources can build provenance lazily). With a `delta`, only secrets the
    /// change added are kept.
    fn blob_at(
        &mut self,
        data: &[u8],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        delta: Option<&Delta>,
    );
    /// [`BlobSink::blob_at`] for a blob whose (first) path is `name`: a sink may treat kinds
    /// of files differently (program source is decoded more cheaply).
    fn blob_named(
        &mut self,
        name: &str,
        data: &[u8],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        delta: Option<&Delta>,
    ) {
        let _ = name;
        self.blob_at(data, provenances, delta);
    }
    /// A blob to scan, from one place (a file's path names it, see [`BlobSink::blob_named`]).
    fn blob(&mut self, data: &[u8], provenance: Provenance) {
        let name = match &provenance {
            Provenance::File { path, .. } => path.clone(),
            _ => String::new(),
        };
        let mut once = Some(provenance);
        self.blob_named(&name, data, &mut || once.take().into_iter().collect(), None);
    }
    /// The file at `name` is about to be streamed in windows ([`log::LogSink::window`]), as
    /// [`BlobSink::blob_named`] would have been told for it whole.
    fn streaming(&mut self, name: &str) {
        let _ = name;
    }
    /// An input that could not be read.
    fn error(&mut self, error: InputError);
    /// An input passed over.
    fn skipped(&mut self, _what: &str, _why: Skip) {}
}

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

/// True when a source should pass `data` over as binary: it looks binary, `--binary` was not
/// given, and it is not an archive the scan will open (archives are binary, and go on to the
/// sink, which expands them).
pub fn skip_as_binary(data: &[u8], scan_binary: bool, archives: &archive::ArchiveOptions) -> bool {
    !scan_binary && looks_binary(data) && !(archives.enabled() && archive::detect(data).is_some())
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
    fn delta_keeps_added_lines_and_new_secrets_only() {
        let old = b"a=1\nkey=AKIA1\nb=2\n".to_vec();
        let new = b"a=1\nkey=AKIA1 # moved\nkey2=AKIA2\nb=2\n";
        let delta = Delta::between(old, new);
        let at = |needle: &[u8]| memchr::memmem::find(new, needle).expect("present");
        assert!(delta.added(new, at(b"AKIA2"), at(b"AKIA2") + 5));
        assert!(!delta.added(new, at(b"AKIA1"), at(b"AKIA1") + 5), "existed before");
        assert!(!delta.added(new, 0, 1), "unchanged line");
    }

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

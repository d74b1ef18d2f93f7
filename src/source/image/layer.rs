//! One layer, streamed: blob → digest check → decompression → tar entries → the sink.
//!
//! Nothing is unpacked: entry paths are only recorded (as written in the tar, `../` and
//! absolute paths included), and each regular file's bytes are read into a reused buffer,
//! bounded by the size limit, scanned, and dropped. The decompressed layer is never held.
//! Files that are archives (a jar, a `.tar.gz`) go to the sink like any file, and the sink
//! opens them within the archive budget (`--max-archive-depth`, `--max-decompressed-size`).
//!
//! Streaming bounds memory, not time: a small layer of compressed zeros could inflate for
//! hours. So a layer may expand to `--max-decompressed-size`, and past that only to
//! [`BOMB_RATIO`] times its stored size read so far; beyond, it is reported as a
//! decompression bomb, naming the layer, and not read further. Real layers compress a few
//! times over, so a large real layer is never stopped; a gzip of zeros (about 1000:1) or a
//! zstd one (far more) is, after at most `max(budget, 100 × stored size)` bytes.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};
use tar::EntryType;

use super::store::{BlobRef, Hasher, Hashing, Store, Verify, hex};
use super::{Error, ImageOptions, error_chain};
use crate::provenance::{ImageInfo, Provenance, layer_relative};
use crate::source::archive::human_size;
use crate::source::{BlobSink, InputError, Skip, skip_as_binary, utf16_to_utf8};

/// Read-ahead for the stored (compressed) stream.
const READ_BUFFER: usize = 256 << 10;

/// How many times its stored size a layer may expand once past the archive budget.
pub const BOMB_RATIO: u64 = 100;

/// A layer to stream, with the first image that uses it (for messages and provenance).
#[derive(Debug)]
pub struct Job {
    /// Index of the store in the scan.
    pub store: usize,
    /// The blob.
    pub blob: BlobRef,
    /// The first image using the layer.
    pub image: Arc<ImageInfo>,
    /// The layer's index in that image.
    pub layer_index: usize,
    /// Its `created_by` there.
    pub created_by: Option<String>,
}

/// What a layer holds, kept after it was scanned: which contents sit at which paths, and what
/// it deletes from the layers below.
#[derive(Debug, Default)]
pub struct Listing {
    /// Files that were scanned (or whose content was scanned elsewhere): path as in the tar,
    /// sha256 of the content.
    pub files: Vec<(Arc<str>, [u8; 32])>,
    /// Every entry but whiteouts, by normalised path: whether it is a directory.
    pub entries: HashMap<Box<str>, bool>,
    /// Paths a whiteout (`.wh.NAME`) deletes, normalised.
    pub whiteouts: HashSet<String>,
    /// Directories an opaque whiteout (`.wh..wh..opq`) empties, normalised.
    pub opaque: HashSet<String>,
}

impl Listing {
    /// Whether this layer hides `path` (normalised) of a lower layer: deletes it or one of its
    /// directories, empties one of its directories, or puts another entry in its place.
    pub fn hides(&self, path: &str) -> bool {
        if self.entries.contains_key(path) || self.whiteouts.contains(path) {
            return true;
        }
        path.match_indices('/').any(|(i, _)| {
            let dir = &path[..i];
            self.whiteouts.contains(dir)
                || self.opaque.contains(dir)
                || self.entries.get(dir) == Some(&false)
        }) || self.opaque.contains("")
    }
}

/// Streams one layer into `sink`; errors (unreadable, truncated, digest mismatch) are
/// reported to the sink after whatever could be read was scanned.
pub fn scan(
    store: &Store,
    job: &Job,
    options: &ImageOptions,
    seen: &Mutex<HashSet<[u8; 32]>>,
    sink: &mut impl BlobSink,
) -> Listing {
    let mut listing = Listing::default();
    let input =
        || format!("{} layer {} ({})", job.image.display(), job.layer_index, job.blob.digest);
    // The tar and codec crates report bad input as errors; a panic deep in one must still not
    // end the scan.
    let result = catch_unwind(AssertUnwindSafe(|| {
        stream(store, job, options, seen, &mut *sink, &mut listing)
    }));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(message)) => sink.error(InputError { input: input(), message }),
        Err(_) => {
            sink.error(InputError { input: input(), message: "layer could not be decoded".into() })
        }
    }
    listing
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

fn stream(
    store: &Store,
    job: &Job,
    options: &ImageOptions,
    seen: &Mutex<HashSet<[u8; 32]>>,
    sink: &mut impl BlobSink,
    listing: &mut Listing,
) -> Result<(), String> {
    let blob = &job.blob;
    let reader = store.open(&blob.key).map_err(|e| error_chain(&e))?;
    let hasher = |verify| {
        (blob.verify == verify && !blob.digest.is_empty()).then(|| Hasher::for_digest(&blob.digest))
    };
    let mut raw = Hashing::new(reader, hasher(Verify::Stored));
    let stored = Cell::new(0);
    let bomb = Cell::new(None);
    let decoded_digest = {
        let (head, len) = read_head(&mut raw).map_err(|e| format!("cannot read the layer: {e}"))?;
        stored.set(len as u64);
        let compression = compression(&head[..len], &blob.media_type)?;
        let counted = Counting { inner: &mut raw, count: &stored };
        let buffered = BufReader::with_capacity(
            READ_BUFFER,
            Cursor::new(head).take(len as u64).chain(counted),
        );
        let decoder: Box<dyn Read + '_> = match compression {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(buffered)
                    .map_err(|e| format!("cannot start zstd: {e}"))?,
            ),
            Compression::None => Box::new(buffered),
        };
        let metered = Meter {
            inner: decoder,
            produced: 0,
            stored: &stored,
            limit: options.archives.max_size,
            tripped: &bomb,
        };
        // tar reads 512-byte headers and small files: serve those from a buffer, not the codec.
        let mut decoded = BufReader::with_capacity(
            READ_BUFFER,
            Hashing::new(metered, hasher(Verify::Decompressed)),
        );
        // A bomb is named as such, not as the read it broke.
        let bombed = |message| bomb.take().unwrap_or(message);
        walk(&mut decoded, job, options, seen, sink, listing).map_err(bombed)?;
        // The tar's end blocks and padding, and the codec's trailer, complete the digests.
        io::copy(&mut decoded, &mut io::sink())
            .map_err(|e| bombed(format!("cannot read the layer: {e}")))?;
        decoded.into_inner().finish()
    };
    io::copy(&mut raw, &mut io::sink()).map_err(|e| format!("cannot read the layer: {e}"))?;
    let size = raw.count();
    if let Some(actual) = raw.finish().or(decoded_digest)
        && actual != blob.digest
    {
        let what = Error::Digest { expected: blob.digest.clone(), actual, size };
        return Err(error_chain(&what));
    }
    if let Some(expected) = blob.size
        && expected != size
    {
        return Err(format!(
            "size mismatch: the manifest says {expected} bytes, the blob has {size}"
        ));
    }
    Ok(())
}

/// Counts the stored bytes read.
struct Counting<'c, R> {
    inner: R,
    count: &'c Cell<u64>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Counts what the codec produces and fails the read once a layer expands past `limit` and
/// past [`BOMB_RATIO`] times the stored bytes read so far.
struct Meter<'c, R> {
    inner: R,
    produced: u64,
    stored: &'c Cell<u64>,
    limit: u64,
    /// Set to the message when the layer was stopped.
    tripped: &'c Cell<Option<String>>,
}

impl<R: Read> Read for Meter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        if self.produced > self.limit
            && self.produced > self.stored.get().saturating_mul(BOMB_RATIO)
        {
            let message = format!(
                "the layer expands to more than {} and over {BOMB_RATIO} times its {} stored \
                 bytes read; not read further (decompression bomb?) (see \
                 --max-decompressed-size)",
                human_size(self.limit),
                self.stored.get()
            );
            self.tripped.set(Some(message.clone()));
            return Err(io::Error::other(message));
        }
        Ok(n)
    }
}

/// The first bytes of the stream (fewer only at its end).
fn read_head(reader: &mut impl Read) -> io::Result<([u8; 6], usize)> {
    let mut head = [0u8; 6];
    let mut len = 0;
    while len < head.len() {
        match reader.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((head, len))
}

/// The codec, by magic bytes; the media type only breaks no tie, but a disagreement is logged.
fn compression(head: &[u8], media_type: &str) -> Result<Compression, String> {
    let found = match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [0xfd, b'7', b'z', b'X', b'Z', 0] => {
            return Err("xz-compressed layers are not supported".into());
        }
        [b'B', b'Z', b'h', ..] => return Err("bzip2-compressed layers are not supported".into()),
        _ => Compression::None,
    };
    let declared = if media_type.ends_with("gzip") {
        Some(Compression::Gzip)
    } else if media_type.ends_with("zstd") {
        Some(Compression::Zstd)
    } else if media_type.ends_with(".tar") {
        Some(Compression::None)
    } else {
        None
    };
    if declared.is_some_and(|d| d != found) {
        log::debug!(
            "layer says {media_type} but its bytes are {found:?}; reading them as {found:?}"
        );
    }
    Ok(found)
}

/// Reads tar entries: whiteouts and paths are recorded, regular files scanned.
fn walk(
    reader: impl Read,
    job: &Job,
    options: &ImageOptions,
    seen: &Mutex<HashSet<[u8; 32]>>,
    sink: &mut impl BlobSink,
    listing: &mut Listing,
) -> Result<(), String> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| format!("cannot read the layer's tar: {e}"))?;
    let mut buf = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("cannot read the layer's tar: {e}"))?;
        let kind = entry.header().entry_type();
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = normalize(&raw_path);
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", &path));
        if let Some(target) = name.strip_prefix(".wh.") {
            if target == ".wh..opq" {
                listing.opaque.insert(dir.to_string());
            } else if dir.is_empty() {
                listing.whiteouts.insert(target.to_string());
            } else {
                listing.whiteouts.insert(format!("{dir}/{target}"));
            }
            continue;
        }
        if path.is_empty() {
            continue;
        }
        listing.entries.insert(path.clone().into_boxed_str(), kind.is_dir());
        if !matches!(kind, EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse) {
            continue;
        }
        let what = || format!("{}/layer {}/{raw_path}", job.image.display(), job.layer_index);
        if entry.size() > options.max_file_size {
            sink.skipped(&what(), Skip::TooLarge);
            continue;
        }
        buf.clear();
        (&mut entry)
            .take(options.max_file_size.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read {raw_path:?} in the layer: {e}"))?;
        if buf.len() as u64 > options.max_file_size {
            sink.skipped(&what(), Skip::TooLarge);
            continue;
        }
        let utf8 = utf16_to_utf8(&buf);
        // Archives go on to the sink, which opens them.
        if utf8.is_none() && skip_as_binary(&buf, options.scan_binary, &options.archives) {
            sink.skipped(&what(), Skip::Binary);
            continue;
        }
        let hash: [u8; 32] = Sha256::digest(&buf).into();
        let path: Arc<str> = Arc::from(raw_path);
        listing.files.push((path.clone(), hash));
        let first = seen.lock().map(|mut s| s.insert(hash)).unwrap_or(true);
        if !first {
            continue;
        }
        // Built only when the content has a finding.
        let mut provenance = || {
            vec![Provenance::ImageFile {
                image: job.image.clone(),
                layer_index: job.layer_index,
                layer_digest: job.blob.digest.clone(),
                path: path.to_string(),
                blob: format!("sha256:{}", hex(&hash)),
                created_by: job.created_by.clone(),
                removed_in: None,
            }]
        };
        sink.blob_at(utf8.as_deref().unwrap_or(&buf), &mut provenance, None);
        if buf.capacity() > 16 << 20 {
            buf = Vec::new();
        }
    }
    Ok(())
}

/// A tar path as compared across layers: no leading `/` or `./`, no trailing `/`.
pub fn normalize(path: &str) -> String {
    let mut path = layer_relative(path);
    while path.ends_with('/') {
        path.pop();
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding() {
        let mut upper = Listing::default();
        upper.whiteouts.insert("app/.env".into());
        upper.whiteouts.insert("old".into());
        upper.opaque.insert("cache".into());
        upper.entries.insert("etc/conf".into(), false);
        upper.entries.insert("link".into(), false);
        upper.entries.insert("app".into(), true);
        assert!(upper.hides("app/.env"));
        assert!(!upper.hides("app/main.py"));
        assert!(upper.hides("old/deep/file"));
        assert!(upper.hides("cache/x"));
        assert!(upper.hides("etc/conf"));
        assert!(upper.hides("link/inside"));
        assert!(!upper.hides("etc/other"));
    }

    #[test]
    fn paths_are_normalised_for_comparison_only() {
        assert_eq!(normalize("./app/"), "app");
        assert_eq!(normalize("/etc/passwd"), "etc/passwd");
        assert_eq!(normalize("../up"), "../up");
        assert_eq!(normalize("./"), "");
    }

    #[test]
    fn codecs_by_magic() {
        assert_eq!(compression(&[0x1f, 0x8b, 8], ""), Ok(Compression::Gzip));
        assert_eq!(compression(&[0x28, 0xb5, 0x2f, 0xfd], "x+gzip"), Ok(Compression::Zstd));
        assert_eq!(compression(b"app/", "x+gzip"), Ok(Compression::None));
        assert!(compression(&[0xfd, b'7', b'z', b'X', b'Z', 0], "").is_err());
    }
}

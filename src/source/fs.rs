//! Working trees, files and standard input.
//!
//! Directories are walked with `ignore`'s parallel walker: hidden files are included (`.env`,
//! `.aws/credentials` and `.github/` are where keys live), `.gitignore`, `.ignore` and
//! `.keysweepignore` are honoured unless `no_ignore`, `.git/` is never entered and symlinks are
//! not followed (so no loops). Small files are read into a per-thread buffer. Large text files
//! are streamed in windows ([`log::scan_plain`]), never memory-mapped: a file another process
//! truncates while mapped raises SIGBUS and kills the scan, and in a working tree files change
//! under us (builds, editors, log rotation). Large archives and UTF-16 files are read whole,
//! within the size limit. Binary files (a NUL in the first 8 KiB) are skipped unless asked.

use std::{
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
};

use globset::GlobSet;
use ignore::{WalkBuilder, WalkState};

use super::{
    BINARY_SNIFF_LEN, BlobSink, InputError, Skip,
    archive::{self, ArchiveOptions},
    log::{self, LogSink},
    skip_as_binary, utf16_to_utf8,
};
use crate::provenance::Provenance;

/// Text files at least this large are streamed in windows instead of read whole.
pub const STREAM_THRESHOLD: u64 = 1 << 20;

/// How to walk.
#[derive(Debug, Clone)]
pub struct FsOptions {
    /// Ignore `.gitignore`, `.ignore` and `.keysweepignore`.
    pub no_ignore: bool,
    /// Files larger than this are skipped.
    pub max_file_size: u64,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Scan files that look binary.
    pub scan_binary: bool,
    /// Paths (relative to their root) never read.
    pub exclude: Option<GlobSet>,
    /// How far archives found in files are opened.
    pub archives: ArchiveOptions,
}

/// Reads every root into sinks made by `make_sink`. `-` is standard input.
pub fn walk<S: BlobSink + LogSink>(
    roots: &[PathBuf],
    options: &FsOptions,
    make_sink: impl Fn() -> S + Sync,
) {
    for root in roots {
        if root.as_os_str() == "-" {
            let mut sink = make_sink();
            let mut data = Vec::new();
            match io::stdin().lock().read_to_end(&mut data) {
                Ok(_) => sink.blob(&data, Provenance::Stdin),
                Err(e) => BlobSink::error(
                    &mut sink,
                    InputError { input: "<stdin>".into(), message: e.to_string() },
                ),
            }
            continue;
        }
        match std::fs::metadata(root) {
            Err(e) => BlobSink::error(&mut make_sink(), input_error(root, &e)),
            Ok(meta) if meta.is_dir() => walk_dir(root, options, &make_sink),
            Ok(meta) => {
                let mut sink = make_sink();
                let name = root.file_name().map_or_else(
                    || root.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let provenance = Provenance::File { path: display(root), relative: name };
                let mut reader = Reader::default();
                reader.read(
                    root,
                    meta.is_file().then_some(meta.len()),
                    provenance,
                    options,
                    &mut sink,
                );
            }
        }
    }
}

fn walk_dir<S: BlobSink + LogSink>(
    root: &Path,
    options: &FsOptions,
    make_sink: &(impl Fn() -> S + Sync),
) {
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git");
    if options.no_ignore {
        builder.standard_filters(false).hidden(false);
    } else {
        builder.add_custom_ignore_filename(".keysweepignore");
    }
    builder.build_parallel().run(|| {
        let mut sink = make_sink();
        let mut reader = Reader::default();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    BlobSink::error(&mut sink, walk_error(root, err));
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.path();
            let relative = relative(root, path);
            let provenance = Provenance::File { path: display(path), relative: relative.clone() };
            if options.exclude.as_ref().is_some_and(|set| set.is_match(&relative)) {
                sink.skipped(&provenance.display_path(), Skip::Allowlisted);
                return WalkState::Continue;
            }
            let size = match entry.metadata() {
                Ok(meta) => meta.len(),
                Err(err) => {
                    BlobSink::error(&mut sink, walk_error(root, err));
                    return WalkState::Continue;
                }
            };
            reader.read(path, Some(size), provenance, options, &mut sink);
            WalkState::Continue
        })
    });
}

/// Reads one file, whole or streamed, and passes it to the sink.
#[derive(Default)]
struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    fn read(
        &mut self,
        path: &Path,
        size: Option<u64>,
        provenance: Provenance,
        options: &FsOptions,
        sink: &mut (impl BlobSink + LogSink),
    ) {
        if size.is_some_and(|s| s > options.max_file_size) {
            sink.skipped(&provenance.display_path(), Skip::TooLarge);
            return;
        }
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return BlobSink::error(sink, input_error(path, &e)),
        };
        self.buf.clear();
        if size.is_some_and(|s| s >= STREAM_THRESHOLD) {
            // The first block says whether the file is text to stream.
            let sniff = BINARY_SNIFF_LEN as u64;
            if let Err(e) = (&mut file).take(sniff).read_to_end(&mut self.buf) {
                return BlobSink::error(sink, input_error(path, &e));
            }
            let whole = matches!(self.buf.get(..2), Some([0xFF, 0xFE] | [0xFE, 0xFF]))
                || (options.archives.enabled() && archive::detect(&self.buf).is_some());
            if !whole {
                if skip_as_binary(&self.buf, options.scan_binary, &options.archives) {
                    return sink.skipped(&provenance.display_path(), Skip::Binary);
                }
                let head = io::Cursor::new(std::mem::take(&mut self.buf));
                // Bounded: a file still growing is read up to the limit, not forever.
                let reader = head.chain(file).take(options.max_file_size);
                sink.streaming(&provenance.display_path());
                log::scan_plain(reader, &provenance, sink);
                return;
            }
        }
        // A FIFO or device named on the command line has no size: read it, bounded.
        let limit = options.max_file_size.saturating_add(1);
        let read = limit.saturating_sub(self.buf.len() as u64);
        match (&mut file).take(read).read_to_end(&mut self.buf) {
            Ok(_) if self.buf.len() as u64 > options.max_file_size => {
                sink.skipped(&provenance.display_path(), Skip::TooLarge)
            }
            Ok(_) => deliver(&self.buf, provenance, options, sink),
            Err(e) => BlobSink::error(sink, input_error(path, &e)),
        }
        if self.buf.capacity() > 4 * STREAM_THRESHOLD as usize {
            self.buf = Vec::new();
        }
    }
}

fn deliver(data: &[u8], provenance: Provenance, options: &FsOptions, sink: &mut impl BlobSink) {
    if let Some(utf8) = utf16_to_utf8(data) {
        sink.blob(&utf8, provenance);
    } else if skip_as_binary(data, options.scan_binary, &options.archives) {
        sink.skipped(&provenance.display_path(), Skip::Binary);
    } else {
        sink.blob(data, provenance);
    }
}

fn input_error(path: &Path, err: &io::Error) -> InputError {
    InputError { input: display(path), message: err.to_string() }
}

/// Names the path a walk error is about. The walker wraps errors in `WithDepth` (an unreadable
/// directory below the root is `WithDepth { WithPath { .. } }`), so unwrap that first; without a
/// path, the error is the root's.
fn walk_error(root: &Path, mut err: ignore::Error) -> InputError {
    loop {
        match err {
            ignore::Error::WithDepth { err: inner, .. } => err = *inner,
            ignore::Error::WithPath { path, err } => {
                return InputError { input: display(&path), message: err.to_string() };
            }
            other => return InputError { input: display(root), message: other.to_string() },
        }
    }
}

/// A path as the user sees it: as walked, without a leading `./`.
fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").map(str::to_string).unwrap_or_else(|| text.into_owned())
}

/// `path` relative to `root`, `/`-separated.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}

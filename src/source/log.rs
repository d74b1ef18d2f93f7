//! Build and CI logs (`keysweep log`): cleaned, streamed in bounded memory, cut into windows.
//!
//! A log is read in fixed-size chunks ([`DEFAULT_CHUNK`]), never whole, so a multi-gigabyte log
//! on standard input costs a few MiB. Each chunk is cleaned as it arrives, carrying state
//! across chunk boundaries ([`Cleaner`]):
//!
//! - ANSI escape sequences are removed: CSI (`ESC [ … final`, colours and cursor moves), OSC
//!   (`ESC ] … BEL|ESC \`, titles and hyperlinks), the other string escapes (DCS, SOS, PM, APC)
//!   and two-byte escapes.
//! - A timestamp prefix is removed, only at the start of a physical line and only in these
//!   shapes, each followed by a space: GitHub Actions' `2024-01-01T12:00:00.1234567Z`, other
//!   ISO-8601 (`…T…` with optional fraction and `Z`/offset, or with a space instead of `T`, and
//!   `,` or `.` before the fraction as log4j and Python write it), and any of these or a bare
//!   `HH:MM:SS[.fff]` in square brackets.
//! - `\r\n` is a line end; a bare `\r` (a progress bar redrawing its line) starts a new logical
//!   line for matching, but the line number reported stays the physical (`\n`) one.
//!
//! Cleaned text goes into a window. When the window holds a chunk past its carried overlap it
//! is handed to a [`LogSink`] and trimmed to its last [`OVERLAP`] bytes, which start the next
//! window, so a secret cut by a chunk boundary is whole in one window. Each window names the
//! range of offsets whose secrets it reports: a secret is reported by the window where it
//! starts before the window's last [`TAIL`] bytes, and windows' ranges do not overlap, so each
//! secret is reported exactly once (by absolute offset), always with its whole text and
//! [`LEAD`] bytes of context before it.
//!
//! Gzip and zstd logs (`build.log.gz`) are decompressed as a stream. A zip (GitHub Actions'
//! downloaded logs: `1_job.txt`, `job/1_step.txt`) is opened with the archive code within its
//! size limit, and each member is a log of its own.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::InputError;
use super::archive::{self, ArchiveOptions};
use crate::provenance::Provenance;

/// Bytes read from a log at a time.
pub const DEFAULT_CHUNK: usize = 1 << 20;

/// Bytes a window keeps after the end of the range it reports: the longest secret a rule
/// matches plus what follows it that a match looks at. A PEM RSA-4096 private key is about
/// 3.3 KB, and an AWS key pair may be 2 KiB apart ([`crate::matcher::aws::PAIR_DISTANCE`]);
/// 12 KiB covers both with room.
pub const TAIL: usize = 12 * 1024;

/// Bytes of context a window keeps before the range it reports: a keyword before its secret,
/// or the key id before its paired secret key (2 KiB at most).
pub const LEAD: usize = 4 * 1024;

/// Bytes carried from one window to the next.
pub const OVERLAP: usize = TAIL + LEAD;

/// Longest timestamp prefix recognised, with its brackets and space.
const MAX_PREFIX: usize = 48;

/// Longest escape sequence removed; a longer one is taken to be text after all.
const MAX_ESCAPE: usize = 4096;

/// How to read logs.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// Bytes read at a time (at least 1; tests use small chunks to put boundaries in places).
    pub chunk: usize,
    /// Limits for a zip of logs.
    pub archives: ArchiveOptions,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions { chunk: DEFAULT_CHUNK, archives: ArchiveOptions::default() }
    }
}

/// Cleaned text to match, with what it takes to place and de-duplicate what is found.
#[derive(Debug)]
pub struct Window<'a> {
    /// Cleaned text: logical lines joined by `\n`.
    pub data: &'a [u8],
    /// Offset of `data[0]` in the whole cleaned log.
    pub base: u64,
    /// Report only secrets starting in `data[report_from..report_to]`.
    pub report_from: usize,
    /// See `report_from`.
    pub report_to: usize,
    /// Code points of the first line that lie before `data[0]` (it was cut by the previous
    /// window's trim): add to the columns of matches on line 1.
    pub first_column: usize,
    /// The physical (log) line number of each line of `data`: `lines[0]` for the first.
    pub lines: &'a [u64],
}

impl Window<'_> {
    /// The log's line number for line `line` (1-based) of this window.
    pub fn physical_line(&self, line: usize) -> usize {
        let at = line.saturating_sub(1).min(self.lines.len().saturating_sub(1));
        self.lines.get(at).map_or(line, |&n| n as usize)
    }
}

/// Receives what the log source reads. Matching is the sink's business.
pub trait LogSink {
    /// A window of cleaned text from the log at `provenance`.
    fn window(&mut self, window: &Window<'_>, provenance: &Provenance);
    /// Bytes of log read (decompressed, before cleaning; for counters and progress).
    fn read(&mut self, bytes: usize);
    /// A log that could not be read (in whole or in part).
    fn error(&mut self, error: InputError);
    /// A log finished (for counters).
    fn finished(&mut self) {}
}

/// Reads one input (`-` is standard input) into `sink`.
pub fn read_input(input: &Path, options: &LogOptions, sink: &mut impl LogSink) {
    if input.as_os_str() == "-" {
        let stdin = io::stdin();
        return read_stream(stdin.lock(), "<stdin>", options, sink);
    }
    let name = display(input);
    match File::open(input) {
        Ok(file) => {
            let is_zip = zip_magic(&file);
            if is_zip {
                return read_zip(input, &file, &name, options, sink);
            }
            read_stream(file, &name, options, sink);
        }
        Err(e) => sink.error(InputError { input: name, message: e.to_string() }),
    }
}

/// True when the file starts with a zip local header (the file position is left at 0).
fn zip_magic(mut file: &File) -> bool {
    use std::io::{Seek, SeekFrom};
    let mut magic = [0u8; 4];
    let ok = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    let rewound = file.seek(SeekFrom::Start(0)).is_ok();
    ok && rewound
}

/// A plain, gzip or zstd stream. A zip on standard input is read whole (within the archive
/// size limit) and opened.
fn read_stream(mut reader: impl Read, name: &str, options: &LogOptions, sink: &mut impl LogSink) {
    let mut magic = Vec::with_capacity(4);
    if let Err(e) = (&mut reader).take(4).read_to_end(&mut magic) {
        sink.error(InputError { input: name.to_string(), message: e.to_string() });
        return;
    }
    let provenance = Provenance::Log { name: name.to_string() };
    let reader = io::Cursor::new(magic.clone()).chain(reader);
    match archive::detect(&magic) {
        Some(archive::Kind::Gzip) => {
            let decoder = flate2::read::MultiGzDecoder::new(reader);
            scan_reader(decoder, &provenance, options, sink)
        }
        Some(archive::Kind::Zstd) => match zstd::stream::read::Decoder::new(reader) {
            Ok(decoder) => scan_reader(decoder, &provenance, options, sink),
            Err(e) => sink.error(InputError { input: name.to_string(), message: e.to_string() }),
        },
        Some(archive::Kind::Zip) => {
            let mut data = Vec::new();
            let limit = options.archives.max_size;
            match reader.take(limit.saturating_add(1)).read_to_end(&mut data) {
                Ok(_) if data.len() as u64 > limit => sink.error(InputError {
                    input: name.to_string(),
                    message: format!("a zip of logs larger than {limit} bytes on standard input"),
                }),
                Ok(_) => read_zip_bytes(&data, name, options, sink),
                Err(e) => {
                    sink.error(InputError { input: name.to_string(), message: e.to_string() })
                }
            }
        }
        _ => scan_reader(reader, &provenance, options, sink),
    }
}

fn read_zip(path: &Path, file: &File, name: &str, options: &LogOptions, sink: &mut impl LogSink) {
    // Read, not mapped: a mapped file truncated by another process raises SIGBUS.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 30));
    match File::open(path).and_then(|mut f| f.read_to_end(&mut data)) {
        Ok(_) => read_zip_bytes(&data, name, options, sink),
        Err(e) => sink.error(InputError { input: name.to_string(), message: e.to_string() }),
    }
}

/// Each member of a zip of logs is a log.
fn read_zip_bytes(data: &[u8], name: &str, options: &LogOptions, sink: &mut impl LogSink) {
    struct Members<'s, S> {
        parent: Provenance,
        options: &'s LogOptions,
        sink: &'s mut S,
    }
    impl<S: LogSink> archive::Visit for Members<'_, S> {
        fn member(&mut self, path: &[String], data: &[u8]) {
            if archive::detect(data).is_some() {
                return;
            }
            let provenance = path.iter().fold(self.parent.clone(), |at, member| {
                Provenance::Nested { parent: Box::new(at), member: member.clone() }
            });
            scan_reader(data, &provenance, self.options, self.sink);
        }
        fn error(&mut self, path: &[String], error: archive::Error) {
            let mut input = self.parent.display_path();
            for member in path {
                input.push_str("!/");
                input.push_str(member);
            }
            self.sink.error(InputError { input, message: error.to_string() });
        }
    }
    let parent = Provenance::Log { name: name.to_string() };
    let archives = ArchiveOptions { max_depth: 1, ..options.archives };
    let base = name.rsplit('/').next().unwrap_or(name);
    archive::expand(data, base, &archives, &mut Members { parent, options, sink });
}

/// Reads, cleans and windows one log stream.
fn scan_reader(
    reader: impl Read,
    provenance: &Provenance,
    options: &LogOptions,
    sink: &mut impl LogSink,
) {
    stream(reader, Cleaner::default(), provenance, options.chunk, sink);
}

/// Windows a plain file as it is, bytes and lines untouched, in bounded memory: how the file
/// source reads a large text file instead of memory-mapping it (a mapped file that another
/// process truncates raises SIGBUS when the scan touches the lost pages).
pub fn scan_plain(reader: impl Read, provenance: &Provenance, sink: &mut impl LogSink) {
    stream(reader, Plain { line: 1 }, provenance, DEFAULT_CHUNK, sink);
}

/// Turns the bytes read into the text windows hold.
trait Feed {
    /// Takes `input`, the next bytes, writing text to `out` and, for each line it starts, its
    /// line number to `lines`.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, lines: &mut Vec<u64>);
    /// The input ended.
    fn finish(&mut self, out: &mut Vec<u8>, lines: &mut Vec<u64>);
}

impl Feed for Cleaner {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, lines: &mut Vec<u64>) {
        Cleaner::feed(self, input, out, lines);
    }
    fn finish(&mut self, out: &mut Vec<u8>, lines: &mut Vec<u64>) {
        Cleaner::finish(self, out, lines);
    }
}

/// Text as it is: one line per `\n`.
struct Plain {
    /// The line being read (1-based).
    line: u64,
}

impl Feed for Plain {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, lines: &mut Vec<u64>) {
        out.extend_from_slice(input);
        for _ in memchr::memchr_iter(b'\n', input) {
            self.line += 1;
            lines.push(self.line);
        }
    }
    fn finish(&mut self, _: &mut Vec<u8>, _: &mut Vec<u64>) {}
}

fn stream(
    mut reader: impl Read,
    mut feed: impl Feed,
    provenance: &Provenance,
    chunk: usize,
    sink: &mut impl LogSink,
) {
    let chunk = chunk.max(1);
    let mut buf = vec![0u8; chunk];
    let mut window = Windower::new(chunk);
    loop {
        let (n, error) = fill(&mut reader, &mut buf);
        sink.read(n);
        feed.feed(&buf[..n], &mut window.data, &mut window.lines);
        if window.full() {
            window.emit(false, provenance, sink);
        }
        if let Some(e) = error {
            sink.error(InputError { input: provenance.display_path(), message: e.to_string() });
            break;
        }
        if n < buf.len() {
            break;
        }
    }
    feed.finish(&mut window.data, &mut window.lines);
    window.emit(true, provenance, sink);
    sink.finished();
}

/// Reads until `buf` is full or the input ends (a pipe hands over at most its buffer per
/// read), so chunks are the same size however the input arrives. Returns the bytes read and
/// the error that stopped reading, if any.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// The cleaned text not yet handed on, and where it sits in the log.
struct Windower {
    data: Vec<u8>,
    lines: Vec<u64>,
    base: u64,
    first_column: usize,
    /// Absolute offset up to which secrets were reported.
    reported: u64,
    chunk: usize,
}

impl Windower {
    fn new(chunk: usize) -> Windower {
        Windower {
            data: Vec::with_capacity(chunk + OVERLAP),
            lines: vec![1],
            base: 0,
            first_column: 0,
            reported: 0,
            chunk,
        }
    }

    fn full(&self) -> bool {
        self.data.len() >= self.chunk + OVERLAP
    }

    /// Hands the window on, then (unless `last`) keeps only its last [`OVERLAP`] bytes.
    fn emit(&mut self, last: bool, provenance: &Provenance, sink: &mut impl LogSink) {
        let len = self.data.len();
        let report_to = if last { len } else { len.saturating_sub(TAIL) };
        let report_from = usize::try_from(self.reported - self.base).unwrap_or(0).min(report_to);
        sink.window(
            &Window {
                data: &self.data,
                base: self.base,
                report_from,
                report_to,
                first_column: self.first_column,
                lines: &self.lines,
            },
            provenance,
        );
        self.reported = self.base + report_to as u64;
        if last {
            return;
        }
        let mut cut = len.saturating_sub(OVERLAP);
        while cut > 0 && (self.data[cut] & 0xC0) == 0x80 {
            cut -= 1;
        }
        let dropped = &self.data[..cut];
        let newlines = memchr::memchr_iter(b'\n', dropped).count();
        match memchr::memrchr(b'\n', dropped) {
            Some(at) => self.first_column = code_points(&dropped[at + 1..]),
            None => self.first_column += code_points(dropped),
        }
        self.lines.drain(..newlines.min(self.lines.len().saturating_sub(1)));
        self.data.drain(..cut);
        self.base += cut as u64;
    }
}

/// Code points as a lossy UTF-8 decoding shows them (each invalid sequence is one).
fn code_points(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|chunk| chunk.valid().chars().count() + usize::from(!chunk.invalid().is_empty()))
        .sum()
}

/// Where the cleaner is inside an escape sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Escape {
    #[default]
    None,
    /// After ESC.
    Start,
    /// After ESC and intermediate bytes (`ESC ( B`).
    Intermediate,
    /// In `ESC [ …`.
    Csi,
    /// In an OSC, DCS, SOS, PM or APC string, ended by BEL or ST.
    String,
    /// ESC inside such a string (ST is `ESC \`).
    StringEsc,
}

/// Streaming log cleaner: ANSI escapes, timestamp prefixes, `\r` handling (see the module
/// docs). Writes cleaned bytes to `out` and, for each line it starts, the log's line number
/// to `lines`.
#[derive(Debug, Default)]
pub struct Cleaner {
    escape: Escape,
    escape_len: usize,
    /// The log's current line number, 0 before the first byte.
    physical: u64,
    /// A `\r` was seen and the next byte decides what it was.
    pending_cr: bool,
    /// Raw bytes at the start of a physical line, held until a timestamp can be ruled out.
    head: Vec<u8>,
    /// At the start of a physical line, collecting `head`.
    in_head: bool,
    started: bool,
}

impl Cleaner {
    /// Cleans `input`, the next bytes of the log.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, lines: &mut Vec<u64>) {
        if !self.started {
            self.started = true;
            self.physical = 1;
            self.in_head = true;
        }
        let mut i = 0;
        while i < input.len() {
            // Fast path: plain text up to the next byte that matters.
            if !self.in_head && !self.pending_cr && self.escape == Escape::None {
                let rest = &input[i..];
                let plain = memchr::memchr3(0x1b, b'\r', b'\n', rest).unwrap_or(rest.len());
                out.extend_from_slice(&rest[..plain]);
                i += plain;
                if i == input.len() {
                    break;
                }
            }
            self.byte(input[i], out, lines);
            i += 1;
        }
    }

    /// The log ended.
    pub fn finish(&mut self, out: &mut Vec<u8>, lines: &mut Vec<u64>) {
        if self.in_head {
            self.resolve_head(out, lines);
        }
        self.pending_cr = false;
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>, lines: &mut Vec<u64>) {
        if self.pending_cr {
            self.pending_cr = false;
            if b != b'\n' {
                // A bare `\r`: a new logical line on the same physical line.
                out.push(b'\n');
                lines.push(self.physical);
            }
        }
        if self.in_head {
            if b == b'\n' || b == b'\r' || self.head.len() >= MAX_PREFIX {
                self.resolve_head(out, lines);
            } else {
                self.head.push(b);
                return;
            }
        }
        self.text_byte(b, out, lines);
    }

    /// Strips a timestamp from the held line start and cleans the rest.
    fn resolve_head(&mut self, out: &mut Vec<u8>, lines: &mut Vec<u64>) {
        self.in_head = false;
        let mut head = std::mem::take(&mut self.head);
        let mut start = 0;
        if self.physical == 1 && head.starts_with(b"\xEF\xBB\xBF") {
            start = 3;
        }
        start += timestamp_prefix(&head[start..]);
        for &b in &head[start..] {
            self.text_byte(b, out, lines);
        }
        head.clear();
        self.head = head;
    }

    fn text_byte(&mut self, b: u8, out: &mut Vec<u8>, lines: &mut Vec<u64>) {
        // A byte that is not part of the escape after all falls through as text.
        if self.escape != Escape::None && self.escape_byte(b) {
            return;
        }
        match b {
            b'\n' => {
                out.push(b'\n');
                self.physical += 1;
                lines.push(self.physical);
                self.in_head = true;
            }
            b'\r' => self.pending_cr = true,
            0x1b => {
                self.escape = Escape::Start;
                self.escape_len = 0;
            }
            _ => out.push(b),
        }
    }

    /// Consumes `b` as part of an escape sequence; false when it ends the sequence without
    /// belonging to it (a line end, an overlong sequence).
    fn escape_byte(&mut self, b: u8) -> bool {
        self.escape_len += 1;
        if b == b'\n' || b == b'\r' || self.escape_len > MAX_ESCAPE {
            self.escape = Escape::None;
            return false;
        }
        self.escape = match (self.escape, b) {
            (Escape::Start, b'[') => Escape::Csi,
            (Escape::Start, b']' | b'P' | b'X' | b'^' | b'_') => Escape::String,
            (Escape::Start | Escape::Intermediate, 0x20..=0x2f) => Escape::Intermediate,
            (Escape::Start | Escape::Intermediate, 0x30..=0x7e) => Escape::None,
            (Escape::Start | Escape::Intermediate, _) => {
                self.escape = Escape::None;
                return false;
            }
            (Escape::Csi, 0x20..=0x3f) => Escape::Csi,
            (Escape::Csi, 0x40..=0x7e) => Escape::None,
            (Escape::Csi, _) => {
                self.escape = Escape::None;
                return false;
            }
            (Escape::String, 0x07) => Escape::None,
            (Escape::String, 0x1b) => Escape::StringEsc,
            (Escape::String, _) => Escape::String,
            (Escape::StringEsc, b'\\') => Escape::None,
            (Escape::StringEsc, _) => Escape::String,
            (Escape::None, _) => return false,
        };
        true
    }
}

/// Length of a timestamp prefix at the start of `line`, with the space after it; 0 if none.
pub fn timestamp_prefix(line: &[u8]) -> usize {
    if let Some(rest) = line.strip_prefix(b"[") {
        let inner = date_time(rest).or_else(|| clock(rest)).unwrap_or(0);
        if inner > 0 && rest.get(inner) == Some(&b']') {
            let end = 1 + inner + 1;
            return end + usize::from(line.get(end) == Some(&b' '));
        }
        return 0;
    }
    match date_time(line) {
        Some(n) if line.get(n) == Some(&b' ') => n + 1,
        _ => 0,
    }
}

/// `YYYY-MM-DD[T ]HH:MM:SS[(.|,)fraction][Z|±HH:MM|±HHMM]`: its length.
fn date_time(s: &[u8]) -> Option<usize> {
    let shape = b"dddd-dd-dd";
    if s.len() < 19 || !fits(&s[..10], shape) || !matches!(s[10], b'T' | b' ') {
        return None;
    }
    let mut n = 11 + clock(&s[11..])?;
    if s[10] == b'T' {
        if s.get(n) == Some(&b'Z') {
            n += 1;
        } else if matches!(s.get(n), Some(b'+' | b'-')) {
            let zone = &s[n + 1..];
            if zone.len() >= 5 && fits(&zone[..5], b"dd:dd") {
                n += 6;
            } else if zone.len() >= 4 && fits(&zone[..4], b"dddd") {
                n += 5;
            }
        }
    }
    Some(n)
}

/// `HH:MM:SS[(.|,)fraction]`: its length.
fn clock(s: &[u8]) -> Option<usize> {
    if s.len() < 8 || !fits(&s[..8], b"dd:dd:dd") {
        return None;
    }
    let mut n = 8;
    if matches!(s.get(8), Some(b'.' | b',')) {
        let digits = s[9..].iter().take(9).take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            n += 1 + digits;
        }
    }
    Some(n)
}

/// `s` matches `shape`, where `d` is a digit and other bytes stand for themselves.
fn fits(s: &[u8], shape: &[u8]) -> bool {
    s.len() == shape.len()
        && s.iter().zip(shape).all(|(&c, &p)| if p == b'd' { c.is_ascii_digit() } else { c == p })
}

/// A path as the user gave it, without a leading `./`.
fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").map(str::to_string).unwrap_or_else(|| text.into_owned())
}

/// Inputs as given: `-` or none means standard input.
pub fn inputs(given: &[PathBuf]) -> Vec<PathBuf> {
    if given.is_empty() { vec![PathBuf::from("-")] } else { given.to_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(input: &[u8], split: usize) -> (String, Vec<u64>) {
        let mut cleaner = Cleaner::default();
        let (mut out, mut lines) = (Vec::new(), vec![1]);
        for piece in input.chunks(split.max(1)) {
            cleaner.feed(piece, &mut out, &mut lines);
        }
        cleaner.finish(&mut out, &mut lines);
        (String::from_utf8_lossy(&out).into_owned(), lines)
    }

    #[test]
    fn strips_ansi_and_timestamps_in_any_split() {
        let log = "\u{feff}2024-01-01T12:00:00.1234567Z \x1b[32mok\x1b[0m key=A\n\
                   [12:00:01] \x1b]0;title\x07plain \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n\
                   2024-01-01 12:00:02,123 INFO x\r\n\
                   not 2024-01-01T12:00:00Z here\n\
                   50%\r100%\rdone\n\
                   [2024-01-01T12:00:00Z] y\n\x1b(Bz";
        for split in [1, 2, 3, 7, 64, 4096] {
            let (text, lines) = clean(log.as_bytes(), split);
            assert_eq!(
                text,
                "ok key=A\nplain link\nINFO x\nnot 2024-01-01T12:00:00Z here\n50%\n100%\ndone\ny\nz",
                "split {split}"
            );
            assert_eq!(lines, [1, 2, 3, 4, 5, 5, 5, 6, 7], "split {split}");
        }
    }

    #[test]
    fn timestamp_shapes() {
        assert_eq!(timestamp_prefix(b"2024-01-01T12:00:00.1234567Z x"), 29);
        assert_eq!(timestamp_prefix(b"2024-01-01T12:00:00+01:00 x"), 26);
        assert_eq!(timestamp_prefix(b"2024-01-01 12:00:00,123 x"), 24);
        assert_eq!(timestamp_prefix(b"[12:00:00] x"), 11);
        assert_eq!(timestamp_prefix(b"[12:00:00.5]x"), 12);
        assert_eq!(timestamp_prefix(b"2024-01-01T12:00:00Zx"), 0, "no space after");
        assert_eq!(timestamp_prefix(b"2024-01-01 x"), 0);
        assert_eq!(timestamp_prefix(b"[12:00]"), 0);
        assert_eq!(timestamp_prefix(b"12:00:00 x"), 0, "bare clocks stay");
    }

    #[derive(Default)]
    struct Collect {
        text: Vec<u8>,
        reported: Vec<(u64, u64)>,
    }

    impl LogSink for Collect {
        fn window(&mut self, w: &Window<'_>, _: &Provenance) {
            assert!(w.report_from <= w.report_to && w.report_to <= w.data.len());
            self.reported.push((w.base + w.report_from as u64, w.base + w.report_to as u64));
            let at = usize::try_from(w.base).expect("fits");
            self.text.truncate(at);
            self.text.extend_from_slice(w.data);
            assert_eq!(w.lines.len(), memchr::memchr_iter(b'\n', w.data).count() + 1);
        }
        fn read(&mut self, _: usize) {}
        fn error(&mut self, e: InputError) {
            panic!("{e}")
        }
    }

    #[test]
    fn windows_cover_the_log_once() {
        let mut log = Vec::new();
        for i in 0..20_000 {
            log.extend_from_slice(format!("line {i} \x1b[1mbold\x1b[0m\r\n").as_bytes());
        }
        let options = LogOptions { chunk: 4096, ..LogOptions::default() };
        let mut sink = Collect::default();
        scan_reader(&log[..], &Provenance::Stdin, &options, &mut sink);
        let (want, _) = clean(&log, 1 << 20);
        assert_eq!(String::from_utf8_lossy(&sink.text), want);
        let mut at = 0;
        for (from, to) in &sink.reported {
            assert_eq!(*from, at);
            at = *to;
        }
        assert_eq!(at, want.len() as u64);
    }

    #[test]
    fn plain_windows_keep_the_file_as_it_is() {
        // Escapes, `\r` and timestamps stay; each window's lines are the file's lines.
        let mut file = Vec::new();
        for i in 0..120_000 {
            file.extend_from_slice(format!("2024-01-01T12:00:00Z \x1b[1m{i}\r\n").as_bytes());
        }
        struct Lines(Collect, Vec<(u64, usize)>);
        impl LogSink for Lines {
            fn window(&mut self, w: &Window<'_>, p: &Provenance) {
                // The number on the window's third line is that line's number less one.
                let third = w.data.split(|&b| b == b'\n').nth(2).expect("three lines");
                let digits: Vec<u8> =
                    third.iter().copied().skip(25).take_while(u8::is_ascii_digit).collect();
                if !digits.is_empty() && third.starts_with(b"2024") {
                    let n: u64 = String::from_utf8_lossy(&digits).parse().expect("number");
                    self.1.push((n + 1, w.physical_line(3)));
                }
                self.0.window(w, p);
            }
            fn read(&mut self, _: usize) {}
            fn error(&mut self, e: InputError) {
                panic!("{e}")
            }
        }
        let mut sink = Lines(Collect::default(), Vec::new());
        scan_plain(&file[..], &Provenance::Stdin, &mut sink);
        assert_eq!(sink.0.text, file);
        assert!(sink.1.len() > 2, "several windows: {:?}", sink.1);
        for (want, got) in &sink.1 {
            assert_eq!(*want, *got as u64);
        }
        let mut at = 0;
        for (from, to) in &sink.0.reported {
            assert_eq!(*from, at);
            at = *to;
        }
        assert_eq!(at, file.len() as u64);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let alphabet = b"\x1b[]();:0123456789-TZ \r\n\x07\\PKab\xc3\xa9\xff";
        for round in 0..300 {
            let len = (next() % 20_000) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if round % 2 == 0 { r as u8 } else { alphabet[(r as usize) % alphabet.len()] }
                })
                .collect();
            let options =
                LogOptions { chunk: 1 + (next() % 5000) as usize, ..LogOptions::default() };
            let mut sink = Collect::default();
            scan_reader(&data[..], &Provenance::Stdin, &options, &mut sink);
            let _ = clean(&data, 1 + round);
        }
    }
}

//! Archives inside blobs: zip (jar, war, ear, wheel), tar, gzip (`.gz`, `.tar.gz`, `.tgz`) and
//! zstd (`.zst`, `.tar.zst`), opened in memory and walked member by member.
//!
//! Pure over bytes: no file system, no matching. [`detect`] looks at magic bytes only (file
//! names lie); [`expand`] hands every member, at every nesting level, to a [`Visit`] with its
//! path inside the top-level blob (`["inner.jar", "BOOT-INF/a.properties"]`), and opens members
//! that are themselves archives, up to [`ArchiveOptions::max_depth`] levels.
//!
//! Decompression bombs are the threat. Nothing is written to disk, and no size written in a
//! header is believed: every byte a decompressor produces is counted against one budget per
//! top-level blob ([`ArchiveOptions::max_size`]) through a metering reader, whose limit is
//! enforced on the read itself (a zip entry that claims 1 KiB and inflates to 1 GiB stops at the
//! budget, as does a gzip of zeros or a 42.zip-style tree of copies). A member is read whole
//! into memory only after it fits the budget, so peak memory per blob is about the budget plus
//! the blob. Bytes that need no decompression (a plain tar's entries, stored zip entries are
//! still counted) are not counted twice. When the budget runs out the whole expansion stops
//! and the member being read is reported as [`Error::TooLarge`]; members read before it stand.
//!
//! A damaged archive is reported and whatever can still be read is: a zip whose central
//! directory is missing (truncated) is read again from its local headers, a tar or gzip stream
//! up to the damage.

use std::cell::Cell;
use std::io::{self, Cursor, Read};

/// Default of `--max-archive-depth`.
pub const DEFAULT_MAX_DEPTH: usize = 4;
/// Default of `--max-decompressed-size`: 256 MiB per top-level blob.
pub const DEFAULT_MAX_SIZE: u64 = 256 << 20;

/// How far to open archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveOptions {
    /// Levels of archives opened: 1 opens `a.zip` but not `a.zip!/b.jar`; 0 opens none.
    pub max_depth: usize,
    /// Bytes all decompression of one top-level blob may produce, nested levels included.
    pub max_size: u64,
    /// Scan members that look binary (and are not archives) instead of skipping them.
    pub scan_binary: bool,
    /// How deep encoded text (base64, JSON escapes...) in every blob and member is decoded.
    pub decode: crate::decode::DecodeOptions,
}

impl Default for ArchiveOptions {
    fn default() -> Self {
        ArchiveOptions {
            max_depth: DEFAULT_MAX_DEPTH,
            max_size: DEFAULT_MAX_SIZE,
            scan_binary: false,
            decode: crate::decode::DecodeOptions::default(),
        }
    }
}

impl ArchiveOptions {
    /// True when archives are opened at all.
    pub fn enabled(&self) -> bool {
        self.max_depth > 0
    }
}

/// A kind of archive, told by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `PK\x03\x04`: zip, jar, war, ear, wheel, apk, docx...
    Zip,
    /// `1f 8b 08`: gzip (a `.tar.gz` is a gzip whose content is a tar).
    Gzip,
    /// `28 b5 2f fd`: a zstd frame.
    Zstd,
    /// `ustar` at offset 257: a POSIX or GNU tar.
    Tar,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Zip => "zip",
            Kind::Gzip => "gzip",
            Kind::Zstd => "zstd",
            Kind::Tar => "tar",
        }
    }
}

/// The archive kind of `data`, by magic bytes.
pub fn detect(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::Gzip)
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Kind::Zstd)
    } else if is_tar(data) {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// `ustar` at offset 257 and a header checksum that adds up (so that text which happens to
/// hold `ustar` there is not taken for a tar).
fn is_tar(data: &[u8]) -> bool {
    let Some(header) = data.get(..512) else { return false };
    if &header[257..262] != b"ustar" {
        return false;
    }
    let field = &header[148..156];
    let digits: String =
        field.iter().map(|&b| b as char).filter(|c| !matches!(c, ' ' | '\0')).collect();
    let Ok(stored) = u32::from_str_radix(&digits, 8) else { return false };
    let sum: u32 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { u32::from(b' ') } else { u32::from(b) })
        .sum();
    sum == stored
}

/// Why an archive, or one member of it, could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Decompression produced more than the budget: likely a decompression bomb. The
    /// expansion of the whole top-level blob stopped here.
    #[error(
        "expands to more than {} in total; not opened further (decompression bomb?)",
        human_size(*limit)
    )]
    TooLarge {
        /// The budget, in bytes.
        limit: u64,
    },
    /// An archive nested deeper than the depth limit (reported for the first such member of
    /// a top-level blob only).
    #[error("archive nested more than {limit} levels deep; not opened")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// The archive or member is damaged, encrypted or uses an unsupported method.
    #[error("cannot read {kind} archive: {message}")]
    Corrupt {
        /// `zip`, `gzip`, `zstd` or `tar`.
        kind: &'static str,
        /// What the decoder said.
        message: String,
    },
}

/// Receives what [`expand`] finds.
pub trait Visit {
    /// A member, at any depth. `path` names it from the top-level blob, one element per level;
    /// a member that is itself an archive is visited before its own members.
    fn member(&mut self, path: &[String], data: &[u8]);
    /// A member or archive that could not be (fully) read; `path` is empty for the top-level
    /// blob itself.
    fn error(&mut self, path: &[String], error: Error);
}

/// Opens `data` (an archive of any [`Kind`], `name` being its file name, used to name the
/// single member of a plain `.gz`) and visits its members, recursively. Does nothing when
/// `data` is not an archive or expansion is disabled.
pub fn expand(data: &[u8], name: &str, options: &ArchiveOptions, visit: &mut impl Visit) {
    let Some(kind) = detect(data) else { return };
    if !options.enabled() {
        return;
    }
    let budget = Budget { remaining: Cell::new(options.max_size), exceeded: Cell::new(false) };
    let mut walker = Walker {
        options: *options,
        budget: &budget,
        path: Vec::new(),
        visit: &mut *visit,
        too_deep: false,
    };
    if let Err(Stop) = walker.archive(data, name, kind, 1) {
        // Already reported where the budget ran out.
    }
}

/// Bytes all decompressors of one top-level blob may still produce.
struct Budget {
    remaining: Cell<u64>,
    exceeded: Cell<bool>,
}

/// A reader that counts what it passes against a [`Budget`] and fails once the budget is
/// spent and more data follows. The limit holds whatever the archive's headers claim.
struct Metered<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let remaining = self.budget.remaining.get();
        if remaining == 0 {
            // Spent: one more byte means the stream is larger than allowed.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.budget.exceeded.set(true);
                    Err(io::Error::other("decompressed size limit reached"))
                }
            };
        }
        let max = buf.len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.budget.remaining.set(remaining - n as u64);
        Ok(n)
    }
}

/// The budget ran out: stop the whole expansion (already reported).
struct Stop;

/// Bytes of a decompressed stream looked at to tell a tar from a single file.
const TAR_SNIFF: usize = 512;

/// Largest buffer reserved up front for a member, whatever its header says.
const MAX_RESERVE: u64 = 1 << 20;

struct Walker<'a, V> {
    options: ArchiveOptions,
    budget: &'a Budget,
    path: Vec<String>,
    visit: &'a mut V,
    too_deep: bool,
}

impl<V: Visit> Walker<'_, V> {
    /// Walks one archive at nesting level `depth` (1 for the top-level blob).
    fn archive(&mut self, data: &[u8], name: &str, kind: Kind, depth: usize) -> Result<(), Stop> {
        match kind {
            Kind::Zip => self.zip(data, depth),
            Kind::Tar => self.tar(data, depth),
            Kind::Gzip => {
                let mut decoder = flate2::read::MultiGzDecoder::new(data);
                let inner = decoder
                    .header()
                    .and_then(|h| h.filename())
                    .map(|f| member_label(&String::from_utf8_lossy(f)))
                    .filter(|f| !f.is_empty());
                let member = inner.unwrap_or_else(|| strip_compression_suffix(name));
                let head = self.sniff(&mut decoder, &member, kind)?;
                self.stream(head, decoder, &member, kind, depth)
            }
            Kind::Zstd => match zstd::stream::read::Decoder::with_buffer(data) {
                Ok(mut decoder) => {
                    let member = strip_compression_suffix(name);
                    let head = self.sniff(&mut decoder, &member, kind)?;
                    self.stream(head, decoder, &member, kind, depth)
                }
                Err(e) => {
                    self.error(corrupt(kind, &e));
                    Ok(())
                }
            },
        }
    }

    /// Reads the first bytes of a decompressed stream. `None` when it failed (reported as
    /// an error of `member`, the name the stream's content would have).
    fn sniff(
        &mut self,
        reader: &mut impl Read,
        member: &str,
        kind: Kind,
    ) -> Result<Option<Vec<u8>>, Stop> {
        let mut head = Vec::with_capacity(TAR_SNIFF);
        let mut metered = Metered { inner: reader, budget: self.budget };
        match (&mut metered).take(TAR_SNIFF as u64).read_to_end(&mut head) {
            Ok(_) => Ok(Some(head)),
            Err(e) => {
                self.path.push(member.to_string());
                let result = self.read_failed(kind, &e);
                self.path.pop();
                result.map(|()| None)
            }
        }
    }

    /// A decompressed stream: a tar's entries, or one member.
    fn stream(
        &mut self,
        head: Option<Vec<u8>>,
        rest: impl Read,
        member: &str,
        kind: Kind,
        depth: usize,
    ) -> Result<(), Stop> {
        let Some(head) = head else { return Ok(()) };
        let reader = Cursor::new(head).chain(Metered { inner: rest, budget: self.budget });
        let is_tar = is_tar(reader.get_ref().0.get_ref());
        if is_tar {
            return self.tar(reader, depth);
        }
        self.path.push(member.to_string());
        let mut data = Vec::new();
        let result = match read_all(reader, &mut data, MAX_RESERVE) {
            Ok(()) => self.member(&data, member, depth),
            Err(e) => self.read_failed(kind, &e),
        };
        self.path.pop();
        result
    }

    fn zip(&mut self, data: &[u8], depth: usize) -> Result<(), Stop> {
        let mut archive = match zip::ZipArchive::new(Cursor::new(data)) {
            Ok(archive) => archive,
            Err(e) => {
                self.error(corrupt(Kind::Zip, &e));
                // Truncated or damaged at the end: the local headers may still be readable.
                return self.zip_stream(data, depth);
            }
        };
        for index in 0..archive.len() {
            let listed = archive.name_for_index(index).map(str::to_string);
            let mut file = match archive.by_index(index) {
                Ok(file) => file,
                Err(e) => {
                    self.path.push(listed.unwrap_or_else(|| format!("entry {index}")));
                    self.error(corrupt(Kind::Zip, &e));
                    self.path.pop();
                    continue;
                }
            };
            if file.is_dir() {
                continue;
            }
            let name = member_label(file.name());
            let reserve = file.size().min(MAX_RESERVE);
            self.path.push(name.clone());
            let mut member = Vec::new();
            let read =
                read_all(Metered { inner: &mut file, budget: self.budget }, &mut member, reserve);
            let result = match read {
                Ok(()) => self.member(&member, &name, depth),
                Err(e) => self.read_failed(Kind::Zip, &e),
            };
            self.path.pop();
            result?;
        }
        Ok(())
    }

    /// Reads a zip front to back by its local headers (for a zip with no central directory).
    fn zip_stream(&mut self, data: &[u8], depth: usize) -> Result<(), Stop> {
        let mut cursor = Cursor::new(data);
        loop {
            let mut file = match zip::read::read_zipfile_from_stream(&mut cursor) {
                Ok(Some(file)) => file,
                Ok(None) => return Ok(()),
                // The damage itself was reported with the central directory's error.
                Err(e) => {
                    log::debug!("zip local headers: {e}");
                    return Ok(());
                }
            };
            if file.is_dir() {
                continue;
            }
            let name = member_label(file.name());
            let reserve = file.size().min(MAX_RESERVE);
            let mut member = Vec::new();
            let read =
                read_all(Metered { inner: &mut file, budget: self.budget }, &mut member, reserve);
            drop(file);
            self.path.push(name.clone());
            let result = match read {
                Ok(()) => self.member(&member, &name, depth),
                Err(e) => {
                    let result = self.read_failed(Kind::Zip, &e);
                    self.path.pop();
                    result?;
                    return Ok(());
                }
            };
            self.path.pop();
            result?;
        }
    }

    /// Walks a tar's regular files. A decompressed stream comes metered; a plain tar's
    /// entries are slices of bytes already counted, and are not counted again.
    fn tar(&mut self, reader: impl Read, depth: usize) -> Result<(), Stop> {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => return self.read_failed(Kind::Tar, &e),
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(e) => return self.read_failed(Kind::Tar, &e),
            };
            // Sparse entries are skipped: their holes are zeros that no stream byte pays for.
            if !matches!(
                entry.header().entry_type(),
                tar::EntryType::Regular | tar::EntryType::Continuous
            ) {
                continue;
            }
            let name = member_label(&String::from_utf8_lossy(&entry.path_bytes()));
            let reserve = entry.size().min(MAX_RESERVE);
            let mut member = Vec::new();
            let read = read_all(&mut entry, &mut member, reserve);
            self.path.push(name.clone());
            let result = match read {
                Ok(()) => self.member(&member, &name, depth),
                Err(e) => {
                    // A tar stream cannot be resynchronised after a failed read.
                    let result = self.read_failed(Kind::Tar, &e);
                    self.path.pop();
                    return result;
                }
            };
            self.path.pop();
            result?;
        }
        Ok(())
    }

    /// One member read whole, its path already pushed: visit it, then open it if it is an
    /// archive.
    fn member(&mut self, data: &[u8], name: &str, depth: usize) -> Result<(), Stop> {
        self.visit.member(&self.path, data);
        let Some(kind) = detect(data) else { return Ok(()) };
        if depth >= self.options.max_depth {
            // Once per top-level blob: a tree of copies would otherwise report every leaf.
            if !self.too_deep {
                self.too_deep = true;
                self.error(Error::TooDeep { limit: self.options.max_depth });
            }
            return Ok(());
        }
        let base = name.rsplit('/').next().unwrap_or(name);
        self.archive(data, base, kind, depth + 1)
    }

    /// A read failed: the budget ran out (stop everything) or the data is damaged (reported;
    /// the caller goes on as it can).
    fn read_failed(&mut self, kind: Kind, error: &io::Error) -> Result<(), Stop> {
        if self.budget.exceeded.get() {
            self.error(Error::TooLarge { limit: self.options.max_size });
            return Err(Stop);
        }
        self.error(corrupt(kind, error));
        Ok(())
    }

    fn error(&mut self, error: Error) {
        self.visit.error(&self.path, error);
    }
}

/// `256 MiB`, `1 GiB`, `1000 bytes`.
pub(crate) fn human_size(bytes: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

fn corrupt(kind: Kind, error: &dyn std::fmt::Display) -> Error {
    Error::Corrupt { kind: kind.name(), message: error.to_string() }
}

/// Reads to the end, reserving at most `reserve` bytes up front (headers may lie). Budget
/// enforcement is the reader's ([`Metered`]).
fn read_all(mut reader: impl Read, out: &mut Vec<u8>, reserve: u64) -> io::Result<()> {
    out.reserve(usize::try_from(reserve).unwrap_or(0));
    reader.read_to_end(out).map(|_| ())
}

/// The name a member is reported under. Member names are chosen by whoever built the archive,
/// and reported paths end up in SARIF URIs and editors, which resolve `..`: `x.tar!/../../.env`
/// would point at the scanned tree's own `.env`. So leading `/`, empty and `.` segments are
/// dropped and `..` is written `%2E%2E`, which no resolver climbs.
fn member_label(name: &str) -> String {
    let mut label = String::with_capacity(name.len());
    for segment in name.split('/').filter(|segment| !segment.is_empty() && *segment != ".") {
        if !label.is_empty() {
            label.push('/');
        }
        label.push_str(if segment == ".." { "%2E%2E" } else { segment });
    }
    label
}

/// `app.log.gz` → `app.log`, `x.tgz` → `x.tar`, `x.zst` → `x`; other names stay.
fn strip_compression_suffix(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    for (suffix, replacement) in [(".tgz", ".tar"), (".gz", ""), (".zst", ""), (".zstd", "")] {
        if lower.ends_with(suffix) && name.len() > suffix.len() {
            return format!("{}{replacement}", &name[..name.len() - suffix.len()]);
        }
    }
    if name.is_empty() { "data".to_string() } else { name.to_string() }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[derive(Default)]
    struct Collect {
        members: Vec<(String, Vec<u8>)>,
        errors: Vec<(String, Error)>,
    }

    impl Visit for Collect {
        fn member(&mut self, path: &[String], data: &[u8]) {
            self.members.push((path.join("!/"), data.to_vec()));
        }
        fn error(&mut self, path: &[String], error: Error) {
            self.errors.push((path.join("!/"), error));
        }
    }

    fn run(data: &[u8], name: &str, options: ArchiveOptions) -> Collect {
        let mut collect = Collect::default();
        expand(data, name, &options, &mut collect);
        collect
    }

    fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, data) in entries {
            writer.start_file(*name, options).expect("start entry");
            writer.write_all(data).expect("write entry");
        }
        writer.finish().expect("finish zip").into_inner()
    }

    fn gzip_of(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).expect("gzip");
        encoder.finish().expect("gzip")
    }

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *data).expect("tar entry");
        }
        builder.into_inner().expect("tar")
    }

    #[test]
    fn detects_by_magic() {
        assert_eq!(
            detect(&zip_of(&[("a", b"x")], zip::CompressionMethod::Stored)),
            Some(Kind::Zip)
        );
        assert_eq!(detect(&gzip_of(b"x")), Some(Kind::Gzip));
        assert_eq!(detect(&tar_of(&[("a", b"x")])), Some(Kind::Tar));
        assert_eq!(detect(b"\x28\xb5\x2f\xfd...."), Some(Kind::Zstd));
        assert_eq!(detect(b"PK"), None);
        assert_eq!(detect(b"plain text"), None);
    }

    #[test]
    fn member_labels_cannot_climb_out() {
        assert_eq!(member_label("../../etc/passwd"), "%2E%2E/%2E%2E/etc/passwd");
        assert_eq!(member_label("/tmp//./a.env"), "tmp/a.env");
        assert_eq!(member_label("dir/b..c/x.txt"), "dir/b..c/x.txt");
        assert_eq!(member_label("./"), "");
    }

    #[test]
    fn nested_members_are_named_by_path() {
        let inner = zip_of(&[("a.properties", b"k=v\n")], zip::CompressionMethod::Deflated);
        let tgz = gzip_of(&tar_of(&[("dir/b.txt", b"b\n"), ("inner.jar", &inner)]));
        let outer = zip_of(
            &[("x.tgz", &tgz), ("c.txt.gz", &gzip_of(b"c\n"))],
            zip::CompressionMethod::Deflated,
        );
        let got = run(&outer, "outer.zip", ArchiveOptions::default());
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        let names: Vec<&str> = got.members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "x.tgz",
                "x.tgz!/dir/b.txt",
                "x.tgz!/inner.jar",
                "x.tgz!/inner.jar!/a.properties",
                "c.txt.gz",
                "c.txt.gz!/c.txt"
            ]
        );
        assert_eq!(got.members[3].1, b"k=v\n");
        assert_eq!(strip_compression_suffix("a.TGZ"), "a.tar");
        assert_eq!(strip_compression_suffix(".gz"), ".gz");
    }

    #[test]
    fn depth_limit_reports_and_stops() {
        let inner = zip_of(&[("a.txt", b"a")], zip::CompressionMethod::Stored);
        let outer = zip_of(&[("inner.zip", &inner)], zip::CompressionMethod::Stored);
        let options = ArchiveOptions { max_depth: 1, ..ArchiveOptions::default() };
        let got = run(&outer, "outer.zip", options);
        assert_eq!(got.members.len(), 1);
        assert_eq!(got.errors, [("inner.zip".to_string(), Error::TooDeep { limit: 1 })]);
        let none = run(&outer, "o", ArchiveOptions { max_depth: 0, ..options });
        assert!(none.members.is_empty() && none.errors.is_empty());
    }

    #[test]
    fn budget_stops_a_gzip_bomb_and_a_lying_zip() {
        let zeros = vec![0u8; 8 << 20];
        let options = ArchiveOptions { max_size: 1 << 20, ..ArchiveOptions::default() };
        let got = run(&gzip_of(&zeros), "bomb.gz", options);
        assert!(got.members.is_empty());
        assert_eq!(got.errors, [("bomb".to_string(), Error::TooLarge { limit: 1 << 20 })]);
        // A zip entry that claims a small size but inflates large: patch the sizes.
        let mut lying = zip_of(&[("z.bin", &zeros)], zip::CompressionMethod::Deflated);
        for at in memchr::memmem::find_iter(&lying.clone(), &(8u32 << 20).to_le_bytes()) {
            lying[at..at + 4].copy_from_slice(&16u32.to_le_bytes());
        }
        let got = run(&lying, "lying.zip", options);
        assert!(got.members.is_empty());
        assert!(
            matches!(&got.errors[..], [(name, Error::TooLarge { .. })] if name == "z.bin"),
            "{:?}",
            got.errors
        );
    }

    #[test]
    fn nested_copies_hit_the_budget_once() {
        let mut level = zip_of(&[("zeros", &vec![0u8; 4 << 20])], zip::CompressionMethod::Deflated);
        for _ in 0..3 {
            let copies: Vec<(String, Vec<u8>)> =
                (0..8).map(|i| (format!("{i}.zip"), level.clone())).collect();
            let refs: Vec<(&str, &[u8])> =
                copies.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
            level = zip_of(&refs, zip::CompressionMethod::Deflated);
        }
        let options = ArchiveOptions { max_size: 16 << 20, ..ArchiveOptions::default() };
        let got = run(&level, "42.zip", options);
        assert_eq!(got.errors.len(), 1, "{:?}", got.errors);
        assert!(matches!(got.errors[0].1, Error::TooLarge { .. }));
        let total: usize = got.members.iter().map(|(_, d)| d.len()).sum();
        assert!(total <= 16 << 20);
    }

    #[test]
    fn damaged_archives_are_reported_and_salvaged() {
        let zip = zip_of(
            &[("a.txt", b"first member\n"), ("b.txt", &[b'b'; 4096])],
            zip::CompressionMethod::Deflated,
        );
        // Cut inside the central directory: the members' data is whole.
        let truncated = &zip[..zip.len() - 40];
        let got = run(truncated, "t.zip", ArchiveOptions::default());
        assert!(!got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.errors[0].0, "");
        assert_eq!(got.members.first().map(|(n, _)| n.as_str()), Some("a.txt"));
        let mut gz = gzip_of(b"hello world, hello world\n");
        let mid = gz.len() / 2;
        gz[mid] ^= 0xff;
        gz[mid + 1] ^= 0xff;
        let got = run(&gz, "c.gz", ArchiveOptions::default());
        assert_eq!(got.errors.len(), 1, "{:?}", got.errors);
        assert!(matches!(got.errors[0].1, Error::Corrupt { kind: "gzip", .. }));
    }

    #[test]
    fn random_bytes_never_panic() {
        // xorshift64*, fixed seed: reproducible garbage after each magic, plus mutated archives.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let zip = zip_of(
            &[("a.txt", b"aaaa"), ("b.gz", &gzip_of(b"bbbb"))],
            zip::CompressionMethod::Deflated,
        );
        let tgz = gzip_of(&tar_of(&[("a", b"a"), ("b", b"b")]));
        let seeds: [&[u8]; 5] =
            [&zip, &tgz, &tar_of(&[("x", b"y")]), b"\x1f\x8b\x08", b"\x28\xb5\x2f\xfd"];
        let options = ArchiveOptions { max_size: 1 << 20, ..ArchiveOptions::default() };
        for round in 0..3000 {
            let mut data = seeds[round % seeds.len()].to_vec();
            if round % 3 == 0 {
                let len = (next() % 2048) as usize;
                data.extend((0..len).map(|_| next() as u8));
            } else {
                for _ in 0..1 + next() % 8 {
                    if data.is_empty() {
                        break;
                    }
                    let at = (next() as usize) % data.len();
                    data[at] = next() as u8;
                }
                if round % 5 == 0 {
                    data.truncate((next() as usize) % (data.len() + 1));
                }
            }
            let _ = run(&data, "fuzz", options);
        }
    }
}

//! The scan pipeline: sources → per-thread matcher → hits → findings.
//!
//! Each worker thread owns a [`Worker`] (scratch memory, hit buffer, counters); workers fold
//! their results into one shared place when the walk ends, so the hot path takes no lock.

use std::{
    path::{Path, PathBuf},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rayon::prelude::*;

mod decoded;
mod notebook;

use crate::finding::{self, Finding, Hit, Location, Position};
use crate::matcher::{Match, Matcher, Scratch, Span};
use crate::provenance::Provenance;
use crate::source::{
    BlobSink, Delta, InputError, Skip,
    archive::{self, ArchiveOptions},
    fs::{self, FsOptions},
    git,
    image::{self, ImageOptions, ImageRef},
    log::{self as log_source, LogOptions, LogSink, Window},
};

/// Counters for the summary and the JSON report.
#[derive(Debug, Default, Clone)]
pub struct ScanStats {
    /// Blobs scanned.
    pub blobs: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Files skipped as binary.
    pub skipped_binary: u64,
    /// Files skipped as larger than the limit.
    pub skipped_large: u64,
    /// Files skipped by an allowlisted path.
    pub skipped_allowlisted: u64,
    /// Matches dropped by an inline `keysweep:allow`.
    pub suppressed_inline: u64,
    /// Findings dropped by the allowlist or baseline.
    pub suppressed: u64,
    /// Inputs that could not be read.
    pub errors: Vec<InputError>,
    /// Wall time of the scan.
    pub elapsed: Duration,
}

impl ScanStats {
    fn merge(&mut self, other: ScanStats) {
        self.blobs += other.blobs;
        self.bytes += other.bytes;
        self.skipped_binary += other.skipped_binary;
        self.skipped_large += other.skipped_large;
        self.skipped_allowlisted += other.skipped_allowlisted;
        self.suppressed_inline += other.suppressed_inline;
        self.suppressed += other.suppressed;
        self.errors.extend(other.errors);
    }
}

/// Live counters a progress display can poll while the scan runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Blobs scanned so far.
    pub blobs: AtomicU64,
    /// Bytes scanned so far.
    pub bytes: AtomicU64,
}

/// What a scan produced.
#[derive(Debug, Default)]
pub struct ScanResult {
    /// Findings, grouped by secret and sorted.
    pub findings: Vec<Finding>,
    /// Counters.
    pub stats: ScanStats,
    /// For git history: what the repository looked like and which objects were read.
    pub git: Option<git::RepoFacts>,
}

/// Scans files, directories and `-` (stdin).
pub fn scan_paths(
    matcher: &Matcher,
    roots: &[PathBuf],
    options: &FsOptions,
    progress: &Progress,
) -> ScanResult {
    let started = Instant::now();
    let shared = Mutex::new((Vec::new(), ScanStats::default()));
    fs::walk(roots, options, || Worker::new(matcher, &shared, progress).archives(options.archives));
    let (hits, mut stats) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    stats.errors.sort_by(|a, b| a.input.cmp(&b.input));
    let findings = finding::group(matcher.rules(), hits);
    stats.elapsed = started.elapsed();
    ScanResult { findings, stats, git: None }
}

/// Scans a git repository: history, a range or staged changes (see [`git::Mode`]).
///
/// # Errors
/// When the repository cannot be opened or a revision does not resolve.
pub fn scan_git(
    matcher: &Matcher,
    repo: &Path,
    mode: &git::Mode,
    options: &git::GitOptions,
    progress: &Progress,
) -> Result<ScanResult, git::Error> {
    let started = Instant::now();
    let shared = Mutex::new((Vec::new(), ScanStats::default()));
    let facts = git::scan(repo, mode, options, || {
        Worker::new(matcher, &shared, progress).archives(options.archives)
    })?;
    let (hits, mut stats) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    stats.errors.sort_by(|a, b| a.input.cmp(&b.input));
    let mut findings = finding::group(matcher.rules(), hits);
    if *mode != git::Mode::Staged {
        for finding in &mut findings {
            let blobs: Vec<&String> = finding
                .locations
                .iter()
                .filter_map(|l| match l.provenance.root() {
                    Provenance::GitBlob { blob, .. } => Some(blob),
                    _ => None,
                })
                .collect();
            if !blobs.is_empty() {
                finding.present_at_head = Some(blobs.iter().any(|b| facts.head_blobs.contains(*b)));
            }
        }
    }
    log::info!("git: {} commits, {} distinct blobs", facts.commits, facts.blobs);
    stats.elapsed = started.elapsed();
    Ok(ScanResult { findings, stats, git: Some(facts) })
}

/// Scans container images: configs and every layer, each distinct file content once; a
/// finding lists every layer and image where its file occurs (see [`image::ImageFacts`]).
pub fn scan_image(
    matcher: &Matcher,
    refs: &[ImageRef],
    options: &ImageOptions,
    progress: &Progress,
) -> ScanResult {
    let started = Instant::now();
    let shared = Mutex::new((Vec::new(), ScanStats::default()));
    let facts = image::scan(refs, options, || {
        Worker::new(matcher, &shared, progress).archives(options.archives)
    });
    let (hits, mut stats) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    stats.errors.sort_by(|a, b| a.input.cmp(&b.input));
    let findings = finding::group(matcher.rules(), facts.expand(hits));
    log::info!("image: {} files listed", facts.files());
    stats.elapsed = started.elapsed();
    ScanResult { findings, stats, git: None }
}

/// Scans build and CI logs, each streamed through the log cleaner in bounded memory (see
/// [`log_source`]); line numbers are the log's, columns the cleaned line's. `-` is stdin.
pub fn scan_logs(
    matcher: &Matcher,
    inputs: &[PathBuf],
    options: &LogOptions,
    progress: &Progress,
) -> ScanResult {
    let started = Instant::now();
    let shared = Mutex::new((Vec::new(), ScanStats::default()));
    inputs.par_iter().for_each_init(
        || Worker::new(matcher, &shared, progress).archives(options.archives),
        |worker, input| log_source::read_input(input, options, worker),
    );
    let (hits, mut stats) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    stats.errors.sort_by(|a, b| a.input.cmp(&b.input));
    let findings = finding::group(matcher.rules(), hits);
    stats.elapsed = started.elapsed();
    ScanResult { findings, stats, git: None }
}

/// Scans one in-memory blob (used by tests, benchmarks and future sources).
pub fn scan_bytes(matcher: &Matcher, data: &[u8], provenance: Provenance) -> ScanResult {
    let shared = Mutex::new((Vec::new(), ScanStats::default()));
    let progress = Progress::default();
    Worker::new(matcher, &shared, &progress).blob(data, provenance);
    let (hits, stats) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    ScanResult { findings: finding::group(matcher.rules(), hits), stats, git: None }
}

/// One thread's share of a scan.
pub struct Worker<'a> {
    matcher: &'a Matcher,
    shared: &'a Mutex<(Vec<Hit>, ScanStats)>,
    progress: &'a Progress,
    scratch: Scratch,
    matches: Vec<Match>,
    hits: Vec<Hit>,
    stats: ScanStats,
    archives: ArchiveOptions,
    /// What the current blob decodes to (reused).
    view: crate::decode::View,
    /// Matches in `view`.
    decoded_matches: Vec<Match>,
    /// The blob being scanned is program source (see [`crate::decode::Base64Scope`]).
    program_source: bool,
}

impl<'a> Worker<'a> {
    fn new(
        matcher: &'a Matcher,
        shared: &'a Mutex<(Vec<Hit>, ScanStats)>,
        progress: &'a Progress,
    ) -> Worker<'a> {
        Worker {
            matcher,
            shared,
            progress,
            scratch: Scratch::default(),
            matches: Vec::new(),
            hits: Vec::new(),
            stats: ScanStats::default(),
            archives: ArchiveOptions::default(),
            view: crate::decode::View::default(),
            decoded_matches: Vec::new(),
            program_source: false,
        }
    }

    /// Sets how far archives are opened (default: [`ArchiveOptions::default`]).
    fn archives(mut self, options: ArchiveOptions) -> Worker<'a> {
        self.archives = options;
        self
    }

    /// Matches one blob and builds hits for every place it is at.
    fn scan_one(
        &mut self,
        data: &[u8],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        delta: Option<&Delta>,
    ) {
        self.matcher.scan(data, &mut self.scratch, &mut self.matches);
        if let Some(delta) = delta {
            self.matches.retain(|m| delta.added(data, m.secret.start, m.secret.end));
        }
        let raw_from = self.hits.len();
        let mut parents = None;
        if !self.matches.is_empty() {
            for provenance in parents.insert(provenances()).iter() {
                let dropped = finding::hits_in_blob(
                    self.matcher.rules(),
                    data,
                    provenance,
                    &self.matches,
                    &mut self.hits,
                );
                self.stats.suppressed_inline += dropped as u64;
            }
        }
        let mut parents = || parents.take().unwrap_or_else(&mut *provenances);
        let mut keep =
            |at: &std::ops::Range<usize>| delta.is_none_or(|d| d.added(data, at.start, at.end));
        self.scan_decoded(data, &mut parents, raw_from, &mut keep);
        self.count(data.len());
    }

    fn count(&mut self, len: usize) {
        self.stats.blobs += 1;
        self.stats.bytes += len as u64;
        self.progress.blobs.fetch_add(1, Ordering::Relaxed);
        self.progress.bytes.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// Opens an archive (already scanned as a whole) and scans its members, at `parents!/…`.
    /// With a `delta`, the old blob's members are compared member by member.
    fn expand(&mut self, data: &[u8], parents: &[Provenance], delta: Option<&Delta>) {
        let Some(first) = parents.first() else { return };
        let display = first.display_path();
        let name = display.rsplit('/').next().unwrap_or(&display).to_string();
        let options = self.archives;
        let old = delta.map(|d| OldMembers::read(&d.old, &name, &options));
        let mut members =
            Members { worker: self, parents, old: old.as_ref(), opened: false, unopened: None };
        archive::expand(data, &name, &options, &mut members);
        let (opened, unopened) = (members.opened, members.unopened.take());
        if let Some(error) = unopened {
            if !opened && !crate::source::looks_binary(data) {
                // Text that only looks like an archive at its start: scan it as text.
                let mut once = Some(parents.to_vec());
                return self.scan_one(data, &mut || once.take().unwrap_or_default(), delta);
            }
            BlobSink::error(self, error);
        }
    }
}

/// Places a member at `path` inside an archive at `parent`.
fn nested(parent: &Provenance, path: &[String]) -> Provenance {
    path.iter().fold(parent.clone(), |at, member| Provenance::Nested {
        parent: Box::new(at),
        member: member.clone(),
    })
}

/// Scans what [`archive::expand`] finds, for a [`Worker`].
struct Members<'w, 'a> {
    worker: &'w mut Worker<'a>,
    parents: &'w [Provenance],
    old: Option<&'w OldMembers>,
    /// Some member was read.
    opened: bool,
    /// The error of the top-level archive itself, held back: bytes that are not an archive
    /// after all are scanned instead.
    unopened: Option<InputError>,
}

impl archive::Visit for Members<'_, '_> {
    fn member(&mut self, path: &[String], data: &[u8]) {
        self.opened = true;
        if archive::detect(data).is_some() {
            // Opened next (or reported as too deep) by `archive::expand`.
            self.worker.count(data.len());
            return;
        }
        let utf8 = crate::source::utf16_to_utf8(data);
        let data = utf8.as_deref().unwrap_or(data);
        if utf8.is_none() && !self.worker.archives.scan_binary && crate::source::looks_binary(data)
        {
            let what = nested(&self.parents[0], path).display_path();
            self.worker.skipped(&what, Skip::Binary);
            return;
        }
        let delta = self.old.map(|old| old.delta(path, data));
        let parents = self.parents;
        let mut provenances = || parents.iter().map(|p| nested(p, path)).collect();
        self.worker.scan_text(data, &mut provenances, delta.as_ref());
    }

    fn error(&mut self, path: &[String], error: archive::Error) {
        let hint = match error {
            archive::Error::TooLarge { .. } => " (see --max-decompressed-size)",
            archive::Error::TooDeep { .. } => " (see --max-archive-depth)",
            archive::Error::Corrupt { .. } => "",
        };
        let input = nested(&self.parents[0], path).display_path();
        let error = InputError { input, message: format!("{error}{hint}") };
        if path.is_empty() && self.unopened.is_none() {
            self.unopened = Some(error);
        } else {
            BlobSink::error(self.worker, error);
        }
    }
}

/// The members of the old version of a changed archive (`--staged`, `--range`), by path, so
/// that only secrets a change added to a member are reported.
struct OldMembers(std::collections::HashMap<String, Vec<u8>>);

impl OldMembers {
    fn read(old: &[u8], name: &str, options: &ArchiveOptions) -> OldMembers {
        struct Keep(std::collections::HashMap<String, Vec<u8>>);
        impl archive::Visit for Keep {
            fn member(&mut self, path: &[String], data: &[u8]) {
                self.0.insert(path.join("!/"), data.to_vec());
            }
            fn error(&mut self, _: &[String], _: archive::Error) {}
        }
        let mut keep = Keep(std::collections::HashMap::new());
        archive::expand(old, name, options, &mut keep);
        OldMembers(keep.0)
    }

    fn delta(&self, path: &[String], new: &[u8]) -> Delta {
        let old = self.0.get(&path.join("!/")).cloned().unwrap_or_default();
        Delta::between(old, new)
    }
}

impl BlobSink for Worker<'_> {
    fn blob_named(
        &mut self,
        name: &str,
        data: &[u8],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        delta: Option<&Delta>,
    ) {
        self.program_source = crate::decode::is_program_source(name);
        self.blob_at(data, provenances, delta);
        self.program_source = false;
    }

    fn blob_at(
        &mut self,
        data: &[u8],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        delta: Option<&Delta>,
    ) {
        if !self.archives.enabled() || archive::detect(data).is_none() {
            return self.scan_text(data, provenances, delta);
        }
        // An archive is read through its members, not as bytes: a tar's or stored zip entry's
        // text would otherwise be reported twice, once at a meaningless line of the archive.
        let parents = provenances();
        self.count(data.len());
        self.expand(data, &parents, delta);
    }

    fn streaming(&mut self, name: &str) {
        // Reset by `LogSink::finished` at the end of the file.
        self.program_source = crate::decode::is_program_source(name);
    }

    fn error(&mut self, error: InputError) {
        log::debug!("input error: {error}");
        self.stats.errors.push(error);
    }

    fn skipped(&mut self, what: &str, why: Skip) {
        log::debug!("skipped {what}: {why:?}");
        match why {
            Skip::Binary => self.stats.skipped_binary += 1,
            Skip::TooLarge => self.stats.skipped_large += 1,
            Skip::Allowlisted => self.stats.skipped_allowlisted += 1,
        }
    }
}

impl LogSink for Worker<'_> {
    fn window(&mut self, window: &Window<'_>, provenance: &Provenance) {
        self.matcher.scan(window.data, &mut self.scratch, &mut self.matches);
        let reported = window.report_from..window.report_to;
        self.matches.retain(|m| reported.contains(&m.secret.start));
        let before = self.hits.len();
        if !self.matches.is_empty() {
            let dropped = finding::hits_in_blob(
                self.matcher.rules(),
                window.data,
                provenance,
                &self.matches,
                &mut self.hits,
            );
            self.stats.suppressed_inline += dropped as u64;
        }
        let mut parents = || vec![provenance.clone()];
        let mut keep = |at: &std::ops::Range<usize>| reported.contains(&at.start);
        self.scan_decoded(window.data, &mut parents, before, &mut keep);
        for hit in &mut self.hits[before..] {
            place_in_log(&mut hit.location, window);
        }
    }

    fn read(&mut self, bytes: usize) {
        self.stats.bytes += bytes as u64;
        self.progress.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn error(&mut self, error: InputError) {
        BlobSink::error(self, error);
    }

    fn finished(&mut self) {
        self.program_source = false;
        self.stats.blobs += 1;
        self.progress.blobs.fetch_add(1, Ordering::Relaxed);
    }
}

/// Moves a location found in a log window to the log's coordinates: offsets absolute in the
/// cleaned log, lines the log's, columns counted from the start of the cleaned line.
fn place_in_log(location: &mut Location, window: &Window<'_>) {
    let base = usize::try_from(window.base).unwrap_or(usize::MAX);
    location.span = Span {
        start: location.span.start.saturating_add(base),
        end: location.span.end.saturating_add(base),
    };
    let place = |position: &mut Position| {
        if position.line == 1 {
            position.column += window.first_column;
        }
        position.line = window.physical_line(position.line);
    };
    place(&mut location.start);
    place(&mut location.end);
    if let Some(at) = &mut location.secret_key_at {
        place(at);
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.0.append(&mut self.hits);
        shared.1.merge(std::mem::take(&mut self.stats));
    }
}

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

use crate::finding::{self, Finding, Hit};
use crate::matcher::{Match, Matcher, Scratch};
use crate::provenance::Provenance;
use crate::source::{
    BlobSink, Delta, InputError, Skip,
    fs::{self, FsOptions},
    git,
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
    fs::walk(roots, options, || Worker::new(matcher, &shared, progress));
    let (hits, mut stats) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    stats.errors.sort_by(|a, b| a.input.cmp(&b.input));
    let findings = finding::group(matcher.rules(), hits);
    stats.elapsed = started.elapsed();
    ScanResult { findings, stats }
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
    let facts = git::scan(repo, mode, options, || Worker::new(matcher, &shared, progress))?;
    let (hits, mut stats) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    stats.errors.sort_by(|a, b| a.input.cmp(&b.input));
    let mut findings = finding::group(matcher.rules(), hits);
    if *mode != git::Mode::Staged {
        for finding in &mut findings {
            let blobs: Vec<&String> = finding
                .locations
                .iter()
                .filter_map(|l| match &l.provenance {
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
    Ok(ScanResult { findings, stats })
}

/// Scans one in-memory blob (used by tests, benchmarks and future sources).
pub fn scan_bytes(matcher: &Matcher, data: &[u8], provenance: Provenance) -> ScanResult {
    let shared = Mutex::new((Vec::new(), ScanStats::default()));
    let progress = Progress::default();
    Worker::new(matcher, &shared, &progress).blob(data, provenance);
    let (hits, stats) = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    ScanResult { findings: finding::group(matcher.rules(), hits), stats }
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
        }
    }
}

impl BlobSink for Worker<'_> {
    fn blob_at(
        &mut self,
        data: &[u8],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        delta: Option<&Delta>,
    ) {
        self.matcher.scan(data, &mut self.scratch, &mut self.matches);
        if let Some(delta) = delta {
            self.matches.retain(|m| delta.added(data, m.secret.start, m.secret.end));
        }
        if !self.matches.is_empty() {
            for provenance in provenances() {
                let dropped = finding::hits_in_blob(
                    self.matcher.rules(),
                    data,
                    &provenance,
                    &self.matches,
                    &mut self.hits,
                );
                self.stats.suppressed_inline += dropped as u64;
            }
        }
        self.stats.blobs += 1;
        self.stats.bytes += data.len() as u64;
        self.progress.blobs.fetch_add(1, Ordering::Relaxed);
        self.progress.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
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

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.0.append(&mut self.hits);
        shared.1.merge(std::mem::take(&mut self.stats));
    }
}

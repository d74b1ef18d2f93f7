//! Sweeps: many repositories and images scanned incrementally against a findings store.
//!
//! Each repository is mirrored bare into the cache ([`mirror`]), skipped when its refs have
//! not changed since its last good scan, else its history is scanned skipping every object an
//! earlier run read, and the result recorded in one transaction. Repositories run in parallel
//! on a bounded pool; a failed one is recorded with its error and retried next time. A run
//! that was killed is resumed by the next sweep with the same arguments: targets it finished
//! are skipped.

pub mod listing;
pub mod mirror;
pub mod targets;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rayon::prelude::*;

use crate::matcher::Matcher;
use crate::scan::{Progress, ScanResult, scan_git, scan_image};
use crate::source::error_chain as chain;
use crate::source::git::{self, GitOptions};
use crate::source::image::{self, ImageOptions, ImageRef};
use crate::store::{RunId, Scanned, Store, TargetId};

/// `KEYSWEEP_SWEEP_DELAY_MS`: a pause after each target is recorded. For tests that interrupt
/// a sweep at a known point; not a user option.
pub const DELAY_ENV: &str = "KEYSWEEP_SWEEP_DELAY_MS";

/// What to sweep and how.
#[derive(Debug)]
pub struct SweepOptions {
    /// Repositories as listed (URLs or local paths), already sharded.
    pub repos: Vec<String>,
    /// Image references, already sharded.
    pub images: Vec<String>,
    /// Where mirrors live.
    pub cache: PathBuf,
    /// Targets processed at once (each also scans its blobs on the same pool).
    pub jobs: usize,
    /// How blobs are read (`skip_objects` is filled per repository).
    pub git: GitOptions,
    /// How images are read.
    pub image: ImageOptions,
}

/// How one target went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetOutcome {
    /// Scanned and recorded.
    Scanned {
        /// Blobs read.
        blobs_scanned: u64,
        /// Blobs skipped as already scanned.
        blobs_skipped: u64,
        /// Findings first seen.
        new_findings: u64,
        /// Findings this scan found (new or not).
        findings: u64,
        /// Findings marked fixed.
        fixed: u64,
    },
    /// Refs (or manifest) unchanged since the last good scan: nothing read.
    Unchanged,
    /// Already done in the run being resumed.
    Resumed,
    /// Could not be fetched, opened or recorded (recorded as failed, retried next time).
    Failed(String),
}

/// Hears about targets as they start and finish (progress display).
pub trait Observer: Sync {
    /// A target's work begins.
    fn started(&self, target: &str);
    /// A target is done.
    fn finished(&self, target: &str, outcome: &TargetOutcome);
}

/// Totals for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// The run.
    pub run: i64,
    /// Repositories scanned.
    pub repos_ok: u64,
    /// Repositories that failed.
    pub repos_failed: u64,
    /// Repositories skipped: unchanged, or done in the resumed run.
    pub repos_skipped: u64,
    /// Images scanned.
    pub images_ok: u64,
    /// Images that failed.
    pub images_failed: u64,
    /// Images skipped (manifest already scanned, or done in the resumed run).
    pub images_skipped: u64,
    /// Blobs read.
    pub blobs_scanned: u64,
    /// Blobs skipped as already scanned.
    pub blobs_skipped: u64,
    /// Findings first seen in this run.
    pub new_findings: u64,
    /// Findings in what this run read.
    pub findings: u64,
    /// Findings this run marked fixed.
    pub fixed: u64,
    /// Failed targets and why.
    pub failures: Vec<(String, String)>,
}

impl Summary {
    fn add(&mut self, target: &str, is_repo: bool, outcome: &TargetOutcome) {
        let (ok, failed, skipped) = if is_repo {
            (&mut self.repos_ok, &mut self.repos_failed, &mut self.repos_skipped)
        } else {
            (&mut self.images_ok, &mut self.images_failed, &mut self.images_skipped)
        };
        match outcome {
            TargetOutcome::Scanned {
                blobs_scanned,
                blobs_skipped,
                new_findings,
                findings,
                fixed,
            } => {
                *ok += 1;
                self.blobs_scanned += blobs_scanned;
                self.blobs_skipped += blobs_skipped;
                self.new_findings += new_findings;
                self.findings += findings;
                self.fixed += fixed;
            }
            TargetOutcome::Unchanged | TargetOutcome::Resumed => *skipped += 1,
            TargetOutcome::Failed(error) => {
                *failed += 1;
                self.failures.push((target.to_string(), error.clone()));
            }
        }
    }
}

/// What a sweep needs from its caller besides options: the matcher, the store, the run, and
/// a hook that filters and enriches a target's findings (allowlist, owner, verification, blast
/// radius) before they are recorded.
pub struct Context<'a> {
    /// The rules.
    pub matcher: &'a Matcher,
    /// The store.
    pub store: &'a Store,
    /// The run (new, or resumed).
    pub run: RunId,
    /// Applied to each target's scan result before recording, with the repository scanned
    /// (the mirror; `None` for an image).
    pub filter: &'a (dyn Fn(Option<&std::path::Path>, &mut ScanResult) + Sync),
    /// Progress display.
    pub observer: &'a dyn Observer,
}

/// Sweeps every target; a failure is recorded and the sweep goes on.
///
/// # Errors
/// Only when the worker pool cannot be built.
pub fn run(
    options: &SweepOptions,
    cx: &Context<'_>,
) -> Result<Summary, rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(options.jobs.max(1)).build()?;
    let summary = Mutex::new(Summary { run: cx.run.0, ..Summary::default() });
    let delay = std::env::var(DELAY_ENV).ok().and_then(|v| v.parse::<u64>().ok());
    let interrupt = AtomicBool::new(false);
    let tally = |target: &str, is_repo: bool, outcome: TargetOutcome| {
        cx.observer.finished(target, &outcome);
        summary
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(target, is_repo, &outcome);
        if let Some(ms) = delay {
            std::thread::sleep(Duration::from_millis(ms));
        }
    };
    pool.install(|| {
        options.repos.par_iter().with_max_len(1).for_each(|repo| {
            cx.observer.started(repo);
            let outcome = sweep_repo(repo, options, cx, &interrupt);
            tally(repo, true, outcome);
        });
        options.images.par_iter().with_max_len(1).for_each(|reference| {
            cx.observer.started(reference);
            let outcome = sweep_image(reference, options, cx);
            tally(reference, false, outcome);
        });
    });
    Ok(summary.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner))
}

fn sweep_repo(
    entry: &str,
    options: &SweepOptions,
    cx: &Context<'_>,
    interrupt: &AtomicBool,
) -> TargetOutcome {
    let key = targets::normalise_repo(entry);
    let target = match cx.store.target(&key, "git") {
        Ok(target) => target,
        Err(e) => return TargetOutcome::Failed(chain(&e)),
    };
    if let Some(outcome) = resumed(cx, target) {
        return outcome;
    }
    let path = mirror::mirror_path(&options.cache, &key);
    let outcome = mirror::mirror(entry, &path, interrupt)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            mirror::refs_digest(&path)
                .map_err(|e| format!("cannot read refs of {}: {e}", path.display()))
        })
        .and_then(|digest| scan_repo(&path, &digest, target, options, cx));
    settle(cx, target, outcome)
}

/// `Resumed` when the run being resumed already did `target`; a failure to ask, as the
/// target's failure.
fn resumed(cx: &Context<'_>, target: TargetId) -> Option<TargetOutcome> {
    match cx.store.done_in_run(cx.run, target) {
        Ok(true) => Some(TargetOutcome::Resumed),
        Ok(false) => None,
        Err(e) => Some(TargetOutcome::Failed(chain(&e))),
    }
}

/// A target's outcome, with a failure recorded in the store (the store keeps the target's
/// name beside its error; warnings add it).
fn settle(
    cx: &Context<'_>,
    target: TargetId,
    outcome: Result<TargetOutcome, String>,
) -> TargetOutcome {
    match outcome {
        Ok(outcome) => outcome,
        Err(error) => match cx.store.record_failure(cx.run, target, &error) {
            Ok(()) => TargetOutcome::Failed(error),
            Err(e) => TargetOutcome::Failed(format!("{error} (and {})", chain(&e))),
        },
    }
}

fn scan_repo(
    path: &std::path::Path,
    digest: &str,
    target: TargetId,
    options: &SweepOptions,
    cx: &Context<'_>,
) -> Result<TargetOutcome, String> {
    let state = cx.store.target_state(target).map_err(|e| chain(&e))?;
    if state.status.as_deref() == Some("ok") && state.digest.as_deref() == Some(digest) {
        cx.store.record_unchanged(cx.run, target).map_err(|e| chain(&e))?;
        return Ok(TargetOutcome::Unchanged);
    }
    let mut git_options = options.git.clone();
    git_options.skip_objects = cx.store.known_git_objects(target).map_err(|e| chain(&e))?.into();
    let progress = Progress::default();
    let mode = git::Mode::History { all_objects: false };
    let mut result =
        scan_git(cx.matcher, path, &mode, &git_options, &progress).map_err(|e| e.to_string())?;
    (cx.filter)(Some(path), &mut result);
    let facts = result.git.take().unwrap_or_default();
    record(cx, target, &result, &Scanned::git(&result, &facts, Some(digest)))
}

/// Records a scan; input errors inside the target (a broken object or layer) fail it so it is
/// retried, after its findings are kept.
fn record(
    cx: &Context<'_>,
    target: TargetId,
    result: &ScanResult,
    scanned: &Scanned<'_>,
) -> Result<TargetOutcome, String> {
    let recorded = cx.store.record_scan(cx.run, target, scanned).map_err(|e| chain(&e))?;
    if !result.stats.errors.is_empty() {
        let errors: Vec<String> = result.stats.errors.iter().map(ToString::to_string).collect();
        return Err(errors.join("; "));
    }
    Ok(TargetOutcome::Scanned {
        blobs_scanned: scanned.blobs_scanned,
        blobs_skipped: scanned.blobs_skipped,
        new_findings: recorded.new_findings,
        findings: result.findings.len() as u64,
        fixed: recorded.fixed,
    })
}

fn sweep_image(reference: &str, options: &SweepOptions, cx: &Context<'_>) -> TargetOutcome {
    let target = match cx.store.target(reference, "image") {
        Ok(target) => target,
        Err(e) => return TargetOutcome::Failed(chain(&e)),
    };
    if let Some(outcome) = resumed(cx, target) {
        return outcome;
    }
    settle(cx, target, scan_one_image(reference, target, options, cx))
}

fn scan_one_image(
    reference: &str,
    target: TargetId,
    options: &SweepOptions,
    cx: &Context<'_>,
) -> Result<TargetOutcome, String> {
    let image_ref = ImageRef::parse(reference).map_err(|e| chain(&e))?;
    let digests = image::manifest_digests(&image_ref, &options.image).map_err(|e| chain(&e))?;
    let known: HashSet<String> =
        cx.store.known_objects(target).map_err(|e| chain(&e))?.into_iter().collect();
    if !digests.is_empty() && digests.iter().all(|d| known.contains(d)) {
        cx.store.record_unchanged(cx.run, target).map_err(|e| chain(&e))?;
        return Ok(TargetOutcome::Unchanged);
    }
    let progress = Progress::default();
    let mut result = scan_image(cx.matcher, &[image_ref], &options.image, &progress);
    (cx.filter)(None, &mut result);
    let failed = !result.stats.errors.is_empty();
    let scanned = Scanned {
        findings: &result.findings,
        // A manifest is marked scanned only when all of it was read.
        scanned_objects: if failed { &[] } else { &digests },
        head_blobs: None,
        blobs_scanned: result.stats.blobs,
        blobs_skipped: 0,
        digest: Some(&digests.join(",")),
    };
    record(cx, target, &result, &scanned)
}

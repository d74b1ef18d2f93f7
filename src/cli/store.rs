//! `report`, `merge`, and `git --datastore`: the findings store from the command line.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use keysweep::{
    report::{self, Format, Report},
    scan::{ScanResult, ScanStats},
    source::git::{GitOptions, RepoFacts},
    store::{Query, RunId, Scanned, Since, Store, TargetId},
    sweep::targets::normalise_repo,
};

use super::args::{MergeArgs, ReportArgs};
use super::{Outcome, load, output};

/// A `git --datastore` run: the store, its run and the repository's target.
pub(super) struct GitRecording {
    store: Store,
    run: RunId,
    target: TargetId,
}

impl GitRecording {
    /// Opens the store and starts a `git` run for `repo`.
    pub(super) fn start(dir: &Path, repo: &Path) -> anyhow::Result<GitRecording> {
        let store = Store::open(dir)?;
        let key = normalise_repo(&repo.display().to_string());
        let run = store.begin_run("git", &key)?;
        let target = store.target(&key, "git")?;
        Ok(GitRecording { store, run, target })
    }

    /// `options` with the objects earlier runs read marked to skip.
    pub(super) fn options(&self, mut options: GitOptions) -> anyhow::Result<GitOptions> {
        options.skip_objects = std::sync::Arc::new(self.store.known_git_objects(self.target)?);
        Ok(options)
    }

    /// Closes the run as failed: the repository could not be scanned at all.
    pub(super) fn abandon(&self) {
        if let Err(e) = self.store.finish_run(self.run, "failed") {
            output::warn(&format!("{e:#}"));
        }
    }

    /// Records the scan (one transaction) and closes the run.
    pub(super) fn finish(self, result: &ScanResult) -> anyhow::Result<()> {
        let empty = RepoFacts::default();
        let facts = result.git.as_ref().unwrap_or(&empty);
        let failed = !result.stats.errors.is_empty();
        let scanned = Scanned::git(result, facts, None);
        let recorded = self.store.record_scan(self.run, self.target, &scanned)?;
        self.store.finish_run(self.run, if failed { "failed" } else { "ok" })?;
        log::info!(
            "store: run {}, {} blobs scanned, {} skipped, {} new findings, {} fixed",
            self.run.0,
            facts.blobs,
            facts.blobs_skipped,
            recorded.new_findings,
            recorded.fixed
        );
        Ok(())
    }
}

/// `keysweep report`: findings from the store in any report format.
pub(super) fn report(args: &ReportArgs) -> anyhow::Result<Outcome> {
    let loaded = load(args.config.as_deref(), None)?;
    let store = Store::open_existing(&args.datastore)?;
    let since = if args.new {
        // No run yet: nothing is new.
        Some(Since::Run(store.latest_run()?.unwrap_or(RunId(i64::MAX))))
    } else if let Some(run) = args.since_run {
        Some(Since::Run(RunId(run)))
    } else {
        args.since.map(Since::Time)
    };
    let query = Query {
        since,
        fixed: args.fixed,
        owner: args.owner.clone(),
        account: args.account.clone(),
        tier: args.tier.clone(),
        target: args.target.as_deref().map(|t| target_key(&store, t)).transpose()?,
    };
    let rules = loaded.matcher.rules();
    let (findings, unknown_rules) = store.findings(&query, rules)?;
    for rule in &unknown_rules {
        output::warn(&format!(
            "findings of rule {rule} are not reported: the rule is not loaded (pass the --config that defined it)"
        ));
    }
    let stats = ScanStats::default();
    let report = Report { findings: &findings, stats: &stats, rules, show_secrets: false };
    let format = super::report_format(args.format);
    let color = output::use_color(args.color, args.output.is_some());
    let mut dest = output::destination(args.output.as_deref())?;
    report::write(&report, format, color, &mut dest).context("cannot write the report")?;
    dest.flush().context("cannot write the report")?;
    if !args.quiet && (format != Format::Text || args.output.is_some()) {
        let mut summary = Vec::new();
        report::text::write_summary_line(&report, &mut summary)?;
        eprint!("{}", String::from_utf8_lossy(&summary));
    }
    Ok(if findings.is_empty() {
        if unknown_rules.is_empty() { Outcome::Clean } else { Outcome::Failed }
    } else {
        Outcome::Found
    })
}

/// `--target` as the store keys it: as given when the store has it (image references), else
/// normalised as a repository URL or path.
fn target_key(store: &Store, text: &str) -> anyhow::Result<String> {
    Ok(if store.targets()?.contains_key(text) { text.to_string() } else { normalise_repo(text) })
}

/// `keysweep merge`: folds stores and JSON reports into one; a source that fails is named and
/// the rest are merged.
pub(super) fn merge(args: &MergeArgs) -> anyhow::Result<Outcome> {
    let out = Store::open(&args.datastore)?;
    let mut failed = 0;
    let (mut findings, mut locations) = (0, 0);
    for source in &args.sources {
        let merged = if source.is_dir() {
            out.merge_store(source).map_err(anyhow::Error::from)
        } else {
            std::fs::read_to_string(source)
                .with_context(|| format!("cannot read {}", source.display()))
                .and_then(|text| out.merge_report(source, &text).map_err(anyhow::Error::from))
        };
        match merged {
            Ok(merged) => {
                findings += merged.new_findings;
                locations += merged.new_locations;
            }
            Err(e) => {
                failed += 1;
                output::warn(&format!("{}: {e:#}", source.display()));
            }
        }
    }
    if !args.quiet {
        eprintln!(
            "merged {} of {} sources into {}: {findings} new findings, {locations} new locations",
            args.sources.len() - failed,
            args.sources.len(),
            out.path().display()
        );
    }
    // As every subcommand: 1 when the merged store holds findings.
    let (_, stored, _, _) = out.counts()?;
    Ok(if stored > 0 {
        Outcome::Found
    } else if failed > 0 {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

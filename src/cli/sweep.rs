//! `keysweep sweep`: reads the manifests, shards, resumes or starts a run, shows progress
//! (one bar overall, one line per repository in flight) and prints the summary.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use keysweep::{
    enrich::allowlist::Allowlist,
    scan::ScanResult,
    source::{
        git::GitOptions,
        image::{ImageOptions, ImageRef},
    },
    store::Store,
    sweep::{
        self, Context, Observer, Summary, SweepOptions, TargetOutcome,
        listing::{github_org_repos, gitlab_group_repos},
        targets::{normalise_repo, parse_manifest},
    },
};

use super::args::{SummaryFormat, SweepArgs};
use super::{Outcome, archive_options, enrich, load, output, suppress};

/// Default public API bases for `--github-org` / `--gitlab-group`.
const GITHUB_API: &str = "https://api.github.com";
const GITLAB_API: &str = "https://gitlab.com/api/v4";

pub(super) fn sweep(args: &SweepArgs) -> anyhow::Result<Outcome> {
    output::init_logging(args.verbose);
    let Targets { repos, images, unlisted } = targets(args)?;
    let loaded = load(args.config.as_deref(), None)?;
    let allowlist = Allowlist::new(&loaded.config.allowlist)
        .with_context(|| format!("in the allowlist of config {}", loaded.origin))?;
    let store = Store::open(&args.datastore)?;
    let run = start_run(&store, args)?;
    let options = sweep_options(args, repos, images)?;
    // Enrichment reads CODEOWNERS from the repository it is given: one repository at a time
    // (it runs on findings only, so the lock is short unless verification is asked for).
    let enricher = Mutex::new(enrich::enricher(&args.enrich)?);
    let rules = loaded.matcher.rules();
    let filter = |repo: Option<&Path>, result: &mut ScanResult| {
        suppress(&allowlist, None, result);
        let mut enricher = enricher.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        enricher.git_repo = repo.map(Path::to_path_buf);
        enrich::report(&enricher.apply(&mut result.findings, rules));
    };
    let show = !args.no_progress && !args.quiet && std::io::stderr().is_terminal();
    let bars = Bars::new(show, (options.repos.len() + options.images.len()) as u64);
    let cx =
        Context { matcher: &loaded.matcher, store: &store, run, filter: &filter, observer: &bars };
    let mut summary = sweep::run(&options, &cx).context("cannot start the sweep's workers")?;
    bars.done();
    let failed = summary.repos_failed + summary.images_failed > 0 || !unlisted.is_empty();
    summary.failures.extend(unlisted);
    store.finish_run(run, if failed { "failed" } else { "ok" })?;
    if !args.quiet {
        for (target, error) in &summary.failures {
            output::warn(&keysweep::report::text::sanitize(&format!("{target}: {error}")));
        }
    }
    print_summary(args.format, &summary)?;
    // 1 when this run found something in what it read (an unchanged repository adds nothing);
    // `report` lists everything the store holds.
    Ok(if summary.findings > 0 {
        Outcome::Found
    } else if failed {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

/// Resumes the unfinished run with the same arguments (a killed sweep), else starts one.
fn start_run(store: &Store, args: &SweepArgs) -> anyhow::Result<keysweep::store::RunId> {
    let run_args = run_args(args)?;
    Ok(match store.unfinished_run("sweep", &run_args)? {
        Some(run) => {
            if !args.quiet {
                output::warn(&format!("resuming interrupted sweep run {}", run.0));
            }
            run
        }
        None => store.begin_run("sweep", &run_args)?,
    })
}

/// The library's options from the command line; creates the cache.
fn sweep_options(
    args: &SweepArgs,
    repos: Vec<String>,
    images: Vec<String>,
) -> anyhow::Result<SweepOptions> {
    let cache = args.cache.clone().unwrap_or_else(|| args.datastore.join("cache"));
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the cache {}", cache.display()))?;
    let jobs = if args.read.threads > 0 {
        args.read.threads
    } else {
        std::thread::available_parallelism().map_or(2, usize::from)
    };
    let archives = archive_options(&args.archives, &args.decode, args.read.binary);
    Ok(SweepOptions {
        repos,
        images,
        cache,
        jobs,
        git: GitOptions {
            max_file_size: args.read.max_file_size,
            scan_binary: args.read.binary,
            archives,
            skip_objects: Default::default(),
        },
        image: ImageOptions {
            platform: None,
            all_platforms: false,
            registry_auth: None,
            insecure_registry: false,
            docker_config: None,
            max_file_size: args.read.max_file_size,
            scan_binary: args.read.binary,
            archives,
        },
    })
}

/// What a sweep reads, and the forges that could not be listed.
struct Targets {
    repos: Vec<String>,
    images: Vec<String>,
    /// (`--github-org NAME`, why): reported with the failed targets; the rest is swept.
    unlisted: Vec<(String, String)>,
}

/// The manifests' and forges' targets, deduplicated and sharded. A forge that cannot be listed
/// is an error only when nothing else is left to sweep: a refused token must not drop the
/// manifests' repositories.
fn targets(args: &SweepArgs) -> anyhow::Result<Targets> {
    if args.repos.is_none()
        && args.images.is_none()
        && args.github_org.is_none()
        && args.gitlab_group.is_none()
    {
        bail!("sweep wants --repos FILE, --images FILE, --github-org or --gitlab-group");
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let mut repos = match &args.repos {
        Some(path) => parse_manifest(&read(path)?, normalise_repo),
        None => Vec::new(),
    };
    let mut images = match &args.images {
        Some(path) => parse_manifest(&read(path)?, str::to_string),
        None => Vec::new(),
    };
    // A sweep reads an image twice (its digests, then its content), and stdin only once.
    if let Some(path) = &args.images
        && images.iter().any(|i| matches!(ImageRef::parse(i), Ok(ImageRef::DockerArchiveStdin)))
    {
        bail!(
            "{}: docker-archive:- (standard input) cannot be swept; save the image to a file and \
             list docker-archive:FILE",
            path.display()
        );
    }
    let token = match &args.token_env {
        Some(var) => {
            Some(std::env::var(var).with_context(|| format!("--token-env {var} is not set"))?)
        }
        None => None,
    };
    let mut unlisted = Vec::new();
    let mut refused = None;
    let forges = [
        (
            "--github-org",
            "GitHub organisation",
            &args.github_org,
            GITHUB_API,
            github_org_repos as Lister,
        ),
        ("--gitlab-group", "GitLab group", &args.gitlab_group, GITLAB_API, gitlab_group_repos),
    ];
    for (flag, what, name, default_api, list) in forges {
        let Some(name) = name else { continue };
        match list(args.api_url.as_deref().unwrap_or(default_api), name, token.as_deref()) {
            Ok(listed) => repos.extend(listed),
            Err(error) => {
                let error = anyhow::Error::new(error);
                unlisted.push((format!("{flag} {name}"), format!("{error:#}")));
                refused = Some(error.context(format!("cannot list {what} {name}")));
            }
        }
    }
    if let Some(error) = refused
        && repos.is_empty()
        && images.is_empty()
    {
        // Nothing to sweep: fail before a run is recorded. An earlier forge's error is shown
        // too, as the last one becomes the run's error.
        for (input, why) in &unlisted[..unlisted.len() - 1] {
            output::warn(&keysweep::report::text::sanitize(&format!("{input}: {why}")));
        }
        return Err(error);
    }
    let mut seen = std::collections::HashSet::new();
    repos.retain(|r| seen.insert(normalise_repo(r)));
    if let Some(shard) = args.shard {
        repos.retain(|r| shard.contains(&normalise_repo(r)));
        images.retain(|i| shard.contains(i));
    }
    Ok(Targets { repos, images, unlisted })
}

/// `github_org_repos` or `gitlab_group_repos`.
type Lister =
    fn(&str, &str, Option<&str>) -> Result<Vec<String>, keysweep::sweep::listing::ListingError>;

/// What makes two sweeps "the same run" for resuming: the manifests (absolute), forges and
/// shard.
fn run_args(args: &SweepArgs) -> anyhow::Result<String> {
    let absolute = |p: &Option<PathBuf>| -> anyhow::Result<String> {
        Ok(match p {
            Some(p) => std::path::absolute(p)?.display().to_string(),
            None => String::new(),
        })
    };
    Ok(format!(
        "repos={} images={} github_org={} gitlab_group={} shard={}",
        absolute(&args.repos)?,
        absolute(&args.images)?,
        args.github_org.as_deref().unwrap_or(""),
        args.gitlab_group.as_deref().unwrap_or(""),
        args.shard.map(|s| format!("{}/{}", s.index, s.count)).unwrap_or_default()
    ))
}

/// The config's allowlist, as `scan` applies it.
fn print_summary(format: SummaryFormat, summary: &Summary) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        SummaryFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(summary)?)?,
        SummaryFormat::Text => writeln!(
            out,
            "sweep run {}: repositories {} ok, {} failed, {} skipped; images {} ok, {} failed, \
             {} skipped; blobs {} scanned, {} skipped; {} new findings, {} fixed",
            summary.run,
            summary.repos_ok,
            summary.repos_failed,
            summary.repos_skipped,
            summary.images_ok,
            summary.images_failed,
            summary.images_skipped,
            summary.blobs_scanned,
            summary.blobs_skipped,
            summary.new_findings,
            summary.fixed
        )?,
    }
    Ok(())
}

/// indicatif: one bar for the whole sweep, one spinner line per target in flight.
struct Bars {
    multi: Option<MultiProgress>,
    overall: ProgressBar,
    active: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn new(show: bool, total: u64) -> Bars {
        if !show {
            return Bars { multi: None, overall: ProgressBar::hidden(), active: Mutex::default() };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(total));
        overall.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} targets {elapsed_precise}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bars { multi: Some(multi), overall, active: Mutex::default() }
    }

    fn done(&self) {
        self.overall.finish_and_clear();
    }
}

impl Observer for Bars {
    fn started(&self, target: &str) {
        let Some(multi) = &self.multi else { return };
        let line = multi.add(ProgressBar::new_spinner());
        line.set_message(keysweep::report::text::sanitize(target));
        line.enable_steady_tick(Duration::from_millis(200));
        self.active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(target.to_string(), line);
    }

    fn finished(&self, target: &str, _: &TargetOutcome) {
        self.overall.inc(1);
        let line =
            self.active.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(target);
        if let (Some(multi), Some(line)) = (&self.multi, line) {
            line.finish_and_clear();
            multi.remove(&line);
        }
    }
}

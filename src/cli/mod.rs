//! The command line: parse, load rules and config, run the pipeline, write the report.
//!
//! This is the edge: errors here are `anyhow` with context naming the input, and the outcome
//! of a run becomes the exit code (1 found, 2 failed or misused, 0 clean).
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod args;
mod enrich;
mod guard;
mod output;
mod revoke;
mod store;
mod sweep;

pub use output::install_panic_hook;

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use anyhow::{Context as _, bail};
use keysweep::{
    config::{CONFIG_FILE, Config},
    enrich::{allowlist::Allowlist, baseline::Baseline},
    matcher::Matcher,
    report::{self, Format, Report},
    rules::{RuleIdx, RuleSet, check::check_examples},
    scan::{Progress, ScanResult, scan_git, scan_image, scan_logs, scan_paths},
    source::{
        archive::ArchiveOptions,
        fs::FsOptions,
        git as git_source,
        image::{ImageOptions, ImageRef},
        log::{self as log_source, LogOptions},
    },
};

use args::{
    ArchiveArgs, Cli, Command, DecodeArgs, FormatArg, GitArgs, ImageArgs, ListFormat, LogArgs,
    OutputArgs, RulesArgs, RulesCommand, ScanArgs,
};

/// How a run ended; the exit code is the same for every subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every input was read and nothing was found.
    Clean,
    /// Something was found (even if some inputs failed).
    Found,
    /// Nothing was found, and an input failed or the command was misused.
    Failed,
    /// `guard`: the exit code the agent's hook protocol gives the decision (0 allow, 2 block).
    Hook(u8),
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        match outcome {
            Outcome::Clean => ExitCode::from(0),
            Outcome::Found => ExitCode::from(1),
            Outcome::Failed => ExitCode::from(2),
            Outcome::Hook(code) => ExitCode::from(code),
        }
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// Misuse, a broken config or rule, an unwritable report: the whole run fails (exit 2).
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Scan(args) => scan(args),
        Command::Git(args) => git(args),
        Command::Log(args) => log(args),
        Command::Image(args) => image(args),
        Command::Rules(RulesCommand::List(args)) => {
            output::init_logging(args.verbose);
            rules_list(&args)
        }
        Command::Rules(RulesCommand::Check(args)) => {
            output::init_logging(args.verbose);
            rules_check(&args)
        }
        Command::Guard(args) => Ok(guard::guard(&args)),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Report(args) => {
            output::init_logging(args.verbose);
            store::report(&args)
        }
        Command::Merge(args) => {
            output::init_logging(args.verbose);
            store::merge(&args)
        }
        Command::Revoke(args) => {
            output::init_logging(args.verbose);
            revoke::revoke(&args)
        }
    }
}

/// Built-in rules plus the config's rules; user rules' examples are checked here.
struct Loaded {
    matcher: Matcher,
    config: Config,
    builtin_count: usize,
    /// The config file, for messages (empty without one).
    origin: String,
}

fn load(config_path: Option<&Path>, first_root: Option<&Path>) -> anyhow::Result<Loaded> {
    let config_path = config_path.map(Path::to_path_buf).or_else(|| discover_config(first_root));
    let config = match &config_path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let mut builder = RuleSet::builder();
    builder.add_builtin().context("built-in rules are broken")?;
    let builtin_count = builder.len();
    let origin = config_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    for rule in &config.rules {
        builder.add(rule.clone(), &origin).with_context(|| format!("in config {origin}"))?;
    }
    let matcher = Matcher::new(Arc::new(builder.build()));
    let errors = check_examples(&matcher, |idx| idx.0 as usize >= builtin_count);
    if !errors.is_empty() {
        let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        bail!("user rules in {origin} failed their examples:\n{}", lines.join("\n"));
    }
    Ok(Loaded { matcher, config, builtin_count, origin })
}

fn discover_config(first_root: Option<&Path>) -> Option<PathBuf> {
    let root_config = first_root.filter(|p| p.is_dir()).map(|p| p.join(CONFIG_FILE));
    root_config
        .into_iter()
        .chain(std::iter::once(PathBuf::from(CONFIG_FILE)))
        .find(|candidate| candidate.is_file())
}

/// What every scanning subcommand sets up before its source runs.
struct Session {
    loaded: Loaded,
    allowlist: Allowlist,
    baseline: Option<Baseline>,
    progress: Arc<Progress>,
    enricher: keysweep::enrich::Enricher,
}

impl Session {
    fn start(out: &OutputArgs, first_root: Option<&Path>) -> anyhow::Result<Session> {
        output::init_logging(out.verbose);
        let loaded = load(out.config.as_deref(), first_root)?;
        let allowlist = Allowlist::new(&loaded.config.allowlist)
            .with_context(|| format!("in the allowlist of config {}", loaded.origin))?;
        let baseline = match &out.baseline {
            Some(path) => Some(Baseline::load(path)?),
            None => None,
        };
        let enricher = enrich::enricher(&out.enrich)?;
        Ok(Session {
            loaded,
            allowlist,
            baseline,
            progress: Arc::new(Progress::default()),
            enricher,
        })
    }

    /// Runs a source with the progress spinner on.
    fn run<T>(&self, out: &OutputArgs, source: impl FnOnce(&Progress) -> T) -> T {
        let spinner = output::Spinner::start(!out.no_progress && !out.quiet, self.progress.clone());
        let result = source(&self.progress);
        spinner.stop();
        result
    }

    /// Suppresses, reports errors, writes the report and decides the outcome.
    fn finish(&self, out: &OutputArgs, mut result: ScanResult) -> anyhow::Result<Outcome> {
        self.suppress_and_enrich(&mut result);
        self.write(out, &result)
    }

    /// Drops allowlisted and baselined findings, then enriches the rest.
    fn suppress_and_enrich(&self, result: &mut ScanResult) {
        self.suppress(result);
        let enriched = self.enricher.apply(&mut result.findings, self.loaded.matcher.rules());
        enrich::report(&enriched);
    }

    /// Drops allowlisted and baselined findings and locations.
    fn suppress(&self, result: &mut ScanResult) {
        suppress(&self.allowlist, self.baseline.as_ref(), result);
    }

    /// Reports input errors, writes the report and decides the outcome.
    fn write(&self, out: &OutputArgs, result: &ScanResult) -> anyhow::Result<Outcome> {
        for error in &result.stats.errors {
            output::warn(&keysweep::report::text::sanitize(&error.to_string()));
        }
        let format = report_format(out.format);
        let report = Report {
            findings: &result.findings,
            stats: &result.stats,
            rules: self.loaded.matcher.rules(),
            show_secrets: out.show_secrets,
        };
        // The extra reports first: one that cannot be written is named and the rest go on.
        let mut unwritten = 0;
        for extra in &out.reports {
            if let Err(err) =
                output::write_report_file(&report, report_format(extra.format), &extra.path)
            {
                output::warn(&keysweep::report::text::sanitize(&format!("{err:#}")));
                unwritten += 1;
            }
        }
        let color = output::use_color(out.color, out.output.is_some());
        let mut dest = output::destination(out.output.as_deref())?;
        report::write(&report, format, color, &mut dest).context("cannot write the report")?;
        dest.flush().context("cannot write the report")?;
        if !out.quiet && (format != Format::Text || out.output.is_some()) {
            let mut summary = Vec::new();
            report::text::write_summary_line(&report, &mut summary)?;
            eprint!("{}", String::from_utf8_lossy(&summary));
        }
        Ok(if !result.findings.is_empty() {
            Outcome::Found
        } else if !result.stats.errors.is_empty() || unwritten > 0 {
            Outcome::Failed
        } else {
            Outcome::Clean
        })
    }
}

pub(crate) fn report_format(format: FormatArg) -> Format {
    match format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Github => Format::Github,
        FormatArg::Html => Format::Html,
    }
}

fn scan(args: ScanArgs) -> anyhow::Result<Outcome> {
    let out = &args.output;
    let first_root = args.paths.first().map(PathBuf::as_path).filter(|p| p.as_os_str() != "-");
    let session = Session::start(out, first_root)?;
    let options = FsOptions {
        no_ignore: args.no_ignore,
        max_file_size: args.read.max_file_size,
        threads: args.read.threads,
        scan_binary: args.read.binary,
        exclude: session.allowlist.paths().cloned(),
        archives: archive_options(&args.archives, &args.decode, args.read.binary),
    };
    let result = session
        .run(out, |progress| scan_paths(&session.loaded.matcher, &args.paths, &options, progress));
    session.finish(out, result)
}

fn git(args: GitArgs) -> anyhow::Result<Outcome> {
    let out = &args.output;
    let mut session = Session::start(out, Some(&args.repo))?;
    session.enricher.git_repo = Some(args.repo.clone());
    let mode = if args.staged {
        git_source::Mode::Staged
    } else if let Some(range) = &args.range {
        let Some((base, head)) = range.split_once("..") else {
            bail!("--range wants BASE..HEAD, got {range:?}");
        };
        let head = if head.is_empty() { "HEAD" } else { head };
        git_source::Mode::Range { base: base.to_string(), head: head.to_string() }
    } else if let Some(rev) = &args.since {
        git_source::Mode::SinceRev(rev.clone())
    } else if let Some(date) = args.since_date {
        git_source::Mode::SinceDate(date)
    } else {
        git_source::Mode::History { all_objects: args.all_objects }
    };
    let options = git_source::GitOptions {
        max_file_size: args.read.max_file_size,
        scan_binary: args.read.binary,
        archives: archive_options(&args.archives, &args.decode, args.read.binary),
        skip_objects: Default::default(),
    };
    use_threads(args.read.threads);
    let recording = match &args.datastore {
        Some(dir) => Some(store::GitRecording::start(dir, &args.repo)?),
        None => None,
    };
    let options = match &recording {
        Some(recording) => recording.options(options)?,
        None => options,
    };
    let scanned = session.run(out, |progress| {
        scan_git(&session.loaded.matcher, &args.repo, &mode, &options, progress)
    });
    let mut result = match scanned {
        Ok(result) => result,
        Err(e) => {
            recording.iter().for_each(store::GitRecording::abandon);
            return Err(e.into());
        }
    };
    session.suppress_and_enrich(&mut result);
    if let Some(recording) = recording {
        recording.finish(&result)?;
    }
    session.write(out, &result)
}

/// Drops findings and locations the allowlist covers, and findings the baseline holds.
pub(crate) fn suppress(
    allowlist: &Allowlist,
    baseline: Option<&Baseline>,
    result: &mut ScanResult,
) {
    let before = result.findings.len();
    if let Some(paths) = allowlist.paths() {
        for finding in &mut result.findings {
            finding.locations.retain(|l| !paths.is_match(l.provenance.relative_path()));
        }
    }
    result.findings.retain(|f| {
        !f.locations.is_empty() && !allowlist.allows(f) && !baseline.is_some_and(|b| b.contains(f))
    });
    result.stats.suppressed += (before - result.findings.len()) as u64;
}

fn archive_options(args: &ArchiveArgs, decode: &DecodeArgs, scan_binary: bool) -> ArchiveOptions {
    ArchiveOptions {
        max_depth: args.max_archive_depth,
        max_size: args.max_decompressed_size,
        scan_binary,
        decode: decode.options(),
    }
}

/// `KEYSWEEP_LOG_CHUNK`: bytes read at a time from a log. For tests, which use small chunks to
/// put chunk boundaries where they want; not a user option.
const LOG_CHUNK_ENV: &str = "KEYSWEEP_LOG_CHUNK";

fn log(args: LogArgs) -> anyhow::Result<Outcome> {
    let out = &args.output;
    let inputs = log_source::inputs(&args.inputs);
    let session = Session::start(out, None)?;
    let chunk =
        match std::env::var(LOG_CHUNK_ENV) {
            Ok(text) => text.parse::<usize>().ok().filter(|&n| n > 0).with_context(|| {
                format!("{LOG_CHUNK_ENV} wants a positive number, got {text:?}")
            })?,
            Err(_) => log_source::DEFAULT_CHUNK,
        };
    let options = LogOptions {
        chunk,
        archives: ArchiveOptions {
            max_size: args.max_decompressed_size,
            decode: args.decode.options(),
            ..ArchiveOptions::default()
        },
    };
    use_threads(args.threads);
    let result = session
        .run(out, |progress| scan_logs(&session.loaded.matcher, &inputs, &options, progress));
    session.finish(out, result)
}

fn image(args: ImageArgs) -> anyhow::Result<Outcome> {
    let out = &args.output;
    let refs = args
        .refs
        .iter()
        .map(|r| ImageRef::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .context("keysweep image")?;
    let platform = match &args.platform {
        Some(text) => Some(text.parse().map_err(anyhow::Error::msg).context("--platform")?),
        None => None,
    };
    let registry_auth = match &args.registry_auth {
        Some(text) => match text.split_once(':') {
            Some((user, pass)) => Some((user.to_string(), pass.to_string())),
            None => bail!("--registry-auth wants USER:PASS"),
        },
        None => None,
    };
    let session = Session::start(out, None)?;
    let options = ImageOptions {
        platform,
        all_platforms: args.all_platforms,
        registry_auth,
        insecure_registry: args.insecure_registry,
        docker_config: None,
        max_file_size: args.read.max_file_size,
        scan_binary: args.read.binary,
        archives: archive_options(&args.archives, &args.decode, args.read.binary),
    };
    use_threads(args.read.threads);
    let result =
        session.run(out, |progress| scan_image(&session.loaded.matcher, &refs, &options, progress));
    session.finish(out, result)
}

fn rules_list(args: &RulesArgs) -> anyhow::Result<Outcome> {
    let loaded = load(args.config.as_deref(), None)?;
    let rules = loaded.matcher.rules();
    // `writeln!`, not `println!`: a closed pipe (`keysweep rules list | head`) is an error that
    // `main` turns into a quiet exit, where `println!` would panic.
    let mut out = std::io::stdout().lock();
    match args.format {
        ListFormat::Text => {
            for rule in rules.rules() {
                let (id, severity) = (rule.id(), rule.severity().as_str());
                writeln!(out, "{id:<40} {severity:<8} {}", rule.syntax.name)?;
            }
        }
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = rules
                .rules()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id(),
                        "name": r.syntax.name,
                        "severity": r.severity().as_str(),
                        "category": r.syntax.category,
                        "keywords": r.keywords,
                        "origin": r.origin,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        }
    }
    Ok(Outcome::Clean)
}

fn rules_check(args: &RulesArgs) -> anyhow::Result<Outcome> {
    let loaded = load(args.config.as_deref(), None)?;
    let errors = check_examples(&loaded.matcher, |_: RuleIdx| true);
    let rules = loaded.matcher.rules();
    for error in &errors {
        eprintln!("FAIL {error}");
    }
    let examples: usize = rules
        .rules()
        .iter()
        .map(|r| r.syntax.examples.len() + r.syntax.negative_examples.len())
        .sum();
    writeln!(
        std::io::stdout().lock(),
        "{} rules ({} built-in, {} user), {examples} examples: {} failed",
        rules.len(),
        loaded.builtin_count,
        rules.len() - loaded.builtin_count,
        errors.len()
    )?;
    Ok(if errors.is_empty() { Outcome::Clean } else { Outcome::Failed })
}

/// Sizes rayon's global pool (used by the git, image and log sources); 0 keeps one per core.
fn use_threads(threads: usize) {
    if threads > 0 {
        // The global pool can only be configured once; a second call is harmless.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    }
}

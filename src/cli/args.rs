//! Command-line arguments, as parsed by clap. No other module sees a clap type.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Find leaked credentials — AWS keys first — and tell a responder what matters.
#[derive(Debug, Parser)]
#[command(name = "keysweep", version, about, max_term_width = 100, args_override_self = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories and standard input (`-`) for secrets.
    Scan(ScanArgs),
    /// Scan a git repository's history, its staged changes or a range of commits.
    Git(GitArgs),
    /// Scan build and CI logs (ANSI colours and timestamps stripped, streamed in bounded memory;
    /// a GitHub Actions log zip works too).
    Log(LogArgs),
    /// Scan container images: every layer's files and the config (Env, Cmd, labels, history).
    Image(ImageArgs),
    /// List or check the rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Agent hook: block a coding agent's file write or shell command that holds a credential
    /// (reads the hook payload on stdin; exit 2 blocks).
    #[command(long_about = GUARD_ABOUT)]
    Guard(GuardArgs),
    /// Sweep many repositories and images into a findings store, incrementally.
    Sweep(SweepArgs),
    /// Print findings from a findings store (all, new, fixed, by owner, account, tier, target).
    Report(ReportArgs),
    /// Fold shard stores (directories with keysweep.db) or JSON reports into one store.
    Merge(MergeArgs),
    /// Deactivate a leaked AWS access key (dry run unless --yes) and print the follow-up.
    #[command(long_about = REVOKE_ABOUT)]
    Revoke(RevokeArgs),
}

const GUARD_ABOUT: &str = "\
Agent hook: read a coding agent's hook payload (JSON) on standard input, scan what the tool call
would write or run, and block it when it holds a credential.

Claude Code (PreToolUse): Write `content`, Edit `new_string`, MultiEdit `edits[].new_string`,
NotebookEdit `new_source` and Bash `command` are scanned; other tools are allowed. Findings of
at least --min-severity block (default high: provider keys and tokens, AWS key ids; the AWS
documentation example keys and placeholders never match). `keysweep:allow` on a line and the
allowlist of `.keysweep.toml` in the payload's `cwd` (else the current directory) are honoured.

Exit codes (they follow the agent's hook protocol, not keysweep's usual 0/1/2):
  0  allow (nothing found; a tool with nothing to scan), or block with
     --output-format json (the decision is then the JSON on stdout)
  1  allow, with a warning on stderr: the payload could not be read (fail-open; Claude Code
     shows exit 1 to the user as a non-blocking hook error)
  2  block: stderr names the rule, where, the redacted secret and what to do instead; Claude
     Code feeds it back to the model (a usage error also exits 2)";

/// Options of `git`.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository (a work tree or a bare repository).
    #[arg(default_value = ".", value_name = "REPO")]
    pub repo: PathBuf,
    /// Scan only what is staged: index entries that differ from HEAD, added lines only
    /// (for a pre-commit hook).
    #[arg(long, conflicts_with_all = ["range", "since", "since_date", "all_objects"])]
    pub staged: bool,
    /// Report only secrets added by the commits in BASE..HEAD (for pull requests).
    #[arg(long, value_name = "BASE..HEAD", conflicts_with_all = ["since", "since_date", "all_objects"])]
    pub range: Option<String>,
    /// Scan only commits not reachable from REV (incremental sweeps).
    #[arg(long, value_name = "REV", conflicts_with = "since_date")]
    pub since: Option<String>,
    /// Scan only commits authored on or after DATE (YYYY-MM-DD, RFC 3339, or seconds since
    /// the epoch).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since_date: Option<i64>,
    /// Also scan objects that no ref reaches (dangling and unreachable blobs).
    #[arg(long)]
    pub all_objects: bool,
    /// Record the run in the findings store in DIR (DIR/keysweep.db) and skip blobs an earlier
    /// run recorded; the report and exit code cover what this run read.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["staged", "range", "since", "since_date"])]
    pub datastore: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub archives: ArchiveArgs,
    #[command(flatten)]
    pub decode: DecodeArgs,
}

/// Options of `log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log files (plain, `.gz`, `.zst`, or a zip of logs such as GitHub Actions' download);
    /// `-` or none reads standard input.
    #[arg(value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// A zip of logs may expand to at most this much in total (bytes, or with K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_decompressed_size: u64,
    /// Worker threads for several FILEs (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
    #[command(flatten)]
    pub decode: DecodeArgs,
}

/// How blobs are read (`scan`, `git`, `image`).
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Skip files and blobs larger than this (bytes, or with K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Scan files that look binary (a NUL byte in the first 8 KiB) instead of skipping them.
    #[arg(long)]
    pub binary: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

/// Archives found in files, blobs and layer files (`scan`, `git`, `image`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Archives")]
pub struct ArchiveArgs {
    /// Open archives found in files (zip, jar, war, ear, wheel, tar, tar.gz, tgz, gz, zst) and
    /// archives inside them, up to N levels deep; 0 scans none of them.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub max_archive_depth: usize,
    /// Stop opening one file's archives once they have expanded to SIZE in total, nesting
    /// included (bytes, or with K/M/G suffix); past it the file is reported as an input error
    /// (a decompression bomb).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_decompressed_size: u64,
}

/// Encoded text in every blob (`scan`, `git`, `image`, `log`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Decoding")]
pub struct DecodeArgs {
    /// Decode base64, JSON string escapes, percent-encoding and quoted-printable found in
    /// blobs, and what they decode to, up to N levels deep; 0 decodes nothing.
    #[arg(long, value_name = "N", default_value_t = keysweep::decode::DEFAULT_DEPTH)]
    pub decode_depth: usize,
    /// Decode nothing (same as `--decode-depth 0`).
    #[arg(long, conflicts_with = "decode_depth")]
    pub no_decode: bool,
    /// In program source (`.py`, `.js`, `.go`, `.java`, `.rs`... by extension), decode every
    /// line, not only lines that hold a rule keyword (`secret`, `password`, `AWS_`...).
    /// Other files are always decoded whole. Costs about a fifth more on a source tree.
    #[arg(long, conflicts_with = "no_decode")]
    pub decode_all_source: bool,
}

impl DecodeArgs {
    /// The options these arguments ask for.
    pub fn options(&self) -> keysweep::decode::DecodeOptions {
        let max_depth = if self.no_decode { 0 } else { self.decode_depth };
        keysweep::decode::DecodeOptions { max_depth, source_everywhere: self.decode_all_source }
    }
}

/// Options of `image`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Images: `oci:DIR[:TAG]` (an OCI layout), `docker-archive:FILE.tar` (`docker save`; `-`
    /// reads it from stdin), `docker-daemon:NAME[:TAG]` (the local Docker Engine, at
    /// `DOCKER_HOST=unix://PATH` or /var/run/docker.sock), or `[REGISTRY/]REPO[:TAG|@DIGEST]`
    /// pulled from a registry.
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
    /// Of a multi-platform image, scan this platform (OS/ARCH[/VARIANT]). Default: linux/amd64
    /// if present, else the only one.
    #[arg(long, value_name = "OS/ARCH", conflicts_with = "all_platforms")]
    pub platform: Option<String>,
    /// Scan every platform of a multi-platform image.
    #[arg(long)]
    pub all_platforms: bool,
    /// Registry credentials (default: `auths` in ~/.docker/config.json).
    #[arg(long, value_name = "USER:PASS")]
    pub registry_auth: Option<String>,
    /// Talk plain HTTP to the registry (a local registry).
    #[arg(long)]
    pub insecure_registry: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub archives: ArchiveArgs,
    #[command(flatten)]
    pub decode: DecodeArgs,
}

/// Options of `guard`.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// The agent whose hook payload is on stdin.
    #[arg(long, value_enum, default_value_t = AgentArg::Claude)]
    pub agent: AgentArg,
    /// How a block is reported: exit 2 with the reason on stderr, or Claude Code's JSON
    /// (`permissionDecision: deny`) on stdout with exit 0.
    #[arg(long, value_enum, default_value_t = GuardFormat::ExitCode)]
    pub output_format: GuardFormat,
    /// Block findings of at least this severity.
    #[arg(long, value_enum, default_value_t = SeverityArg::High)]
    pub min_severity: SeverityArg,
    /// Config file with user rules and allowlists (default: `.keysweep.toml` in the payload's
    /// `cwd`, else in the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More diagnostics on stderr (-v, -vv). Never prints secrets.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Agents `guard` reads hook payloads of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgentArg {
    /// Claude Code PreToolUse hooks.
    Claude,
}

/// `guard --output-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GuardFormat {
    /// Exit 2 and the reason on stderr.
    ExitCode,
    /// Claude Code's hookSpecificOutput JSON on stdout, exit 0.
    Json,
}

/// `guard --min-severity` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Everything.
    Info,
    /// Low and above.
    Low,
    /// Medium and above (adds generic secret assignments, JWTs, session tokens).
    Medium,
    /// High and critical.
    High,
    /// Critical only.
    Critical,
}

/// `keysweep rules ...`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule: id, severity, name.
    List(RulesArgs),
    /// Run every rule's examples and negative examples; exit 2 on any failure.
    Check(RulesArgs),
}

/// Options of `rules list` and `rules check`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Also load user rules from this config file (default: ./.keysweep.toml if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format of `rules list`.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// More diagnostics on stderr (-v, -vv). Never prints secrets.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Formats of `rules list`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    /// One rule a line.
    Text,
    /// A JSON array.
    Json,
}

/// Options of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input.
    #[arg(default_value = ".", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Scan files that `.gitignore`, `.ignore` and `.keysweepignore` exclude.
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub archives: ArchiveArgs,
    #[command(flatten)]
    pub decode: DecodeArgs,
}

/// Options every scanning subcommand shares.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the same findings as FORMAT to FILE (repeatable): one scan, several reports,
    /// e.g. `--report sarif=out.sarif --report markdown=summary.md`.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report)]
    pub reports: Vec<ExtraReport>,
    /// Print secrets in full. Without it every output redacts them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Do not report findings present in this previous JSON report.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Config file with user rules and allowlists (default: `.keysweep.toml` in the first
    /// directory scanned, else in the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Never draw a progress indicator.
    #[arg(long)]
    pub no_progress: bool,
    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Print only the report (no summary line on stderr, no progress).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// More diagnostics on stderr (-v, -vv). Never prints secrets.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(flatten)]
    pub enrich: EnrichArgs,
}

/// Verification, owner and blast radius (every scanning subcommand).
#[derive(Debug, Args)]
#[command(next_help_heading = "Verification, owner, blast radius")]
pub struct EnrichArgs {
    /// Ask AWS STS whether each AWS key found still works (one signed GetCallerIdentity per
    /// distinct key; the secret itself is never sent). Without it nothing leaves the machine.
    #[arg(long)]
    pub verify: bool,
    /// STS endpoint (default: $AWS_ENDPOINT_URL_STS, else $AWS_ENDPOINT_URL, else
    /// https://sts.amazonaws.com).
    #[arg(long, value_name = "URL")]
    pub sts_endpoint: Option<String>,
    /// Region to sign STS requests for.
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    pub sts_region: String,
    /// IAM endpoint for --blast-radius (default: $AWS_ENDPOINT_URL_IAM, else
    /// $AWS_ENDPOINT_URL, else https://iam.amazonaws.com).
    #[arg(long, value_name = "URL")]
    pub iam_endpoint: Option<String>,
    /// Allow plain-HTTP endpoints that are not loopback addresses.
    #[arg(long)]
    pub allow_insecure_sts: bool,
    /// Verification requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub verify_concurrency: u16,
    /// Time limit of each verification request (`10s`, `500ms`, `1m`).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub verify_timeout: std::time::Duration,
    /// Remember answers in FILE (JSON, keyed by a hash of each key; never the secret) and
    /// reuse them for --verify-cache-ttl.
    #[arg(long, value_name = "FILE")]
    pub verify_cache: Option<PathBuf>,
    /// How long cached answers stay good (`1h`, `30m`).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub verify_cache_ttl: std::time::Duration,
    /// With --verify: read each live key's IAM policies with the key itself (read-only IAM
    /// calls) to rate what it can do.
    #[arg(long, requires = "verify")]
    pub blast_radius: bool,
    /// An `aws iam get-account-authorization-details` export, for offline blast radius
    /// (repeatable).
    #[arg(long, value_name = "FILE")]
    pub aws_iam: Vec<PathBuf>,
    /// An `aws iam list-access-keys` export mapping key ids to users (repeatable).
    #[arg(long, value_name = "FILE")]
    pub aws_access_keys: Vec<PathBuf>,
    /// An `aws organizations list-accounts` export naming AWS accounts (repeatable).
    #[arg(long, value_name = "FILE")]
    pub aws_accounts: Vec<PathBuf>,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Human text.
    Text,
    /// One JSON document.
    Json,
    /// One JSON finding per line.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// A Markdown table of findings (a GitHub Actions step summary).
    Markdown,
    /// GitHub Actions workflow commands: one annotation per location.
    Github,
    /// One self-contained HTML page for triage: summary charts and a filterable table.
    Html,
}

/// One `--report FORMAT=FILE`.
#[derive(Debug, Clone)]
pub struct ExtraReport {
    /// The format.
    pub format: FormatArg,
    /// Where to write it.
    pub path: PathBuf,
}

/// Parses `--report FORMAT=FILE`.
pub fn parse_report(text: &str) -> Result<ExtraReport, String> {
    let Some((format, path)) = text.split_once('=') else {
        return Err(format!("want FORMAT=FILE, got {text:?}"));
    };
    let format = FormatArg::from_str(format, true).map_err(|_| {
        let names: Vec<String> = FormatArg::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!("unknown format {format:?} (want one of {})", names.join(", "))
    })?;
    if path.is_empty() {
        return Err(format!("no FILE in {text:?}"));
    }
    Ok(ExtraReport { format, path: PathBuf::from(path) })
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Parses `1024`, `10K`, `5M`, `1G` (binary multiples; a trailing `B`/`iB` is allowed).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let upper = trimmed.to_ascii_uppercase();
    let upper = upper.trim_end_matches("IB").trim_end_matches('B');
    let (digits, shift) = match upper.chars().last() {
        Some('K') => (&upper[..upper.len() - 1], 10),
        Some('M') => (&upper[..upper.len() - 1], 20),
        Some('G') => (&upper[..upper.len() - 1], 30),
        Some('T') => (&upper[..upper.len() - 1], 40),
        _ => (upper, 0),
    };
    let value: u64 = digits.trim().parse().map_err(|_| format!("not a size: {text:?}"))?;
    value.checked_mul(1 << shift).ok_or_else(|| format!("size too large: {text:?}"))
}

/// Parses `500ms`, `10s`, `5m`, `1h`, `2d`, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("not a duration: {text:?}"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        _ => return Err(format!("not a duration (want e.g. 500ms, 10s, 5m, 1h): {text:?}")),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| format!("bad duration: {text:?}"))
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or seconds since the epoch, in UTC.
pub fn parse_date(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    let bad = || format!("not a date (want YYYY-MM-DD or RFC 3339): {text:?}");
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00:00Z"));
    let parts: Vec<i64> =
        date.split('-').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    let [year, month, day] = parts[..] else { return Err(bad()) };
    let time = time.trim_end_matches('Z');
    let clock: Vec<i64> =
        time.split(':').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    let (h, m, sec) = match clock[..] {
        [h, m, sec] => (h, m, sec),
        [h, m] => (h, m, 0),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    // Days from civil, after Howard Hinnant's public-domain algorithm.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-02"), Ok(86_400));
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert_eq!(parse_date("1700000000"), Ok(1_700_000_000));
        assert!(parse_date("yesterday").is_err());
    }

    use super::*;

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("10K"), Ok(10 * 1024));
        assert_eq!(parse_size("5MB"), Ok(5 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn extra_reports() {
        let report = parse_report("markdown=out/summary.md").expect("valid");
        assert_eq!(report.format, FormatArg::Markdown);
        assert_eq!(report.path, PathBuf::from("out/summary.md"));
        let report = parse_report("SARIF=a=b.sarif").expect("valid");
        assert_eq!((report.format, report.path), (FormatArg::Sarif, PathBuf::from("a=b.sarif")));
        assert_eq!(parse_report("out.sarif").unwrap_err(), "want FORMAT=FILE, got \"out.sarif\"");
        assert_eq!(parse_report("sarif=").unwrap_err(), "no FILE in \"sarif=\"");
        assert_eq!(parse_report("html=x").expect("valid").format, FormatArg::Html);
        assert_eq!(
            parse_report("pdf=x").unwrap_err(),
            "unknown format \"pdf\" (want one of text, json, jsonl, sarif, markdown, github, html)"
        );
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// Options of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Repositories, one a line (`#` comments): local paths, `file://`, `git://`, `https://`
    /// or ssh URLs (`ssh://...`, `user@host:path`).
    #[arg(long, value_name = "FILE")]
    pub repos: Option<PathBuf>,
    /// Image references, one a line (as `keysweep image` takes them).
    #[arg(long, value_name = "FILE")]
    pub images: Option<PathBuf>,
    /// The findings store (DIR/keysweep.db).
    #[arg(long, value_name = "DIR")]
    pub datastore: PathBuf,
    /// Sweep only shard I of N (1-based): a stable hash of each normalised URL decides.
    #[arg(long, value_name = "I/N", value_parser = keysweep::sweep::targets::Shard::parse)]
    pub shard: Option<keysweep::sweep::targets::Shard>,
    /// Where bare mirrors are kept between sweeps (default: DIR/cache).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Also sweep every repository of this GitHub organisation.
    #[arg(long, value_name = "NAME")]
    pub github_org: Option<String>,
    /// Also sweep every project of this GitLab group.
    #[arg(long, value_name = "NAME")]
    pub gitlab_group: Option<String>,
    /// The forge's API base URL (default: the public GitHub or GitLab API).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// The environment variable holding the forge API token.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// The summary's format on stdout.
    #[arg(long, short = 'f', value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
    /// Config file with user rules and allowlists (default: ./.keysweep.toml if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Never draw progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// No progress and no warnings, only the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// More diagnostics on stderr (-v, -vv). Never prints secrets.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub archives: ArchiveArgs,
    #[command(flatten)]
    pub decode: DecodeArgs,
    #[command(flatten)]
    pub enrich: EnrichArgs,
}

/// `sweep --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// One line.
    Text,
    /// A JSON object (counts and failures).
    Json,
}

/// Options of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The findings store (DIR/keysweep.db).
    #[arg(long, value_name = "DIR")]
    pub datastore: PathBuf,
    /// More diagnostics on stderr (-v, -vv). Never prints secrets.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only findings first seen in the latest run.
    #[arg(long, conflicts_with_all = ["since_run", "since"])]
    pub new: bool,
    /// Only findings first seen in run N or later.
    #[arg(long, value_name = "N", conflicts_with = "since")]
    pub since_run: Option<i64>,
    /// Only findings first seen in a run started on or after DATE (YYYY-MM-DD, RFC 3339, or
    /// seconds since the epoch).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: Option<i64>,
    /// Only findings fixed: none of their blobs is at HEAD any more.
    #[arg(long)]
    pub fixed: bool,
    /// Only findings owned by X: a CODEOWNERS owner, or the introducing author's name or e-mail.
    #[arg(long, value_name = "X")]
    pub owner: Option<String>,
    /// Only findings of AWS account ID.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Only findings of blast-radius tier T (admin, privilege-escalation, data-access, write,
    /// read-only, unknown).
    #[arg(long, value_name = "T")]
    pub tier: Option<String>,
    /// Only locations in this repository (URL or path, as swept) or image reference.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Report format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Config file with user rules (their findings are reported only when the rules load).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Print only the report.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Options of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The store to fold into (created if missing).
    #[arg(long, value_name = "OUT")]
    pub datastore: PathBuf,
    /// Shard stores (directories holding keysweep.db) or keysweep JSON reports.
    #[arg(required = true, value_name = "SRC")]
    pub sources: Vec<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// More diagnostics on stderr (-v, -vv). Never prints secrets.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

const REVOKE_ABOUT: &str = "\
Deactivate a leaked AWS access key (iam:UpdateAccessKey Status=Inactive; never deleted) and print
what to run next: the CloudTrail lookup-events query over the exposure window, per region, and
the rotation steps. Dry run unless --yes.

The key: `KEY_ID SECRET` or `KEY_ID:SECRET` on standard input (the key deactivates itself), or
--fingerprint with --report FILE (a JSON report written with --show-secrets holds the key id and
secret; a redacted one does not, so give --key-id) or --datastore DIR (the store holds no key id:
give --key-id). With --as-admin the administrator credentials in AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) sign the requests and only the key id is needed.

Exit codes: 0 every key deactivated or already inactive (or a dry run found nothing wrong),
1 a key could not be deactivated (not permitted, invalid key, error), 2 misuse or unreadable
input.";

/// Options of `revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The finding whose key to deactivate (from --report or --datastore).
    #[arg(long, value_name = "FINGERPRINT")]
    pub fingerprint: Option<String>,
    /// More diagnostics on stderr (-v, -vv). Never prints secrets.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print the key id in full, in the outcome and the follow-up commands (which otherwise
    /// use `$KEY_ID`). The secret access key is never printed.
    #[arg(long)]
    pub show_secrets: bool,
    /// The JSON report (`--format json`) that holds the finding.
    #[arg(long, value_name = "FILE", requires = "fingerprint", conflicts_with = "datastore")]
    pub report: Option<PathBuf>,
    /// The findings store that holds the finding; the outcome is recorded there.
    #[arg(long, value_name = "DIR", requires = "fingerprint")]
    pub datastore: Option<PathBuf>,
    /// The access key id (when the report is redacted, or with --datastore or --as-admin).
    #[arg(long, value_name = "AKIA...")]
    pub key_id: Option<String>,
    /// Sign with the administrator credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    /// (/ AWS_SESSION_TOKEN) instead of the key's own.
    #[arg(long)]
    pub as_admin: bool,
    /// Sign with the administrator keys of this profile of the AWS shared credentials file
    /// ($AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials; static keys only). Implies
    /// --as-admin.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Deactivate the key. Without it nothing is changed: keysweep says what it would do.
    #[arg(long)]
    pub yes: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = RevokeFormat::Text)]
    pub format: RevokeFormat,
    /// Regions to print the CloudTrail query for (repeatable; default us-east-1).
    #[arg(long = "cloudtrail-region", value_name = "REGION", default_value = "us-east-1")]
    pub cloudtrail_regions: Vec<String>,
    /// IAM endpoint (default: $AWS_ENDPOINT_URL_IAM, else $AWS_ENDPOINT_URL, else
    /// https://iam.amazonaws.com).
    #[arg(long, value_name = "URL")]
    pub iam_endpoint: Option<String>,
    /// STS endpoint (default: $AWS_ENDPOINT_URL_STS, else $AWS_ENDPOINT_URL, else
    /// https://sts.amazonaws.com).
    #[arg(long, value_name = "URL")]
    pub sts_endpoint: Option<String>,
    /// Region to sign requests for.
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    pub region: String,
    /// Time limit of each request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
}

/// `revoke --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RevokeFormat {
    /// For people.
    Text,
    /// One JSON document.
    Json,
}

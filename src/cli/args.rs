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
    /// List or check the rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

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
    #[command(flatten)]
    pub output: OutputArgs,
    /// Skip blobs larger than this (bytes, or with K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Scan blobs that look binary instead of skipping them.
    #[arg(long)]
    pub binary: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
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
    /// Skip files larger than this (bytes, or with K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Scan files that look binary (a NUL byte in the first 8 KiB) instead of skipping them.
    #[arg(long)]
    pub binary: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
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
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("10K"), Ok(10 * 1024));
        assert_eq!(parse_size("5MB"), Ok(5 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

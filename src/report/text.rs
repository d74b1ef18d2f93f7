//! Text for a human at a terminal: one block per secret, every location under it, a summary.
//!
//! Snippets and paths come from untrusted files, so control characters, bidi overrides and
//! zero-width characters are escaped before they reach the terminal.

use std::io;

use anstyle::{AnsiColor, Style};

use super::Report;
use crate::finding::Finding;
use crate::rules::Severity;

/// Writes the report.
///
/// # Errors
/// Whatever the writer returns.
pub fn write(report: &Report<'_>, color: bool, out: &mut dyn io::Write) -> io::Result<()> {
    let paint = Painter { color };
    for finding in report.findings {
        write_finding(finding, report.show_secrets, &paint, out)?;
    }
    write_summary(report, &paint, out)
}

fn write_finding(
    finding: &Finding,
    show: bool,
    paint: &Painter,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let severity_style = match finding.severity {
        Severity::Critical => AnsiColor::Red.on_default().bold(),
        Severity::High => AnsiColor::Red.on_default(),
        Severity::Medium => AnsiColor::Yellow.on_default(),
        Severity::Low | Severity::Info => AnsiColor::Cyan.on_default(),
    };
    writeln!(
        out,
        "{} {} {}",
        paint.paint(severity_style, &format!("{:<8}", finding.severity.as_str())),
        paint.paint(Style::new().bold(), &finding.rule_name),
        paint.paint(Style::new().dimmed(), &format!("({})", finding.rule_id)),
    )?;
    writeln!(out, "  secret       {}", sanitize(&finding.secret.render(show)))?;
    if let Some(key) = &finding.secret_key {
        writeln!(out, "  paired with  secret access key {}", sanitize(&key.render(show)))?;
    }
    if let Some(token) = &finding.session_token {
        writeln!(out, "  session      token {}", sanitize(&token.render(show)))?;
    }
    if let Some(account) = &finding.aws_account {
        writeln!(out, "  aws account  {account} (decoded from the key id, unverified)")?;
    }
    if let Some(first) = finding.introduced().and_then(|l| l.provenance.commit()) {
        let by = sanitize(&format!("{} <{}>", first.author, first.email));
        writeln!(
            out,
            "  leak began   commit {} by {by} on {}",
            &first.id[..first.id.len().min(12)],
            first.date
        )?;
    }
    match finding.present_at_head {
        Some(true) => writeln!(out, "  at HEAD      still present")?,
        Some(false) => writeln!(out, "  at HEAD      removed (still in history)")?,
        None => {}
    }
    writeln!(out, "  fingerprint  {}", finding.fingerprint)?;
    for location in &finding.locations {
        let place = format!(
            "{}:{}:{}",
            sanitize(&location.provenance.display_path()),
            location.start.line,
            location.start.column
        );
        writeln!(out, "  {}", paint.paint(AnsiColor::Magenta.on_default(), &place))?;
        if let Some(commit) = location.provenance.commit() {
            let by = format!("{} <{}>", commit.author, commit.email);
            let line = format!(
                "commit {} by {} on {}",
                &commit.id[..commit.id.len().min(12)],
                sanitize(&by),
                commit.date
            );
            writeln!(out, "      {}", paint.paint(AnsiColor::Cyan.on_default(), &line))?;
        }
        let snippet = sanitize(location.snippet_text(show).trim());
        writeln!(out, "      {}", paint.paint(Style::new().dimmed(), &snippet))?;
    }
    writeln!(out)
}

/// Writes only the summary line, uncoloured (for stderr after a machine-readable report).
///
/// # Errors
/// Whatever the writer returns.
pub fn write_summary_line(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    write_summary(report, &Painter { color: false }, out)
}

fn write_summary(report: &Report<'_>, paint: &Painter, out: &mut dyn io::Write) -> io::Result<()> {
    let stats = report.stats;
    let found = report.findings.len();
    let headline = match found {
        0 => "no secrets found".to_string(),
        1 => format!("1 secret in {} location(s)", report.location_count()),
        n => format!("{n} secrets in {} locations", report.location_count()),
    };
    let style = if found == 0 {
        AnsiColor::Green.on_default().bold()
    } else {
        AnsiColor::Red.on_default().bold()
    };
    let mut line = format!(
        "{} · {} blobs, {} scanned in {:.2}s",
        paint.paint(style, &headline),
        stats.blobs,
        human_bytes(stats.bytes),
        stats.elapsed.as_secs_f64()
    );
    let skipped = stats.skipped_binary + stats.skipped_large + stats.skipped_allowlisted;
    if skipped > 0 {
        line.push_str(&format!(
            " · skipped {} binary, {} too large, {} allowlisted",
            stats.skipped_binary, stats.skipped_large, stats.skipped_allowlisted
        ));
    }
    if stats.suppressed + stats.suppressed_inline > 0 {
        line.push_str(&format!(" · {} suppressed", stats.suppressed + stats.suppressed_inline));
    }
    if !stats.errors.is_empty() {
        let errors = format!(" · {} input(s) could not be read", stats.errors.len());
        line.push_str(&paint.paint(AnsiColor::Yellow.on_default(), &errors));
    }
    writeln!(out, "{line}")
}

/// Applies ANSI styles only when colour is on.
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
}

/// Escapes characters that could move the cursor, change colours or hide text.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let dangerous = c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if dangerous && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_terminal_controls() {
        assert_eq!(sanitize("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(sanitize("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(sanitize("plain"), "plain");
    }
}

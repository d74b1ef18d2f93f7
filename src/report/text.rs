//! Text for a human at a terminal: one block per secret, every location under it, a summary.
//!
//! Snippets and paths come from untrusted files, so control characters, bidi overrides and
//! zero-width characters are escaped before they reach the terminal.

use std::io;

use anstyle::{AnsiColor, Style};

use super::Report;
use crate::enrich::owner::{AwsAccount, PathOwners};
use crate::finding::Finding;
use crate::provenance::Provenance;
use crate::rules::Severity;
use crate::verify::Outcome;

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
    if let Some(account) = finding.owner.as_ref().and_then(|o| o.aws_account.as_ref()) {
        writeln!(out, "  aws account  {}", sanitize(&account_line(account)))?;
    } else if let Some(account) = &finding.aws_account {
        writeln!(out, "  aws account  {account} (decoded from the key id, unverified)")?;
    }
    write_enrichment(finding, show, paint, out)?;
    if let Some(first) = finding.introduced().and_then(|l| l.provenance.commit()) {
        let by = sanitize(&format!("{} <{}>", first.author, first.email));
        writeln!(out, "  leak began   commit {} by {by} on {}", first.short_id(), first.date)?;
    }
    match finding.present_at_head {
        Some(true) => writeln!(out, "  at HEAD      still present")?,
        Some(false) => writeln!(out, "  at HEAD      removed (still in history)")?,
        None => {}
    }
    writeln!(out, "  fingerprint  {}", finding.fingerprint)?;
    for location in &finding.locations {
        let path = sanitize(&location.provenance.display_path());
        let (line, column) = (location.start.line, location.start.column);
        let place = match location.provenance.notebook_cell() {
            Some(cell) => format!("{path} {cell}, line {line}:{column}"),
            None => format!("{path}:{line}:{column}"),
        };
        let place = match location.provenance.decoded() {
            Some(encoding) => format!("{place} ({encoding})"),
            None => place,
        };
        writeln!(out, "  {}", paint.paint(AnsiColor::Magenta.on_default(), &place))?;
        if let Some(commit) = location.provenance.commit() {
            let by = format!("{} <{}>", commit.author, commit.email);
            let mut line =
                format!("commit {} by {} on {}", commit.short_id(), sanitize(&by), commit.date);
            if let Some(repository) = &commit.repository {
                line.push_str(&format!(" in {}", sanitize(repository)));
            }
            writeln!(out, "      {}", paint.paint(AnsiColor::Cyan.on_default(), &line))?;
        }
        if let Some(line) = image_line(location.provenance.root()) {
            writeln!(out, "      {}", paint.paint(AnsiColor::Cyan.on_default(), &sanitize(&line)))?;
        }
        let shown = location.provenance.display_path();
        if let Some(owners) = finding.owner.as_ref().and_then(|o| o.for_path(&shown)) {
            writeln!(out, "      {}", sanitize(&codeowners_line(owners)))?;
        }
        let snippet = sanitize(location.snippet_text(show).trim());
        writeln!(out, "      {}", paint.paint(Style::new().dimmed(), &snippet))?;
    }
    writeln!(out)
}

fn account_line(account: &AwsAccount) -> String {
    let mut line = account.id.clone();
    if let Some(name) = &account.name {
        line.push_str(&format!(" \"{name}\""));
    }
    if let Some(email) = &account.email {
        line.push_str(&format!(" <{email}>"));
    }
    if let Some(status) = account.status.as_deref().filter(|s| *s != "ACTIVE") {
        line.push_str(&format!(" [{status}]"));
    }
    line.push_str(match account.source {
        "verification" => " (confirmed by STS)",
        _ => " (decoded from the key id, unverified)",
    });
    if let Some(decoded) = &account.key_id_decodes_to {
        line.push_str(&format!("; the key id decodes to {decoded}"));
    }
    line
}

fn codeowners_line(owners: &PathOwners) -> String {
    let who =
        if owners.owners.is_empty() { "no owner".to_string() } else { owners.owners.join(" ") };
    match (&owners.pattern, owners.line) {
        (Some(pattern), Some(line)) => format!("owners {who} ({}:{line} {pattern})", owners.file),
        _ => format!("owners {who} ({} has no matching line)", owners.file),
    }
}

/// Verification, blast radius and what to do about a live key.
fn write_enrichment(
    finding: &Finding,
    show: bool,
    paint: &Painter,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    if let Some(v) = &finding.verification {
        let cached = if v.cached { " (cached)" } else { "" };
        let (style, line) = match &v.outcome {
            Outcome::Live { arn, user_id, .. } => (
                AnsiColor::Red.on_default().bold(),
                format!("LIVE as {arn} (user id {user_id}){cached}"),
            ),
            Outcome::Invalid { error, .. } => {
                (AnsiColor::Green.on_default(), format!("invalid: {error}{cached}"))
            }
            Outcome::Unknown { reason } => {
                (AnsiColor::Yellow.on_default(), format!("unknown: {reason}"))
            }
            Outcome::Unverifiable { reason } => {
                (Style::new().dimmed(), format!("unverifiable: {reason}"))
            }
        };
        writeln!(out, "  verified     {}", paint.paint(style, &sanitize(&line)))?;
    }
    if let Some(blast) = &finding.blast_radius {
        let mut line = blast.tier.as_str().to_string();
        if !blast.tier_actions.is_empty() {
            let shown: Vec<&str> = blast.tier_actions.iter().take(5).map(String::as_str).collect();
            line.push_str(&format!(" — {}", shown.join(", ")));
            if blast.tier_actions.len() > 5 {
                line.push_str(", …");
            }
        }
        if !blast.complete {
            line.push_str(" (incomplete)");
        }
        writeln!(out, "  can do       {}", sanitize(&line))?;
        if !blast.services.is_empty() {
            let services: Vec<&str> = blast.services.iter().take(12).map(String::as_str).collect();
            let more = blast.services.len().saturating_sub(12);
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            writeln!(out, "  services     {}{more}", sanitize(&services.join(", ")))?;
        }
        for gap in blast.could_not_read.iter().take(4) {
            writeln!(out, "  could not read {}", sanitize(gap))?;
        }
    }
    if finding.verification.as_ref().is_some_and(|v| v.outcome.is_live()) {
        let id = finding.secret.render(show);
        let verified_arn = finding.verification.as_ref().and_then(|v| match &v.outcome {
            crate::verify::Outcome::Live { arn, .. } => Some(arn.as_str()),
            _ => None,
        });
        let user = finding
            .blast_radius
            .as_ref()
            .and_then(|b| b.principal.as_deref())
            .or(verified_arn)
            .and_then(|arn| arn.split_once(":user/"))
            .map(|(_, path)| format!(" --user-name {}", path.rsplit('/').next().unwrap_or(path)))
            .unwrap_or_default();
        let action = format!(
            "deactivate now: aws iam update-access-key --access-key-id {id} --status Inactive{user}; \
             then review its use: aws cloudtrail lookup-events --lookup-attributes \
             AttributeKey=AccessKeyId,AttributeValue={id}"
        );
        writeln!(out, "  {}", paint.paint(AnsiColor::Red.on_default().bold(), &sanitize(&action)))?;
    }
    Ok(())
}

/// For an image location: the platform, the layer, what created it and whether a later
/// layer removed the file.
fn image_line(provenance: &Provenance) -> Option<String> {
    let image = provenance.image()?;
    let mut line = String::new();
    if let Some(platform) = &image.platform {
        line.push_str(&format!("{platform} "));
    }
    match provenance {
        Provenance::ImageFile { layer_index, layer_digest, created_by, removed_in, .. } => {
            let (algorithm, hex) = layer_digest.split_once(':').unwrap_or(("", layer_digest));
            let short = hex.get(..12).unwrap_or(hex);
            line.push_str(&format!("layer {layer_index} {algorithm}:{short}"));
            if let Some(created_by) = created_by {
                let created_by: String = created_by.chars().take(100).collect();
                line.push_str(&format!(" created by {}", created_by.trim()));
            }
            if let Some(removed_in) = removed_in {
                line.push_str(&format!(" · removed in layer {removed_in} (still in the image)"));
            }
        }
        _ => line.push_str("image config"),
    }
    Some(line)
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
    let verified: Vec<&str> = report
        .findings
        .iter()
        .filter_map(|f| f.verification.as_ref())
        .map(|v| v.outcome.status())
        .collect();
    if !verified.is_empty() {
        let count = |status: &str| verified.iter().filter(|s| **s == status).count();
        let mut parts = Vec::new();
        for status in ["live", "invalid", "unknown", "unverifiable"] {
            if count(status) > 0 {
                parts.push(format!("{} {status}", count(status)));
            }
        }
        let text = format!(" · verified: {}", parts.join(", "));
        let style =
            if count("live") > 0 { AnsiColor::Red.on_default().bold() } else { Style::new() };
        line.push_str(&paint.paint(style, &text));
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

//! Markdown: a heading, a table with one row per location, and what was scanned — a GitHub
//! Actions step summary, or a comment on a merge request.
//!
//! Paths and rule names come from untrusted files and configs. Everything taken from them goes
//! in a code span whose backtick fence is longer than any backtick run inside it, or is
//! backslash-escaped, and `|` is escaped in every cell, so no text can close its cell, add a
//! row, or inject a link or HTML. Secrets are redacted unless `show_secrets`.

use std::io;

use super::{Report, file_region, verification_text};
use crate::finding::{Finding, Location};

/// Rows written at most; GitHub caps a step summary at 1 MiB, and a longer table helps no
/// one (the SARIF and JSON reports hold everything).
pub const MAX_ROWS: usize = 1000;

/// Writes the summary.
///
/// # Errors
/// Whatever the writer returns.
pub fn write(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    let stats = report.stats;
    let locations = report.location_count();
    let headline = match report.findings.len() {
        0 => "no secrets found".to_string(),
        1 => format!("1 secret in {locations} location(s)"),
        n => format!("{n} secrets in {locations} locations"),
    };
    writeln!(out, "### keysweep: {headline}")?;
    writeln!(out)?;
    if locations > 0 {
        writeln!(out, "| Rule | Severity | Location | Commit | Secret | Verification |")?;
        writeln!(out, "| --- | --- | --- | --- | --- | --- |")?;
        let rows = report
            .findings
            .iter()
            .flat_map(|finding| finding.locations.iter().map(move |l| (finding, l)));
        for (finding, location) in rows.take(MAX_ROWS) {
            writeln!(out, "{}", row(finding, location, report.show_secrets))?;
        }
        if locations > MAX_ROWS {
            writeln!(out)?;
            writeln!(
                out,
                "… and {} more locations: see the SARIF or JSON report.",
                locations - MAX_ROWS
            )?;
        }
        writeln!(out)?;
    }
    let mut scanned = format!("Scanned {} blobs ({} bytes)", stats.blobs, stats.bytes);
    let suppressed = stats.suppressed + stats.suppressed_inline;
    if suppressed > 0 {
        scanned.push_str(&format!("; {suppressed} suppressed by allowlist, baseline or inline"));
    }
    writeln!(out, "{scanned}.")?;
    if !stats.errors.is_empty() {
        writeln!(out)?;
        writeln!(out, "**{} input(s) could not be read:**", stats.errors.len())?;
        writeln!(out)?;
        for error in &stats.errors {
            writeln!(out, "- {}", code(&error.to_string()))?;
        }
    }
    Ok(())
}

/// One table row: rule, severity, `file:line`, commit, the redacted secret (with the paired
/// secret access key and session token of an AWS key), verification.
fn row(finding: &Finding, location: &Location, show: bool) -> String {
    let ((line, _), _) = file_region(location);
    let place = format!("{}:{line}", location.provenance.display_path());
    let commit = location.provenance.commit().map_or_else(String::new, |c| code(c.short_id()));
    let mut secret = code(&finding.secret.render(show));
    if let Some(key) = &finding.secret_key {
        secret.push_str(&format!(" + secret key {}", code(&key.render(show))));
    }
    if let Some(token) = &finding.session_token {
        secret.push_str(&format!(" + session token {}", code(&token.render(show))));
    }
    format!(
        "| {} {} | {} | {} | {commit} | {secret} | {} |",
        text(&finding.rule_name),
        code(&finding.rule_id),
        finding.severity.as_str(),
        code(&place),
        text(&verification_text(finding)),
    )
}

/// Untrusted text as a code span that stays in its table cell: line breaks become spaces, `|`
/// is escaped (GitHub's tables split cells before they parse code spans), and the fence is one
/// backtick longer than the longest run inside.
pub fn code(raw: &str) -> String {
    let flat = one_line(raw).replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in flat.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space so the fence stays separate.
    let pad = if flat.starts_with('`') || flat.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// Untrusted text as plain Markdown in a table cell: line breaks become spaces and every ASCII
/// punctuation character that could start inline markup (emphasis, links, HTML, entities,
/// code) is backslash-escaped.
pub fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in one_line(raw).chars() {
        if "\\`*_{}[]<>|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn one_line(raw: &str) -> String {
    raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Position, SnippetPart};
    use crate::provenance::{Commit, Provenance};
    use crate::redact::Secret;
    use crate::rules::{RuleIdx, Severity};
    use crate::scan::ScanStats;
    use crate::verify::{Outcome, Verification};

    fn location(provenance: Provenance, line: usize) -> Location {
        Location {
            provenance,
            span: crate::matcher::Span { start: 0, end: 20 },
            start: Position { line, column: 1 },
            end: Position { line, column: 21 },
            secret_key_at: None,
            snippet: vec![SnippetPart::Text(String::new())],
        }
    }

    fn finding(locations: Vec<Location>) -> Finding {
        Finding {
            rule: RuleIdx(0),
            rule_id: "aws.access-key-id".into(),
            rule_name: "AWS access key".into(),
            severity: Severity::Critical,
            secret: Secret::new(b"AKIA0123456789ABCDEF"),
            secret_key: Some(Secret::new(b"0123456789abcdefghij0123456789abcdefghij")),
            session_token: None,
            aws_account: None,
            fingerprint: "f00d".into(),
            locations,
            present_at_head: None,
            verification: None,
            owner: None,
            blast_radius: None,
        }
    }

    fn render(findings: &[Finding], stats: &ScanStats) -> String {
        let rules = crate::rules::RuleSet::builder().build();
        let report = Report { findings, stats, rules: &rules, show_secrets: false };
        let mut out = Vec::new();
        write(&report, &mut out).expect("write to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn a_table_row_per_location() {
        let commit = std::sync::Arc::new(Commit {
            timestamp: 0,
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            author: "Ann".into(),
            email: "ann@example.org".into(),
            date: "1970-01-01T00:00:00Z".into(),
            repository: None,
        });
        let blob = Provenance::GitBlob { commit, path: "deploy/prod.env".into(), blob: "b".into() };
        let file = Provenance::File { path: "./a.txt".into(), relative: "a.txt".into() };
        let mut found = finding(vec![location(blob, 4), location(file, 9)]);
        found.verification = Some(Verification {
            outcome: Outcome::Live {
                account: "123456789012".into(),
                arn: "arn:aws:iam::123456789012:user/ci".into(),
                user_id: "AIDA".into(),
            },
            verifier: "aws-sts".into(),
            endpoint: None,
            cached: false,
        });
        let stats = ScanStats { blobs: 3, bytes: 120, suppressed: 1, ..ScanStats::default() };
        assert_eq!(
            render(&[found], &stats),
            "### keysweep: 1 secret in 2 location(s)\n\
             \n\
             | Rule | Severity | Location | Commit | Secret | Verification |\n\
             | --- | --- | --- | --- | --- | --- |\n\
             | AWS access key `aws.access-key-id` | critical | `deploy/prod.env:4` | \
             `0123456789ab` | `AKIA****************` + secret key `0123****************` | \
             live as arn:aws:iam::123456789012:user/ci |\n\
             | AWS access key `aws.access-key-id` | critical | `./a.txt:9` |  | \
             `AKIA****************` + secret key `0123****************` | \
             live as arn:aws:iam::123456789012:user/ci |\n\
             \n\
             Scanned 3 blobs (120 bytes); 1 suppressed by allowlist, baseline or inline.\n"
        );
    }

    #[test]
    fn nothing_found() {
        assert_eq!(
            render(&[], &ScanStats::default()),
            "### keysweep: no secrets found\n\nScanned 0 blobs (0 bytes).\n"
        );
    }

    #[test]
    fn untrusted_text_stays_in_its_cell() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y``z"), "```x`y``z```");
        assert_eq!(code("`edge`"), "`` `edge` ``");
        assert_eq!(code("two\nlines\r|"), "`two lines \\|`");
        assert_eq!(
            text("[click](http://x) <b>*|*</b>"),
            "\\[click\\](http://x) \\<b\\>\\*\\|\\*\\</b\\>"
        );
        assert_eq!(text("a_b\nc"), "a\\_b c");
    }

    #[test]
    fn a_hostile_path_is_one_cell() {
        let file = Provenance::File {
            path: "x|`y`\n| evil | row |".into(),
            relative: "x|`y`\n| evil | row |".into(),
        };
        let found = finding(vec![location(file, 1)]);
        let text = render(&[found], &ScanStats::default());
        let row = text.lines().nth(4).expect("a row");
        assert_eq!(
            row,
            "| AWS access key `aws.access-key-id` | critical | ``x\\|`y` \\| evil \\| row \\|:1`` \
             |  | `AKIA****************` + secret key `0123****************` | not verified |"
        );
        assert_eq!(text.lines().count(), 7, "{text}");
    }
}

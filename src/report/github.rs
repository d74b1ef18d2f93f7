//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per
//! location, which the runner shows on the pull request's diff and the run's summary.
//!
//! The runner reads every stdout line that starts with `::` as a command, so untrusted text
//! (paths, rule names from a user config) is escaped as the Actions toolkit does: in the message
//! `%`, CR and LF; in properties also `:` and `,`. A path with a newline therefore cannot end the
//! line early and smuggle in a command of its own. Secrets are redacted unless `show_secrets`.

use std::io;

use super::{Report, file_region, verification_text};
use crate::finding::{Finding, Location};
use crate::provenance::Provenance;
use crate::rules::Severity;

/// Writes one annotation per location, in report order.
///
/// # Errors
/// Whatever the writer returns.
pub fn write(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    for finding in report.findings {
        for location in &finding.locations {
            writeln!(out, "{}", annotation(finding, location, report.show_secrets))?;
        }
    }
    Ok(())
}

/// The command name for a severity, matching the SARIF level.
fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// One workflow-command line (without the newline).
fn annotation(finding: &Finding, location: &Location, show: bool) -> String {
    let mut properties: Vec<(&str, String)> = Vec::new();
    if let Some(file) = annotated_file(&location.provenance) {
        properties.push(("file", file.to_string()));
        // Inside an archive the line and column are the member's, not the file's.
        if !in_archive(&location.provenance) {
            let ((line, col), (end_line, end_col)) = file_region(location);
            properties.push(("line", line.to_string()));
            properties.push(("col", col.to_string()));
            properties.push(("endLine", end_line.to_string()));
            properties.push(("endColumn", end_col.to_string()));
        }
    }
    properties.push(("title", format!("{} ({})", finding.rule_name, finding.rule_id)));
    let properties: Vec<String> =
        properties.iter().map(|(key, value)| format!("{key}={}", escape_property(value))).collect();
    format!(
        "::{} {}::{}",
        command(finding.severity),
        properties.join(","),
        escape_data(&message(finding, location, show))
    )
}

/// What the annotation says: the secret, where it came from, whether it works.
fn message(finding: &Finding, location: &Location, show: bool) -> String {
    let mut text = format!("{} {}", finding.rule_name, finding.secret.render(show));
    if let Some(key) = &finding.secret_key {
        text.push_str(&format!(" paired with secret access key {}", key.render(show)));
    }
    if let Some(token) = &finding.session_token {
        text.push_str(&format!(" and session token {}", token.render(show)));
    }
    text.push_str(&format!(" ({})", finding.severity.as_str()));
    let file = annotated_file(&location.provenance);
    // Where the annotation cannot point: a commit message (which names its commit), an image,
    // a log, or the member of an archive.
    if file.is_none_or(|_| in_archive(&location.provenance)) {
        text.push_str(&format!(" in {}", location.provenance.display_path()));
    }
    if let (Some(_), Some(commit)) = (file, location.provenance.commit()) {
        text.push_str(&format!(" in commit {}", commit.short_id()));
    }
    text.push_str(&format!(
        "; {}; fingerprint {}",
        verification_text(finding),
        finding.fingerprint
    ));
    text
}

/// The repository file an annotation can point at: a working-tree, staged or committed file (or
/// the file holding an archive, notebook or encoded text); none for commit messages, images,
/// logs and standard input.
fn annotated_file(provenance: &Provenance) -> Option<&str> {
    match provenance {
        Provenance::File { relative, .. } => Some(relative),
        Provenance::GitBlob { path, .. } | Provenance::Staged { path } => Some(path),
        Provenance::Nested { parent, .. }
        | Provenance::Notebook { parent, .. }
        | Provenance::Decoded { parent, .. } => annotated_file(parent),
        _ => None,
    }
}

/// True when the location is inside an archive member.
fn in_archive(provenance: &Provenance) -> bool {
    match provenance {
        Provenance::Nested { .. } => true,
        Provenance::Notebook { parent, .. } | Provenance::Decoded { parent, .. } => {
            in_archive(parent)
        }
        _ => false,
    }
}

/// Escapes a command's message (`escapeData` in `@actions/core`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command property's value (`escapeProperty` in `@actions/core`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::finding::{Position, SnippetPart};
    use crate::provenance::Commit;
    use crate::redact::Secret;
    use crate::rules::RuleIdx;
    use crate::verify::{Outcome, Verification};

    fn finding(provenance: Provenance, severity: Severity) -> Finding {
        let location = Location {
            provenance,
            span: crate::matcher::Span { start: 10, end: 30 },
            start: Position { line: 3, column: 7 },
            end: Position { line: 3, column: 27 },
            secret_key_at: None,
            snippet: vec![SnippetPart::Text("x".into())],
        };
        Finding {
            rule: RuleIdx(0),
            rule_id: "demo.token".into(),
            rule_name: "Demo token".into(),
            severity,
            secret: Secret::new(b"demo_0123456789abcdefghij"),
            secret_key: None,
            session_token: None,
            aws_account: None,
            fingerprint: "f00d".into(),
            locations: vec![location],
            present_at_head: None,
            verification: None,
            owner: None,
            blast_radius: None,
        }
    }

    fn file(relative: &str) -> Provenance {
        Provenance::File { path: format!("./{relative}"), relative: relative.into() }
    }

    fn lines(finding: &Finding) -> String {
        let rules = crate::rules::RuleSet::builder().build();
        let stats = crate::scan::ScanStats::default();
        let findings = std::slice::from_ref(finding);
        let report = Report { findings, stats: &stats, rules: &rules, show_secrets: false };
        let mut out = Vec::new();
        write(&report, &mut out).expect("write to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn escapes_follow_the_actions_toolkit() {
        assert_eq!(escape_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("100% a\r\nb: c, d"), "100%25 a%0D%0Ab%3A c%2C d");
        // `%` first, so an escape already in the text is not undone by the runner.
        assert_eq!(escape_property("%0A"), "%250A");
    }

    #[test]
    fn one_annotation_per_location_redacted() {
        let found = finding(file("src/app.env"), Severity::High);
        assert_eq!(
            lines(&found),
            "::error file=src/app.env,line=3,col=7,endLine=3,endColumn=27,\
             title=Demo token (demo.token)::Demo token demo**************** (high); \
             not verified; fingerprint f00d\n"
        );
    }

    #[test]
    fn a_hostile_path_cannot_start_a_command_of_its_own() {
        let found = finding(file("a,b:c%d\n::error::x.env"), Severity::Medium);
        let text = lines(&found);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert_eq!(
            text,
            "::warning file=a%2Cb%3Ac%25d%0A%3A%3Aerror%3A%3Ax.env,line=3,col=7,endLine=3,\
             endColumn=27,title=Demo token (demo.token)::Demo token demo**************** \
             (medium); not verified; fingerprint f00d\n"
        );
    }

    #[test]
    fn commits_archives_and_verification() {
        let commit = Arc::new(Commit {
            timestamp: 0,
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            author: "Ann".into(),
            email: "ann@example.org".into(),
            date: "1970-01-01T00:00:00Z".into(),
            repository: None,
        });
        let blob = Provenance::GitBlob { commit, path: "lib/x.jar".into(), blob: "b".into() };
        let member = Provenance::Nested { parent: Box::new(blob), member: "k.txt".into() };
        let mut found = finding(member, Severity::Low);
        found.verification = Some(Verification {
            outcome: Outcome::Invalid { error: "InvalidClientTokenId".into(), message: "".into() },
            verifier: "aws-sts".into(),
            endpoint: None,
            cached: false,
        });
        assert_eq!(
            lines(&found),
            "::notice file=lib/x.jar,title=Demo token (demo.token)::Demo token \
             demo**************** (low) in lib/x.jar!/k.txt in commit 0123456789ab; \
             invalid: InvalidClientTokenId; fingerprint f00d\n"
        );
    }

    #[test]
    fn no_file_for_a_commit_message() {
        let commit = Arc::new(Commit {
            timestamp: 0,
            id: "89abcdef0123456789abcdef0123456789abcdef".into(),
            author: "Ann".into(),
            email: "ann@example.org".into(),
            date: "1970-01-01T00:00:00Z".into(),
            repository: None,
        });
        let found = finding(Provenance::GitMessage { commit, tag: None }, Severity::Critical);
        assert_eq!(
            lines(&found),
            "::error title=Demo token (demo.token)::Demo token demo**************** \
             (critical) in commit 89abcdef0123 message; not verified; fingerprint f00d\n"
        );
    }
}

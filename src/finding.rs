//! Findings: matches placed in their blob (line, column, snippet) and grouped by secret.
//!
//! [`hits_in_blob`] turns one blob's [`Match`]es into [`Hit`]s; [`group`] folds hits of the same
//! rule and secret from every blob into one [`Finding`] with every location listed.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::matcher::{Match, Span, aws, validate};
use crate::provenance::Provenance;
use crate::redact::Secret;
use crate::rules::{RuleIdx, RuleSet, Severity, Validator};

/// The inline marker that suppresses a finding on its line.
pub const ALLOW_MARKER: &[u8] = b"keysweep:allow";

/// The UTF-8 byte-order mark, which some Windows tools write at the start of a text file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes of context kept on each side of a secret in a snippet.
const SNIPPET_CONTEXT: usize = 60;

/// A place in a blob: 1-based line and column (columns count Unicode code points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in code points.
    pub column: usize,
}

/// A piece of a snippet: plain text, or a secret that is rendered redacted unless asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnippetPart {
    /// Text from the blob (lossy UTF-8).
    Text(String),
    /// A secret on the line.
    Secret(Secret),
}

/// One place a secret was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Where the blob came from.
    pub provenance: Provenance,
    /// Byte range of the secret in the blob.
    pub span: Span,
    /// Start of the secret.
    pub start: Position,
    /// End of the secret (column one past the last code point).
    pub end: Position,
    /// Where the paired AWS secret access key is, if any.
    pub secret_key_at: Option<Position>,
    /// The line around the secret.
    pub snippet: Vec<SnippetPart>,
}

impl Location {
    /// The snippet as text, secrets redacted unless `show_secrets`.
    pub fn snippet_text(&self, show_secrets: bool) -> String {
        self.snippet
            .iter()
            .map(|part| match part {
                SnippetPart::Text(text) => text.clone(),
                SnippetPart::Secret(secret) => secret.render(show_secrets),
            })
            .collect()
    }
}

/// One secret found at one location, before grouping.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The rule.
    pub rule: RuleIdx,
    /// The secret (normalized).
    pub secret: Secret,
    /// The paired AWS secret access key.
    pub secret_key: Option<Secret>,
    /// The paired AWS session token.
    pub session_token: Option<Secret>,
    /// Where.
    pub location: Location,
}

/// A secret, with every place it was found.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: RuleIdx,
    /// The rule's id.
    pub rule_id: String,
    /// The rule's name.
    pub rule_name: String,
    /// Severity (a paired AWS key is critical).
    pub severity: Severity,
    /// The secret.
    pub secret: Secret,
    /// The paired AWS secret access key, from any location.
    pub secret_key: Option<Secret>,
    /// The paired AWS session token, from any location.
    pub session_token: Option<Secret>,
    /// The AWS account decoded offline from the key id, where the layout carries it.
    pub aws_account: Option<String>,
    /// Stable id: hash of rule id and secret.
    pub fingerprint: String,
    /// Every location, sorted (git locations oldest first).
    pub locations: Vec<Location>,
    /// For git history: whether the secret is still in the tree of `HEAD`.
    pub present_at_head: Option<bool>,
    /// Whether the credential works (`--verify`); `None` when not asked or not verifiable.
    pub verification: Option<crate::verify::Verification>,
    /// Who owns the leak: CODEOWNERS of its paths, the commit author, the AWS account.
    pub owner: Option<crate::enrich::owner::Owner>,
    /// What the credential can do (`--aws-iam`, `--blast-radius`).
    pub blast_radius: Option<crate::enrich::blast::BlastRadius>,
}

impl Finding {
    /// The git location where the leak began: the oldest commit that introduced it.
    pub fn introduced(&self) -> Option<&Location> {
        self.locations
            .iter()
            .filter(|l| l.provenance.commit().is_some())
            .min_by_key(|l| l.provenance.commit().map(|c| c.timestamp))
    }
}

impl Hit {
    /// Takes the pairing (secret access key, session token) `other` saw and this hit did not;
    /// true when it took a secret access key.
    pub(crate) fn adopt_pairing(&mut self, other: &Hit) -> bool {
        let took_key = self.secret_key.is_none() && other.secret_key.is_some();
        if took_key {
            self.secret_key.clone_from(&other.secret_key);
        }
        if self.session_token.is_none() && other.session_token.is_some() {
            self.session_token.clone_from(&other.session_token);
        }
        took_key
    }
}

/// Builds hits from one blob's matches. Matches on a line carrying [`ALLOW_MARKER`] are
/// dropped; the number dropped is returned.
pub fn hits_in_blob(
    rules: &RuleSet,
    hay: &[u8],
    provenance: &Provenance,
    matches: &[Match],
    out: &mut Vec<Hit>,
) -> usize {
    hits_counting_with(rules, hay, provenance, matches, out, &mut LineIndex::default())
}

/// [`hits_in_blob`] with the caller's line index, for a caller that passes one blob's matches
/// a few at a time (each call would otherwise count lines again from the blob's start).
pub(crate) fn hits_counting_with(
    rules: &RuleSet,
    hay: &[u8],
    provenance: &Provenance,
    matches: &[Match],
    out: &mut Vec<Hit>,
    lines: &mut LineIndex,
) -> usize {
    let mut suppressed = 0;
    let secret_of =
        |span: Span, v: Option<Validator>| Secret::new(&validate::normalize(v, span.of(hay)));
    // Every secret in the blob, so that a snippet redacts its neighbours too; sorted by span,
    // so that each match looks up its own and its neighbours without a pass over all of them.
    let mut all: Vec<(Span, Secret)> = Vec::with_capacity(matches.len());
    for m in matches {
        all.push((m.secret, secret_of(m.secret, rules.get(m.rule).syntax.validate)));
        all.extend(m.secret_key.map(|s| (s, secret_of(s, Some(Validator::AwsSecretAccessKey)))));
        all.extend(m.session_token.map(|s| (s, secret_of(s, None))));
    }
    all.sort_by_key(|(s, _)| (s.start, s.end));
    all.dedup_by_key(|(s, _)| *s);
    let secrets = Secrets::new(&all);
    let mut line = LineCache::default();
    for m in matches {
        if line.allowed(hay, m.secret.start) {
            suppressed += 1;
            continue;
        }
        let find = |span: Span| secrets.get(span).cloned();
        let secret = find(m.secret).expect("every match's secret is in `all`");
        let location = Location {
            provenance: provenance.clone(),
            span: m.secret,
            start: lines.position(hay, m.secret.start),
            end: lines.position(hay, m.secret.end),
            secret_key_at: m.secret_key.map(|s| lines.position(hay, s.start)),
            snippet: snippet(hay, m.secret, line.bounds(hay, m.secret.start), &secrets),
        };
        out.push(Hit {
            rule: m.rule,
            secret,
            secret_key: m.secret_key.and_then(find),
            session_token: m.session_token.and_then(find),
            location,
        });
    }
    suppressed
}

/// Folds hits into findings, one per (rule, secret), sorted by severity then rule then secret.
///
/// One exception: an AWS key id found paired with different secret access keys (or session
/// tokens) in different places is one finding per credential, so that each pair is verified and
/// reported on its own (a stale or mistyped secret next to the working one). Its locations
/// without a pairing go to the first credential's finding. Split findings are fingerprinted by
/// key id and secret. Hits are taken in location order, so "first" is the same in every run whatever
/// order the threads found them in.
pub fn group(rules: &RuleSet, mut hits: Vec<Hit>) -> Vec<Finding> {
    hits.sort_by(|a, b| {
        let (a, b) = (&a.location, &b.location);
        (&a.provenance, a.start, a.span).cmp(&(&b.provenance, b.start, b.span))
    });
    let mut by_secret: BTreeMap<(RuleIdx, Secret), Vec<Finding>> = BTreeMap::new();
    for hit in hits {
        let credentials = by_secret.entry((hit.rule, hit.secret.clone())).or_default();
        let slot = credential_slot(credentials, &hit).unwrap_or_else(|| {
            credentials.push(new_finding(rules, &hit));
            credentials.len() - 1
        });
        let entry = &mut credentials[slot];
        if entry.secret_key.is_none() && hit.secret_key.is_some() {
            entry.secret_key = hit.secret_key;
            entry.severity = Severity::Critical;
        }
        if entry.session_token.is_none() {
            entry.session_token = hit.session_token;
        }
        entry.locations.push(hit.location);
    }
    // A key id seen with several secrets is several credentials: each gets a fingerprint of
    // its own (key id and secret), so a baseline of one does not hide the others.
    for credentials in by_secret.values_mut().filter(|c| c.len() > 1) {
        for finding in credentials.iter_mut() {
            if let Some(key) = &finding.secret_key {
                finding.fingerprint = credential_fingerprint(
                    &finding.rule_id,
                    &finding.secret,
                    key,
                    finding.session_token.as_ref(),
                );
            }
        }
    }
    let mut findings: Vec<Finding> = by_secret.into_values().flatten().collect();
    for finding in &mut findings {
        finding.locations.sort_by(|a, b| {
            (&a.provenance, a.start, a.span).cmp(&(&b.provenance, b.start, b.span))
        });
        finding.locations.dedup_by(|a, b| a.provenance == b.provenance && a.span == b.span);
    }
    findings.sort_by(|a, b| {
        let first = |f: &Finding| f.locations.first().map(|l| (l.provenance.clone(), l.start));
        (std::cmp::Reverse(a.severity), first(a), &a.rule_id).cmp(&(
            std::cmp::Reverse(b.severity),
            first(b),
            &b.rule_id,
        ))
    });
    findings
}

/// Which of one secret's findings (one per credential) `hit` belongs to; `None` for a new one.
/// A hit without a paired secret goes to the first; a paired hit to the finding with the same
/// secret (and no conflicting session token), else to a finding that has no secret yet.
fn credential_slot(credentials: &[Finding], hit: &Hit) -> Option<usize> {
    if credentials.is_empty() {
        return None;
    }
    let Some(key) = &hit.secret_key else { return Some(0) };
    let token_fits = |f: &Finding| match (&f.session_token, &hit.session_token) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    credentials
        .iter()
        .position(|f| f.secret_key.as_ref() == Some(key) && token_fits(f))
        .or_else(|| credentials.iter().position(|f| f.secret_key.is_none() && token_fits(f)))
}

/// A finding for `hit`'s rule and secret, with no location yet.
fn new_finding(rules: &RuleSet, hit: &Hit) -> Finding {
    let rule = rules.get(hit.rule);
    let is_key_id = rule.syntax.validate == Some(Validator::AwsAccessKeyId);
    Finding {
        rule: hit.rule,
        rule_id: rule.id().to_string(),
        rule_name: rule.syntax.name.clone(),
        severity: rule.severity(),
        aws_account: is_key_id.then(|| aws::account_id(hit.secret.expose().as_bytes())).flatten(),
        fingerprint: fingerprint(rule.id(), &hit.secret),
        secret: hit.secret.clone(),
        secret_key: None,
        session_token: None,
        locations: Vec::new(),
        present_at_head: None,
        verification: None,
        owner: None,
        blast_radius: None,
    }
}

/// The stable fingerprint of a secret under a rule: the same on every run and machine.
pub fn fingerprint(rule_id: &str, secret: &Secret) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0]);
    hasher.update(secret.expose().as_bytes());
    crate::hex::lower(&hasher.finalize()[..16])
}

/// The fingerprint of one credential of a key id found with several secrets.
fn credential_fingerprint(
    rule_id: &str,
    key_id: &Secret,
    secret_key: &Secret,
    session_token: Option<&Secret>,
) -> String {
    let mut parts = key_id.expose().to_string();
    for part in std::iter::once(secret_key).chain(session_token) {
        parts.push('\0');
        parts.push_str(part.expose());
    }
    fingerprint(rule_id, &Secret::new(parts.as_bytes()))
}

/// The line of the last match, so that many matches on one long line find its bounds and its
/// allow marker once, not once each.
#[derive(Default)]
pub(crate) struct LineCache {
    line: Option<(usize, usize, bool)>,
}

impl LineCache {
    fn get(&mut self, hay: &[u8], offset: usize) -> (usize, usize, bool) {
        match self.line {
            // A line's bounds hold no line feed, save maybe at its end: any offset within them
            // is on the same line.
            Some(line @ (start, end, _)) if start <= offset && offset <= end => line,
            _ => {
                let (start, end) = line_bounds(hay, offset);
                let allowed = memchr::memmem::find(&hay[start..end], ALLOW_MARKER).is_some();
                *self.line.insert((start, end, allowed))
            }
        }
    }

    fn bounds(&mut self, hay: &[u8], offset: usize) -> (usize, usize) {
        let (start, end, _) = self.get(hay, offset);
        (start, end)
    }

    /// True when the line holding byte `offset` of `hay` carries [`ALLOW_MARKER`].
    pub(crate) fn allowed(&mut self, hay: &[u8], offset: usize) -> bool {
        self.get(hay, offset).2
    }
}

/// One blob's secrets sorted by span, and the longest, so that the secrets near a place are
/// found by binary search.
struct Secrets<'a> {
    sorted: &'a [(Span, Secret)],
    longest: usize,
}

impl<'a> Secrets<'a> {
    fn new(sorted: &'a [(Span, Secret)]) -> Self {
        let longest = sorted.iter().map(|(s, _)| s.end - s.start).max().unwrap_or(0);
        Secrets { sorted, longest }
    }

    /// The secret at exactly `span`.
    fn get(&self, span: Span) -> Option<&'a Secret> {
        let key = |(s, _): &(Span, Secret)| (s.start, s.end);
        let i = self.sorted.binary_search_by_key(&(span.start, span.end), key).ok()?;
        Some(&self.sorted[i].1)
    }

    /// Every secret that may overlap `from..to` (a superset; callers test each).
    fn near(&self, from: usize, to: usize) -> &'a [(Span, Secret)] {
        let low = from.saturating_sub(self.longest);
        let first = self.sorted.partition_point(|(s, _)| s.start < low);
        let last = self.sorted.partition_point(|(s, _)| s.start < to);
        &self.sorted[first..last.max(first)]
    }
}

/// Byte bounds of the line holding `offset` (without its terminator).
fn line_bounds(hay: &[u8], offset: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &hay[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &hay[offset..]).map_or(hay.len(), |i| offset + i);
    let end = if end > start && hay[end - 1] == b'\r' { end - 1 } else { end };
    (start, end)
}

/// Turns offsets into line/column, counting forward from the previous query when it can, so
/// that many matches on one 200 MB line cost one pass, not one pass each.
#[derive(Default)]
pub(crate) struct LineIndex {
    offset: usize,
    line: usize,
    column: usize,
}

impl LineIndex {
    pub(crate) fn position(&mut self, hay: &[u8], offset: usize) -> Position {
        if offset < self.offset && self.line != 0 && self.step_back(hay, offset) {
            return Position { line: self.line, column: self.column };
        }
        if offset < self.offset || self.line == 0 {
            *self = LineIndex { offset: 0, line: 1, column: 1 };
        }
        let gap = &hay[self.offset..offset];
        let newlines = memchr::memchr_iter(b'\n', gap).count();
        let line_start = match memchr::memrchr(b'\n', gap) {
            Some(i) => {
                self.column = 1;
                i + 1
            }
            None => 0,
        };
        self.line += newlines;
        let counted = &gap[line_start..];
        // A UTF-8 byte-order mark is not a column (editors hide it, and a UTF-16 file's BOM is
        // dropped when it is transcoded), so the first line's columns start after it.
        let counted = if self.offset + line_start == 0 {
            counted.strip_prefix(UTF8_BOM).unwrap_or(counted)
        } else {
            counted
        };
        self.column += code_points(counted);
        self.offset = offset;
        Position { line: self.line, column: self.column }
    }
    /// Moves back to `offset` on the same line by uncounting the code points in between, where
    /// that is exact: no line feed between, `offset` neither inside a character nor inside the
    /// byte-order mark. A key id paired with a secret before it steps back; counting again from
    /// the blob's start each time made one long line of pairs quadratic.
    fn step_back(&mut self, hay: &[u8], offset: usize) -> bool {
        let Some(gap) = hay.get(offset..self.offset) else { return false };
        if memchr::memchr(b'\n', gap).is_some()
            || (hay[offset] & 0xC0) == 0x80
            || (self.line == 1 && offset < UTF8_BOM.len())
        {
            return false;
        }
        let Some(column) = self.column.checked_sub(code_points(gap)) else { return false };
        if column == 0 {
            return false;
        }
        self.column = column;
        self.offset = offset;
        true
    }
}

/// Code points in `bytes` as `String::from_utf8_lossy` (and so the snippet, and an editor)
/// shows them: each invalid sequence counts as one U+FFFD. Counting non-continuation bytes
/// instead would skip a stray continuation byte, such as a Latin-1 no-break space (0xA0).
fn code_points(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|chunk| chunk.valid().chars().count() + usize::from(!chunk.invalid().is_empty()))
        .sum()
}

/// The secret's line, cut to [`SNIPPET_CONTEXT`] bytes each side, with every secret on it as a
/// [`SnippetPart::Secret`].
fn snippet(
    hay: &[u8],
    at: Span,
    (line_start, line_end): (usize, usize),
    secrets: &Secrets<'_>,
) -> Vec<SnippetPart> {
    let mut from = floor_char(hay, at.start.saturating_sub(SNIPPET_CONTEXT).max(line_start));
    let mut to = ceil_char(hay, at.end.saturating_add(SNIPPET_CONTEXT).min(line_end.max(at.end)));
    // Widen the cut so that no secret is shown in part, until no secret crosses its edges.
    loop {
        let (before, after) = (from, to);
        for (span, _) in secrets.near(from, to) {
            if span.start < to && from < span.end {
                from = from.min(span.start);
                to = to.max(span.end);
            }
        }
        if (from, to) == (before, after) {
            break;
        }
    }
    let mut inside: Vec<&(Span, Secret)> =
        secrets.near(from, to).iter().filter(|(s, _)| s.start >= from && s.end <= to).collect();
    inside.sort_by_key(|(s, _)| s.start);
    let mut parts = Vec::new();
    let mut pos = from;
    let text =
        |a: usize, b: usize| SnippetPart::Text(String::from_utf8_lossy(&hay[a..b]).into_owned());
    if from > line_start {
        parts.push(SnippetPart::Text("…".to_string()));
    }
    for (span, secret) in inside {
        if span.start < pos {
            continue;
        }
        parts.push(text(pos, span.start));
        parts.push(SnippetPart::Secret(secret.clone()));
        pos = span.end;
    }
    parts.push(text(pos, to.max(pos)));
    if to < line_end {
        parts.push(SnippetPart::Text("…".to_string()));
    }
    parts
}

fn floor_char(hay: &[u8], mut i: usize) -> usize {
    while i > 0 && i < hay.len() && (hay[i] & 0xC0) == 0x80 {
        i -= 1;
    }
    i
}

fn ceil_char(hay: &[u8], mut i: usize) -> usize {
    while i < hay.len() && (hay[i] & 0xC0) == 0x80 {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_code_points_as_the_lossy_decoding_shows_them() {
        assert_eq!(code_points("clé🔑".as_bytes()), 4);
        // Latin-1 `é` (a lone lead byte) and no-break space (a lone continuation byte).
        assert_eq!(code_points(b"cl\xe9=\xa0"), 5);
        assert_eq!(code_points(b"\x80\x80"), 2);
        // A truncated sequence is one replacement character.
        assert_eq!(code_points(b"\xe2\x82A"), 2);
        let hay = b"x\n\xa0\xa0AKIA";
        assert_eq!(LineIndex::default().position(hay, 4), Position { line: 2, column: 3 });
        let bom = b"\xEF\xBB\xBFk=AKIA\n\xEF\xBB\xBFk=AKIA";
        let mut lines = LineIndex::default();
        assert_eq!(lines.position(bom, 5), Position { line: 1, column: 3 });
        assert_eq!(lines.position(bom, 15), Position { line: 2, column: 4 }, "only at the start");
    }

    #[test]
    fn stepping_back_on_a_line_gives_the_position_counted_from_the_start() {
        // A BOM, multi-byte characters, invalid bytes (a lone continuation, a cut sequence)
        // and line feeds: every offset reached from every later one.
        let hay = b"\xEF\xBB\xBFk=\xC3\xA9t\xE2\x82 \xA0x\ny\xF0\x9F\x94\x91z=AKIA\r\n\xFF\xFEab";
        for later in 0..=hay.len() {
            for earlier in 0..later {
                let mut lines = LineIndex::default();
                lines.position(hay, later);
                assert_eq!(
                    lines.position(hay, earlier),
                    LineIndex::default().position(hay, earlier),
                    "{later} then {earlier}"
                );
            }
        }
    }

    /// A key-id hit in `file` at line `line`, paired with `key` (and `token`) when given.
    fn key_hit(
        rules: &RuleSet,
        file: &str,
        line: usize,
        key: Option<&str>,
        token: Option<&str>,
    ) -> Hit {
        let idx = rules.rules().iter().position(|r| r.id() == "aws.access-key-id").unwrap();
        let at = Position { line, column: 1 };
        Hit {
            rule: RuleIdx(idx as u32),
            secret: Secret::new(b"AKIAQYLPMN5HFIQEXAMQ"),
            secret_key: key.map(|k| Secret::new(k.as_bytes())),
            session_token: token.map(|t| Secret::new(t.as_bytes())),
            location: Location {
                provenance: Provenance::File { path: file.into(), relative: file.into() },
                span: Span { start: line * 10, end: line * 10 + 20 },
                start: at,
                end: at,
                secret_key_at: key.map(|_| at),
                snippet: Vec::new(),
            },
        }
    }

    fn paths(f: &Finding) -> Vec<String> {
        f.locations.iter().map(|l| l.provenance.relative_path()).collect()
    }

    #[test]
    fn one_key_id_with_two_secrets_is_one_finding_per_credential() {
        let rules = RuleSet::builtin().unwrap();
        let (right, wrong) = ("r".repeat(40), "w".repeat(40));
        // Given in an order no thread would promise: grouping sorts by location first.
        let hits = vec![
            key_hit(&rules, "c.ini", 1, Some(&right), None),
            key_hit(&rules, "b.ini", 1, Some(&wrong), None),
            key_hit(&rules, "a.ini", 1, None, None),
            key_hit(&rules, "d.ini", 1, Some(&wrong), None),
        ];
        let findings = group(&rules, hits);
        assert_eq!(findings.len(), 2);
        let by_key = |k: &str| {
            findings.iter().find(|f| f.secret_key.as_ref().map(Secret::expose) == Some(k)).unwrap()
        };
        // The unpaired location joins the first credential found (at b.ini).
        assert_eq!(paths(by_key(&wrong)), ["a.ini", "b.ini", "d.ini"]);
        assert_eq!(paths(by_key(&right)), ["c.ini"]);
        assert!(findings.iter().all(|f| f.severity == Severity::Critical));
        assert_ne!(findings[0].fingerprint, findings[1].fingerprint, "one per credential");
        let id = Secret::new(b"AKIAQYLPMN5HFIQEXAMQ");
        assert_ne!(findings[0].fingerprint, fingerprint("aws.access-key-id", &id));

        // The same pair twice, and a pair with and without its token, stay one finding.
        let hits = vec![
            key_hit(&rules, "a.ini", 1, Some(&right), None),
            key_hit(&rules, "b.ini", 1, Some(&right), Some("TOKEN1")),
            key_hit(&rules, "c.ini", 1, Some(&right), None),
        ];
        let findings = group(&rules, hits);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].session_token.as_ref().map(Secret::expose), Some("TOKEN1"));
        // Two different tokens for one pair are two credentials.
        let hits = vec![
            key_hit(&rules, "a.ini", 1, Some(&right), Some("TOKEN1")),
            key_hit(&rules, "b.ini", 1, Some(&right), Some("TOKEN2")),
        ];
        let findings = group(&rules, hits);
        assert_eq!(findings.len(), 2);
        assert_ne!(findings[0].fingerprint, findings[1].fingerprint);
    }
}

//! Decoded text in the scan: after a blob's raw bytes are matched, what it encodes (base64,
//! JSON string escapes, percent-encoding, quoted-printable; see [`crate::decode`]) is matched
//! too, and each secret the raw bytes did not already show is reported at the encoded text's
//! line and column in the blob, under a [`Provenance::Decoded`].
//!
//! A decoded match at the place of a raw match of the same rule is the raw one seen again: it
//! is dropped, and a pairing only the decoded text showed (a key id and its secret in a
//! percent-encoded JSON query parameter) is carried over to the raw hit. One at the place of a
//! raw match of another rule at least as severe is dropped too (the PEM inside a service
//! account key's escaped `private_key` is that key); a generic raw match does not hide a
//! provider's key decoded from the value it matched.

use std::collections::BTreeMap;
use std::ops::Range;

use super::Worker;
use crate::decode::{Located, Scope};
use crate::finding::{self, Hit, LineCache, LineIndex};
use crate::matcher::{Match, Span};
use crate::provenance::Provenance;

impl Worker<'_> {
    /// Matches what `data` decodes to. `self.matches` holds the raw matches of `data` (kept
    /// ones only) and `self.hits[raw_from..]` their hits; `keep` says whether a secret at a
    /// span of `data` is reported (a delta, a log window's own part).
    pub(super) fn scan_decoded(
        &mut self,
        data: &[u8],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        raw_from: usize,
        keep: &mut dyn FnMut(&Range<usize>) -> bool,
    ) {
        let first = self.hits.len();
        let scope = match self.program_source && !self.archives.decode.source_everywhere {
            true => Scope::Near(self.scratch.keyword_offsets()),
            false => Scope::Everywhere,
        };
        if !self.view.build(data, self.archives.decode, scope) {
            return;
        }
        let mut found = std::mem::take(&mut self.decoded_matches);
        self.matcher.scan(self.view.text(), &mut self.scratch, &mut found);
        let rules = self.matcher.rules();
        // Raw matches by offset, and accepted ones by rule and offset, so that each decoded
        // match looks only at those that can overlap it (a pass over all of them for each made
        // a blob of many encoded secrets quadratic).
        let raw = Near::new(self.matches.iter().map(|r| (r.rule, r.secret)));
        let mut accepted_at = Near::default();
        let mut accepted: Vec<(Match, Located)> = Vec::new();
        for m in &found {
            let Some(at) = self.view.locate(data, m.secret.start..m.secret.end) else { continue };
            if !keep(&at.span) {
                continue;
            }
            let seen = raw.overlapping(&at.span).any(|(rule, _)| rule == m.rule);
            if seen && m.secret_key.is_none() && m.session_token.is_none() {
                continue;
            }
            // The raw bytes show the secret at this place under another rule at least as
            // severe (a service account key's escaped PEM): that finding stands for it.
            let severity = |rule| rules.get(rule).severity();
            let covered = raw
                .overlapping(&at.span)
                .any(|(rule, _)| rule != m.rule && severity(rule) >= severity(m.rule));
            if covered {
                continue;
            }
            if accepted_at.overlapping(&at.span).any(|(rule, _)| rule == m.rule) {
                continue;
            }
            accepted_at.insert(m.rule, span_of(&at.span));
            accepted.push((*m, at));
        }
        found.clear();
        self.decoded_matches = found;
        if accepted.is_empty() {
            return;
        }
        let parents = provenances();
        // Accepted matches come roughly in blob order (and in view order), so one index for
        // each counts forward, and one line cache finds each line's allow marker once.
        let mut lines = LineIndex::default();
        let mut view_lines = LineIndex::default();
        let mut raw_line = LineCache::default();
        let mut hits = Vec::new();
        let raw_hits = Near::new(
            self.hits[raw_from..first].iter().enumerate().map(|(i, h)| (i, h.location.span)),
        );
        for (m, at) in &accepted {
            let key_at = m.secret_key.and_then(|s| self.view.locate(data, s.start..s.end));
            let allowed = raw_line.allowed(data, at.span.start);
            for parent in &parents {
                let provenance = Provenance::Decoded {
                    parent: Box::new(parent.clone()),
                    encoding: at.encoding(),
                };
                let dropped = finding::hits_counting_with(
                    rules,
                    self.view.text(),
                    &provenance,
                    &[*m],
                    &mut hits,
                    &mut view_lines,
                );
                self.stats.suppressed_inline += dropped as u64;
                for mut hit in hits.drain(..) {
                    if allowed {
                        self.stats.suppressed_inline += 1;
                        continue;
                    }
                    place(&mut hit, data, at, key_at.as_ref(), &mut lines);
                    if !merge_into_raw(&mut self.hits[raw_from..first], &raw_hits, &hit, parent) {
                        self.hits.push(hit);
                    }
                }
            }
        }
    }
}

fn span_of(range: &Range<usize>) -> Span {
    Span { start: range.start, end: range.end }
}

/// Spans, each with a value (a rule, an index), ordered by start, for overlap queries that
/// skip what lies far away.
struct Near<T> {
    /// start → (end, value) of every span starting there, in insertion order.
    by_start: BTreeMap<usize, Vec<(usize, T)>>,
    longest: usize,
}

impl<T> Default for Near<T> {
    fn default() -> Self {
        Near { by_start: BTreeMap::new(), longest: 0 }
    }
}

impl<T: Copy> Near<T> {
    fn new(spans: impl Iterator<Item = (T, Span)>) -> Near<T> {
        let mut near = Near::default();
        for (value, span) in spans {
            near.insert(value, span);
        }
        near
    }

    fn insert(&mut self, value: T, span: Span) {
        self.longest = self.longest.max(span.end - span.start);
        self.by_start.entry(span.start).or_default().push((span.end, value));
    }

    /// The spans overlapping `range`: those starting before its end and ending after its start
    /// (one starting more than the longest span before it cannot reach it).
    fn overlapping<'a>(&'a self, range: &Range<usize>) -> impl Iterator<Item = (T, Span)> + 'a {
        let (start, end) = (range.start, range.end);
        self.by_start
            .range(start.saturating_sub(self.longest)..end)
            .flat_map(|(&s, at)| {
                at.iter().map(move |&(e, value)| (value, Span { start: s, end: e }))
            })
            .filter(move |(_, span)| start < span.end && span.start < end)
    }
}

/// Moves a hit found in the view to the encoded text in `data`.
fn place(
    hit: &mut Hit,
    data: &[u8],
    at: &Located,
    key_at: Option<&Located>,
    lines: &mut LineIndex,
) {
    let mut position = |offset: usize| lines.position(data, offset.min(data.len()));
    let location = &mut hit.location;
    location.span = span_of(&at.span);
    location.start = position(at.span.start);
    location.end = position(at.span.end);
    location.secret_key_at = key_at.map(|k| position(k.span.start));
}

/// Folds a decoded hit into the raw hit of the same rule at the same place (the first such in
/// `raw_hits`), carrying over a pairing; false when there is none.
fn merge_into_raw(
    raw_hits: &mut [Hit],
    index: &Near<usize>,
    hit: &Hit,
    parent: &Provenance,
) -> bool {
    let span = hit.location.span;
    let same = index
        .overlapping(&(span.start..span.end))
        .map(|(i, _)| i)
        .filter(|&i| raw_hits[i].rule == hit.rule && raw_hits[i].location.provenance == *parent)
        .min();
    let Some(raw) = same.map(|i| &mut raw_hits[i]) else { return false };
    if raw.adopt_pairing(hit) {
        raw.location.secret_key_at = hit.location.secret_key_at;
    }
    true
}

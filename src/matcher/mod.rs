//! The matcher: bytes in, matches out. No I/O, no paths, no printing.
//!
//! Two stages, as in noseyparker and gitleaks but without a per-rule pass over the whole input:
//!
//! 1. One `aho-corasick` automaton over every rule's keywords (ASCII case-insensitive,
//!    overlapping, so a keyword shared by several rules selects all of them) finds candidate
//!    offsets. Most input has no keyword at all, so this stage sets the scan speed.
//! 2. Each hit selects only its own rules. Hits of the same rule whose windows overlap are merged,
//!    and the rule's `regex-automata` regex runs once per merged window, via `Input::span`, so
//!    look-around assertions still see the bytes just outside the window.
//!
//! Matches then pass the rule's filters ([`validate`]), AWS key ids are paired with nearby
//! secret access keys and session tokens ([`aws`]), and overlapping matches of different rules
//! are resolved by rule priority.
//!
//! The caller owns all scratch memory ([`Scratch`], one per worker thread), so a scan allocates
//! only when it finds something.

pub mod aws;
pub mod prefilter;
pub mod validate;

use std::sync::Arc;

use regex_automata::{Input, meta, util::captures::Captures};

use crate::rules::{RuleIdx, RuleSet, Validator};

/// A half-open byte range in a haystack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The bytes of this span in `hay`.
    pub fn of<'h>(&self, hay: &'h [u8]) -> &'h [u8] {
        &hay[self.start..self.end]
    }

    /// Bytes between two spans, 0 when they overlap.
    pub fn gap(&self, other: &Span) -> usize {
        other.start.saturating_sub(self.end).max(self.start.saturating_sub(other.end))
    }

    fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Haystacks at least this long get fresh regex caches (see [`Matcher::scan`]).
const FRESH_CACHE_LEN: usize = 256 * 1024;

/// One confirmed secret: offsets only, no strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// The rule that matched.
    pub rule: RuleIdx,
    /// The secret capture.
    pub secret: Span,
    /// For an AWS access key id: the secret access key paired with it.
    pub secret_key: Option<Span>,
    /// For an AWS access key id: the session token paired with it.
    pub session_token: Option<Span>,
}

/// Per-thread scratch memory for [`Matcher::scan`].
#[derive(Debug, Default)]
pub struct Scratch {
    caches: Vec<Option<(meta::Cache, Captures)>>,
    windows: Vec<(RuleIdx, usize, usize)>,
    keyword_offsets: Vec<usize>,
    lowercase: Vec<u8>,
    aws: aws::Scratch,
}

impl Scratch {
    /// Where the last [`Matcher::scan`] found a rule keyword (confirmed by a rule or not), in
    /// no particular order: the places worth decoding where decoding everything costs too much.
    pub fn keyword_offsets(&self) -> &[usize] {
        &self.keyword_offsets
    }
}

/// A compiled, immutable matcher over a [`RuleSet`]. Cheap to share across threads.
#[derive(Debug)]
pub struct Matcher {
    rules: Arc<RuleSet>,
    keywords: prefilter::Prefilter,
    keyword_rules: Vec<Vec<RuleIdx>>,
    aws: aws::Pairing,
}

impl Matcher {
    /// Builds the keyword automaton over every rule.
    ///
    /// # Panics
    /// Never for a rule set the builder accepted: keywords are non-empty literals.
    pub fn new(rules: Arc<RuleSet>) -> Matcher {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<RuleIdx>> = Vec::new();
        for (i, rule) in rules.rules().iter().enumerate() {
            for kw in &rule.keywords {
                let idx = match keywords.iter().position(|k| k == kw) {
                    Some(idx) => idx,
                    None => {
                        keywords.push(kw.clone());
                        keyword_rules.push(Vec::new());
                        keywords.len() - 1
                    }
                };
                let idx_rules = &mut keyword_rules[idx];
                if !idx_rules.contains(&RuleIdx(i as u32)) {
                    idx_rules.push(RuleIdx(i as u32));
                }
            }
        }
        let lowercase: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        let automaton = prefilter::Prefilter::new(&lowercase);
        Matcher { aws: aws::Pairing::new(&rules), rules, keywords: automaton, keyword_rules }
    }

    /// The rules this matcher runs.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Scans `hay`, replacing `out` with its matches in order of secret offset.
    pub fn scan(&self, hay: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        out.clear();
        scratch.windows.clear();
        scratch.keyword_offsets.clear();
        let windows = &mut scratch.windows;
        let offsets = &mut scratch.keyword_offsets;
        self.keywords.for_each(hay, &mut scratch.lowercase, |keyword, start, end| {
            offsets.push(start);
            for &idx in &self.keyword_rules[keyword] {
                let rule = self.rules.get(idx);
                let from = start.saturating_sub(rule.window_before);
                let to = end.saturating_add(rule.window_after).min(hay.len());
                windows.push((idx, from, to));
            }
        });
        if scratch.windows.is_empty() {
            return;
        }
        if scratch.caches.len() < self.rules.len() {
            scratch.caches.resize_with(self.rules.len(), || None);
        }
        // A lazy DFA whose cache keeps being cleared gives up for good and leaves every later
        // search to the much slower NFA. One cache serves a thread's whole scan, so a long run
        // of dense keyword hits (a streamed file, one huge line) would slow every later blob:
        // a large haystack starts its rules with fresh caches.
        if hay.len() >= FRESH_CACHE_LEN {
            for (i, slot) in scratch.caches.iter_mut().enumerate() {
                if let (Some((cache, _)), Some(compiled)) =
                    (slot.as_mut(), self.rules.rules()[i].compiled())
                {
                    cache.reset(&compiled.regex);
                }
            }
        }
        scratch.windows.sort_unstable();
        let mut windows = std::mem::take(&mut scratch.windows);
        let mut merged: Option<(RuleIdx, usize, usize)> = None;
        for &(idx, start, end) in windows.iter() {
            match merged {
                Some((m_idx, m_start, m_end)) if m_idx == idx && start <= m_end => {
                    merged = Some((m_idx, m_start, m_end.max(end)));
                }
                _ => {
                    if let Some((m_idx, m_start, m_end)) = merged {
                        self.confirm(m_idx, hay, m_start, m_end, scratch, out);
                    }
                    merged = Some((idx, start, end));
                }
            }
        }
        if let Some((m_idx, m_start, m_end)) = merged {
            self.confirm(m_idx, hay, m_start, m_end, scratch, out);
        }
        windows.clear();
        scratch.windows = windows;
        if !out.is_empty() {
            self.aws.pair(&self.rules, hay, &mut scratch.aws, out);
            resolve_overlaps(&self.rules, out);
        }
    }

    /// Runs one rule's regex over `hay[start..end]` and keeps the matches its filters accept.
    fn confirm(
        &self,
        idx: RuleIdx,
        hay: &[u8],
        start: usize,
        end: usize,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let rule = self.rules.get(idx);
        let Some(compiled) = rule.compiled() else { return };
        let regex = &compiled.regex;
        let (cache, caps) = scratch.caches[idx.0 as usize]
            .get_or_insert_with(|| (regex.create_cache(), regex.create_captures()));
        let mut at = start;
        while at < end {
            let input = Input::new(hay).span(at..end);
            regex.search_captures_with(cache, &input, caps);
            let Some(whole) = caps.get_match() else { break };
            at = if whole.end() > at { whole.end() } else { at + 1 };
            let Some(secret) = caps.get_group(compiled.secret_group) else { continue };
            let secret = Span { start: secret.start, end: secret.end };
            if validate::accept(rule, secret.of(hay), &hay[secret.end..]) {
                out.push(Match { rule: idx, secret, secret_key: None, session_token: None });
            }
        }
    }
}

/// Where matches of different rules overlap, keeps the higher priority (then the longer secret,
/// then the earlier rule); a paired AWS key absorbs matches inside its secret access key.
fn resolve_overlaps(rules: &RuleSet, out: &mut Vec<Match>) {
    out.sort_unstable_by_key(|m| (m.secret.start, m.secret.end, m.rule));
    let mut paired: Vec<Span> =
        out.iter().flat_map(|m| m.secret_key.into_iter().chain(m.session_token)).collect();
    if !paired.is_empty() {
        // Sorted by start with the running furthest end: a match overlaps a paired span when
        // one starting before its end reaches past its start (a binary search, not a pass).
        paired.sort_unstable_by_key(|p| p.start);
        let reach: Vec<usize> = paired
            .iter()
            .scan(0, |furthest, p| {
                *furthest = p.end.max(*furthest);
                Some(*furthest)
            })
            .collect();
        out.retain(|m| {
            let before = paired.partition_point(|p| p.start < m.secret.end);
            m.secret_key.is_some() || before == 0 || reach[before - 1] <= m.secret.start
        });
    }
    let rank = |m: &Match| {
        let rule = rules.get(m.rule);
        (rule.syntax.priority, m.secret.end - m.secret.start, std::cmp::Reverse(m.rule))
    };
    let mut kept: Vec<Match> = Vec::with_capacity(out.len());
    for m in out.drain(..) {
        match kept.last_mut() {
            Some(last) if last.secret.overlaps(&m.secret) => {
                if rank(&m) > rank(last) {
                    *last = m;
                }
            }
            _ => kept.push(m),
        }
    }
    *out = kept;
}

/// The validator a rule asks for, if any.
pub(crate) fn validator_of(rules: &RuleSet, idx: RuleIdx) -> Option<Validator> {
    rules.get(idx).syntax.validate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Matcher>();
        assert_send_sync::<RuleSet>();
    }
}

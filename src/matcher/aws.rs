//! AWS credential pairing and offline account decoding.
//!
//! A secret access key is 40 characters of base64 with no prefix: alone it is weak evidence.
//! A key id found in a blob is paired with the nearest secret within [`PAIR_DISTANCE`] bytes:
//! first a secret that a named rule (`aws_secret_access_key = ...`) already found, else any
//! 40-character base64 run that passes the secret filters. An `ASIA` key also takes the nearest
//! session token. Paired secrets and tokens are folded into the key id's match.

use regex_automata::{Input, meta, util::captures::Captures};

use super::{Match, Span, validate};
use crate::rules::{RuleSet, Validator, compile_regex};

/// How far (bytes between the two) a secret or session token may stand from its key id.
pub const PAIR_DISTANCE: usize = 2048;

/// A 40-character base64 run, allowing JSON-escaped `\/` and percent-encoded `/` and `+`.
const SECRET_CANDIDATE: &str = r"(?:^|[^A-Za-z0-9/+=%\\]|\\[nrt])(?P<secret>(?:[A-Za-z0-9+]|\\{0,2}/|%2[FfBb]){40})(?:[^A-Za-z0-9/+=]|$)";

/// Per-thread scratch for pairing.
#[derive(Debug, Default)]
pub struct Scratch {
    cache: Option<(meta::Cache, Captures)>,
    candidates: Vec<Span>,
    used: Vec<Span>,
}

/// The compiled pairing search.
#[derive(Debug)]
pub struct Pairing {
    candidate: meta::Regex,
    secret_group: usize,
}

impl Pairing {
    /// Compiles the candidate search.
    pub fn new(_rules: &RuleSet) -> Pairing {
        let candidate = compile_regex(SECRET_CANDIDATE).expect("a constant, tested pattern");
        let secret_group = candidate
            .group_info()
            .to_index(regex_automata::PatternID::ZERO, "secret")
            .expect("the pattern names its secret group");
        Pairing { candidate, secret_group }
    }

    /// Pairs every key id in `out` with a secret (and token), removing what it absorbs.
    pub fn pair(&self, rules: &RuleSet, hay: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        let kind = |m: &Match| super::validator_of(rules, m.rule);
        if !out.iter().any(|m| kind(m) == Some(Validator::AwsAccessKeyId)) {
            return;
        }
        out.sort_unstable_by_key(|m| m.secret.start);
        let mut absorbed = vec![false; out.len()];
        scratch.used.clear();
        for i in 0..out.len() {
            if kind(&out[i]) != Some(Validator::AwsAccessKeyId) {
                continue;
            }
            let key = out[i].secret;
            let named = nearest(out, key, |j, m| {
                !absorbed[j] && kind(m) == Some(Validator::AwsSecretAccessKey)
            });
            out[i].secret_key = match named {
                Some(j) => {
                    absorbed[j] = true;
                    Some(out[j].secret)
                }
                None => self.nearest_candidate(rules, hay, key, scratch),
            };
            if let Some(secret) = out[i].secret_key {
                scratch.used.push(secret);
            }
            if key.of(hay).starts_with(b"ASIA") {
                let token = nearest(out, key, |j, m| {
                    !absorbed[j] && kind(m) == Some(Validator::AwsSessionToken)
                });
                if let Some(j) = token {
                    absorbed[j] = true;
                    out[i].session_token = Some(out[j].secret);
                }
            }
        }
        let mut flags = absorbed.into_iter();
        out.retain(|_| !flags.next().unwrap_or(false));
    }

    /// The nearest unused 40-character secret candidate around `key`.
    fn nearest_candidate(
        &self,
        rules: &RuleSet,
        hay: &[u8],
        key: Span,
        scratch: &mut Scratch,
    ) -> Option<Span> {
        let start = key.start.saturating_sub(PAIR_DISTANCE);
        let end = key.end.saturating_add(PAIR_DISTANCE).min(hay.len());
        let (cache, caps) = scratch.cache.get_or_insert_with(|| {
            (self.candidate.create_cache(), self.candidate.create_captures())
        });
        scratch.candidates.clear();
        let mut at = start;
        while at < end {
            self.candidate.search_captures_with(cache, &Input::new(hay).span(at..end), caps);
            let Some(whole) = caps.get_match() else { break };
            at = whole.end().max(at + 1);
            if let Some(g) = caps.get_group(self.secret_group) {
                let span = Span { start: g.start, end: g.end };
                let value = validate::normalize(Some(Validator::AwsSecretAccessKey), span.of(hay));
                let escaped_continuation = hay.get(span.end..).is_some_and(|rest| {
                    let rest: Vec<u8> = rest.iter().take(3).map(u8::to_ascii_lowercase).collect();
                    rest.starts_with(b"%2f") || rest.starts_with(b"%2b") || rest.starts_with(b"\\/")
                });
                if !escaped_continuation
                    && validate::aws_secret_access_key(&value)
                    && !validate::is_placeholder(&value)
                {
                    // Backtrack so an overlapping, better-bounded run is not skipped.
                    at = at.min(span.end);
                    scratch.candidates.push(span);
                }
            }
        }
        let _ = rules;
        scratch
            .candidates
            .iter()
            .filter(|c| !scratch.used.contains(c) && c.gap(&key) <= PAIR_DISTANCE)
            .min_by_key(|c| (c.gap(&key), c.start < key.start))
            .copied()
    }
}

/// Index of the match nearest to `key` (within [`PAIR_DISTANCE`]) that `want` accepts.
fn nearest(out: &[Match], key: Span, want: impl Fn(usize, &Match) -> bool) -> Option<usize> {
    out.iter()
        .enumerate()
        .filter(|(j, m)| want(*j, m) && m.secret.gap(&key) <= PAIR_DISTANCE)
        .min_by_key(|(_, m)| (m.secret.gap(&key), m.secret.start < key.start))
        .map(|(j, _)| j)
}

/// The AWS account id encoded in a key id, where the key's layout carries it.
///
/// Base32-decode the 16 characters after the prefix; the account is bits 7..47 of the first six
/// bytes. Keys minted before the layout change (`AKIAI…`, `AKIAJ…`) and legacy `A3T…` keys do
/// not carry it, so those return `None`. A decoded account is a hint until verification.
pub fn account_id(key_id: &[u8]) -> Option<String> {
    if key_id.len() != 20 || !(key_id.starts_with(b"AKIA") || key_id.starts_with(b"ASIA")) {
        return None;
    }
    if matches!(key_id[4], b'I' | b'J') {
        return None;
    }
    let mut bits: u128 = 0;
    for &c in &key_id[4..] {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | v as u128;
    }
    // 80 bits decoded; the first 48 of them are `z`.
    let z = (bits >> 32) as u64;
    let account = (z & 0x7FFF_FFFF_FF80) >> 7;
    Some(format!("{account:012}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_account_ids() {
        // Layout from public research: this key id encodes account 123456789012.
        assert_eq!(account_id(b"ASIAY34FZKBOKMUTVV7A").as_deref(), Some("609629065308"));
        assert_eq!(account_id(b"AKIAIOSFODNN7EXAMPLE"), None);
    }

    #[test]
    fn candidate_pattern_compiles() {
        Pairing::new(&RuleSet::default());
    }
}

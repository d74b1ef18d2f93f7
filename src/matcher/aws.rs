//! AWS credential pairing and offline account decoding.
//!
//! A secret access key is 40 characters of base64 with no prefix: alone it is weak evidence.
//! A key id found in a blob is paired with the nearest secret within [`PAIR_DISTANCE`] bytes:
//! first a secret that a named rule (`aws_secret_access_key = ...`) already found, else any
//! 40-character base64 run that passes the secret filters. An `ASIA` key also takes the nearest
//! session token. Paired secrets and tokens are folded into the key id's match.

use std::collections::HashSet;

use regex_automata::{Input, meta, util::captures::Captures};

use super::{Match, Span, validate};
use crate::rules::{RuleSet, Validator, compile_regex};

/// How far (bytes between the two) a secret or session token may stand from its key id.
pub const PAIR_DISTANCE: usize = 2048;

/// A 40-character base64 run, allowing JSON-escaped `\/` and percent-encoded `/` and `+`.
/// It may follow `=` (`secret=...`, `--secret_key=...`): padding ends base64, so a run that
/// follows `=` starts fresh; it may not be followed by `=` (then it is padded base64 data).
const SECRET_CANDIDATE: &str = r"(?:^|[^A-Za-z0-9/+%\\]|\\[nrt])(?P<secret>(?:[A-Za-z0-9+]|\\{0,2}/|%2[FfBb]){40})(?:[^A-Za-z0-9/+=]|$)";

/// Per-thread scratch for pairing.
#[derive(Debug, Default)]
pub struct Scratch {
    cache: Option<(meta::Cache, Captures)>,
    candidates: Vec<Span>,
    used: HashSet<Span>,
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
    ///
    /// Pairs are made nearest first across all key ids, not key by key in file order: a key id
    /// written without its secret must not take the secret of the next key id, which stands
    /// nearer to its own. Named secrets are paired first; key ids left over take the nearest
    /// unused secret candidate.
    pub fn pair(&self, rules: &RuleSet, hay: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        let kind = |m: &Match| super::validator_of(rules, m.rule);
        if !out.iter().any(|m| kind(m) == Some(Validator::AwsAccessKeyId)) {
            return;
        }
        out.sort_unstable_by_key(|m| m.secret.start);
        let keys: Vec<usize> =
            (0..out.len()).filter(|&i| kind(&out[i]) == Some(Validator::AwsAccessKeyId)).collect();
        let mut absorbed = vec![false; out.len()];
        scratch.used.clear();

        // Named secrets, then (for ASIA keys) session tokens: nearest pairs first. `out` is in
        // offset order, so each key id looks only at the matches that can stand near it.
        let longest = out.iter().map(|m| m.secret.end - m.secret.start).max().unwrap_or(0);
        let mut options: Vec<(Closeness, usize, usize)> = Vec::new();
        for (wanted, is_token) in
            [(Validator::AwsSecretAccessKey, false), (Validator::AwsSessionToken, true)]
        {
            options.clear();
            for &i in &keys {
                let key = out[i].secret;
                if is_token && !key.of(hay).starts_with(b"ASIA") {
                    continue;
                }
                let low = key.start.saturating_sub(PAIR_DISTANCE + longest);
                let first = out.partition_point(|m| m.secret.start < low);
                let high = key.end.saturating_add(PAIR_DISTANCE);
                for (j, m) in out.iter().enumerate().skip(first) {
                    if m.secret.start > high {
                        break;
                    }
                    if kind(m) == Some(wanted) && m.secret.gap(&key) <= PAIR_DISTANCE {
                        options.push((closeness(key, m.secret), i, j));
                    }
                }
            }
            options.sort_unstable();
            for &(_, i, j) in &options {
                let slot = if is_token { out[i].session_token } else { out[i].secret_key };
                if absorbed[j] || slot.is_some() {
                    continue;
                }
                absorbed[j] = true;
                if is_token {
                    out[i].session_token = Some(out[j].secret);
                } else {
                    out[i].secret_key = Some(out[j].secret);
                    scratch.used.insert(out[j].secret);
                }
            }
        }

        // Key ids still alone: unnamed 40-character candidates, nearest pairs first.
        let mut candidates: Vec<(Closeness, usize, Span)> = Vec::new();
        for &i in &keys {
            if out[i].secret_key.is_none() {
                let key = out[i].secret;
                self.candidates_near(hay, key, scratch);
                candidates.extend(scratch.candidates.iter().map(|&c| (closeness(key, c), i, c)));
            }
        }
        candidates.sort_unstable();
        for (_, i, span) in candidates {
            if out[i].secret_key.is_none() && !scratch.used.contains(&span) {
                out[i].secret_key = Some(span);
                scratch.used.insert(span);
            }
        }

        let mut flags = absorbed.into_iter();
        out.retain(|_| !flags.next().unwrap_or(false));
    }

    /// Fills `scratch.candidates` with the 40-character secret candidates within
    /// [`PAIR_DISTANCE`] of `key`.
    fn candidates_near(&self, hay: &[u8], key: Span, scratch: &mut Scratch) {
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
                if !validate::continues_encoded(&hay[span.end..])
                    && validate::aws_secret_access_key(&value)
                    && !validate::is_placeholder(&value)
                    && span.gap(&key) <= PAIR_DISTANCE
                {
                    // Backtrack so an overlapping, better-bounded run is not skipped.
                    at = at.min(span.end);
                    scratch.candidates.push(span);
                }
            }
        }
    }
}

/// How close a secret stands to a key id, for sorting: the gap, then after the key before
/// before it, then file order.
type Closeness = (usize, bool, usize, usize);

fn closeness(key: Span, secret: Span) -> Closeness {
    (secret.gap(&key), secret.start < key.start, key.start, secret.start)
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

//! Stage 1 of the matcher: find every keyword occurrence, ASCII case-insensitively, fast.
//!
//! `aho-corasick` gives up all of its SIMD prefilters when asked for ASCII case-insensitivity
//! (measured: ~0.6 GB/s on source code, 16 instructions per byte, with only the AWS keywords).
//! So we fold case ourselves: each 64 KiB chunk is lowercased into a scratch buffer (a
//! vectorised loop) and searched case-sensitively with the packed Teddy searcher over short
//! lowercase *anchors*: substrings shared by keyword families (`secret` for `aws_secret` and
//! `secret_access_key`, `xox` for Slack's `xoxb-`/`xoxp-`...), chosen by [`choose_anchors`] so
//! that the whole built-in rule set fits one Teddy searcher (64 patterns). Each anchor hit is then
//! verified against the full keywords that contain it, on the original bytes. When anchors
//! cannot be built, a plain `aho-corasick` automaton over the lowercase chunk takes over.

use aho_corasick::{AhoCorasick, MatchKind, packed};

/// Bytes lowercased and searched at a time.
const CHUNK: usize = 64 * 1024;
/// Teddy's pattern limit.
const MAX_ANCHORS: usize = 64;
/// Words of ordinary code that keyword families share (`session_token`, `accountkey`) but that
/// must not become anchors: on the benchmark tree, `session` and `account` as anchors hit every
/// 600 bytes and cut prefilter throughput from 1.3 to 0.8 GB/s.
const COMMON_WORDS: &[&str] = &[
    "access", "account", "default", "password", "private", "security", "service", "session",
    "_token", "-token", "_key", "-key",
];
/// Longest anchor: Teddy fingerprints the first bytes and verifies the rest, so longer
/// anchors only cost verification; 8 keeps families such as `begin rs`/`begin ec` apart.
const MAX_ANCHOR_LEN: usize = 8;

/// The searchers behind the prefilter.
#[derive(Debug, Clone)]
enum Engine {
    /// Teddy searchers, each over at most [`MAX_ANCHORS`] anchors (one pass each).
    Packed(Vec<Group>),
    /// Aho-Corasick over full lowercase keywords, where Teddy cannot be built.
    Automaton(AhoCorasick),
}

/// One Teddy searcher and, per anchor, the keywords that contain it with the anchor's offset
/// inside each.
#[derive(Debug, Clone)]
struct Group {
    searcher: packed::Searcher,
    candidates: Vec<Vec<(usize, usize)>>,
}

/// Finds keyword occurrences.
#[derive(Debug, Clone)]
pub struct Prefilter {
    engine: Engine,
    /// Lowercase keywords.
    keywords: Vec<Vec<u8>>,
    /// Longest anchor, which sets the overlap between chunks.
    longest: usize,
}

impl Prefilter {
    /// Builds the prefilter over lowercase `keywords` (each at least 3 bytes).
    ///
    /// Rather than shorten anchors until 64 fit one Teddy searcher (measured: 3-byte anchors
    /// such as `sec` or `aut` hit every few lines of code and made the scan 10x slower), anchors
    /// are shared substrings of keyword families ([`choose_anchors`]); if user rules still need
    /// more than 64, anchors are split into groups of 64, each searched in its own pass.
    pub fn new(keywords: &[Vec<u8>]) -> Prefilter {
        let anchors = choose_anchors(keywords);
        let longest = anchors.iter().map(Vec::len).max().unwrap_or(1);
        // Teddy fingerprints min(4, shortest anchor) bytes; one 3-byte anchor in a group makes
        // every anchor in it match on 3 bytes. Short anchors get their own (small, cheap) group
        // so the rest fingerprint 4 (measured on the benchmark tree: 1.2 -> 2.0 GB/s).
        let (short, long): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
            anchors.iter().cloned().partition(|a| a.len() < 4);
        let mut groups = Vec::new();
        for chunk in short.chunks(MAX_ANCHORS).chain(long.chunks(MAX_ANCHORS)) {
            let mut builder =
                packed::Config::new().match_kind(packed::MatchKind::LeftmostFirst).builder();
            builder.extend(chunk);
            let Some(searcher) = builder.build() else { break };
            let candidates = chunk.iter().map(|anchor| occurrences(anchor, keywords)).collect();
            groups.push(Group { searcher, candidates });
        }
        let complete =
            groups.len() == short.len().div_ceil(MAX_ANCHORS) + long.len().div_ceil(MAX_ANCHORS);
        let engine = if complete && !groups.is_empty() {
            Engine::Packed(groups)
        } else {
            Engine::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(keywords)
                    .expect("keywords are short literals, within the automaton's limits"),
            )
        };
        Prefilter { engine, keywords: keywords.to_vec(), longest }
    }

    /// Calls `hit(keyword index, start, end)` for every keyword occurrence in `hay`. `buf` is
    /// scratch space.
    pub fn for_each(
        &self,
        hay: &[u8],
        buf: &mut Vec<u8>,
        mut hit: impl FnMut(usize, usize, usize),
    ) {
        let overlap = match &self.engine {
            Engine::Packed(_) => self.longest - 1,
            Engine::Automaton(_) => self.keywords.iter().map(Vec::len).max().unwrap_or(1) - 1,
        };
        let mut chunk_start = 0;
        while chunk_start < hay.len() {
            let core_end = (chunk_start + CHUNK).min(hay.len());
            let end = (core_end + overlap).min(hay.len());
            buf.clear();
            buf.extend_from_slice(&hay[chunk_start..end]);
            buf.make_ascii_lowercase();
            let core_len = core_end - chunk_start;
            match &self.engine {
                Engine::Packed(groups) => {
                    for group in groups {
                        let mut at = 0;
                        while at < core_len {
                            let span = aho_corasick::Span::from(at..buf.len());
                            let Some(m) = group.searcher.find_in(buf.as_slice(), span) else {
                                break;
                            };
                            if m.start() >= core_len {
                                break;
                            }
                            let pos = chunk_start + m.start();
                            for &(k, offset) in &group.candidates[m.pattern().as_usize()] {
                                let keyword = &self.keywords[k];
                                let Some(start) = pos.checked_sub(offset) else { continue };
                                let end = start + keyword.len();
                                if end <= hay.len() && hay[start..end].eq_ignore_ascii_case(keyword)
                                {
                                    hit(k, start, end);
                                }
                            }
                            at = m.start() + 1;
                        }
                    }
                }
                Engine::Automaton(automaton) => {
                    for m in automaton.find_overlapping_iter(buf.as_slice()) {
                        if m.start() < core_len {
                            hit(
                                m.pattern().as_usize(),
                                chunk_start + m.start(),
                                chunk_start + m.end(),
                            );
                        }
                    }
                }
            }
            chunk_start = core_end;
        }
    }
}

/// Picks the anchors Teddy searches for: a set of lowercase substrings such that every keyword
/// contains one, no anchor contains another (Teddy reports one anchor per position), and few
/// enough that the built-in rules need one Teddy pass instead of two (measured: two fat-Teddy
/// passes were 77% of scan time over source code).
///
/// Each keyword starts with its own first [`MAX_ANCHOR_LEN`] bytes as anchor. Then, greedily, a
/// substring replaces the anchors of the keywords containing it when that removes anchors:
/// first substrings of 6 bytes or more (`secret`, `session`, `storage`), then vendor prefixes
/// shared by a family (`xox`, `shp`, `sk-`) and punctuated fragments (`_v1_`). Plain short
/// words (`token`, `auth`) are never anchors: they hit every few lines of code.
pub(crate) fn choose_anchors(keywords: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut assigned: Vec<Vec<u8>> =
        keywords.iter().map(|k| k[..k.len().min(MAX_ANCHOR_LEN)].to_vec()).collect();
    // Every substring shared by at least two keywords, with the keywords containing it.
    let mut shared: std::collections::BTreeMap<&[u8], Vec<usize>> = Default::default();
    for (i, keyword) in keywords.iter().enumerate() {
        for start in 0..keyword.len() {
            for end in start + 3..=keyword.len().min(start + MAX_ANCHOR_LEN) {
                let holders = shared.entry(&keyword[start..end]).or_default();
                if holders.last() != Some(&i) {
                    holders.push(i);
                }
            }
        }
    }
    shared.retain(|s, holders| {
        holders.len() > 1 && !COMMON_WORDS.iter().any(|w| contains(w.as_bytes(), s))
    });
    let long = |s: &[u8], _: &[usize]| s.len() >= 6;
    let family = |s: &[u8], holders: &[usize]| {
        holders.iter().all(|&k| keywords[k].starts_with(s))
            || (s.len() >= 4 && s.iter().any(|b| !b.is_ascii_alphanumeric()))
    };
    for eligible in [&long as &dyn Fn(&[u8], &[usize]) -> bool, &family] {
        loop {
            let best = shared
                .iter()
                .filter(|(s, holders)| eligible(s, holders))
                .map(|(s, holders)| (anchors_removed(&assigned, s, holders), s.len(), *s))
                .filter(|&(removed, ..)| removed > 0)
                .max();
            let Some((_, _, substring)) = best else { break };
            for &k in &shared[substring] {
                assigned[k] = substring.to_vec();
            }
        }
    }
    let mut anchors = assigned;
    anchors.sort();
    anchors.dedup();
    // Shorter first, so that an anchor containing another is dropped for it.
    anchors.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    let mut minimal: Vec<Vec<u8>> = Vec::new();
    for anchor in anchors {
        if !minimal.iter().any(|m| contains(&anchor, m)) {
            minimal.push(anchor);
        }
    }
    minimal.sort();
    minimal
}

/// How many anchors giving `substring` to the keywords `holders` saves: anchors all of whose
/// keywords move to it, less the one it adds (if it is not an anchor already).
fn anchors_removed(assigned: &[Vec<u8>], substring: &[u8], holders: &[usize]) -> usize {
    let exists = assigned.iter().any(|a| a == substring);
    let mut emptied: Vec<&[u8]> = Vec::new();
    for &k in holders {
        let anchor = assigned[k].as_slice();
        if anchor == substring {
            continue;
        }
        let all_move =
            assigned.iter().enumerate().all(|(j, a)| a != anchor || holders.contains(&j));
        if all_move && !emptied.contains(&anchor) {
            emptied.push(anchor);
        }
    }
    // An anchor that already exists costs nothing more.
    if exists { emptied.len() } else { emptied.len().saturating_sub(1) }
}

/// Every keyword containing `anchor`, with each offset at which it does.
fn occurrences(anchor: &[u8], keywords: &[Vec<u8>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (k, keyword) in keywords.iter().enumerate() {
        for offset in 0..=keyword.len().saturating_sub(anchor.len()) {
            if keyword[offset..].starts_with(anchor) {
                out.push((k, offset));
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(keywords: &[&str], hay: &[u8]) -> Vec<(usize, usize)> {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        let prefilter = Prefilter::new(&keywords);
        let mut out = Vec::new();
        prefilter.for_each(hay, &mut Vec::new(), |k, start, _| out.push((k, start)));
        out
    }

    #[test]
    fn finds_overlapping_and_mixed_case_keywords() {
        let found =
            hits(&["aws_secret", "secret_access_key", "akia"], b"x AWS_SECRET_ACCESS_KEY AkIa");
        assert_eq!(found, vec![(0, 2), (1, 6), (2, 24)]);
    }

    #[test]
    fn finds_keywords_across_chunk_boundaries() {
        let mut hay = vec![b'.'; CHUNK - 2];
        hay.extend_from_slice(b"AKIA and more");
        hay.extend(std::iter::repeat_n(b'.', CHUNK));
        hay.extend_from_slice(b"akia");
        assert_eq!(hits(&["akia"], &hay), vec![(0, CHUNK - 2), (0, 2 * CHUNK + 11)]);
    }

    #[test]
    fn finds_keywords_through_a_shared_inner_anchor() {
        let kws = ["aws_secret", "secret_access_key", "awssecret"];
        let keywords: Vec<Vec<u8>> = kws.iter().map(|k| k.as_bytes().to_vec()).collect();
        assert_eq!(choose_anchors(&keywords), vec![b"secret".to_vec()]);
        assert_eq!(hits(&kws, b"AWSSECRET aws_Secret_ACCESS_KEY"), vec![(2, 0), (0, 10), (1, 14)]);
    }

    #[test]
    fn builtin_rules_fit_one_teddy_pass_and_a_small_one() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let mut keywords: Vec<Vec<u8>> = rules
            .rules()
            .iter()
            .flat_map(|r| r.keywords.iter().map(|k| k.to_ascii_lowercase().into_bytes()))
            .collect();
        keywords.sort();
        keywords.dedup();
        let anchors = choose_anchors(&keywords);
        let long = anchors.iter().filter(|a| a.len() >= 4).count();
        assert!(long <= MAX_ANCHORS, "{long} anchors of 4 bytes or more: {anchors:?}");
        assert!(anchors.len() - long <= 16, "few short anchors, in one slim group: {anchors:?}");
        for word in [&b"_token"[..], b"_key", b"auth", b"key", b"session", b"account"] {
            assert!(!anchors.iter().any(|a| a == word), "{:?} is an anchor", word);
        }
    }

    #[test]
    fn splits_many_anchors_into_groups() {
        let many: Vec<String> = (0..200).map(|i| format!("k{i:03}x")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(hits(&refs, b"..K150X.."), vec![(150, 2)]);
    }
}

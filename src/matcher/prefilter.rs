//! Stage 1 of the matcher: find every keyword occurrence, ASCII case-insensitively, fast.
//!
//! `aho-corasick` gives up all of its SIMD prefilters when asked for ASCII case-insensitivity
//! (measured: ~0.6 GB/s on source code, 16 instructions per byte, with only the AWS keywords).
//! So we fold case ourselves: each 64 KiB chunk is lowercased into a scratch buffer (a
//! vectorised loop) and searched case-sensitively with the packed Teddy searcher over short
//! lowercase *anchors* (keyword prefixes, at most 64 of them, Teddy's limit). Each anchor hit is
//! then verified against the full keywords that start with it, on the original bytes.
//! When the keywords need more than 64 distinct anchors even at 3 bytes, a plain
//! `aho-corasick` automaton over the lowercase chunk takes over.

use aho_corasick::{AhoCorasick, MatchKind, packed};

/// Bytes lowercased and searched at a time.
const CHUNK: usize = 64 * 1024;
/// Teddy's pattern limit.
const MAX_ANCHORS: usize = 64;
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

/// One Teddy searcher and, per anchor, the keywords that start with it.
#[derive(Debug, Clone)]
struct Group {
    searcher: packed::Searcher,
    candidates: Vec<Vec<usize>>,
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
    /// Anchors are keyword prefixes of at most [`MAX_ANCHOR_LEN`] bytes. Rather than shorten
    /// anchors until 64 fit one Teddy searcher (measured: 3-byte anchors such as `sec` or `aut`
    /// hit every few lines of code and made the scan 10x slower), anchors are split into groups
    /// of 64, each searched in its own pass over the lowercased chunk.
    pub fn new(keywords: &[Vec<u8>]) -> Prefilter {
        let mut anchors: Vec<Vec<u8>> =
            keywords.iter().map(|k| k[..k.len().min(MAX_ANCHOR_LEN)].to_vec()).collect();
        anchors.sort();
        anchors.dedup();
        // A keyword whose anchor has another anchor as a prefix is found through the shorter
        // one (leftmost-first reports one pattern per position), so drop the longer anchors.
        let mut minimal: Vec<Vec<u8>> = Vec::new();
        for anchor in anchors {
            if !minimal.iter().any(|m| anchor.starts_with(m)) {
                minimal.push(anchor);
            }
        }
        let longest = minimal.iter().map(Vec::len).max().unwrap_or(1);
        let mut groups = Vec::new();
        for chunk in minimal.chunks(MAX_ANCHORS) {
            let mut builder =
                packed::Config::new().match_kind(packed::MatchKind::LeftmostFirst).builder();
            builder.extend(chunk);
            let Some(searcher) = builder.build() else { break };
            let candidates = chunk
                .iter()
                .map(|p| (0..keywords.len()).filter(|&k| keywords[k].starts_with(p)).collect())
                .collect();
            groups.push(Group { searcher, candidates });
        }
        let engine = if groups.len() * MAX_ANCHORS >= minimal.len() && !groups.is_empty() {
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
                            for &k in &group.candidates[m.pattern().as_usize()] {
                                let keyword = &self.keywords[k];
                                let end = pos + keyword.len();
                                if end <= hay.len() && hay[pos..end].eq_ignore_ascii_case(keyword) {
                                    hit(k, pos, end);
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
    fn splits_many_anchors_into_groups() {
        let many: Vec<String> = (0..200).map(|i| format!("k{i:03}x")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(hits(&refs, b"..K150X.."), vec![(150, 2)]);
    }
}

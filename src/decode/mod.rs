//! Decoders: encoded text inside a blob (base64 runs, JSON string escapes, percent-encoding,
//! quoted-printable) turned back into the text a secret was written in, so that the matcher
//! can see it.
//!
//! Pure functions, no I/O: bytes in, [`Decoded`] spans out, each with the byte range of the
//! encoded text it came from. [`View`] runs every decoder over a blob, then over what they
//! decoded, up to [`DecodeOptions::max_depth`] levels (base64 in JSON in base64 is depth 3),
//! and lays the results out as one buffer for one matcher pass; [`View::locate`] takes a span
//! of that buffer back to the blob. The scan (`scan/decoded.rs`) matches the view and reports
//! what the raw bytes did not already show.
//!
//! Cost: candidates are found with byte scans that skip ahead (`memchr` for `\` and `%`, a
//! skipping scan for base64 runs, `memmem` for the quoted-printable header); a run that
//! decodes to random bytes is dropped after its first 48 bytes and never decoded again at a
//! deeper level; a blob decodes to at most [`View::budget`] bytes in total.

pub mod base64;
pub mod json;
pub mod percent;
pub mod qp;

use std::{collections::HashSet, hash::BuildHasher, ops::Range};

/// Levels decoded by default.
pub const DEFAULT_DEPTH: usize = 3;

/// Context copied from the parent line in front of a decoded span, so that a rule that wants a
/// keyword (`AWS_SECRET_ACCESS_KEY: <base64>`) sees it next to the decoded value.
const CONTEXT: usize = 64;

/// Longest piece of one line decoded around an escape (a minified file is one line).
const MAX_WINDOW: usize = 64 * 1024;

/// How deep and where to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Levels of decoding: 1 decodes what the blob holds, 2 also what that decoded to...; 0 is
    /// off.
    pub max_depth: usize,
    /// Decode program source whole, not only the lines near rule keywords (see [`Scope`]).
    pub source_everywhere: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { max_depth: DEFAULT_DEPTH, source_everywhere: false }
    }
}

/// An encoding a decoder undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// Base64, standard alphabet (`+/`).
    Base64,
    /// Base64, URL-safe alphabet (`-_`).
    Base64Url,
    /// JSON string escapes.
    Json,
    /// Percent-encoding (URLs, forms).
    Percent,
    /// Quoted-printable (e-mail bodies).
    QuotedPrintable,
}

impl Encoding {
    /// The name reports use: `base64`, `base64url`, `json`, `percent`, `qp`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::Json => "json",
            Encoding::Percent => "percent",
            Encoding::QuotedPrintable => "qp",
        }
    }

    /// Where decoded byte `offset` comes from in `encoded` (the span's encoded bytes);
    /// `offset` equal to the decoded length gives `encoded.len()`.
    pub fn locate(self, encoded: &[u8], offset: usize) -> usize {
        match self {
            Encoding::Base64 | Encoding::Base64Url => base64::locate(encoded, offset),
            Encoding::Json => walk_locate(json::walk, encoded, offset),
            Encoding::Percent => walk_locate(percent::walk, encoded, offset),
            Encoding::QuotedPrintable => walk_locate(qp::walk, encoded, offset),
        }
    }

    /// One past the encoded bytes that decoded byte `end - 1` comes from.
    pub fn locate_end(self, encoded: &[u8], end: usize) -> usize {
        match self {
            Encoding::Base64 | Encoding::Base64Url => base64::locate_end(encoded, end),
            _ if end == 0 => 0,
            _ => self.locate(encoded, end),
        }
    }
}

type Walk = fn(&[u8], &mut dyn FnMut(usize, &[u8]));

/// Locates a decoded offset by walking the encoded text again (only done for a match).
fn walk_locate(walk: Walk, encoded: &[u8], offset: usize) -> usize {
    let mut produced = 0;
    let mut found = None;
    walk(encoded, &mut |at, bytes| {
        if found.is_none() && offset < produced + bytes.len() {
            // A plain run maps byte for byte; an escape maps to where it starts.
            found = Some(if bytes.len() > 1 && encoded.get(at) == bytes.first() {
                at + (offset - produced)
            } else {
                at
            });
        }
        produced += bytes.len();
    });
    found.unwrap_or(encoded.len())
}

/// One decoded span: `text` is what `range` of the input decodes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The encoding undone.
    pub encoding: Encoding,
    /// The encoded bytes in the input.
    pub range: Range<usize>,
    /// The decoded bytes.
    pub text: Vec<u8>,
}

impl Decoded {
    fn at(mut self, start: usize) -> Decoded {
        self.range = self.range.start + start..self.range.end + start;
        self
    }
}

/// Where a blob's encoded text is looked for.
///
/// Looking means classifying every byte, which on program source cost a quarter of the
/// matcher's time (runs of 20 identifier characters, backslashes and `%` are everywhere in
/// code) for a rare find: an encoded credential in code nearly always sits on a line that
/// names it (`secret`, `password`, `AWS_...`, `postgres://`), where a rule keyword is. Other
/// files (manifests, configs, notebooks, logs, transcripts) hold encoded values under
/// arbitrary names, so they are searched whole.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The whole blob.
    Everywhere,
    /// Only the lines holding these offsets (rule keywords, in any order), and the line after
    /// each.
    Near(&'a [usize]),
}

/// Whether `name` (a path) is program source by its extension: code in a language, not
/// configuration, data or documentation (YAML, JSON, `.env`, Markdown... are not).
pub fn is_program_source(name: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "c", "cc", "cjs", "clj", "cpp", "cs", "cxx", "dart", "erl", "ex", "exs", "fs", "go",
        "groovy", "h", "hh", "hpp", "hs", "java", "jl", "js", "jsx", "kt", "kts", "lua", "m",
        "mjs", "ml", "mm", "php", "pl", "pm", "py", "r", "rb", "rs", "scala", "svelte", "swift",
        "ts", "tsx", "vue", "zig",
    ];
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let Some((stem, extension)) = file.rsplit_once('.') else { return false };
    !stem.is_empty() && EXTENSIONS.iter().any(|e| extension.eq_ignore_ascii_case(e))
}

/// Runs every decoder over `data` (one level), looking only in `scope`, until `found` returns
/// false.
pub fn decode_in(data: &[u8], scope: Scope, found: &mut dyn FnMut(Decoded) -> bool) {
    let offsets = match scope {
        Scope::Everywhere => return decode_all(data, found),
        Scope::Near(offsets) => offsets,
    };
    let mut offsets: Vec<usize> = offsets.iter().copied().filter(|&at| at < data.len()).collect();
    offsets.sort_unstable();
    // Each line is looked up once, however many keywords it holds, and searched only from the
    // end of the previous one: a million keywords on one long line cost one pass, not a million.
    let mut lines: Vec<Range<usize>> = Vec::new();
    let mut previous_line_end = 0;
    for at in offsets {
        if at < previous_line_end {
            continue;
        }
        let from = previous_line_end;
        let start = memchr::memrchr(b'\n', &data[from..at]).map_or(from, |i| from + i + 1);
        previous_line_end = line_end(data, at);
        lines.push(start..line_end(data, previous_line_end + 1));
    }
    let mut covered = 0;
    for line in lines {
        let start = line.start.max(covered);
        if start >= line.end {
            continue;
        }
        covered = line.end;
        let mut more = true;
        decode_all(&data[start..line.end], &mut |d| {
            more = found(d.at(start));
            more
        });
        if !more {
            return;
        }
    }
}

/// One past the end of the line at `at` (its line feed included), or `data.len()`.
fn line_end(data: &[u8], at: usize) -> usize {
    let at = at.min(data.len());
    memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1)
}

fn decode_all(data: &[u8], found: &mut dyn FnMut(Decoded) -> bool) {
    let mut more = true;
    let mut go = |d: Decoded| {
        more = more && found(d);
        more
    };
    base64::find(data, &mut go);
    json::find(data, &mut go);
    percent::find(data, &mut go);
    qp::find(data, &mut go);
}

/// Collects what `data` decodes to, while the total stays within `left` bytes (which it
/// lowers).
fn collect(data: &[u8], scope: Scope, left: &mut usize) -> Vec<Decoded> {
    let mut found = Vec::new();
    decode_in(data, scope, &mut |d| {
        let Some(rest) = left.checked_sub(d.text.len() + CONTEXT + 1) else {
            log::debug!("decode: the blob's budget is spent");
            return false;
        };
        *left = rest;
        found.push(d);
        true
    });
    found
}

/// The line around `at`, or a window of at most [`MAX_WINDOW`] bytes of it, without the line
/// break.
fn line_window(data: &[u8], at: usize) -> Range<usize> {
    let low = at.saturating_sub(MAX_WINDOW / 2);
    let high = at.saturating_add(MAX_WINDOW / 2).min(data.len());
    let start = memchr::memrchr(b'\n', &data[low..at]).map_or(low, |i| low + i + 1);
    let mut end = memchr::memchr(b'\n', &data[at..high]).map_or(high, |i| at + i);
    if end > start && data[end - 1] == b'\r' {
        end -= 1;
    }
    start..end
}

/// A decoded span laid out in a [`View`].
#[derive(Debug, Clone)]
struct Entry {
    /// Where the copied context starts in the view.
    start: usize,
    /// The decoded text in the view.
    text: Range<usize>,
    encoding: Encoding,
    /// The encoded bytes in the parent: the blob, or the text of entry `parent`.
    encoded: Range<usize>,
    parent: Option<usize>,
}

/// Everything a blob decodes to, level after level, as one buffer: each span is a line of its
/// own, after up to [`CONTEXT`] bytes of the parent line that led to it. Reused across blobs
/// by one worker.
#[derive(Debug, Default)]
pub struct View {
    text: Vec<u8>,
    entries: Vec<Entry>,
    /// Hashes of base64 runs decoded at level 1, not decoded again deeper (a JSON-decoded
    /// line holds the same runs as the raw line).
    seen: HashSet<u64>,
    hasher: std::hash::RandomState,
}

/// A span of a [`View`] taken back to the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The encoded bytes in the blob.
    pub span: Range<usize>,
    /// The encodings undone, outermost first.
    pub encodings: Vec<Encoding>,
}

impl Located {
    /// `base64`, or `base64/json/base64` for nested encodings, outermost first.
    pub fn encoding(&self) -> String {
        self.encodings.iter().map(|e| e.name()).collect::<Vec<_>>().join("/")
    }
}

impl View {
    /// Bytes of decoded text (context included) one blob may give: its own size, at least
    /// 1 MiB and at most 64 MiB.
    pub fn budget(len: usize) -> usize {
        len.clamp(1 << 20, 64 << 20)
    }

    /// Decodes `data`, looking for base64 runs in `scope` (what `data` decodes to is searched
    /// whole); false when nothing decoded (then [`View::text`] is empty).
    pub fn build(&mut self, data: &[u8], options: DecodeOptions, scope: Scope) -> bool {
        self.text.clear();
        self.entries.clear();
        self.seen.clear();
        if options.max_depth == 0 {
            return false;
        }
        let budget = View::budget(data.len());
        let mut left = budget;
        let found = collect(data, scope, &mut left);
        for d in &found {
            if matches!(d.encoding, Encoding::Base64 | Encoding::Base64Url) {
                self.seen.insert(self.hasher.hash_one(&data[d.range.clone()]));
            }
        }
        self.append(data, None, found, budget);
        let mut level_start = 0;
        for _ in 1..options.max_depth {
            let level_end = self.entries.len();
            if level_start == level_end || left == 0 {
                break;
            }
            for index in level_start..level_end {
                let text = self.entries[index].text.clone();
                let mut found = collect(&self.text[text], Scope::Everywhere, &mut left);
                found.retain(|d| {
                    !matches!(d.encoding, Encoding::Base64 | Encoding::Base64Url)
                        || !self.seen.contains(
                            &self.hasher.hash_one(&self.entry_text(index)[d.range.clone()]),
                        )
                });
                self.append_from(index, found, budget);
            }
            level_start = level_end;
        }
        !self.entries.is_empty()
    }

    fn entry_text(&self, index: usize) -> &[u8] {
        &self.text[self.entries[index].text.clone()]
    }

    fn append(
        &mut self,
        parent_data: &[u8],
        parent: Option<usize>,
        found: Vec<Decoded>,
        budget: usize,
    ) {
        for d in found {
            let context_start = context_start(parent_data, d.range.start);
            let context = &parent_data[context_start..d.range.start];
            if self.text.len() + context.len() + d.text.len() + 1 > budget {
                log::debug!("decode: budget of {budget} bytes reached");
                return;
            }
            let start = self.text.len();
            self.text.extend_from_slice(context);
            let text_start = self.text.len();
            self.text.extend_from_slice(&d.text);
            let text = text_start..self.text.len();
            self.text.push(b'\n');
            self.entries.push(Entry {
                start,
                text,
                encoding: d.encoding,
                encoded: d.range,
                parent,
            });
        }
    }

    fn append_from(&mut self, parent: usize, found: Vec<Decoded>, budget: usize) {
        if found.is_empty() {
            return;
        }
        let parent_text = self.entry_text(parent).to_vec();
        self.append(&parent_text, Some(parent), found, budget);
    }

    /// The decoded text to match.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// Takes a span of [`View::text`] back to `data` (the blob the view was built from).
    /// `None` when the span is (partly) context copied from a parent, or crosses spans: such
    /// a match is the parent's own.
    pub fn locate(&self, data: &[u8], span: Range<usize>) -> Option<Located> {
        let index = self.entries.partition_point(|e| e.start <= span.start).checked_sub(1)?;
        let entry = &self.entries[index];
        if span.start < entry.text.start || span.end > entry.text.end {
            return None;
        }
        let (mut start, mut end) = (span.start - entry.text.start, span.end - entry.text.start);
        let mut encodings = Vec::new();
        let mut at = entry;
        loop {
            let parent = match at.parent {
                Some(p) => &self.text[self.entries[p].text.clone()],
                None => data,
            };
            let encoded = parent.get(at.encoded.clone())?;
            start = at.encoded.start + at.encoding.locate(encoded, start);
            end = at.encoded.start + at.encoding.locate_end(encoded, end);
            encodings.push(at.encoding);
            match at.parent {
                Some(p) => at = &self.entries[p],
                None => break,
            }
        }
        encodings.reverse();
        Some(Located { span: start..end.max(start), encodings })
    }
}

/// Where the context in front of an encoded span at `at` starts: at most [`CONTEXT`] bytes
/// back, not before the line's start, and on a character boundary.
fn context_start(data: &[u8], at: usize) -> usize {
    let low = at.saturating_sub(CONTEXT);
    let mut start = memchr::memrchr(b'\n', &data[low..at]).map_or(low, |i| low + i + 1);
    while start < at && (data[start] & 0xC0) == 0x80 {
        start += 1;
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard base64 without padding, as runs in the wild often are.
    fn b64(bytes: &[u8]) -> String {
        use ::base64::Engine as _;
        ::base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    }

    fn find(view: &View, needle: &str) -> Range<usize> {
        let at = memchr::memmem::find(view.text(), needle.as_bytes()).expect("needle in view");
        at..at + needle.len()
    }

    #[test]
    fn a_base64_value_is_decoded_after_its_key_and_located_in_the_blob() {
        let secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
        let encoded = b64(format!("user:{secret}").as_bytes());
        let data = format!("{{\"auths\": {{\"r\": {{\"auth\": \"{encoded}\"}}}}}}\n");
        let mut view = View::default();
        assert!(view.build(data.as_bytes(), DecodeOptions::default(), Scope::Everywhere));
        let text = String::from_utf8_lossy(view.text()).into_owned();
        assert!(text.starts_with("{\"auths\": {\"r\": {\"auth\": \"user:ghp_"), "{text}");
        let located = view.locate(data.as_bytes(), find(&view, secret)).expect("located");
        let at = data.find(&encoded).expect("encoded");
        // "user:" is 5 bytes: the secret's bits start in the 2nd quad, character 1 of it.
        assert_eq!(located.span.start, at + 6);
        assert_eq!(located.encoding(), "base64");
        // Context is not decoded text.
        assert_eq!(view.locate(data.as_bytes(), find(&view, "auths")), None);
    }

    #[test]
    fn three_levels_base64_in_json_in_base64() {
        let token = "glpat-abcdefghij0123456789";
        // "xoé" encodes as "eG/D": the `/` (escaped `\/` in JSON) cuts the run before its
        // first quad ends, so no base64 run of the JSON text decodes to the token.
        let inner = b64(format!("xo\u{e9}:{token}").as_bytes());
        assert!(inner.starts_with("eG/D"), "{inner}");
        let json =
            format!("{{\"cfg\": \"{{\\\"auth\\\": \\\"{}\\\"}}\"}}", inner.replace('/', "\\/"));
        let data = format!("blob: {}\n", b64(json.as_bytes()));
        let mut view = View::default();
        view.build(data.as_bytes(), DecodeOptions::default(), Scope::Everywhere);
        let located = view.locate(data.as_bytes(), find(&view, token)).expect("located");
        assert_eq!(located.encoding(), "base64/json/base64");
        assert!(located.span.start >= 6 && located.span.end < data.len(), "{located:?}");
        let mut shallow = View::default();
        shallow.build(
            data.as_bytes(),
            DecodeOptions { max_depth: 2, ..DecodeOptions::default() },
            Scope::Everywhere,
        );
        assert!(memchr::memmem::find(shallow.text(), token.as_bytes()).is_none());
        let mut off = View::default();
        assert!(!off.build(
            data.as_bytes(),
            DecodeOptions { max_depth: 0, ..DecodeOptions::default() },
            Scope::Everywhere
        ));
    }

    #[test]
    fn near_keywords_only_the_lines_holding_them_and_the_next_are_decoded() {
        let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
        let encoded = b64(format!("x-access-token:{token}").as_bytes());
        let data =
            format!("a = \"{encoded}\"\nsecret = (\n  \"{encoded}\"\n)\nb = \"{encoded}\"\n");
        let keyword = data.find("secret").expect("keyword");
        let mut starts = Vec::new();
        decode_in(data.as_bytes(), Scope::Near(&[keyword, data.len() + 5]), &mut |d| {
            starts.push(d.range.start);
            true
        });
        let second = data.match_indices(&encoded).nth(1).expect("second").0;
        assert_eq!(starts, vec![second]);
        let mut all = 0;
        decode_in(data.as_bytes(), Scope::Everywhere, &mut |_| {
            all += 1;
            true
        });
        assert_eq!(all, 3);
    }

    #[test]
    fn program_source_is_told_by_extension() {
        for code in ["src/main.rs", "app.PY", "a/b/index.js", "C:\\x\\Main.java", "x.tsx"] {
            assert!(is_program_source(code), "{code}");
        }
        for other in ["k8s/secret.yaml", ".env", "config.json", "README.md", "Makefile", ".py"] {
            assert!(!is_program_source(other), "{other}");
        }
    }

    #[test]
    fn walking_decoders_locate_plain_bytes_and_escapes() {
        let encoded = br"ab\/cd\u002fef";
        // decoded: "ab/cd/ef"
        assert_eq!(Encoding::Json.locate(encoded, 0), 0);
        assert_eq!(Encoding::Json.locate(encoded, 2), 2);
        assert_eq!(Encoding::Json.locate(encoded, 3), 4);
        assert_eq!(Encoding::Json.locate(encoded, 5), 6);
        assert_eq!(Encoding::Json.locate(encoded, 6), 12);
        assert_eq!(Encoding::Json.locate(encoded, 8), encoded.len());
        assert_eq!(Encoding::Percent.locate(b"a%2Fb", 2), 4);
    }
}

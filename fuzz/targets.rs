//! What each fuzz target does with its input, shared by the libFuzzer binaries
//! (`fuzz/fuzz_targets/*.rs`, nightly, `cargo fuzz run NAME`) and by the stable replay of the
//! kept corpora (`tests/fuzz_corpus.rs`, every `cargo test`). A target must not panic on any
//! input; where an invariant can be stated (a span inside its haystack, a location inside its
//! blob), it is asserted, so that breaking it is a crash the fuzzer keeps.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
};

use keysweep::{
    config::Config,
    decode::{self, DecodeOptions, Scope},
    enrich::{
        allowlist::Allowlist,
        blast::{self, Principal, export::IamExport, policy},
        codeowners::CodeOwners,
    },
    guard::{self, Agent, Policy},
    matcher::{Matcher, Scratch},
    provenance::Provenance,
    rules::{RuleSet, Severity},
    scan::{self, Progress},
    source::{
        archive::{self, ArchiveOptions, Visit},
        image::{ImageOptions, ImageRef},
        log::Cleaner,
        notebook,
    },
    verify::xml,
};

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// A decoder's walk over its encoded input (see `keysweep::decode`).
type Walk = fn(&[u8], &mut dyn FnMut(usize, &[u8]));

/// Every target by the name of its binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("rules_toml", rules_toml),
    ("config_toml", config_toml),
    ("matcher", matcher),
    ("decode_base64", decode_base64),
    ("decode_json", decode_json),
    ("decode_percent", decode_percent),
    ("decode_qp", decode_qp),
    ("decode_scan", decode_scan),
    ("notebook", notebook),
    ("archive", archive),
    ("image_archive", image_archive),
    ("oci_layout", oci_layout),
    ("codeowners", codeowners),
    ("iam_policy", iam_policy),
    ("aws_response", aws_response),
    ("guard_payload", guard_payload),
    ("log_clean", log_clean),
];

/// The built-in rules, compiled once per process.
fn builtin() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(|| Matcher::new(Arc::new(RuleSet::builtin().expect("built-in rules"))))
}

/// A scratch directory of this process, on tmpfs where there is one: targets that go through
/// the file system (images, exports) write their input there.
fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("keysweep-fuzz-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("fuzz scratch directory");
        dir
    })
}

/// Small limits keep one execution fast; the limits themselves are what is being exercised.
fn archive_options() -> ArchiveOptions {
    ArchiveOptions { max_size: 8 << 20, ..ArchiveOptions::default() }
}

fn image_options() -> ImageOptions {
    ImageOptions {
        max_file_size: 1 << 20,
        archives: archive_options(),
        all_platforms: true,
        ..ImageOptions::default()
    }
}

fn file(name: &str) -> Provenance {
    Provenance::File { path: name.to_string(), relative: name.to_string() }
}

/// Checks what a full scan of one blob reports: every location inside the blob it names.
fn check_findings(result: &scan::ScanResult, len: usize) {
    for finding in &result.findings {
        for location in &finding.locations {
            if location.provenance.decoded().is_none() && location.provenance.image().is_none() {
                assert!(location.span.start <= location.span.end, "{location:?}");
                assert!(location.span.end <= len, "{location:?} outside {len} bytes");
            }
        }
    }
}

pub fn rules_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut builder = RuleSet::builder();
    if builder.add_toml("fuzz.toml", text).is_err() {
        return;
    }
    let rules = Arc::new(builder.build());
    for rule in rules.rules() {
        let _ = rule.check_regex();
    }
    let matcher = Matcher::new(rules);
    let _ = keysweep::rules::check::check_examples(&matcher, |_| true);
    let mut out = Vec::new();
    matcher.scan(data, &mut Scratch::default(), &mut out);
    for m in &out {
        assert!(m.secret.start <= m.secret.end && m.secret.end <= data.len());
    }
}

pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = Config::parse(text, Path::new(".keysweep.toml")) else { return };
    let _ = Allowlist::new(&config.allowlist);
    let mut builder = RuleSet::builder();
    for rule in config.rules {
        if builder.add(rule, ".keysweep.toml").is_err() {
            return;
        }
    }
    let _ = builder.build();
}

pub fn matcher(data: &[u8]) {
    let matcher = builtin();
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    matcher.scan(data, &mut scratch, &mut out);
    for m in &out {
        for span in [Some(m.secret), m.secret_key, m.session_token].into_iter().flatten() {
            assert!(span.start < span.end && span.end <= data.len(), "{m:?} in {}", data.len());
        }
        assert!((m.rule.0 as usize) < matcher.rules().len());
    }
    for &at in scratch.keyword_offsets() {
        assert!(at <= data.len());
    }
}

/// Runs one decoder's `find` and `walk` and checks that every decoded range lies in the input
/// and maps back inside it.
fn decoder(
    data: &[u8],
    find: fn(&[u8], &mut dyn FnMut(decode::Decoded) -> bool),
    walk: Option<Walk>,
) {
    find(data, &mut |d| {
        assert!(d.range.start <= d.range.end && d.range.end <= data.len(), "{:?}", d.range);
        let encoded = &data[d.range.clone()];
        for offset in [0, d.text.len() / 2, d.text.len()] {
            assert!(d.encoding.locate(encoded, offset) <= encoded.len());
            assert!(d.encoding.locate_end(encoded, offset) <= encoded.len());
        }
        true
    });
    if let Some(walk) = walk {
        walk(data, &mut |at, _| assert!(at <= data.len()));
    }
}

pub fn decode_base64(data: &[u8]) {
    decoder(data, decode::base64::find, None);
    decode::base64::each_run(data, &mut |start, end| {
        assert!(start <= end && end <= data.len());
        let _ = decode::base64::decode_run(&data[start..end]);
        true
    });
}

pub fn decode_json(data: &[u8]) {
    decoder(data, decode::json::find, Some(decode::json::walk));
}

pub fn decode_percent(data: &[u8]) {
    decoder(data, decode::percent::find, Some(decode::percent::walk));
}

pub fn decode_qp(data: &[u8]) {
    decoder(data, decode::qp::find, Some(decode::qp::walk));
}

/// The whole decoding pipeline of a scan: nested decoding, keyword scopes, locations mapped
/// back through every layer of encoding.
pub fn decode_scan(data: &[u8]) {
    let matcher = builtin();
    let mut scratch = Scratch::default();
    matcher.scan(data, &mut Scratch::default(), &mut Vec::new());
    let mut view = decode::View::default();
    let mut offsets = Vec::new();
    matcher.scan(data, &mut scratch, &mut offsets);
    let near = scratch.keyword_offsets().to_vec();
    for scope in [Scope::Everywhere, Scope::Near(&near)] {
        let options = DecodeOptions { max_depth: 3, source_everywhere: false };
        if !view.build(data, options, scope) {
            continue;
        }
        let text = view.text().to_vec();
        let mut found = Vec::new();
        matcher.scan(&text, &mut Scratch::default(), &mut found);
        for m in found {
            if let Some(located) = view.locate(data, m.secret.start..m.secret.end) {
                assert!(located.span.end <= data.len(), "{located:?}");
            }
        }
    }
    for name in ["fuzz.py", "fuzz.yaml"] {
        let result = scan::scan_bytes(matcher, data, file(name));
        check_findings(&result, data.len());
    }
}

pub fn notebook(data: &[u8]) {
    if let Ok(Some(parts)) = notebook::parse(data) {
        for part in &parts {
            for offset in [0, part.text.len() / 2, part.text.len()] {
                assert!(part.raw_offset(offset) <= data.len());
            }
        }
    }
    let result = scan::scan_bytes(builtin(), data, file("fuzz.ipynb"));
    check_findings(&result, data.len());
}

struct Members(usize);

impl Visit for Members {
    fn member(&mut self, path: &[String], data: &[u8]) {
        assert!(!path.is_empty());
        self.0 += data.len();
    }

    fn error(&mut self, _path: &[String], _error: archive::Error) {}
}

pub fn archive(data: &[u8]) {
    let options = archive_options();
    let mut members = Members(0);
    archive::expand(data, "fuzz.tar.gz", &options, &mut members);
    // Each level may produce up to the budget; nothing may go past the levels' sum.
    assert!(members.0 as u64 <= options.max_size * (options.max_depth as u64 + 1));
    let result = scan::scan_bytes(builtin(), data, file("fuzz.jar"));
    check_findings(&result, data.len());
}

fn scan_images(reference: &str) {
    let image = ImageRef::parse(reference).expect("image reference");
    let _ = scan::scan_image(builtin(), &[image], &image_options(), &Progress::default());
}

/// A `docker save` archive (legacy `manifest.json` or OCI flavour): the tar, the manifests,
/// configs and layer streams in it.
pub fn image_archive(data: &[u8]) {
    let path = scratch_dir().join("image.tar");
    fs::write(&path, data).expect("write the fuzz input");
    scan_images(&format!("docker-archive:{}", path.display()));
}

const MANIFEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const CONFIG: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const LAYER: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

/// An OCI layout directory whose `index.json`, manifest, config and one layer are the input's
/// NUL-separated parts (a digest mismatch is reported and the content used all the same, so
/// the parsers see whatever the fuzzer wrote).
pub fn oci_layout(data: &[u8]) {
    let dir = scratch_dir().join("layout");
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).expect("fuzz layout");
    let mut parts = data.splitn(4, |&b| b == 0);
    let mut write = |path: PathBuf| {
        fs::write(path, parts.next().unwrap_or_default()).expect("write the fuzz input");
    };
    write(dir.join("index.json"));
    for digest in [MANIFEST, CONFIG, LAYER] {
        write(blobs.join(&digest["sha256:".len()..]));
    }
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    scan_images(&format!("oci:{}", dir.display()));
}

pub fn codeowners(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let owners = CodeOwners::parse(&text);
    for path in ["README.md", "src/main.rs", "deploy/prod/.env", "a/b/c/d/e", ".github/CODEOWNERS"]
    {
        let _ = owners.decide(path);
        let _ = owners.owners(path);
    }
}

pub fn iam_policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(statements) = policy::parse_text(&text) {
        let effective = policy::evaluate(&statements, blast::actions::table());
        let _ = blast::classify(&effective);
    }
    let path = scratch_dir().join("authorization-details.json");
    fs::write(&path, data).expect("write the fuzz input");
    if let Ok(export) = IamExport::load(&[&path]) {
        for arn in [
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:role/deploy",
            "arn:aws:sts::123456789012:assumed-role/deploy/session",
        ] {
            if let Some(principal) = Principal::from_arn(arn) {
                if let Some(read) = export.read(&principal) {
                    let statements = read.policies.iter().flat_map(|(_, s)| s);
                    let _ = blast::classify(&policy::evaluate(statements, blast::actions::table()));
                }
            }
        }
    }
}

/// The STS and IAM query-API replies: every field the verifier, blast radius and revoke read.
pub fn aws_response(data: &[u8]) {
    let reply = String::from_utf8_lossy(data);
    for tag in ["Account", "Arn", "UserId", "Code", "Message", "UserName", "Status", "Marker"] {
        let _ = xml::first(&reply, tag);
    }
    for tag in ["member", "PolicyName", "PolicyArn"] {
        let _ = xml::all(&reply, tag);
    }
    for section in ["AttachedPolicies", "PolicyNames", "Groups", "AccessKeyMetadata"] {
        if let Some(scope) = xml::section(&reply, section) {
            let _ = xml::all(scope, "member");
        }
    }
    if let Some(document) = xml::first(&reply, "PolicyDocument") {
        let _ = policy::parse_text(&document);
    }
    let _ = xml::unescape(&reply);
}

pub fn guard_payload(data: &[u8]) {
    let Ok(payload) = Agent::ClaudeCode.parse(data) else { return };
    let policy = Policy { min_severity: Severity::Low, allowlist: None };
    let leaks = guard::check(builtin(), &payload, &policy);
    for leak in &leaks {
        assert!(leak.content < payload.contents.len());
    }
    let _ = guard::reason(&payload, &leaks);
}

pub fn log_clean(data: &[u8]) {
    // Fed in two pieces, as a stream arrives, and checked against one piece.
    let split = data.len() / 3;
    let mut cleaner = Cleaner::default();
    let (mut out, mut lines) = (Vec::new(), Vec::new());
    cleaner.feed(&data[..split], &mut out, &mut lines);
    cleaner.feed(&data[split..], &mut out, &mut lines);
    let mut whole = Cleaner::default();
    let (mut out_whole, mut lines_whole) = (Vec::new(), Vec::new());
    whole.feed(data, &mut out_whole, &mut lines_whole);
    assert_eq!(out, out_whole, "the cleaner depends on how its input is split");
    assert_eq!(lines, lines_whole);
    assert!(lines.windows(2).all(|w| w[0] <= w[1]));
}

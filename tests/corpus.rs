//! The labelled corpus: `corpus/positive/` and `corpus/negative/`, written by
//! `corpus/generate.py`, with every expected finding in `corpus/labels.json`.
//!
//! One scan of the whole corpus must report every label at its rule, path, line and column (and,
//! for an AWS key id, with its paired secret access key where the label names one), nothing in
//! `negative/`, and nothing unlabelled anywhere. A failure lists each missed, mispaired and
//! unexpected finding; every run prints precision and recall (`--nocapture` to see them).
//!
//! A label with `known_miss` (a reason) is a secret the rule is known not to find yet: it must
//! stay unfound (a find is reported, so the label gets promoted), and it counts against the
//! rule's recall, which must reach the rule's floor in [`RECALL_FLOORS`].

use std::{
    collections::{BTreeMap, BTreeSet},
    ffi::OsString,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

/// Where a finding is: what the labels list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    path: String,
    rule: String,
    line: u64,
    column: u64,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{} {}", self.path, self.line, self.column, self.rule)
    }
}

/// Line and column of a paired AWS secret access key.
type Pair = Option<(u64, u64)>;

/// Minimum recall (found labels over labels plus known misses) of rules with known misses.
const RECALL_FLOORS: &[(&str, f64)] = &[("generic.secret-assignment", 0.8)];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn program() -> OsString {
    std::env::var_os("KEYSWEEP_TEST_PROGRAM")
        .unwrap_or_else(|| OsString::from(env!("CARGO_BIN_EXE_keysweep")))
}

fn number(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

fn pair_of(value: &Value, line: &str, column: &str) -> Pair {
    Some((number(value, line)?, number(value, column)?))
}

/// `corpus/labels.json`: site → expected pairing, and the known misses.
fn labels(root: &Path) -> (BTreeMap<Site, Pair>, BTreeSet<Site>) {
    let text = fs::read_to_string(root.join("labels.json")).expect("corpus/labels.json");
    let list: Vec<Value> = serde_json::from_str(&text).expect("labels.json is a JSON array");
    let mut out = BTreeMap::new();
    let mut misses = BTreeSet::new();
    for label in &list {
        let text = |key: &str| label[key].as_str().expect("label string field").to_string();
        let site = Site {
            path: text("path"),
            rule: text("rule"),
            line: number(label, "line").expect("label line"),
            column: number(label, "column").expect("label column"),
        };
        if label.get("known_miss").is_some() {
            assert!(misses.insert(site.clone()), "duplicate label {site}");
            continue;
        }
        let pair = pair_of(label, "secret_key_line", "secret_key_column");
        assert!(out.insert(site.clone(), pair).is_none(), "duplicate label {site}");
    }
    (out, misses)
}

/// Files under `dir`, relative, `/`-separated.
fn files(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    let mut entries: Vec<_> =
        fs::read_dir(dir).expect("read corpus dir").map(|e| e.expect("dir entry")).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            files(&entry.path(), &format!("{name}/"), out);
        } else if kind.is_file() {
            out.insert(name);
        }
    }
}

/// Runs `keysweep scan --format json --no-progress` over the corpus and returns its report.
fn scan(root: &Path) -> Value {
    // A private HOME and XDG_CONFIG_HOME: a developer's global gitignore (which often lists
    // `.env`) must not hide corpus files.
    let home = tempfile::Builder::new().prefix("keysweep-corpus-home-").tempdir().expect("temp");
    let out = Command::new(program())
        .arg("scan")
        .arg(root)
        .args(["--format", "json", "--no-progress"])
        .current_dir(root)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("KEYSWEEP_LOG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run keysweep");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit status (1: findings); stderr:\n{stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}); stderr:\n{stderr}"))
}

/// Every location of every finding: site → pairing.
fn found(report: &Value) -> BTreeMap<Site, Pair> {
    let mut out = BTreeMap::new();
    for finding in report["findings"].as_array().expect("findings array") {
        let rule = finding["rule"].as_str().expect("finding rule");
        for location in finding["locations"].as_array().expect("locations array") {
            let site = Site {
                path: location["relative_path"].as_str().expect("relative_path").to_string(),
                rule: rule.to_string(),
                line: number(location, "line").expect("line"),
                column: number(location, "column").expect("column"),
            };
            out.insert(site, pair_of(location, "secret_key_line", "secret_key_column"));
        }
    }
    out
}

fn show_pair(pair: Pair) -> String {
    pair.map_or_else(|| "unpaired".to_string(), |(l, c)| format!("secret key at {l}:{c}"))
}

#[test]
fn corpus_exact_recall_and_no_false_positives() {
    let root = corpus_dir();
    let (expected, known_misses) = labels(&root);
    let mut all_files = BTreeSet::new();
    files(&root, "", &mut all_files);

    let report = scan(&root);
    let stats = &report["stats"];
    assert_eq!(number(stats, "errors"), Some(0), "input errors: {}", report["errors"]);
    assert_eq!(
        number(stats, "blobs_scanned"),
        Some(all_files.len() as u64),
        "every corpus file must be scanned (is an ignore file hiding some?); stats: {stats}"
    );
    let got = found(&report);

    let missed: Vec<&Site> = expected.keys().filter(|s| !got.contains_key(*s)).collect();
    let unexpected: Vec<(&Site, &Pair)> = got
        .iter()
        .filter(|(s, _)| !expected.contains_key(*s) && !known_misses.contains(*s))
        .collect();
    let misses_found: Vec<&Site> = known_misses.iter().filter(|s| got.contains_key(*s)).collect();
    let mispaired: Vec<(&Site, &Pair, &Pair)> = expected
        .iter()
        .filter_map(|(s, want)| got.get(s).filter(|g| *g != want).map(|g| (s, want, g)))
        .collect();
    let in_negative = unexpected.iter().filter(|(s, _)| s.path.starts_with("negative/")).count();

    let true_positives = expected.len() - missed.len();
    let precision = true_positives as f64 / (true_positives + unexpected.len()).max(1) as f64;
    let recall = true_positives as f64 / expected.len().max(1) as f64;
    let positive_files = all_files.iter().filter(|p| p.starts_with("positive/")).count();
    let negative_files = all_files.iter().filter(|p| p.starts_with("negative/")).count();
    println!(
        "corpus: {positive_files} positive and {negative_files} negative files, {} labels, \
         {} rules labelled",
        expected.len(),
        expected.keys().map(|s| &s.rule).collect::<BTreeSet<_>>().len()
    );
    println!(
        "corpus: {true_positives} found, {} missed, {} unexpected ({in_negative} in negative/), \
         {} mispaired; precision {:.4}, recall {:.4}",
        missed.len(),
        unexpected.len(),
        mispaired.len(),
        precision,
        recall
    );

    let mut problems = String::new();
    for &(rule, floor) in RECALL_FLOORS {
        let labelled = expected.keys().filter(|s| s.rule == rule).count();
        let found = expected.keys().filter(|s| s.rule == rule && got.contains_key(*s)).count();
        let known = known_misses.iter().filter(|s| s.rule == rule).count();
        let rule_recall = found as f64 / (labelled + known).max(1) as f64;
        println!(
            "corpus: {rule}: {found} of {} found ({known} known misses), recall {rule_recall:.4}",
            labelled + known
        );
        if rule_recall < floor {
            problems.push_str(&format!("  recall      {rule}: {rule_recall:.4} < {floor}\n"));
        }
    }
    for site in &misses_found {
        problems.push_str(&format!("  known miss found (drop its known_miss) {site}\n"));
    }
    for site in &missed {
        problems.push_str(&format!("  missed      {site}\n"));
    }
    for (site, want, got) in &mispaired {
        problems.push_str(&format!(
            "  mispaired   {site}: want {}, got {}\n",
            show_pair(**want),
            show_pair(**got)
        ));
    }
    for (site, pair) in &unexpected {
        let paired =
            if pair.is_some() { format!(" ({})", show_pair(**pair)) } else { String::new() };
        problems.push_str(&format!("  unexpected  {site}{paired}\n"));
    }
    assert!(problems.is_empty(), "corpus mismatches:\n{problems}");
}

/// The committed corpus is exactly what `corpus/generate.py` writes (skipped without python3).
#[test]
fn corpus_matches_its_generator() {
    let root = corpus_dir();
    let Ok(version) = Command::new("python3").arg("--version").output() else {
        println!("python3 not found: not regenerating the corpus");
        return;
    };
    assert!(version.status.success(), "python3 --version failed");
    let out = tempfile::Builder::new().prefix("keysweep-corpus-").tempdir().expect("temp dir");
    let run = Command::new("python3")
        .arg(root.join("generate.py"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run corpus/generate.py");
    assert!(run.status.success(), "generate.py failed:\n{}", String::from_utf8_lossy(&run.stderr));

    let mut committed = BTreeSet::new();
    files(&root, "", &mut committed);
    committed.retain(|p| p.starts_with("positive/") || p.starts_with("negative/"));
    committed.insert("labels.json".to_string());
    let mut generated = BTreeSet::new();
    files(out.path(), "", &mut generated);
    assert_eq!(committed, generated, "file lists differ: run `python3 corpus/generate.py`");
    let differing: Vec<&String> = committed
        .iter()
        .filter(|p| fs::read(root.join(p)).ok() != fs::read(out.path().join(p)).ok())
        .collect();
    assert!(
        differing.is_empty(),
        "stale corpus files {differing:?}: run `python3 corpus/generate.py`"
    );
}

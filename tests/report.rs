//! Reports and what shapes them: SARIF against the official schema and in agreement with the
//! JSON report, JSON Lines, stable fingerprints, `--output`, grouping by secret, baselines,
//! inline and config allowlists, standard input, and the read/streamed/stdin equivalence.

use std::{collections::BTreeSet, fs, io::ErrorKind, path::Path, process::Command};

use serde_json::Value;

use crate::util::{ACCOUNT, Fakes, Found, Scan, TestCommand, TestDir};

/// The official SARIF 2.1.0 schema (draft-04), committed with the tests.
pub(crate) fn sarif_schema() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json")
}

/// Validates `document` against `schema` with Python's `jsonschema` (Draft4Validator). Fails
/// the test, never skips, when Python or the package is missing.
pub(crate) fn validate_with_jsonschema(schema: &Path, document: &Path) {
    const SCRIPT: &str = "import json, sys\n\
        import jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        jsonschema.Draft4Validator.check_schema(schema)\n\
        doc = json.load(open(sys.argv[2]))\n\
        errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)\n\
        for e in errors[:20]:\n    print('/'.join(map(str, e.absolute_path)), ':', e.message)\n\
        sys.exit(1 if errors else 0)\n";
    let output =
        match Command::new("python3").arg("-c").arg(SCRIPT).arg(schema).arg(document).output() {
            Ok(output) => output,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                panic!(
                    "python3 is not installed: run scripts/test.sh, which installs the test tools"
                )
            }
            Err(e) => panic!("cannot run python3: {e}"),
        };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'jsonschema'"),
        "Python's jsonschema is not installed: run scripts/test.sh (pip install -r tests/requirements.txt)"
    );
    assert!(
        output.status.success(),
        "SARIF does not validate against {}:\n{}{stderr}",
        schema.display(),
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Percent-encodes a relative path for a URI as RFC 3986 wants (unreserved characters and `/`
/// kept).
fn uri_of(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A tree with five findings in nested, spaced and non-ASCII paths; one secret in two files.
fn report_tree(dir: &TestDir, seed: u64) {
    let mut fakes = Fakes::new(seed);
    let (k1, s1) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    dir.create("config/prod/.env", format!("AWS_ACCESS_KEY_ID={k1}\nAWS_SECRET_ACCESS_KEY={s1}\n"));
    let k2 = fakes.key_id("AKIA", 7);
    dir.create("src/app.py", format!("import boto3\n\nKEY = \"{k2}\"\n"));
    dir.create(
        "docs/my notes.md",
        format!("# setup\n\n    aws_secret_access_key = {}\n", fakes.secret()),
    );
    let k3 = fakes.key_id("ASIA", ACCOUNT);
    dir.create("clé/données.txt", format!("temporary: {k3}\n"));
    dir.create("copies/again.env", format!("\n\nold = {k2}\n"));
}

#[test]
fn sarif_validates_and_agrees_with_the_json_report() {
    let dir = TestDir::new();
    report_tree(&dir, 400);
    let json = TestCommand::new().current_dir(dir.path()).scan_json(["."]);
    json.out.assert_code(1);
    assert_eq!(json.finding_count(), 4, "{}", json.out);
    assert_eq!(json.findings.len(), 5, "{}", json.out);

    let out_dir = TestDir::new();
    let sarif_path = out_dir.join("report.sarif");
    let out = TestCommand::new()
        .current_dir(dir.path())
        .args(["scan", "--no-progress", "--format", "sarif", "--output"])
        .arg(&sarif_path)
        .arg(".")
        .run();
    out.assert_code(1);
    validate_with_jsonschema(&sarif_schema(), &sarif_path);
    let sarif: Value =
        serde_json::from_str(&fs::read_to_string(&sarif_path).expect("sarif written"))
            .expect("JSON");

    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "keysweep");

    // Every rule, each with a security-severity score.
    let listed = TestCommand::new().args(["rules", "list", "--format", "json"]).run();
    listed.assert_code(0);
    let listed: Value = serde_json::from_str(&listed.stdout).expect("rules list JSON");
    let listed: BTreeSet<&str> =
        listed.as_array().expect("array").iter().filter_map(|r| r["id"].as_str()).collect();
    let rules = driver["rules"].as_array().expect("driver.rules");
    let ids: BTreeSet<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, listed, "driver.rules lists every rule");
    for rule in rules {
        let score = rule["properties"]["security-severity"]
            .as_str()
            .unwrap_or_else(|| panic!("no security-severity in {rule}"));
        let score: f64 = score.parse().expect("a number");
        assert!((0.0..=10.0).contains(&score), "{rule}");
    }

    // Each result has the facts, and they equal the JSON report's.
    let results = runs[0]["results"].as_array().expect("results");
    let mut from_sarif = BTreeSet::new();
    for result in results {
        let rule_id = result["ruleId"].as_str().expect("ruleId");
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap_or("")));
        assert!(!result["message"]["text"].as_str().unwrap_or("").is_empty(), "{result}");
        let physical = &result["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(!uri.starts_with('/') && !uri.contains('\\') && !uri.contains(':'), "{uri}");
        let region = &physical["region"];
        let fingerprints = result["partialFingerprints"].as_object().expect("partialFingerprints");
        assert!(!fingerprints.is_empty());
        let fingerprint_values: Vec<&str> =
            fingerprints.values().filter_map(Value::as_str).collect();
        from_sarif.insert((
            rule_id.to_string(),
            uri.to_string(),
            region["startLine"].as_u64().expect("startLine") as usize,
            region["startColumn"].as_u64().expect("startColumn") as usize,
            json.findings
                .iter()
                .find(|f| fingerprint_values.contains(&f.fingerprint.as_str()))
                .map(|f| f.fingerprint.clone())
                .unwrap_or_else(|| panic!("no JSON fingerprint among {fingerprint_values:?}")),
        ));
    }
    let from_json: BTreeSet<_> = json
        .findings
        .iter()
        .map(|f| (f.rule.clone(), uri_of(&f.path), f.line, f.column, f.fingerprint.clone()))
        .collect();
    assert_eq!(from_sarif, from_json);
    assert_eq!(results.len(), 5);
    let uris: BTreeSet<&str> = from_sarif.iter().map(|r| r.1.as_str()).collect();
    let want: BTreeSet<&str> = [
        "config/prod/.env",
        "src/app.py",
        "docs/my%20notes.md",
        "cl%C3%A9/donn%C3%A9es.txt",
        "copies/again.env",
    ]
    .into();
    assert_eq!(uris, want);
}

#[test]
fn jsonl_has_one_line_per_finding() {
    let dir = TestDir::new();
    report_tree(&dir, 401);
    let json = TestCommand::new().current_dir(dir.path()).scan_json(["."]);
    let out = TestCommand::new()
        .current_dir(dir.path())
        .args(["scan", "--no-progress", "--format", "jsonl", "."])
        .run();
    out.assert_code(1);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSONL line {l:?}: {e}")))
        .collect();
    let findings = json.json["findings"].as_array().expect("findings");
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines.len(), findings.len());
    for (line, finding) in lines.iter().zip(findings) {
        assert_eq!(line["fingerprint"], finding["fingerprint"]);
        assert_eq!(line["locations"], finding["locations"]);
    }
}

#[test]
fn fingerprints_are_stable_across_runs_and_directories() {
    let (a, b) = (TestDir::new(), TestDir::new());
    report_tree(&a, 402);
    report_tree(&b, 402);
    let prints = |scan: &Scan| -> Vec<(String, String)> {
        scan.findings.iter().map(|f| (f.path.clone(), f.fingerprint.clone())).collect()
    };
    let first = TestCommand::new().current_dir(a.path()).scan_json(["."]);
    let second = TestCommand::new().current_dir(a.path()).scan_json(["."]);
    // Another directory, named by absolute path from elsewhere.
    let other = TestCommand::new().current_dir(a.path()).scan_json([b.path()]);
    assert_eq!(prints(&first), prints(&second));
    assert_eq!(prints(&first), prints(&other));
    assert_eq!(first.findings.len(), 5);
    assert!(first.findings.iter().all(|f| f.fingerprint.len() == 32));
    assert!(
        other.findings.iter().all(|f| f.display_path.starts_with(&*b.path().to_string_lossy()))
    );
}

#[test]
fn output_flag_writes_the_report_to_a_file() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(403);
    let key = fakes.key_id("AKIA", ACCOUNT);
    dir.create("a.env", format!("KEY={key}\n"));
    let out_dir = TestDir::new();
    let target = out_dir.join("out/report.json");
    fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    let out = TestCommand::new()
        .current_dir(dir.path())
        .args(["scan", "--no-progress", "--format", "json", "--output"])
        .arg(&target)
        .arg(".")
        .run();
    out.assert_code(1);
    assert!(out.stdout.is_empty(), "the report goes to the file only: {out}");
    assert!(out.stderr.contains("1 secret in 1 location(s)"), "summary on stderr: {out}");
    let scan = Scan::new(
        out.clone(),
        serde_json::from_slice(&fs::read(&target).expect("written")).expect("JSON"),
    );
    let found = scan.only();
    assert_eq!((found.path.as_str(), found.line, found.column), ("a.env", 1, 5));

    // An unwritable destination is a failure naming the file.
    let bad = out_dir.join("missing-dir/report.json");
    let out = TestCommand::new()
        .current_dir(dir.path())
        .args(["scan", "--no-progress", "--output"])
        .arg(&bad)
        .arg(".")
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("missing-dir/report.json"), "{out}");
}

#[test]
fn same_secret_in_two_files_is_one_finding_with_two_locations() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(404);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    dir.create("a.env", format!("AWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n"));
    dir.create("deep/b.yaml", format!("# copy\naws:\n  access_key_id: {key}\n"));
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["."]);
    scan.out.assert_code(1);
    assert_eq!(scan.finding_count(), 1, "{}", scan.out);
    assert_eq!(scan.json["findings"][0]["locations"].as_array().map(Vec::len), Some(2));
    let (a, b) = (scan.one_at("a.env"), scan.one_at("deep/b.yaml"));
    assert_eq!((a.line, a.column, a.secret_key_line), (1, 19, Some(2)));
    assert_eq!((b.line, b.column, b.secret_key_line), (3, 18, None));
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(a.severity, "critical", "paired in one place: the credential is critical");
    assert_eq!(scan.stat("locations"), 2);
}

#[test]
fn baseline_suppresses_known_findings_only() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(405);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    dir.create("a.env", format!("AWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n"));
    dir.create("b.ini", format!("aws_secret_access_key = {}\n", fakes.secret()));
    let out_dir = TestDir::new();
    let baseline = out_dir.join("prev.json");
    let first = TestCommand::new()
        .current_dir(dir.path())
        .args(["scan", "--no-progress", "--format", "json", "-o"])
        .arg(&baseline)
        .arg(".")
        .run();
    first.assert_code(1);

    let again = TestCommand::new().current_dir(dir.path()).scan_json([
        std::ffi::OsStr::new("--baseline"),
        baseline.as_os_str(),
        ".".as_ref(),
    ]);
    assert!(again.findings.is_empty(), "{:#?}", again.findings);
    assert_eq!(again.stat("suppressed"), 2);
    again.out.assert_code(0);

    // A new secret is still reported.
    let new_key = fakes.key_id("AKIA", ACCOUNT);
    dir.create("c.env", format!("\nKEY={new_key}\n"));
    let third = TestCommand::new().current_dir(dir.path()).scan_json([
        "--show-secrets".as_ref(),
        "--baseline".as_ref(),
        baseline.as_os_str(),
        ".".as_ref(),
    ]);
    let found = third.only();
    assert_eq!((found.path.as_str(), found.line, found.column), ("c.env", 2, 5));
    assert_eq!(found.secret, new_key);
    third.out.assert_code(1);
}

#[test]
fn inline_allow_marker_suppresses_its_line_only() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(406);
    let (k1, s1) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let (k2, s2) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    dir.create(
        "creds.sh",
        format!(
            "AWS_ACCESS_KEY_ID={k1} AWS_SECRET_ACCESS_KEY={s1} # keysweep:allow test account\n\
             AWS_ACCESS_KEY_ID={k2} AWS_SECRET_ACCESS_KEY={s2}\n"
        ),
    );
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["--show-secrets", "."]);
    let found = scan.only();
    assert_eq!((found.secret.as_str(), found.line, found.column), (k2.as_str(), 2, 19));
    assert_eq!(found.secret_key.as_deref(), Some(s2.as_str()));
    assert_eq!((found.secret_key_line, found.secret_key_column), (Some(2), Some(62)));
    assert_eq!(scan.stat("suppressed_inline"), 1);
    scan.out.assert_code(1);
}

/// Three findings in three files: a pair, a pair under `fixtures/`, a named secret.
fn allowlist_tree(dir: &TestDir, fakes: &mut Fakes) -> (String, String, String) {
    let (ka, kb) = (fakes.key_id("AKIA", ACCOUNT), fakes.key_id("AKIA", ACCOUNT));
    let named = fakes.secret();
    dir.create(
        "keys/a.env",
        format!("AWS_ACCESS_KEY_ID={ka}\nAWS_SECRET_ACCESS_KEY={}\n", fakes.secret()),
    );
    dir.create("fixtures/deep/b.env", format!("AWS_ACCESS_KEY_ID={kb}\n"));
    dir.create("named.ini", format!("aws_secret_access_key = {named}\n"));
    (ka, kb, named)
}

fn paths(scan: &Scan) -> Vec<&str> {
    let mut paths: Vec<&str> = scan.findings.iter().map(|f| f.path.as_str()).collect();
    paths.sort_unstable();
    paths
}

#[test]
fn config_allowlist_paths_rules_regexes_and_fingerprints_each_suppress() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(407);
    let (ka, _kb, _named) = allowlist_tree(&dir, &mut fakes);
    let all = TestCommand::new().current_dir(dir.path()).scan_json(["."]);
    assert_eq!(paths(&all), ["fixtures/deep/b.env", "keys/a.env", "named.ini"]);
    let fingerprint_b = all.one_at("fixtures/deep/b.env").fingerprint.clone();

    // Discovered in the scanned root.
    dir.create(".keysweep.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["."]);
    assert_eq!(paths(&scan), ["keys/a.env", "named.ini"]);
    assert_eq!(scan.stat("skipped_allowlisted"), 1);
    scan.out.assert_code(1);
    fs::remove_file(dir.join(".keysweep.toml")).expect("rm");

    // Given with --config, from outside the tree.
    let config_dir = TestDir::new();
    let cases = [
        (
            "rules",
            "rules = [\"aws.secret-access-key\"]".to_string(),
            vec!["fixtures/deep/b.env", "keys/a.env"],
        ),
        (
            "regexes",
            format!("regexes = ['''{}$''']", &ka[12..]),
            vec!["fixtures/deep/b.env", "named.ini"],
        ),
        (
            "fingerprints",
            format!("fingerprints = [\"{fingerprint_b}\"]"),
            vec!["keys/a.env", "named.ini"],
        ),
    ];
    for (kind, line, want) in cases {
        let config = config_dir.create(&format!("{kind}.toml"), format!("[allowlist]\n{line}\n"));
        let scan = TestCommand::new().current_dir(dir.path()).scan_json([
            "--config".as_ref(),
            config.as_os_str(),
            ".".as_ref(),
        ]);
        assert_eq!(paths(&scan), want, "allowlist {kind}: {}", scan.out);
        assert_eq!(scan.stat("suppressed"), 1, "allowlist {kind}");
        scan.out.assert_code(1);
    }

    // Everything allowlisted: clean.
    let config = config_dir.create(
        "all.toml",
        "[allowlist]\nrules = [\"aws.access-key-id\", \"aws.secret-access-key\"]\n",
    );
    let scan = TestCommand::new().current_dir(dir.path()).scan_json([
        "--config".as_ref(),
        config.as_os_str(),
        ".".as_ref(),
    ]);
    assert!(scan.findings.is_empty());
    scan.out.assert_code(0);
}

/// The finding with its place-independent facts only.
fn facts(f: &Found) -> (String, usize, usize, usize, Option<usize>, Option<usize>, String, String) {
    (
        f.rule.clone(),
        f.line,
        f.column,
        f.end_column,
        f.secret_key_line,
        f.secret_key_column,
        f.fingerprint.clone(),
        f.severity.clone(),
    )
}

#[test]
fn stdin_is_scanned_as_stdin_with_the_same_findings_as_the_file() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(408);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content =
        format!("# ci\n\nexport AWS_ACCESS_KEY_ID={key}\nexport AWS_SECRET_ACCESS_KEY={secret}\n");
    dir.create("ci.sh", &content);
    let stdin = TestCommand::new().current_dir(dir.path()).stdin(content.clone()).scan_json(["-"]);
    stdin.out.assert_code(1);
    let found = stdin.only();
    assert_eq!((found.display_path.as_str(), found.line, found.column), ("<stdin>", 3, 26));
    assert_eq!((found.secret_key_line, found.secret_key_column), (Some(4), Some(30)));
    let file = TestCommand::new().current_dir(dir.path()).scan_json(["ci.sh"]);
    assert_eq!(file.findings.iter().map(facts).collect::<Vec<_>>(), vec![facts(found)]);

    // Empty standard input is clean.
    let empty = TestCommand::new().current_dir(dir.path()).stdin("").scan_json(["-"]);
    assert!(empty.findings.is_empty());
    empty.out.assert_code(0);
}

#[test]
fn streamed_read_and_stdin_give_the_same_line_and_column() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(409);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let head = format!(
        "# héllo wörld\n\tAWS_ACCESS_KEY_ID = \"{key}\" ; AWS_SECRET_ACCESS_KEY = \"{secret}\"\n"
    );
    dir.create("small.conf", &head);
    let padding = "# lorem ipsum dolor sit amet, consectetur adipiscing elit\n";
    let big = format!("{head}{}", padding.repeat((2 << 20) / padding.len() + 1));
    assert!(big.len() > 2 << 20, "large enough to be streamed in windows");
    dir.create("big.conf", &big);
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["."]);
    scan.out.assert_code(1);
    assert_eq!(scan.finding_count(), 1, "one secret, two files: {}", scan.out);
    let (small, large) = (scan.one_at("small.conf"), scan.one_at("big.conf"));
    assert_eq!((small.line, small.column, small.end_column), (2, 23, 43));
    assert_eq!((small.secret_key_line, small.secret_key_column), (Some(2), Some(72)));
    assert_eq!(facts(small), facts(large));
    let stdin = TestCommand::new().current_dir(dir.path()).stdin(big).scan_json(["-"]);
    assert_eq!(facts(stdin.only()), facts(small));
}

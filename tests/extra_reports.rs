//! `--report FORMAT=FILE`: one scan, several reports that agree with each other; a report that
//! cannot be written is named, the others are still written, and the exit code follows the
//! findings.

use std::fs;

use serde_json::Value;

use crate::util::{ACCOUNT, Fakes, TestCommand, TestDir, position, redacted};

/// A tree with one AWS key pair in `app/.env`; returns the key id, the secret, and the key id's
/// (line, column).
fn tree_with_a_key(dir: &TestDir) -> (String, String, (usize, usize)) {
    let mut fakes = Fakes::new(0x5e9);
    let (key_id, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let env =
        format!("REGION=eu-west-1\nAWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n");
    dir.create("tree/app/.env", &env);
    let at = position(&env, &key_id);
    (key_id, secret, at)
}

scantest!(every_report_comes_from_the_same_scan, |dir, cmd| {
    let (key_id, secret, (line, column)) = tree_with_a_key(&dir);
    let out = dir.join("out");
    fs::create_dir_all(&out).expect("mkdir out");
    let report = |name: &str| out.join(name).display().to_string();
    let run = cmd
        .args(["scan", "tree", "--no-progress", "--format", "json"])
        .args(["--report", &format!("sarif={}", report("k.sarif"))])
        .args(["--report", &format!("markdown={}", report("k.md"))])
        .args(["--report", &format!("github={}", report("k.txt"))])
        .args(["--report", &format!("json={}", report("k.json"))])
        .run();
    run.assert_code(1);

    // The JSON report written to a file is the one on stdout, byte for byte: one scan.
    let json_file = fs::read_to_string(out.join("k.json")).expect("k.json");
    assert_eq!(json_file, run.stdout);
    let json: Value = serde_json::from_str(&json_file).expect("JSON");
    let fingerprint = json["findings"][0]["fingerprint"].as_str().expect("fingerprint");

    let sarif: Value =
        serde_json::from_str(&fs::read_to_string(out.join("k.sarif")).expect("k.sarif"))
            .expect("SARIF is JSON");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["partialFingerprints"]["secret/v1"], fingerprint);
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], line);
    crate::report::validate_with_jsonschema(&crate::report::sarif_schema(), &out.join("k.sarif"));

    let end_column = column + key_id.len();
    assert_eq!(
        fs::read_to_string(out.join("k.txt")).expect("k.txt"),
        format!(
            "::error file=app/.env,line={line},col={column},endLine={line},\
             endColumn={end_column},title=AWS access key ID (aws.access-key-id)::AWS access key \
             ID {} paired with secret access key {} (critical); not verified; fingerprint \
             {fingerprint}\n",
            redacted(&key_id),
            redacted(&secret)
        )
    );
    let markdown = fs::read_to_string(out.join("k.md")).expect("k.md");
    let rows: Vec<&str> = markdown.lines().filter(|l| l.starts_with("| AWS")).collect();
    assert_eq!(
        rows,
        [format!(
            "| AWS access key ID `aws.access-key-id` | critical | `tree/app/.env:{line}` |  | \
             `{}` + secret key `{}` | not verified |",
            redacted(&key_id),
            redacted(&secret)
        )]
    );
    for (name, text) in [("k.md", &markdown), ("k.json", &json_file)] {
        assert!(!text.contains(&secret) && !text.contains(&key_id), "{name} holds a secret");
    }
});

scantest!(an_unwritable_report_is_named_and_the_rest_are_written, |dir, cmd| {
    tree_with_a_key(&dir);
    let missing = dir.join("no/such/dir/k.sarif");
    let written = dir.join("k.md");
    let run = cmd
        .args(["scan", "tree", "--no-progress", "--format", "json"])
        .args(["--report", &format!("sarif={}", missing.display())])
        .args(["--report", &format!("markdown={}", written.display())])
        .run();
    // Found: exit 1 although a report failed; the failure is named.
    run.assert_code(1);
    assert!(
        run.stderr.contains(&format!(
            "keysweep: cannot write report to {}: No such file or directory",
            missing.display()
        )),
        "{run}"
    );
    let markdown = fs::read_to_string(&written).expect("the markdown report was written");
    assert!(markdown.starts_with("### keysweep: 1 secret in 1 location(s)\n"), "{markdown}");
    let json: Value = serde_json::from_str(&run.stdout).expect("the main report was written");
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(1));

    // Nothing found and a report lost: exit 2, never a clean 0.
    dir.create("clean/readme.txt", "nothing here\n");
    let mut clean = TestCommand::new();
    let run = clean
        .current_dir(dir.path())
        .args(["scan", "clean", "--no-progress", "--quiet"])
        .args(["--report", &format!("github={}", missing.display())])
        .run();
    run.assert_code(2);
});

scantest!(a_bad_report_spec_is_misuse, |dir, cmd| {
    let run = cmd.args(["scan", ".", "--report", "pdf=x.pdf"]).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains(
            "invalid value 'pdf=x.pdf' for '--report <FORMAT=FILE>': unknown format \"pdf\" \
             (want one of text, json, jsonl, sarif, markdown, github, html)"
        ),
        "{run}"
    );
});

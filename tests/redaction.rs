//! Secrets never reach any output unless `--show-secrets` is given: not the report in any
//! format, not the summary, not a debug or trace log line, not a file written with `--output`.
//!
//! The tree holds an AWS key pair with a session token, a named secret access key alone, and
//! the first example of every other built-in rule (read from `rules/*.toml` at run time). The
//! secrets to look for are the generated AWS values plus whatever a `--show-secrets` run
//! reports; the same leak check must then fire on every `--show-secrets` output, which proves
//! it can fail.

use std::fs;

use crate::util::{ACCOUNT, Fakes, Output, TestCommand, TestDir, rules_dir};

/// Strings whose presence in an output means `secret` leaked: the value, its JSON-escaped form,
/// everything but the prefix a redaction keeps, and each long line of a multi-line secret.
pub(crate) fn needles(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    let json = serde_json::to_string(secret).expect("a string serializes");
    let json = &json[1..json.len() - 1];
    if json != secret {
        out.push(json.to_string());
    }
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= 16 {
        out.push(chars[4..].iter().collect::<String>().split('\n').next().unwrap_or("").into());
    }
    for line in secret.split('\n').flat_map(|l| l.split("\\n")) {
        let line = line.trim();
        if line.len() >= 16 && !line.starts_with("-----") && !line.contains(':') {
            out.push(line.to_string());
        }
    }
    out.retain(|n| n.len() >= 8);
    out
}

/// The secrets of `secrets` that `text` contains (in any leaked form).
pub(crate) fn leaked<'a>(text: &str, secrets: &'a [String]) -> Vec<&'a str> {
    // `--format github` escapes `%`, CR, LF, `:` and `,`; GitHub shows the text unescaped.
    let unescaped = text
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%");
    secrets
        .iter()
        .filter(|s| {
            needles(s).iter().any(|n| text.contains(n.as_str()) || unescaped.contains(n.as_str()))
        })
        .map(String::as_str)
        .collect()
}

/// The first example of every built-in rule outside `aws.toml`, by rule id.
fn other_rules_examples() -> Vec<(String, String)> {
    let mut files: Vec<_> = fs::read_dir(rules_dir())
        .expect("rules/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| p.file_name().is_some_and(|n| n != "aws.toml"))
        .collect();
    files.sort();
    let mut examples = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).expect("read rule file");
        let table: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for rule in table.get("rules").and_then(|r| r.as_array()).into_iter().flatten() {
            let id = rule.get("id").and_then(|v| v.as_str());
            let first = rule.get("examples").and_then(|v| v.as_array()).and_then(|v| v.first());
            if let (Some(id), Some(example)) = (id, first.and_then(|e| e.as_str())) {
                examples.push((id.to_string(), example.to_string()));
            }
        }
    }
    examples
}

fn run(dir: &TestDir, args: &[&str], log: Option<&str>) -> Output {
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args(["scan", "--no-progress"]).args(args).arg(".");
    if let Some(level) = log {
        cmd.env("KEYSWEEP_LOG", level);
    }
    let out = cmd.run();
    out.assert_code(1);
    out
}

#[test]
fn no_output_format_or_log_level_prints_a_secret_unless_asked() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(300);
    let (key, secret, token) =
        (fakes.key_id("ASIA", ACCOUNT), fakes.secret(), fakes.session_token());
    dir.create(
        "aws/session.env",
        format!(
            "AWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\nAWS_SESSION_TOKEN={token}\n"
        ),
    );
    let named = fakes.secret();
    dir.create("aws/named.ini", format!("aws_secret_access_key = {named}\n"));
    let (key2, secret2) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    dir.create("aws/app.py", format!("boto3.client('s3', '{key2}', '{secret2}')\n"));
    // A binary file is skipped, which gives the debug log something to say.
    dir.create("blob.bin", [&[0u8; 16][..], fakes.secret().as_bytes()].concat());
    let examples = other_rules_examples();
    for (id, example) in &examples {
        dir.create(&format!("examples/{id}.txt"), example);
    }
    let mut secrets = vec![key, secret, token, named, key2, secret2];

    // Learn the other rules' secrets from what keysweep reports when asked to show them.
    let shown = TestCommand::new().current_dir(dir.path()).scan_json(["--show-secrets", "."]);
    shown.out.assert_code(1);
    for finding in shown.json["findings"].as_array().expect("findings") {
        for field in ["secret", "secret_key", "session_token"] {
            if let Some(value) = finding.get(field).and_then(|v| v.as_str())
                && !secrets.iter().any(|s| s == value)
            {
                secrets.push(value.to_string());
            }
        }
    }
    let from_examples = secrets.len() - 6;
    assert!(
        from_examples >= 10,
        "want a dozen other providers' secrets, got {from_examples} from {} examples: {}",
        examples.len(),
        shown.out
    );
    for aws in &secrets[..6] {
        assert!(
            shown.out.stdout.contains(aws.as_str()),
            "a generated AWS secret was not reported at all, so this test would prove nothing"
        );
    }

    let out_dir = TestDir::new();
    for format in ["text", "json", "jsonl", "sarif", "markdown", "github"] {
        let mut runs: Vec<(String, Output)> = Vec::new();
        let base = ["--format", format];
        runs.push((format.to_string(), run(&dir, &base, None)));
        runs.push((
            format!("{format} -v -v"),
            run(&dir, &[&base[..], &["-v", "-v"]].concat(), None),
        ));
        runs.push((format!("{format} KEYSWEEP_LOG=trace"), run(&dir, &base, Some("trace"))));
        let report = out_dir.join(&format!("report.{format}"));
        let report_arg = report.to_str().expect("utf-8 temp path");
        let to_file = run(&dir, &[&base[..], &["--output", report_arg, "-vv"]].concat(), None);
        let mut written = to_file.clone();
        written.stdout = fs::read_to_string(&report).expect("report written");
        assert!(to_file.stdout.is_empty(), "--output leaves stdout empty: {to_file}");
        runs.push((format!("{format} --output"), written));
        for (what, out) in &runs {
            let everything = format!("{}\n{}", out.stdout, out.stderr);
            let leaks = leaked(&everything, &secrets);
            assert!(leaks.is_empty(), "{what}: {} secret(s) leaked: {leaks:?}\n{out}", leaks.len());
            if what.contains("KEYSWEEP_LOG") || what.contains("-v") {
                assert!(
                    out.stderr.contains("keysweep["),
                    "{what}: the log level took effect\n{out}"
                );
            }
        }

        // The check fires when secrets are shown: every secret, in every format.
        let shown = run(&dir, &[&base[..], &["--show-secrets"]].concat(), Some("trace"));
        let everything = format!("{}\n{}", shown.stdout, shown.stderr);
        let missing: Vec<&String> = secrets
            .iter()
            .filter(|s| !leaked(&everything, &secrets).contains(&s.as_str()))
            .collect();
        assert!(missing.is_empty(), "{format} --show-secrets does not show {missing:?}\n{shown}");
    }
}

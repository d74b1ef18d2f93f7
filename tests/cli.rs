//! The command line's contract: exit codes (0 clean, 1 found, 2 failed or misused), misuse
//! messages that name what was wrong, the text report's locations, `rules check`, user rules
//! in `.keysweep.toml` (broken ones rejected by id, valid ones scanning), and a closed stdout.

use std::{
    io::Read,
    process::{Command, Stdio},
};

use crate::util::{ACCOUNT, Fakes, TestCommand, TestDir};

scantest!(exit_0_when_everything_read_and_nothing_found, |dir, cmd| {
    dir.create("README.md", "# hello\n");
    dir.create("src/lib.rs", "pub fn add(a: u32, b: u32) -> u32 { a + b }\n");
    let out = cmd.args(["scan", "--no-progress", "."]).run();
    out.assert_code(0);
    assert!(out.stdout.contains("no secrets found"), "{out}");
});

scantest!(exit_1_when_found_with_path_line_column_in_the_text_report, |dir, cmd| {
    let key = Fakes::new(500).key_id("AKIA", ACCOUNT);
    dir.create("conf/app.env", format!("# app\nAWS_ACCESS_KEY_ID={key}\n"));
    let out = cmd.args(["scan", "--no-progress", "--color", "never", "."]).run();
    out.assert_code(1);
    assert!(out.stdout.contains("(aws.access-key-id)"), "{out}");
    assert!(out.stdout.contains("  conf/app.env:2:19\n"), "{out}");
    assert!(out.stdout.contains("aws account  123456789012"), "{out}");
    assert!(!out.stdout.contains(&key), "redacted by default: {out}");
});

scantest!(exit_2_for_a_missing_path_naming_it, |dir, cmd| {
    let out = cmd.args(["scan", "--no-progress", "no/such/dir"]).run();
    out.assert_code(2);
    assert!(out.stderr.contains("no/such/dir: No such file or directory"), "{out}");
});

scantest!(a_missing_path_does_not_hide_a_finding_elsewhere, |dir, cmd| {
    let key = Fakes::new(501).key_id("AKIA", ACCOUNT);
    dir.create("a.env", format!("KEY={key}\n"));
    let scan = cmd.scan_json(["missing.txt", "a.env"]);
    let found = scan.only();
    assert_eq!((found.path.as_str(), found.line, found.column), ("a.env", 1, 5));
    assert!(scan.out.stderr.contains("missing.txt: No such file or directory"), "{}", scan.out);
    assert_eq!(scan.stat("errors"), 1);
    scan.out.assert_code(1);
});

#[test]
fn misuse_exits_2_and_says_what_was_wrong() {
    let dir = TestDir::new();
    let cases: &[(&[&str], &str)] = &[
        (&["scan", "--format", "xml", "."], "xml"),
        (&["scan", "--format"], "--format"),
        (&["scan", "-f", "SARIF2", "."], "SARIF2"),
        (&["rules", "list", "--format", "sarif"], "sarif"),
        (&["scan", "--max-file-size", "lots", "."], "lots"),
        (&["scan", "--frobnicate", "."], "--frobnicate"),
        (&["sweep-everything"], "sweep-everything"),
        (&[], "Usage"),
    ];
    for (args, named) in cases {
        let out = TestCommand::new().current_dir(dir.path()).args(*args).run();
        out.assert_code(2);
        assert!(out.stderr.contains(named), "stderr should mention {named:?}: {out}");
        assert!(out.stdout.is_empty(), "{out}");
    }
}

#[test]
fn rules_check_passes_every_builtin_example() {
    let out = TestCommand::new().args(["rules", "check"]).run();
    out.assert_code(0);
    assert!(out.stdout.contains(" 0 user)"), "{out}");
    assert!(out.stdout.trim_end().ends_with(": 0 failed"), "{out}");
}

/// A valid user rule for a made-up `acme_` token, plus its example, assembled at run time.
fn acme_rule(id: &str, keywords: &str, regex: &str, example: &str) -> String {
    format!(
        "[[rules]]\nid = \"{id}\"\nname = \"Acme API key\"\nseverity = \"high\"\n\
         keywords = {keywords}\nregex = '''{regex}'''\nexamples = ['{example}']\n"
    )
}

fn acme_token(fakes: &mut Fakes) -> String {
    format!("{}_{}", "acme", fakes.hex(32))
}

#[test]
fn broken_user_rules_fail_scan_and_rules_check_naming_the_rule() {
    let mut fakes = Fakes::new(502);
    let token = acme_token(&mut fakes);
    let good_regex = r"\b(?P<secret>acme_[0-9a-f]{32})\b";
    let cases = [
        ("acme.no-keywords", acme_rule("acme.no-keywords", "[]", good_regex, &token), "keywords"),
        (
            "acme.bad-regex",
            acme_rule("acme.bad-regex", "[\"acme_\"]", r"\b(?P<secret>acme_[0-9a-f]{32}\b", &token),
            "regex",
        ),
        (
            "acme.bad-example",
            acme_rule("acme.bad-example", "[\"acme_\"]", good_regex, "acme_tooshort"),
            "example 1 does not match",
        ),
    ];
    for (id, config, why) in cases {
        let dir = TestDir::new();
        dir.create(".keysweep.toml", &config);
        dir.create("a.txt", format!("token = {token}\n"));

        let scan =
            TestCommand::new().current_dir(dir.path()).args(["scan", "--no-progress", "."]).run();
        scan.assert_code(2);
        assert!(scan.stderr.contains(id) && scan.stderr.contains(why), "scan with {id}: {scan}");
        assert!(scan.stdout.is_empty(), "no report from a broken config: {scan}");

        let config_dir = TestDir::new();
        let path = config_dir.create("rules.toml", &config);
        let check = TestCommand::new().args(["rules", "check", "--config"]).arg(&path).run();
        check.assert_code(2);
        assert!(
            check.stderr.contains(id) && check.stderr.contains(why),
            "rules check {id}: {check}"
        );
    }
}

#[test]
fn a_valid_user_rule_finds_its_secret() {
    let mut fakes = Fakes::new(503);
    let (example, token) = (acme_token(&mut fakes), acme_token(&mut fakes));
    let config =
        acme_rule("acme.api-key", "[\"acme_\"]", r"\b(?P<secret>acme_[0-9a-f]{32})\b", &example);
    // The config lives outside the tree: its example would be a finding too.
    let config_dir = TestDir::new();
    let config = config_dir.create("keysweep.toml", &config);
    let dir = TestDir::new();
    dir.create("src/client.rb", format!("# client\nACME = Acme.new(token: \"{token}\")\n"));

    let scan = TestCommand::new().current_dir(dir.path()).scan_json([
        "--show-secrets".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        ".".as_ref(),
    ]);
    let found = scan.only();
    assert_eq!(
        (found.rule.as_str(), found.path.as_str(), found.line, found.column, found.end_column),
        ("acme.api-key", "src/client.rb", 2, 25, 62)
    );
    assert_eq!((found.secret.as_str(), found.severity.as_str()), (token.as_str(), "high"));
    scan.out.assert_code(1);

    let check = TestCommand::new().args(["rules", "check", "--config"]).arg(&config).run();
    check.assert_code(0);
    assert!(check.stdout.contains(" 1 user)") && check.stdout.contains(": 0 failed"), "{check}");
}

/// Runs `keysweep ARGS` with its stdout closed before it writes: it must exit quietly, not
/// panic (`keysweep ... | head -1`).
fn run_with_closed_stdout(dir: &TestDir, args: &[&str]) -> (i32, String) {
    let program = std::env::var_os("KEYSWEEP_TEST_PROGRAM")
        .map_or_else(|| env!("CARGO_BIN_EXE_keysweep").into(), std::path::PathBuf::from);
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keysweep");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    let status = child.wait().expect("wait");
    (status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(504);
    for i in 0..50 {
        dir.create(&format!("f{i}.env"), format!("KEY={}\n", fakes.key_id("AKIA", ACCOUNT)));
    }
    for args in [
        &["rules", "list"][..],
        &["rules", "list", "--format", "json"],
        &["rules", "check"],
        &["scan", "--no-progress", "."],
        &["scan", "--no-progress", "--format", "sarif", "."],
    ] {
        let (code, stderr) = run_with_closed_stdout(&dir, args);
        assert!(
            !stderr.contains("panicked"),
            "keysweep {args:?} panicked on a closed pipe:\n{stderr}"
        );
        assert!(code == 0 || code == 1, "keysweep {args:?} exited {code}:\n{stderr}");
    }
}

scantest!(hidden_files_in_ignored_files_out_git_dir_never_entered, |dir, cmd| {
    let mut fakes = Fakes::new(505);
    let keys: Vec<String> = (0..4).map(|_| fakes.key_id("AKIA", ACCOUNT)).collect();
    dir.create(".env", format!("KEY={}\n", keys[0]));
    dir.create(".gitignore", "build/\n");
    dir.create("build/out.env", format!("KEY={}\n", keys[1]));
    dir.create(".git/config", format!("KEY={}\n", keys[2]));
    dir.create("sub/.keysweepignore", "vendored.env\n");
    dir.create("sub/vendored.env", format!("KEY={}\n", keys[3]));
    let paths = |scan: &crate::util::Scan| -> Vec<String> {
        let mut p: Vec<String> = scan.findings.iter().map(|f| f.path.clone()).collect();
        p.sort();
        p
    };
    let scan = cmd.scan_json(["."]);
    assert_eq!(paths(&scan), [".env"], "{}", scan.out);
    assert_eq!((scan.findings[0].line, scan.findings[0].column), (1, 5));
    let all = TestCommand::new().current_dir(dir.path()).scan_json(["--no-ignore", "."]);
    assert_eq!(paths(&all), [".env", "build/out.env", "sub/vendored.env"], "{}", all.out);
});

scantest!(hostile_file_names_are_escaped_in_the_text_report, |dir, cmd| {
    let key = Fakes::new(506).key_id("AKIA", ACCOUNT);
    dir.create("evil\u{1b}[2J\nname\u{202e}.env", format!("KEY={key}\n"));
    let out = cmd.args(["scan", "--no-progress", "--color", "never", "."]).run();
    out.assert_code(1);
    assert!(!out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{202e}'), "{out}");
    assert!(out.stdout.contains("  evil\\u{1b}[2J\\nname\\u{202e}.env:1:5\n"), "{out}");
});

scantest!(bad_config_or_baseline_exits_2_naming_the_file, |dir, cmd| {
    let key = Fakes::new(507).key_id("AKIA", ACCOUNT);
    dir.create("a.env", format!("KEY={key}\n"));
    let elsewhere = TestDir::new();
    let not_toml = elsewhere.create("broken.toml", "[allowlist\npaths = 1\n");
    let unknown = elsewhere.create("unknown.toml", "[allowlist]\npathz = [\"x\"]\n");
    let not_report = elsewhere.create("baseline.json", "{\"hello\": 1}\n");
    let bad_glob = elsewhere.create("glob.toml", "[allowlist]\npaths = [\"a/[\"]\n");
    let missing = elsewhere.join("missing.toml");
    for (flag, file) in [
        ("--config", &not_toml),
        ("--config", &unknown),
        ("--config", &bad_glob),
        ("--config", &missing),
        ("--baseline", &not_report),
        ("--baseline", &missing),
    ] {
        let out = TestCommand::new()
            .current_dir(dir.path())
            .args(["scan", "--no-progress", flag])
            .arg(file)
            .arg(".")
            .run();
        out.assert_code(2);
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(out.stderr.contains(name), "{flag} {name}: {out}");
        assert!(out.stdout.is_empty(), "no report when the run cannot start: {out}");
    }
});

scantest!(findings_do_not_depend_on_the_thread_count, |dir, cmd| {
    let mut fakes = Fakes::new(508);
    for i in 0..40 {
        let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
        dir.create(
            &format!("d{}/f{i}.env", i % 7),
            format!("{}AWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n", "\n".repeat(i)),
        );
    }
    let one = cmd.scan_json(["-j", "1", "."]);
    let many = TestCommand::new().current_dir(dir.path()).scan_json(["-j", "8", "."]);
    assert_eq!(one.findings.len(), 40);
    assert_eq!(one.findings, many.findings, "same findings in the same order");
});

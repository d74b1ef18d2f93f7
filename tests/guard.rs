//! `keysweep guard` as a Claude Code PreToolUse hook: real-shaped payloads on stdin, the exit
//! code (0 allow, 2 block, 1 allow with a warning) and the message the model reads, which
//! names the rule, the place and the redacted secret but never the secret itself.

use serde_json::{Value, json};

use crate::util::{ACCOUNT, Fakes, Output, TestCommand, TestDir, position, redacted};

/// A PreToolUse payload as Claude Code sends it, for `tool` with `input`, run in `cwd`.
fn payload(cwd: &TestDir, tool: &str, input: Value) -> String {
    json!({
        "session_id": "9f1c2d3e-0000-4000-8000-000000000001",
        "transcript_path": "/home/dev/.claude/projects/proj/9f1c2d3e.jsonl",
        "cwd": cwd.path(),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": input,
    })
    .to_string()
}

/// Runs `keysweep guard` (plus `args`) with `stdin`.
fn guard(cmd: &mut TestCommand, args: &[&str], stdin: String) -> Output {
    cmd.arg("guard").args(args).stdin(stdin).run()
}

/// A blocked run: exit 2, nothing on stdout, a message naming `rule` and not holding any of
/// `secrets`.
fn assert_blocked<'a>(out: &'a Output, rule: &str, secrets: &[&str]) -> &'a str {
    out.assert_code(2);
    assert_eq!(out.stdout, "", "{out}");
    assert!(out.stderr.contains(rule), "rule {rule} not named: {out}");
    for secret in secrets {
        assert!(!out.stderr.contains(secret), "the secret leaked into the message: {out}");
    }
    assert!(out.stderr.contains("environment variable"), "{out}");
    assert!(out.stderr.contains("Never print, echo or log the secret"), "{out}");
    &out.stderr
}

fn assert_allowed(out: &Output) {
    out.assert_code(0);
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(out.stderr, "", "{out}");
}

fn aws_pair(seed: u64) -> (String, String) {
    let mut fakes = Fakes::new(seed);
    (fakes.key_id("AKIA", ACCOUNT), fakes.secret())
}

/// A classic GitHub token (`ghp_`) whose last 6 characters are base62(CRC32) of the 30 before.
fn github_pat(seed: u64) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut fakes = Fakes::new(seed);
    let random: String =
        (0..30).map(|_| BASE62[(fakes.next_u64() % 62) as usize] as char).collect();
    let mut crc = u64::from(crc32fast::hash(random.as_bytes()));
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    format!("{}{random}{}", concat!("gh", "p_"), String::from_utf8_lossy(&check))
}

scantest!(guard_write_aws_pair_in_python_blocks, |dir, cmd| {
    let (key, secret) = aws_pair(71);
    let content = format!(
        "import boto3\n\ns3 = boto3.client(\n    \"s3\",\n    aws_access_key_id=\"{key}\",\n    \
         aws_secret_access_key=\"{secret}\",\n)\n"
    );
    let path = dir.join("app/storage.py");
    let input = json!({"file_path": path, "content": content});
    let out = guard(&mut cmd, &[], payload(&dir, "Write", input));
    let message = assert_blocked(&out, "aws.access-key-id", &[&secret, &key]);
    let (line, column) = position(&content, &key);
    let (secret_line, _) = position(&content, &secret);
    assert!(message.starts_with("keysweep guard blocked Write"), "{out}");
    assert!(
        message.contains(&format!(
            "aws.access-key-id (AWS access key ID, critical) in app/storage.py, line {line}, \
             column {column}: {}, paired with its secret access key on line {secret_line}",
            redacted(&key)
        )),
        "{out}"
    );
    assert!(message.contains("os.environ[\"AWS_ACCESS_KEY_ID\"] in Python"), "{out}");
    assert!(message.contains("AWS_SECRET_ACCESS_KEY"), "{out}");
    assert!(message.contains("Secrets Manager"), "{out}");
});

scantest!(guard_edit_github_pat_blocks, |dir, cmd| {
    let token = github_pat(72);
    let new = format!("const client = new Octokit({{\n  auth: \"{token}\",\n}});\n");
    let input = json!({
        "file_path": dir.join("src/gh.ts"),
        "old_string": "const client = new Octokit();\n",
        "new_string": new,
        "replace_all": false,
    });
    let out = guard(&mut cmd, &[], payload(&dir, "Edit", input));
    let message = assert_blocked(&out, "github.pat-classic", &[&token]);
    assert!(message.contains("in the edit of src/gh.ts: new_string line 2, column 10"), "{out}");
    assert!(message.contains(&redacted(&token)), "{out}");
    assert!(message.contains("process.env.GITHUB_TOKEN in JavaScript"), "{out}");
});

scantest!(guard_multiedit_names_the_leaking_edit, |dir, cmd| {
    let token = github_pat(73);
    let input = json!({
        "file_path": dir.join("deploy.sh"),
        "edits": [
            {"old_string": "set -e", "new_string": "set -euo pipefail"},
            {"old_string": "TOKEN=", "new_string": format!("TOKEN={token}")},
        ],
    });
    let out = guard(&mut cmd, &[], payload(&dir, "MultiEdit", input));
    let message = assert_blocked(&out, "github.pat-classic", &[&token]);
    assert!(
        message.contains("in edit 2 of 2 to deploy.sh: edits[1].new_string line 1, column 7"),
        "{out}"
    );
    assert!(!message.contains("edits[0]"), "{out}");
});

scantest!(guard_bash_export_secret_blocks, |dir, cmd| {
    let (_, secret) = aws_pair(74);
    let command = format!("export AWS_SECRET_ACCESS_KEY={secret} && aws s3 ls");
    let input = json!({"command": command, "description": "List S3 buckets"});
    let out = guard(&mut cmd, &[], payload(&dir, "Bash", input));
    let message = assert_blocked(&out, "aws.secret-access-key", &[&secret]);
    assert!(message.starts_with("keysweep guard blocked Bash: this shell command holds"), "{out}");
    assert!(message.contains("in the shell command, line 1, column 30"), "{out}");
    assert!(message.contains("\"$AWS_SECRET_ACCESS_KEY\" in the shell"), "{out}");
});

scantest!(guard_clean_writes_are_allowed, |dir, cmd| {
    for content in [
        "def add(a, b):\n    return a + b\n".to_string(),
        "import os\n\nsecret = os.environ[\"AWS_SECRET_ACCESS_KEY\"]\n\
         key_id = os.environ[\"AWS_ACCESS_KEY_ID\"]\n"
            .to_string(),
        // The AWS documentation's example pair is not a credential.
        format!(
            "aws_access_key_id = {}\naws_secret_access_key = {}\n",
            concat!("AKIA", "IOSFODNN7EXAMPLE"),
            concat!("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY")
        ),
    ] {
        let input = json!({"file_path": dir.join("app.py"), "content": content});
        assert_allowed(&TestCommand::new().arg("guard").stdin(payload(&dir, "Write", input)).run());
    }
});

scantest!(guard_unknown_tools_are_allowed, |dir, cmd| {
    let (key, secret) = aws_pair(75);
    // Read has nothing to write, even when its input looks like a key.
    let input = json!({"file_path": format!("/tmp/{key}-{secret}")});
    assert_allowed(&guard(&mut cmd, &[], payload(&dir, "Read", input)));
    let input = json!({"query": "rust", "key": key});
    assert_allowed(
        &TestCommand::new().arg("guard").stdin(payload(&dir, "mcp__web__search", input)).run(),
    );
});

scantest!(guard_malformed_payload_is_allowed_with_a_warning, |dir, cmd| {
    for bad in [
        "{\"tool_name\": \"Write\", \"tool_input\": {\"file_path\": \"a.py\", \"con".to_string(),
        String::new(),
        json!({"tool_name": "Write", "tool_input": {"file_path": "a.py"}}).to_string(),
    ] {
        let out = TestCommand::new().arg("guard").stdin(bad).run();
        out.assert_code(1);
        assert_eq!(out.stdout, "", "{out}");
        assert!(out.stderr.starts_with("keysweep guard: the hook payload "), "{out}");
        assert!(out.stderr.contains("the tool call is allowed unchecked"), "{out}");
    }
});

scantest!(guard_inline_allow_marker_is_honoured, |dir, cmd| {
    let (key, secret) = aws_pair(76);
    let content = format!(
        "# test fixture, revoked\nKEY = \"{key}\"  # keysweep:allow\n\
         SECRET = \"{secret}\"  # keysweep:allow\n"
    );
    let input = json!({"file_path": dir.join("tests/fixture.py"), "content": content});
    assert_allowed(&guard(&mut cmd, &[], payload(&dir, "Write", input)));
});

scantest!(guard_repo_allowlist_is_honoured, |dir, cmd| {
    dir.create(".keysweep.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    let (key, secret) = aws_pair(77);
    let content = format!("id = {key}\nsecret = {secret}\n");
    let input = json!({"file_path": dir.join("fixtures/creds.ini"), "content": content});
    // Run from elsewhere: the config is found through the payload's cwd.
    let elsewhere = TestDir::new();
    cmd.current_dir(elsewhere.path());
    assert_allowed(&guard(&mut cmd, &[], payload(&dir, "Write", input)));
    let input = json!({"file_path": dir.join("src/creds.ini"), "content": content});
    let out = TestCommand::new()
        .current_dir(elsewhere.path())
        .arg("guard")
        .stdin(payload(&dir, "Write", input))
        .run();
    assert_blocked(&out, "aws.access-key-id", &[&secret]);
});

scantest!(guard_notebook_edit_blocks, |dir, cmd| {
    let (key, secret) = aws_pair(78);
    let source = format!("import boto3\nboto3.Session(\"{key}\", \"{secret}\")");
    let input = json!({
        "notebook_path": dir.join("analysis.ipynb"),
        "cell_id": "a1b2c3",
        "new_source": source,
        "cell_type": "code",
        "edit_mode": "replace",
    });
    let out = guard(&mut cmd, &[], payload(&dir, "NotebookEdit", input));
    let message = assert_blocked(&out, "aws.access-key-id", &[&secret, &key]);
    assert!(
        message.contains("in cell a1b2c3 of analysis.ipynb: new_source line 2, column 16"),
        "{out}"
    );
});

scantest!(guard_json_output_denies_on_stdout, |dir, cmd| {
    let (key, secret) = aws_pair(79);
    let input = json!({"file_path": dir.join(".env.production"), "content": format!("AWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n")});
    let out = guard(&mut cmd, &["--output-format", "json"], payload(&dir, "Write", input));
    out.assert_code(0);
    assert_eq!(out.stderr, "", "{out}");
    assert!(!out.stdout.contains(&secret) && !out.stdout.contains(&key), "{out}");
    let decision: Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    let specific = &decision["hookSpecificOutput"];
    assert_eq!(specific["hookEventName"], "PreToolUse");
    assert_eq!(specific["permissionDecision"], "deny");
    let reason = specific["permissionDecisionReason"].as_str().expect("a reason");
    assert!(
        reason.contains("aws.access-key-id")
            && reason.contains(".env.production, line 1, column 19"),
        "{out}"
    );
    // Clean content: no output at all, the call goes through the normal permission flow.
    let input = json!({"file_path": dir.join("a.py"), "content": "x = 1\n"});
    assert_allowed(
        &TestCommand::new()
            .args(["guard", "--output-format", "json"])
            .stdin(payload(&dir, "Write", input))
            .run(),
    );
});

scantest!(guard_base64_encoded_credentials_in_a_command_block, |dir, cmd| {
    use base64::Engine as _;
    let (key, secret) = aws_pair(80);
    let file = format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n");
    let encoded = base64::engine::general_purpose::STANDARD.encode(file);
    let command = format!("echo {encoded} | base64 -d > ~/.aws/credentials");
    let out = guard(&mut cmd, &[], payload(&dir, "Bash", json!({"command": command})));
    let message = assert_blocked(&out, "aws.access-key-id", &[&secret, &key, &encoded]);
    assert!(message.contains("in the shell command, line 1, column "), "{out}");
    assert!(message.contains("(base64-encoded), paired with its secret access key"), "{out}");
});

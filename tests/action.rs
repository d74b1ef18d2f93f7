//! The GitHub Action (`action.yml`, `scripts/action/`): its composite steps run in order by
//! `tests/action_harness.py` as the runner would, on a pull request whose clone is as shallow
//! as `actions/checkout` leaves it; and `action-validator` on the action and the example
//! workflow.
//!
//! The build step uses the binary under test (`KEYSWEEP_BIN`), and `uses:` steps
//! (actions/cache) are skipped; everything else is what a runner executes.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::{Value, json};
use sha2::Digest as _;

use crate::moto::Moto;
use crate::util::{ACCOUNT, Fakes, TestDir, git, position, redacted};

const AWS_RULE: &str = "aws.access-key-id";
const AWS_NAME: &str = "AWS access key ID";
const PAT_RULE: &str = "github.pat-classic";
const PAT_NAME: &str = "GitHub personal access token (classic)";

/// A repository on "GitHub" (a local `origin`) with pull request 7: `feature` onto `main`.
struct PullRequest {
    /// The remote.
    origin: PathBuf,
    /// `main` when the pull request was opened (`pull_request.base.sha`).
    base: String,
    /// `feature` (`pull_request.head.sha`).
    head: String,
    /// `refs/pull/7/merge`, which actions/checkout checks out.
    merge: String,
    /// The commit adding the AWS key pair, and the one adding the GitHub token.
    aws_commit: String,
    pat_commit: String,
    /// The AWS key id and secret the pull request adds, and where the key id is.
    key_id: String,
    secret: String,
    key_at: (usize, usize),
    /// The GitHub token the pull request adds, and where.
    pat: String,
    pat_at: (usize, usize),
}

fn rev(repo: &Path, spec: &str) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["rev-parse", spec])
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git rev-parse {spec}");
    String::from_utf8(out.stdout).expect("UTF-8").trim().to_string()
}

fn commit(repo: &Path, message: &str, day: u32) {
    let date = format!("2024-01-{day:02}T12:00:00Z");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", message, "--date", &date]);
}

/// `main`: a base commit that already holds an AWS key pair (not the pull request's: must not be
/// reported). `feature`: one commit adds an AWS key pair (`aws`, else a generated one), one a
/// GitHub token, one removes the base's key file. Then `main` moves on with a token of its own
/// (not the pull request's either), and GitHub's merge commit `refs/pull/7/merge` is made.
fn pull_request(dir: &TestDir, aws: Option<(String, String)>) -> PullRequest {
    let mut fakes = Fakes::new(0xac7);
    let origin = dir.join("origin");
    std::fs::create_dir_all(&origin).expect("mkdir origin");
    git(&origin, &["init", "-q", "-b", "main"]);
    // Older history than the range step's first deepening (64 commits) reaches, so the clone
    // stays shallow and the test sees that it was deepened, not unshallowed.
    for n in 0..80 {
        git(&origin, &["commit", "-q", "--allow-empty", "-m", &format!("old {n}")]);
    }
    let (base_key, base_secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    dir.create(
        "origin/config/base.env",
        format!("AWS_ACCESS_KEY_ID={base_key}\nAWS_SECRET_ACCESS_KEY={base_secret}\n"),
    );
    dir.create("origin/README.md", "# service\n");
    commit(&origin, "A: service with its key", 1);

    git(&origin, &["checkout", "-q", "-b", "feature"]);
    let (key_id, secret) = aws.unwrap_or_else(|| (fakes.key_id("AKIA", ACCOUNT), fakes.secret()));
    let aws_env = format!(
        "# deploy credentials\nAWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n"
    );
    dir.create("origin/deploy/aws.env", &aws_env);
    commit(&origin, "C: deploy with AWS", 2);
    let aws_commit = rev(&origin, "HEAD");
    let pat = fakes.github_pat();
    let settings = format!("DEBUG = False\n\nGITHUB_TOKEN = \"{pat}\"\n");
    dir.create("origin/src/settings.py", &settings);
    commit(&origin, "D: settings", 3);
    let pat_commit = rev(&origin, "HEAD");
    git(&origin, &["rm", "-q", "config/base.env"]);
    commit(&origin, "E: remove the old key file", 4);
    let head = rev(&origin, "HEAD");

    git(&origin, &["checkout", "-q", "main"]);
    dir.create("origin/docs/notes.md", format!("token for the wiki: {}\n", fakes.github_pat()));
    commit(&origin, "B: notes on main", 5);
    let base = rev(&origin, "HEAD");
    git(&origin, &["checkout", "-q", "--detach"]);
    git(&origin, &["merge", "-q", "--no-edit", "feature"]);
    let merge = rev(&origin, "HEAD");
    git(&origin, &["update-ref", "refs/pull/7/merge", &merge]);
    git(&origin, &["checkout", "-q", "main"]);

    PullRequest {
        origin,
        base,
        head,
        merge,
        aws_commit,
        pat_commit,
        key_at: position(&aws_env, &key_id),
        key_id,
        secret,
        pat_at: position(&settings, &pat),
        pat,
    }
}

/// A clone as actions/checkout makes one for a pull request: only the merge commit, depth 1.
fn checkout(dir: &TestDir, pr: &PullRequest, name: &str) -> PathBuf {
    checkout_commit(dir, pr, &pr.merge, "refs/remotes/pull/7/merge", name)
}

/// A clone as actions/checkout makes one (default `fetch-depth: 1`): `commit` fetched alone
/// into `tracking`, and checked out.
fn checkout_commit(
    dir: &TestDir,
    pr: &PullRequest,
    commit: &str,
    tracking: &str,
    name: &str,
) -> PathBuf {
    let workspace = dir.join(name);
    std::fs::create_dir_all(&workspace).expect("mkdir workspace");
    let url = format!("file://{}", pr.origin.display());
    let refspec = format!("+{commit}:{tracking}");
    git(&workspace, &["init", "-q"]);
    git(&workspace, &["remote", "add", "origin", &url]);
    git(&workspace, &["fetch", "-q", "--no-tags", "--depth=1", "origin", &refspec]);
    git(&workspace, &["checkout", "-q", "--detach", commit]);
    workspace
}

/// The `pull_request` payload GitHub sends (the fields the action and a reader rely on).
fn pull_request_event(pr: &PullRequest) -> Value {
    json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "state": "open",
            "title": "Deploy with AWS",
            "base": {"ref": "main", "sha": pr.base, "repo": {"full_name": "acme/service"}},
            "head": {"ref": "feature", "sha": pr.head, "repo": {"full_name": "acme/service"}},
            "merge_commit_sha": pr.merge,
        },
        "repository": {"full_name": "acme/service", "default_branch": "main"},
        "sender": {"login": "ann"},
    })
}

/// One run of the action through the harness.
struct Run {
    /// The harness's exit code (0 success, 1 a step failed).
    code: i32,
    /// The harness's result document.
    result: Value,
    /// The harness's stderr, for failure messages.
    stderr: String,
}

impl Run {
    fn step(&self, id: &str) -> &Value {
        self.result["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no step {id} in {:#}", self.result))
    }

    fn file(&self, id: &str, kind: &str) -> String {
        let path = self.step(id)[kind].as_str().unwrap_or_else(|| panic!("{id} has no {kind}"));
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
    }

    /// Every step's stdout and stderr, for failure messages.
    fn logs(&self) -> String {
        let mut text = format!("harness stderr:\n{}\n", self.stderr);
        for step in self.result["steps"].as_array().into_iter().flatten() {
            for kind in ["stdout", "stderr"] {
                if let Some(path) = step[kind].as_str() {
                    let log = std::fs::read_to_string(path).unwrap_or_default();
                    text.push_str(&format!("--- {} {kind} ---\n{log}\n", step["id"]));
                }
            }
        }
        text
    }
}

fn keysweep_bin() -> PathBuf {
    std::env::var_os("KEYSWEEP_TEST_PROGRAM")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_keysweep")), PathBuf::from)
}

/// A `push` payload for `ref` from `before` to `after`.
fn push_event(git_ref: &str, before: &str, after: &str) -> Value {
    json!({
        "ref": git_ref,
        "before": before,
        "after": after,
        "created": before.bytes().all(|b| b == b'0'),
        "deleted": false,
        "forced": false,
        "head_commit": {"id": after},
        "repository": {"full_name": "acme/service", "default_branch": "main"},
        "pusher": {"name": "ann"},
    })
}

/// Runs the action on `workspace` for a `pull_request` event, with a fresh runner temp
/// directory `temp`.
fn run_action(dir: &TestDir, workspace: &Path, event: &Value, temp: &str, inputs: &[&str]) -> Run {
    run_action_on(dir, workspace, "pull_request", event, temp, inputs)
}

/// Runs the action on `workspace` for an event named `event_name`.
fn run_action_on(
    dir: &TestDir,
    workspace: &Path,
    event_name: &str,
    event: &Value,
    temp: &str,
    inputs: &[&str],
) -> Run {
    let runner_temp = dir.join(temp);
    std::fs::create_dir_all(&runner_temp).expect("mkdir runner temp");
    let event_path = runner_temp.join("event.json");
    std::fs::write(&event_path, event.to_string()).expect("write event");
    let result_path = runner_temp.join("result.json");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new("python3");
    command
        .arg(manifest.join("tests/action_harness.py"))
        .arg(manifest)
        .arg(&result_path)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_REPOSITORY", "acme/service")
        .env("GITHUB_ACTION_REPOSITORY", "")
        .env("GITHUB_SHA", rev(workspace, "HEAD"))
        .env("GITHUB_REF", event["ref"].as_str().unwrap_or("refs/pull/7/merge"))
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("RUNNER_TEMP", &runner_temp)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("KEYSWEEP_BIN", keysweep_bin())
        // A first fetch of one commit, so that the range step has to deepen the clone.
        .env("KEYSWEEP_FETCH_DEPTH", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("KEYSWEEP_LOG");
    for input in inputs {
        command.args(["--input", input]);
    }
    let out = command.output().expect("python3 runs the harness");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "the harness could not run the action ({code}):\n{stderr}");
    let result = std::fs::read_to_string(&result_path).expect("the harness wrote its result");
    Run { code, result: serde_json::from_str(&result).expect("result JSON"), stderr }
}

/// Validates a SARIF file against the official schema.
fn validate_sarif(path: &Path) {
    crate::report::validate_with_jsonschema(&crate::report::sarif_schema(), path);
}

/// The runner's job status for this run, and the action's outputs.
fn assert_outcome(run: &Run, status: &str, findings: &str, sarif: &str) {
    assert_eq!(run.result["status"], status, "{}", run.logs());
    assert_eq!(run.code, if status == "success" { 0 } else { 1 }, "{}", run.logs());
    assert_eq!(
        run.result["outputs"],
        json!({"findings": findings, "live": "0", "sarif-file": sarif}),
        "{}",
        run.logs()
    );
}

#[test]
fn pull_request_scans_only_its_commits() {
    let dir = TestDir::new();
    let pr = pull_request(&dir, None);
    let workspace = checkout(&dir, &pr, "ws-any");
    let event = pull_request_event(&pr);
    let run = run_action(&dir, &workspace, &event, "temp-any", &["fail-on=any"]);
    let sarif_path = dir.join("temp-any/keysweep/keysweep.sarif");
    let sarif_file = sarif_path.display().to_string();

    // Every run step ran, in order; the cache step is the one skipped `uses:`.
    let steps: Vec<(Value, bool)> = run.result["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["id"].clone(), s["skipped"].as_bool().expect("skipped")))
        .collect();
    assert_eq!(
        steps,
        [
            (json!("cache-key"), false),
            (Value::Null, true),
            (json!("install"), false),
            (json!("range"), false),
            (json!("scan"), false),
            (Value::Null, false),
        ],
        "{}",
        run.logs()
    );
    assert_eq!(run.result["steps"][1]["uses"], "actions/cache@v4");
    let lock = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .expect("Cargo.lock");
    let lock_hash: String =
        sha2::Sha256::digest(&lock).iter().map(|b| format!("{b:02x}")).collect();
    let target_dir = dir.join("temp-any/keysweep-target").display().to_string();
    assert_eq!(
        run.result["steps"][1]["with"],
        json!({
            "path": format!(
                "~/.cargo/registry/index\n~/.cargo/registry/cache\n~/.cargo/git/db\n{target_dir}\n"
            ),
            "key": format!("keysweep-Linux-X64-{lock_hash}"),
        })
    );

    // The range: exactly the pull request's commits, after fetching base and head into the
    // depth-1 clone and deepening it to their merge base.
    assert_eq!(run.file("range", "output"), format!("mode=pr\nrange={}..{}\n", pr.base, pr.head));
    assert_eq!(rev(&workspace, "--is-shallow-repository"), "true", "{}", run.logs());
    assert_eq!(rev(&workspace, &format!("{}^{{commit}}", pr.base)), pr.base);

    // Outputs: two secrets, none live; the job fails (fail-on: any).
    assert_eq!(
        run.file("scan", "output"),
        format!("findings=2\nlive=0\nsarif-file={sarif_file}\n"),
        "{}",
        run.logs()
    );
    assert_outcome(&run, "failure", "2", &sarif_file);
    let last = &run.result["steps"][5];
    assert_eq!(last["exit_code"], 1);
    let gate = std::fs::read_to_string(last["stdout"].as_str().expect("stdout")).expect("log");
    assert_eq!(gate, "::error title=keysweep::2 secret(s) found (fail-on: any)\n");

    // SARIF: schema-valid, and exactly the pull request's two secrets.
    validate_sarif(&sarif_path);
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).expect("SARIF")).expect("JSON");
    let results: Vec<(String, String, u64, String)> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().expect("ruleId").to_string(),
                location["artifactLocation"]["uri"].as_str().expect("uri").to_string(),
                location["region"]["startLine"].as_u64().expect("startLine"),
                r["properties"]["commit"].as_str().expect("commit").to_string(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            (AWS_RULE.into(), "deploy/aws.env".into(), pr.key_at.0 as u64, pr.aws_commit.clone()),
            (PAT_RULE.into(), "src/settings.py".into(), pr.pat_at.0 as u64, pr.pat_commit.clone()),
        ]
    );

    // The fingerprints, from the JSON report the outputs were counted from.
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("temp-any/keysweep/keysweep.json")).expect("JSON"),
    )
    .expect("JSON report");
    let fingerprint = |i: usize| report["findings"][i]["fingerprint"].as_str().expect("fp");
    let (aws_fp, pat_fp) = (fingerprint(0), fingerprint(1));
    let short = |id: &str| id[..12].to_string();

    // The step summary's table.
    let summary = run.file("scan", "summary");
    let rows: Vec<&str> = summary.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(
        rows,
        [
            "| Rule | Severity | Location | Commit | Secret | Verification |".to_string(),
            "| --- | --- | --- | --- | --- | --- |".to_string(),
            format!(
                "| {AWS_NAME} `{AWS_RULE}` | critical | `deploy/aws.env:{}` | `{}` | `{}` + \
                 secret key `{}` | not verified |",
                pr.key_at.0,
                short(&pr.aws_commit),
                redacted(&pr.key_id),
                redacted(&pr.secret)
            ),
            format!(
                "| {PAT_NAME} `{PAT_RULE}` | critical | `src/settings.py:{}` | `{}` | `{}` | \
                 not verified |",
                pr.pat_at.0,
                short(&pr.pat_commit),
                redacted(&pr.pat)
            ),
        ],
        "{summary}"
    );
    assert!(summary.starts_with("### keysweep: 2 secrets in 2 locations\n"), "{summary}");

    // One annotation per location, redacted, properties escaped (`:` in the title is `%3A`
    // only where it occurs; these titles have none, the parentheses stay).
    let log = run.file("scan", "stdout");
    let annotations: Vec<&str> = log.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        annotations,
        [
            format!(
                "::error file=deploy/aws.env,line={},col={},endLine={},endColumn={},\
                 title={AWS_NAME} ({AWS_RULE})::{AWS_NAME} {} paired with secret access key {} \
                 (critical) in commit {}; not verified; fingerprint {aws_fp}",
                pr.key_at.0,
                pr.key_at.1,
                pr.key_at.0,
                pr.key_at.1 + pr.key_id.len(),
                redacted(&pr.key_id),
                redacted(&pr.secret),
                short(&pr.aws_commit)
            ),
            format!(
                "::error file=src/settings.py,line={},col={},endLine={},endColumn={},\
                 title={PAT_NAME} ({PAT_RULE})::{PAT_NAME} {} (critical) in commit {}; \
                 not verified; fingerprint {pat_fp}",
                pr.pat_at.0,
                pr.pat_at.1,
                pr.pat_at.0,
                pr.pat_at.1 + pr.pat.len(),
                redacted(&pr.pat),
                short(&pr.pat_commit)
            ),
        ],
        "{log}"
    );

    // No output holds a secret in full.
    for text in [&summary, &log, &std::fs::read_to_string(&sarif_path).expect("SARIF")] {
        for secret in [&pr.key_id, &pr.secret, &pr.pat] {
            assert!(!text.contains(secret.as_str()), "a secret in full:\n{text}");
        }
    }
}

/// The range step's warning for `fail-on: live` without `verify: true`.
const LIVE_WITHOUT_VERIFY: &str =
    "::warning title=keysweep::fail-on: live without verify: true never fails: no key is verified";

#[test]
fn fail_on_decides_the_job() {
    let dir = TestDir::new();
    let pr = pull_request(&dir, None);
    let event = pull_request_event(&pr);
    for (fail_on, status) in [("none", "success"), ("live", "success"), ("any", "failure")] {
        let workspace = checkout(&dir, &pr, &format!("ws-{fail_on}"));
        let temp = format!("temp-{fail_on}");
        let run = run_action(&dir, &workspace, &event, &temp, &[&format!("fail-on={fail_on}")]);
        let sarif = dir.join(&temp).join("keysweep/keysweep.sarif").display().to_string();
        assert_outcome(&run, status, "2", &sarif);
        let warned = run.file("range", "stdout").lines().next() == Some(LIVE_WITHOUT_VERIFY);
        assert_eq!(warned, fail_on == "live", "{}", run.logs());
    }
    // A bad choice fails before the scan.
    let workspace = checkout(&dir, &pr, "ws-bad");
    let run = run_action(&dir, &workspace, &event, "temp-bad", &["fail-on=sometimes"]);
    assert_eq!(run.result["status"], "failure");
    assert_eq!(run.step("range")["exit_code"], 1);
    assert_eq!(
        run.file("range", "stdout"),
        "::error title=keysweep::fail-on must be one of: any live none; not 'sometimes'\n"
    );
    assert_eq!(run.step("scan")["skipped"], true);
}

#[test]
fn sarif_file_input_and_a_clean_pull_request() {
    let dir = TestDir::new();
    let pr = pull_request(&dir, None);
    // A pull request whose head is its base: nothing to report, every input read.
    let mut event = pull_request_event(&pr);
    event["pull_request"]["head"]["sha"] = json!(pr.base);
    let workspace = checkout(&dir, &pr, "ws");
    let run = run_action(&dir, &workspace, &event, "temp", &["sarif-file=out/keysweep.sarif"]);
    let sarif = workspace.join("out/keysweep.sarif");
    assert_outcome(&run, "success", "0", &sarif.display().to_string());
    validate_sarif(&sarif);
    assert_eq!(
        run.file("scan", "summary").lines().next(),
        Some("### keysweep: no secrets found"),
        "{}",
        run.logs()
    );
    assert_eq!(run.file("scan", "stdout").lines().filter(|l| l.starts_with("::")).count(), 0);
}

/// `action-validator`: `$ACTION_VALIDATOR`, else on PATH, else cargo's bin directory (where
/// scripts/test.sh installs it).
fn action_validator() -> PathBuf {
    if let Some(path) = std::env::var_os("ACTION_VALIDATOR") {
        return PathBuf::from(path);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(cargo_home.map(|home| home.join("bin")));
    for dir in candidates {
        let candidate = dir.join("action-validator");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "action-validator is not installed: scripts/test.sh installs it (or set ACTION_VALIDATOR)"
    )
}

#[test]
fn action_and_example_workflow_pass_action_validator() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["action.yml", "examples/github-workflow.yml"] {
        let out = Command::new(action_validator())
            .current_dir(manifest)
            .arg(file)
            .output()
            .expect("action-validator runs");
        assert!(
            out.status.success(),
            "action-validator {file}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn readme_shows_the_example_workflow() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example =
        std::fs::read_to_string(manifest.join("examples/github-workflow.yml")).expect("example");
    let readme = std::fs::read_to_string(manifest.join("README.md")).expect("README");
    assert!(readme.contains(&format!("```yaml\n{example}```\n")), "README lacks the example");
}

#[test]
fn push_scans_the_pushed_commits_and_a_new_branch_what_main_lacks() {
    let dir = TestDir::new();
    let pr = pull_request(&dir, None);
    let rules = |run: &Run| -> Vec<String> {
        let sarif = run.result["outputs"]["sarif-file"].as_str().expect("sarif-file").to_string();
        let sarif: Value =
            serde_json::from_str(&std::fs::read_to_string(sarif).expect("SARIF")).expect("JSON");
        sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["ruleId"].as_str().expect("ruleId").to_string())
            .collect()
    };

    // A push of two commits onto `feature` (the token, then the removal): only the token.
    let tracking = "refs/remotes/origin/feature";
    let workspace = checkout_commit(&dir, &pr, &pr.head, tracking, "ws-push");
    let event = push_event("refs/heads/feature", &pr.aws_commit, &pr.head);
    let run = run_action_on(&dir, &workspace, "push", &event, "temp-push", &["fail-on=none"]);
    assert_eq!(
        run.file("range", "output"),
        format!("mode=push\nrange={}..{}\n", pr.aws_commit, pr.head),
        "{}",
        run.logs()
    );
    assert_eq!(run.result["outputs"]["findings"], "1", "{}", run.logs());
    assert_eq!(rules(&run), [PAT_RULE]);

    // The first push of the new branch: the commits `main` lacks, not main's own secrets.
    let workspace = checkout_commit(&dir, &pr, &pr.head, tracking, "ws-new");
    let zero = "0".repeat(40);
    let event = push_event("refs/heads/feature", &zero, &pr.head);
    let run = run_action_on(&dir, &workspace, "push", &event, "temp-new", &["fail-on=none"]);
    assert_eq!(
        run.file("range", "output"),
        format!("mode=push\nrange=refs/remotes/origin/main..{}\n", pr.head),
        "{}",
        run.logs()
    );
    assert_eq!(run.result["outputs"]["findings"], "2", "{}", run.logs());
    assert_eq!(rules(&run), [AWS_RULE, PAT_RULE]);

    // The first push of the default branch itself: the whole history, unshallowed (main's
    // two secrets; the pull request is not on main).
    let workspace = checkout_commit(&dir, &pr, &pr.base, "refs/remotes/origin/main", "ws-main");
    let event = push_event("refs/heads/main", &zero, &pr.base);
    let run = run_action_on(&dir, &workspace, "push", &event, "temp-main", &["fail-on=none"]);
    assert_eq!(run.file("range", "output"), "mode=push\nrange=\n", "{}", run.logs());
    assert_eq!(rev(&workspace, "--is-shallow-repository"), "false");
    assert_eq!(run.result["outputs"]["findings"], "2", "{}", run.logs());
    assert_eq!(rules(&run), [AWS_RULE, PAT_RULE]);
}

#[test]
fn fail_on_live_fails_for_a_key_sts_says_is_live() {
    let moto = Moto::start(3);
    let world_dir = TestDir::new();
    let reader = moto.populate(world_dir.path()).user("reader");
    let dir = TestDir::new();
    let pr = pull_request(&dir, Some((reader.key_id.clone(), reader.secret.clone())));
    let event = pull_request_event(&pr);
    let args = format!("args=--sts-endpoint {}", moto.endpoint());
    let inputs = ["verify=true", "fail-on=live", args.as_str()];
    let workspace = checkout(&dir, &pr, "ws");
    let run = run_action(&dir, &workspace, &event, "temp", &inputs);
    let sarif = dir.join("temp/keysweep/keysweep.sarif").display().to_string();

    assert_eq!(run.result["status"], "failure", "{}\nmoto:\n{}", run.logs(), moto.log());
    assert_eq!(
        run.result["outputs"],
        json!({"findings": "2", "live": "1", "sarif-file": sarif}),
        "{}",
        run.logs()
    );
    let gate = std::fs::read_to_string(run.result["steps"][5]["stdout"].as_str().expect("log"))
        .expect("log");
    assert_eq!(gate, "::error title=keysweep::1 live key(s) found (fail-on: live)\n");
    let summary = run.file("scan", "summary");
    let verification: Vec<&str> = summary
        .lines()
        .skip_while(|l| !l.starts_with("| ---"))
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_end_matches(" |").rsplit(" | ").next().expect("last cell"))
        .collect();
    let live = format!("live as {}", reader.arn);
    assert_eq!(verification, [live.as_str(), "not verified"], "{summary}");
}

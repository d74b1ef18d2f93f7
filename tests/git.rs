//! `keysweep git`: real repositories built with the `git` CLI in temporary directories (fixed
//! identities, `init.defaultBranch=main`, one deterministic date per commit), scanned by the built
//! binary, with exact facts asserted: rule, path, line, column, commit id (from `git rev-parse`),
//! author, blob id, `present_at_head`, `introduced`, exit code.
//!
//! Every key id is a generated fake assembled at run time ([`key`]); none is a real credential.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_keysweep");
const RULE: &str = "aws.access-key-id";

/// Who made a commit: (name, email).
type Who = (&'static str, &'static str);
const ANN: Who = ("Ann Author", "ann@example.invalid");
const BOB: Who = ("Bob Builder", "bob@example.invalid");

/// The `n`th fake AWS access key id: `AKIA` and 16 characters of the key-id alphabet, made by a
/// xorshift generator so that every test has its own distinct keys.
fn key(n: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut x = n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut id = format!("{}{}", "AK", "IA");
    for _ in 0..16 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        id.push(char::from(ALPHABET[(x >> 32) as usize % ALPHABET.len()]));
    }
    id
}

/// Deterministic filler text: `lines` lines of pseudo-random base32 words, no key-like token.
fn filler(seed: u64, lines: usize) -> String {
    let mut x = seed.wrapping_add(7).wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut out = String::new();
    for _ in 0..lines {
        for word in 0..8 {
            if word > 0 {
                out.push(' ');
            }
            for _ in 0..7 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                out.push(char::from(b"abcdefghijklmnopqrstuvwxyz234567"[(x >> 40) as usize % 32]));
            }
        }
        out.push('\n');
    }
    out
}

/// A `git` command that ignores the machine's and the user's git configuration.
fn git_command(cwd: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(cwd)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_EDITOR", ":")
        .env("GIT_MERGE_AUTOEDIT", "no")
        .env("TZ", "UTC")
        .env("LC_ALL", "C");
    for var in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"] {
        command.env_remove(var);
    }
    command
}

fn run_ok(mut command: Command) -> String {
    let output = command.output().expect("git runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim_end().to_string()
}

/// A temporary repository. Every commit, tag and stash gets the next date (one minute apart,
/// from 2023-11-14T22:13:20Z), so ids are the same on every run.
struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: Cell<i64>,
}

impl Repo {
    fn new() -> Repo {
        Repo::init(&[])
    }

    fn init(extra: &[&str]) -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("repo");
        fs::create_dir(&path).expect("mkdir");
        let repo = Repo { _dir: dir, path, clock: Cell::new(1_700_000_000) };
        repo.git(
            &["-c", "init.defaultBranch=main", "init", "-q"]
                .iter()
                .chain(extra)
                .copied()
                .collect::<Vec<_>>(),
        );
        repo.git(&["config", "user.name", ANN.0]);
        repo.git(&["config", "user.email", ANN.1]);
        repo.git(&["config", "gc.auto", "0"]);
        repo
    }

    /// Wraps an existing directory (a clone) made inside `dir`.
    fn adopt(dir: tempfile::TempDir, path: PathBuf) -> Repo {
        Repo { _dir: dir, path, clock: Cell::new(1_800_000_000) }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = git_command(&self.path);
        let date = format!("@{} +0000", self.clock.get());
        command.args(args).env("GIT_AUTHOR_DATE", &date).env("GIT_COMMITTER_DATE", &date);
        command
    }

    fn git(&self, args: &[&str]) -> String {
        run_ok(self.command(args))
    }

    fn tick(&self) {
        self.clock.set(self.clock.get() + 60);
    }

    fn write(&self, path: &str, content: &str) {
        let full = self.path.join(path);
        fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        fs::write(full, content).expect("write");
    }

    /// `git add -A` and commit as Ann; returns the commit id.
    fn commit(&self, message: &str) -> String {
        self.commit_as(ANN, message)
    }

    fn commit_as(&self, who: Who, message: &str) -> String {
        self.git(&["add", "-A"]);
        let mut command = self.command(&["commit", "-q", "--allow-empty", "-m", message]);
        command.env("GIT_AUTHOR_NAME", who.0).env("GIT_AUTHOR_EMAIL", who.1);
        run_ok(command);
        self.tick();
        self.rev("HEAD")
    }

    fn rev(&self, spec: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", spec])
    }

    /// The blob id of `path` in `rev`.
    fn blob(&self, rev: &str, path: &str) -> String {
        self.rev(&format!("{rev}:{path}"))
    }

    /// The author date of a commit, or the tagger date of a tag object, RFC 3339 in UTC.
    fn date(&self, id: &str) -> String {
        const FORMAT: &str = "format-local:%Y-%m-%dT%H:%M:%SZ";
        if self.git(&["cat-file", "-t", id]) == "tag" {
            let refs = self.git(&[
                "for-each-ref",
                &format!("--format=%(objectname) %(taggerdate:{FORMAT})"),
                "refs/tags",
            ]);
            return refs
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{id} ")).map(str::to_string))
                .expect("the tag object is a tag ref's target");
        }
        self.git(&["show", "-s", "--format=%ad", &format!("--date={FORMAT}"), id])
    }

    fn scan(&self, extra: &[&str]) -> Scan {
        scan(&self.path, extra)
    }
}

/// One run of `keysweep git REPO ... -f json --show-secrets`.
struct Scan {
    code: i32,
    json: Value,
    stderr: String,
}

fn scan(repo: &Path, extra: &[&str]) -> Scan {
    let cwd = repo.parent().expect("repo has a parent");
    let output: Output = Command::new(BIN)
        .current_dir(cwd)
        .arg("git")
        .arg(repo)
        .args(extra)
        .args(["-f", "json", "--show-secrets", "--no-progress", "--color", "never"])
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("keysweep runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    assert!(!stderr.contains("panicked"), "keysweep panicked:\n{stderr}");
    Scan { code: output.status.code().expect("exit code"), json, stderr }
}

impl Scan {
    fn expect_code(&self, code: i32) -> &Scan {
        assert_eq!(
            self.code, code,
            "exit code; stderr:\n{}\nreport:\n{:#}",
            self.stderr, self.json
        );
        self
    }

    fn findings(&self) -> &Vec<Value> {
        self.json["findings"].as_array().expect("findings array")
    }

    /// The distinct secrets found.
    fn secrets(&self) -> BTreeSet<String> {
        self.findings().iter().map(|f| f["secret"].as_str().expect("secret").to_string()).collect()
    }

    /// The one finding of `secret` (asserting that there is exactly one, of the key-id rule).
    fn finding(&self, secret: &str) -> &Value {
        let found: Vec<&Value> = self.findings().iter().filter(|f| f["secret"] == secret).collect();
        assert_eq!(found.len(), 1, "findings of {secret}: {:#}", self.json);
        assert_eq!(found[0]["rule"], RULE);
        found[0]
    }

    fn blobs_scanned(&self) -> u64 {
        self.json["stats"]["blobs_scanned"].as_u64().expect("blobs_scanned")
    }

    fn errors(&self) -> &Vec<Value> {
        self.json["errors"].as_array().expect("errors array")
    }

    /// The findings, with the timing removed, for comparing two scans.
    fn comparable(&self) -> Value {
        let mut json = self.json.clone();
        json["stats"]["elapsed_ms"] = Value::Null;
        json
    }
}

const PLACE_KEYS: [&str; 10] =
    ["source", "path", "commit", "author", "email", "date", "blob", "line", "column", "end_column"];

/// A finding's locations reduced to what the tests check, sorted.
fn places(finding: &Value) -> Vec<Value> {
    let mut places: Vec<Value> = finding["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| {
            let map = PLACE_KEYS
                .iter()
                .filter(|k| !l[**k].is_null())
                .map(|k| ((*k).to_string(), l[*k].clone()))
                .collect();
            Value::Object(map)
        })
        .collect();
    places.sort_by_key(Value::to_string);
    places
}

fn sorted(mut places: Vec<Value>) -> Vec<Value> {
    places.sort_by_key(Value::to_string);
    places
}

/// The expected location of a key id in a blob of history.
fn at_blob(repo: &Repo, commit: &str, path: &str, who: Who, line: u64, column: u64) -> Value {
    json!({
        "source": "git",
        "path": path,
        "commit": commit,
        "author": who.0,
        "email": who.1,
        "date": repo.date(commit),
        "blob": repo.blob(commit, path),
        "line": line,
        "column": column,
        "end_column": column + 20,
    })
}

fn introduced(repo: &Repo, commit: &str, path: &str, who: Who) -> Value {
    json!({
        "commit": commit,
        "path": path,
        "author": who.0,
        "email": who.1,
        "date": repo.date(commit),
    })
}

fn set<const N: usize>(items: [&String; N]) -> BTreeSet<String> {
    items.into_iter().cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

#[test]
fn key_added_then_deleted_is_found_where_it_was_added() {
    let repo = Repo::new();
    let k = key(1);
    repo.write("README.md", "# app\n");
    repo.commit("init");
    repo.write("config/app.env", &format!("# app settings\nregion=us-east-1\naws_key = {k}\n"));
    let added = repo.commit_as(BOB, "add config");
    fs::remove_file(repo.path.join("config/app.env")).expect("rm");
    repo.commit("remove config");

    let s = repo.scan(&[]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
    let f = s.finding(&k);
    assert_eq!(f["present_at_head"], false);
    assert_eq!(f["introduced"], introduced(&repo, &added, "config/app.env", BOB));
    assert_eq!(places(f), vec![at_blob(&repo, &added, "config/app.env", BOB, 3, 11)]);
    assert!(s.errors().is_empty(), "{:#}", s.json);
}

#[test]
fn key_still_at_head_is_present_at_head() {
    let repo = Repo::new();
    let k = key(2);
    repo.write("k.txt", &format!("{k}\n"));
    let c = repo.commit("add");
    repo.write("other.txt", "x\n");
    repo.commit("more");
    let s = repo.scan(&[]);
    s.expect_code(1);
    let f = s.finding(&k);
    assert_eq!(f["present_at_head"], true);
    assert_eq!(places(f), vec![at_blob(&repo, &c, "k.txt", ANN, 1, 1)]);
}

#[test]
fn key_only_on_a_non_default_branch() {
    let repo = Repo::new();
    let k = key(3);
    repo.write("main.txt", "main\n");
    repo.commit("init");
    repo.git(&["checkout", "-q", "-b", "feature/creds"]);
    repo.write("deploy/creds.ini", &format!("[default]\n\n  key={k}\n"));
    let on_branch = repo.commit_as(BOB, "wip creds");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", "main 2\n");
    repo.commit("main moves on");

    let s = repo.scan(&[]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
    let f = s.finding(&k);
    assert_eq!(f["present_at_head"], false, "HEAD is main, which never had the key");
    assert_eq!(places(f), vec![at_blob(&repo, &on_branch, "deploy/creds.ini", BOB, 3, 7)]);
}

#[test]
fn key_only_in_a_lightweight_tag_on_an_unreachable_commit() {
    let repo = Repo::new();
    let k = key(4);
    repo.write("a.txt", "a\n");
    repo.commit("init");
    repo.git(&["checkout", "-q", "-b", "tmp"]);
    repo.write("leak.txt", &format!("one\ntwo {k}\n"));
    let tagged = repo.commit("to be tagged");
    repo.git(&["tag", "leak-tag"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "tmp"]);
    assert_eq!(repo.git(&["branch", "--contains", &tagged]), "", "no branch reaches the commit");

    let s = repo.scan(&[]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
    let f = s.finding(&k);
    assert_eq!(f["present_at_head"], false);
    assert_eq!(places(f), vec![at_blob(&repo, &tagged, "leak.txt", ANN, 2, 5)]);
}

#[test]
fn key_in_an_annotated_tag_message() {
    let repo = Repo::new();
    let k = key(5);
    repo.write("a.txt", "a\n");
    repo.commit("init");
    let mut tag = repo.command(&[
        "tag",
        "-a",
        "v1.0",
        "-m",
        "release 1.0",
        "-m",
        &format!("deploy with {k}"),
    ]);
    tag.env("GIT_COMMITTER_NAME", "Tess Tagger").env("GIT_COMMITTER_EMAIL", "tess@example.invalid");
    run_ok(tag);
    let tag_id = repo.rev("refs/tags/v1.0");
    assert_eq!(repo.git(&["cat-file", "-t", &tag_id]), "tag");

    let s = repo.scan(&[]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
    let f = s.finding(&k);
    assert_eq!(
        places(f),
        vec![json!({
            "source": "git-tag-message",
            "path": "tag v1.0 message",
            "commit": tag_id,
            "author": "Tess Tagger",
            "email": "tess@example.invalid",
            "date": repo.date(&tag_id),
            "line": 3,
            "column": 13,
            "end_column": 33,
        })]
    );
}

#[test]
fn key_only_in_a_stash_and_an_older_stash_in_the_reflog() {
    let repo = Repo::new();
    let (older, newer) = (key(6), key(7));
    repo.write("app.env", "name=app\n");
    repo.commit("init");
    repo.write("app.env", &format!("name=app\nkey={older}\n"));
    repo.git(&["stash", "push", "-q", "-m", "first"]);
    repo.tick();
    repo.write("app.env", &format!("name=app\n# new\n\nkey = {newer}\n"));
    repo.git(&["stash", "push", "-q", "-m", "second"]);
    let (stash0, stash1) = (repo.rev("stash@{0}"), repo.rev("stash@{1}"));
    assert_eq!(repo.git(&["for-each-ref", "--format=%(objectname)", "refs/stash"]), stash0);
    assert_eq!(fs::read_to_string(repo.path.join("app.env")).expect("read"), "name=app\n");

    let s = repo.scan(&[]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&older, &newer]));
    let f = s.finding(&older);
    assert_eq!(f["present_at_head"], false);
    assert_eq!(places(f), vec![at_blob(&repo, &stash1, "app.env", ANN, 2, 5)]);
    let f = s.finding(&newer);
    assert_eq!(places(f), vec![at_blob(&repo, &stash0, "app.env", ANN, 4, 7)]);
}

#[test]
fn key_in_a_commit_message() {
    let repo = Repo::new();
    let k = key(8);
    repo.write("a.txt", "a\n");
    repo.commit("init");
    repo.write("a.txt", "b\n");
    let c = repo.commit_as(BOB, &format!("rotate credentials\n\nold key was {k}\n"));
    let s = repo.scan(&[]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
    let f = s.finding(&k);
    assert_eq!(
        places(f),
        vec![json!({
            "source": "git-commit-message",
            "path": format!("commit {} message", &c[..12]),
            "commit": c,
            "author": BOB.0,
            "email": BOB.1,
            "date": repo.date(&c),
            "line": 3,
            "column": 13,
            "end_column": 33,
        })]
    );
    assert_eq!(f["introduced"]["commit"], c);
}

#[test]
fn renamed_file_reports_both_paths_of_one_blob() {
    let repo = Repo::new();
    let k = key(9);
    repo.write("old/name.env", &format!("x=1\nkey={k}\n"));
    let added = repo.commit("add");
    fs::create_dir(repo.path.join("new")).expect("mkdir");
    repo.git(&["mv", "old/name.env", "new/name.env"]);
    let renamed = repo.commit_as(BOB, "rename");
    assert_eq!(repo.blob(&added, "old/name.env"), repo.blob(&renamed, "new/name.env"));

    let s = repo.scan(&[]);
    s.expect_code(1);
    let f = s.finding(&k);
    assert_eq!(f["present_at_head"], true);
    assert_eq!(f["introduced"], introduced(&repo, &added, "old/name.env", ANN));
    assert_eq!(
        places(f),
        sorted(vec![
            at_blob(&repo, &added, "old/name.env", ANN, 2, 5),
            at_blob(&repo, &renamed, "new/name.env", BOB, 2, 5),
        ])
    );
    // One blob (read once) and two commit messages.
    assert_eq!(s.blobs_scanned(), 1 + 2);
}

#[test]
fn key_only_in_a_merge_resolution() {
    let repo = Repo::new();
    let k = key(10);
    repo.write("conf.ini", "a=1\nb=2\nc=3\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "left"]);
    repo.write("conf.ini", "a=left\nb=2\nc=3\n");
    repo.commit("left");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("conf.ini", "a=right\nb=2\nc=3\n");
    repo.commit("right");
    let merge = repo.command(&["merge", "-q", "left"]).output().expect("git merge");
    assert!(!merge.status.success(), "the merge must conflict");
    repo.write("conf.ini", &format!("a=merged\nkey = {k}\nb=2\nc=3\n"));
    repo.git(&["add", "conf.ini"]);
    let mut commit = repo.command(&["commit", "-q", "--no-edit"]);
    commit.env("GIT_AUTHOR_NAME", BOB.0).env("GIT_AUTHOR_EMAIL", BOB.1);
    run_ok(commit);
    let merged = repo.rev("HEAD");
    assert_eq!(repo.git(&["rev-list", "--parents", "-n1", "HEAD"]).split(' ').count(), 3);

    let s = repo.scan(&[]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
    let f = s.finding(&k);
    assert_eq!(f["present_at_head"], true);
    assert_eq!(places(f), vec![at_blob(&repo, &merged, "conf.ini", BOB, 2, 7)]);
}

/// `keysweep SUBCOMMAND TARGET -f sarif`, parsed.
fn sarif_of(subcommand: &str, target: &Path) -> Value {
    let output = Command::new(BIN)
        .args([subcommand, target.to_str().expect("utf-8 path")])
        .args(["-f", "sarif", "--no-progress"])
        .output()
        .expect("keysweep runs");
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_of_history_names_the_commit_and_author_and_shares_the_tree_fingerprint() {
    let repo = Repo::new();
    let k = key(69);
    repo.write("README", "r\n");
    repo.commit("init");
    repo.write("deploy/app.env", &format!("region=eu-west-1\nkey = {k}\n"));
    let added = repo.commit_as(BOB, "add deploy settings");

    let history = sarif_of("git", &repo.path);
    let results = history["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{history:#}");
    let result = &results[0];
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "deploy/app.env");
    assert_eq!(physical["region"]["startLine"], 2);
    assert_eq!(physical["region"]["startColumn"], 7);
    assert_eq!(result["properties"]["commit"], json!(added));
    assert_eq!(result["properties"]["author"], json!(format!("{} <{}>", BOB.0, BOB.1)));
    assert_eq!(result["properties"]["date"], json!(repo.date(&added)));
    assert!(!history.to_string().contains(&k), "the secret is redacted");

    let tree = sarif_of("scan", &repo.path);
    let tree_result = &tree["runs"][0]["results"][0];
    assert_eq!(
        tree_result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/app.env"
    );
    assert_eq!(
        result["partialFingerprints"], tree_result["partialFingerprints"],
        "a history finding and a working-tree finding of one secret at one path match"
    );
}

#[test]
fn identical_blob_at_two_paths_is_scanned_once() {
    let repo = Repo::new();
    let k = key(11);
    let content = format!("# shared\nkey: {k}\n");
    repo.write("a/secrets.env", &content);
    repo.write("b/copy.env", &content);
    repo.write("README", "clean\n");
    let first = repo.commit("two copies");
    repo.write("c/third.env", &content);
    let second = repo.commit_as(BOB, "a third copy");

    let s = repo.scan(&[]);
    s.expect_code(1);
    let f = s.finding(&k);
    assert_eq!(
        places(f),
        sorted(vec![
            at_blob(&repo, &first, "a/secrets.env", ANN, 2, 6),
            at_blob(&repo, &first, "b/copy.env", ANN, 2, 6),
            at_blob(&repo, &second, "c/third.env", BOB, 2, 6),
        ])
    );
    // Two distinct blobs (the key file and README) and two commit messages.
    assert_eq!(s.blobs_scanned(), 2 + 2, "{:#}", s.json["stats"]);
}

/// A repository with keys on a branch, a tag, a deleted file and at HEAD.
fn mixed_history() -> (Repo, [String; 4]) {
    let repo = Repo::new();
    let keys = [key(20), key(21), key(22), key(23)];
    repo.write("src/main.rs", &filler(1, 40));
    repo.write("conf/live.env", &format!("{}key={}\n", filler(2, 3), keys[0]));
    repo.commit("init");
    repo.write("tmp/scratch.txt", &format!("{}\n", keys[1]));
    repo.commit_as(BOB, "scratch");
    fs::remove_file(repo.path.join("tmp/scratch.txt")).expect("rm");
    repo.commit("drop scratch");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("topic.txt", &format!("k = {}\n", keys[2]));
    repo.commit_as(BOB, "topic");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("src/main.rs", &format!("{}// {}\n", filler(1, 40), keys[3]));
    repo.commit("edit");
    repo.git(&["tag", "-a", "v2", "-m", "v2"]);
    (repo, keys)
}

#[test]
fn packed_and_loose_repositories_give_the_same_findings() {
    let (repo, keys) = mixed_history();
    let loose = repo.git(&["count-objects", "-v"]);
    assert!(loose.contains("packs: 0"), "{loose}");
    let before = repo.scan(&[]);
    before.expect_code(1);
    assert_eq!(before.secrets(), keys.iter().cloned().collect());

    repo.git(&["gc", "-q", "--aggressive", "--prune=now"]);
    let packed = repo.git(&["count-objects", "-v"]);
    assert!(packed.contains("\ncount: 0\n") || packed.starts_with("count: 0\n"), "{packed}");
    assert!(packed.contains("packs: 1"), "{packed}");
    let after = repo.scan(&[]);
    after.expect_code(1);
    assert_eq!(after.comparable(), before.comparable());
}

#[test]
fn bare_clone_gives_the_same_findings() {
    let (repo, keys) = mixed_history();
    let work = repo.scan(&[]);
    work.expect_code(1);
    assert_eq!(work.secrets(), keys.iter().cloned().collect());
    let dir = tempfile::tempdir().expect("temp dir");
    let bare = dir.path().join("bare.git");
    let mut clone = git_command(dir.path());
    clone.args(["clone", "-q", "--bare"]).arg(&repo.path).arg(&bare);
    run_ok(clone);
    let b = scan(&bare, &[]);
    b.expect_code(1);
    assert_eq!(b.comparable(), work.comparable());
}

#[test]
fn shallow_clone_finds_what_it_has_without_errors() {
    let src = Repo::new();
    let (gone, kept, recent) = (key(30), key(31), key(32));
    src.write("old.txt", &format!("{gone}\n"));
    src.write("kept.txt", &format!("x\n{kept}\n"));
    let first = src.commit("first");
    fs::remove_file(src.path.join("old.txt")).expect("rm");
    src.commit("second");
    src.write("new.txt", &format!("y\ny\nnew {recent}\n"));
    let tip = src.commit_as(BOB, "third");
    let full = src.scan(&[]);
    full.expect_code(1);
    assert_eq!(full.secrets(), set([&gone, &kept, &recent]));
    assert_eq!(places(full.finding(&kept)), vec![at_blob(&src, &first, "kept.txt", ANN, 2, 1)]);

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shallow");
    let mut clone = git_command(dir.path());
    clone
        .args(["clone", "-q", "--depth", "1"])
        .arg(format!("file://{}", src.path.display()))
        .arg(&path);
    run_ok(clone);
    let shallow = Repo::adopt(dir, path);
    assert_eq!(shallow.git(&["rev-parse", "--is-shallow-repository"]), "true");
    assert_eq!(shallow.rev("HEAD"), tip);

    let s = shallow.scan(&[]);
    s.expect_code(1);
    assert!(s.errors().is_empty(), "missing parents are not errors: {:#}", s.json["errors"]);
    assert!(!s.stderr.contains("warning") && !s.stderr.contains("error"), "{}", s.stderr);
    assert_eq!(s.secrets(), set([&kept, &recent]), "the deleted key is not in the clone");
    // The clone's only commit is where everything it has was introduced.
    assert_eq!(places(s.finding(&recent)), vec![at_blob(&shallow, &tip, "new.txt", BOB, 3, 5)]);
    assert_eq!(places(s.finding(&kept)), vec![at_blob(&shallow, &tip, "kept.txt", BOB, 2, 1)]);
}

/// A tag may point straight at a blob (git.git's `junio-gpg-pub` does): the blob is reachable
/// from a ref, so a history scan reads it.
#[test]
fn key_in_a_blob_that_a_tag_points_at() {
    let repo = Repo::new();
    let k = key(41);
    repo.write("a.txt", "clean\n");
    repo.commit("init");
    let outside = repo.path.parent().expect("parent").join("tagged.txt");
    fs::write(&outside, format!("{k}\n")).expect("write");
    let blob = repo.git(&["hash-object", "-w", outside.to_str().expect("utf-8 path")]);
    repo.git(&["tag", "key-blob", &blob]);
    let s = repo.scan(&[]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
}

#[test]
fn all_objects_finds_a_dangling_blob_that_history_does_not() {
    let repo = Repo::new();
    let k = key(40);
    repo.write("a.txt", "clean\n");
    repo.commit("init");
    let outside = repo.path.parent().expect("parent").join("dangling.txt");
    fs::write(&outside, format!("line one\nsecret={k}\n")).expect("write");
    let blob = repo.git(&["hash-object", "-w", outside.to_str().expect("utf-8 path")]);
    let fsck = repo.git(&["fsck", "--no-reflogs", "--dangling"]);
    assert!(fsck.contains(&format!("dangling blob {blob}")), "{fsck}");

    let s = repo.scan(&[]);
    s.expect_code(0);
    assert!(s.findings().is_empty());

    let s = repo.scan(&["--all-objects"]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
    let f = s.finding(&k);
    assert_eq!(
        places(f),
        vec![json!({
            "source": "git-unreachable",
            "path": format!("unreachable blob {}", &blob[..12]),
            "blob": blob,
            "line": 2,
            "column": 8,
            "end_column": 28,
        })]
    );
}

// ---------------------------------------------------------------------------------------------
// --staged
// ---------------------------------------------------------------------------------------------

fn staged_place(path: &str, line: u64, column: u64) -> Value {
    json!({"source": "staged", "path": path, "line": line, "column": column, "end_column": column + 20})
}

#[test]
fn staged_new_file_is_found_at_its_staged_line() {
    let repo = Repo::new();
    let k = key(50);
    repo.write("README", "r\n");
    repo.commit("init");
    repo.write("new.env", &format!("# settings\nregion=us-east-1\n\nkey = {k}\n"));
    repo.git(&["add", "new.env"]);
    let s = repo.scan(&["--staged"]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&k]));
    let f = s.finding(&k);
    assert_eq!(places(f), vec![staged_place("new.env", 4, 7)]);
    assert!(f["present_at_head"].is_null() && f["introduced"].is_null(), "{f:#}");
}

#[test]
fn staged_in_a_repository_without_commits() {
    let repo = Repo::new();
    let k = key(51);
    repo.write("first.txt", &format!("{k}\n"));
    repo.git(&["add", "first.txt"]);
    let s = repo.scan(&["--staged"]);
    s.expect_code(1);
    assert_eq!(places(s.finding(&k)), vec![staged_place("first.txt", 1, 1)]);
}

#[test]
fn staged_modification_reports_only_the_added_key() {
    let repo = Repo::new();
    let (old, new) = (key(52), key(53));
    let mut lines: Vec<String> = (1..=10).map(|i| format!("setting{i} = {i}")).collect();
    lines[1] = format!("old_key = {old}");
    repo.write("app.cfg", &(lines.join("\n") + "\n"));
    repo.commit("init");
    lines[6] = format!("new_key = {new}");
    repo.write("app.cfg", &(lines.join("\n") + "\n"));
    repo.git(&["add", "app.cfg"]);
    let s = repo.scan(&["--staged"]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&new]), "the key already in HEAD is not reported");
    assert_eq!(places(s.finding(&new)), vec![staged_place("app.cfg", 7, 11)]);
}

#[test]
fn unstaged_changes_are_not_scanned() {
    let repo = Repo::new();
    let (staged, worktree, untracked, modified) = (key(54), key(55), key(56), key(57));
    repo.write("tracked.txt", "clean\n");
    repo.write("s.env", "a=1\n");
    repo.commit("init");
    // Only in the work tree: a modified tracked file and an untracked file.
    repo.write("tracked.txt", &format!("clean\n{modified}\n"));
    repo.write("untracked.env", &format!("{untracked}\n"));
    let s = repo.scan(&["--staged"]);
    s.expect_code(0);
    assert!(s.findings().is_empty(), "{:#}", s.json);

    // Staged, then changed again in the work tree: the index's version counts.
    repo.write("s.env", &format!("a=1\nk={staged}\n"));
    repo.git(&["add", "s.env"]);
    repo.write("s.env", &format!("inserted\ninserted\ninserted\na=1\nk={staged}\nw={worktree}\n"));
    let s = repo.scan(&["--staged"]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&staged]));
    assert_eq!(places(s.finding(&staged)), vec![staged_place("s.env", 2, 3)]);
}

// ---------------------------------------------------------------------------------------------
// --range
// ---------------------------------------------------------------------------------------------

#[test]
fn range_reports_only_keys_added_in_the_range() {
    let repo = Repo::new();
    let [unchanged, kept, removed, added, transient] = [60, 61, 62, 63, 64].map(key);
    repo.write("kept.txt", &format!("line1\n{unchanged} here\nline3\n"));
    repo.write("mod.txt", &format!("a\nb\nc\nd\nkey = {kept}\n"));
    repo.write("gone.txt", &format!("{removed}\n"));
    let base = repo.commit("base");

    repo.write("kept.txt", &format!("line1\n{unchanged} here\nline3\nline4\n"));
    repo.write("mod.txt", &format!("a\nb\nc\nd\nkey = {kept} # same key, line edited\n"));
    fs::remove_file(repo.path.join("gone.txt")).expect("rm");
    repo.write("new.txt", &format!("x\ny\nkey = {added}\n"));
    let r1 = repo.commit_as(BOB, "r1");
    repo.write("tmp.txt", &format!("{transient}\n"));
    let r2 = repo.commit("r2: oops");
    fs::remove_file(repo.path.join("tmp.txt")).expect("rm");
    let head = repo.commit("r3: remove it again");

    let s = repo.scan(&["--range", &format!("{base}..{head}")]);
    s.expect_code(1);
    assert_eq!(
        s.secrets(),
        set([&added, &transient]),
        "unchanged, kept-on-an-edited-line and removed keys are not reported"
    );
    assert_eq!(places(s.finding(&added)), vec![at_blob(&repo, &r1, "new.txt", BOB, 3, 7)]);
    assert_eq!(places(s.finding(&transient)), vec![at_blob(&repo, &r2, "tmp.txt", ANN, 1, 1)]);

    // The same with symbolic revisions, and an empty range finds nothing.
    let s2 = repo.scan(&["--range", "main~3..main"]);
    assert_eq!(s2.findings(), s.findings());
    let none = repo.scan(&["--range", "main..main"]);
    none.expect_code(0);
}

#[test]
fn a_file_renamed_in_the_range_reports_only_what_the_rename_added() {
    let repo = Repo::new();
    let [moved, added] = [65, 66].map(key);
    repo.write("config/old.env", &format!("region=eu-west-1\nkey = {moved}\n"));
    let base = repo.commit("base");
    fs::create_dir_all(repo.path.join("settings")).expect("mkdir");
    repo.git(&["mv", "config/old.env", "settings/new.env"]);
    repo.write("settings/new.env", &format!("region=eu-west-1\nkey = {moved}\nnext = {added}\n"));
    let head = repo.commit_as(BOB, "move and extend the settings");

    let s = repo.scan(&["--range", &format!("{base}..{head}")]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&added]), "the key that moved with its file existed at BASE");
    assert_eq!(
        places(s.finding(&added)),
        vec![at_blob(&repo, &head, "settings/new.env", BOB, 3, 8)]
    );
}

#[test]
fn a_staged_rename_reports_only_what_the_rename_added() {
    let repo = Repo::new();
    let [moved, added] = [67, 68].map(key);
    repo.write("old.env", &format!("key = {moved}\n"));
    repo.commit("init");
    repo.git(&["mv", "old.env", "new.env"]);
    repo.write("new.env", &format!("key = {moved}\nother = {added}\n"));
    repo.git(&["add", "new.env"]);
    let s = repo.scan(&["--staged"]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&added]));
    assert_eq!(places(s.finding(&added)), vec![staged_place("new.env", 2, 9)]);
}

#[test]
fn range_with_an_unknown_revision_fails() {
    let repo = Repo::new();
    repo.write("a", "a\n");
    repo.commit("init");
    let out = Command::new(BIN)
        .args(["git", "--range", "nope..main", "--no-progress"])
        .arg(&repo.path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

// ---------------------------------------------------------------------------------------------
// --since, --since-date
// ---------------------------------------------------------------------------------------------

/// Old history: `src/old.txt` with a key, and `conf/secret.txt` with a key that is then removed.
/// New history (after `boundary`): a file added beside `src/old.txt`, a new key, and a revert
/// that brings `conf/secret.txt` back unchanged.
fn incremental_history() -> (Repo, String, [String; 3], [String; 2]) {
    let repo = Repo::new();
    let [beside, removed, fresh] = [90, 91, 92].map(key);
    repo.write("src/old.txt", &format!("key={beside}\n"));
    repo.write("conf/secret.txt", &format!("key={removed}\n"));
    repo.commit("old keys");
    fs::remove_dir_all(repo.path.join("conf")).expect("rm");
    let boundary = repo.commit("remove conf");
    repo.write("src/new.txt", "new\n");
    repo.commit("a file beside the old key");
    repo.write("fresh.txt", &format!("x\n{fresh}\n"));
    let fresh_commit = repo.commit_as(BOB, "fresh key");
    let revert = repo.command(&["revert", "--no-edit", &boundary]);
    run_ok(revert);
    repo.tick();
    let revert_commit = repo.rev("HEAD");
    (repo, boundary, [beside, removed, fresh], [fresh_commit, revert_commit])
}

#[test]
fn since_rev_reports_only_what_new_commits_introduced() {
    let (repo, boundary, [beside, removed, fresh], [fresh_commit, revert_commit]) =
        incremental_history();
    let full = repo.scan(&[]);
    assert_eq!(full.secrets(), set([&beside, &removed, &fresh]));

    let s = repo.scan(&["--since", &boundary]);
    s.expect_code(1);
    assert_eq!(
        s.secrets(),
        set([&removed, &fresh]),
        "the key beside a new file is old; the reverted one is back"
    );
    assert_eq!(
        places(s.finding(&fresh)),
        vec![at_blob(&repo, &fresh_commit, "fresh.txt", BOB, 2, 1)]
    );
    assert_eq!(
        places(s.finding(&removed)),
        vec![at_blob(&repo, &revert_commit, "conf/secret.txt", ANN, 1, 5)]
    );
    repo.scan(&["--since", "HEAD"]).expect_code(0);
}

#[test]
fn since_date_reports_only_what_recent_commits_introduced() {
    let (repo, boundary, [_, removed, fresh], [fresh_commit, revert_commit]) =
        incremental_history();
    let after_boundary =
        repo.git(&["show", "-s", "--format=%at", &boundary]).parse::<i64>().expect("epoch") + 1;
    let s = repo.scan(&["--since-date", &after_boundary.to_string()]);
    s.expect_code(1);
    assert_eq!(s.secrets(), set([&removed, &fresh]));
    assert_eq!(
        places(s.finding(&fresh)),
        vec![at_blob(&repo, &fresh_commit, "fresh.txt", BOB, 2, 1)]
    );
    assert_eq!(
        places(s.finding(&removed)),
        vec![at_blob(&repo, &revert_commit, "conf/secret.txt", ANN, 1, 5)]
    );
}

// ---------------------------------------------------------------------------------------------
// Broken repositories
// ---------------------------------------------------------------------------------------------

#[test]
fn corrupt_pack_reports_the_damaged_blob_and_keeps_the_rest() {
    let repo = Repo::new();
    let (damaged, intact) = (key(70), key(71));
    // Random filler so that neither blob is stored as a delta of the other.
    repo.write("big/damaged.txt", &format!("{}{damaged}\n{}", filler(10, 2), filler(11, 150)));
    repo.write("intact.txt", &format!("{}\nkey = {intact}\n{}", filler(12, 1), filler(13, 150)));
    let c = repo.commit("two keys");
    let damaged_blob = repo.blob(&c, "big/damaged.txt");
    let intact_blob = repo.blob(&c, "intact.txt");
    repo.git(&["gc", "-q", "--aggressive", "--prune=now"]);

    let pack_dir = repo.path.join(".git/objects/pack");
    let idx = fs::read_dir(&pack_dir)
        .expect("pack dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("an index");
    let verify = repo.git(&["verify-pack", "-v", idx.to_str().expect("utf-8")]);
    // `SHA TYPE SIZE SIZE-IN-PACK OFFSET [DEPTH BASE]`
    let entry = |id: &str| -> Vec<u64> {
        let line = verify.lines().find(|l| l.starts_with(id)).expect("object in the pack");
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[1], "blob");
        assert_eq!(fields.len(), 5, "stored whole, not as a delta: {line}");
        fields[2..5].iter().map(|f| f.parse().expect("number")).collect()
    };
    let (in_pack, offset) = {
        let e = entry(&damaged_blob);
        (e[1], e[2])
    };
    entry(&intact_blob);
    assert!(in_pack > 1000, "the damaged blob is big enough to hit its middle: {in_pack}");
    let pack = idx.with_extension("pack");
    let mut bytes = fs::read(&pack).expect("read pack");
    let middle = (offset + in_pack / 2) as usize;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0xA5;
    }
    fs::write(&pack, bytes).expect("write pack");
    let cat = repo.command(&["cat-file", "-p", &damaged_blob]).output().expect("git runs");
    assert!(!cat.status.success(), "git itself cannot read the damaged blob");

    let s = repo.scan(&[]);
    s.expect_code(1);
    assert!(s.stderr.contains(&damaged_blob), "stderr names the damaged object:\n{}", s.stderr);
    let errors = s.errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["input"], format!("blob {damaged_blob}"));
    assert_eq!(s.secrets(), set([&intact]));
    assert_eq!(places(s.finding(&intact)), vec![at_blob(&repo, &c, "intact.txt", ANN, 3, 7)]);
}

#[test]
fn not_a_repository_fails_with_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .args(["git", "--no-progress"])
        .arg(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().expect("parent"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open git repository"));
}

// ---------------------------------------------------------------------------------------------
// pre-commit
// ---------------------------------------------------------------------------------------------

fn pre_commit_available() {
    let ok = Command::new("python3")
        .args(["-m", "pre_commit", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the pre-commit framework is missing (python3 -m pre_commit): run scripts/test.sh, which \
         installs tests/requirements.txt"
    );
}

/// PATH with the built keysweep first.
fn path_with_keysweep() -> std::ffi::OsString {
    let bin_dir = Path::new(BIN).parent().expect("binary dir").to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&rest)))
        .expect("PATH")
}

#[test]
fn hooks_file_declares_the_staged_hook() {
    let hooks =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"))
            .expect(".pre-commit-hooks.yaml at the repository root");
    let entries: Vec<&str> =
        hooks.lines().filter(|l| l.trim_start().starts_with("entry:")).collect();
    assert!(!entries.is_empty());
    for entry in entries {
        assert_eq!(entry.trim(), "entry: keysweep git --staged --no-progress");
    }
    assert!(hooks.contains("- id: keysweep\n"));
    assert!(hooks.contains("pass_filenames: false"));
}

#[test]
fn pre_commit_framework_rejects_a_staged_key() {
    pre_commit_available();
    let k = key(80);
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("pre-commit-home");
    let path = path_with_keysweep();

    // The hook repository: this repository's .pre-commit-hooks.yaml, committed.
    let hooks = Repo::new();
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.path.join(".pre-commit-hooks.yaml"),
    )
    .expect("copy hooks file");
    let rev = hooks.commit("hooks");

    let work = Repo::new();
    work.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: keysweep\n",
            hooks.path.display()
        ),
    );
    work.write("README", "hello\n");
    work.commit("init");
    let pre_commit = |args: &[&str]| {
        let mut py = Command::new("python3");
        py.current_dir(&work.path)
            .args(["-m", "pre_commit"])
            .args(args)
            .env("PRE_COMMIT_HOME", &home)
            .env("PATH", &path)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE");
        py.output().expect("python3 runs")
    };
    let install = pre_commit(&["install"]);
    assert!(install.status.success(), "{}", String::from_utf8_lossy(&install.stderr));
    let git_commit = |message: &str| {
        let mut command = work.command(&["commit", "-m", message]);
        command.env("PRE_COMMIT_HOME", &home).env("PATH", &path);
        let out = command.output().expect("git commit runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };

    let head = work.rev("HEAD");
    work.write("deploy/secrets.env", &format!("region=eu-west-1\naws_access_key_id={k}\n"));
    work.git(&["add", "deploy/secrets.env"]);
    let (ok, text) = git_commit("add secrets");
    assert!(!ok, "the commit must be rejected:\n{text}");
    assert!(text.contains(RULE), "output names the rule:\n{text}");
    assert!(text.contains("deploy/secrets.env:2:19"), "output names path:line:column:\n{text}");
    assert!(!text.contains(&k), "the key is redacted:\n{text}");
    assert_eq!(work.rev("HEAD"), head, "nothing was committed");

    // `try-repo` runs the hook straight from the hook repository, on what is staged.
    let tried = pre_commit(&["try-repo", hooks.path.to_str().expect("utf-8"), "keysweep"]);
    let tried_text = String::from_utf8_lossy(&tried.stdout);
    assert!(!tried.status.success(), "{tried_text}");
    assert!(tried_text.contains(RULE) && tried_text.contains("deploy/secrets.env"), "{tried_text}");

    work.git(&["rm", "-q", "--cached", "deploy/secrets.env"]);
    fs::remove_file(work.path.join("deploy/secrets.env")).expect("rm");
    work.write("notes.txt", "nothing secret\n");
    work.git(&["add", "notes.txt"]);
    let (ok, text) = git_commit("clean change");
    assert!(ok, "a clean commit goes through:\n{text}");
    assert!(text.contains("keysweep"), "the hook ran:\n{text}");
    assert_ne!(work.rev("HEAD"), head);
}

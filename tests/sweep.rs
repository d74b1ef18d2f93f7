//! `keysweep sweep`, `report` and `merge` against a real `git daemon` on 127.0.0.1 started by
//! the test (a free port picked by binding port 0), serving generated repositories with one
//! known key each. Every key id is a generated fake (`util::Fakes`).
//!
//! Asserted exactly: repositories ok/failed/skipped, blobs scanned/skipped, new and fixed
//! findings, and the fingerprints and locations `report` rebuilds from the store.

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{ACCOUNT, Fakes, TestCommand, TestDir, git};

const RULE: &str = "aws.access-key-id";

/// A `git daemon` serving every repository under a directory; killed on drop.
pub struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    /// Starts `git daemon --export-all` on 127.0.0.1 and waits until it accepts connections.
    /// Panics (never skips) when it cannot.
    pub fn start(base: &Path) -> GitDaemon {
        // git daemon wants an explicit port: take a free one from the kernel, then release it.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port on 127.0.0.1")
            .port();
        // `git daemon` runs git-daemon as its child, which killing `git` would orphan: start the
        // daemon itself, so that drop stops the server.
        let exec_path = Command::new("git").arg("--exec-path").output().expect("git --exec-path");
        let exec_path = String::from_utf8_lossy(&exec_path.stdout).trim().to_string();
        let child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .args(["--export-all", "--reuseaddr", "--informative-errors"])
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start git daemon (is git installed?): {e}"));
        let mut daemon = GitDaemon { child, port };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("git daemon exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "git daemon did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon
    }

    /// `git://127.0.0.1:PORT/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` repositories `r0`..`r{n-1}` under `base`, each with a README and `keys.txt` holding its
/// own key; returns the keys.
pub(crate) fn make_repos(base: &Path, n: usize, fakes: &mut Fakes) -> Vec<String> {
    (0..n)
        .map(|i| {
            let repo = base.join(format!("r{i}"));
            std::fs::create_dir_all(&repo).expect("mkdir");
            git(&repo, &["init", "-q", "-b", "main"]);
            std::fs::write(repo.join("README.md"), format!("# repository {i}\n")).expect("write");
            let key = fakes.key_id("AKIA", ACCOUNT);
            std::fs::write(repo.join("keys.txt"), format!("# deploy\naws_access_key_id = {key}\n"))
                .expect("write");
            git(&repo, &["add", "."]);
            git(&repo, &["commit", "-q", "-m", "first"]);
            key
        })
        .collect()
}

/// Runs `keysweep sweep --format json` with `args`; returns exit code and summary.
fn sweep(args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut command = TestCommand::new();
    command.args(["sweep", "--format", "json", "--no-progress"]).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let (out, json) = command.run_json();
    (out.code, json)
}

/// `keysweep report --format json` with `args`: (fingerprint, locations) per finding.
fn report(store: &Path, args: &[&str]) -> (i32, Vec<(String, Vec<String>)>, Value) {
    let mut command = TestCommand::new();
    command.args(["report", "--format", "json", "-q", "--datastore"]).arg(store).args(args);
    let (out, json) = command.run_json();
    let findings = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let locations = f["locations"]
                .as_array()
                .expect("locations")
                .iter()
                .map(|l| {
                    format!(
                        "{} {}:{}:{} commit={} blob={}",
                        l["source"],
                        l["relative_path"],
                        l["line"],
                        l["column"],
                        l["commit"],
                        l["blob"]
                    )
                })
                .collect();
            (f["fingerprint"].as_str().expect("fingerprint").to_string(), locations)
        })
        .collect();
    (out.code, findings, json)
}

fn count(summary: &Value, key: &str) -> u64 {
    summary[key].as_u64().unwrap_or_else(|| panic!("no {key} in {summary}"))
}

fn manifest(dir: &TestDir, daemon: &GitDaemon, n: usize) -> PathBuf {
    let mut text = String::from("# generated repositories\n\n");
    for i in 0..n {
        text.push_str(&daemon.url(&format!("r{i}")));
        text.push('\n');
    }
    dir.create("repos.txt", text)
}

fn sorted(mut findings: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    for (_, locations) in &mut findings {
        locations.sort();
    }
    findings.sort();
    findings
}

#[test]
fn second_sweep_scans_only_new_blobs_and_reports_new_and_fixed() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    let mut fakes = Fakes::new(801);
    let keys = make_repos(&base, 20, &mut fakes);
    let daemon = GitDaemon::start(&base);
    let repos = manifest(&dir, &daemon, 20);
    let store = dir.join("store");
    let store_arg = store.to_str().expect("utf-8 path");
    let repos_arg = repos.to_str().expect("utf-8 path");

    let (code, first) = sweep(&["--repos", repos_arg, "--datastore", store_arg], &[]);
    assert_eq!(code, 1, "{first}");
    assert_eq!(
        [count(&first, "repos_ok"), count(&first, "repos_failed"), count(&first, "repos_skipped")],
        [20, 0, 0]
    );
    assert_eq!([count(&first, "blobs_scanned"), count(&first, "blobs_skipped")], [40, 0]);
    assert_eq!(count(&first, "new_findings"), 20);
    let (code, all, json) = report(&store, &[]);
    assert_eq!(code, 1);
    assert_eq!(all.len(), 20);
    let secrets: BTreeSet<&str> =
        json["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(secrets, BTreeSet::from([RULE]));
    for (_, locations) in &all {
        assert_eq!(locations.len(), 1);
        assert!(locations[0].starts_with("\"git\" \"keys.txt\":2:21 "), "{locations:?}");
    }

    // r3 gains a key in a new file; r7 deletes its key file.
    let r3 = base.join("r3");
    let new_key = fakes.key_id("AKIA", ACCOUNT);
    std::fs::write(r3.join("new.txt"), format!("x\nkey = {new_key}\n")).expect("write");
    git(&r3, &["add", "new.txt"]);
    git(&r3, &["commit", "-q", "-m", "add"]);
    let r7 = base.join("r7");
    git(&r7, &["rm", "-q", "keys.txt"]);
    std::fs::write(r7.join("NOTES.md"), "rotated\n").expect("write");
    git(&r7, &["add", "NOTES.md"]);
    git(&r7, &["commit", "-q", "-m", "remove the key"]);

    let (code, second) = sweep(&["--repos", repos_arg, "--datastore", store_arg], &[]);
    assert_eq!(code, 1, "{second}");
    assert_eq!(
        [
            count(&second, "repos_ok"),
            count(&second, "repos_failed"),
            count(&second, "repos_skipped")
        ],
        [2, 0, 18]
    );
    // Only new.txt and NOTES.md are read; each changed repository's two old blobs are skipped.
    assert_eq!([count(&second, "blobs_scanned"), count(&second, "blobs_skipped")], [2, 4]);
    assert_eq!([count(&second, "new_findings"), count(&second, "fixed")], [1, 1]);

    let (code, new, json) = report(&store, &["--new"]);
    assert_eq!(code, 1);
    assert_eq!(new.len(), 1, "{json}");
    let finding = &json["findings"][0];
    assert_eq!(finding["secret"], crate::util::redacted(&new_key));
    assert_eq!(finding["locations"][0]["relative_path"], "new.txt");
    assert_eq!(finding["locations"][0]["line"], 2);
    assert_eq!(finding["locations"][0]["column"], 7);
    assert_eq!(finding["present_at_head"], true);
    // Many repositories meet in a store: each location names its own.
    assert_eq!(finding["locations"][0]["repository"], daemon.url("r3"));

    let (code, fixed, json) = report(&store, &["--fixed"]);
    assert_eq!(code, 1);
    assert_eq!(fixed.len(), 1, "{json}");
    assert_eq!(json["findings"][0]["secret"], crate::util::redacted(&keys[7]));
    assert_eq!(json["findings"][0]["present_at_head"], false);

    let (_, r3_only, _) = report(&store, &["--target", &daemon.url("r3.git")]);
    assert_eq!(r3_only.len(), 2);
    let (_, all, _) = report(&store, &[]);
    assert_eq!(all.len(), 21);
    let (_, since_second, _) = report(&store, &["--since-run", "2"]);
    assert_eq!(since_second, new);
    let (_, since_first, _) = report(&store, &["--since-run", "1"]);
    assert_eq!(since_first.len(), 21);
    let (_, since_2000, _) = report(&store, &["--since", "2000-01-01"]);
    assert_eq!(since_2000.len(), 21);
    let (code, since_2100, _) = report(&store, &["--since", "2100-01-01"]);
    assert_eq!((code, since_2100.len()), (0, 0));

    // Nothing changed: nothing read, exit 0.
    let (code, third) = sweep(&["--repos", repos_arg, "--datastore", store_arg], &[]);
    assert_eq!(code, 0, "{third}");
    assert_eq!([count(&third, "repos_skipped"), count(&third, "blobs_scanned")], [20, 0]);
    let (code, none, _) = report(&store, &["--new"]);
    assert_eq!((code, none.len()), (0, 0));
}

#[test]
fn shards_cover_every_repository_once_and_merge_to_the_whole() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    make_repos(&base, 20, &mut Fakes::new(802));
    let daemon = GitDaemon::start(&base);
    let repos = manifest(&dir, &daemon, 20);
    let repos_arg = repos.to_str().unwrap();
    let whole = dir.join("whole");
    let (code, summary) =
        sweep(&["--repos", repos_arg, "--datastore", whole.to_str().unwrap()], &[]);
    assert_eq!((code, count(&summary, "repos_ok")), (1, 20));
    let (_, expected, _) = report(&whole, &[]);

    let mut shards = Vec::new();
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for i in 1..=3 {
        let store = dir.join(&format!("shard{i}"));
        let shard = format!("{i}/3");
        let (_, summary) = sweep(
            &["--repos", repos_arg, "--datastore", store.to_str().unwrap(), "--shard", &shard],
            &[],
        );
        assert_eq!(count(&summary, "repos_failed"), 0);
        total += count(&summary, "repos_ok");
        let (_, found, _) = report(&store, &[]);
        for (fingerprint, _) in &found {
            assert!(seen.insert(fingerprint.clone()), "{fingerprint} in two shards");
        }
        shards.push(store);
    }
    assert_eq!(total, 20);
    assert_eq!(seen.len(), 20);

    let merged = dir.join("merged");
    let out =
        TestCommand::new().args(["merge", "-q", "--datastore"]).arg(&merged).args(&shards).run();
    out.assert_code(1);
    let (_, got, _) = report(&merged, &[]);
    assert_eq!(sorted(got), sorted(expected));
    // Merging the same shard again adds nothing.
    TestCommand::new().args(["merge", "-q", "--datastore"]).arg(&merged).arg(&shards[0]).run();
    let (_, again, _) = report(&merged, &[]);
    assert_eq!(again.len(), 20);
    assert!(again.iter().all(|(_, l)| l.len() == 1));
}

#[test]
fn an_interrupted_sweep_resumes_without_loss_or_duplicates() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    make_repos(&base, 20, &mut Fakes::new(803));
    let daemon = GitDaemon::start(&base);
    let repos = manifest(&dir, &daemon, 20);
    let store = dir.join("store");
    let db = store.join("keysweep.db");

    // One repository at a time, a pause after each: SIGINT lands after the first is recorded.
    let mut child = Command::new(env!("CARGO_BIN_EXE_keysweep"))
        .args(["sweep", "--no-progress", "-q", "-j", "1", "--repos"])
        .arg(&repos)
        .arg("--datastore")
        .arg(&store)
        .env("KEYSWEEP_SWEEP_DELAY_MS", "400")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("keysweep starts");
    let done = |db: &Path| -> i64 {
        rusqlite::Connection::open(db)
            .and_then(|c| {
                c.query_row("SELECT count(*) FROM run_targets WHERE status = 'ok'", [], |r| {
                    r.get(0)
                })
            })
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !db.exists() || done(&db) < 1 {
        assert!(Instant::now() < deadline, "no repository recorded in 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().expect("keysweep exits");
    assert!(!exit.success(), "the sweep was interrupted: {exit:?}");
    let before = done(&db);
    assert!((1..20).contains(&before), "{before} repositories done before the interrupt");

    let (code, summary) =
        sweep(&["--repos", repos.to_str().unwrap(), "--datastore", store.to_str().unwrap()], &[]);
    assert_eq!(code, 1, "{summary}");
    assert_eq!(count(&summary, "run"), 1, "the interrupted run is resumed");
    assert_eq!(count(&summary, "repos_skipped") as i64, before);
    assert_eq!(count(&summary, "repos_ok") as i64, 20 - before);
    let (_, found, _) = report(&store, &[]);
    assert_eq!(found.len(), 20);
    assert!(found.iter().all(|(_, l)| l.len() == 1), "{found:?}");
    let whole = dir.join("whole");
    sweep(&["--repos", repos.to_str().unwrap(), "--datastore", whole.to_str().unwrap()], &[]);
    let (_, expected, _) = report(&whole, &[]);
    assert_eq!(sorted(found), sorted(expected));
}

#[test]
fn git_datastore_skips_scanned_blobs_and_marks_fixed() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    let keys = make_repos(&base, 1, &mut Fakes::new(804));
    let repo = base.join("r0");
    let store = dir.join("store");
    let run = |args: &[&str]| {
        TestCommand::new()
            .args(["git", "--format", "json", "--no-progress", "-q", "--datastore"])
            .arg(&store)
            .arg(&repo)
            .args(args)
            .run_json()
    };
    let (out, json) = run(&[]);
    out.assert_code(1);
    assert_eq!(json["stats"]["blobs_scanned"], 3, "2 blobs and 1 commit message");
    // Same history again: nothing is read, nothing found (exit 0).
    let (out, json) = run(&[]);
    out.assert_code(0);
    assert_eq!(json["findings"].as_array().unwrap().len(), 0);
    assert_eq!(json["stats"]["blobs_scanned"], 0);
    git(&repo, &["rm", "-q", "keys.txt"]);
    git(&repo, &["commit", "-q", "-m", "rm"]);
    let (out, _) = run(&[]);
    out.assert_code(0);
    let (_, fixed, json) = report(&store, &["--fixed"]);
    assert_eq!(fixed.len(), 1);
    assert_eq!(json["findings"][0]["secret"], crate::util::redacted(&keys[0]));
}

#[test]
fn report_and_merge_name_a_missing_store() {
    let dir = TestDir::new();
    let out = TestCommand::new().args(["report", "--datastore"]).arg(dir.join("nothing")).run();
    out.assert_code(2);
    assert!(out.stderr.contains("no findings store at"), "{}", out.stderr);
    let out = TestCommand::new()
        .args(["merge", "--datastore"])
        .arg(dir.join("out"))
        .arg(dir.join("missing-shard"))
        .arg(dir.create("report.json", "{\"findings\": []}"))
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("missing-shard"), "{}", out.stderr);
    assert!(out.stderr.contains("merged 1 of 2 sources"), "{}", out.stderr);
}

#[test]
fn images_are_swept_once_per_manifest_digest() {
    use crate::image::{Codec, Layer, single};
    let dir = TestDir::new();
    let key = crate::image::key_id(805);
    let env = format!("AWS_ACCESS_KEY_ID={key}\n");
    let layers = [Layer::new(Codec::Gzip, &[("app/.env", env.as_bytes())])];
    let (_, manifest, _) = single(&dir.join("img"), &layers, serde_json::json!({}));
    let images = dir.create("images.txt", format!("oci:{}\n", dir.join("img").display()));
    let store = dir.join("store");
    let args = ["--images", images.to_str().unwrap(), "--datastore", store.to_str().unwrap()];
    let (code, first) = sweep(&args, &[]);
    assert_eq!(code, 1, "{first}");
    assert_eq!([count(&first, "images_ok"), count(&first, "new_findings")], [1, 1]);
    let (code, second) = sweep(&args, &[]);
    assert_eq!(code, 0, "{second}");
    assert_eq!([count(&second, "images_ok"), count(&second, "images_skipped")], [0, 1]);
    let (_, found, json) = report(&store, &[]);
    assert_eq!(found.len(), 1);
    let location = &json["findings"][0]["locations"][0];
    assert_eq!(location["source"], "image");
    assert_eq!(location["relative_path"], "app/.env");
    assert_eq!(location["line"], 1);
    assert_eq!(location["image_digest"], manifest["digest"]);
}

#[test]
fn a_failed_repository_is_named_recorded_and_retried() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    let mut fakes = Fakes::new(806);
    make_repos(&base, 1, &mut fakes);
    let daemon = GitDaemon::start(&base);
    let repos = dir.create("repos.txt", format!("{}\n{}\n", daemon.url("r0"), daemon.url("late")));
    let store = dir.join("store");
    let args = ["--repos", repos.to_str().unwrap(), "--datastore", store.to_str().unwrap()];
    let mut command = TestCommand::new();
    command.args(["sweep", "--format", "json", "--no-progress"]).args(args);
    let (out, first) = command.run_json();
    out.assert_code(1);
    assert_eq!([count(&first, "repos_ok"), count(&first, "repos_failed")], [1, 1]);
    let late = daemon.url("late");
    assert_eq!(first["failures"][0][0], late.as_str());
    assert!(out.stderr.contains(&format!("{late}: cannot fetch into ")), "{}", out.stderr);

    // The repository appears: the next sweep retries it and skips the unchanged one.
    let repo = base.join("late");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let key = fakes.key_id("AKIA", ACCOUNT);
    std::fs::write(repo.join("k.env"), format!("AWS_ACCESS_KEY_ID={key}\n")).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "k"]);
    let (code, second) = sweep(&args, &[]);
    assert_eq!(code, 1, "{second}");
    assert_eq!(
        [
            count(&second, "repos_ok"),
            count(&second, "repos_failed"),
            count(&second, "repos_skipped")
        ],
        [1, 0, 1]
    );
    assert_eq!(count(&second, "new_findings"), 1);
    let (code, owned, _) = report(&store, &["--owner", "ann@example.org"]);
    assert_eq!((code, owned.len()), (1, 2));
    let (code, none, _) = report(&store, &["--owner", "nobody@example.org"]);
    assert_eq!((code, none.len()), (0, 0));
}

#[test]
fn a_sweep_records_owner_account_and_tier_for_report_filters() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    let mut fakes = Fakes::new(807);
    let mut inventory = Vec::new();
    for (name, user) in [("admin-repo", "admin"), ("reader-repo", "reader")] {
        let repo = base.join(name);
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        let id = fakes.key_id("AKIA", ACCOUNT);
        let credentials = crate::moto::credentials_file(&id, &fakes.secret(), None);
        std::fs::write(repo.join("credentials"), credentials).unwrap();
        std::fs::write(repo.join("CODEOWNERS"), format!("* @team-{user}\n")).unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "k"]);
        inventory
            .push(serde_json::json!({"UserName": user, "AccessKeyId": id, "Status": "Active"}));
    }
    let access_keys =
        dir.create("keys.json", serde_json::json!({"AccessKeyMetadata": inventory}).to_string());
    let export =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/iam-authorization-details.json");
    let daemon = GitDaemon::start(&base);
    let repos = dir.create(
        "repos.txt",
        format!("{}\n{}\n", daemon.url("admin-repo"), daemon.url("reader-repo")),
    );
    let store = dir.join("store");
    let (code, summary) = sweep(
        &[
            "--repos",
            repos.to_str().unwrap(),
            "--datastore",
            store.to_str().unwrap(),
            "--aws-iam",
            export.to_str().unwrap(),
            "--aws-access-keys",
            access_keys.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!((code, count(&summary, "new_findings")), (1, 2), "{summary}");
    let tier_of = |args: &[&str]| -> Vec<(String, String)> {
        let (_, _, json) = report(&store, args);
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let repository = f["locations"][0]["repository"].as_str().unwrap().to_string();
                (repository, f["blast_radius"]["tier"].as_str().unwrap().to_string())
            })
            .collect()
    };
    assert_eq!(tier_of(&["--tier", "admin"]), vec![(daemon.url("admin-repo"), "admin".into())]);
    assert_eq!(
        tier_of(&["--tier", "read-only"]),
        vec![(daemon.url("reader-repo"), "read-only".into())]
    );
    assert_eq!(tier_of(&["--owner", "@team-reader"]).len(), 1);
    assert_eq!(tier_of(&["--owner", "@team-reader"])[0].0, daemon.url("reader-repo"));
    assert_eq!(tier_of(&["--account", &ACCOUNT.to_string()]).len(), 2);
    let (code, none, _) = report(&store, &["--account", "999999999999"]);
    assert_eq!((code, none.len()), (0, 0));
    let (_, _, json) = report(&store, &["--owner", "@team-admin"]);
    let owners = &json["findings"][0]["owner"]["codeowners"][0];
    assert_eq!(owners["owners"], serde_json::json!(["@team-admin"]));
    assert_eq!(owners["path"], "credentials");
}

#[test]
fn merge_folds_a_json_report_by_fingerprint() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    let keys = make_repos(&base, 1, &mut Fakes::new(808));
    let repo = base.join("r0");
    // A report written with --show-secrets: the store keeps only the redacted form and a hash.
    let mut command = TestCommand::new();
    command.args(["git", "--format", "json", "--no-progress", "-q", "--show-secrets"]).arg(&repo);
    let (out, scanned) = command.run_json();
    out.assert_code(1);
    let json_report = dir.create("r0.json", scanned.to_string());
    let store = dir.join("store");
    let out =
        TestCommand::new().args(["merge", "-q", "--datastore"]).arg(&store).arg(&json_report).run();
    out.assert_code(1);
    let (code, found, json) = report(&store, &[]);
    assert_eq!(code, 1);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, scanned["findings"][0]["fingerprint"].as_str().unwrap());
    let location = &json["findings"][0]["locations"][0];
    assert_eq!(
        (&location["relative_path"], &location["line"], &location["column"]),
        (&Value::from("keys.txt"), &Value::from(2), &Value::from(21))
    );
    assert_eq!(location["commit"], scanned["findings"][0]["locations"][0]["commit"]);
    assert_eq!(json["findings"][0]["secret"], crate::util::redacted(&keys[0]));
    assert!(!json.to_string().contains(&keys[0]), "the store never holds the secret");
    for file in ["keysweep.db", "keysweep.db-wal"] {
        let bytes = std::fs::read(store.join(file)).unwrap_or_default();
        assert!(!bytes.windows(keys[0].len()).any(|w| w == keys[0].as_bytes()), "{file}");
    }
    // Merging it again adds nothing.
    TestCommand::new().args(["merge", "-q", "--datastore"]).arg(&store).arg(&json_report).run();
    let (_, again, _) = report(&store, &[]);
    assert_eq!(again, found);
}

#[test]
fn an_image_on_standard_input_is_refused_by_name() {
    let dir = TestDir::new();
    let images = dir.create("images.txt", "# pre-push\ndocker-archive:-\n");
    let out = TestCommand::new()
        .args(["sweep", "--no-progress", "--images"])
        .arg(&images)
        .arg("--datastore")
        .arg(dir.join("store"))
        .run();
    out.assert_code(2);
    assert_eq!(
        out.stderr.trim(),
        format!(
            "keysweep: error: {}: docker-archive:- (standard input) cannot be swept; save the \
             image to a file and list docker-archive:FILE",
            images.display()
        ),
        "{out}"
    );
    assert!(!dir.join("store/keysweep.db").exists(), "nothing was recorded");
}

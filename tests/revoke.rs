//! `keysweep revoke` against a real moto server with IAM authentication enforced.
//!
//! moto 5.2 keeps accepting a key after `UpdateAccessKey Status=Inactive` (AWS rejects it with
//! `InvalidClientTokenId`). These tests therefore start moto through `tests/moto_revoke.py serve`,
//! which patches moto's access-key lookup in process so an inactive key is refused like an
//! unknown one; that is what lets `STS then rejects it` be asserted. moto also matches IAM actions
//! on resource `*` only, so the users' `iam:UpdateAccessKey` is granted on `*`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::moto::{Moto, credentials_file};
use crate::util::{Fakes, Output, TestCommand, TestDir, redacted};

/// The script that serves moto and builds the users.
fn script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto_revoke.py").display().to_string()
}

/// moto with the users of `moto_revoke.py world`: admin (`*`), rotator (may update and list
/// its keys), reader (may list, not update), victim (no policy), dormant (key inactive).
struct Aws {
    moto: Moto,
    world: Value,
    dir: TestDir,
}

impl Aws {
    fn start() -> Aws {
        let moto = Moto::start_command(3, &["python3".into(), script(), "serve".into()]);
        let dir = TestDir::new();
        let out = helper(&["world", &moto.endpoint(), &dir.path().display().to_string()]);
        assert!(out.status.success(), "moto_revoke.py world failed: {out:?}\n{}", moto.log());
        let text = std::fs::read_to_string(dir.join("world.json")).expect("world.json");
        Aws { moto, world: serde_json::from_str(&text).expect("world.json is JSON"), dir }
    }

    fn key(&self, user: &str) -> (String, String) {
        let field = |k: &str| self.world[user][k].as_str().expect("world field").to_string();
        (field("key_id"), field("secret"))
    }

    /// `KEY_ID SECRET` of a user, as a responder would paste it.
    fn pasted(&self, user: &str) -> String {
        let (id, secret) = self.key(user);
        format!("{id} {secret}\n")
    }

    /// The statuses of the user's keys, as the administrator lists them.
    fn status(&self, user: &str) -> String {
        let (id, secret) = self.key("admin");
        let out = helper(&["status", &self.moto.endpoint(), &id, &secret, user]);
        assert!(out.status.success(), "status failed: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// What STS says to the user's key: its ARN, or the error code.
    fn whoami(&self, user: &str) -> String {
        let (id, secret) = self.key(user);
        let out = helper(&["whoami", &self.moto.endpoint(), &id, &secret]);
        assert!(out.status.success(), "whoami failed: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `keysweep revoke` at this moto, with `args`.
    fn revoke(&self, args: &[&str]) -> TestCommand {
        let mut cmd = TestCommand::new();
        let endpoint = self.moto.endpoint();
        // In full, so the exact follow-up commands can be compared (hygiene.rs checks the
        // default, redacted form).
        cmd.args([
            "revoke",
            "--show-secrets",
            "--iam-endpoint",
            &endpoint,
            "--sts-endpoint",
            &endpoint,
        ])
        .args(args);
        cmd
    }

    /// As [`Aws::revoke`], signed with the administrator's key from the environment.
    fn revoke_as_admin(&self, args: &[&str]) -> TestCommand {
        let (id, secret) = self.key("admin");
        let mut cmd = self.revoke(&["--as-admin"]);
        cmd.args(args).env("AWS_ACCESS_KEY_ID", id).env("AWS_SECRET_ACCESS_KEY", secret);
        cmd
    }
}

fn helper(args: &[&str]) -> std::process::Output {
    Command::new("python3")
        .arg(script())
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run python3 tests/moto_revoke.py")
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

const ARN_PREFIX: &str = "arn:aws:iam::123456789012:user/";

/// The follow-up's CloudTrail query as keysweep must print it.
fn cloudtrail(key_id: &str, start: &str, end: &str) -> String {
    format!(
        "aws cloudtrail lookup-events --region us-east-1 --lookup-attributes \
         AttributeKey=AccessKeyId,AttributeValue={key_id} --start-time {start} --end-time {end}"
    )
}

#[test]
fn own_key_deactivates_itself_and_sts_then_rejects_it() {
    let aws = Aws::start();
    let (id, _) = aws.key("rotator");
    assert_eq!(aws.whoami("rotator"), format!("{ARN_PREFIX}rotator"));
    let out = aws.revoke(&["--yes", "--format", "json"]).stdin(aws.pasted("rotator")).run();
    out.assert_code(0);
    let report = json(&out);
    assert_eq!(report["key_id"], id.as_str());
    assert_eq!(report["outcome"], "deactivated");
    assert_eq!(report["user"], "rotator");
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["as_admin"], false);
    assert_eq!(
        report["message"],
        "iam:UpdateAccessKey set the key of IAM user rotator to Inactive"
    );
    assert_eq!(aws.status("rotator"), "Inactive");
    assert_eq!(aws.whoami("rotator"), "InvalidClientTokenId");
    // No commit date: the window is the 90 days before now.
    let follow = &report["follow_up"];
    let (start, end) = (follow["start"].as_str().unwrap(), follow["end"].as_str().unwrap());
    let span = end.parse::<jiff::Timestamp>().unwrap() - start.parse::<jiff::Timestamp>().unwrap();
    assert_eq!(span.get_seconds(), 90 * 24 * 3600);
    assert_eq!(follow["start_from"], "90 days ago (no commit date)");
    assert_eq!(follow["cloudtrail"], serde_json::json!([cloudtrail(&id, start, end)]));
    assert!(!out.stdout.contains(&aws.key("rotator").1), "the secret was printed: {out}");

    // Once inactive, the key cannot sign for itself any more: AWS (and the patched moto)
    // reject it as an unknown key.
    let again = aws.revoke(&["--yes", "--format", "json"]).stdin(aws.pasted("rotator")).run();
    again.assert_code(1);
    assert_eq!(json(&again)["outcome"], "invalid-key");
}

#[test]
fn dry_run_changes_nothing_and_says_what_it_would_do() {
    let aws = Aws::start();
    let (id, secret) = aws.key("rotator");
    let out = aws.revoke(&[]).stdin(format!("{id}:{secret}")).run();
    out.assert_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], format!("{id} (IAM user rotator): would-deactivate [dry run]"));
    assert_eq!(
        lines[1],
        "  would call iam:UpdateAccessKey UserName=rotator Status=Inactive with the key itself \
         (dry run: pass --yes to deactivate)"
    );
    assert!(!out.stdout.contains(&secret), "the secret was printed: {out}");
    assert_eq!(aws.status("rotator"), "Active");
    assert_eq!(aws.whoami("rotator"), format!("{ARN_PREFIX}rotator"));
}

#[test]
fn a_key_without_the_permission_is_not_permitted_and_unchanged() {
    let aws = Aws::start();
    let out = aws.revoke(&["--yes", "--format", "json"]).stdin(aws.pasted("reader")).run();
    out.assert_code(1);
    let report = json(&out);
    assert_eq!(report["outcome"], "not-permitted");
    assert_eq!(report["user"], "reader");
    assert!(
        report["message"].as_str().unwrap().starts_with(
            "AccessDenied: User: arn:aws:iam::123456789012:user/reader is not authorized"
        ),
        "{out}"
    );
    assert_eq!(aws.status("reader"), "Active");
    assert_eq!(aws.whoami("reader"), format!("{ARN_PREFIX}reader"));
}

#[test]
fn an_inactive_key_is_already_inactive() {
    let aws = Aws::start();
    let (id, _) = aws.key("dormant");
    let out = aws.revoke_as_admin(&["--yes", "--format", "json", "--key-id", &id]).run();
    out.assert_code(0);
    let report = json(&out);
    assert_eq!(report["outcome"], "already-inactive");
    assert_eq!(report["user"], "dormant");
    assert_eq!(report["message"], "the key of IAM user dormant is already inactive");
    assert_eq!(aws.status("dormant"), "Inactive");
}

#[test]
fn an_admin_deactivates_another_users_key_by_key_id() {
    let aws = Aws::start();
    let (id, _) = aws.key("victim");
    let dry = aws.revoke_as_admin(&["--key-id", &id]).run();
    dry.assert_code(0);
    assert_eq!(
        dry.stdout.lines().nth(1),
        Some(
            "  would call iam:UpdateAccessKey UserName=victim Status=Inactive with the \
             administrator's credentials (dry run: pass --yes to deactivate)"
        )
    );
    assert_eq!(aws.status("victim"), "Active");
    let out = aws.revoke_as_admin(&["--key-id", &id, "--yes"]).run();
    out.assert_code(0);
    assert_eq!(
        out.stdout.lines().next(),
        Some(format!("{id} (IAM user victim): deactivated").as_str())
    );
    assert_eq!(aws.status("victim"), "Inactive");
    assert_eq!(aws.whoami("victim"), "InvalidClientTokenId");
    // The administrator's key is untouched.
    assert_eq!(aws.status("admin"), "Active");
}

/// A repository whose one commit (dated 2024-01-02T03:04:05Z) adds `user`'s key.
fn leaked_repo(aws: &Aws, user: &str) -> PathBuf {
    let repo = aws.dir.join("repo");
    std::fs::create_dir_all(repo.join("deploy")).expect("mkdir");
    let (id, secret) = aws.key(user);
    std::fs::write(repo.join("deploy/credentials"), credentials_file(&id, &secret, None))
        .expect("write");
    for args in
        [&["init", "-q", "-b", "main"][..], &["add", "."], &["commit", "-q", "-m", "deploy"]]
    {
        let status = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "Dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.com")
            .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
            .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
            .status()
            .expect("run git");
        assert!(status.success(), "git {args:?}");
    }
    repo
}

/// The fingerprint of the AWS key-id finding in a JSON report.
fn key_fingerprint(report: &Value) -> String {
    let findings = report["findings"].as_array().expect("findings");
    let keys: Vec<&Value> = findings.iter().filter(|f| f["rule"] == "aws.access-key-id").collect();
    assert_eq!(keys.len(), 1, "{report:#}");
    keys[0]["fingerprint"].as_str().expect("fingerprint").to_string()
}

#[test]
fn by_fingerprint_from_the_store_with_the_window_from_the_commit_date() {
    let aws = Aws::start();
    let (id, _) = aws.key("victim");
    let repo = leaked_repo(&aws, "victim");
    let store = aws.dir.join("store");
    let (repo, store) = (repo.display().to_string(), store.display().to_string());
    let (scan, report) = TestCommand::new()
        .args(["git", &repo, "--datastore", &store, "--format", "json", "--no-progress"])
        .run_json();
    scan.assert_code(1);
    let fingerprint = key_fingerprint(&report);
    assert_eq!(report["findings"][0]["secret"], redacted(&id));

    // The store holds no key id: it must be given, and must be the finding's.
    let missing =
        aws.revoke_as_admin(&["--datastore", &store, "--fingerprint", &fingerprint]).run();
    missing.assert_code(2);
    assert!(
        missing.stderr.contains("the findings store holds no key id: give --key-id"),
        "{missing}"
    );
    let (other, _) = aws.key("reader");
    let wrong = aws
        .revoke_as_admin(&[
            "--datastore",
            &store,
            "--fingerprint",
            &fingerprint,
            "--key-id",
            &other,
        ])
        .run();
    wrong.assert_code(2);
    assert!(wrong.stderr.contains(&format!("is not the key of finding {fingerprint}")), "{wrong}");
    assert_eq!(aws.status("reader"), "Active");

    let out = aws
        .revoke_as_admin(&[
            "--datastore",
            &store,
            "--fingerprint",
            &fingerprint,
            "--key-id",
            &id,
            "--yes",
            "--cloudtrail-region",
            "us-east-1",
            "--cloudtrail-region",
            "eu-west-1",
        ])
        .run();
    out.assert_code(0);
    assert_eq!(aws.status("victim"), "Inactive");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], format!("{id} (IAM user victim): deactivated"));
    let window = lines[3];
    let prefix = "Next: what did the key do? Exposure window 2024-01-02T03:04:05Z (commit date of \
                  the leak) to ";
    assert!(window.starts_with(prefix), "{out}");
    let end = window[prefix.len()..].strip_suffix(" (now).").expect("window end");
    assert_eq!(
        lines[4],
        "  CloudTrail records management events per region: run the query in every region the \
         account uses (IAM and global STS calls are recorded in us-east-1):"
    );
    assert_eq!(lines[5], format!("    {}", cloudtrail(&id, "2024-01-02T03:04:05Z", end)));
    assert_eq!(
        lines[6],
        format!("    {}", cloudtrail(&id, "2024-01-02T03:04:05Z", end))
            .replace("--region us-east-1", "--region eu-west-1")
    );
    assert_eq!(
        &lines[7..],
        [
            "Then rotate:".to_string(),
            "  1. create a new access key for the user (aws iam create-access-key --user-name \
             victim)"
                .to_string(),
            "  2. deploy the new key everywhere the old one was used, and check each service works"
                .to_string(),
            format!(
                "  3. after the window is reviewed, delete the old key (aws iam delete-access-key \
                 --user-name victim --access-key-id {id})"
            ),
        ]
    );

    // The store remembers the attempt (with the key id redacted).
    let db = rusqlite::Connection::open(Path::new(&store).join("keysweep.db")).expect("open db");
    let rows: Vec<(String, String, Option<String>, String)> = db
        .prepare("SELECT fingerprint, key_preview, user_name, outcome FROM revocations")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [(fingerprint, redacted(&id), Some("victim".to_string()), "deactivated".into())]
    );
}

#[test]
fn by_fingerprint_from_a_report_written_with_show_secrets() {
    let aws = Aws::start();
    let (id, secret) = aws.key("rotator");
    let tree = aws.dir.join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    std::fs::write(tree.join("credentials"), credentials_file(&id, &secret, None)).expect("write");
    let (tree, shown, hidden) = (
        tree.display().to_string(),
        aws.dir.join("shown.json").display().to_string(),
        aws.dir.join("hidden.json").display().to_string(),
    );
    for (path, extra) in [(&shown, Some("--show-secrets")), (&hidden, None)] {
        let mut cmd = TestCommand::new();
        cmd.args(["scan", &tree, "--format", "json", "--no-progress", "-o", path]).args(extra);
        cmd.run().assert_code(1);
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&shown).unwrap()).expect("report");
    let fingerprint = key_fingerprint(&report);

    // A redacted report gives neither the key id nor the secret.
    let redacted_out =
        aws.revoke(&["--report", &hidden, "--fingerprint", &fingerprint, "--yes"]).run();
    redacted_out.assert_code(2);
    assert!(
        redacted_out.stderr.contains(
            "the report is redacted (no key id): give --key-id, or write the report with \
             --show-secrets"
        ),
        "{redacted_out}"
    );
    let absent = aws.revoke(&["--report", &shown, "--fingerprint", "nope", "--yes"]).run();
    absent.assert_code(2);
    assert!(absent.stderr.contains(&format!("no finding with fingerprint nope in {shown}")));
    assert_eq!(aws.status("rotator"), "Active");

    let out = aws
        .revoke(&["--report", &shown, "--fingerprint", &fingerprint, "--yes", "--format", "json"])
        .run();
    out.assert_code(0);
    let result = json(&out);
    assert_eq!(result["outcome"], "deactivated");
    assert_eq!(result["fingerprint"], fingerprint.as_str());
    assert!(!out.stdout.contains(&secret), "the secret was printed: {out}");
    assert_eq!(aws.status("rotator"), "Inactive");
    assert_eq!(aws.whoami("rotator"), "InvalidClientTokenId");
}

#[test]
fn misuse_exits_2() {
    let out = TestCommand::new().args(["revoke"]).stdin("not a key\n").run();
    out.assert_code(2);
    assert!(out.stderr.contains("standard input holds no access key"), "{out}");
    let out = TestCommand::new().args(["revoke", "--as-admin", "--key-id", "AKIA1"]).run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("--key-id ***** is not an AWS access key id (AKIA..., 20 characters)"),
        "{out}"
    );
    let key_id = Fakes::new(9).key_id("AKIA", 123_456_789_012);
    let out = TestCommand::new()
        .args(["revoke", "--as-admin", "--key-id", &key_id])
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "--as-admin needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"
        ),
        "{out}"
    );
}

#[test]
fn an_admin_profile_of_the_shared_credentials_file_deactivates_a_key() {
    let aws = Aws::start();
    let (id, _) = aws.key("victim");
    let (admin_id, admin_secret) = aws.key("admin");
    let dir = crate::util::TestDir::new();
    let file = dir.create(
        "credentials",
        format!(
            "[default]\naws_access_key_id = {id}\naws_secret_access_key = not-this-one\n\n\
             [profile incident]\naws_access_key_id = {admin_id}\n\
             aws_secret_access_key = {admin_secret}\n"
        ),
    );
    let mut cmd = aws.revoke(&["--profile", "incident", "--key-id", &id, "--yes"]);
    // The profile signs, not the environment: the environment's key is the victim's own.
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", &file)
        .env("AWS_ACCESS_KEY_ID", &id)
        .env("AWS_SECRET_ACCESS_KEY", "not-this-one-either");
    let out = cmd.run();
    out.assert_code(0);
    assert_eq!(
        out.stdout.lines().next(),
        Some(format!("{id} (IAM user victim): deactivated").as_str())
    );
    assert_eq!(aws.status("victim"), "Inactive");
    assert!(!out.stdout.contains(&admin_secret) && !out.stderr.contains(&admin_secret), "{out}");

    let mut missing = aws.revoke(&["--profile", "nobody", "--key-id", &id]);
    missing.env("AWS_SHARED_CREDENTIALS_FILE", &file);
    let out = missing.run();
    out.assert_code(2);
    assert!(out.stderr.contains("profile \"nobody\""), "{out}");
}

//! Owners: the CODEOWNERS owners of every path a secret was found at (GitHub semantics: last
//! match wins, directory patterns, `**`, a last match without owners means no owner), the
//! author of the commit that introduced it, and the AWS account, named from an Organizations
//! export.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::moto::credentials_file;
use crate::util::{ACCOUNT, Fakes, TestCommand, TestDir};

const CODEOWNERS: &str = "\
# Everything, then more specific rules below: the last match wins.
*                 @org/everyone
*.env             @org/env-owners
/config/          @org/config
**/secrets/**     @org/secrets
/vendor/
docs/*            @org/docs   # direct children only
";

/// Plants one fake key pair at each path; returns nothing (paths identify findings).
fn plant(dir: &TestDir, fakes: &mut Fakes, paths: &[&str]) {
    for path in paths {
        let id = fakes.key_id("AKIA", ACCOUNT);
        dir.create(path, credentials_file(&id, &fakes.secret(), None));
    }
}

/// `relative_path` → the location's `codeowners` object.
fn codeowners_by_path(report: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for finding in report["findings"].as_array().unwrap() {
        if finding["rule"] != "aws.access-key-id" {
            continue;
        }
        for location in finding["locations"].as_array().unwrap() {
            let path = location["relative_path"].as_str().unwrap().to_string();
            out.push((path, location["codeowners"].clone()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn owners_of<'a>(table: &'a [(String, Value)], path: &str) -> &'a Value {
    &table.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{path}: {table:#?}")).1
}

fn names(value: &Value) -> Vec<&str> {
    value["owners"]
        .as_array()
        .unwrap_or_else(|| panic!("no owners in {value}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn codeowners_last_match_directories_double_star_and_no_owner() {
    let dir = TestDir::new();
    dir.create(".github/CODEOWNERS", CODEOWNERS);
    // A root CODEOWNERS is ignored: .github/CODEOWNERS comes first.
    dir.create("CODEOWNERS", "* @wrong-file\n");
    let mut fakes = Fakes::new(81);
    plant(
        &dir,
        &mut fakes,
        &[
            "app.env",
            "README.txt",
            "config/prod.env",
            "nested/config/x.env",
            "a/b/secrets/c/key.txt",
            "vendor/lib/key.txt",
            "docs/key.txt",
            "docs/sub/key.txt",
        ],
    );
    let mut cmd = TestCommand::new();
    let (out, report) =
        cmd.current_dir(dir.path()).args(["scan", ".", "-f", "json", "--no-progress"]).run_json();
    out.assert_code(1);
    let table = codeowners_by_path(&report);
    assert_eq!(names(owners_of(&table, "app.env")), ["@org/env-owners"]);
    assert_eq!(names(owners_of(&table, "README.txt")), ["@org/everyone"]);
    // `/config/` is anchored and comes after `*.env`.
    assert_eq!(names(owners_of(&table, "config/prod.env")), ["@org/config"]);
    assert_eq!(names(owners_of(&table, "nested/config/x.env")), ["@org/env-owners"]);
    assert_eq!(names(owners_of(&table, "a/b/secrets/c/key.txt")), ["@org/secrets"]);
    // The last match names nobody: no owner, and the report says which line decided.
    let vendor = owners_of(&table, "vendor/lib/key.txt");
    assert_eq!(names(vendor), Vec::<&str>::new());
    assert_eq!(vendor["pattern"], "/vendor/");
    assert_eq!(vendor["line"], 6);
    assert_eq!(vendor["file"], ".github/CODEOWNERS");
    assert_eq!(names(owners_of(&table, "docs/key.txt")), ["@org/docs"]);
    assert_eq!(
        names(owners_of(&table, "docs/sub/key.txt")),
        ["@org/everyone"],
        "docs/* is not recursive"
    );
    // The finding's owner block lists the same.
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["locations"][0]["relative_path"] == "app.env")
        .unwrap();
    assert_eq!(finding["owner"]["codeowners"][0]["owners"][0], "@org/env-owners");
    assert_eq!(finding["owner"]["aws_account"]["id"], format!("{ACCOUNT:012}"));
    assert_eq!(finding["owner"]["aws_account"]["source"], "key-id");
}

#[test]
fn codeowners_of_the_enclosing_work_tree_when_scanning_a_subdirectory() {
    let dir = TestDir::new();
    git(dir.path(), &["init", "-q"]);
    dir.create("docs/CODEOWNERS", "/services/billing/ @team/billing\n");
    let mut fakes = Fakes::new(82);
    plant(&dir, &mut fakes, &["services/billing/app.env", "services/other/app.env"]);
    let mut cmd = TestCommand::new();
    let (out, report) = cmd
        .current_dir(dir.path())
        .args(["scan", "services", "-f", "json", "--no-progress"])
        .run_json();
    out.assert_code(1);
    let table = codeowners_by_path(&report);
    let billing = owners_of(&table, "billing/app.env");
    assert_eq!(names(billing), ["@team/billing"]);
    assert_eq!(billing["repo_path"], "services/billing/app.env");
    assert_eq!(billing["file"], "docs/CODEOWNERS");
    let other = owners_of(&table, "other/app.env");
    assert_eq!(names(other), Vec::<&str>::new());
    assert!(other.get("pattern").is_none(), "no line matched: {other}");
}

#[test]
fn no_codeowners_file_no_codeowners_entry() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(83);
    plant(&dir, &mut fakes, &["app.env"]);
    let mut cmd = TestCommand::new();
    let (_, report) =
        cmd.current_dir(dir.path()).args(["scan", ".", "-f", "json", "--no-progress"]).run_json();
    let finding = &report["findings"][0];
    assert!(finding["locations"][0].get("codeowners").is_none(), "{finding:#}");
    assert!(finding["owner"].get("codeowners").is_none());
}

/// Runs git in `dir` with a fixed identity.
fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Alice Example")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice Example")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .env("GIT_AUTHOR_DATE", "2024-05-01T12:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-05-01T12:00:00Z")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn git_history_gives_author_and_codeowners_also_from_a_bare_repository() {
    let dir = TestDir::new();
    let repo = dir.join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::create_dir_all(repo.join(".github")).unwrap();
    std::fs::write(repo.join(".github/CODEOWNERS"), "*.ini @org/platform\n").unwrap();
    let mut fakes = Fakes::new(84);
    let id = fakes.key_id("AKIA", ACCOUNT);
    std::fs::create_dir_all(repo.join("deploy")).unwrap();
    std::fs::write(repo.join("deploy/creds.ini"), credentials_file(&id, &fakes.secret(), None))
        .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "add deploy credentials"]);

    let check = |report: &Value, file: &str| {
        let finding = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "aws.access-key-id")
            .unwrap_or_else(|| panic!("{report:#}"));
        let by = &finding["owner"]["introduced_by"];
        assert_eq!(by["name"], "Alice Example");
        assert_eq!(by["email"], "alice@example.com");
        assert_eq!(by["date"], "2024-05-01T12:00:00Z");
        let location = &finding["locations"][0];
        assert_eq!(location["relative_path"], "deploy/creds.ini");
        assert_eq!(location["codeowners"]["owners"][0], "@org/platform", "{finding:#}");
        assert_eq!(location["codeowners"]["file"], file);
    };
    let mut cmd = TestCommand::new();
    let (out, report) = cmd.args(["git", "-f", "json", "--no-progress"]).arg(&repo).run_json();
    out.assert_code(1);
    check(&report, ".github/CODEOWNERS");

    let bare = dir.join("bare.git");
    git(dir.path(), &["clone", "-q", "--bare", "repo", "bare.git"]);
    let mut cmd = TestCommand::new();
    let (out, report) = cmd.args(["git", "-f", "json", "--no-progress"]).arg(&bare).run_json();
    out.assert_code(1);
    check(&report, "HEAD:.github/CODEOWNERS");
}

#[test]
fn aws_account_named_from_an_organizations_export() {
    let dir = TestDir::new();
    let side = TestDir::new();
    let mut fakes = Fakes::new(85);
    plant(&dir, &mut fakes, &["creds.ini"]);
    let accounts = side.create(
        "accounts.json",
        serde_json::json!({"Accounts": [
            {"Id": format!("{ACCOUNT:012}"), "Arn": "arn:aws:organizations::1:account/o-1/1",
             "Email": "aws-prod@example.com", "Name": "Production", "Status": "ACTIVE"},
            {"Id": "210987654321", "Email": "dev@example.com", "Name": "Dev", "Status": "ACTIVE"}
        ]})
        .to_string(),
    );
    let mut cmd = TestCommand::new();
    let (out, report) = cmd
        .current_dir(dir.path())
        .args(["scan", ".", "-f", "json", "--no-progress", "--aws-accounts"])
        .arg(&accounts)
        .run_json();
    out.assert_code(1);
    let account = &report["findings"][0]["owner"]["aws_account"];
    assert_eq!(account["id"], format!("{ACCOUNT:012}"));
    assert_eq!(account["name"], "Production");
    assert_eq!(account["email"], "aws-prod@example.com");
    assert_eq!(account["source"], "key-id");
    // Text names it too.
    let mut cmd = TestCommand::new();
    let out = cmd
        .current_dir(dir.path())
        .args(["scan", ".", "--no-progress", "--color", "never", "--aws-accounts"])
        .arg(&accounts)
        .run();
    assert!(out.stdout.contains("\"Production\" <aws-prod@example.com>"), "{out}");
    // A malformed export is a usage error, before scanning.
    let bad = side.create("bad.json", "{\"Accounts\": 3}");
    let mut cmd = TestCommand::new();
    let out = cmd.current_dir(dir.path()).args(["scan", ".", "--aws-accounts"]).arg(&bad).run();
    out.assert_code(2);
    assert!(out.stderr.contains("bad.json"), "{out}");
}

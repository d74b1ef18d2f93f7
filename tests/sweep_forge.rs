//! `keysweep sweep --github-org` / `--gitlab-group` end to end (issue 8): the mock forge
//! (`tests/mock_forge.py`, see `listing.rs`) lists repositories whose clone URLs point at a real
//! `git daemon` (see `sweep.rs`), both on 127.0.0.1 and started by each test.
//!
//! Asserted exactly: the forge requests (pages, token header and scheme), the repositories
//! swept, the findings `report` rebuilds from the store, the exit codes and the error of a
//! refused listing, and that the token appears in no output and not in the store.

use std::collections::BTreeSet;
use std::path::Path;

use keysweep::sweep::targets::{Shard, normalise_repo};
use serde_json::{Value, json};

use crate::listing::MockForge;
use crate::sweep::{GitDaemon, make_repos};
use crate::util::{Fakes, Output, TestCommand, TestDir, redacted};

const RULE: &str = "aws.access-key-id";
/// The variable `--token-env` names; the token itself is generated per test.
const TOKEN_VAR: &str = "KEYSWEEP_TEST_FORGE_TOKEN";
/// Repositories per organisation; the mock serves at most `PER_PAGE` a page: two pages.
const REPOS: usize = 5;
const PER_PAGE: usize = 3;

/// `REPOS` generated repositories (one key each) behind a `git daemon`.
struct Served {
    dir: TestDir,
    daemon: GitDaemon,
    keys: Vec<String>,
}

impl Served {
    fn new(seed: u64) -> Served {
        let dir = TestDir::new();
        let base = dir.join("srv");
        let keys = make_repos(&base, REPOS, &mut Fakes::new(seed));
        let daemon = GitDaemon::start(&base);
        Served { dir, daemon, keys }
    }

    /// `git://127.0.0.1:PORT/rI` of every repository.
    fn urls(&self) -> Vec<String> {
        (0..REPOS).map(|i| self.daemon.url(&format!("r{i}"))).collect()
    }

    /// What `report` must show for repositories `which`: (rule, repository, path, line,
    /// column, redacted secret).
    fn expected(&self, which: impl IntoIterator<Item = usize>) -> BTreeSet<Finding> {
        which
            .into_iter()
            .map(|i| {
                let repository = self.daemon.url(&format!("r{i}"));
                (
                    RULE.to_string(),
                    repository,
                    "keys.txt".to_string(),
                    2,
                    21,
                    redacted(&self.keys[i]),
                )
            })
            .collect()
    }
}

type Finding = (String, String, String, u64, u64, String);

/// A generated forge token (never a literal in the repository).
fn token(seed: u64) -> String {
    Fakes::new(seed).hex(40)
}

/// `keysweep sweep -f json --no-progress --datastore STORE ARGS` with `TOKEN_VAR=token`.
fn sweep(store: &Path, args: &[&str], token: &str) -> Output {
    TestCommand::new()
        .args(["sweep", "-f", "json", "--no-progress", "--token-env", TOKEN_VAR, "--datastore"])
        .arg(store)
        .args(args)
        .env(TOKEN_VAR, token)
        .run()
}

fn summary(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("summary not JSON ({e}): {out}"))
}

fn counts(summary: &Value) -> [u64; 5] {
    ["repos_ok", "repos_failed", "repos_skipped", "blobs_scanned", "new_findings"]
        .map(|key| summary[key].as_u64().unwrap_or_else(|| panic!("no {key} in {summary}")))
}

/// `keysweep report -f json` on `store`: its output and every location as a `Finding`.
fn report(store: &Path) -> (Output, BTreeSet<Finding>) {
    let (out, json) = TestCommand::new()
        .args(["report", "--format", "json", "-q", "--datastore"])
        .arg(store)
        .run_json();
    let mut found = BTreeSet::new();
    for finding in json["findings"].as_array().expect("findings") {
        for location in finding["locations"].as_array().expect("locations") {
            let text =
                |v: &Value| v.as_str().unwrap_or_else(|| panic!("not text: {v}")).to_string();
            let number = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"));
            let row = (
                text(&finding["rule"]),
                text(&location["repository"]),
                text(&location["relative_path"]),
                number(&location["line"]),
                number(&location["column"]),
                text(&finding["secret"]),
            );
            assert!(found.insert(row.clone()), "{row:?} twice in {json}");
        }
    }
    (out, found)
}

fn assert_no_token(token: &str, outputs: &[&Output], store: &Path) {
    for out in outputs {
        assert!(!out.stdout.contains(token) && !out.stderr.contains(token), "token leaked: {out}");
    }
    let db = std::fs::read(store.join("keysweep.db")).expect("the store's database");
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()), "token in keysweep.db");
}

/// A GitHub organisation `org` listing `urls` over Link-paginated pages to `token`.
fn github_forge(org: &str, urls: &[String], token: &str) -> MockForge {
    MockForge::start(json!({
        "token": token,
        "routes": [{"path": format!("/orgs/{org}/repos"), "query": {"type": "all"},
                    "pages": {"urls": urls, "field": "clone_url", "paging": "link",
                              "per_page": PER_PAGE}}],
    }))
}

/// Every request the forge saw: (path, page), and each carried `auth`.
fn assert_requests(forge: &MockForge, path: &str, pages: &[&str], auth: &Value) {
    let expected: Vec<(String, String)> =
        pages.iter().map(|p| (path.to_string(), p.to_string())).collect();
    assert_eq!(forge.pages(), expected);
    for request in forge.requests() {
        assert_eq!(&request["authorization"], auth, "{request}");
        assert_eq!(request["status"], 200, "{request}");
    }
}

#[test]
fn github_org_sweep_scans_every_listed_repository_with_the_token_as_bearer() {
    let served = Served::new(901);
    let token = token(902);
    let forge = github_forge("acme", &served.urls(), &token);
    let store = served.dir.join("store");

    let out = sweep(&store, &["--github-org", "acme", "--api-url", &forge.origin], &token);
    out.assert_code(1);
    let summary = summary(&out);
    assert_eq!(counts(&summary), [5, 0, 0, 10, 5], "{out}");
    assert_eq!(summary["failures"], json!([]));
    assert_requests(
        &forge,
        "/orgs/acme/repos",
        &["1", "2"],
        &json!({"header": "Authorization", "scheme": "Bearer", "valid": true}),
    );
    for request in forge.requests() {
        assert_eq!(request["query"]["per_page"], "100");
        assert_eq!(request["query"]["type"], "all");
    }

    let (report_out, found) = report(&store);
    report_out.assert_code(1);
    assert_eq!(found, served.expected(0..REPOS));
    assert_no_token(&token, &[&out, &report_out], &store);
}

#[test]
fn gitlab_group_sweep_scans_every_listed_project_with_the_private_token() {
    let served = Served::new(911);
    let token = token(912);
    // A subgroup: its full path is one URL-encoded segment.
    let forge = MockForge::start(json!({
        "token": token,
        "routes": [{"path": "/groups/acme%2Fplatform/projects",
                    "query": {"include_subgroups": "true"},
                    "pages": {"urls": served.urls(), "field": "http_url_to_repo",
                              "paging": "x-next-page", "per_page": PER_PAGE}}],
    }));
    let store = served.dir.join("store");

    // -vvv: every diagnostic keysweep logs is on stderr, and none may carry the token.
    let args = ["-vvv", "--gitlab-group", "acme/platform", "--api-url", &forge.origin];
    let out = sweep(&store, &args, &token);
    out.assert_code(1);
    let summary = summary(&out);
    assert_eq!(counts(&summary), [5, 0, 0, 10, 5], "{out}");
    assert_eq!(summary["failures"], json!([]));
    assert_requests(
        &forge,
        "/groups/acme%2Fplatform/projects",
        &["1", "2"],
        &json!({"header": "PRIVATE-TOKEN", "scheme": null, "valid": true}),
    );

    // The listing's own log lines are there, so the token check below reads them.
    let pages: Vec<&str> = out.stderr.lines().filter(|l| l.contains(": page ")).collect();
    assert_eq!(
        pages,
        [
            "keysweep[debug]: GitLab group \"acme/platform\": page 1: 3 repositories",
            "keysweep[debug]: GitLab group \"acme/platform\": page 2: 2 repositories",
        ]
    );

    let (report_out, found) = report(&store);
    report_out.assert_code(1);
    assert_eq!(found, served.expected(0..REPOS));
    assert_no_token(&token, &[&out, &report_out], &store);
}

#[test]
fn a_refused_listing_exits_2_naming_the_organisation_and_records_nothing() {
    let served = Served::new(921);
    let (good, bad) = (token(922), token(923));
    let forge = github_forge("acme", &served.urls(), &good);
    let store = served.dir.join("store");

    let out = sweep(&store, &["--github-org", "acme", "--api-url", &forge.origin], &bad);
    out.assert_code(2);
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(
        out.stderr,
        format!(
            "keysweep: error: cannot list GitHub organisation acme: GitHub organisation \"acme\": \
             {}/orgs/acme/repos?per_page=100&type=all&page=1: HTTP 401 (Bad credentials)\n",
            forge.origin
        )
    );
    assert!(!out.stderr.contains(&bad), "token leaked: {out}");
    // Refused before the store is opened: no run, no mirror, no finding.
    assert!(!store.exists(), "{} was created", store.display());
    let requests = forge.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(
        requests[0]["authorization"],
        json!({"header": "Authorization", "scheme": "Bearer", "valid": false})
    );
}

#[test]
fn shards_of_a_github_org_cover_every_listed_repository_once() {
    let served = Served::new(931);
    let token = token(932);
    let urls = served.urls();
    let forge = github_forge("acme", &urls, &token);

    let mut swept = BTreeSet::new();
    let mut total = 0;
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let mine: Vec<usize> = (0..REPOS)
            .filter(|&r| Shard::parse(&shard).expect("shard").contains(&normalise_repo(&urls[r])))
            .collect();
        let store = served.dir.join(&format!("shard{i}"));
        let out = sweep(
            &store,
            &["--github-org", "acme", "--api-url", &forge.origin, "--shard", &shard],
            &token,
        );
        // A shard the hash leaves empty finds nothing: exit 0.
        out.assert_code(if mine.is_empty() { 0 } else { 1 });
        let n = mine.len() as u64;
        assert_eq!(counts(&summary(&out)), [n, 0, 0, 2 * n, n], "{out}");
        let (report_out, found) = report(&store);
        assert_eq!(found, served.expected(mine.iter().copied()), "shard {shard}");
        for row in &found {
            assert!(swept.insert(row.1.clone()), "{} in both shards", row.1);
        }
        total += n;
        assert_no_token(&token, &[&out, &report_out], &store);
    }
    assert_eq!(total, REPOS as u64);
    assert_eq!(swept, urls.iter().cloned().collect::<BTreeSet<_>>());
    // Each shard read the whole listing (both pages) before choosing its repositories.
    assert_requests(
        &forge,
        "/orgs/acme/repos",
        &["1", "2", "1", "2"],
        &json!({"header": "Authorization", "scheme": "Bearer", "valid": true}),
    );
}

#[test]
fn a_refused_listing_beside_a_manifest_still_sweeps_the_manifest() {
    let served = Served::new(941);
    let (good, bad) = (token(942), token(943));
    let urls = served.urls();
    let forge = github_forge("acme", &urls[2..], &good);
    let manifest = served.dir.create("repos.txt", format!("{}\n{}\n", urls[0], urls[1]));
    let store = served.dir.join("store");
    let args = ["--repos", manifest.to_str().expect("utf-8 path"), "--github-org", "acme"];
    let api = ["--api-url", forge.origin.as_str()];

    let out = sweep(&store, &[&args[..], &api[..]].concat(), &bad);
    // Found something in what could be read: 1, with the organisation's error named.
    out.assert_code(1);
    let first = summary(&out);
    assert_eq!(counts(&first), [2, 0, 0, 4, 2], "{out}");
    let error = format!(
        "GitHub organisation \"acme\": {}/orgs/acme/repos?per_page=100&type=all&page=1: \
         HTTP 401 (Bad credentials)",
        forge.origin
    );
    assert_eq!(first["failures"], json!([["--github-org acme", error]]));
    assert_eq!(out.stderr, format!("keysweep: --github-org acme: {error}\n"), "{out}");
    let (report_out, found) = report(&store);
    assert_eq!(found, served.expected(0..2));
    assert_no_token(&bad, &[&out, &report_out], &store);

    // With the right token the same sweep lists the organisation and reads only what is new.
    let out = sweep(&store, &[&args[..], &api[..]].concat(), &good);
    out.assert_code(1);
    assert_eq!(counts(&summary(&out)), [3, 0, 2, 6, 3], "{out}");
    let (_, found) = report(&store);
    assert_eq!(found, served.expected(0..REPOS));
}

#[test]
fn two_refused_listings_and_nothing_else_exit_2_naming_both() {
    let served = Served::new(951);
    let (good, bad) = (token(952), token(953));
    let forge = github_forge("acme", &served.urls(), &good);
    let store = served.dir.join("store");
    let args = ["--github-org", "acme", "--gitlab-group", "grp", "--api-url", &forge.origin];

    let out = sweep(&store, &args, &bad);
    out.assert_code(2);
    assert_eq!(out.stdout, "", "{out}");
    let o = &forge.origin;
    assert_eq!(
        out.stderr,
        format!(
            "keysweep: --github-org acme: GitHub organisation \"acme\": \
             {o}/orgs/acme/repos?per_page=100&type=all&page=1: HTTP 401 (Bad credentials)\n\
             keysweep: error: cannot list GitLab group grp: GitLab group \"grp\": \
             {o}/groups/grp/projects?include_subgroups=true&per_page=100&page=1: \
             HTTP 401 (Bad credentials)\n"
        )
    );
    assert!(!store.exists(), "{} was created", store.display());
}

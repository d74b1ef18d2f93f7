//! Organisation and group listing (`keysweep::sweep::listing`) against a mock GitHub/GitLab
//! REST API: `tests/mock_forge.py` (Python 3 standard library only), started on a free
//! loopback port for each test and killed when the test ends (on drop).
//!
//! The mock logs every request (path, query, headers, whether a token came and whether it was
//! the right one, never its value); the tests assert those requests as well as the result.

use std::{
    process::Child,
    time::{Duration, Instant},
};

use keysweep::sweep::listing::{self, ListingError};
use serde_json::{Value, json};

use crate::moto::free_port;
use crate::util::{Fakes, TestDir, start_python_server};

/// A running `tests/mock_forge.py`, killed on drop.
pub(crate) struct MockForge {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) origin: String,
    dir: TestDir,
}

impl MockForge {
    /// Starts the mock with `routes` (the `routes.json` its docs describe) and waits for the
    /// port it prints.
    pub(crate) fn start(routes: Value) -> MockForge {
        let dir = TestDir::new();
        dir.create("routes.json", serde_json::to_vec(&routes).expect("routes JSON"));
        let (child, port) = start_python_server("mock_forge.py", &[dir.path().as_os_str()], &dir);
        MockForge { child, origin: format!("http://127.0.0.1:{port}"), dir }
    }

    /// Every request so far, in order.
    pub(crate) fn requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.join("requests.jsonl")).unwrap_or_default();
        text.lines().map(|line| serde_json::from_str(line).expect("a JSON log line")).collect()
    }

    /// `(path, page)` of every request, in order.
    pub(crate) fn pages(&self) -> Vec<(String, String)> {
        self.requests().iter().map(|r| (text(&r["path"]), text(&r["query"]["page"]))).collect()
    }
}

impl Drop for MockForge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}")).to_string()
}

/// A token generated for this run (never a literal in the repository).
fn token(seed: u64) -> String {
    Fakes::new(seed).hex(40)
}

fn github_urls(org: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("https://github.example/{org}/repo-{i:03}.git")).collect()
}

fn sorted(mut urls: Vec<String>) -> Vec<String> {
    urls.sort();
    urls
}

#[test]
fn github_org_of_250_repositories_is_read_over_3_pages_with_the_token() {
    let token = token(1);
    let urls = github_urls("acme", 250);
    let forge = MockForge::start(json!({
        "token": token,
        "routes": [{"path": "/orgs/acme/repos", "query": {"type": "all"},
                    "pages": {"urls": urls, "field": "clone_url", "paging": "link"}}],
    }));
    let listed = listing::github_org_repos(&forge.origin, "acme", Some(&token)).expect("listed");
    assert_eq!(listed, sorted(urls));
    let requests = forge.requests();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    for (page, request) in requests.iter().enumerate() {
        let page = (page + 1).to_string();
        assert_eq!(request["path"], "/orgs/acme/repos");
        assert_eq!(request["query"], json!({"per_page": "100", "type": "all", "page": page}));
        assert_eq!(
            request["authorization"],
            json!({"header": "Authorization", "scheme": "Bearer", "valid": true})
        );
        assert_eq!(request["headers"]["accept"], "application/vnd.github+json");
        assert_eq!(request["headers"]["x-github-api-version"], "2022-11-28");
        assert_eq!(
            request["headers"]["user-agent"],
            concat!("keysweep/", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(request["status"], 200);
    }
}

#[test]
fn github_user_account_is_listed_when_no_organisation_has_the_name() {
    let urls = github_urls("alice", 3);
    let forge = MockForge::start(json!({
        "token": null,
        "routes": [{"path": "/api/v3/users/alice/repos", "query": {"type": "owner"},
                    "pages": {"urls": urls, "field": "clone_url", "paging": "link"}}],
    }));
    let api = format!("{}/api/v3/", forge.origin);
    let listed = listing::github_org_repos(&api, "alice", None).expect("listed");
    assert_eq!(listed, sorted(urls));
    let requests = forge.requests();
    let pages = forge.pages();
    assert_eq!(
        pages,
        [("/api/v3/orgs/alice/repos", "1"), ("/api/v3/users/alice/repos", "1")]
            .map(|(p, n)| (p.to_string(), n.to_string()))
    );
    assert_eq!((&requests[0]["status"], &requests[1]["status"]), (&json!(404), &json!(200)));
    assert!(requests.iter().all(|r| r["authorization"].is_null()), "{requests:#?}");
}

#[test]
fn github_name_that_is_neither_organisation_nor_user_is_not_found() {
    let forge = MockForge::start(json!({"token": null, "routes": []}));
    let error = listing::github_org_repos(&forge.origin, "nobody", None).expect_err("404 twice");
    assert!(matches!(error, ListingError::NotFound { .. }), "{error:?}");
    let o = &forge.origin;
    assert_eq!(
        error.to_string(),
        format!(
            "GitHub organisation or user \"nobody\" not found \
             ({o}/orgs/nobody/repos?per_page=100&type=all&page=1, \
             {o}/users/nobody/repos?per_page=100&type=owner&page=1)"
        )
    );
}

#[test]
fn github_bad_token_is_an_error_naming_the_organisation_and_status() {
    let (good, bad) = (token(2), token(3));
    let forge = MockForge::start(json!({
        "token": good,
        "routes": [{"path": "/orgs/acme/repos",
                    "pages": {"urls": github_urls("acme", 2), "field": "clone_url", "paging": "link"}}],
    }));
    let error = listing::github_org_repos(&forge.origin, "acme", Some(&bad)).expect_err("401");
    assert!(matches!(error, ListingError::Status { status: 401, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "GitHub organisation \"acme\": {}/orgs/acme/repos?per_page=100&type=all&page=1: \
             HTTP 401 (Bad credentials)",
            forge.origin
        )
    );
    assert!(!format!("{error:?}").contains(&bad), "the token leaked into {error:?}");
    let requests = forge.requests();
    assert_eq!(requests.len(), 1, "no user fallback after a 401: {requests:#?}");
    assert_eq!(requests[0]["authorization"]["valid"], false);
}

#[test]
fn github_rate_limit_is_an_error_naming_the_reset_time() {
    let forge = MockForge::start(json!({
        "token": null,
        "routes": [{"path": "/orgs/acme/repos", "status": 403,
                    "headers": {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
                                "x-ratelimit-reset": "4102444800"},
                    "body": {"message": "API rate limit exceeded for 127.0.0.1."}}],
    }));
    let started = Instant::now();
    let error = listing::github_org_repos(&forge.origin, "acme", None).expect_err("limited");
    assert!(started.elapsed() < Duration::from_secs(10), "no long sleep: {:?}", started.elapsed());
    assert!(matches!(error, ListingError::RateLimited { status: 403, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "GitHub organisation \"acme\": {}/orgs/acme/repos?per_page=100&type=all&page=1: \
             rate limited (HTTP 403); the limit resets at 2100-01-01T00:00:00Z",
            forge.origin
        )
    );
    assert_eq!(forge.requests().len(), 1);
}

#[test]
fn github_short_retry_after_is_waited_out_once() {
    let urls = github_urls("acme", 2);
    let forge = MockForge::start(json!({
        "token": null,
        "routes": [
            {"path": "/orgs/acme/repos", "times": 1, "status": 429, "headers": {"retry-after": "1"},
             "body": {"message": "You have exceeded a secondary rate limit."}},
            {"path": "/orgs/acme/repos",
             "pages": {"urls": urls, "field": "clone_url", "paging": "link"}},
        ],
    }));
    let listed = listing::github_org_repos(&forge.origin, "acme", None).expect("listed");
    assert_eq!(listed, sorted(urls));
    let statuses: Vec<Value> = forge.requests().iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses, [json!(429), json!(200)]);
}

#[test]
fn github_next_link_to_another_origin_is_an_error_not_a_short_list() {
    let token = token(4);
    let forge = MockForge::start(json!({
        "token": token,
        "routes": [{"path": "/orgs/acme/repos", "query": {"page": "1"},
                    "headers": {"Link": "<http://forge.invalid/orgs/acme/repos?page=2>; rel=\"next\""},
                    "body": [{"clone_url": "https://github.example/acme/one.git"}]}],
    }));
    let error = listing::github_org_repos(&forge.origin, "acme", Some(&token))
        .expect_err("off-origin next page");
    assert!(matches!(error, ListingError::OffOrigin { kind: "next page", .. }), "{error:?}");
    let o = &forge.origin;
    assert_eq!(
        error.to_string(),
        format!(
            "GitHub organisation \"acme\": {o}/orgs/acme/repos?per_page=100&type=all&page=1: \
             the next page http://forge.invalid/orgs/acme/repos?page=2 is not on the API's \
             origin {o}; not followed"
        )
    );
    assert_eq!(forge.requests().len(), 1);
}

#[test]
fn gitlab_group_with_subgroups_is_read_over_2_pages_by_x_next_page() {
    let token = token(5);
    let mut urls: Vec<String> = (1..=120)
        .map(|i| format!("https://gitlab.example/platform/security/app-{i}.git"))
        .collect();
    urls.extend(
        (1..=30).map(|i| format!("https://gitlab.example/platform/security/infra/tool-{i}.git")),
    );
    let forge = MockForge::start(json!({
        "token": token,
        "routes": [{"path": "/api/v4/groups/platform%2Fsecurity/projects",
                    "query": {"include_subgroups": "true"},
                    "pages": {"urls": urls, "field": "http_url_to_repo", "paging": "x-next-page"}}],
    }));
    let api = format!("{}/api/v4", forge.origin);
    let listed =
        listing::gitlab_group_repos(&api, "platform/security", Some(&token)).expect("listed");
    assert_eq!(listed.len(), 150);
    assert_eq!(listed, sorted(urls));
    let requests = forge.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for (page, request) in requests.iter().enumerate() {
        let page = (page + 1).to_string();
        assert_eq!(request["path"], "/api/v4/groups/platform%2Fsecurity/projects");
        assert_eq!(
            request["query"],
            json!({"include_subgroups": "true", "per_page": "100", "page": page})
        );
        assert_eq!(
            request["authorization"],
            json!({"header": "PRIVATE-TOKEN", "scheme": null, "valid": true})
        );
    }
}

#[test]
fn gitlab_missing_group_is_not_found() {
    let forge = MockForge::start(json!({"token": null, "routes": []}));
    let error = listing::gitlab_group_repos(&forge.origin, "gone", None).expect_err("404");
    assert_eq!(
        error.to_string(),
        format!(
            "GitLab group \"gone\" not found ({}/groups/gone/projects?include_subgroups=true&\
             per_page=100&page=1)",
            forge.origin
        )
    );
}

#[test]
fn unreachable_api_is_an_error_naming_the_url() {
    let api = format!("http://127.0.0.1:{}", free_port());
    let error = listing::github_org_repos(&api, "acme", None).expect_err("refused");
    assert!(matches!(error, ListingError::Request { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "GitHub organisation \"acme\": {api}/orgs/acme/repos?per_page=100&type=all&page=1: \
             request failed"
        )
    );
}

#[test]
fn api_url_with_credentials_is_refused() {
    let error = listing::gitlab_group_repos("https://user:pw@gitlab.example/api/v4", "g", None)
        .expect_err("credentials in the URL");
    assert_eq!(
        error.to_string(),
        "invalid API URL \"https://***@gitlab.example/api/v4\": credentials in the URL are not \
         supported; pass a token"
    );
}

#[test]
fn redirect_on_the_api_origin_is_followed_with_the_token_and_elsewhere_is_an_error() {
    let token = token(6);
    let urls = github_urls("renamed", 3);
    let forge = MockForge::start(json!({
        "token": token,
        "routes": [
            {"path": "/orgs/old-name/repos", "status": 301,
             "headers": {"Location": "{origin}/organizations/42/repos?per_page=100&type=all&page=1"},
             "body": {"message": "Moved Permanently"}},
            {"path": "/organizations/42/repos",
             "pages": {"urls": urls, "field": "clone_url", "paging": "link"}},
            {"path": "/groups/moved/projects", "status": 302,
             "headers": {"Location": "https://gitlab.invalid/api/v4/groups/moved/projects"}},
        ],
    }));
    let listed =
        listing::github_org_repos(&forge.origin, "old-name", Some(&token)).expect("listed");
    assert_eq!(listed, sorted(urls));
    let seen: Vec<(String, Value, Value)> = forge
        .requests()
        .iter()
        .map(|r| (text(&r["path"]), r["status"].clone(), r["authorization"]["valid"].clone()))
        .collect();
    assert_eq!(
        seen,
        [("/orgs/old-name/repos", 301), ("/organizations/42/repos", 200)].map(|(path, status)| (
            path.to_string(),
            json!(status),
            json!(true)
        ))
    );
    let error = listing::gitlab_group_repos(&forge.origin, "moved", Some(&token))
        .expect_err("redirect off the origin");
    assert_eq!(
        error.to_string(),
        format!(
            "GitLab group \"moved\": {o}/groups/moved/projects?include_subgroups=true&per_page=100&\
             page=1: the redirect https://gitlab.invalid/api/v4/groups/moved/projects is not on \
             the API's origin {o}; not followed",
            o = forge.origin
        )
    );
}

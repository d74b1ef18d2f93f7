//! Lists the repositories of a GitHub organisation (or user account) or a GitLab group over
//! REST, for `keysweep sweep --github-org` / `--gitlab-group`.
//!
//! Input is an API base URL, a name and an optional token; output is the repositories' HTTPS
//! clone URLs, sorted and without duplicates. Archived repositories and forks are included:
//! a leaked key in an archived repository or a fork is as live as anywhere else, so a sweep
//! that wants fewer filters the list itself.
//!
//! - GitHub: `GET {api}/orgs/{org}/repos?per_page=100&type=all`; when the organisation does not
//!   exist (404), the name is taken for a user account: `GET {api}/users/{org}/repos?
//!   per_page=100&type=owner` (`owner`, not `all`: `all` would add other owners' repositories
//!   the user merely collaborates on). Pages follow the `Link: <...>; rel="next"` header. The
//!   URL of each repository is its `clone_url`.
//! - GitLab: `GET {api}/groups/{group}/projects?include_subgroups=true&per_page=100` with the
//!   group's full path URL-encoded (`a%2Fb`); pages follow `x-next-page` (or `Link` when a
//!   keyset-paginated answer has no `x-next-page`). The URL is `http_url_to_repo`.
//!
//! The token goes only to the API's own origin (scheme, host and port of `api_base`): a next
//! page or a redirect elsewhere is an error, not a silent stop, so a partial list never passes
//! for a whole one. The token never appears in an error or a log line. Long rate limits are
//! not waited out: a wait of up to 3 s is slept through (twice at most), a longer one is an
//! error naming the time the limit resets. The HTTP side lives in the private `rest` module.

mod rest;

use serde::Deserialize;

use rest::{Client, Forge, Listed};

/// GitHub's public API; GitHub Enterprise Server's is `https://HOST/api/v3`.
pub const GITHUB_API: &str = "https://api.github.com";
/// GitLab.com's API; a self-managed GitLab's is `https://HOST/api/v4`.
pub const GITLAB_API: &str = "https://gitlab.com/api/v4";

/// Why a listing failed. `what` names the organisation or group (`GitHub organisation
/// "acme"`), `url` the request (never with a token in it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListingError {
    /// `api_base` is not an `http(s)://host[:port][/path]` URL.
    #[error("invalid API URL {api_base:?}: {reason}")]
    InvalidApiUrl {
        /// The URL as given.
        api_base: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An empty organisation or group name, or one with a `.` or `..` path segment.
    #[error("{what}: invalid name: {reason}")]
    InvalidName {
        /// The organisation or group.
        what: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No answer: connection refused, TLS, timeout, a body cut short.
    #[error("{what}: {url}: request failed")]
    Request {
        /// The organisation or group.
        what: String,
        /// The request.
        url: String,
        /// The transport error.
        #[source]
        source: ureq::Error,
    },
    /// Neither the organisation nor a user (GitHub), or no such group (GitLab), or not
    /// visible with this token.
    #[error("{what} not found ({})", urls.join(", "))]
    NotFound {
        /// The organisation or group.
        what: String,
        /// Every URL that answered 404.
        urls: Vec<String>,
    },
    /// An answer other than 200: 401 (bad token), 403 (no access), 5xx, an unexpected 3xx.
    #[error("{what}: {url}: HTTP {status}{}", detail(message))]
    Status {
        /// The organisation or group.
        what: String,
        /// The request.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The forge's own message, if it sent one.
        message: String,
    },
    /// Rate limited (403 or 429 with `x-ratelimit-remaining: 0` or `retry-after`) for longer
    /// than the short wait keysweep allows itself.
    #[error("{what}: {url}: rate limited (HTTP {status}); {reset}")]
    RateLimited {
        /// The organisation or group.
        what: String,
        /// The request.
        url: String,
        /// 403 or 429.
        status: u16,
        /// When to try again: `the limit resets at 2026-11-23T23:00:00Z`, `retry after 60 s`.
        reset: String,
    },
    /// The body is not the JSON list expected.
    #[error("{what}: {url}: not a list of repositories")]
    Body {
        /// The organisation or group.
        what: String,
        /// The request.
        url: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A next page or a redirect on another origin than `api_base` (the token is not sent
    /// there, and a list cut short there would look complete).
    #[error("{what}: {url}: the {kind} {target} is not on the API's origin {origin}; not followed")]
    OffOrigin {
        /// The organisation or group.
        what: String,
        /// The request whose answer pointed elsewhere.
        url: String,
        /// `next page` or `redirect`.
        kind: &'static str,
        /// Where it pointed.
        target: String,
        /// `scheme://host:port` of `api_base`.
        origin: String,
    },
    /// A next page already read, or more pages than any forge serves.
    #[error("{what}: {url}: pagination does not end ({reason})")]
    Pagination {
        /// The organisation or group.
        what: String,
        /// The request.
        url: String,
        /// A repeated page, or the page limit.
        reason: String,
    },
}

fn detail(message: &str) -> String {
    if message.is_empty() { String::new() } else { format!(" ({message})") }
}

/// One repository as GitHub lists it (only the field used).
#[derive(Deserialize)]
struct GithubRepo {
    clone_url: String,
}

/// One project as GitLab lists it (only the field used).
#[derive(Deserialize)]
struct GitlabProject {
    http_url_to_repo: String,
}

/// The HTTPS clone URLs of every repository of GitHub organisation `org`, or of user account
/// `org` when no organisation has that name; sorted, without duplicates, archived repositories
/// and forks included.
///
/// `api_base` is [`GITHUB_API`] or a GitHub Enterprise Server's `https://HOST/api/v3`; `token`
/// is sent as `Authorization: Bearer` (without one only public repositories are listed, and the
/// rate limit is 60 requests an hour).
///
/// # Errors
/// See [`ListingError`]: a bad `api_base` or empty name, a failed request, neither an
/// organisation nor a user (404 twice), any other status (401 for a bad token), a rate limit,
/// a body that is not a repository list, a next page or redirect off the API's origin.
pub fn github_org_repos(
    api_base: &str,
    org: &str,
    token: Option<&str>,
) -> Result<Vec<String>, ListingError> {
    let what = format!("GitHub organisation {org:?}");
    let name = path_segment(org, &what)?;
    let client = Client::new(Forge::GitHub, api_base, what, token)?;
    let org_url = format!("{}/orgs/{name}/repos?per_page=100&type=all&page=1", client.base());
    let by_url = |repo: GithubRepo| repo.clone_url;
    if let Listed::Found(urls) = client.list(&org_url, by_url)? {
        return Ok(sorted(urls));
    }
    log::debug!("no GitHub organisation {org:?}; trying a user account");
    let user_url = format!("{}/users/{name}/repos?per_page=100&type=owner&page=1", client.base());
    match client.list(&user_url, by_url)? {
        Listed::Found(urls) => Ok(sorted(urls)),
        Listed::Missing => Err(ListingError::NotFound {
            what: format!("GitHub organisation or user {org:?}"),
            urls: vec![org_url, user_url],
        }),
    }
}

/// The HTTPS clone URLs of every project of GitLab group `group` (its full path, `a/b` for a
/// subgroup) and of all its subgroups; sorted, without duplicates, archived projects and forks
/// included.
///
/// `api_base` is [`GITLAB_API`] or a self-managed GitLab's `https://HOST/api/v4`; `token` is
/// sent as `PRIVATE-TOKEN` (without one only public projects are listed).
///
/// # Errors
/// As [`github_org_repos`]; a missing group is [`ListingError::NotFound`] (no user fallback).
pub fn gitlab_group_repos(
    api_base: &str,
    group: &str,
    token: Option<&str>,
) -> Result<Vec<String>, ListingError> {
    let what = format!("GitLab group {group:?}");
    let path = path_segment(group.trim_matches('/'), &what)?;
    let client = Client::new(Forge::GitLab, api_base, what.clone(), token)?;
    let url = format!(
        "{}/groups/{path}/projects?include_subgroups=true&per_page=100&page=1",
        client.base()
    );
    match client.list(&url, |p: GitlabProject| p.http_url_to_repo)? {
        Listed::Found(urls) => Ok(sorted(urls)),
        Listed::Missing => Err(ListingError::NotFound { what, urls: vec![url] }),
    }
}

/// `name` as one URL path segment: everything but unreserved characters percent-encoded, so
/// GitLab's `a/b` becomes `a%2Fb` and no name can reach another endpoint.
fn path_segment(name: &str, what: &str) -> Result<String, ListingError> {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SEGMENT: &AsciiSet =
        &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    let invalid = |reason| Err(ListingError::InvalidName { what: what.to_string(), reason });
    if name.trim().is_empty() {
        return invalid("it is empty");
    }
    // Encoded or not, a `..` segment may be resolved by a proxy or the server into another
    // endpoint.
    if name.split('/').any(|segment| segment == "." || segment == "..") {
        return invalid("a path segment is . or ..");
    }
    Ok(utf8_percent_encode(name, SEGMENT).to_string())
}

fn sorted(mut urls: Vec<String>) -> Vec<String> {
    urls.sort_unstable();
    urls.dedup();
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_path_segment() {
        let seg = |name| path_segment(name, "x").expect("not empty");
        assert_eq!(seg("acme"), "acme");
        assert_eq!(seg("top/sub-group/leaf.x"), "top%2Fsub-group%2Fleaf.x");
        assert_eq!(seg("a..b/orgs?x=1"), "a..b%2Forgs%3Fx%3D1");
        let invalid = |name| path_segment(name, "x").expect_err("invalid").to_string();
        assert_eq!(invalid(" "), "x: invalid name: it is empty");
        assert_eq!(invalid("a/../b"), "x: invalid name: a path segment is . or ..");
    }

    #[test]
    fn lists_are_sorted_without_duplicates() {
        let urls = ["b", "a", "b", "c"].map(String::from).to_vec();
        assert_eq!(sorted(urls), ["a", "b", "c"]);
    }
}

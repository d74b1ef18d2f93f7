//! The HTTP side of listing: one agent per listing, the token sent only to the API's origin,
//! every page of a list read, redirects followed by hand (ureq would carry GitLab's
//! `PRIVATE-TOKEN` to any host), and rate limits turned into errors after a short wait.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use ureq::http::{HeaderMap, Response, Uri};

use super::ListingError;

/// Pages read before giving up: 10,000 pages of 100 is a million repositories, more than any
/// organisation has; a server that never stops paging is broken.
const MAX_PAGES: usize = 10_000;
/// Redirects followed for one request.
const MAX_REDIRECTS: u32 = 5;
/// The longest rate-limit wait slept through (secondary limits ask for a second or two);
/// anything longer is an error, never a silent sleep.
const MAX_WAIT: Duration = Duration::from_secs(3);
/// Rate-limit waits slept through for one request.
const MAX_WAITS: u32 = 2;
/// The largest page body read: a page of 100 GitHub repositories is about 600 KiB.
const BODY_LIMIT: u64 = 16 << 20;
/// One request, connection to last byte.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Which forge: its headers, its token header and how it pages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Forge {
    /// `Authorization: Bearer`, `Link` paging.
    GitHub,
    /// `PRIVATE-TOKEN`, `x-next-page` paging (then `Link`).
    GitLab,
}

/// The outcome of reading a list.
pub(super) enum Listed {
    /// Every page's items.
    Found(Vec<String>),
    /// The first page was a 404.
    Missing,
}

/// `scheme://host:port`, the unit the token is confined to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of(uri: &Uri) -> Option<Origin> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        Some(Origin {
            host: uri.host()?.to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(default_port),
            scheme,
        })
    }

    fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// A client for one listing.
pub(super) struct Client {
    forge: Forge,
    agent: ureq::Agent,
    /// `api_base` without its trailing `/`.
    base: String,
    origin: Origin,
    /// The organisation or group, for errors.
    what: String,
    token: Option<String>,
}

impl Client {
    /// A client for `api_base`. A token that is empty once trimmed counts as none.
    pub(super) fn new(
        forge: Forge,
        api_base: &str,
        what: String,
        token: Option<&str>,
    ) -> Result<Client, ListingError> {
        let base = api_base.trim().trim_end_matches('/').to_string();
        let invalid =
            |reason| ListingError::InvalidApiUrl { api_base: without_userinfo(api_base), reason };
        let uri: Uri = base.parse().map_err(|_| invalid("not a URL"))?;
        let origin = Origin::of(&uri).ok_or_else(|| invalid("not an http:// or https:// URL"))?;
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(invalid("credentials in the URL are not supported; pass a token"));
        }
        if uri.query().is_some() || base.contains('#') {
            return Err(invalid("a query or fragment is not supported"));
        }
        let proxy = if origin.is_loopback() { None } else { ureq::Proxy::try_from_env() };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(TIMEOUT))
            .proxy(proxy)
            .user_agent(concat!("keysweep/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let token = token.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
        Ok(Client { forge, agent, base, origin, what, token })
    }

    /// `api_base` without its trailing `/`.
    pub(super) fn base(&self) -> &str {
        &self.base
    }

    /// Reads the list at `first` and every page after it, mapping each item with `url_of`.
    pub(super) fn list<T: DeserializeOwned>(
        &self,
        first: &str,
        url_of: impl Fn(T) -> String,
    ) -> Result<Listed, ListingError> {
        let mut url = first.to_string();
        let mut seen = HashSet::from([url.clone()]);
        let mut items = Vec::new();
        for page in 1.. {
            let (answered, response) = self.get(&url)?;
            let status = response.status().as_u16();
            if status == 404 && page == 1 {
                return Ok(Listed::Missing);
            }
            if status != 200 {
                let message = self.scrub(&error_message(response));
                return Err(ListingError::Status { what: self.what.clone(), url, status, message });
            }
            let next = self.next_page(&answered, response.headers())?;
            let body = response
                .into_body()
                .into_with_config()
                .limit(BODY_LIMIT)
                .read_to_vec()
                .map_err(|source| self.request_error(&url, source))?;
            let list: Vec<T> = serde_json::from_slice(&body).map_err(|source| {
                ListingError::Body { what: self.what.clone(), url: url.clone(), source }
            })?;
            log::debug!("{}: page {page}: {} repositories", self.what, list.len());
            items.extend(list.into_iter().map(&url_of));
            let Some(next) = next else { break };
            if page >= MAX_PAGES || !seen.insert(next.clone()) {
                let reason = if page >= MAX_PAGES {
                    format!("more than {MAX_PAGES} pages")
                } else {
                    format!("the next page {next} was already read")
                };
                return Err(ListingError::Pagination { what: self.what.clone(), url, reason });
            }
            url = next;
        }
        Ok(Listed::Found(items))
    }

    /// GETs `url`, following redirects on the API's origin and sleeping through short rate
    /// limits. Returns the URL that answered and its response (any status).
    fn get(&self, url: &str) -> Result<(String, Response<ureq::Body>), ListingError> {
        let mut url = url.to_string();
        let (mut redirects, mut waits) = (0, 0);
        loop {
            let response = self.request(&url).call().map_err(|e| self.request_error(&url, e))?;
            let status = response.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) && redirects < MAX_REDIRECTS {
                let location = header(response.headers(), "location").unwrap_or_default();
                url = self.on_origin(&url, "redirect", location)?;
                redirects += 1;
                continue;
            }
            let Some(limit) = RateLimit::of(status, response.headers()) else {
                return Ok((url, response));
            };
            match limit.wait(unix_now()) {
                Some(wait) if wait <= MAX_WAIT && waits < MAX_WAITS => {
                    log::info!("{}: rate limited; trying again in {wait:?}", self.what);
                    std::thread::sleep(wait);
                    waits += 1;
                }
                _ => {
                    return Err(ListingError::RateLimited {
                        what: self.what.clone(),
                        url,
                        status,
                        reset: limit.describe(),
                    });
                }
            }
        }
    }

    fn request(&self, url: &str) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        let mut request = self.agent.get(url);
        request = match self.forge {
            Forge::GitHub => request
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28"),
            Forge::GitLab => request.header("Accept", "application/json"),
        };
        match (&self.token, self.forge) {
            (Some(token), Forge::GitHub) => {
                request.header("Authorization", format!("Bearer {token}"))
            }
            (Some(token), Forge::GitLab) => request.header("PRIVATE-TOKEN", token),
            (None, _) => request,
        }
    }

    /// The next page's URL, if the answer names one.
    fn next_page(&self, url: &str, headers: &HeaderMap) -> Result<Option<String>, ListingError> {
        // GitLab first: `x-next-page` builds on our own URL, while its `Link` uses the host
        // GitLab believes it has, which behind a proxy may not be the one we called.
        if let Forge::GitLab = self.forge {
            match header(headers, "x-next-page").map(str::trim) {
                Some("") => return Ok(None),
                Some(page) => {
                    if let Ok(page) = page.parse::<u64>() {
                        return Ok(Some(with_page(url, page)));
                    }
                }
                None => {}
            }
        }
        let link =
            headers.get_all("link").iter().filter_map(|v| v.to_str().ok()).find_map(next_link);
        match link {
            Some(target) => self.on_origin(url, "next page", target).map(Some),
            None => Ok(None),
        }
    }

    /// `target` (absolute, or a path on the API's origin) as an absolute URL, or an error when
    /// it is on another origin.
    fn on_origin(
        &self,
        url: &str,
        kind: &'static str,
        target: &str,
    ) -> Result<String, ListingError> {
        let absolute = if target.starts_with('/') && !target.starts_with("//") {
            format!("{}{target}", self.origin)
        } else {
            target.to_string()
        };
        let same = absolute.parse::<Uri>().ok().and_then(|uri| Origin::of(&uri)).as_ref()
            == Some(&self.origin);
        if same {
            Ok(absolute)
        } else {
            Err(ListingError::OffOrigin {
                what: self.what.clone(),
                url: url.to_string(),
                kind,
                target: target.to_string(),
                origin: self.origin.to_string(),
            })
        }
    }

    fn request_error(&self, url: &str, source: ureq::Error) -> ListingError {
        ListingError::Request { what: self.what.clone(), url: url.to_string(), source }
    }

    /// `text` with the token cut out (a server may echo what it was sent).
    fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(token) => text.replace(token.as_str(), "[redacted]"),
            None => text.to_string(),
        }
    }
}

/// A rate-limit answer: 429, or 403 with `x-ratelimit-remaining: 0` (GitLab:
/// `ratelimit-remaining`) or a `retry-after`.
#[derive(Debug, PartialEq)]
struct RateLimit {
    /// `retry-after`, as sent.
    retry_after: Option<String>,
    /// `x-ratelimit-reset` / `ratelimit-reset`: Unix seconds.
    reset: Option<i64>,
}

impl RateLimit {
    fn of(status: u16, headers: &HeaderMap) -> Option<RateLimit> {
        let value = |names: &[&str]| names.iter().find_map(|n| header(headers, n)).map(str::trim);
        let retry_after = value(&["retry-after"]).map(str::to_string);
        let exhausted = value(&["x-ratelimit-remaining", "ratelimit-remaining"]) == Some("0");
        let limited = status == 429 || (status == 403 && (exhausted || retry_after.is_some()));
        limited.then(|| RateLimit {
            retry_after,
            reset: value(&["x-ratelimit-reset", "ratelimit-reset"]).and_then(|v| v.parse().ok()),
        })
    }

    /// How long to wait, if the forge said: `retry-after` seconds, else until the reset.
    fn wait(&self, now: i64) -> Option<Duration> {
        match (&self.retry_after, self.reset) {
            (Some(after), _) => after.parse().ok().map(Duration::from_secs),
            (None, Some(reset)) => {
                Some(Duration::from_secs(reset.saturating_sub(now).max(0) as u64))
            }
            (None, None) => None,
        }
    }

    /// `the limit resets at 2100-01-01T00:00:00Z; retry after 60 s`.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(reset) = self.reset {
            match jiff::Timestamp::from_second(reset) {
                Ok(at) => parts.push(format!("the limit resets at {at}")),
                Err(_) => parts.push(format!("the limit resets at Unix time {reset}")),
            }
        }
        match &self.retry_after {
            Some(after) if after.parse::<u64>().is_ok() => {
                parts.push(format!("retry after {after} s"))
            }
            Some(after) => parts.push(format!("retry after {after}")),
            None => {}
        }
        if parts.is_empty() {
            "the forge named no reset time".to_string()
        } else {
            parts.join("; ")
        }
    }
}

/// `url` with any `user:password@` replaced by `***@`, for error messages.
fn without_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_string(),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The target of the `rel="next"` entry of a `Link` header (RFC 8288:
/// `<url>; rel="next", <url>; rel="last"`).
fn next_link(header: &str) -> Option<&str> {
    let mut rest = header;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let params = &after[end + 1..];
        let params_end = params.find('<').unwrap_or(params.len());
        let is_next = params[..params_end].split([';', ',']).any(|param| {
            param.split_once('=').is_some_and(|(key, value)| {
                key.trim().eq_ignore_ascii_case("rel")
                    && value.trim().trim_matches('"').split_whitespace().any(|rel| rel == "next")
            })
        });
        if is_next {
            return Some(&after[..end]);
        }
        rest = &params[params_end..];
    }
    None
}

/// `url` with its `page` query parameter set to `page`.
fn with_page(url: &str, page: u64) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .map(str::to_string)
        .collect();
    params.push(format!("page={page}"));
    format!("{path}?{}", params.join("&"))
}

/// The forge's `message` (or `error`) from a JSON error body, at most 200 characters.
fn error_message(response: Response<ureq::Body>) -> String {
    let Ok(body) = response.into_body().into_with_config().limit(64 << 10).read_to_vec() else {
        return String::new();
    };
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let message = match value.get("message").or_else(|| value.get("error")) {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    message.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let github = r#"<https://api.github.com/organizations/1/repos?page=2>; rel="next", <https://api.github.com/organizations/1/repos?page=3>; rel="last""#;
        assert_eq!(next_link(github), Some("https://api.github.com/organizations/1/repos?page=2"));
        let last_page = r#"<https://h/x?page=1>; rel="first", <https://h/x?page=2>; rel="prev""#;
        assert_eq!(next_link(last_page), None);
        assert_eq!(next_link(r#"<https://h/a,b?page=2>;rel=next"#), Some("https://h/a,b?page=2"));
        assert_eq!(next_link(r#"<https://h/x>; rel="prev next""#), Some("https://h/x"));
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn userinfo_is_hidden() {
        assert_eq!(without_userinfo("https://u:p@h:1/api?x@y"), "https://***@h:1/api?x@y");
        assert_eq!(without_userinfo("https://h/a@b"), "https://h/a@b");
        assert_eq!(without_userinfo("u:p@h"), "***@h");
    }

    #[test]
    fn page_parameter_is_replaced() {
        assert_eq!(
            with_page(
                "http://h/api/v4/groups/a%2Fb/projects?include_subgroups=true&per_page=100&page=1",
                2
            ),
            "http://h/api/v4/groups/a%2Fb/projects?include_subgroups=true&per_page=100&page=2"
        );
        assert_eq!(with_page("http://h/x", 3), "http://h/x?page=3");
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn rate_limits_are_told_from_forbidden() {
        let exhausted =
            headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "4102444800")]);
        let limit = RateLimit::of(403, &exhausted).expect("rate limited");
        assert_eq!(limit.describe(), "the limit resets at 2100-01-01T00:00:00Z");
        assert_eq!(limit.wait(4102444790), Some(Duration::from_secs(10)));
        assert_eq!(RateLimit::of(403, &headers(&[("x-ratelimit-remaining", "12")])), None);
        let secondary = RateLimit::of(403, &headers(&[("retry-after", "60")])).expect("limited");
        assert_eq!(secondary.describe(), "retry after 60 s");
        assert_eq!(secondary.wait(0), Some(Duration::from_secs(60)));
        let bare = RateLimit::of(429, &HeaderMap::new()).expect("429 is a rate limit");
        assert_eq!(
            (bare.describe().as_str(), bare.wait(0)),
            ("the forge named no reset time", None)
        );
        let gitlab = headers(&[("ratelimit-remaining", "0"), ("ratelimit-reset", "4102444800")]);
        assert_eq!(RateLimit::of(429, &gitlab).expect("limited").reset, Some(4102444800));
    }

    #[test]
    fn origins_compare_with_default_ports() {
        let origin = |url: &str| Origin::of(&url.parse().expect("uri"));
        assert_eq!(origin("https://API.github.com/x"), origin("https://api.github.com:443/y"));
        assert_ne!(origin("https://api.github.com"), origin("http://api.github.com"));
        assert_ne!(origin("http://127.0.0.1:8080"), origin("http://127.0.0.1:8081"));
        assert_eq!(origin("ftp://h"), None);
        assert!(origin("http://[::1]:9/").expect("origin").is_loopback());
    }
}

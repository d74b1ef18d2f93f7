//! A registry client for the OCI distribution API: manifests and blobs, read-only.
//!
//! Authentication follows the registry's `WWW-Authenticate` challenge on a 401: `Basic` sends
//! the credentials; `Bearer realm=...,service=...,scope=...` asks the realm for a token (with
//! the credentials when there are some, anonymously otherwise) and retries with it. The header
//! that worked is kept for the following requests. Credentials come from `--registry-auth`,
//! else the Docker config's `auths.<registry>.auth` (base64 `user:pass`). Credential helpers
//! (`credHelpers`, `credsStore`) are not run; when the registry wants credentials and the
//! config names a helper for it, the error says so.
//!
//! A request that fails in a way that may pass on its own (HTTP 429, 500, 502, 503, 504; a
//! connection refused, reset or timed out) is tried again, [`ATTEMPTS`] times in all, after
//! 250 ms, 500 ms, 1 s (or the `Retry-After` the registry asks for, up to 10 s). A blob
//! stream that breaks after its response started is not resumed: the layer is reported.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use oci_spec::distribution::Reference;

use super::store::{JSON_LIMIT, hex};
use super::{Error, ImageOptions};

/// Media types asked for when fetching a manifest: OCI and Docker v2 schema 2, single and
/// multi-platform.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Tries of one request, the first included.
pub const ATTEMPTS: u32 = 4;
/// The wait before the first retry; each later one doubles it.
const BACKOFF: Duration = Duration::from_millis(250);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// One repository on one registry.
pub struct Client {
    agent: ureq::Agent,
    /// `https://host[:port]` (or `http://` with `--insecure-registry`).
    base: String,
    /// `host[:port]` as named in the reference.
    registry: String,
    repository: String,
    credentials: Option<(String, String)>,
    /// The credential helper the Docker config names for this registry (not run).
    helper: Option<String>,
    /// The `Authorization` header that last worked.
    authorization: Mutex<Option<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print credentials or tokens.
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("repository", &self.repository)
            .finish()
    }
}

/// A manifest as fetched.
pub struct Fetched {
    /// The body.
    pub body: Vec<u8>,
    /// The `Content-Type`, if any.
    pub media_type: Option<String>,
    /// The sha256 digest of the body.
    pub digest: String,
}

impl Client {
    /// A client for the reference's registry and repository.
    pub fn new(reference: &Reference, options: &ImageOptions) -> Client {
        let registry = reference.registry().to_string();
        let host = match registry.as_str() {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            other => other,
        };
        let scheme = if options.insecure_registry { "http" } else { "https" };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_per_read(Some(Duration::from_secs(120)))
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            .user_agent(concat!("keysweep/", env!("CARGO_PKG_VERSION")))
            .build();
        let docker = options.docker_config.as_deref();
        let credentials =
            options.registry_auth.clone().or_else(|| docker_credentials(&registry, docker));
        let helper =
            if credentials.is_some() { None } else { credential_helper(&registry, docker) };
        if let Some(helper) = &helper {
            log::debug!("registry {registry}: the Docker config names credential helper {helper}");
        }
        Client {
            agent: ureq::Agent::new_with_config(config),
            base: format!("{scheme}://{host}"),
            registry,
            repository: reference.repository().to_string(),
            credentials,
            helper,
            authorization: Mutex::new(None),
        }
    }

    /// `host[:port]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Fetches a manifest or index by tag or digest (the caller checks the digest).
    ///
    /// # Errors
    /// HTTP failures, refused authentication, a body over the size limit.
    pub fn manifest(&self, reference: &str) -> Result<Fetched, Error> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let response = self.get(&url, Some(MANIFEST_ACCEPT))?;
        let media_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let body = response
            .into_body()
            .into_with_config()
            .limit(JSON_LIMIT)
            .read_to_vec()
            .map_err(|e| self.http_error(&e))?;
        let digest = {
            use sha2::Digest as _;
            format!("sha256:{}", hex(&sha2::Sha256::digest(&body)))
        };
        Ok(Fetched { body, media_type, digest })
    }

    /// Opens a blob as a stream (redirects to storage are followed).
    ///
    /// # Errors
    /// HTTP failures and refused authentication.
    pub fn blob(&self, digest: &str) -> Result<Box<dyn Read + Send + '_>, Error> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.repository);
        let response = self.get(&url, None)?;
        Ok(Box::new(response.into_body().into_reader()))
    }

    /// GET with the current authorization; on a 401, authenticate as challenged and retry once.
    fn get(
        &self,
        url: &str,
        accept: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let current = self.authorization.lock().map(|a| a.clone()).unwrap_or_default();
        let response = self.send(url, accept, current.as_deref())?;
        let response = if response.status().as_u16() == 401 {
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let header = self.authenticate(&challenge)?;
            let retried = self.send(url, accept, Some(&header))?;
            if let Ok(mut slot) = self.authorization.lock() {
                *slot = Some(header);
            }
            retried
        } else {
            response
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let detail = error_detail(response);
        if status == 401 || status == 403 {
            let message = if self.credentials.is_some() {
                format!("the credentials were refused{}", detail_text(&detail))
            } else {
                format!("credentials needed{}; {}", detail_text(&detail), self.how_to_log_in())
            };
            return Err(Error::Unauthorized { registry: self.registry.clone(), status, message });
        }
        Err(Error::Status { registry: self.registry.clone(), url: url.to_string(), status, detail })
    }

    fn send(
        &self,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        self.call(url, || {
            let mut request = self.agent.get(url);
            if let Some(accept) = accept {
                request = request.header("Accept", accept);
            }
            if let Some(authorization) = authorization {
                request = request.header("Authorization", authorization);
            }
            request.call()
        })
    }

    /// Runs `request`, again after a pause while it fails in a way that may pass (see the
    /// module docs), [`ATTEMPTS`] times at most. The last answer is returned as it is.
    fn call(
        &self,
        url: &str,
        request: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let mut attempt = 1;
        loop {
            let last = attempt >= ATTEMPTS;
            let (wait, why) = match request() {
                Ok(response) if !last && retry_status(response.status().as_u16()) => {
                    let wait = retry_after(&response).unwrap_or_else(|| backoff(attempt));
                    (wait, format!("HTTP {}", response.status().as_u16()))
                }
                Ok(response) => return Ok(response),
                Err(error) if !last && retry_error(&error) => (backoff(attempt), error.to_string()),
                Err(error) if attempt > 1 => {
                    return Err(Error::Http {
                        registry: self.registry.clone(),
                        message: format!("{error} (after {attempt} attempts)"),
                    });
                }
                Err(error) => return Err(self.http_error(&error)),
            };
            log::debug!("registry {}: {url}: {why}; trying again in {wait:?}", self.registry);
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    /// What to do when the registry wants credentials and none were given.
    fn how_to_log_in(&self) -> String {
        match &self.helper {
            Some(helper) => format!(
                "the Docker config leaves this registry to credential helper \
                 docker-credential-{helper}, which keysweep does not run; pass --registry-auth \
                 USER:PASS"
            ),
            None => format!(
                "pass --registry-auth USER:PASS or log in with `docker login {}`",
                self.registry
            ),
        }
    }

    /// The `Authorization` header a challenge asks for.
    fn authenticate(&self, challenge: &str) -> Result<String, Error> {
        let (scheme, params) = parse_challenge(challenge);
        let refused = |message: String| Error::Unauthorized {
            registry: self.registry.clone(),
            status: 401,
            message,
        };
        if scheme.eq_ignore_ascii_case("basic") {
            return match &self.credentials {
                Some((user, pass)) => Ok(basic(user, pass)),
                None => {
                    Err(refused(format!("credentials needed (Basic); {}", self.how_to_log_in())))
                }
            };
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(refused(format!("unsupported authentication challenge {challenge:?}")));
        }
        let realm = param(&params, "realm")
            .ok_or_else(|| refused("a Bearer challenge without a realm".into()))?;
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(refused(format!("a Bearer realm that is not an HTTP URL: {realm:?}")));
        }
        let scope = param(&params, "scope")
            .map(str::to_string)
            .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        let mut url = realm.to_string();
        url.push(if url.contains('?') { '&' } else { '?' });
        if let Some(service) = param(&params, "service") {
            url.push_str(&format!("service={}&", query_encode(service)));
        }
        url.push_str(&format!("scope={}", query_encode(&scope)));
        let response = self.call(&url, || {
            let mut request = self.agent.get(&url);
            if let Some((user, pass)) = &self.credentials {
                request = request.header("Authorization", basic(user, pass));
            }
            request.call()
        })?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let hint = if self.credentials.is_none() && matches!(status, 401 | 403) {
                format!("; {}", self.how_to_log_in())
            } else {
                String::new()
            };
            return Err(Error::Unauthorized {
                registry: self.registry.clone(),
                status,
                message: format!(
                    "the token service {realm} refused{}{hint}",
                    detail_text(&error_detail(response))
                ),
            });
        }
        let body = response
            .into_body()
            .into_with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| self.http_error(&e))?;
        let token: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            Error::Invalid { what: format!("token from {realm}"), message: e.to_string() }
        })?;
        let token = token
            .get("token")
            .or_else(|| token.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| refused(format!("the token service {realm} sent no token")))?;
        Ok(format!("Bearer {token}"))
    }

    fn http_error(&self, error: &ureq::Error) -> Error {
        Error::Http { registry: self.registry.clone(), message: error.to_string() }
    }
}

/// Statuses that may pass on their own: throttling and a registry or gateway in trouble.
fn retry_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Failures that may pass on their own: the connection, not the request, went wrong.
fn retry_error(error: &ureq::Error) -> bool {
    matches!(
        error,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
    )
}

/// The wait before try `attempt + 1`: 250 ms, 500 ms, 1 s...
fn backoff(attempt: u32) -> Duration {
    BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(8))
}

/// A `Retry-After` in seconds (an HTTP date is not honoured: the backoff applies), at most
/// [`MAX_RETRY_AFTER`].
fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    let seconds: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

fn detail_text(detail: &str) -> String {
    if detail.is_empty() { String::new() } else { format!(" ({detail})") }
}

/// The first error message of a registry's JSON error body (`{"errors":[{"message":...}]}`).
fn error_detail(response: ureq::http::Response<ureq::Body>) -> String {
    let Ok(body) = response.into_body().into_with_config().limit(64 << 10).read_to_vec() else {
        return String::new();
    };
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    value
        .get("errors")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str())
        .map(|m| m.chars().take(200).collect())
        .unwrap_or_default()
}

/// Splits `Bearer realm="...",service="...",scope="a,b"` into the scheme and its parameters
/// (quoted values may hold commas and `\"` escapes).
pub fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() && chars.peek().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        } else if chars.peek() == Some(&',') {
            chars.next();
        }
        let key = key.trim().to_ascii_lowercase();
        if !key.is_empty() {
            params.push((key, value.trim().to_string()));
        }
        if chars.peek().is_none() {
            break;
        }
    }
    (scheme.to_string(), params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn query_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Credentials for `registry` from a Docker config's `auths` (`auth` = base64 `user:pass`, or
/// `username` and `password`). Credential helpers are not run.
fn docker_credentials(registry: &str, config: Option<&Path>) -> Option<(String, String)> {
    let value = docker_config(config)?;
    let auths = value.get("auths")?.as_object()?;
    let entry =
        auths.iter().find_map(|(key, entry)| same_registry(key, registry).then_some(entry))?;
    if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()).filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD.decode(auth.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, pass) = text.split_once(':')?;
        return Some((user.to_string(), pass.to_string()));
    }
    let user = entry.get("username")?.as_str()?;
    let pass = entry.get("password")?.as_str()?;
    Some((user.to_string(), pass.to_string()))
}

/// The credential helper a Docker config leaves `registry` to: `credHelpers.<registry>`, else
/// `credsStore` (the name after `docker-credential-`).
fn credential_helper(registry: &str, config: Option<&Path>) -> Option<String> {
    let value = docker_config(config)?;
    let named = |v: &serde_json::Value| v.as_str().filter(|h| !h.is_empty()).map(str::to_string);
    let helpers = value.get("credHelpers").and_then(|h| h.as_object());
    helpers
        .and_then(|h| h.iter().find(|(key, _)| same_registry(key, registry)))
        .and_then(|(_, helper)| named(helper))
        .or_else(|| value.get("credsStore").and_then(named))
}

/// The Docker config as JSON, if there is a readable one.
fn docker_config(config: Option<&Path>) -> Option<serde_json::Value> {
    let path = config.map(Path::to_path_buf).or_else(default_docker_config)?;
    let text = std::fs::read(&path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Whether a Docker config key (`host[:port]`, maybe as a URL) names `registry`; Docker Hub
/// goes by several names.
fn same_registry(key: &str, registry: &str) -> bool {
    const HUB: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];
    let host = key.trim_start_matches("https://").trim_start_matches("http://").split('/').next();
    let host = host.unwrap_or("");
    host == registry || (HUB.contains(&registry) && HUB.contains(&host))
}

fn default_docker_config() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(param(&params, "realm"), Some("https://auth.example/token"));
        assert_eq!(param(&params, "service"), Some("registry.example"));
        assert_eq!(param(&params, "scope"), Some("repository:a/b:pull,push"));
        let (scheme, params) = parse_challenge(r#"Basic realm="x \"y\"""#);
        assert_eq!((scheme.as_str(), param(&params, "realm")), ("Basic", Some(r#"x "y""#)));
        assert_eq!(parse_challenge("").0, "");
        let (_, params) = parse_challenge("Bearer realm=unquoted, error=\"insufficient_scope\"");
        assert_eq!(param(&params, "realm"), Some("unquoted"));
        assert_eq!(param(&params, "error"), Some("insufficient_scope"));
    }

    #[test]
    fn credentials_from_docker_config() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret:x");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"reg.example:5000":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"username":"bob","password":"pw"}}}}}}"#),
        )
        .expect("write config");
        assert_eq!(
            docker_credentials("reg.example:5000", Some(&path)),
            Some(("alice".into(), "s3cret:x".into()))
        );
        assert_eq!(docker_credentials("docker.io", Some(&path)), Some(("bob".into(), "pw".into())));
        assert_eq!(docker_credentials("other.example", Some(&path)), None);
    }

    #[test]
    fn credential_helpers_are_found_not_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"reg.example":{}},"credHelpers":{"123.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"},"credsStore":"desktop"}"#,
        )
        .expect("write config");
        let ecr = "123.dkr.ecr.us-east-1.amazonaws.com";
        assert_eq!(credential_helper(ecr, Some(&path)).as_deref(), Some("ecr-login"));
        assert_eq!(credential_helper("reg.example", Some(&path)).as_deref(), Some("desktop"));
        assert_eq!(docker_credentials("reg.example", Some(&path)), None);
        assert_eq!(credential_helper("x", Some(&dir.path().join("none.json"))), None);
    }

    #[test]
    fn retries_back_off() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(3), Duration::from_secs(1));
        assert!(retry_status(503) && retry_status(429) && !retry_status(404));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(query_encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
    }
}

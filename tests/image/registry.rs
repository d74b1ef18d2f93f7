//! Registries: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with images pushed
//! by `skopeo`, anonymous and with htpasswd basic auth; and the bearer-token flow against a
//! small server in this file, since docker-registry's htpasswd auth answers `Basic` only.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{
    Codec, KEY_ID, Layer, errors, key_id, keysweep, keysweep_with, locations, sha256, single, temp,
};

/// Fails loudly when a tool the registry tests need is missing.
fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{tool}` is not installed: the registry tests need Debian's docker-registry, skopeo and \
         apache2-utils; run scripts/test.sh (it installs them)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A `docker-registry serve` on 127.0.0.1, killed on drop (also when a test panics).
struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    fn start(auth: Option<(&str, &str)>) -> Registry {
        require("docker-registry");
        require("skopeo");
        let dir = temp();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some((user, pass)) = auth {
            require("htpasswd");
            let line =
                Command::new("htpasswd").args(["-Bbn", user, pass]).output().expect("htpasswd");
            assert!(line.status.success(), "htpasswd failed");
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, &line.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: keysweep-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Registry { child, port, dir };
        registry.wait_ready();
        registry
    }

    /// Until `GET /v2/` answers (200, or 401 with auth on).
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = http_status(self.port, "/v2/")
                && (status == 200 || status == 401)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        panic!("docker-registry did not answer on 127.0.0.1:{} within 30 s:\n{log}", self.port);
    }

    fn name(&self, repo: &str) -> String {
        format!("127.0.0.1:{}/{repo}", self.port)
    }

    /// `skopeo copy oci:DIR:latest docker://127.0.0.1:PORT/REPO`.
    fn push(&self, layout: &Path, repo: &str, creds: Option<&str>) {
        let mut command = Command::new("skopeo");
        command.args(["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"]);
        if let Some(creds) = creds {
            command.args(["--dest-creds", creds]);
        }
        command.arg(format!("oci:{}:latest", layout.display()));
        command.arg(format!("docker://{}", self.name(repo)));
        let output = command.output().expect("run skopeo");
        assert!(
            output.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The status code of a plain `GET path` on 127.0.0.1:port, if it answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A layout with a key in a layer and a secret in the config's Env.
fn image_with_secrets(dir: &Path, seed: u64) -> (String, PathBuf, String) {
    let key = key_id(seed);
    let env = format!("AWS_ACCESS_KEY_ID={key}\n");
    let layers = [
        Layer::new(Codec::Gzip, &[("etc/hostname", b"box\n")]),
        Layer::new(Codec::Gzip, &[("srv/app/.env", env.as_bytes())]),
    ];
    let (layout, _, written) = single(dir, &layers, json!({"config": {"Env": ["HOME=/root"]}}));
    (key, layout.dir, written[1].digest.clone())
}

#[test]
fn registry_anonymous_pull() {
    let registry = Registry::start(None);
    let tmp = temp();
    let (_, layout, layer) = image_with_secrets(&tmp.path().join("img"), 70);
    registry.push(&layout, "team/app:1.0", None);
    let name = registry.name("team/app:1.0");
    let run = keysweep(tmp.path(), &[&name, "--insecure-registry", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(locations(&run.json), vec![super::loc(KEY_ID, "srv/app/.env", 1, 19, 1, &layer)]);
    let location = &run.json["findings"][0]["locations"][0];
    assert_eq!(location["image"], name);
    let digest = location["image_digest"].as_str().expect("digest").to_string();
    assert!(digest.starts_with("sha256:"));
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));

    // By digest, too.
    let by_digest = format!("{}@{digest}", registry.name("team/app"));
    let run = keysweep(tmp.path(), &[&by_digest, "--insecure-registry", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json["findings"][0]["locations"][0]["image_digest"], digest);

    // A tag that is not there.
    let run = keysweep(
        tmp.path(),
        &[&registry.name("team/app:nope"), "--insecure-registry", "-f", "json"],
    );
    assert_eq!(run.code, 2);
    let errs = errors(&run.json).join("\n");
    assert!(
        errs.contains(&format!("127.0.0.1:{}", registry.port)) && errs.contains("404"),
        "{errs}"
    );
}

#[test]
fn registry_basic_auth() {
    let (user, pass) = ("scanner", "pw-for-tests");
    let registry = Registry::start(Some((user, pass)));
    let tmp = temp();
    let (_, layout, layer) = image_with_secrets(&tmp.path().join("img"), 71);
    let creds = format!("{user}:{pass}");
    registry.push(&layout, "private/app:latest", Some(&creds));
    let name = registry.name("private/app");

    let run = keysweep(
        tmp.path(),
        &[&name, "--insecure-registry", "--registry-auth", &creds, "-f", "json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(locations(&run.json), vec![super::loc(KEY_ID, "srv/app/.env", 1, 19, 1, &layer)]);

    // Without credentials: a clear failure naming the registry and the 401.
    let run = keysweep(tmp.path(), &[&name, "--insecure-registry", "-f", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let registry_name = format!("registry 127.0.0.1:{}", registry.port);
    assert!(run.stderr.contains(&registry_name) && run.stderr.contains("401"), "{}", run.stderr);
    assert!(run.stderr.contains("--registry-auth"), "{}", run.stderr);

    // Wrong credentials.
    let run = keysweep(
        tmp.path(),
        &[&name, "--insecure-registry", "--registry-auth", "scanner:nope", "-f", "json"],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("401") && run.stderr.contains("refused"), "{}", run.stderr);

    // Credentials from a Docker config's `auths`.
    let docker = tmp.path().join("docker");
    std::fs::create_dir(&docker).expect("docker dir");
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(&creds);
    let config = json!({"auths": {format!("127.0.0.1:{}", registry.port): {"auth": auth}}});
    std::fs::write(docker.join("config.json"), config.to_string()).expect("write");
    let docker = docker.display().to_string();
    let run = keysweep_with(
        tmp.path(),
        &[&name, "--insecure-registry", "-f", "json"],
        &[("DOCKER_CONFIG", &docker)],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
}

/// A one-thread HTTP server on 127.0.0.1 for registry flows `docker-registry` cannot play: each
/// connection goes to `handle(stream, port, log)`; stopped (and joined) when dropped.
struct HttpServer {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl HttpServer {
    fn start(
        handle: impl Fn(TcpStream, u16, &Mutex<Vec<String>>) -> std::io::Result<()> + Send + 'static,
    ) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (flag, log) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = handle(stream, port, &log);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        HttpServer { port, stop, requests, thread: Some(thread) }
    }

    /// How many times `path` was asked for (for servers that log bare paths).
    fn count(&self, path: &str) -> usize {
        self.requests.lock().expect("log").iter().filter(|p| *p == path).count()
    }
}

/// A registry that wants a bearer token: 401 with a `Bearer` challenge, a token at the realm
/// (for the right basic credentials), then manifests and blobs from a layout for that token.
fn token_server(layout: PathBuf, manifest: Vec<u8>) -> HttpServer {
    HttpServer::start(move |stream, port, log| serve(stream, port, &layout, &manifest, log))
}

/// Reads one request from `stream`: its path and its `Authorization` header.
fn read_request(stream: &TcpStream) -> std::io::Result<(String, String)> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut authorization = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = value.trim().to_string();
        }
    }
    Ok((request.split_whitespace().nth(1).unwrap_or("").to_string(), authorization))
}

const TOKEN: &str = "tok-123";

fn serve(
    mut stream: TcpStream,
    port: u16,
    layout: &Path,
    manifest: &[u8],
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let (path, authorization) = read_request(&stream)?;
    if let Ok(mut log) = log.lock() {
        log.push(format!("{path} auth={authorization}"));
    }
    use base64::Engine as _;
    let good_basic =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("robot:hunter2"));
    let (status, content_type, body, extra): (u16, &str, Vec<u8>, String) = if path
        .starts_with("/token?")
    {
        if authorization == good_basic {
            (
                200,
                "application/json",
                format!(r#"{{"token":"{TOKEN}"}}"#).into_bytes(),
                String::new(),
            )
        } else {
            (
                401,
                "application/json",
                br#"{"errors":[{"message":"bad credentials"}]}"#.to_vec(),
                String::new(),
            )
        }
    } else if authorization != format!("Bearer {TOKEN}") {
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test-registry\",scope=\"repository:team/app:pull\"\r\n"
        );
        (401, "application/json", br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.to_vec(), challenge)
    } else if path == "/v2/team/app/manifests/latest" {
        (200, super::OCI_MANIFEST, manifest.to_vec(), String::new())
    } else if let Some(digest) = path.strip_prefix("/v2/team/app/blobs/") {
        let file = layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
        match std::fs::read(file) {
            Ok(bytes) => (200, "application/octet-stream", bytes, String::new()),
            Err(_) => (404, "application/json", b"{}".to_vec(), String::new()),
        }
    } else {
        (404, "application/json", b"{}".to_vec(), String::new())
    };
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    Ok(())
}

#[test]
fn registry_bearer_token_flow() {
    let tmp = temp();
    let (_, layout, layer) = image_with_secrets(&tmp.path().join("img"), 72);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let digest = index["manifests"][0]["digest"].as_str().expect("digest").to_string();
    let manifest = std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).expect("manifest");
    assert_eq!(sha256(&manifest), digest);
    let server = token_server(layout, manifest);
    let name = format!("127.0.0.1:{}/team/app", server.port);

    let run = keysweep(
        tmp.path(),
        &[&name, "--insecure-registry", "--registry-auth", "robot:hunter2", "-f", "json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(locations(&run.json), vec![super::loc(KEY_ID, "srv/app/.env", 1, 19, 1, &layer)]);
    assert_eq!(run.json["findings"][0]["locations"][0]["image_digest"], digest);
    let requests = server.requests.lock().expect("log").clone();
    let token_requests: Vec<&String> =
        requests.iter().filter(|r| r.starts_with("/token?")).collect();
    assert_eq!(token_requests.len(), 1, "one token, reused: {requests:#?}");
    assert!(
        token_requests[0].starts_with(
            "/token?service=test-registry&scope=repository%3Ateam%2Fapp%3Apull auth=Basic "
        ),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .filter(|r| r.contains("/blobs/"))
            .all(|r| r.ends_with(&format!("auth=Bearer {TOKEN}")))
    );

    // The token service refuses other credentials.
    let run = keysweep(
        tmp.path(),
        &[&name, "--insecure-registry", "--registry-auth", "robot:wrong", "-f", "json"],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("token service") && run.stderr.contains("401"), "{}", run.stderr);
}

/// What a [`scripted`] registry does with one request.
#[derive(Debug, Clone)]
enum Reply {
    /// Serve the layout.
    Serve,
    /// Answer this status with these extra header lines (each ending in `\r\n`).
    Status(u16, &'static str),
    /// Close the connection without answering.
    Hang,
}

/// A registry serving one layout as `team/app:latest`, anonymously, that answers the n-th
/// request (0-based) for each path as `script(path, n)` says.
fn scripted(layout: PathBuf, script: fn(&str, usize) -> Reply) -> HttpServer {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let digest = index["manifests"][0]["digest"].as_str().expect("digest").to_string();
    let manifest = std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).expect("manifest");
    HttpServer::start(move |stream, _, log| answer(stream, &layout, &manifest, log, script))
}

fn answer(
    mut stream: TcpStream,
    layout: &Path,
    manifest: &[u8],
    log: &Mutex<Vec<String>>,
    script: fn(&str, usize) -> Reply,
) -> std::io::Result<()> {
    let (path, _) = read_request(&stream)?;
    let seen = {
        let mut log = log.lock().expect("log");
        log.push(path.clone());
        log.iter().filter(|p| **p == path).count() - 1
    };
    let (status, content_type, body, extra) = match script(&path, seen) {
        Reply::Hang => return Ok(()),
        Reply::Status(status, extra) => {
            (status, "application/json", br#"{"errors":[{"message":"try later"}]}"#.to_vec(), extra)
        }
        Reply::Serve if path == "/v2/" => (200, "application/json", b"{}".to_vec(), ""),
        Reply::Serve if path == "/v2/team/app/manifests/latest" => {
            (200, super::OCI_MANIFEST, manifest.to_vec(), "")
        }
        Reply::Serve => match path.strip_prefix("/v2/team/app/blobs/sha256:") {
            Some(hex) => match std::fs::read(layout.join("blobs/sha256").join(hex)) {
                Ok(bytes) => (200, "application/octet-stream", bytes, ""),
                Err(_) => (404, "application/json", b"{}".to_vec(), ""),
            },
            None => (404, "application/json", b"{}".to_vec(), ""),
        },
    };
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)
}

#[test]
fn registry_requests_are_retried_with_backoff() {
    let tmp = temp();
    let (_, layout, layer) = image_with_secrets(&tmp.path().join("img"), 73);
    // The manifest: 503, then 429 asking for no wait, then served. Every blob: the connection
    // closed unanswered, then 502, then served.
    let server = scripted(layout.clone(), |path, n| match (path.contains("/blobs/"), n) {
        (false, 0) => Reply::Status(503, ""),
        (false, 1) => Reply::Status(429, "Retry-After: 0\r\n"),
        (true, 0) => Reply::Hang,
        (true, 1) => Reply::Status(502, ""),
        _ => Reply::Serve,
    });
    let name = format!("127.0.0.1:{}/team/app", server.port);
    let run = keysweep(tmp.path(), &[&name, "--insecure-registry", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));
    assert_eq!(locations(&run.json), vec![super::loc(KEY_ID, "srv/app/.env", 1, 19, 1, &layer)]);
    assert_eq!(server.count("/v2/team/app/manifests/latest"), 3);
    let blobs: Vec<String> = std::fs::read_dir(layout.join("blobs/sha256"))
        .expect("blobs")
        .map(|e| {
            format!("/v2/team/app/blobs/sha256:{}", e.expect("blob").file_name().to_string_lossy())
        })
        .filter(|p| server.count(p) > 0)
        .collect();
    assert_eq!(blobs.len(), 3, "the config and two layers");
    for blob in &blobs {
        assert_eq!(server.count(blob), 3, "{blob}");
    }
}

#[test]
fn registry_retries_are_bounded() {
    let tmp = temp();
    let (_, layout, _) = image_with_secrets(&tmp.path().join("img"), 74);
    let server = scripted(layout, |_, _| Reply::Status(503, ""));
    let name = format!("127.0.0.1:{}/team/app", server.port);
    let started = Instant::now();
    let run = keysweep(tmp.path(), &[&name, "--insecure-registry", "-f", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let errs = errors(&run.json).join("\n");
    assert!(errs.contains("answered HTTP 503: try later"), "{errs}");
    assert_eq!(server.count("/v2/team/app/manifests/latest"), 4, "4 attempts, no more");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());

    // Nothing listening: connection refused, retried, then reported.
    let port = free_port();
    let name = format!("127.0.0.1:{port}/team/app");
    let run = keysweep(tmp.path(), &[&name, "--insecure-registry", "-f", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let errs = errors(&run.json).join("\n");
    assert!(errs.contains(&format!("registry 127.0.0.1:{port}: ")), "{errs}");
    assert!(errs.contains("(after 4 attempts)"), "{errs}");
}

#[test]
fn credential_helpers_are_named_not_ignored() {
    let tmp = temp();
    let (_, layout, _) = image_with_secrets(&tmp.path().join("img"), 75);
    let server =
        scripted(layout, |_, _| Reply::Status(401, "WWW-Authenticate: Basic realm=\"test\"\r\n"));
    let registry = format!("127.0.0.1:{}", server.port);
    let docker = tmp.path().join("docker");
    std::fs::create_dir(&docker).expect("docker dir");
    let config = json!({"auths": {}, "credHelpers": {registry.clone(): "ecr-login"}});
    std::fs::write(docker.join("config.json"), config.to_string()).expect("write");
    let docker = docker.display().to_string();
    let name = format!("{registry}/team/app");
    let run = keysweep_with(
        tmp.path(),
        &[&name, "--insecure-registry", "-f", "json"],
        &[("DOCKER_CONFIG", &docker)],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let errs = errors(&run.json).join("\n");
    assert!(
        errs.contains(&format!("registry {registry}: authentication failed (HTTP 401)"))
            && errs.contains("credential helper docker-credential-ecr-login, which keysweep does not run; pass --registry-auth USER:PASS"),
        "{errs}"
    );

    // `credsStore` names the helper for every registry.
    std::fs::write(
        Path::new(&docker).join("config.json"),
        json!({"credsStore": "desktop"}).to_string(),
    )
    .expect("write");
    let run = keysweep_with(
        tmp.path(),
        &[&name, "--insecure-registry", "-f", "json"],
        &[("DOCKER_CONFIG", &docker)],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("docker-credential-desktop"), "{}", run.stderr);
}

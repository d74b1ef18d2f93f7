//! `--verify`: one signed `sts:GetCallerIdentity` per distinct AWS key, against a real moto
//! server with authentication enforced: live keys answer with their exact ARN and account,
//! deleted keys and wrong secrets are rejected with the right error, a dead or silent endpoint
//! gives `unknown` within the time limit, and nothing is sent anywhere without `--verify`.
//!
//! Keys are minted by moto at run time or generated fakes (`util::Fakes`); none is real.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::moto::{Moto, credentials_file, finding_at, free_port};
use crate::util::{ACCOUNT, Fakes, Output, TestCommand, TestDir};

/// `keysweep scan . -f json --verify --sts-endpoint ENDPOINT [extra]` in `dir`.
fn verify_json(dir: &TestDir, endpoint: &str, extra: &[&str]) -> (Output, Value) {
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path())
        .args(["scan", ".", "--format", "json", "--no-progress", "--verify", "--sts-endpoint"])
        .arg(endpoint)
        .args(extra);
    cmd.run_json()
}

fn status(finding: &Value) -> &str {
    finding["verification"]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("no verification in {finding:#}"))
}

/// Fails if any of `secrets` appears in the run's output.
fn assert_no_secret_printed(out: &Output, secrets: &[&str]) {
    for secret in secrets {
        assert!(!out.stdout.contains(secret), "a secret reached stdout: {out}");
        assert!(!out.stderr.contains(secret), "a secret reached stderr: {out}");
    }
}

#[test]
fn live_deleted_wrong_secret_and_temporary_keys() {
    let moto = Moto::start(3);
    let world_dir = TestDir::new();
    let world = moto.populate(world_dir.path());
    let reader = world.user("reader");
    let deleted_id = world.field("/deleted/key_id");
    let deleted_secret = world.field("/deleted/secret");
    let mut fakes = Fakes::new(61);
    let wrong_secret = fakes.secret();
    let asia = fakes.key_id("ASIA", ACCOUNT);
    let asia_secret = fakes.secret();
    let (session_id, session_secret, session_token) = (
        world.field("/session/key_id"),
        world.field("/session/secret"),
        world.field("/session/token"),
    );

    let dir = TestDir::new();
    dir.create("live.ini", credentials_file(&reader.key_id, &reader.secret, None));
    dir.create("deleted.ini", credentials_file(&deleted_id, &deleted_secret, None));
    // Another user's key id with a secret that is not its own. (The same key id found with its
    // right and a wrong secret is `one_key_id_with_two_secrets_is_two_credentials`.)
    let data = world.user("data");
    dir.create("wrong.ini", credentials_file(&data.key_id, &wrong_secret, None));
    dir.create("asia.ini", credentials_file(&asia, &asia_secret, None));
    dir.create("session.ini", credentials_file(&session_id, &session_secret, Some(&session_token)));
    // At the most verbose level too, no secret may reach a log line (`-vvv` is trace).
    let (out, report) = verify_json(&dir, &moto.endpoint(), &["-vvv"]);
    out.assert_code(1);
    assert!(out.stderr.contains("verification: 4 distinct credential(s), 4 request(s)"), "{out}");

    let live = finding_at(&report, "live.ini");
    assert_eq!(status(live), "live", "{out}\nmoto log:\n{}", moto.log());
    assert_eq!(live["verification"]["arn"], reader.arn.as_str());
    assert_eq!(live["verification"]["account"], world.account().as_str());
    assert_eq!(live["verification"]["account"], "123456789012");
    assert_eq!(live["verification"]["user_id"], reader.user_id.as_str());
    assert_eq!(live["verification"]["cached"], false);
    assert_eq!(live["verification"]["verifier"], "aws-sts");
    assert_eq!(live["verification"]["endpoint"], format!("{}/", moto.endpoint()));
    assert_eq!(live["severity"], "critical");
    assert_eq!(live["owner"]["aws_account"]["source"], "verification");

    let deleted = finding_at(&report, "deleted.ini");
    assert_eq!(status(deleted), "invalid");
    assert_eq!(deleted["verification"]["error"], "InvalidClientTokenId");
    assert_eq!(deleted["severity"], "low", "an invalid key is low");

    let wrong = finding_at(&report, "wrong.ini");
    assert_eq!(status(wrong), "invalid");
    assert_eq!(wrong["verification"]["error"], "SignatureDoesNotMatch");

    let asia = finding_at(&report, "asia.ini");
    assert_eq!(status(asia), "unverifiable");
    assert!(asia["verification"]["reason"].as_str().unwrap().contains("session token"), "{asia:#}");
    assert!(asia["verification"].get("endpoint").is_none(), "nothing was sent for it");

    let session = finding_at(&report, "session.ini");
    assert_eq!(status(session), "live", "{session:#}");
    assert_eq!(session["verification"]["arn"], world.field("/session/arn").as_str());

    assert_no_secret_printed(
        &out,
        &[&reader.secret, &deleted_secret, &wrong_secret, &session_secret, &session_token],
    );
    // Live first: the order a responder works in.
    let findings = report["findings"].as_array().unwrap();
    let first_non_live = findings.iter().position(|f| f["verification"]["status"] != "live");
    let last_live = findings.iter().rposition(|f| f["verification"]["status"] == "live");
    assert!(last_live < first_non_live, "live findings come first: {report:#}");
    assert!(out.stderr.contains("verified: 2 live, 2 invalid, 1 unverifiable"), "{out}");
}

#[test]
fn text_lists_live_first_and_says_what_to_do_sarif_follows_severity() {
    let moto = Moto::start(3);
    let world_dir = TestDir::new();
    let world = moto.populate(world_dir.path());
    let admin = world.user("admin");
    let deleted_id = world.field("/deleted/key_id");
    let deleted_secret = world.field("/deleted/secret");
    let dir = TestDir::new();
    // The invalid key sorts first by path; the live one must still be listed first.
    dir.create("a-deleted.ini", credentials_file(&deleted_id, &deleted_secret, None));
    dir.create("z-live.ini", credentials_file(&admin.key_id, &admin.secret, None));
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args([
        "scan",
        ".",
        "--no-progress",
        "--color",
        "never",
        "--verify",
        "--sts-endpoint",
    ]);
    let out = cmd.arg(moto.endpoint()).run();
    out.assert_code(1);
    let live_at = out.stdout.find("z-live.ini").expect("live key listed");
    let dead_at = out.stdout.find("a-deleted.ini").expect("invalid key listed");
    assert!(live_at < dead_at, "live first:\n{}", out.stdout);
    assert!(out.stdout.contains(&format!("LIVE as {}", admin.arn)), "{out}");
    assert!(out.stdout.contains("invalid: InvalidClientTokenId"), "{out}");
    // One line saying what to do, for the live key only: deactivate it (as the user the ARN
    // names), then look at CloudTrail for its use.
    let actions: Vec<&str> =
        out.stdout.lines().filter(|l| l.contains("deactivate now")).map(str::trim).collect();
    assert_eq!(
        actions,
        [concat!(
            "deactivate now: aws iam update-access-key --access-key-id AKIA**************** ",
            "--status Inactive --user-name admin; then review its use: aws cloudtrail ",
            "lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=",
            "AKIA****************"
        )],
        "{out}"
    );
    let action_at = out.stdout.find("deactivate now").unwrap();
    let verdict_at = out.stdout.find("LIVE as").unwrap();
    assert!(verdict_at < action_at && action_at < dead_at, "under the live key:\n{}", out.stdout);
    assert_no_secret_printed(&out, &[&admin.secret, &admin.key_id, &deleted_secret]);

    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args(["scan", ".", "-f", "sarif", "--no-progress", "--verify"]);
    let (out, sarif) = cmd.args(["--sts-endpoint", &moto.endpoint()]).run_json();
    out.assert_code(1);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let by_path = |p: &str| {
        results
            .iter()
            .find(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == p
                    && r["ruleId"] == "aws.access-key-id"
            })
            .unwrap_or_else(|| panic!("no result at {p}"))
    };
    let live = by_path("z-live.ini");
    assert_eq!(live["properties"]["security-severity"], "9.5");
    assert_eq!(live["level"], "error");
    assert_eq!(live["properties"]["verification"]["status"], "live");
    assert_eq!(live["properties"]["verification"]["arn"], admin.arn.as_str());
    let dead = by_path("a-deleted.ini");
    assert_eq!(dead["properties"]["security-severity"], "3.0");
    assert_eq!(dead["level"], "note");
    assert_eq!(dead["properties"]["verification"]["error"], "InvalidClientTokenId");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules.iter().find(|r| r["id"] == "aws.access-key-id").unwrap();
    assert_eq!(rule["properties"]["security-severity"], "8.0", "the rule keeps its own");
}

#[test]
fn stopped_server_is_unknown_within_the_timeout() {
    let mut moto = Moto::start(0);
    let endpoint = moto.endpoint();
    moto.stop();
    let mut fakes = Fakes::new(62);
    let key = fakes.key_id("AKIA", ACCOUNT);
    let dir = TestDir::new();
    dir.create("creds.ini", credentials_file(&key, &fakes.secret(), None));
    let started = Instant::now();
    let (out, report) = verify_json(&dir, &endpoint, &["--verify-timeout", "2s"]);
    let elapsed = started.elapsed();
    out.assert_code(1);
    let finding = finding_at(&report, "creds.ini");
    assert_eq!(status(finding), "unknown", "{finding:#}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    // The scan's results are intact: the same findings as a scan without --verify, field for
    // field, but for the verification itself.
    assert_eq!(finding["locations"][0]["line"], 2);
    assert_eq!(finding["locations"][0]["column"], 21);
    assert_eq!(finding["severity"], "critical", "unknown does not lower a paired key");
    let mut cmd = TestCommand::new();
    let (plain_out, plain) =
        cmd.current_dir(dir.path()).args(["scan", ".", "-f", "json", "--no-progress"]).run_json();
    plain_out.assert_code(1);
    let mut verified = report["findings"].clone();
    for f in verified.as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("verification");
    }
    assert_eq!(verified, plain["findings"], "{out}");
}

#[test]
fn silent_server_times_out_as_unknown() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold every connection without answering.
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let mut fakes = Fakes::new(63);
    let key = fakes.key_id("AKIA", ACCOUNT);
    let dir = TestDir::new();
    dir.create("creds.ini", credentials_file(&key, &fakes.secret(), None));
    let started = Instant::now();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (out, report) = verify_json(&dir, &endpoint, &["--verify-timeout", "1s"]);
    let elapsed = started.elapsed();
    out.assert_code(1);
    let finding = finding_at(&report, "creds.ini");
    assert_eq!(status(finding), "unknown");
    assert!(
        finding["verification"]["reason"].as_str().unwrap().contains("timed out"),
        "{finding:#}"
    );
    assert!(elapsed < Duration::from_secs(8), "a time-out is not retried: took {elapsed:?}");
}

/// A proxy in front of moto that counts requests and the most in flight at once. Each request
/// is held 20 ms so that concurrency shows.
struct CountingProxy {
    port: u16,
    requests: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl CountingProxy {
    fn start(upstream: u16) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (r, p) = (requests.clone(), peak.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, p, f) = (r.clone(), p.clone(), in_flight.clone());
                thread::spawn(move || proxy_connection(stream, upstream, &r, &p, &f));
            }
        });
        CountingProxy { port, requests, peak }
    }
}

/// Reads one HTTP request (head + Content-Length body), or `None` at end of stream.
fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    buf.extend(body);
    Some(buf)
}

fn proxy_connection(
    mut client: TcpStream,
    upstream: u16,
    requests: &AtomicUsize,
    peak: &AtomicUsize,
    in_flight: &AtomicUsize,
) {
    // One request per connection: moto answers `Connection: close`, and so do we.
    if let Some(request) = read_request(&mut client) {
        requests.fetch_add(1, Ordering::SeqCst);
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(20));
        let mut response = Vec::new();
        if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) {
            let _ = server.write_all(&request);
            let _ = server.read_to_end(&mut response);
        }
        in_flight.fetch_sub(1, Ordering::SeqCst);
        let _ = client.write_all(&response);
    }
}

#[test]
fn two_hundred_keys_two_hundred_requests_within_the_concurrency_bound() {
    let moto = Moto::start(0);
    let proxy = CountingProxy::start(moto.port);
    let mut fakes = Fakes::new(64);
    let dir = TestDir::new();
    let mut pairs = Vec::new();
    for i in 0..200 {
        let pair = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
        dir.create(&format!("keys/{i:03}.ini"), credentials_file(&pair.0, &pair.1, None));
        pairs.push(pair);
    }
    // The same 40 credentials again elsewhere: still one request each.
    for (i, (id, secret)) in pairs.iter().take(40).enumerate() {
        dir.create(&format!("copies/{i:03}.ini"), credentials_file(id, secret, None));
    }
    let endpoint = format!("http://127.0.0.1:{}", proxy.port);
    let started = Instant::now();
    let (out, report) = verify_json(&dir, &endpoint, &["--verify-concurrency", "4"]);
    let elapsed = started.elapsed();
    out.assert_code(1);
    let keys: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "aws.access-key-id")
        .collect();
    assert_eq!(keys.len(), 200, "{out}");
    for key in &keys {
        assert_eq!(key["verification"]["error"], "InvalidClientTokenId", "{key:#}");
    }
    assert_eq!(proxy.requests.load(Ordering::SeqCst), 200, "one request per distinct key");
    let peak = proxy.peak.load(Ordering::SeqCst);
    assert!(peak <= 4, "{peak} requests in flight with --verify-concurrency 4");
    assert!(peak >= 2, "requests ran concurrently (peak {peak})");
    eprintln!("200-key verification through the proxy: {elapsed:?} wall, peak {peak} in flight");
}

/// The SARIF result of the AWS key id at `path`.
fn sarif_result<'a>(sarif: &'a Value, path: &str) -> &'a Value {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == path
                && r["ruleId"] == "aws.access-key-id"
        })
        .unwrap_or_else(|| panic!("no SARIF result at {path}"))
}

/// One key id found with its right secret in one file and a wrong one in another is two
/// credentials: each is verified once (exactly two STS requests, counted at a proxy in front of
/// moto) and reported on its own, live and invalid, with the severity each calls for. A deleted
/// key is invalid and low, a lone key id unverifiable at its rule's severity; SARIF's
/// `security-severity` and `level` follow the computed severity of each result.
#[test]
fn one_key_id_with_two_secrets_is_two_credentials() {
    let moto = Moto::start(3);
    let world_dir = TestDir::new();
    let world = moto.populate(world_dir.path());
    let proxy = CountingProxy::start(moto.port);
    let endpoint = format!("http://127.0.0.1:{}", proxy.port);
    let reader = world.user("reader");
    let mut fakes = Fakes::new(68);
    let wrong_secret = fakes.secret();
    let lone = fakes.key_id("AKIA", ACCOUNT);
    let dir = TestDir::new();
    dir.create("right.ini", credentials_file(&reader.key_id, &reader.secret, None));
    dir.create("wrong.ini", credentials_file(&reader.key_id, &wrong_secret, None));
    dir.create(
        "deleted.ini",
        credentials_file(&world.field("/deleted/key_id"), &world.field("/deleted/secret"), None),
    );
    dir.create("lone.txt", format!("key id: {lone}\n"));

    let (out, report) = verify_json(&dir, &endpoint, &["-v"]);
    out.assert_code(1);
    assert_eq!(proxy.requests.load(Ordering::SeqCst), 3, "one request per credential: {out}");
    assert!(out.stderr.contains("verification: 3 distinct credential(s), 3 request(s)"), "{out}");
    let keys: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "aws.access-key-id")
        .collect();
    assert_eq!(keys.len(), 4, "{report:#}");

    let right = finding_at(&report, "right.ini");
    assert_eq!(status(right), "live", "{right:#}\nmoto log:\n{}", moto.log());
    assert_eq!(right["verification"]["arn"], reader.arn.as_str());
    assert_eq!(right["verification"]["account"], "123456789012");
    assert_eq!(right["severity"], "critical");
    assert_eq!(right["locations"].as_array().unwrap().len(), 1, "{right:#}");

    let wrong = finding_at(&report, "wrong.ini");
    assert_eq!(status(wrong), "invalid", "{wrong:#}");
    assert_eq!(wrong["verification"]["error"], "SignatureDoesNotMatch");
    assert_eq!(wrong["severity"], "low");
    assert_eq!(wrong["locations"].as_array().unwrap().len(), 1, "{wrong:#}");
    assert_ne!(wrong["fingerprint"], right["fingerprint"], "one fingerprint per credential");
    assert_ne!(wrong["secret_key"], right["secret_key"], "each shows its own (redacted) secret");

    let deleted = finding_at(&report, "deleted.ini");
    assert_eq!(status(deleted), "invalid");
    assert_eq!(deleted["verification"]["error"], "InvalidClientTokenId");
    assert_eq!(deleted["severity"], "low");

    let lone = finding_at(&report, "lone.txt");
    assert_eq!(status(lone), "unverifiable");
    assert_eq!(lone["severity"], "high", "the rule's own severity, neither raised nor lowered");

    // Live first, invalid last.
    let order: Vec<&str> = keys.iter().map(|f| status(f)).collect();
    assert_eq!(order, ["live", "unverifiable", "invalid", "invalid"], "{report:#}");
    assert_no_secret_printed(&out, &[&reader.secret, &wrong_secret]);

    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args([
        "scan",
        ".",
        "-f",
        "sarif",
        "--no-progress",
        "--verify",
        "--sts-endpoint",
    ]);
    let (out, sarif) = cmd.arg(&endpoint).run_json();
    out.assert_code(1);
    assert_eq!(proxy.requests.load(Ordering::SeqCst), 6, "three more for the second run");
    for (path, severity, security, level, verified) in [
        ("right.ini", "critical", "9.5", "error", "live"),
        ("wrong.ini", "low", "3.0", "note", "invalid"),
        ("deleted.ini", "low", "3.0", "note", "invalid"),
        ("lone.txt", "high", "8.0", "error", "unverifiable"),
    ] {
        let result = sarif_result(&sarif, path);
        assert_eq!(result["properties"]["severity"], severity, "{path}: {result:#}");
        assert_eq!(result["properties"]["security-severity"], security, "{path}");
        assert_eq!(result["level"], level, "{path}");
        assert_eq!(result["properties"]["verification"]["status"], verified, "{path}");
        assert_eq!(
            result["properties"]["severity"],
            finding_at(&report, path)["severity"],
            "SARIF and JSON agree at {path}"
        );
    }
    assert_eq!(
        sarif_result(&sarif, "wrong.ini")["properties"]["verification"]["error"],
        "SignatureDoesNotMatch"
    );
}

/// A listener that counts connections, for "nothing was sent" checks.
struct Tripwire {
    port: u16,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Tripwire {
    fn start() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok(_) => {
                        h.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Tripwire { port, hits, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn hits(&self) -> usize {
        // Let a connection made at the very end be accepted.
        thread::sleep(Duration::from_millis(100));
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[test]
fn nothing_is_sent_without_verify() {
    let wire = Tripwire::start();
    let mut fakes = Fakes::new(65);
    let dir = TestDir::new();
    let key = fakes.key_id("AKIA", ACCOUNT);
    dir.create("creds.ini", credentials_file(&key, &fakes.secret(), None));
    for format in ["json", "text", "sarif"] {
        let mut cmd = TestCommand::new();
        cmd.current_dir(dir.path())
            .args(["scan", ".", "--no-progress", "-f", format, "--sts-endpoint", &wire.url()])
            .args(["--iam-endpoint", &wire.url()])
            .env("AWS_ENDPOINT_URL", wire.url())
            .env("AWS_ENDPOINT_URL_STS", wire.url());
        let out = cmd.run();
        out.assert_code(1);
        assert!(!out.stdout.contains("verification"), "{out}");
    }
    assert_eq!(wire.hits(), 0, "a connection reached the endpoint without --verify");
    // --blast-radius alone is refused: it needs --verify.
    let mut cmd = TestCommand::new();
    let out = cmd.current_dir(dir.path()).args(["scan", ".", "--blast-radius"]).run();
    out.assert_code(2);
    assert_eq!(wire.hits(), 0);
}

#[test]
fn endpoint_from_environment_and_plain_http_only_to_loopback() {
    let wire = Tripwire::start();
    let mut fakes = Fakes::new(66);
    let dir = TestDir::new();
    let key = fakes.key_id("AKIA", ACCOUNT);
    dir.create("creds.ini", credentials_file(&key, &fakes.secret(), None));
    // AWS_ENDPOINT_URL_STS is used when no flag is given.
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path())
        .args(["scan", ".", "-f", "json", "--no-progress", "--verify", "--verify-timeout", "1s"])
        .env("AWS_ENDPOINT_URL_STS", wire.url());
    let (out, report) = cmd.run_json();
    out.assert_code(1);
    assert_eq!(
        finding_at(&report, "creds.ini")["verification"]["endpoint"],
        format!("{}/", wire.url())
    );
    assert!(wire.hits() >= 1, "the environment's endpoint was asked");
    // Plain HTTP elsewhere is refused before anything is scanned or sent (192.0.2.0/24 is
    // TEST-NET-1: never contacted, the run stops first).
    let mut cmd = TestCommand::new();
    let out = cmd
        .current_dir(dir.path())
        .args(["scan", ".", "--verify", "--sts-endpoint", "http://192.0.2.1:9/"])
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("loopback"), "{out}");
    assert!(out.stdout.is_empty(), "{out}");
}

#[test]
fn redirects_are_not_followed() {
    let wire = Tripwire::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let target = wire.url();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = read_request(&mut stream);
            let reply = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    let mut fakes = Fakes::new(67);
    let dir = TestDir::new();
    let key = fakes.key_id("AKIA", ACCOUNT);
    dir.create("creds.ini", credentials_file(&key, &fakes.secret(), None));
    let (out, report) = verify_json(&dir, &format!("http://127.0.0.1:{port}"), &[]);
    out.assert_code(1);
    let finding = finding_at(&report, "creds.ini");
    assert_eq!(status(finding), "unknown");
    assert!(finding["verification"]["reason"].as_str().unwrap().contains("not followed"));
    assert_eq!(wire.hits(), 0, "the redirect was followed");
}

#[test]
fn cache_answers_later_runs_and_holds_no_secret() {
    let mut moto = Moto::start(3);
    let world_dir = TestDir::new();
    let world = moto.populate(world_dir.path());
    let data = world.user("data");
    let dir = TestDir::new();
    dir.create("creds.ini", credentials_file(&data.key_id, &data.secret, None));
    let cache_dir = TestDir::new();
    let cache = cache_dir.join("verify-cache.json");
    let cache_arg = cache.to_str().unwrap();
    let (out, report) = verify_json(&dir, &moto.endpoint(), &["--verify-cache", cache_arg]);
    out.assert_code(1);
    assert_eq!(finding_at(&report, "creds.ini")["verification"]["cached"], false);
    let stored = std::fs::read_to_string(&cache).expect("cache written");
    assert!(!stored.contains(&data.secret) && !stored.contains(&data.key_id), "{stored}");
    assert!(stored.contains(&data.arn), "the answer is stored");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // The server is gone: the cache answers.
    let endpoint = moto.endpoint();
    moto.stop();
    let (out, report) = verify_json(&dir, &endpoint, &["--verify-cache", cache_arg]);
    out.assert_code(1);
    let finding = finding_at(&report, "creds.ini");
    assert_eq!(status(finding), "live", "{out}");
    assert_eq!(finding["verification"]["cached"], true);
    assert_eq!(finding["verification"]["arn"], data.arn.as_str());
    // An expired entry is asked again (and the dead server gives `unknown`).
    let (out, report) = verify_json(
        &dir,
        &endpoint,
        &["--verify-cache", cache_arg, "--verify-cache-ttl", "0s", "--verify-timeout", "1s"],
    );
    out.assert_code(1);
    assert_eq!(status(finding_at(&report, "creds.ini")), "unknown");
}

#[test]
fn free_port_helper_gives_a_closed_port() {
    let port = free_port();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

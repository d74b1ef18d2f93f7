//! Secret hygiene beyond the report formats (those are `redaction`'s): every log level on every
//! source (`scan`, `git`, `log`, `image`), parse errors of the files a user writes (config,
//! rules, baseline), the findings store, and the verification transport.
//!
//! The planted secrets are an AWS key pair, a GitHub token, an RSA key in PEM and a generic
//! password, all generated here except the PEM key, which is the private-key rule's own
//! example (read from `rules/` at run time) because its validator parses the key.

use std::{
    fs,
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::Duration,
};

use rusqlite::types::ValueRef;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::image::{sha256, tar};
use crate::redaction::leaked;
use crate::util::{ACCOUNT, Fakes, Output, TestCommand, TestDir, git, redacted, rules_dir};

/// The rules the planted file triggers, sorted.
const PLANTED_RULES: &[&str] =
    &["aws.access-key-id", "generic.secret-assignment", "github.pat-classic", "private-key.rsa"];

/// A file holding one secret of each kind, and those secrets.
struct Planted {
    text: String,
    secrets: Vec<String>,
}

fn pem_key() -> String {
    let text = fs::read_to_string(rules_dir().join("private-key.toml")).expect("rules file");
    let table: toml::Table = toml::from_str(&text).expect("rules parse");
    let rules = table["rules"].as_array().expect("[[rules]]");
    let rsa = rules.iter().find(|r| r["id"].as_str() == Some("private-key.rsa")).expect("rsa");
    rsa["examples"][0].as_str().expect("an example").trim().to_string()
}

fn planted(seed: u64) -> Planted {
    let mut fakes = Fakes::new(seed);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let pat = fakes.github_pat();
    let password = fakes.hex(24);
    let pem = pem_key();
    let text = format!(
        "AWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\nGITHUB_TOKEN={pat}\n\
         db_password = \"{password}\"\n{pem}\n"
    );
    Planted { text, secrets: vec![key, secret, pat, password, pem] }
}

/// A `docker save` archive (legacy layout) whose one layer holds `file` at `app/.env`.
fn docker_archive(file: &[u8]) -> Vec<u8> {
    let layer = tar(&[("app/.env", file)]);
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]},
        "history": [{"created_by": "COPY .env /app/"}],
    });
    let config_bytes = serde_json::to_vec(&config).expect("json");
    let config_name = format!("{}.json", &sha256(&config_bytes)[7..]);
    let manifest =
        json!([{"Config": config_name, "RepoTags": ["app:1"], "Layers": ["aaa/layer.tar"]}]);
    let manifest_bytes = serde_json::to_vec(&manifest).expect("json");
    tar(&[
        ("aaa/", b""),
        ("aaa/layer.tar", &layer),
        (&config_name, &config_bytes),
        ("manifest.json", &manifest_bytes),
    ])
}

/// A repository whose first commit adds `file` and whose second removes it.
fn repo_with_secret_in_history(root: &Path, file: &str) {
    fs::create_dir_all(root).expect("mkdir");
    git(root, &["init", "-q", "-b", "main"]);
    fs::write(root.join(".env"), file).expect("write");
    git(root, &["add", ".env"]);
    git(root, &["commit", "-q", "-m", "config"]);
    git(root, &["rm", "-q", ".env"]);
    git(root, &["commit", "-q", "-m", "oops"]);
}

/// The command line of each source, run in a directory set up by [`sources`].
const SOURCES: &[(&str, &[&str])] = &[
    ("scan", &["scan", "tree"]),
    ("git", &["git", "repo"]),
    ("log", &["log", "build.log"]),
    ("image", &["image", "docker-archive:app.tar"]),
];

fn sources(dir: &TestDir, planted: &Planted) {
    dir.create("tree/app/.env", &planted.text);
    // A binary file is skipped, which gives the debug log of `scan` something to say.
    dir.create("tree/blob.bin", [&[0u8; 16][..], planted.secrets[1].as_bytes()].concat());
    repo_with_secret_in_history(&dir.join("repo"), &planted.text);
    let log: String = planted.text.lines().map(|l| format!("2026-01-02T03:04:05Z {l}\n")).collect();
    dir.create("build.log", log);
    dir.create("app.tar", docker_archive(planted.text.as_bytes()));
}

/// One run of a source at a log level.
struct LogRun {
    what: &'static str,
    extra: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// The level it sets.
    level: log::LevelFilter,
}

const LOG_RUNS: &[LogRun] = &[
    LogRun { what: "default", extra: &[], env: &[], level: log::LevelFilter::Warn },
    LogRun { what: "-v", extra: &["-v"], env: &[], level: log::LevelFilter::Info },
    LogRun { what: "-vv", extra: &["-vv"], env: &[], level: log::LevelFilter::Debug },
    LogRun {
        what: "-vv json",
        extra: &["-vv", "-f", "json"],
        env: &[],
        level: log::LevelFilter::Debug,
    },
    // keysweep reads KEYSWEEP_LOG, else RUST_LOG (and logs only its own targets).
    LogRun {
        what: "RUST_LOG=trace",
        extra: &[],
        env: &[("RUST_LOG", "trace")],
        level: log::LevelFilter::Trace,
    },
    LogRun {
        what: "KEYSWEEP_LOG=trace",
        extra: &[],
        env: &[("KEYSWEEP_LOG", "trace")],
        level: log::LevelFilter::Trace,
    },
];

/// What each source logs on the planted inputs, with the level it logs at.
fn log_lines(source: &str) -> &'static [(log::LevelFilter, &'static str)] {
    match source {
        "scan" => &[(log::LevelFilter::Debug, "keysweep[debug]: skipped tree/blob.bin: Binary")],
        "git" => &[(log::LevelFilter::Info, "keysweep[info]: git: 2 commits, 1 distinct blobs")],
        "image" => &[(log::LevelFilter::Info, "keysweep[info]: image: 1 files listed")],
        _ => &[],
    }
}

fn keysweep(dir: &TestDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args(args).arg("--no-progress");
    cmd.env("DOCKER_CONFIG", dir.join(".no-docker-config"));
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.run()
}

#[test]
fn no_log_level_on_any_source_prints_a_secret() {
    let dir = TestDir::new();
    let planted = planted(1010);
    sources(&dir, &planted);
    for (source, args) in SOURCES {
        // What each source finds, shown: every planted secret, so the leak check below can fire.
        let shown = keysweep(&dir, &[args, &["--show-secrets", "-f", "json"][..]].concat(), &[]);
        shown.assert_code(1);
        let report: serde_json::Value = serde_json::from_str(&shown.stdout).expect("json");
        let mut rules: Vec<&str> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["rule"].as_str().expect("rule"))
            .collect();
        rules.sort_unstable();
        assert_eq!(rules, PLANTED_RULES, "{source}: {shown}");
        let shown_secrets = leaked(&shown.stdout, &planted.secrets);
        assert_eq!(shown_secrets.len(), planted.secrets.len(), "{source}: {shown}");

        for LogRun { what, extra, env, level } in LOG_RUNS {
            let out = keysweep(&dir, &[args, *extra].concat(), env);
            out.assert_code(1);
            let leaks = leaked(&format!("{}\n{}", out.stdout, out.stderr), &planted.secrets);
            assert!(leaks.is_empty(), "{source} {what}: leaked {leaks:?}\n{out}");
            // The level took effect: exactly the lines logged at or above it.
            let want: Vec<&str> = log_lines(source)
                .iter()
                .filter(|(at, _)| at <= level)
                .map(|(_, line)| *line)
                .collect();
            let mut got: Vec<&str> = out.stderr.lines().collect();
            if what.ends_with("json") {
                let summary = got.pop().unwrap_or_default();
                assert!(summary.starts_with("4 secrets in 4 locations · "), "{source}: {out}");
            }
            assert_eq!(got, want, "{source} {what}: {out}");
        }
    }
}

/// Writes `name` in `dir`, runs `keysweep scan --FLAG name tree` and returns the one stderr line.
fn parse_error(dir: &TestDir, flag: &str, name: &str, text: &str) -> String {
    dir.create(name, text);
    let out = keysweep(dir, &["scan", flag, name, "tree"], &[]);
    out.assert_code(2);
    assert!(out.stdout.is_empty(), "{out}");
    out.stderr.trim_end().to_string()
}

#[test]
fn parse_errors_of_config_allowlist_and_baseline_do_not_echo_a_secret() {
    let dir = TestDir::new();
    dir.create("tree/clean.txt", "nothing here\n");
    let mut fakes = Fakes::new(1011);
    let secret = fakes.secret();
    let pat = fakes.github_pat();
    let secrets = vec![secret.clone(), pat.clone()];
    let quoted = format!("\"{}\"", redacted(&secret));
    let cases = [
        (
            "--config",
            "unclosed.toml",
            format!("[allowlist]\nregexes = [\"{secret}\",\n"),
            format!(
                "invalid config unclosed.toml: line 2, column {}: unclosed array, expected `]`",
                15 + secret.len()
            ),
        ),
        (
            "--config",
            "mistyped.toml",
            format!("[allowlist]\nregexes = \"{secret}\"\n"),
            format!(
                "invalid config mistyped.toml: line 2, column 11: invalid type: string {quoted}, \
                 expected a sequence"
            ),
        ),
        (
            "--config",
            "unquoted.toml",
            format!("[[rules]]\nid = \"x.y\"\nname = \"x\"\nregex = \"x\"\nexamples = [{pat}]\n"),
            "invalid config unquoted.toml: line 5, column 13: string values must be quoted, \
             expected literal string"
                .to_string(),
        ),
        (
            "--config",
            "regex.toml",
            format!("[allowlist]\nregexes = [\"{pat}(\"]\n"),
            format!(
                "in the allowlist of config regex.toml: allowlist regex #1 ({}) is invalid: \
                 unclosed group at column {}",
                redacted(&pat),
                pat.len() + 1
            ),
        ),
        (
            "--baseline",
            "baseline.json",
            format!("{{\"findings\": \"{secret}\"}}"),
            format!(
                "baseline baseline.json is not a keysweep JSON report: line 1, column {}: \
                 invalid type: string {quoted}, expected a sequence",
                15 + secret.len()
            ),
        ),
    ];
    for (flag, name, text, want) in cases {
        let got = parse_error(&dir, flag, name, &text);
        assert_eq!(got, format!("keysweep: error: {want}"), "{name}");
        assert!(leaked(&got, &secrets).is_empty(), "{name}: {got}");
    }
}

/// Every text or blob cell of every table of the SQLite database at `path`, as text.
fn every_cell(path: &Path) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(path).expect("open the store");
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("list tables")
        .query_map([], |row| row.get(0))
        .expect("query")
        .map(|name| name.expect("a name"))
        .collect();
    assert!(tables.contains(&"findings".to_string()), "{tables:?}");
    let mut cells = Vec::new();
    for table in tables {
        let mut statement = db.prepare(&format!("SELECT * FROM \"{table}\"")).expect("select");
        let columns = statement.column_count();
        let mut rows = statement.query([]).expect("rows");
        while let Some(row) = rows.next().expect("a row") {
            for at in 0..columns {
                let text = match row.get_ref(at).expect("a cell") {
                    ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                        String::from_utf8_lossy(bytes).into_owned()
                    }
                    _ => continue,
                };
                cells.push((table.clone(), text));
            }
        }
    }
    cells
}

#[test]
fn findings_store_keeps_a_hash_and_a_preview_never_the_secret() {
    let dir = TestDir::new();
    let planted = planted(1012);
    repo_with_secret_in_history(&dir.join("repo"), &planted.text);
    let out = keysweep(&dir, &["git", "repo", "--datastore", "store"], &[]);
    out.assert_code(1);
    let cells = every_cell(&dir.join("store/keysweep.db"));
    for (table, text) in &cells {
        let leaks = leaked(text, &planted.secrets);
        assert!(leaks.is_empty(), "table {table} holds {leaks:?}: {text}");
    }
    // The check can fire: the secrets are in the repository's blobs.
    let db = rusqlite::Connection::open(dir.join("store/keysweep.db")).expect("open");
    let mut stored: Vec<(String, String, String)> = db
        .prepare("SELECT rule_id, preview, secret_sha256 FROM findings")
        .expect("select")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query")
        .map(|r| r.expect("a row"))
        .collect();
    stored.sort();
    let by_rule = |rule: &str| match rule {
        "aws.access-key-id" => &planted.secrets[0],
        "github.pat-classic" => &planted.secrets[2],
        "generic.secret-assignment" => &planted.secrets[3],
        _ => &planted.secrets[4],
    };
    let want: Vec<(String, String, String)> = PLANTED_RULES
        .iter()
        .map(|rule| {
            let secret = by_rule(rule);
            let digest = format!("{:x}", Sha256::digest(secret.as_bytes()));
            (rule.to_string(), redacted(secret), digest)
        })
        .collect();
    assert_eq!(stored, want);
}

/// A one-shot-per-connection HTTP server on 127.0.0.1 counting requests and answering `reply`.
struct Server {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn start(reply: String) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                drain_request(&mut stream);
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Server { port, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn drain_request(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
}

#[test]
fn verification_refuses_plain_http_elsewhere_and_follows_no_302() {
    let dir = TestDir::new();
    let planted = planted(1013);
    dir.create("tree/app/.env", &planted.text);

    let refused =
        keysweep(&dir, &["scan", "tree", "--verify", "--sts-endpoint", "http://example.com"], &[]);
    refused.assert_code(2);
    assert!(refused.stdout.is_empty(), "{refused}");
    assert_eq!(
        refused.stderr.trim_end(),
        "keysweep: error: --verify: endpoint http://example.com: plain HTTP is allowed only to loopback \
         addresses (use https, or pass --allow-insecure-sts)"
    );

    let second = Server::start(
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
    );
    let first = Server::start(format!(
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{}/\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n",
        second.port
    ));
    let endpoint = format!("http://127.0.0.1:{}", first.port);
    let out = keysweep(
        &dir,
        &["scan", "tree", "-f", "json", "--verify", "--sts-endpoint", &endpoint],
        &[],
    );
    out.assert_code(1);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let aws: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "aws.access-key-id")
        .collect();
    assert_eq!(aws.len(), 1, "{out}");
    assert_eq!(aws[0]["verification"]["status"], "unknown", "{out}");
    let reason = aws[0]["verification"]["reason"].as_str().expect("a reason");
    assert_eq!(
        reason,
        format!(
            "HTTP 302 redirect to http://127.0.0.1:{}/ not followed (after 3 attempts)",
            second.port
        )
    );
    assert_eq!(first.hits(), 3, "the configured endpoint was asked (and retried)");
    assert_eq!(second.hits(), 0, "the redirect was followed");
    let leaks = leaked(&format!("{}\n{}", out.stdout, out.stderr), &planted.secrets);
    assert!(leaks.is_empty(), "{leaks:?}\n{out}");
}

/// Every file under `dir` with its bytes (lossy text), except the inputs a test planted.
fn written_files(dir: &Path, inputs: &[&str]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in fs::read_dir(&at).expect("read_dir").flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(dir).expect("under dir").to_string_lossy().into_owned();
            if inputs.iter().any(|i| rel == *i || rel.starts_with(&format!("{i}/"))) {
                continue;
            }
            if entry.file_type().expect("file type").is_dir() {
                pending.push(path);
            } else {
                let bytes = fs::read(&path).expect("read");
                files.push((rel, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    files.sort();
    files
}

/// One command of [`every_subcommand_and_format_at_trace_prints_and_writes_no_secret`].
struct Run {
    args: Vec<String>,
    stdin: Option<String>,
    /// The exit code at -vv, then at RUST_LOG=trace (a second sweep finds nothing new).
    codes: [i32; 2],
}

fn run(args: &[&str], code: i32) -> Run {
    Run { args: args.iter().map(|a| a.to_string()).collect(), stdin: None, codes: [code; 2] }
}

#[test]
fn every_subcommand_and_format_at_trace_prints_and_writes_no_secret() {
    let dir = TestDir::new();
    let planted = planted(2020);
    sources(&dir, &planted);
    dir.create("repos.txt", "repo\n");
    dir.create("images.txt", "docker-archive:app.tar\n");
    fs::create_dir_all(dir.join("out")).expect("mkdir");
    let guard_payload = json!({
        "cwd": dir.path(), "hook_event_name": "PreToolUse", "tool_name": "Write",
        "tool_input": {"file_path": dir.join("tree/new.env"), "content": planted.text},
    })
    .to_string();
    // A loopback port nobody listens on: revoke's STS call fails, after reading the key pair.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let endpoint = format!("http://{closed}");
    let formats = ["text", "json", "jsonl", "sarif", "markdown", "github", "html"];

    let mut runs = Vec::new();
    let sources: [(&str, &[&str]); 4] = [
        ("scan", &["scan", "tree"]),
        ("git", &["git", "repo"]),
        ("log", &["log", "build.log"]),
        ("image", &["image", "docker-archive:app.tar"]),
    ];
    for (name, args) in sources {
        for format in formats {
            let output = format!("out/{name}.{format}");
            let mut args = args.to_vec();
            args.extend(["-f", format, "-o", &output]);
            runs.push(run(&args, 1));
        }
        // And all formats at once, by `--report FORMAT=FILE`.
        let reports: Vec<String> =
            formats.iter().map(|f| format!("--report={f}=out/{name}-report.{f}")).collect();
        let mut args = args.to_vec();
        args.extend(reports.iter().map(String::as_str));
        runs.push(run(&args, 1));
    }
    runs.push(run(&["rules", "list"], 0));
    runs.push(run(&["rules", "check"], 0));
    for format in ["exit-code", "json"] {
        let mut guard =
            run(&["guard", "--output-format", format], if format == "json" { 0 } else { 2 });
        guard.stdin = Some(guard_payload.clone());
        runs.push(guard);
    }
    let sweep = ["sweep", "--repos", "repos.txt", "--images", "images.txt", "--datastore", "store"];
    runs.push(Run { codes: [1, 0], ..run(&sweep, 1) });
    runs.push(run(&["sweep", "--repos", "repos.txt", "--datastore", "store", "-f", "json"], 0));
    for format in formats {
        let output = format!("out/report.{format}");
        runs.push(run(&["report", "--datastore", "store", "-f", format, "-o", &output], 1));
    }
    let merge = ["merge", "--datastore", "merged", "store", "out/scan.json"];
    runs.push(run(&merge, 1));
    let revoke_args = ["revoke", "--sts-endpoint", &endpoint, "--iam-endpoint", &endpoint];
    // An error reaching STS leaves the key live: exit 1, as for a key that could not be
    // deactivated.
    let mut revoke = run(&revoke_args, 1);
    revoke.stdin = Some(format!("{} {}\n", planted.secrets[0], planted.secrets[1]));
    runs.push(revoke);

    // Each command at -vv and at RUST_LOG=trace (KEYSWEEP_LOG is the other spelling).
    for Run { args, stdin, codes } in &runs {
        let levels = [(&["-vv"][..], None), (&[][..], Some(("RUST_LOG", "trace")))];
        for ((extra, env), code) in levels.into_iter().zip(codes) {
            let mut cmd = TestCommand::new();
            cmd.current_dir(dir.path()).args(args).args(extra);
            cmd.env("DOCKER_CONFIG", dir.join(".no-docker-config"));
            if let Some((key, value)) = env {
                cmd.env(key, value);
            }
            if let Some(stdin) = stdin {
                cmd.stdin(stdin.as_str());
            }
            let out = cmd.run();
            out.assert_code(*code);
            if args[0] == "revoke" {
                // It got as far as the network, with the key pair read, and its follow-up names
                // the key by a variable.
                assert!(out.stdout.contains("Connection refused"), "{out}");
                assert!(out.stdout.contains("AttributeValue=$KEY_ID "), "{out}");
                assert!(out.stdout.contains(&redacted(&planted.secrets[0])), "{out}");
            }
            let leaks = leaked(&format!("{}\n{}", out.stdout, out.stderr), &planted.secrets);
            assert!(leaks.is_empty(), "{args:?} {extra:?} {env:?}: leaked {leaks:?}\n{out}");
        }
    }
    // Every file the commands wrote: reports in each format, the stores (database, WAL) and the
    // merged store. The sweep's mirrors (store/cache) are copies of the scanned repository.
    let inputs = ["tree", "repo", "build.log", "app.tar", "repos.txt", "images.txt", "store/cache"];
    let written = written_files(dir.path(), &inputs);
    let names: Vec<&str> = written.iter().map(|(name, _)| name.as_str()).collect();
    for name in ["out/scan.html", "out/image-report.sarif", "out/report.jsonl", "store/keysweep.db"]
    {
        assert!(names.contains(&name), "{name} not written: {names:?}");
    }
    assert!(names.contains(&"merged/keysweep.db"), "{names:?}");
    for (name, text) in &written {
        let leaks = leaked(text, &planted.secrets);
        assert!(leaks.is_empty(), "{name} holds {leaks:?}");
    }
    // The same reports with --show-secrets do hold them: the check above could fail.
    let shown = TestCommand::new()
        .current_dir(dir.path())
        .args(["scan", "tree", "--show-secrets", "-f", "sarif", "-o", "shown.sarif"])
        .run();
    shown.assert_code(1);
    let text = fs::read_to_string(dir.join("shown.sarif")).expect("sarif");
    assert_eq!(leaked(&text, &planted.secrets).len(), planted.secrets.len());
}

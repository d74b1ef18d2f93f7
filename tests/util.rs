//! The integration harness: temporary trees, running the `keysweep` binary, reading its JSON
//! report, and generating fake credentials.
//!
//! Every credential a test uses is generated here at run time from a fixed seed, so the
//! repository holds no credential-shaped literal that push protection could flag. The program
//! under test is `env!("CARGO_BIN_EXE_keysweep")` unless `KEYSWEEP_TEST_PROGRAM` names another
//! binary (a release build, an installed copy).

use std::{
    ffi::{OsStr, OsString},
    fs,
    io::{Read, Write},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

/// Declares a test with a fresh [`TestDir`] and a [`TestCommand`] whose working directory is
/// that tree: `scantest!(name, |dir, cmd| { ... });`
macro_rules! scantest {
    ($name:ident, |$dir:ident, $cmd:ident| $body:block) => {
        #[test]
        #[allow(unused_mut, unused_variables)]
        fn $name() {
            let $dir = $crate::util::TestDir::new();
            let mut $cmd = $crate::util::TestCommand::new();
            $cmd.current_dir($dir.path());
            $body
        }
    };
}

/// How long a run may take before the harness kills it and fails the test.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A temporary directory tree, deleted on drop.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl Default for TestDir {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDir {
    /// A new, empty tree.
    pub fn new() -> TestDir {
        let dir = tempfile::Builder::new().prefix("keysweep-it-").tempdir().expect("temp dir");
        TestDir { dir }
    }

    /// The tree's root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `root/rel`.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    /// Writes `bytes` at `rel` (parents created) and returns the full path.
    pub fn create(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent dirs");
        }
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output, lossy UTF-8.
    pub stdout: String,
    /// Standard error, lossy UTF-8.
    pub stderr: String,
    /// The command line, for failure messages.
    pub command: String,
}

impl Output {
    /// Fails with the whole run in the message unless the exit code is `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code of {self}");
        self
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut = |s: &str| -> String {
            if s.len() > 8000 {
                let end = (0..=8000).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                format!("{}…[{} bytes]", &s[..end], s.len())
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "`{}` exited {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.code,
            cut(&self.stdout),
            cut(&self.stderr)
        )
    }
}

/// A run of the binary under test.
pub struct TestCommand {
    program: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    cwd: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    uid: Option<u32>,
}

impl Default for TestCommand {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCommand {
    /// `keysweep` (or `$KEYSWEEP_TEST_PROGRAM`), with no arguments, `KEYSWEEP_LOG` and
    /// `NO_COLOR` unset and a 120 s time limit.
    pub fn new() -> TestCommand {
        let program = std::env::var_os("KEYSWEEP_TEST_PROGRAM")
            .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_keysweep")), PathBuf::from);
        TestCommand {
            program,
            args: Vec::new(),
            envs: vec![("KEYSWEEP_LOG".into(), None), ("RUST_LOG".into(), None)],
            cwd: None,
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            uid: None,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: &str, value: impl AsRef<OsStr>) -> &mut Self {
        self.envs.push((key.into(), Some(value.as_ref().to_owned())));
        self
    }

    /// Runs in `dir`.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Feeds `data` on standard input (otherwise stdin is empty).
    pub fn stdin(&mut self, data: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Some(data.into());
        self
    }

    /// Kills the run and fails the test after `limit`.
    pub fn timeout(&mut self, limit: Duration) -> &mut Self {
        self.timeout = limit;
        self
    }

    /// Runs the program as another user (for tests that need an unprivileged reader when the
    /// suite runs as root).
    pub fn run_as(&mut self, uid: u32) -> &mut Self {
        self.uid = Some(uid);
        self
    }

    /// Runs to completion. Fails the test on a time-out or a panic message on stderr: no input
    /// may make keysweep panic.
    pub fn run(&mut self) -> Output {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (key, value) in &self.envs {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        if let Some(uid) = self.uid {
            command.uid(uid).gid(uid);
        }
        command
            .stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let started = Instant::now();
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot run `{shown}`: {e}"));
        let feeder = match (child.stdin.take(), self.stdin.clone()) {
            (Some(mut pipe), Some(data)) => Some(thread::spawn(move || {
                // The program may stop reading early; that is its business.
                let _ = pipe.write_all(&data);
            })),
            _ => None,
        };
        let drain = |mut pipe: Box<dyn Read + Send>| {
            thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = pipe.read_to_end(&mut buf);
                buf
            })
        };
        let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
        let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the child") {
                break status;
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                let err = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
                panic!(
                    "`{shown}` did not finish within {:?} (killed); stderr:\n{err}",
                    self.timeout
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        if let Some(feeder) = feeder {
            let _ = feeder.join();
        }
        let output = Output {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout.join().expect("stdout reader")).into_owned(),
            stderr: String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned(),
            command: shown,
        };
        assert!(!output.stderr.contains("panicked"), "keysweep panicked: {output}");
        assert!(output.code >= 0, "keysweep was killed by a signal: {output}");
        output
    }

    /// Runs and parses standard output as one JSON document (`--format json` or `sarif`).
    pub fn run_json(&mut self) -> (Output, Value) {
        let output = self.run();
        let json = serde_json::from_str(&output.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {output}"));
        (output, json)
    }

    /// Appends `scan --format json --no-progress`, then `args`, runs, and parses the report.
    pub fn scan_json<I, S>(&mut self, args: I) -> Scan
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args(["scan", "--format", "json", "--no-progress"]).args(args);
        let (output, json) = self.run_json();
        Scan::new(output, json)
    }
}

/// One location of one finding, as the JSON report gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Rule id.
    pub rule: String,
    /// Severity.
    pub severity: String,
    /// `relative_path`: relative to the scanned root, `/`-separated.
    pub path: String,
    /// `path`: as walked.
    pub display_path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (code points).
    pub column: usize,
    /// Column one past the secret's end.
    pub end_column: usize,
    /// The secret as printed (redacted unless `--show-secrets`).
    pub secret: String,
    /// The paired AWS secret access key, as printed.
    pub secret_key: Option<String>,
    /// The paired AWS session token, as printed.
    pub session_token: Option<String>,
    /// Stable fingerprint.
    pub fingerprint: String,
    /// AWS account decoded from the key id.
    pub aws_account: Option<String>,
    /// Where the paired secret access key starts.
    pub secret_key_line: Option<usize>,
    /// Where the paired secret access key starts.
    pub secret_key_column: Option<usize>,
}

/// A parsed `--format json` run.
#[derive(Debug, Clone)]
pub struct Scan {
    /// The run.
    pub out: Output,
    /// The whole document.
    pub json: Value,
    /// One entry per (finding, location), in report order.
    pub findings: Vec<Found>,
}

impl Scan {
    /// Parses a JSON report.
    pub fn new(out: Output, json: Value) -> Scan {
        let mut findings = Vec::new();
        let text = |v: &Value, key: &str| -> String {
            v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {v}")).to_string()
        };
        let opt_text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(String::from);
        let num = |v: &Value, key: &str| -> usize {
            v[key].as_u64().unwrap_or_else(|| panic!("{key} is not a number in {v}")) as usize
        };
        let opt_num = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64).map(|n| n as usize);
        for finding in json["findings"].as_array().expect("findings array") {
            for location in finding["locations"].as_array().expect("locations array") {
                findings.push(Found {
                    rule: text(finding, "rule"),
                    severity: text(finding, "severity"),
                    path: text(location, "relative_path"),
                    display_path: text(location, "path"),
                    line: num(location, "line"),
                    column: num(location, "column"),
                    end_column: num(location, "end_column"),
                    secret: text(finding, "secret"),
                    secret_key: opt_text(finding, "secret_key"),
                    session_token: opt_text(finding, "session_token"),
                    fingerprint: text(finding, "fingerprint"),
                    aws_account: opt_text(finding, "aws_account"),
                    secret_key_line: opt_num(location, "secret_key_line"),
                    secret_key_column: opt_num(location, "secret_key_column"),
                });
            }
        }
        Scan { out, json, findings }
    }

    /// The one location reported; fails if there are more or none.
    pub fn only(&self) -> &Found {
        assert_eq!(
            self.findings.len(),
            1,
            "want exactly one finding: {:#?}\n{}",
            self.findings,
            self.out
        );
        &self.findings[0]
    }

    /// Every location in `path` (relative path).
    pub fn at(&self, path: &str) -> Vec<&Found> {
        self.findings.iter().filter(|f| f.path == path).collect()
    }

    /// The one location in `path`; fails if there are more or none.
    pub fn one_at(&self, path: &str) -> &Found {
        let at = self.at(path);
        assert_eq!(
            at.len(),
            1,
            "want exactly one finding in {path}: {:#?}\n{}",
            self.findings,
            self.out
        );
        at[0]
    }

    /// A `stats` counter.
    pub fn stat(&self, key: &str) -> u64 {
        self.json["stats"][key].as_u64().unwrap_or_else(|| panic!("no stats.{key}: {}", self.out))
    }

    /// Number of distinct findings (secrets), not locations.
    pub fn finding_count(&self) -> usize {
        self.json["findings"].as_array().map_or(0, Vec::len)
    }
}

/// 1-based (line, column) of byte `offset` in `hay`: the column counts code points of the
/// line's lossy UTF-8 decoding (each invalid sequence is one U+FFFD), as an editor shows it.
pub fn position_of_offset(hay: &[u8], offset: usize) -> (usize, usize) {
    let before = &hay[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    (line, String::from_utf8_lossy(&hay[line_start..offset]).chars().count() + 1)
}

/// 1-based (line, column) of the only occurrence of `needle` in `hay`.
pub fn position(hay: impl AsRef<[u8]>, needle: &str) -> (usize, usize) {
    let hay = hay.as_ref();
    let offset = memchr::memmem::find(hay, needle.as_bytes())
        .unwrap_or_else(|| panic!("{needle:?} not in the test input"));
    assert!(
        memchr::memmem::find(&hay[offset + 1..], needle.as_bytes()).is_none(),
        "{needle:?} occurs twice in the test input; positions would be ambiguous"
    );
    position_of_offset(hay, offset)
}

/// The redacted form keysweep prints: a 4-character prefix, then `*` (at most 16).
pub fn redacted(value: &str) -> String {
    let len = value.chars().count();
    let keep = match len {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    };
    let prefix: String = value.chars().take(keep).collect();
    format!("{prefix}{}", "*".repeat((len - keep).clamp(3, 16)))
}

/// The account our fakes encode unless a test picks another.
pub const ACCOUNT: u64 = 123_456_789_012;

/// Lowercase substrings that make keysweep treat a value as a placeholder; generated fakes
/// avoid them so that a positive test never fails by chance.
const PLACEHOLDER_PARTS: &[&str] = &[
    "example",
    "xxxxx",
    "fake",
    "placeholder",
    "dummy",
    "sample",
    "your_",
    "your-",
    "changeme",
    "redacted",
    "test",
    "akia",
    "asia",
];

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A seeded generator of well-formed fake credentials (splitmix64).
pub struct Fakes {
    state: u64,
}

impl Fakes {
    /// A generator; the same seed gives the same fakes on every run.
    pub fn new(seed: u64) -> Fakes {
        Fakes { state: seed ^ 0x6b65_7973_7765_6570 }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// An access key id (`prefix` is `AKIA`, `ASIA`, or a non-credential unique-id prefix such
    /// as `AIDA`) whose post-2019 layout encodes `account`: the 16 base32 characters after the
    /// prefix decode to 10 bytes whose first 6, big-endian, are `1 << 47 | account << 7 | r`.
    pub fn key_id(&mut self, prefix: &str, account: u64) -> String {
        assert!(account < 1 << 40, "account ids have 12 digits");
        loop {
            let z: u64 = (1 << 47) | (account << 7) | (self.next_u64() & 0x7f);
            let low = self.next_u64() as u32;
            let bits: u128 = ((z as u128) << 32) | low as u128;
            let tail: String =
                (0..16).rev().map(|i| BASE32[((bits >> (i * 5)) & 31) as usize] as char).collect();
            let id = format!("{prefix}{tail}");
            if !is_placeholder_like(&id[4..]) {
                return id;
            }
        }
    }

    /// A 40-character secret access key that holds at least one `/` and one `+`.
    pub fn secret(&mut self) -> String {
        loop {
            let s = self.base64(40);
            if s.contains('/')
                && s.contains('+')
                && s.bytes().any(|b| b.is_ascii_uppercase())
                && s.bytes().any(|b| b.is_ascii_lowercase())
                && s.bytes().any(|b| b.is_ascii_digit())
                && entropy(s.as_bytes()) >= 4.2
                && !is_placeholder_like(&s)
            {
                return s;
            }
        }
    }

    /// A session token shaped like STS's current ones.
    pub fn session_token(&mut self) -> String {
        loop {
            let s = format!("{}{}", "IQoJb3JpZ2luX2Vj", self.base64(344));
            if !is_placeholder_like(&s) {
                return s;
            }
        }
    }

    /// `n` random base64 characters (no padding).
    pub fn base64(&mut self, n: usize) -> String {
        (0..n).map(|_| BASE64[(self.next_u64() % 64) as usize] as char).collect()
    }

    /// A classic GitHub token (`ghp_`) whose last 6 characters are base62(CRC32) of the 30
    /// before, as the `github-checksum` validator wants (prefix split so this file holds none).
    pub fn github_pat(&mut self) -> String {
        const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let random: String =
            (0..30).map(|_| BASE62[(self.next_u64() % 62) as usize] as char).collect();
        let mut crc = u64::from(crc32fast::hash(random.as_bytes()));
        let mut check = [b'0'; 6];
        for slot in check.iter_mut().rev() {
            *slot = BASE62[(crc % 62) as usize];
            crc /= 62;
        }
        format!("{}{random}{}", concat!("gh", "p_"), String::from_utf8_lossy(&check))
    }

    /// `n` random lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit((self.next_u64() % 16) as u32, 16).unwrap()).collect()
    }
}

fn is_placeholder_like(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p))
}

fn entropy(data: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let len = data.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / len).map(|p| -p * p.log2()).sum()
}

/// Percent-encodes `/`, `+` and `=` as a URL query or userinfo would.
pub fn percent_encode(value: &str) -> String {
    value.replace('/', "%2F").replace('+', "%2B").replace('=', "%3D")
}

/// True when the process can open a file that has mode 000: it runs as root (or with
/// `CAP_DAC_OVERRIDE`), so permission bits do not stop it.
pub fn bypasses_permissions(path: &Path) -> bool {
    fs::File::open(path).is_ok()
}

/// The unprivileged user a root test run drops to (`nobody` on Debian).
pub const NOBODY: u32 = 65534;

/// Makes `dir` readable and searchable by other users (a temp dir is created 0700, its parent
/// `/tmp` is world-searchable), so that a run as [`NOBODY`] can walk it.
pub fn open_to_others(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).expect("chmod 755");
}

/// The `rules/` directory of this package.
pub fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// Runs `git` in `repo` as Ann, ignoring the machine's and the user's git configuration.
pub fn git(repo: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ann")
        .env("GIT_AUTHOR_EMAIL", "ann@example.org")
        .env("GIT_COMMITTER_NAME", "Ann")
        .env("GIT_COMMITTER_EMAIL", "ann@example.org")
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Starts `python3 tests/SCRIPT ARGS...` (a test server that prints its loopback port on its
/// first stdout line, stderr going to `dir`/stderr.txt) and waits up to 30 s for the port.
/// Panics, with the server's stderr, when it does not start: a test never skips.
pub fn start_python_server(
    script: &str,
    args: &[&OsStr],
    dir: &TestDir,
) -> (std::process::Child, u16) {
    use std::io::{BufRead as _, BufReader};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(script);
    let mut child = Command::new("python3")
        .arg(&path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(fs::File::create(dir.join("stderr.txt")).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start python3 {}: {e}", path.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stdout).read_line(&mut text);
        let _ = sender.send(text);
    });
    let line = line.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let Ok(port) = line.trim().parse::<u16>() else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{script} did not print its port (got {line:?}); its stderr:\n{}",
            fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default()
        );
    };
    (child, port)
}

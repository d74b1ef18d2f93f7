//! `keysweep sweep` mirroring over https: gix's reqwest transport with rustls and the ring
//! provider keysweep installs (Cargo.toml keeps reqwest's own aws-lc-rs crypto out). The
//! server is `tests/https_git.py`, `git http-backend` behind TLS on a free loopback port with a
//! certificate from an authority made for the test; keysweep trusts that authority through
//! `SSL_CERT_FILE`, which the system-store verifier reads.

use std::path::Path;
use std::process::Child;

use serde_json::Value;

use crate::sweep::make_repos;
use crate::util::{Fakes, TestCommand, TestDir, start_python_server};

/// A running `tests/https_git.py`, killed on drop.
struct HttpsGit {
    child: Child,
    port: u16,
    /// Holds `ca.pem`, `stranger.pem` and the server's stderr.
    dir: TestDir,
}

impl HttpsGit {
    /// Serves the repositories under `root`; waits for the port the server prints. Panics
    /// (never skips) when it cannot start.
    fn start(root: &Path) -> HttpsGit {
        let dir = TestDir::new();
        let (child, port) =
            start_python_server("https_git.py", &[root.as_os_str(), dir.path().as_os_str()], &dir);
        HttpsGit { child, port, dir }
    }

    fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for HttpsGit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn count(summary: &Value, key: &str) -> u64 {
    summary[key].as_u64().unwrap_or_else(|| panic!("no {key} in {summary}"))
}

#[test]
fn an_https_repository_is_mirrored_and_scanned() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    let mut fakes = Fakes::new(811);
    let keys = make_repos(&base, 1, &mut fakes);
    let server = HttpsGit::start(&base);
    let repos = dir.create("repos.txt", format!("{}\n", server.url("r0")));
    let store = dir.join("store");
    let mut command = TestCommand::new();
    command
        .args(["sweep", "--format", "json", "--no-progress", "--repos"])
        .arg(&repos)
        .arg("--datastore")
        .arg(&store)
        .env("SSL_CERT_FILE", server.dir.join("ca.pem"));
    let (out, summary) = command.run_json();
    out.assert_code(1);
    assert_eq!(
        [
            count(&summary, "repos_ok"),
            count(&summary, "repos_failed"),
            count(&summary, "new_findings")
        ],
        [1, 0, 1],
        "{}",
        out.stderr
    );

    let mut command = TestCommand::new();
    command.args(["report", "--format", "json", "-q", "--datastore"]).arg(&store);
    let (out, report) = command.run_json();
    out.assert_code(1);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{report}");
    let location = &findings[0]["locations"][0];
    assert_eq!(findings[0]["secret"], crate::util::redacted(&keys[0]));
    assert_eq!(
        [&location["relative_path"], &location["line"]],
        [&Value::from("keys.txt"), &Value::from(2)]
    );
}

#[test]
fn an_https_server_with_an_untrusted_certificate_is_a_named_failure() {
    let dir = TestDir::new();
    let base = dir.join("srv");
    let mut fakes = Fakes::new(812);
    make_repos(&base, 1, &mut fakes);
    let server = HttpsGit::start(&base);
    let url = server.url("r0");
    let repos = dir.create("repos.txt", format!("{url}\n"));
    let mut command = TestCommand::new();
    command
        .args(["sweep", "--format", "json", "--no-progress", "--repos"])
        .arg(&repos)
        .arg("--datastore")
        .arg(dir.join("store"))
        .env("SSL_CERT_FILE", server.dir.join("stranger.pem"));
    let (out, summary) = command.run_json();
    out.assert_code(2);
    assert_eq!([count(&summary, "repos_ok"), count(&summary, "repos_failed")], [0, 1]);
    assert_eq!(summary["failures"][0][0], url.as_str());
    assert!(out.stderr.contains(&format!("{url}: cannot fetch into ")), "{}", out.stderr);
    assert!(out.stderr.contains("invalid peer certificate: UnknownIssuer"), "{}", out.stderr);
}

//! A real moto server for the verification and blast-radius tests: started on a free loopback
//! port with IAM authentication enforced after setup, populated by `tests/moto_iam.py`, and
//! killed when the test ends (on drop).
//!
//! moto and boto3 come from PyPI (`tests/requirements.txt`, installed by `scripts/test.sh`). A
//! machine without them fails these tests loudly; they are never skipped.

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::util::TestDir;

/// What a reader should do when moto is missing.
const INSTALL_HINT: &str = "moto is not installed: run scripts/test.sh (or `python3 -m pip install -r tests/requirements.txt`) before the tests";

/// A running `moto_server`, killed on drop.
pub struct Moto {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    log: PathBuf,
    _dir: TestDir,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p PORT` with `INITIAL_NO_AUTH_ACTION_COUNT=no_auth`
    /// and waits until it accepts connections.
    pub fn start(no_auth: u32) -> Moto {
        Moto::start_command(no_auth, &[program()])
    }

    /// As [`Moto::start`], running `command` (program and leading arguments) instead of
    /// `moto_server`; it gets `-H 127.0.0.1 -p PORT` appended.
    pub fn start_command(no_auth: u32, command: &[String]) -> Moto {
        let dir = TestDir::new();
        let log = dir.join("moto.log");
        for _ in 0..3 {
            let port = free_port();
            let out = std::fs::File::create(&log).expect("moto log");
            let spawned = Command::new(&command[0])
                .args(&command[1..])
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("INITIAL_NO_AUTH_ACTION_COUNT", no_auth.to_string())
                .env_remove("AWS_ENDPOINT_URL")
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("moto log"))
                .stderr(out)
                .spawn();
            let child = match spawned {
                Ok(child) => child,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
                Err(e) => panic!("cannot start moto_server: {e}"),
            };
            let mut moto =
                Moto { child: Some(child), port, log: log.clone(), _dir: TestDir::new() };
            if moto.wait_ready(Duration::from_secs(30)) {
                moto._dir = dir;
                return moto;
            }
            moto.stop();
        }
        panic!(
            "moto_server did not start; its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(child) = &mut self.child {
                if let Ok(Some(_)) = child.try_wait() {
                    return false;
                }
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits for it; the port then refuses connections.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs `tests/moto_iam.py` against this server (which must have been started with
    /// `no_auth` = 3) and returns the world it built, with its export files in `dir`.
    pub fn populate(&self, dir: &Path) -> World {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto_iam.py");
        let output = Command::new("python3")
            .arg(&script)
            .arg(self.endpoint())
            .arg(dir)
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run python3 tests/moto_iam.py");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("No module named"), "{INSTALL_HINT}\n{stderr}");
        assert!(
            output.status.success(),
            "moto_iam.py failed:\n{stderr}\nmoto log:\n{}",
            self.log()
        );
        let text = std::fs::read_to_string(dir.join("world.json")).expect("world.json");
        World {
            json: serde_json::from_str(&text).expect("world.json is JSON"),
            authorization_details: dir.join("authorization-details.json"),
            access_keys: dir.join("access-keys.json"),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn program() -> String {
    std::env::var("KEYSWEEP_TEST_MOTO").unwrap_or_else(|_| "moto_server".to_string())
}

/// The users, keys and exports `tests/moto_iam.py` made.
pub struct World {
    /// world.json.
    pub json: Value,
    /// `get-account-authorization-details` export.
    pub authorization_details: PathBuf,
    /// `list-access-keys` export.
    #[allow(dead_code, reason = "kept for tests that map keys offline")]
    pub access_keys: PathBuf,
}

/// One IAM user's key.
#[derive(Debug, Clone)]
pub struct UserKey {
    pub key_id: String,
    pub secret: String,
    pub arn: String,
    pub user_id: String,
}

impl World {
    /// The account moto uses.
    pub fn account(&self) -> String {
        self.json["account"].as_str().expect("account").to_string()
    }

    /// A user's key.
    pub fn user(&self, name: &str) -> UserKey {
        let u = &self.json["users"][name];
        let s = |k: &str| u[k].as_str().unwrap_or_else(|| panic!("{name}.{k}")).to_string();
        UserKey { key_id: s("key_id"), secret: s("secret"), arn: s("arn"), user_id: s("user_id") }
    }

    /// A string field at a JSON pointer (`/deleted/key_id`).
    pub fn field(&self, pointer: &str) -> String {
        self.json
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{pointer}"))
            .to_string()
    }
}

/// A credentials file as the AWS CLI writes it.
pub fn credentials_file(key_id: &str, secret: &str, token: Option<&str>) -> String {
    let mut text =
        format!("[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n");
    if let Some(token) = token {
        text.push_str(&format!("aws_session_token = {token}\n"));
    }
    text
}

/// The finding whose first location is `path`.
pub fn finding_at<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["locations"][0]["relative_path"] == path && f["rule"] == "aws.access-key-id")
        .unwrap_or_else(|| panic!("no AWS key finding at {path} in {report:#}"))
}

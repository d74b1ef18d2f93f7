//! Images before they are pushed: `docker-daemon:NAME[:TAG]` against a small Docker Engine API
//! (`tests/docker_engine.py`, Python's `http.server` on a unix socket, started and stopped
//! here) that serves `docker save` tarballs built by the test, and `docker-archive:-` with the
//! tarball on standard input.

use std::io::Write as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{KEY_ID, Loc, Run, errors, key_id, loc, locations, secret_key, sha256, tar, temp};

/// The Engine API server, killed on drop (also when a test panics).
struct Engine {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Engine {
    /// Serves `images` (name, tar file; a file prefixed `cut:` breaks off mid-stream) on
    /// `DIR/engine.sock`.
    fn start(dir: &Path, images: &[(&str, String)]) -> Engine {
        let socket = dir.join("engine.sock");
        let log = dir.join("engine.log");
        let listing = dir.join("images.json");
        let map: serde_json::Map<String, Value> =
            images.iter().map(|(name, file)| (name.to_string(), json!(file))).collect();
        std::fs::write(&listing, serde_json::to_vec(&map).expect("json")).expect("write");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docker_engine.py");
        let child = Command::new("python3")
            .arg(script)
            .args([&socket, &listing, &log])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs the Engine API server (scripts/test.sh installs python3)");
        let mut engine = Engine { child, socket, log };
        engine.wait_ready();
        engine
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                panic!("the Engine API server exited ({status}): {stderr}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the Engine API server did not listen on {} within 20 s", self.socket.display());
    }

    fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The request lines the server received.
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().map(String::from).collect()
    }
}

/// Runs `keysweep image ARGS -f json --no-progress` in `cwd` with `env`, `stdin` piped in;
/// temporary files go to `cwd/tmp`, which must be empty again afterwards.
fn keysweep_image(cwd: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let tmpdir = cwd.join("tmp");
    std::fs::create_dir_all(&tmpdir).expect("tmp");
    let program = std::env::var_os("KEYSWEEP_TEST_PROGRAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_keysweep")));
    let mut command = Command::new(program);
    command
        .current_dir(cwd)
        .arg("image")
        .args(args)
        .args(["-f", "json", "--no-progress"])
        .env("DOCKER_CONFIG", cwd.join(".no-docker-config"))
        .env("TMPDIR", &tmpdir)
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("run keysweep");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // keysweep may stop reading early (an error); a broken pipe is not the test's concern.
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().expect("keysweep output");
    writer.join().expect("stdin writer");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("JSON ({e}): {stdout}\n{stderr}"));
    let left: Vec<_> = std::fs::read_dir(&tmpdir).expect("tmp").collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
    Run { code: output.status.code().unwrap_or(-1), json, stdout, stderr }
}

/// A legacy `docker save` tarball of two layers: a base, and `app/.env` holding a key pair.
/// Returns the tarball and the findings expected in it (layer 1).
fn saved_image(seed: u64) -> (Vec<u8>, Vec<Loc>) {
    let key = key_id(seed);
    let env = format!(
        "# app settings\nAWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={}\n",
        secret_key()
    );
    let base = tar(&[("etc/", b""), ("etc/os-release", b"ID=test\n")]);
    let top = tar(&[("app/", b""), ("app/.env", env.as_bytes())]);
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&base), sha256(&top)]},
        "history": [{"created_by": "ADD base"}, {"created_by": "COPY .env /app/"}],
    });
    let config_bytes = serde_json::to_vec(&config).expect("json");
    let config_name = format!("{}.json", &sha256(&config_bytes)[7..]);
    let manifest = json!([{
        "Config": config_name, "RepoTags": ["app:1.0"],
        "Layers": ["base/layer.tar", "top/layer.tar"],
    }]);
    let manifest_bytes = serde_json::to_vec(&manifest).expect("json");
    let archive = tar(&[
        ("base/", b""),
        ("base/layer.tar", &base),
        ("top/", b""),
        ("top/layer.tar", &top),
        (&config_name, &config_bytes),
        ("manifest.json", &manifest_bytes),
        ("repositories", br#"{"app":{"1.0":"top"}}"#),
    ]);
    // The secret on the next line pairs with the key id: one finding, at the key id.
    let column = "AWS_ACCESS_KEY_ID=".len() as u64 + 1;
    let expected = vec![loc(KEY_ID, "app/.env", 2, column, 1, &sha256(&top))];
    (archive, expected)
}

fn images(json: &Value) -> Vec<String> {
    let mut out: Vec<String> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .flat_map(|f| f["locations"].as_array().expect("locations").iter())
        .map(|l| l["image"].as_str().unwrap_or_default().to_string())
        .collect();
    out.dedup();
    out
}

#[test]
fn docker_daemon_image_via_docker_host() {
    let tmp = temp();
    let (archive, expected) = saved_image(91);
    let file = tmp.path().join("app.tar");
    std::fs::write(&file, &archive).expect("write");
    let engine = Engine::start(tmp.path(), &[("app:1.0", file.display().to_string())]);
    let host = engine.docker_host();

    let run =
        keysweep_image(tmp.path(), &["docker-daemon:app:1.0"], &[("DOCKER_HOST", &host)], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(locations(&run.json), expected);
    assert_eq!(images(&run.json), ["docker-daemon:app:1.0"]);
    let finding = &run.json["findings"][0];
    let secret = secret_key();
    assert_eq!(finding["secret_key"], format!("{}{}", &secret[..4], "*".repeat(16)), "paired");
    let location = &finding["locations"][0];
    assert_eq!(location["secret_key_line"], 3);
    assert_eq!(location["created_by"], "COPY .env /app/");
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));
    assert_eq!(engine.requests(), ["GET /images/app:1.0/get"]);

    // Secrets stay redacted in what the daemon's image reports.
    assert!(!run.stdout.contains(&secret_key()), "{}", run.stdout);
    assert!(!run.stdout.contains(&key_id(91)), "{}", run.stdout);
}

#[test]
fn docker_daemon_errors_name_the_socket_and_image() {
    let tmp = temp();
    let (archive, expected) = saved_image(92);
    let file = tmp.path().join("app.tar");
    std::fs::write(&file, &archive).expect("write");
    let engine = Engine::start(
        tmp.path(),
        &[("app:1.0", file.display().to_string()), ("cut:1.0", format!("cut:{}", file.display()))],
    );
    let host = engine.docker_host();
    let socket = engine.socket.display().to_string();

    // No such image: the engine's 404 message, exit 2.
    let run =
        keysweep_image(tmp.path(), &["docker-daemon:nope:2.0"], &[("DOCKER_HOST", &host)], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        errors(&run.json),
        [format!(
            "docker-daemon:nope:2.0: Docker daemon at unix://{socket}: image nope:2.0: HTTP 404: \
             No such image: nope:2.0"
        )]
    );
    assert_eq!(run.json["findings"], json!([]));

    // One image missing does not lose the other's findings: exit 1, the error listed.
    let both = ["docker-daemon:nope:2.0", "docker-daemon:app:1.0"];
    let run = keysweep_image(tmp.path(), &both, &[("DOCKER_HOST", &host)], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(locations(&run.json), expected);
    assert_eq!(errors(&run.json).len(), 1, "{:?}", errors(&run.json));

    // A daemon that dies mid-save: the image is an error, never a clean scan.
    let run =
        keysweep_image(tmp.path(), &["docker-daemon:cut:1.0"], &[("DOCKER_HOST", &host)], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        errors(&run.json),
        ["docker-daemon:cut:1.0: cannot read docker-daemon:cut:1.0: stream ended mid-chunk"]
    );

    // No daemon on the socket.
    let missing = tmp.path().join("no-engine.sock");
    let missing_host = format!("unix://{}", missing.display());
    let run = keysweep_image(
        tmp.path(),
        &["docker-daemon:app:1.0"],
        &[("DOCKER_HOST", &missing_host)],
        b"",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        errors(&run.json),
        [format!(
            "docker-daemon:app:1.0: cannot connect to the Docker daemon at {missing_host} (is it \
             running?): No such file or directory (os error 2)"
        )]
    );

    // A TCP engine is refused with what to do instead.
    let tcp = [("DOCKER_HOST", "tcp://127.0.0.1:2375")];
    let run = keysweep_image(tmp.path(), &["docker-daemon:app:1.0"], &tcp, b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        errors(&run.json),
        ["docker-daemon:app:1.0: DOCKER_HOST=\"tcp://127.0.0.1:2375\" is not supported: \
             keysweep reads the Docker Engine over a unix socket only \
             (DOCKER_HOST=unix:///path/to/docker.sock); or pipe the image in with `docker save \
             IMAGE | keysweep image docker-archive:-`"]
    );
    assert_eq!(
        engine.requests(),
        [
            "GET /images/nope:2.0/get",
            "GET /images/nope:2.0/get",
            "GET /images/app:1.0/get",
            "GET /images/cut:1.0/get",
        ]
    );
}

#[test]
fn docker_archive_from_stdin() {
    let tmp = temp();
    let (archive, expected) = saved_image(93);
    let run = keysweep_image(tmp.path(), &["docker-archive:-"], &[], &archive);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(locations(&run.json), expected);
    assert_eq!(images(&run.json), ["docker-archive:- (app:1.0)"]);
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));

    // The same image from a file gives the same findings.
    std::fs::write(tmp.path().join("app.tar"), &archive).expect("write");
    let from_file = keysweep_image(tmp.path(), &["docker-archive:app.tar"], &[], b"");
    assert_eq!(locations(&from_file.json), expected);

    // Nothing on stdin is an error, not a clean image.
    let empty = keysweep_image(tmp.path(), &["docker-archive:-"], &[], b"");
    assert_eq!(empty.code, 2, "{}", empty.stderr);
    assert_eq!(
        errors(&empty.json),
        ["docker-archive:-: invalid archive standard input: no files in it (not a tar?)"]
    );
}

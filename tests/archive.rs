//! Archives inside files and blobs: jar/zip (nested), tar.gz/tgz, plain gz, wheels, an archive
//! committed to git, decompression bombs (42.zip-style nesting and a gzip of zeros) with
//! bounded memory, and damaged archives.
//!
//! Every archive is built here, in memory, with the same crates keysweep reads them with.

use std::{
    fs,
    io::{Cursor, Write},
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::util::{Fakes, Scan, TestCommand, TestDir, position};

/// The fake key every test plants (valid shape, not a documentation example).
fn key() -> String {
    format!("{}{}", "AKIA", "RZPUZDIKMDS4CW3C")
}

/// A properties file with the key on line 3.
fn properties(key: &str) -> String {
    format!("# app\nserver.port=8080\naws.accessKeyId = {key}\nlogging.level=INFO\n")
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(entries, zip::CompressionMethod::Deflated)
}

fn zip_with(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(entries.iter().any(|(_, d)| d.len() > u32::MAX as usize / 2));
    for (name, data) in entries {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(data).expect("zip data");
    }
    writer.finish().expect("zip").into_inner()
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).expect("tar entry");
    }
    builder.into_inner().expect("tar")
}

fn gzip_of(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Column of `key` on its line in `text` (1-based), and its line.
fn at(text: &str, key: &str) -> (usize, usize) {
    position(text, key)
}

/// Asserts one location with the key at `path`, at the position it has in `text`.
fn assert_found(scan: &Scan, path: &str, text: &str, key: &str) {
    let found = scan.one_at(path);
    let (line, column) = at(text, key);
    assert_eq!(found.rule, "aws.access-key-id", "{}", scan.out);
    assert_eq!((found.line, found.column), (line, column), "{path}: {}", scan.out);
}

scantest!(key_in_a_jar_in_a_working_tree, |dir, cmd| {
    let key = key();
    let text = properties(&key);
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("BOOT-INF/classes/application.properties", text.as_bytes()),
        ("BOOT-INF/classes/App.class", b"\xca\xfe\xba\xbe\0\0\0\x34binary"),
    ]);
    dir.create("build/app.jar", &jar);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let path = "build/app.jar!/BOOT-INF/classes/application.properties";
    assert_found(&scan, path, &text, &key);
    assert_eq!(scan.findings.len(), 1, "{}", scan.out);
    assert_eq!(scan.one_at(path).display_path, path);
    assert_eq!(scan.stat("skipped_binary"), 1, "the .class member");
    assert_eq!(scan.json["stats"]["errors"], 0);
});

scantest!(sarif_names_the_member, |dir, cmd| {
    let key = key();
    let text = properties(&key);
    dir.create("app.war", zip_of(&[("WEB-INF/classes/db.properties", text.as_bytes())]));
    let sarif_path = dir.join("out.sarif");
    cmd.args(["scan", ".", "--no-progress", "--format", "sarif", "--output"]).arg(&sarif_path);
    cmd.run().assert_code(1);
    let sarif: Value =
        serde_json::from_str(&fs::read_to_string(&sarif_path).expect("sarif")).expect("json");
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "app.war%21/WEB-INF/classes/db.properties");
    assert_eq!(location["region"]["startLine"], 3);
    validate_sarif(&sarif_path);
});

scantest!(zip_inside_zip, |dir, cmd| {
    let key = key();
    let text = properties(&key);
    let inner = zip_of(&[("a.properties", text.as_bytes())]);
    let outer = zip_of(&[("README", b"outer\n"), ("lib/inner.jar", &inner)]);
    dir.create("outer.zip", &outer);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    assert_found(&scan, "outer.zip!/lib/inner.jar!/a.properties", &text, &key);
    assert_eq!(scan.findings.len(), 1);
});

scantest!(tar_gz_and_tgz, |dir, cmd| {
    let key = key();
    let env = format!("HOME=/root\n\nexport AWS_ACCESS_KEY_ID={key}\n");
    let tar = tar_of(&[("etc/", b""), ("etc/app.env", env.as_bytes())]);
    dir.create("dist/release.tar.gz", gzip_of(&tar));
    dir.create("dist/release.tgz", gzip_of(&tar));
    dir.create("dist/plain.tar", &tar);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    assert_found(&scan, "dist/release.tar.gz!/etc/app.env", &env, &key);
    assert_found(&scan, "dist/release.tgz!/etc/app.env", &env, &key);
    assert_found(&scan, "dist/plain.tar!/etc/app.env", &env, &key);
    assert_eq!(scan.findings.len(), 3, "read through members only: {}", scan.out);
});

scantest!(plain_gz, |dir, cmd| {
    let key = key();
    let text = format!("line one\n{}\nkey={key}\n", "x".repeat(200));
    dir.create("logs/creds.txt.gz", gzip_of(text.as_bytes()));
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    assert_found(&scan, "logs/creds.txt.gz!/creds.txt", &text, &key);
});

scantest!(wheel, |dir, cmd| {
    let key = key();
    let code = format!("import os\n\nAWS_KEY = \"{key}\"\n");
    let wheel = zip_of(&[
        ("mypkg/__init__.py", b""),
        ("mypkg/settings.py", code.as_bytes()),
        ("mypkg-1.0.dist-info/METADATA", b"Name: mypkg\n"),
    ]);
    dir.create("dist/mypkg-1.0-py3-none-any.whl", &wheel);
    let scan = cmd.scan_json(["dist"]);
    scan.out.assert_code(1);
    assert_found(&scan, "mypkg-1.0-py3-none-any.whl!/mypkg/settings.py", &code, &key);
    assert_eq!(
        scan.one_at("mypkg-1.0-py3-none-any.whl!/mypkg/settings.py").display_path,
        "dist/mypkg-1.0-py3-none-any.whl!/mypkg/settings.py"
    );
});

scantest!(depth_zero_disables_and_depth_limits, |dir, cmd| {
    let key = key();
    let text = properties(&key);
    let inner = zip_of(&[("a.properties", text.as_bytes())]);
    dir.create("outer.zip", zip_of(&[("inner.jar", &inner)]));
    let scan = cmd.scan_json([".", "--max-archive-depth", "0"]);
    scan.out.assert_code(0);
    assert_eq!(scan.stat("skipped_binary"), 1);
    let scan =
        TestCommand::new().current_dir(dir.path()).scan_json([".", "--max-archive-depth", "1"]);
    scan.out.assert_code(2);
    assert!(
        scan.out.stderr.contains("outer.zip!/inner.jar: archive nested more than 1 levels deep"),
        "{}",
        scan.out
    );
});

#[test]
fn archive_committed_to_git() {
    let dir = TestDir::new();
    let key = key();
    let text = properties(&key);
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "Dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "Dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.com")
            .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
            .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
            .stdout(Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    dir.create("README.md", "hello\n");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "init"]);
    dir.create("libs/config.jar", zip_of(&[("config/app.properties", text.as_bytes())]));
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "add jar"]);
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args(["git", ".", "--format", "json", "--no-progress"]);
    let (out, json) = cmd.run_json();
    let scan = Scan::new(out, json);
    scan.out.assert_code(1);
    let path = "libs/config.jar!/config/app.properties";
    assert_found(&scan, path, &text, &key);
    let location = &scan.json["findings"][0]["locations"][0];
    assert_eq!(location["source"], "git");
    assert_eq!(location["author"], "Dev");
    let blob = location["blob"].as_str().expect("the jar's blob id");
    assert!(blob.len() == 40 && blob.bytes().all(|b| b.is_ascii_hexdigit()), "{blob}");
    assert_eq!(scan.json["findings"][0]["present_at_head"], true);
    assert_eq!(scan.json["findings"][0]["introduced"]["path"], path);
}

/// A 42.zip-style bomb: `levels` of zips, each holding `copies` of the level below; at the
/// bottom, `bottom` bytes of zeros. Small on disk, huge expanded.
pub fn nested_bomb(levels: usize, copies: usize, bottom: usize) -> Vec<u8> {
    let zeros = vec![0u8; bottom];
    let mut level = zip_of(&[("zeros.bin", &zeros)]);
    for depth in 0..levels {
        let names: Vec<String> = (0..copies).map(|i| format!("l{depth}-{i}.zip")).collect();
        let entries: Vec<(&str, &[u8])> =
            names.iter().map(|n| (n.as_str(), level.as_slice())).collect();
        level = zip_of(&entries);
    }
    level
}

/// A valid gzip of `size` zeros (`size` a multiple of 1 MiB), written streaming: 1 MiB of
/// zeros is deflated once, ending in a full flush so that the segment refers to nothing before
/// it, and the segment is written `size / 1 MiB` times; the CRC is combined, not computed over
/// the zeros. About 1 KB per MiB on disk, and fast even in a debug build.
pub fn gzip_bomb(path: &Path, size: u64) {
    const MIB: u64 = 1 << 20;
    assert_eq!(size % MIB, 0);
    let zeros = vec![0u8; MIB as usize];
    let mut deflate = flate2::Compress::new(flate2::Compression::best(), false);
    let mut segment = Vec::with_capacity(64 << 10);
    deflate.compress_vec(&zeros, &mut segment, flate2::FlushCompress::Full).expect("deflate");
    assert_eq!(deflate.total_in(), MIB, "one call deflates the whole MiB");
    let mut tail = Vec::with_capacity(64);
    deflate.compress_vec(&[], &mut tail, flate2::FlushCompress::Finish).expect("deflate end");
    let mut crc = crc32fast::Hasher::new();
    let mut block_crc = crc32fast::Hasher::new();
    block_crc.update(&zeros);
    let mut out = std::io::BufWriter::new(fs::File::create(path).expect("create bomb"));
    out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]).expect("gzip header");
    for _ in 0..size / MIB {
        out.write_all(&segment).expect("write bomb");
        crc.combine(&block_crc);
    }
    out.write_all(&tail).expect("deflate end");
    out.write_all(&crc.finalize().to_le_bytes()).expect("crc");
    out.write_all(&(size as u32).to_le_bytes()).expect("isize");
    out.flush().expect("flush bomb");
}

/// Runs keysweep with `args` in `dir`, returning its output and peak resident memory in KiB:
/// from `/usr/bin/time -v` if present, else by polling `VmHWM` in `/proc/PID/status`.
pub fn run_measured(
    dir: &Path,
    args: &[&str],
    stdin: Option<Vec<u8>>,
) -> (crate::util::Output, u64) {
    let program = std::env::var_os("KEYSWEEP_TEST_PROGRAM")
        .map_or_else(|| env!("CARGO_BIN_EXE_keysweep").into(), std::path::PathBuf::from);
    let timer = Path::new("/usr/bin/time");
    let use_time = timer.exists();
    let mut command = if use_time {
        let mut c = Command::new(timer);
        c.arg("-v").arg(&program);
        c
    } else {
        Command::new(&program)
    };
    command
        .args(args)
        .current_dir(dir)
        .env_remove("KEYSWEEP_LOG")
        .env_remove("RUST_LOG")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("run keysweep");
    let feeder = child.stdin.take().zip(stdin).map(|(mut pipe, data)| {
        thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let mut peak_kb = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if !use_time {
            let status =
                fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
            peak_kb = peak_kb.max(vm_hwm(&status));
        }
        assert!(started.elapsed() < Duration::from_secs(300), "keysweep ran over 300 s");
        thread::sleep(Duration::from_millis(5));
    };
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    let mut stderr = String::from_utf8_lossy(&stderr.join().expect("stderr")).into_owned();
    if use_time {
        let marker = "\tCommand being timed:";
        let cut = stderr.find(marker).unwrap_or(stderr.len());
        let report = stderr.split_off(cut);
        peak_kb = report
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
            .and_then(|v| v.trim().parse().ok())
            .expect("time -v reports the peak RSS");
    }
    // `time` exits with the command's status.
    let code = status.code().unwrap_or(-1);
    let output = crate::util::Output {
        code,
        stdout: String::from_utf8_lossy(&stdout.join().expect("stdout")).into_owned(),
        stderr,
        command: format!("keysweep {}", args.join(" ")),
    };
    assert!(!output.stderr.contains("panicked"), "keysweep panicked: {output}");
    (output, peak_kb)
}

fn vm_hwm(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Peak RSS allowed for a scan of a bomb with the default 256 MiB budget.
const BOMB_RSS_KB: u64 = 500 * 1024;

#[test]
fn nested_zip_bomb_is_reported_and_bounded() {
    let dir = TestDir::new();
    let key = key();
    let text = properties(&key);
    // 3 levels of 8 copies over 16 MiB of zeros (4 archive levels, within the default depth):
    // 8 GiB expanded, a few KB on disk.
    let bomb = nested_bomb(3, 8, 16 << 20);
    assert!(bomb.len() < 4 << 20, "bomb is {} bytes", bomb.len());
    dir.create("bomb/42.zip", &bomb);
    dir.create("bomb/app.properties", &text);
    let started = Instant::now();
    let (out, peak_kb) =
        run_measured(dir.path(), &["scan", ".", "--no-progress", "--format", "json"], None);
    let elapsed = started.elapsed();
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stderr.contains("bomb/42.zip!/l2-0.zip!/l1-")
            && out.stderr.contains("decompression bomb"),
        "{out}"
    );
    let scan = Scan::new(out.clone(), serde_json::from_str(&out.stdout).expect("json"));
    assert_found(&scan, "bomb/app.properties", &text, &key);
    assert_eq!(scan.json["stats"]["errors"], 1, "{out}");
    eprintln!("nested zip bomb: peak RSS {} MiB, {elapsed:?}", peak_kb / 1024);
    assert!(peak_kb < BOMB_RSS_KB, "peak RSS {peak_kb} KiB");
}

#[test]
fn gzip_bomb_is_reported_and_bounded() {
    let dir = TestDir::new();
    let key = key();
    let text = properties(&key);
    fs::create_dir_all(dir.join("data")).expect("mkdir");
    gzip_bomb(&dir.join("data/dump.sql.gz"), 2 << 30);
    let size = fs::metadata(dir.join("data/dump.sql.gz")).expect("bomb").len();
    assert!(size < 4 << 20, "bomb is {size} bytes");
    dir.create("data/app.properties", &text);
    let (out, peak_kb) =
        run_measured(dir.path(), &["scan", ".", "--no-progress", "--format", "json"], None);
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stderr.contains("data/dump.sql.gz!/dump.sql: expands to more than 256 MiB in total"),
        "{out}"
    );
    let scan = Scan::new(out.clone(), serde_json::from_str(&out.stdout).expect("json"));
    assert_found(&scan, "data/app.properties", &text, &key);
    eprintln!("gzip bomb ({size} bytes): peak RSS {} MiB", peak_kb / 1024);
    assert!(peak_kb < BOMB_RSS_KB, "peak RSS {peak_kb} KiB");
}

scantest!(lower_budget_catches_a_smaller_bomb, |dir, cmd| {
    dir.create("z.zip", zip_of(&[("big.bin", &vec![b'a'; 4 << 20])]));
    let scan = cmd.scan_json([".", "--max-decompressed-size", "1M"]);
    scan.out.assert_code(2);
    assert!(scan.out.stderr.contains("z.zip!/big.bin: expands to more than 1 MiB"), "{}", scan.out);
});

scantest!(damaged_archives_are_named_and_the_scan_goes_on, |dir, cmd| {
    let key = key();
    let text = properties(&key);
    let mut fakes = Fakes::new(5);
    let noise = fakes.bytes(64 << 10);
    let zip = zip_of(&[("ok.txt", b"fine\n"), ("noise.bin", &noise)]);
    dir.create("broken/truncated.zip", &zip[..zip.len() / 2]);
    let mut gz = gzip_of(text.as_bytes());
    let mid = gz.len() / 2;
    gz[mid..mid + 4].copy_from_slice(b"\xde\xad\xbe\xef");
    dir.create("broken/corrupt.gz", &gz);
    dir.create("broken/app.properties", &text);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    assert_found(&scan, "broken/app.properties", &text, &key);
    let errors: Vec<String> = scan.json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["input"].as_str().expect("input").to_string())
        .collect();
    assert!(errors.iter().any(|e| e == "broken/truncated.zip"), "{errors:?}");
    assert!(errors.iter().any(|e| e == "broken/corrupt.gz!/corrupt"), "{errors:?}");
    assert!(
        scan.out.stderr.contains("broken/truncated.zip: cannot read zip archive"),
        "{}",
        scan.out
    );
    assert!(
        scan.out.stderr.contains("broken/corrupt.gz!/corrupt: cannot read gzip archive"),
        "{}",
        scan.out
    );
});

scantest!(text_that_starts_like_a_zip_is_scanned_as_text, |dir, cmd| {
    let key = key();
    let text = format!("PK\x03\x04 is how a zip starts\nkey {key}\n");
    dir.create("notes.txt", &text);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    assert_found(&scan, "notes.txt", &text, &key);
    assert_eq!(scan.json["stats"]["errors"], 0);
});

/// Validates a SARIF file against the official schema with Python's `jsonschema`.
pub fn validate_sarif(document: &Path) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    const SCRIPT: &str = "import json, sys\n\
        import jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        doc = json.load(open(sys.argv[2]))\n\
        errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)\n\
        for e in errors[:20]:\n    print('/'.join(map(str, e.absolute_path)), ':', e.message)\n\
        sys.exit(1 if errors else 0)\n";
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(&schema)
        .arg(document)
        .output()
        .expect("python3 runs (scripts/test.sh installs it)");
    assert!(
        output.status.success(),
        "SARIF does not validate:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

//! Hostile trees, beyond the broken inputs of `bad_input` and the bombs of `archive`: symlinks
//! that lead out of the scan root, path names that are not UTF-8 or hold a newline, a tar whose
//! members climb out with `../` or are hard links, a 10 GB gzip bomb, and a 1 GB file with no
//! newline. Each tree also holds one ordinary key, which must be found at its exact place: a
//! hostile input may cost its own findings, never anyone else's.

use std::{
    ffi::OsStr,
    fs,
    io::{BufWriter, Read, Write},
    os::unix::{ffi::OsStrExt, fs::symlink},
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::{
    archive::gzip_bomb,
    util::{ACCOUNT, Fakes, Output, Scan, TestCommand, TestDir, position},
};

/// Peak anonymous memory allowed for the scan of a 1 GB file.
const RSS_LIMIT_KB: u64 = 300 * 1024;

/// Peak resident memory allowed for a scan of a bomb: the default 256 MiB decompression budget
/// plus room for the program itself.
const BOMB_RSS_LIMIT_KB: u64 = 400 * 1024;

/// An ordinary `.env` with a key on line 2, and the key.
pub fn plant_key(dir: &TestDir, rel: &str, fakes: &mut Fakes) -> (String, String) {
    let key = fakes.key_id("AKIA", ACCOUNT);
    let text = format!("# deploy\nAWS_ACCESS_KEY_ID={key}\n");
    dir.create(rel, &text);
    (key, text)
}

/// Asserts the one finding at `path` is `key` by the AWS key id rule, where `text` has it.
pub fn assert_key_at(scan: &Scan, path: &str, text: impl AsRef<[u8]>, key: &str) {
    let found = scan.one_at(path);
    assert_eq!(found.rule, "aws.access-key-id", "{}", scan.out);
    assert_eq!(found.secret, key, "{}", scan.out);
    assert_eq!((found.line, found.column), position(text, key), "{path}: {}", scan.out);
}

/// Peak memory of a run, in KiB.
#[derive(Debug, Default)]
pub struct Peak {
    /// Resident set, file pages included (`VmHWM`).
    pub total_kb: u64,
    /// Anonymous resident memory (heap, stacks): what `RssAnon` peaked at while polled.
    pub anon_kb: u64,
}

/// The value of `field` (in kB) in a `/proc/PID/status` text.
fn status_kb(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Scans `args` in `dir` with the JSON report, polling the child's `/proc/PID/status` for its
/// peak memory (see [`run_measured`]).
pub fn scan_measured(dir: &Path, args: &[&str], limit: Duration) -> (Scan, Peak) {
    let mut full = vec!["scan", "--format", "json", "--no-progress"];
    full.extend_from_slice(args);
    let (out, peak) = run_measured(dir, &full, limit);
    let json =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    (Scan::new(out, json), peak)
}

/// Runs keysweep with `args` in `dir`, polling the child's `/proc/PID/status` for its peak
/// memory. Anonymous memory is measured apart because file pages (the page cache of what was
/// read, the binary itself) count in the resident set but are not heap. Fails on a panic, a
/// death by signal, or a run longer than `limit`.
pub fn run_measured(dir: &Path, args: &[&str], limit: Duration) -> (Output, Peak) {
    let program = std::env::var_os("KEYSWEEP_TEST_PROGRAM")
        .map_or_else(|| env!("CARGO_BIN_EXE_keysweep").into(), std::path::PathBuf::from);
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("KEYSWEEP_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("run keysweep");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let mut peak = Peak::default();
    let status = loop {
        let status = fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        peak.total_kb = peak.total_kb.max(status_kb(&status, "VmHWM:"));
        peak.anon_kb = peak.anon_kb.max(status_kb(&status, "RssAnon:"));
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("keysweep ran over {limit:?}: {args:?}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    let out = Output {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout.join().expect("stdout")).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().expect("stderr")).into_owned(),
        command: format!("keysweep {}", args.join(" ")),
    };
    eprintln!(
        "{}: {:.1} s, peak RSS {} MiB, anonymous {} MiB",
        out.command,
        started.elapsed().as_secs_f64(),
        peak.total_kb >> 10,
        peak.anon_kb >> 10
    );
    assert!(!out.stderr.contains("panicked"), "keysweep panicked: {out}");
    assert!(out.code >= 0, "keysweep was killed by a signal ({status}): {out}");
    (out, peak)
}

#[test]
fn symlinks_out_of_the_root_are_not_followed() {
    let outside = TestDir::new();
    let mut fakes = Fakes::new(1000);
    let (outside_key, _) = plant_key(&outside, "secret.env", &mut fakes);

    let dir = TestDir::new();
    let (key, text) = plant_key(&dir, "app/config.env", &mut fakes);
    symlink(outside.join("secret.env"), dir.join("app/linked.env")).expect("symlink");
    symlink(outside.path(), dir.join("linked-dir")).expect("symlink");
    symlink("../../..", dir.join("app/up")).expect("symlink");
    symlink("b", dir.join("a")).expect("symlink");
    symlink("a", dir.join("b")).expect("symlink");

    let scan = TestCommand::new()
        .current_dir(dir.path())
        .timeout(Duration::from_secs(60))
        .scan_json(["--show-secrets", "."]);
    assert_eq!(scan.finding_count(), 1, "{:#?}\n{}", scan.findings, scan.out);
    assert_key_at(&scan, "app/config.env", &text, &key);
    assert!(!scan.out.stdout.contains(&outside_key), "key outside the root reported: {}", scan.out);
    assert_eq!(scan.stat("errors"), 0, "{}", scan.out);
    assert!(!scan.out.stderr.contains("panicked"), "{}", scan.out);
    scan.out.assert_code(1);
}

#[test]
fn path_names_with_invalid_utf8_and_newlines_are_scanned_and_escaped() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1001);
    let (key, text) = plant_key(&dir, "app/config.env", &mut fakes);
    let bad_key = fakes.key_id("AKIA", ACCOUNT);
    let bad_text = format!("x=1\ntoken = {bad_key}\n");
    fs::write(dir.path().join(OsStr::from_bytes(b"caf\xe9.env")), &bad_text).expect("write");
    let nl_key = fakes.key_id("AKIA", ACCOUNT);
    let nl_text = format!("AWS_ACCESS_KEY_ID={nl_key}\n");
    dir.create("two\nlines.env", &nl_text);

    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["--show-secrets", "."]);
    assert_eq!(scan.finding_count(), 3, "{:#?}\n{}", scan.findings, scan.out);
    assert_key_at(&scan, "app/config.env", &text, &key);
    assert_key_at(&scan, "caf\u{FFFD}.env", &bad_text, &bad_key);
    assert_key_at(&scan, "two\nlines.env", &nl_text, &nl_key);
    scan.out.assert_code(1);

    // The JSON report keeps the newline (escaped by JSON); the text report must not print it
    // raw, or a file name could forge a report line.
    let text_out =
        TestCommand::new().current_dir(dir.path()).args(["scan", "--no-progress", "."]).run();
    text_out.assert_code(1);
    assert!(!text_out.stdout.contains("two\nlines.env"), "raw newline in a path: {text_out}");
    assert!(text_out.stdout.contains("two\\nlines.env"), "escaped path: {text_out}");
    assert!(text_out.stdout.contains("caf\u{FFFD}.env"), "lossy path: {text_out}");
}

/// A tar header for `name` (raw bytes, so `../` is kept) of `kind`, `size` bytes long.
fn raw_header(name: &[u8], kind: tar::EntryType, size: u64, link: Option<&[u8]>) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    if let Some(link) = link {
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    }
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    header
}

#[test]
fn tar_with_parent_members_and_hard_links_writes_nothing_and_reports_safe_names() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1002);
    let (key, text) = plant_key(&dir, "tree/app/config.env", &mut fakes);
    let member_key = fakes.key_id("AKIA", ACCOUNT);
    let member = format!("AWS_ACCESS_KEY_ID={member_key}\n");

    let mut builder = tar::Builder::new(Vec::new());
    let climbing =
        raw_header(b"../../escape.env", tar::EntryType::Regular, member.len() as u64, None);
    builder.append(&climbing, member.as_bytes()).expect("tar");
    let absolute =
        raw_header(b"/tmp/absolute.env", tar::EntryType::Regular, member.len() as u64, None);
    builder.append(&absolute, member.as_bytes()).expect("tar");
    let hard = raw_header(b"hard.env", tar::EntryType::Link, 0, Some(b"../../escape.env"));
    builder.append(&hard, &[][..]).expect("tar");
    let hard_out = raw_header(b"passwd", tar::EntryType::Link, 0, Some(b"/etc/passwd"));
    builder.append(&hard_out, &[][..]).expect("tar");
    let tar = builder.into_inner().expect("tar");
    dir.create("tree/dist/evil.tar", &tar);

    let before: Vec<_> =
        fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["--show-secrets", "tree"]);
    let after: Vec<_> =
        fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(before, after, "the scan wrote beside the tree");
    assert!(!Path::new("/tmp/absolute.env").exists());

    assert_key_at(&scan, "app/config.env", &text, &key);
    // Members are read in memory, never extracted, so a member's name is only a label, and one
    // that a SARIF viewer or editor cannot resolve to a file outside the archive. Hard links
    // carry no data of their own and are not followed (not even to `/etc/passwd`).
    let members: Vec<(&str, &str, usize, usize)> = scan
        .findings
        .iter()
        .filter(|f| f.path.starts_with("dist/evil.tar"))
        .map(|f| (f.path.as_str(), f.secret.as_str(), f.line, f.column))
        .collect();
    assert_eq!(
        members,
        [
            ("dist/evil.tar!/%2E%2E/%2E%2E/escape.env", member_key.as_str(), 1, 19),
            ("dist/evil.tar!/tmp/absolute.env", member_key.as_str(), 1, 19)
        ],
        "{}",
        scan.out
    );
    let shown: Vec<&str> = scan.findings.iter().map(|f| f.display_path.as_str()).collect();
    assert!(shown.contains(&"tree/dist/evil.tar!/tmp/absolute.env"), "{shown:?}");
    assert_eq!(scan.stat("blobs_scanned"), 4, "config.env, evil.tar and its two regular members");
    assert_eq!(scan.stat("errors"), 0, "{}", scan.out);
    scan.out.assert_code(1);
}

#[test]
fn ten_gigabyte_gzip_bomb_stops_at_the_limit() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1003);
    let (key, text) = plant_key(&dir, "app/config.env", &mut fakes);
    fs::create_dir(dir.join("backup")).expect("mkdir");
    gzip_bomb(&dir.join("backup/zeros.gz"), 10 << 30);
    let size = fs::metadata(dir.join("backup/zeros.gz")).expect("bomb").len();
    assert!(size < 16 << 20, "bomb is {size} bytes");

    let (scan, peak) = scan_measured(dir.path(), &["--show-secrets", "."], Duration::from_secs(60));
    assert!(peak.total_kb < BOMB_RSS_LIMIT_KB, "peak RSS {peak:?}: {}", scan.out);
    assert!(
        scan.out.stderr.contains("backup/zeros.gz!/zeros: expands to more than 256 MiB in total"),
        "{}",
        scan.out
    );
    let errors = scan.json["errors"].as_array().expect("errors array");
    let inputs: Vec<&str> = errors.iter().filter_map(|e| e["input"].as_str()).collect();
    assert_eq!(inputs, ["backup/zeros.gz!/zeros"], "{errors:#?}");
    assert_eq!(scan.finding_count(), 1, "{}", scan.out);
    assert_key_at(&scan, "app/config.env", &text, &key);
    scan.out.assert_code(1);
}

/// Writes a file of `total` bytes with no newline and `needle` ending `tail` bytes before the
/// end, streaming.
fn write_without_newline(path: &Path, total: usize, tail: usize, needle: &[u8]) -> usize {
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(path).expect("create"));
    let block: Vec<u8> = b"0123456789abcdef ".iter().copied().cycle().take(1 << 20).collect();
    let fill = |mut n: usize, out: &mut BufWriter<fs::File>| {
        while n > 0 {
            let take = n.min(block.len());
            out.write_all(&block[..take]).expect("write");
            n -= take;
        }
    };
    let offset = total - tail - needle.len();
    fill(offset, &mut out);
    out.write_all(needle).expect("write");
    fill(tail, &mut out);
    out.flush().expect("flush");
    offset
}

#[test]
fn gigabyte_without_a_newline_finds_the_key_near_the_end() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1004);
    let (key, text) = plant_key(&dir, "app/config.env", &mut fakes);
    let big_key = fakes.key_id("AKIA", ACCOUNT);
    let needle = format!(" key={big_key} ");
    let total = 1 << 30;
    let offset = write_without_newline(&dir.join("big.log"), total, 4099, needle.as_bytes());

    // Generous: about 35 s in a debug build on a busy 2-core machine.
    let (scan, peak) = scan_measured(
        dir.path(),
        &["--show-secrets", "--max-file-size", "2G", "."],
        Duration::from_secs(240),
    );
    // The file is streamed in 1 MiB windows: the heap must stay small.
    assert!(peak.anon_kb < RSS_LIMIT_KB, "peak anonymous memory {peak:?}: {}", scan.out);
    assert_eq!(scan.finding_count(), 2, "{:#?}\n{}", scan.findings, scan.out);
    assert_key_at(&scan, "app/config.env", &text, &key);
    let big = scan.one_at("big.log");
    assert_eq!((big.secret.as_str(), big.line, big.column), (big_key.as_str(), 1, offset + 6));
    scan.out.assert_code(1);
}

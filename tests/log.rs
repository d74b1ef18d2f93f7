//! `keysweep log`: ANSI colours, CI timestamps, CRLF and `\r` progress lines, secrets cut by
//! chunk boundaries, a 100 MB log on standard input in bounded memory, and GitHub Actions' log
//! zip. Lines are the log's; columns count from the start of the cleaned line.

use std::io::{Cursor, Write};

use crate::archive::run_measured;
use crate::util::{ACCOUNT, Fakes, Scan, TestCommand, TestDir};

fn key() -> String {
    format!("{}{}", "AKIA", "RZPUZDIKMDS4CW3C")
}

/// Runs `keysweep log --format json` with `args`, feeding `stdin`.
fn log_json(dir: &TestDir, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Scan {
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args(["log", "--format", "json", "--no-progress"]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(data) = stdin {
        cmd.stdin(data.to_vec());
    }
    let (out, json) = cmd.run_json();
    Scan::new(out, json)
}

/// (line, column) of each finding location, in report order, with its path.
fn places(scan: &Scan) -> Vec<(String, usize, usize)> {
    let mut places: Vec<_> =
        scan.findings.iter().map(|f| (f.path.clone(), f.line, f.column)).collect();
    places.sort();
    places
}

#[test]
fn ansi_coloured_lines() {
    let dir = TestDir::new();
    let key = key();
    let log = format!(
        "\x1b[1m\x1b[32m   Compiling\x1b[0m app v0.1.0\n\
         \x1b]0;build\x07\x1b[31mERROR\x1b[0m leaked \x1b[33maws_key=\x1b[0m{key}\x1b[K\n"
    );
    let scan = log_json(&dir, &["-"], Some(log.as_bytes()), &[]);
    scan.out.assert_code(1);
    let found = scan.only();
    assert_eq!(found.rule, "aws.access-key-id");
    assert_eq!(found.path, "stdin");
    assert_eq!(found.display_path, "<stdin>");
    // Cleaned line 2: "ERROR leaked aws_key=AKIA…"
    assert_eq!((found.line, found.column), (2, 22));
    assert_eq!(found.end_column, 42);
    assert_eq!(scan.json["findings"][0]["locations"][0]["source"], "log");
    let snippet = scan.json["findings"][0]["locations"][0]["snippet"].as_str().expect("snippet");
    assert!(snippet.starts_with("ERROR leaked aws_key=AKIA"), "{snippet}");
    assert!(!snippet.contains('\x1b'), "{snippet}");
}

#[test]
fn github_actions_timestamps() {
    let dir = TestDir::new();
    let key = key();
    let log = format!(
        "2024-01-01T12:00:00.1234567Z ##[group]Run ./deploy.sh\n\
         2024-01-01T12:00:00.2345678Z export AWS_ACCESS_KEY_ID={key}\n\
         2024-01-01 12:00:01,123 INFO id={key}\n\
         [12:00:02] key {key}\n\
         not a timestamp 2024-01-01T12:00:00Z {key}\n"
    );
    dir.create("job.log", &log);
    let scan = log_json(&dir, &["job.log"], None, &[]);
    scan.out.assert_code(1);
    assert_eq!(
        places(&scan),
        [
            ("job.log".to_string(), 2, 26),
            ("job.log".to_string(), 3, 9),
            ("job.log".to_string(), 4, 5),
            ("job.log".to_string(), 5, 38),
        ]
    );
}

#[test]
fn crlf_and_carriage_return_progress() {
    let dir = TestDir::new();
    let key = key();
    let log = format!(
        "start\r\n\
         Downloading  10%\rDownloading 100%\rtoken {key} done\r\n\
         \r\n\
         50%\r100%\r\n\
         last {key}\r\n"
    );
    let scan = log_json(&dir, &[], Some(log.as_bytes()), &[]);
    scan.out.assert_code(1);
    assert_eq!(places(&scan), [("stdin".to_string(), 2, 7), ("stdin".to_string(), 5, 6)]);
    assert_eq!(scan.findings[0].end_column, 27, "no \\r in the cleaned line");
}

/// A plain log (nothing to clean, so raw and cleaned offsets agree) with `keys` whose first
/// bytes lie just before a multiple of `chunk`, at a different distance each time; returns the
/// log and each key's (line, column).
fn keys_across_boundaries(chunk: usize, keys: &[String]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut log = Vec::new();
    let mut want = Vec::new();
    let mut line = 1;
    for (i, key) in keys.iter().enumerate() {
        let boundary = (i + 3) * chunk;
        let start = boundary - 1 - (i * 7) % (key.len() - 1);
        let filler = b"building component with a long and boring name: ok\n";
        while log.len() + filler.len() + 4 < start {
            log.extend_from_slice(filler);
            line += 1;
        }
        let pad = start - log.len() - 4;
        log.extend(std::iter::repeat_n(b'.', pad));
        log.extend_from_slice(b"id=");
        log.push(b' ');
        assert_eq!(log.len(), start);
        log.extend_from_slice(key.as_bytes());
        log.push(b'\n');
        want.push((line, pad + 5));
        line += 1;
    }
    (log, want)
}

#[test]
fn key_split_across_chunk_boundaries() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(11);
    let keys: Vec<String> = (0..12).map(|_| fakes.key_id("AKIA", ACCOUNT)).collect();
    let (log, want) = keys_across_boundaries(4096, &keys);
    dir.create("split.log", &log);
    for args in [&["split.log"][..], &["-"][..]] {
        let stdin = (args[0] == "-").then_some(&log[..]);
        let scan = log_json(&dir, args, stdin, &[("KEYSWEEP_LOG_CHUNK", "4096")]);
        scan.out.assert_code(1);
        assert_eq!(scan.finding_count(), keys.len(), "{}", scan.out);
        let mut got: Vec<(usize, usize)> =
            scan.findings.iter().map(|f| (f.line, f.column)).collect();
        got.sort();
        assert_eq!(got, want, "{args:?}");
    }
}

#[test]
fn hundred_mb_on_stdin_in_bounded_memory() {
    const MIB: usize = 1 << 20;
    let dir = TestDir::new();
    let mut fakes = Fakes::new(12);
    let keys: Vec<String> = (0..99).map(|_| fakes.key_id("AKIA", ACCOUNT)).collect();
    let mut log = Vec::with_capacity(101 * MIB);
    let mut want = Vec::new();
    let mut line = 1;
    let stamp = b"2024-01-01T12:00:00.1234567Z ";
    let filler =
        b"2024-01-01T12:00:00.1234567Z \x1b[32m   Compiling\x1b[0m crate-with-a-name v1.2.3\r\n";
    for (i, key) in keys.iter().enumerate() {
        // The key's first byte sits 1..19 bytes before the next MiB of raw input.
        let start = (i + 1) * MIB - 1 - i % 19;
        while log.len() + filler.len() + stamp.len() + 8 < start {
            log.extend_from_slice(filler);
            line += 1;
        }
        log.extend_from_slice(stamp);
        let pad = start - log.len() - 4;
        log.extend(std::iter::repeat_n(b'-', pad));
        log.extend_from_slice(b"key ");
        assert_eq!(log.len(), start);
        log.extend_from_slice(key.as_bytes());
        log.extend_from_slice(b"\r\n");
        want.push((line, pad + 5));
        line += 1;
    }
    while log.len() < 100 * MIB {
        log.extend_from_slice(filler);
    }
    let started = std::time::Instant::now();
    let (out, peak_kb) = run_measured(
        dir.path(),
        &["log", "--format", "json", "--no-progress", "-"],
        Some(log.clone()),
    );
    let elapsed = started.elapsed();
    assert_eq!(out.code, 1, "{out}");
    let scan = Scan::new(out.clone(), serde_json::from_str(&out.stdout).expect("json"));
    assert_eq!(scan.finding_count(), keys.len());
    let mut got: Vec<(usize, usize)> = scan.findings.iter().map(|f| (f.line, f.column)).collect();
    got.sort();
    assert_eq!(got, want);
    eprintln!(
        "100 MB log on stdin: {elapsed:?} ({:.0} MB/s), peak RSS {} MiB",
        log.len() as f64 / 1e6 / elapsed.as_secs_f64(),
        peak_kb / 1024
    );
    assert!(peak_kb < 200 * 1024, "peak RSS {peak_kb} KiB");
}

#[test]
fn github_actions_log_zip() {
    let dir = TestDir::new();
    let key = key();
    let step = format!(
        "2024-01-01T12:00:00.0000000Z ##[group]Run aws configure\n\
         2024-01-01T12:00:00.1000000Z \x1b[36;1maws configure set aws_access_key_id {key}\x1b[0m\n\
         2024-01-01T12:00:00.2000000Z ##[endgroup]\n"
    );
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in [
        ("1_build.txt", "2024-01-01T12:00:00.0000000Z all steps\n".to_string()),
        ("build/1_Set up job.txt", "2024-01-01T12:00:00.0000000Z set up\n".to_string()),
        ("build/2_Configure AWS.txt", step.clone()),
    ] {
        writer.start_file(name, options).expect("entry");
        writer.write_all(text.as_bytes()).expect("write");
    }
    dir.create("logs_42.zip", writer.finish().expect("zip").into_inner());
    let scan = log_json(&dir, &["logs_42.zip"], None, &[]);
    scan.out.assert_code(1);
    assert_eq!(places(&scan), [("logs_42.zip!/build/2_Configure AWS.txt".to_string(), 2, 37)]);
    assert_eq!(scan.findings[0].display_path, "logs_42.zip!/build/2_Configure AWS.txt");
}

#[test]
fn gzipped_log_and_missing_file() {
    let dir = TestDir::new();
    let key = key();
    let log = format!("one\n2024-01-01T12:00:00Z two {key}\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log.as_bytes()).expect("gzip");
    dir.create("build.log.gz", gz.finish().expect("gzip"));
    let scan = log_json(&dir, &["build.log.gz", "missing.log"], None, &[]);
    scan.out.assert_code(1);
    assert_eq!(places(&scan), [("build.log.gz".to_string(), 2, 5)]);
    assert!(scan.out.stderr.contains("missing.log"), "{}", scan.out);
    let clean = log_json(&dir, &["missing.log"], None, &[]);
    clean.out.assert_code(2);
}

//! Hostile and broken input: unreadable files, empty and binary files, a 200 MB line, invalid
//! UTF-8, symlink loops and FIFOs. keysweep must not panic or hang, must still find every key
//! it can read at its exact place, must name what it could not read, and must choose the exit
//! code by the contract (1 found, 2 nothing found but an input failed, 0 clean).
//!
//! The unreadable inputs are a file and a directory with mode 000. Permission bits do not stop
//! root, and the suite may run as root (CI containers do), so when the test process can still
//! open them it runs keysweep as the unprivileged user `nobody` (uid 65534, via
//! `CommandExt::uid`, which also drops supplementary groups) over a tree opened to other users.
//! That keeps the real failure mode, `open(2)` refused with EACCES, under root and non-root
//! alike; a FIFO or a vanishing file would test something else (a FIFO in a tree is skipped,
//! not failed, and a race is not deterministic).

use std::{
    fs,
    io::{BufWriter, Write},
    os::unix::fs::{PermissionsExt, symlink},
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use crate::util::{
    ACCOUNT, Fakes, NOBODY, TestCommand, TestDir, bypasses_permissions, open_to_others, position,
};

/// The scan must finish well within this, FIFOs and symlink loops notwithstanding.
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Creates a FIFO with `mkfifo(1)` (no libc in the tests).
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Inputs made unreadable (mode 000); their permissions are restored on drop so that the
/// temporary tree can be deleted when the suite does not run as root.
struct Unreadable {
    paths: Vec<PathBuf>,
    /// Permission bits do not stop this process (root): keysweep must run as `nobody`.
    privileged: bool,
}

impl Drop for Unreadable {
    fn drop(&mut self) {
        for path in &self.paths {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o700));
        }
    }
}

/// Writes a file at each of `files` (with `content`) and creates each of `dirs` holding a file
/// `a.env` (with `content`), then makes them all unreadable.
fn create_unreadable(dir: &TestDir, files: &[&str], dirs: &[&str], content: &str) -> Unreadable {
    let mut paths: Vec<PathBuf> = files.iter().map(|rel| dir.create(rel, content)).collect();
    for rel in dirs {
        dir.create(&format!("{rel}/a.env"), content);
        paths.push(dir.join(rel));
    }
    for path in &paths {
        fs::set_permissions(path, fs::Permissions::from_mode(0o000)).expect("chmod 000");
    }
    let privileged = paths
        .iter()
        .any(|p| if p.is_dir() { fs::read_dir(p).is_ok() } else { bypasses_permissions(p) });
    if privileged {
        eprintln!(
            "running as a user that permission bits do not stop (root): keysweep runs as uid \
             {NOBODY} so that {files:?} and {dirs:?} are unreadable to it"
        );
        open_to_others(dir.path());
    }
    Unreadable { paths, privileged }
}

/// A command in `dir`, as `nobody` when `privileged`.
fn command_in(dir: &TestDir, privileged: bool) -> TestCommand {
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).timeout(HANG_LIMIT);
    if privileged {
        cmd.run_as(NOBODY);
    }
    cmd
}

/// Writes a single-line file of `total` bytes of prose with `needle` starting at byte
/// `offset`, without holding it in memory.
fn write_one_line(path: &Path, total: usize, offset: usize, needle: &[u8]) {
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(path).expect("create"));
    let words = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";
    let block: Vec<u8> = words.iter().copied().cycle().take(1 << 20).collect();
    let fill = |mut n: usize, out: &mut BufWriter<fs::File>| {
        while n > 0 {
            let take = n.min(block.len());
            out.write_all(&block[..take]).expect("write");
            n -= take;
        }
    };
    fill(offset, &mut out);
    out.write_all(needle).expect("write");
    fill(total - offset - needle.len(), &mut out);
    out.flush().expect("flush");
}

#[test]
fn broken_tree_finds_every_readable_key_names_the_unreadable_file_and_exits_1() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(100);

    // A plain key pair elsewhere in the tree.
    let (ok_key, ok_secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let ok = format!("AWS_ACCESS_KEY_ID={ok_key}\nAWS_SECRET_ACCESS_KEY={ok_secret}\n");
    dir.create("ok/creds.env", &ok);

    // Unreadable: a file, and a directory below the root.
    let locked_key = fakes.key_id("AKIA", ACCOUNT);
    let locked = create_unreadable(
        &dir,
        &["locked.env"],
        &["sub/locked-dir"],
        &format!("AWS_ACCESS_KEY_ID={locked_key}\n"),
    );

    // Empty, and 1 MiB of seeded random bytes (with a NUL early, so it is binary for sure).
    dir.create("empty.txt", b"");
    let mut random = fakes.bytes(1 << 20);
    random[100] = 0;
    dir.create("random.bin", &random);

    // 200 MB on one line, the pair in the middle.
    let (big_key, big_secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let needle = format!(" AWS_ACCESS_KEY_ID={big_key} AWS_SECRET_ACCESS_KEY={big_secret} ");
    let big_total = 200 * 1000 * 1000;
    let big_offset = big_total / 2 + 7;
    write_one_line(&dir.join("huge.txt"), big_total, big_offset, needle.as_bytes());
    let big_key_column = big_offset + " AWS_ACCESS_KEY_ID=".len() + 1;
    let big_secret_column = big_key_column + 20 + " AWS_SECRET_ACCESS_KEY=".len();

    // Invalid UTF-8 right before and after a key and its secret: Latin-1 `é` and no-break
    // spaces, a lone continuation byte, 0xFF.
    let (l1_key, l1_secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let mut latin1 = b"# r\xe9glages\ncl\xe9=\xa0".to_vec();
    latin1.extend_from_slice(l1_key.as_bytes());
    latin1.extend_from_slice(b"\xa0\xff\n\x80\x80");
    latin1.extend_from_slice(l1_secret.as_bytes());
    latin1.extend_from_slice(b"\xfe\n");
    dir.create("latin1.txt", &latin1);

    // Symlink loops and a link to the parent directory.
    fs::create_dir(dir.join("loop")).expect("mkdir");
    symlink("b", dir.join("loop/a")).expect("symlink");
    symlink("a", dir.join("loop/b")).expect("symlink");
    symlink("..", dir.join("loop/up")).expect("symlink");

    // A FIFO nobody writes to.
    mkfifo(&dir.join("pipe"));

    let scan = command_in(&dir, locked.privileged).scan_json(["--show-secrets", "."]);

    // Every readable key, exactly.
    assert_eq!(scan.finding_count(), 3, "{:#?}\n{}", scan.findings, scan.out);
    let ok_found = scan.one_at("ok/creds.env");
    assert_eq!(
        (ok_found.secret.as_str(), ok_found.line, ok_found.column),
        (ok_key.as_str(), 1, 19)
    );
    assert_eq!(ok_found.secret_key.as_deref(), Some(ok_secret.as_str()));
    assert_eq!((ok_found.secret_key_line, ok_found.secret_key_column), (Some(2), Some(23)));

    let big = scan.one_at("huge.txt");
    assert_eq!((big.secret.as_str(), big.line, big.column), (big_key.as_str(), 1, big_key_column));
    assert_eq!(big.secret_key.as_deref(), Some(big_secret.as_str()));
    assert_eq!((big.secret_key_line, big.secret_key_column), (Some(1), Some(big_secret_column)));
    assert_eq!(big.severity, "critical");

    let l1 = scan.one_at("latin1.txt");
    // Columns count what an editor shows: each invalid byte is one U+FFFD.
    assert_eq!((l1.secret.as_str(), l1.line, l1.column), (l1_key.as_str(), 2, 6));
    assert_eq!((l1.line, l1.column), position(&latin1, &l1_key));
    assert_eq!(l1.end_column, 26);
    assert_eq!(l1.secret_key.as_deref(), Some(l1_secret.as_str()));
    assert_eq!((l1.secret_key_line, l1.secret_key_column), (Some(3), Some(3)));

    // The unreadable inputs are named with the reason, in the report and on stderr.
    for name in ["locked.env", "sub/locked-dir"] {
        assert!(
            scan.out.stderr.contains(&format!("keysweep: {name}: Permission denied")),
            "stderr must name {name} and why: {}",
            scan.out
        );
    }
    let errors = scan.json["errors"].as_array().expect("errors array");
    let inputs: Vec<&str> = errors.iter().filter_map(|e| e["input"].as_str()).collect();
    assert_eq!(inputs, ["locked.env", "sub/locked-dir"], "only the unreadable inputs: {errors:#?}");
    for error in errors {
        assert!(error["message"].as_str().unwrap_or_default().contains("Permission denied"));
    }
    assert!(!scan.out.stdout.contains(&locked_key));

    assert_eq!(scan.stat("skipped_binary"), 1, "random.bin");
    assert_eq!(scan.stat("blobs_scanned"), 4, "creds.env, empty.txt, huge.txt, latin1.txt");
    scan.out.assert_code(1);
}

#[test]
fn only_an_unreadable_file_and_clean_files_exits_2() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(101);
    dir.create("README.md", "# nothing to see\n");
    dir.create("src/main.c", "int main(void) { return 0; }\n");
    let key = fakes.key_id("AKIA", ACCOUNT);
    let locked = create_unreadable(&dir, &["secrets/locked.env"], &[], &format!("KEY={key}\n"));
    let scan = command_in(&dir, locked.privileged).scan_json(["."]);
    assert!(scan.findings.is_empty(), "{:#?}", scan.findings);
    assert!(scan.out.stderr.contains("secrets/locked.env: Permission denied"), "{}", scan.out);
    assert_eq!(scan.stat("errors"), 1);
    scan.out.assert_code(2);

    // The text report says so too.
    let text = command_in(&dir, locked.privileged).args(["scan", "--no-progress", "."]).run();
    assert!(text.stderr.contains("secrets/locked.env: Permission denied"), "{text}");
    assert!(text.stdout.contains("1 input(s) could not be read"), "{text}");
    text.assert_code(2);
}

#[test]
fn clean_tree_with_oddities_exits_0() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(102);
    dir.create("README.md", "# nothing to see\n");
    dir.create("empty", b"");
    dir.create("data.bin", fakes.bytes(4096));
    fs::create_dir(dir.join("loop")).expect("mkdir");
    symlink("b", dir.join("loop/a")).expect("symlink");
    symlink("a", dir.join("loop/b")).expect("symlink");
    symlink("..", dir.join("loop/up")).expect("symlink");
    symlink("missing", dir.join("dangling")).expect("symlink");
    mkfifo(&dir.join("pipe"));
    let scan = TestCommand::new().current_dir(dir.path()).timeout(HANG_LIMIT).scan_json(["."]);
    assert!(scan.findings.is_empty(), "{:#?}", scan.findings);
    assert_eq!(scan.stat("errors"), 0, "{}", scan.out);
    scan.out.assert_code(0);
}

#[test]
fn fifo_named_on_the_command_line_is_read() {
    // `keysweep scan <(cmd)` hands keysweep a pipe: it must be read like a file.
    let dir = TestDir::new();
    let mut fakes = Fakes::new(103);
    let key = fakes.key_id("AKIA", ACCOUNT);
    let content = format!("line one\nexport AWS_ACCESS_KEY_ID={key}\n");
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let writer = {
        let (fifo, content) = (fifo.clone(), content.clone());
        std::thread::spawn(move || {
            // Blocks until keysweep opens the FIFO for reading.
            let mut pipe = fs::OpenOptions::new().write(true).open(fifo).expect("open fifo");
            pipe.write_all(content.as_bytes()).expect("write fifo");
        })
    };
    let scan = TestCommand::new().current_dir(dir.path()).timeout(HANG_LIMIT).scan_json(["fifo"]);
    writer.join().expect("writer");
    let found = scan.only();
    assert_eq!((found.path.as_str(), found.line, found.column), ("fifo", 2, 26));
    scan.out.assert_code(1);
}

#[test]
fn file_over_max_file_size_is_skipped_and_counted() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(104);
    let (small_key, big_key) = (fakes.key_id("AKIA", ACCOUNT), fakes.key_id("AKIA", ACCOUNT));
    let small = format!("AWS_ACCESS_KEY_ID={small_key}\n");
    dir.create("small.env", &small);
    let mut big = format!("AWS_ACCESS_KEY_ID={big_key}\n");
    big.push_str(&"# padding to pass the limit\n".repeat(100));
    assert!(big.len() > 1024);
    dir.create("big.env", &big);
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["--max-file-size", "1K", "."]);
    let found = scan.only();
    assert_eq!((found.path.as_str(), found.line, found.column), ("small.env", 1, 19));
    assert_eq!(scan.stat("skipped_too_large"), 1);
    assert_eq!(scan.stat("blobs_scanned"), 1);
    assert_eq!(scan.stat("errors"), 0);
    scan.out.assert_code(1);

    // The same file named explicitly is skipped the same way.
    let scan =
        TestCommand::new().current_dir(dir.path()).scan_json(["--max-file-size", "1K", "big.env"]);
    assert!(scan.findings.is_empty(), "{:#?}", scan.findings);
    assert_eq!(scan.stat("skipped_too_large"), 1);
    scan.out.assert_code(0);
}

#[test]
fn byte_order_marks_are_not_columns() {
    // Windows tools write a BOM; editors and SARIF viewers do not count it as a column.
    let dir = TestDir::new();
    let key = Fakes::new(105).key_id("AKIA", ACCOUNT);
    let text = format!("$env:AWS_ACCESS_KEY_ID = '{key}'\r\n# second line {key}\r\n");
    let utf8_bom = [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat();
    let utf16le: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let utf16be: Vec<u8> =
        [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    dir.create("profile-utf8.ps1", &utf8_bom);
    dir.create("profile-utf16le.ps1", &utf16le);
    dir.create("profile-utf16be.ps1", &utf16be);
    dir.create("profile-plain.ps1", &text);
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["."]);
    scan.out.assert_code(1);
    assert_eq!(scan.finding_count(), 1, "{}", scan.out);
    for file in
        ["profile-plain.ps1", "profile-utf8.ps1", "profile-utf16le.ps1", "profile-utf16be.ps1"]
    {
        let places: Vec<(usize, usize)> =
            scan.at(file).iter().map(|f| (f.line, f.column)).collect();
        assert_eq!(places, [(1, 27), (2, 15)], "{file}");
    }
}

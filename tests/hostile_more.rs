//! More hostile inputs, after `hostile`: files rewritten, truncated and deleted while the scan
//! reads them, a 4 GB sparse file, a million tiny files, a git repository with cyclic
//! alternates and a 10,000-deep delta chain, OCI layouts with an index that names itself and a
//! layer that claims a terabyte, device files and a socket. As in `hostile`, each tree also
//! holds one ordinary key, which must be found at its exact place, and each run's wall time and
//! peak memory are printed (`--nocapture`) and the memory bounded.

use std::{
    fs::{self, File, OpenOptions},
    io::{Seek, SeekFrom, Write},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    hostile::{Peak, assert_key_at, plant_key, run_measured, scan_measured},
    image::{Codec, Layer, Layout, tagged},
    util::{ACCOUNT, Fakes, Output, TestCommand, TestDir, git, position},
};

/// Peak anonymous memory allowed for a scan that streams one huge file or walks a huge tree.
const ANON_LIMIT_KB: u64 = 200 * 1024;

/// Text lines with no credential in them, about `len` bytes.
fn filler(len: usize) -> String {
    let line = "# lorem ipsum dolor sit amet, consectetur adipiscing elit\n";
    line.repeat(len / line.len() + 1)
}

/// Prints how long a step of a test took.
fn timed<T>(what: &str, step: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = step();
    eprintln!("{what}: {:.1} s", started.elapsed().as_secs_f64());
    out
}

#[test]
fn files_rewritten_truncated_and_deleted_during_the_scan_cost_nothing_else() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1100);
    let (key, text) = plant_key(&dir, "app/config.env", &mut fakes);
    // Large files (2 MiB: streamed; they used to be memory-mapped, and a mapped file truncated
    // mid-scan killed the scan with SIGBUS) and small ones (read whole).
    let (large, small) = (filler(2 << 20), filler(4 << 10));
    let files: Vec<(PathBuf, String)> = (0..120)
        .map(|i| {
            let body = if i % 3 == 0 { &large } else { &small };
            (dir.create(&format!("churn/{i:03}.log"), body), body.clone())
        })
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let churner = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut rounds = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for (i, (path, body)) in files.iter().enumerate() {
                    // Errors are fine: a scan never writes, so only this thread changes files.
                    let _ = match (rounds as usize + i) % 3 {
                        0 => OpenOptions::new()
                            .write(true)
                            .open(path)
                            .and_then(|f| f.set_len(body.len() as u64 / 3)),
                        1 => fs::remove_file(path),
                        _ => fs::write(path, body),
                    };
                }
                rounds += 1;
            }
            rounds
        })
    };
    let mut scans = Vec::new();
    for _ in 0..3 {
        scans.push(scan_measured(dir.path(), &["--show-secrets", "."], Duration::from_secs(120)));
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = churner.join().expect("churner");
    eprintln!("files changed {rounds} times each during three scans");
    assert!(rounds >= 3, "the files hardly changed ({rounds} rounds)");

    for (scan, peak) in &scans {
        // `scan_measured` already failed the test on a panic or a death by signal.
        assert_eq!(scan.finding_count(), 1, "{:#?}\n{}", scan.findings, scan.out);
        assert_key_at(scan, "app/config.env", &text, &key);
        assert!(peak.anon_kb < ANON_LIMIT_KB, "peak {peak:?}: {}", scan.out);
        // A file deleted between listing and opening is named; nothing else fails.
        for error in scan.json["errors"].as_array().expect("errors array") {
            let input = error["input"].as_str().expect("input");
            assert!(input.starts_with("churn/"), "{error}: {}", scan.out);
            assert_eq!(error["message"], "No such file or directory (os error 2)", "{}", scan.out);
            assert!(scan.out.stderr.contains(&format!("{input}: No such file")), "{}", scan.out);
        }
        scan.out.assert_code(1);
    }
}

#[test]
fn four_gigabyte_sparse_file_is_skipped_by_default_and_streamed_when_allowed() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1101);
    let (key, text) = plant_key(&dir, "app/config.env", &mut fakes);
    let big_key = fakes.key_id("AKIA", ACCOUNT);
    // A text head (so the file does not look binary), a 4 GB hole of NULs, and a key 4 KiB
    // before the end: on line 402 (400 head lines, the hole's line, the key's). Program source
    // by its name, so that the decoders look only near keywords: this test is about size and
    // memory, and decoding 4 GB everywhere takes minutes in a debug build (about 14 MB/s on a
    // busy 2-core machine, against 110 MB/s near keywords only).
    let head = "// generated, then grew a hole\n".repeat(400);
    let tail = format!("\nAWS_ACCESS_KEY_ID={big_key}\n# end\n");
    let size: u64 = 4 << 30;
    fs::create_dir(dir.join("data")).expect("mkdir");
    let path = dir.join("data/sparse.rs");
    let mut file = File::create(&path).expect("create");
    file.write_all(head.as_bytes()).expect("head");
    file.seek(SeekFrom::Start(size - 4096 - tail.len() as u64)).expect("seek");
    file.write_all(tail.as_bytes()).expect("tail");
    file.set_len(size).expect("set_len");
    drop(file);
    let meta = fs::metadata(&path).expect("stat");
    assert_eq!(meta.len(), size);
    assert!(meta.blocks() * 512 < 1 << 20, "not sparse: {} blocks", meta.blocks());

    // Default limit (256 MiB): skipped, counted, and the rest scanned.
    let (scan, peak) = scan_measured(dir.path(), &["--show-secrets", "."], Duration::from_secs(60));
    assert!(peak.anon_kb < ANON_LIMIT_KB, "peak {peak:?}: {}", scan.out);
    assert_eq!(scan.finding_count(), 1, "{}", scan.out);
    assert_key_at(&scan, "app/config.env", &text, &key);
    assert_eq!(scan.stat("skipped_too_large"), 1, "{}", scan.out);
    assert_eq!(scan.stat("blobs_scanned"), 1, "{}", scan.out);
    assert_eq!(scan.stat("errors"), 0, "{}", scan.out);
    scan.out.assert_code(1);
    let summary =
        TestCommand::new().current_dir(dir.path()).args(["scan", "--no-progress", "."]).run();
    summary.assert_code(1);
    assert!(
        summary.stdout.contains(" · skipped 0 binary, 1 too large, 0 allowlisted"),
        "{summary}"
    );

    // A limit above the size: streamed in bounded memory, the key at its place.
    let (scan, peak) = scan_measured(
        dir.path(),
        &["--show-secrets", "--max-file-size", "5G", "."],
        Duration::from_secs(600),
    );
    assert!(peak.anon_kb < ANON_LIMIT_KB, "peak {peak:?}: {}", scan.out);
    assert_eq!(scan.finding_count(), 2, "{:#?}\n{}", scan.findings, scan.out);
    assert_key_at(&scan, "app/config.env", &text, &key);
    let big = scan.one_at("data/sparse.rs");
    assert_eq!((big.secret.as_str(), big.line, big.column), (big_key.as_str(), 402, 19));
    assert_eq!(scan.stat("bytes_scanned"), size + text.len() as u64, "{}", scan.out);
    assert_eq!(scan.stat("errors"), 0, "{}", scan.out);
    scan.out.assert_code(1);
}

#[test]
fn a_million_tiny_files() {
    const DIRS: usize = 1000;
    const PER_DIR: usize = 1000;
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1102);
    let (key, text) = plant_key(&dir, "app/config.env", &mut fakes);
    // Empty files: on ext4 a file with any data takes a 4 KiB block, and a million of those
    // (4 GB) is more disk than a test may take; an empty one takes an inode only.
    timed("creating 1,000,000 files", || {
        for d in 0..DIRS {
            let sub = dir.join(&format!("tree/{d:03}"));
            fs::create_dir_all(&sub).expect("mkdir");
            for f in 0..PER_DIR {
                File::create(sub.join(format!("{f:03}.txt"))).expect("create");
            }
        }
    });
    let (scan, peak) =
        scan_measured(dir.path(), &["--show-secrets", "."], Duration::from_secs(900));
    assert!(peak.anon_kb < ANON_LIMIT_KB, "peak {peak:?}: {}", scan.out);
    assert_eq!(scan.stat("blobs_scanned"), (DIRS * PER_DIR + 1) as u64, "{}", scan.out);
    assert_eq!(scan.stat("errors"), 0, "{}", scan.out);
    assert_eq!(scan.finding_count(), 1, "{}", scan.out);
    assert_key_at(&scan, "app/config.env", &text, &key);
    scan.out.assert_code(1);
    timed("deleting 1,000,000 files", || drop(dir));
}

// ---------------------------------------------------------------------------------------------
// Git
// ---------------------------------------------------------------------------------------------

/// Runs `git` in `repo` as [`git`] does, returning its trimmed standard output.
fn git_out(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository at `dir/name` with `app/config.env` (a key on line 2) committed; returns the
/// repository, the key, the file's text and the commit.
fn repo_with_key(
    dir: &TestDir,
    name: &str,
    fakes: &mut Fakes,
) -> (PathBuf, String, String, String) {
    let repo = dir.join(name);
    fs::create_dir(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    let key = fakes.key_id("AKIA", ACCOUNT);
    let text = format!("# deploy\nAWS_ACCESS_KEY_ID={key}\n");
    fs::create_dir(repo.join("app")).expect("mkdir");
    fs::write(repo.join("app/config.env"), &text).expect("write");
    git(&repo, &["add", "app/config.env"]);
    git(&repo, &["commit", "-q", "-m", "config"]);
    let commit = git_out(&repo, &["rev-parse", "HEAD"]);
    (repo, key, text, commit)
}

/// Runs `keysweep git REPO --format json --show-secrets`, measured.
fn git_scan(dir: &Path, repo: &str, limit: Duration) -> (Output, Value, Peak) {
    let args = ["git", repo, "--format", "json", "--show-secrets", "--no-progress"];
    let (out, peak) = run_measured(dir, &args, limit);
    let json = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {out}"));
    (out, json, peak)
}

/// Each location of each finding as (secret, path, commit, line, column), sorted.
fn git_places(json: &Value) -> Vec<(String, String, String, u64, u64)> {
    let mut places: Vec<_> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .flat_map(|f| {
            f["locations"].as_array().expect("locations").iter().map(move |l| {
                (
                    f["secret"].as_str().unwrap_or_default().to_string(),
                    l["path"].as_str().unwrap_or_default().to_string(),
                    l["commit"].as_str().unwrap_or_default().to_string(),
                    l["line"].as_u64().unwrap_or(0),
                    l["column"].as_u64().unwrap_or(0),
                )
            })
        })
        .collect();
    places.sort();
    places
}

#[test]
fn git_alternates_that_form_a_cycle_are_named_with_the_cycle() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1103);
    let (selfish, _, _, _) = repo_with_key(&dir, "selfish", &mut fakes);
    let (a, _, _, _) = repo_with_key(&dir, "a", &mut fakes);
    let (b, _, _, _) = repo_with_key(&dir, "b", &mut fakes);
    let objects = |repo: &Path| repo.join(".git/objects");
    fs::write(
        objects(&selfish).join("info/alternates"),
        format!("{}\n", objects(&selfish).display()),
    )
    .expect("alternates");
    fs::write(objects(&a).join("info/alternates"), format!("{}\n", objects(&b).display()))
        .expect("alternates");
    fs::write(objects(&b).join("info/alternates"), format!("{}\n", objects(&a).display()))
        .expect("alternates");
    // git itself reads these repositories (it skips an alternate it already has).
    assert_eq!(git_out(&a, &["rev-list", "--count", "HEAD"]), "1");

    // gix refuses an alternates cycle: the repository is named with the cycle, and the run
    // says nothing was read rather than that it is clean.
    let real = |p: &Path| fs::canonicalize(p).expect("canonical").display().to_string();
    for (name, cycle) in [
        ("selfish", vec![real(&objects(&selfish))]),
        ("a", vec![real(&objects(&a)), real(&objects(&b))]),
        ("b", vec![real(&objects(&b)), real(&objects(&a))]),
    ] {
        let (out, peak) = run_measured(
            dir.path(),
            &["git", name, "--format", "json", "--no-progress"],
            Duration::from_secs(60),
        );
        out.assert_code(2);
        let expected = format!(
            "cannot open git repository {name}: Alternates form a cycle -> {}",
            cycle.join(" -> ")
        );
        assert!(out.stderr.contains(&expected), "want {expected:?}: {out}");
        assert!(peak.anon_kb < ANON_LIMIT_KB, "{peak:?}");
    }
}

/// Links in the delta chain: more than git's own `pack-objects --depth` cap of 4095.
const CHAIN: usize = 10_000;

/// A pack object header: type and inflated size.
fn pack_header(kind: u8, size: usize, out: &mut Vec<u8>) {
    let mut byte = (kind << 4) | (size & 15) as u8;
    let mut rest = size >> 4;
    while rest > 0 {
        out.push(byte | 0x80);
        byte = (rest & 127) as u8;
        rest >>= 7;
    }
    out.push(byte);
}

/// A delta's little-endian base-128 size.
fn delta_size(mut size: usize, out: &mut Vec<u8>) {
    while size >= 0x80 {
        out.push((size & 127) as u8 | 0x80);
        size >>= 7;
    }
    out.push(size as u8);
}

/// How far back an `OFS_DELTA`'s base starts, in git's offset encoding.
fn base_distance(mut distance: u64, out: &mut Vec<u8>) {
    let mut bytes = vec![(distance & 127) as u8];
    distance >>= 7;
    while distance > 0 {
        distance -= 1;
        bytes.push(0x80 | (distance & 127) as u8);
        distance >>= 7;
    }
    out.extend(bytes.iter().rev());
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(data).expect("zlib");
    z.finish().expect("zlib")
}

fn sha1(parts: &[&[u8]]) -> gix::ObjectId {
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    for part in parts {
        hasher.update(part);
    }
    hasher.try_finalize().expect("sha1")
}

/// Writes a pack of one blob and [`CHAIN`] `OFS_DELTA`s, each on the one before and adding a
/// line, the last adding `last_line`; indexes it with `git index-pack`. Returns the deepest
/// blob's id and content.
fn write_delta_chain(repo: &Path, last_line: &str) -> (String, String) {
    let mut content = "line 0\n".to_string();
    let mut pack = b"PACK".to_vec();
    pack.extend(2u32.to_be_bytes());
    pack.extend(((CHAIN + 1) as u32).to_be_bytes());
    let mut previous = pack.len() as u64;
    pack_header(3, content.len(), &mut pack);
    pack.extend(zlib(content.as_bytes()));
    for n in 1..=CHAIN {
        let line = if n == CHAIN { last_line.to_string() } else { format!("line {n}\n") };
        let mut delta = Vec::new();
        delta_size(content.len(), &mut delta);
        delta_size(content.len() + line.len(), &mut delta);
        // Copy the whole base (offset 0, three size bytes), then insert the new line.
        let len = content.len();
        delta.extend([0x80 | 0x70, len as u8, (len >> 8) as u8, (len >> 16) as u8]);
        delta.push(u8::try_from(line.len()).expect("a short line"));
        delta.extend(line.as_bytes());
        content.push_str(&line);
        let here = pack.len() as u64;
        pack_header(6, delta.len(), &mut pack);
        base_distance(here - previous, &mut pack);
        pack.extend(zlib(&delta));
        previous = here;
    }
    let trailer = sha1(&[&pack]);
    pack.extend(trailer.as_bytes());
    let path = repo.join(format!(".git/objects/pack/pack-{trailer}.pack"));
    fs::write(&path, &pack).expect("pack");
    git_out(repo, &["index-pack", path.to_str().expect("utf-8 path")]);
    let header = format!("blob {}\0", content.len());
    let blob = sha1(&[header.as_bytes(), content.as_bytes()]).to_string();
    (blob, content)
}

#[test]
fn git_delta_chain_ten_thousand_deep_is_resolved() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1104);
    let (repo, key, text, first) = repo_with_key(&dir, "repo", &mut fakes);
    let deep_key = fakes.key_id("AKIA", ACCOUNT);
    let (blob, deep) = timed("writing a 10,000-deep delta chain", || {
        write_delta_chain(&repo, &format!("AWS_ACCESS_KEY_ID={deep_key}\n"))
    });
    assert_eq!(git_out(&repo, &["cat-file", "-s", &blob]), deep.len().to_string());
    git(&repo, &["update-index", "--add", "--cacheinfo", &format!("100644,{blob},deep/chain.env")]);
    git(&repo, &["commit", "-q", "-m", "deep"]);
    let second = git_out(&repo, &["rev-parse", "HEAD"]);

    let (out, json, peak) = git_scan(dir.path(), "repo", Duration::from_secs(300));
    assert!(peak.anon_kb < ANON_LIMIT_KB, "peak {peak:?}: {out}");
    let (line, column) = position(&text, &key);
    let (deep_line, deep_column) = position(&deep, &deep_key);
    assert_eq!((deep_line, deep_column), (CHAIN + 1, 19));
    assert_eq!(
        git_places(&json),
        [
            (key.clone(), "app/config.env".into(), first, line as u64, column as u64),
            (deep_key.clone(), "deep/chain.env".into(), second, deep_line as u64, 19),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>(),
        "{out}"
    );
    assert_eq!(json["errors"], json!([]), "{out}");
    out.assert_code(1);
}

// ---------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------

#[test]
fn image_index_naming_itself_and_a_terabyte_layer_are_named_and_the_good_image_is_read() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1105);
    let (good_key, huge_key) = (fakes.key_id("AKIA", ACCOUNT), fakes.key_id("AKIA", ACCOUNT));
    let good_text = format!("# deploy\nAWS_ACCESS_KEY_ID={good_key}\n");
    let huge_text = format!("AWS_ACCESS_KEY_ID={huge_key}\n");
    let layout = Layout::new(&dir.join("layout"));
    let (good, good_layers) = layout.image(
        &[Layer::new(Codec::Gzip, &[("app/.env", good_text.as_bytes())])],
        json!({}),
        "amd64",
    );
    // A layer whose descriptor claims 1 TB (1,000,000,000,000 bytes).
    let mut huge_layer =
        layout.layer(&Layer::new(Codec::Gzip, &[("srv/.env", huge_text.as_bytes())]));
    let huge_stored = fs::metadata(layout.blob_path(&huge_layer.digest)).expect("layer").len();
    huge_layer.descriptor["size"] = json!(1_000_000_000_000u64);
    let huge_digest = huge_layer.digest.clone();
    let (huge, _) = layout.image_of(vec![huge_layer], json!({}), "amd64");
    // An index stored under a digest it names itself: content addressing makes a true cycle
    // impossible, so the store lies about the name (as a tampered layout or registry can).
    let loop_name = format!("sha256:{}", "ab".repeat(32));
    let mut index = json!({"schemaVersion": 2, "mediaType": crate::image::OCI_INDEX,
        "manifests": [{"mediaType": crate::image::OCI_INDEX, "digest": loop_name, "size": 0}]});
    for _ in 0..2 {
        let len = serde_json::to_vec(&index).expect("json").len();
        index["manifests"][0]["size"] = json!(len);
    }
    let loop_bytes = serde_json::to_vec(&index).expect("json");
    fs::write(layout.blob_path(&loop_name), &loop_bytes).expect("loop index");
    let looped = json!({"mediaType": crate::image::OCI_INDEX, "digest": loop_name, "size": loop_bytes.len()});
    layout.index(vec![tagged(&good, "good"), tagged(&looped, "loop"), tagged(&huge, "huge")]);

    let run = |image: &str| {
        let args = ["image", image, "--format", "json", "--show-secrets", "--no-progress"];
        let (out, peak) = run_measured(dir.path(), &args, Duration::from_secs(60));
        let json: Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {out}"));
        assert!(peak.total_kb < ANON_LIMIT_KB, "peak {peak:?}: {out}");
        (out, json)
    };
    let places = |json: &Value| -> Vec<(String, String, u64, u64)> {
        let mut places: Vec<_> = crate::image::locations(json)
            .into_iter()
            .map(|(_, path, line, column, _, digest, _)| (path, digest, line, column))
            .collect();
        places.sort();
        places
    };
    let errors = |json: &Value| crate::image::errors(json);
    let (good_line, good_column) = position(&good_text, &good_key);
    let good_place = (
        "app/.env".to_string(),
        good_layers[0].digest.clone(),
        good_line as u64,
        good_column as u64,
    );
    let huge_place = ("srv/.env".to_string(), huge_digest.clone(), 1, 19);
    let actual = crate::image::sha256(&loop_bytes);
    let mismatch = format!(
        "digest mismatch for {loop_name}: the content is {actual} ({} bytes)",
        loop_bytes.len()
    );
    let too_deep = "invalid image index: indexes nested deeper than 4".to_string();
    let size_error =
        format!("size mismatch: the manifest says 1000000000000 bytes, the blob has {huge_stored}");

    // The loop alone: followed to the nesting limit, named, nothing found, exit 2.
    let (out, json) = run("oci:layout:loop");
    assert_eq!(json["findings"], json!([]), "{out}");
    let loop_errors = errors(&json);
    assert_eq!(loop_errors.len(), 6, "{loop_errors:#?}");
    assert!(loop_errors[..5].iter().all(|e| e.ends_with(&mismatch)), "{loop_errors:#?}");
    assert!(loop_errors[5].ends_with(&too_deep), "{loop_errors:#?}");
    assert!(out.stderr.contains(&format!("oci:layout:loop: {too_deep}")), "{out}");
    out.assert_code(2);

    // The terabyte claim: named with both sizes, nothing allocated for it, what the layer
    // really holds is still read.
    let (out, json) = run("oci:layout:huge");
    assert_eq!(places(&json), std::slice::from_ref(&huge_place), "{out}");
    let huge_errors = errors(&json);
    assert_eq!(huge_errors.len(), 1, "{huge_errors:#?}");
    assert!(huge_errors[0].ends_with(&size_error), "{huge_errors:#?}");
    assert!(huge_errors[0].contains(&huge_digest), "{huge_errors:#?}");
    out.assert_code(1);

    // The whole layout: the good image's key is found at its place beside both.
    let (out, json) = run("oci:layout");
    assert_eq!(places(&json), [good_place, huge_place], "{out}");
    assert_eq!(errors(&json).len(), 7, "{out}");
    out.assert_code(1);
}

/// Device files and a socket: in a tree they are not regular files and are passed over (a
/// symlink to `/dev/zero` is not followed); named on the command line, `/dev/null` reads empty
/// and `/dev/zero`, which never ends, is read only up to `--max-file-size` and counted as too
/// large, in bounded memory. The planted key is found all the same.
#[test]
fn device_files_and_sockets_are_bounded_or_passed_over() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(1107);
    let (key, text) = plant_key(&dir, "tree/app/.env", &mut fakes);
    std::os::unix::fs::symlink("/dev/zero", dir.join("tree/zero")).expect("symlink");
    let socket = std::os::unix::net::UnixListener::bind(dir.join("tree/agent.sock")).expect("bind");
    let args = ["tree", "/dev/null", "/dev/zero", "--max-file-size", "1M", "--show-secrets"];
    let (scan, peak) = scan_measured(dir.path(), &args, Duration::from_secs(60));
    drop(socket);
    println!("devices: {peak:?}");
    assert_key_at(&scan, "app/.env", &text, &key);
    assert_eq!(scan.findings.len(), 1, "{}", scan.out);
    assert_eq!(scan.stat("skipped_too_large"), 1, "/dev/zero: {}", scan.out);
    assert_eq!(scan.stat("errors"), 0, "{}", scan.out);
    // .env and /dev/null; the socket, the symlink and /dev/zero are not scanned blobs.
    assert_eq!(scan.stat("blobs_scanned"), 2, "{}", scan.out);
    scan.out.assert_code(1);
    assert!(peak.anon_kb < ANON_LIMIT_KB, "{peak:?}");
}

//! `keysweep image`: OCI layouts and `docker save` archives built here, byte by byte, with the
//! `tar`, `flate2` and `zstd` crates; registries in `image/registry.rs`.
//!
//! Every credential is a fake assembled at run time.

mod daemon;
mod registry;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// Media types.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// A fake access key id: `AKIA` and 16 characters of the key-id alphabet, from `seed`.
pub fn key_id(seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x6b65_7973;
    let tail: String = (0..16)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ALPHABET[(state >> 59) as usize] as char
        })
        .collect();
    format!("{}{tail}", "AKIA")
}

/// A fake secret access key (visibly fake to a reader, well-formed to the rules).
pub fn secret_key() -> String {
    format!("{}{}", "Gkr7pFHiG8eZ9Op0", "zv1yGhnmQHqy/ciB27mXY85V")
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// How a layer is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zstd,
    Plain,
}

impl Codec {
    pub fn media_type(self) -> &'static str {
        match self {
            Codec::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Codec::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
            Codec::Plain => "application/vnd.oci.image.layer.v1.tar",
        }
    }

    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Codec::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(data).expect("gzip");
                gz.finish().expect("gzip")
            }
            Codec::Zstd => zstd::encode_all(data, 3).expect("zstd"),
            Codec::Plain => data.to_vec(),
        }
    }
}

/// A tar of `(path, content)` entries, paths written as given (`../x`, `/x` too); a path
/// ending in `/` is a directory.
pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        let name = path.as_bytes();
        assert!(name.len() < 100, "short names only");
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        if path.ends_with('/') {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
        } else {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
        }
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        builder.append(&header, *data).expect("tar entry");
    }
    builder.into_inner().expect("tar")
}

/// One layer of a test image.
pub struct Layer {
    pub codec: Codec,
    pub files: Vec<(String, Vec<u8>)>,
    /// Overrides the media type written in the manifest.
    pub media_type: Option<&'static str>,
}

impl Layer {
    pub fn new(codec: Codec, files: &[(&str, &[u8])]) -> Layer {
        Layer {
            codec,
            files: files.iter().map(|(p, d)| (p.to_string(), d.to_vec())).collect(),
            media_type: None,
        }
    }

    fn tar(&self) -> Vec<u8> {
        let entries: Vec<(&str, &[u8])> =
            self.files.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
        tar(&entries)
    }
}

/// A written layer: its descriptor, its uncompressed digest, its stored bytes.
pub struct Written {
    pub descriptor: Value,
    pub diff_id: String,
    pub digest: String,
}

/// An OCI image layout being written.
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).expect("layout dir");
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("oci-layout");
        Layout { dir: dir.to_path_buf() }
    }

    /// Writes a blob; returns its digest.
    pub fn blob(&self, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let hex = digest.trim_start_matches("sha256:");
        std::fs::write(self.dir.join("blobs/sha256").join(hex), bytes).expect("blob");
        digest
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.dir.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))
    }

    pub fn layer(&self, layer: &Layer) -> Written {
        let tar = layer.tar();
        let stored = layer.codec.compress(&tar);
        let digest = self.blob(&stored);
        Written {
            descriptor: json!({
                "mediaType": layer.media_type.unwrap_or(layer.codec.media_type()),
                "digest": digest,
                "size": stored.len(),
            }),
            diff_id: sha256(&tar),
            digest,
        }
    }

    /// Writes layers, config and manifest; returns the manifest's descriptor (with
    /// `platform` when `arch` is given in an index) and the layers written.
    pub fn image(&self, layers: &[Layer], config: Value, arch: &str) -> (Value, Vec<Written>) {
        let written: Vec<Written> = layers.iter().map(|l| self.layer(l)).collect();
        self.image_of(written, config, arch)
    }

    /// A stored layer written as is (hostile ones too); `diff_id` is not checked for OCI.
    pub fn raw_layer(&self, stored: &[u8], media_type: &str) -> Written {
        let digest = self.blob(stored);
        Written {
            descriptor: json!({"mediaType": media_type, "digest": digest, "size": stored.len()}),
            diff_id: digest.clone(),
            digest,
        }
    }

    /// As [`Layout::image`], with layers already written.
    pub fn image_of(
        &self,
        written: Vec<Written>,
        config: Value,
        arch: &str,
    ) -> (Value, Vec<Written>) {
        let mut config = config;
        config["architecture"] = json!(arch);
        config["os"] = json!("linux");
        config["rootfs"] = json!({"type": "layers", "diff_ids": written.iter().map(|w| w.diff_id.clone()).collect::<Vec<_>>()});
        let config_bytes = serde_json::to_vec(&config).expect("config json");
        let config_digest = self.blob(&config_bytes);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_bytes.len()},
            "layers": written.iter().map(|w| w.descriptor.clone()).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec(&manifest).expect("manifest json");
        let digest = self.blob(&bytes);
        let descriptor = json!({
            "mediaType": OCI_MANIFEST,
            "digest": digest,
            "size": bytes.len(),
            "platform": {"architecture": arch, "os": "linux"},
        });
        (descriptor, written)
    }

    /// Writes `index.json` listing `manifests`.
    pub fn index(&self, manifests: Vec<Value>) {
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        std::fs::write(self.dir.join("index.json"), serde_json::to_vec(&index).expect("json"))
            .expect("index.json");
    }

    /// Writes an index blob and returns its descriptor.
    pub fn index_blob(&self, manifests: Vec<Value>) -> Value {
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        let bytes = serde_json::to_vec(&index).expect("json");
        let digest = self.blob(&bytes);
        json!({"mediaType": OCI_INDEX, "digest": digest, "size": bytes.len()})
    }
}

/// `descriptor` tagged with `org.opencontainers.image.ref.name`, without its platform.
pub fn tagged(descriptor: &Value, tag: &str) -> Value {
    let mut d = descriptor.clone();
    if let Some(map) = d.as_object_mut() {
        map.remove("platform");
    }
    d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    d
}

/// A layout with one image of `layers` and `config`, tagged `latest`.
pub fn single(dir: &Path, layers: &[Layer], config: Value) -> (Layout, Value, Vec<Written>) {
    let layout = Layout::new(dir);
    let (descriptor, written) = layout.image(layers, config, "amd64");
    layout.index(vec![tagged(&descriptor, "latest")]);
    (layout, descriptor, written)
}

/// A keysweep run.
pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `keysweep image ARGS -f json` in `cwd`.
pub fn keysweep(cwd: &Path, args: &[&str]) -> Run {
    keysweep_with(cwd, args, &[])
}

pub fn keysweep_with(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let program = std::env::var_os("KEYSWEEP_TEST_PROGRAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_keysweep")));
    let mut command = Command::new(program);
    command.current_dir(cwd).arg("image").args(args).args(["--no-progress"]);
    command.env("DOCKER_CONFIG", cwd.join(".no-docker-config"));
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run keysweep");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = if args.contains(&"json") {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("JSON ({e}): {stdout}\n{stderr}"))
    } else {
        Value::Null
    };
    Run { code: output.status.code().unwrap_or(-1), json, stdout, stderr }
}

/// (rule, relative path, line, column, layer index, layer digest, removed in layer).
pub type Loc = (String, String, u64, u64, Option<u64>, String, Option<u64>);

/// Every location of every finding as (rule, relative path, line, column, layer index,
/// layer digest, removed in), sorted.
pub fn locations(json: &Value) -> Vec<Loc> {
    let mut out = Vec::new();
    for finding in json["findings"].as_array().expect("findings") {
        for l in finding["locations"].as_array().expect("locations") {
            out.push((
                finding["rule"].as_str().unwrap_or_default().to_string(),
                l["relative_path"].as_str().unwrap_or_default().to_string(),
                l["line"].as_u64().unwrap_or(0),
                l["column"].as_u64().unwrap_or(0),
                l["layer_index"].as_u64(),
                l["layer_digest"].as_str().unwrap_or_default().to_string(),
                l["removed_in_layer"].as_u64(),
            ));
        }
    }
    out.sort();
    out
}

/// The input errors of a JSON report, as `input: message` lines.
pub fn errors(json: &Value) -> Vec<String> {
    json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["input"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn temp() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("keysweep-image-").tempdir().expect("temp dir")
}

fn loc(rule: &str, path: &str, line: u64, column: u64, layer: u64, digest: &str) -> Loc {
    (rule.into(), path.into(), line, column, Some(layer), digest.into(), None)
}

const KEY_ID: &str = "aws.access-key-id";
const SECRET: &str = "aws.secret-access-key";

#[test]
fn key_in_the_top_layer() {
    let tmp = temp();
    let key = key_id(1);
    let env = format!("# settings\nAWS_ACCESS_KEY_ID={key}\n");
    let layers = [
        Layer::new(Codec::Gzip, &[("app/", b""), ("app/main.py", b"print('hello')\n")]),
        Layer::new(Codec::Gzip, &[("app/.env", env.as_bytes())]),
    ];
    let (_, manifest, written) = single(&tmp.path().join("img"), &layers, json!({}));
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(locations(&run.json), vec![loc(KEY_ID, "app/.env", 2, 19, 1, &written[1].digest)]);
    let location = &run.json["findings"][0]["locations"][0];
    assert_eq!(location["source"], "image");
    assert_eq!(location["image"], "oci:img");
    assert_eq!(location["image_digest"], manifest["digest"]);
    assert_eq!(location["platform"], "linux/amd64");
    let short = &manifest["digest"].as_str().expect("digest")[7..19];
    assert_eq!(location["path"], format!("oci:img@sha256:{short}/layer 1/app/.env"));
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));

    // Text shows the layer under the location; SARIF points at the path in the layer.
    let text = keysweep(tmp.path(), &["oci:img:latest", "--color", "never"]);
    assert_eq!(text.code, 1);
    let layer_short = &written[1].digest[7..19];
    assert!(text.stdout.contains(&format!("layer 1 sha256:{layer_short}")), "{}", text.stdout);
    let sarif = keysweep(tmp.path(), &["oci:img", "-f", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif.stdout).expect("sarif");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "app/.env");
    assert_eq!(result["properties"]["layerIndex"], 1);
    assert_eq!(result["properties"]["layerDigest"], written[1].digest);
    assert_eq!(result["properties"]["platform"], "linux/amd64");
    assert_eq!(result["properties"]["imageDigest"], manifest["digest"]);
    assert_eq!(result["properties"]["pathInLayer"], "app/.env");
}

#[test]
fn a_file_deleted_by_a_whiteout_is_reported_as_removed() {
    let tmp = temp();
    let key = key_id(2);
    let creds = format!("[default]\naws_access_key_id = {key}\n");
    let layers = [
        Layer::new(
            Codec::Gzip,
            &[("root/.aws/credentials", creds.as_bytes()), ("etc/motd", b"hi\n")],
        ),
        Layer::new(Codec::Gzip, &[("etc/motd", b"hello\n")]),
        Layer::new(Codec::Gzip, &[("root/.aws/.wh.credentials", b"")]),
    ];
    let (_, _, written) = single(&tmp.path().join("img"), &layers, json!({}));
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut want = loc(KEY_ID, "root/.aws/credentials", 2, 21, 0, &written[0].digest);
    want.6 = Some(2);
    assert_eq!(locations(&run.json), vec![want]);
    let text = keysweep(tmp.path(), &["oci:img", "--color", "never"]);
    assert!(text.stdout.contains("removed in layer 2 (still in the image)"), "{}", text.stdout);

    // An opaque whiteout empties a directory of the layers below.
    let key = key_id(3);
    let env = format!("KEY={key}\n");
    let layers = [
        Layer::new(Codec::Plain, &[("srv/app/.env", env.as_bytes())]),
        Layer::new(Codec::Plain, &[("srv/app/.wh..wh..opq", b""), ("srv/app/new.txt", b"x\n")]),
    ];
    let (_, _, written) = single(&tmp.path().join("opq"), &layers, json!({}));
    let run = keysweep(tmp.path(), &["oci:opq", "-f", "json"]);
    let mut want = loc(KEY_ID, "srv/app/.env", 1, 5, 0, &written[0].digest);
    want.6 = Some(1);
    assert_eq!(locations(&run.json), vec![want]);
}

#[test]
fn env_and_history_in_the_config() {
    let tmp = temp();
    let secret = secret_key();
    let config = json!({
        "config": {
            "Env": ["PATH=/usr/local/bin:/usr/bin", format!("AWS_SECRET_ACCESS_KEY={secret}")],
            "Cmd": ["python", "app.py"],
        },
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
            {"created_by": format!("/bin/sh -c #(nop)  ENV AWS_SECRET_ACCESS_KEY={secret}"), "empty_layer": true},
            {"created_by": "/bin/sh -c pip install -r requirements.txt"},
        ],
    });
    let layers = [
        Layer::new(Codec::Gzip, &[("etc/hostname", b"box\n")]),
        Layer::new(Codec::Gzip, &[("usr/lib/python3/site.py", b"import os\n")]),
    ];
    let (_, manifest, written) = single(&tmp.path().join("img"), &layers, config);
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let config_loc = |path: &str, column| {
        (SECRET.to_string(), path.to_string(), 1, column, None, String::new(), None)
    };
    assert_eq!(
        locations(&run.json),
        vec![config_loc("config/Env[1]", 23), config_loc("config/history[1].created_by", 46)]
    );
    let finding = &run.json["findings"][0];
    let fields: Vec<&str> = finding["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .filter_map(|l| l["config_field"].as_str())
        .collect();
    assert_eq!(fields, ["config.Env[1]", "history[1].created_by"]);
    assert_eq!(finding["locations"][0]["source"], "image-config");
    let short = &manifest["digest"].as_str().expect("digest")[7..19];
    assert_eq!(finding["locations"][0]["path"], format!("oci:img@sha256:{short}/config.Env[1]"));

    // SARIF: `config/FIELD` URIs, the field and the image in properties; schema-valid.
    let sarif = keysweep(tmp.path(), &["oci:img", "-f", "sarif", "-o", "out.sarif"]);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let path = tmp.path().join("out.sarif");
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("sarif")).expect("json");
    let results: Vec<(String, String, u64)> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
            let props = &r["properties"];
            assert_eq!(props["imageDigest"], manifest["digest"]);
            assert_eq!(props["image"], "oci:img");
            assert_eq!(r["ruleId"], SECRET);
            let string = |v: &Value| v.as_str().unwrap_or("").to_string();
            let region = &r["locations"][0]["physicalLocation"]["region"];
            (
                string(uri),
                string(&props["configField"]),
                region["startColumn"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("config/Env%5B1%5D".to_string(), "config.Env[1]".to_string(), 23),
            (
                "config/history%5B1%5D.created_by".to_string(),
                "history[1].created_by".to_string(),
                46
            ),
        ]
    );
    crate::archive::validate_sarif(&path);

    // History entries that add no layer are skipped when matching history to layers.
    let key = key_id(4);
    let file = format!("id = {key}\n");
    let layers = [
        Layer::new(Codec::Gzip, &[("etc/hostname", b"box\n")]),
        Layer::new(Codec::Gzip, &[("srv/key.txt", file.as_bytes())]),
    ];
    let config = json!({"history": [
        {"created_by": "ADD rootfs"},
        {"created_by": "ENV A=b", "empty_layer": true},
        {"created_by": "COPY key.txt /srv/"},
    ]});
    let (_, _, written2) = single(&tmp.path().join("hist"), &layers, config);
    let run = keysweep(tmp.path(), &["oci:hist", "-f", "json"]);
    let location = &run.json["findings"][0]["locations"][0];
    assert_eq!(location["created_by"], "COPY key.txt /srv/");
    assert_eq!(location["layer_digest"], written2[1].digest);
    drop(written);
}

#[test]
fn gzip_zstd_and_uncompressed_layers() {
    let tmp = temp();
    let keys: Vec<String> = (10..14).map(key_id).collect();
    let files: Vec<String> = keys.iter().map(|k| format!("key: {k}\n")).collect();
    let mut mislabelled = Layer::new(Codec::Zstd, &[("d/key.yml", files[3].as_bytes())]);
    mislabelled.media_type = Some(Codec::Gzip.media_type());
    let layers = [
        Layer::new(Codec::Gzip, &[("a/key.yml", files[0].as_bytes())]),
        Layer::new(Codec::Zstd, &[("b/key.yml", files[1].as_bytes())]),
        Layer::new(Codec::Plain, &[("c/key.yml", files[2].as_bytes())]),
        mislabelled,
    ];
    let (_, _, written) = single(&tmp.path().join("img"), &layers, json!({}));
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));
    let want: Vec<Loc> = ["a", "b", "c", "d"]
        .iter()
        .enumerate()
        .map(|(i, dir)| loc(KEY_ID, &format!("{dir}/key.yml"), 1, 6, i as u64, &written[i].digest))
        .collect();
    assert_eq!(locations(&run.json), want);
}

/// An index with linux/amd64 and linux/arm64 (and an attestation), both holding the same
/// `.env`; returns the layout's parent and each platform's layer digest.
fn two_platforms(root: &Path) -> (String, String) {
    let layout = Layout::new(&root.join("multi"));
    let env = format!("AWS_ACCESS_KEY_ID={}\n", key_id(20));
    let amd = [Layer::new(Codec::Gzip, &[("app/.env", env.as_bytes()), ("bin/arch", b"amd64\n")])];
    let arm = [Layer::new(Codec::Gzip, &[("app/.env", env.as_bytes()), ("bin/arch", b"arm64\n")])];
    let (amd_d, amd_w) = layout.image(&amd, json!({}), "amd64");
    let (arm_d, arm_w) = layout.image(&arm, json!({}), "arm64");
    let attestation = json!({
        "mediaType": OCI_MANIFEST, "digest": amd_d["digest"], "size": amd_d["size"],
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
    });
    let index = layout.index_blob(vec![arm_d, amd_d, attestation]);
    layout.index(vec![tagged(&index, "v1")]);
    (amd_w[0].digest.clone(), arm_w[0].digest.clone())
}

#[test]
fn a_two_platform_index() {
    let tmp = temp();
    let (amd, arm) = two_platforms(tmp.path());
    let platforms = |run: &Run| -> Vec<(String, String)> {
        run.json["findings"][0]["locations"]
            .as_array()
            .expect("locations")
            .iter()
            .map(|l| {
                (
                    l["platform"].as_str().unwrap_or("").to_string(),
                    l["layer_digest"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let run = keysweep(tmp.path(), &["oci:multi:v1", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(platforms(&run), [("linux/amd64".to_string(), amd.clone())]);
    assert_eq!(run.json["stats"]["blobs_scanned"], 2);

    let run = keysweep(tmp.path(), &["oci:multi", "--platform", "linux/arm64", "-f", "json"]);
    assert_eq!(platforms(&run), [("linux/arm64".to_string(), arm.clone())]);

    // Both platforms: the shared `.env` is scanned once and reported at both places.
    let run = keysweep(tmp.path(), &["oci:multi", "--all-platforms", "-f", "json"]);
    let mut both = platforms(&run);
    both.sort();
    assert_eq!(both, [("linux/amd64".to_string(), amd), ("linux/arm64".to_string(), arm)]);
    assert_eq!(run.json["stats"]["blobs_scanned"], 3, "app/.env once, bin/arch twice");

    let run = keysweep(tmp.path(), &["oci:multi", "--platform", "linux/s390x", "-f", "json"]);
    assert_eq!(run.code, 2);
    let errs = errors(&run.json).join("\n");
    assert!(
        errs.contains("no image for --platform linux/s390x")
            && errs.contains("linux/arm64, linux/amd64"),
        "{errs}"
    );
}

#[test]
fn docker_archives_legacy_and_oci() {
    let tmp = temp();
    let key = key_id(30);
    let file = format!("export AWS_ACCESS_KEY_ID={key}\n");
    let base = tar(&[("etc/os-release", b"ID=test\n")]);
    let top = tar(&[("home/app/.bashrc", file.as_bytes())]);
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [sha256(&base), sha256(&top)]},
        "history": [{"created_by": "ADD base"}, {"created_by": "COPY .bashrc /home/app/"}],
    });
    let config_bytes = serde_json::to_vec(&config).expect("json");
    let config_name = format!("{}.json", &sha256(&config_bytes)[7..]);
    let manifest = json!([{"Config": config_name, "RepoTags": ["app:latest"], "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]);
    let manifest_bytes = serde_json::to_vec(&manifest).expect("json");
    let archive = tar(&[
        ("aaa/", b""),
        ("aaa/layer.tar", &base),
        ("bbb/", b""),
        ("bbb/layer.tar", &top),
        (&config_name, &config_bytes),
        ("manifest.json", &manifest_bytes),
        ("repositories", br#"{"app":{"latest":"bbb"}}"#),
    ]);
    std::fs::write(tmp.path().join("legacy.tar"), archive).expect("write");
    let run = keysweep(tmp.path(), &["docker-archive:legacy.tar", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        locations(&run.json),
        vec![loc(KEY_ID, "home/app/.bashrc", 1, 26, 1, &sha256(&top))]
    );
    let location = &run.json["findings"][0]["locations"][0];
    assert_eq!(location["created_by"], "COPY .bashrc /home/app/");
    assert_eq!(location["image_digest"], sha256(&config_bytes));
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));

    // The OCI flavour (Docker 25+): an OCI layout inside the tar, plus a compatible
    // manifest.json; layers stored uncompressed.
    let layout = Layout::new(&tmp.path().join("oci"));
    let layers = [
        Layer::new(Codec::Plain, &[("etc/os-release", b"ID=test\n")]),
        Layer::new(Codec::Plain, &[("home/app/.bashrc", file.as_bytes())]),
    ];
    let (descriptor, written) = layout.image(&layers, json!({}), "amd64");
    let mut named = tagged(&descriptor, "latest");
    named["annotations"]["io.containerd.image.name"] = json!("docker.io/library/app:latest");
    let index =
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [named]})).expect("json");
    let mut entries: Vec<(String, Vec<u8>)> = vec![
        ("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        ("index.json".into(), index),
    ];
    for blob in std::fs::read_dir(layout.dir.join("blobs/sha256")).expect("blobs") {
        let blob = blob.expect("blob");
        let name = format!("blobs/sha256/{}", blob.file_name().to_string_lossy());
        entries.push((name, std::fs::read(blob.path()).expect("read")));
    }
    let compat = json!([{"Config": "blobs/sha256/x", "Layers": ["blobs/sha256/y"]}]);
    entries.push(("manifest.json".into(), serde_json::to_vec(&compat).expect("json")));
    let refs: Vec<(&str, &[u8])> =
        entries.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
    std::fs::write(tmp.path().join("oci.tar"), tar(&refs)).expect("write");
    let run = keysweep(tmp.path(), &["docker-archive:oci.tar", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        locations(&run.json),
        vec![loc(KEY_ID, "home/app/.bashrc", 1, 26, 1, &written[1].digest)]
    );
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));
}

/// Incompressible filler, so that a truncated gzip stream ends inside it.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x1234_5678_9abc_def0_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b'a' + (state % 26) as u8
        })
        .collect()
}

#[test]
fn a_truncated_layer_is_an_error_after_what_could_be_read() {
    let tmp = temp();
    let key = key_id(40);
    let env = format!("K={key}\n");
    let filler = noise(200_000);
    let layers =
        [Layer::new(Codec::Gzip, &[("a/.env", env.as_bytes()), ("b/filler.txt", &filler)])];
    let (layout, _, written) = single(&tmp.path().join("img"), &layers, json!({}));
    let path = layout.blob_path(&written[0].digest);
    let stored = std::fs::read(&path).expect("read");
    std::fs::write(&path, &stored[..stored.len() / 2]).expect("truncate");
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "the key before the cut is still found: {}", run.stderr);
    assert_eq!(locations(&run.json), vec![loc(KEY_ID, "a/.env", 1, 3, 0, &written[0].digest)]);
    let errs = errors(&run.json);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains(&format!("layer 0 ({})", written[0].digest)), "{errs:?}");
    assert!(run.stderr.contains(&written[0].digest), "{}", run.stderr);

    // Cut before any file: nothing found, exit 2.
    std::fs::write(&path, &stored[..20]).expect("truncate");
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(errors(&run.json).len(), 1);
}

#[test]
fn a_digest_mismatch_is_named_and_findings_stand() {
    let tmp = temp();
    let (a, b) = (key_id(50), key_id(51));
    let one = format!("first = {a}\nnote = untouched\n");
    let two = format!("second = {b}\n");
    let layers = [
        Layer::new(Codec::Plain, &[("one.txt", one.as_bytes())]),
        Layer::new(Codec::Gzip, &[("two.txt", two.as_bytes())]),
    ];
    let (layout, _, written) = single(&tmp.path().join("img"), &layers, json!({}));
    // Same size, one byte changed in text away from the key: still a valid tar.
    let path = layout.blob_path(&written[0].digest);
    let mut stored = std::fs::read(&path).expect("read");
    let at = stored.windows(9).position(|w| w == b"untouched").expect("text");
    stored[at] = b'U';
    std::fs::write(&path, &stored).expect("write");
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        locations(&run.json),
        vec![
            loc(KEY_ID, "one.txt", 1, 9, 0, &written[0].digest),
            loc(KEY_ID, "two.txt", 1, 10, 1, &written[1].digest)
        ]
    );
    let errs = errors(&run.json);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains(&format!("digest mismatch for {}", written[0].digest)), "{errs:?}");
    assert!(errs[0].contains(&sha256(&stored)), "{errs:?}");
    assert!(run.stderr.contains("digest mismatch"), "{}", run.stderr);
}

#[test]
fn traversal_and_absolute_paths_are_reported_as_written_and_never_unpacked() {
    let tmp = temp();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).expect("work dir");
    let (a, b) = (key_id(60), key_id(61));
    let up = format!("k={a}\n");
    let abs = format!("k={b}\n");
    let layers = [Layer::new(
        Codec::Gzip,
        &[("../../escape/.env", up.as_bytes()), ("/abs/keysweep-test/.env", abs.as_bytes())],
    )];
    let (_, _, written) = single(&work.join("img"), &layers, json!({}));
    let run = keysweep(&work, &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let paths: Vec<String> = run.json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["locations"][0]["path"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(paths.iter().any(|p| p.ends_with("/layer 0/../../escape/.env")), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("/layer 0//abs/keysweep-test/.env")), "{paths:?}");
    assert_eq!(
        locations(&run.json),
        vec![
            loc(KEY_ID, "../../escape/.env", 1, 3, 0, &written[0].digest),
            loc(KEY_ID, "abs/keysweep-test/.env", 1, 3, 0, &written[0].digest),
        ]
    );
    assert!(!tmp.path().join("escape").exists() && !Path::new("/abs/keysweep-test").exists());

    // SARIF: URIs resolved inside the image's root, the path as written in properties.
    let sarif = keysweep(&work, &["oci:img", "-f", "sarif", "-o", "../out.sarif"]);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let text = std::fs::read_to_string(tmp.path().join("out.sarif")).expect("sarif");
    let sarif: Value = serde_json::from_str(&text).expect("sarif json");
    let mut uris: Vec<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
            let written = r["properties"]["pathInLayer"].as_str().unwrap_or("");
            (uri.as_str().unwrap_or("").to_string(), written.to_string())
        })
        .collect();
    uris.sort();
    let want = [
        ("abs/keysweep-test/.env", "/abs/keysweep-test/.env"),
        ("escape/.env", "../../escape/.env"),
    ];
    assert_eq!(uris, want.map(|(u, p)| (u.to_string(), p.to_string())));
    crate::archive::validate_sarif(&tmp.path().join("out.sarif"));
    let listed: Vec<_> =
        std::fs::read_dir(&work).expect("work").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(listed, ["img"], "nothing written next to the layout");
}

#[test]
fn misuse_and_missing_images() {
    let tmp = temp();
    let run = keysweep(tmp.path(), &["Not A Reference"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not an image reference \"Not A Reference\""), "{}", run.stderr);
    let run = keysweep(tmp.path(), &["oci:missing", "-f", "json"]);
    assert_eq!(run.code, 2);
    assert!(errors(&run.json)[0].contains("missing/index.json"), "{:?}", errors(&run.json));
    std::fs::write(tmp.path().join("junk.tar"), b"not a tar at all").expect("write");
    let run = keysweep(tmp.path(), &["docker-archive:junk.tar", "-f", "json"]);
    assert_eq!(run.code, 2);
    let (_, _, _) =
        single(&tmp.path().join("img"), &[Layer::new(Codec::Gzip, &[("x", b"y")])], json!({}));
    let run = keysweep(tmp.path(), &["oci:img:nope", "-f", "json"]);
    assert_eq!(run.code, 2);
    assert!(
        errors(&run.json)[0].contains("tag \"nope\" (tags: latest)"),
        "{:?}",
        errors(&run.json)
    );
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A zip (jar) of `(name, content)` entries, deflated.
fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(data).expect("zip data");
    }
    writer.finish().expect("zip").into_inner()
}

#[test]
fn a_key_pair_in_a_jar_in_a_layer() {
    let tmp = temp();
    let (key, secret) = (key_id(70), secret_key());
    let properties = format!(
        "# app\nserver.port=8080\naws.accessKeyId={key}\naws.secretKey={secret}\nlogging=INFO\n"
    );
    let app = jar(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("BOOT-INF/classes/application.properties", properties.as_bytes()),
        ("BOOT-INF/classes/App.class", b"\xca\xfe\xba\xbe\0\0\0\x34binary"),
    ]);
    let config = json!({"history": [
        {"created_by": "ADD rootfs /"},
        {"created_by": "COPY target/app.jar /srv/app.jar"},
    ]});
    let layers = [
        Layer::new(Codec::Gzip, &[("etc/hostname", b"box\n")]),
        Layer::new(Codec::Gzip, &[("srv/", b""), ("srv/app.jar", &app)]),
    ];
    let (_, manifest, written) = single(&tmp.path().join("img"), &layers, config);
    let member = "srv/app.jar!/BOOT-INF/classes/application.properties";
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));
    assert_eq!(locations(&run.json), vec![loc(KEY_ID, member, 3, 17, 1, &written[1].digest)]);
    let finding = &run.json["findings"][0];
    assert_eq!(finding["secret_key"], format!("{}{}", &secret[..4], "*".repeat(16)), "paired");
    let location = &finding["locations"][0];
    assert_eq!(location["secret_key_line"], 4);
    assert_eq!(location["source"], "image");
    assert_eq!(location["created_by"], "COPY target/app.jar /srv/app.jar");
    assert_eq!(location["image_digest"], manifest["digest"]);
    let short = &manifest["digest"].as_str().expect("digest")[7..19];
    assert_eq!(location["path"], format!("oci:img@sha256:{short}/layer 1/{member}"));
    let app_blob = sha256(&app);
    assert_eq!(location["blob"], app_blob, "the blob is the jar's, where the member lives");
    assert_eq!(run.json["stats"]["skipped_binary"], 1, "App.class");

    // SARIF: the member's path (`!` percent-encoded), the image facts in properties.
    let sarif = keysweep(tmp.path(), &["oci:img", "-f", "sarif"]);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let sarif: Value = serde_json::from_str(&sarif.stdout).expect("sarif");
    let result = &sarif["runs"][0]["results"][0];
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "srv/app.jar%21/BOOT-INF/classes/application.properties"
    );
    assert_eq!(physical["region"]["startLine"], 3);
    assert_eq!(result["properties"]["layerIndex"], 1);
    assert_eq!(result["properties"]["layerDigest"], written[1].digest);
    assert_eq!(result["properties"]["imageDigest"], manifest["digest"]);
    assert_eq!(result["properties"]["createdBy"], "COPY target/app.jar /srv/app.jar");

    // Text names the member under the image and the layer below it.
    let text = keysweep(tmp.path(), &["oci:img", "--color", "never"]);
    assert!(text.stdout.contains(&format!("layer 1/{member}:3:17")), "{}", text.stdout);
    let layer_short = &written[1].digest[7..19];
    assert!(text.stdout.contains(&format!("layer 1 sha256:{layer_short}")), "{}", text.stdout);

    // `--max-archive-depth 0` leaves the jar unopened: skipped as binary, nothing found.
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json", "--max-archive-depth", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json["stats"]["skipped_binary"], 1, "the jar");
}

#[test]
fn the_same_jar_in_two_layers_and_a_deleted_one() {
    let tmp = temp();
    let key = key_id(71);
    let properties = format!("aws.accessKeyId = {key}\n");
    let inner = jar(&[("config/app.properties", properties.as_bytes())]);
    // The same jar twice, and a war nesting it; the lower copy is deleted by a whiteout.
    let war = jar(&[("WEB-INF/lib/inner.jar", &inner)]);
    let layers = [
        Layer::new(Codec::Gzip, &[("opt/lib/inner.jar", &inner)]),
        Layer::new(Codec::Zstd, &[("srv/app.war", &war), ("srv/inner.jar", &inner)]),
        Layer::new(Codec::Plain, &[("opt/lib/.wh.inner.jar", b"")]),
    ];
    let (_, _, written) = single(&tmp.path().join("img"), &layers, json!({}));
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));
    let mut removed = loc(KEY_ID, "opt/lib/inner.jar!/config/app.properties", 1, 19, 0, "");
    removed.5 = written[0].digest.clone();
    removed.6 = Some(2);
    assert_eq!(
        locations(&run.json),
        vec![
            removed,
            loc(
                KEY_ID,
                "srv/app.war!/WEB-INF/lib/inner.jar!/config/app.properties",
                1,
                19,
                1,
                &written[1].digest
            ),
            loc(KEY_ID, "srv/inner.jar!/config/app.properties", 1, 19, 1, &written[1].digest),
        ]
    );
    assert_eq!(run.json["findings"].as_array().map(Vec::len), Some(1));

    // Too deep for --max-archive-depth 1: the war's inner jar is reported, the rest found.
    let run = keysweep(tmp.path(), &["oci:img", "-f", "json", "--max-archive-depth", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(locations(&run.json).len(), 2);
    let errs = errors(&run.json);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("/layer 1/srv/app.war!/WEB-INF/lib/inner.jar: archive nested more than 1"),
        "{errs:?}"
    );
}

/// A tar header for a regular file of `size` bytes (the data follows separately).
fn tar_header(path: &str, size: u64) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.set_path(path).expect("tar path");
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(size);
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    header.as_bytes().to_vec()
}

/// A gzip-compressed layer whose tar holds one file of `size` zeros (`size` a multiple of
/// 1 MiB): three gzip members (the header, the zeros as a bomb, the tar's end), a few hundred
/// KB stored.
fn gzip_bomb_layer(dir: &Path, path: &str, size: u64) -> Vec<u8> {
    let mut stored = Codec::Gzip.compress(&tar_header(path, size));
    let bomb = dir.join("zeros.gz");
    crate::archive::gzip_bomb(&bomb, size);
    stored.extend(std::fs::read(&bomb).expect("bomb"));
    std::fs::remove_file(&bomb).expect("remove bomb");
    stored.extend(Codec::Gzip.compress(&[0; 1024]));
    stored
}

/// The same as a zstd stream, compressed chunk by chunk.
fn zstd_bomb_layer(path: &str, size: u64) -> Vec<u8> {
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("zstd");
    encoder.write_all(&tar_header(path, size)).expect("zstd");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..size >> 20 {
        encoder.write_all(&zeros).expect("zstd");
    }
    encoder.write_all(&[0; 1024]).expect("zstd");
    encoder.finish().expect("zstd")
}

/// Peak RSS allowed for scanning an image with a bomb in it.
const BOMB_RSS_KB: u64 = 300 * 1024;

#[test]
fn gzip_and_zstd_bomb_layers_are_stopped_and_named() {
    let tmp = temp();
    let layout = Layout::new(&tmp.path().join("img"));
    let (a, b) = (key_id(80), key_id(81));
    let (first, last) = (format!("A={a}\n"), format!("B={b}\n"));
    let gzip = gzip_bomb_layer(tmp.path(), "var/disk.img", 300 << 20);
    let zstd = zstd_bomb_layer("var/zero.img", 300 << 20);
    assert!(gzip.len() < 1 << 20 && zstd.len() < 1 << 20, "{} {}", gzip.len(), zstd.len());
    let written = vec![
        layout.layer(&Layer::new(Codec::Gzip, &[("app/.env", first.as_bytes())])),
        layout.raw_layer(&gzip, Codec::Gzip.media_type()),
        layout.raw_layer(&zstd, Codec::Zstd.media_type()),
        layout.layer(&Layer::new(Codec::Plain, &[("app/last.env", last.as_bytes())])),
    ];
    let digests: Vec<String> = written.iter().map(|w| w.digest.clone()).collect();
    let (descriptor, _) = layout.image_of(written, json!({}), "amd64");
    layout.index(vec![tagged(&descriptor, "latest")]);
    let args = ["image", "oci:img", "--no-progress", "-f", "json", "--max-decompressed-size"];
    let started = std::time::Instant::now();
    let (out, peak_kb) =
        crate::archive::run_measured(tmp.path(), &[&args[..], &["64M"]].concat(), None);
    let elapsed = started.elapsed();
    assert_eq!(out.code, 1, "{out}");
    let json: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        locations(&json),
        vec![
            loc(KEY_ID, "app/.env", 1, 3, 0, &digests[0]),
            loc(KEY_ID, "app/last.env", 1, 3, 3, &digests[3]),
        ]
    );
    let errs = errors(&json);
    assert_eq!(errs.len(), 2, "{errs:?}");
    for (err, index) in errs.iter().zip([1, 2]) {
        let named = format!("layer {index} ({}): ", digests[index]);
        assert!(err.contains(&named), "{err}");
        let message =
            format!("{named}the layer expands to more than 64 MiB and over 100 times its ");
        assert!(err.contains(&message), "{err}");
        assert!(
            err.ends_with(
                " stored bytes read; not read further (decompression bomb?) (see \
                 --max-decompressed-size)"
            ),
            "{err}"
        );
    }
    assert!(out.stderr.contains("decompression bomb"), "{out}");
    eprintln!("bomb layers: peak RSS {} MiB, {elapsed:?}", peak_kb / 1024);
    assert!(peak_kb < BOMB_RSS_KB, "peak RSS {peak_kb} KiB");

    // A bomb alone: nothing found, an input failed: exit 2.
    let alone = Layout::new(&tmp.path().join("alone"));
    let written = vec![alone.raw_layer(&gzip, Codec::Gzip.media_type())];
    let (descriptor, _) = alone.image_of(written, json!({}), "amd64");
    alone.index(vec![tagged(&descriptor, "latest")]);
    let run = keysweep(tmp.path(), &["oci:alone", "-f", "json", "--max-decompressed-size", "16M"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(errors(&run.json).len(), 1, "{:?}", errors(&run.json));
    assert!(errors(&run.json)[0].contains("more than 16 MiB"), "{:?}", errors(&run.json));

    // A large layer that compresses like real data is never stopped by the budget.
    let filler = noise(4 << 20);
    let big = Layout::new(&tmp.path().join("big"));
    let env = format!("K={a}\n");
    let files: [(&str, &[u8]); 2] = [("data/filler.txt", &filler), ("data/z.env", env.as_bytes())];
    let (descriptor, written) = big.image(&[Layer::new(Codec::Gzip, &files)], json!({}), "amd64");
    big.index(vec![tagged(&descriptor, "latest")]);
    let run = keysweep(tmp.path(), &["oci:big", "-f", "json", "--max-decompressed-size", "1M"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(errors(&run.json).is_empty(), "{:?}", errors(&run.json));
    assert_eq!(locations(&run.json), vec![loc(KEY_ID, "data/z.env", 1, 3, 0, &written[0].digest)]);
}

#[test]
fn archive_bombs_inside_a_layer_are_reported_and_bounded() {
    let tmp = temp();
    let key = key_id(82);
    let text = format!("aws.accessKeyId = {key}\n");
    // 8 GiB expanded through four levels of zips; 512 MiB of zeros in a plain gzip file.
    let bomb = crate::archive::nested_bomb(3, 8, 16 << 20);
    crate::archive::gzip_bomb(&tmp.path().join("dump.sql.gz"), 512 << 20);
    let dump = std::fs::read(tmp.path().join("dump.sql.gz")).expect("bomb");
    let layers = [
        Layer::new(Codec::Gzip, &[("srv/42.zip", &bomb), ("srv/app.properties", text.as_bytes())]),
        Layer::new(Codec::Zstd, &[("data/dump.sql.gz", &dump)]),
    ];
    let (_, _, written) = single(&tmp.path().join("img"), &layers, json!({}));
    let args =
        ["image", "oci:img", "--no-progress", "-f", "json", "--max-decompressed-size", "64M"];
    let (out, peak_kb) = crate::archive::run_measured(tmp.path(), &args, None);
    assert_eq!(out.code, 1, "{out}");
    let json: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        locations(&json),
        vec![loc(KEY_ID, "srv/app.properties", 1, 19, 0, &written[0].digest)]
    );
    let errs = errors(&json);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter().any(|e| e.contains("/layer 0/srv/42.zip!/l2-")
            && e.contains(
                "expands to more than 64 MiB in total; not opened further (decompression bomb?)"
            )),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("/layer 1/data/dump.sql.gz!/dump.sql: expands to more than 64 MiB")),
        "{errs:?}"
    );
    eprintln!("archive bombs in layers: peak RSS {} MiB", peak_kb / 1024);
    assert!(peak_kb < BOMB_RSS_KB, "peak RSS {peak_kb} KiB");
}

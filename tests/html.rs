//! The HTML report (`--format html`) in a real browser: Debian's Chromium, headless, driven by
//! Playwright (`tests/html_check.py`, system browser, nothing downloaded). The page must load
//! with no console error and no request, show the JSON report's counts, filter by owner to
//! exactly that owner's findings, and embed the JSON report with the same redaction.
//!
//! The screenshot is kept at `target/test-artifacts/html-report.png`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::moto::credentials_file;
use crate::util::{ACCOUNT, Fakes, TestCommand, TestDir, git};

const INSTALL_HINT: &str = "the browser test needs Debian's chromium and Playwright for Python: \
     run scripts/test.sh (apt-get install chromium; pip install -r tests/requirements.txt)";

const CODEOWNERS: &str = "\
*              @org/everyone
/config/       @org/config
/payments/     @org/payments
/vendor/
";

/// A tree with owners: two keys under /config/, one under /payments/, one owned by everyone,
/// one in /vendor/ (no owner), and a GitHub token. `</script>` sits next to one secret so the
/// snippet carries it into the page. Returns the planted secrets.
fn plant(dir: &TestDir) -> Vec<String> {
    dir.create(".github/CODEOWNERS", CODEOWNERS);
    let mut fakes = Fakes::new(909);
    let mut secrets = Vec::new();
    for path in
        ["config/prod.env", "config/stage.env", "payments/keys.ini", "app/app.env", "vendor/v.env"]
    {
        let (id, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
        let mut text = credentials_file(&id, &secret, None);
        if path == "config/stage.env" {
            text = format!("# </script><script>alert(1)</script>\n{text}");
        }
        dir.create(path, text);
        secrets.extend([id, secret]);
    }
    let token = fakes.github_pat();
    dir.create("app/ci.txt", format!("token: {token}\n"));
    secrets.push(token);
    secrets
}

/// A finding's owners as the page defines them: its paths' CODEOWNERS owners; without any, the
/// author of the commit that introduced it; otherwise `(no owner)`.
fn owners(finding: &Value) -> Vec<String> {
    let mut out = BTreeSet::new();
    for path in finding["owner"]["codeowners"].as_array().into_iter().flatten() {
        for name in path["owners"].as_array().expect("owners") {
            out.insert(name.as_str().expect("owner name").to_string());
        }
    }
    if out.is_empty()
        && let Some(author) = finding["owner"]["introduced_by"].as_object()
    {
        out.insert(format!(
            "{} <{}>",
            author["name"].as_str().unwrap(),
            author["email"].as_str().unwrap()
        ));
    }
    if out.is_empty() {
        out.insert("(no owner)".to_string());
    }
    out.into_iter().collect()
}

/// The summary the page must show, computed from the JSON report: dimension → value → number
/// of findings (a finding with several owners or source kinds counts once under each).
fn expected_charts(report: &Value) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut charts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for finding in report["findings"].as_array().expect("findings") {
        let text = |v: &Value, missing: &str| v.as_str().unwrap_or(missing).to_string();
        let account = finding["owner"]["aws_account"]["id"]
            .as_str()
            .or(finding["aws_account"].as_str())
            .unwrap_or("(no account)")
            .to_string();
        let sources: BTreeSet<String> = finding["locations"]
            .as_array()
            .expect("locations")
            .iter()
            .map(|l| text(&l["source"], ""))
            .collect();
        let values = [
            ("severity", vec![text(&finding["severity"], "")]),
            ("verification", vec![text(&finding["verification"]["status"], "not verified")]),
            ("tier", vec![text(&finding["blast_radius"]["tier"], "(not assessed)")]),
            ("owner", owners(finding)),
            ("account", vec![account]),
            ("source", sources.into_iter().collect()),
        ];
        for (dimension, keys) in values {
            for key in keys {
                *charts.entry(dimension.to_string()).or_default().entry(key).or_default() += 1;
            }
        }
    }
    charts
}

fn fingerprints(findings: impl IntoIterator<Item = Value>) -> BTreeSet<String> {
    findings
        .into_iter()
        .map(|f| f["fingerprint"].as_str().expect("fingerprint").to_string())
        .collect()
}

/// `target/test-artifacts/NAME`.
fn artifact(name: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir");
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir.join(name)
}

/// Runs `tests/html_check.py` on a report and returns what the page showed.
fn open_in_browser(report: &Path, extra: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/html_check.py");
    let output =
        Command::new("python3").arg(&script).arg(report).args(extra).output().unwrap_or_else(|e| {
            panic!("cannot run python3 {}: {e}; {INSTALL_HINT}", script.display())
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{} failed: {stderr}\n{INSTALL_HINT}", script.display());
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("browser output: {e}: {stderr}"))
}

/// The JSON document the page embeds.
fn embedded_json(html: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"keysweep-data\">";
    let start = html.find(open).expect("data block") + open.len();
    let end = start + html[start..].find("</script>").expect("end of the data block");
    serde_json::from_str(&html[start..end]).expect("the data block is JSON")
}

#[test]
fn browser_shows_the_json_counts_and_filters_by_owner() {
    let dir = TestDir::new();
    let secrets = plant(&dir);
    let html_path = dir.join("report.html");
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args(["scan", ".", "--format", "json", "--no-progress"]);
    cmd.arg("--report").arg(format!("html={}", html_path.display()));
    let (out, report) = cmd.run_json();
    out.assert_code(1);
    let findings = report["findings"].as_array().expect("findings").clone();
    assert_eq!(findings.len(), 6, "{report:#}");

    let html = std::fs::read_to_string(&html_path).expect("read the HTML report");
    for secret in &secrets {
        assert!(!html.contains(secret.as_str()), "secret {secret} in the page");
    }
    // Only the page's own two scripts close: the snippet's `</script>` is escaped.
    assert_eq!(html.matches("</script>").count(), 2);

    let screenshot = artifact("html-report.png");
    let page = open_in_browser(
        &html_path,
        &[
            "--screenshot",
            screenshot.to_str().unwrap(),
            "--owner",
            "@org/config",
            "--text",
            "payments/",
        ],
    );
    println!("screenshot: {}", screenshot.display());
    assert_eq!(page["console_errors"], serde_json::json!([]), "{page:#}");
    assert_eq!(page["page_errors"], serde_json::json!([]), "{page:#}");
    let own_url = format!("file://{}", html_path.display());
    assert_eq!(page["requests"], serde_json::json!([own_url]), "the page fetched something");

    let stats = &report["stats"];
    assert_eq!(page["totals"]["findings"], stats["findings"]);
    assert_eq!(page["totals"]["locations"], stats["locations"]);
    assert_eq!(page["totals"]["live"], 0);
    assert_eq!(page["totals"]["input errors"], stats["errors"]);
    let charts: BTreeMap<String, BTreeMap<String, u64>> =
        serde_json::from_value(page["charts"].clone()).expect("charts");
    let expected = expected_charts(&report);
    assert_eq!(charts, expected);
    // And what they are, so a change in owners or rules shows up here too.
    let owner_counts: Vec<(&str, u64)> =
        expected["owner"].iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        owner_counts,
        [("(no owner)", 1), ("@org/config", 2), ("@org/everyone", 2), ("@org/payments", 1)]
    );
    assert_eq!(page["match_count"], "6 of 6 findings");
    assert_eq!(page["rows_on_first_page"], 6);

    let config = fingerprints(findings.iter().filter(|f| owners(f) == ["@org/config"]).cloned());
    assert_eq!(config.len(), 2);
    let shown: BTreeSet<String> =
        serde_json::from_value(page["owner_fingerprints"].clone()).expect("fingerprints");
    assert_eq!(shown, config);
    assert_eq!(page["owner_match_count"], "2 of 6 findings");

    let payments = fingerprints(
        findings
            .iter()
            .filter(|f| {
                f["locations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["path"].as_str().unwrap().contains("payments/"))
            })
            .cloned(),
    );
    let shown: BTreeSet<String> =
        serde_json::from_value(page["text_fingerprints"].clone()).expect("fingerprints");
    assert_eq!((shown, page["text_match_count"].clone()), (payments, "1 of 6 findings".into()));

    // The first row expands to its location and owner.
    let first = page_first_finding(&findings);
    let location = &first["locations"][0];
    let detail = page["first_detail"].as_str().expect("detail text");
    let path = location["path"].as_str().unwrap();
    let codeowners = &location["codeowners"];
    for part in [
        first["fingerprint"].as_str().unwrap().to_string(),
        format!("{}:{}", location["line"], location["column"]),
        location["snippet"].as_str().unwrap().to_string(),
        format!(
            "CODEOWNERS {path}{} ({}:{} {})",
            codeowners["owners"][0].as_str().unwrap_or("nobody"),
            codeowners["file"].as_str().unwrap(),
            codeowners["line"],
            codeowners["pattern"].as_str().unwrap()
        ),
    ] {
        assert!(detail.contains(&part), "{part:?} not in the expanded row: {detail}");
    }
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn html_embeds_the_json_report_with_the_same_redaction() {
    let dir = TestDir::new();
    let secrets = plant(&dir);
    for show in [false, true] {
        let mut json_cmd = TestCommand::new();
        json_cmd.current_dir(dir.path()).args(["scan", ".", "--format", "json", "--no-progress"]);
        let mut html_cmd = TestCommand::new();
        html_cmd.current_dir(dir.path()).args(["scan", ".", "--format", "html", "--no-progress"]);
        if show {
            json_cmd.arg("--show-secrets");
            html_cmd.arg("--show-secrets");
        }
        let (out, json) = json_cmd.run_json();
        out.assert_code(1);
        let html = html_cmd.run();
        html.assert_code(1);
        assert!(html.stdout.starts_with("<!DOCTYPE html>"), "{html}");
        let embedded = embedded_json(&html.stdout);
        assert_eq!(embedded["findings"], json["findings"], "show_secrets {show}");
        assert_eq!(embedded["stats"]["findings"], 6);
        for secret in &secrets {
            assert_eq!(html.stdout.contains(secret.as_str()), show, "{secret}");
        }
    }
}

#[test]
fn browser_shows_git_provenance_and_falls_back_to_the_commit_author() {
    let dir = TestDir::new();
    let repo = dir.join("repo");
    std::fs::create_dir(&repo).expect("create repo dir");
    git(&repo, &["init", "-q"]);
    std::fs::create_dir_all(repo.join(".github")).expect("create .github");
    std::fs::write(repo.join(".github/CODEOWNERS"), "*.ini @org/platform\n").expect("CODEOWNERS");
    let mut fakes = Fakes::new(910);
    for path in ["deploy.ini", "app.env"] {
        let (id, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
        std::fs::write(repo.join(path), credentials_file(&id, &secret, None)).expect("plant");
    }
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "add credentials"]);

    let html_path = dir.join("report.html");
    let mut cmd = TestCommand::new();
    cmd.args(["git", "--format", "json", "--no-progress"]).arg(&repo);
    cmd.arg("--report").arg(format!("html={}", html_path.display()));
    let (out, report) = cmd.run_json();
    out.assert_code(1);
    let findings = report["findings"].as_array().expect("findings").clone();
    assert_eq!(findings.len(), 2, "{report:#}");

    // app.env has no CODEOWNERS owner: the author of the commit that introduced it owns it.
    let ann = "Ann <ann@example.org>";
    let page = open_in_browser(&html_path, &["--owner", ann]);
    assert_eq!(page["console_errors"], serde_json::json!([]), "{page:#}");
    assert_eq!(page["page_errors"], serde_json::json!([]), "{page:#}");
    let charts: BTreeMap<String, BTreeMap<String, u64>> =
        serde_json::from_value(page["charts"].clone()).expect("charts");
    assert_eq!(charts, expected_charts(&report));
    let owner_counts: Vec<(&str, u64)> =
        charts["owner"].iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(owner_counts, [("@org/platform", 1), (ann, 1)]);
    assert_eq!(charts["source"], BTreeMap::from([("git".to_string(), 2)]));

    let app = findings
        .iter()
        .find(|f| f["locations"][0]["relative_path"] == "app.env")
        .expect("the app.env finding");
    let shown: BTreeSet<String> =
        serde_json::from_value(page["owner_fingerprints"].clone()).expect("fingerprints");
    assert_eq!(shown, fingerprints([app.clone()]));
    assert_eq!(page["owner_match_count"], "1 of 2 findings");

    // The expanded first row carries the commit, its author and date.
    let detail = page["first_detail"].as_str().expect("detail text");
    let first = page_first_finding(&findings);
    let location = &first["locations"][0];
    let commit = location["commit"].as_str().expect("commit");
    assert_eq!(first["introduced"]["commit"], commit);
    for part in [
        format!("Introducedcommit{commit}path{}", first["introduced"]["path"].as_str().unwrap()),
        format!("author{ann}date{}", location["date"].as_str().unwrap()),
        format!("git{}", location["path"].as_str().unwrap()),
    ] {
        assert!(detail.contains(&part), "{part:?} not in the expanded row: {detail}");
    }
}

/// The finding the page lists first: the highest severity, then the report's order.
fn page_first_finding(findings: &[Value]) -> &Value {
    let rank = |f: &Value| {
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .position(|s| f["severity"] == *s)
            .expect("severity")
    };
    findings.iter().min_by_key(|f| rank(f)).expect("a finding")
}

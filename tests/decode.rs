//! Encoded secrets: base64 (Kubernetes `Secret` data, `~/.docker/config.json` `auth`,
//! `Authorization: Basic`), JSON string escapes, percent-encoding, and encodings nested three
//! deep, found at the encoded text's line and column in the file, with the encoding named; and
//! base64 of random bytes, which decodes to nothing.
//!
//! Columns of a secret inside a base64 value point at the first base64 character holding its
//! bits: decoded byte `n` starts at character `n / 3 * 4 + n % 3` of the value.

use base64::Engine as _;
use serde_json::Value;

use crate::util::{
    ACCOUNT, Fakes, Scan, TestCommand, git, percent_encode, position, position_of_offset,
};

const KEY_RULE: &str = "aws.access-key-id";
const SECRET_RULE: &str = "aws.secret-access-key";
const PAT_RULE: &str = "github.pat-classic";

/// One location as the JSON report gives it: rule, path, line, column, encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct At {
    rule: String,
    path: String,
    line: usize,
    column: usize,
    encoding: Option<String>,
}

fn at(rule: &str, path: &str, (line, column): (usize, usize), encoding: Option<&str>) -> At {
    At { rule: rule.into(), path: path.into(), line, column, encoding: encoding.map(String::from) }
}

/// Every location of every finding, but those of the generic rule (whose matches on the
/// encoded values themselves are its business, not the decoders').
fn locations(scan: &Scan) -> Vec<At> {
    let mut out = Vec::new();
    for finding in scan.json["findings"].as_array().expect("findings") {
        let rule = finding["rule"].as_str().expect("rule");
        if rule.starts_with("generic.") {
            continue;
        }
        for location in finding["locations"].as_array().expect("locations") {
            out.push(At {
                rule: rule.into(),
                path: location["relative_path"].as_str().expect("path").into(),
                line: location["line"].as_u64().expect("line") as usize,
                column: location["column"].as_u64().expect("column") as usize,
                encoding: location.get("encoding").and_then(Value::as_str).map(String::from),
            });
        }
    }
    out
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The classic PAT of the GitHub rule's first example, assembled so that this file holds no
/// token-shaped literal.
fn pat() -> String {
    format!("{}{}", "gh", "p_U8OyUv5RLfNbsOfLmMVQgJAACdYWcw26Oieu")
}

/// The column offset in a base64 value of decoded byte `n`.
fn b64_column(n: usize) -> usize {
    n / 3 * 4 + n % 3
}

fn k8s_secret(key: &str, secret: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: aws-creds\ntype: Opaque\ndata:\n  \
         AWS_ACCESS_KEY_ID: {}\n  AWS_SECRET_ACCESS_KEY: {}\n",
        b64(key),
        b64(secret)
    )
}

scantest!(decode_kubernetes_secret_data_pair, |dir, cmd| {
    let mut fakes = Fakes::new(701);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = k8s_secret(&key, &secret);
    dir.create("k8s/secret.yaml", &content);
    let scan = cmd.scan_json(["--show-secrets", "."]);
    scan.out.assert_code(1);
    let key_at = position(&content, &b64(&key));
    assert_eq!(locations(&scan), vec![at(KEY_RULE, "k8s/secret.yaml", key_at, Some("base64"))]);
    let found = scan.findings.iter().find(|f| f.rule == KEY_RULE).expect("the key id");
    assert_eq!(found.secret, key);
    assert_eq!(found.secret_key.as_deref(), Some(secret.as_str()));
    assert_eq!(found.severity, "critical");
    assert_eq!(found.aws_account.as_deref(), Some("123456789012"));
    assert_eq!(found.end_column, key_at.1 + b64(&key).trim_end_matches('=').len());
    let secret_at = position(&content, &b64(&secret));
    assert_eq!((found.secret_key_line, found.secret_key_column), (Some(8), Some(secret_at.1)));
});

scantest!(decode_docker_config_auth, |dir, cmd| {
    let user = "octocat:";
    let encoded = b64(format!("{user}{}", pat()));
    let content = format!(
        "{{\n  \"auths\": {{\n    \"ghcr.io\": {{\n      \"auth\": \"{encoded}\"\n    }}\n  }}\n}}\n"
    );
    dir.create(".docker/config.json", &content);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let (line, column) = position(&content, &encoded);
    let want = (line, column + b64_column(user.len()));
    assert_eq!(locations(&scan), vec![at(PAT_RULE, ".docker/config.json", want, Some("base64"))]);
    let snippet = scan.json["findings"][0]["locations"][0]["snippet"].as_str().expect("snippet");
    assert!(snippet.contains("\"auth\": \"octocat:ghp_***"), "decoded, redacted: {snippet}");
    assert!(!scan.out.stdout.contains(&pat()[4..]), "the token is redacted: {}", scan.out);
});

scantest!(decode_authorization_basic_header, |dir, cmd| {
    let user = "deploy-bot:";
    let encoded = b64(format!("{user}{}", pat()));
    let content = format!(
        "#!/bin/sh\ncurl -fsS \\\n  -H \"Authorization: Basic {encoded}\" \\\n  \
         https://git.internal.example.org/api/v1/repos\n"
    );
    dir.create("scripts/sync.sh", &content);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let (line, column) = position(&content, &encoded);
    let want = (line, column + b64_column(user.len()));
    assert_eq!(locations(&scan), vec![at(PAT_RULE, "scripts/sync.sh", want, Some("base64"))]);
});

scantest!(decode_json_escaped_secret_reported_once, |dir, cmd| {
    let mut fakes = Fakes::new(702);
    // A secret that starts with `/` is reported from its `/` (the `\` is read as a separator).
    let secret = std::iter::repeat_with(|| fakes.secret()).find(|s| !s.starts_with('/')).expect("");
    // As PHP's json_encode writes it: the raw bytes already show it (the AWS rule reads `\/`),
    // so the decoded copy at the same place is not reported again.
    let slashes = secret.replace('/', "\\/");
    let php = format!("{{\"aws_secret_access_key\":\"{slashes}\",\"region\":\"eu-west-1\"}}\n");
    // Escaped as `\u002f`, only the decoded text shows it.
    let unicode = secret.replace('/', "\\u002f");
    let logged =
        format!("{{\"level\":\"debug\",\"env\":{{\"AWS_SECRET_ACCESS_KEY\":\"{unicode}\"}}}}\n");
    dir.create("php.json", &php);
    dir.create("app.log.json", &logged);
    let scan = cmd.scan_json(["--show-secrets", "."]);
    scan.out.assert_code(1);
    assert_eq!(
        locations(&scan),
        vec![
            at(SECRET_RULE, "php.json", position(&php, &slashes), None),
            at(SECRET_RULE, "app.log.json", position(&logged, &unicode), Some("json")),
        ]
    );
    assert_eq!(scan.findings[0].secret, secret, "one secret, unescaped");
});

scantest!(decode_percent_encoded_secret_in_url, |dir, cmd| {
    let mut fakes = Fakes::new(703);
    let account_key = format!("{}Q==", fakes.base64(85));
    let encoded_key = percent_encode(&account_key);
    let content = format!(
        "redirect: https://portal.example.com/setup?conn=DefaultEndpointsProtocol%3Dhttps%3B\
         AccountName%3Dacmestore%3BAccountKey%3D{encoded_key}%3BEndpointSuffix%3Dcore.windows.net\n"
    );
    dir.create("deploy/values.yaml", &content);
    let scan = cmd.scan_json(["--show-secrets", "."]);
    scan.out.assert_code(1);
    assert_eq!(
        locations(&scan),
        vec![at(
            "azure.storage-connection-string",
            "deploy/values.yaml",
            position(&content, &encoded_key),
            Some("percent"),
        )]
    );
    assert_eq!(scan.findings[0].secret, account_key);
});

/// `blob: base64({"cfg": "{\"auth\": \"base64(xoé:TOKEN)\"}"})`, the inner base64's `/`
/// escaped as `\/`: only base64, then JSON, then base64 again shows the token.
fn three_deep() -> (String, usize) {
    let prefix = "xo\u{e9}:";
    let inner = b64(format!("{prefix}{}", pat()));
    assert!(inner.starts_with("eG/D"), "the `/` cuts the inner run early: {inner}");
    let json = format!("{{\"cfg\": \"{{\\\"auth\\\": \\\"{}\\\"}}\"}}", inner.replace('/', "\\/"));
    // Where the token's bits start in the JSON text, then in the outer base64.
    let in_json = json.find("eG\\/D").expect("inner") + b64_column(prefix.len()) + 1;
    let content = format!("blob: {}\n", b64(&json));
    (content, "blob: ".len() + b64_column(in_json) + 1)
}

scantest!(decode_base64_in_json_in_base64, |dir, cmd| {
    let (content, column) = three_deep();
    dir.create("deep.yaml", &content);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    assert_eq!(
        locations(&scan),
        vec![at(PAT_RULE, "deep.yaml", (1, column), Some("base64/json/base64"))]
    );
    let mut shallow = TestCommand::new();
    shallow.current_dir(dir.path());
    let scan = shallow.scan_json(["--decode-depth", "2", "."]);
    scan.out.assert_code(0);
    assert!(scan.findings.is_empty(), "depth 2 stops before the token: {}", scan.out);
});

scantest!(decode_random_base64_yields_nothing, |dir, cmd| {
    let mut fakes = Fakes::new(704);
    let mut content = String::new();
    for i in 0..50 {
        content.push_str(&format!("blob{i}: {}\n", b64(fakes.bytes(15 + i * 7))));
    }
    content.push_str(&format!("img: data:image/png;base64,{}\n", b64(fakes.bytes(4096))));
    dir.create("blobs.yaml", &content);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(0);
    assert!(scan.findings.is_empty(), "{}", scan.out);
    assert_eq!(scan.stat("errors"), 0, "{}", scan.out);
    assert!(scan.json["errors"].as_array().is_some_and(Vec::is_empty), "{}", scan.out);
});

scantest!(decode_can_be_turned_off, |dir, cmd| {
    let mut fakes = Fakes::new(705);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    dir.create("secret.yaml", k8s_secret(&key, &secret));
    let scan = cmd.scan_json(["--no-decode", "."]);
    assert!(locations(&scan).is_empty(), "{}", scan.out);
    let mut zero = TestCommand::new();
    zero.current_dir(dir.path());
    assert!(locations(&zero.scan_json(["--decode-depth", "0", "."])).is_empty());
});

scantest!(decode_text_and_sarif_name_the_encoding_at_the_encoded_text, |dir, cmd| {
    let mut fakes = Fakes::new(706);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = k8s_secret(&key, &secret);
    dir.create("secret.yaml", &content);
    let (line, column) = position(&content, &b64(&key));
    let out = cmd.args(["scan", "--no-progress", "."]).run();
    out.assert_code(1);
    assert!(out.stdout.contains(&format!("secret.yaml:{line}:{column} (base64)")), "{out}");
    assert!(!out.stdout.contains(&key[4..]) && !out.stdout.contains(&secret[4..]), "{out}");
    let mut sarif = TestCommand::new();
    sarif.current_dir(dir.path());
    let (out, json) = sarif.args(["scan", "--no-progress", "-f", "sarif", "."]).run_json();
    out.assert_code(1);
    let results = json["runs"][0]["results"].as_array().expect("results");
    let result = results
        .iter()
        .find(|r| r["ruleId"] == KEY_RULE)
        .unwrap_or_else(|| panic!("no {KEY_RULE} result: {out}"));
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "secret.yaml");
    let region = &physical["region"];
    let end = column + b64(&key).trim_end_matches('=').len();
    assert_eq!(
        (&region["startLine"], &region["startColumn"], &region["endColumn"]),
        (&Value::from(line), &Value::from(column), &Value::from(end))
    );
    assert_eq!(result["properties"]["encoding"], "base64");
});

scantest!(decode_in_git_history_and_logs, |dir, cmd| {
    let (content, column) = three_deep();
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("deep.yaml"), &content).expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "config"]);
    let (out, json) = cmd.args(["git", "--no-progress", "-f", "json", "repo"]).run_json();
    out.assert_code(1);
    let scan = Scan::new(out, json);
    assert_eq!(
        locations(&scan),
        vec![at(PAT_RULE, "deep.yaml", (1, column), Some("base64/json/base64"))]
    );
    let location = &scan.json["findings"][0]["locations"][0];
    assert!(location["commit"].is_string(), "a git location keeps its commit: {location}");

    let log = format!("2025-01-01T00:00:00.0000000Z step 1\n{content}");
    let mut from_stdin = TestCommand::new();
    let (out, json) =
        from_stdin.args(["log", "--no-progress", "-f", "json"]).stdin(log.clone()).run_json();
    out.assert_code(1);
    let scan = Scan::new(out, json);
    let offset = log.find("blob: ").expect("blob") + column - 1;
    let (line, _) = position_of_offset(log.as_bytes(), offset);
    assert_eq!(
        locations(&scan),
        vec![at(PAT_RULE, "stdin", (line, column), Some("base64/json/base64"))]
    );
});

scantest!(decode_pairing_only_the_decoded_text_shows_goes_to_the_raw_key_id, |dir, cmd| {
    let mut fakes = Fakes::new(707);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let encoded = percent_encode(&secret);
    // The key id reads as is; its secret only once the JSON in the query is percent-decoded.
    let content = format!(
        "open https://console.example.com/connect?creds=%7B%22aws_access_key_id%22%3A%22{key}\
         %22%2C%22aws_secret_access_key%22%3A%22{encoded}%22%7D\n"
    );
    dir.create("notes.md", &content);
    let scan = cmd.scan_json(["--show-secrets", "."]);
    scan.out.assert_code(1);
    assert_eq!(locations(&scan), vec![at(KEY_RULE, "notes.md", position(&content, &key), None)]);
    let found = &scan.findings[0];
    assert_eq!(found.secret_key.as_deref(), Some(secret.as_str()), "{}", scan.out);
    let (line, column) = position(&content, &encoded);
    assert_eq!((found.secret_key_line, found.secret_key_column), (Some(line), Some(column)));
    assert_eq!(found.severity, "critical");
});

scantest!(decode_quoted_printable_mail_body, |dir, cmd| {
    let token = pat();
    let (head, tail) = token.split_at(19);
    let content = format!(
        "From: ci@example.org\nTo: dev@example.org\nSubject: your token\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n\
         Your new token is {head}=\n{tail}, keep it safe =E2=80=94 the CI team\n"
    );
    dir.create("mail/token.eml", &content);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let want = at(PAT_RULE, "mail/token.eml", position(&content, head), Some("qp"));
    assert_eq!(locations(&scan), vec![want]);
});

scantest!(decode_program_source_near_keywords_and_everything_else_whole, |dir, cmd| {
    let user = "ci:";
    let encoded = b64(format!("{user}{}", pat()));
    // In code: decoded on a line holding a rule keyword (`secret`), not on a line without one
    // unless --decode-all-source; in YAML, decoded on any line.
    let code = format!("import requests\n\nBASIC = \"{encoded}\"\nclient_secret = \"{encoded}\"\n");
    let yaml = format!("deploy:\n  basic: \"{encoded}\"\n");
    dir.create("app/client.py", &code);
    dir.create("deploy/values.yaml", &yaml);
    let (line, column) = position(&code, &format!("client_secret = \"{encoded}"));
    let keyword_line = (line, column + "client_secret = \"".len() + b64_column(user.len()));
    let (line, column) = position(&code, &format!("BASIC = \"{encoded}"));
    let plain_line = (line, column + "BASIC = \"".len() + b64_column(user.len()));
    let (line, column) = position(&yaml, &encoded);
    let in_yaml = (line, column + b64_column(user.len()));
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    assert_eq!(
        locations(&scan),
        vec![
            at(PAT_RULE, "app/client.py", keyword_line, Some("base64")),
            at(PAT_RULE, "deploy/values.yaml", in_yaml, Some("base64")),
        ]
    );
    let mut all = TestCommand::new();
    all.current_dir(dir.path());
    let scan = all.scan_json(["--decode-all-source", "."]);
    assert_eq!(
        locations(&scan),
        vec![
            at(PAT_RULE, "app/client.py", plain_line, Some("base64")),
            at(PAT_RULE, "app/client.py", keyword_line, Some("base64")),
            at(PAT_RULE, "deploy/values.yaml", in_yaml, Some("base64")),
        ]
    );
});

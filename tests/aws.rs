//! AWS credentials in every shape they are written in: found at their exact line and column,
//! paired with their own secret access key (and session token), the account decoded; and the
//! look-alikes (documentation keys, placeholders, templates, unique ids, hashes) kept silent.

use crate::util::{
    ACCOUNT, Fakes, Found, Scan, TestCommand, TestDir, percent_encode, position, redacted,
};

const KEY_RULE: &str = "aws.access-key-id";
const SECRET_RULE: &str = "aws.secret-access-key";

/// Writes `content` to `file`, scans the tree with `--show-secrets` and returns the report.
fn scan_file(dir: &TestDir, cmd: &mut TestCommand, file: &str, content: &[u8]) -> Scan {
    dir.create(file, content);
    cmd.scan_json(["--show-secrets", "."])
}

/// What a paired key must look like: `key` at its place in `content`, paired with the secret
/// written as `written` at its place, whose value (unescaped) is `value`.
fn pair_expectation(
    file: &str,
    content: &[u8],
    key: &str,
    written: &str,
    value: &str,
    account: u64,
    fingerprint: &str,
) -> Found {
    let (line, column) = position(content, key);
    let (secret_line, secret_column) = position(content, written);
    Found {
        rule: KEY_RULE.into(),
        severity: "critical".into(),
        path: file.into(),
        display_path: file.into(),
        line,
        column,
        end_column: column + 20,
        secret: key.into(),
        secret_key: Some(value.into()),
        session_token: None,
        fingerprint: fingerprint.into(),
        aws_account: Some(format!("{account:012}")),
        secret_key_line: Some(secret_line),
        secret_key_column: Some(secret_column),
    }
}

/// Scans a tree holding only `file` and asserts its one finding is `key` paired with `secret`.
fn assert_single_pair(
    dir: &TestDir,
    cmd: &mut TestCommand,
    file: &str,
    content: &str,
    key: &str,
    secret: &str,
) -> Found {
    let scan = scan_file(dir, cmd, file, content.as_bytes());
    scan.out.assert_code(1);
    let found = scan.only().clone();
    let want = pair_expectation(
        file,
        content.as_bytes(),
        key,
        secret,
        secret,
        ACCOUNT,
        &found.fingerprint,
    );
    assert_eq!(found, want, "{}", scan.out);
    assert_eq!(found.fingerprint.len(), 32, "fingerprint is 128 bits of hex");
    found
}

scantest!(aws_credentials_file_two_profiles_each_paired_with_its_own_secret, |dir, cmd| {
    let mut fakes = Fakes::new(1);
    let (k1, s1) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let (k2, s2) = (fakes.key_id("AKIA", 42), fakes.secret());
    let content = format!(
        "[default]\naws_access_key_id = {k1}\naws_secret_access_key = {s1}\nregion = us-east-1\n\n\
         [prod]\naws_access_key_id = {k2}\naws_secret_access_key = {s2}\n"
    );
    let scan = scan_file(&dir, &mut cmd, ".aws/credentials", content.as_bytes());
    scan.out.assert_code(1);
    assert_eq!(scan.findings.len(), 2, "{}", scan.out);
    let by_key = |k: &str| scan.findings.iter().find(|f| f.secret == k).expect("key reported");
    let (first, second) = (by_key(&k1), by_key(&k2));
    // Literal positions, independent of the position helper.
    assert_eq!((first.line, first.column, first.end_column), (2, 21, 41));
    assert_eq!((first.secret_key_line, first.secret_key_column), (Some(3), Some(25)));
    assert_eq!((second.line, second.column), (7, 21));
    assert_eq!((second.secret_key_line, second.secret_key_column), (Some(8), Some(25)));
    let path = ".aws/credentials";
    let c = content.as_bytes();
    assert_eq!(first, &pair_expectation(path, c, &k1, &s1, &s1, ACCOUNT, &first.fingerprint));
    assert_eq!(second, &pair_expectation(path, c, &k2, &s2, &s2, 42, &second.fingerprint));
    assert_eq!(second.aws_account.as_deref(), Some("000000000042"), "zero-padded to 12 digits");
    assert_ne!(first.fingerprint, second.fingerprint);
});

scantest!(aws_documented_fake_key_decodes_to_the_documented_account, |dir, cmd| {
    // A fake from rules/aws.toml, assembled so this file holds no key-shaped literal.
    let key = format!("{}{}", "AKIA", "RZPUZDIKMDS4CW3C");
    let content = format!("aws_access_key_id = {key}\n");
    let scan = scan_file(&dir, &mut cmd, "key.ini", content.as_bytes());
    scan.out.assert_code(1);
    let found = scan.only();
    assert_eq!((found.rule.as_str(), found.line, found.column), (KEY_RULE, 1, 21));
    assert_eq!(found.severity, "high", "a key id without its secret is not critical");
    assert_eq!(found.secret_key, None);
    assert_eq!(found.aws_account.as_deref(), Some("123456789012"));
});

scantest!(aws_dotenv, |dir, cmd| {
    let mut fakes = Fakes::new(2);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "# local settings\nDEBUG=true\nAWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n\
         AWS_REGION=eu-central-1\n"
    );
    let found = assert_single_pair(&dir, &mut cmd, ".env", &content, &key, &secret);
    assert_eq!((found.line, found.column, found.secret_key_line), (3, 19, Some(4)));
});

scantest!(aws_export_in_shell_profile, |dir, cmd| {
    let mut fakes = Fakes::new(3);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "# ~/.bashrc\nalias ll='ls -l'\nexport AWS_ACCESS_KEY_ID=\"{key}\"\n\
         export AWS_SECRET_ACCESS_KEY='{secret}'\n"
    );
    let found = assert_single_pair(&dir, &mut cmd, ".bashrc", &content, &key, &secret);
    assert_eq!((found.line, found.column), (3, 27));
});

scantest!(aws_kubernetes_env_yaml, |dir, cmd| {
    let mut fakes = Fakes::new(4);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: uploader\nspec:\n  template:\n    \
         spec:\n      containers:\n        - name: uploader\n          image: acme/uploader:1.4\n          \
         env:\n            - name: AWS_ACCESS_KEY_ID\n              value: \"{key}\"\n            \
         - name: AWS_SECRET_ACCESS_KEY\n              value: \"{secret}\"\n"
    );
    let found = assert_single_pair(&dir, &mut cmd, "k8s/deploy.yaml", &content, &key, &secret);
    assert_eq!((found.line, found.column, found.secret_key_line), (13, 23, Some(15)));
});

scantest!(aws_github_actions_env_yaml, |dir, cmd| {
    let mut fakes = Fakes::new(5);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "name: deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      \
         AWS_ACCESS_KEY_ID: {key}\n      AWS_SECRET_ACCESS_KEY: {secret}\n      \
         AWS_DEFAULT_REGION: us-east-1\n    steps:\n      - run: aws s3 sync ./site s3://acme-site\n"
    );
    let file = ".github/workflows/deploy.yml";
    let found = assert_single_pair(&dir, &mut cmd, file, &content, &key, &secret);
    assert_eq!((found.line, found.column), (7, 26));
});

scantest!(aws_json_access_key_output, |dir, cmd| {
    let mut fakes = Fakes::new(6);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "{{\n  \"AccessKey\": {{\n    \"UserName\": \"deploy\",\n    \"AccessKeyId\": \"{key}\",\n    \
         \"Status\": \"Active\",\n    \"SecretAccessKey\": \"{secret}\",\n    \
         \"CreateDate\": \"2025-01-01T00:00:00Z\"\n  }}\n}}\n"
    );
    let found = assert_single_pair(&dir, &mut cmd, "key.json", &content, &key, &secret);
    assert_eq!((found.line, found.column), (4, 21));
});

scantest!(aws_sts_json_pairs_session_token_with_asia_key, |dir, cmd| {
    let mut fakes = Fakes::new(7);
    let (key, secret) = (fakes.key_id("ASIA", ACCOUNT), fakes.secret());
    let token = fakes.session_token();
    let content = format!(
        "{{\n    \"Credentials\": {{\n        \"AccessKeyId\": \"{key}\",\n        \
         \"SecretAccessKey\": \"{secret}\",\n        \"SessionToken\": \"{token}\",\n        \
         \"Expiration\": \"2026-01-01T00:00:00+00:00\"\n    }},\n    \"AssumedRoleUser\": {{\n        \
         \"Arn\": \"arn:aws:sts::123456789012:assumed-role/deploy/ci\"\n    }}\n}}\n"
    );
    let scan = scan_file(&dir, &mut cmd, "sts.json", content.as_bytes());
    scan.out.assert_code(1);
    let found = scan.only();
    let mut want =
        pair_expectation("sts.json", content.as_bytes(), &key, &secret, &secret, ACCOUNT, "");
    want.fingerprint.clone_from(&found.fingerprint);
    want.session_token = Some(token);
    assert_eq!(found, &want, "{}", scan.out);
    assert_eq!((found.line, found.column), (3, 25));
});

scantest!(aws_xml_app_config, |dir, cmd| {
    let mut fakes = Fakes::new(8);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <appSettings>\n    \
         <add key=\"AWSAccessKey\" value=\"{key}\" />\n    <add key=\"AWSSecretKey\" value=\"{secret}\" />\n  \
         </appSettings>\n</configuration>\n"
    );
    let found = assert_single_pair(&dir, &mut cmd, "App.config", &content, &key, &secret);
    assert_eq!((found.line, found.column), (4, 36));
});

scantest!(aws_terraform_provider_block, |dir, cmd| {
    let mut fakes = Fakes::new(9);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "terraform {{\n  required_version = \">= 1.5\"\n}}\n\nprovider \"aws\" {{\n  \
         region     = \"us-east-1\"\n  access_key = \"{key}\"\n  secret_key = \"{secret}\"\n}}\n"
    );
    let found = assert_single_pair(&dir, &mut cmd, "main.tf", &content, &key, &secret);
    assert_eq!((found.line, found.column, found.secret_key_line), (7, 17, Some(8)));
});

/// Hard-coded pairs in a dozen languages, each in its own file of one tree.
#[test]
fn aws_pairs_in_source_code_of_many_languages() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(10);
    let sources: &[(&str, &str)] = &[
        (
            "app.py",
            "import boto3\n\ns3 = boto3.client(\n    \"s3\",\n    aws_access_key_id=\"{K}\",\n    \
             aws_secret_access_key=\"{S}\",\n    region_name=\"eu-west-1\",\n)\n",
        ),
        (
            "app.js",
            "const AWS = require(\"aws-sdk\");\nAWS.config = new AWS.Config({ accessKeyId: \"{K}\", \
             secretAccessKey: \"{S}\", region: \"us-east-1\" });\n",
        ),
        (
            "client.ts",
            "import * as AWS from \"aws-sdk\";\n\nconst config: AWS.Config = new AWS.Config({\n  \
             accessKeyId: '{K}',\n  secretAccessKey: '{S}',\n});\n",
        ),
        (
            "main.go",
            "package main\n\nfunc session() *session.Session {\n\treturn session.Must(session.NewSession(\
             &aws.Config{\n\t\tRegion:      aws.String(\"us-west-2\"),\n\t\tCredentials: \
             credentials.NewStaticCredentials(\"{K}\", \"{S}\", \"\"),\n\t}))\n}\n",
        ),
        (
            "S3.java",
            "class S3 {\n    AWSCredentials credentials = new BasicAWSCredentials(\"{K}\", \"{S}\");\n}\n",
        ),
        (
            "Uploader.cs",
            "var credentials = new BasicAWSCredentials(\"{K}\", \"{S}\");\nusing var client = \
             new AmazonS3Client(credentials, RegionEndpoint.USEast1);\n",
        ),
        (
            "s3.php",
            "<?php\n$s3 = new Aws\\S3\\S3Client([\n    'version' => 'latest',\n    'region'  => \
             'us-east-1',\n    'credentials' => [\n        'key'    => '{K}',\n        'secret' => \
             '{S}',\n    ],\n]);\n",
        ),
        (
            "s3.rb",
            "Aws.config.update(\n  region: 'us-east-1',\n  credentials: Aws::Credentials.new('{K}', \
             '{S}')\n)\n",
        ),
        (
            "creds.rs",
            "let creds = aws_credential_types::Credentials::new(\"{K}\", \"{S}\", None, None, \
             \"hardcoded\");\n",
        ),
        ("S3.kt", "val credentials = BasicAWSCredentials(\"{K}\", \"{S}\")\n"),
        (
            "S3.scala",
            "object S3 {\n  val credentials = new BasicAWSCredentials(\"{K}\", \"{S}\")\n}\n",
        ),
        (
            "setup.sh",
            "#!/bin/sh\nset -e\naws configure set aws_access_key_id {K}\naws configure set \
             aws_secret_access_key {S}\n",
        ),
        ("deploy.ps1", "Set-AWSCredential -AccessKey {K} -SecretKey {S} -StoreAs deploy\n"),
    ];
    let mut expected = Vec::new();
    for (file, template) in sources {
        let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
        let content = template.replace("{K}", &key).replace("{S}", &secret);
        dir.create(file, &content);
        expected.push((file, content, key, secret));
    }
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["--show-secrets", "."]);
    scan.out.assert_code(1);
    let mut failures = Vec::new();
    for (file, content, key, secret) in &expected {
        let at = scan.at(file);
        match at.as_slice() {
            [found] => {
                let want = pair_expectation(
                    file,
                    content.as_bytes(),
                    key,
                    secret,
                    secret,
                    ACCOUNT,
                    &found.fingerprint,
                );
                if **found != want {
                    failures.push(format!("{file}: got {found:#?}\nwant {want:#?}"));
                }
            }
            other => failures.push(format!("{file}: want one finding, got {other:#?}")),
        }
    }
    assert_eq!(scan.findings.len(), sources.len(), "one finding per file: {:#?}", scan.findings);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

scantest!(aws_crlf_line_endings, |dir, cmd| {
    let mut fakes = Fakes::new(11);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "[default]\r\nregion = us-east-1\r\naws_access_key_id = {key}\r\n\
         aws_secret_access_key = {secret}\r\n"
    );
    let found = assert_single_pair(&dir, &mut cmd, "credentials", &content, &key, &secret);
    assert_eq!((found.line, found.column, found.end_column), (3, 21, 41));
    assert_eq!((found.secret_key_line, found.secret_key_column), (Some(4), Some(25)));
});

scantest!(aws_minified_bundle_with_pair_inside_a_50_kb_line, |dir, cmd| {
    let mut fakes = Fakes::new(12);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let chunk = "function r(n,t){return n.map(function(e){return e*t+1})};var o=[1,2,3],u=r(o,2);";
    let filler = chunk.repeat(25_000 / chunk.len());
    let content = format!(
        "/*! bundle v1.0.0 */\n{filler}var c={{accessKeyId:\"{key}\",secretAccessKey:\"{secret}\",\
         region:\"us-east-1\"}};{filler}\n"
    );
    assert!(content.len() > 50_000);
    let found = assert_single_pair(&dir, &mut cmd, "dist/app.min.js", &content, &key, &secret);
    let column = filler.len() + "var c={accessKeyId:\"".len() + 1;
    assert_eq!((found.line, found.column), (2, column));
    assert_eq!(found.secret_key_column, Some(column + 20 + "\",secretAccessKey:\"".len()));
});

scantest!(aws_non_ascii_neighbours_columns_count_code_points, |dir, cmd| {
    let mut fakes = Fakes::new(13);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "# Paramètres d'accès — ne pas committer 🔒\nclé=\"{key}\" secrète=\"{secret}\" # 🔑 ключ\n"
    );
    let found = assert_single_pair(&dir, &mut cmd, "réglages.conf", &content, &key, &secret);
    // `clé="` is 5 code points (6 bytes); `" secrète="` is 11 more after the 20-char key.
    assert_eq!((found.line, found.column, found.end_column), (2, 6, 26));
    assert_eq!((found.secret_key_line, found.secret_key_column), (Some(2), Some(37)));
});

scantest!(aws_presigned_url_key_id_without_secret, |dir, cmd| {
    let mut fakes = Fakes::new(14);
    let key = fakes.key_id("AKIA", ACCOUNT);
    let signature = percent_encode(&format!("{}=", fakes.base64(27)));
    let content = format!(
        "curl 'https://acme-reports.s3.amazonaws.com/2025/q1.csv?AWSAccessKeyId={key}\
         &Expires=1767225600&Signature={signature}'\n"
    );
    let scan = scan_file(&dir, &mut cmd, "fetch.sh", content.as_bytes());
    scan.out.assert_code(1);
    let found = scan.only();
    let (line, column) = position(&content, &key);
    assert_eq!((found.rule.as_str(), found.line, found.column), (KEY_RULE, line, column));
    assert_eq!(found.secret_key, None, "a request signature is not a secret access key");
    assert_eq!(found.severity, "high");
    assert_eq!(found.aws_account.as_deref(), Some("123456789012"));
});

scantest!(aws_s3_url_with_percent_encoded_secret_is_paired_and_decoded, |dir, cmd| {
    let mut fakes = Fakes::new(15);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let encoded = percent_encode(&secret);
    assert!(encoded.contains("%2F") && encoded.contains("%2B"));
    let content = format!("BACKUP_URL=s3://{key}:{encoded}@acme-backups/nightly\n");
    let scan = scan_file(&dir, &mut cmd, "backup.env", content.as_bytes());
    scan.out.assert_code(1);
    let found = scan.only();
    let want = pair_expectation(
        "backup.env",
        content.as_bytes(),
        &key,
        &encoded,
        &secret,
        ACCOUNT,
        &found.fingerprint,
    );
    assert_eq!(found, &want, "{}", scan.out);
});

scantest!(aws_json_escaped_slashes_are_unescaped_in_the_paired_secret, |dir, cmd| {
    let mut fakes = Fakes::new(16);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    // As PHP's json_encode writes it.
    let escaped = secret.replace('/', "\\/");
    let content = format!(
        "{{\"AccessKeyId\":\"{key}\",\"SecretAccessKey\":\"{escaped}\",\"Region\":\"us-east-1\"}}\n"
    );
    let scan = scan_file(&dir, &mut cmd, "config.json", content.as_bytes());
    scan.out.assert_code(1);
    let found = scan.only();
    let want = pair_expectation(
        "config.json",
        content.as_bytes(),
        &key,
        &escaped,
        &secret,
        ACCOUNT,
        &found.fingerprint,
    );
    assert_eq!(found, &want, "{}", scan.out);
    assert!(!found.secret_key.as_deref().unwrap_or_default().contains('\\'));
});

scantest!(aws_named_secret_alone, |dir, cmd| {
    let mut fakes = Fakes::new(17);
    let secret = fakes.secret();
    let content = format!("[ci]\nregion = us-east-1\naws_secret_access_key = {secret}\n");
    let scan = scan_file(&dir, &mut cmd, "ci.ini", content.as_bytes());
    scan.out.assert_code(1);
    let found = scan.only();
    assert_eq!(
        (found.rule.as_str(), found.severity.as_str(), found.line, found.column, found.end_column),
        (SECRET_RULE, "high", 3, 25, 65)
    );
    assert_eq!(found.secret, secret);
    assert_eq!((&found.secret_key, &found.aws_account), (&None, &None));
});

scantest!(aws_key_id_next_to_a_git_sha_is_not_paired_with_it, |dir, cmd| {
    let mut fakes = Fakes::new(18);
    let key = fakes.key_id("AKIA", ACCOUNT);
    let sha = fakes.hex(40);
    let content = format!("deployed {sha} with AWS_ACCESS_KEY_ID={key}\n");
    let scan = scan_file(&dir, &mut cmd, "deploy.log", content.as_bytes());
    scan.out.assert_code(1);
    let found = scan.only();
    assert_eq!((found.line, found.column), position(&content, &key));
    assert_eq!((found.secret_key.as_deref(), found.severity.as_str()), (None, "high"));
});

scantest!(aws_findings_are_redacted_by_default, |dir, cmd| {
    let mut fakes = Fakes::new(19);
    let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    dir.create(".env", format!("AWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n"));
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let found = scan.only();
    assert_eq!(found.secret, redacted(&key));
    assert_eq!(found.secret, "AKIA****************");
    assert_eq!(found.secret_key.as_deref(), Some(redacted(&secret).as_str()));
    assert_eq!((found.line, found.column, found.secret_key_line), (1, 19, Some(2)));
});

/// Documentation keys, placeholders, templates, environment lookups, unique ids that are not
/// credentials, hashes and embedded runs: none is a finding.
#[test]
fn aws_look_alikes_are_silent() {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(20);
    let docs_key_1 = format!("{}{}", "AKIAIOSFODNN7", "EXAMPLE");
    let docs_secret_1 = format!("{}{}", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "EXAMPLEKEY");
    let docs_key_2 = format!("{}{}", "AKIAI44QH8DHB", "EXAMPLE");
    let docs_secret_2 = format!("{}{}", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvb", "EXAMPLEKEY");
    let fake_key = format!("AKIAFAKE{}", &fakes.key_id("AKIA", ACCOUNT)[8..]);
    let x_key = format!("AKIA{}", "X".repeat(16));
    let x_secret = "X".repeat(40);
    let real_key = fakes.key_id("AKIA", ACCOUNT);
    let unique_ids: Vec<String> = ["AIDA", "AROA", "ANPA", "AGPA", "AIPA", "ANVA", "APKA", "ASCA"]
        .iter()
        .map(|prefix| fakes.key_id(prefix, ACCOUNT))
        .collect();
    let cases: Vec<(&str, String)> = vec![
        (
            "docs/credentials",
            format!(
                "[default]\naws_access_key_id = {docs_key_1}\naws_secret_access_key = {docs_secret_1}\n\n\
                 [other]\naws_access_key_id = {docs_key_2}\naws_secret_access_key = {docs_secret_2}\n"
            ),
        ),
        ("xxxx.env", format!("AWS_ACCESS_KEY_ID={x_key}\nAWS_SECRET_ACCESS_KEY={x_secret}\n")),
        ("fake.env", format!("AWS_ACCESS_KEY_ID={fake_key}\n")),
        (
            "template.yaml",
            "aws_access_key_id: <your-access-key>\naws_secret_access_key: <your-secret-key>\n"
                .into(),
        ),
        (
            "vars.sh",
            "export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID}\n\
             export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}\n"
                .into(),
        ),
        (
            ".github/workflows/ci.yml",
            "env:\n  AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}\n  \
             AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n"
                .into(),
        ),
        (
            "settings.py",
            "import os\nsecret = os.environ[\"AWS_SECRET_ACCESS_KEY\"]\n\
             key_id = os.environ.get(\"AWS_ACCESS_KEY_ID\")\n"
                .into(),
        ),
        (
            "config.js",
            "module.exports = {\n  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,\n  \
             accessKeyId: process.env.AWS_ACCESS_KEY_ID,\n};\n"
                .into(),
        ),
        (
            "iam.json",
            unique_ids
                .iter()
                .map(|id| {
                    format!("{{\"Id\": \"{id}\", \"Arn\": \"arn:aws:iam::123456789012:x\"}}\n")
                })
                .collect(),
        ),
        ("lone-base64.txt", format!("integrity: {}\n", fakes.secret())),
        (
            "sha.env",
            format!(
                "AWS_SECRET_ACCESS_KEY_COMMIT={}\naws_secret_access_key = {}\n",
                fakes.hex(40),
                fakes.hex(40)
            ),
        ),
        ("embedded.txt", format!("id=Q{real_key}\nid={real_key}9\nblob=abc{real_key}def123\n")),
    ];
    for (file, content) in &cases {
        dir.create(file, content);
    }
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["--show-secrets", "."]);
    assert!(scan.findings.is_empty(), "look-alikes reported: {:#?}", scan.findings);
    scan.out.assert_code(0);
    assert_eq!(scan.stat("blobs_scanned"), cases.len() as u64);
}

/// Scans one tree of `(file, template)` sources, `{K}` and `{S}` replaced by a fresh pair each,
/// and asserts every file holds exactly its own pair at the exact place; all failures at once.
fn assert_pairs_in_each_file(seed: u64, sources: &[(&str, &str)]) {
    let dir = TestDir::new();
    let mut fakes = Fakes::new(seed);
    let mut expected = Vec::new();
    for (file, template) in sources {
        let (key, secret) = (fakes.key_id("AKIA", ACCOUNT), fakes.secret());
        let content = template.replace("{K}", &key).replace("{S}", &secret);
        dir.create(file, &content);
        expected.push((file, content, key, secret));
    }
    let scan = TestCommand::new().current_dir(dir.path()).scan_json(["--show-secrets", "."]);
    scan.out.assert_code(1);
    let mut failures = Vec::new();
    for (file, content, key, secret) in &expected {
        let at = scan.at(file);
        match at.as_slice() {
            [found] => {
                let want = pair_expectation(
                    file,
                    content.as_bytes(),
                    key,
                    secret,
                    secret,
                    ACCOUNT,
                    &found.fingerprint,
                );
                if **found != want {
                    failures.push(format!("{file}: got {found:#?}\nwant {want:#?}"));
                }
            }
            other => failures.push(format!("{file}: want one finding, got {other:#?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(scan.findings.len(), sources.len(), "one finding per file: {:#?}", scan.findings);
}

#[test]
fn aws_pairs_in_configs_command_lines_and_exports() {
    assert_pairs_in_each_file(
        21,
        &[
            ("secret-first.txt", "secret={S} key={K}\n"),
            (
                "application.properties",
                "cloud.aws.region.static=us-east-1\ncloud.aws.credentials.access-key={K}\n\
                 cloud.aws.credentials.secret-key={S}\n",
            ),
            ("s3cmd.sh", "s3cmd --access_key={K} --secret_key={S} ls s3://acme\n"),
            (
                "docker.sh",
                "docker run -e AWS_ACCESS_KEY_ID={K} -e AWS_SECRET_ACCESS_KEY={S} amazon/aws-cli s3 ls\n",
            ),
            ("app.log", "{\"level\":\"debug\",\"msg\":\"creds\\nkey={K}\\nsecret={S}\\n\"}\n"),
            ("unnamed.env", "AKIA_KEY={K}\nSECRET={S}\n"),
            (
                "credentials.csv",
                "User name,Password,Access key ID,Secret access key,Console login link\r\n\
                 deploy,,{K},{S},https://123456789012.signin.aws.amazon.com/console\r\n",
            ),
            ("deploy_accessKeys.csv", "Access key ID,Secret access key\n{K},{S}\n"),
            ("prod.tfvars", "aws_access_key = \"{K}\"\naws_secret_key = \"{S}\"\n"),
            ("keys.md", "| id | secret |\n|---|---|\n| {K} | {S} |\n"),
            (
                "appsettings.json",
                "{\n  \"AWS\": {\n    \"Profile\": \"deploy\",\n    \"AccessKey\": \"{K}\",\n    \
                 \"SecretKey\": \"{S}\"\n  }\n}\n",
            ),
            (
                "assume-role.xml",
                "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>{K}</AccessKeyId>\
                 <SecretAccessKey>{S}</SecretAccessKey></Credentials></AssumeRoleResult></AssumeRoleResponse>\n",
            ),
            ("folded.yaml", "AWS_ACCESS_KEY_ID: !!str {K}\nAWS_SECRET_ACCESS_KEY: >-\n  {S}\n"),
            ("template.js", "const k = `{K}`, s = `{S}`;\n"),
            ("map.py", "KEYS = {\"{K}\": \"{S}\"}\n"),
        ],
    );
}

scantest!(aws_key_id_alone_does_not_take_the_next_profiles_named_secret, |dir, cmd| {
    let mut fakes = Fakes::new(22);
    let (k1, k2, s2) = (fakes.key_id("AKIA", ACCOUNT), fakes.key_id("AKIA", 77), fakes.secret());
    // Profile `a` keeps its secret elsewhere; profile `b` has both.
    let content = format!(
        "[a]\naws_access_key_id = {k1}\n\n[b]\naws_access_key_id = {k2}\naws_secret_access_key = {s2}\n"
    );
    let scan = scan_file(&dir, &mut cmd, "credentials", content.as_bytes());
    scan.out.assert_code(1);
    assert_eq!(scan.findings.len(), 2, "{}", scan.out);
    let b = scan.findings.iter().find(|f| f.secret == k2).expect("k2 reported");
    assert_eq!(
        b,
        &pair_expectation("credentials", content.as_bytes(), &k2, &s2, &s2, 77, &b.fingerprint)
    );
    let a = scan.findings.iter().find(|f| f.secret == k1).expect("k1 reported");
    assert_eq!((a.line, a.column, a.severity.as_str()), (2, 21, "high"));
    assert_eq!((&a.secret_key, a.secret_key_line), (&None, None), "k1 has no secret here");
});

scantest!(aws_key_id_alone_does_not_take_the_next_calls_unnamed_secret, |dir, cmd| {
    let mut fakes = Fakes::new(23);
    let (k1, k2, s2) =
        (fakes.key_id("AKIA", ACCOUNT), fakes.key_id("AKIA", ACCOUNT), fakes.secret());
    let content = format!(
        "a := credentials.NewStaticCredentials(\"{k1}\", os.Getenv(\"SECRET\"), \"\")\n\
         b := credentials.NewStaticCredentials(\"{k2}\", \"{s2}\", \"\")\n"
    );
    let scan = scan_file(&dir, &mut cmd, "creds.go", content.as_bytes());
    scan.out.assert_code(1);
    assert_eq!(scan.findings.len(), 2, "{}", scan.out);
    let b = scan.findings.iter().find(|f| f.secret == k2).expect("k2 reported");
    assert_eq!(
        b,
        &pair_expectation("creds.go", content.as_bytes(), &k2, &s2, &s2, ACCOUNT, &b.fingerprint)
    );
    let a = scan.findings.iter().find(|f| f.secret == k1).expect("k1 reported");
    assert_eq!((a.line, a.column, &a.secret_key), (1, 40, &None));
});

scantest!(aws_two_session_profiles_each_take_their_own_token, |dir, cmd| {
    let mut fakes = Fakes::new(24);
    let (k1, s1, t1) = (fakes.key_id("ASIA", ACCOUNT), fakes.secret(), fakes.session_token());
    let (k2, s2, t2) = (fakes.key_id("ASIA", 5), fakes.secret(), fakes.session_token());
    // The second profile writes its token before its key id.
    let content = format!(
        "[a]\naws_access_key_id = {k1}\naws_secret_access_key = {s1}\naws_session_token = {t1}\n\n\
         [b]\naws_session_token = {t2}\naws_access_key_id = {k2}\naws_secret_access_key = {s2}\n"
    );
    let scan = scan_file(&dir, &mut cmd, "credentials", content.as_bytes());
    scan.out.assert_code(1);
    assert_eq!(scan.findings.len(), 2, "{}", scan.out);
    for (key, secret, token, account) in [(&k1, &s1, &t1, ACCOUNT), (&k2, &s2, &t2, 5)] {
        let found = scan.findings.iter().find(|f| &f.secret == key).expect("key reported");
        let mut want = pair_expectation(
            "credentials",
            content.as_bytes(),
            key,
            secret,
            secret,
            account,
            &found.fingerprint,
        );
        want.session_token = Some(token.clone());
        assert_eq!(found, &want);
    }
});

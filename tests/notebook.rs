//! Jupyter notebooks: secrets in cell sources (a list of strings), stream output, an error
//! traceback coloured with ANSI escapes and an `execute_result`'s `text/plain`, each reported
//! at its cell (0-based), part, line and column in the cell's text, with the SARIF region on
//! the notebook file's own line; a malformed notebook scanned as plain text; and the same
//! notebook from git history.

use serde_json::{Value, json};

use crate::util::{ACCOUNT, Fakes, Scan, TestCommand, TestDir, git, position};

const KEY_RULE: &str = "aws.access-key-id";

/// A notebook (nbformat 4.5) holding `cells`, written as `json.dumps(indent=1)` would.
fn notebook(cells: Value) -> String {
    let nb = json!({
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    });
    serde_json::to_string_pretty(&nb).expect("json") + "\n"
}

/// A key pair: (key id, secret access key).
fn pair(seed: u64) -> (String, String) {
    let mut fakes = Fakes::new(seed);
    (fakes.key_id("AKIA", ACCOUNT), fakes.secret())
}

/// The one location of the one finding.
fn only_location(scan: &Scan) -> &Value {
    assert_eq!(scan.finding_count(), 1, "{}", scan.out);
    let locations = scan.json["findings"][0]["locations"].as_array().expect("locations");
    assert_eq!(locations.len(), 1, "one location (the cell, not also the raw bytes): {}", scan.out);
    &locations[0]
}

/// Asserts a location's cell facts: cell index, part, output index, field, line and column in
/// the cell text, and line and column in the notebook file.
fn assert_cell(
    location: &Value,
    (cell, part, output, field): (u64, &str, Option<u64>, &str),
    in_cell: (usize, usize),
    in_file: (usize, usize),
) {
    assert_eq!(location["relative_path"], "analysis.ipynb", "{location}");
    assert_eq!(location["cell"], cell, "{location}");
    assert_eq!(location["cell_part"], part, "{location}");
    assert_eq!(location["output"].as_u64(), output, "{location}");
    assert_eq!(location["cell_field"], field, "{location}");
    assert_eq!(
        (location["line"].as_u64(), location["column"].as_u64()),
        pos(in_cell),
        "{location}"
    );
    assert_eq!(
        (location["file_line"].as_u64(), location["file_column"].as_u64()),
        pos(in_file),
        "{location}"
    );
}

fn pos((line, column): (usize, usize)) -> (Option<u64>, Option<u64>) {
    (Some(line as u64), Some(column as u64))
}

/// Runs `scan --format sarif` on the tree and returns the one result.
fn sarif_result(dir: &TestDir) -> Value {
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args(["scan", ".", "--no-progress", "--format", "sarif"]);
    let (out, sarif) = cmd.run_json();
    out.assert_code(1);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{out}");
    results[0].clone()
}

/// Asserts a SARIF result points at the notebook file's line and column and names the cell.
fn assert_sarif(result: &Value, in_file: (usize, usize), cell: u64, part: &str, line: usize) {
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "analysis.ipynb", "{result}");
    let region = &physical["region"];
    assert_eq!((region["startLine"].as_u64(), region["startColumn"].as_u64()), pos(in_file));
    assert_eq!(result["properties"]["cell"], cell, "{result}");
    assert_eq!(result["properties"]["cellPart"], part, "{result}");
    assert_eq!(result["properties"]["lineInCell"], line as u64, "{result}");
}

/// Runs the text report and returns standard output.
fn text_report(dir: &TestDir) -> String {
    let mut cmd = TestCommand::new();
    cmd.current_dir(dir.path()).args(["scan", ".", "--no-progress", "--color", "never"]);
    let out = cmd.run();
    out.assert_code(1);
    out.stdout
}

/// A code cell whose source is a list of strings holding a key pair.
fn code_cell_notebook(key: &str, secret: &str) -> (String, String) {
    let source = [
        "import boto3\n".to_string(),
        "session = boto3.Session(\n".to_string(),
        format!("    aws_access_key_id='{key}',\n"),
        format!("    aws_secret_access_key='{secret}')\n"),
        "s3 = session.client('s3')".to_string(),
    ];
    let nb = notebook(json!([
        {"cell_type": "markdown", "metadata": {}, "source": ["# Churn\n", "Events from S3."]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": source},
    ]));
    (nb, source.concat())
}

scantest!(key_pair_in_a_code_cell_source_list, |dir, cmd| {
    let (key, secret) = pair(701);
    let (nb, cell_text) = code_cell_notebook(&key, &secret);
    dir.create("analysis.ipynb", &nb);
    let scan = cmd.scan_json(["--show-secrets", "."]);
    scan.out.assert_code(1);
    let location = only_location(&scan);
    assert_eq!(scan.json["findings"][0]["rule"], KEY_RULE);
    assert_eq!(scan.json["findings"][0]["secret_key"], secret.as_str());
    assert_cell(location, (1, "source", None, "source"), (3, 24), position(&nb, &key));
    assert_eq!(position(&cell_text, &key), (3, 24));
    let (secret_line, secret_column) = position(&cell_text, &secret);
    assert_eq!(location["secret_key_line"], secret_line as u64);
    assert_eq!(location["secret_key_column"], secret_column as u64);
    assert_eq!(scan.stat("blobs_scanned"), 1);

    let result = sarif_result(&dir);
    assert_sarif(&result, position(&nb, &key), 1, "source", 3);
    assert_eq!(result["properties"]["columnInCell"], 24);
    assert!(text_report(&dir).contains("analysis.ipynb cell 1 source, line 3:24"));
});

scantest!(key_printed_in_a_stream_output, |dir, cmd| {
    let (key, secret) = pair(702);
    let text = [
        "environ({'HOME': '/home/jovyan',\n".to_string(),
        " 'PATH': '/opt/conda/bin:/usr/bin',\n".to_string(),
        format!(" 'AWS_ACCESS_KEY_ID': '{key}',\n"),
        format!(" 'AWS_SECRET_ACCESS_KEY': '{secret}'}})\n"),
    ];
    let nb = notebook(json!([
        {"cell_type": "code", "execution_count": 2, "metadata": {},
         "outputs": [{"name": "stdout", "output_type": "stream", "text": text}],
         "source": ["import os\n", "print(os.environ)"]},
    ]));
    dir.create("analysis.ipynb", &nb);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let in_cell = position(text.concat(), &key);
    assert_eq!(in_cell, (3, 24));
    assert_cell(only_location(&scan), (0, "output", Some(0), "text"), in_cell, position(&nb, &key));
    assert!(scan.json["findings"][0]["secret_key"].is_string(), "paired: {}", scan.out);

    assert_sarif(&sarif_result(&dir), position(&nb, &key), 0, "output", 3);
    let text = text_report(&dir);
    assert!(text.contains("analysis.ipynb cell 0 output 0, line 3:24"), "{text}");
});

scantest!(key_in_an_ansi_coloured_traceback, |dir, cmd| {
    let (key, _) = pair(703);
    // As IPython prints it: the key right after a colour escape, so the raw bytes read
    // `…124mAKIA…` and only the cleaned traceback shows it.
    let traceback = [
        "\u{1b}[0;31m-------------------------------------------------------------\u{1b}[0m"
            .to_string(),
        "\u{1b}[0;31mClientError\u{1b}[0m                  Traceback (most recent call last)"
            .to_string(),
        format!(
            "Cell \u{1b}[0;32mIn[4], line 2\u{1b}[0m\n\u{1b}[1;32m----> 2\u{1b}[0m client \u{1b}[38;5;241m=\u{1b}[39m connect(\u{1b}[38;5;124m{key}\u{1b}[39m)"
        ),
        "\u{1b}[0;31mClientError\u{1b}[0m: An error occurred (InvalidClientTokenId)".to_string(),
    ];
    let cleaned = format!(
        "---\nClientError  Traceback\nCell In[4], line 2\n----> 2 client = connect({key})\nClientError: …"
    );
    let nb = notebook(json!([
        {"cell_type": "code", "execution_count": 4, "metadata": {},
         "outputs": [{"ename": "ClientError", "evalue": "An error occurred", "output_type": "error",
                      "traceback": traceback}],
         "source": ["client = connect(KEY)"]},
    ]));
    dir.create("analysis.ipynb", &nb);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let in_cell = position(&cleaned, &key);
    assert_eq!(in_cell, (4, 26));
    assert_cell(
        only_location(&scan),
        (0, "output", Some(0), "traceback"),
        in_cell,
        position(&nb, &key),
    );
    assert_sarif(&sarif_result(&dir), position(&nb, &key), 0, "output", 4);
});

scantest!(key_in_an_execute_result_text_plain, |dir, cmd| {
    let (key, secret) = pair(704);
    let plain = [
        "{'aws_access_key_id': '".to_string() + &key + "',\n",
        format!(" 'aws_secret_access_key': '{secret}',\n"),
        " 'region_name': 'eu-west-1'}".to_string(),
    ];
    let nb = notebook(json!([
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": "x = 1"},
        {"cell_type": "code", "execution_count": 3, "metadata": {},
         "outputs": [
            {"name": "stdout", "output_type": "stream", "text": "credentials loaded\n"},
            {"data": {"text/plain": plain}, "execution_count": 3, "metadata": {},
             "output_type": "execute_result"}],
         "source": "session.get_credentials().__dict__"},
    ]));
    dir.create("analysis.ipynb", &nb);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let in_cell = position(plain.concat(), &key);
    assert_eq!(in_cell, (1, 24));
    let location = only_location(&scan);
    assert_cell(location, (1, "output", Some(1), "text/plain"), in_cell, position(&nb, &key));
    assert_eq!(scan.json["findings"][0]["severity"], "critical", "paired: {}", scan.out);
    assert_sarif(&sarif_result(&dir), position(&nb, &key), 1, "output", 1);
});

scantest!(malformed_notebook_is_scanned_as_plain_text, |dir, cmd| {
    let (key, _) = pair(705);
    let (nb, _) = code_cell_notebook(&key, "no secret here");
    // A trailing comma: not JSON any more.
    let broken = nb.replacen("\"nbformat\": 4,", "\"nbformat\": 4,,", 1);
    assert_ne!(broken, nb);
    dir.create("analysis.ipynb", &broken);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let location = only_location(&scan);
    assert_eq!(location["relative_path"], "analysis.ipynb");
    let (line, column) = position(&broken, &key);
    assert_eq!((location["line"].as_u64(), location["column"].as_u64()), pos((line, column)));
    assert!(location.get("cell").is_none(), "{location}");
    assert_eq!(scan.stat("errors"), 0);
    assert!(scan.out.stderr.contains("analysis.ipynb: not an nbformat 4 notebook"), "{}", scan.out);
});

scantest!(notebook_committed_to_git_is_reported_at_its_cell, |dir, cmd| {
    let (key, secret) = pair(706);
    let (nb, _) = code_cell_notebook(&key, &secret);
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join("notebooks")).expect("mkdir");
    std::fs::write(repo.join("notebooks/analysis.ipynb"), &nb).expect("write");
    git(&repo, &["-c", "init.defaultBranch=main", "init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "notebook"]);
    cmd.args(["git", "repo", "--format", "json", "--no-progress"]);
    let (out, json) = cmd.run_json();
    out.assert_code(1);
    let scan = Scan::new(out, json);
    let location = only_location(&scan);
    assert_eq!(location["relative_path"], "notebooks/analysis.ipynb");
    assert_eq!(location["source"], "git");
    assert!(location["commit"].is_string(), "{location}");
    assert_eq!(
        (location["cell"].as_u64(), location["cell_part"].as_str()),
        (Some(1), Some("source"))
    );
    assert_eq!((location["line"].as_u64(), location["column"].as_u64()), pos((3, 24)));
    let in_file = position(&nb, &key);
    assert_eq!((location["file_line"].as_u64(), location["file_column"].as_u64()), pos(in_file));
});

scantest!(base64_in_a_cell_output_is_decoded_at_the_cell, |dir, cmd| {
    use base64::Engine as _;
    let (key, _) = pair(707);
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("id={key}\n"));
    let text = ["creds:\n".to_string(), format!("value: {encoded}\n")];
    let nb = notebook(json!([
        {"cell_type": "code", "execution_count": 1, "metadata": {},
         "outputs": [{"name": "stdout", "output_type": "stream", "text": text}],
         "source": ["import os\n", "print(os.environ['CREDS_B64'])"]},
    ]));
    dir.create("analysis.ipynb", &nb);
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    // "id=" is 3 bytes: the key id's bits start at the 2nd quad's first character.
    let (line, column) = position(text.concat(), &encoded);
    let (file_line, file_column) = position(&nb, &encoded);
    let location = only_location(&scan);
    assert_eq!(scan.json["findings"][0]["rule"], KEY_RULE, "{}", scan.out);
    assert_eq!(location["encoding"], "base64", "{location}");
    assert_cell(
        location,
        (0, "output", Some(0), "text"),
        (line, column + 4),
        (file_line, file_column + 4),
    );
    assert_sarif(&sarif_result(&dir), (file_line, file_column + 4), 0, "output", line);
    let text = text_report(&dir);
    assert!(text.contains("analysis.ipynb cell 0 output 0, line 2:12 (base64)"), "{text}");
});

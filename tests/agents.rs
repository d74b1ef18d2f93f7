//! Where coding agents and their tools leave credentials: agent transcripts (JSONL with escaped
//! `content` strings), MCP server configs (`env` blocks), `.env` variants, Terraform state,
//! `~/.aws` INI files and shell histories. Each test writes the file as the tool writes it and
//! asserts the exact findings: rule, path, line, column (and the paired secret access key).
//!
//! Plus the generic rule (`generic.secret-assignment`) on the same files: a key a provider rule
//! does not know, assigned to a secret-named key, is found; a provider's key is reported by the
//! provider's rule only.

use std::collections::BTreeSet;

use crate::util::{ACCOUNT, Fakes, Scan, TestCommand, TestDir, position};

const KEY: &str = "aws.access-key-id";
const SECRET: &str = "aws.secret-access-key";
const GITHUB: &str = "github.pat-classic";
const OPENAI: &str = "openai.project-key";
const GENERIC: &str = "generic.secret-assignment";

/// One expected location: rule, path, line, column, and the paired secret's line and column.
type Site = (String, String, usize, usize, Option<(usize, usize)>);

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` random alphanumerics.
fn alnum(f: &mut Fakes, n: usize) -> String {
    (0..n).map(|_| ALNUM[(f.next_u64() % 62) as usize] as char).collect()
}

/// A random alphanumeric value for the generic rule: digits and both cases, nothing that reads
/// as a test value or placeholder.
fn generic_value(f: &mut Fakes) -> String {
    loop {
        let v = alnum(f, 24);
        let lower = v.to_ascii_lowercase();
        let looks_fake = ["test", "mock", "fake", "xxxxx", "example", "dummy", "sample"]
            .iter()
            .any(|p| lower.contains(p));
        if !looks_fake
            && v.bytes().any(|b| b.is_ascii_digit())
            && v.bytes().any(|b| b.is_ascii_uppercase())
            && v.bytes().any(|b| b.is_ascii_lowercase())
        {
            return v;
        }
    }
}

/// A classic GitHub PAT with a valid CRC32 checksum (prefix split so this file holds none).
fn github_pat(f: &mut Fakes) -> String {
    let random = alnum(f, 30);
    let mut crc = crc32fast::hash(random.as_bytes()) as u64;
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    format!("{}{random}{}", concat!("gh", "p_"), String::from_utf8_lossy(&check))
}

/// An OpenAI project key: `sk-proj-`, random, the `T3BlbkFJ` marker, random.
fn openai_key(f: &mut Fakes) -> String {
    format!(
        "{}{}{}{}",
        concat!("sk-", "proj-"),
        alnum(f, 74),
        concat!("T3Blbk", "FJ"),
        alnum(f, 74)
    )
}

/// The site of `needle` in `content` (which must hold it once) at `path` for `rule`.
fn site(rule: &str, path: &str, content: &str, needle: &str) -> Site {
    let (line, column) = position(content, needle);
    (rule.to_string(), path.to_string(), line, column, None)
}

/// The site of a key id paired with `secret`.
fn pair(path: &str, content: &str, key: &str, secret: &str) -> Site {
    let mut out = site(KEY, path, content, key);
    out.4 = Some(position(content, secret));
    out
}

/// Every location the scan reported.
fn sites(scan: &Scan) -> BTreeSet<Site> {
    scan.findings
        .iter()
        .map(|f| {
            let paired = f.secret_key_line.zip(f.secret_key_column);
            (f.rule.clone(), f.path.clone(), f.line, f.column, paired)
        })
        .collect()
}

/// Writes `files`, scans the tree and asserts exactly `want` was found.
fn assert_finds(dir: &TestDir, cmd: &mut TestCommand, files: &[(&str, &str)], want: Vec<Site>) {
    for (path, content) in files {
        dir.create(path, content);
    }
    // A developer's global gitignore (often listing `.env`) must not hide the files.
    cmd.env("HOME", dir.path()).env("XDG_CONFIG_HOME", dir.path());
    let scan = cmd.scan_json(["."]);
    scan.out.assert_code(1);
    let want: BTreeSet<Site> = want.into_iter().collect();
    assert_eq!(sites(&scan), want, "\n{}", scan.out);
}

scantest!(agent_transcript_jsonl_escaped_content, |dir, cmd| {
    let mut f = Fakes::new(7001);
    let (key, secret) = (f.key_id("AKIA", ACCOUNT), f.secret());
    let (pat, weather) = (github_pat(&mut f), generic_value(&mut f));
    // Claude Code: one JSON object per line; the pasted `.env` is one escaped string.
    let claude = [
        r#"{"type":"summary","summary":"Fix the S3 upload retry"}"#.to_string(),
        format!(
            r#"{{"type":"user","message":{{"role":"user","content":"these are my creds:\nAWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\nregion us-east-1"}}}}"#
        ),
        format!(
            r#"{{"type":"assistant","message":{{"role":"assistant","content":[{{"type":"tool_use","name":"Bash","input":{{"command":"GITHUB_TOKEN={pat} gh api repos/acme/app"}}}}]}}}}"#
        ),
        String::new(),
    ]
    .join("\n");
    // OpenAI chat format: a user message holding a key no provider rule knows.
    let openai = format!(
        r#"{{"messages":[{{"role":"system","content":"You are a coding assistant."}},{{"role":"user","content":"why does this fail?\n```\nWEATHER_API_KEY={weather}\n```"}}]}}
"#
    );
    let claude_path = ".claude/projects/-srv-app/5d2c7e0a.jsonl";
    let want = vec![
        pair(claude_path, &claude, &key, &secret),
        site(GITHUB, claude_path, &claude, &pat),
        site(GENERIC, "chats/2024-11-02.jsonl", &openai, &weather),
    ];
    assert_finds(
        &dir,
        &mut cmd,
        &[(claude_path, &claude), ("chats/2024-11-02.jsonl", &openai)],
        want,
    );
});

scantest!(mcp_server_configs_env_blocks, |dir, cmd| {
    let mut f = Fakes::new(7002);
    let (key, secret) = (f.key_id("AKIA", ACCOUNT), f.secret());
    let (pat, openai, brave) = (github_pat(&mut f), openai_key(&mut f), generic_value(&mut f));
    let servers = format!(
        r#"{{
    "aws": {{
      "command": "uvx",
      "args": ["awslabs.aws-api-mcp-server@latest"],
      "env": {{
        "AWS_ACCESS_KEY_ID": "{key}",
        "AWS_SECRET_ACCESS_KEY": "{secret}"
      }}
    }},
    "github": {{
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {{ "GITHUB_PERSONAL_ACCESS_TOKEN": "{pat}" }}
    }},
    "openai": {{ "command": "npx", "args": ["-y", "openai-mcp"], "env": {{ "OPENAI_API_KEY": "{openai}" }} }},
    "brave": {{ "command": "npx", "env": {{ "BRAVE_API_KEY": "{brave}" }} }}
  }}"#
    );
    let mcp = format!("{{\n  \"mcpServers\": {servers}\n}}\n");
    let vscode = format!("{{\n  \"inputs\": [],\n  \"servers\": {servers}\n}}\n");
    let files = [
        ("mcp.json", mcp.as_str()),
        (".cursor/mcp.json", mcp.as_str()),
        ("Library/Application Support/Claude/claude_desktop_config.json", mcp.as_str()),
        (".vscode/mcp.json", vscode.as_str()),
    ];
    let mut want = Vec::new();
    for (path, content) in files {
        want.push(pair(path, content, &key, &secret));
        want.push(site(GITHUB, path, content, &pat));
        want.push(site(OPENAI, path, content, &openai));
        want.push(site(GENERIC, path, content, &brave));
    }
    assert_finds(&dir, &mut cmd, &files, want);
});

scantest!(env_file_variants, |dir, cmd| {
    let mut f = Fakes::new(7003);
    let (key, secret) = (f.key_id("AKIA", ACCOUNT), f.secret());
    let (lone, openai, hook) = (f.secret(), openai_key(&mut f), generic_value(&mut f));
    let env =
        format!("NODE_ENV=production\nAWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n");
    let local =
        format!("# local only\nexport OPENAI_API_KEY=\"{openai}\"\nWEBHOOK_SECRET={hook}\n");
    let production = format!("AWS_SECRET_ACCESS_KEY='{lone}'\nLOG_LEVEL=warn\n");
    let want = vec![
        pair(".env", &env, &key, &secret),
        site(OPENAI, ".env.local", &local, &openai),
        site(GENERIC, ".env.local", &local, &hook),
        site(SECRET, ".env.production", &production, &lone),
    ];
    let files = [(".env", env.as_str()), (".env.local", &local), (".env.production", &production)];
    assert_finds(&dir, &mut cmd, &files, want);
});

scantest!(terraform_state_resources_and_outputs, |dir, cmd| {
    let mut f = Fakes::new(7004);
    let (key, secret, pat) = (f.key_id("AKIA", ACCOUNT), f.secret(), github_pat(&mut f));
    let state = format!(
        r#"{{
  "version": 4,
  "terraform_version": "1.9.5",
  "outputs": {{
    "ci_github_token": {{ "value": "{pat}", "type": "string", "sensitive": true }}
  }},
  "resources": [
    {{
      "mode": "managed",
      "type": "aws_iam_access_key",
      "name": "ci",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {{
          "attributes": {{
            "id": "{key}",
            "secret": "{secret}",
            "status": "Active",
            "user": "ci"
          }}
        }}
      ]
    }}
  ]
}}
"#
    );
    let path = "infra/prod/terraform.tfstate";
    let want = vec![pair(path, &state, &key, &secret), site(GITHUB, path, &state, &pat)];
    assert_finds(&dir, &mut cmd, &[(path, &state)], want);
});

scantest!(aws_credentials_and_config_ini_profiles, |dir, cmd| {
    let mut f = Fakes::new(7005);
    let (k1, s1) = (f.key_id("AKIA", ACCOUNT), f.secret());
    let (k2, s2, token) = (f.key_id("ASIA", ACCOUNT), f.secret(), f.session_token());
    let (k3, s3) = (f.key_id("AKIA", ACCOUNT), f.secret());
    let credentials = format!(
        "[default]\naws_access_key_id = {k1}\naws_secret_access_key = {s1}\n\n\
         [profile agent-sandbox]\naws_access_key_id = {k2}\naws_secret_access_key = {s2}\n\
         aws_session_token = {token}\n"
    );
    let config = format!(
        "[default]\nregion = eu-west-1\noutput = json\n\n[profile ci]\nregion = eu-west-1\n\
         aws_access_key_id={k3}\naws_secret_access_key={s3}\n"
    );
    let want = vec![
        pair(".aws/credentials", &credentials, &k1, &s1),
        pair(".aws/credentials", &credentials, &k2, &s2),
        pair(".aws/config", &config, &k3, &s3),
    ];
    let files = [(".aws/credentials", credentials.as_str()), (".aws/config", &config)];
    for (path, content) in files {
        dir.create(path, content);
    }
    cmd.env("HOME", dir.path()).env("XDG_CONFIG_HOME", dir.path());
    let scan = cmd.scan_json(["--show-secrets", "."]);
    scan.out.assert_code(1);
    assert_eq!(sites(&scan), want.into_iter().collect(), "\n{}", scan.out);
    let temporary = scan.findings.iter().find(|found| found.secret == k2).expect("ASIA key");
    assert_eq!(temporary.session_token.as_deref(), Some(token.as_str()));
});

scantest!(shell_histories_bash_and_zsh_extended, |dir, cmd| {
    let mut f = Fakes::new(7006);
    let (key, secret, pat) = (f.key_id("AKIA", ACCOUNT), f.secret(), github_pat(&mut f));
    let lone = f.secret();
    let bash = format!("ls -la\nexport GITHUB_TOKEN={pat}\ngh pr list\n");
    let zsh = format!(
        ": 1700000000:0;cd ~/src/app\n: 1700000012:0;export AWS_ACCESS_KEY_ID={key}\n\
         : 1700000013:0;export AWS_SECRET_ACCESS_KEY={secret}\n: 1700000020:3;aws s3 ls\n"
    );
    // A history holding only the secret: found by its name.
    let other = format!(": 1700000100:0;export AWS_SECRET_ACCESS_KEY={lone}\n");
    let want = vec![
        site(GITHUB, ".bash_history", &bash, &pat),
        pair(".zsh_history", &zsh, &key, &secret),
        site(SECRET, "old/.zsh_history", &other, &lone),
    ];
    let files =
        [(".bash_history", bash.as_str()), (".zsh_history", &zsh), ("old/.zsh_history", &other)];
    assert_finds(&dir, &mut cmd, &files, want);
});

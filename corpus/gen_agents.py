"""Corpus files for agent transcripts, tool configs and the generic secret rule.

Called by generate.py (`docs(generate_module)`); uses its `Doc`, `Fakes` and alphabets, so the
same rules hold: fixed seeds, generated fakes, prefixes split so this file holds no token.

- positive/agents/: agent transcripts as JSONL (Claude Code and OpenAI shapes, keys inside
  escaped `content` strings), MCP server configs (`mcp.json`, `.cursor/mcp.json`,
  `claude_desktop_config.json`, `.vscode/mcp.json`) with keys in `env` blocks, `.env` variants,
  a Terraform state with outputs, `~/.aws/credentials` with a `[profile x]` session, shell
  histories (bash, zsh extended history).
- positive/generic/: ten assignments of generic secrets in ten languages and formats, plus
  labelled known misses (`known_miss`: names the rule's prefilter keywords cannot select yet;
  tests/corpus.rs checks they stay unfound and counts them against the rule's recall).
- negative/generic/: what a generic rule must leave alone: placeholders, environment and
  secret-manager look-ups, lock-file hashes, UUIDs, git SHAs, test fixtures, i18n strings,
  identifiers and calls, paths, URLs, booleans and numbers.
"""

import json

GENERIC = "generic.secret-assignment"


def docs(g):
    """Every document of this part of the corpus; `g` is the generate module."""

    class Doc(g.Doc):
        """A corpus file that may also list known misses (expected, not found today)."""

        def __init__(self, path):
            super().__init__(path)
            self.misses = []

        def miss(self, rule, needle, reason):
            self.misses.append((rule, needle, reason))
            return self

        def labels(self):
            out = super().labels()
            for rule, needle, reason in self.misses:
                label = {"path": self.path, "rule": rule}
                label.update(g.position(self.text(), needle, 0, self.path))
                label["known_miss"] = reason
                out.append(label)
            return out

    def openai_key(f):
        return "sk-" + "proj-" + f.alnum(74, g.B64URL) + "T3Blbk" + "FJ" + f.alnum(74, g.B64URL)

    return agents(g, Doc, openai_key) + generic_positives(g, Doc) + generic_negatives(g, Doc)


def agents(g, Doc, openai_key):
    out = []

    # A Claude Code session transcript: one JSON object per line, message content escaped.
    f = g.Fakes(1001)
    k, s, gh = f.key_id(), f.secret(), f.github()
    lines = [
        {"type": "summary", "summary": "Fix the S3 upload retry", "leafUuid": f.uuid()},
        {
            "type": "user",
            "uuid": f.uuid(),
            "sessionId": "5d2c7e0a-1b9f-4c61-9a57-3e1f0b8d2c44",
            "message": {
                "role": "user",
                "content": "the upload fails with 403, these are the creds I use:\n"
                f"AWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\nregion us-east-1",
            },
        },
        {
            "type": "assistant",
            "uuid": f.uuid(),
            "message": {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "I'll check the bucket policy first."},
                    {
                        "type": "tool_use",
                        "id": "toolu_01" + f.alnum(22),
                        "name": "Bash",
                        "input": {
                            "command": f"GITHUB_TOKEN={gh} gh api repos/acme/uploader",
                            "description": "Read the repository settings",
                        },
                    },
                ],
            },
        },
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    d = Doc("positive/agents/claude/session-5d2c7e0a.jsonl").add(text)
    d.expect("aws.access-key-id", k, secret_key=s).expect("github.pat-classic", gh)
    out.append(d)

    # An OpenAI-style chat log: a user pastes an .env into the prompt.
    f = g.Fakes(1002)
    oa = openai_key(f)
    api = f.alnum(32)
    record = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful coding assistant."},
            {
                "role": "user",
                "content": "why does this not load?\n```\nOPENAI_API_KEY=" + oa
                + "\nWEATHER_API_KEY=" + api + "\n```",
            },
        ],
    }
    d = Doc("positive/agents/openai/chat-2024-11-02.jsonl").add(json.dumps(record) + "\n")
    d.expect("openai.project-key", oa).expect(GENERIC, api)
    out.append(d)

    # MCP server configs: keys in `env` blocks, in each client's file shape.
    f = g.Fakes(1003)
    k, s, gh, oa, brave = f.key_id(), f.secret(), f.github(), openai_key(f), f.alnum(31)
    servers = {
        "aws": {
            "command": "uvx",
            "args": ["awslabs.aws-api-mcp-server@latest"],
            "env": {"AWS_ACCESS_KEY_ID": k, "AWS_SECRET_ACCESS_KEY": s, "AWS_REGION": "us-east-1"},
        },
        "github": {
            "command": "docker",
            "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN",
                     "ghcr.io/github/github-mcp-server"],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": gh},
        },
        "openai": {"command": "npx", "args": ["-y", "openai-mcp"], "env": {"OPENAI_API_KEY": oa}},
        "brave-search": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-brave-search"],
            "env": {"BRAVE_API_KEY": brave},
        },
    }
    for path in (
        "positive/agents/project/mcp.json",
        "positive/agents/project/.cursor/mcp.json",
        "positive/agents/home/.config/Claude/claude_desktop_config.json",
    ):
        d = Doc(path).add(json.dumps({"mcpServers": servers}, indent=2) + "\n")
        d.expect("aws.access-key-id", k, secret_key=s).expect("github.pat-classic", gh)
        d.expect("openai.project-key", oa).expect(GENERIC, brave)
        out.append(d)
    vscode = {
        "inputs": [{"type": "promptString", "id": "gh-pat", "description": "GitHub PAT",
                    "password": True}],
        "servers": {name: dict(server, type="stdio") for name, server in servers.items()},
    }
    d = Doc("positive/agents/project/.vscode/mcp.json").add(json.dumps(vscode, indent=2) + "\n")
    d.expect("aws.access-key-id", k, secret_key=s).expect("github.pat-classic", gh)
    d.expect("openai.project-key", oa).expect(GENERIC, brave)
    out.append(d)

    # .env variants an agent writes next to the code.
    f = g.Fakes(1004)
    k, s, hook = f.key_id(), f.secret(), f.password(28)
    d = Doc("positive/agents/project/.env.development.local").add(
        f"""NODE_ENV=development
AWS_ACCESS_KEY_ID={k}
AWS_SECRET_ACCESS_KEY={s}
WEBHOOK_SECRET={hook}
"""
    )
    d.expect("aws.access-key-id", k, secret_key=s).expect(GENERIC, hook)
    out.append(d)
    s2, oa = f.secret(), openai_key(f)
    d = Doc("positive/agents/project/.env.production").add(
        f"""# production overrides
AWS_SECRET_ACCESS_KEY="{s2}"
OPENAI_API_KEY='{oa}'
"""
    )
    d.expect("aws.secret-access-key", s2).expect("openai.project-key", oa)
    out.append(d)

    # Terraform state: an access key resource and outputs in plain JSON.
    f = g.Fakes(1005)
    k, s, gh = f.key_id(), f.secret(), f.github()
    state = {
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": 12,
        "lineage": f.uuid(),
        "outputs": {
            "ci_github_token": {"value": gh, "type": "string", "sensitive": True},
        },
        "resources": [
            {
                "mode": "managed",
                "type": "aws_iam_access_key",
                "name": "ci",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [
                    {
                        "schema_version": 0,
                        "attributes": {"id": k, "secret": s, "status": "Active", "user": "ci"},
                        "sensitive_attributes": [],
                    }
                ],
            }
        ],
    }
    d = Doc("positive/agents/infra/prod/terraform.tfstate").add(json.dumps(state, indent=2) + "\n")
    d.expect("aws.access-key-id", k, secret_key=s).expect("github.pat-classic", gh)
    out.append(d)

    # ~/.aws/credentials with a temporary-credentials profile.
    f = g.Fakes(1006)
    k1, s1 = f.key_id(), f.secret()
    k2, s2, t2 = f.key_id(g.ASIA), f.secret(), f.session_token()
    d = Doc("positive/agents/home/.aws/credentials").add(
        f"""[default]
aws_access_key_id = {k1}
aws_secret_access_key = {s1}

[profile agent-sandbox]
aws_access_key_id = {k2}
aws_secret_access_key = {s2}
aws_session_token = {t2}
"""
    )
    d.expect("aws.access-key-id", k1, secret_key=s1).expect("aws.access-key-id", k2, secret_key=s2)
    out.append(d)

    # Shell histories: bash, and zsh's extended format (`: start:elapsed;command`).
    f = g.Fakes(1007)
    k, s, gh = f.key_id(), f.secret(), f.github()
    d = Doc("positive/agents/home/.bash_history").add(
        f"""ls -la
export GITHUB_TOKEN={gh}
gh pr list
"""
    )
    d.expect("github.pat-classic", gh)
    out.append(d)
    d = Doc("positive/agents/home/.zsh_history").add(
        f""": 1700000000:0;cd ~/src/uploader
: 1700000012:0;export AWS_ACCESS_KEY_ID={k}
: 1700000013:0;export AWS_SECRET_ACCESS_KEY={s}
: 1700000020:3;aws s3 ls
"""
    )
    d.expect("aws.access-key-id", k, secret_key=s)
    out.append(d)
    return out


def generic_positives(g, Doc):
    """Ten generic secrets in ten languages and formats, and two more secret names."""
    f = g.Fakes(1101)
    out = []

    def value(n=24):
        return f.password(n)

    v = value()
    out.append(Doc("positive/generic/python/billing_client.py").add(
        f'''from billing import BillingClient

client = BillingClient(api_key="{v}", timeout=10)
''').expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/web/src/auth.ts").add(
        f"""export const oauth = {{
  clientId: "web-frontend",
}};
const clientSecret = '{v}';
""").expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/go/oauth.go").add(
        f"""package auth

var cfg = oauth2.Config{{
	ClientID:     "cli",
	ClientSecret: "{v}",
	Scopes:       []string{{"repo"}},
}}
""").expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/java/PaymentsConfig.java").add(
        f"""package com.acme.payments;

public final class PaymentsConfig {{
    private static final String API_KEY = "{v}";
}}
""").expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/helm/values.yaml").add(
        f"""replicaCount: 2
notifier:
  endpoint: https://hooks.acme.test/notify
  auth_token: {v}
""").expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/compose/.env").add(
        f"""POSTGRES_USER=app
POSTGRES_PASSWORD={v}
POSTGRES_DB=app
""").expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/dotnet/appsettings.json").add(
        json.dumps({"Jwt": {"Issuer": "acme", "JwtSecret": v}, "Logging": {"LogLevel": "Info"}},
                   indent=2) + "\n").expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/scripts/deploy.sh").add(
        f"""#!/bin/sh
set -eu
curl -fsS -H "X-Auth-Token: {v}" https://deploy.acme.test/v1/releases
""").expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/terraform/main.tf").add(
        f"""provider "azuread" {{
  tenant_id     = "00000000-0000-0000-0000-000000000000"
  client_id     = "web"
  client_secret = "{v}"
}}
""").expect(GENERIC, v))
    v = value()
    out.append(Doc("positive/generic/dotnet/Settings.cs").add(
        f"""namespace Acme.Hooks;

public static class Settings
{{
    public const string WebhookSecret = "{v}";
}}
""").expect(GENERIC, v))

    # Names selected by the bare `apikey` and `passw` keywords.
    v1, v2 = value(), value()
    out.append(Doc("positive/generic/names/config.js").add(
        f"""module.exports = {{
  apiKey: "{v1}",
}};
""").expect(GENERIC, v1))
    out.append(Doc("positive/generic/names/.env").add(
        f"""DB_PASSWORD={v2}
""").expect(GENERIC, v2))
    return out


def generic_negatives(g, Doc):
    """Look-alikes a generic rule must not report."""
    f = g.Fakes(1201)
    out = []
    out.append(Doc("negative/generic/placeholders.env").add(
        """API_KEY=<your-api-key>
CLIENT_SECRET=changeme
SECRET_KEY=${SECRET_KEY}
API_TOKEN={{ api_token }}
AUTH_TOKEN=%s
WEBHOOK_SECRET=your_webhook_secret_here
SERVICE_TOKEN=XXXXXXXXXXXXXXXXXXXXXXXX
JWT_SECRET=REDACTED
"""))
    out.append(Doc("negative/generic/lookups.py").add(
        '''import os

API_KEY = os.environ["API_KEY"]
client_secret = os.getenv("CLIENT_SECRET")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
auth_token = settings.AUTH_TOKEN
api_key = get_api_key()
client = Client(api_key=api_key, client_secret=self.client_secret)
'''))
    out.append(Doc("negative/generic/lookups.ts").add(
        """const clientSecret = process.env.CLIENT_SECRET;
const apiSecret = config.apiSecret;
headers["X-Auth-Token"] = await vault.read("auth");
this.webhookSecret = webhookSecret;
"""))
    out.append(Doc("negative/generic/Lookups.java").add(
        """String apiKey = System.getenv("API_KEY");
String clientSecret = props.getProperty("client.secret");
"""))
    out.append(Doc("negative/generic/main.tf").add(
        """variable "client_secret" {
  type      = string
  sensitive = true
}

provider "azuread" {
  client_secret = var.client_secret
}

data "aws_secretsmanager_secret_version" "db" {
  secret_id = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-Ab12Cd"
}
"""))
    out.append(Doc("negative/generic/workflow.yml").add(
        """jobs:
  deploy:
    env:
      API_TOKEN: ${{ secrets.API_TOKEN }}
      CLIENT_SECRET: vault:secret/data/web#client_secret
      AUTH_TOKEN: $AUTH_TOKEN
"""))
    # Lock files: packages whose names hold secret words, hashes beside them.
    out.append(Doc("negative/generic/locks/package-lock.json").add(json.dumps({
        "name": "web",
        "lockfileVersion": 3,
        "packages": {
            "node_modules/@octokit/auth-token": {
                "version": "4.0.0",
                "resolved": "https://registry.npmjs.org/@octokit/auth-token/-/auth-token-4.0.0.tgz",
                "integrity": "sha512-" + g.base64.b64encode(f.r.randbytes(64)).decode(),
            },
            "node_modules/secret-handshake": {
                "version": "1.1.21",
                "resolved": "https://registry.npmjs.org/secret-handshake/-/secret-handshake-1.1.21.tgz",
                "integrity": "sha512-" + g.base64.b64encode(f.r.randbytes(64)).decode(),
            },
        },
    }, indent=2) + "\n"))
    out.append(Doc("negative/generic/locks/yarn.lock").add(
        f'''"@octokit/auth-token@^4.0.0":
  version "4.0.0"
  resolved "https://registry.yarnpkg.com/@octokit/auth-token/-/auth-token-4.0.0.tgz#{f.hex(40)}"
  integrity sha512-{g.base64.b64encode(f.r.randbytes(64)).decode()}
'''))
    out.append(Doc("negative/generic/locks/Cargo.lock").add(
        f'''[[package]]
name = "secret-service"
version = "3.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{f.hex(64)}"
'''))
    out.append(Doc("negative/generic/locks/poetry.lock").add(
        f'''[[package]]
name = "secretstorage"
version = "3.3.3"
files = [
    {{file = "SecretStorage-3.3.3.tar.gz", hash = "sha256:{f.hex(64)}"}},
]
'''))
    out.append(Doc("negative/generic/locks/go.sum").add(
        f"""github.com/hashicorp/vault/api/auth/approle v0.5.0 h1:{g.base64.b64encode(f.r.randbytes(32)).decode()}
github.com/hashicorp/vault/api/auth/approle v0.5.0/go.mod h1:{g.base64.b64encode(f.r.randbytes(32)).decode()}
"""))
    # UUIDs used as ids, git SHAs, booleans, numbers, dates, paths, URLs.
    out.append(Doc("negative/generic/ids.yaml").add(
        f"""api_key: {f.uuid()}
service_token: "{f.uuid()}"
deploy_secret: {f.hex(40)}
api_key_required: true
secret_rotation_days: 90
client_secret: 2026-01-01T00:00:00Z
api_key: ./secrets/api_key.txt
client_secret: /run/secrets/oauth_client_secret
auth_token: https://auth.acme.test/oauth/token
"""))
    # Test fixtures and i18n strings.
    out.append(Doc("negative/generic/tests/test_auth.py").add(
        '''API_KEY = "test-api-key-0001"
client_secret = "mock_client_secret_value"
auth_token = "invalid-token-for-tests"
SECRET_KEY = "django-insecure-test-only-key"
'''))
    out.append(Doc("negative/generic/locales/en.json").add(json.dumps({
        "password": "Password",
        "secret": "Secret",
        "api_key": "API key",
        "client_secret": "Client secret",
        "token_type": "bearer",
        "secretQuestion": "What was the name of your first pet?",
        "auth_token": "Authentication token",
    }, indent=2) + "\n"))
    out.append(Doc("negative/generic/locales/de.json").add(json.dumps({
        "api_key": "API-Schlüssel",
        "client_secret": "Client-Geheimnis",
        "webhook_secret": "Webhook-Geheimnis eingeben",
    }, indent=2, ensure_ascii=False) + "\n"))
    return out

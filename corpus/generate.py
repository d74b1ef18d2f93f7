#!/usr/bin/env python3
"""Writes keysweep's labelled corpus: corpus/positive/, corpus/negative/ and corpus/labels.json.

Run from anywhere: `python3 corpus/generate.py`. Python 3 standard library only; every random
value comes from a `random.Random` seeded per file, so a run rewrites the same bytes.

- positive/: files shaped like the places credentials really leak (.env, ~/.aws/credentials,
  compose files, manifests, workflows, Terraform, source in several languages, notebooks, CI
  logs, a minified bundle, CRLF and UTF-16 files, JSON with `\\/` escapes). Each expected finding
  is listed in labels.json as {path, rule, line, column} (1-based line, column in code points,
  path relative to corpus/); an AWS key id paired with its secret access key also carries
  secret_key_line and secret_key_column.
- negative/: look-alikes that must stay silent: documentation example keys, placeholders,
  environment lookups, unique ids, hashes, UUIDs, lock files, inline images and fonts, test-mode
  and broken-checksum tokens, random base64 with no AWS context, minified code without keys.

Every credential here is a generated fake with the right shape (and, where a rule checks one,
the right checksum). None was ever issued by a provider. Prefixes are split in this script so
that the script itself holds nothing a scanner would report.
"""

import base64
import json
import os
import random
import shutil
import string
import struct
import sys
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))

UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
DIGITS = string.digits
ALNUM = UPPER + LOWER + DIGITS
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
BASE32 = UPPER + "234567"
BASE62 = DIGITS + UPPER + LOWER
HEX = "0123456789abcdef"

# Lowercase substrings keysweep treats as placeholders (src/matcher/validate.rs); generated
# secrets avoid them so that a positive is never silenced by chance.
PLACEHOLDER_PARTS = [
    "example", "xxxxx", "fake", "placeholder", "dummy", "sample", "your_", "your-",
    "changeme", "redacted", "*****", "<", ">", "${", "{{", "$(", "%s",
]

# Prefixes, split so this file never holds a complete token.
AKIA = "AK" + "IA"
ASIA = "AS" + "IA"


def clean(value):
    low = value.lower()
    return not any(p in low for p in PLACEHOLDER_PARTS)


def entropy(value):
    import math

    counts = {}
    for c in value:
        counts[c] = counts.get(c, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def pick(r, alphabet, n):
    return "".join(r.choice(alphabet) for _ in range(n))


class Fakes:
    """Fake credentials of the right shapes, from one seeded generator."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def _until(self, make, ok=lambda v: True):
        while True:
            value = make()
            if clean(value) and ok(value):
                return value

    def key_id(self, prefix=AKIA):
        return self._until(lambda: prefix + pick(self.r, BASE32, 16))

    def unique_id(self, prefix):
        return prefix + pick(self.r, BASE32, 16)

    def secret(self, need_slash=False):
        def ok(v):
            return (
                any(c in UPPER for c in v)
                and any(c in LOWER for c in v)
                and any(c in DIGITS for c in v)
                and entropy(v) >= 4.3
                and (not need_slash or "/" in v[1:-1])
            )

        return self._until(lambda: pick(self.r, B64, 40), ok)

    def session_token(self, legacy=False):
        head = b"\x17\n\x06er/aws\x10" if legacy else b"!\n\torigin_ec"
        n = self.r.randrange(420, 640)
        return self._until(lambda: base64.b64encode(head + self.r.randbytes(n)).decode())

    def base62_checksummed(self, prefix):
        body = pick(self.r, BASE62, 30)
        crc = zlib.crc32(body.encode())
        check = ""
        for _ in range(6):
            check = BASE62[crc % 62] + check
            crc //= 62
        return prefix + body + check

    def github(self, prefix="gh" + "p_"):
        return self._until(lambda: self.base62_checksummed(prefix))

    def github_broken(self, prefix="gh" + "p_"):
        token = self.github(prefix)
        last = token[-1]
        return token[:-1] + ("a" if last != "a" else "b")

    def github_fine_grained(self):
        return self._until(
            lambda: "github" + "_pat_" + pick(self.r, ALNUM, 22) + "_" + pick(self.r, ALNUM, 59),
            lambda v: entropy(v) >= 4.0,
        )

    def alnum(self, n, alphabet=ALNUM):
        return self._until(lambda: pick(self.r, alphabet, n))

    def hex(self, n):
        return pick(self.r, HEX, n)

    def uuid(self):
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def password(self, n=20):
        return self._until(
            lambda: pick(self.r, ALNUM + "!*-_", n),
            lambda v: v[0] in ALNUM and entropy(v) >= 3.5,
        )

    def jwt(self, claims):
        def b64u(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = b64u(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{b64u(self.r.randbytes(32))}"

    def pem_body(self, nbytes, lead=b""):
        data = lead + self.r.randbytes(nbytes)
        text = base64.b64encode(data).decode()
        return "\n".join(text[i : i + 64] for i in range(0, len(text), 64))

    def rsa_pem(self):
        body = self.pem_body(1190, lead=bytes.fromhex("308204a40201000282010100"))
        return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"

    def pkcs8_pem(self):
        lead = bytes.fromhex("308204bd020100300d06092a864886f70d0101010500048204a7")
        body = self.pem_body(1190, lead=lead)
        return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"

    def ec_pem(self):
        body = self.pem_body(110, lead=bytes.fromhex("30770201010420"))
        return f"-----BEGIN EC PRIVATE KEY-----\n{body}\n-----END EC PRIVATE KEY-----"

    def encrypted_pkcs8_pem(self):
        body = self.pem_body(1250, lead=bytes.fromhex("308205163040"))
        return (
            f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}\n-----END ENCRYPTED PRIVATE KEY-----"
        )

    def openssh_pem(self):
        def s(b):
            return struct.pack(">I", len(b)) + b

        blob = (
            b"openssh-key-v1\0" + s(b"none") + s(b"none") + s(b"") + struct.pack(">I", 1)
            + s(b"\0\0\0\x0bssh-ed25519" + s(self.r.randbytes(32)))
            + s(self.r.randbytes(136))
        )
        text = base64.b64encode(blob).decode()
        body = "\n".join(text[i : i + 70] for i in range(0, len(text), 70))
        return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"

    def azure_key(self):
        return base64.b64encode(self.r.randbytes(64)).decode()


class Doc:
    """One corpus file: its text and the findings expected in it."""

    def __init__(self, path, newline="\n", encoding="utf-8"):
        self.path = path
        self.newline = newline
        self.encoding = encoding
        self.parts = []
        self.expected = []

    def add(self, text):
        self.parts.append(text)
        return self

    def expect(self, rule, needle, nth=0, secret_key=None, cell=None):
        """Expects `rule` at the `nth` occurrence of `needle`; `secret_key`: the paired secret.

        `cell`: for a notebook, `(index, text)` of the cell text the finding is reported in;
        line and column are then counted in that text."""
        self.expected.append((rule, needle, nth, secret_key, cell))
        return self

    def text(self):
        text = "".join(self.parts)
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        return text

    def labels(self):
        text = self.text()
        out = []
        for rule, needle, nth, secret_key, cell in self.expected:
            label = {"path": self.path, "rule": rule}
            within = text
            if cell is not None:
                label["cell"], within = cell
            label.update(position(within, needle, nth, self.path))
            if secret_key is not None:
                at = position(within, secret_key, 0, self.path)
                label["secret_key_line"] = at["line"]
                label["secret_key_column"] = at["column"]
            out.append(label)
        return out

    def write(self, root):
        full = os.path.join(root, self.path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        text = self.text()
        if self.encoding == "utf-16-le-bom":
            data = b"\xff\xfe" + text.encode("utf-16-le")
        elif self.encoding == "utf-8-bom":
            data = b"\xef\xbb\xbf" + text.encode("utf-8")
        else:
            data = text.encode(self.encoding)
        with open(full, "wb") as f:
            f.write(data)


def position(text, needle, nth, path):
    at = -1
    for _ in range(nth + 1):
        at = text.find(needle, at + 1)
        if at < 0:
            sys.exit(f"{path}: {needle[:24]!r} (occurrence {nth}) not in the text")
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return {"line": line, "column": column}


# --------------------------------------------------------------------------------------------
# Filler: realistic text with no credentials, to surround the leaks.

PY_FILLER = '''
def chunked(items, size):
    """Yields lists of at most `size` items."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def upload_report(client, bucket, key, rows):
    body = "\\n".join(",".join(str(c) for c in row) for row in rows)
    client.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"))
    log.info("uploaded %d rows to s3://%s/%s", len(rows), bucket, key)
'''

JS_FILLER = '''
export function debounce(fn, wait = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

export async function fetchJson(url, options = {}) {
  const res = await fetch(url, { headers: { Accept: "application/json" }, ...options });
  if (!res.ok) throw new Error(`request failed: ${res.status}`);
  return res.json();
}
'''

GO_FILLER = '''
func retry(ctx context.Context, attempts int, fn func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = fn(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i+1) * 200 * time.Millisecond):
		}
	}
	return fmt.Errorf("after %d attempts: %w", attempts, err)
}
'''

JAVA_FILLER = '''
    public List<String> listKeys(String bucket, String prefix) {
        List<String> keys = new ArrayList<>();
        ListObjectsV2Request request = new ListObjectsV2Request()
                .withBucketName(bucket)
                .withPrefix(prefix);
        ListObjectsV2Result result;
        do {
            result = s3.listObjectsV2(request);
            for (S3ObjectSummary summary : result.getObjectSummaries()) {
                keys.add(summary.getKey());
            }
            request.setContinuationToken(result.getNextContinuationToken());
        } while (result.isTruncated());
        return keys;
    }
'''

CSS_FILLER = '''
.btn {
  display: inline-flex;
  align-items: center;
  padding: 0.5rem 1rem;
  border-radius: 4px;
  font: 500 14px/1.4 "Inter", system-ui, sans-serif;
}
.btn:hover { background: #0b5cad; }
'''


def filler_words(r, n):
    words = (
        "the request was retried after the upstream service returned an error while the "
        "worker drained its queue and flushed metrics to the collector before shutdown "
        "cache miss for tenant configuration reloaded from disk build step finished"
    ).split()
    return " ".join(r.choice(words) for _ in range(n))


def minified_code(r, size, inject=None):
    """One line of bundler output, about `size` characters; `inject` strings are spliced in."""
    names = ["a", "b", "c", "d", "e", "f", "n", "o", "r", "t", "i", "s", "u", "l"]
    words = ["render", "state", "props", "dispatch", "payload", "useEffect", "children",
             "className", "onClick", "value", "length", "push", "map", "filter", "reduce"]
    pieces = []
    total = 0
    inject = list(inject or [])
    slots = sorted(r.sample(range(40, 400), len(inject)))
    i = 0
    while total < size:
        a, b, c = r.choice(names), r.choice(names), r.choice(words)
        kind = r.randrange(6)
        if kind == 0:
            piece = f"function {a}{i}({b},{a}){{return {b}.{c}({a})}}"
        elif kind == 1:
            piece = f"var {a}{i}={b}.{c}||{{}};"
        elif kind == 2:
            piece = f'{a}.{c}=function(){{return"{c}-{i}"}};'
        elif kind == 3:
            piece = f"if({a}.{c}>{r.randrange(1000)}){{{b}.{c}.push({a}{i})}}"
        elif kind == 4:
            piece = f'{a}({b},"{r.choice(words)}",{{{c}:!0,key:"k{i}"}});'
        else:
            piece = f"for(var {a}=0;{a}<{b}.length;{a}++){b}[{a}]&&{b}[{a}].{c}();"
        pieces.append(piece)
        total += len(piece)
        if inject and i == slots[0]:
            pieces.append(inject.pop(0))
            slots.pop(0)
        i += 1
    pieces.extend(inject)
    return "".join(pieces)


# --------------------------------------------------------------------------------------------
# Positives


def positives():
    docs = []

    # ~/.aws/credentials and config, two places.
    f = Fakes(101)
    k1, s1, k2, s2 = f.key_id(), f.secret(), f.key_id(), f.secret()
    d = Doc("positive/aws/credentials").add(
        f"""[default]
region = us-east-1
aws_access_key_id = {k1}
aws_secret_access_key = {s1}

[prod-admin]
aws_access_key_id={k2}
aws_secret_access_key={s2}
"""
    )
    d.expect("aws.access-key-id", k1, secret_key=s1).expect("aws.access-key-id", k2, secret_key=s2)
    docs.append(d)

    f = Fakes(102)
    k1, s1 = f.key_id(), f.secret()
    k2, s2, t2 = f.key_id(ASIA), f.secret(), f.session_token()
    d = Doc("positive/home/dev/.aws/config").add(
        f"""[default]
region = eu-west-1
output = json

[profile ci]
region = eu-west-1
aws_access_key_id = {k1}
aws_secret_access_key = {s1}

[profile sso-cached]
region = eu-central-1
aws_access_key_id = {k2}
aws_secret_access_key = {s2}
aws_session_token = {t2}
"""
    )
    d.expect("aws.access-key-id", k1, secret_key=s1).expect("aws.access-key-id", k2, secret_key=s2)
    docs.append(d)

    f = Fakes(103)
    k1, s1 = f.key_id(), f.secret()
    d = Doc("positive/home/dev/.aws/credentials").add(
        f"""# written by `aws configure` on the build host
[default]
aws_access_key_id     = {k1}
aws_secret_access_key = {s1}
"""
    )
    d.expect("aws.access-key-id", k1, secret_key=s1)
    docs.append(d)

    # .env files.
    f = Fakes(104)
    k, s = f.key_id(), f.secret()
    pg = f.password()
    d = Doc("positive/webapp/.env").add(
        f"""APP_ENV=production
APP_DEBUG=false
APP_URL=https://shop.internal.example.net
LOG_LEVEL=info

DATABASE_URL=postgres://shop:{pg}@db.prod.internal:5432/shop
AWS_DEFAULT_REGION=us-west-2
AWS_ACCESS_KEY_ID={k}
AWS_SECRET_ACCESS_KEY={s}
AWS_BUCKET=shop-uploads-prod
SESSION_LIFETIME=120
"""
    )
    d.expect("database.postgres-url", pg)
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(105)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/api/.env.local").add(
        f"""# local overrides, never commit
export AWS_ACCESS_KEY_ID="{k}"
export AWS_SECRET_ACCESS_KEY="{s}"
export AWS_REGION="ap-southeast-2"
"""
    )
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # A named secret on its own (its key id lives elsewhere).
    f = Fakes(106)
    s = f.secret()
    d = Doc("positive/worker/.env.production").add(
        f"""QUEUE_URL=https://sqs.us-east-1.amazonaws.com/123456789012/jobs
AWS_SECRET_ACCESS_KEY={s}
WORKER_CONCURRENCY=8
"""
    )
    d.expect("aws.secret-access-key", s)
    docs.append(d)

    # docker-compose.
    f = Fakes(107)
    k, s = f.key_id(), f.secret()
    pw = f.password()
    d = Doc("positive/deploy/docker-compose.yml").add(
        f"""version: "3.9"
services:
  api:
    image: registry.internal/api:1.14.2
    ports:
      - "8080:8080"
    environment:
      - AWS_REGION=us-east-1
      - AWS_ACCESS_KEY_ID={k}
      - AWS_SECRET_ACCESS_KEY={s}
      - REDIS_URL=redis://default:{pw}@cache:6379/0
    depends_on:
      - cache
  cache:
    image: redis:7-alpine
"""
    )
    d.expect("aws.access-key-id", k, secret_key=s).expect("database.redis-url", pw)
    docs.append(d)

    # Kubernetes: a Secret with stringData and a Deployment with a literal env value.
    f = Fakes(108)
    k, s = f.key_id(), f.secret()
    k2 = f.key_id()
    s2 = f.secret()
    d = Doc("positive/k8s/aws-secret.yaml").add(
        f"""apiVersion: v1
kind: Secret
metadata:
  name: s3-sync
  namespace: data
type: Opaque
stringData:
  AWS_ACCESS_KEY_ID: {k}
  AWS_SECRET_ACCESS_KEY: "{s}"
"""
    )
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)
    d = Doc("positive/k8s/deployment.yaml").add(
        f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: exporter
spec:
  replicas: 2
  selector:
    matchLabels:
      app: exporter
  template:
    metadata:
      labels:
        app: exporter
    spec:
      containers:
        - name: exporter
          image: ghcr.io/acme/exporter:2.3.0
          env:
            - name: AWS_ACCESS_KEY_ID
              value: {k2}
            - name: AWS_SECRET_ACCESS_KEY
              value: {s2}
            - name: AWS_REGION
              value: us-east-2
          resources:
            limits:
              memory: 256Mi
"""
    )
    d.expect("aws.access-key-id", k2, secret_key=s2)
    docs.append(d)

    # GitHub Actions workflow with a hard-coded key.
    f = Fakes(109)
    k, s = f.key_id(), f.secret()
    gh = f.github()
    d = Doc("positive/repo/.github/workflows/deploy.yml").add(
        f"""name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: {k}
      AWS_SECRET_ACCESS_KEY: {s}
      AWS_DEFAULT_REGION: us-east-1
    steps:
      - uses: actions/checkout@v4
      - name: Sync site
        run: aws s3 sync ./public s3://acme-www --delete
      - name: Tag release
        env:
          GH_TOKEN: {gh}
        run: gh release create "v${{{{ github.run_number }}}}" --generate-notes
"""
    )
    d.expect("aws.access-key-id", k, secret_key=s).expect("github.pat-classic", gh)
    docs.append(d)

    # Terraform: provider block and state.
    f = Fakes(110)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/infra/main.tf").add(
        f"""terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }}
  }}
}}

provider "aws" {{
  region     = "us-east-1"
  access_key = "{k}"
  secret_key = "{s}"
}}

resource "aws_s3_bucket" "logs" {{
  bucket = "acme-logs-prod"
}}
"""
    )
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(111)
    k, s = f.key_id(), f.secret()
    smtp = "B" + f.alnum(43, B64)
    aida = f.unique_id("AI" + "DA")
    state = {
        "version": 4,
        "terraform_version": "1.6.6",
        "serial": 12,
        "lineage": f.uuid(),
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": "aws_iam_user",
                "name": "deploy",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [
                    {
                        "schema_version": 0,
                        "attributes": {
                            "arn": "arn:aws:iam::123456789012:user/deploy",
                            "id": "deploy",
                            "name": "deploy",
                            "path": "/",
                            "unique_id": aida,
                            "tags": {},
                        },
                    }
                ],
            },
            {
                "mode": "managed",
                "type": "aws_iam_access_key",
                "name": "deploy",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [
                    {
                        "schema_version": 0,
                        "attributes": {
                            "create_date": "2024-03-02T10:11:12Z",
                            "encrypted_secret": None,
                            "id": k,
                            "key_fingerprint": None,
                            "pgp_key": None,
                            "secret": s,
                            "ses_smtp_password_v4": smtp,
                            "status": "Active",
                            "user": "deploy",
                        },
                        "sensitive_attributes": [],
                        "dependencies": ["aws_iam_user.deploy"],
                    }
                ],
            },
        ],
    }
    d = Doc("positive/infra/terraform.tfstate").add(json.dumps(state, indent=2) + "\n")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # Source code, one file per language.
    f = Fakes(112)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/python/s3_export.py").add(
        f'''"""Nightly export of the orders table to S3."""
import logging

import boto3

log = logging.getLogger(__name__)

# TODO move to the vault before go-live — 本番用キー
s3 = boto3.client(
    "s3",
    region_name="us-east-1",
    aws_access_key_id="{k}",
    aws_secret_access_key="{s}",
)
{PY_FILLER}''')
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(113)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/python/settings.py").add(
        f'''from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = False
ALLOWED_HOSTS = ["www.acme.test"]

STORAGES = {{"default": {{"BACKEND": "storages.backends.s3.S3Storage"}}}}
AWS_STORAGE_BUCKET_NAME = "acme-media"
AWS_S3_REGION_NAME = "eu-west-1"
AWS_ACCESS_KEY_ID = '{k}'
AWS_SECRET_ACCESS_KEY = '{s}'
AWS_QUERYSTRING_AUTH = False
''')
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(114)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/js/upload.js").add(
        f'''import {{ S3Client, PutObjectCommand }} from "@aws-sdk/client-s3";

const client = new S3Client({{
  region: "us-east-1",
  credentials: {{
    accessKeyId: "{k}",
    secretAccessKey: "{s}",
  }},
}});
{JS_FILLER}
export async function upload(key, body) {{
  return client.send(new PutObjectCommand({{ Bucket: "acme-uploads", Key: key, Body: body }}));
}}
''')
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(115)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/go/storage.go").add(
        f'''package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
)

func newSession() (*session.Session, error) {{
	return session.NewSession(&aws.Config{{
		Region:      aws.String("us-west-2"),
		Credentials: credentials.NewStaticCredentials("{k}", "{s}", ""),
	}})
}}
{GO_FILLER}''')
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(116)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/java/S3Config.java").add(
        f'''package com.acme.storage;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import java.util.ArrayList;
import java.util.List;

public class S3Config {{
    private static final String ACCESS_KEY = "{k}";
    private static final String SECRET_KEY = "{s}";

    private final AmazonS3 s3 = AmazonS3ClientBuilder.standard()
            .withRegion("us-east-1")
            .withCredentials(new AWSStaticCredentialsProvider(
                    new BasicAWSCredentials(ACCESS_KEY, SECRET_KEY)))
            .build();
{JAVA_FILLER}}}
''')
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(117)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/ruby/uploader.rb").add(
        f'''require "aws-sdk-s3"

class Uploader
  BUCKET = "acme-assets".freeze

  def initialize
    creds = Aws::Credentials.new('{k}', '{s}')
    @s3 = Aws::S3::Resource.new(region: "us-east-1", credentials: creds)
  end

  def upload(path)
    @s3.bucket(BUCKET).object(File.basename(path)).upload_file(path)
  end
end
''')
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(118)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/php/config/filesystems.php").add(
        f"""<?php

return [
    'default' => 's3',
    'disks' => [
        's3' => [
            'driver' => 's3',
            'credentials' => [
                'key'    => '{k}',
                'secret' => '{s}',
            ],
            'region' => 'eu-central-1',
            'bucket' => 'acme-invoices',
        ],
    ],
];
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(119)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/csharp/Storage.cs").add(
        f'''using Amazon.Runtime;
using Amazon.S3;

namespace Acme.Storage
{{
    public static class Storage
    {{
        public static AmazonS3Client Create() =>
            new AmazonS3Client(new BasicAWSCredentials("{k}", "{s}"), Amazon.RegionEndpoint.USEast1);
    }}
}}
''')
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # Spring properties: the secret has no AWS-specific name; the key id pairs it.
    f = Fakes(120)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/java/application.yml").add(
        f"""spring:
  application:
    name: billing
cloud:
  aws:
    region:
      static: us-east-1
    credentials:
      access-key: {k}
      secret-key: {s}
server:
  port: 8081
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # A Jupyter notebook.
    f = Fakes(121)
    k, s = f.key_id(), f.secret()
    nb = {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": ["# Churn analysis\n", "Pull the raw events from S3."],
            },
            {
                "cell_type": "code",
                "execution_count": 3,
                "metadata": {},
                "outputs": [
                    {"name": "stdout", "output_type": "stream", "text": ["loaded 48213 rows\n"]}
                ],
                "source": [
                    "import boto3, pandas as pd\n",
                    f"session = boto3.Session(aws_access_key_id='{k}',\n",
                    f"                        aws_secret_access_key='{s}')\n",
                    "obj = session.client('s3').get_object(Bucket='acme-events', Key='2024/05.csv')\n",
                    "df = pd.read_csv(obj['Body'])\n",
                    "print(f'loaded {len(df)} rows')",
                ],
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    d = Doc("positive/notebooks/churn.ipynb").add(json.dumps(nb, indent=1) + "\n")
    # Reported in cell 1's source, at its line and column there.
    d.expect("aws.access-key-id", k, secret_key=s, cell=(1, "".join(nb["cells"][1]["source"])))
    docs.append(d)

    # A notebook that printed `os.environ`: the key pair is in a stream output.
    f = Fakes(901)
    k, s = f.key_id(), f.secret()
    printed = [
        "environ({'HOME': '/home/jovyan',\n",
        " 'CONDA_DIR': '/opt/conda',\n",
        f" 'AWS_ACCESS_KEY_ID': '{k}',\n",
        f" 'AWS_SECRET_ACCESS_KEY': '{s}',\n",
        " 'AWS_DEFAULT_REGION': 'us-east-1'})\n",
    ]
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 1,
                "id": "a1f3c9d2",
                "metadata": {},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": printed}],
                "source": ["import os\n", "print(os.environ)"],
            },
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    d = Doc("positive/notebooks/env-dump.ipynb").add(json.dumps(nb, indent=1) + "\n")
    d.expect("aws.access-key-id", k, secret_key=s, cell=(0, "".join(printed)))
    docs.append(d)

    # CI log with an `env` dump (ANSI colours, timestamps), an STS assume-role answer and a
    # presigned URL.
    f = Fakes(122)
    k, s = f.key_id(), f.secret()
    ka, sa, ta = f.key_id(ASIA), f.secret(), f.session_token()
    kp = f.key_id(ASIA)
    sha = f.hex(40)
    role_id = f.unique_id("AR" + "OA")
    lines = [
        f"2024-05-14T09:12:{i:02d}.{f.r.randrange(1000):03d}Z " + filler_words(f.r, 12)
        for i in range(20)
    ]
    env_dump = [
        "HOME=/home/runner",
        "CI=true",
        f"GITHUB_SHA={sha}",
        "GITHUB_REF=refs/heads/main",
        f"AWS_ACCESS_KEY_ID={k}",
        "AWS_DEFAULT_REGION=us-east-1",
        f"AWS_SECRET_ACCESS_KEY={s}",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
    ]
    sts = json.dumps(
        {
            "Credentials": {
                "AccessKeyId": ka,
                "SecretAccessKey": sa,
                "SessionToken": ta,
                "Expiration": "2024-05-14T10:12:09+00:00",
            },
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role_id}:ci-deploy",
                "Arn": "arn:aws:sts::123456789012:assumed-role/ci-deploy/ci-deploy",
            },
        },
        indent=4,
    )
    presigned = (
        "https://acme-artifacts.s3.amazonaws.com/builds/1412/app.tar.gz?"
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&"
        f"X-Amz-Credential={kp}%2F20240514%2Fus-east-1%2Fs3%2Faws4_request&"
        "X-Amz-Date=20240514T091210Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&"
        f"X-Amz-Signature={f.hex(64)}"
    )
    log = (
        "\n".join(lines[:8])
        + "\n\x1b[36m$ env | sort\x1b[0m\n"
        + "\n".join(env_dump)
        + "\n"
        + "\n".join(lines[8:14])
        + "\n\x1b[36m$ aws sts assume-role --role-arn arn:aws:iam::123456789012:role/ci-deploy"
        " --role-session-name ci-deploy\x1b[0m\n"
        + sts
        + "\n"
        + "\n".join(lines[14:])
        + f"\nartifact url: {presigned}\n"
        + "\x1b[32mJob succeeded\x1b[0m\n"
    )
    # Pad so that the three credentials are further apart than the pairing distance.
    log = log.replace(lines[10], lines[10] + "\n" + "\n".join(
        f"2024-05-14T09:12:30.{j:03d}Z " + filler_words(f.r, 14) for j in range(30)))
    log = log.replace(lines[16], lines[16] + "\n" + "\n".join(
        f"2024-05-14T09:12:40.{j:03d}Z " + filler_words(f.r, 14) for j in range(30)))
    d = Doc("positive/ci/build-1412.log").add(log)
    d.expect("aws.access-key-id", k, secret_key=s)
    d.expect("aws.access-key-id", ka, secret_key=sa)
    d.expect("aws.access-key-id", kp)
    docs.append(d)

    # A session token on its own.
    f = Fakes(123)
    t = f.session_token(legacy=True)
    d = Doc("positive/home/dev/.bash_history").add(
        f"""cd ~/src/infra
terraform plan -out plan.bin
export AWS_SESSION_TOKEN={t}
aws s3 ls s3://acme-tfstate/
git status
""")
    d.expect("aws.session-token", t)
    docs.append(d)

    # A minified bundle: one long line.
    f = Fakes(124)
    k, s = f.key_id(), f.secret()
    g = "AI" + "za" + f.alnum(35, ALNUM + "-_")
    inject = [
        f'var Zq={{region:"us-east-1",credentials:{{accessKeyId:"{k}",secretAccessKey:"{s}"}}}};',
        'var Xt={title:"Ünïcødé café — 日本語"};',
        f'var Fb={{apiKey:"{g}",authDomain:"acme-prod.firebaseapp.com",projectId:"acme-prod"}};',
    ]
    bundle = minified_code(f.r, 240_000, inject)
    d = Doc("positive/web/dist/main.7f3a9c.min.js").add(
        "/*! acme-web v4.2.0 | (c) Acme */\n" + bundle + "\n//# sourceMappingURL=main.7f3a9c.min.js.map\n"
    )
    d.expect("aws.access-key-id", k, secret_key=s).expect("google.api-key", g)
    docs.append(d)

    # CRLF: a Windows batch file and a .env saved on Windows.
    f = Fakes(125)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/windows/deploy.bat", newline="\r\n").add(
        f"""@echo off
rem deploy the static site
set AWS_ACCESS_KEY_ID={k}
set AWS_SECRET_ACCESS_KEY={s}
set AWS_DEFAULT_REGION=us-east-1
aws s3 sync .\\site s3://acme-www
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(126)
    s = f.secret()
    d = Doc("positive/windows/.env", newline="\r\n").add(
        f"""NODE_ENV=production\nAWS_SECRET_ACCESS_KEY={s}\nPORT=3000\n""")
    d.expect("aws.secret-access-key", s)
    docs.append(d)

    # UTF-16 (with BOM): a PowerShell profile saved by Windows PowerShell.
    f = Fakes(127)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/windows/profile.ps1", newline="\r\n", encoding="utf-16-le-bom").add(
        f"""# PowerShell profile
Import-Module AWS.Tools.S3
Set-AWSCredential -AccessKey {k} -SecretKey {s} -StoreAs default
Set-DefaultAWSRegion -Region us-east-1
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # JSON with `\/` escapes (PHP json_encode).
    f = Fakes(128)
    k, s = f.key_id(), f.secret(need_slash=True)
    s_escaped = s.replace("/", "\\/")
    d = Doc("positive/src/php/storage/cache.json").add(
        '{"driver":"s3","endpoint":"https:\\/\\/s3.eu-central-1.amazonaws.com",'
        f'"key":"{k}","secret":"{s_escaped}","bucket":"acme-cache","region":"eu-central-1"}}\n'
    )
    d.expect("aws.access-key-id", k, secret_key=s_escaped)
    docs.append(d)

    # A named secret in JSON with `\/` escapes, on its own.
    f = Fakes(129)
    s = f.secret(need_slash=True)
    s_escaped = s.replace("/", "\\/")
    d = Doc("positive/src/php/storage/backup.json").add(
        '{"backup":{"aws_secret_access_key":"' + s_escaped + '","bucket":"acme-backup"}}\n'
    )
    d.expect("aws.secret-access-key", s_escaped)
    docs.append(d)

    # Dockerfile and a shell script.
    f = Fakes(130)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/deploy/Dockerfile").add(
        f"""FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
ENV AWS_ACCESS_KEY_ID={k} \\
    AWS_SECRET_ACCESS_KEY={s} \\
    AWS_DEFAULT_REGION=us-east-1
COPY . .
CMD ["python", "-m", "worker"]
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    f = Fakes(131)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/scripts/bootstrap.sh").add(
        f"""#!/usr/bin/env bash
set -euo pipefail
aws configure set aws_access_key_id {k}
aws configure set aws_secret_access_key {s}
aws configure set region us-east-1
aws sts get-caller-identity
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # A key id on its own, in prose.
    f = Fakes(132)
    k = f.key_id()
    d = Doc("positive/docs/incident-notes.md").add(
        f"""# 2024-05-14 access key rotation

- Rotated the deploy user's key after it showed up in a public gist.
- Old key `{k}` is now inactive; CloudTrail shows no use after 09:40 UTC.
- Follow-up: move the deploy job to OIDC.
""")
    d.expect("aws.access-key-id", k)
    docs.append(d)

    # Credentials inside JSON strings with `\n` escapes (EC2 user data in a template).
    f = Fakes(133)
    k, s = f.key_id(), f.secret()
    user_data = (
        "#!/bin/bash\nset -e\nmkdir -p /root/.aws\ncat > /root/.aws/credentials <<EOF\n[default]\n"
        f"aws_access_key_id = {k}\naws_secret_access_key = {s}\nEOF\n"
        "systemctl start collector\n"
    )
    cfn = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Collector": {
                "Type": "AWS::EC2::Instance",
                "Properties": {
                    "ImageId": "ami-0abcdef1234567890",
                    "InstanceType": "t3.small",
                    "UserData": {"Fn::Base64": user_data},
                },
            }
        },
    }
    d = Doc("positive/infra/collector.template.json").add(json.dumps(cfn, indent=2) + "\n")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # Gson escapes `=` as `\u003d`: an ECS-style environment list serialised from Java.
    f = Fakes(134)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/java/task-environment.json").add(
        '{"environment":["SPRING_PROFILES_ACTIVE\\u003dprod",'
        f'"AWS_ACCESS_KEY_ID\\u003d{k}","AWS_SECRET_ACCESS_KEY\\u003d{s}",'
        '"AWS_REGION\\u003dus-east-1"]}\n'
    )
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # s3fs and Hadoop: key id and secret joined by a colon.
    f = Fakes(135)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/home/dev/.passwd-s3fs").add(f"{k}:{s}\n")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)
    k, s = f.key_id(), f.secret(need_slash=True)
    s_url = s.replace("/", "%2F").replace("+", "%2B")
    d = Doc("positive/spark/ingest.conf").add(
        f"""ingest {{
  source = "s3a://{k}:{s_url}@acme-raw-events/2024/05/"
  format = parquet
}}
""")
    d.expect("aws.access-key-id", k, secret_key=s_url)
    docs.append(d)

    # The CSV the IAM console offers for download, several users.
    f = Fakes(136)
    rows = [(u, f.key_id(), f.secret()) for u in ("deploy", "backup", "ci")]
    text = "User name,Password,Access key ID,Secret access key,Console login link\n" + "".join(
        f"{u},,{k},{s},https://123456789012.signin.aws.amazon.com/console\n" for u, k, s in rows
    )
    d = Doc("positive/downloads/new_user_credentials.csv").add(text)
    for _, k, s in rows:
        d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/downloads/accessKeys.csv").add(
        f"Access key ID,Secret access key\n{k},{s}\n")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # An SQL dump of an integrations table.
    f = Fakes(137)
    rows = [(i, f.key_id(), f.secret()) for i in (3, 4)]
    d = Doc("positive/db/dump.sql").add(
        "-- MySQL dump 10.13\n"
        "CREATE TABLE `integrations` (`id` int NOT NULL, `kind` varchar(16), "
        "`access_key` varchar(32), `secret_key` varchar(64), PRIMARY KEY (`id`));\n"
        "INSERT INTO `integrations` VALUES "
        + ",".join(f"({i},'s3','{k}','{s}')" for i, k, s in rows)
        + ";\n"
    )
    for _, k, s in rows:
        d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # .NET App.config: the secret's name is an attribute away from its value.
    f = Fakes(138)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/src/csharp/App.config").add(
        f"""<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="AWSProfileName" value="default"/>
    <add key="AWSAccessKey" value="{k}"/>
    <add key="AWSSecretKey" value="{s}"/>
    <add key="AWSRegion" value="us-east-1"/>
  </appSettings>
</configuration>
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # s3cmd and rclone configuration files.
    f = Fakes(139)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/home/dev/.s3cfg").add(
        f"""[default]
access_key = {k}
secret_key = {s}
host_base = s3.amazonaws.com
host_bucket = %(bucket)s.s3.amazonaws.com
use_https = True
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/home/dev/.config/rclone/rclone.conf").add(
        f"""[s3-backup]
type = s3
provider = AWS
access_key_id = {k}
secret_access_key = {s}
region = eu-west-2
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # An HTTP request dump: SigV4 header with a temporary key and its session token.
    f = Fakes(140)
    k, t = f.key_id(ASIA), f.session_token()
    d = Doc("positive/ci/request-dump.txt").add(
        f"""> PUT /acme-artifacts/builds/1412/app.tar.gz HTTP/1.1
> Host: s3.us-east-1.amazonaws.com
> X-Amz-Date: 20240514T091210Z
> X-Amz-Content-Sha256: UNSIGNED-PAYLOAD
> X-Amz-Security-Token: {t}
> Authorization: AWS4-HMAC-SHA256 Credential={k}/20240514/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature={f.hex(64)}
>
< HTTP/1.1 200 OK
""")
    d.expect("aws.access-key-id", k)
    docs.append(d)

    # Ansible vars and a GitLab CI file.
    f = Fakes(141)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/ansible/group_vars/all.yml").add(
        f"""---
backup_bucket: acme-backups
aws_access_key: "{k}"
aws_secret_key: "{s}"
aws_region: eu-west-1
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/repo/.gitlab-ci.yml").add(
        f"""stages: [build, deploy]
variables:
  AWS_DEFAULT_REGION: us-east-1
  AWS_ACCESS_KEY_ID: "{k}"
  AWS_SECRET_ACCESS_KEY: "{s}"
deploy:
  stage: deploy
  image: amazon/aws-cli:2.15.0
  script:
    - aws s3 cp dist/ s3://acme-www/ --recursive
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # A key id and its named secret further apart than pairing reaches: two findings.
    f = Fakes(142)
    k, s = f.key_id(), f.secret()
    middle = "".join(f"FEATURE_FLAG_{i:03d}={f.r.choice(['on', 'off'])}\n" for i in range(160))
    d = Doc("positive/legacy/app.env").add(
        f"AWS_ACCESS_KEY_ID={k}\n" + middle + f"AWS_SECRET_ACCESS_KEY={s}\n")
    d.expect("aws.access-key-id", k).expect("aws.secret-access-key", s)
    docs.append(d)

    # An inline script in an HTML page, after non-ASCII text on the same line.
    f = Fakes(143)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/web/upload.html").add(
        f"""<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><title>Hochladen</title></head>
<body>
<script>/* Schlüssel für den Upload — später entfernen */ AWS.config.update({{accessKeyId: "{k}", secretAccessKey: "{s}", region: "eu-central-1"}});</script>
</body>
</html>
""")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # A UTF-8 file with a byte-order mark (Notepad), key on the first line.
    f = Fakes(144)
    k, s = f.key_id(), f.secret()
    d = Doc("positive/windows/keys.txt", newline="\r\n", encoding="utf-8-bom").add(
        f"{k}\n{s}\n")
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # `aws sts assume-role --output text`: key, expiry, secret and token, tab-separated, no names.
    f = Fakes(145)
    k, s, t = f.key_id(ASIA), f.secret(), f.session_token()
    d = Doc("positive/ci/assume-role.txt").add(
        "$ aws sts assume-role --role-arn arn:aws:iam::123456789012:role/ci-deploy "
        "--role-session-name ci --output text\n"
        f"ASSUMEDROLEUSER\tarn:aws:sts::123456789012:assumed-role/ci-deploy/ci\t{f.unique_id('AR' + 'OA')}:ci\n"
        f"CREDENTIALS\t{k}\t2024-05-14T10:12:09+00:00\t{s}\t{t}\n"
    )
    d.expect("aws.access-key-id", k, secret_key=s)
    docs.append(d)

    # A bare STS-prefixed token in a test constant, no key id near it.
    f = Fakes(146)
    t = f.session_token()
    d = Doc("positive/src/java/StsFixture.java").add(
        f'''package com.acme.sts;

final class StsFixture {{
    /** Captured from a real run; replace before merging. */
    static final String TOKEN =
        "{t}";

    private StsFixture() {{}}
}}
''')
    d.expect("aws.session-token-unnamed", t)
    docs.append(d)

    # --- other providers ---------------------------------------------------------------------
    f = Fakes(200)
    stripe_sk = "sk" + "_live_" + f.alnum(99)
    stripe_wh = "wh" + "sec_" + f.alnum(32)
    slack_bot = (
        "xo" + "xb-" + str(f.r.randrange(10**10, 10**11)) + "-"
        + str(f.r.randrange(10**12, 10**13)) + "-" + f.alnum(24)
    )
    sendgrid = "S" + "G." + f.alnum(22, B64URL) + "." + f.alnum(43, B64URL)
    openai = "sk-" + "proj-" + f.alnum(74, B64URL) + "T3Blbk" + "FJ" + f.alnum(74, B64URL)
    anthropic = "sk-" + "ant-api03-" + f.alnum(93, B64URL) + "AA"
    mongo = f.password(24)
    mysql = f.password(18)
    d = Doc("positive/saas/.env").add(
        f"""# payments
STRIPE_SECRET_KEY={stripe_sk}
STRIPE_WEBHOOK_SECRET={stripe_wh}

# notifications
SLACK_BOT_TOKEN={slack_bot}
SENDGRID_API_KEY={sendgrid}

# llm
OPENAI_API_KEY={openai}
ANTHROPIC_API_KEY={anthropic}

# data
MONGO_URI=mongodb+srv://app:{mongo}@cluster0.x1y2z.mongodb.net/prod?retryWrites=true
MYSQL_URL=mysql://report:{mysql}@10.0.4.12:3306/analytics
""")
    d.expect("stripe.secret-key", stripe_sk).expect("stripe.webhook-secret", stripe_wh)
    d.expect("slack.bot-token", slack_bot).expect("sendgrid.api-key", sendgrid)
    d.expect("openai.project-key", openai).expect("anthropic.api-key", anthropic)
    d.expect("database.mongodb-url", mongo).expect("database.mysql-url", mysql)
    docs.append(d)

    f = Fakes(201)
    d = Doc("positive/home/dev/.ssh/id_rsa").add(f.rsa_pem() + "\n")
    d.expect("private-key.rsa", "-----BEGIN RSA")
    docs.append(d)
    d = Doc("positive/home/dev/.ssh/id_ed25519").add(f.openssh_pem() + "\n")
    d.expect("private-key.openssh", "-----BEGIN OPENSSH")
    docs.append(d)
    d = Doc("positive/certs/server.key").add(f.ec_pem() + "\n")
    d.expect("private-key.ec", "-----BEGIN EC")
    docs.append(d)
    d = Doc("positive/certs/tls.key").add(f.pkcs8_pem() + "\n")
    d.expect("private-key.pkcs8", "-----BEGIN PRIVATE")
    docs.append(d)
    d = Doc("positive/certs/client.p8").add(f.encrypted_pkcs8_pem() + "\n")
    d.expect("private-key.pkcs8-encrypted", "-----BEGIN ENCRYPTED")
    docs.append(d)

    f = Fakes(202)
    pem = f.pkcs8_pem()
    sa = {
        "type": "service_account",
        "project_id": "acme-analytics",
        "private_key_id": f.hex(40),
        "private_key": pem + "\n",
        "client_email": "etl@acme-analytics.iam.gserviceaccount.com",
        "client_id": str(f.r.randrange(10**20, 10**21)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    d = Doc("positive/gcp/etl-service-account.json").add(json.dumps(sa, indent=2) + "\n")
    d.expect("google.service-account-key", "-----BEGIN PRIVATE")
    docs.append(d)

    f = Fakes(203)
    npm = f.github("np" + "m_")
    d = Doc("positive/node/.npmrc").add(
        f"""registry=https://registry.npmjs.org/
//registry.npmjs.org/:_authToken={npm}
always-auth=true
""")
    d.expect("npm.access-token", npm)
    docs.append(d)

    f = Fakes(204)
    pypi = "pypi-" + "AgEIcHlwaS5vcmc" + base64.urlsafe_b64encode(f.r.randbytes(120)).decode().rstrip("=")
    d = Doc("positive/home/dev/.pypirc").add(
        f"""[distutils]
index-servers = pypi

[pypi]
username = __token__
password = {pypi}
""")
    d.expect("pypi.api-token", pypi)
    docs.append(d)

    f = Fakes(205)
    webhook = (
        "https://hooks.slack.com/services/T" + f.alnum(10, UPPER + DIGITS) + "/B"
        + f.alnum(10, UPPER + DIGITS) + "/" + f.alnum(24)
    )
    do = "dop" + "_v1_" + f.hex(64)
    docker = "dckr" + "_pat_" + f.alnum(27, B64URL)
    gitlab = "gl" + "pat-" + f.alnum(20, B64URL)
    d = Doc("positive/scripts/release.sh").add(
        f"""#!/bin/sh
set -e
echo "{docker}" | docker login -u acmebot --password-stdin
docker push acme/api:"$VERSION"
git push https://oauth2:{gitlab}@gitlab.com/acme/api.git "v$VERSION"
doctl auth init --access-token {do}
curl -X POST -H 'Content-type: application/json' \\
  --data '{{"text":"released '"$VERSION"'"}}' {webhook}
""")
    d.expect("docker.personal-access-token", docker).expect("gitlab.pat", gitlab)
    d.expect("digitalocean.personal-access-token", do).expect("slack.incoming-webhook", webhook)
    docs.append(d)

    f = Fakes(206)
    sid = "AC" + f.hex(32)
    auth = f.hex(32)
    twilio_key = "SK" + f.hex(32)
    shopify = "shp" + "at_" + f.hex(32)
    hf = "hf" + "_" + f.alnum(34, UPPER + LOWER)
    heroku = f.uuid()
    mailgun = "key" + "-" + f.hex(32)
    d = Doc("positive/src/python/integrations.py").add(
        f'''"""Third-party clients for the storefront."""
import os

TWILIO_ACCOUNT_SID = "{sid}"
TWILIO_AUTH_TOKEN = "{auth}"
TWILIO_API_KEY = "{twilio_key}"

SHOPIFY_ADMIN_TOKEN = "{shopify}"
HF_TOKEN = "{hf}"
HEROKU_API_KEY = "{heroku}"
MAILGUN_DOMAIN = os.environ.get("MAILGUN_DOMAIN", "mg.acme.test")
MAILGUN_PRIVATE_KEY = "{mailgun}"
''')
    d.expect("twilio.auth-token", auth).expect("twilio.api-key", twilio_key)
    d.expect("shopify.access-token", shopify).expect("huggingface.user-token", hf)
    d.expect("heroku.legacy-api-key", heroku).expect("mailgun.api-key", mailgun)
    docs.append(d)

    f = Fakes(207)
    azure = f.azure_key()
    tfc = f.alnum(14) + ".atlas" + "v1." + f.alnum(67, ALNUM + "_-")
    d = Doc("positive/infra/azure.tfvars").add(
        f"""location = "westeurope"
storage_connection_string = "DefaultEndpointsProtocol=https;AccountName=acmelogs01;AccountKey={azure};EndpointSuffix=core.windows.net"
""")
    d.expect("azure.storage-connection-string", azure)
    docs.append(d)
    d = Doc("positive/home/dev/.terraformrc").add(
        f"""credentials "app.terraform.io" {{
  token = "{tfc}"
}}
""")
    d.expect("terraform.api-token", tfc)
    docs.append(d)

    f = Fakes(208)
    jwt = f.jwt({"sub": "svc-reporting", "iss": "https://auth.acme.test", "iat": 1715677200,
                 "exp": 1747213200, "scope": "reports:read"})
    gho = f.github("gh" + "o_")
    fine = f.github_fine_grained()
    d = Doc("positive/tests/api_smoke.http").add(
        f"""### reports
GET https://api.acme.test/v2/reports?since=2024-05-01
Authorization: Bearer {jwt}
Accept: application/json

### github
GET https://api.github.com/user
Authorization: token {gho}

### github fine-grained
GET https://api.github.com/repos/acme/api/issues
Authorization: Bearer {fine}
""")
    d.expect("jwt.token", jwt).expect("github.oauth-token", gho)
    d.expect("github.pat-fine-grained", fine)
    docs.append(d)

    # GitLab runner configuration and registration.
    f = Fakes(209)
    glrt = "gl" + "rt-" + f.alnum(20, B64URL)
    glreg = "GR13" + "48941" + f.alnum(20, B64URL)
    d = Doc("positive/gitlab-runner/config.toml").add(
        f"""concurrent = 4
check_interval = 0

[[runners]]
  name = "docker-runner-01"
  url = "https://gitlab.com/"
  token = "{glrt}"
  executor = "docker"
  [runners.docker]
    image = "alpine:3.19"
    privileged = false
""")
    d.expect("gitlab.runner-authentication-token", glrt)
    docs.append(d)
    d = Doc("positive/gitlab-runner/register.sh").add(
        f"""#!/bin/sh
gitlab-runner register --non-interactive --url https://gitlab.com/ \\
  --registration-token {glreg} --executor docker --docker-image alpine:3.19
""")
    d.expect("gitlab.runner-registration-token", glreg)
    docs.append(d)

    # Slack app credentials.
    f = Fakes(210)
    xapp = "xa" + "pp-1-A" + f.alnum(10, UPPER + DIGITS) + "-" + str(f.r.randrange(10**12, 10**13)) + "-" + f.hex(64)
    xoxp = (
        "xo" + "xp-" + str(f.r.randrange(10**10, 10**11)) + "-" + str(f.r.randrange(10**10, 10**11))
        + "-" + str(f.r.randrange(10**12, 10**13)) + "-" + f.hex(32)
    )
    trigger = (
        "https://hooks.slack.com/triggers/T" + f.alnum(10, UPPER + DIGITS) + "/"
        + str(f.r.randrange(10**12, 10**13)) + "/" + f.hex(32)
    )
    xoxe = "xo" + "xe-1-" + f.alnum(150)
    d = Doc("positive/slack/app.env").add(
        f"""SLACK_APP_TOKEN={xapp}
SLACK_USER_TOKEN={xoxp}
SLACK_WORKFLOW_TRIGGER={trigger}
SLACK_CONFIG_REFRESH_TOKEN={xoxe}
""")
    d.expect("slack.app-token", xapp).expect("slack.user-token", xoxp)
    d.expect("slack.workflow-webhook", trigger).expect("slack.config-token", xoxe)
    docs.append(d)

    # ~/.netrc with Heroku and GitHub entries.
    f = Fakes(211)
    heroku = f.uuid()
    ghp = f.github()
    d = Doc("positive/home/dev/.netrc").add(
        f"""machine api.heroku.com
  login dev@acme.test
  password {heroku}
machine github.com
  login acme-bot
  password {ghp}
""")
    d.expect("heroku.legacy-api-key", heroku).expect("github.pat-classic", ghp)
    docs.append(d)

    # Azure settings: a bare storage key and a SAS URL.
    f = Fakes(212)
    azkey = f.azure_key()
    sig = base64.b64encode(f.r.randbytes(32)).decode()
    sig_url = sig.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    sas = (
        "https://acmeexports.blob.core.windows.net/exports/daily.csv?sv=2022-11-02&ss=b&srt=o"
        f"&sp=r&se=2025-01-01T00:00:00Z&st=2024-05-01T00:00:00Z&spr=https&sig={sig_url}"
    )
    settings = {
        "Logging": {"LogLevel": {"Default": "Information"}},
        "Storage": {"AzureStorageKey": azkey, "ExportSasUrl": sas},
    }
    d = Doc("positive/azure/appsettings.Production.json").add(json.dumps(settings, indent=2) + "\n")
    d.expect("azure.storage-key-assignment", azkey).expect("azure.sas-token", sig_url)
    docs.append(d)

    # A dump of a CI system's secret store.
    f = Fakes(213)
    ghs = f.github("gh" + "s_")
    doo = "doo" + "_v1_" + f.hex(64)
    oat = "dckr" + "_oat_" + f.alnum(32, B64URL)
    hforg = "api" + "_org_" + f.alnum(34, UPPER + LOWER)
    testpypi = "pypi-" + "AgENdGVzdC5weXBpLm9y" + base64.urlsafe_b64encode(f.r.randbytes(110)).decode().rstrip("=")
    admin = "sk-" + "ant-admin01-" + f.alnum(93, B64URL) + "AA"
    svc = "sk-" + "svcacct-" + f.alnum(64, B64URL) + "T3Blbk" + "FJ" + f.alnum(64, B64URL)
    rk = "rk" + "_live_" + f.alnum(99)
    shpss = "shp" + "ss_" + f.hex(32)
    gldt = "gl" + "dt-" + f.alnum(20, B64URL)
    glptt = "gl" + "ptt-" + f.hex(40)
    hrku = "HR" + "KU-AA" + f.alnum(58, B64URL)
    mailgun = f.hex(32) + "-" + f.hex(8) + "-" + f.hex(8)
    amqp = f.password(22)
    d = Doc("positive/ci/secrets-export.env").add(
        f"""# exported from the CI secret store, 2024-05-14
GITHUB_APP_INSTALLATION_TOKEN={ghs}
DO_OAUTH_TOKEN={doo}
DOCKERHUB_ORG_TOKEN={oat}
HF_ORG_TOKEN={hforg}
TEST_PYPI_TOKEN={testpypi}
ANTHROPIC_ADMIN_KEY={admin}
OPENAI_SERVICE_KEY={svc}
STRIPE_RESTRICTED_KEY={rk}
SHOPIFY_SHARED_SECRET={shpss}
GITLAB_DEPLOY_TOKEN={gldt}
GITLAB_TRIGGER_TOKEN={glptt}
HEROKU_API_KEY={hrku}
MAILGUN_API_KEY={mailgun}
AMQP_URL=amqps://svc:{amqp}@rabbit.internal:5671/prod
""")
    d.expect("github.server-to-server-token", ghs).expect("digitalocean.oauth-token", doo)
    d.expect("docker.organization-access-token", oat).expect("huggingface.org-token", hforg)
    d.expect("pypi.test-api-token", testpypi).expect("anthropic.admin-key", admin)
    d.expect("openai.service-account-key", svc).expect("stripe.restricted-key", rk)
    d.expect("shopify.shared-secret", shpss).expect("gitlab.deploy-token", gldt)
    d.expect("gitlab.pipeline-trigger-token", glptt).expect("heroku.api-key", hrku)
    d.expect("mailgun.api-key-v2", mailgun).expect("database.amqp-url", amqp)
    docs.append(d)

    # A GitHub App OAuth answer captured in a debug log.
    f = Fakes(214)
    ghu, ghr = f.github("gh" + "u_"), f.github("gh" + "r_")
    answer = json.dumps({
        "access_token": ghu, "expires_in": 28800, "refresh_token": ghr,
        "refresh_token_expires_in": 15811200, "scope": "", "token_type": "bearer",
    })
    d = Doc("positive/ci/oauth-debug.log").add(
        "DEBUG oauth: POST https://github.com/login/oauth/access_token -> 200\n"
        f"DEBUG oauth: body={answer}\n"
    )
    d.expect("github.user-to-server-token", ghu).expect("github.refresh-token", ghr)
    docs.append(d)

    # A legacy npm token (UUID form) for a private registry.
    f = Fakes(215)
    legacy = f.uuid()
    d = Doc("positive/ci/.npmrc").add(
        f"""@acme:registry=https://npm.acme.internal/
//npm.acme.internal/:_authToken={legacy}
""")
    d.expect("npm.npmrc-auth-token", legacy)
    docs.append(d)

    # More private-key formats.
    f = Fakes(216)
    dsa = f"-----BEGIN DSA PRIVATE KEY-----\n{f.pem_body(440)}\n-----END DSA PRIVATE KEY-----"
    d = Doc("positive/keys/legacy_dsa.pem").add(dsa + "\n")
    d.expect("private-key.dsa", "-----BEGIN DSA")
    docs.append(d)
    iv = f.hex(32).upper()
    pem_enc = (
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        f"DEK-Info: AES-128-CBC,{iv}\n\n{f.pem_body(1190)}\n-----END RSA PRIVATE KEY-----"
    )
    d = Doc("positive/keys/server-enc.pem").add(pem_enc + "\n")
    d.expect("private-key.pem-encrypted", "-----BEGIN RSA")
    docs.append(d)
    pgp = (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: release signing key\n\n"
        f"{f.pem_body(1800, lead=bytes.fromhex('9503be04'))}\n={f.alnum(4, B64)}\n"
        "-----END PGP PRIVATE KEY BLOCK-----"
    )
    d = Doc("positive/keys/release-signing.asc").add(pgp + "\n")
    d.expect("private-key.pgp", "-----BEGIN PGP")
    docs.append(d)

    def sshstr(b):
        return struct.pack(">I", len(b)) + b

    blob = (
        b"openssh-key-v1\0" + sshstr(b"aes256-ctr") + sshstr(b"bcrypt") + sshstr(sshstr(f.r.randbytes(16)) + struct.pack(">I", 16))
        + struct.pack(">I", 1) + sshstr(b"\0\0\0\x0bssh-ed25519" + sshstr(f.r.randbytes(32)))
        + sshstr(f.r.randbytes(144))
    )
    text = base64.b64encode(blob).decode()
    body = "\n".join(text[i : i + 70] for i in range(0, len(text), 70))
    d = Doc("positive/home/dev/.ssh/id_ed25519_work").add(
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    d.expect("private-key.openssh-encrypted", "-----BEGIN OPENSSH")
    docs.append(d)

    return docs


# --------------------------------------------------------------------------------------------
# Negatives


def negatives():
    docs = []
    doc_key, doc_secret = AKIA + "IOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    doc_key2, doc_secret2 = AKIA + "I44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"

    # AWS documentation example keys, in the forms the docs use.
    docs.append(Doc("negative/docs/aws-cli-setup.md").add(
        f"""# Configure the AWS CLI

Run `aws configure` and enter your keys:

```
$ aws configure
AWS Access Key ID [None]: {doc_key}
AWS Secret Access Key [None]: {doc_secret}
Default region name [None]: us-west-2
Default output format [None]: json
```

This writes `~/.aws/credentials`:

```ini
[default]
aws_access_key_id = {doc_key}
aws_secret_access_key = {doc_secret}

[user1]
aws_access_key_id={doc_key2}
aws_secret_access_key={doc_secret2}
```

| Variable | Example |
|---|---|
| `AWS_ACCESS_KEY_ID` | `{doc_key}` |
| `AWS_SECRET_ACCESS_KEY` | `{doc_secret}` |
| `AWS_SESSION_TOKEN` | `AQoEXAMPLEH4aoAH0gNCAPy...truncated...zrkuWJOgQs8IZZaIv2BXIa2R4Olgk` |
"""))
    docs.append(Doc("negative/aws/credentials.sample").add(
        f"""[default]
aws_access_key_id = {doc_key}
aws_secret_access_key = {doc_secret}
"""))
    docs.append(Doc("negative/src/python/test_s3.py").add(
        f'''import boto3
import pytest
from moto import mock_aws


@pytest.fixture
def aws_credentials(monkeypatch):
    """Mocked AWS credentials for moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")


@mock_aws
def test_upload(aws_credentials):
    s3 = boto3.client("s3", aws_access_key_id="{doc_key}",
                      aws_secret_access_key="{doc_secret}")
    s3.create_bucket(Bucket="b")
{PY_FILLER}'''))

    # Placeholders and templates.
    docs.append(Doc("negative/webapp/.env.example").add(
        """APP_ENV=local
AWS_ACCESS_KEY_ID=
AWS_SECRET_ACCESS_KEY=
AWS_SESSION_TOKEN=
# or fill these in:
# AWS_ACCESS_KEY_ID=<your-access-key-id>
# AWS_SECRET_ACCESS_KEY=<your-secret-access-key>
"""))
    placeholder_key = AKIA + "X" * 16
    fake_key = AKIA + "FAKE" * 4
    docs.append(Doc("negative/config/placeholders.ini").add(
        f"""[xxxx]
aws_access_key_id = {placeholder_key}
aws_secret_access_key = {"X" * 40}

[fake]
aws_access_key_id = {fake_key}
aws_secret_access_key = FAKEfakeFAKEfake1234FAKEfakeFAKEfake5678

[template]
aws_access_key_id = ${{AWS_ACCESS_KEY_ID}}
aws_secret_access_key = ${{AWS_SECRET_ACCESS_KEY}}

[yours]
aws_access_key_id = YOUR_ACCESS_KEY_ID
aws_secret_access_key = YOUR_SECRET_ACCESS_KEY
aws_session_token = <your-session-token>

[jinja]
aws_access_key_id = {{{{ aws_access_key_id }}}}
aws_secret_access_key = {{{{ aws_secret_access_key }}}}
"""))
    docs.append(Doc("negative/repo/.github/workflows/deploy.yml").add(
        """name: deploy
on:
  push:
    branches: [main]
permissions:
  id-token: write
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
      GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: arn:aws:iam::123456789012:role/github-deploy
          aws-region: us-east-1
      - run: aws s3 sync ./public s3://acme-www --delete
"""))
    docs.append(Doc("negative/infra/variables.tf").add(
        """variable "aws_access_key" {
  type      = string
  sensitive = true
}

variable "aws_secret_key" {
  type      = string
  sensitive = true
}

provider "aws" {
  region     = var.region
  access_key = var.aws_access_key
  secret_key = var.aws_secret_key
}

provider "aws" {
  alias      = "legacy"
  access_key = "${var.legacy_access_key}"
  secret_key = "${var.legacy_secret_key}"
}
"""))
    docs.append(Doc("negative/deploy/docker-compose.yml").add(
        """services:
  api:
    image: registry.internal/api:1.14.2
    environment:
      AWS_ACCESS_KEY_ID: ${AWS_ACCESS_KEY_ID}
      AWS_SECRET_ACCESS_KEY: ${AWS_SECRET_ACCESS_KEY:?set it}
      DATABASE_URL: postgres://app:${DB_PASSWORD}@db:5432/app
      REDIS_URL: redis://cache:6379/0
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
"""))
    docs.append(Doc("negative/k8s/deployment.yaml").add(
        """apiVersion: apps/v1
kind: Deployment
metadata:
  name: exporter
spec:
  template:
    spec:
      containers:
        - name: exporter
          image: ghcr.io/acme/exporter:2.3.0
          env:
            - name: AWS_ACCESS_KEY_ID
              valueFrom:
                secretKeyRef:
                  name: aws-secret
                  key: AWS_ACCESS_KEY_ID
            - name: AWS_SECRET_ACCESS_KEY
              valueFrom:
                secretKeyRef:
                  name: aws-secret
                  key: AWS_SECRET_ACCESS_KEY
"""))
    docs.append(Doc("negative/config/database.env").add(
        """DATABASE_URL=postgres://user:password@localhost:5432/app
MYSQL_URL=mysql://root:<password>@127.0.0.1:3306/test
MONGO_URL=mongodb://localhost:27017/dev
REDIS_URL=redis://localhost:6379/1
AMQP_URL=amqp://rabbitmq:5672/%2f
"""))

    # Environment lookups in many languages.
    docs.append(Doc("negative/src/env_lookups.txt").add(
        """# python
key = os.environ["AWS_ACCESS_KEY_ID"]
secret = os.environ["AWS_SECRET_ACCESS_KEY"]
secret = os.getenv("AWS_SECRET_ACCESS_KEY", "")
client = boto3.client("s3", aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"))
# javascript
const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
const creds = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
// go
secret := os.Getenv("AWS_SECRET_ACCESS_KEY")
// java
String awsSecretKey = System.getenv("AWS_SECRET_ACCESS_KEY");
String secretKey = props.getProperty("aws.secretKey");
// c#
var secret = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
# ruby
secret = ENV['AWS_SECRET_ACCESS_KEY']
secret = ENV.fetch("AWS_SECRET_ACCESS_KEY")
// php
$secret = getenv('AWS_SECRET_ACCESS_KEY');
$secret = $_ENV['AWS_SECRET_ACCESS_KEY'] ?? null;
// rust
let secret = std::env::var("AWS_SECRET_ACCESS_KEY")?;
# shell
aws configure set aws_secret_access_key "$AWS_SECRET_ACCESS_KEY"
export AWS_SECRET_ACCESS_KEY=$(aws configure get aws_secret_access_key --profile prod)
# makefile
AWS_SECRET_ACCESS_KEY ?= $(shell pass show aws/secret)
# powershell
$env:AWS_SECRET_ACCESS_KEY = (Get-Secret -Name AwsSecretAccessKey -AsPlainText)
# stripe, slack, github
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
slack = WebClient(token=os.environ["SLACK_BOT_TOKEN"])
gh = Github(os.getenv("GITHUB_TOKEN"))
"""))

    # Unique ids that are not credentials, hashes and UUIDs beside key names.
    f = Fakes(300)
    iam = {
        "Users": [
            {
                "Path": "/",
                "UserName": "deploy",
                "UserId": f.unique_id("AI" + "DA"),
                "Arn": "arn:aws:iam::123456789012:user/deploy",
                "CreateDate": "2023-01-09T12:00:00+00:00",
            }
        ],
        "Roles": [
            {
                "RoleName": "ci-deploy",
                "RoleId": f.unique_id("AR" + "OA"),
                "Arn": "arn:aws:iam::123456789012:role/ci-deploy",
            }
        ],
        "Policies": [
            {"PolicyName": "s3-rw", "PolicyId": f.unique_id("AN" + "PA")},
            {"PolicyName": "aws-managed", "PolicyId": f.unique_id("AN" + "VA")},
        ],
        "Groups": [{"GroupName": "admins", "GroupId": f.unique_id("AG" + "PA")}],
        "InstanceProfiles": [{"InstanceProfileId": f.unique_id("AI" + "PA")}],
        "ServerCertificates": [{"ServerCertificateId": f.unique_id("AS" + "CA")}],
        "PublicKeys": [{"SSHPublicKeyId": f.unique_id("AP" + "KA")}],
    }
    docs.append(Doc("negative/aws/iam-export.json").add(json.dumps(iam, indent=2) + "\n"))
    docs.append(Doc("negative/config/hashes.env").add(
        f"""# digests of the secrets, for drift detection
AWS_SECRET_ACCESS_KEY_SHA1={f.hex(40)}
aws_secret_access_key_sha256 = {f.hex(64)}
aws_secret_access_key: {f.hex(40)}
AWS_SECRET_ACCESS_KEY={f.hex(40).upper()}
GIT_COMMIT={f.hex(40)}
secret_key_id = {f.uuid()}
aws_secret_key_ref = {f.uuid()}
REQUEST_ID={f.uuid()}
"""))
    docs.append(Doc("negative/ci/build-883.log").add(
        "\n".join(
            f"2024-05-14T09:{i // 60:02d}:{i % 60:02d}Z [{f.uuid()}] commit {f.hex(40)} "
            + filler_words(f.r, 10)
            for i in range(200)
        )
        + "\n"
    ))

    # Lock files.
    f = Fakes(301)
    pkgs = ["react", "react-dom", "scheduler", "loose-envify", "js-tokens", "@aws-sdk/client-s3",
            "@smithy/types", "tslib", "uuid", "lodash", "semver", "debug", "ms", "chalk"]
    lock = {"name": "acme-web", "version": "4.2.0", "lockfileVersion": 3, "requires": True,
            "packages": {}}
    yarn = ["# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.", "# yarn lockfile v1", ""]
    for name in pkgs:
        version = f"{f.r.randrange(1, 19)}.{f.r.randrange(0, 30)}.{f.r.randrange(0, 12)}"
        integrity = "sha512-" + base64.b64encode(f.r.randbytes(64)).decode()
        base = name.split("/")[-1]
        lock["packages"][f"node_modules/{name}"] = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{base}-{version}.tgz",
            "integrity": integrity,
            "license": "MIT",
        }
        yarn += [
            f'"{name}@^{version}":',
            f"  version \"{version}\"",
            f"  resolved \"https://registry.yarnpkg.com/{name}/-/{base}-{version}.tgz#{f.hex(40)}\"",
            f"  integrity {integrity}",
            "",
        ]
    docs.append(Doc("negative/node/package-lock.json").add(json.dumps(lock, indent=2) + "\n"))
    docs.append(Doc("negative/node/yarn.lock").add("\n".join(yarn) + "\n"))
    crates = ["aho-corasick", "memchr", "regex-automata", "serde", "serde_json", "anyhow",
              "base64", "crc32fast", "sha2", "thiserror", "toml", "rayon", "ignore"]
    cargo = ["# This file is automatically @generated by Cargo.", "# It is not intended for manual editing.",
             "version = 4", ""]
    for name in crates:
        cargo += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "{f.r.randrange(0, 3)}.{f.r.randrange(0, 40)}.{f.r.randrange(0, 20)}"',
            'source = "registry+https://github.com/rust-lang/crates.io-index"',
            f'checksum = "{f.hex(64)}"',
            "",
        ]
    docs.append(Doc("negative/rust/Cargo.lock").add("\n".join(cargo)))
    gosum = []
    for mod in ["github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go", "golang.org/x/sync",
                "github.com/google/uuid", "github.com/stretchr/testify"]:
        v = f"v1.{f.r.randrange(0, 30)}.{f.r.randrange(0, 9)}"
        gosum.append(f"{mod} {v} h1:{base64.b64encode(f.r.randbytes(32)).decode()}")
        gosum.append(f"{mod} {v}/go.mod h1:{base64.b64encode(f.r.randbytes(32)).decode()}")
    docs.append(Doc("negative/go/go.sum").add("\n".join(gosum) + "\n"))

    # Inline images and fonts in CSS.
    f = Fakes(302)
    png = base64.b64encode(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + f.r.randbytes(6000)
    ).decode()
    woff = base64.b64encode(b"wOF2\x00\x01\x00\x00" + f.r.randbytes(24000)).decode()
    docs.append(Doc("negative/web/styles.css").add(
        CSS_FILLER
        + f".logo {{ background-image: url(data:image/png;base64,{png}); }}\n"
        + CSS_FILLER
        + "@font-face {\n  font-family: \"Inter\";\n"
        + f"  src: url(data:font/woff2;base64,{woff}) format(\"woff2\");\n}}\n"
    ))

    # Test-mode and publishable Stripe keys; GitHub and npm tokens with broken checksums.
    f = Fakes(303)
    docs.append(Doc("negative/saas/.env.test").add(
        f"""STRIPE_SECRET_KEY={"sk" + "_test_" + f.alnum(99)}
STRIPE_PUBLISHABLE_KEY={"pk" + "_live_" + f.alnum(99)}
STRIPE_TEST_PUBLISHABLE_KEY={"pk" + "_test_" + f.alnum(99)}
STRIPE_RESTRICTED_TEST_KEY={"rk" + "_test_" + f.alnum(99)}
GITHUB_TOKEN={f.github_broken()}
GH_OAUTH_TOKEN={f.github_broken("gh" + "o_")}
NPM_TOKEN={f.github_broken("np" + "m_")}
SLACK_BOT_TOKEN=xoxb-your-bot-token
"""))

    # Random 40-character base64 with no AWS context: no AWS finding. A value assigned to a
    # secret name (`client_secret`, `SECRET_KEY`) is a generic secret, so these two files are
    # positives of generic.secret-assignment (and of nothing else).
    f = Fakes(304)
    signing, encryption, client_secret, salt = f.secret(), f.secret(), f.secret(), f.secret()
    d = Doc("positive/config/app.yaml").add(
        f"""server:
  port: 8443
  session:
    signing_key: {signing}
    encryption_key: "{encryption}"
oauth:
  client_id: web-frontend
  client_secret: {client_secret}
cache:
  etag_salt: {salt}
""")
    docs.append(d.expect("generic.secret-assignment", client_secret))
    secret_key = f.secret()
    d = Doc("positive/src/python/fixtures.py").add(
        f'''"""Opaque ids used by the API tests."""
SECRET_KEY = "{secret_key}"
NONCES = [
    "{f.secret()}",
    "{f.secret()}",
    "{f.secret()}",
]
{PY_FILLER}''')
    docs.append(d.expect("generic.secret-assignment", secret_key))

    # Private-key look-alikes: public keys, certificates, truncated documentation.
    f = Fakes(305)
    cert_body = f.pem_body(900)
    docs.append(Doc("negative/certs/ca-bundle.pem").add(
        f"-----BEGIN CERTIFICATE-----\n{cert_body}\n-----END CERTIFICATE-----\n"
        f"-----BEGIN PUBLIC KEY-----\n{f.pem_body(270)}\n-----END PUBLIC KEY-----\n"
    ))
    docs.append(Doc("negative/docs/tls.md").add(
        """# TLS

Put the key in `tls.key`; it looks like this:

```
-----BEGIN PRIVATE KEY-----
...
-----END PRIVATE KEY-----
```

and never commit it. `ssh-keygen -t ed25519` writes `-----BEGIN OPENSSH PRIVATE KEY-----` files.
"""))

    # `aws configure list` and CI masking.
    docs.append(Doc("negative/ci/configure-list.log").add(
        """$ aws configure list
      Name                    Value             Type    Location
      ----                    -----             ----    --------
   profile                <not set>             None    None
access_key     ****************QJ4M shared-credentials-file
secret_key     ****************n3Xz shared-credentials-file
    region                us-east-1      config-file    ~/.aws/config
$ env | grep AWS
AWS_ACCESS_KEY_ID=***
AWS_SECRET_ACCESS_KEY=***
AWS_SESSION_TOKEN=***
"""))

    # Web code that handles a `session_token` cookie, with an inline logo nearby.
    f = Fakes(307)
    logo = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + f.r.randbytes(1500)).decode()
    docs.append(Doc("negative/src/python/auth_views.py").add(
        f'''from flask import make_response, redirect, request

LOGO = "data:image/png;base64,{logo}"


def login(user):
    resp = make_response(redirect("/"))
    resp.set_cookie("session_token", new_session(user), httponly=True, secure=True)
    return resp


def current_user():
    session_token = request.cookies.get("session_token")
    return sessions.lookup(session_token) if session_token else None
'''))
    icon = base64.b64encode(b"\x89PNG" + f.r.randbytes(900)).decode()
    docs.append(Doc("negative/web/email/welcome.html").add(
        f"""<html><body>
<p>Welcome! Confirm your address with the link below.</p>
<a href="https://acme.test/confirm?security_token={f.hex(32)}">Confirm</a>
<img alt="Acme" src="data:image/png;base64,{icon}">
</body></html>
"""))

    # Provider look-alikes: documentation placeholders, truncations, public keys.
    f = Fakes(308)
    ssh_pub = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 " + f.r.randbytes(32)).decode()
    docs.append(Doc("negative/docs/providers.md").add(
        f"""# Connecting the integrations

| Service | Variable | Value |
|---|---|---|
| GitLab | `GITLAB_TOKEN` | `{"gl" + "pat-"}xxxxxxxxxxxxxxxxxxxx` |
| Slack | `SLACK_BOT_TOKEN` | `{"xo" + "xb-"}XXXXXXXXXXX-XXXXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX` |
| Stripe | `STRIPE_SECRET_KEY` | `{"sk" + "_live_"}...` (see the dashboard) |
| Heroku | `HEROKU_API_KEY` | `{"HR" + "KU-"}<your-key>` |
| DigitalOcean | `DO_TOKEN` | `{"dop" + "_v1_"}{"0" * 64}` |
| OpenAI | `OPENAI_API_KEY` | `{"sk-" + "proj-"}...` |

Your SSH public key goes in `~/.ssh/authorized_keys`:

    ssh-ed25519 {ssh_pub} dev@acme.test

and the release key is published as

-----BEGIN PGP PUBLIC KEY BLOCK-----

{f.pem_body(1200)}
-----END PGP PUBLIC KEY BLOCK-----
"""))

    # Long minified code without keys.
    f = Fakes(306)
    docs.append(Doc("negative/web/dist/vendor.3e1b0d.min.js").add(
        "/*! vendor bundle */\n" + minified_code(f.r, 300_000) + "\n"
    ))

    return docs


def main():
    import argparse

    parser = argparse.ArgumentParser(description="Write keysweep's labelled corpus.")
    parser.add_argument("--out", default=ROOT, help="output directory (default: corpus/)")
    root = parser.parse_args().out
    for sub in ("positive", "negative"):
        shutil.rmtree(os.path.join(root, sub), ignore_errors=True)
    docs = positives() + negatives()
    sys.dont_write_bytecode = True  # no __pycache__ inside the scanned corpus
    import gen_agents

    docs += gen_agents.docs(sys.modules[__name__])
    paths = [d.path for d in docs]
    if len(paths) != len(set(paths)):
        sys.exit("duplicate corpus path")
    labels = []
    for d in docs:
        d.write(root)
        labels.extend(d.labels())
    labels.sort(key=lambda l: (l["path"], l["line"], l["column"], l["rule"]))
    with open(os.path.join(root, "labels.json"), "w", encoding="utf-8", newline="\n") as out:
        json.dump(labels, out, indent=1)
        out.write("\n")
    print(f"{len(docs)} files, {len(labels)} labels")


if __name__ == "__main__":
    main()

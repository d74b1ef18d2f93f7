#!/usr/bin/env python3
"""Writes the starting corpora of the fuzz targets into fuzz/seeds/<target>/.

`cargo fuzz run NAME fuzz/corpus/NAME fuzz/seeds/NAME` grows fuzz/corpus/NAME from these (the
first directory is where libFuzzer writes what reaches new coverage). Seeds are the shapes the
parsers really see: the labelled corpus's files, the built-in rules, small archives and images
made here. Python 3 standard library only; every fake credential is assembled from split
prefixes so this script holds nothing a scanner would report.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import quopri
import shutil
import tarfile
import urllib.parse
import zipfile

FUZZ = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(FUZZ)
SEEDS = os.path.join(FUZZ, "seeds")

KEY_ID = "AKIA" + "Q3EGRTYZ7KXB2MNW"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEYz9Qa"
ENV = f"AWS_ACCESS_KEY_ID={KEY_ID}\nAWS_SECRET_ACCESS_KEY={SECRET}\n".encode()
GH = "gh" + "p_" + "x" * 30 + "Ab12Cd"


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def corpus_files(limit_bytes=16384):
    for top in ("positive", "negative"):
        for root, _, files in os.walk(os.path.join(REPO, "corpus", top)):
            for name in sorted(files):
                path = os.path.join(root, name)
                if os.path.getsize(path) <= limit_bytes:
                    yield os.path.relpath(path, os.path.join(REPO, "corpus")), open(path, "rb").read()


def tar_bytes(members, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)
    for path in sorted(os.listdir(os.path.join(REPO, "rules"))):
        put("rules_toml", path, open(os.path.join(REPO, "rules", path), "rb").read())
    put("config_toml", "allowlist.toml", '[allowlist]\npaths = ["vendor/**", "*.lock"]\nrules = ["generic.api-key"]\n'
        'regexes = ["EXAMPLE"]\nfingerprints = ["0123456789abcdef"]\n')
    put("config_toml", "rule.toml", '[[rules]]\nid = "acme.token"\nname = "Acme token"\nregex = \'acme_[a-z0-9]{32}\'\n'
        'keywords = ["acme_"]\nseverity = "high"\nexamples = ["acme_0123456789abcdef0123456789abcdef"]\n')
    for i, (rel, data) in enumerate(corpus_files()):
        flat = rel.replace("/", "_")
        put("matcher", flat, data)
        if i % 3 == 0:
            put("decode_scan", flat, data)
        if rel.endswith(".ipynb"):
            put("notebook", flat, data)
        if rel.endswith(".log"):
            put("log_clean", flat, data)
    put("decode_scan", "k8s-secret.yaml", b"apiVersion: v1\nkind: Secret\ndata:\n  aws: " + base64.b64encode(ENV) + b"\n")
    put("decode_base64", "env", base64.b64encode(ENV))
    put("decode_base64", "url", base64.urlsafe_b64encode(ENV + b"?" * 3))
    put("decode_base64", "nested", b"x: " + base64.b64encode(base64.b64encode(ENV)) + b"\n")
    put("decode_base64", "docker-auth", b'{"auths":{"r":{"auth":"' + base64.b64encode(b"user:" + GH.encode()) + b'"}}}')
    put("decode_json", "escaped", json.dumps({"env": ENV.decode(), "url": "https:\\/\\/x"}).encode())
    put("decode_json", "unicode", b'"\\u0041KIA\\ud83d\\ude00 \\/ \\n \\"q\\""')
    put("decode_percent", "url", ("https://x/?k=" + urllib.parse.quote(ENV.decode(), safe="")).encode())
    put("decode_percent", "form", b"a=%41%4B%49%41+b%2Fc&d=%zz%4")
    put("decode_qp", "mail", quopri.encodestring(ENV * 3 + b"caf\xc3\xa9 line that is long enough to wrap " * 3))
    put("decode_qp", "soft", b"AWS_SECRET_ACCESS_KEY=3D=\r\nwJalr=\n=3D=3")
    nb = {"cells": [{"cell_type": "code", "source": ["import os\n", f"os.environ['AWS_ACCESS_KEY_ID'] = '{KEY_ID}'\n"],
                     "outputs": [{"output_type": "stream", "text": [base64.b64encode(ENV).decode()]},
                                 {"data": {"text/plain": [ENV.decode()], "image/png": "iVBORw0KGgo="}}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    put("notebook", "made.ipynb", json.dumps(nb, indent=1))
    tar = tar_bytes([("app/.env", ENV), ("../escape", ENV), ("dir/", b"")])
    put("archive", "plain.tar", tar)
    put("archive", "tar.gz", gzip.compress(tar))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("BOOT-INF/classes/application.properties", b"aws.secret=" + SECRET.encode() + b"\n" + ENV)
        z.writestr("nested.tar.gz", gzip.compress(tar))
    put("archive", "app.jar", zbuf.getvalue())
    put("archive", "pax.tar", tar_bytes([("long/" + "n" * 120, ENV)], tarfile.PAX_FORMAT))
    # Images: a legacy `docker save` and its OCI flavour, and an OCI layout's parts.
    layer = tar_bytes([("app/.env", ENV), ("app/.wh.old", b""), ("etc/passwd", b"root:x:0:0\n")])
    layer_gz = gzip.compress(layer)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Env": [f"AWS_SECRET_ACCESS_KEY={SECRET}", f"AWS_ACCESS_KEY_ID={KEY_ID}"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
                         "history": [{"created_by": f"RUN echo {GH}"}]}).encode()
    legacy = json.dumps([{"Config": sha(config)[7:] + ".json", "RepoTags": ["app:1"],
                          "Layers": [sha(layer)[7:] + "/layer.tar"]}]).encode()
    put("image_archive", "legacy.tar", tar_bytes([("manifest.json", legacy), (sha(config)[7:] + ".json", config),
                                                  (sha(layer)[7:] + "/layer.tar", layer)]))
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(layer_gz), "size": len(layer_gz)}]}).encode()
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest), "size": len(manifest),
                                       "annotations": {"org.opencontainers.image.ref.name": "1"},
                                       "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    blob = lambda data: ("blobs/sha256/" + sha(data)[7:], data)
    put("image_archive", "oci.tar", tar_bytes([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index),
                                               blob(manifest), blob(config), blob(layer_gz)]))
    # oci_layout: index, manifest, config, layer, NUL-separated, with the digests the target uses.
    ones, twos, threes = ("sha256:" + c * 64 for c in "123")
    fixed_manifest = manifest.replace(sha(config).encode(), twos.encode()).replace(sha(layer_gz).encode(), threes.encode())
    fixed_index = index.replace(sha(manifest).encode(), ones.encode())
    put("oci_layout", "gzip", b"\0".join([fixed_index, fixed_manifest, config, layer_gz]))
    put("oci_layout", "plain", b"\0".join([fixed_index, fixed_manifest.replace(b"tar+gzip", b"tar"), config, layer]))
    nested = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                                                          "digest": ones, "size": 1}]}).encode()
    put("oci_layout", "self-index", b"\0".join([nested, nested, config, layer]))
    put("codeowners", "CODEOWNERS", "# owners\n* @org/platform\n/src/ @alice @bob\n*.env  security@example.com\n"
        "docs/**/*.md @docs\n/build/logs/ \n!negated\n\\#not-comment @x\n[Section] @y\napps/*/config/ @team\n")
    put("iam_policy", "admin.json", json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    put("iam_policy", "mixed.json", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "iam:PassRole"], "Resource": ["arn:aws:s3:::b/*"]},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}))
    put("iam_policy", "encoded.txt", urllib.parse.quote(json.dumps({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}})))
    put("iam_policy", "authorization-details.json", open(os.path.join(REPO, "tests/data/iam-authorization-details.json"), "rb").read())
    put("aws_response", "caller.xml", "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
        "<Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDA0000</UserId><Account>123456789012</Account>"
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>")
    put("aws_response", "error.xml", "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
        "<Message>The security token included in the request is invalid &amp; &lt;x&gt; &#65;&#x42;</Message></Error></ErrorResponse>")
    put("aws_response", "policies.xml", "<ListAttachedUserPoliciesResponse><ListAttachedUserPoliciesResult><AttachedPolicies><member>"
        "<PolicyName>Admin</PolicyName><PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn></member></AttachedPolicies>"
        "<IsTruncated>true</IsTruncated><Marker>m1</Marker></ListAttachedUserPoliciesResult></ListAttachedUserPoliciesResponse>")
    put("aws_response", "document.xml", "<GetUserPolicyResult><PolicyDocument>" + urllib.parse.quote(json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})) + "</PolicyDocument></GetUserPolicyResult>")
    put("guard_payload", "write.json", json.dumps({"session_id": "s", "cwd": "/repo", "hook_event_name": "PreToolUse", "tool_name": "Write",
                                                  "tool_input": {"file_path": "/repo/.env", "content": ENV.decode()}}))
    put("guard_payload", "edit.json", json.dumps({"tool_name": "MultiEdit", "cwd": "/repo", "tool_input": {"file_path": "a.py", "edits": [
        {"old_string": "x", "new_string": f"KEY = '{KEY_ID}'"}]}}))
    put("guard_payload", "bash.json", json.dumps({"tool_name": "Bash", "tool_input": {"command": f"export GITHUB_TOKEN={GH}"}}))
    put("log_clean", "ansi.log", b"2026-01-01T00:00:00.0000000Z \x1b[32mok\x1b[0m\r\nprogress 10%\rprogress 100%\n"
        b"\x1b]8;;http://x\x07link\x1b]8;;\x07 " + ENV + b"\x1b[")


if __name__ == "__main__":
    main()

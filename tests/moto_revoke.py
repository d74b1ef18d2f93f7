#!/usr/bin/env python3
"""moto for the `keysweep revoke` tests (tests/revoke.rs).

Usage:
  moto_revoke.py serve -H 127.0.0.1 -p PORT     moto_server, with inactive keys rejected
  moto_revoke.py world ENDPOINT OUTDIR          users and keys for the tests (world.json)
  moto_revoke.py status ENDPOINT ADMIN_ID ADMIN_SECRET USER   the user's key status
  moto_revoke.py whoami ENDPOINT KEY_ID SECRET  sts:GetCallerIdentity: the ARN, or the error code

`serve` patches moto in process: moto 5.2 keeps authenticating a key after
`UpdateAccessKey Status=Inactive`, where AWS answers `InvalidClientTokenId`. The patch makes
moto's access-key lookup (moto.iam.access_control.IAMUserAccessKey) refuse an inactive key the
way it refuses an unknown one, so "STS rejects the key once it is deactivated" can be tested.

`world` needs a server started with INITIAL_NO_AUTH_ACTION_COUNT=3: the first three requests
make the admin user, its `*` policy and its key; everything after is authenticated.
Every key is minted by moto; nothing here is a real credential.
"""

import json
import os
import sys

import boto3
import botocore.exceptions


def serve(argv):
    from moto.iam import access_control
    from moto.server import main

    original = access_control.IAMUserAccessKey.__init__

    def active_only(self, account_id, partition, access_key_id, headers):
        original(self, account_id, partition, access_key_id, headers)
        for user in self.backend.list_users("/", None, None):
            for key in user.access_keys:
                if key.access_key_id == access_key_id and key.status != "Active":
                    raise access_control.CreateAccessKeyFailure(reason="InvalidId")

    access_control.IAMUserAccessKey.__init__ = active_only
    main(argv)


def doc(*actions):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    })


def client(service, endpoint, key_id, secret):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key_id, aws_secret_access_key=secret)


def world(endpoint, outdir):
    boot = client("iam", endpoint, "bootstrap", "bootstrap")
    boot.create_user(UserName="admin")
    boot.put_user_policy(UserName="admin", PolicyName="everything", PolicyDocument=doc("*"))
    admin = boot.create_access_key(UserName="admin")["AccessKey"]
    iam = client("iam", endpoint, admin["AccessKeyId"], admin["SecretAccessKey"])
    users = {
        # May deactivate keys (moto matches IAM actions on "*" only; AWS would allow the
        # user's own ARN).
        "rotator": doc("iam:UpdateAccessKey", "iam:ListAccessKeys"),
        # Reads its keys, may not change them.
        "reader": doc("iam:Get*", "iam:List*"),
        # No policy: only an administrator can deactivate its key.
        "victim": None,
        # Its key is made inactive below.
        "dormant": doc("iam:UpdateAccessKey", "iam:ListAccessKeys"),
    }
    out = {"admin": {"key_id": admin["AccessKeyId"], "secret": admin["SecretAccessKey"]}}
    for name, policy in users.items():
        iam.create_user(UserName=name)
        if policy:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        out[name] = {"key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    iam.update_access_key(UserName="dormant", AccessKeyId=out["dormant"]["key_id"],
                          Status="Inactive")
    with open(os.path.join(outdir, "world.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)


def status(endpoint, key_id, secret, user):
    iam = client("iam", endpoint, key_id, secret)
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    print(" ".join(k["Status"] for k in keys))


def whoami(endpoint, key_id, secret):
    try:
        print(client("sts", endpoint, key_id, secret).get_caller_identity()["Arn"])
    except botocore.exceptions.ClientError as e:
        print(e.response["Error"]["Code"])


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"serve": serve, "world": world, "status": status, "whoami": whoami}[command](
        *([args] if command == "serve" else args))

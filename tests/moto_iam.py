#!/usr/bin/env python3
"""Builds the IAM world the verification and blast-radius tests run against, in a moto server.

Usage: moto_iam.py ENDPOINT OUTDIR

The server must run with INITIAL_NO_AUTH_ACTION_COUNT=3: the first three requests (create the
admin user, give it `*` on `*`, mint its key) pass unchecked; everything after is made with the
admin's key and authenticated, as keys are on AWS. Writes to OUTDIR:

- world.json: every user's key id, secret, ARN and user id (moto mints them; nothing here is a
  real credential), the deleted key, a role session (ASIA key + token);
- authorization-details.json: `aws iam get-account-authorization-details` as the CLI prints it;
- access-keys.json: `aws iam list-access-keys` for every user, merged.
"""

import json
import os
import sys

import boto3

SELF_READ = {  # lets a user read its own policies (moto matches actions on "*" only)
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}],
}


def doc(*actions):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    })


def main():
    endpoint, outdir = sys.argv[1], sys.argv[2]
    common = dict(endpoint_url=endpoint, region_name="us-east-1")
    boot = boto3.client("iam", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
                        **common)
    # The three unauthenticated requests.
    boot.create_user(UserName="admin")
    boot.put_user_policy(UserName="admin", PolicyName="everything", PolicyDocument=doc("*"))
    admin_key = boot.create_access_key(UserName="admin")["AccessKey"]
    creds = dict(aws_access_key_id=admin_key["AccessKeyId"],
                 aws_secret_access_key=admin_key["SecretAccessKey"])
    iam = boto3.client("iam", **creds, **common)
    sts = boto3.client("sts", **creds, **common)

    self_read = iam.create_policy(PolicyName="self-read", PolicyDocument=json.dumps(SELF_READ))
    self_read_arn = self_read["Policy"]["Arn"]

    # Only iam:CreateAccessKey: can mint keys for any user (privilege escalation), cannot even
    # read its own policies.
    iam.create_user(UserName="escalator")
    iam.put_user_policy(UserName="escalator", PolicyName="mint-keys",
                        PolicyDocument=doc("iam:CreateAccessKey"))
    # The same power, plus the right to read its own policies (for live reads).
    iam.create_user(UserName="escalator-reader")
    iam.put_user_policy(UserName="escalator-reader", PolicyName="mint-keys",
                        PolicyDocument=doc("iam:CreateAccessKey"))
    iam.attach_user_policy(UserName="escalator-reader", PolicyArn=self_read_arn)

    # s3:GetObject through a group's managed policy, whose default is its second version.
    iam.create_group(GroupName="data-readers")
    objects = iam.create_policy(PolicyName="objects", PolicyDocument=doc("s3:ListBucket"))
    objects_arn = objects["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=objects_arn, PolicyDocument=doc("s3:GetObject"),
                              SetAsDefault=True)
    iam.attach_group_policy(GroupName="data-readers", PolicyArn=objects_arn)
    iam.create_user(UserName="data")
    iam.add_user_to_group(GroupName="data-readers", UserName="data")
    iam.attach_user_policy(UserName="data", PolicyArn=self_read_arn)

    # Reads metadata only.
    iam.create_user(UserName="reader")
    iam.attach_user_policy(UserName="reader", PolicyArn=self_read_arn)
    iam.put_user_policy(UserName="reader", PolicyName="look",
                        PolicyDocument=doc("s3:ListAllMyBuckets", "ec2:Describe*"))

    # No policy at all: live, but cannot read anything about itself.
    iam.create_user(UserName="silent")

    world = {"account": sts.get_caller_identity()["Account"], "users": {}}
    for name in ["admin", "escalator", "escalator-reader", "data", "reader", "silent"]:
        key = admin_key if name == "admin" else iam.create_access_key(UserName=name)["AccessKey"]
        user = iam.get_user(UserName=name)["User"]
        world["users"][name] = {
            "key_id": key["AccessKeyId"],
            "secret": key["SecretAccessKey"],
            "arn": user["Arn"],
            "user_id": user["UserId"],
        }

    # A key that existed and was deleted.
    iam.create_user(UserName="gone")
    gone = iam.create_access_key(UserName="gone")["AccessKey"]
    iam.delete_access_key(UserName="gone", AccessKeyId=gone["AccessKeyId"])
    world["deleted"] = {"key_id": gone["AccessKeyId"], "secret": gone["SecretAccessKey"]}

    # A role session: a temporary ASIA key and its session token.
    # moto matches the trust policy's principal exactly: name the admin user, not the account.
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
              "Principal": {"AWS": world["users"]["admin"]["arn"]}}]}
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="deployer", PolicyName="all", PolicyDocument=doc("*"))
    session = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="ci")
    world["session"] = {
        "key_id": session["Credentials"]["AccessKeyId"],
        "secret": session["Credentials"]["SecretAccessKey"],
        "token": session["Credentials"]["SessionToken"],
        "arn": session["AssumedRoleUser"]["Arn"],
    }

    details = iam.get_account_authorization_details()
    details.pop("ResponseMetadata", None)
    keys = {"AccessKeyMetadata": []}
    for name in world["users"]:
        for meta in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            keys["AccessKeyMetadata"].append(meta)

    def write(name, value):
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2, default=str)

    write("world.json", world)
    write("authorization-details.json", details)
    write("access-keys.json", keys)


if __name__ == "__main__":
    main()

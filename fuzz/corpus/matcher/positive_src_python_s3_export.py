"""Nightly export of the orders table to S3."""
import logging

import boto3

log = logging.getLogger(__name__)

# TODO move to the vault before go-live — 本番用キー
s3 = boto3.client(
    "s3",
    region_name="us-east-1",
    aws_access_key_id="AKIA6T52KXO5BYP55QWM",
    aws_secret_access_key="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",
)

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
    body = "\n".join(",".join(str(c) for c in row) for row in rows)
    client.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"))
    log.info("uploaded %d rows to s3://%s/%s", len(rows), bucket, key)

import boto3
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
    s3 = boto3.client("s3", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                      aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    s3.create_bucket(Bucket="b")

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

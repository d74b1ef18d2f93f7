"""Opaque ids used by the API tests."""
SECRET_KEY = "z8NktWz25csGd4QbITitNTI+SRYcWJwQs4sKtc5f"
NONCES = [
    "M3VnrI2mqXwc8KorTOOyEZXPyaHMwUl7+1FgTOv3",
    "6mNTV+D5kfrcWmc4KaXu/YlIo8PIRfTPmaGrSURF",
    "nE9u1KZwx4h5I2hKJqDj5AUFUcRvJpVNcRZmDgd3",
]

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

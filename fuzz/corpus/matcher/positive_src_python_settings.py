from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = False
ALLOWED_HOSTS = ["www.acme.test"]

STORAGES = {"default": {"BACKEND": "storages.backends.s3.S3Storage"}}
AWS_STORAGE_BUCKET_NAME = "acme-media"
AWS_S3_REGION_NAME = "eu-west-1"
AWS_ACCESS_KEY_ID = 'AKIABRB6WP3BETIT7ST3'
AWS_SECRET_ACCESS_KEY = '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'
AWS_QUERYSTRING_AUTH = False

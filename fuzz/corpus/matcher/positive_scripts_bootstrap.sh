#!/usr/bin/env bash
set -euo pipefail
aws configure set aws_access_key_id AKIAUXFZSBYHWGKO47MO
aws configure set aws_secret_access_key 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
aws configure set region us-east-1
aws sts get-caller-identity

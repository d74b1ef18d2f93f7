@echo off
rem deploy the static site
set AWS_ACCESS_KEY_ID=AKIAPOTLWJTAEJ62GQSK
set AWS_SECRET_ACCESS_KEY=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
set AWS_DEFAULT_REGION=us-east-1
aws s3 sync .\site s3://acme-www

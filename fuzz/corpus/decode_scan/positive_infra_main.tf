terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region     = "us-east-1"
  access_key = "AKIAYP26RE2UCHFJ4A3O"
  secret_key = "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"
}

resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs-prod"
}

variable "client_secret" {
  type      = string
  sensitive = true
}

provider "azuread" {
  client_secret = var.client_secret
}

data "aws_secretsmanager_secret_version" "db" {
  secret_id = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-Ab12Cd"
}

provider "azuread" {
  tenant_id     = "00000000-0000-0000-0000-000000000000"
  client_id     = "web"
  client_secret = "Zhk5eKAMHcoeyo-vpcCxP6Uv"
}

# Tollgate's authorizer in front of an HTTP API, trusting a Cognito user
# pool created beside it: the pool's issuer URL, its app client's id as the
# audience (Cognito access tokens carry `client_id`, no `aud`), and the
# user's groups (`cognito:groups`) as scopes.

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "notes"
}

variable "upstream_url" {
  description = "The service the routes proxy to."
  type        = string
  default     = "https://notes.internal.example.com"
}

variable "lambda_zip" {
  description = "The authorizer's bootstrap.zip; null: the one `make lambda` builds in this repository."
  type        = string
  default     = null
}

data "aws_region" "current" {}

locals {
  lambda_zip = coalesce(var.lambda_zip, "${path.module}/../../../target/lambda/authorizer/bootstrap.zip")
  # Each route and the Cognito groups that may call it.
  route_scopes = {
    "GET /notes"  = "readers writers"
    "POST /notes" = "writers"
  }
}

resource "aws_cognito_user_pool" "users" {
  #checkov:skip=CKV_AWS_362:Deletion protection is left off so the example can be destroyed; turn it on for a pool with real users.
  name = "${var.name}-users"

  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_numbers   = true
    require_symbols   = false
    require_uppercase = true
  }
}

resource "aws_cognito_user_pool_client" "app" {
  name         = "${var.name}-app"
  user_pool_id = aws_cognito_user_pool.users.id
  # USER_PASSWORD_AUTH for a first try with the AWS CLI; SRP for real apps.
  explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
}

resource "aws_cognito_user_group" "group" {
  for_each = toset(["readers", "writers"])

  name         = each.key
  user_pool_id = aws_cognito_user_pool.users.id
}

resource "aws_apigatewayv2_api" "notes" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Notes API behind Tollgate's authorizer and a Cognito user pool (example)"
}

resource "aws_apigatewayv2_integration" "upstream" {
  api_id             = aws_apigatewayv2_api.notes.id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  integration_uri    = var.upstream_url
}

module "authorizer" {
  source = "../../modules/authorizer"

  name       = "${var.name}-authorizer"
  lambda_zip = local.lambda_zip
  # Cognito's issuer; its JWKS is found by OIDC discovery.
  issuer       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.users.id}"
  audiences    = [aws_cognito_user_pool_client.app.id]
  scope_claims = ["cognito:groups"]
  route_scopes = local.route_scopes
  # Access tokens only (token_use "access"), as by default.
  api_type         = "http"
  http_api_id      = aws_apigatewayv2_api.notes.id
  simple_responses = true
}

resource "aws_apigatewayv2_route" "notes" {
  for_each = local.route_scopes

  api_id             = aws_apigatewayv2_api.notes.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.upstream.id}"
  authorization_type = "CUSTOM"
  authorizer_id      = module.authorizer.authorizer_id
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs' own service key; access logs carry no token. A customer-managed key is left to operators who need it.
  #checkov:skip=CKV_AWS_338:An example keeps its logs 30 days; set 365 or more where policy requires a year.
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = 30
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.notes.id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId       = "$context.requestId"
      routeKey        = "$context.routeKey"
      status          = "$context.status"
      authorizerError = "$context.authorizer.error"
    })
  }
}

output "api_url" {
  description = "Call {api_url}/notes with a Cognito access token."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "user_pool_id" {
  description = "The user pool: add users and put them in readers or writers."
  value       = aws_cognito_user_pool.users.id
}

output "client_id" {
  description = "The app client (the audience the authorizer accepts)."
  value       = aws_cognito_user_pool_client.app.id
}

output "issuer" {
  description = "The pool's issuer URL, as the authorizer trusts it."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.users.id}"
}

output "authorizer_id" {
  description = "The authorizer on every route."
  value       = module.authorizer.authorizer_id
}

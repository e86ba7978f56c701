# An HTTP API with GET /items, POST /items, GET /tenants/{tenant}/items and
# ANY /admin/{proxy+} in front of an upstream HTTP service, each route
# behind Tollgate's authorizer with simple responses: the answer is
# isAuthorized for the route, so the route key is part of API Gateway's
# cache key, and, with a route rule binding {tenant} to the token's tenant,
# the path too (the module adds both).

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "items"
}

variable "issuer" {
  description = "Your IdP's issuer URL (the exact `iss` of its tokens)."
  type        = string
  default     = "https://idp.example.com"
}

variable "audiences" {
  description = "Accepted `aud` values."
  type        = list(string)
  default     = ["items-api"]
}

variable "upstream_url" {
  description = "The service the routes proxy to."
  type        = string
  default     = "https://items.internal.example.com"
}

variable "lambda_zip" {
  description = "The authorizer's bootstrap.zip; null: the one `make lambda` builds in this repository."
  type        = string
  default     = null
}

locals {
  lambda_zip = coalesce(var.lambda_zip, "${path.module}/../../../target/lambda/authorizer/bootstrap.zip")
  routes     = ["GET /items", "POST /items", "GET /tenants/{tenant}/items", "ANY /admin/{proxy+}"]
  # What each route needs, in ROUTE_SCOPES' terms (`*` matches `/` too): a
  # simple response for `ANY /admin/{proxy+}` is `true` only for a token
  # granted every verb on every path under /admin.
  route_scopes = {
    "GET /items"                  = "items:read"
    "POST /items"                 = "items:write"
    "GET /tenants/{tenant}/items" = "items:read"
    "* /admin/*"                  = "items:admin"
  }
  # A tenant's items are its own (the token's `tenant_id` claim), or any
  # tenant's for items:admin (docs/route-rules.md).
  route_rules = {
    "GET /tenants/{tenant}/items" = [{ when = "'items:admin' in scopes" }, { bind = { tenant = "claims.tenant_id" } }]
  }
}

resource "aws_apigatewayv2_api" "items" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Items API behind Tollgate's authorizer (example)"
}

resource "aws_apigatewayv2_integration" "upstream" {
  api_id             = aws_apigatewayv2_api.items.id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  integration_uri    = var.upstream_url
}

module "authorizer" {
  source = "../../modules/authorizer"

  name             = "${var.name}-authorizer"
  lambda_zip       = local.lambda_zip
  issuer           = var.issuer
  audiences        = var.audiences
  route_scopes     = local.route_scopes
  route_rules      = local.route_rules
  api_type         = "http"
  http_api_id      = aws_apigatewayv2_api.items.id
  simple_responses = true
}

resource "aws_apigatewayv2_route" "items" {
  for_each = toset(local.routes)

  api_id             = aws_apigatewayv2_api.items.id
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
  api_id      = aws_apigatewayv2_api.items.id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId        = "$context.requestId"
      routeKey         = "$context.routeKey"
      status           = "$context.status"
      authorizerError  = "$context.authorizer.error"
      authorizerStatus = "$context.authorizer.status"
    })
  }
}

output "api_url" {
  description = "Call {api_url}/items with `Authorization: Bearer <token>`."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "authorizer_id" {
  description = "The authorizer on every route."
  value       = module.authorizer.authorizer_id
}

output "function_name" {
  description = "The authorizer function."
  value       = module.authorizer.function_name
}

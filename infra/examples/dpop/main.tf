# A REST API whose tokens are sender-constrained (DPoP, RFC 9449): /transfers
# with GET and POST on a mock integration, behind Tollgate's authorizer as a
# REQUEST authorizer that sees the DPoP proof, never caches an answer, and
# records every proof in its replay table; every 401 challenges for DPoP.

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "transfers"
}

variable "issuer" {
  description = "Your IdP's issuer URL (the exact `iss` of its tokens); it must issue DPoP-bound tokens (`cnf.jkt`)."
  type        = string
  default     = "https://idp.example.com"
}

variable "audiences" {
  description = "Accepted `aud` values."
  type        = list(string)
  default     = ["transfers-api"]
}

variable "public_base_urls" {
  description = "Where clients call the API when not at its invoke URL (a custom domain with a base path): the proofs' `htu` may name these. Empty: the invoke URL only."
  type        = list(string)
  default     = []
}

variable "lambda_zip" {
  description = "The authorizer's bootstrap.zip; null: the one `make lambda` builds in this repository."
  type        = string
  default     = null
}

locals {
  lambda_zip = coalesce(var.lambda_zip, "${path.module}/../../../target/lambda/authorizer/bootstrap.zip")
  # The API's routes and the scopes each needs: one table for both.
  routes = {
    "GET /transfers"  = "transfers:read"
    "POST /transfers" = "transfers:write"
  }
  # Every token must be DPoP-bound: API Gateway refuses a request without a
  # DPoP header before the authorizer runs, the authorizer one whose proof
  # is not for this key, method and URL, or was seen before.
  dpop = {
    mode             = "required"
    public_base_urls = var.public_base_urls
  }
}

resource "aws_api_gateway_rest_api" "transfers" {
  name        = var.name
  description = "Transfers API behind Tollgate's authorizer with DPoP (example)"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "transfers" {
  rest_api_id = aws_api_gateway_rest_api.transfers.id
  parent_id   = aws_api_gateway_rest_api.transfers.root_resource_id
  path_part   = "transfers"
}

module "authorizer" {
  source = "../../modules/authorizer"

  name         = "${var.name}-authorizer"
  lambda_zip   = local.lambda_zip
  issuer       = var.issuer
  audiences    = var.audiences
  route_scopes = local.routes

  api_type    = "rest"
  rest_api_id = aws_api_gateway_rest_api.transfers.id
  dpop        = local.dpop
  # A proof is new on every request and names its method and URL: an
  # answer API Gateway cached would let another request through on the
  # same token without a proof of its own. The module refuses another TTL.
  result_ttl_seconds = 0
}

resource "aws_api_gateway_method" "transfers" {
  #checkov:skip=CKV2_AWS_53:A mock integration in an example; a real API validates its requests in its backend.
  for_each = local.routes

  rest_api_id   = aws_api_gateway_rest_api.transfers.id
  resource_id   = aws_api_gateway_resource.transfers.id
  http_method   = split(" ", each.key)[0]
  authorization = "CUSTOM"
  authorizer_id = module.authorizer.authorizer_id
}

# A mock integration stands in for your backend.
resource "aws_api_gateway_integration" "transfers" {
  for_each = local.routes

  rest_api_id       = aws_api_gateway_rest_api.transfers.id
  resource_id       = aws_api_gateway_resource.transfers.id
  http_method       = aws_api_gateway_method.transfers[each.key].http_method
  type              = "MOCK"
  request_templates = { "application/json" = "{\"statusCode\": 200}" }
}

resource "aws_api_gateway_method_response" "transfers" {
  for_each = local.routes

  rest_api_id = aws_api_gateway_rest_api.transfers.id
  resource_id = aws_api_gateway_resource.transfers.id
  http_method = aws_api_gateway_method.transfers[each.key].http_method
  status_code = "200"
}

resource "aws_api_gateway_integration_response" "transfers" {
  for_each = local.routes

  rest_api_id        = aws_api_gateway_rest_api.transfers.id
  resource_id        = aws_api_gateway_resource.transfers.id
  http_method        = aws_api_gateway_method.transfers[each.key].http_method
  status_code        = aws_api_gateway_method_response.transfers[each.key].status_code
  response_templates = { "application/json" = "{\"transfers\": []}" }

  depends_on = [aws_api_gateway_integration.transfers]
}

resource "aws_api_gateway_deployment" "transfers" {
  rest_api_id = aws_api_gateway_rest_api.transfers.id

  # Redeploy when the routes, the authorizer or the DPoP settings change:
  # the module's 401 challenge (a gateway response) takes effect only at a
  # deployment.
  triggers = {
    redeployment = sha1(jsonencode([local.routes, module.authorizer.authorizer_id, local.dpop]))
  }

  lifecycle {
    create_before_destroy = true
  }

  # The module's gateway response is part of what is deployed.
  depends_on = [aws_api_gateway_integration_response.transfers, module.authorizer]
}

resource "aws_api_gateway_stage" "prod" {
  #checkov:skip=CKV_AWS_120:Responses are per caller; caching is off in this example.
  #checkov:skip=CKV_AWS_76:Access logging is left to your API's stage settings (the root module shows one).
  #checkov:skip=CKV2_AWS_29:A WAF web ACL is the operator's choice; this example has none.
  #checkov:skip=CKV2_AWS_51:Tokens are bound to DPoP keys, not client certificates.
  #checkov:skip=CKV2_AWS_4:Logging levels are left to your API's stage settings.
  rest_api_id          = aws_api_gateway_rest_api.transfers.id
  deployment_id        = aws_api_gateway_deployment.transfers.id
  stage_name           = "prod"
  xray_tracing_enabled = true
}

output "api_url" {
  description = "Call GET/POST {api_url}/transfers with `Authorization: DPoP <token>` and a fresh `DPoP: <proof>` for that method and URL."
  value       = aws_api_gateway_stage.prod.invoke_url
}

output "authorizer_id" {
  description = "The authorizer on both methods."
  value       = module.authorizer.authorizer_id
}

output "function_name" {
  description = "The authorizer function."
  value       = module.authorizer.function_name
}

output "replay_table_name" {
  description = "The DynamoDB table of used proofs."
  value       = module.authorizer.replay_table_name
}

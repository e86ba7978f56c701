# An existing-style REST API: /orders with GET and POST on a mock
# integration, and Tollgate's authorizer in front of both, its route table
# matching the API's routes.

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "orders"
}

variable "issuer" {
  description = "Your IdP's issuer URL (the exact `iss` of its tokens)."
  type        = string
  default     = "https://idp.example.com"
}

variable "audiences" {
  description = "Accepted `aud` values."
  type        = list(string)
  default     = ["orders-api"]
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
    "GET /orders"  = "orders:read"
    "POST /orders" = "orders:write"
  }
}

resource "aws_api_gateway_rest_api" "orders" {
  name        = var.name
  description = "Orders API behind Tollgate's authorizer (example)"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "orders" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_rest_api.orders.root_resource_id
  path_part   = "orders"
}

module "authorizer" {
  source = "../../modules/authorizer"

  name         = "${var.name}-authorizer"
  lambda_zip   = local.lambda_zip
  issuer       = var.issuer
  audiences    = var.audiences
  route_scopes = local.routes

  api_type    = "rest"
  rest_api_id = aws_api_gateway_rest_api.orders.id
}

resource "aws_api_gateway_method" "orders" {
  #checkov:skip=CKV2_AWS_53:A mock integration in an example; a real API validates its requests in its backend.
  for_each = local.routes

  rest_api_id   = aws_api_gateway_rest_api.orders.id
  resource_id   = aws_api_gateway_resource.orders.id
  http_method   = split(" ", each.key)[0]
  authorization = "CUSTOM"
  authorizer_id = module.authorizer.authorizer_id
}

# A mock integration stands in for your backend.
resource "aws_api_gateway_integration" "orders" {
  for_each = local.routes

  rest_api_id       = aws_api_gateway_rest_api.orders.id
  resource_id       = aws_api_gateway_resource.orders.id
  http_method       = aws_api_gateway_method.orders[each.key].http_method
  type              = "MOCK"
  request_templates = { "application/json" = "{\"statusCode\": 200}" }
}

resource "aws_api_gateway_method_response" "orders" {
  for_each = local.routes

  rest_api_id = aws_api_gateway_rest_api.orders.id
  resource_id = aws_api_gateway_resource.orders.id
  http_method = aws_api_gateway_method.orders[each.key].http_method
  status_code = "200"
}

resource "aws_api_gateway_integration_response" "orders" {
  for_each = local.routes

  rest_api_id        = aws_api_gateway_rest_api.orders.id
  resource_id        = aws_api_gateway_resource.orders.id
  http_method        = aws_api_gateway_method.orders[each.key].http_method
  status_code        = aws_api_gateway_method_response.orders[each.key].status_code
  response_templates = { "application/json" = "{\"orders\": []}" }

  depends_on = [aws_api_gateway_integration.orders]
}

resource "aws_api_gateway_deployment" "orders" {
  rest_api_id = aws_api_gateway_rest_api.orders.id

  # Redeploy when the routes or the authorizer change.
  triggers = {
    redeployment = sha1(jsonencode([local.routes, module.authorizer.authorizer_id]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_api_gateway_integration_response.orders]
}

resource "aws_api_gateway_stage" "prod" {
  #checkov:skip=CKV_AWS_120:Responses are per caller; caching is off in this example.
  #checkov:skip=CKV_AWS_76:Access logging is left to your API's stage settings (the root module shows one).
  #checkov:skip=CKV2_AWS_29:A WAF web ACL is the operator's choice; this example has none.
  #checkov:skip=CKV2_AWS_51:Clients hold Bearer tokens, not client certificates.
  #checkov:skip=CKV2_AWS_4:Logging levels are left to your API's stage settings.
  rest_api_id          = aws_api_gateway_rest_api.orders.id
  deployment_id        = aws_api_gateway_deployment.orders.id
  stage_name           = "prod"
  xray_tracing_enabled = true
}

output "api_url" {
  description = "Call GET/POST {api_url}/orders with `Authorization: Bearer <token>`."
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

# The API Gateway authorizer, and the permission for that API (as this
# authorizer) to invoke the function.

# REST without DPoP: a TOKEN authorizer. The Authorization header is the
# identity source and the cache key; a header not in the Bearer form (RFC
# 6750 §2.1: the scheme case-insensitive, one or more spaces, a b64token,
# nothing after it) is answered 401 by API Gateway without invoking the
# function.
resource "aws_api_gateway_authorizer" "token" {
  count = var.api_type == "rest" && var.dpop == null ? 1 : 0

  name                             = var.name
  rest_api_id                      = var.rest_api_id
  type                             = "TOKEN"
  authorizer_uri                   = aws_lambda_function.this.invoke_arn
  identity_source                  = "method.request.header.Authorization"
  identity_validation_expression   = "^[Bb][Ee][Aa][Rr][Ee][Rr] +[A-Za-z0-9._~+/-]+=*$"
  authorizer_result_ttl_in_seconds = var.result_ttl_seconds

  lifecycle {
    precondition {
      condition     = local.environment["DPOP_MODE"] == "off"
      error_message = "A TOKEN authorizer never sees the DPoP header: with DPoP on, the function would fail every invocation."
    }
  }
}

# REST with DPoP: a REQUEST authorizer, whose event carries the request's
# headers (the DPoP proof among them) and the domain and path it was sent
# to. The identity sources are the headers API Gateway requires before it
# invokes the function (401 otherwise): Authorization always, and the DPoP
# header when every token must be DPoP-bound (with if_bound a bearer client
# sends none). TTL 0, always (variables.tf refuses another): a proof is new
# on every request and names its method and URL, so an answer must never be
# reused for another proof or route.
resource "aws_api_gateway_authorizer" "request" {
  count = var.api_type == "rest" && var.dpop != null ? 1 : 0

  name                             = var.name
  rest_api_id                      = var.rest_api_id
  type                             = "REQUEST"
  authorizer_uri                   = aws_lambda_function.this.invoke_arn
  identity_source                  = join(",", local.rest_identity_sources)
  authorizer_result_ttl_in_seconds = var.result_ttl_seconds
}

# HTTP API: a REQUEST authorizer, payload 2.0. The token is read only from
# the identity sources (API Gateway's cache key). With simple responses
# the answer is one boolean for one route: $context.routeKey joins the
# cache key, so a `true` cached for one route is never reused for another.
# When a route rule binds a path parameter, a token is granted some paths
# of a route key and not others: $context.path joins the cache key, and
# the function answers `true` for a bound route only when the path is
# among the identity sources (docs/route-rules.md). A rule without `bind`
# grants a route key whole or not at all, as scopes do: no path needed.
# With DPoP the DPoP header joins them: the authorizer refuses a proof that
# is not in the cache key, and the TTL is 0 (variables.tf), as for REST.
resource "aws_apigatewayv2_authorizer" "request" {
  count = var.api_type == "http" ? 1 : 0

  name                              = var.name
  api_id                            = var.http_api_id
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = aws_lambda_function.this.invoke_arn
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = var.simple_responses
  identity_sources                  = local.identity_sources
  # API Gateway caches nothing without identity sources; with them, the TTL.
  authorizer_result_ttl_in_seconds = var.result_ttl_seconds
}

locals {
  identity_sources = concat(
    ["$request.header.Authorization"],
    var.dpop == null ? [] : ["$request.header.DPoP"],
    var.simple_responses ? ["$context.routeKey"] : [],
    var.simple_responses && local.rules_bind_paths ? ["$context.path"] : [],
  )
  rules_bind_paths = try(anytrue(flatten([
    for route, alternatives in var.route_rules : [
      for alternative in alternatives : try(alternative.bind, null) == null ? false : length(alternative.bind) > 0
    ]
  ])), false)
  rest_identity_sources = concat(
    ["method.request.header.Authorization"],
    try(var.dpop.mode, null) == "required" ? ["method.request.header.DPoP"] : [],
  )
  authorizer_id = (var.api_type == "http" ? aws_apigatewayv2_authorizer.request[0].id
  : var.dpop == null ? aws_api_gateway_authorizer.token[0].id : aws_api_gateway_authorizer.request[0].id)
  authorizer_kind = (var.api_type == "http" ? "HTTP API REQUEST"
  : var.dpop == null ? "REST API TOKEN" : "REST API REQUEST (DPoP)")
}

# This API, as this authorizer, and nothing else may invoke the function.
resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.execution_arn}/authorizers/${local.authorizer_id}"
}

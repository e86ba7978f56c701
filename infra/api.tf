# The REST API. Open: POST /token, POST /revoke (RFC 7009: the token or its
# client authenticates itself), GET /.well-known/{proxy+} and the status
# lists GET /statuslists and GET /statuslists/{proxy+} (the issuer).
# Behind the TOKEN authorizer: /books, /books/{proxy+} and
# /shelves/{owner}/books (the backend; a shelf is its owner's, by the
# authorizer's route rule) and /admin/{proxy+} (the issuer's key
# administration). The methods here are
# exactly the routes of the authorizer's ROUTE_SCOPES table (checked by
# infra/tests/test_contract.py): a method not listed is answered 403 by
# API Gateway before any function runs.

locals {
  routes = {
    "POST /token"                = { resource = "token", function = "issuer", authorized = false }
    "POST /revoke"               = { resource = "revoke", function = "issuer", authorized = false }
    "GET /.well-known/{proxy+}"  = { resource = "well_known_proxy", function = "issuer", authorized = false }
    "GET /statuslists"           = { resource = "statuslists", function = "issuer", authorized = false }
    "GET /statuslists/{proxy+}"  = { resource = "statuslists_proxy", function = "issuer", authorized = false }
    "GET /books"                 = { resource = "books", function = "backend", authorized = true }
    "POST /books"                = { resource = "books", function = "backend", authorized = true }
    "GET /books/{proxy+}"        = { resource = "books_proxy", function = "backend", authorized = true }
    "PATCH /books/{proxy+}"      = { resource = "books_proxy", function = "backend", authorized = true }
    "DELETE /books/{proxy+}"     = { resource = "books_proxy", function = "backend", authorized = true }
    "GET /shelves/{owner}/books" = { resource = "shelf_books", function = "backend", authorized = true }
    "GET /admin/{proxy+}"        = { resource = "admin_proxy", function = "issuer", authorized = true }
    "POST /admin/{proxy+}"       = { resource = "admin_proxy", function = "issuer", authorized = true }
  }

  # The API's resources (path segments), named as the routes above name them.
  top_paths = {
    token = "token", revoke = "revoke", well_known = ".well-known", statuslists = "statuslists", books = "books", shelves = "shelves",
    admin = "admin"
  }
  proxy_parents = {
    well_known_proxy = "well_known", statuslists_proxy = "statuslists", books_proxy = "books", admin_proxy = "admin"
  }
  resource_ids = merge(
    { for key, r in aws_api_gateway_resource.top : key => r.id },
    { for key, r in aws_api_gateway_resource.proxy : key => r.id },
    { shelf = aws_api_gateway_resource.shelf.id, shelf_books = aws_api_gateway_resource.shelf_books.id },
  )
}

# endpoint_type: REGIONAL (the default), EDGE (API Gateway's own CloudFront
# distribution in front; the authorizer cache and every function stay in
# this region) or PRIVATE (only through the VPC endpoints, below).
resource "aws_api_gateway_rest_api" "tollgate" {
  name        = var.name
  description = "Tollgate: books API and issuer behind a JWT TOKEN authorizer"

  endpoint_configuration {
    types            = [var.endpoint_type]
    vpc_endpoint_ids = local.private_api ? var.vpc_endpoint_ids : null
  }

  lifecycle {
    create_before_destroy = true
  }
}

# A private API answers through its interface VPC endpoints only: its
# resource policy allows execute-api:Invoke and denies it from any other
# source (`execute-api:/*`: every stage, method and path of this API). The
# token authorizer still guards every protected route; the policy decides
# who may reach the API at all. API Gateway refuses to deploy a private API
# without one.
locals {
  private_api = var.endpoint_type == "PRIVATE"
}

data "aws_iam_policy_document" "private_api" {
  count = local.private_api ? 1 : 0

  statement {
    sid       = "Invoke"
    actions   = ["execute-api:Invoke"]
    resources = ["execute-api:/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }

  statement {
    sid       = "OnlyThroughTheVpcEndpoints"
    effect    = "Deny"
    actions   = ["execute-api:Invoke"]
    resources = ["execute-api:/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "aws:SourceVpce"
      values   = var.vpc_endpoint_ids
    }
  }
}

resource "aws_api_gateway_rest_api_policy" "private_api" {
  count = local.private_api ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.tollgate.id
  policy      = data.aws_iam_policy_document.private_api[0].json
}

# The path tree: top-level segments under the root, then one `{proxy+}`
# under each segment that has one (a for_each cannot refer to itself, hence
# two resources).
resource "aws_api_gateway_resource" "top" {
  for_each = local.top_paths

  rest_api_id = aws_api_gateway_rest_api.tollgate.id
  parent_id   = aws_api_gateway_rest_api.tollgate.root_resource_id
  path_part   = each.value
}

resource "aws_api_gateway_resource" "proxy" {
  for_each = local.proxy_parents

  rest_api_id = aws_api_gateway_rest_api.tollgate.id
  parent_id   = aws_api_gateway_resource.top[each.value].id
  path_part   = "{proxy+}"
}

# /shelves/{owner}/books: a shelf is one path parameter deep, its books a
# segment below.
resource "aws_api_gateway_resource" "shelf" {
  rest_api_id = aws_api_gateway_rest_api.tollgate.id
  parent_id   = aws_api_gateway_resource.top["shelves"].id
  path_part   = "{owner}"
}

resource "aws_api_gateway_resource" "shelf_books" {
  rest_api_id = aws_api_gateway_rest_api.tollgate.id
  parent_id   = aws_api_gateway_resource.shelf.id
  path_part   = "books"
}

# One method per route: behind the authorizer unless the route table marks
# it open. Each path parameter ({proxy+}, {owner}) is declared.
resource "aws_api_gateway_method" "route" {
  #checkov:skip=CKV_AWS_59:Open by design only where the route table says authorized = false (pinned by infra/tests/test_contract.py to POST /token and POST /revoke, where the caller authenticates itself with credentials or with the token it revokes, and GET /.well-known/* and GET /statuslists*, the JWKS, discovery document and signed status lists every verifier needs); every other method is CUSTOM with the token authorizer.
  #checkov:skip=CKV2_AWS_53:The backend and issuer validate their own input (problem+json or RFC 6749 errors); a request validator cannot express those rules.
  for_each = local.routes

  rest_api_id        = aws_api_gateway_rest_api.tollgate.id
  resource_id        = local.resource_ids[each.value.resource]
  http_method        = split(" ", each.key)[0]
  authorization      = each.value.authorized ? "CUSTOM" : "NONE"
  authorizer_id      = each.value.authorized ? module.authorizer.authorizer_id : null
  request_parameters = { for param in regexall("\\{(\\w+)\\+?\\}", each.key) : "method.request.path.${param[0]}" => true }
}

resource "aws_api_gateway_integration" "route" {
  for_each = local.routes

  rest_api_id             = aws_api_gateway_rest_api.tollgate.id
  resource_id             = aws_api_gateway_method.route[each.key].resource_id
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.fn[each.value.function].invoke_arn
}

# 401 and 403 from API Gateway itself (no or refused token): problem-shaped
# JSON bodies like the functions' own errors, and the Bearer challenge.
locals {
  gateway_responses = {
    UNAUTHORIZED = {
      status_code = "401"
      parameters  = { "gatewayresponse.header.WWW-Authenticate" = "'Bearer realm=\"tollgate\"'" }
      template    = "{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"a valid Bearer token is required\"}"
    }
    ACCESS_DENIED = {
      status_code = "403"
      parameters  = {}
      template    = "{\"type\":\"about:blank\",\"title\":\"Forbidden\",\"status\":403,\"detail\":\"the token's scopes do not grant this request\"}"
    }
  }
}

resource "aws_api_gateway_gateway_response" "problem" {
  for_each = local.gateway_responses

  rest_api_id         = aws_api_gateway_rest_api.tollgate.id
  response_type       = each.key
  status_code         = each.value.status_code
  response_parameters = each.value.parameters
  response_templates  = { "application/json" = each.value.template }
}

resource "aws_api_gateway_deployment" "tollgate" {
  rest_api_id = aws_api_gateway_rest_api.tollgate.id
  description = "Tollgate API"

  # Redeploy whenever a route, resource, method, integration, the authorizer
  # or a gateway response changes. Only what decides the API's behaviour is
  # hashed, from the configuration and the ids: whole resource objects would
  # change on every refresh (the provider reads unset maps and lists back
  # empty) and replace the deployment on every plan.
  # A private API's resource policy takes effect at the next deployment.
  triggers = {
    redeployment = sha1(jsonencode(merge({
      routes       = local.routes
      resources    = local.resource_ids
      methods      = { for key, m in aws_api_gateway_method.route : key => m.id }
      integrations = { for key, i in aws_api_gateway_integration.route : key => [i.id, i.uri] }
      authorizer   = [module.authorizer.authorizer_id, var.authorizer_cache_ttl_seconds]
      responses    = local.gateway_responses
    }, local.private_api ? { policy = aws_api_gateway_rest_api_policy.private_api[0].policy } : {})))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_api_gateway_integration.route, aws_api_gateway_gateway_response.problem, aws_api_gateway_rest_api_policy.private_api]
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs' own service key; access logs carry no token (only the principal and the authorizer's outcome). A customer-managed key is left to operators who need it.
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (default 30 days); set 365 or more where policy requires a year.
  name              = "/aws/apigateway/${var.name}/${var.stage_name}/access"
  retention_in_days = var.log_retention_days
}

resource "aws_api_gateway_stage" "tollgate" {
  #checkov:skip=CKV_AWS_120:Responses are per caller and per token; API Gateway's response cache would need per-token keys. The authorizer result cache (authorizer_cache_ttl_seconds) is the cache that matters.
  #checkov:skip=CKV2_AWS_29:A WAF web ACL is the operator's (shared, priced per ACL); associate one with this stage where required. Throttling is set below.
  #checkov:skip=CKV2_AWS_51:Clients are browsers and services holding Bearer tokens, not mTLS clients; backend integrations are Lambda proxies, not HTTP backends that a client certificate would authenticate to.
  rest_api_id          = aws_api_gateway_rest_api.tollgate.id
  deployment_id        = aws_api_gateway_deployment.tollgate.id
  stage_name           = var.stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTimeEpoch"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      principalId        = "$context.authorizer.principalId"
      authorizerStatus   = "$context.authorizer.status"
      authorizerLatency  = "$context.authorizer.latency"
      authorizerError    = "$context.authorizer.error"
      authorizeError     = "$context.authorize.error"
      errorType          = "$context.error.responseType"
      errorMessage       = "$context.error.message"
    })
  }

  depends_on = [aws_api_gateway_account.cloudwatch]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Responses are per caller and per token: response caching is off on purpose (see the stage).
  rest_api_id = aws_api_gateway_rest_api.tollgate.id
  stage_name  = aws_api_gateway_stage.tollgate.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false
    caching_enabled        = false
    cache_data_encrypted   = true
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }
}

# API Gateway writes access and execution logs with one role per account and
# region. Set it here unless the account already has one (manage_api_gateway_account = false).
resource "aws_iam_role" "apigateway_cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  name               = "${var.name}-apigateway-cloudwatch"
  description        = "API Gateway's account role for writing CloudWatch logs (this region)"
  assume_role_policy = data.aws_iam_policy_document.assume_apigateway.json
}

resource "aws_iam_role_policy_attachment" "apigateway_cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  role       = aws_iam_role.apigateway_cloudwatch[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "cloudwatch" {
  count = var.manage_api_gateway_account ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.apigateway_cloudwatch]
}

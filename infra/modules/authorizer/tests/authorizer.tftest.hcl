# `terraform test` of the module with a mocked AWS provider (no account, no
# network): what it would create for REST and HTTP APIs, and every input
# check. Run by `make infra-check` where the AWS provider is installed.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_api_gateway_authorizer" {
    defaults = { id = "tok123" }
  }
  mock_resource "aws_apigatewayv2_authorizer" {
    defaults = { id = "req456" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:orders-authorizer"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:orders-authorizer/invocations"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/orders-authorizer" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-authorizer" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-authorizer-dpop-replay" }
  }
}

variables {
  name         = "orders-authorizer"
  lambda_zip   = "tests/fixtures/bootstrap.zip"
  issuer       = "https://idp.example.com"
  audiences    = ["orders-api"]
  api_type     = "rest"
  rest_api_id  = "abc123"
  route_scopes = { "GET /orders" = "orders:read" }
}

run "rest_api_gets_a_token_authorizer_in_the_bearer_form" {
  command = apply

  assert {
    condition     = aws_api_gateway_authorizer.token[0].type == "TOKEN" && aws_api_gateway_authorizer.token[0].identity_source == "method.request.header.Authorization"
    error_message = "a TOKEN authorizer on the Authorization header"
  }
  assert {
    condition     = aws_api_gateway_authorizer.token[0].identity_validation_expression == "^[Bb][Ee][Aa][Rr][Ee][Rr] +[A-Za-z0-9._~+/-]+=*$"
    error_message = "the Bearer validation expression"
  }
  assert {
    condition     = length(aws_apigatewayv2_authorizer.request) == 0 && output.authorizer_id == "tok123"
    error_message = "no HTTP API authorizer; the id is the TOKEN authorizer's"
  }
  assert {
    condition     = aws_lambda_permission.api_gateway.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:abc123/authorizers/tok123"
    error_message = "only this API, as this authorizer, may invoke the function"
  }
  assert {
    condition = (aws_lambda_function.this.architectures == tolist(["arm64"]) && aws_lambda_function.this.runtime == "provided.al2023"
    && aws_lambda_function.this.handler == "bootstrap" && aws_lambda_function.this.memory_size == 128)
    error_message = "arm64, provided.al2023, bootstrap, 128 MB"
  }
  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      JWT_ISSUER                  = "https://idp.example.com"
      JWT_AUDIENCE                = "orders-api"
      JWKS_MAX_AGE_SECONDS        = "300"
      JWKS_MAX_STALE_SECONDS      = "3600"
      STATUS_LIST_CHECK           = "if_present"
      STATUS_LIST_MAX_AGE_SECONDS = "60"
      ROUTE_SCOPES                = jsonencode({ "GET /orders" = "orders:read" })
      DPOP_MODE                   = "off"
    })
    error_message = "the environment names the routes, and otherwise only what differs from the binary's defaults (discovery finds the JWKS)"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/orders-authorizer" && output.log_group_name == "/aws/lambda/orders-authorizer"
    error_message = "its own log group"
  }
  assert {
    condition     = length(output.alarm_names) == 0
    error_message = "no alarms unless asked"
  }
  assert {
    condition = (length(aws_api_gateway_authorizer.request) == 0 && length(aws_dynamodb_table.dpop_replay) == 0
      && length(aws_iam_role_policy.dpop_replay) == 0 && length(aws_api_gateway_gateway_response.dpop_unauthorized) == 0
    && output.replay_table_name == null)
    error_message = "without dpop: no REQUEST authorizer, replay table, table permission or 401 challenge"
  }
}

run "every_setting_reaches_the_function" {
  command = apply

  variables {
    jwks_uri                    = "https://idp.example.com/keys"
    route_scopes                = { "GET /orders" = "orders:read ", "POST /orders" = "orders:write" }
    scope_claims                = ["scope", "realm_access.roles"]
    context_claims              = ["email", "tenant"]
    principal_claim             = "preferred_username"
    required_typ                = "at+jwt"
    allow_id_tokens             = true
    jwks_max_age_seconds        = 60
    jwks_max_stale_seconds      = 0
    status_list_check           = "required"
    status_list_max_age_seconds = 30
    memory_size                 = 256
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      JWT_ISSUER                  = "https://idp.example.com"
      JWT_AUDIENCE                = "orders-api"
      JWKS_URI                    = "https://idp.example.com/keys"
      ROUTE_SCOPES                = "{\"GET /orders\":\"orders:read\",\"POST /orders\":\"orders:write\"}"
      SCOPE_CLAIMS                = "scope,realm_access.roles"
      CONTEXT_CLAIMS              = "email,tenant"
      PRINCIPAL_CLAIM             = "preferred_username"
      JWT_REQUIRED_TYP            = "at+jwt"
      JWT_ALLOW_ID_TOKENS         = "true"
      JWKS_MAX_AGE_SECONDS        = "60"
      JWKS_MAX_STALE_SECONDS      = "0"
      STATUS_LIST_CHECK           = "required"
      STATUS_LIST_MAX_AGE_SECONDS = "30"
      DPOP_MODE                   = "off"
    })
    error_message = "every input as its variable"
  }
  assert {
    condition     = aws_lambda_function.this.memory_size == 256
    error_message = "memory_size"
  }
}

run "http_api_with_simple_responses_keys_the_cache_on_the_route" {
  command = apply

  variables {
    api_type           = "http"
    rest_api_id        = null
    http_api_id        = "h77"
    simple_responses   = true
    result_ttl_seconds = 60
  }

  assert {
    condition = (aws_apigatewayv2_authorizer.request[0].authorizer_type == "REQUEST"
      && aws_apigatewayv2_authorizer.request[0].authorizer_payload_format_version == "2.0"
    && aws_apigatewayv2_authorizer.request[0].enable_simple_responses)
    error_message = "a REQUEST authorizer, payload 2.0, simple responses"
  }
  assert {
    condition     = aws_apigatewayv2_authorizer.request[0].identity_sources == toset(["$request.header.Authorization", "$context.routeKey"])
    error_message = "the route key is part of the cache key"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["HTTP_API_SIMPLE_RESPONSES"] == "true"
    error_message = "the function answers isAuthorized"
  }
  assert {
    condition     = aws_lambda_permission.api_gateway.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:h77/authorizers/req456"
    error_message = "only this HTTP API, as this authorizer"
  }
  assert {
    condition     = length(aws_api_gateway_authorizer.token) == 0 && output.authorizer_id == "req456"
    error_message = "no REST authorizer"
  }
}

run "http_api_with_policy_responses_needs_only_the_header" {
  command = apply

  variables {
    api_type    = "http"
    rest_api_id = null
    http_api_id = "h77"
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.request[0].identity_sources == toset(["$request.header.Authorization"])
    error_message = "policy responses cover the whole API: the header is the cache key"
  }
  assert {
    condition     = !aws_apigatewayv2_authorizer.request[0].enable_simple_responses && !contains(keys(aws_lambda_function.this.environment[0].variables), "HTTP_API_SIMPLE_RESPONSES")
    error_message = "IAM policy responses"
  }
}

run "several_issuers" {
  command = apply

  variables {
    issuer          = null
    audiences       = []
    trusted_issuers = "[{\"issuer\":\"https://a.example\",\"audiences\":[\"x\"]},{\"issuer\":\"https://b.example\",\"jwks_uri\":\"https://b.example/keys\",\"audiences\":[\"y\"]}]"
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "JWT_ISSUER") && !contains(keys(aws_lambda_function.this.environment[0].variables), "JWT_AUDIENCE")
    error_message = "TRUSTED_ISSUERS alone"
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables["TRUSTED_ISSUERS"])[1].jwks_uri == "https://b.example/keys"
    error_message = "TRUSTED_ISSUERS as given"
  }
}

run "alarms_when_asked_notify_the_topic" {
  command = apply

  variables {
    alarms = { topic_arn = "arn:aws:sns:eu-west-1:123456789012:ops" }
  }

  assert {
    condition = toset(output.alarm_names) == toset([
      "orders-authorizer-authorizer-fails-closed", "orders-authorizer-status-lists-unavailable",
      "orders-authorizer-jwks-fetch-failures", "orders-authorizer-jwks-stale-serves",
      "orders-authorizer-unknown-kid-misses", "orders-authorizer-unauthorized-share",
    ])
    error_message = "the authorizer's alarms, named after it"
  }
  assert {
    condition     = alltrue([for name, actions in module.alarms.alarm_actions : actions == toset(["arn:aws:sns:eu-west-1:123456789012:ops"])])
    error_message = "every alarm notifies the topic"
  }
  assert {
    condition     = length(output.dashboard_widgets) == 6
    error_message = "the authorizer's dashboard widgets"
  }
}

run "alarms_without_a_topic" {
  command = apply

  variables {
    alarms = {}
  }

  assert {
    condition     = length(output.alarm_names) == 6 && alltrue([for name, actions in module.alarms.alarm_actions : length(actions) == 0])
    error_message = "alarms without actions"
  }
}

run "one_issuer_setting_exactly" {
  command = plan
  variables {
    trusted_issuers = "[{\"issuer\":\"https://a.example\"}]"
  }
  expect_failures = [var.issuer]
}

run "an_issuer_needs_audiences" {
  command = plan
  variables {
    audiences = []
  }
  expect_failures = [var.audiences]
}

run "issuers_and_key_urls_are_https" {
  command = plan
  variables {
    issuer   = "http://idp.example.com"
    jwks_uri = "http://idp.example.com/keys"
  }
  expect_failures = [var.issuer, var.jwks_uri]
}

run "the_api_id_matches_the_api_type" {
  command = plan
  variables {
    api_type = "http"
  }
  expect_failures = [var.rest_api_id, var.http_api_id]
}

run "simple_responses_are_for_http_apis" {
  command = plan
  variables {
    simple_responses = true
  }
  expect_failures = [var.simple_responses]
}

run "route_scopes_are_method_and_path" {
  command = plan
  variables {
    route_scopes = { "/orders" = "orders:read", "FETCH /orders" = "x", "GET /orders" = " " }
  }
  expect_failures = [var.route_scopes]
}

run "route_scopes_may_not_be_empty" {
  command = plan
  variables {
    route_scopes = {}
  }
  expect_failures = [var.route_scopes]
}

run "bounds_are_checked" {
  command = plan
  variables {
    memory_size            = 64
    result_ttl_seconds     = 3601
    jwks_max_stale_seconds = -1
    log_retention_days     = 31
    status_list_check      = "sometimes"
    api_type               = "soap"
    rest_api_id            = null
  }
  expect_failures = [var.memory_size, var.result_ttl_seconds, var.jwks_max_stale_seconds, var.log_retention_days, var.status_list_check, var.api_type]
}

run "outside_a_vpc_by_default" {
  command = apply

  assert {
    condition     = length(aws_lambda_function.this.vpc_config) == 0 && length(aws_iam_role_policy.network_interfaces) == 0
    error_message = "no VPC, and no network interface permissions, unless vpc_config is set"
  }
}

run "in_a_vpc_when_asked" {
  command = apply

  variables {
    vpc_config = { subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  assert {
    condition = (aws_lambda_function.this.vpc_config[0].subnet_ids == toset(["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"])
    && aws_lambda_function.this.vpc_config[0].security_group_ids == toset(["sg-0123456789abcdef0"]))
    error_message = "the function runs in the given subnets and security groups"
  }
  assert {
    condition     = length(aws_iam_role_policy.network_interfaces) == 1 && aws_iam_role_policy.network_interfaces[0].role == aws_iam_role.this.id
    error_message = "Lambda may manage the function's network interfaces with its role"
  }
}

run "a_vpc_needs_subnets_and_security_groups" {
  command = plan
  variables {
    vpc_config = { subnet_ids = [], security_group_ids = ["vpc-0123456789abcdef0"] }
  }
  expect_failures = [var.vpc_config]
}

# DPoP (RFC 9449): `dpop` set.

run "rest_api_with_dpop_required_gets_a_request_authorizer_that_never_caches" {
  command = apply

  variables {
    result_ttl_seconds = 0
    dpop = {
      mode             = "required"
      public_base_urls = ["https://api.example.com/v1"]
    }
  }

  assert {
    condition = (aws_api_gateway_authorizer.request[0].type == "REQUEST"
      && aws_api_gateway_authorizer.request[0].identity_source == "method.request.header.Authorization,method.request.header.DPoP"
    && aws_api_gateway_authorizer.request[0].authorizer_result_ttl_in_seconds == 0)
    error_message = "a REQUEST authorizer, both headers required by API Gateway, no caching"
  }
  assert {
    condition     = length(aws_api_gateway_authorizer.token) == 0 && length(aws_apigatewayv2_authorizer.request) == 0 && output.authorizer_id == "tok123"
    error_message = "no TOKEN authorizer; the id is the REQUEST authorizer's"
  }
  assert {
    condition     = aws_lambda_permission.api_gateway.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:abc123/authorizers/tok123"
    error_message = "only this API, as this authorizer, may invoke the function"
  }
  assert {
    condition = { for name, value in aws_lambda_function.this.environment[0].variables : name => value if startswith(name, "DPOP_") } == {
      DPOP_MODE             = "required"
      DPOP_ALGORITHMS       = "ES256,EdDSA,PS256,RS256"
      DPOP_PUBLIC_BASE_URLS = "[\"https://api.example.com/v1\"]"
      DPOP_REPLAY_TABLE     = "orders-authorizer-dpop-replay"
    }
    error_message = "the DPoP mode, algorithms, public base URLs and replay table reach the function"
  }
  assert {
    condition = (aws_dynamodb_table.dpop_replay[0].name == "orders-authorizer-dpop-replay"
      && aws_dynamodb_table.dpop_replay[0].hash_key == "pk" && aws_dynamodb_table.dpop_replay[0].billing_mode == "PAY_PER_REQUEST"
    && [for a in aws_dynamodb_table.dpop_replay[0].attribute : [a.name, a.type]] == [["pk", "S"]])
    error_message = "the replay table: on demand, hash key pk (S)"
  }
  assert {
    condition = (aws_dynamodb_table.dpop_replay[0].ttl[0].attribute_name == "purge_at" && aws_dynamodb_table.dpop_replay[0].ttl[0].enabled
      && aws_dynamodb_table.dpop_replay[0].point_in_time_recovery[0].enabled == false
    && aws_dynamodb_table.dpop_replay[0].server_side_encryption[0].enabled)
    error_message = "items expire by purge_at; no point-in-time recovery; encrypted"
  }
  assert {
    condition = (length(data.aws_iam_policy_document.dpop_replay[0].statement) == 1
      && data.aws_iam_policy_document.dpop_replay[0].statement[0].actions == toset(["dynamodb:PutItem"])
    && data.aws_iam_policy_document.dpop_replay[0].statement[0].resources == toset(["arn:aws:dynamodb:eu-west-1:123456789012:table/orders-authorizer-dpop-replay"]))
    error_message = "the function may PutItem on its replay table and nothing else"
  }
  assert {
    condition     = aws_iam_role_policy.dpop_replay[0].role == aws_iam_role.this.id && output.replay_table_name == "orders-authorizer-dpop-replay"
    error_message = "on the function's role; the table's name is an output"
  }
  assert {
    condition = (aws_api_gateway_gateway_response.dpop_unauthorized[0].response_type == "UNAUTHORIZED"
      && aws_api_gateway_gateway_response.dpop_unauthorized[0].rest_api_id == "abc123"
      && aws_api_gateway_gateway_response.dpop_unauthorized[0].status_code == "401"
    && aws_api_gateway_gateway_response.dpop_unauthorized[0].response_parameters["gatewayresponse.header.WWW-Authenticate"] == "'DPoP algs=\"ES256 EdDSA PS256 RS256\"'")
    error_message = "every 401 of the API challenges for DPoP with the accepted algorithms (RFC 9449 §7.1)"
  }
}

run "rest_api_with_dpop_if_bound_still_lets_bearer_clients_reach_the_function" {
  command = apply

  variables {
    result_ttl_seconds = 0
    dpop = {
      mode         = "if_bound"
      replay_table = false
      algorithms   = ["ES256", "EdDSA"]
    }
  }

  assert {
    condition     = aws_api_gateway_authorizer.request[0].identity_source == "method.request.header.Authorization"
    error_message = "API Gateway requires only the Authorization header: a bearer client sends no DPoP header"
  }
  assert {
    condition     = aws_api_gateway_gateway_response.dpop_unauthorized[0].response_parameters["gatewayresponse.header.WWW-Authenticate"] == "'Bearer, DPoP algs=\"ES256 EdDSA\"'"
    error_message = "both schemes are offered, DPoP with the configured algorithms (RFC 9449 §7.2)"
  }
  assert {
    condition = (aws_lambda_function.this.environment[0].variables["DPOP_MODE"] == "if_bound"
      && aws_lambda_function.this.environment[0].variables["DPOP_ALGORITHMS"] == "ES256,EdDSA"
    && length(setintersection(keys(aws_lambda_function.this.environment[0].variables), ["DPOP_REPLAY_TABLE", "DPOP_PUBLIC_BASE_URLS"])) == 0)
    error_message = "the mode and algorithms; no replay table (each instance's memory), no public base URLs"
  }
  assert {
    condition     = length(aws_dynamodb_table.dpop_replay) == 0 && length(aws_iam_role_policy.dpop_replay) == 0 && output.replay_table_name == null
    error_message = "replay_table = false: no table, no DynamoDB permission"
  }
}

run "http_api_with_dpop_keys_the_cache_on_the_proof_and_never_caches" {
  command = apply

  variables {
    api_type           = "http"
    rest_api_id        = null
    http_api_id        = "h77"
    simple_responses   = true
    result_ttl_seconds = 0
    dpop               = { mode = "required" }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.request[0].identity_sources == toset(["$request.header.Authorization", "$request.header.DPoP", "$context.routeKey"])
    error_message = "the proof is among the identity sources (the authorizer refuses it otherwise)"
  }
  assert {
    condition     = aws_apigatewayv2_authorizer.request[0].authorizer_result_ttl_in_seconds == 0
    error_message = "no caching"
  }
  assert {
    condition     = length(aws_api_gateway_authorizer.request) == 0 && length(aws_api_gateway_gateway_response.dpop_unauthorized) == 0 && output.authorizer_id == "req456"
    error_message = "no REST authorizer or gateway response for an HTTP API"
  }
  assert {
    condition = (aws_lambda_function.this.environment[0].variables["DPOP_MODE"] == "required"
    && aws_lambda_function.this.environment[0].variables["DPOP_REPLAY_TABLE"] == "orders-authorizer-dpop-replay")
    error_message = "the mode and the replay table reach the function"
  }
  assert {
    condition     = length(aws_dynamodb_table.dpop_replay) == 1 && length(aws_iam_role_policy.dpop_replay) == 1
    error_message = "the replay table and its permission"
  }
}

run "dpop_answers_are_never_cached" {
  command = plan
  variables {
    dpop = { mode = "required" }
  }
  expect_failures = [var.dpop]
}

run "dpop_on_an_http_api_is_required_mode" {
  command = plan
  variables {
    api_type           = "http"
    rest_api_id        = null
    http_api_id        = "h77"
    result_ttl_seconds = 0
    dpop               = { mode = "if_bound" }
  }
  expect_failures = [var.dpop]
}

run "dpop_mode_is_if_bound_or_required" {
  command = plan
  variables {
    result_ttl_seconds = 0
    dpop               = { mode = "off" }
  }
  expect_failures = [var.dpop]
}

run "dpop_public_base_urls_are_https_without_query" {
  command = plan
  variables {
    result_ttl_seconds = 0
    dpop               = { mode = "required", public_base_urls = ["http://api.example.com", "https://api.example.com/v1?x=1", "/v1"] }
  }
  expect_failures = [var.dpop]
}

run "dpop_algorithms_are_asymmetric" {
  command = plan
  variables {
    result_ttl_seconds = 0
    dpop               = { mode = "required", algorithms = ["ES256", "HS256"] }
  }
  expect_failures = [var.dpop]
}

run "dpop_algorithms_are_not_empty" {
  command = plan
  variables {
    result_ttl_seconds = 0
    dpop               = { mode = "required", algorithms = [] }
  }
  expect_failures = [var.dpop]
}

# Route rules (ROUTE_RULES): `route_rules` set.

run "route_rules_reach_the_function_as_given" {
  command = apply

  variables {
    route_scopes = { "GET /tenants/{tenant}/orders" = "orders:read", "POST /tenants/{tenant}/orders" = "orders:write", "GET /files/{owner}/{proxy+}" = "files:read" }
    # README's example, a greedy parameter, and members left null.
    route_rules = {
      "GET /tenants/{tenant}/orders"  = [{ when = "'orders:admin' in scopes" }, { bind = { tenant = "claims.tenant_id" } }]
      "POST /tenants/{tenant}/orders" = [{ bind = { tenant = "claims.tenant_id" }, when = null }]
      "GET /files/{owner}/{proxy+}"   = [{ when = "claims.email_verified == true && size(sub) < 64", bind = { owner = "sub", proxy = "'home/' + sub" } }, {}]
    }
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables["ROUTE_RULES"] == join("", [
      "{\"GET /files/{owner}/{proxy+}\":[{\"bind\":{\"owner\":\"sub\",\"proxy\":\"'home/' + sub\"},\"when\":\"claims.email_verified == true \\u0026\\u0026 size(sub) \\u003c 64\"},{}],",
      "\"GET /tenants/{tenant}/orders\":[{\"when\":\"'orders:admin' in scopes\"},{\"bind\":{\"tenant\":\"claims.tenant_id\"}}],",
      "\"POST /tenants/{tenant}/orders\":[{\"bind\":{\"tenant\":\"claims.tenant_id\"}}]}",
    ])
    error_message = "ROUTE_RULES is the rules' JSON, members left null dropped (the function reads \\u0026 and \\u003c as & and <)"
  }
  assert {
    condition     = aws_api_gateway_authorizer.token[0].identity_source == "method.request.header.Authorization" && length(aws_apigatewayv2_authorizer.request) == 0
    error_message = "a REST API's TOKEN authorizer is unchanged: its policy covers the whole API, bound paths included"
  }
}

run "the_demo_rules_render_as_api_routes_json" {
  command = apply

  variables {
    route_scopes = jsondecode(file("../../api-routes.json")).route_scopes
    route_rules  = jsondecode(file("../../api-routes.json")).route_rules
  }

  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables["ROUTE_RULES"]) == jsondecode(file("../../api-routes.json")).route_rules
    error_message = "the root module's rules reach the function as infra/api-routes.json holds them (which the authorizer's tests compile)"
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables["ROUTE_SCOPES"]) == jsondecode(file("../../api-routes.json")).route_scopes
    error_message = "and the scopes they narrow"
  }
}

run "http_api_simple_responses_with_rules_key_the_cache_on_the_path" {
  command = apply

  variables {
    api_type         = "http"
    rest_api_id      = null
    http_api_id      = "h77"
    simple_responses = true
    route_scopes     = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules      = { "GET /tenants/{tenant}/orders" = [{ bind = { tenant = "claims.tenant_id" } }] }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.request[0].identity_sources == toset(["$request.header.Authorization", "$context.routeKey", "$context.path"])
    error_message = "a true for one tenant's path is never reused for another's: the path is part of the cache key"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["HTTP_API_SIMPLE_RESPONSES"] == "true" && can(jsondecode(aws_lambda_function.this.environment[0].variables["ROUTE_RULES"]))
    error_message = "simple responses, and the rules"
  }
}

run "http_api_simple_responses_with_rules_and_dpop" {
  command = apply

  variables {
    api_type           = "http"
    rest_api_id        = null
    http_api_id        = "h77"
    simple_responses   = true
    result_ttl_seconds = 0
    dpop               = { mode = "required" }
    route_scopes       = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules        = { "GET /tenants/{tenant}/orders" = [{ when = "'orders:admin' in scopes" }, { bind = { tenant = "claims.tenant_id" } }] }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.request[0].identity_sources == toset(["$request.header.Authorization", "$request.header.DPoP", "$context.routeKey", "$context.path"])
    error_message = "the proof, the route key and the path"
  }
}

run "http_api_simple_responses_with_rules_that_bind_nothing_key_on_the_route" {
  command = apply

  variables {
    api_type         = "http"
    rest_api_id      = null
    http_api_id      = "h77"
    simple_responses = true
    route_scopes     = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules      = { "GET /tenants/{tenant}/orders" = [{ when = "'orders:admin' in scopes" }, { bind = {} }] }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.request[0].identity_sources == toset(["$request.header.Authorization", "$context.routeKey"])
    error_message = "a rule that binds no parameter grants the route key whole or not at all: the route key suffices"
  }
}

run "http_api_policy_responses_with_rules_need_only_the_header" {
  command = apply

  variables {
    api_type     = "http"
    rest_api_id  = null
    http_api_id  = "h77"
    route_scopes = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules  = { "GET /tenants/{tenant}/orders" = [{ bind = { tenant = "claims.tenant_id" } }] }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.request[0].identity_sources == toset(["$request.header.Authorization"])
    error_message = "an IAM policy names the bound paths itself: the same answer serves every request of the token"
  }
}

run "a_rule_for_a_route_the_scopes_do_not_have_is_refused" {
  command = plan
  variables {
    route_rules = { "GET /tenants/{tenant}/orders" = [{ bind = { tenant = "claims.tenant_id" } }] }
  }
  expect_failures = [var.route_rules]
}

run "a_rule_binding_a_parameter_its_route_does_not_have_is_refused" {
  command = plan
  variables {
    route_scopes = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules  = { "GET /tenants/{tenant}/orders" = [{ bind = { org = "claims.org" } }] }
  }
  expect_failures = [var.route_rules]
}

run "a_parameter_is_named_without_its_braces" {
  command = plan
  variables {
    route_scopes = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules  = { "GET /tenants/{tenant}/orders" = [{ bind = { "{tenant}" = "claims.tenant_id" } }] }
  }
  expect_failures = [var.route_rules]
}

run "a_greedy_parameter_is_the_last_segment_only" {
  command = plan
  variables {
    route_scopes = { "GET /files/{proxy+}/raw" = "files:read" }
    route_rules  = { "GET /files/{proxy+}/raw" = [{ bind = { proxy = "sub" } }] }
  }
  expect_failures = [var.route_rules]
}

run "a_route_with_no_alternatives_is_refused" {
  command = plan
  variables {
    route_scopes = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules  = { "GET /tenants/{tenant}/orders" = [] }
  }
  expect_failures = [var.route_rules]
}

# A misspelt member must not leave an alternative that always holds (a
# typed object would have dropped it without a word).
run "a_misspelt_member_is_refused" {
  command = plan
  variables {
    route_scopes = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules  = { "GET /tenants/{tenant}/orders" = [{ when = "'orders:admin' in scopes", bnid = { tenant = "claims.tenant_id" } }] }
  }
  expect_failures = [var.route_rules]
}

run "alternatives_are_a_list_of_objects" {
  command = plan
  variables {
    route_scopes = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules  = { "GET /tenants/{tenant}/orders" = { bind = { tenant = "claims.tenant_id" } } }
  }
  expect_failures = [var.route_rules]
}

run "expressions_are_non_empty_strings" {
  command = plan
  variables {
    route_scopes = { "GET /tenants/{tenant}/orders" = "orders:read" }
    route_rules  = { "GET /tenants/{tenant}/orders" = [{ when = true }, { when = " " }, { bind = { tenant = "" } }, { bind = { tenant = ["claims.a"] } }] }
  }
  expect_failures = [var.route_rules]
}

run "the_environment_fits_in_lambdas_4_kb" {
  command = plan
  variables {
    route_scopes = { for i in range(80) : "GET /tenants/{tenant}/orders/${i}" => "orders:read" }
    route_rules  = { for i in range(80) : "GET /tenants/{tenant}/orders/${i}" => [{ bind = { tenant = "claims.tenant_id" } }] }
  }
  expect_failures = [aws_lambda_function.this]
}

# A JWKS snapshot (JWKS_SNAPSHOT): its JSON in the environment, or the name
# of the file `make lambda JWKS_SNAPSHOT_FROM=...` packaged in the zip.
run "a_jwks_snapshot_reaches_the_function_as_json_or_a_packaged_file" {
  command = apply
  variables {
    jwks_snapshot = jsonencode({ keys = [{ kty = "EC", crv = "P-256", kid = "a", x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" }], fetched_at = 1800000000 })
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables["JWKS_SNAPSHOT"]).fetched_at == 1800000000
    error_message = "the snapshot's JSON is JWKS_SNAPSHOT"
  }
}

run "a_packaged_jwks_snapshot_is_named" {
  command = apply
  variables {
    jwks_snapshot = "jwks-snapshot.json"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["JWKS_SNAPSHOT"] == "jwks-snapshot.json"
    error_message = "the packaged file's name is JWKS_SNAPSHOT (read under LAMBDA_TASK_ROOT)"
  }
}

run "a_jwks_snapshot_without_fetched_at_is_refused" {
  command = plan
  variables {
    jwks_snapshot = jsonencode({ keys = [{ kty = "EC" }] })
  }
  expect_failures = [var.jwks_snapshot]
}

run "a_jwks_snapshot_path_outside_the_zip_is_refused" {
  command = plan
  variables {
    jwks_snapshot = "/etc/jwks.json"
  }
  expect_failures = [var.jwks_snapshot]
}

run "a_jwks_snapshot_too_large_for_the_environment_is_refused" {
  command = plan
  variables {
    jwks_snapshot = jsonencode({ keys = [for i in range(12) : { kty = "RSA", kid = "k${i}", e = "AQAB", n = join("", [for j in range(6) : "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFx"]) }], fetched_at = 1800000000 })
  }
  expect_failures = [aws_lambda_function.this]
}

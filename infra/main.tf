# Tollgate on AWS: a REST API whose TOKEN authorizer is the `authorizer`
# Lambda (deployed by modules/authorizer, the module users put in front of
# their own APIs), the issuer and books functions behind it, the keyset
# secret rotated by `issuer-rotation`, DynamoDB tables, logs, a dashboard
# and alarms. Provider-free logic lives in modules/ (tested offline by
# `terraform test`).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

module "settings" {
  source = "./modules/settings"

  name                         = var.name
  stage_name                   = var.stage_name
  audiences                    = var.audiences
  signing_alg                  = var.signing_alg
  token_ttl_seconds            = var.token_ttl_seconds
  jwks_max_age_seconds         = var.jwks_max_age_seconds
  status_list_max_age_seconds  = var.status_list_max_age_seconds
  authorizer_cache_ttl_seconds = var.authorizer_cache_ttl_seconds
  endpoint_type                = var.endpoint_type
  vpc_endpoint_ids             = var.vpc_endpoint_ids
  authorizer_vpc_config        = var.authorizer_vpc_config
  rotation_schedule            = var.rotation_schedule
  route_scopes                 = var.route_scopes
  route_rules                  = var.route_rules
  log_retention_days           = var.log_retention_days
  alarm_topic_arn              = var.alarm_topic_arn
  lambda_dir                   = var.lambda_dir
  throttling_rate_limit        = var.throttling_rate_limit
  throttling_burst_limit       = var.throttling_burst_limit
  manage_api_gateway_account   = var.manage_api_gateway_account
  tags                         = var.tags
}

module "environment" {
  source = "./modules/environment"

  # From the API id and the stage *name*: the stage depends on the
  # deployment, which depends on the functions, whose environment this is.
  api_id               = aws_api_gateway_rest_api.tollgate.id
  region               = data.aws_region.current.name
  url_suffix           = data.aws_partition.current.dns_suffix
  stage_name           = var.stage_name
  endpoint_type        = var.endpoint_type
  vpc_endpoint_ids     = var.vpc_endpoint_ids
  audience             = module.settings.audience
  signing_alg          = var.signing_alg
  token_ttl_seconds    = var.token_ttl_seconds
  jwks_max_age_seconds = var.jwks_max_age_seconds
  keyset_secret_arn    = aws_secretsmanager_secret.keyset.arn
  users_table          = aws_dynamodb_table.users.name
  books_table          = aws_dynamodb_table.books.name
  status_table         = aws_dynamodb_table.status.name

  status_list_max_age_seconds = var.status_list_max_age_seconds
}

# The authorizer, as any API protected by Tollgate gets it.
module "authorizer" {
  source = "./modules/authorizer"

  name       = local.authorizer.function_name
  lambda_zip = local.authorizer.zip
  issuer     = module.environment.issuer_url
  jwks_uri   = module.environment.jwks_url
  audiences  = var.audiences
  # This API's own table (api-routes.json, which the local stack and the
  # authorizer binary's default read too); a route_scopes variable replaces it.
  route_scopes = var.route_scopes != null ? var.route_scopes : local.api_routes.route_scopes
  # Its rules too (GET /shelves/{owner}/books: the caller's own shelf, or
  # any for books:admin); a route_rules variable replaces them. (Through
  # JSON: a conditional's two objects must be of one type.)
  route_rules = jsondecode(var.route_rules != null ? jsonencode(var.route_rules) : jsonencode(local.api_routes.route_rules))
  # RFC 9068 access tokens, every one with a status list entry.
  required_typ                = "at+jwt"
  status_list_check           = "required"
  status_list_max_age_seconds = var.status_list_max_age_seconds
  jwks_max_age_seconds        = var.jwks_max_age_seconds
  memory_size                 = local.authorizer.memory_mb
  timeout_seconds             = local.authorizer.timeout_s
  log_retention_days          = var.log_retention_days
  # A PRIVATE API's JWKS and status lists answer only inside the VPC.
  vpc_config = var.authorizer_vpc_config

  api_type           = "rest"
  rest_api_id        = aws_api_gateway_rest_api.tollgate.id
  result_ttl_seconds = var.authorizer_cache_ttl_seconds
  # The root module's own monitoring holds the authorizer's alarms too.
  alarms = null
}

locals {
  # The demo API's route table: its methods (api.tf), their scopes and rules.
  api_routes = jsondecode(file("${path.module}/api-routes.json"))

  # The functions deployed here; the authorizer is the module's.
  authorizer = module.settings.functions["authorizer"]
  functions  = { for fn, f in module.settings.functions : fn => f if fn != "authorizer" }
  # execute-api ARN prefix of this API: arn:…:execute-api:region:account:apiId
  execute_api_arn = aws_api_gateway_rest_api.tollgate.execution_arn
}

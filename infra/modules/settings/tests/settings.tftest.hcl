# Offline: no provider. `terraform test` in infra/modules/settings.

run "defaults_are_valid" {
  command = plan

  assert {
    condition     = output.rotation_period_seconds == 30 * 86400
    error_message = "rate(30 days) is 30 days"
  }
  assert {
    condition     = output.previous_key_grace_seconds == 900 + 300
    error_message = "a retired key stays published for token TTL + JWKS max-age"
  }
  assert {
    condition     = output.audience == "books-api"
    error_message = "JWT_AUDIENCE default"
  }
}

run "functions_are_the_four_zips_make_lambda_builds" {
  command = plan

  assert {
    condition     = toset(keys(output.functions)) == toset(["authorizer", "issuer", "issuer-rotation", "backend"])
    error_message = "four functions"
  }
  assert {
    condition     = alltrue([for fn, f in output.functions : endswith(f.zip, "/../target/lambda/${fn}/bootstrap.zip")])
    error_message = "each function's zip is target/lambda/<name>/bootstrap.zip"
  }
  assert {
    condition     = output.functions["issuer"].memory_mb >= 1024 && output.functions["authorizer"].timeout_s <= 10
    error_message = "argon2 gets memory; the authorizer fails fast"
  }
  assert {
    condition     = output.functions["issuer-rotation"].function_name == "tollgate-issuer-rotation"
    error_message = "function names are <name>-<function>"
  }
}

run "absolute_lambda_dir_is_kept" {
  command = plan
  variables {
    lambda_dir = "/srv/build/lambda"
  }
  assert {
    condition     = output.functions["backend"].zip == "/srv/build/lambda/backend/bootstrap.zip"
    error_message = "absolute lambda_dir"
  }
}

run "rate_in_hours_and_cron_are_accepted" {
  command = plan
  variables {
    rotation_schedule = "rate(6 hours)"
  }
  assert {
    condition     = output.rotation_period_seconds == 6 * 3600
    error_message = "rate(6 hours)"
  }
}

run "the_shortest_schedules_allowed_are_accepted" {
  command = plan
  variables {
    rotation_schedule = "rate(4 hours)"
  }
  assert {
    condition     = output.rotation_period_seconds == 4 * 3600
    error_message = "rate(4 hours) is Secrets Manager's floor and longer than 900 + 300 s"
  }
}

run "cron_with_one_fixed_hour_is_accepted" {
  command = plan
  variables {
    rotation_schedule = "cron(0 3 1 * ? *)"
  }
  assert {
    condition     = output.rotation_period_seconds == null
    error_message = "cron has no fixed period"
  }
}

run "rotating_more_often_than_4_hours_is_refused" {
  command = plan
  variables {
    rotation_schedule = "rate(2 hours)"
  }
  expect_failures = [var.rotation_schedule]
}

run "rotating_within_token_ttl_plus_jwks_age_is_refused" {
  command = plan
  variables {
    token_ttl_seconds    = 86400
    jwks_max_age_seconds = 3600
    rotation_schedule    = "rate(1 day)"
  }
  expect_failures = [var.rotation_schedule]
}

run "cron_every_hour_is_refused" {
  command = plan
  variables {
    rotation_schedule = "cron(0 * * * ? *)"
  }
  expect_failures = [var.rotation_schedule]
}

run "garbage_schedule_is_refused" {
  command = plan
  variables {
    rotation_schedule = "every day"
  }
  expect_failures = [var.rotation_schedule]
}

run "authorizer_cache_longer_than_token_is_refused" {
  command = plan
  variables {
    token_ttl_seconds            = 300
    authorizer_cache_ttl_seconds = 600
  }
  expect_failures = [var.authorizer_cache_ttl_seconds]
}

run "authorizer_cache_over_api_gateway_limit_is_refused" {
  command = plan
  variables {
    token_ttl_seconds            = 7200
    authorizer_cache_ttl_seconds = 3601
  }
  expect_failures = [var.authorizer_cache_ttl_seconds]
}

run "unknown_signing_alg_is_refused" {
  command = plan
  variables {
    signing_alg = "HS256"
  }
  expect_failures = [var.signing_alg]
}

run "token_ttl_out_of_range_is_refused" {
  command = plan
  variables {
    token_ttl_seconds = 10
  }
  expect_failures = [var.token_ttl_seconds]
}

run "jwks_max_age_out_of_range_is_refused" {
  command = plan
  variables {
    jwks_max_age_seconds = 90000
  }
  expect_failures = [var.jwks_max_age_seconds]
}

run "bad_name_is_refused" {
  command = plan
  variables {
    name = "Tollgate_Prod"
  }
  expect_failures = [var.name]
}

run "bad_stage_is_refused" {
  command = plan
  variables {
    stage_name = "prod/v1"
  }
  expect_failures = [var.stage_name]
}

run "audience_with_a_comma_is_refused" {
  command = plan
  variables {
    audiences = ["books-api,admin"]
  }
  expect_failures = [var.audiences]
}

run "no_audience_is_refused" {
  command = plan
  variables {
    audiences = []
  }
  expect_failures = [var.audiences]
}

run "unsupported_log_retention_is_refused" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "alarm_topic_must_be_an_sns_arn" {
  command = plan
  variables {
    alarm_topic_arn = "arn:aws:sqs:eu-west-1:123456789012:queue"
  }
  expect_failures = [var.alarm_topic_arn]
}

run "route_scopes_with_a_bad_route_are_refused" {
  command = plan
  variables {
    route_scopes = { "FETCH /books" = "books:read" }
  }
  expect_failures = [var.route_scopes]
}

run "route_scopes_without_scopes_are_refused" {
  command = plan
  variables {
    route_scopes = { "GET /books" = "  " }
  }
  expect_failures = [var.route_scopes]
}

run "edge_is_accepted_without_vpc_endpoints" {
  command = plan
  variables {
    endpoint_type = "EDGE"
  }
  assert {
    condition     = var.endpoint_type == "EDGE" && length(var.vpc_endpoint_ids) == 0
    error_message = "an edge-optimized API takes no VPC endpoint"
  }
}

run "private_with_endpoints_and_an_authorizer_in_the_vpc_is_accepted" {
  command = plan
  variables {
    endpoint_type         = "PRIVATE"
    vpc_endpoint_ids      = ["vpce-0123456789abcdef0"]
    authorizer_vpc_config = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }
  assert {
    condition     = var.endpoint_type == "PRIVATE"
    error_message = "a private API with its VPC endpoint and the authorizer's subnets"
  }
}

run "unknown_endpoint_type_is_refused" {
  command = plan
  variables {
    endpoint_type = "regional"
  }
  expect_failures = [var.endpoint_type]
}

run "private_without_vpc_endpoints_is_refused" {
  command = plan
  variables {
    endpoint_type         = "PRIVATE"
    authorizer_vpc_config = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }
  expect_failures = [var.vpc_endpoint_ids]
}

run "private_without_the_authorizer_in_the_vpc_is_refused" {
  command = plan
  variables {
    endpoint_type    = "PRIVATE"
    vpc_endpoint_ids = ["vpce-0123456789abcdef0"]
  }
  expect_failures = [var.authorizer_vpc_config]
}

run "vpc_endpoints_on_a_public_api_are_refused" {
  command = plan
  variables {
    endpoint_type    = "REGIONAL"
    vpc_endpoint_ids = ["vpce-0123456789abcdef0"]
  }
  expect_failures = [var.vpc_endpoint_ids]
}

run "malformed_vpc_endpoint_ids_are_refused" {
  command = plan
  variables {
    endpoint_type         = "PRIVATE"
    vpc_endpoint_ids      = ["vpc-0123456789abcdef0"]
    authorizer_vpc_config = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }
  expect_failures = [var.vpc_endpoint_ids]
}

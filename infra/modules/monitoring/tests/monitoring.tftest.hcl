# Offline: no provider. `terraform test` in infra/modules/monitoring.

variables {
  name       = "tollgate"
  region     = "eu-west-1"
  api_name   = "tollgate"
  stage_name = "prod"
  function_names = {
    authorizer        = "tollgate-authorizer"
    issuer            = "tollgate-issuer"
    "issuer-rotation" = "tollgate-issuer-rotation"
    backend           = "tollgate-backend"
  }
}

run "every_alarm_the_issue_asks_for_exists" {
  command = plan

  assert {
    condition = toset(keys(output.alarms)) == toset([
      "authorizer-fails-closed", "jwks-fetch-failures", "jwks-stale-serves", "unknown-kid-misses",
      "status-lists-unavailable",
      "unauthorized-share", "rotation-errors", "issuer-errors", "backend-errors", "api-5xx",
      "authorizer-throttles", "issuer-throttles", "issuer-rotation-throttles", "backend-throttles",
      "issuer-login-throttling", "issuer-login-failures", "issuer-key-store-errors",
    ])
    error_message = "alarm set"
  }
  assert {
    condition     = alltrue([for k, a in output.alarms : a.alarm_name == "tollgate-${k}"])
    error_message = "alarm names are <name>-<key>"
  }
}

run "no_alarm_reads_the_authorizers_lambda_errors" {
  command = plan

  # Its Errors count every Unauthorized (401) by design.
  assert {
    condition = alltrue(flatten([for a in values(output.alarms) : [
      for q in a.queries : !(q.namespace == "AWS/Lambda" && q.metric_name == "Errors" && try(q.dimensions["FunctionName"], "") == "tollgate-authorizer")
    ]]))
    error_message = "an alarm reads the authorizer's Lambda Errors"
  }
}

run "tollgate_metrics_are_read_through_the_service_dimension_sets" {
  command = plan

  assert {
    condition = alltrue(flatten([for a in values(output.alarms) : [
      for q in a.queries : q.namespace != "Tollgate" || (
        contains(["authorizer", "issuer"], try(q.dimensions["Service"], "")) &&
        contains(["Service", "Decision,Service", "Decision,Reason,Service"], join(",", sort(keys(q.dimensions))))
      )
    ]]))
    error_message = "Tollgate metrics must use [Service], [Service, Decision] or [Service, Decision, Reason]"
  }
  assert {
    condition     = output.alarms["authorizer-fails-closed"].queries[0].dimensions == { Service = "authorizer", Decision = "unauthorized", Reason = "keys_unavailable" }
    error_message = "failing closed = Unauthorized for want of keys"
  }
  assert {
    condition     = output.alarms["status-lists-unavailable"].queries[0].dimensions == { Service = "authorizer", Decision = "unauthorized", Reason = "status_unavailable" }
    error_message = "lists unavailable = Unauthorized for want of a status list"
  }
}

run "issuer_alarms_read_the_issuers_outcomes" {
  command = plan

  assert {
    condition     = output.alarms["issuer-login-throttling"].queries[0].dimensions == { Service = "issuer", Decision = "throttled" } && output.alarms["issuer-login-throttling"].threshold == 20
    error_message = "login throttling: 20 throttled logins in 5 minutes"
  }
  assert {
    condition     = output.alarms["issuer-login-failures"].queries[0].dimensions == { Service = "issuer", Decision = "failed" } && output.alarms["issuer-login-failures"].threshold == 1
    error_message = "login failures: any login the account store failed"
  }
  assert {
    condition     = output.alarms["issuer-key-store-errors"].queries[0].metric_name == "KeyStoreErrors" && output.alarms["issuer-key-store-errors"].queries[0].dimensions == { Service = "issuer" }
    error_message = "key store errors: the [Service] total"
  }
}

run "each_alarm_returns_exactly_one_series" {
  command = plan

  assert {
    condition     = alltrue([for a in values(output.alarms) : length([for q in a.queries : q if q.return_data]) == 1])
    error_message = "one returned series per alarm"
  }
  assert {
    condition = alltrue(flatten([for a in values(output.alarms) : [
      for q in a.queries : (q.expression == null) != (q.metric_name == null)
    ]]))
    error_message = "a query is either a metric or an expression"
  }
}

run "unauthorized_share_is_metric_math_over_totals" {
  command = plan

  assert {
    condition     = output.alarms["unauthorized-share"].queries[2].expression == "IF(decisions >= 50, 100 * unauthorized / decisions, 0)"
    error_message = "share expression"
  }
  assert {
    condition     = output.alarms["unauthorized-share"].queries[1].dimensions == { Service = "authorizer" }
    error_message = "the denominator is the [Service] total"
  }
  assert {
    condition     = output.alarms["unauthorized-share"].threshold == 25
    error_message = "default share threshold"
  }
}

run "api_5xx_reads_the_stage" {
  command = plan

  assert {
    condition     = output.alarms["api-5xx"].queries[0].dimensions == { ApiName = "tollgate", Stage = "prod" }
    error_message = "API dimensions"
  }
}

run "dashboard_is_valid_json_with_the_widgets_asked_for" {
  command = plan

  assert {
    condition     = length(jsondecode(output.dashboard_body).widgets) == 11
    error_message = "eleven widgets"
  }
  assert {
    condition     = alltrue([for w in jsondecode(output.dashboard_body).widgets : w.type == "metric" && w.properties.region == "eu-west-1" && w.width == 12])
    error_message = "metric widgets in the region"
  }
  assert {
    condition = toset([for w in jsondecode(output.dashboard_body).widgets : w.properties.title]) == toset([
      "Authorizer decisions by outcome", "Verification time (µs)", "Decision cache hits",
      "JWKS fetches, failures, stale serves, unknown kids", "Cold starts and init time (ms)",
      "Token status: list fetches, failures, stale serves; revoked tokens refused",
      "Issuer logins by outcome, key store errors, tokens revoked",
      "Lambda duration p99 (ms)", "Lambda throttles and errors (errors: not the authorizer, whose errors are its 401s)",
      "API 4xx / 5xx", "API latency (ms)",
    ])
    error_message = "widget titles"
  }
  assert {
    condition = alltrue(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for line in w.properties.metrics : line[0] != "Tollgate" || (line[2] == "Service" && contains(["authorizer", "issuer"], line[3]))
    ]]))
    error_message = "dashboard Tollgate lines start with the Service dimension"
  }
}

run "function_names_must_be_the_four" {
  command = plan
  variables {
    function_names = { authorizer = "a", issuer = "i" }
  }
  expect_failures = [var.function_names]
}

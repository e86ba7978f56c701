# Offline: no provider. `terraform test` in infra/modules/authorizer-monitoring.

variables {
  name   = "orders-authorizer"
  region = "eu-west-1"
}

run "the_authorizers_alarms" {
  command = plan

  assert {
    condition = toset(keys(output.alarms)) == toset([
      "authorizer-fails-closed", "status-lists-unavailable", "jwks-fetch-failures",
      "jwks-stale-serves", "unknown-kid-misses", "unauthorized-share",
    ])
    error_message = "the alarms that concern the authorizer alone"
  }
  assert {
    condition     = alltrue([for k, a in output.alarms : a.alarm_name == "orders-authorizer-${k}"])
    error_message = "alarm names are <name>-<key>"
  }
  assert {
    condition     = output.alarms["authorizer-fails-closed"].queries[0].dimensions == { Service = "authorizer", Decision = "unauthorized", Reason = "keys_unavailable" }
    error_message = "failing closed: Unauthorized for want of keys"
  }
  assert {
    condition     = output.alarms["status-lists-unavailable"].queries[0].dimensions == { Service = "authorizer", Decision = "unauthorized", Reason = "status_unavailable" }
    error_message = "status lists unavailable: Unauthorized for want of a list"
  }
  assert {
    condition     = output.alarms["jwks-stale-serves"].queries[0].metric_name == "JwksStaleServes" && output.alarms["jwks-fetch-failures"].threshold == 3
    error_message = "stale serving and fetch failures"
  }
}

run "every_query_has_one_shape" {
  command = plan

  assert {
    condition = alltrue(flatten([for a in values(output.alarms) : [
      for q in a.queries : toset(keys(q)) == toset(keys(output.query)) && (q.expression == null) != (q.metric_name == null)
    ]]))
    error_message = "a query is a metric or an expression, with the same attributes"
  }
  assert {
    condition     = alltrue([for a in values(output.alarms) : length([for q in a.queries : q if q.return_data]) == 1])
    error_message = "one returned series per alarm"
  }
}

run "widgets_read_the_authorizer_service_first" {
  command = plan

  assert {
    condition     = length(output.dashboard_widgets) == length(output.widgets) && length(output.widgets) == 6
    error_message = "six widgets, laid out"
  }
  assert {
    condition = alltrue(flatten([for w in output.widgets : [
      for line in w.metrics : line[0] != "Tollgate" || (line[2] == "Service" && line[3] == "authorizer")
    ]]))
    error_message = "Tollgate lines start with Service=authorizer"
  }
  assert {
    condition     = alltrue([for w in output.dashboard_widgets : w.properties.region == "eu-west-1"])
    error_message = "widgets read the region"
  }
}

run "a_share_between_0_and_100" {
  command = plan
  variables {
    unauthorized_share_percent = 100
  }
  expect_failures = [var.unauthorized_share_percent]
}

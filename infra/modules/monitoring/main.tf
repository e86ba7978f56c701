# The dashboard and alarm definitions, provider-free so `terraform test` can
# check them offline: the authorizer's from modules/authorizer-monitoring
# (the alarms the authorizer module also offers its users), then the
# issuer's, the functions' and the API's. Tollgate metrics are read through
# the [Service] and [Service, Decision] dimension sets every EMF record
# declares.

module "authorizer" {
  source = "../authorizer-monitoring"

  name                       = var.name
  region                     = var.region
  unauthorized_share_percent = var.unauthorized_share_percent
  min_decisions              = var.min_decisions
  more_widgets               = local.widgets
}

locals {
  ns = "Tollgate"

  issuer = {
    for name, m in {
      logins_throttled = { metric = "Logins", dims = { Decision = "throttled" } }
      logins_failed    = { metric = "Logins", dims = { Decision = "failed" } }
      key_store_errors = { metric = "KeyStoreErrors", dims = {} }
    } : name => { namespace = local.ns, metric_name = m.metric, dimensions = merge({ Service = "issuer" }, m.dims) }
  }

  # The usual evaluation: a 5-minute sum that reaches 1, once. Each alarm
  # states only how it differs from it.
  sum_over_5_minutes = { stat = "Sum", period = 300, threshold = 1, evaluation_periods = 1, datapoints_to_alarm = 1 }

  single = {
    for name, a in {
      # A login is throttled after 5 wrong passwords for one name from one
      # address in 15 minutes (100 from anywhere), or when the password-hashing
      # pool is full: a few are typos, twenty in 5 minutes are not.
      issuer-login-throttling = {
        description = "Logins are being throttled: repeated wrong passwords (guessing or credential stuffing), or more logins than the password-hashing pool takes."
        metric      = local.issuer.logins_throttled, threshold = 20
      }
      issuer-login-failures = {
        description = "Logins fail because the account store fails (DynamoDB unreachable, throttled or denied): nobody can get a token."
        metric      = local.issuer.logins_failed
      }
      issuer-key-store-errors = {
        description = "The issuer cannot read or write its keyset in Secrets Manager: tokens cannot be signed, or a key change cannot be saved."
        metric      = local.issuer.key_store_errors
      }
      api-5xx = {
        description = "More than 1% of API requests end in a 5xx (an authorizer failure is a 500 too)."
        metric      = { namespace = "AWS/ApiGateway", metric_name = "5XXError", dimensions = { ApiName = var.api_name, Stage = var.stage_name } }
        stat        = "Average", threshold = 0.01, evaluation_periods = 3, datapoints_to_alarm = 2
      }
    } : name => merge(local.sum_over_5_minutes, a)
  }

  # Failed invocations of every function but the authorizer, whose Lambda
  # Errors are its 401s.
  errors = {
    for name, e in {
      rotation-errors = { fn = "issuer-rotation", description = "The keyset rotation function failed (Secrets Manager leaves the rotation pending and retries)." }
      issuer-errors   = { fn = "issuer", description = "The issuer function failed invocations (crashes or timeouts, not HTTP error answers)." }
      backend-errors  = { fn = "backend", description = "The books function failed invocations (crashes or timeouts, not HTTP error answers)." }
      } : name => merge(local.sum_over_5_minutes, {
        description = e.description
        metric      = { namespace = "AWS/Lambda", metric_name = "Errors", dimensions = { FunctionName = var.function_names[e.fn] } }
    })
  }

  throttles = {
    for fn, function_name in var.function_names : "${fn}-throttles" => merge(local.sum_over_5_minutes, {
      description = "Lambda throttles ${fn} (account or reserved concurrency exhausted)."
      metric      = { namespace = "AWS/Lambda", metric_name = "Throttles", dimensions = { FunctionName = function_name } }
    })
  }

  alarms = merge(
    module.authorizer.alarms,
    {
      for name, a in merge(local.single, local.errors, local.throttles) : name => {
        alarm_name          = "${var.name}-${name}"
        description         = a.description
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = a.threshold
        evaluation_periods  = a.evaluation_periods
        datapoints_to_alarm = a.datapoints_to_alarm
        treat_missing_data  = "notBreaching"
        queries = [merge(module.authorizer.query, a.metric, {
          id = "m", return_data = true, stat = a.stat, period = a.period, label = a.metric.metric_name
        })]
      }
    },
  )

  # Dashboard: a metric line is [namespace, name, dim, value, ..., {options}].
  lambda_lines = { for fn, function_name in var.function_names : fn => ["AWS/Lambda", "Duration", "FunctionName", function_name] }
  api          = ["ApiName", var.api_name, "Stage", var.stage_name]

  # The issuer's, the functions' and the API's widgets, laid out after the
  # authorizer's by modules/authorizer-monitoring (its `more_widgets`).
  widgets = [
    { title = "Issuer logins by outcome, key store errors, tokens revoked", stat = "Sum", metrics = concat(
      [for d in ["ok", "refused", "throttled", "failed"] : [local.ns, "Logins", "Service", "issuer", "Decision", d, { label = "logins ${d}" }]],
      [
        [local.ns, "KeyStoreErrors", "Service", "issuer", { label = "key store errors", yAxis = "right" }],
        [local.ns, "TokensRevoked", "Service", "issuer", { label = "tokens revoked", yAxis = "right" }],
      ],
    ) },
    { title = "Lambda duration p99 (ms)", stat = "p99", metrics = [
      for fn, l in local.lambda_lines : concat(l, [{ label = fn }])
    ] },
    { title = "Lambda throttles and errors (errors: not the authorizer, whose errors are its 401s)", stat = "Sum", metrics = concat(
      [for fn, function_name in var.function_names : ["AWS/Lambda", "Throttles", "FunctionName", function_name, { label = "${fn} throttles" }]],
      [for fn in ["issuer", "issuer-rotation", "backend"] : ["AWS/Lambda", "Errors", "FunctionName", var.function_names[fn], { label = "${fn} errors" }]],
    ) },
    { title = "API 4xx / 5xx", stat = "Sum", metrics = [
      concat(["AWS/ApiGateway", "4XXError"], local.api, [{ label = "4xx" }]),
      concat(["AWS/ApiGateway", "5XXError"], local.api, [{ label = "5xx" }]),
      concat(["AWS/ApiGateway", "Count"], local.api, [{ label = "requests", yAxis = "right" }]),
    ] },
    { title = "API latency (ms)", stat = "p99", metrics = [
      concat(["AWS/ApiGateway", "Latency"], local.api, [{ label = "latency p99" }]),
      concat(["AWS/ApiGateway", "IntegrationLatency"], local.api, [{ label = "integration latency p99" }]),
      concat(["AWS/ApiGateway", "Latency"], local.api, [{ stat = "p50", label = "latency p50" }]),
    ] },
  ]

}

output "alarms" {
  description = "Alarm definitions by key: name, description, comparison, threshold, periods and metric queries."
  value       = local.alarms
}

output "dashboard_body" {
  description = "CloudWatch dashboard JSON."
  value       = jsonencode({ widgets = module.authorizer.dashboard_widgets })
}

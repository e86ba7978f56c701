# The dashboard and alarm definitions, provider-free so `terraform test` can
# check them offline. Tollgate metrics are read through the [Service] and
# [Service, Decision] dimension sets every EMF record declares (one
# [Service, Decision, Reason] series where the reason is the point).
# The authorizer's Lambda `Errors` count every `Unauthorized` answer by
# design (that is how a TOKEN authorizer says 401): no alarm reads them.

locals {
  ns = "Tollgate"

  # The authorizer's metrics unless an entry names its service.
  tollgate = {
    for name, m in {
      decisions          = { metric = "Decisions", dims = {} }
      unauthorized       = { metric = "Decisions", dims = { Decision = "unauthorized" } }
      keys_unavailable   = { metric = "Decisions", dims = { Decision = "unauthorized", Reason = "keys_unavailable" } }
      jwks_fetches       = { metric = "JwksFetches", dims = {} }
      jwks_failures      = { metric = "JwksFetchFailures", dims = {} }
      jwks_stale         = { metric = "JwksStaleServes", dims = {} }
      unknown_kid_misses = { metric = "UnknownKidMisses", dims = {} }
      status_unavailable = { metric = "Decisions", dims = { Decision = "unauthorized", Reason = "status_unavailable" } }
      status_fetches     = { metric = "StatusListFetches", dims = {} }
      status_failures    = { metric = "StatusListFetchFailures", dims = {} }
      status_stale       = { metric = "StatusListStaleServes", dims = {} }
      logins_throttled   = { service = "issuer", metric = "Logins", dims = { Decision = "throttled" } }
      logins_failed      = { service = "issuer", metric = "Logins", dims = { Decision = "failed" } }
      key_store_errors   = { service = "issuer", metric = "KeyStoreErrors", dims = {} }
    } : name => { namespace = local.ns, metric_name = m.metric, dimensions = merge({ Service = try(m.service, "authorizer") }, m.dims) }
  }

  # The usual evaluation: a 5-minute sum that reaches 1, once. Each alarm
  # states only how it differs from it.
  sum_over_5_minutes = { stat = "Sum", period = 300, threshold = 1, evaluation_periods = 1, datapoints_to_alarm = 1 }

  # One query per alarm unless it is metric math; every query has the same
  # attributes so the root module can build them with one dynamic block.
  single = {
    for name, a in {
      authorizer-fails-closed = {
        description = "The authorizer refuses tokens because it has no keys (JWKS unreachable and nothing stale to serve): it is failing closed."
        metric      = local.tollgate.keys_unavailable, period = 60, evaluation_periods = 3, datapoints_to_alarm = 2
      }
      jwks-fetch-failures = {
        description = "JWKS fetches are failing (issuer unreachable, slow or answering errors)."
        metric      = local.tollgate.jwks_failures, threshold = 3
      }
      jwks-stale-serves = {
        description = "The authorizer verifies with a JWKS past its freshness because refetches fail."
        metric      = local.tollgate.jwks_stale, evaluation_periods = 2, datapoints_to_alarm = 2
      }
      status-lists-unavailable = {
        description = "The authorizer refuses tokens because their status list is unavailable (issuer unreachable, or a list refused) past its stale bound: it is failing closed on revocation checks."
        metric      = local.tollgate.status_unavailable, period = 60, evaluation_periods = 3, datapoints_to_alarm = 2
      }
      unknown-kid-misses = {
        description = "Tokens name keys the JWKS does not hold. A rotation publishes the next key a whole period before it signs, so after a rotation this stays at 0: keys published late, or forged kids."
        metric      = local.tollgate.unknown_kid_misses, threshold = 10
      }
      # A login is throttled after 5 wrong passwords for one name from one
      # address in 15 minutes (100 from anywhere), or when the password-hashing
      # pool is full: a few are typos, twenty in 5 minutes are not.
      issuer-login-throttling = {
        description = "Logins are being throttled: repeated wrong passwords (guessing or credential stuffing), or more logins than the password-hashing pool takes."
        metric      = local.tollgate.logins_throttled, threshold = 20
      }
      issuer-login-failures = {
        description = "Logins fail because the account store fails (DynamoDB unreachable, throttled or denied): nobody can get a token."
        metric      = local.tollgate.logins_failed
      }
      issuer-key-store-errors = {
        description = "The issuer cannot read or write its keyset in Secrets Manager: tokens cannot be signed, or a key change cannot be saved."
        metric      = local.tollgate.key_store_errors
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

  query = { id = null, expression = null, label = null, return_data = false, namespace = null, metric_name = null, dimensions = {}, stat = null, period = null }

  alarms = merge(
    {
      for name, a in merge(local.single, local.errors, local.throttles) : name => {
        alarm_name          = "${var.name}-${name}"
        description         = a.description
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = a.threshold
        evaluation_periods  = a.evaluation_periods
        datapoints_to_alarm = a.datapoints_to_alarm
        treat_missing_data  = "notBreaching"
        queries = [merge(local.query, a.metric, {
          id = "m", return_data = true, stat = a.stat, period = a.period, label = a.metric.metric_name
        })]
      }
    },
    {
      unauthorized-share = {
        alarm_name          = "${var.name}-unauthorized-share"
        description         = "More than ${var.unauthorized_share_percent}% of the authorizer's decisions are Unauthorized (at least ${var.min_decisions} decisions in 5 minutes): a bad client release, an issuer/audience mismatch, or an attack."
        comparison_operator = "GreaterThanThreshold"
        threshold           = var.unauthorized_share_percent
        evaluation_periods  = 3
        datapoints_to_alarm = 2
        treat_missing_data  = "notBreaching"
        queries = [
          merge(local.query, local.tollgate.unauthorized, { id = "unauthorized", stat = "Sum", period = 300, label = "Unauthorized" }),
          merge(local.query, local.tollgate.decisions, { id = "decisions", stat = "Sum", period = 300, label = "Decisions" }),
          merge(local.query, { id = "share", return_data = true, label = "Unauthorized share (%)", expression = "IF(decisions >= ${var.min_decisions}, 100 * unauthorized / decisions, 0)" }),
        ]
      }
    },
  )

  # Dashboard: a metric line is [namespace, name, dim, value, ..., {options}].
  line = {
    for key, m in local.tollgate : key => concat([m.namespace, m.metric_name], flatten([for k, v in m.dimensions : [k, v]]))
  }
  lambda_lines = { for fn, function_name in var.function_names : fn => ["AWS/Lambda", "Duration", "FunctionName", function_name] }
  api          = ["ApiName", var.api_name, "Stage", var.stage_name]

  widgets = [
    { title = "Authorizer decisions by outcome", stat = "Sum", metrics = [
      for d in ["allow", "deny", "unauthorized"] : [local.ns, "Decisions", "Service", "authorizer", "Decision", d, { label = d }]
    ] },
    { title = "Verification time (µs)", stat = "Average", metrics = [
      [local.ns, "VerificationTime", "Service", "authorizer", { stat = "p50", label = "p50" }],
      [local.ns, "VerificationTime", "Service", "authorizer", { stat = "p99", label = "p99" }],
      [local.ns, "VerificationTime", "Service", "authorizer", { stat = "Average", label = "average" }],
    ] },
    { title = "Decision cache hits", stat = "Sum", metrics = [
      [local.ns, "DecisionCacheHits", "Service", "authorizer", { label = "cache hits" }],
      concat(local.line.decisions, [{ label = "decisions" }]),
    ] },
    { title = "JWKS fetches, failures, stale serves, unknown kids", stat = "Sum", metrics = [
      concat(local.line.jwks_fetches, [{ label = "fetches" }]),
      concat(local.line.jwks_failures, [{ label = "failures" }]),
      concat(local.line.jwks_stale, [{ label = "stale serves" }]),
      concat(local.line.unknown_kid_misses, [{ label = "unknown-kid misses" }]),
    ] },
    { title = "Token status: list fetches, failures, stale serves; revoked tokens refused", stat = "Sum", metrics = [
      concat(local.line.status_fetches, [{ label = "list fetches" }]),
      concat(local.line.status_failures, [{ label = "list fetch failures" }]),
      concat(local.line.status_stale, [{ label = "stale list serves" }]),
      [local.ns, "Decisions", "Service", "authorizer", "Decision", "unauthorized", "Reason", "revoked", { label = "revoked tokens refused" }],
      [local.ns, "Decisions", "Service", "authorizer", "Decision", "unauthorized", "Reason", "status_unavailable", { label = "refused: list unavailable" }],
    ] },
    { title = "Cold starts and init time (ms)", stat = "Sum", metrics = [
      [local.ns, "ColdStart", "Service", "authorizer", { label = "cold starts" }],
      [local.ns, "InitTime", "Service", "authorizer", { stat = "Average", label = "init time (ms, average)", yAxis = "right" }],
    ] },
    { title = "Issuer logins by outcome, key store errors", stat = "Sum", metrics = concat(
      [for d in ["ok", "refused", "throttled", "failed"] : [local.ns, "Logins", "Service", "issuer", "Decision", d, { label = "logins ${d}" }]],
      [concat(local.line.key_store_errors, [{ label = "key store errors", yAxis = "right" }])],
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

  dashboard = {
    widgets = [
      for i, w in local.widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          region  = var.region
          view    = "timeSeries"
          stacked = false
          period  = 60
          stat    = w.stat
          metrics = w.metrics
        }
      }
    ]
  }
}

output "alarms" {
  description = "Alarm definitions by key: name, description, comparison, threshold, periods and metric queries."
  value       = local.alarms
}

output "dashboard_body" {
  description = "CloudWatch dashboard JSON."
  value       = jsonencode(local.dashboard)
}

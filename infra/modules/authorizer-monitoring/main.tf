# The alarms and dashboard widgets that concern the authorizer alone, with
# no provider: the authorizer module creates the alarms for its users
# (`alarms` input), and the root module's monitoring merges them with the
# issuer's, the functions' and the API's. The authorizer's metrics are read
# through the [Service] and [Service, Decision] dimension sets every EMF
# record declares (one [Service, Decision, Reason] series where the reason
# is the point). Its Lambda `Errors` count every Unauthorized (how a TOKEN
# authorizer answers 401), so no alarm reads them.

locals {
  ns = "Tollgate"

  metric = {
    for name, m in {
      decisions          = { metric = "Decisions", dims = {} }
      unauthorized       = { metric = "Decisions", dims = { Decision = "unauthorized" } }
      keys_unavailable   = { metric = "Decisions", dims = { Decision = "unauthorized", Reason = "keys_unavailable" } }
      status_unavailable = { metric = "Decisions", dims = { Decision = "unauthorized", Reason = "status_unavailable" } }
      jwks_fetches       = { metric = "JwksFetches", dims = {} }
      jwks_failures      = { metric = "JwksFetchFailures", dims = {} }
      jwks_stale         = { metric = "JwksStaleServes", dims = {} }
      unknown_kid_misses = { metric = "UnknownKidMisses", dims = {} }
      status_fetches     = { metric = "StatusListFetches", dims = {} }
      status_failures    = { metric = "StatusListFetchFailures", dims = {} }
      status_stale       = { metric = "StatusListStaleServes", dims = {} }
    } : name => { namespace = local.ns, metric_name = m.metric, dimensions = merge({ Service = "authorizer" }, m.dims) }
  }

  # The usual evaluation: a 5-minute sum that reaches 1, once. Each alarm
  # states only how it differs from it.
  sum_over_5_minutes = { stat = "Sum", period = 300, threshold = 1, evaluation_periods = 1, datapoints_to_alarm = 1 }

  single = {
    for key, a in {
      authorizer-fails-closed = {
        description = "The authorizer refuses tokens because it has no keys (JWKS unreachable and nothing stale to serve): it is failing closed."
        metric      = local.metric.keys_unavailable, period = 60, evaluation_periods = 3, datapoints_to_alarm = 2
      }
      status-lists-unavailable = {
        description = "The authorizer refuses tokens because their status list is unavailable (issuer unreachable, or a list refused) past its stale bound: it is failing closed on revocation checks."
        metric      = local.metric.status_unavailable, period = 60, evaluation_periods = 3, datapoints_to_alarm = 2
      }
      jwks-fetch-failures = {
        description = "JWKS fetches are failing (issuer unreachable, slow or answering errors)."
        metric      = local.metric.jwks_failures, threshold = 3
      }
      jwks-stale-serves = {
        description = "The authorizer verifies with a JWKS past its freshness because refetches fail."
        metric      = local.metric.jwks_stale, evaluation_periods = 2, datapoints_to_alarm = 2
      }
      unknown-kid-misses = {
        description = "Tokens name keys the JWKS does not hold. A rotation publishes the next key a whole period before it signs, so after a rotation this stays at 0: keys published late, or forged kids."
        metric      = local.metric.unknown_kid_misses, threshold = 10
      }
    } : key => merge(local.sum_over_5_minutes, a)
  }

  # Every query has the same attributes, so a caller builds them with one
  # dynamic block whether the alarm is one metric or metric math.
  query = { id = null, expression = null, label = null, return_data = false, namespace = null, metric_name = null, dimensions = {}, stat = null, period = null }

  alarms = merge(
    {
      for key, a in local.single : key => {
        alarm_name          = "${var.name}-${key}"
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
          merge(local.query, local.metric.unauthorized, { id = "unauthorized", stat = "Sum", period = 300, label = "Unauthorized" }),
          merge(local.query, local.metric.decisions, { id = "decisions", stat = "Sum", period = 300, label = "Decisions" }),
          merge(local.query, { id = "share", return_data = true, label = "Unauthorized share (%)", expression = "IF(decisions >= ${var.min_decisions}, 100 * unauthorized / decisions, 0)" }),
        ]
      }
    },
  )

  # Dashboard: a metric line is [namespace, name, dimension, value, ...,
  # {options}], Service first.
  line = { for key, m in local.metric : key => concat([m.namespace, m.metric_name, "Service", "authorizer"], flatten([for k, v in m.dimensions : [k, v] if k != "Service"])) }

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
      concat(local.line.status_unavailable, [{ label = "refused: list unavailable" }]),
    ] },
    { title = "Cold starts and init time (ms)", stat = "Sum", metrics = [
      [local.ns, "ColdStart", "Service", "authorizer", { label = "cold starts" }],
      [local.ns, "InitTime", "Service", "authorizer", { stat = "Average", label = "init time (ms, average)", yAxis = "right" }],
    ] },
  ]
}

output "alarms" {
  description = "Alarm definitions by key: name, description, comparison, threshold, periods and metric queries (metric or expression)."
  value       = local.alarms
}

output "query" {
  description = "The attributes every alarm query has (all null): merge a metric or an expression into it."
  value       = local.query
}

output "widgets" {
  description = "Dashboard widgets (title, stat, metric lines) for the authorizer's metrics; lay them out with `dashboard_widgets` or your own."
  value       = local.widgets
}

output "dashboard_widgets" {
  description = "The widgets, then more_widgets, as CloudWatch dashboard JSON widgets (12 wide, 6 high, two per row), for a dashboard of the caller's."
  value = [
    for i, w in concat(local.widgets, var.more_widgets) : {
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

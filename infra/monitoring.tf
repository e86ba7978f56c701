# Dashboard and alarms, defined in modules/monitoring (tested offline).

module "monitoring" {
  source = "./modules/monitoring"

  name           = var.name
  region         = data.aws_region.current.name
  api_name       = aws_api_gateway_rest_api.tollgate.name
  stage_name     = var.stage_name
  function_names = { for fn, s in local.functions : fn => s.function_name }
}

resource "aws_cloudwatch_dashboard" "tollgate" {
  dashboard_name = var.name
  dashboard_body = module.monitoring.dashboard_body
}

resource "aws_cloudwatch_metric_alarm" "tollgate" {
  # Keys, not the map itself: alarms differ in their queries' shapes.
  for_each = toset(keys(module.monitoring.alarms))

  alarm_name          = module.monitoring.alarms[each.key].alarm_name
  alarm_description   = module.monitoring.alarms[each.key].description
  comparison_operator = module.monitoring.alarms[each.key].comparison_operator
  threshold           = module.monitoring.alarms[each.key].threshold
  evaluation_periods  = module.monitoring.alarms[each.key].evaluation_periods
  datapoints_to_alarm = module.monitoring.alarms[each.key].datapoints_to_alarm
  treat_missing_data  = module.monitoring.alarms[each.key].treat_missing_data
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  ok_actions          = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]

  dynamic "metric_query" {
    for_each = module.monitoring.alarms[each.key].queries
    content {
      id          = metric_query.value.id
      label       = metric_query.value.label
      return_data = metric_query.value.return_data
      expression  = metric_query.value.expression

      dynamic "metric" {
        for_each = metric_query.value.metric_name == null ? [] : [metric_query.value]
        content {
          namespace   = metric.value.namespace
          metric_name = metric.value.metric_name
          dimensions  = metric.value.dimensions
          stat        = metric.value.stat
          period      = metric.value.period
        }
      }
    }
  }
}

# CloudWatch alarms from the provider-free definitions of the monitoring
# modules: one query per metric, or metric math over several. The root
# module and the authorizer module both create their alarms here.

resource "aws_cloudwatch_metric_alarm" "this" {
  # Keys, not the map itself: alarms differ in their queries' shapes.
  for_each = toset(keys(var.alarms))

  alarm_name          = var.alarms[each.key].alarm_name
  alarm_description   = var.alarms[each.key].description
  comparison_operator = var.alarms[each.key].comparison_operator
  threshold           = var.alarms[each.key].threshold
  evaluation_periods  = var.alarms[each.key].evaluation_periods
  datapoints_to_alarm = var.alarms[each.key].datapoints_to_alarm
  treat_missing_data  = var.alarms[each.key].treat_missing_data
  alarm_actions       = var.topic_arn == null ? [] : [var.topic_arn]
  ok_actions          = var.topic_arn == null ? [] : [var.topic_arn]
  tags                = var.tags

  dynamic "metric_query" {
    for_each = var.alarms[each.key].queries
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

output "alarm_actions" {
  description = "Each alarm's actions, by name."
  value       = { for a in aws_cloudwatch_metric_alarm.this : a.alarm_name => a.alarm_actions }
}

output "alarm_names" {
  description = "The alarms' names, sorted."
  value       = sort([for a in aws_cloudwatch_metric_alarm.this : a.alarm_name])
}

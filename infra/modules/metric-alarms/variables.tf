variable "alarms" {
  description = "Alarm definitions by key, as the monitoring modules output them: alarm_name, description, comparison_operator, threshold, evaluation_periods, datapoints_to_alarm, treat_missing_data, and queries (each a metric or an expression)."
  type        = any
}

variable "topic_arn" {
  description = "SNS topic notified when an alarm fires and when it recovers; null: none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every alarm."
  type        = map(string)
  default     = {}
}

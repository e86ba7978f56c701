output "authorizer_id" {
  description = "The API Gateway authorizer's id: authorizer_id of your methods (REST, authorization = \"CUSTOM\") or routes (HTTP API, authorization_type = \"CUSTOM\")."
  value       = local.authorizer_id
}

output "function_name" {
  description = "The authorizer function's name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "The authorizer function's ARN."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "The function's execution role (its own logs only; with DPoP, also PutItem on its replay table)."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "alarm_names" {
  description = "The alarms created (empty unless `alarms` is set)."
  value       = module.alarms.alarm_names
}

output "dashboard_widgets" {
  description = "CloudWatch dashboard widgets of the authorizer's metrics (decisions, verification time, JWKS and status list fetches, cold starts), for a dashboard of yours: jsonencode({ widgets = module.<name>.dashboard_widgets })."
  value       = module.monitoring.dashboard_widgets
}

output "replay_table_name" {
  description = "The DynamoDB table of used DPoP proofs (DPOP_REPLAY_TABLE); null without dpop or with dpop.replay_table = false."
  value       = one(aws_dynamodb_table.dpop_replay[*].name)
}

output "api_url" {
  description = "Base URL of the API (the stage's invoke URL), the same form for every endpoint type: an EDGE API's is answered through API Gateway's CloudFront distribution, a PRIVATE API's resolves only inside a VPC whose execute-api endpoint has private DNS enabled (else vpc_endpoint_urls)."
  value       = aws_api_gateway_stage.tollgate.invoke_url
}

output "vpc_endpoint_urls" {
  description = "endpoint_type = PRIVATE: the API's URL through each VPC endpoint (https://{api-id}-{vpce-id}.execute-api.{region}.amazonaws.com/{stage}), which needs no private DNS; empty for REGIONAL and EDGE."
  value       = module.environment.vpc_endpoint_urls
}

output "endpoint_note" {
  description = "Where the API answers, for its endpoint_type."
  value       = module.environment.endpoint_note
}

output "issuer_url" {
  description = "The issuer URL: the `iss` of every token, and JWT_ISSUER of the authorizer."
  value       = module.environment.issuer_url
}

output "jwks_url" {
  description = "Where the issuer publishes its public keys."
  value       = module.environment.jwks_url
}

output "token_url" {
  description = "The token endpoint (POST)."
  value       = "${module.environment.issuer_url}/token"
}

output "keyset_secret_arn" {
  description = "ARN of the keyset secret (its value never enters Terraform state)."
  value       = aws_secretsmanager_secret.keyset.arn
}

output "users_table" {
  description = "DynamoDB table of accounts: USERS_TABLE for `tollgate user add`."
  value       = aws_dynamodb_table.users.name
}

output "status_table" {
  description = "DynamoDB table of token status: STATUS_TABLE for `tollgate token revoke` and `user revoke-tokens`."
  value       = aws_dynamodb_table.status.name
}

output "books_table" {
  description = "DynamoDB table of books."
  value       = aws_dynamodb_table.books.name
}

output "function_names" {
  description = "Lambda function name per function."
  value       = merge({ for fn, f in aws_lambda_function.fn : fn => f.function_name }, { authorizer = module.authorizer.function_name })
}

output "dashboard_url" {
  description = "The CloudWatch dashboard."
  value       = "https://${data.aws_region.current.name}.console.aws.amazon.com/cloudwatch/home?region=${data.aws_region.current.name}#dashboards/dashboard/${aws_cloudwatch_dashboard.tollgate.dashboard_name}"
}

output "alarm_names" {
  description = "Names of the alarms."
  value       = module.alarms.alarm_names
}

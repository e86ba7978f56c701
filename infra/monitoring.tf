# Dashboard and alarms, defined in modules/monitoring (tested offline).

module "monitoring" {
  source = "./modules/monitoring"

  name       = var.name
  region     = data.aws_region.current.name
  api_name   = aws_api_gateway_rest_api.tollgate.name
  stage_name = var.stage_name
  function_names = merge(
    { for fn, f in aws_lambda_function.fn : fn => f.function_name },
    { authorizer = module.authorizer.function_name },
  )
}

resource "aws_cloudwatch_dashboard" "tollgate" {
  dashboard_name = var.name
  dashboard_body = module.monitoring.dashboard_body
}

module "alarms" {
  source = "./modules/metric-alarms"

  alarms    = module.monitoring.alarms
  topic_arn = var.alarm_topic_arn
}

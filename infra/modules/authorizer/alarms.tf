# The authorizer's alarms, when `alarms` asks for them: the definitions of
# modules/authorizer-monitoring (the ones the root module's monitoring
# holds too), created by modules/metric-alarms.

module "monitoring" {
  source = "../authorizer-monitoring"

  name   = var.name
  region = data.aws_region.current.name
}

module "alarms" {
  source = "../metric-alarms"

  alarms    = var.alarms == null ? {} : module.monitoring.alarms
  topic_arn = try(var.alarms.topic_arn, null)
  tags      = var.tags
}

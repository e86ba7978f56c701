variable "name" {
  description = "Prefix of alarm names (the deployment's name)."
  type        = string
}

variable "region" {
  description = "Region the dashboard's widgets read."
  type        = string
}

variable "api_name" {
  description = "REST API name (AWS/ApiGateway ApiName dimension)."
  type        = string
}

variable "stage_name" {
  description = "API Gateway stage (AWS/ApiGateway Stage dimension)."
  type        = string
}

variable "function_names" {
  description = "Lambda function name per function: authorizer, issuer, issuer-rotation, backend."
  type        = map(string)

  validation {
    condition     = toset(keys(var.function_names)) == toset(["authorizer", "issuer", "issuer-rotation", "backend"])
    error_message = "function_names must name exactly authorizer, issuer, issuer-rotation and backend."
  }
}

variable "unauthorized_share_percent" {
  description = "Alarm when more than this share of the authorizer's decisions are Unauthorized (with at least min_decisions in the period)."
  type        = number
  default     = 25

  validation {
    condition     = var.unauthorized_share_percent > 0 && var.unauthorized_share_percent < 100
    error_message = "unauthorized_share_percent must be between 0 and 100."
  }
}

variable "min_decisions" {
  description = "Least decisions in a 5-minute period before the unauthorized share is judged."
  type        = number
  default     = 50
}

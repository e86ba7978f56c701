variable "name" {
  description = "Prefix of the alarm names: each alarm is named <name>-<key>."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$", var.name))
    error_message = "name must be 1-200 letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "region" {
  description = "Region the dashboard widgets read."
  type        = string
  nullable    = false
}

variable "unauthorized_share_percent" {
  description = "Alarm when more than this share of the authorizer's decisions are Unauthorized (with at least min_decisions in the period)."
  type        = number
  default     = 25
  nullable    = false

  validation {
    condition     = var.unauthorized_share_percent > 0 && var.unauthorized_share_percent < 100
    error_message = "unauthorized_share_percent must be between 0 and 100."
  }
}

variable "min_decisions" {
  description = "Least decisions in a 5-minute period before the unauthorized share is judged."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.min_decisions >= 1 && floor(var.min_decisions) == var.min_decisions
    error_message = "min_decisions must be a whole number of at least 1."
  }
}

variable "more_widgets" {
  description = "Widgets (title, stat, metric lines) laid out after the authorizer's in `dashboard_widgets`: a whole dashboard in one layout."
  type        = any
  default     = []
}

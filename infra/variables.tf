# Inputs of the root module. The same file is the settings module's
# (modules/settings/variables.tf links here), so every validation below is
# exercised offline by `terraform test` in modules/settings.

variable "name" {
  description = "Prefix of every resource name (functions, tables, secret, API, dashboard)."
  type        = string
  default     = "tollgate"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "stage_name" {
  description = "API Gateway stage; part of every URL and of the issuer URL (iss)."
  type        = string
  default     = "prod"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.stage_name))
    error_message = "stage_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "audiences" {
  description = "Accepted token audiences (JWT_AUDIENCE): the issuer's tokens carry them, the authorizer requires one."
  type        = list(string)
  default     = ["books-api"]
  nullable    = false

  validation {
    condition     = length(var.audiences) > 0 && alltrue([for a in var.audiences : can(regex("^[^,\\s]+$", a))])
    error_message = "audiences must be a non-empty list of values without commas or whitespace."
  }
}

variable "signing_alg" {
  description = "Algorithm of the issuer's signing keys (SIGNING_ALG)."
  type        = string
  default     = "RS256"
  nullable    = false

  validation {
    condition     = contains(["RS256", "PS256", "ES256", "EdDSA"], var.signing_alg)
    error_message = "signing_alg must be one of RS256, PS256, ES256, EdDSA."
  }
}

variable "token_ttl_seconds" {
  description = "Lifetime of an access token (TOKEN_TTL_SECONDS)."
  type        = number
  default     = 900
  nullable    = false

  validation {
    condition     = var.token_ttl_seconds >= 60 && var.token_ttl_seconds <= 86400 && floor(var.token_ttl_seconds) == var.token_ttl_seconds
    error_message = "token_ttl_seconds must be a whole number from 60 to 86400."
  }
}

variable "jwks_max_age_seconds" {
  description = "How long a published JWKS may be cached (JWKS_MAX_AGE_SECONDS, issuer and authorizer)."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.jwks_max_age_seconds >= 0 && var.jwks_max_age_seconds <= 86400 && floor(var.jwks_max_age_seconds) == var.jwks_max_age_seconds
    error_message = "jwks_max_age_seconds must be a whole number from 0 to 86400."
  }
}

variable "status_list_max_age_seconds" {
  description = "How long a token status list may be cached (STATUS_LIST_MAX_AGE_SECONDS, issuer and authorizer): a revoked token is refused within this plus authorizer_cache_ttl_seconds."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.status_list_max_age_seconds >= 1 && var.status_list_max_age_seconds <= 3600 && floor(var.status_list_max_age_seconds) == var.status_list_max_age_seconds
    error_message = "status_list_max_age_seconds must be a whole number from 1 to 3600."
  }
}

variable "endpoint_type" {
  description = "The API's endpoint type: REGIONAL (served in this region; put your own CloudFront in front if you need one), EDGE (API Gateway's own CloudFront distribution in front; the authorizer cache and the functions stay in this region) or PRIVATE (only through the interface VPC endpoints in vpc_endpoint_ids; needs authorizer_vpc_config)."
  type        = string
  default     = "REGIONAL"
  nullable    = false

  validation {
    condition     = contains(["REGIONAL", "EDGE", "PRIVATE"], var.endpoint_type)
    error_message = "endpoint_type must be REGIONAL, EDGE or PRIVATE."
  }
}

variable "vpc_endpoint_ids" {
  description = "endpoint_type = PRIVATE: the interface VPC endpoints (com.amazonaws.<region>.execute-api) the API answers through; its resource policy refuses every other source. Empty for REGIONAL and EDGE."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.vpc_endpoint_ids : can(regex("^vpce-[0-9a-f]{8,17}$", id))])
    error_message = "vpc_endpoint_ids must be VPC endpoint ids (vpce-0123456789abcdef0)."
  }

  validation {
    condition     = (var.endpoint_type == "PRIVATE") == (length(var.vpc_endpoint_ids) > 0)
    error_message = "vpc_endpoint_ids: a PRIVATE API needs at least one execute-api VPC endpoint id; REGIONAL and EDGE APIs take none."
  }
}

variable "authorizer_vpc_config" {
  description = "Subnets and security groups to run the authorizer function in (modules/authorizer's vpc_config, which checks the ids). Required with endpoint_type = PRIVATE: the authorizer fetches the JWKS and status lists from the API's own URL, which only the VPC endpoints answer, so it must run in a VPC whose execute-api endpoint has private DNS enabled. null: outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.endpoint_type != "PRIVATE" || var.authorizer_vpc_config != null
    error_message = "endpoint_type = PRIVATE needs authorizer_vpc_config: the authorizer fetches the JWKS and status lists from the private API itself, which a function outside the VPC cannot reach. Give it subnets in a VPC whose execute-api endpoint has private DNS enabled, and security groups that reach that endpoint on port 443."
  }
}

variable "authorizer_cache_ttl_seconds" {
  description = "API Gateway's authorizer result cache TTL: no longer than a token lives (0 disables the cache)."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.authorizer_cache_ttl_seconds >= 0 && var.authorizer_cache_ttl_seconds <= 3600 && floor(var.authorizer_cache_ttl_seconds) == var.authorizer_cache_ttl_seconds
    error_message = "authorizer_cache_ttl_seconds must be a whole number from 0 to 3600 (API Gateway's limit)."
  }

  validation {
    condition     = var.authorizer_cache_ttl_seconds <= var.token_ttl_seconds
    error_message = "authorizer_cache_ttl_seconds must not exceed token_ttl_seconds: a cached Allow would outlive the token."
  }
}

variable "rotation_schedule" {
  description = "Secrets Manager rotation schedule of the keyset: rate(N hours|days), or cron(...) with one fixed hour (at most daily)."
  type        = string
  default     = "rate(30 days)"
  nullable    = false

  validation {
    condition = (
      can(regex("^rate\\(([1-9][0-9]*) (hour|hours|day|days)\\)$", var.rotation_schedule)) ||
      can(regex("^cron\\([0-9]{1,2} ([0-9]|1[0-9]|2[0-3]) \\S+ \\S+ \\S+ \\S+\\)$", var.rotation_schedule))
    )
    error_message = "rotation_schedule must be rate(N hours), rate(N days), or cron(M H DoM Mon DoW Y) with a single fixed hour H."
  }

  validation {
    # A rotation promotes the key published at the previous rotation: the
    # period must let every warm authorizer's JWKS cache (and every token
    # signed by the retired key) run out first. Secrets Manager's floor is 4 hours.
    condition = !can(regex("^rate\\(", var.rotation_schedule)) || try(
      tonumber(regex("^rate\\(([0-9]+) ", var.rotation_schedule)[0]) * (can(regex(" day", var.rotation_schedule)) ? 86400 : 3600) >= max(4 * 3600, var.token_ttl_seconds + var.jwks_max_age_seconds),
      false
    )
    error_message = "rotation_schedule rotates too often: the period must be at least 4 hours and at least token_ttl_seconds + jwks_max_age_seconds."
  }

  validation {
    condition     = !can(regex("^rate\\(", var.rotation_schedule)) || try(tonumber(regex("^rate\\(([0-9]+) ", var.rotation_schedule)[0]) * (can(regex(" day", var.rotation_schedule)) ? 1 : 1 / 24) <= 999, false)
    error_message = "rotation_schedule must rotate at least every 999 days (Secrets Manager's limit)."
  }
}

variable "route_scopes" {
  description = "ROUTE_SCOPES for the authorizer: \"METHOD /path\" to the scopes (space-separated) that grant it. null: this API's own table, infra/api-routes.json."
  type        = map(string)
  default     = null

  validation {
    condition     = var.route_scopes == null || alltrue([for route, scopes in coalesce(var.route_scopes, {}) : can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\\*) /\\S*$", route)) && trimspace(scopes) != ""])
    error_message = "route_scopes keys must be \"METHOD /path\" (METHOD one of API Gateway's verbs or *), each with at least one scope."
  }
}

variable "route_rules" {
  description = "ROUTE_RULES for the authorizer: \"METHOD /path\" of route_scopes to a list of alternatives { when = \"CEL\", bind = { param = \"CEL\" } } (the authorizer module checks them). null: this API's own rules, infra/api-routes.json's (set {} with a route_scopes of your own that lacks their routes)."
  type        = any
  default     = null
}

variable "log_retention_days" {
  description = "Retention of every log group (functions and API access logs)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic that alarms notify (alarm and OK); null: alarms without notifications."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "lambda_dir" {
  description = "Directory holding <function>/bootstrap.zip as `make lambda` builds them; relative paths are relative to infra/."
  type        = string
  default     = "../target/lambda"
  nullable    = false

  validation {
    condition     = trimspace(var.lambda_dir) != ""
    error_message = "lambda_dir must name a directory."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the stage accepts (API Gateway method throttling)."
  type        = number
  default     = 1000
  nullable    = false

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be more than 0 and at most 10000."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests the stage accepts (API Gateway method throttling)."
  type        = number
  default     = 500
  nullable    = false

  validation {
    condition     = var.throttling_burst_limit >= 1 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a whole number from 1 to 5000."
  }
}

variable "manage_api_gateway_account" {
  description = "Set this region's API Gateway account CloudWatch role (needed once per account and region for access logs). false if it is already set elsewhere."
  type        = bool
  default     = true
  nullable    = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}

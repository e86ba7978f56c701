# Inputs of the authorizer module (listed in docs/reference.md). Every one is
# checked here, so a bad value fails at plan, not at the first request.

variable "name" {
  description = "Name of the function, its role and log group (and the prefix of its alarms)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, '-' or '_' (a Lambda function name)."
  }
}

variable "lambda_zip" {
  description = "Path of the authorizer's bootstrap.zip (`make lambda` builds target/lambda/authorizer/bootstrap.zip)."
  type        = string
  nullable    = false

  validation {
    condition     = endswith(var.lambda_zip, ".zip")
    error_message = "lambda_zip must be the path of a .zip file."
  }
}

variable "issuer" {
  description = "The one trusted issuer (JWT_ISSUER): the exact `iss` of its tokens. Set this or trusted_issuers."
  type        = string
  default     = null

  validation {
    condition     = (var.issuer == null) != (var.trusted_issuers == null)
    error_message = "Set exactly one of issuer and trusted_issuers."
  }
  validation {
    condition     = var.issuer == null || can(regex("^https://[^/?#\\s]+", var.issuer))
    error_message = "issuer must be an https URL."
  }
}

variable "audiences" {
  description = "Accepted `aud` values (JWT_AUDIENCE); a token without `aud` is matched on its `client_id` (Cognito access tokens). Required with issuer; with trusted_issuers, the audiences of entries that name none."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = var.issuer == null || length(var.audiences) > 0
    error_message = "audiences must name at least one audience when issuer is set."
  }
  validation {
    condition     = alltrue([for a in var.audiences : length(trimspace(a)) > 0 && !strcontains(a, ",")])
    error_message = "An audience must not be empty or contain a comma."
  }
}

variable "trusted_issuers" {
  description = "Several issuers (TRUSTED_ISSUERS): the JSON array [{\"issuer\", \"jwks_uri\", \"audiences\"}], each issuer's keys bound to it. Set this or issuer."
  type        = string
  default     = null

  validation {
    condition     = var.trusted_issuers == null || can(length(jsondecode(var.trusted_issuers)) > 0 && alltrue([for i in jsondecode(var.trusted_issuers) : can(startswith(i.issuer, "https://"))]))
    error_message = "trusted_issuers must be a non-empty JSON array of objects with an https \"issuer\"."
  }
}

variable "jwks_uri" {
  description = "The issuer's JWKS URL (JWKS_URI); null: OIDC discovery at {issuer}/.well-known/openid-configuration."
  type        = string
  default     = null

  validation {
    condition     = var.jwks_uri == null || can(regex("^https://[^/?#\\s]+", var.jwks_uri))
    error_message = "jwks_uri must be an https URL."
  }
}

variable "jwks_snapshot" {
  description = "A JWKS snapshot for cold starts with no round trip (JWKS_SNAPSHOT): the JSON `tollgate jwks snapshot` wrote, e.g. file(\"jwks-snapshot.json\"), put in the function's environment (Lambda's 4 KB limit on all variables applies); or the name of the file `make lambda JWKS_SNAPSHOT_FROM=...` packaged in the zip, \"jwks-snapshot.json\". As trusted as the zip itself; its keys serve until the live JWKS replaces them (docs/caching.md). null: none."
  type        = string
  default     = null

  validation {
    condition = var.jwks_snapshot == null || can(regex("^[A-Za-z0-9._-]+\\.json$", var.jwks_snapshot)) || can(
      length(jsondecode(var.jwks_snapshot).keys) > 0 && floor(jsondecode(var.jwks_snapshot).fetched_at) == jsondecode(var.jwks_snapshot).fetched_at
    )
    error_message = "jwks_snapshot must be a snapshot's JSON ({\"keys\": [...], \"fetched_at\": <Unix seconds>}, from `tollgate jwks snapshot`) or the name of the .json file packaged in the zip."
  }
}

variable "route_scopes" {
  description = "Which scopes grant each route of your API (ROUTE_SCOPES): {\"METHOD /path\" = \"scope other-scope\"}, any one suffices; `*` in a path matches anything, `/` included. Required: the authorizer has no table of its own for your API."
  type        = map(string)
  nullable    = false

  validation {
    condition = length(var.route_scopes) > 0 && alltrue([
      for route, scopes in var.route_scopes :
      can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\\*) /[^\\s]*$", route)) && length(trimspace(scopes)) > 0
    ])
    error_message = "route_scopes needs at least one route; keys are \"METHOD /path\" (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or *), values non-empty scope lists."
  }
}

# HCL's && and || evaluate both sides: a member that may be absent is read
# in the branch a conditional takes only when it is there.
#
# Typed `any`, not map(list(object({ when = optional(string), bind =
# optional(map(string)) }))): converting to an object type silently drops
# attributes the type does not name, so a misspelt `bnid` would become an
# alternative that always holds, granting every tenant. The checks below
# refuse it instead (as the function does), and hold the shape the type
# would have: each alternative an object with `when` (a string) and `bind`
# (a map of strings), both optional. What only the function can check (CEL
# syntax, variables and types, routes that could bypass a rule) fails its
# start: docs/route-rules.md.
variable "route_rules" {
  description = "Rules on some routes beyond their scopes (ROUTE_RULES): { \"METHOD /path\" = [{ when = \"CEL bool\", bind = { param = \"CEL string or list\" } }, ...] }, a route of route_scopes to its alternatives, one of which must hold; `bind` pins a path parameter ({tenant}, or a last {proxy+}) of that route to the token's values. Empty: none. With simple_responses and a rule that binds a parameter, $context.path joins the identity sources."
  type        = any
  default     = {}
  nullable    = false

  validation {
    condition = try(alltrue([
      for route, alternatives in var.route_rules : startswith(jsonencode(alternatives), "[") && alltrue([
        for alternative in alternatives : startswith(jsonencode(alternative), "{") && length(setsubtract(keys(alternative), ["when", "bind"])) == 0
      ])
    ]), false)
    error_message = "route_rules maps a route to a list of alternatives, each { when = \"...\", bind = { param = \"...\" } } with no other member (a misspelt one would make an alternative that always holds)."
  }
  validation {
    condition     = try(alltrue([for route, alternatives in var.route_rules : length(alternatives) > 0]), false)
    error_message = "A route in route_rules lists no alternatives: it could never be granted (remove it, or give it [{}] to hold always)."
  }
  validation {
    condition = try(alltrue(flatten([
      for route, alternatives in var.route_rules : [
        for alternative in alternatives : try(alternative.when, null) == null ? true : startswith(jsonencode(alternative.when), "\"") && trimspace(alternative.when) != ""
      ]
    ])), false)
    error_message = "A route_rules `when` must be a non-empty string: a CEL expression over the token that yields a bool."
  }
  validation {
    condition = try(alltrue(flatten([
      for route, alternatives in var.route_rules : [
        for alternative in alternatives : try(alternative.bind, null) == null ? true : startswith(jsonencode(alternative.bind), "{") && alltrue([
          for param, expression in alternative.bind : startswith(jsonencode(expression), "\"") && trimspace(expression) != ""
        ])
      ]
    ])), false)
    error_message = "A route_rules `bind` must map path parameter names to non-empty strings: CEL expressions yielding a string or a list of strings."
  }
  validation {
    condition     = try(alltrue([for route in keys(var.route_rules) : contains(keys(var.route_scopes), route)]), false)
    error_message = "Every route in route_rules must be a key of route_scopes, written the same way: a rule only narrows a route the scopes grant."
  }
  # A parameter is a whole segment `{name}`, or `{name+}` as the last one,
  # of the rule's route key; names as the function reads them.
  validation {
    condition = try(alltrue(flatten([
      for route, alternatives in var.route_rules : [
        for alternative in alternatives : [
          for param in keys(try(alternative.bind, null) == null ? {} : alternative.bind) :
          can(regex("^[A-Za-z0-9_.-]+$", param)) && (contains(split("/", route), "{${param}}") || endswith(route, "/{${param}+}"))
        ]
      ]
    ])), false)
    error_message = "A route_rules `bind` names a parameter its route does not have: bind only the route key's path parameters, {name} or a last {name+} (without the braces: bind = { tenant = \"claims.tenant_id\" })."
  }
}

variable "scope_claims" {
  description = "Claim paths whose values grant scopes (SCOPE_CLAIMS), e.g. [\"scope\", \"cognito:groups\"] or [\"realm_access.roles\"]. Empty: scope and scp."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.scope_claims : length(c) > 0 && !strcontains(c, ",")])
    error_message = "A scope claim path must not be empty or contain a comma."
  }
}

variable "context_claims" {
  description = "Claim paths copied into the authorizer context as strings (CONTEXT_CLAIMS), at most 16."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.context_claims) <= 16 && alltrue([for c in var.context_claims : length(c) > 0 && !strcontains(c, ",")])
    error_message = "context_claims: at most 16 paths, none empty or with a comma."
  }
}

variable "principal_claim" {
  description = "The claim whose value becomes principalId (PRINCIPAL_CLAIM); null: sub."
  type        = string
  default     = null
}

variable "required_typ" {
  description = "The header typ every token must carry (JWT_REQUIRED_TYP), e.g. \"at+jwt\" for RFC 9068 access tokens; null: not checked."
  type        = string
  default     = null
}

variable "allow_id_tokens" {
  description = "Accept Cognito ID tokens (token_use \"id\", JWT_ALLOW_ID_TOKENS)."
  type        = bool
  default     = false
  nullable    = false
}

variable "jwks_max_age_seconds" {
  description = "Upper bound on how long a fetched JWKS is fresh (JWKS_MAX_AGE_SECONDS); a smaller Cache-Control max-age wins."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.jwks_max_age_seconds >= 1 && var.jwks_max_age_seconds <= 86400 && floor(var.jwks_max_age_seconds) == var.jwks_max_age_seconds
    error_message = "jwks_max_age_seconds must be a whole number from 1 to 86400."
  }
}

variable "jwks_max_stale_seconds" {
  description = "How long a JWKS past its freshness keeps serving while refetches fail (JWKS_MAX_STALE_SECONDS); then the authorizer fails closed."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.jwks_max_stale_seconds >= 0 && var.jwks_max_stale_seconds <= 86400 && floor(var.jwks_max_stale_seconds) == var.jwks_max_stale_seconds
    error_message = "jwks_max_stale_seconds must be a whole number from 0 to 86400."
  }
}

variable "status_list_check" {
  description = "Token status lists (STATUS_LIST_CHECK): \"off\", \"if_present\" (a token naming a list is checked) or \"required\" (every token must name one)."
  type        = string
  default     = "if_present"
  nullable    = false

  validation {
    condition     = contains(["off", "if_present", "required"], var.status_list_check)
    error_message = "status_list_check must be off, if_present or required."
  }
}

variable "status_list_max_age_seconds" {
  description = "Upper bound on how long a status list is fresh (STATUS_LIST_MAX_AGE_SECONDS): a revoked token is refused within this plus result_ttl_seconds."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.status_list_max_age_seconds >= 1 && var.status_list_max_age_seconds <= 86400 && floor(var.status_list_max_age_seconds) == var.status_list_max_age_seconds
    error_message = "status_list_max_age_seconds must be a whole number from 1 to 86400."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB (more memory is more CPU on Lambda)."
  type        = number
  default     = 128
  nullable    = false

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout_seconds" {
  description = "Bound on one invocation: at most one JWKS and one status list fetch (1.5 s each) and a signature check."
  type        = number
  default     = 6
  nullable    = false

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 30 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be a whole number from 1 to 30 (API Gateway waits 30 s at most)."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "vpc_config" {
  description = "Run the function in a VPC: its subnets and security groups. For issuers whose JWKS and status lists answer only there (a private IdP, or a PRIVATE API serving its own issuer through an execute-api VPC endpoint); the subnets must reach them (a VPC endpoint, or NAT for a public issuer). null: outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition = var.vpc_config == null || try(
      length(var.vpc_config.subnet_ids) > 0 && length(var.vpc_config.security_group_ids) > 0
      && alltrue([for id in var.vpc_config.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
      && alltrue([for id in var.vpc_config.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))]),
      false
    )
    error_message = "vpc_config needs at least one subnet id (subnet-...) and one security group id (sg-...)."
  }
}

variable "tags" {
  description = "Tags on every resource the module creates."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "api_type" {
  description = "The API the authorizer protects: \"rest\" (a TOKEN authorizer; with dpop, a REQUEST authorizer) or \"http\" (a REQUEST authorizer, payload 2.0)."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["rest", "http"], var.api_type)
    error_message = "api_type must be rest or http."
  }
}

variable "rest_api_id" {
  description = "The REST API's id (api_type = \"rest\")."
  type        = string
  default     = null

  validation {
    condition     = (var.api_type == "rest") == (var.rest_api_id != null)
    error_message = "Set rest_api_id exactly when api_type is rest."
  }
}

variable "http_api_id" {
  description = "The HTTP API's id (api_type = \"http\")."
  type        = string
  default     = null

  validation {
    condition     = (var.api_type == "http") == (var.http_api_id != null)
    error_message = "Set http_api_id exactly when api_type is http."
  }
}

variable "result_ttl_seconds" {
  description = "API Gateway's authorizer cache TTL (0 turns it off). Keep it no longer than your tokens live."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.result_ttl_seconds >= 0 && var.result_ttl_seconds <= 3600 && floor(var.result_ttl_seconds) == var.result_ttl_seconds
    error_message = "result_ttl_seconds must be a whole number from 0 to 3600 (API Gateway's limit)."
  }
}

variable "simple_responses" {
  description = "HTTP APIs: answer isAuthorized (simple responses) instead of an IAM policy. The identity sources then include $context.routeKey, so a cached true is never reused for another route, and with route_rules that bind a path parameter $context.path, so it is never reused for another path."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.simple_responses || var.api_type == "http"
    error_message = "simple_responses applies to HTTP APIs only (api_type = \"http\")."
  }
}

variable "alarms" {
  description = "Create the authorizer's CloudWatch alarms (failing closed, JWKS fetch failures, stale JWKS serving, status lists unavailable, unknown kids, Unauthorized share): {} without notifications, { topic_arn = \"arn:aws:sns:...\" } to notify. null: none."
  type = object({
    topic_arn = optional(string)
  })
  default = null
}

variable "dpop" {
  description = "Sender-constrained tokens (DPoP, RFC 9449): { mode = \"if_bound\" or \"required\" (DPOP_MODE), public_base_urls = [\"https://api.example.com/v1\"] (DPOP_PUBLIC_BASE_URLS: custom domains, base paths), replay_table = true (a DynamoDB table of used proofs, DPOP_REPLAY_TABLE; false: each instance's memory), algorithms = [\"ES256\", \"EdDSA\", \"PS256\", \"RS256\"] (DPOP_ALGORITHMS) }. A REST API then gets a REQUEST authorizer (a TOKEN authorizer never sees the DPoP header) and a WWW-Authenticate DPoP challenge on 401s. Needs result_ttl_seconds = 0; an HTTP API needs mode = \"required\". null: DPoP off (DPOP_MODE=off)."
  type = object({
    mode             = string
    public_base_urls = optional(list(string), [])
    replay_table     = optional(bool, true)
    algorithms       = optional(list(string), ["ES256", "EdDSA", "PS256", "RS256"])
  })
  default = null

  validation {
    condition     = var.dpop == null ? true : contains(["if_bound", "required"], var.dpop.mode)
    error_message = "dpop.mode must be if_bound (a DPoP-bound token needs a proof, bearer tokens still pass) or required (every token must be DPoP-bound); leave dpop null for off."
  }
  validation {
    condition = var.dpop == null ? true : alltrue([
      for url in var.dpop.public_base_urls : can(regex("^https://[^/?#@\\s]+(/[^?#\\s]*)?$", url))
    ])
    error_message = "dpop.public_base_urls must be absolute https URLs without query or fragment, e.g. https://api.example.com/v1."
  }
  validation {
    condition = var.dpop == null ? true : length(var.dpop.algorithms) > 0 && alltrue([
      for alg in var.dpop.algorithms : contains(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"], alg)
    ])
    error_message = "dpop.algorithms must name at least one asymmetric JWS algorithm: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA."
  }
  # A proof is new on every request, and says which method and URL it is
  # for: an answer API Gateway cached for one proof would let another
  # request (a replay, another route) through without its own proof.
  validation {
    condition     = var.dpop == null ? true : var.result_ttl_seconds == 0
    error_message = "dpop needs result_ttl_seconds = 0: a DPoP answer holds for one proof of one request, and API Gateway must never reuse it for another."
  }
  # The authorizer refuses a DPoP answer on an HTTP API unless the proof
  # is among the identity sources, and API Gateway answers 401, without
  # invoking the function, to a request missing one of them: with the
  # DPoP header an identity source, a bearer client cannot pass, so
  # if_bound would promise what the API cannot do.
  validation {
    condition     = var.dpop == null ? true : var.api_type != "http" || var.dpop.mode == "required"
    error_message = "On an HTTP API dpop.mode must be required: the DPoP header is then an identity source, and API Gateway refuses every request without one (bearer clients too) before the function runs."
  }
}

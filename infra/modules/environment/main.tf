# The environment of each function, with the names the binaries read
# (DESIGN.md; checked against the code by infra/tests/test_contract.py).

locals {
  issuer_url = "https://${var.api_id}.execute-api.${var.region}.${var.url_suffix}/${var.stage_name}"

  authorizer = merge(
    {
      JWT_ISSUER           = local.issuer_url
      JWKS_URI             = "${local.issuer_url}/.well-known/jwks.json"
      JWT_AUDIENCE         = var.audience
      JWT_REQUIRED_TYP     = "at+jwt"
      JWKS_MAX_AGE_SECONDS = tostring(var.jwks_max_age_seconds)
      # Every token this issuer mints names its status list entry.
      STATUS_LIST_CHECK           = "required"
      STATUS_LIST_MAX_AGE_SECONDS = tostring(var.status_list_max_age_seconds)
    },
    var.route_scopes_json == null ? {} : { ROUTE_SCOPES = var.route_scopes_json },
  )

  issuer = {
    JWT_ISSUER           = local.issuer_url
    JWT_AUDIENCE         = var.audience
    TOKEN_TTL_SECONDS    = tostring(var.token_ttl_seconds)
    JWKS_MAX_AGE_SECONDS = tostring(var.jwks_max_age_seconds)
    SIGNING_ALG          = var.signing_alg
    KEYSET_SECRET_ID     = var.keyset_secret_arn
    USERS_TABLE          = var.users_table
    STATUS_TABLE         = var.status_table

    STATUS_LIST_MAX_AGE_SECONDS = tostring(var.status_list_max_age_seconds)
  }

  # The rotation needs only what shapes a rotation: the algorithm, the
  # grace of retired keys (TOKEN_TTL_SECONDS + JWKS_MAX_AGE_SECONDS) and the
  # spacing between rotations (JWKS_MAX_AGE_SECONDS + 5 s). The secret comes
  # in each Secrets Manager event.
  issuer_rotation = {
    SIGNING_ALG          = var.signing_alg
    TOKEN_TTL_SECONDS    = tostring(var.token_ttl_seconds)
    JWKS_MAX_AGE_SECONDS = tostring(var.jwks_max_age_seconds)
  }

  backend = {
    BOOKS_TABLE = var.books_table
  }
}

output "issuer_url" {
  description = "The issuer URL (iss): the API's stage URL."
  value       = local.issuer_url
}

output "jwks_url" {
  description = "Where the issuer publishes its JWKS."
  value       = "${local.issuer_url}/.well-known/jwks.json"
}

output "variables" {
  description = "Environment variables per function."
  value = {
    authorizer      = local.authorizer
    issuer          = local.issuer
    issuer-rotation = local.issuer_rotation
    backend         = local.backend
  }
}

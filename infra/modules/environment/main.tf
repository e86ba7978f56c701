# The environment of the issuer, rotation and books functions, with the
# names the binaries read (docs/reference.md; checked against the code by
# infra/tests/test_contract.py), and the issuer URL the authorizer module
# trusts. The authorizer's own environment is modules/authorizer's.

locals {
  # The stage's invoke URL, whatever the endpoint type: an EDGE API's
  # default hostname is answered through API Gateway's CloudFront
  # distribution, a PRIVATE API's only inside a VPC whose execute-api
  # endpoint has private DNS enabled.
  issuer_url = "https://${var.api_id}.execute-api.${var.region}.${var.url_suffix}/${var.stage_name}"

  # A PRIVATE API through one endpoint by name, without private DNS:
  # https://{api-id}-{vpce-id}.execute-api.{region}.amazonaws.com/{stage}.
  vpc_endpoint_urls = {
    for id in var.vpc_endpoint_ids : id => "https://${var.api_id}-${id}.execute-api.${var.region}.${var.url_suffix}/${var.stage_name}"
  }

  endpoint_notes = {
    REGIONAL = "REGIONAL: api_url is served in ${var.region}; for a CDN, put your own CloudFront distribution in front (docs/caching.md)."
    EDGE     = "EDGE: api_url reaches the API through API Gateway's own CloudFront distribution (the client's nearest point of presence); the authorizer cache and the functions stay in ${var.region}."
    PRIVATE  = "PRIVATE: api_url resolves only inside a VPC whose execute-api endpoint (${join(", ", var.vpc_endpoint_ids)}) has private DNS enabled; from elsewhere in the network use vpc_endpoint_urls."
  }

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

output "vpc_endpoint_urls" {
  description = "PRIVATE: the API's URL through each VPC endpoint, which needs no private DNS; empty otherwise."
  value       = local.vpc_endpoint_urls
}

output "endpoint_note" {
  description = "Where the API answers, for its endpoint type."
  value       = local.endpoint_notes[var.endpoint_type]
}

output "variables" {
  description = "Environment variables per function."
  value = {
    issuer          = local.issuer
    issuer-rotation = local.issuer_rotation
    backend         = local.backend
  }
}

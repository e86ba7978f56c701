"""Tollgate's own defaults that the runner relies on, copied here because
the runner is Python."""

# The issuer's JWKS_MAX_AGE_SECONDS when unset.
ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS = 300
# How long a deployed issuer instance keeps its keyset.
ISSUER_KEYSET_TTL_SECONDS = 5
# The issuer's STATUS_LIST_MAX_AGE_SECONDS when unset.
ISSUER_DEFAULT_STATUS_LIST_MAX_AGE_SECONDS = 60
# Terraform's authorizer_cache_ttl_seconds default: API Gateway's authorizer cache TTL.
DEPLOYED_AUTHORIZER_CACHE_TTL_SECONDS = 300

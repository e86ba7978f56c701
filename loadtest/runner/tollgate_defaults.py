"""Tollgate's own defaults that the runner relies on, copied here because
the runner is Python. loadtest/tests/test_tollgate_defaults.py reads each
from where its truth lives and fails when they disagree."""

# The issuer's JWKS_MAX_AGE_SECONDS when unset. Truth: issuer/src/config.rs DEFAULT_JWKS_MAX_AGE.
ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS = 300
# How long a deployed issuer instance keeps its keyset. Truth: issuer/src/config.rs DEFAULT_KEYSET_TTL.
ISSUER_KEYSET_TTL_SECONDS = 5
# The issuer's STATUS_LIST_MAX_AGE_SECONDS when unset. Truth: issuer/src/config.rs DEFAULT_STATUS_LIST_MAX_AGE.
ISSUER_DEFAULT_STATUS_LIST_MAX_AGE_SECONDS = 60
# API Gateway's authorizer cache TTL when deployed. Truth: infra/variables.tf authorizer_cache_ttl_seconds default.
DEPLOYED_AUTHORIZER_CACHE_TTL_SECONDS = 300

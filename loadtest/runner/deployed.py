"""The suite against a deployed API (BASE_URL): the same scripts, with the
rotations spaced as the deployed issuer allows, a forced cold start before
each cold request, and the revocation bound of the deployed settings."""

import os

from .host import log
from .k6 import run_k6
from .profiles import PROFILES, SCENARIOS, revocation_env
from .summary import details, row
from .tollgate_defaults import (
    DEPLOYED_AUTHORIZER_CACHE_TTL_SECONDS,
    ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS,
    ISSUER_DEFAULT_STATUS_LIST_MAX_AGE_SECONDS,
    ISSUER_KEYSET_TTL_SECONDS,
)

# Against a deployed API the issuer refuses a rotation (429) while its
# `next` key is younger than JWKS_MAX_AGE_SECONDS plus its keyset cache
# time, so that no warm authorizer meets the key unknown. There the
# rotations are spaced by that rule with a margin, and there are fewer of
# them: with the default 300 s the rotation scenario runs about 11 minutes
# (smoke) or 16 (full). The local stack keeps its JWKS lifetime of seconds.
ROTATION_MARGIN_SECONDS = 10
DEPLOYED_ROTATIONS = {"smoke": 1, "full": 2}
# A deployed cold iteration waits for a configuration update (seconds, at
# times a minute) where the local one spawns a process: its maxDuration
# allows this much per iteration instead of 5 minutes for the whole run.
DEPLOYED_COLD_SECONDS_PER_ITERATION = 60
# How long revocation traffic runs past the bound, so refusals are seen.
REVOCATION_TAIL_SECONDS = 10
# What runs against a deployed API. Not dpop: infra/ deploys a TOKEN
# authorizer with DPOP_MODE=off (a TOKEN event carries no proof), where a
# replayed proof would pass.
DEPLOYED_SCENARIOS = tuple(s for s in SCENARIOS if s != "dpop")


def deployed_jwks_max_age(environ, lambda_client=None):
    """The deployed issuer's JWKS_MAX_AGE_SECONDS (see deployed_issuer_setting)."""
    return deployed_issuer_setting(environ, "JWKS_MAX_AGE_SECONDS", ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS, lambda_client)


def deployed_issuer_setting(environ, name, default, lambda_client=None):
    """A deployed issuer's setting `name`: from the issuer function's
    configuration when ISSUER_FUNCTION_NAME names it (boto3), else from the
    variable `name`; `default` (the issuer's) where neither sets it."""
    function = environ.get("ISSUER_FUNCTION_NAME")
    if function:
        if lambda_client is None:
            import boto3

            lambda_client = boto3.client("lambda")
        config = lambda_client.get_function_configuration(FunctionName=function)
        value = ((config.get("Environment") or {}).get("Variables") or {}).get(name)
    else:
        value = environ.get(name)
    if value is None or str(value).strip() == "":
        return default
    return int(value)


def deployed_revocation_env(environ, authorizer, profile_name, lambda_client=None):
    """The revocation scenario against a deployed API: the bound is the
    issuer's STATUS_LIST_MAX_AGE_SECONDS plus API Gateway's authorizer cache
    TTL (AUTHORIZER_CACHE_TTL_SECONDS, Terraform's authorizer_cache_ttl_seconds,
    default 300), and the traffic lasts until well past it."""
    max_age = deployed_issuer_setting(environ, "STATUS_LIST_MAX_AGE_SECONDS", ISSUER_DEFAULT_STATUS_LIST_MAX_AGE_SECONDS, lambda_client)
    cache_ttl = int(environ.get("AUTHORIZER_CACHE_TTL_SECONDS") or DEPLOYED_AUTHORIZER_CACHE_TTL_SECONDS)
    env = revocation_env(PROFILES[profile_name]["revocation"], authorizer, max_age, cache_ttl)
    revoke_at = int(env["REVOKE_AT_SECONDS"])
    env["REVOCATION_DURATION"] = f"{revoke_at + int(env['REVOCATION_BOUND_SECONDS']) + REVOCATION_TAIL_SECONDS}s"
    return env


def deployed_env(scenario, profile_name, jwks_max_age):
    """A scenario's settings against a deployed API: the profile's, with the
    rotations spaced as the issuer allows and time for each forced cold start."""
    env = dict(PROFILES[profile_name][scenario])
    if scenario == "cold":
        env["COLD_MAX_DURATION"] = f"{int(env['COLD_ITERATIONS']) * DEPLOYED_COLD_SECONDS_PER_ITERATION}s"
    if scenario == "rotation":
        env["ROTATIONS"] = str(DEPLOYED_ROTATIONS[profile_name])
        env["ROTATION_SPACING_SECONDS"] = str(jwks_max_age + ISSUER_KEYSET_TTL_SECONDS + ROTATION_MARGIN_SECONDS)
    return env


def run_deployed(profile_name):
    """BASE_URL mode: the same scripts against a deployed API (see README)."""
    from aws_cold_start import ColdStartHook

    authorizer = os.environ.get("LOADTEST_AUTHORIZER", "tollgate")
    scenarios = os.environ.get("LOADTEST_SCENARIOS", " ".join(DEPLOYED_SCENARIOS)).split()
    unsupported = [s for s in scenarios if s not in DEPLOYED_SCENARIOS]
    if unsupported:
        raise SystemExit(f"against BASE_URL the scenarios are {' '.join(DEPLOYED_SCENARIOS)}, not {' '.join(unsupported)}")
    jwks_max_age = None
    if "rotation" in scenarios:
        jwks_max_age = deployed_jwks_max_age(os.environ)
        log(f"rotation: the issuer's JWKS_MAX_AGE_SECONDS is {jwks_max_age}")
    rows, extras = [], []
    for scenario in scenarios:
        if scenario == "revocation":
            env = deployed_revocation_env(os.environ, authorizer, profile_name)
            log(f"revocation: a revoked token must be refused within {env['REVOCATION_BOUND_SECONDS']} s")
        else:
            env = deployed_env(scenario, profile_name, jwks_max_age)
        hook = None
        if scenario == "cold":
            function = os.environ.get("AUTHORIZER_FUNCTION_NAME")
            if not function:
                raise SystemExit("cold against BASE_URL needs AUTHORIZER_FUNCTION_NAME (the authorizer Lambda's name)")
            hook = ColdStartHook(function)
            env["COLD_START_HOOK"] = hook.url
        try:
            data = run_k6(scenario, authorizer, env)
        finally:
            if hook:
                hook.close()
        rows.append(row(authorizer, scenario, data))
        extras.append(details(authorizer, scenario, data))
    return rows, extras

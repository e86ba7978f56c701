"""What each profile runs, and the bound a revoked token must be refused
within."""

SCENARIOS = ("cold", "warm", "rotation", "revocation", "dpop")
AUTHORIZERS = ("tollgate", "pyjwt")

# What each profile runs. smoke: every scenario briefly (under 60 s for
# both authorizers); full: the measured run (under 10 minutes). Smoke runs
# debug builds on a busy machine: as many VUs pre-allocated as requests a
# second, since a VU k6 must start mid-run (a JS runtime) costs it
# iterations, and a second's stall would otherwise drop some (PyJWT's
# JWKS refetch at a rotation stalls its requests for up to half a second).
# A new rotation VU starts with setup()'s token and logs in only later.
PROFILES = {
    "smoke": {
        "cold": {"COLD_ITERATIONS": "4", "COLD_PAUSE_SECONDS": "1"},
        "warm": {"WARM_RATE": "40", "WARM_WARMUP": "1s", "WARM_DURATION": "2s", "WARM_TOKENS": "4", "WARM_VUS": "40"},
        "rotation": {"ROTATION_RATE": "30", "ROTATIONS": "3", "ROTATION_SPACING_SECONDS": "2", "ROTATION_VUS": "30"},
        "revocation": {"REVOCATION_RATE": "40", "REVOCATION_DURATION": "5s", "REVOCATION_TOKENS": "8", "REVOKED_TOKENS": "2", "REVOKE_AT_SECONDS": "2", "REVOCATION_VUS": "40"},
        "dpop": {"DPOP_RATE": "20", "DPOP_DURATION": "3s", "DPOP_VUS": "20", "DPOP_REPLAY_EVERY": "10"},
        "jwks_max_age_seconds": "1",
        "status_list_max_age_seconds": 1,
        # One https case, no added latency: the TLS path and the snapshot
        # exercised in a few seconds (runner/network.py).
        "cold_network": {"latencies_ms": [0], "iterations": 2, "pause_seconds": "0.2"},
    },
    "full": {
        "cold": {"COLD_ITERATIONS": "25", "COLD_PAUSE_SECONDS": "0.2"},
        "warm": {"WARM_RATE": "500", "WARM_WARMUP": "5s", "WARM_DURATION": "30s", "WARM_TOKENS": "50", "WARM_VUS": "50"},
        "rotation": {"ROTATION_RATE": "150", "ROTATIONS": "4", "ROTATION_SPACING_SECONDS": "10", "ROTATION_VUS": "30"},
        "revocation": {"REVOCATION_RATE": "300", "REVOCATION_DURATION": "20s", "REVOCATION_TOKENS": "40", "REVOKED_TOKENS": "10", "REVOKE_AT_SECONDS": "5", "REVOCATION_VUS": "30"},
        "dpop": {"DPOP_RATE": "150", "DPOP_DURATION": "20s", "DPOP_VUS": "50", "DPOP_REPLAY_EVERY": "10"},
        "jwks_max_age_seconds": "5",
        "status_list_max_age_seconds": 5,
        # The cold scenario over https behind 0, 20 and 80 ms of added RTT.
        "cold_network": {"latencies_ms": [0, 20, 80], "iterations": 11, "pause_seconds": "0.2"},
    },
}

# A revoked token is refused within the status lists' max age (plus, when
# deployed, API Gateway's authorizer cache TTL); this much more allows for
# the list's refetch and the revocation request itself.
REVOCATION_MARGIN_SECONDS = 1
# Authorizers that cannot revoke a single token: their revoked tokens are
# counted, not checked (the report shows what they let through).
CANNOT_REVOKE = {"pyjwt"}


def revocation_env(env, authorizer, status_list_max_age, cache_ttl=0):
    """The revocation scenario's settings: the bound a revoked token must be
    refused within, and whether `authorizer` can be held to it."""
    env = dict(env, REVOCATION_BOUND_SECONDS=str(status_list_max_age + cache_ttl + REVOCATION_MARGIN_SECONDS))
    if authorizer in CANNOT_REVOKE:
        env["REVOCATION_ENFORCED"] = "no"
    return env

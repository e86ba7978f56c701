"""The suite against local stacks: for each authorizer and scenario, a
fresh `tollgate serve` and one k6 run against it."""

import os

from .binaries import authorizer_command, binaries
from .host import log
from .k6 import run_k6
from .network import run_cold_network
from .profiles import AUTHORIZERS, PROFILES, SCENARIOS, revocation_env
from .stack import LocalStack
from .summary import details, row


def run_local(profile_name, build):
    profile = PROFILES[profile_name]
    tollgate, authorizer_binary, test_idp = binaries(build)
    authorizers = os.environ.get("LOADTEST_AUTHORIZERS", " ".join(AUTHORIZERS)).split()
    scenarios = os.environ.get("LOADTEST_SCENARIOS", " ".join(SCENARIOS)).split()
    rows, extras = [], []
    for authorizer in authorizers:
        command = authorizer_command(authorizer, authorizer_binary)
        for scenario in scenarios:
            status_list_max_age = profile["status_list_max_age_seconds"]
            stack = LocalStack(tollgate, command, scenario, profile["jwks_max_age_seconds"], status_list_max_age)
            try:
                stack.wait_ready()
                credentials = stack.credentials()
                env = dict(
                    profile[scenario],
                    BASE_URL=stack.url,
                    LOADTEST_USERNAME="demo",
                    LOADTEST_PASSWORD=credentials["demo"],
                    LOADTEST_ADMIN_USERNAME="admin",
                    LOADTEST_ADMIN_PASSWORD=credentials["admin"],
                )
                if scenario == "revocation":
                    # The stack's gateway caches no answers (TTL 0).
                    env = revocation_env(env, authorizer, status_list_max_age)
                data = run_k6(scenario, authorizer, env)
            except Exception:
                log(f"stack log ({authorizer}/{scenario}):\n{stack.tail()}")
                raise
            finally:
                stack.stop()
            rows.append(row(authorizer, scenario, data))
            extras.append(details(authorizer, scenario, data))
    if "cold" in scenarios:
        commands = {a: authorizer_command(a, authorizer_binary) for a in authorizers}
        network_rows, network_extras = run_cold_network(profile_name, tollgate, commands, test_idp)
        rows += network_rows
        extras += network_extras
    return rows, extras

"""Runs the k6 suite and writes loadtest/out/summary.json and report.html.

Locally (no BASE_URL): for each authorizer (tollgate, pyjwt) and scenario
(cold, warm, rotation, revocation) it starts a fresh local stack (`tollgate serve`, its
authorizer in Lambda-runtime mode) on a free loopback port, runs k6 against
it, and stops it. With BASE_URL: the same scripts against a deployed API
(see README). Every run is bounded in time and request count.

Environment: LOADTEST_PROFILE=smoke|full (default full), LOADTEST_BUILD=
release|debug (which target/ binaries to use; default release),
LOADTEST_AUTHORIZERS (default "tollgate pyjwt"), LOADTEST_SCENARIOS (default
"cold warm rotation revocation"), BASE_URL and friends for a deployed API.
"""

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import report  # noqa: E402  (loadtest/report.py, beside this file)

ROOT = HERE.parent
OUT = HERE / "out"
VENV_BIN = HERE / ".venv" / "bin"
SCENARIOS = ("cold", "warm", "rotation", "revocation")
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
        "jwks_max_age_seconds": "1",
        "status_list_max_age_seconds": 1,
    },
    "full": {
        "cold": {"COLD_ITERATIONS": "25", "COLD_PAUSE_SECONDS": "0.2"},
        "warm": {"WARM_RATE": "500", "WARM_WARMUP": "5s", "WARM_DURATION": "30s", "WARM_TOKENS": "50", "WARM_VUS": "50"},
        "rotation": {"ROTATION_RATE": "150", "ROTATIONS": "4", "ROTATION_SPACING_SECONDS": "10", "ROTATION_VUS": "30"},
        "revocation": {"REVOCATION_RATE": "300", "REVOCATION_DURATION": "20s", "REVOCATION_TOKENS": "40", "REVOKED_TOKENS": "10", "REVOKE_AT_SECONDS": "5", "REVOCATION_VUS": "30"},
        "jwks_max_age_seconds": "5",
        "status_list_max_age_seconds": 5,
    },
}

# Against a deployed API (BASE_URL) the issuer refuses a rotation (429) while
# its `next` key is younger than JWKS_MAX_AGE_SECONDS plus its keyset cache
# time (5 s), so that no warm authorizer meets the key unknown. There the
# rotations are spaced by that rule with a margin, and there are fewer of
# them: with the default 300 s the rotation scenario runs about 11 minutes
# (smoke) or 16 (full). The local stack keeps its JWKS lifetime of seconds.
ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS = 300
ISSUER_KEYSET_TTL_SECONDS = 5
ROTATION_MARGIN_SECONDS = 10
DEPLOYED_ROTATIONS = {"smoke": 1, "full": 2}
# A deployed cold iteration waits for a configuration update (seconds, at
# times a minute) where the local one spawns a process: its maxDuration
# allows this much per iteration instead of 5 minutes for the whole run.
DEPLOYED_COLD_SECONDS_PER_ITERATION = 60
# A revoked token is refused within the status lists' max age (plus, when
# deployed, API Gateway's authorizer cache TTL); this much more allows for
# the list's refetch and the revocation request itself.
REVOCATION_MARGIN_SECONDS = 1
# Deployed: Terraform's authorizer_cache_ttl_seconds default, and how long
# traffic runs past the bound so refusals are seen.
DEPLOYED_AUTHORIZER_CACHE_TTL_SECONDS = 300
REVOCATION_TAIL_SECONDS = 10
ISSUER_DEFAULT_STATUS_LIST_MAX_AGE_SECONDS = 60
# Authorizers that cannot revoke a single token: their revoked tokens are
# counted, not checked (the report shows what they let through).
CANNOT_REVOKE = {"pyjwt"}

# The gateway's Lambda mode for the measured authorizers.
LAMBDA_MAX_INSTANCES = "4"
LAMBDA_TIMEOUT_MS = "10000"
STACK_START_SECONDS = 30
# What k6 may take beyond a scenario's own longest run: setup() (its
# setupTimeout, 60 s), gracefulStop (30 s) and handleSummary, plus a margin.
# The runner waits that much longer than the scenario may last, so a slow run
# ends with k6's summary (and its failed thresholds) instead of being killed.
K6_ALLOWANCE_SECONDS = 150


def log(message):
    print(f"[loadtest] {message}", flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binaries(build):
    """The tollgate and authorizer binaries. release: built now (fat LTO, the
    measured run). debug: the ones `cargo test --workspace` built (make test),
    used as they are; building them again with other features would cost a
    minute for a smoke run."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    if build == "release":
        log("building tollgate and authorizer (release)")
        subprocess.run(
            ["cargo", "build", "--release", "-p", "tollgate", "-p", "authorizer", "--bin", "tollgate", "--bin", "authorizer"],
            cwd=ROOT,
            check=True,
        )
    directory = target / ("release" if build == "release" else "debug")
    found = directory / "tollgate", directory / "authorizer"
    for binary in found:
        if not binary.exists():
            raise SystemExit(f"{binary} is missing: run `cargo test --workspace` (or `cargo build -p tollgate -p authorizer`)")
    return found


def authorizer_command(name, authorizer_binary):
    if name == "tollgate":
        return str(authorizer_binary)
    if name == "pyjwt":
        return str(HERE / "pyjwt_authorizer" / "bootstrap")
    raise SystemExit(f"unknown authorizer {name!r} (tollgate or pyjwt)")


class LocalStack:
    """`tollgate serve` in its own process group on a free loopback port;
    its authorizer is `command` run as a Lambda function, or in process
    when `command` is None."""

    def __init__(self, tollgate, command, scenario, jwks_max_age, status_list_max_age, authorizer_cache_ttl=0):
        self.data = Path(tempfile.mkdtemp(prefix="tollgate-loadtest-"))
        self.url = f"http://127.0.0.1:{free_port()}"
        # The suite measures authorizers: its gateway caches no answers (TTL 0)
        # unless a caller (stack_cost.py) asks for one.
        args = [
            str(tollgate), "--data-dir", str(self.data), "serve",
            "--addr", self.url.removeprefix("http://"),
            "--authorizer-cache-ttl", str(authorizer_cache_ttl),
        ]
        if command is not None:
            args += [
                "--authorizer-command", command,
                "--lambda-max-instances", LAMBDA_MAX_INSTANCES,
                "--lambda-timeout-ms", LAMBDA_TIMEOUT_MS,
            ]
        if scenario == "cold":
            args.append("--lambda-fresh-instances")
        env = dict(os.environ, RUST_LOG=os.environ.get("LOADTEST_RUST_LOG", "warn"))
        env["JWKS_MAX_AGE_SECONDS"] = jwks_max_age if scenario == "rotation" else "300"
        # The issuer's lists say it (ttl, Cache-Control), and the functions get it too.
        env["STATUS_LIST_MAX_AGE_SECONDS"] = str(status_list_max_age)
        self.log = open(self.data / "serve.log", "w+")
        self.process = subprocess.Popen(
            args, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self):
        deadline = time.monotonic() + STACK_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tollgate serve exited: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200 and (self.data / "credentials").exists():
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"tollgate serve did not answer in {STACK_START_SECONDS}s: {self.tail()}")

    def credentials(self):
        lines = (self.data / "credentials").read_text().splitlines()
        return dict(line.split(":", 1) for line in lines if ":" in line)

    def tail(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self):
        """SIGTERM to the whole group (gateway and function instances), then SIGKILL."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


def k6_binary():
    k6 = VENV_BIN / "k6"
    if not k6.exists():
        raise SystemExit("k6 is missing: run `make loadtest` (it installs loadtest/requirements.txt)")
    return k6


def duration_seconds(text):
    """Seconds in a k6 duration ("90s", "1m30s", "500ms"; a bare number is seconds)."""
    value = str(text).strip()
    try:
        return float(value)
    except ValueError:
        pass
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value)
    if not parts or "".join(n + unit for n, unit in parts) != value:
        raise ValueError(f"not a k6 duration: {text!r}")
    return sum(float(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit] for n, unit in parts)


def scenario_seconds(scenario, env):
    """The longest a scenario runs by its own options (the k6 scripts'
    defaults where `env` leaves a setting out)."""
    if scenario == "cold":
        return duration_seconds(env.get("COLD_MAX_DURATION", "5m"))
    if scenario == "warm":
        return duration_seconds(env.get("WARM_WARMUP", "3s")) + duration_seconds(env.get("WARM_DURATION", "10s"))
    if scenario == "bare":
        return duration_seconds(env.get("WARM_DURATION", "10s"))
    if scenario == "rotation":
        # The rotator's maxDuration; the traffic stops one spacing earlier.
        return (int(env.get("ROTATIONS", "3")) + 2) * int(env.get("ROTATION_SPACING_SECONDS", "4"))
    if scenario == "revocation":
        # The traffic, or the revoker's maxDuration if that is longer.
        return max(duration_seconds(env.get("REVOCATION_DURATION", "10s")), int(env.get("REVOKE_AT_SECONDS", "3")) + 30)
    raise ValueError(f"unknown scenario {scenario!r}")


def k6_timeout_seconds(scenario, env):
    """How long the runner lets k6 run before killing it."""
    return scenario_seconds(scenario, env) + K6_ALLOWANCE_SECONDS


def revocation_env(env, authorizer, status_list_max_age, cache_ttl=0):
    """The revocation scenario's settings: the bound a revoked token must be
    refused within, and whether `authorizer` can be held to it."""
    env = dict(env, REVOCATION_BOUND_SECONDS=str(status_list_max_age + cache_ttl + REVOCATION_MARGIN_SECONDS))
    if authorizer in CANNOT_REVOKE:
        env["REVOCATION_ENFORCED"] = "no"
    return env


def run_k6(scenario, authorizer, env, out=OUT, dashboard=True):
    """One k6 run; returns k6's end-of-test data. `dashboard`: also export
    k6's web dashboard (which costs k6 some CPU beside the stack)."""
    summary = out / f"{authorizer}-{scenario}.json"
    report = out / f"{authorizer}-{scenario}.html"
    summary.unlink(missing_ok=True)
    k6_env = dict(os.environ, **env, SUMMARY_OUT=str(summary), K6_NO_USAGE_REPORT="true")
    if dashboard:
        k6_env.update(
            K6_WEB_DASHBOARD="true",
            K6_WEB_DASHBOARD_EXPORT=str(report),
            K6_WEB_DASHBOARD_PORT="-1",
            K6_WEB_DASHBOARD_PERIOD="1s",
        )
    log(f"k6: {authorizer} / {scenario} (load average {load_average()})")
    result = subprocess.run(
        [str(k6_binary()), "run", "--no-usage-report", "--quiet", str(HERE / "scenarios" / f"{scenario}.js")],
        env=k6_env,
        timeout=k6_timeout_seconds(scenario, k6_env),
    )
    if not summary.exists():
        raise RuntimeError(f"k6 wrote no summary for {authorizer}/{scenario} (exit {result.returncode})")
    data = json.loads(summary.read_text())
    data["k6_exit_code"] = result.returncode
    if scenario == "revocation":
        data["revocation_bound_ms"] = int(k6_env.get("REVOCATION_BOUND_SECONDS", "2")) * 1000
        data["revocation_enforced"] = k6_env.get("REVOCATION_ENFORCED", "yes") != "no"
        data["revoke_at_s"] = int(k6_env.get("REVOKE_AT_SECONDS", "3"))
    data["load_average_after"] = load_average()
    return data


def metric(data, name, stat, default=0):
    return data.get("metrics", {}).get(name, {}).get("values", {}).get(stat, default)


def measured(data, name):
    """`name` of the measured requests: its `measured:yes` sub-metric, or
    the metric itself in a script that measures every request and keeps no
    sub-metrics (bare.js)."""
    tagged = f"{name}{{measured:yes}}"
    return tagged if tagged in data.get("metrics", {}) else name


def row(authorizer, scenario, data):
    duration = measured(data, "http_req_duration")
    return {
        "authorizer": authorizer,
        "scenario": scenario,
        "requests": int(metric(data, measured(data, "http_reqs"), "count")),
        "failed": int(metric(data, measured(data, "http_req_failed"), "passes")),
        "p50_ms": round(metric(data, duration, "med"), 3),
        "p95_ms": round(metric(data, duration, "p(95)"), 3),
        "p99_ms": round(metric(data, duration, "p(99)"), 3),
    }


def details(authorizer, scenario, data):
    """What the table leaves out: thresholds, first use vs repeats, rotations."""
    extra = {
        "authorizer": authorizer,
        "scenario": scenario,
        "k6_exit_code": data["k6_exit_code"],
        "load_average_after": data.get("load_average_after"),
        "all_requests_failed_rate": metric(data, "http_req_failed", "rate"),
        "checks_rate": metric(data, "checks", "rate", 1),
        "dropped_iterations": int(metric(data, "dropped_iterations", "count")),
        "percentiles_ms": {
            label: round(metric(data, measured(data, "http_req_duration"), stat), 3)
            for label, stat in (("p50", "med"), ("p90", "p(90)"), ("p95", "p(95)"), ("p99", "p(99)"), ("max", "max"))
        },
        "thresholds_failed": sorted(
            name
            for name, m in data.get("metrics", {}).items()
            for threshold in (m.get("thresholds") or {}).values()
            if not threshold.get("ok", True)
        ),
    }
    for use in ("first", "repeat"):
        name = f"http_req_duration{{use:{use}}}"
        if name in data.get("metrics", {}):
            extra[f"{use}_use"] = {
                "requests": int(metric(data, name, "count")),
                "p50_ms": round(metric(data, name, "med"), 3),
                "p99_ms": round(metric(data, name, "p(99)"), 3),
            }
    rotations = "http_reqs{name:POST /admin/keys/rotate}"
    if rotations in data.get("metrics", {}):
        extra["rotations"] = int(metric(data, rotations, "count"))
        extra["rotations_at_s"] = [round(v / 1000, 3) for v in tagged_values(data, "rotation_at_ms", "rotation")]
    if "revoked_token_accepted_ms" in data.get("metrics", {}):
        extra["revocation"] = {
            "tokens_revoked": int(metric(data, "http_reqs{name:POST /revoke}", "count")),
            "enforced": data.get("revocation_enforced", True),
            "bound_ms": data.get("revocation_bound_ms"),
            "revoke_at_s": data.get("revoke_at_s"),
            "revocation_request_ms": round(metric(data, "revocation_request_ms", "max"), 3),
            # The last moment a revoked token was still let through (0: never).
            "accepted_until_ms": round(metric(data, "revoked_token_accepted_ms", "max"), 3),
            "first_refusal_ms": round(metric(data, "revoked_token_refused_ms", "min"), 3) if metric(data, "revoked_token_refused_ms", "count") else None,
            "refusals": int(metric(data, "revoked_token_refused_ms", "count")),
            "accepted_past_bound": int(metric(data, "revoked_token_accepted_past_bound", "count")),
        }
    timeline = tagged_trends(data, "http_req_duration", "second")
    if timeline:
        extra["timeline"] = timeline
    cold = tagged_values(data, "http_req_duration", "iteration")
    if cold:
        extra["cold_requests_ms"] = [round(v, 3) for v in cold]
    return extra


def tagged_trends(data, name, tag):
    """Per value of `tag` (0, 1, ...: the scenarios' perTagThresholds), the
    sub-metric's count and percentiles, in tag order; values no sample had
    are left out."""
    pattern = re.compile(rf"^{re.escape(name)}\{{{re.escape(tag)}:(\d+)\}}$")
    found = []
    for key, entry in data.get("metrics", {}).items():
        match = pattern.match(key)
        values = entry.get("values", {})
        if match and values.get("count"):
            found.append({
                tag: int(match.group(1)),
                "count": int(values["count"]),
                **{label: round(values.get(stat, 0), 3) for label, stat in TIMELINE_STATS},
            })
    return sorted(found, key=lambda entry: entry[tag])


TIMELINE_STATS = (("p50_ms", "med"), ("p90_ms", "p(90)"), ("p95_ms", "p(95)"), ("p99_ms", "p(99)"), ("max_ms", "max"))


def tagged_values(data, name, tag):
    """The sample of each value of `tag` (tags that mark one sample each:
    a cold request, a rotation), in tag order."""
    return [entry["max_ms"] for entry in tagged_trends(data, name, tag)]


def table(rows):
    header = f"{'authorizer':<10} {'scenario':<9} {'requests':>8} {'failed':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['authorizer']:<10} {r['scenario']:<9} {r['requests']:>8} {r['failed']:>6} "
            f"{r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f}"
        )
    return "\n".join(lines)


def load_average():
    """The 1-minute load average: other work on the machine skews latency tails."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def run_local(profile_name, build):
    profile = PROFILES[profile_name]
    tollgate, authorizer_binary = binaries(build)
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
    return rows, extras


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
    scenarios = os.environ.get("LOADTEST_SCENARIOS", " ".join(SCENARIOS)).split()
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


def main():
    profile = os.environ.get("LOADTEST_PROFILE", "full")
    if profile not in PROFILES:
        raise SystemExit(f"LOADTEST_PROFILE must be smoke or full, not {profile!r}")
    build = os.environ.get("LOADTEST_BUILD", "release")
    if build not in ("release", "debug"):
        raise SystemExit(f"LOADTEST_BUILD must be release or debug, not {build!r}")
    OUT.mkdir(exist_ok=True)
    for stale in [*OUT.glob("*.json"), *OUT.glob("*.html")]:
        stale.unlink()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    clock = time.monotonic()
    if os.environ.get("BASE_URL"):
        rows, extras = run_deployed(profile)
    else:
        rows, extras = run_local(profile, build)
    (OUT / "summary.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    (OUT / "details.json").write_text(json.dumps({"profile": profile, "build": build, "started": started, "machine": machine(), "runs": extras}, indent=2) + "\n")
    report.write(OUT)
    print()
    target = f"against {os.environ['BASE_URL']}" if os.environ.get("BASE_URL") else f"{build} build"
    print(f"Tollgate load test, profile {profile} ({target}), {started}, {machine()}")
    print(table(rows))
    print(f"\nwrote {OUT / 'summary.json'} and {OUT / 'report.html'} in {time.monotonic() - clock:.0f} s")
    failing = [e for e in extras if e["thresholds_failed"] or e["k6_exit_code"] != 0]
    for e in failing:
        log(f"{e['authorizer']}/{e['scenario']}: k6 exit {e['k6_exit_code']}, thresholds failed: {e['thresholds_failed']}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())

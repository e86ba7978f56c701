"""What one `GET /books` costs the local stack: latency under a constant
arrival rate, and CPU time and context switches per request.

Starts `tollgate serve --authorizer-cache-ttl 0` (or each TTL that
--authorizer-cache-ttl names, alternating; its authorizer in process,
or with --lambda as a Lambda function process) on a free loopback port,
mints the tokens before k6 starts (so logins, which hash passwords, are left
out of the CPU figures), runs the warm scenario (loadtest/scenarios/warm.js,
or with --scenario bare the lightest k6 load, bare.js) at --rate for
--duration, and reads the stack's processes from /proc around
the k6 run: utime + stime and voluntary + involuntary context switches of
every thread of `serve` and of its function instances (and k6's own, from
getrusage: on 2 cores k6 is the stack's biggest neighbour).

    loadtest/.venv/bin/python loadtest/stack_cost.py --rate 2000
    loadtest/.venv/bin/python loadtest/stack_cost.py --rate 5000 --scenario bare
    loadtest/.venv/bin/python loadtest/stack_cost.py --rate 500 --lambda --runs 3
    loadtest/.venv/bin/python loadtest/stack_cost.py --tollgate /path/to/other/tollgate  # another build, same load
    loadtest/.venv/bin/python loadtest/stack_cost.py --authorizer-cache-ttl 300 0 --runs 3  # the gateway's cache on, off, on, ...

--perf FILE records a call-graph profile of `serve` during the run (perf
record -g), for `perf report -i FILE`. Prints one line per run and writes
the figures as JSON to --out (default loadtest/out/stack-cost.json).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from runner import summary  # noqa: E402  (the suite's runner, loadtest/runner/)
from runner.binaries import binaries  # noqa: E402
from runner.host import log, machine  # noqa: E402
from runner.k6 import duration_seconds, run_k6  # noqa: E402
from runner.paths import OUT  # noqa: E402
from runner.stack import LocalStack  # noqa: E402
from runner.tollgate_defaults import ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS, ISSUER_DEFAULT_STATUS_LIST_MAX_AGE_SECONDS  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TOKENS = 50


def processes(root):
    """`root` and every process below it."""
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                queue += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def usage(root):
    """CPU seconds (utime + stime) and context switches of `root` and its
    descendants, every thread counted."""
    cpu, switches = 0.0, 0
    for pid in processes(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            for task in Path(f"/proc/{pid}/task").glob("*"):
                for line in (task / "status").read_text().splitlines():
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except OSError:
            continue
    return cpu, switches


def children_cpu():
    """CPU seconds of this process's finished children (k6, once it exits)."""
    spent = resource.getrusage(resource.RUSAGE_CHILDREN)
    return spent.ru_utime + spent.ru_stime


def mint(url, username, password, count):
    tokens = []
    for _ in range(count):
        request = urllib.request.Request(
            f"{url}/token",
            data=json.dumps({"username": username, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            tokens.append(json.load(response)["access_token"])
    return tokens


def measure(tollgate, command, args, out, cache_ttl):
    stack = LocalStack(tollgate, command, "warm", str(ISSUER_DEFAULT_JWKS_MAX_AGE_SECONDS),
                       ISSUER_DEFAULT_STATUS_LIST_MAX_AGE_SECONDS, authorizer_cache_ttl=cache_ttl)
    perf = None
    try:
        stack.wait_ready()
        password = stack.credentials()["demo"]
        tokens = mint(stack.url, "demo", password, TOKENS + 1)
        env = {
            "BASE_URL": stack.url,
            "LOADTEST_TOKENS": ",".join(tokens),
            "WARM_RATE": str(args.rate),
            "WARM_WARMUP": args.warmup,
            "WARM_DURATION": args.duration,
            "WARM_TOKENS": str(TOKENS),
            "WARM_VUS": str(args.vus),
        }
        if args.perf:
            perf = subprocess.Popen(["perf", "record", "-g", "-o", args.perf, "-p", str(stack.process.pid)], stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        cpu_before, switches_before = usage(stack.process.pid)
        k6_before = children_cpu()
        data = run_k6(args.scenario, "stack-cost", env, out=out, dashboard=False)
        k6_cpu = children_cpu() - k6_before
        cpu_after, switches_after = usage(stack.process.pid)
    except Exception:
        log(f"stack log:\n{stack.tail()}")
        raise
    finally:
        if perf:
            perf.send_signal(2)
            perf.wait()
        stack.stop()
    requests = int(summary.metric(data, "http_reqs", "count"))
    measured = summary.row("stack", args.scenario, data)
    details = summary.details("stack", args.scenario, data)
    return {
        "rate": args.rate,
        "scenario": args.scenario,
        "mode": "lambda" if command else "in-process",
        "authorizer_cache_ttl": cache_ttl,
        "requests": requests,
        "measured": measured["requests"],
        "achieved_per_s": round(measured["requests"] / duration_seconds(args.duration), 1),
        "dropped_iterations": details["dropped_iterations"],
        "failed": measured["failed"],
        "p50_ms": measured["p50_ms"],
        "p99_ms": measured["p99_ms"],
        "cpu_us_per_request": round((cpu_after - cpu_before) / requests * 1e6, 1),
        "switches_per_request": round((switches_after - switches_before) / requests, 2),
        "k6_cpu_us_per_request": round(k6_cpu / requests * 1e6, 1),
        "thresholds_failed": details["thresholds_failed"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=2000, help="requests per second offered (default 2000)")
    parser.add_argument("--duration", default="15s", help="the measured phase (default 15s)")
    parser.add_argument("--warmup", default="3s", help="the unmeasured warm-up (default 3s)")
    parser.add_argument("--vus", type=int, default=100, help="k6 VUs pre-allocated (default 100)")
    parser.add_argument("--runs", type=int, default=1, help="runs, one after another (default 1)")
    parser.add_argument("--authorizer-cache-ttl", type=int, nargs="+", default=[0], metavar="SECONDS",
                        help="the gateway's authorizer cache TTL (default 0: off); several: each run alternates through them")
    parser.add_argument("--scenario", choices=("warm", "bare"), default="warm", help="warm.js (the suite's) or bare.js (k6 at its lightest)")
    parser.add_argument("--lambda", dest="lambda_mode", action="store_true", help="the authorizer as a Lambda function process")
    parser.add_argument("--tollgate", help="the tollgate binary (default: target/release/tollgate, built now)")
    parser.add_argument("--perf", help="record a perf profile of serve to this file")
    parser.add_argument("--out", default=str(OUT / "stack-cost.json"))
    args = parser.parse_args()
    if args.tollgate:
        tollgate, authorizer = Path(args.tollgate), Path(args.tollgate).with_name("authorizer")
    else:
        tollgate, authorizer, _ = binaries("release")
    command = str(authorizer) if args.lambda_mode else None
    work = Path(args.out).parent / "stack-cost"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for _ in range(args.runs):
        for cache_ttl in args.authorizer_cache_ttl:
            result = measure(tollgate, command, args, work, cache_ttl)
            results.append(result)
            print(json.dumps(result), flush=True)
    Path(args.out).write_text(json.dumps({"tollgate": str(tollgate), "machine": machine(), "runs": results}, indent=2) + "\n")
    return 1 if any(r["thresholds_failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

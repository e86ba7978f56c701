"""Cold starts on a network: the `cold` scenario against a stack whose
issuer is served over https by `test-idp` (a test CA, a TLS front and a
delay proxy adding LATENCY_MS of round trip), for each latency in the
profile, both authorizers (the same IdP, the same latency, both trusting the
test CA through SSL_CERT_FILE, a full system bundle with it appended), and
Tollgate with and without a JWKS snapshot (written by `tollgate jwks
snapshot` through the same TLS front). The PyJWT reference has no snapshot:
it runs once per latency.

Both authorizers get STATUS_LIST_CHECK=off here: the PyJWT reference checks
no status list, and these runs compare what a JWKS costs over a network.
Tollgate's EMF lines (the gateway logs its functions' output at debug) give
the split of its cold start: init, the JWKS fetch (DNS, TCP and TLS, the
requests) and the first verification."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

from .host import log
from .k6 import run_k6
from .profiles import PROFILES
from .stack import LocalStack, free_port
from .summary import details, row

FUNCTION_LOG = "tollgate::function_log"
IDP_START_SECONDS = 10


class TestIdp:
    """`test-idp --upstream 127.0.0.1:PORT`: https://localhost:PORT in front
    of the stack, `latency_ms` away; stops when its stdin closes."""

    def __init__(self, binary, upstream_port, latency_ms, bundle):
        self.process = subprocess.Popen(
            [str(binary), "--upstream", f"127.0.0.1:{upstream_port}", "--latency-ms", str(latency_ms),
             "--bundle-out", str(bundle), "--max-seconds", "900"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        first = self.process.stdout.readline()
        if not first:
            raise RuntimeError(f"{binary} exited before serving")
        self.origin = json.loads(first)["origin"]

    def stop(self):
        """Stops it; what its proxy saw of each connection."""
        try:
            out, _ = self.process.communicate(input="", timeout=IDP_START_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def emf_records(log_text):
    """The function EMF records the gateway logged (one JSON object a line)."""
    decoder = json.JSONDecoder()
    records = []
    for line in log_text.splitlines():
        at = line.find('{"_aws"')
        if at < 0:
            continue
        try:
            record, _ = decoder.raw_decode(line[at:])
        except ValueError:
            continue
        records.append(record)
    return records


def median(values):
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def split(records, snapshot):
    """Medians of Tollgate's cold-start phases, ms. With a snapshot the JWKS
    fetch runs after the first answer, off its path."""
    of = lambda name: [r[name] for r in records if name in r]  # noqa: E731
    init = median(of("InitTime"))
    fetch = 0.0 if snapshot else median(of("JwksFetchTime"))
    dns = 0.0 if snapshot else median(of("JwksDnsTime"))
    connect = 0.0 if snapshot else median(of("JwksConnectTime"))
    verification_us = median([r["VerificationTime"] for r in records if "Decisions" in r])
    if init is None or fetch is None:
        return None
    return {
        "init_ms": round(init - fetch, 3),
        "jwks_dns_ms": round(dns or 0.0, 3),
        "jwks_connect_tls_ms": round(connect or 0.0, 3),
        "jwks_requests_ms": round(max(fetch - (dns or 0.0) - (connect or 0.0), 0.0), 3),
        "first_verification_ms": round((verification_us or 0.0) / 1000, 3),
        "live_fetch_off_path_ms": round(median(of("JwksFetchTime")) or 0.0, 3) if snapshot else None,
    }


def snapshot_of(tollgate, origin, bundle, out):
    """`tollgate jwks snapshot` through the TLS front, as `make lambda` would."""
    env = dict(os.environ, SSL_CERT_FILE=str(bundle))
    subprocess.run(
        [str(tollgate), "jwks", "snapshot", "--from", f"{origin}/.well-known/jwks.json", "--out", str(out)],
        env=env, check=True, capture_output=True, timeout=30,
    )


def run_cold_network(profile_name, tollgate, commands, test_idp):
    """`commands`: authorizer name -> its function command. Returns rows for
    summary.json's shape (scenario `cold`, labelled in details) and details."""
    network = PROFILES[profile_name].get("cold_network")
    if not network:
        return [], []
    scratch = Path(tempfile.mkdtemp(prefix="tollgate-cold-network-"))
    extras = []
    for latency in network["latencies_ms"]:
        for authorizer, command in commands.items():
            for snapshot in ((False, True) if authorizer == "tollgate" else (False,)):
                label = f"cold-https-{latency}ms" + ("-snapshot" if snapshot else "")
                extras.append(run_case(profile_name, tollgate, authorizer, command, test_idp, latency, snapshot, label, scratch))
    return [], extras


def run_case(profile_name, tollgate, authorizer, command, test_idp, latency, snapshot, label, scratch):
    network = PROFILES[profile_name]["cold_network"]
    stack_port = free_port()
    bundle = scratch / f"bundle-{latency}.pem"
    snapshot_file = scratch / f"jwks-snapshot-{latency}.json"
    idp = TestIdp(test_idp, stack_port, latency, bundle)
    env = {
        "SSL_CERT_FILE": str(bundle),
        "STATUS_LIST_CHECK": "off",
        # The gateway logs its functions' output (their EMF lines) at debug.
        "RUST_LOG": f"warn,{FUNCTION_LOG}=debug",
    }
    if snapshot:
        env["JWKS_SNAPSHOT"] = str(snapshot_file)
    stack = LocalStack(
        tollgate, command, "cold", None, PROFILES[profile_name]["status_list_max_age_seconds"],
        port=stack_port, extra_env=env,
        extra_args=["--issuer-url", idp.origin, "--authorizer-jwks-uri", f"{idp.origin}/.well-known/jwks.json"],
    )
    connections = []
    try:
        stack.wait_ready()
        if snapshot:
            snapshot_of(tollgate, idp.origin, bundle, snapshot_file)
        credentials = stack.credentials()
        k6_env = dict(
            COLD_ITERATIONS=str(network["iterations"]),
            COLD_PAUSE_SECONDS=network.get("pause_seconds", "0.2"),
            BASE_URL=stack.url,
            LOADTEST_USERNAME="demo",
            LOADTEST_PASSWORD=credentials["demo"],
        )
        data = run_k6("cold", authorizer, k6_env, label=label)
        records = emf_records(stack.tail(limit=None)) if authorizer == "tollgate" else []
    except Exception:
        log(f"stack log ({authorizer}/{label}):\n{stack.tail()}")
        raise
    finally:
        stack.stop()
        connections = idp.stop()
    summary = row(authorizer, "cold", data)
    extra = details(authorizer, "cold", data)
    hello = median([c.get("client_hello_after_ms") for c in connections])
    extra.update(
        scenario="cold_network",
        label=label,
        tls=True,
        latency_ms=latency,
        snapshot=snapshot,
        p50_ms=summary["p50_ms"],
        p95_ms=summary["p95_ms"],
        requests=summary["requests"],
        failed=summary["failed"],
        split=split(records, snapshot) if records else None,
        idp_connections=len(connections),
        client_hello_after_ms=hello,
    )
    return extra

"""The binaries a local run starts: tollgate, and each authorizer's command."""

import os
import subprocess
from pathlib import Path

from .host import log
from .paths import PYJWT_BOOTSTRAP, ROOT


def binaries(build):
    """The tollgate, authorizer and test-idp binaries. release: built now
    (fat LTO, the measured run). debug: the ones `cargo test --workspace`
    built (make test), used as they are; building them again with other
    features would cost a minute for a smoke run."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    if build == "release":
        log("building tollgate, authorizer and test-idp (release)")
        subprocess.run(
            # testkit with its default features: `--no-default-features`
            # would apply to every package named here, and tollgate already
            # builds the AWS crates testkit's helpers use.
            ["cargo", "build", "--release", "-p", "tollgate", "-p", "authorizer", "-p", "testkit",
             "--bin", "tollgate", "--bin", "authorizer", "--bin", "test-idp"],
            cwd=ROOT,
            check=True,
        )
    directory = target / ("release" if build == "release" else "debug")
    found = directory / "tollgate", directory / "authorizer", directory / "test-idp"
    for binary in found:
        if not binary.exists():
            raise SystemExit(f"{binary} is missing: run `cargo test --workspace` (or `cargo build -p tollgate -p authorizer`)")
    return found


def authorizer_command(name, authorizer_binary):
    if name == "tollgate":
        return str(authorizer_binary)
    if name == "pyjwt":
        return str(PYJWT_BOOTSTRAP)
    raise SystemExit(f"unknown authorizer {name!r} (tollgate or pyjwt)")

#!/usr/bin/env bash
# Runs the arm64 `authorizer` bootstrap under qemu-user through the same
# Runtime API harness as the x86-64 tests: a smoke test of the artefact that
# ships (timings under emulation are not representative).
set -euo pipefail
cd "$(dirname "$0")/.."
bootstrap="$PWD/target/lambda/authorizer/bootstrap"
[ -x "$bootstrap" ] || { echo "build it first: make lambda" >&2; exit 1; }
if ! command -v qemu-aarch64-static >/dev/null || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
    apt-get update -qq && apt-get install -y -qq qemu-user-static libc6-arm64-cross >/dev/null
fi
wrapper=$(mktemp -t authorizer-arm64.XXXXXX)
trap 'rm -f "$wrapper"' EXIT
printf '#!/bin/sh\nexec %s -L /usr/aarch64-linux-gnu %s "$@"\n' "$(command -v qemu-aarch64-static)" "$bootstrap" >"$wrapper"
chmod +x "$wrapper"
AUTHORIZER_BIN="$wrapper" cargo test -p authorizer --test lambda_binary -- --include-ignored --nocapture

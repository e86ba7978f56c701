#!/usr/bin/env bash
# Runs the arm64 `authorizer` and `backend` bootstraps under qemu-user
# through the same Runtime API tests as the x86-64 builds: a smoke test of
# the artefacts that ship (timings under emulation are not representative).
set -euo pipefail
cd "$(dirname "$0")/.."
for name in authorizer backend; do
    [ -x "target/lambda/$name/bootstrap" ] || { echo "build it first: make lambda" >&2; exit 1; }
done
if ! command -v qemu-aarch64-static >/dev/null || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
    apt-get update -qq && apt-get install -y -qq qemu-user-static libc6-arm64-cross >/dev/null
fi
wrappers=$(mktemp -d -t arm64-smoke.XXXXXX)
trap 'rm -rf "$wrappers"' EXIT
for name in authorizer backend; do
    printf '#!/bin/sh\nexec %s -L /usr/aarch64-linux-gnu %s "$@"\n' \
        "$(command -v qemu-aarch64-static)" "$PWD/target/lambda/$name/bootstrap" >"$wrappers/$name"
    chmod +x "$wrappers/$name"
done
AUTHORIZER_BIN="$wrappers/authorizer" cargo test -p authorizer --test lambda_binary -- --include-ignored --nocapture
BACKEND_BIN="$wrappers/backend" cargo test -p backend --test lambda_binary

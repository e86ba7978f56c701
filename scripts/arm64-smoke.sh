#!/usr/bin/env bash
# Runs the arm64 bootstraps that ship (unpacked from target/lambda/<name>/bootstrap.zip)
# under qemu-user through the same Runtime API tests as the x86-64 builds: a
# smoke test of the artefacts (timings under emulation are not representative).
set -euo pipefail
cd "$(dirname "$0")/.."
functions=(authorizer issuer issuer-rotation backend)
for name in "${functions[@]}"; do
    [ -s "target/lambda/$name/bootstrap.zip" ] || { echo "build it first: make lambda ($name)" >&2; exit 1; }
done
if ! command -v qemu-aarch64-static >/dev/null || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
    apt-get update -qq && apt-get install -y -qq qemu-user-static libc6-arm64-cross >/dev/null
fi
work=$(mktemp -d -t arm64-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
for name in "${functions[@]}"; do
    mkdir -p "$work/$name"
    "${VENV:-.venv}/bin/python" -m zipfile -e "target/lambda/$name/bootstrap.zip" "$work/$name"
    chmod +x "$work/$name/bootstrap"
    file_type=$(od -An -tx1 -j18 -N2 "$work/$name/bootstrap" | tr -d ' ')
    [ "$file_type" = "b700" ] || { echo "$name: bootstrap is not an arm64 ELF (e_machine $file_type)" >&2; exit 1; }
    printf '#!/bin/sh\nexec %s -L /usr/aarch64-linux-gnu %s "$@"\n' \
        "$(command -v qemu-aarch64-static)" "$work/$name/bootstrap" >"$work/$name.sh"
    chmod +x "$work/$name.sh"
done
AUTHORIZER_BIN="$work/authorizer.sh" cargo test -p authorizer --test lambda_binary -- --include-ignored --nocapture
ISSUER_BIN="$work/issuer.sh" ISSUER_ROTATION_BIN="$work/issuer-rotation.sh" \
    cargo test -p issuer --test lambda_binaries
BACKEND_BIN="$work/backend.sh" cargo test -p backend --test lambda_binary

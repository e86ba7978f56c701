#!/usr/bin/env bash
# `make fuzz`: builds the fuzz targets (fuzz/, cargo-fuzz + libFuzzer) and
# runs each for FUZZ_SECONDS (default 60), then prints per target the
# executions, coverage (libFuzzer's `cov:` edges and `ft:` features), the
# corpus size and any crash, hang or out-of-memory input it found (saved in
# fuzz/artifacts/<target>/, gitignored). docs/security.md explains each
# target and how to reproduce an artifact.
#
#   FUZZ_SECONDS=600 make fuzz            every target, ten minutes each
#   FUZZ_TARGETS="token events" make fuzz  some of them
#   FUZZ_SMOKE=1                           a short run of each, failing on any finding
#
# cargo-fuzz (pinned below) is installed into .tools/ if missing. It wants a
# nightly compiler: the `nightly` rustup toolchain when there is one, else
# the default (stable) toolchain with RUSTC_BOOTSTRAP=1.
set -uo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_SANITIZER=${FUZZ_SANITIZER:-address}
TOOLS="$PWD/.tools"
export PATH="$TOOLS/bin:$PATH"

if ! cargo-fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION into .tools/" >&2
  cargo install --quiet --locked --root "$TOOLS" cargo-fuzz --version "$CARGO_FUZZ_VERSION" || exit 1
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  TOOLCHAIN=(+nightly)
  echo "toolchain: nightly ($(rustc +nightly --version))" >&2
else
  TOOLCHAIN=()
  export RUSTC_BOOTSTRAP=1
  echo "toolchain: $(rustc --version) with RUSTC_BOOTSTRAP=1 (no nightly installed)" >&2
fi

fuzz() { cargo "${TOOLCHAIN[@]}" fuzz "$@"; }

fuzz build --fuzz-dir fuzz --sanitizer "$FUZZ_SANITIZER" || exit 1
TARGETS=${FUZZ_TARGETS:-$(fuzz list --fuzz-dir fuzz)}

OUT=fuzz/out
mkdir -p "$OUT"
status=0
rows=()
for target in $TARGETS; do
  log="$OUT/$target.log"
  mkdir -p "$OUT/corpus/$target" "fuzz/artifacts/$target"
  echo "== $target: ${FUZZ_SECONDS}s" >&2
  # New inputs go to fuzz/out/corpus (first directory); the committed
  # seeds in fuzz/corpus are only read.
  fuzz run --fuzz-dir fuzz --sanitizer "$FUZZ_SANITIZER" "$target" \
    "$OUT/corpus/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
    -max_len=16384 -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1
  code=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  if [ -z "$execs" ]; then execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last"); fi
  found=$(grep -oE 'fuzz/artifacts/[^ ]*(crash|leak|timeout|oom|slow-unit)-[0-9a-f]+' "$log" | sort -u | tr '\n' ' ')
  if [ "$code" -ne 0 ] || [ -n "$found" ]; then
    status=1
    [ -n "$found" ] || found="exit $code (see $log)"
  else
    found="none"
  fi
  rows+=("$(printf '%-18s %6s %12s %8s %7s %7s %6s  %s' "$target" "${FUZZ_SECONDS}s" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found")")
done

echo
printf '%-18s %6s %12s %8s %7s %7s %6s  %s\n' target time executions exec/s "cov" "ft" corpus "crashes/hangs/OOM"
for row in "${rows[@]}"; do echo "$row"; done
echo "(cov: edges reached, ft: libFuzzer features; logs in $OUT/, findings in fuzz/artifacts/)"
exit $status

#!/usr/bin/env bash
# Instructions per token for the warm path, the raw aws-lc-rs check and a
# decision-cache hit, counted by callgrind (repeatable on a noisy machine).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --profile bench -p benches --example instruction_count
bin=target/release/examples/instruction_count
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A count
for path in warm raw hit; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$path" \
        --toggle-collect="instruction_count::path_*" "$bin" "$path" 2>"$out/$path.log"
    count[$path]=$(grep -E '^summary:' "$out/$path" | awk '{print $2}')
done
per() { echo $(( ${count[$1]} / 200 )); }
printf '%-22s %12s\n' path "instr/token"
printf '%-22s %12s\n' "verify/RS256/warm" "$(per warm)"
printf '%-22s %12s\n' "baseline/aws-lc-raw" "$(per raw)"
printf '%-22s %12s\n' "decision_cache/hit" "$(per hit)"
awk -v w="${count[warm]}" -v r="${count[raw]}" 'BEGIN { printf "warm / raw = %.3f\n", w / r }'

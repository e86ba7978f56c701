#!/usr/bin/env bash
# `terraform apply` of the root module and every example against a
# moto_server on loopback, then a second plan, checks through boto3 and
# `destroy` (infra/tests/moto_apply.py). Part of `make test`; skipped, saying
# so, where the AWS provider is not in /opt/tf-plugins or terraform is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
# Two processes, each with its own moto_server: terraform spends much of a
# cycle waiting on moto, so two at once take about 60% of the time of one
# after the other. The root module's cycle (applied REGIONAL, then EDGE,
# then planned PRIVATE) takes about as long as the rest-api, http-api and
# cognito examples' together; the DPoP example goes with it.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
"$VENV/bin/python" infra/tests/moto_apply.py \
  ApplyAgainstMoto.test_the_root_module ApplyAgainstMoto.test_the_dpop_example >"$logs/first" 2>&1 &
first=$!
"$VENV/bin/python" infra/tests/moto_apply.py \
  ApplyAgainstMoto.test_the_rest_api_example ApplyAgainstMoto.test_the_http_api_example \
  ApplyAgainstMoto.test_the_cognito_example >"$logs/second" 2>&1 &
second=$!
status=0
wait "$first" || status=1
wait "$second" || status=1
cat "$logs/first" "$logs/second"
exit "$status"

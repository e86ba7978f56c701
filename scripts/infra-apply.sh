#!/usr/bin/env bash
# `terraform apply` of the root module and every example against a
# moto_server on loopback, then a second plan, checks through boto3 and
# `destroy` (infra/tests/moto_apply.py). Part of `make test`; skipped, saying
# so, where the AWS provider is not in /opt/tf-plugins or terraform is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
exec "$VENV/bin/python" infra/tests/moto_apply.py

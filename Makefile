# Tandem: `make dev` runs the product, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
JSFORCE_DIR := integrations/salesforce/jsforcecheck
SFCLI_DIR := integrations/salesforce/sfclicheck

.PHONY: dev test test-deps soak build fmt-check vet generate generate-check npm-deps postgres-server bench

## dev: run everything (private Postgres, sandboxes, web, worker) on this machine.
dev: postgres-server
	$(GO) run ./cmd/tandem dev

## build: build the tandem binary into bin/.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/tandem ./cmd/tandem

## test: formatting, vet, generated code up to date, and every test with -race.
test: test-deps fmt-check vet generate-check npm-deps
	$(GO) test -race -count=1 ./...

## soak: the fault soak (separate processes, killed workers, 503s, expired
## tokens) and the freshness figures; not part of `make test`. Longer runs:
## make soak SOAK_ARGS='-duration 10m -interval 30s -freshness 5m'
SOAK_ARGS ?=
soak: test-deps
	$(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout 60m ./cmd/tandem/soak/ -args $(SOAK_ARGS)

## bench: the benchmarks whose figures the README reports, then `tandem bench`
## (BENCH_ARGS, e.g. BENCH_ARGS='--sales 40000').
BENCH_ARGS ?=
bench: npm-deps postgres-server
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/tandem bench $(BENCH_ARGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$') 2>&1); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

generate:
	$(GO) tool templ generate

# Regenerates templ output and fails when that changed a tracked file, i.e.
# when a .templ edit was committed without its generated Go.
generate-check:
	@$(GO) tool templ generate >/dev/null
	@changed=$$(git status --porcelain -- '*_templ.go'); \
	if [ -n "$$changed" ]; then echo "generated templ code is out of date; run 'make generate' and commit:"; echo "$$changed"; exit 1; fi

# The jsforce and sf CLI compatibility checks need their npm packages (from
# the lock files).
npm-deps: test-deps
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install nodejs npm"; exit 1; }
	npm ci --prefix $(JSFORCE_DIR) --no-audit --no-fund --loglevel=error
	npm ci --prefix $(SFCLI_DIR) --no-audit --no-fund --loglevel=error

# test-deps installs (as root) and starts what the tests need when missing:
# PostgreSQL at 127.0.0.1:5432 with trust auth, chromium, nodejs and npm.
test-deps:
	@.ci/test-deps

# `make dev` needs the PostgreSQL server binaries when DATABASE_URL is unset.
postgres-server:
	@if [ -z "$$DATABASE_URL" ] && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
		else echo "PostgreSQL server binaries are missing: sudo apt-get install postgresql (or set DATABASE_URL)"; exit 1; fi; \
	fi

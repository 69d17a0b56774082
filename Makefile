# Tessera. `make run` and `make test` work as root on a fresh Debian machine.
SHELL := /bin/bash
GO ?= go
BIN := bin/tessera
export GOFLAGS ?= -buildvcs=false
# A Node.js bootstrapped by scripts/ensure-deps.sh (when the system's is too old) comes first.
export PATH := $(CURDIR)/.tools/node/bin:$(PATH)
# What the UI build reads: `make run` rebuilds the UI only when one of these changed.
UI_INPUTS := $(shell find ui/src ui/public -type f 2>/dev/null) $(wildcard ui/index.html ui/vite.config.ts ui/package.json ui/package-lock.json ui/tsconfig*.json)

.PHONY: run test build deps deps-go deps-pg deps-ui deps-e2e ui ui-test bundle-size e2e go-test vet bench bench-ui clean fresh-check test-under-load

run: build ## build and serve on 127.0.0.1:8080 (private PostgreSQL under ./data when DATABASE_URL is unset)
	@echo "Demo data: tick 'Fill with demo data' when installing the sales template in the gallery, or run (while serving): ./$(BIN) demo seed sales --leads 50000"
	./$(BIN) serve

build: deps ui ## build bin/tessera with the UI embedded
	$(GO) build -o $(BIN) .

test: deps vet go-test ui-test bundle-size e2e ## everything CI runs

deps: deps-go deps-pg deps-ui

deps-go:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go $$(sed -n 's/^go //p' go.mod) from https://go.dev/dl (Go 1.21 or later fetches that version itself; Debian's golang package may be older)"; exit 1; }
	$(GO) mod download

deps-pg:
	@bash scripts/ensure-deps.sh postgres

deps-ui:
	@bash scripts/ensure-deps.sh node
	@bash scripts/ensure-deps.sh ui-modules

deps-e2e:
	@bash scripts/ensure-deps.sh chromium

ui: deps-ui ui/dist/index.html

# Rebuilt when a UI source, the lock file or the installed modules (stamp) changed.
ui/dist/index.html: $(UI_INPUTS) $(wildcard ui/node_modules/.tessera-deps)
	@if [ -f ui/package.json ]; then cd ui && npm run build; fi
	@touch ui/dist/.gitkeep ui/dist/index.html  # vite empties dist; the Go embed needs the directory

bundle-size: ui ## first page <= 300 KB of gzipped JavaScript (ui/scripts/bundle-size.mjs)
	@if [ -f ui/scripts/bundle-size.mjs ]; then cd ui && node scripts/bundle-size.mjs; fi

ui-test: deps-ui
	@if [ -f ui/package.json ] && grep -q '"test"' ui/package.json; then cd ui && npm test; fi

e2e: deps-e2e build
	@if [ -f ui/package.json ] && grep -q '"e2e"' ui/package.json; then cd ui && npm run e2e; fi

vet:
	$(GO) vet ./...

go-test:
	$(GO) test -count=1 -timeout 20m ./...

bench: deps build ## print performance figures
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; } || echo "wrk not installed: its rows are left out"
	$(GO) run ./scripts/bench

bench-ui: build ## first-page timings at 1x and 4x CPU slowdown, flow designer open/undo timings (ui/e2e/firstpage.spec.ts, designerbench.spec.ts)
	cd ui && TESSERA_BENCH_UI=1 npx playwright test e2e/firstpage.spec.ts e2e/designerbench.spec.ts --reporter=list

fresh-check: ## prove `make run` and `make test` on a fresh Debian 12 root with only Go (scripts/fresh-check.sh; long)
	bash scripts/fresh-check.sh

test-under-load: ## `make test` 3 times in a row under stress-ng on every core (scripts/test-under-load.sh; long)
	bash scripts/test-under-load.sh

clean:
	rm -rf bin ui/dist/assets ui/dist/index.html ui/dist/.vite

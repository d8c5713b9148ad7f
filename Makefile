# The two commands of the README — `make run` and `make test` — plus `make bench`.
# Every target installs what it needs first, idempotently (a second run skips each step in
# well under a second), so a fresh machine needs nothing done by hand.

SERVICES := order-svc payment-svc notification-svc
CARGO_LEPTOS_VERSION := 0.3.10
# The contract test's checker (tests/api/contract.rs), pinned: a newer schemathesis may check
# more, which should be a change of its own, not a surprise in CI.
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS := $(CURDIR)/target/schemathesis/bin/st
# The wasm-bindgen CLI must be exactly the crate's version, which Cargo.lock pins.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' Cargo.lock)
# Root installs system packages directly; anyone else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run run-replicas test test-rust test-e2e bench build build-debug setup setup-dashboard setup-browser setup-contract setup-bench setup-replicas fmt lint clean

## make run: build everything (release) and start the three services and the dashboard.
run: setup-dashboard build
	@bash .ci/start-services.sh target/release

build:
	cargo build --release $(addprefix -p ,$(SERVICES))
	cargo leptos build --release

## make run-replicas: PostgreSQL, two replicas of each service behind HAProxy on the usual
## ports, and the dashboard against them (README, "Beyond one machine").
run-replicas: setup-dashboard setup-replicas build
	@bash .ci/run-replicas.sh target/release

## make test: every test — unit and integration over real HTTP, then the end-to-end tests
## in Chromium against the real services and dashboard.
test: setup test-rust test-e2e

# The whole Rust suite twice, beside one throwaway PostgreSQL cluster (.ci/with-postgres): on
# SQLite, then with TEST_BACKEND=postgres on PostgreSQL — both passes run, and either failing
# fails the target. The replica test (two replicas of each service behind HAProxy) needs
# PostgreSQL whatever the pass, so it runs once, in the first. The workspace build gives `app`
# the browser's features (`frontend` asks for them); its server-only code (the sign-in
# endpoints) is tested in a third run with `ssr`.
test-rust: setup-contract setup-replicas
	SCHEMATHESIS=$(SCHEMATHESIS) .ci/with-postgres bash -c '\
		cargo test --workspace --no-fail-fast; sqlite=$$?; \
		TEST_BACKEND=postgres cargo test --workspace --no-fail-fast -- --skip replicas::; postgres=$$?; \
		echo "Rust suite: SQLite exit $$sqlite, PostgreSQL exit $$postgres"; exit $$((sqlite | postgres))'
	cargo test -p app --features ssr --lib

test-e2e: build-debug
	cd end2end && npx playwright test

build-debug:
	cargo build $(addprefix -p ,$(SERVICES))
	cargo leptos build

## make bench: the load benchmark of BENCHMARKS.md, with oha as the load generator: on SQLite,
## then on PostgreSQL with one process per service, then with two replicas of each behind
## HAProxy — each PostgreSQL run on a throwaway cluster of its own, with the default (durable)
## settings. `make bench BACKENDS=sqlite` runs only some of them.
BACKENDS ?= sqlite postgres postgres-replicas
BENCH_POSTGRES := pg_virtualenv -o max_connections=300 -o shared_buffers=256MB
bench: setup-bench setup-replicas
	cargo build --release $(addprefix -p ,$(SERVICES))
	@for backend in $(BACKENDS); do \
		case $$backend in sqlite) bash .ci/bench.sh sqlite ;; *) $(BENCH_POSTGRES) bash .ci/bench.sh $$backend ;; esac \
			|| exit 1; \
	done

setup: setup-dashboard setup-browser setup-contract setup-replicas

# What building the dashboard needs: the WASM target, cargo-leptos, the wasm-bindgen CLI,
# and the npm tools (Tailwind, wasm-opt, Playwright) from package-lock.json.
setup-dashboard:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@cargo leptos --version 2>/dev/null | grep -qF '$(CARGO_LEPTOS_VERSION)' || \
		cargo install --locked cargo-leptos --version $(CARGO_LEPTOS_VERSION) --features no_downloads
	@wasm-bindgen --version 2>/dev/null | grep -qF '$(WASM_BINDGEN_VERSION)' || \
		cargo install --locked wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@[ node_modules/.package-lock.json -nt package-lock.json ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci

# The end-to-end tests' browser: Debian's Chromium (Playwright's own download is blocked
# here) and CJK fonts, so that Japanese text renders in screenshots.
setup-browser:
	@command -v chromium >/dev/null && dpkg -s fonts-noto-cjk >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-noto-cjk; }

# schemathesis in a virtual environment of its own under target/ (PyPI is reachable; Debian's
# python3 needs python3-venv for `-m venv`, the machine's own CPython has it).
setup-contract:
	@$(SCHEMATHESIS) --version 2>/dev/null | grep -qF '$(SCHEMATHESIS_VERSION)' || { \
		python3 -c 'import ensurepip' 2>/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv; }; \
		rm -rf target/schemathesis && python3 -m venv target/schemathesis && \
		target/schemathesis/bin/pip install --quiet --disable-pip-version-check 'schemathesis==$(SCHEMATHESIS_VERSION)'; }

setup-bench:
	@command -v oha >/dev/null || cargo install --locked oha

# What the replicas need beside the services: PostgreSQL and HAProxy, from Debian.
setup-replicas:
	@command -v haproxy >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql haproxy; }

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p app --features ssr --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf data node_modules end2end/test-results end2end/playwright-report

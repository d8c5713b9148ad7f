# The two commands of the README — `make run` and `make test` — plus `make bench`.
# Every target installs what it needs first, idempotently, so a fresh machine needs nothing
# done by hand.

SERVICES := order-svc payment-svc notification-svc

.PHONY: run test bench build setup-bench fmt lint clean

## make run: build the services (release) and start them; Ctrl-C stops them all.
run: build
	@bash .ci/start-services.sh target/release

build:
	cargo build --release $(addprefix -p ,$(SERVICES))

## make test: every test of the workspace (unit, integration over real HTTP).
test:
	cargo test --workspace --no-fail-fast

## make bench: the load benchmark of BENCHMARKS.md, with oha as the load generator.
bench: setup-bench build
	@bash .ci/bench.sh

setup-bench:
	@command -v oha >/dev/null || cargo install --locked oha

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf data

# contactd — make run starts the demo server, make test runs every test.
# Both install the Debian packages they need (as root) and start Postgres for
# the tests.
GO       ?= go
BIN      := bin/contactd
GOFLAGS  ?=
export CGO_ENABLED := 1

.PHONY: all build run test deps test-deps vet fmt clean bench bench-relay

all: build

deps:
	@deploy/deps.sh run

test-deps:
	@deploy/deps.sh test

build: deps
	$(GO) build -o $(BIN) ./cmd/contactd

run: build
	./$(BIN) serve

vet:
	$(GO) vet ./...

# Every test, with the race detector, against the local Postgres too.
# E2E tests (SIP caller + headless Chromium) are in ./e2e.
test: test-deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	@# Allocation counts mean nothing under the race detector, and the ticket
	@# writer's measures over the labelled calls are single-threaded work it
	@# slows fivefold: these run without it (they skip themselves under it).
	$(GO) test -count=1 -run 'Allocs' ./media
	$(GO) test -count=1 -run 'TestCategorizeDev|TestCategorizeHeldOut|TestGoals|TestLearnedCrossValidated|TestPriorityCrossValidated' ./tickets
	CONTACTD_TEST_DATABASE_URL="$${CONTACTD_TEST_DATABASE_URL:-$$(deploy/test-postgres.sh)}" \
	CONTACTD_TEST_ADMIN_DATABASE_URL="$${CONTACTD_TEST_ADMIN_DATABASE_URL:-$$(deploy/test-postgres.sh --admin)}" \
	  $(GO) test -race -count=1 -timeout 18m ./...

# Speed against peers measured in the same run (bench/README.md): SIP
# set-up and ASR (run.sh), then bridged calls with recording against
# rtpengine (relay.sh, about 12 minutes).
bench: build
	@deploy/deps.sh bench
	bench/run.sh
	bench/setup-rate.sh
	bench/relay.sh

bench-relay: build
	@deploy/deps.sh bench
	bench/relay.sh

clean:
	rm -rf bin

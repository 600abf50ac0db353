# Switchboard — the two commands a newcomer needs: `make run` and `make test`.
GO      ?= go
BIN     ?= bin/switchboard
DATA    ?= ./switchboard-data
SIP     ?= 0.0.0.0:5060
HTTP    ?= 0.0.0.0:8080
HTTPS   ?= 0.0.0.0:8443
export CGO_ENABLED = 0

.PHONY: build run test vet fuzz bench prompts clean

build:
	$(GO) build -trimpath -o $(BIN) .

# Run the switch with data in ./switchboard-data; the first run prints the office-manager login.
run: build
	$(BIN) serve --data $(DATA) --sip $(SIP) --http $(HTTP) --https $(HTTPS)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

# All tests. Real-peer tests (SIPp, baresip, …) skip when their tool is missing,
# unless SWITCHBOARD_INTEROP=required (as in .ci/run); skips are listed at the end.
test: vet build
	@skips=$$(mktemp); \
	SWITCHBOARD_SKIP_LOG=$$skips SWITCHBOARD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 15m ./...; status=$$?; \
	if [ -s $$skips ]; then echo; echo "Skipped real-peer tests (install the tool to run them):"; sort -u $$skips | sed 's/^/  /'; fi; \
	rm -f $$skips; exit $$status

# Short fuzzing of every parser of outside input (the seed corpora always run in `make test`).
# Go reports "context deadline exceeded" when the fuzz time runs out while a worker is busy
# with a slow input; without a failing input written, that is not a finding.
fuzz:
	@out=$$(mktemp); trap 'rm -f $$out' EXIT; \
	for t in $$($(GO) test -list 'Fuzz.*' ./... | grep '^Fuzz'); do \
	  pkg=$$(grep -rl "func $$t(" --include='*_test.go' . | head -1 | xargs dirname); \
	  echo "== $$pkg $$t"; \
	  if ! $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 20s -fuzzminimizetime 5s $$pkg >$$out 2>&1; then \
	    cat $$out; \
	    if grep -q 'Failing input written' $$out || ! grep -q 'context deadline exceeded' $$out; then exit 1; fi; \
	    echo "   (the time ran out during a slow input; no failing input: not a finding)"; \
	  else tail -2 $$out; fi; \
	done

# Benchmarks: SIPp load against the built binary plus Go micro-benchmarks, then the CPU of
# music on hold and recording (bench/moh.sh); run.sh ends with the WebRTC calls (bench/webrtc.sh,
# WEBRTC=0 skips them); see docs/BENCHMARKS.md.
bench: build
	./bench/run.sh
	./bench/moh.sh

# Regenerate the embedded voice prompts, beep and default music on hold
# (needs espeak-ng and sox; the results are committed).
prompts:
	media/prompts/generate.sh

clean:
	rm -rf bin

# heartbeat_exporter
GO        ?= go
BIN       ?= heartbeat_exporter
VERSION   := $(shell cat VERSION)
REVISION  := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH    := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VPKG      := github.com/prometheus/common/version
LDFLAGS   := -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) \
             -X $(VPKG).Branch=$(BRANCH) -X $(VPKG).BuildUser=$(shell id -un)@$(shell hostname) \
             -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)
# promu names tarballs after the git remote's repository: give it ours, so
# that a clone with another remote (or none) still makes
# heartbeat_exporter-VERSION.OS-ARCH.tar.gz.
# promu is built for this host once: `go tool` would build it for the
# GOOS/GOARCH set for the release build.
PROMU     := GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url \
             GIT_CONFIG_VALUE_0=https://github.com/heartbeat-exporter/heartbeat_exporter .build/promu
RELEASE_PLATFORMS ?= linux-amd64 linux-arm64 linux-386 linux-armv7
DEMO_ADDR ?= 127.0.0.1:10734
FUZZTIME  ?= 15s
# Packages that run only at start, at a reload, every few seconds or for a
# rare request (flags, configuration, templates, certificates, D-Bus,
# nftables, protobuf's descriptors and encoding, logging, the parsers of
# module versions and SNF's status, run when their file changed) are compiled without
# inlining: 0.6 MiB less binary, and nearly all of a binary is resident at
# rest, the kernel mapping 64 KiB around each page touched
# (docs/benchmarks.md, "Idle RSS"). Nothing a scrape in the text format
# runs is in the list. .promu.yml's flags carry the same
# (TestMakeBuildFlagsLikePromu).
MOD       := github.com/heartbeat-exporter/heartbeat_exporter
COLD_PKGS := go.yaml.in/yaml/... github.com/alecthomas/... github.com/xhit/... \
             text/template/... html/template go/... \
             golang.org/x/net/trace github.com/mwitkow/... github.com/golang-jwt/... \
             golang.org/x/oauth2/... github.com/prometheus/common/config \
             github.com/godbus/... github.com/coreos/... github.com/google/nftables/... \
             github.com/mdlayher/... golang.org/x/text/... vendor/golang.org/x/text/... \
             encoding/asn1 encoding/pem crypto/x509/... math/big expvar \
             github.com/jpillora/backoff google.golang.org/protobuf/... \
             encoding/xml log/slog/... github.com/go-kit/... github.com/go-logfmt/... \
             github.com/prometheus/common/version \
             $(MOD)/config $(MOD)/internal/snfxml $(MOD)/internal/spamassassin \
             $(MOD)/internal/cvd $(MOD)/internal/freshclam $(MOD)/internal/dpkg
BUILD_FLAGS := -trimpath -tags netgo $(foreach p,$(COLD_PKGS),-gcflags=$(p)=-l)
GOFILES    = $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.build/*')

.PHONY: all build test lint fmt-check vet staticcheck demo fuzz bench bench-all bench-textfile bench-quarantine bench-services mixin mixin-check bench-rules package release clean crossbuild

all: build

# Built as a release is (.promu.yml: cgo off, the same flags): a static
# binary maps no libc, which is 1.3 MiB of its resident memory.
build:
	CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -ldflags "$(LDFLAGS)" -o $(BIN) .

# The README's test command: tools, lint, then every test with the race
# detector. -timeout 20m: the root package holds TestRealStack (3-4 min,
# and it may wait for the packaging test, which takes the same lock).
test: lint
	./scripts/test-tools.sh
	$(GO) test -race -count=1 -timeout 20m ./...
	# the log rules' vector search has a portable twin (arm64, purego)
	$(GO) test -count=1 -tags purego ./internal/logrules/

lint: fmt-check vet staticcheck

# The Linux architectures the release builds besides amd64 (.promu.yml);
# the exporter is Linux only (docs/architecture.md).
crossbuild:
	GOARCH=arm64 $(GO) build ./...
	GOARCH=386 $(GO) build ./...
	GOARCH=arm GOARM=7 $(GO) build ./...

fmt-check:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

# Runs the exporter on the bundled demo tree; open http://$(DEMO_ADDR)/metrics
demo: build
	@echo "heartbeat_exporter demo on http://$(DEMO_ADDR)/metrics (Ctrl-C to stop)"
	./$(BIN) --web.listen-address=$(DEMO_ADDR) \
	  --config.file=examples/demo/heartbeat.yml \
	  --path.procfs=examples/demo/proc --path.sysfs=examples/demo/sys \
	  --path.rootfs=examples/demo/root --state.dir=

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	./bench/scrape-vs-node-exporter.sh

# Every side-by-side benchmark at a size that finishes in minutes, and one
# table of ours, the peer, the ratio and the target.
bench-all:
	./bench/all.sh

bench-textfile:
	./bench/textfile-vs-node-exporter.sh

bench-quarantine:
	./bench/quarantine-vs-du.sh

bench-services:
	./bench/services-vs-process-exporter.sh

# Renders the mixin into alerts/alerts.yaml, alerts/rules.yaml and
# dashboards/*.json (checked in; mixin-check, part of `go test ./...`,
# fails when they are stale).
mixin:
	$(GO) tool jsonnet -S -c -m . mixins/heartbeat-mixin/render.jsonnet

mixin-check:
	$(GO) test -count=1 ./mixins/heartbeat-mixin/

# Rule evaluation cost over a simulated fleet of 500 gateways.
bench-rules:
	./bench/rules-fleet.sh

# .deb and .rpm in dist/ with nfpm (a Go tool dependency): a stripped,
# position-independent build (lintian refuses a static non-PIE or unstripped
# binary; PIE without cgo is not possible on every release platform, so it
# is not promu's build) with the same version stamp as `make build`, and
# the embedded default configuration as the conffile.
# packaging/nfpm.yaml names the same folder.
PKG_BUILD := .build/package
GOARCH    := $(shell $(GO) env GOARCH)
package:
	mkdir -p $(PKG_BUILD) dist
	CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -buildmode=pie -ldflags "-s -w $(LDFLAGS)" -o $(PKG_BUILD)/heartbeat_exporter .
	$(PKG_BUILD)/heartbeat_exporter --config.print-default >$(PKG_BUILD)/heartbeat.yml
	printf -- '- semver: %s-1\n  date: %s\n  packager: heartbeat_exporter developers <heartbeat-exporter@example.net>\n  deb: {urgency: medium, distributions: [unstable]}\n  changes:\n    - note: see CHANGELOG.md in the source\n' \
	  "$(VERSION)" "$$(git log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)" >$(PKG_BUILD)/changelog.yml
	for p in deb rpm; do \
	  VERSION=$(VERSION) RELEASE=1 ARCH=$(GOARCH) \
	  SOURCE_DATE_EPOCH="$$(git log -1 --format=%ct 2>/dev/null || date +%s)" \
	  $(GO) tool nfpm package --config packaging/nfpm.yaml --packager $$p --target dist/ || exit 1; \
	done

# Release tarballs in .tarballs/ like the official exporters': promu builds
# each platform with .promu.yml's flags and version ldflags, and packs the
# binary with .promu.yml's tarball files; sha256sums.txt beside them.
release: .build/promu
	rm -rf .tarballs
	for p in $(RELEASE_PLATFORMS); do \
	  os=$${p%%-*}; arch=$${p#*-}; goarch=$$arch; goarm=; \
	  case $$arch in armv*) goarch=arm; goarm=$${arch#armv};; esac; \
	  GOOS=$$os GOARCH=$$goarch GOARM=$$goarm CGO_ENABLED=0 $(PROMU) build --prefix .build/$$p || exit 1; \
	  GOOS=$$os GOARCH=$$arch $(PROMU) tarball --prefix .tarballs .build/$$p || exit 1; \
	done
	cd .tarballs && sha256sum *.tar.gz >sha256sums.txt

.build/promu: go.mod go.sum
	$(GO) build -o $@ github.com/prometheus/promu

clean:
	rm -rf $(BIN) .build dist .tarballs

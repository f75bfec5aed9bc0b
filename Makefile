# callbox: `make help` lists the targets. Every target installs what it needs
# (apt-get when run as root, otherwise a message naming the Debian package).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
export CGO_ENABLED ?= 0
# gin's msgpack codec (ugorji/go, 3.5 MiB of the armv7 binary) is never
# served by the box: without it callboxd fits the 20 MiB budget.
export GOFLAGS ?= -tags=nomsgpack

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILDTIME ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w -X callbox/firmware/version.Version=$(VERSION) \
             -X callbox/firmware/version.Commit=$(COMMIT) \
             -X callbox/firmware/version.BuildTime=$(BUILDTIME)
PROGRAMS  := callboxd callboxctl
DATA      ?= ./var
HTTP      ?= 127.0.0.1:8080

# Update keys. OTA_PUBKEY is the public key file compiled into callboxd
# (production: give the path of the release key's public half); OTA_KEY
# signs bundles. The development pair is made on first use in $(DATA) and
# never committed.
DEV_KEY   := $(DATA)/ota-dev
OTA_PUBKEY ?=
OTA_KEY   ?= $(DEV_KEY).key
ifneq ($(OTA_PUBKEY),)
LDFLAGS   += -X callbox/firmware/ota.BuildKey=$(shell base64 -w0 < $(OTA_PUBKEY))
endif

# Debian packages the tests use: real signal sources and peers, ARM emulation.
TEST_DEBS := qemu-user-static sox espeak-ng libspandsp-dev asterisk-core-sounds-en-wav chromium fonts-wqy-microhei gcc libc6-dev linux-libc-dev sip-tester baresip libubootenv-tool u-boot-tools genimage python3-kconfiglib dosfstools mtools e2fsprogs postgresql mariadb-server

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: go-check
go-check: ## check that the Go toolchain is there
	@command -v $(GO) >/dev/null || { echo "make: Go 1.26 is needed (https://go.dev/dl, or Debian's golang-1.26 package)"; exit 1; }

.PHONY: deps
deps: ## install the Debian packages the tests need (apt-get as root)
	@missing=""; for p in $(TEST_DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null; \
	  else echo "make: please install these Debian packages (as root: apt-get install$$missing)"; exit 1; fi; \
	fi

.PHONY: build
build: go-check ## build callboxd and callboxctl for the host, linux/arm (GOARM=7) and linux/arm64 into bin/
	@mkdir -p bin
	@for p in $(PROGRAMS); do \
	  $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$$p ./firmware/cmd/$$p; \
	  GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$$p-linux-armv7 ./firmware/cmd/$$p; \
	  GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$$p-linux-arm64 ./firmware/cmd/$$p; \
	done
	@ls -l bin | awk 'NR>1 {printf "  %-28s %6.1f MiB\n", $$9, $$5/1048576}'

# The system prompts are spoken at build time from the list in
# telephony/prompt/system.tsv, never committed as audio; only prompts whose
# text or voice changed are remade. The image build runs the same command
# with --out into the image's /usr/share/callbox/prompts, where callboxd
# looks for them on hardware.
.PHONY: prompts
prompts: go-check ## speak the system prompts with espeak-ng into ./var/prompts/system (DATA=dir)
	@command -v espeak-ng >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then echo "make: installing espeak-ng"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng >/dev/null; \
	  else echo "make: please install the Debian package espeak-ng (as root: apt-get install espeak-ng)"; exit 1; fi; }
	@$(GO) run ./firmware/cmd/callboxctl prompts generate --data $(DATA)

.PHONY: dev-key
dev-key: go-check ## make the development update key pair in $(DATA) (once; never committed)
	@mkdir -p $(DATA)
	@test -f $(DEV_KEY).key || $(GO) run ./firmware/cmd/callboxctl bundle keygen $(DEV_KEY)

.PHONY: run
run: go-check dev-key prompts ## run the box in simulation: web admin, SIP, virtual lines, prompts and store in ./var
	@mkdir -p bin $(DATA)
	@$(GO) build -trimpath -ldflags '$(LDFLAGS) -X callbox/firmware/ota.BuildKey='"$$(base64 -w0 < $${OTA_PUBKEY:-$(DEV_KEY).pub})" -o bin/callboxd ./firmware/cmd/callboxd
	@$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/callboxctl ./firmware/cmd/callboxctl
	@echo "callbox: starting the box in simulation (Ctrl-C stops it)"
	@exec bin/callboxd --board sim --data $(DATA) --http $(HTTP) --console pty

BUNDLE_VERSION ?= 0.0.1
BUNDLE_BOARDS  ?= sim
BUNDLE_IMAGE   ?= bin/callboxd-linux-armv7

.PHONY: bundle
bundle: go-check dev-key ## sign an update bundle: BUNDLE_VERSION=1.2.0 BUNDLE_BOARDS=sim,qemu-armv7 [BUNDLE_IMAGE=rootfs.ext4] [OTA_KEY=release.key]
	@mkdir -p bin
	@test -f $(BUNDLE_IMAGE) || GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BUNDLE_IMAGE) ./firmware/cmd/callboxd
	$(GO) run ./firmware/cmd/callboxctl bundle create --key $(OTA_KEY) --version $(BUNDLE_VERSION) --compatible $(BUNDLE_BOARDS) \
	  -o bin/callbox-$(BUNDLE_VERSION).cbx rootfs=$(BUNDLE_IMAGE)

.PHONY: fmt-check
fmt-check: go-check ## fail when gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "make: gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet: go-check ## go vet every package
	$(GO) vet ./...

.PHONY: staticcheck
staticcheck: go-check ## run staticcheck (pinned in go.mod as a tool)
	$(GO) tool staticcheck ./...

# Pure packages: no network, no child processes under -short. Their ARM test
# binaries run under qemu-arm-static.
QEMU_PKGS = $(shell $(GO) list ./dsp/... ./board/... ./telephony/... ./flash/... ./firmware/store/... ./firmware/cli/... ./firmware/version/... 2>/dev/null)

.PHONY: pinyin-table
pinyin-table: go-check ## regenerate telephony/crm/pinyin/table.txt from Debian's unicode-data (Unihan kMandarin)
	@test -e /usr/share/unicode/Unihan_Readings.txt.bz2 || apt-get install -y unicode-data || { echo "install the Debian package unicode-data"; exit 1; }
	$(GO) run ./telephony/crm/pinyin/internal/mktable -unihan /usr/share/unicode/Unihan_Readings.txt.bz2 -out telephony/crm/pinyin/table.txt

.PHONY: test-arm
test-arm: deps ## cross-build armv7/arm64 and run the pure packages' tests under qemu-arm-static
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	for p in $(PROGRAMS); do \
	  GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$tmp/$$p-linux-armv7 ./firmware/cmd/$$p; \
	  GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$tmp/$$p-linux-arm64 ./firmware/cmd/$$p; \
	  qemu-arm-static $$tmp/$$p-linux-armv7 --version; \
	done
	GOOS=linux GOARCH=arm GOARM=7 $(GO) test -short -count=1 -exec qemu-arm-static $(QEMU_PKGS)
	@# The ALSA ioctl layouts differ between 32- and 64-bit ARM: check both.
	GOOS=linux GOARCH=arm64 $(GO) test -short -count=1 -exec qemu-aarch64-static ./board/pcm/

.PHONY: test-go
test-go: deps ## go test -race over every package
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m ./...

# The box's budget for callboxd (armv7, stripped, as the image ships it):
# the check prints what the binary is made of, by module and by package.
SIZE_BUDGET_MIB ?= 20

# test-size is part of make test: 18.31 MiB on 7 Dec (issue 13). It also
# names any function that calls reflect's Method or MethodByName with a
# run-time name, which would make the linker keep every exported method of
# every type stored in an interface (html/template did, 3.25 MiB of it).
.PHONY: test-size
test-size: go-check ## fail when the armv7 callboxd (stripped) is over $(SIZE_BUDGET_MIB) MiB or calls methods by name; print its biggest modules and packages
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$tmp/callboxd ./firmware/cmd/callboxd; \
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(filter-out -s -w,$(LDFLAGS)) -dumpdep' -o $$tmp/callboxd.symbols ./firmware/cmd/callboxd \
	  >$$tmp/dumpdep 2>&1 || { grep -v -e ' -> ' -e '^# ' $$tmp/dumpdep; exit 1; }; \
	$(GO) run ./firmware/internal/binsize -max-mib $(SIZE_BUDGET_MIB) -dumpdep $$tmp/dumpdep $$tmp/callboxd $$tmp/callboxd.symbols

# Packages whose tests shrink under the race detector (they define
# raceEnabled): test-full runs them again at full size without it.
FULL_PKGS = $(shell grep -rl --include='*_test.go' -e '^const raceEnabled = false' . | xargs -r -n1 dirname | sort -u)

.PHONY: test-full
test-full: deps ## the tests -race shortens (packages defining raceEnabled), at full size without the race detector
	$(GO) test -count=1 -timeout 15m $(FULL_PKGS)

.PHONY: test
test: go-check deps fmt-check vet staticcheck test-go test-full test-arm test-size ## everything CI runs: gofmt, vet, staticcheck, go test -race, full-size tests, ARM builds and qemu tests, the binary's size budget
	@echo "make: test passed"

.PHONY: test-fresh
test-fresh: go-check ## as root: make test in a freshly bootstrapped Debian chroot (FRESH=dir, default /var/tmp/callbox-fresh)
	.ci/fresh

.PHONY: bench
bench: go-check deps ## run the benchmarks and print ns/sample and channels per core
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./dsp/... ./board/... ./telephony/... | tee /dev/stderr | $(GO) run ./firmware/internal/benchtable

.PHONY: bench-sip
bench-sip: go-check deps ## sipp on loopback through the daemon: concurrent G.711 calls, set-up rate(s) and latency p50/p95/p99 (RATE=100,200,400), memory, media; IDLE=60s measures the idle box instead
	$(GO) run ./firmware/internal/sipbench -calls $${CALLS:-500} -rate $${RATE:-100} -setup-calls $${SETUP_CALLS:-1000} $${IDLE:+-idle $$IDLE}

.PHONY: bench-idle
bench-idle: go-check deps ## the idle box's CPU (cores) and wake-ups over IDLE (default 60s), issue 16's idle figure
	$(GO) run ./firmware/internal/sipbench -idle $${IDLE:-60s}

.PHONY: bench-cc
bench-cc: go-check deps ## the live call centre on loopback: Poisson callers, sipp agents, SL and ASA against the ACD simulator, routing and event latency
	$(GO) run ./firmware/internal/ccbench -duration $${DURATION:-10m} -agents $${AGENTS:-30} -aht $${AHT:-20s} -load $${LOAD:-0.95} -patience $${PATIENCE:-40s} -desks $${DESKS:-0}

.PHONY: bench-sip-flood
bench-sip-flood: go-check deps ## issue 15's attacks on loopback through the daemon: flood RSS, phone during it, guessing, enumeration, silent TCP
	$(GO) run ./firmware/internal/sipbench -flood -flood-for $${FLOOD_FOR:-10s} -flood-sources $${FLOOD_SOURCES:-1} -flood-tcp $${FLOOD_TCP:-500}

.PHONY: bench-arm
bench-arm: go-check deps ## callboxd built for armv7 under qemu-arm-static: resident memory idle and with 30 calls, idle CPU over 60 s
	@mkdir -p bin
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/callboxd-linux-armv7 ./firmware/cmd/callboxd
	$(GO) run ./firmware/internal/sipbench -bin bin/callboxd-linux-armv7 -calls $${CALLS:-30} -ramp $${RAMP:-10}
	$(GO) run ./firmware/internal/sipbench -bin bin/callboxd-linux-armv7 -idle $${IDLE:-60s}

.PHONY: clean
clean: ## remove bin/ (var/ holds your simulated box's data and is kept)
	rm -rf bin

IMAGE_DEBS := .cache/image-debs

.PHONY: test-image
test-image: go-check ## boot the A/B image in qemu-system-arm: prompts found, update, fallback from a broken update, 20 power cuts (CUTS=N)
	@need=""; for p in qemu-system-arm u-boot-qemu genimage u-boot-tools e2fsprogs dosfstools mtools espeak-ng; do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$need >/dev/null; \
	  else echo "make: please install these Debian packages:$$need"; exit 1; fi; fi
	@mkdir -p $(IMAGE_DEBS)
	@if ! ls $(IMAGE_DEBS)/linux-image-*-armmp_*_armhf.deb $(IMAGE_DEBS)/busybox-static_*_armhf.deb >/dev/null 2>&1; then \
	  dpkg --print-foreign-architectures | grep -qx armhf || { [ "$$(id -u)" = 0 ] && dpkg --add-architecture armhf && apt-get update -qq; } || \
	    { echo "make: as root: dpkg --add-architecture armhf && apt-get update"; exit 1; }; \
	  kpkg=$$(apt-cache depends linux-image-armmp:armhf | awk '/Depends: linux-image-[0-9]/ {print $$2; exit}'); \
	  cd $(IMAGE_DEBS) && apt-get download $$kpkg busybox-static:armhf; fi
	CALLBOX_IMAGE_TEST=1 CALLBOX_IMAGE_DEBS=$(abspath $(IMAGE_DEBS)) CALLBOX_IMAGE_PROMPTS=$(abspath .cache/image-prompts) CALLBOX_IMAGE_CUTS=$${CUTS:-20} \
	  $(GO) test -count=1 -v -timeout 150m -run TestImage ./firmware/internal/imagetest/ 2>&1 | grep --line-buffered -v '^=== '

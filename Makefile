# The two commands of the README, and a few helpers. Everything builds into build/.
#   make run    install what is missing, build the citybed program (Release), run the default scenario
#   make test   install what is missing, build everything, run every test through ctest, then the
#               unit tests of common, sim and the broker and the fuzz targets (FUZZ_SECONDS each)
#               under ASan and UBSan (scripts/fuzz.sh, build-fuzz/)
# Builds are quiet: warnings, errors and one progress line (the full log is build/build.log).
#   make bench  build and run the benchmark suites (see docs/performance.md)
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
SCENARIO ?= scenarios/quickstart.json
CTEST_ARGS ?=
FUZZ_SECONDS ?= 20

.PHONY: all bootstrap configure build citybed run test fuzz bench clean

all: build

bootstrap:
	@scripts/bootstrap.sh

# Ninja (Debian ninja-build, installed by bootstrap) keeps both cores busy across library
# boundaries; a build folder made earlier with another generator keeps its own.
GENERATOR ?= $(if $(wildcard $(BUILD_DIR)/CMakeCache.txt),,$(if $(shell command -v ninja),-G Ninja,))

configure: bootstrap
	@out=$$(cmake -S . -B $(BUILD_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release --log-level=WARNING 2>&1) || { echo "$$out"; exit 1; }; \
	  echo "$$out" | grep -v '^-- ' || true

build: configure
	@JOBS=$(JOBS) scripts/quiet-build.sh $(BUILD_DIR)

citybed: configure
	@JOBS=$(JOBS) scripts/quiet-build.sh $(BUILD_DIR) citybed

run: citybed
	$(BUILD_DIR)/bin/citybed run $(SCENARIO)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) $(CTEST_ARGS)
	@JOBS=$(JOBS) scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz: bootstrap
	@JOBS=$(JOBS) scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD_DIR) build-fuzz

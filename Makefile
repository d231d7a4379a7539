# The two commands of the README, and a few helpers. Everything builds into build/.
#   make run    install what is missing, build the citybed program (Release), run the default scenario
#   make test   install what is missing, build everything, run every test through ctest
# Builds are quiet: warnings, errors and one progress line (the full log is build/build.log).
#   make bench  build and run the benchmark suites (see docs/performance.md)
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
SCENARIO ?= scenarios/quickstart.json
CTEST_ARGS ?=

.PHONY: all bootstrap configure build citybed run test bench clean

all: build

bootstrap:
	@scripts/bootstrap.sh

configure: bootstrap
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release --log-level=WARNING

build: configure
	@JOBS=$(JOBS) scripts/quiet-build.sh $(BUILD_DIR)

citybed: configure
	@JOBS=$(JOBS) scripts/quiet-build.sh $(BUILD_DIR) citybed

run: citybed
	$(BUILD_DIR)/bin/citybed run $(SCENARIO)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD_DIR)

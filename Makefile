# The two commands of the README, and a few helpers. Everything builds into build/.
#   make run    install what is missing, build (Release), run the default scenario
#   make test   install what is missing, build, run every test through ctest
#   make bench  build and run the benchmark suites (see docs/performance.md)
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
SCENARIO ?= scenarios/quickstart.json
CTEST_ARGS ?=

.PHONY: all bootstrap configure build run test bench clean

all: build

bootstrap:
	@scripts/bootstrap.sh

configure: bootstrap
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release --log-level=WARNING

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/bin/citybed run $(SCENARIO)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD_DIR)

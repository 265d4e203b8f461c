# Two commands on a fresh Debian 12 machine:
#   make demo   installs deps, builds, runs the whole dedup on a generated catalog
#   make test   installs deps, builds, runs every test (ctest)
BUILD ?= build
# Release: -O2 without debug info (CMakeLists.txt says why); RelWithDebInfo to debug.
BUILD_TYPE ?= Release
# OpenMP threads wait passively: doppel shares 2 cores with whatever else runs (see
# ../shared/anchors/faiss-on-this-machine.md for the 4x slowdown of spinning pools).
export OMP_WAIT_POLICY ?= PASSIVE
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps configure build test test-fast demo bench-accuracy format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# Unit tests only (no CLI end-to-end or data-backed suites).
test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

demo: build
	bash scripts/demo.sh $(BUILD)/tools/doppel/doppel

bench-accuracy: build
	bash scripts/bench-accuracy.sh $(BUILD)/tools/doppel/doppel

format:
	find src tools -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD)

# Convenience targets over CMake.  The build itself is plain CMake; see
# README.md.
#
#   make demo    build (Release) and run the main job on a generated pair
#   make test    install missing Debian packages, build Release and
#                ASan+UBSan, run the tests of both
#   make bench   build and run the benchmark
#   make clean   remove the build directories

BUILD          ?= build
BUILD_SANITIZE ?= build-sanitize
JOBS           ?= $(shell nproc)
CMAKE          ?= cmake
CTEST          ?= ctest
# Extra arguments for both configure steps, e.g. CMAKE_ARGS=-DITK_DIR=...
CMAKE_ARGS     ?=

CTEST_FLAGS = --output-on-failure --no-tests=error -j$(JOBS)
SANITIZE_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all deps build test test-release test-sanitize demo bench clean

all: build

deps:
	bash tools/install-deps.sh

build: deps
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DBLOCKWISE_SANITIZE=OFF -DBLOCKWISE_BUILD_BENCH=ON $(CMAKE_ARGS)
	$(CMAKE) --build $(BUILD) -j$(JOBS)

# The Release tests, then the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer.  One after the other, so a failure in the
# first stops the second.
test: build
	$(CTEST) --test-dir $(BUILD) $(CTEST_FLAGS)
	$(sanitize_tests)

test-release: build
	$(CTEST) --test-dir $(BUILD) $(CTEST_FLAGS)

test-sanitize: deps
	$(sanitize_tests)

define sanitize_tests
$(CMAKE) -S . -B $(BUILD_SANITIZE) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBLOCKWISE_SANITIZE=ON -DBLOCKWISE_BUILD_BENCH=OFF $(CMAKE_ARGS)
$(CMAKE) --build $(BUILD_SANITIZE) -j$(JOBS)
$(SANITIZE_ENV) $(CTEST) --test-dir $(BUILD_SANITIZE) $(CTEST_FLAGS)
endef

# The main job on a generated pair: a texture and a copy warped in one
# rectangle.  The heatmap's low-r area is that rectangle.
DEMO = $(BUILD)/demo
demo: build
	mkdir -p $(DEMO)
	./$(BUILD)/examples/demo_pair $(DEMO)/a.tif $(DEMO)/b.tif
	./$(BUILD)/bin/blockwise corr $(DEMO)/a.tif $(DEMO)/b.tif -o $(DEMO)/r.tif --png $(DEMO)/r.png

bench: build
	bash tools/install-deps.sh --bench
	./$(BUILD)/bench/bench_block_corr
	./$(BUILD)/bench/bench_itk_pipeline
	/usr/bin/python3 bench/bench_cli.py $(BUILD)/bin/blockwise $(BUILD)/examples/demo_pair
	/usr/bin/python3 bench/bench_cli_corr.py $(BUILD)/bin/blockwise $(BUILD)/examples/demo_pair
	/usr/bin/python3 bench/bench_python.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SANITIZE)

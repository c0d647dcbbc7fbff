# Convenience targets over CMake.  The build itself is plain CMake; see
# README.md.
#
#   make demo    build (Release) and run the main job on a generated pair
#   make demo-slide  the same on a generated pair of RGB whole-slide pyramids
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

.PHONY: all deps build test test-release test-sanitize demo demo-slide bench clean

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

# The same pair as whole slides: stained-looking RGB, JPEG tiles, a pyramid
# (written by vips, 0.25 um per pixel), compared at level 1.
demo-slide: build
	mkdir -p $(DEMO)
	./$(BUILD)/examples/demo_pair $(DEMO)/a.tif $(DEMO)/b.tif
	for x in a b; do \
	  vips scale $(DEMO)/$$x.tif $(DEMO)/$$x-8.v && \
	  vips invert $(DEMO)/$$x-8.v $(DEMO)/$$x-i.v && \
	  vips linear $(DEMO)/$$x-i.v $(DEMO)/$$x-c.v "0.55 0.9 0.4" "114.75 25.5 153" && \
	  vips cast $(DEMO)/$$x-c.v $(DEMO)/$$x-u.v uchar && \
	  vips copy $(DEMO)/$$x-u.v $(DEMO)/$$x-s.v --interpretation srgb && \
	  vips tiffsave $(DEMO)/$$x-s.v $(DEMO)/slide-$$x.tif --strip --tile --tile-width 256 \
	    --tile-height 256 --pyramid --compression jpeg --Q 90 --xres 4000 --yres 4000 && \
	  rm -f $(DEMO)/$$x-8.v $(DEMO)/$$x-i.v $(DEMO)/$$x-c.v $(DEMO)/$$x-u.v $(DEMO)/$$x-s.v || exit 1; \
	done
	./$(BUILD)/bin/blockwise info $(DEMO)/slide-a.tif
	./$(BUILD)/bin/blockwise corr $(DEMO)/slide-a.tif $(DEMO)/slide-b.tif --level 1 \
	  -o $(DEMO)/slide-r.tif --png $(DEMO)/slide-r.png

bench: build
	bash tools/install-deps.sh --bench
	./$(BUILD)/bench/bench_block_corr
	./$(BUILD)/bench/bench_itk_pipeline
	/usr/bin/python3 bench/bench_cli.py $(BUILD)/bin/blockwise $(BUILD)/examples/demo_pair
	/usr/bin/python3 bench/bench_cli_corr.py $(BUILD)/bin/blockwise $(BUILD)/examples/demo_pair
	/usr/bin/python3 bench/bench_python.py --build $(BUILD)
	/usr/bin/python3 bench/bench_slides.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_SANITIZE)

# The README's quick start: `make demo` and `make test`. Everything else is
# CMake (see CMakePresets.json); this file only strings the steps together.
PREFIX ?= /usr/local
BUILD := build

.PHONY: all deps build test unit fuzz demo install clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset default >/dev/null
	@cmake --build --preset default

# The arm64 tests (tests/unit/enforcer_arm64_test.cc, the arm64 layer test)
# use build-arm64/, the cross build of the layer's binaries: configured and
# brought up to date here when scripts/install-deps.sh could install the
# cross toolchain and the arm64 libraries; otherwise they skip and say why.
test: build
	@if command -v aarch64-linux-gnu-g++ >/dev/null && [ -f /usr/lib/aarch64-linux-gnu/libyaml.a ] && \
	    [ -f /usr/lib/aarch64-linux-gnu/libseccomp.a ]; then \
	  cmake --preset arm64 >/dev/null && cmake --build --preset arm64; \
	else \
	  echo "make test: arm64 tests will skip: no aarch64-linux-gnu-g++ or arm64 libyaml/libseccomp (see docs/LAMBDA.md, arm64)"; \
	fi
	@ctest --preset default
	@cmake --preset fuzz >/dev/null && cmake --build --preset fuzz && ctest --preset fuzz
	@cmake --preset sanitize >/dev/null && cmake --build --preset sanitize && ctest --preset sanitize
	@cmake --preset tsan >/dev/null && cmake --build --preset tsan && ctest --preset tsan
	@cmake --preset ubsan >/dev/null && cmake --build --preset ubsan && ctest --preset ubsan

demo: build
	@examples/demo/run.sh
	@examples/lambda/demo.sh

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf build build-debug build-fuzz build-arm64 build-sanitize build-tsan build-ubsan

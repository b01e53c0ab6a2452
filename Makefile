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
# use build-arm64/. When that tree was configured (cmake --preset arm64), it is
# brought up to date first so they never test a stale enforcer; it is not
# created here, because scripts/install-deps.sh does not install the cross
# toolchain (it needs the arm64 dpkg architecture; docs/LAMBDA.md says how).
test: build
	@if [ -f build-arm64/build.ninja ] && command -v aarch64-linux-gnu-g++ >/dev/null; then \
	  cmake --build --preset arm64; \
	else \
	  echo "make test: arm64 tests will skip: no configured build-arm64/ or no aarch64-linux-gnu-g++ (see docs/LAMBDA.md, arm64)"; \
	fi
	@ctest --preset default
	@cmake --preset fuzz >/dev/null && cmake --build --preset fuzz && ctest --preset fuzz

demo: build
	@examples/demo/run.sh
	@examples/lambda/demo.sh

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf build build-debug build-fuzz

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

test: build
	@ctest --preset default
	@cmake --preset fuzz >/dev/null && cmake --build --preset fuzz && ctest --preset fuzz

demo: build
	@examples/demo/run.sh
	@examples/lambda/demo.sh

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf build build-debug build-fuzz

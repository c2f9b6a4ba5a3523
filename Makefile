# keraslite — the two commands the README promises:
#   make demo   install what is needed on a fresh Debian machine, build, run on a bundled sample
#   make test   install what is needed (incl. a Python virtualenv for conformance tests), run every test
SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
VENV ?= .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libhdf5-dev zlib1g-dev pkg-config
# Test-only Debian packages: headless Chromium renders the `inspect --html` pages (Tests/conformance/test_html.py).
APT_TEST_PACKAGES := chromium
BIN := .build/release/keraslite
SAMPLE := Samples/seed_mobilenetv2_k3.h5

.PHONY: deps deps-test build demo venv test swift-test conformance benchmark benchmark-convert benchmark-tflite samples clean

# Debian packages keraslite links against (libhdf5, zlib); skipped when already installed.
deps:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

# Debian packages only the tests need; skipped when already installed.
deps-test:
	@if ! dpkg -s $(APT_TEST_PACKAGES) >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_TEST_PACKAGES); \
	fi

build: deps
	$(SWIFT) build -c release --product keraslite

demo: build
	$(BIN) inspect $(SAMPLE)
	$(BIN) sparsity $(SAMPLE)
	$(BIN) convert $(SAMPLE) -o /tmp/keraslite-demo.tflite

# Test-only Python packages (TensorFlow, Keras 2 and 3, LiteRT) in a private virtualenv.
$(VENV)/.installed: requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed

# Unit and end-to-end tests (Swift Testing); the CLI tests run the debug binary.
swift-test: deps
	$(SWIFT) build
	$(SWIFT) test

# keraslite against Keras 2 and 3 themselves (pytest, test-only virtualenv).
conformance: venv deps deps-test
	$(SWIFT) build
	KERASLITE_BIN=.build/debug/keraslite TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES=-1 $(VENV)/bin/python -m pytest -q Tests/conformance

test: swift-test conformance

# Speed/memory figures for docs/benchmarks.md (not part of the test run).
benchmark: venv build
	$(VENV)/bin/python scripts/benchmark.py

# keraslite convert vs TensorFlow's TFLiteConverter on the seed models (docs/benchmarks.md).
benchmark-convert: venv build
	$(VENV)/bin/python scripts/benchmark_convert.py

# keraslite inspect/diff on ResNet50-size .tflite files (after benchmark-convert; docs/benchmarks.md).
benchmark-tflite: venv build
	$(VENV)/bin/python scripts/benchmark_tflite.py

# Regenerates Samples/ with Keras 2 and 3 (commit the result).
samples: venv
	$(VENV)/bin/python scripts/make_samples.py

clean:
	rm -rf .build

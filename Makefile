# keraslite — the two commands the README promises:
#   make demo   install what is needed on a fresh Debian machine, build, run on a bundled sample
#   make test   install what is needed (incl. a Python virtualenv for conformance tests), run every test
SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
VENV ?= .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libhdf5-dev zlib1g-dev pkg-config libopenblas-dev
# Test-only Debian packages: headless Chromium renders the `inspect --html` pages (Tests/conformance/test_html.py).
APT_TEST_PACKAGES := chromium
BIN := .build/release/keraslite
SAMPLE := Samples/seed_mobilenetv2_k3.h5

.PHONY: deps deps-test build demo venv test swift-test conformance wheel wheel-test benchmark benchmark-convert benchmark-tflite samples clean fuzz fuzz-keras

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

# keraslite against Keras 2 and 3 themselves (pytest, test-only virtualenv). The Keras models the
# suite builds (layer zoo, seed and keras.applications models) are cached outside the checkout,
# keyed by their builder code and the installed Keras versions, so a fresh clone reuses them.
CONFORMANCE_CACHE ?= $(HOME)/.cache/keraslite-conformance
conformance: venv deps deps-test
	$(SWIFT) build
	KERASLITE_BIN=.build/debug/keraslite TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES=-1 $(VENV)/bin/python -m pytest -q \
		-o cache_dir=$(CONFORMANCE_CACHE) Tests/conformance

# `pip install keraslite`: a platform wheel with the release binary (static Swift standard library and
# Foundation, stripped) and the Python module in python/; auditwheel bundles libhdf5, OpenBLAS, zlib and
# what they load, and tags it manylinux. The wheel is cached outside the checkout, keyed by its inputs
# (scripts/build_wheel.sh), so an unchanged tree skips the static release build; WHEEL_CACHE= disables it.
WHEEL_TOOLS := .build/wheel-tools
WHEEL_CACHE ?= $(HOME)/.cache/keraslite-wheel
$(WHEEL_TOOLS)/.installed: requirements-wheel.txt
	$(PYTHON) -m venv $(WHEEL_TOOLS)
	$(WHEEL_TOOLS)/bin/pip install -q --disable-pip-version-check -r requirements-wheel.txt
	touch $@

wheel: deps $(WHEEL_TOOLS)/.installed
	WHEEL_CACHE=$(WHEEL_CACHE) WHEEL_TOOLS=$(WHEEL_TOOLS) SWIFT=$(SWIFT) scripts/build_wheel.sh

# The wheel in a fresh virtualenv, run with the Swift runtime and the Debian libraries hidden (a private
# mount namespace, `unshare -m`: needs root), its outputs compared byte for byte with the debug binary's.
wheel-test: wheel venv
	$(SWIFT) build --product keraslite
	KERASLITE_WHEEL="$$(ls dist/keraslite-*.whl)" KERASLITE_BIN=.build/debug/keraslite $(VENV)/bin/python -m pytest -q \
		-p no:cacheprovider Tests/wheel

test: swift-test conformance wheel-test

# Speed/memory figures for docs/benchmarks.md (not part of the test run).
benchmark: venv build
	$(VENV)/bin/python scripts/benchmark.py

# keraslite convert vs TensorFlow's TFLiteConverter on the seed models (docs/benchmarks.md).
benchmark-convert: venv build
	$(VENV)/bin/python scripts/benchmark_convert.py

# keraslite inspect/diff on ResNet50-size .tflite files (after benchmark-convert; docs/benchmarks.md).
benchmark-tflite: venv build
	$(VENV)/bin/python scripts/benchmark_tflite.py

# keraslite run (reference interpreter) vs Keras predict: seed ResNet50 on 100 images (docs/benchmarks.md).
.PHONY: benchmark-interpreter
benchmark-interpreter: venv build
	$(VENV)/bin/python scripts/benchmark_interpreter.py

# int8 calibration vs TensorFlow's converter and `run` vs LiteRT (2 threads) on the seed ResNet50
# head, 100 images, beside the machine's GEMM limit (docs/benchmarks.md; about 10 minutes).
.PHONY: benchmark-speed
benchmark-speed: venv build
	$(VENV)/bin/python scripts/benchmark_speed.py

# keraslite convert --quantize none|float16|dynamic|int8 vs TensorFlow's converter in the same mode: size,
# conversion time (int8 with calibration), LiteRT latency and accuracy; seed ResNet50/MobileNetV2 heads
# and the digits samples (docs/benchmarks.md; about 30 minutes on 2 cores, more when they are busy).
.PHONY: benchmark-quantize
benchmark-quantize: venv build
	$(VENV)/bin/python scripts/benchmark_quantization.py

# The seed paper's Table 1 on the face-mask images (FACEMASK_DIR, default /work/shared/datasets/face-mask):
# a MobileNetV2 and a small ResNet trained here from scratch, then float / int8 / magnitude 50% + fine-tune
# + int8 / channels 50% + fine-tune + int8 with keraslite, TFLiteConverter and tensorflow-model-optimization
# beside it, and the digits CNN (docs/benchmarks.md; about 25 minutes on 2 cores; QUICK=1 a smoke run).
$(VENV)/.bench-installed: $(VENV)/.installed requirements-bench.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-bench.txt
	touch $@

.PHONY: reproduce-seed
reproduce-seed: venv build $(VENV)/.bench-installed
	$(VENV)/bin/python scripts/reproduce_seed.py

# keraslite convert vs TensorFlow's converter on recurrent and text models: conversion time, size,
# LiteRT latency and error (docs/benchmarks.md).
.PHONY: benchmark-recurrent
benchmark-recurrent: venv build
	$(VENV)/bin/python scripts/benchmark_recurrent.py

# convert --prune S --sparse vs the dense twin: sizes (raw, gzip -9) and LiteRT latency with XNNPACK's
# sparse inference on a MobileNet-v1-style model (docs/benchmarks.md; about 15 minutes on 2 cores).
.PHONY: benchmark-sparse
benchmark-sparse: venv build
	$(VENV)/bin/python scripts/benchmark_sparse.py

# Regenerates Samples/ with Keras 2 and 3 (commit the result).
samples: venv
	$(VENV)/bin/python scripts/make_samples.py

# libFuzzer + AddressSanitizer on the .tflite reader and the inspect/sparsity/--html reports
# (Tests/Fuzz, a separate package). Seeds: the test fixtures, the regression corpus and samples
# converted here; new inputs go to .fuzz/corpus, crashes to .fuzz/crashes/ (add them, minimised,
# to Tests/TFLiteTests/Corpus). Leak detection is off: the Swift runtime's caches look like leaks.
FUZZ_SECONDS ?= 300
# Inputs up to 8 KB run at about 1000 a second (the CNN seed is cut short); override to taste.
FUZZ_FLAGS ?= -max_len=8192 -use_value_profile=1
FUZZ_BIN := Tests/Fuzz/.build/release/TFLiteFuzz
FUZZ_SAMPLES := digits_mlp_k2 digits_cnn_k3 multi_io_k3
fuzz: deps
	$(SWIFT) build --product keraslite
	cd Tests/Fuzz && $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer,address --product TFLiteFuzz
	mkdir -p .fuzz/seeds .fuzz/corpus .fuzz/crashes
	cp Tests/TFLiteTests/Fixtures/*.tflite Tests/TFLiteTests/Corpus/* .fuzz/seeds/
	for sample in $(FUZZ_SAMPLES); do \
		[ -s .fuzz/seeds/$$sample.tflite ] || .build/debug/keraslite convert Samples/$$sample.h5 -o .fuzz/seeds/$$sample.tflite --quiet || exit 1; \
	done
	SWIFT_BACKTRACE=enable=no $(FUZZ_BIN) .fuzz/corpus .fuzz/seeds -dict=Tests/Fuzz/tflite.dict \
		-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -detect_leaks=0 \
		-artifact_prefix=.fuzz/crashes/ -print_final_stats=1 $(FUZZ_FLAGS)

# libFuzzer + AddressSanitizer on the Keras path: HDF5 wrapper and attribute/dataset reads, JSON,
# config dialects, ModelBuilder, weight matching, .keras zip reading, and the inspect/sparsity
# reports over them (Tests/Fuzz, KerasFuzz). Each input is written to a scratch file in /dev/shm
# (libhdf5 opens files by path). Seeds: every Sample (*.h5, *.keras, bad/, realworld/) and the
# regression corpus Tests/KerasTests/Corpus; new inputs go to .fuzz-keras/corpus, crashes to
# .fuzz-keras/crashes/ (add them, minimised, to Tests/KerasTests/Corpus). libhdf5 is not
# instrumented: ASan sees its memcpy/malloc misuse through the interceptors, not every stray read.
# allocator_may_return_null: an impossible size libhdf5 asks for (a damaged metadata length) gets
# NULL, as from glibc, and libhdf5 reports "memory allocation failed" instead of ASan aborting.
FUZZ_KERAS_FLAGS ?= -max_len=65536 -use_value_profile=1
FUZZ_KERAS_BIN := Tests/Fuzz/.build/release/KerasFuzz
fuzz-keras: deps
	cd Tests/Fuzz && $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer,address --product KerasFuzz
	mkdir -p .fuzz-keras/seeds .fuzz-keras/corpus .fuzz-keras/crashes
	cp Samples/*.h5 Samples/*.keras Samples/bad/* Samples/realworld/*.h5 Samples/realworld/*.keras Tests/KerasTests/Corpus/* .fuzz-keras/seeds/
	SWIFT_BACKTRACE=enable=no HDF5_PLUGIN_PATH=/nonexistent ASAN_OPTIONS=allocator_may_return_null=1 $(FUZZ_KERAS_BIN) .fuzz-keras/corpus .fuzz-keras/seeds -dict=Tests/Fuzz/keras.dict \
		-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -detect_leaks=0 \
		-artifact_prefix=.fuzz-keras/crashes/ -print_final_stats=1 $(FUZZ_KERAS_FLAGS)

clean:
	rm -rf .build

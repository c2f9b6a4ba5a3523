"""Benchmark: keraslite `inspect` / `sparsity` on the seed's ResNet50 model versus Keras loading it.

Run from the repository root:  make benchmark   (or  .venv/bin/python scripts/benchmark.py)

It builds the seed model (keras.applications.ResNet50, weights=None, 224×224×3, with the
Flatten → Dense(128, relu) → Dropout(0.5) → Dense(1, sigmoid) head) once into build-bench/
(not committed), then times, with the same machine in the same run:
  * keraslite inspect --metadata-only   (config and dataset headers only)
  * keraslite inspect                   (also reads every weight to count zeros)
  * keraslite sparsity                  (reads every weight once, histogram, two zlib passes)
  * keras.models.load_model(...) + model.count_params() in a fresh Python process, i.e. what
    a user needs today to get the same numbers with TensorFlow installed.
Each command runs REPEATS times; the table reports the median wall time and the peak RSS
(max over runs, from wait4's ru_maxrss), and the ratio to Keras. Paste the table into docs/benchmarks.md.
"""
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "build-bench"
BINARY = os.environ.get("KERASLITE_BIN", str(ROOT / ".build" / "release" / "keraslite"))
PYTHON = sys.executable
REPEATS = int(os.environ.get("REPEATS", "5"))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")

MAKE_MODEL = """
import keras
base = keras.applications.ResNet50(input_shape=(224, 224, 3), include_top=False, weights=None)
x = keras.layers.Flatten()(base.output)
x = keras.layers.Dense(128, activation="relu")(x)
x = keras.layers.Dropout(0.5)(x)
x = keras.layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(base.input, x)
model.save(r"{path}")
print(model.count_params())
"""

KERAS_LOAD = """
import keras
model = keras.models.load_model(r"{path}", compile=False)
print(model.count_params())
"""


def run(command):
    """Runs command once; returns (seconds, peak RSS in MB, stdout)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    output = process.stdout.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed")
    return elapsed, usage.ru_maxrss / 1024, output


def measure(name, command):
    times, peaks = [], []
    for _ in range(REPEATS):
        seconds, peak, _ = run(command)
        times.append(seconds)
        peaks.append(peak)
    return name, statistics.median(times), max(peaks)


def main():
    BUILD.mkdir(exist_ok=True)
    model = BUILD / "seed_resnet50.h5"
    if not model.exists():
        subprocess.run([PYTHON, "-c", MAKE_MODEL.format(path=model)], check=True, env=ENV, stdout=subprocess.DEVNULL)
    size_mb = model.stat().st_size / 2**20
    rows = [
        measure("keraslite inspect --metadata-only", [BINARY, "inspect", str(model), "--metadata-only"]),
        measure("keraslite inspect", [BINARY, "inspect", str(model)]),
        measure("keraslite sparsity", [BINARY, "sparsity", str(model)]),
        measure("Keras 3 load_model + count_params", [PYTHON, "-c", KERAS_LOAD.format(path=model)]),
    ]
    keras_time = rows[-1][1]
    print(f"model: {model.name}, {size_mb:.1f} MB, {REPEATS} runs each, machine: {os.cpu_count()} cores")
    print()
    print("| command | median wall time | peak RSS | time vs Keras |")
    print("|---|---:|---:|---:|")
    for name, seconds, peak in rows:
        ratio = keras_time / seconds
        relation = "baseline" if not name.startswith("keraslite") else (
            f"{ratio:.1f}× faster" if ratio >= 1 else f"{1 / ratio:.1f}× slower")
        print(f"| {name} | {seconds:.3f} s | {peak:.0f} MB | {relation} |")


if __name__ == "__main__":
    main()

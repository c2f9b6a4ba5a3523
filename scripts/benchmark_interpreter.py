"""Benchmark: `keraslite run` (the reference interpreter) versus Keras' own predict, on the seed's
ResNet50 head and 100 random 224×224×3 images — the workload of int8 calibration.

Run from the repository root:  make benchmark-interpreter   (or  .venv/bin/python scripts/benchmark_interpreter.py)
Environment: REPEATS (runs per tool, default 3), SAMPLES (default 100), BATCH (keraslite --batch-size,
default: keraslite's own), KERASLITE_BIN (default .build/release/keraslite; build it first with
`swift build -c release --product keraslite`).

The model is build-bench/seed_resnet50_bnrand.h5 (keras.applications.ResNet50, weights=None,
include_top=False, + Flatten → Dense(128, relu) → Dropout → Dense(1, sigmoid), random
BatchNormalization statistics; built by scripts/benchmark_convert.py's recipe when missing). On the
same machine in the same run, each REPEATS times as a fresh process:
  * keraslite: `keraslite run model.h5 --input x.npy -o y.npy` (load, passes, interpreter, write);
  * Keras 3: a Python process doing load_model + model.predict(x, batch_size=32) + np.save;
    its predict() time alone is reported too (TensorFlow's own kernels, all cores).
The table gives the median wall time, the time per sample, the peak RSS (wait4's ru_maxrss, max over
runs) and max |keraslite − Keras| over the 100 outputs. Paste it into docs/benchmarks.md.
"""
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmark_convert import BINARY, BUILD, ENV, PYTHON, ensure_model  # noqa: E402

REPEATS = int(os.environ.get("REPEATS", "3"))
SAMPLES = int(os.environ.get("SAMPLES", "100"))
BATCH = os.environ.get("BATCH")
MB = 2**20

KERAS_PREDICT = """
import json, time
import numpy as np, keras
start = time.perf_counter()
model = keras.models.load_model(r"{h5}", compile=False)
x = np.load(r"{x}")
loaded = time.perf_counter()
y = model.predict(x, batch_size=32, verbose=0)
predicted = time.perf_counter()
np.save(r"{y}", np.asarray(y, dtype=np.float32))
print("RESULT " + json.dumps({{"load_s": loaded - start, "predict_s": predicted - loaded}}))
"""


def run(command):
    """Runs command once; returns (seconds, peak RSS in MB, stdout)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=errors)
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # the peak RSS of this child alone
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"{command[:3]} failed ({os.waitstatus_to_exitcode(status)}):\n"
                             f"{errors.read().decode(errors='replace')[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024, out.decode(errors="replace")


def main():
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"{BINARY} not found; run `swift build -c release --product keraslite` first")
    model = ensure_model("ResNet50")
    x_path, ours_path, keras_path = BUILD / "interpreter_x.npy", BUILD / "interpreter_ours.npy", BUILD / "interpreter_keras.npy"
    x = np.random.default_rng(5).uniform(0.0, 255.0, (SAMPLES, 224, 224, 3)).astype(np.float32)
    np.save(x_path, x)
    load_before = os.getloadavg()[0]

    command = [BINARY, "run", str(model), "--input", str(x_path), "-o", str(ours_path)]
    if BATCH:
        command += ["--batch-size", BATCH]
    ours_times, ours_peak, summary = [], 0.0, ""
    for i in range(REPEATS):
        print(f"keraslite run ({i + 1}/{REPEATS}) ...", file=sys.stderr, flush=True)
        seconds, peak, summary = run(command)
        ours_times.append(seconds)
        ours_peak = max(ours_peak, peak)

    keras_times, keras_predict, keras_peak = [], [], 0.0
    for i in range(REPEATS):
        print(f"Keras predict ({i + 1}/{REPEATS}) ...", file=sys.stderr, flush=True)
        seconds, peak, out = run([PYTHON, "-c", KERAS_PREDICT.format(h5=model, x=x_path, y=keras_path)])
        keras_times.append(seconds)
        keras_predict.append(json.loads(out.split("RESULT ", 1)[1].splitlines()[0])["predict_s"])
        keras_peak = max(keras_peak, peak)

    ours, theirs = np.load(ours_path), np.load(keras_path)
    difference = float(np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))))
    ours_s, keras_s, predict_s = statistics.median(ours_times), statistics.median(keras_times), statistics.median(keras_predict)
    versions = subprocess.run([PYTHON, "-c", "import keras, tensorflow as tf; print(keras.__version__, tf.__version__)"],
                              capture_output=True, text=True, env=ENV).stdout.split()
    print(f"model: {model.name} ({model.stat().st_size / MB:.0f} MB), {SAMPLES} random 224×224×3 inputs, "
          f"{REPEATS} runs each (median); machine: {os.cpu_count()} cores, {platform.machine()}, "
          f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f}; Keras {versions[0] if versions else '?'}, "
          f"TensorFlow {versions[1] if len(versions) > 1 else '?'}")
    print(f"keraslite: {summary.strip()}")
    print()
    print("| | wall time (whole process) | per sample | peak RSS |")
    print("|---|---:|---:|---:|")
    print(f"| keraslite run (reference interpreter) | {ours_s:.1f} s | {1000 * ours_s / SAMPLES:.0f} ms | {ours_peak:.0f} MB |")
    print(f"| Keras 3 load + predict | {keras_s:.1f} s | {1000 * keras_s / SAMPLES:.0f} ms | {keras_peak:.0f} MB |")
    print(f"| Keras 3 predict() alone | {predict_s:.1f} s | {1000 * predict_s / SAMPLES:.0f} ms | |")
    print()
    print(f"max |keraslite − Keras| over the {SAMPLES} outputs: {difference:.3g}; keraslite runs: "
          + ", ".join(f"{t:.1f} s" for t in ours_times) + "; Keras runs: " + ", ".join(f"{t:.1f} s" for t in keras_times))


if __name__ == "__main__":
    main()

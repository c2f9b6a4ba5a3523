"""Benchmark: `keraslite convert` versus TensorFlow's TFLiteConverter on the seed's three models.

Run from the repository root:  make benchmark-convert   (or  .venv/bin/python scripts/benchmark_convert.py)
Environment: REPEATS (conversions per tool and model, default 3), KERASLITE_BIN (default
.build/release/keraslite; build it first with `swift build -c release --product keraslite`).

The seed models are keras.applications VGG19, ResNet50 and MobileNetV2 (weights=None, 224×224×3,
include_top=False) with the Flatten → Dense(128, relu) → Dropout(0.5) → Dense(1, sigmoid) head,
built with Keras 3 and saved as legacy `.h5` into build-bench/ (not committed; reused when present).
Before saving, every BatchNormalization layer gets random gamma/beta/moving mean/moving variance, so
that folding it is actually exercised and the outputs are not trivial.

For each model, on the same machine in the same run:
  * the physical limit: `cp model.h5 copy.h5` with the page cache warm (the file read once first),
    REPEATS times, median; and the issue's memory bound, 64 MB + the largest weight tensor as float32;
  * keraslite: `keraslite convert model.h5 -o ours.tflite --quiet` as a whole process;
  * TensorFlow: a fresh Python process doing `keras.models.load_model(h5, compile=False)`,
    `tf.lite.TFLiteConverter.from_keras_model(model).convert()` and writing tf.tflite;
  both REPEATS times: median wall time, peak RSS (max over the runs, wait4's ru_maxrss);
  * sizes of the .h5 and of both .tflite files;
  * LiteRT latency of both files: ai_edge_litert Interpreter(num_threads=1) with its default
    delegate (XNNPACK), one warm-up invoke, then the median of 20 invokes (10 for VGG19) on one
    random input;
  * max |LiteRT − Keras| for both files on that input (Keras 3 predict on the loaded .h5), as a
    sanity check that the timings compare working conversions.
It prints a markdown table for docs/benchmarks.md.
"""
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "build-bench"
BINARY = os.environ.get("KERASLITE_BIN", str(ROOT / ".build" / "release" / "keraslite"))
PYTHON = sys.executable
REPEATS = int(os.environ.get("REPEATS", "3"))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
MB = 2**20

# name, keras.applications constructor, LiteRT invokes (VGG19 is ~20 GFLOP per image: fewer).
MODELS = [
    ("VGG19", "VGG19", 10),
    ("ResNet50", "ResNet50", 20),
    ("MobileNetV2", "MobileNetV2", 20),
]

MAKE_MODEL = """
import numpy as np, keras
keras.utils.set_random_seed(0)
base = keras.applications.{app}(input_shape=(224, 224, 3), include_top=False, weights=None)
x = keras.layers.Flatten()(base.output)
x = keras.layers.Dense(128, activation="relu")(x)
x = keras.layers.Dropout(0.5)(x)
x = keras.layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(base.input, x)
rng = np.random.default_rng(0)
for layer in model.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
        values = []
        for weight in layer.weights:
            n, shape = weight.path.split("/")[-1], weight.shape
            if n == "gamma":
                values.append(rng.uniform(0.5, 1.5, shape))
            elif n == "beta":
                values.append(rng.normal(0.0, 0.1, shape))
            elif n == "moving_mean":
                values.append(rng.normal(0.0, 0.1, shape))
            elif n == "moving_variance":
                values.append(rng.uniform(0.5, 1.5, shape))
            else:
                raise SystemExit("unexpected BatchNormalization weight " + weight.path)
        layer.set_weights([v.astype(np.float32) for v in values])
model.save(r"{path}")
"""

TF_CONVERT = """
import keras, tensorflow as tf
model = keras.models.load_model(r"{h5}", compile=False)
data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
with open(r"{out}", "wb") as f:
    f.write(data)
"""

EVALUATE = """
import json, statistics, time
import numpy as np, keras
from ai_edge_litert.interpreter import Interpreter
x = np.random.default_rng(1).random((1, 224, 224, 3), dtype=np.float32)
model = keras.models.load_model(r"{h5}", compile=False)
reference = np.asarray(model.predict(x, verbose=0), dtype=np.float32)
result = {{"keras_output": float(reference.ravel()[0])}}
for tag, path in (("ours", r"{ours}"), ("tf", r"{tf}")):
    interpreter = Interpreter(model_path=path, num_threads=1)
    inp = interpreter.get_input_details()[0]
    if tuple(inp["shape"]) != x.shape:
        interpreter.resize_tensor_input(inp["index"], list(x.shape), strict=False)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()  # warm-up
    out = np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
    times = []
    for _ in range({invokes}):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    result[tag + "_ms"] = statistics.median(times) * 1000
    result[tag + "_diff"] = float(np.max(np.abs(out.reshape(reference.shape) - reference)))
    result[tag + "_output"] = float(out.ravel()[0])
print("RESULT " + json.dumps(result))
"""


def run(command, capture=False):
    """Runs command once; returns (seconds, peak RSS in MB, stdout or '')."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=ENV, stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
                               stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    if capture:
        out, err = process.communicate()  # reaps the child; wait4 below would miss it
        usage = None
        status = process.returncode
    else:
        _, status, usage = os.wait4(process.pid, 0)
        status = os.waitstatus_to_exitcode(status)
        out = err = b""
    elapsed = time.perf_counter() - start
    if status != 0:
        tail = err.decode(errors="replace")[-2000:] if err else ""
        raise RuntimeError(f"{command[:3]} failed with exit code {status}\n{tail}")
    return elapsed, (usage.ru_maxrss / 1024 if usage else 0.0), out.decode(errors="replace")


def measure(command):
    """REPEATS fresh runs: (median seconds, max peak RSS MB, all times)."""
    times, peaks = [], []
    for _ in range(REPEATS):
        seconds, peak, _ = run(command)
        times.append(seconds)
        peaks.append(peak)
    return statistics.median(times), max(peaks), times


def ensure_model(app):
    path = BUILD / f"seed_{app.lower()}_bnrand.h5"
    if not path.exists():
        print(f"building {path.name} ...", file=sys.stderr, flush=True)
        tmp = path.with_suffix(".tmp.h5")
        run([PYTHON, "-c", MAKE_MODEL.format(app=app, path=tmp)], capture=True)
        tmp.rename(path)
    return path


def largest_tensor_mb(h5):
    """The largest weight dataset of the file, as float32 MB (what one re-laid-out tensor costs)."""
    import h5py
    largest = 0
    with h5py.File(h5, "r") as f:
        def visit(_, item):
            nonlocal largest
            if isinstance(item, h5py.Dataset):
                largest = max(largest, item.size * 4)
        f.visititems(visit)
    return largest / MB


def versions():
    code = ("import tensorflow as tf, keras, ai_edge_litert, numpy; from importlib.metadata import version; "
            "print(tf.__version__, keras.__version__, version('ai-edge-litert'), numpy.__version__)")
    tf_v, keras_v, litert_v, np_v = run([PYTHON, "-c", code], capture=True)[2].split()[-4:]
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    return (f"TensorFlow {tf_v}, Keras {keras_v}, ai-edge-litert {litert_v}, numpy {np_v}, "
            f"Python {platform.python_version()}, {swift[0].strip() if swift else 'swift ?'}")


def main():
    BUILD.mkdir(exist_ok=True)
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"{BINARY} not found; run `swift build -c release --product keraslite` first")
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    rows, problems = [], []
    for name, app, invokes in MODELS:
        h5 = ensure_model(app)
        workdir = BUILD / f"convert_{app.lower()}"
        workdir.mkdir(exist_ok=True)
        ours, theirs = workdir / "ours.tflite", workdir / "tf.tflite"
        for stale in (ours, theirs):
            stale.unlink(missing_ok=True)
        row = {"name": name, "h5_mb": h5.stat().st_size / MB, "largest_mb": largest_tensor_mb(h5)}
        # The physical limit: copying the file with the page cache warm (read once first).
        run(["cat", str(h5)])
        row["cp_s"], _, _ = measure(["cp", str(h5), str(workdir / "copy.h5")])
        print(f"{name}: keraslite convert x{REPEATS} ...", file=sys.stderr, flush=True)
        try:
            row["ours_s"], row["ours_rss"], row["ours_times"] = measure([BINARY, "convert", str(h5), "-o", str(ours), "--quiet"])
        except RuntimeError as error:
            problems.append(f"{name}: keraslite convert failed: {error}")
        print(f"{name}: TensorFlow convert x{REPEATS} ...", file=sys.stderr, flush=True)
        try:
            row["tf_s"], row["tf_rss"], row["tf_times"] = measure([PYTHON, "-c", TF_CONVERT.format(h5=h5, out=theirs)])
        except RuntimeError as error:
            problems.append(f"{name}: TensorFlow convert failed: {error}")
        if ours.exists() and theirs.exists():
            print(f"{name}: LiteRT latency and Keras check ...", file=sys.stderr, flush=True)
            row["ours_bytes"], row["tf_bytes"] = ours.stat().st_size, theirs.stat().st_size
            row["ours_mb"], row["tf_mb"] = row["ours_bytes"] / MB, row["tf_bytes"] / MB
            try:
                out = run([PYTHON, "-c", EVALUATE.format(h5=h5, ours=ours, tf=theirs, invokes=invokes)], capture=True)[2]
                row.update(json.loads(out.split("RESULT ", 1)[1].splitlines()[0]))
                row["invokes"] = invokes
            except (RuntimeError, IndexError, ValueError) as error:
                problems.append(f"{name}: LiteRT/Keras evaluation failed: {error}")
        rows.append(row)

    def cell(row, key, fmt):
        return fmt.format(row[key]) if key in row else "n/a"

    print(f"{REPEATS} conversions per tool and model; machine: {platform.machine()}, {os.cpu_count()} cores; "
          f"total run {time.perf_counter() - started:.0f} s; "
          f"1-min load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print(versions())
    print()
    print("| model | .h5 MB | cp time | keraslite time | × cp | TF time | speed-up | keraslite peak RSS | 64 MB + largest tensor "
          "| TF peak RSS | RSS / .h5 size "
          "| ours MB | TF MB | LiteRT ms ours | LiteRT ms TF | max \\|ours−Keras\\| | max \\|TF−Keras\\| |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        speedup = f"{r['tf_s'] / r['ours_s']:.1f}×" if "tf_s" in r and "ours_s" in r else "n/a"
        ratio = f"{r['ours_rss'] / r['h5_mb']:.2f}×" if "ours_rss" in r else "n/a"
        versus_cp = f"{r['ours_s'] / r['cp_s']:.1f}×" if "ours_s" in r and r.get("cp_s") else "n/a"
        print(f"| {r['name']} | {r['h5_mb']:.1f} | {r['cp_s']:.2f} s | {cell(r, 'ours_s', '{:.2f} s')} | {versus_cp} "
              f"| {cell(r, 'tf_s', '{:.1f} s')} "
              f"| {speedup} | {cell(r, 'ours_rss', '{:.0f} MB')} | {64 + r['largest_mb']:.0f} MB | {cell(r, 'tf_rss', '{:.0f} MB')} | {ratio} "
              f"| {cell(r, 'ours_mb', '{:.1f}')} | {cell(r, 'tf_mb', '{:.1f}')} "
              f"| {cell(r, 'ours_ms', '{:.1f}')} | {cell(r, 'tf_ms', '{:.1f}')} "
              f"| {cell(r, 'ours_diff', '{:.1e}')} | {cell(r, 'tf_diff', '{:.1e}')} |")
    print()
    for r in rows:
        details = [f"keraslite runs {', '.join(f'{t:.2f}' for t in r.get('ours_times', []))} s",
                   f"TF runs {', '.join(f'{t:.1f}' for t in r.get('tf_times', []))} s"]
        if "keras_output" in r:
            details.append(f"Keras output {r['keras_output']:.6f}, LiteRT ours {r['ours_output']:.6f}, "
                           f"TF {r['tf_output']:.6f}; latency median of {r['invokes']} invokes")
        if "ours_mb" in r:
            details.append(f"sizes ours {r['ours_bytes']:,} B, TF {r['tf_bytes']:,} B "
                           f"(ours − TF = {r['ours_bytes'] - r['tf_bytes']:+,} B)")
        print(f"- {r['name']}: " + "; ".join(details))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()

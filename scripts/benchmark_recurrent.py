"""Benchmark: `keraslite convert` versus TensorFlow's TFLiteConverter on recurrent and text models.

Run from the repository root:  make benchmark-recurrent   (or .venv/bin/python scripts/benchmark_recurrent.py)
Environment: REPEATS (conversions per tool and model, default 5), INVOKES (LiteRT invokes, default
200), KERASLITE_BIN (default .build/release/keraslite).

Models (random weights, seeded), each built by Keras 3 and by Keras 2 (tf_keras) and saved as .h5
into build-bench/recurrent/ (not committed):
  * stock-lstm: the 60-step stock-price stack — LSTM(50, return_sequences) → Dropout → LSTM(50) →
    Dropout → Dense(1) on (60, 1);
  * text-bilstm: Embedding(5000, 64) on 100 ids → Bidirectional(LSTM(32, return_sequences)) →
    GlobalMaxPooling1D → Dense(3, softmax);
  * gru-classifier: GRU(32) on (40, 8) → Dense(4, softmax).
For each, on the same machine in the same run: keraslite as a whole process, and TensorFlow as a
fresh Python process that loads the .h5 with the Keras that wrote it and runs
TFLiteConverter.from_keras_model(model).convert() with builtins only (what users run; its failure
is recorded, not worked around); median wall time of REPEATS; sizes; LiteRT latency
(Interpreter(num_threads=1), one warm-up, median of INVOKES on one input); max |LiteRT − Keras|
relative to max(1, |Keras|). When from_keras_model fails (it does on these models: "Lowering tensor
list ops is failed"), TensorFlow is timed on the usual workaround instead — a fixed-batch concrete
function — and the table says so. Prints a markdown table for docs/benchmarks.md.
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "build-bench" / "recurrent"
BINARY = os.environ.get("KERASLITE_BIN", str(ROOT / ".build" / "release" / "keraslite"))
PYTHON = sys.executable
REPEATS = int(os.environ.get("REPEATS", "5"))
INVOKES = int(os.environ.get("INVOKES", "200"))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")

MODELS = {
    "stock-lstm": """
model = K.Sequential([K.Input(shape=(60, 1)), K.layers.LSTM(50, return_sequences=True), K.layers.Dropout(0.2),
                      K.layers.LSTM(50), K.layers.Dropout(0.2), K.layers.Dense(1)])
x = rng.standard_normal((1, 60, 1)).astype("float32")
""",
    "text-bilstm": """
model = K.Sequential([K.Input(shape=(100,), dtype="int32"), K.layers.Embedding(5000, 64),
                      K.layers.Bidirectional(K.layers.LSTM(32, return_sequences=True)),
                      K.layers.GlobalMaxPooling1D(), K.layers.Dense(3, activation="softmax")])
x = rng.integers(0, 5000, (1, 100)).astype("int32")
""",
    "gru-classifier": """
model = K.Sequential([K.Input(shape=(40, 8)), K.layers.GRU(32), K.layers.Dense(4, activation="softmax")])
x = rng.standard_normal((1, 40, 8)).astype("float32")
""",
}

MAKE = """
import numpy as np, sys
K = __import__(sys.argv[1])
K.utils.set_random_seed(0)
rng = np.random.default_rng(0)
{body}
model.save(sys.argv[2])
np.save(sys.argv[3], x)
np.save(sys.argv[4], np.asarray(model(x, training=False), dtype="float32"))
"""

# TensorFlow as users run it (from_keras_model, builtins only); when that fails, the workaround of
# a fixed-batch concrete function (`fallback` argument), so LiteRT latency and size can be compared.
TF_CONVERT = """
import sys, tensorflow as tf
K = __import__(sys.argv[1])
model = K.models.load_model(sys.argv[2], compile=False)
if sys.argv[4] == "fallback":
    spec = tf.TensorSpec([1, *model.inputs[0].shape[1:]], model.inputs[0].dtype)
    concrete = tf.function(lambda x: model(x)).get_concrete_function(spec)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
else:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
open(sys.argv[3], "wb").write(converter.convert())
"""

LITERT = """
import sys, time, json, numpy as np
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1], num_threads=1)
interpreter.allocate_tensors()
x, y = np.load(sys.argv[2]), np.load(sys.argv[3])
detail = interpreter.get_input_details()[0]
interpreter.set_tensor(detail["index"], x.astype(detail["dtype"]))
interpreter.invoke()
times = []
for _ in range(int(sys.argv[4])):
    start = time.perf_counter(); interpreter.invoke(); times.append(time.perf_counter() - start)
# UNIDIRECTIONAL_SEQUENCE_LSTM keeps its states between invokes: compare a run from zero states.
interpreter.reset_all_variables()
interpreter.set_tensor(detail["index"], x.astype(detail["dtype"]))
interpreter.invoke()
out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
error = float(np.max(np.abs(out - y)) / max(1.0, float(np.max(np.abs(y)))))
print(json.dumps({"ms": 1000 * sorted(times)[len(times) // 2], "error": error}))
"""


def timed(command):
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=ENV)
    return time.perf_counter() - start, result


def main():
    BUILD.mkdir(parents=True, exist_ok=True)
    rows = []
    for keras_module, label in (("keras", "Keras 3"), ("tf_keras", "Keras 2")):
        for name, body in MODELS.items():
            stem = BUILD / f"{name}-{keras_module}"
            h5, x, y = stem.with_suffix(".h5"), stem.with_suffix(".x.npy"), stem.with_suffix(".y.npy")
            if not h5.exists():
                subprocess.run([PYTHON, "-c", MAKE.format(body=body), keras_module, h5, x, y], check=True, env=ENV)
            ours, theirs = stem.with_suffix(".keraslite.tflite"), stem.with_suffix(".tf.tflite")
            our_times, tf_times, tf_failure, route = [], [], None, "keras"
            for _ in range(REPEATS):
                seconds, result = timed([BINARY, "convert", h5, "-o", ours, "--quiet"])
                if result.returncode != 0:
                    raise SystemExit(f"keraslite failed on {h5}: {result.stderr}")
                our_times.append(seconds)
                seconds, result = timed([PYTHON, "-c", TF_CONVERT, keras_module, h5, theirs, route])
                if result.returncode != 0 and route == "keras":
                    tf_failure = next((line for line in result.stderr.splitlines() if "error" in line.lower()), "failed")[:120]
                    route = "fallback"
                    seconds, result = timed([PYTHON, "-c", TF_CONVERT, keras_module, h5, theirs, route])
                if result.returncode != 0:
                    tf_failure = (tf_failure or "") + " ; concrete function also failed"
                    break
                tf_times.append(seconds)
            row = {"model": name, "keras": label, "h5": h5.stat().st_size,
                   "ours_s": statistics.median(our_times), "ours_bytes": ours.stat().st_size}
            row.update({f"ours_{k}": v for k, v in json.loads(subprocess.run(
                [PYTHON, "-c", LITERT, ours, x, y, str(INVOKES)], capture_output=True, text=True, env=ENV, check=True).stdout).items()})
            if tf_failure:
                row["tf"] = tf_failure
            if tf_times:
                row["tf_s"] = statistics.median(tf_times)
                row["tf_bytes"] = theirs.stat().st_size
                litert = subprocess.run([PYTHON, "-c", LITERT, theirs, x, y, str(INVOKES)], capture_output=True, text=True, env=ENV)
                if litert.returncode == 0:
                    row.update({f"tf_{k}": v for k, v in json.loads(litert.stdout).items()})
                else:
                    row["tf_litert"] = (litert.stderr.strip().splitlines() or ["failed"])[-1][:160]
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| model | Keras | keraslite convert | TF convert | × faster | keraslite .tflite | TF .tflite | LiteRT keraslite | LiteRT TF | rel. error keraslite / TF |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        tf_s = f"{r['tf_s']:.2f} s" if "tf_s" in r else "failed"
        if "tf" in r and "tf_s" in r:
            tf_s += " (from_keras_model fails; fixed-batch concrete function)"
        faster = f"{r['tf_s'] / r['ours_s']:.0f}×" if "tf_s" in r else "—"
        tf_bytes = f"{r['tf_bytes'] / 1024:.1f} KB" if "tf_bytes" in r else "—"
        tf_ms = f"{r['tf_ms']:.3f} ms" if "tf_ms" in r else r.get("tf_litert", "—")
        tf_err = f"{r['tf_error']:.1e}" if "tf_error" in r else "—"
        print(f"| {r['model']} | {r['keras']} | {r['ours_s']:.3f} s | {tf_s} | {faster} | {r['ours_bytes'] / 1024:.1f} KB | {tf_bytes} "
              f"| {r['ours_ms']:.3f} ms | {tf_ms} | {r['ours_error']:.1e} / {tf_err} |")


if __name__ == "__main__":
    main()

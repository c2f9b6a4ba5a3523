"""Benchmark: calibration and `run` at GEMM speed (issue 15) — the seed's ResNet50 head, 100 images.

Run from the repository root:  make benchmark-speed   (or  .venv/bin/python scripts/benchmark_speed.py)
Environment: REPEATS (runs per tool, default 3; TensorFlow's int8 conversions: TF_REPEATS, default 2),
KERASLITE_BIN (default .build/release/keraslite; build it first with
`swift build -c release --product keraslite`). About 10 minutes on 2 cores.

The model is build-bench/seed_resnet50_bnrand.h5 (scripts/benchmark_convert.py builds it when
missing: keras.applications.ResNet50, weights=None, + Flatten → Dense(128, relu) → Dropout →
Dense(1, sigmoid), random BatchNormalization statistics). The samples are 100 random 224×224×3
images with pixel values uniform in [0, 255) (numpy seed 0). On the same machine in the same run,
every command a fresh process, tools alternating:

  * the physical limit: the model's multiply-accumulates per image (every Conv2D and Dense, from
    the Keras model) × 100, divided by this machine's fp32 GEMM rate on both cores (numpy's
    OpenBLAS, a 4096² product, best of 8) — no forward pass by direct convolution can be faster
    than that; and the same with the multiplications keraslite actually does, its 3×3 stride-1
    layers by Winograd F(4×4, 3×3) (36 products per 4×4 tile instead of 144);
  * int8 with calibration, end to end: `keraslite convert model.h5 -o f.tflite --quantize int8
    --calibration cal.npy` against a Python process importing TensorFlow, loading the model and
    converting with optimizations DEFAULT, representative_dataset over the same 100 samples (one at a
    time, as TensorFlow takes them) and TFLITE_BUILTINS_INT8 (float I/O), then writing the file;
  * 100 images through a float .tflite with a dynamic batch (`keraslite convert --batch 0`):
    `keraslite run f.tflite --input x.npy -o y.npy` (load, interpreter in batches of 8 on both
    cores, write) against a Python process that loads the same file in ai-edge-litert with
    num_threads=2 (XNNPACK) and runs the 100 images one per invoke, and again resized to batches of
    8 (the faster of the two is LiteRT's figure); Python's import is outside its timed span, the
    model's loading inside; max |keraslite − LiteRT| over the 100 outputs as a check.
Median wall times; ratios of medians. Prints a markdown table for docs/benchmarks.md.
"""
import json
import os
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmark_convert import BINARY, BUILD, PYTHON, ensure_model, run, versions  # noqa: E402

REPEATS = int(os.environ.get("REPEATS", "3"))
TF_REPEATS = int(os.environ.get("TF_REPEATS", "2"))
SAMPLES = 100

MACS = """
import json, keras
model = keras.models.load_model(r"{h5}", compile=False)
total = 0
winograd = 0
def visit(layer):
    global total, winograd
    if hasattr(layer, "layers"):
        for inner in layer.layers: visit(inner)
        return
    shape = layer.output.shape
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = layer.kernel_size
        cin = layer.input.shape[-1] // layer.groups
        macs = shape[1] * shape[2] * shape[3] * kh * kw * cin
        total += macs
        # keraslite's Winograd F(4x4, 3x3) layers: 36 products per 4x4 output tile instead of 144.
        if ((kh, kw) == (3, 3) and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
                and layer.groups == 1 and shape[1] >= 7 and shape[2] >= 7 and cin >= 16 and cin % 8 == 0
                and shape[3] >= 16 and shape[3] % 8 == 0):
            macs = -(-shape[1] // 4) * -(-shape[2] // 4) * 36 * cin * shape[3]
        winograd += macs
    elif isinstance(layer, keras.layers.Dense):
        total += layer.input.shape[-1] * shape[-1]
        winograd += layer.input.shape[-1] * shape[-1]
visit(model)
print("RESULT " + json.dumps({{"macs": total, "winograd_macs": winograd}}))
"""

PEAK = """
import json, time, numpy as np
a = np.random.rand(4096, 4096).astype(np.float32); b = np.random.rand(4096, 4096).astype(np.float32)
a @ b
best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(8))
print("RESULT " + json.dumps({"macs_per_s": 4096 ** 3 / best}))
"""

TF_INT8 = """
import numpy as np, keras, tensorflow as tf
model = keras.models.load_model(r"{h5}", compile=False)
samples = np.load(r"{samples}")
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.representative_dataset = lambda: ([samples[i:i + 1]] for i in range(len(samples)))
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
open(r"{out}", "wb").write(converter.convert())
"""

LITERT_RUN = """
import json, time, numpy as np
from ai_edge_litert.interpreter import Interpreter
x = np.load(r"{x}")
def timed(batch):
    start = time.perf_counter()
    interpreter = Interpreter(model_path=r"{model}", num_threads=2)
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], [batch, *x.shape[1:]], strict=False)
    interpreter.allocate_tensors()
    out = interpreter.get_output_details()[0]["index"]
    outputs = []
    for first in range(0, len(x), batch):
        block = x[first:first + batch]
        if len(block) != batch:
            interpreter.resize_tensor_input(inp["index"], [len(block), *x.shape[1:]], strict=False)
            interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], block)
        interpreter.invoke()
        outputs.append(np.array(interpreter.get_tensor(out)))
    return time.perf_counter() - start, np.concatenate(outputs)
seconds1, y1 = timed(1)
seconds8, y8 = timed(8)
np.save(r"{y}", y1)
print("RESULT " + json.dumps({{"batch1_s": seconds1, "batch8_s": seconds8, "batch_diff": float(np.max(np.abs(y1 - y8)))}}))
"""


def result(command):
    out = run(command, capture=True)[2]
    return json.loads(out.split("RESULT ", 1)[1].splitlines()[0])


def main():
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"{BINARY} not found; run `swift build -c release --product keraslite` first")
    work = BUILD / "speed"
    work.mkdir(parents=True, exist_ok=True)
    h5 = ensure_model("ResNet50")
    samples = work / "samples100.npy"
    if not samples.exists():
        rng = np.random.default_rng(0)
        np.save(samples, rng.uniform(0, 255, (SAMPLES, 224, 224, 3)).astype(np.float32))
    load_before = os.getloadavg()[0]
    print("model cost and machine peak ...", file=sys.stderr, flush=True)
    cost = result([PYTHON, "-c", MACS.format(h5=h5)])
    macs, winograd_macs = cost["macs"], cost["winograd_macs"]
    peak = result([PYTHON, "-c", PEAK])["macs_per_s"]
    floor = SAMPLES * macs / peak
    winograd_floor = SAMPLES * winograd_macs / peak

    ours_int8, tf_int8 = work / "ours_int8.tflite", work / "tf_int8.tflite"
    float_file = work / "ours_float_dynamic.tflite"
    run([BINARY, "convert", str(h5), "-o", str(float_file), "--batch", "0", "--quiet"])
    times = {"ours_int8": [], "tf_int8": [], "ours_run": [], "litert1": [], "litert8": []}
    diffs = []
    for repeat in range(REPEATS):
        print(f"round {repeat + 1}/{REPEATS} ...", file=sys.stderr, flush=True)
        times["ours_int8"].append(run([BINARY, "convert", str(h5), "-o", str(ours_int8), "--quantize", "int8",
                                       "--calibration", str(samples), "--quiet"])[0])
        if repeat < TF_REPEATS:
            times["tf_int8"].append(run([PYTHON, "-c", TF_INT8.format(h5=h5, samples=samples, out=tf_int8)])[0])
        ours_y, litert_y = work / "ours_y.npy", work / "litert_y.npy"
        times["ours_run"].append(run([BINARY, "run", str(float_file), "--input", str(samples), "-o", str(ours_y),
                                      "--batch-size", "8", "--quiet"])[0])
        litert = result([PYTHON, "-c", LITERT_RUN.format(x=samples, model=float_file, y=litert_y)])
        times["litert1"].append(litert["batch1_s"])
        times["litert8"].append(litert["batch8_s"])
        diffs.append(float(np.max(np.abs(np.load(ours_y).reshape(-1) - np.load(litert_y).reshape(-1)))))
    median = {key: statistics.median(values) for key, values in times.items() if values}
    litert = min(median["litert1"], median["litert8"])
    load_after = os.getloadavg()[0]

    print(f"\n{versions()}; load average {load_before:.1f} before, {load_after:.1f} after; "
          f"REPEATS={REPEATS}, TF_REPEATS={TF_REPEATS}.\n")
    print(f"ResNet50 head: {macs / 1e9:.2f} GMAC per image as direct convolutions, {winograd_macs / 1e9:.2f} GMAC with "
          f"its 3×3 layers by Winograd F(4×4, 3×3) as keraslite computes them; this machine's fp32 GEMM on 2 cores "
          f"{peak / 1e9:.1f} GMAC/s, so 100 forward passes take at least {floor:.2f} s directly, "
          f"{winograd_floor:.2f} s by Winograd.\n")
    print("| 100 images of the ResNet50 head | keraslite | other | other / keraslite | physical limit (direct / Winograd) |")
    print("|---|---:|---:|---:|---:|")
    tf = median.get("tf_int8")
    print(f"| int8 convert with calibration, end to end (other: TensorFlow) | {median['ours_int8']:.2f} s | "
          + (f"{tf:.2f} s | {tf / median['ours_int8']:.1f}×" if tf else "n/a | n/a")
          + f" | {floor:.2f} / {winograd_floor:.2f} s of forward passes |")
    print(f"| run, float .tflite (other: LiteRT, 2 threads, XNNPACK) | {median['ours_run']:.2f} s | {litert:.2f} s "
          f"(batch 1: {median['litert1']:.2f} s, batch 8: {median['litert8']:.2f} s) | "
          f"{litert / median['ours_run']:.2f}× | {floor:.2f} / {winograd_floor:.2f} s |")
    print(f"\nAll times (s): " + "; ".join(f"{key} " + ", ".join(f"{t:.2f}" for t in values) for key, values in times.items()))
    print(f"max |keraslite run − LiteRT| over the 100 outputs: {max(diffs):.2e}")


if __name__ == "__main__":
    main()

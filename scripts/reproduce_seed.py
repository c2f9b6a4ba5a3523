"""The seed paper's recipe — prune low-magnitude weights, fine-tune, full-integer int8, .h5 → .tflite —
done twice, with keraslite and with TensorFlow's own tools, and printed as the paper's Table 1
(accuracy, loss, latency, file size without and with optimization) (issue 6, part 6).

Run from the repository root:  make reproduce-seed   (or  .venv/bin/python scripts/reproduce_seed.py
after `pip install -r requirements-bench.txt` in the venv). About 20 minutes on 2 cores.
Environment: KERASLITE_BIN (default .build/release/keraslite), MODELS (comma-separated subset of
digits, VGG19, ResNet50), REPEATS (timed runs of each pipeline's conversion steps on digits, default 3),
SEED_REPEATS (the same on the seed heads, default 1: a TensorFlow int8 conversion of VGG19 takes minutes),
SEED_EVAL (synthetic evaluation images per seed head, default 64).

Models:
  * digits: Samples/digits_cnn_k2.h5, trained on sklearn's digits (x = images/16, float32, [..., None];
    train_test_split(test_size=0.2, random_state=0)). Fine-tuned on the 1437 training images; evaluated
    on the 360 test images (Samples/digits_test_x.npy / digits_test_y.npy); calibration: the first 200
    training images.
  * VGG19, ResNet50: the seed paper's heads as the conformance suite builds them
    (Tests/conformance/convert_support.py `build-seed --keras 2`: keras.applications, weights=None,
    224×224×3, Flatten → Dense(64, relu) → Dropout → Dense(1, sigmoid), BatchNormalization statistics
    randomized, head scaled), written by tf_keras (Keras 2) so that tensorflow-model-optimization can
    wrap them; built once into build-bench/reproduce/seed_k2/. Random weights and no data set: accuracy
    and loss need the paper's face-mask images. Instead, synthetic images in the input range [0, 255]
    (half uniform noise, half smooth random patterns with noise, see synthetic_images) — 100 for
    calibration, SEED_EVAL others for evaluation — labelled by the unoptimized Keras model itself:
    class 1 where its sigmoid output is above its median output over the evaluation set (the random
    heads have no meaningful 0.5 boundary: VGG19's outputs all lie below 0.5). "Agreement" is the
    fraction of evaluation images an optimized file puts on the same side of that threshold; max |Δ| is
    the largest |output − Keras original output|. No fine-tuning for the seed heads (see below), so the
    int8 files are also compared with the pruned float model (Keras outputs of the tfmot model after
    its learning-rate-0 step, whose zeros are checked to be keraslite's): the conversion's own error.

Pipelines, per model:
  1. original: the Keras .h5 (size; Keras' accuracy/loss and `predict_on_batch` latency on one image,
     TensorFlow's default threads) and its float32 .tflite from `keraslite convert` (LiteRT).
  2. keraslite: `keraslite prune IN.h5 -o pruned.h5 --sparsity 0.5` (per layer; kernels of ≥ 1024
     weights) → fine-tune in tf_keras with the zeros kept by a callback that re-applies the masks after
     every batch (the recipe of Tests/conformance/test_prune.py::test_prune_fine_tune_int8_keeps_digits_accuracy:
     Adam(1e-4), 2 epochs, batch 32, seed 0) → `keraslite convert tuned.h5 -o int8.tflite --quantize int8
     --calibration cal.npy`.
  3. TensorFlow: tensorflow-model-optimization's prune_low_magnitude (ConstantSparsity(0.5,
     begin_step=0, end_step=1, frequency=1): the masks are computed once, by magnitude, at the first
     training step — tfmot 0.8 counts steps from 1, so the tutorials' begin_step=0, frequency=100 would
     prune first at step 100 and never in the digits' 90 steps (measured: 0% zeros)) on exactly the
     layers keraslite pruned, the same fine-tuning (UpdatePruningStep instead of the mask callback),
     strip_pruning, then TFLiteConverter with Optimize.DEFAULT, the same
     calibration samples as representative_dataset and TFLITE_BUILTINS_INT8 (float32 input/output, like
     keraslite's default).
  Seed heads, no fine-tuning in either pipeline: keraslite converts its pruned .h5 directly;
  tensorflow-model-optimization only sets its masks during a training step, so it gets one step on one
  calibration image with learning rate 0 and BatchNormalization frozen (no weight moves; the masks are
  applied) — the zeros are then compared with keraslite's.
Timed "conversion steps", each a fresh process (wall time, peak RSS by GNU time's %M): keraslite prune +
keraslite convert; TensorFlow: load the pruned model + strip_pruning + TFLiteConverter + write (the
TensorFlow import included). Fine-tuning is not part of it (the same tf_keras training for both).
LiteRT: ai_edge_litert Interpreter(num_threads=1), default delegates (XNNPACK), 3 warm-up invokes per
file, then rounds timing every file of the model once in rotating order (digits: blocks of back-to-back
invokes of about 2 ms, divided by their length): 30 rounds for digits, 10 for the seed heads; median.
Sizes: bytes on disk and gzip -6 of the file (Python's gzip, mtime 0). keraslite's and TensorFlow's int8
files are also compared with each other (max |Δ|, agreement).
Prints markdown tables for docs/benchmarks.md and writes build-bench/reproduce/results.json.
"""
import gzip
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "Samples"
WORK = ROOT / "build-bench" / "reproduce"
SEED_BUILDER = ROOT / "Tests" / "conformance" / "convert_support.py"
BINARY = os.environ.get("KERASLITE_BIN", str(ROOT / ".build" / "release" / "keraslite"))
PYTHON = sys.executable
REPEATS = int(os.environ.get("REPEATS", "3"))
SEED_REPEATS = int(os.environ.get("SEED_REPEATS", "1"))
SEED_EVAL = int(os.environ.get("SEED_EVAL", "64"))
SEED_CALIBRATION = 100
DIGITS_CALIBRATION = 200
SPARSITY = 0.5
# TF_USE_LEGACY_KERAS=1: tf.keras is tf_keras in the TensorFlow processes, the Keras that
# tensorflow-model-optimization 0.8 wraps (it also worked without it here; set so nothing mixes Keras 3 in).
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1", TF_USE_LEGACY_KERAS="1")
TIME = "/usr/bin/time"
MB = 1e6

# ----------------------------------------------------------------------------------------------
# Child processes (each a fresh Python; the job is one JSON argument)
# ----------------------------------------------------------------------------------------------

KERAS_REFERENCE = r"""
import json, statistics, sys, time
import numpy as np, tf_keras as keras
job = json.loads(sys.argv[1])
model = keras.models.load_model(job["h5"], compile=False)
x = np.load(job["x"])
y = np.asarray(model.predict(x, batch_size=16, verbose=0), dtype=np.float32)
np.save(job["out"], y)
one = x[:1]
for _ in range(2):
    model.predict_on_batch(one)
times = []
for _ in range(job["runs"]):
    start = time.perf_counter()
    model.predict_on_batch(one)
    times.append(time.perf_counter() - start)
print("RESULT " + json.dumps({"ms": statistics.median(times) * 1000, "runs": len(times)}))
"""

# Fine-tuning for both pipelines: mode "masks" (keraslite's pruned .h5, zeros kept by a callback) or
# "tfmot" (the original .h5, prune_low_magnitude on the given layers, UpdatePruningStep).
TRAIN = r"""
import json, sys
import numpy as np, tensorflow as tf, tf_keras as keras
job = json.loads(sys.argv[1])
keras.utils.set_random_seed(0)
model = keras.models.load_model(job["h5"], compile=False)
x, y = np.load(job["x"]), np.load(job["y"])
callbacks, result = [], {}
if job["mode"] == "tfmot":
    import tensorflow_model_optimization as tfmot
    # Masks computed once, at the first training step (tfmot 0.8 numbers steps from 1: the usual
    # begin_step=0, frequency=100 would first prune at step 100, after the digits' 90 steps).
    schedule = tfmot.sparsity.keras.ConstantSparsity(job["sparsity"], begin_step=0, end_step=1, frequency=1)
    selected = set(job["layers"])
    reference = model.predict(x[:4], verbose=0)
    model = keras.models.clone_model(
        model, clone_function=lambda layer: tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
        if layer.name in selected else layer)
    wrapped = [l for l in model.layers if hasattr(l, "pruning_obj")]  # PruneLowMagnitude wrappers
    assert sorted(l.layer.name for l in wrapped) == sorted(selected), [l.name for l in wrapped]
    # clone_model reuses the original layer objects: the wrapped model starts from the same weights.
    assert np.abs(model.predict(x[:4], verbose=0) - reference).max() < 1e-5
    callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
else:
    masks = [[(w != 0).astype(np.float32) if layer.name in job["layers"] and w.ndim >= 2 else None
              for w in layer.get_weights()] for layer in model.layers]
    class KeepZeros(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            for layer, layer_masks in zip(self.model.layers, masks):
                if any(m is not None for m in layer_masks):
                    layer.set_weights([w * m if m is not None else w for w, m in zip(layer.get_weights(), layer_masks)])
    callbacks.append(KeepZeros())
if job["freeze_bn"]:
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # inference mode in fit(): the moving statistics stay as they are
before = {w.name: w.numpy().copy() for w in model.weights}
model.compile(optimizer=keras.optimizers.Adam(job["lr"]), loss=job["loss"], metrics=["accuracy"])
model.fit(x, y, epochs=job["epochs"], batch_size=job["batch"], verbose=0, callbacks=callbacks)
if job.get("test_x"):
    loss, accuracy = model.evaluate(np.load(job["test_x"]), np.load(job["test_y"]), verbose=0)
    result.update(keras_loss=float(loss), keras_accuracy=float(accuracy))
# The kernels of the pruned layers after training, for the zeros comparison with keraslite's file.
kernels = {}
for layer in model.layers:
    inner = getattr(layer, "layer", layer)
    if inner.name in job["layers"]:
        kernels[inner.name] = np.asarray(inner.get_weights()[0])  # kernel / depthwise_kernel
if job.get("compare_with"):
    theirs = keras.models.load_model(job["compare_with"], compile=False)
    same = total = 0
    for name, kernel in kernels.items():
        other = theirs.get_layer(name).get_weights()[0]
        same += int(np.sum((kernel == 0) == (other == 0)))
        total += kernel.size
    result["zeros_same_place"] = same / total
result["sparsity"] = {n: float(np.mean(k == 0)) for n, k in kernels.items()}
if job["lr"] == 0:  # nothing but the masks may have changed
    moved = 0.0
    for w in model.weights:
        if w.name in before and "mask" not in w.name and "threshold" not in w.name and "pruning_step" not in w.name:
            value = w.numpy()
            keep = value != 0
            moved = max(moved, float(np.abs(value[keep] - before[w.name][keep]).max()) if keep.any() else 0.0)
    result["max_weight_change"] = moved
if job.get("predict_x"):  # the pruned float model's outputs (masks applied at inference)
    np.save(job["predict_out"], np.asarray(model.predict(np.load(job["predict_x"]), batch_size=16, verbose=0), np.float32))
model.save(job["out"], include_optimizer=False)
print("RESULT " + json.dumps(result))
"""

TF_CONVERT = r"""
import json, sys
import numpy as np, tensorflow as tf, tf_keras as keras
import tensorflow_model_optimization as tfmot
job = json.loads(sys.argv[1])
with tfmot.sparsity.keras.prune_scope():
    model = keras.models.load_model(job["h5"], compile=False)
model = tfmot.sparsity.keras.strip_pruning(model)
samples = np.load(job["calibration"])
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.representative_dataset = lambda: ([samples[i:i + 1]] for i in range(len(samples)))
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
data = converter.convert()
with open(job["out"], "wb") as f:
    f.write(data)
"""

EVALUATE = r"""
import json, statistics, sys, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter
job = json.loads(sys.argv[1])
x, reference = np.load(job["x"]), np.load(job["reference"]).astype(np.float64)
labels = np.load(job["labels"]) if job.get("labels") else None
result = {}
loaded = {}
for tag, path in job["files"].items():
    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    loaded[tag] = (it, it.get_input_details()[0]["index"], it.get_output_details()[0]["index"])

def predict(model, sample):
    it, i, o = model
    it.set_tensor(i, np.ascontiguousarray(sample[None], dtype=np.float32))
    it.invoke()
    return np.array(it.get_tensor(o))[0]

pruned = np.load(job["reference_pruned"]).astype(np.float64) if job.get("reference_pruned") else None
outputs = {}
for tag, model in loaded.items():
    out = outputs[tag] = np.stack([predict(model, s) for s in x]).astype(np.float64)
    entry = result[tag] = {"max_diff": float(np.abs(out - reference.reshape(out.shape)).max())}
    if pruned is not None:  # against the pruned float model: the conversion's own error
        t = float(np.median(pruned))
        entry.update(max_diff_pruned=float(np.abs(out - pruned.reshape(out.shape)).max()),
                     agreement_pruned=float(np.mean((out.ravel() > t) == (pruned.ravel() > t))))
    if labels is not None:  # digits: softmax over 10 classes
        p = np.clip(out[np.arange(len(labels)), labels], 1e-7, 1.0)  # Keras' clipping
        entry.update(accuracy=float(np.mean(out.argmax(1) == labels)), correct=int(np.sum(out.argmax(1) == labels)),
                     loss=float(np.mean(-np.log(p))), agreement=float(np.mean(out.argmax(1) == reference.argmax(1))))
    else:  # seed heads: one sigmoid; the label is the original's side of its median output
        threshold = float(np.median(reference))
        entry.update(agreement=float(np.mean((out.ravel() > threshold) == (reference.ravel() > threshold))),
                     agreement_05=float(np.mean((out.ravel() > 0.5) == (reference.ravel() > 0.5))),
                     mean_diff=float(np.abs(out - reference.reshape(out.shape)).mean()), threshold=threshold)

if "ks_int8" in outputs and "tf_int8" in outputs:  # keraslite's int8 file against TensorFlow's
    a, b = outputs["ks_int8"], outputs["tf_int8"]
    same = (a.argmax(1) == b.argmax(1)) if labels is not None else \
        ((a.ravel() > np.median(reference)) == (b.ravel() > np.median(reference)))
    result["ks_vs_tf"] = {"max_diff": float(np.abs(a - b).max()), "agreement": float(np.mean(same))}

def timed(model, inner):
    invoke = model[0].invoke
    start = time.perf_counter()
    for _ in range(inner):
        invoke()
    return (time.perf_counter() - start) / inner

for model in loaded.values():
    predict(model, x[0])
    for _ in range(3):
        model[0].invoke()
slowest = max(min(timed(m, 1) for _ in range(3)) for m in loaded.values())
inner = max(1, min(1000, int(0.002 / max(slowest, 1e-7))))
tags = list(loaded)
times = {tag: [] for tag in tags}
for r in range(job["rounds"]):
    order = tags[r % len(tags):] + tags[:r % len(tags)]
    for tag in order:
        times[tag].append(timed(loaded[tag], inner))
for tag in tags:
    result[tag].update(ms=statistics.median(times[tag]) * 1000, ms_min=min(times[tag]) * 1000,
                       rounds=job["rounds"], inner=inner)
print("RESULT " + json.dumps(result))
"""

# ----------------------------------------------------------------------------------------------
# Running things
# ----------------------------------------------------------------------------------------------


def progress(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(command):
    """Runs command as a child process: (seconds, peak RSS MB, stdout). Peak RSS from GNU time's %M
    when installed (wait4's ru_maxrss of a child forked from this process can include this process' pages)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *map(str, command)] if os.access(TIME, os.X_OK) else list(map(str, command))
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, env=ENV, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            what = " ".join(map(str, command[:2])) + (" " + str(command[2]).strip().splitlines()[0] if len(command) > 2 else "")
            raise RuntimeError(f"{what[:200]} … failed ({code}):\n"
                               f"{err.read().decode(errors='replace')[-3000:]}")
        peak = usage.ru_maxrss / 1024
        if wrapped[0] == TIME:
            try:
                peak = int(rss.read().strip().splitlines()[-1]) / 1024
            except (ValueError, IndexError):
                pass
        return elapsed, peak, out.read().decode(errors="replace")


def python(script, job):
    """Runs a child script with a JSON job; returns (seconds, peak MB, the RESULT object or {})."""
    seconds, peak, out = run([PYTHON, "-c", script, json.dumps({k: str(v) if isinstance(v, pathlib.Path) else v
                                                                  for k, v in job.items()})])
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0]) if "RESULT " in out else {}
    return seconds, peak, result


def keraslite(*args):
    return run([BINARY, *args])


def gz_size(path):
    return len(gzip.compress(pathlib.Path(path).read_bytes(), compresslevel=6, mtime=0))


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


def synthetic_images(n, seed):
    """n images 224×224×3 in [0, 255]: even indices uniform noise, odd ones a smooth random pattern
    (a random 4–32 square grid of colours, bilinearly upsampled) with random contrast plus Gaussian
    noise of random strength, clipped. Random-weight networks give nearly the same output for every
    noise image; the patterns spread the outputs so the agreement measures something."""
    from scipy.ndimage import zoom

    rng = np.random.default_rng(seed)
    images = np.empty((n, 224, 224, 3), np.float32)
    for i in range(n):
        if i % 2 == 0:
            images[i] = rng.uniform(0, 255, (224, 224, 3))
        else:
            grid = int(rng.choice([4, 7, 8, 14, 16, 28, 32]))
            pattern = zoom(rng.uniform(0, 255, (grid, grid, 3)), (224 / grid, 224 / grid, 1), order=1)
            pattern = pattern * rng.uniform(0.3, 1.0) + rng.normal(0, rng.uniform(0, 60), (224, 224, 3))
            images[i] = np.clip(pattern, 0, 255)
    return images


def prepare_digits(work):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target.astype(np.int64), test_size=0.2, random_state=0)
    if not (np.array_equal(x_test, np.load(SAMPLES / "digits_test_x.npy"))
            and np.array_equal(y_test, np.load(SAMPLES / "digits_test_y.npy"))):
        raise SystemExit("Samples/digits_test_*.npy are not sklearn's test split")
    files = {"train_x": x_train, "train_y": y_train, "calibration": x_train[:DIGITS_CALIBRATION]}
    for name, array in files.items():
        np.save(work / f"{name}.npy", array)
    return {"name": "digits CNN", "key": "digits", "kind": "digits", "h5": SAMPLES / "digits_cnn_k2.h5",
            "x": SAMPLES / "digits_test_x.npy", "labels": SAMPLES / "digits_test_y.npy",
            "calibration": work / "calibration.npy", "train_x": work / "train_x.npy", "train_y": work / "train_y.npy",
            "fine_tune": True, "rounds": 30, "keras_runs": 30, "repeats": REPEATS}


def prepare_seed(family, work):
    seed_dir = WORK / "seed_k2"
    h5 = seed_dir / family / "model.h5"
    if not h5.is_file():
        progress(f"building the {family} head with convert_support.py build-seed --keras 2 ...")
        run([PYTHON, SEED_BUILDER, "build-seed", "--keras", "2", "--out", seed_dir, "--only", family])
    calibration, x = work / "calibration.npy", work / "eval_x.npy"
    np.save(calibration, synthetic_images(SEED_CALIBRATION, 100))
    np.save(x, synthetic_images(SEED_EVAL, 200))
    # One training step (learning rate 0) on one image: the labels only need the right shape.
    np.save(work / "train_x.npy", np.load(calibration)[:1])
    np.save(work / "train_y.npy", np.zeros((1, 1), np.float32))
    return {"name": f"{family} head", "key": family, "kind": "seed", "h5": h5, "x": x, "labels": None,
            "calibration": calibration, "train_x": work / "train_x.npy", "train_y": work / "train_y.npy",
            "fine_tune": False, "rounds": 10, "keras_runs": 10, "repeats": SEED_REPEATS}


# ----------------------------------------------------------------------------------------------
# One model
# ----------------------------------------------------------------------------------------------


def reproduce(m, work):
    r = {"name": m["name"], "kind": m["kind"]}
    files = {"h5": m["h5"], "float": work / "float.tflite", "ks_pruned": work / "keraslite_pruned.h5",
             "ks_tuned": work / "keraslite_tuned.h5", "ks_int8": work / "keraslite_int8.tflite",
             "tf_pruned": work / "tfmot_pruned.h5", "tf_int8": work / "tf_int8.tflite"}
    for key in ("float", "ks_pruned", "ks_tuned", "ks_int8", "tf_pruned", "tf_int8"):
        files[key].unlink(missing_ok=True)

    progress(f"{m['name']}: Keras original (outputs, predict_on_batch latency) ...")
    reference = work / "keras_outputs.npy"
    _, _, r["keras"] = python(KERAS_REFERENCE, {"h5": m["h5"], "x": m["x"], "out": reference, "runs": m["keras_runs"]})

    progress(f"{m['name']}: keraslite convert (float32) ...")
    keraslite("convert", m["h5"], "-o", files["float"], "--quiet")

    progress(f"{m['name']}: keraslite pipeline ...")
    ks_runs = []
    for _ in range(m["repeats"]):
        t1, p1, out = keraslite("prune", m["h5"], "-o", files["ks_pruned"], "--sparsity", str(SPARSITY), "--json")
        prune_report = json.loads(out)
        if m["fine_tune"]:
            if not files["ks_tuned"].exists():
                progress(f"{m['name']}: fine-tuning keraslite's pruned model (masks) ...")
                _, _, r["ks_train"] = python(TRAIN, fine_tune_job(m, "masks", files["ks_pruned"], files["ks_tuned"],
                                                                 [k["layer"] for k in prune_report["kernels"]]))
            source = files["ks_tuned"]
        else:
            source = files["ks_pruned"]
        t2, p2, _ = keraslite("convert", source, "-o", files["ks_int8"], "--quantize", "int8",
                              "--calibration", m["calibration"], "--quiet")
        ks_runs.append({"prune_s": t1, "convert_s": t2, "s": t1 + t2, "rss": max(p1, p2), "prune_rss": p1, "convert_rss": p2})
    r["ks_runs"] = ks_runs
    layers = [k["layer"] for k in prune_report["kernels"]]
    r["pruned_layers"] = layers
    r["prune_report"] = {k: prune_report[k] for k in ("params", "zeros_after", "sparsity_after",
                                                      "compressed_bytes_before", "compressed_bytes_after")}

    progress(f"{m['name']}: tensorflow-model-optimization prune_low_magnitude "
             f"({'fine-tuning' if m['fine_tune'] else 'one step at learning rate 0'}) ...")
    job = fine_tune_job(m, "tfmot", m["h5"], files["tf_pruned"], layers, compare_with=files["ks_pruned"])
    pruned_reference = None
    if not m["fine_tune"]:  # same zeros as keraslite's pruned .h5 (checked), no weight moved: its outputs
        pruned_reference = work / "keras_pruned_outputs.npy"
        job.update(predict_x=m["x"], predict_out=pruned_reference)
    _, _, r["tf_train"] = python(TRAIN, job)
    progress(f"{m['name']}: strip_pruning + TFLiteConverter int8 ...")
    tf_runs = []
    for _ in range(m["repeats"]):
        t, p, _ = python(TF_CONVERT, {"h5": files["tf_pruned"], "calibration": m["calibration"], "out": files["tf_int8"]})
        tf_runs.append({"s": t, "rss": p})
    r["tf_runs"] = tf_runs

    progress(f"{m['name']}: LiteRT accuracy/agreement and latency ...")
    _, _, r["litert"] = python(EVALUATE, {"files": {k: str(files[k]) for k in ("float", "ks_int8", "tf_int8")},
                                          "x": m["x"], "reference": reference, "labels": m["labels"],
                                          "reference_pruned": pruned_reference, "rounds": m["rounds"]})
    if m["kind"] == "digits":  # the Keras original on the same footing (loss with Keras' clipping)
        y, labels = np.load(reference).astype(np.float64), np.load(m["labels"])
        r["keras"].update(accuracy=float(np.mean(y.argmax(1) == labels)),
                          loss=float(np.mean(-np.log(np.clip(y[np.arange(len(labels)), labels], 1e-7, 1)))))
    progress(f"{m['name']}: file sizes (gzip -6) ...")
    r["bytes"] = {k: files[k].stat().st_size for k in ("h5", "float", "ks_pruned", "ks_int8", "tf_int8")}
    keys = ("h5", "float", "ks_pruned", "ks_int8", "tf_int8")
    with ThreadPoolExecutor(2) as pool:  # zlib releases the GIL
        r["gzip"] = dict(zip(keys, pool.map(lambda k: gz_size(files[k]), keys)))
    return r


def fine_tune_job(m, mode, h5, out, layers, compare_with=None):
    job = {"mode": mode, "h5": h5, "out": out, "layers": layers, "sparsity": SPARSITY, "x": m["train_x"],
           "y": m["train_y"], "compare_with": compare_with}
    if m["fine_tune"]:  # the conformance test's recipe
        job.update(epochs=2, batch=32, lr=1e-4, loss="sparse_categorical_crossentropy", freeze_bn=False,
                   test_x=m["x"], test_y=m["labels"])
    else:
        job.update(epochs=1, batch=1, lr=0.0, loss="binary_crossentropy", freeze_bn=True)
    return job


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------


def med(runs, key):
    return statistics.median(run[key] for run in runs)


def print_tables(results):
    print("| model | pipeline | accuracy | loss | agreement | max \\|Δ\\| | latency ms | × faster than float .tflite "
          "| × faster than Keras | size MB | % of .h5 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        lit, b, keras = r["litert"], r["bytes"], r["keras"]
        digits = r["kind"] == "digits"
        float_ms = lit["float"]["ms"]
        tuned = "fine-tune → " if r["fine_tune"] else ""

        def acc(entry):
            return f"{entry['accuracy'] * 100:.2f}%" if digits else "n/a†"

        def loss(entry):
            return f"{entry['loss']:.4f}" if digits else "n/a†"

        def agreement(entry):
            return f"{entry['agreement'] * 100:.1f}%"

        rows = [
            ("original Keras .h5 (TF predict_on_batch)", acc(keras) if digits else "n/a†", loss(keras) if digits else "n/a†",
             "—", "—", keras["ms"], b["h5"]),
            ("original float .tflite (keraslite convert)", acc(lit["float"]), loss(lit["float"]), agreement(lit["float"]),
             f"{lit['float']['max_diff']:.1e}", float_ms, b["float"]),
            (f"keraslite: prune → {tuned}int8", acc(lit["ks_int8"]), loss(lit["ks_int8"]), agreement(lit["ks_int8"]),
             f"{lit['ks_int8']['max_diff']:.1e}", lit["ks_int8"]["ms"], b["ks_int8"]),
            (f"TensorFlow: tfmot {'→ fine-tune ' if tuned else '(masks set, lr 0) '}→ strip → int8", acc(lit["tf_int8"]), loss(lit["tf_int8"]), agreement(lit["tf_int8"]),
             f"{lit['tf_int8']['max_diff']:.1e}", lit["tf_int8"]["ms"], b["tf_int8"]),
        ]
        for k, (pipeline, a, l, ag, diff, ms, size) in enumerate(rows):
            vs_float = "—" if k == 0 else f"{float_ms / ms:.2f}×"
            print(f"| {r['name']} | {pipeline} | {a} | {l} | {ag} | {diff} | {ms:.4g} | {vs_float} "
                  f"| {keras['ms'] / ms:.1f}× | {size / MB:.3f} | {size / b['h5'] * 100:.2f}% |")
    print()
    print("| model | pipeline | conversion steps | wall time (median) | peak RSS | gzip MB | gzip % of .h5 gzip |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in results:
        g = r["gzip"]
        print(f"| {r['name']} | original | .h5 / float .tflite | — | — | {g['h5'] / MB:.3f} / {g['float'] / MB:.3f} "
              f"| 100% / {g['float'] / g['h5'] * 100:.1f}% |")
        print(f"| {r['name']} | keraslite | prune + convert --quantize int8 | {med(r['ks_runs'], 's'):.2f} s "
              f"(prune {med(r['ks_runs'], 'prune_s'):.2f} + convert {med(r['ks_runs'], 'convert_s'):.2f}) "
              f"| {max(x['rss'] for x in r['ks_runs']):.0f} MB | {g['ks_int8'] / MB:.3f} | {g['ks_int8'] / g['h5'] * 100:.1f}% |")
        print(f"| {r['name']} | TensorFlow | load + strip_pruning + TFLiteConverter int8 | {med(r['tf_runs'], 's'):.1f} s "
              f"| {max(x['rss'] for x in r['tf_runs']):.0f} MB | {g['tf_int8'] / MB:.3f} | {g['tf_int8'] / g['h5'] * 100:.1f}% |")
    print()
    for r in results:
        b, g, lit = r["bytes"], r["gzip"], r["litert"]
        notes = [f"pruned layers {', '.join(r['pruned_layers'])} (keraslite prune: model sparsity "
                 f"{r['prune_report']['sparsity_after'] * 100:.1f}%)",
                 f"tfmot kernel sparsity {min(r['tf_train']['sparsity'].values()) * 100:.1f}–"
                 f"{max(r['tf_train']['sparsity'].values()) * 100:.1f}%, zeros in the same places as keraslite's "
                 f"before fine-tuning: {r['tf_train'].get('zeros_same_place', float('nan')) * 100:.2f}%",
                 f"keraslite's pruned .h5 {b['ks_pruned'] / MB:.3f} MB raw (original {b['h5'] / MB:.3f}), gzip "
                 f"{g['ks_pruned'] / MB:.3f} MB ({g['ks_pruned'] / g['h5'] * 100:.1f}% of the original's gzip)",
                 "conversion runs: keraslite " + ", ".join(f"{x['s']:.2f}" for x in r["ks_runs"]) + " s; TensorFlow "
                 + ", ".join(f"{x['s']:.1f}" for x in r["tf_runs"]) + " s",
                 f"LiteRT {lit['float']['rounds']} rounds (×{lit['float']['inner']} invokes); "
                 f"Keras predict_on_batch median of {r['keras']['runs']}"]
        if r["kind"] == "digits":
            for tag, key in (("keraslite", "ks_train"), ("TensorFlow", "tf_train")):
                notes.append(f"{tag} fine-tuned float model in Keras: accuracy {r[key]['keras_accuracy'] * 100:.2f}%, "
                             f"loss {r[key]['keras_loss']:.4f}")
            notes.append("correct of 360: " + ", ".join(f"{t} {lit[t]['correct']}" for t in ("float", "ks_int8", "tf_int8")))
        else:
            notes.append(f"agreement threshold (median Keras output) {lit['float']['threshold']:.4f}; "
                         f"agreement at 0.5: " + ", ".join(f"{t} {lit[t]['agreement_05'] * 100:.1f}%"
                                                          for t in ("float", "ks_int8", "tf_int8"))
                         + "; mean |Δ|: " + ", ".join(f"{t} {lit[t]['mean_diff']:.1e}" for t in ("float", "ks_int8", "tf_int8")))
            notes.append(f"tfmot step at learning rate 0: max change of a kept weight {r['tf_train'].get('max_weight_change', float('nan')):.1e}")
            notes.append("against the pruned float model (Keras, same zeros): " + ", ".join(
                f"{t} max |Δ| {lit[t]['max_diff_pruned']:.1e}, agreement {lit[t]['agreement_pruned'] * 100:.1f}%"
                for t in ("ks_int8", "tf_int8")))
        notes.append(f"keraslite int8 vs TensorFlow int8: max |Δ| {lit['ks_vs_tf']['max_diff']:.1e}, "
                     f"agreement {lit['ks_vs_tf']['agreement'] * 100:.1f}%")
        print(f"- {r['name']}: " + "; ".join(notes))


def versions():
    code = ("from importlib.metadata import version as v; print(' '.join(v(p) for p in ('tensorflow', 'tf-keras', "
            "'tensorflow-model-optimization', 'ai-edge-litert', 'numpy')))")
    tf_v, tfk_v, tfmot_v, litert_v, np_v = run([PYTHON, "-c", code])[2].split()[-5:]
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    return (f"TensorFlow {tf_v}, tf_keras {tfk_v}, tensorflow-model-optimization {tfmot_v}, ai-edge-litert {litert_v}, "
            f"numpy {np_v}, Python {platform.python_version()}, {swift[0].strip() if swift else 'swift ?'}")


def main():
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"{BINARY} not found; run `swift build -c release --product keraslite` first")
    try:
        import tensorflow_model_optimization  # noqa: F401  (only checks it is installed; not used here)
    except ImportError:
        raise SystemExit("tensorflow-model-optimization is missing: pip install -r requirements-bench.txt")
    wanted = [w.strip() for w in os.environ.get("MODELS", "digits,VGG19,ResNet50").split(",") if w.strip()]
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    results = []
    for key in wanted:
        work = WORK / key.lower()
        work.mkdir(parents=True, exist_ok=True)
        m = prepare_digits(work) if key == "digits" else prepare_seed(key, work)
        t0 = time.perf_counter()
        r = reproduce(m, work)
        r["fine_tune"] = m["fine_tune"]
        r["seconds"] = time.perf_counter() - t0
        progress(f"{m['name']}: done in {r['seconds']:.0f} s")
        results.append(r)
    total = time.perf_counter() - started
    (WORK / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; total run {total:.0f} s; "
          f"1-min load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print(versions())
    print()
    print_tables(results)
    print()
    print("† random-weight heads, no data set: accuracy and loss need the paper's images; agreement = same side "
          "as the original Keras model of its median output on the synthetic images, max |Δ| against its outputs.")


if __name__ == "__main__":
    main()

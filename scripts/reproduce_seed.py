"""The seed paper's Table 1 on real images: face mask / no mask classifiers trained here from scratch,
then float .tflite, int8, magnitude pruning + fine-tuning + int8 and channel pruning + fine-tuning +
int8 with keraslite, beside TensorFlow's own tools (TFLiteConverter, tensorflow-model-optimization)
on the same data (issue 13, part 3; it replaces issue 6's random-weight VGG19/ResNet50 heads).

Run from the repository root:  make reproduce-seed   (or  .venv/bin/python scripts/reproduce_seed.py
after `pip install -r requirements-bench.txt` in the venv). About 25 minutes on 2 cores; QUICK=1 is a
smoke run of a few minutes (2 training epochs, 1 fine-tuning epoch, 10 latency rounds: the figures mean
nothing). Environment:
  KERASLITE_BIN   the keraslite binary (default .build/release/keraslite). The channel rows need
                  `keraslite prune --channels`; a binary without it (its `prune --help` does not list
                  the option) prints those rows as "pending" and the rest runs.
  MODELS          comma-separated subset of mobilenetv2, resnet, digits (default: all three)
  FACEMASK_DIR    the data set (default /work/shared/datasets/face-mask: with_mask/, without_mask/)
  QUICK=1         smoke run (see above)
  EPOCHS          maximum training epochs of the face-mask models (default 30; QUICK 2)
  FT_EPOCHS       maximum fine-tuning epochs after pruning (default 6; QUICK 1)
  ROUNDS          LiteRT latency rounds per file (default 60, each ≥ 1 invoke; QUICK 10)
  REMEASURE=1     only measure again, in LiteRT, the files of the last full run (build-bench/reproduce/
                  full/, results.json): accuracy, loss and latency; writes results_remeasured.json
  RETRAIN=1       retrain the float models even when build-bench/reproduce/<model>/float.h5 was
                  trained with the same recipe (its recipe is stored beside it in float.json)

Data (face-mask): the 3,684 128×128 JPEGs of FACEMASK_DIR (with_mask = 1, without_mask = 0), split per
class after sorting the file names and a numpy default_rng(SPLIT_SEED = 0) permutation: 15% test, 15%
validation, the rest training (stratified; counts in the JSON and split.json). Images are read with PIL,
resized to INPUT_SIZE × INPUT_SIZE (bilinear), scaled to float32 [0, 1] and cached as .npy under
build-bench/reproduce/facemask_<size>px/ (not committed). Calibration (`--calibration cal.npy` and
TFLiteConverter's representative dataset): the first CALIBRATION = 200 training images (the split's
random order). Training augmentation: random horizontal flip, ±10% brightness, contrast 0.8–1.2, up to
±4 px translation (pad + random crop); none on validation and test.

Models (tf_keras, Keras 2, because tensorflow-model-optimization 0.8 wraps only tf_keras layers; the
.h5 files are Keras 2 HDF5), both the seed's head base → Flatten → Dense(64, relu) → Dropout(0.5) →
Dense(1, sigmoid), trained from scratch (no pretrained weights here) with Adam, binary cross-entropy,
batch 32, at most EPOCHS epochs, ReduceLROnPlateau(val_loss, ×0.3, patience 3), EarlyStopping(val_accuracy,
patience 8, best weights restored; val_loss plateaus while val_accuracy still rises), seed 0 (keras.utils.set_random_seed + op determinism):
  * mobilenetv2: keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35,
    input 96×96×3) built on the model's own Input (flat: tfmot wraps top-level layers only),
    BatchNormalization momentum 0.9 instead of 0.999 (with ~80 steps an epoch, 0.999's moving
    statistics stay near their initial values and validation stays at chance), Adam(5e-4).
  * resnet: a small ResNet defined here: Conv 3×3/2 (16) + BN + ReLU, then four residual blocks
    (16, 32/2, 64/2, 128/2 filters; two 3×3 Conv + BN, a 1×1 Conv + BN projection where the shape
    changes, Add, ReLU), input 96×96×3, Adam(1e-3).
  * digits: the old digits rows, cheap: Samples/digits_cnn_k2.h5 (already trained on sklearn's digits,
    x = images/16, train_test_split(test_size=0.2, random_state=0)), test on its 360 test images,
    calibration the first 200 of its 1437 training images, fine-tuning 2 epochs at Adam(1e-4), no
    validation split and no early stopping (the conformance test's recipe).

Rows, per model (accuracy and loss on the test split; loss is Keras' cross-entropy with p clipped to
[1e-7, 1 - 1e-7]):
  1. Keras float: tf_keras evaluate; latency = predict_on_batch on one image (TensorFlow, 2 threads).
  2. keraslite float .tflite: `keraslite convert float.h5 -o float.tflite`.
  3. keraslite int8: `keraslite convert float.h5 -o int8.tflite --quantize int8 --calibration cal.npy`.
  4. keraslite magnitude 50%: `keraslite prune float.h5 -o magnitude.h5 --sparsity 0.5` (per layer,
     kernels of ≥ 1024 weights) → fine-tune in tf_keras with a callback that re-applies the zeros after
     every batch → `keraslite convert … --quantize int8 --calibration cal.npy`.
  5. keraslite channels 50%: `keraslite prune float.h5 -o channels.h5 --channels 0.5 --round-to 8
     --json` (a smaller ordinary Keras file) → ordinary fine-tuning in tf_keras → `keraslite convert …
     --quantize int8`. Pending while the binary has no --channels.
  6. TensorFlow float .tflite: TFLiteConverter.from_keras_model(float model), no optimization.
  7. TensorFlow int8: the same with Optimize.DEFAULT, representative_dataset = cal.npy,
     TFLITE_BUILTINS_INT8 (float32 input/output, like keraslite's default).
  8. tfmot magnitude 50%: tensorflow-model-optimization's prune_low_magnitude on exactly the layers
     keraslite pruned, ConstantSparsity(0.5, begin_step=0, end_step=1, frequency=1): the masks are
     computed once, by magnitude, at the first training step — tfmot 0.8 counts steps from 1, so the
     tutorials' begin_step=0, frequency=100 would prune first at step 100 and never in the digits' 90
     steps (measured: 0% zeros) — the same fine-tuning (UpdatePruningStep instead of the mask
     callback), strip_pruning, then TFLiteConverter int8 as in 7.
     tfmot 0.8 registers DepthwiseConv2D with no prunable weights (prune_registry: `DepthwiseConv2D: []`),
     so MobileNetV2's depthwise kernels that keraslite prunes stay dense here (the notes give the share
     of zeros in the same places as keraslite's).
  Fine-tuning (rows 4 and 8; face-mask): Adam(2e-4), batch 32, the same augmentation, at most FT_EPOCHS
  epochs, ReduceLROnPlateau(val_loss, ×0.3, patience 1), EarlyStopping(val_accuracy, patience 2, best
  weights restored), seed 0. Row 5 starts near chance (half of every layer's channels gone), so it is
  retrained longer: Adam(5e-4), at most 2 × FT_EPOCHS epochs, patience 2 (learning rate) and 4 (stop),
  with TF_ENABLE_ONEDNN_OPTS=0: oneDNN's kernels corrupt the heap in fit() of the halved small ResNet
  (SIGSEGV), also when that model is built in tf_keras directly. A failing channel row prints as failed.
LiteRT: ai_edge_litert Interpreter(num_threads=1), default delegates (XNNPACK); accuracy and loss over
the whole test split, one image per invoke; latency on one test image: 5 warm-up invokes, then ROUNDS
rounds timing every file of the model once in rotating order (each file a block of back-to-back invokes
of about 2 ms when one invoke is shorter, divided by its length), median; the minimum is in the JSON. × faster and % size are against the
keraslite float .tflite (row 2). Sizes are bytes on disk (MB = 10⁶ bytes).
Targets (issue 13): some row ≤ 13.74% of the float .tflite's size and ≥ 2.86× faster than it in LiteRT,
with test accuracy within 1 point of the Keras float model; each row says which it meets.
Prints a markdown table for docs/benchmarks.md and writes build-bench/reproduce/results.json.
"""
import hashlib
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

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "Samples"
WORK = ROOT / "build-bench" / "reproduce"
BINARY = os.environ.get("KERASLITE_BIN", str(ROOT / ".build" / "release" / "keraslite"))
DATASET = pathlib.Path(os.environ.get("FACEMASK_DIR", "/work/shared/datasets/face-mask"))
PYTHON = sys.executable
QUICK = os.environ.get("QUICK", "") not in ("", "0")
EPOCHS = int(os.environ.get("EPOCHS", "2" if QUICK else "30"))
FT_EPOCHS = int(os.environ.get("FT_EPOCHS", "1" if QUICK else "6"))
ROUNDS = int(os.environ.get("ROUNDS", "10" if QUICK else "60"))
RETRAIN = os.environ.get("RETRAIN", "") not in ("", "0")
SPLIT_SEED = 0
CLASSES = ("without_mask", "with_mask")  # label = index
TEST_FRACTION = VALIDATION_FRACTION = 0.15
INPUT_SIZE = 96
CALIBRATION = 200
SPARSITY = 0.5
CHANNELS = 0.5
ROUND_TO = 8
TARGET_SIZE_PERCENT, TARGET_SPEEDUP, TARGET_ACCURACY_DROP = 13.74, 2.86, 1.0
# TF_USE_LEGACY_KERAS=1: tf.keras is tf_keras in the TensorFlow processes, the Keras that
# tensorflow-model-optimization 0.8 wraps.
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1", TF_USE_LEGACY_KERAS="1")
TIME = "/usr/bin/time"
MB = 1e6

FACEMASK_MODELS = {
    "mobilenetv2": {"name": "MobileNetV2 α0.35 96px", "arch": "mobilenetv2", "alpha": 0.35, "lr": 5e-4},
    "resnet": {"name": "small ResNet 96px", "arch": "resnet", "lr": 1e-3},
}

# ----------------------------------------------------------------------------------------------
# Child processes (each a fresh Python; the job is one JSON argument)
# ----------------------------------------------------------------------------------------------

# Shared by the training children: the tf.data pipeline with augmentation, and the evaluation.
COMMON = r"""
import json, statistics, sys, time
import numpy as np, tensorflow as tf, tf_keras as keras
job = json.loads(sys.argv[1])
keras.utils.set_random_seed(0)
tf.config.experimental.enable_op_determinism()

def augment(x, y):
    size = x.shape[0]
    x = tf.image.random_flip_left_right(x)
    x = tf.image.random_brightness(x, 0.1)
    x = tf.image.random_contrast(x, 0.8, 1.2)
    x = tf.image.random_crop(tf.image.resize_with_crop_or_pad(x, size + 8, size + 8), [size, size, 3])
    return tf.clip_by_value(x, 0.0, 1.0), y

def training_data(x, y, augmented):
    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0, reshuffle_each_iteration=True)
    if augmented:
        data = data.map(augment, num_parallel_calls=1, deterministic=True)
    return data.batch(32).prefetch(2)

def evaluate(model, job):
    x, y = np.load(job["test_x"]), np.load(job["test_y"])
    loss, accuracy = model.evaluate(x, y, batch_size=64, verbose=0)
    return {"keras_loss": float(loss), "keras_accuracy": float(accuracy)}

def callbacks_for(job):
    if not job.get("val_x"):
        return []
    # Stop on validation accuracy: val_loss plateaus (MobileNetV2: 0.30–0.31 from epoch 8 to 16) while
    # val_accuracy still rises (0.875 → 0.911), and the best-val_loss weights were those of epoch 8.
    return [keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=job["patience"], restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=job["lr_patience"], min_lr=1e-5)]

def fit(model, job, callbacks):
    x, y = np.load(job["train_x"]), np.load(job["train_y"])
    validation = (np.load(job["val_x"]), np.load(job["val_y"])) if job.get("val_x") else None
    start = time.perf_counter()
    history = model.fit(training_data(x, y, job["augment"]), epochs=job["epochs"], verbose=0,
                        validation_data=validation, callbacks=callbacks + callbacks_for(job))
    h = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    return {"epochs_run": len(h["loss"]), "train_seconds": time.perf_counter() - start, "history": h}
"""

# Trains a face-mask model from scratch and saves it (Keras 2 HDF5, no optimizer).
TRAIN = COMMON + r"""
size = job["size"]
inputs = keras.Input((size, size, 3), name="image")
if job["arch"] == "mobilenetv2":
    base = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=job["alpha"], input_tensor=inputs)
    features = base.output
    for layer in base.layers:  # see the docstring: 0.999 leaves the moving statistics untrained
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
else:
    def conv_bn(h, filters, kernel, strides, name):
        h = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(h)
        return keras.layers.BatchNormalization(momentum=0.9, name=name + "_bn")(h)

    def residual_block(h, filters, strides, name):
        shortcut = h
        h = keras.layers.ReLU(name=name + "_relu1")(conv_bn(h, filters, 3, strides, name + "_conv1"))
        h = conv_bn(h, filters, 3, 1, name + "_conv2")
        if strides != 1 or shortcut.shape[-1] != filters:
            shortcut = conv_bn(shortcut, filters, 1, strides, name + "_proj")
        return keras.layers.ReLU(name=name + "_out")(keras.layers.Add(name=name + "_add")([h, shortcut]))

    h = keras.layers.ReLU(name="stem_relu")(conv_bn(inputs, 16, 3, 2, "stem_conv"))
    for i, (filters, strides) in enumerate(((16, 1), (32, 2), (64, 2), (128, 2))):
        h = residual_block(h, filters, strides, f"block{i + 1}")
    features = h
h = keras.layers.Flatten(name="flatten")(features)
h = keras.layers.Dense(64, activation="relu", name="head_dense")(h)
h = keras.layers.Dropout(0.5, name="head_dropout")(h)
outputs = keras.layers.Dense(1, activation="sigmoid", name="head_output")(h)
model = keras.Model(inputs, outputs, name=job["arch"])
model.compile(optimizer=keras.optimizers.Adam(job["lr"]), loss="binary_crossentropy", metrics=["accuracy"])
result = fit(model, job, [])
result.update(params=int(model.count_params()), layers=len(model.layers))
model.save(job["out"], include_optimizer=False)
print("RESULT " + json.dumps(result))
"""

# The Keras float row: test accuracy and loss, predict_on_batch latency on one image.
KERAS_REFERENCE = COMMON + r"""
model = keras.models.load_model(job["h5"], compile=False)
model.compile(loss=job["loss"], metrics=["accuracy"])
result = evaluate(model, job)
one = np.load(job["test_x"])[:1]
for _ in range(3):
    model.predict_on_batch(one)
times = []
for _ in range(job["runs"]):
    start = time.perf_counter()
    model.predict_on_batch(one)
    times.append(time.perf_counter() - start)
result.update(ms=statistics.median(times) * 1000, runs=len(times), params=int(model.count_params()))
print("RESULT " + json.dumps(result))
"""

# Fine-tuning: mode "masks" (keraslite's magnitude-pruned .h5, zeros kept by a callback), "tfmot" (the
# float .h5, prune_low_magnitude on the given layers, UpdatePruningStep) or "plain" (the channel-pruned
# .h5: an ordinary, smaller model).
FINE_TUNE = COMMON + r"""
model = keras.models.load_model(job["h5"], compile=False)
callbacks, result = [], {}
if job["mode"] == "tfmot":
    import tensorflow_model_optimization as tfmot
    # Masks computed once, at the first training step (tfmot 0.8 numbers steps from 1: the usual
    # begin_step=0, frequency=100 would first prune at step 100, after the digits' 90 steps).
    schedule = tfmot.sparsity.keras.ConstantSparsity(job["sparsity"], begin_step=0, end_step=1, frequency=1)
    selected = set(job["layers"])
    probe = np.load(job["test_x"])[:4]
    reference = model.predict(probe, verbose=0)
    model = keras.models.clone_model(
        model, clone_function=lambda layer: tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
        if layer.name in selected else layer)
    wrapped = [l for l in model.layers if hasattr(l, "pruning_obj")]  # PruneLowMagnitude wrappers
    assert sorted(l.layer.name for l in wrapped) == sorted(selected), [l.name for l in wrapped]
    # clone_model reuses the original layer objects: the wrapped model starts from the same weights.
    assert np.abs(model.predict(probe, verbose=0) - reference).max() < 1e-5
    callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
elif job["mode"] == "masks":
    # The kernels (rank ≥ 2) of the pruned layers, each with its zero mask.
    masked = [(w, tf.constant((w.numpy() != 0).astype(np.float32))) for layer in model.layers
              if layer.name in job["layers"] for w in layer.weights if len(w.shape) >= 2]
    class KeepZeros(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            for variable, mask in masked:
                variable.assign(variable * mask)
    callbacks.append(KeepZeros())
model.compile(optimizer=keras.optimizers.Adam(job["lr"]), loss=job["loss"], metrics=["accuracy"])
result["before"] = evaluate(model, job)
result.update(fit(model, job, callbacks))
result.update(evaluate(model, job))
result["params"] = int(model.count_params())
if job["mode"] == "tfmot":  # what TF_CONVERT converts: the model after strip_pruning, in Keras
    stripped = tfmot.sparsity.keras.strip_pruning(model)
    stripped.compile(loss=job["loss"], metrics=["accuracy"])
    result["stripped"] = evaluate(stripped, job)
# The kernels of the pruned layers after training: their sparsity, and the zeros against keraslite's.
kernels = {}
for layer in model.layers:
    inner = getattr(layer, "layer", layer)
    if inner.name in job.get("layers", []):
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
model.save(job["out"], include_optimizer=False)
print("RESULT " + json.dumps(result))
"""

# TensorFlow's converter: float and int8 of the float model, int8 of the tfmot model after strip_pruning.
TF_CONVERT = r"""
import json, sys, time
import numpy as np, tensorflow as tf, tf_keras as keras
import tensorflow_model_optimization as tfmot
job = json.loads(sys.argv[1])
samples = np.load(job["calibration"])
result = {}
for tag, (h5, out, int8) in job["files"].items():
    start = time.perf_counter()
    with tfmot.sparsity.keras.prune_scope():
        model = keras.models.load_model(h5, compile=False)
    model = tfmot.sparsity.keras.strip_pruning(model)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([samples[i:i + 1]] for i in range(len(samples)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    data = converter.convert()
    with open(out, "wb") as f:
        f.write(data)
    result[tag] = {"seconds": time.perf_counter() - start}
print("RESULT " + json.dumps(result))
"""

EVALUATE = r"""
import json, statistics, sys, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter
job = json.loads(sys.argv[1])
x, labels = np.load(job["x"]), np.load(job["labels"])
result, loaded = {}, {}
for tag, path in job["files"].items():
    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    loaded[tag] = (it, it.get_input_details()[0]["index"], it.get_output_details()[0]["index"])

def predict(model, sample):
    it, i, o = model
    it.set_tensor(i, np.ascontiguousarray(sample[None], dtype=np.float32))
    it.invoke()
    return np.array(it.get_tensor(o))[0]

outputs = {}
for tag, model in loaded.items():
    out = outputs[tag] = np.stack([predict(model, s) for s in x]).astype(np.float64)
    if out.shape[1] == 1:  # sigmoid: binary cross-entropy, Keras' clipping
        p, y = np.clip(out[:, 0], 1e-7, 1 - 1e-7), labels.astype(np.float64).ravel()
        predicted = (out[:, 0] > 0.5).astype(np.int64)
        loss = float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    else:  # softmax: sparse categorical cross-entropy
        predicted = out.argmax(1)
        loss = float(np.mean(-np.log(np.clip(out[np.arange(len(labels)), labels], 1e-7, 1.0))))
    correct = int(np.sum(predicted == labels.ravel().astype(np.int64)))
    result[tag] = {"accuracy": correct / len(labels), "correct": correct, "n": len(labels), "loss": loss}

def timed(model, inner):
    invoke = model[0].invoke
    start = time.perf_counter()
    for _ in range(inner):
        invoke()
    return (time.perf_counter() - start) / inner

for model in loaded.values():
    predict(model, x[0])
    for _ in range(5):
        model[0].invoke()
# Each file's block of back-to-back invokes lasts about 2 ms, so that every file is as exposed to the
# other processes of a shared machine (one block count for all made the slowest file's blocks the longest:
# MobileNetV2's float file measured a median of 0.654 ms against a minimum of 0.359 ms under load 6).
inner = {tag: max(1, min(1000, int(0.002 / max(min(timed(m, 1) for _ in range(3)), 1e-7)))) for tag, m in loaded.items()}
tags = list(loaded)
times = {tag: [] for tag in tags}
for r in range(job["rounds"]):
    order = tags[r % len(tags):] + tags[:r % len(tags)]
    for tag in order:
        times[tag].append(timed(loaded[tag], inner[tag]))
for tag in tags:
    result[tag].update(ms=statistics.median(times[tag]) * 1000, ms_min=min(times[tag]) * 1000,
                       rounds=job["rounds"], inner=inner[tag])
print("RESULT " + json.dumps(result))
"""

# ----------------------------------------------------------------------------------------------
# Running things
# ----------------------------------------------------------------------------------------------


def progress(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class CommandFailed(RuntimeError):
    def __init__(self, message, stderr):
        super().__init__(message)
        self.stderr = stderr


def run(command, env=None):
    """Runs command as a child process: (seconds, peak RSS MB, stdout). Peak RSS from GNU time's %M
    when installed (wait4's ru_maxrss of a child forked from this process can include this process' pages)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *map(str, command)] if os.access(TIME, os.X_OK) else list(map(str, command))
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, env=dict(ENV, **(env or {})), stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            stderr = err.read().decode(errors="replace")
            what = " ".join(map(str, command[:2])) + (" " + str(command[2]).strip().splitlines()[0] if len(command) > 2 else "")
            raise CommandFailed(f"{what[:200]} … failed ({code}):\n{stderr[-3000:]}", stderr)
        peak = usage.ru_maxrss / 1024
        if wrapped[0] == TIME:
            try:
                peak = int(rss.read().strip().splitlines()[-1]) / 1024
            except (ValueError, IndexError):
                pass
        return elapsed, peak, out.read().decode(errors="replace")


def python(script, job, env=None):
    """Runs a child script with a JSON job; returns (seconds, peak MB, the RESULT object or {})."""
    seconds, peak, out = run([PYTHON, "-c", script, json.dumps({k: str(v) if isinstance(v, pathlib.Path) else v
                                                                  for k, v in job.items()})], env)
    result = json.loads(out.split("RESULT ", 1)[1].splitlines()[0]) if "RESULT " in out else {}
    return seconds, peak, result


def keraslite(*args):
    return run([BINARY, *args])


def has_channel_pruning():
    """Whether this keraslite binary's `prune` has --channels (asked once, from its help)."""
    return "--channels" in run([BINARY, "prune", "--help"])[2]


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


def facemask_split(root=DATASET, seed=SPLIT_SEED):
    """The fixed stratified split: {"train"|"validation"|"test": [(relative path, label)]}. Per class,
    the sorted file names are permuted by default_rng(seed); the first 15% go to test, the next 15% to
    validation, the rest to training. The training list is then shuffled once more (same generator),
    so its first CALIBRATION images are a random sample of both classes."""
    rng = np.random.default_rng(seed)
    split = {"train": [], "validation": [], "test": []}
    for label, name in enumerate(CLASSES):
        files = sorted(p.name for p in (pathlib.Path(root) / name).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        order = [files[i] for i in rng.permutation(len(files))]
        n_test, n_validation = round(len(files) * TEST_FRACTION), round(len(files) * VALIDATION_FRACTION)
        split["test"] += [(f"{name}/{f}", label) for f in order[:n_test]]
        split["validation"] += [(f"{name}/{f}", label) for f in order[n_test:n_test + n_validation]]
        split["train"] += [(f"{name}/{f}", label) for f in order[n_test + n_validation:]]
    split["train"] = [split["train"][i] for i in rng.permutation(len(split["train"]))]
    return split


def load_images(root, entries, size):
    from PIL import Image

    x = np.empty((len(entries), size, size, 3), np.float32)
    for i, (path, _) in enumerate(entries):
        with Image.open(pathlib.Path(root) / path) as image:
            x[i] = np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR), np.float32) / 255.0
    return x, np.array([label for _, label in entries], np.float32)


def prepare_facemask(size=INPUT_SIZE):
    """The split's arrays, cached under build-bench/reproduce/facemask_<size>px/ (reused when split.json
    lists the same files)."""
    cache = WORK / f"facemask_{size}px"
    cache.mkdir(parents=True, exist_ok=True)
    split = facemask_split()
    manifest = {"root": str(DATASET), "size": size, "seed": SPLIT_SEED, "split": split}
    files = {f"{part}_{axis}": cache / f"{part}_{axis}.npy" for part in split for axis in "xy"}
    files["calibration"] = cache / "calibration.npy"
    manifest_path = cache / "split.json"
    if not (manifest_path.is_file() and json.loads(manifest_path.read_text()) == json.loads(json.dumps(manifest))
            and all(f.is_file() for f in files.values())):
        progress(f"face-mask: reading {sum(map(len, split.values()))} images at {size}×{size} ...")
        for part, entries in split.items():
            x, y = load_images(DATASET, entries, size)
            np.save(files[f"{part}_x"], x)
            np.save(files[f"{part}_y"], y)
        np.save(files["calibration"], np.load(files["train_x"])[:CALIBRATION])
        manifest_path.write_text(json.dumps(manifest))
    counts = {part: {"total": len(entries), **{name: sum(1 for _, l in entries if l == label)
                                               for label, name in enumerate(CLASSES)}}
              for part, entries in split.items()}
    return files, counts


def prepare_digits(work):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target.astype(np.int64), test_size=0.2, random_state=0)
    if not (np.array_equal(x_test, np.load(SAMPLES / "digits_test_x.npy"))
            and np.array_equal(y_test, np.load(SAMPLES / "digits_test_y.npy"))):
        raise SystemExit("Samples/digits_test_*.npy are not sklearn's test split")
    files = {"train_x": work / "train_x.npy", "train_y": work / "train_y.npy", "calibration": work / "calibration.npy",
             "test_x": SAMPLES / "digits_test_x.npy", "test_y": SAMPLES / "digits_test_y.npy"}
    np.save(files["train_x"], x_train)
    np.save(files["train_y"], y_train)
    np.save(files["calibration"], x_train[:CALIBRATION])
    return files, {"train": {"total": len(x_train)}, "test": {"total": len(x_test)}}


# ----------------------------------------------------------------------------------------------
# One model
# ----------------------------------------------------------------------------------------------


def train_float(key, spec, data, work):
    """float.h5, trained here unless float.json shows the same recipe (RETRAIN=1 forces it)."""
    job = {"arch": spec["arch"], "alpha": spec.get("alpha"), "lr": spec["lr"], "size": INPUT_SIZE,
           "epochs": EPOCHS, "augment": True, "patience": 8, "lr_patience": 3, "train_x": data["train_x"], "train_y": data["train_y"],
           "val_x": data["validation_x"], "val_y": data["validation_y"], "test_x": data["test_x"],
           "test_y": data["test_y"], "out": work / "float.h5"}
    recipe = hashlib.sha256((json.dumps({k: str(v) for k, v in job.items()}, sort_keys=True) + TRAIN
                             + (WORK / f"facemask_{INPUT_SIZE}px" / "split.json").read_text()
                             ).encode()).hexdigest()
    meta = work / "float.json"
    if not RETRAIN and meta.is_file() and (work / "float.h5").is_file():
        cached = json.loads(meta.read_text())
        if cached.get("recipe") == recipe:
            progress(f"{spec['name']}: float.h5 from an earlier run with the same recipe (RETRAIN=1 retrains)")
            cached["result"]["cached"] = True
            return cached["result"]
    progress(f"{spec['name']}: training from scratch (≤ {EPOCHS} epochs, early stopping) ...")
    seconds, _, result = python(TRAIN, job)
    result["wall_seconds"] = seconds
    meta.write_text(json.dumps({"recipe": recipe, "result": result}))
    return result


def reproduce(key, m, work, channels_available):
    r = {"key": key, "name": m["name"], "split": m["counts"]}
    data = m["data"]
    f = {"h5": m["h5"], "float": work / "float.tflite", "int8": work / "int8.tflite",
         "magnitude": work / "magnitude.h5", "magnitude_tuned": work / "magnitude_tuned.h5",
         "magnitude_int8": work / "magnitude_int8.tflite", "channels": work / "channels.h5",
         "channels_tuned": work / "channels_tuned.h5", "channels_int8": work / "channels_int8.tflite",
         "tf_float": work / "tf_float.tflite", "tf_int8": work / "tf_int8.tflite",
         "tfmot_tuned": work / "tfmot_tuned.h5", "tfmot_int8": work / "tfmot_int8.tflite"}
    for k, path in f.items():
        if k != "h5":
            path.unlink(missing_ok=True)
    loss = m["loss"]
    evaluation = {"test_x": data["test_x"], "test_y": data["test_y"], "loss": loss}

    progress(f"{m['name']}: Keras float (test accuracy, predict_on_batch latency) ...")
    _, _, r["keras"] = python(KERAS_REFERENCE, {"h5": f["h5"], "runs": 30, **evaluation})

    progress(f"{m['name']}: keraslite convert float / int8 ...")
    r["keraslite_seconds"] = {}
    r["keraslite_seconds"]["float"] = keraslite("convert", f["h5"], "-o", f["float"], "--quiet")[0]
    r["keraslite_seconds"]["int8"] = keraslite("convert", f["h5"], "-o", f["int8"], "--quantize", "int8",
                                               "--calibration", data["calibration"], "--quiet")[0]

    def fine_tune(mode, h5, out, layers, env=None, **extra):
        job = {"mode": mode, "h5": h5, "out": out, "layers": layers, "sparsity": SPARSITY, "train_x": data["train_x"],
               "train_y": data["train_y"], "val_x": data.get("validation_x"), "val_y": data.get("validation_y"),
               **m["fine_tune"], **evaluation, **extra}
        seconds, _, result = python(FINE_TUNE, job, env)
        result["wall_seconds"] = seconds
        return result

    progress(f"{m['name']}: keraslite prune --sparsity {SPARSITY} → fine-tune (masks) → int8 ...")
    seconds, _, out = keraslite("prune", f["h5"], "-o", f["magnitude"], "--sparsity", str(SPARSITY), "--json")
    report = json.loads(out)
    layers = [k["layer"] for k in report["kernels"]]
    r["magnitude"] = {"prune_seconds": seconds, "layers": layers, "sparsity_after": report["sparsity_after"],
                      "params": report["params"], "zeros_after": report["zeros_after"]}
    r["magnitude"]["fine_tune"] = fine_tune("masks", f["magnitude"], f["magnitude_tuned"], layers)
    r["keraslite_seconds"]["magnitude_int8"] = keraslite(
        "convert", f["magnitude_tuned"], "-o", f["magnitude_int8"], "--quantize", "int8",
        "--calibration", data["calibration"], "--quiet")[0]

    if channels_available:
        progress(f"{m['name']}: keraslite prune --channels {CHANNELS} → fine-tune → int8 ...")
        try:
            seconds, _, out = keraslite("prune", f["h5"], "-o", f["channels"], "--channels", str(CHANNELS),
                                        "--round-to", str(ROUND_TO), "--json")
            r["channels"] = {"prune_seconds": seconds, "report": json.loads(out)}
            # TensorFlow's oneDNN kernels corrupt the heap (SIGSEGV / "corrupted size vs. prev_size") in fit()
            # of the halved small ResNet (widths 8, 8, 16, 32, 64, Dense 32) — also when that model is built
            # directly in tf_keras, so not a property of keraslite's file; TF's own kernels train it.
            r["channels"]["fine_tune"] = fine_tune("plain", f["channels"], f["channels_tuned"], [],
                                                   env={"TF_ENABLE_ONEDNN_OPTS": "0"}, **m["channels_fine_tune"])
            r["keraslite_seconds"]["channels_int8"] = keraslite(
                "convert", f["channels_tuned"], "-o", f["channels_int8"], "--quantize", "int8",
                "--calibration", data["calibration"], "--quiet")[0]
        except CommandFailed as error:  # the row says so; the rest of the table still runs
            progress(f"{m['name']}: channel row failed: {error}")
            r["channels"] = {"pending": "failed: " + str(error).splitlines()[0][:150]}
            f["channels_int8"].unlink(missing_ok=True)
    else:
        r["channels"] = {"pending": "keraslite prune --channels not available"}

    progress(f"{m['name']}: tensorflow-model-optimization prune_low_magnitude → fine-tune ...")
    r["tfmot"] = fine_tune("tfmot", f["h5"], f["tfmot_tuned"], layers, compare_with=f["magnitude"])
    progress(f"{m['name']}: TFLiteConverter float, int8, tfmot → strip → int8 ...")
    _, _, r["tf_seconds"] = python(TF_CONVERT, {"calibration": data["calibration"], "files": {
        "tf_float": [str(f["h5"]), str(f["tf_float"]), False], "tf_int8": [str(f["h5"]), str(f["tf_int8"]), True],
        "tfmot_int8": [str(f["tfmot_tuned"]), str(f["tfmot_int8"]), True]}})

    tflites = [k for k in ("float", "int8", "magnitude_int8", "channels_int8", "tf_float", "tf_int8", "tfmot_int8")
               if f[k].is_file()]
    progress(f"{m['name']}: LiteRT test accuracy and latency ({ROUNDS} rounds) ...")
    _, _, r["litert"] = python(EVALUATE, {"files": {k: str(f[k]) for k in tflites}, "x": data["test_x"],
                                          "labels": data["test_y"], "rounds": ROUNDS})
    r["bytes"] = {k: f[k].stat().st_size for k in ("h5", "magnitude", "channels", "channels_tuned", *tflites)
                  if f[k].is_file()}
    return r


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------

ROWS = [  # (key in litert / special, pipeline)
    ("keras", "Keras float (tf_keras; latency = TF predict_on_batch)"),
    ("float", "keraslite convert: float .tflite"),
    ("int8", "keraslite convert --quantize int8"),
    ("magnitude_int8", "keraslite prune --sparsity 0.5 → fine-tune (masks) → int8"),
    ("channels_int8", "keraslite prune --channels 0.5 → fine-tune → int8"),
    ("tf_float", "TFLiteConverter: float .tflite"),
    ("tf_int8", "TFLiteConverter: int8"),
    ("tfmot_int8", "tfmot prune_low_magnitude 0.5 → fine-tune → strip → TFLiteConverter int8"),
]


def rows_of(r):
    """(pipeline, accuracy, loss, ms, × faster, bytes, % of float, targets) per row; None where not measured."""
    lit, b = r["litert"], r["bytes"]
    float_ms, float_bytes, float_accuracy = lit["float"]["ms"], b["float"], r["keras"]["keras_accuracy"]
    rows = []
    for key, pipeline in ROWS:
        if key == "keras":
            k = r["keras"]
            rows.append({"key": key, "pipeline": pipeline, "accuracy": k["keras_accuracy"], "loss": k["keras_loss"],
                         "ms": k["ms"], "speedup": None, "bytes": b["h5"], "percent": b["h5"] / float_bytes * 100,
                         "targets": None})
            continue
        if key not in lit:
            rows.append({"key": key, "pipeline": pipeline, "pending": r["channels"].get("pending", "not run")})
            continue
        e = lit[key]
        row = {"key": key, "pipeline": pipeline, "accuracy": e["accuracy"], "loss": e["loss"], "ms": e["ms"],
               "speedup": float_ms / e["ms"], "bytes": b[key], "percent": b[key] / float_bytes * 100}
        row["targets"] = {"size": row["percent"] <= TARGET_SIZE_PERCENT, "latency": row["speedup"] >= TARGET_SPEEDUP,
                          "accuracy": (float_accuracy - e["accuracy"]) * 100 <= TARGET_ACCURACY_DROP}
        rows.append(row)
    return rows


def print_tables(results):
    print(f"| model | pipeline | test accuracy | test loss | LiteRT latency ms | × faster than float .tflite "
          f"| size MB | % of float .tflite | targets (≤ {TARGET_SIZE_PERCENT}% size, ≥ {TARGET_SPEEDUP}×, "
          f"≤ {TARGET_ACCURACY_DROP:g} pt accuracy drop) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        for row in r["rows"]:
            if "pending" in row:
                print(f"| {r['name']} | {row['pipeline']} | pending: {row['pending']} | | | | | | |")
                continue
            ms = f"{row['ms']:.3g} (Keras)" if row["key"] == "keras" else f"{row['ms']:.3g}"
            speed = "—" if row["speedup"] is None else f"{row['speedup']:.2f}×"
            t = row["targets"]
            if t is None:
                targets = "—"
            else:
                met = [name for name in ("size", "latency", "accuracy") if t[name]]
                targets = "**all met**" if len(met) == 3 else ("met: " + ", ".join(met) if met else "none met")
            print(f"| {r['name']} | {row['pipeline']} | {row['accuracy'] * 100:.2f}% | {row['loss']:.4f} | {ms} "
                  f"| {speed} | {row['bytes'] / MB:.3f} | {row['percent']:.2f}% | {targets} |")
    print()
    for r in results:
        notes = []
        if "train" in r:
            t = r["train"]
            notes.append(f"trained {t['epochs_run']} epochs in {t['train_seconds']:.0f} s"
                         + (" (cached from an earlier run)" if t.get("cached") else "")
                         + f", {t['params']:,} parameters, best val_loss {min(t['history']['val_loss']):.4f}")
        if r.get("split"):
            notes.append("split " + ", ".join(f"{part} {c['total']}" + (f" ({c.get('with_mask')} with / {c.get('without_mask')} without)"
                                                                       if "with_mask" in c else "")
                                              for part, c in r["split"].items()))
        mag = r["magnitude"]
        notes.append(f"magnitude: {len(mag['layers'])} kernels pruned (model sparsity {mag['sparsity_after'] * 100:.1f}%); "
                     f"fine-tuned {mag['fine_tune']['epochs_run']} epochs, Keras accuracy "
                     f"{mag['fine_tune']['before']['keras_accuracy'] * 100:.2f}% → {mag['fine_tune']['keras_accuracy'] * 100:.2f}%")
        tf = r["tfmot"]
        notes.append(f"tfmot: kernel sparsity {min(tf['sparsity'].values()) * 100:.1f}–{max(tf['sparsity'].values()) * 100:.1f}% "
                     f"after fine-tuning, zeros in the same places as keraslite's pruned file: "
                     f"{tf.get('zeros_same_place', float('nan')) * 100:.2f}%; fine-tuned {tf['epochs_run']} epochs, "
                     f"Keras accuracy {tf['keras_accuracy'] * 100:.2f}%")
        ch = r["channels"]
        if "fine_tune" in ch:
            rep = ch.get("report", {})
            notes.append(f"channels (--round-to {ROUND_TO}, l1): params {r['keras']['params']:,} → {ch['fine_tune']['params']:,}, "
                         f"MACs {rep.get('macs_before', 0):,} → {rep.get('macs_after', 0):,}; fine-tuned "
                         f"{ch['fine_tune']['epochs_run']} epochs, Keras accuracy {ch['fine_tune']['before']['keras_accuracy'] * 100:.2f}% "
                         f"→ {ch['fine_tune']['keras_accuracy'] * 100:.2f}%")
        else:
            notes.append(f"channels: {ch['pending']}")
        lit = r["litert"]
        notes.append(f"LiteRT {lit['float']['rounds']} rounds, blocks of " + "/".join(str(v["inner"]) for v in lit.values())
                     + " invokes (" + ", ".join(f"{k} min {v['ms_min']:.3g} ms" for k, v in lit.items() if k in ("float", "channels_int8"))
                     + f"); correct of "
                     f"{lit['float']['n']}: " + ", ".join(f"{k} {v['correct']}" for k, v in lit.items()))
        print(f"- {r['name']}: " + "; ".join(notes))
    print()
    for r in results:
        winners = [row["pipeline"] for row in r["rows"] if row.get("targets") and all(row["targets"].values())]
        print(f"- targets, {r['name']}: " + (("met by " + "; ".join(winners)) if winners else "not met by any row"))


def versions():
    code = ("from importlib.metadata import version as v; print(' '.join(v(p) for p in ('tensorflow', 'tf-keras', "
            "'tensorflow-model-optimization', 'ai-edge-litert', 'numpy')))")
    tf_v, tfk_v, tfmot_v, litert_v, np_v = run([PYTHON, "-c", code])[2].split()[-5:]
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    return (f"TensorFlow {tf_v}, tf_keras {tfk_v}, tensorflow-model-optimization {tfmot_v}, ai-edge-litert {litert_v}, "
            f"numpy {np_v}, Python {platform.python_version()}, {swift[0].strip() if swift else 'swift ?'}")


def remeasure():
    """REMEASURE=1: LiteRT again on the last full run's files; the other columns are the run's."""
    summary = json.loads((WORK / "results.json").read_text())
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    for r in summary["models"]:
        work = WORK / "full" / r["key"]
        data = prepare_digits(work)[0] if r["key"] == "digits" else prepare_facemask()[0]
        tags = [k for k in r["litert"]]
        progress(f"{r['name']}: LiteRT again ({ROUNDS} rounds) ...")
        _, _, r["litert"] = python(EVALUATE, {"files": {k: str(work / f"{k}.tflite") for k in tags}, "x": data["test_x"],
                                              "labels": data["test_y"], "rounds": ROUNDS})
        r["rows"] = rows_of(r)
    summary.update(remeasured={"seconds": time.perf_counter() - started, "load_average": [load_before, os.getloadavg()[0]]})
    (WORK / "results_remeasured.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"LiteRT measured again on the files of the last full run; 1-min load average {load_before:.2f} at the "
          f"start, {os.getloadavg()[0]:.2f} at the end")
    print()
    print_tables(summary["models"])


def main():
    if os.environ.get("REMEASURE", "") not in ("", "0"):
        return remeasure()
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"{BINARY} not found; run `swift build -c release --product keraslite` first")
    import importlib.util
    if importlib.util.find_spec("tensorflow_model_optimization") is None:
        raise SystemExit("tensorflow-model-optimization is missing: pip install -r requirements-bench.txt")
    wanted = [w.strip().lower() for w in os.environ.get("MODELS", "mobilenetv2,resnet,digits").split(",") if w.strip()]
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    channels_available = has_channel_pruning()
    if not channels_available:
        progress(f"{BINARY} prune has no --channels: the channel rows are pending")
    results = []
    for key in wanted:
        work = WORK / ("quick" if QUICK else "full") / key
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if key == "digits":
            data, counts = prepare_digits(work)
            m = {"name": "digits CNN (sklearn)", "h5": SAMPLES / "digits_cnn_k2.h5", "loss": "sparse_categorical_crossentropy",
                 "fine_tune": {"epochs": 1 if QUICK else 2, "lr": 1e-4, "augment": False}}
            m["channels_fine_tune"] = m["fine_tune"]
            extra = {}
        elif key in FACEMASK_MODELS:
            spec = FACEMASK_MODELS[key]
            data, counts = prepare_facemask()
            extra = {"train": train_float(key, spec, data, work)}
            m = {"name": spec["name"], "h5": work / "float.h5", "loss": "binary_crossentropy",
                 "fine_tune": {"epochs": FT_EPOCHS, "lr": 2e-4, "augment": True, "patience": 2, "lr_patience": 1},
                 # Removing half of every layer's channels restarts the model near chance: a retraining.
                 "channels_fine_tune": {"epochs": 2 * FT_EPOCHS, "lr": 5e-4, "patience": 4, "lr_patience": 2}}
        else:
            raise SystemExit(f"unknown model {key!r} (MODELS: mobilenetv2, resnet, digits)")
        m.update(data=data, counts=counts)
        r = reproduce(key, m, work, channels_available)
        r.update(extra)
        r["rows"] = rows_of(r)
        r["seconds"] = time.perf_counter() - t0
        progress(f"{m['name']}: done in {r['seconds']:.0f} s")
        results.append(r)
    total = time.perf_counter() - started
    WORK.mkdir(parents=True, exist_ok=True)
    binary_sha256 = hashlib.sha256(pathlib.Path(BINARY).read_bytes()).hexdigest()
    summary = {"quick": QUICK, "binary": BINARY, "binary_sha256": binary_sha256, "channels_available": channels_available,
               "channel_options": {"channels": CHANNELS, "round_to": ROUND_TO, "criterion": "l1 (default)"}, "seconds": total,
               "load_average": [load_before, os.getloadavg()[0]], "versions": versions(), "models": results}
    (WORK / ("results_quick.json" if QUICK else "results.json")).write_text(json.dumps(summary, indent=1, default=str))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; total run {total:.0f} s; "
          f"1-min load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
          + ("; QUICK=1 smoke run: the figures mean nothing" if QUICK else ""))
    print(summary["versions"])
    print(f"keraslite: {BINARY} (sha256 {binary_sha256[:12]})" + ("" if channels_available else " (no prune --channels: channel rows pending)"))
    print()
    print_tables(results)


if __name__ == "__main__":
    main()

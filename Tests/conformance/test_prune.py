"""`keraslite prune` against Keras itself:

- per-layer scope hits the sparsity exactly in every pruned kernel, global scope within 0.5 point
  overall; 2:4 files satisfy the pattern along the input-channel axis everywhere;
- the pruned .h5 loads in Keras 3 and (for files Keras 2 wrote) in tf_keras, and Keras' outputs of
  the pruned file equal LiteRT's outputs of `keraslite convert --prune` of the original;
- the trained digits CNN keeps its accuracy through the seed paper's recipe: prune 50%, a short
  Keras fine-tune (the zeros kept by a mask, as tensorflow-model-optimization does), int8 convert
  — within 1 point of the float original in LiteRT.

Bit-identity of everything the pruning did not change is checked by test_weight_writer.py."""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import convert_support as cs
from conftest import SAMPLES, keraslite

KERNEL_AXES = {"Conv1D": 1, "Conv2D": 2, "Dense": 0, "Conv2DTranspose": 3}  # input-channel axis in Keras' layout


def kernels(path):
    """{dataset path: array} of every 'kernel' dataset of a legacy .h5 (model_weights)."""
    found = {}
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f

        def visit(name, item):
            if isinstance(item, h5py.Dataset) and name.split("/")[-1].startswith("kernel"):
                found[name] = item[()]
        root.visititems(visit)
    return found


def run_keras(path, x, keras_module="keras"):
    code = r'''
import os, sys, numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
module = sys.argv[1]
keras = __import__("tf_keras" if module == "tf_keras" else "keras")
model = keras.models.load_model(sys.argv[2], compile=False)
x = np.load(sys.argv[3])
np.save(sys.argv[4], model.predict(x, verbose=0))
'''
    out = str(path) + f".{keras_module}.npy"
    np.save(str(path) + ".x.npy", x)
    subprocess.run([sys.executable, "-c", code, keras_module, str(path), str(path) + ".x.npy", out], check=True,
                   capture_output=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1"))
    return np.load(out)


@pytest.mark.parametrize("sample", ["digits_cnn_k2.h5", "small_resnet_k2.h5", "small_vgg_k3.h5"])
def test_per_layer_sparsity_is_exact_and_keras_agrees_with_litert(sample, tmp_path):
    pruned = tmp_path / sample
    report = json.loads(keraslite("prune", SAMPLES / sample, "-o", pruned, "--sparsity", "0.5", "--json").stdout)
    assert report["kernels"], report
    before, after = kernels(SAMPLES / sample), kernels(pruned)
    assert before.keys() == after.keys()
    pruned_count = 0
    for name, original in before.items():
        new = after[name]
        if original.size < 1024:
            assert np.array_equal(original, new), f"{name}: below --min-params, must be untouched"
            continue
        pruned_count += 1
        assert int(np.sum(new == 0)) == max(int(np.sum(original == 0)), round(0.5 * original.size)), name
        changed = new != original
        assert np.all(new[changed] == 0), f"{name}: values other than zeros changed"
        # The zeros are the smallest magnitudes.
        assert np.abs(original[changed]).max() <= np.abs(original[~changed & (original != 0)]).min() + 1e-12
    assert pruned_count == len(report["kernels"])
    # Keras runs the pruned file; its outputs equal LiteRT's on convert --prune of the original.
    x = np.load(SAMPLES / f"{sample.rsplit('.', 1)[0]}.inputs.npy")
    keras_out = run_keras(pruned, x, "tf_keras" if sample.endswith("_k2.h5") else "keras")
    tflite = tmp_path / "pruned.tflite"
    keraslite("convert", SAMPLES / sample, "-o", tflite, "--prune", "0.5", "--batch", "0", "--quiet")
    litert = cs.run_litert(tflite, [x])[0]
    assert np.abs(litert - keras_out).max() <= 1e-4 * max(1.0, float(np.abs(keras_out).max()))
    if sample.endswith("_k2.h5"):  # Keras 3 loads Keras 2 files too
        assert np.abs(run_keras(pruned, x, "keras") - keras_out).max() <= 1e-5


def test_global_scope_and_threshold(tmp_path):
    out = tmp_path / "global.h5"
    report = json.loads(keraslite("prune", SAMPLES / "small_resnet_k2.h5", "-o", out, "--sparsity", "0.6", "--scope", "global",
                                  "--min-params", "0", "--json").stdout)
    total = sum(k["params"] for k in report["kernels"])
    zeros = sum(k["zeros_after"] for k in report["kernels"])
    assert abs(zeros / total - 0.6) <= 0.005
    assert len({round(k["sparsity_after"], 2) for k in report["kernels"]}) > 1, "global scope should differ per layer"
    out = tmp_path / "threshold.h5"
    keraslite("prune", SAMPLES / "digits_cnn_k2.h5", "-o", out, "--threshold", "0.05", "--quiet")
    for name, new in kernels(out).items():
        original = kernels(SAMPLES / "digits_cnn_k2.h5")[name]
        if original.size >= 1024:
            assert np.array_equal(new, np.where(np.abs(original) < 0.05, 0, original)), name


def test_two_four_pattern(tmp_path):
    out = tmp_path / "24.h5"
    keraslite("prune", SAMPLES / "small_resnet_k2.h5", "-o", out, "--pattern", "2:4", "--min-params", "0", "--quiet")
    for name, kernel in kernels(out).items():
        axis = 0 if kernel.ndim == 2 else kernel.ndim - 2  # Dense I×O, Conv2D H×W×I×O
        moved = np.moveaxis(kernel, axis, -1)
        length = moved.shape[-1] // 4 * 4
        groups = moved[..., :length].reshape(-1, 4)
        assert np.all(np.sum(groups != 0, axis=1) <= 2), name


def test_keras_zip_round_trip(tmp_path):
    out = tmp_path / "pruned.keras"
    keraslite("prune", SAMPLES / "digits_cnn_k3.keras", "-o", out, "--sparsity", "0.5", "--quiet")
    x = np.load(SAMPLES / "digits_cnn_k3.inputs.npy")
    keras_out = run_keras(out, x, "keras")
    tflite = tmp_path / "p.tflite"
    keraslite("convert", SAMPLES / "digits_cnn_k3.keras", "-o", tflite, "--prune", "0.5", "--batch", "0", "--quiet")
    assert np.abs(cs.run_litert(tflite, [x])[0] - keras_out).max() <= 1e-4


def test_bad_prune_options(tmp_path):
    out = tmp_path / "x.h5"
    cases = [
        (["--sparsity", "1.5"], 64), (["--sparsity", "0.5", "--threshold", "0.1"], 64), ([], 64),
        (["--sparsity", "0.5", "--exclude", "no_such_layer"], 2), (["--sparsity", "0.5", "-o", tmp_path / "x.keras"], 2),
    ]
    for extra, code in cases:
        args = ["prune", SAMPLES / "digits_cnn_k2.h5", *(["-o", out] if "-o" not in extra else []), *extra]
        result = keraslite(*args, check=False)
        assert result.returncode == code, (extra, result.returncode, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
        assert not out.exists() and not (tmp_path / "x.keras").exists()


FINE_TUNE = r'''
import os, sys, numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tf_keras as keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
digits = load_digits()
x = (digits.images / 16.0).astype(np.float32)[..., None]
x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.2, random_state=0)
model = keras.models.load_model(sys.argv[1], compile=False)
masks = [[(w != 0).astype(np.float32) if w.ndim >= 2 else None for w in layer.get_weights()] for layer in model.layers]
class KeepZeros(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        for layer, layer_masks in zip(self.model.layers, masks):
            weights = layer.get_weights()
            if any(m is not None for m in layer_masks):
                layer.set_weights([w * m if m is not None else w for w, m in zip(weights, layer_masks)])
keras.utils.set_random_seed(0)
model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, batch_size=32, verbose=0, callbacks=[KeepZeros()])
model.save(sys.argv[2])
np.save(sys.argv[3], x_train[:200])
'''


def test_prune_fine_tune_int8_keeps_digits_accuracy(tmp_path):
    pruned, tuned, calibration = tmp_path / "pruned.h5", tmp_path / "tuned.h5", tmp_path / "calibration.npy"
    keraslite("prune", SAMPLES / "digits_cnn_k2.h5", "-o", pruned, "--sparsity", "0.5", "--quiet")
    subprocess.run([sys.executable, "-c", FINE_TUNE, str(pruned), str(tuned), str(calibration)], check=True, capture_output=True,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1"))
    x = np.load(SAMPLES / "digits_test_x.npy")
    y = np.load(SAMPLES / "digits_test_y.npy")
    original, final = tmp_path / "original.tflite", tmp_path / "final.tflite"
    keraslite("convert", SAMPLES / "digits_cnn_k2.h5", "-o", original, "--batch", "0", "--quiet")
    keraslite("convert", tuned, "-o", final, "--quantize", "int8", "--calibration", calibration, "--batch", "0", "--quiet")
    accuracy = {name: float(np.mean(cs.run_litert(path, [x])[0].argmax(1) == y)) for name, path in (("float", original), ("pruned int8", final))}
    print(accuracy)
    assert accuracy["pruned int8"] >= accuracy["float"] - 0.01
    # The zeros survived fine-tuning and int8 conversion (int8 zero stays zero: symmetric weights).
    sparsity = json.loads(keraslite("sparsity", final, "--json").stdout)
    kernels_after = [t for t in sparsity["tensors"] if t["name"] in ("conv2d_1/kernel", "dense/kernel")]
    assert kernels_after and all(t["zeros"] / t["total"] >= 0.5 for t in kernels_after), kernels_after


def test_recurrent_kernels_and_embeddings_are_pruned(tmp_path):
    """A real Embedding + GRU sentiment model (Samples/realworld, MIT): prune reaches the embedding
    table and the GRU's recurrent_kernel (each exactly 50%; its 4×120 input kernel is under
    --min-params), Keras 3
    loads the pruned file, and its outputs equal LiteRT's on `convert --prune` of the original."""
    source = SAMPLES / "realworld" / "sentiment_gru.h5"
    pruned = tmp_path / "sentiment_gru.h5"
    report = json.loads(keraslite("prune", source, "-o", pruned, "--sparsity", "0.5", "--json").stdout)
    names = sorted(kernel["tensor"] for kernel in report["kernels"])
    assert any("embedding" in n for n in names) and any("recurrent_kernel" in n for n in names), names
    with h5py.File(source, "r") as f_before, h5py.File(pruned, "r") as f_after:
        def datasets(f):
            found = {}
            f["model_weights"].visititems(lambda name, item: found.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
            return found
        before, after = datasets(f_before), datasets(f_after)
    changed = [name for name in before if not np.array_equal(before[name], after[name])]
    assert sorted(name.split("/")[-1] for name in changed) == ["embeddings", "recurrent_kernel"], changed
    for name in changed:
        original, new = before[name], after[name]
        assert int(np.sum(new == 0)) == round(0.5 * original.size), name
        assert np.all(new[new != original] == 0)
    x = np.random.default_rng(0).integers(1, 2000, (3, 35)).astype(np.float32)
    keras_out = run_keras(pruned, x, "keras")
    tflite = tmp_path / "pruned.tflite"
    keraslite("convert", source, "-o", tflite, "--prune", "0.5", "--batch", "0", "--quiet")
    litert = np.concatenate([cs.run_litert(tflite, [x[i:i + 1]])[0] for i in range(len(x))])
    assert np.abs(litert - keras_out).max() <= 1e-4 * max(1.0, float(np.abs(keras_out).max()))

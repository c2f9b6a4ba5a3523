"""`keraslite convert --quantize float16|dynamic` against TensorFlow's converter in the same mode on
the same Keras 2 samples (TensorFlow converts tf_keras models natively): LiteRT's outputs must stay
within 1.5× TensorFlow's own error against Keras (plus 1e-6 for float noise), and our files must not
be larger than TensorFlow's. The digits CNN (a trained model) also keeps its test-set accuracy."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import convert_support as cs
from conftest import SAMPLES, keraslite

SAMPLES_K2 = ["digits_cnn_k2.h5", "seed_mobilenetv2_k2.h5", "multi_io_k2.h5"]  # conv + dense, depthwise, several I/O
MODES = ["float16", "dynamic"]

TF_CONVERT = r'''
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf, tf_keras as keras
out = sys.argv[1]
for path in sys.argv[2:]:
    model = keras.models.load_model(path, compile=False)
    stem = os.path.basename(path).rsplit(".", 1)[0]
    for mode in ("float16", "dynamic"):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "float16":
            converter.target_spec.supported_types = [tf.float16]
        open(os.path.join(out, f"{stem}.tf_{mode}.tflite"), "wb").write(converter.convert())
'''


@pytest.fixture(scope="module")
def tf_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tf_quantized")
    subprocess.run([sys.executable, "-c", TF_CONVERT, str(directory), *[str(SAMPLES / s) for s in SAMPLES_K2]],
                   check=True, capture_output=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    return directory


def sample_io(sample):
    stem = sample.rsplit(".", 1)[0]
    if (SAMPLES / f"{stem}.inputs.npz").exists():
        inputs, outputs = np.load(SAMPLES / f"{stem}.inputs.npz"), np.load(SAMPLES / f"{stem}.outputs.npz")
        return {k: inputs[k] for k in inputs.files}, [outputs[k] for k in outputs.files], list(outputs.files)
    return [np.load(SAMPLES / f"{stem}.inputs.npy")], [np.load(SAMPLES / f"{stem}.outputs.npy")], None


def error(tflite, inputs, expected, names, limit=8):
    worst = 0.0
    batch = len(next(iter(inputs.values())) if isinstance(inputs, dict) else inputs[0])
    for i in range(min(batch, limit)):
        one = {k: v[i:i + 1] for k, v in inputs.items()} if isinstance(inputs, dict) else [v[i:i + 1] for v in inputs]
        outputs = cs.run_litert(tflite, one, names)
        worst = max(worst, max(float(np.abs(o - e[i:i + 1]).max()) for o, e in zip(outputs, expected)))
    return worst


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sample", SAMPLES_K2)
def test_quantized_no_worse_than_tensorflow(tf_files, sample, mode, tmp_path):
    ours = tmp_path / f"ours_{mode}.tflite"
    float_file = tmp_path / "ours_float.tflite"
    keraslite("convert", SAMPLES / sample, "-o", ours, "--quantize", mode, "--quiet")
    keraslite("convert", SAMPLES / sample, "-o", float_file, "--quiet")
    theirs = tf_files / f"{sample.rsplit('.', 1)[0]}.tf_{mode}.tflite"
    inputs, expected, names = sample_io(sample)
    ours_error, tf_error = error(ours, inputs, expected, names), error(theirs, inputs, expected, names)
    scale = max(1.0, max(float(np.abs(e).max()) for e in expected))
    print(f"{sample} {mode}: keraslite {ours_error:.3g} ({ours.stat().st_size} B), "
          f"TensorFlow {tf_error:.3g} ({theirs.stat().st_size} B)")
    assert ours_error <= 1.5 * tf_error + 1e-6 * scale, (ours_error, tf_error)
    assert ours.stat().st_size <= theirs.stat().st_size, "keraslite's file is larger than TensorFlow's"
    assert ours.stat().st_size <= float_file.stat().st_size
    # The weights are what the mode says, in a file LiteRT reports the same way.
    report = json.loads(keraslite("inspect", ours, "--json").stdout)
    weights = [t for t in report["tensors"] if t["bytes"] > 0 and t["dtype"] != "int32"]
    weight_types = {t["dtype"] for t in weights}
    if mode == "float16":
        assert weight_types == {"float16"}, weight_types
    else:  # int8 exactly for the conv/depthwise/dense kernels of 1024 elements or more
        large = [t for t in weights if np.prod(t["shape"]) >= 1024]
        assert all(t["dtype"] == "int8" for t in large if t["name"].endswith("kernel")), large
        assert all(t["dtype"] == "float32" for t in weights if np.prod(t["shape"]) < 1024)
    if mode == "float16":
        assert report["op_counts"].get("DEQUANTIZE", 0) > 0


def test_trained_digits_keep_their_accuracy(tmp_path):
    x = np.load(SAMPLES / "digits_test_x.npy").astype(np.float32)
    y = np.load(SAMPLES / "digits_test_y.npy")
    accuracy = {}
    for mode in ["none", *MODES]:
        path = tmp_path / f"{mode}.tflite"
        keraslite("convert", SAMPLES / "digits_cnn_k2.h5", "-o", path, "--quantize", mode, "--batch", "0", "--quiet")
        logits = cs.run_litert(path, [x])[0]
        accuracy[mode] = float(np.mean(logits.argmax(1) == y))
    print(accuracy)
    assert accuracy["none"] > 0.9
    for mode in MODES:
        assert accuracy[mode] >= accuracy["none"] - 0.01, accuracy


def test_keep_float_and_min_elements(tmp_path):
    path = tmp_path / "dynamic.tflite"
    keraslite("convert", SAMPLES / "digits_cnn_k2.h5", "-o", path, "--quantize", "dynamic", "--keep-float", "dense", "--quiet")
    tensors = json.loads(keraslite("inspect", path, "--json").stdout)["tensors"]
    kinds = {t["name"]: t["dtype"] for t in tensors if t["bytes"] > 0}
    assert kinds["dense/kernel"] == "float32" and kinds["conv2d_1/kernel"] == "int8", kinds
    everything = tmp_path / "all.tflite"
    keraslite("convert", SAMPLES / "digits_cnn_k2.h5", "-o", everything, "--quantize", "dynamic", "--min-elements", "0", "--quiet")
    kinds = {t["name"]: t["dtype"] for t in json.loads(keraslite("inspect", everything, "--json").stdout)["tensors"] if t["bytes"] > 0}
    assert kinds["conv2d/kernel"] == "int8", kinds  # 144 elements: float by default, int8 with --min-elements 0
    result = keraslite("convert", SAMPLES / "digits_cnn_k2.h5", "-o", tmp_path / "x.tflite", "--quantize", "dynamic",
                       "--keep-float", "no_such_layer", check=False)
    assert result.returncode == 2 and "no_such_layer" in result.stderr and not (tmp_path / "x.tflite").exists()

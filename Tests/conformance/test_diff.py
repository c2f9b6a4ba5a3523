"""`keraslite diff` on Keras files and on .tflite files written by TensorFlow's converter and by
keraslite. Expected numbers come from LiteRT's interpreter (its view of the constant tensors,
dequantized with numpy) — never from keraslite."""
import json

import numpy as np
import pytest

from conftest import REALWORLD, SAMPLES, interpreter, keraslite


def diff_json(a, b, *options):
    result = keraslite("diff", a, b, "--json", *options, check=False)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["equal"] == (result.returncode == 0)
    return report


def by_name(path):
    it = interpreter(path)
    return it, {d["name"]: d for d in it.get_tensor_details()}


def dequantized(it, detail):
    """The interpreter's constant tensor as float64, dequantized per tensor or per channel."""
    values = it.get_tensor(detail["index"]).astype(np.float64)
    q = detail["quantization_parameters"]
    if detail["dtype"] in (np.float32, np.float16) or not len(q["scales"]):
        return values
    scales, zero_points = np.asarray(q["scales"], np.float64), np.asarray(q["zero_points"], np.float64)
    shape = [1] * values.ndim
    if scales.size > 1:
        shape[q["quantized_dimension"]] = scales.size
    return (values - zero_points.reshape(shape)) * scales.reshape(shape)


def check_weight_numbers(report, path_a, path_b):
    """Every paired weight's max |Δ|, relative L2 and cosine equal numpy's on LiteRT's tensors."""
    it_a, a = by_name(path_a)
    it_b, b = by_name(path_b)
    assert report["weights"], "no weights were paired"
    for weight in report["weights"]:
        x = dequantized(it_a, a[weight["name"]]).ravel()
        y = dequantized(it_b, b[weight.get("name_b", weight["name"])]).ravel()
        assert x.size == y.size == weight["elements"]
        # keraslite dequantizes into float32: allow float32 rounding of the values themselves.
        scale = max(np.abs(x).max(), np.abs(y).max(), 1e-30)
        assert weight["max_abs_diff"] == pytest.approx(np.abs(x - y).max(), rel=1e-5, abs=1e-6 * scale), weight["name"]
        norm = np.linalg.norm(x) or np.linalg.norm(y)
        expected_l2 = np.linalg.norm(x - y) / norm if norm else 0.0
        assert weight["rel_l2"] == pytest.approx(expected_l2, rel=1e-3, abs=1e-6), weight["name"]
        if np.linalg.norm(x) and np.linalg.norm(y):
            cosine = float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))
            assert weight["cosine"] == pytest.approx(cosine, abs=1e-7), weight["name"]
        assert weight["zeros_b"] == pytest.approx(np.count_nonzero(y == 0) / y.size)


def tf_file(tflite_files, name):
    return next(p for p in tflite_files if p.name == name)


def test_every_file_equals_itself(tflite_files):
    for path in tflite_files:
        report = diff_json(path, path)
        assert report["equal"], (path.name, report["summary"])
        assert report["structure"]["added"] == report["structure"]["removed"] == report["structure"]["changed"] == []
        assert all(w["max_abs_diff"] == 0 for w in report["weights"])
        assert report["unmatched_weights"] == {"a": [], "b": []}


def convertible_samples():
    files = [p for p in sorted(SAMPLES.glob("*.h5")) + sorted(SAMPLES.glob("*.keras")) if not p.name.endswith(".weights.h5")]
    return files + sorted(REALWORLD.glob("*.hdf5"))


@pytest.mark.parametrize("path", convertible_samples(), ids=lambda p: p.name)
def test_keras_file_equals_the_tflite_keraslite_made_from_it(path, tmp_path):
    target = tmp_path / "model.tflite"
    keraslite("convert", path, "-o", target, "--quiet")
    report = diff_json(path, target)
    assert report["equal"], report["summary"]
    assert report["a"]["params"] > 0 and report["b"]["ops"] == report["a"]["ops"]
    # A real change is seen: flip one weight element in the .tflite by +0.25.
    it, details = by_name(target)
    weights = [d for d in details.values() if d["dtype"] == np.float32 and it.get_tensor(d["index"]).size >= 4
               and d["name"] in {w["name"] for w in report["weights"]}]
    victim = max(weights, key=lambda d: it.get_tensor(d["index"]).size)  # the largest: its bytes are unique
    values = it.get_tensor(victim["index"])
    data = bytearray(target.read_bytes())
    offset = bytes(data).find(values.tobytes())
    assert offset > 0 and bytes(data).count(values.tobytes()) == 1
    changed = values.copy().ravel()
    changed[1] += np.float32(0.25)
    data[offset:offset + changed.nbytes] = changed.tobytes()
    edited = tmp_path / "edited.tflite"
    edited.write_bytes(bytes(data))
    report = diff_json(path, edited)
    assert not report["equal"]
    differing = [w for w in report["weights"] if not w["equal"]]
    assert [w["name"] for w in differing] == [victim["name"]], report["summary"]
    assert differing[0]["max_abs_diff"] == pytest.approx(abs(float(changed[1]) - float(values.ravel()[1])), rel=1e-6)
    assert report["structure"]["changed"] == []
    assert diff_json(path, edited, "--tolerance", "0.3")["equal"]


def test_float_vs_dynamic_range_reports_the_int8_weights(tflite_files):
    float_file, dynamic_file = tf_file(tflite_files, "tf_float.tflite"), tf_file(tflite_files, "tf_dynamic.tflite")
    report = diff_json(float_file, dynamic_file)
    assert not report["equal"]
    it, details = by_name(dynamic_file)
    int8_weights = {name for name, d in details.items() if d["dtype"] == np.int8 and it.get_tensor(d["index"]).size > 1}
    assert int8_weights, "TensorFlow wrote no int8 weights"
    changes = " | ".join(c for row in report["structure"]["changed"] for c in row["changes"])
    for name in int8_weights:
        short = name.split(";")[0]
        assert f"weight {short}" in changes and "dtype float32 → int8" in changes, (name, changes)
    assert {w["dtype_b"] for w in report["weights"] if not w["equal"]} == {"int8"}
    check_weight_numbers(report, float_file, dynamic_file)


def test_float_vs_float16_folds_dequantize(tflite_files):
    float_file, half_file = tf_file(tflite_files, "tf_float.tflite"), tf_file(tflite_files, "tf_float16.tflite")
    report = diff_json(float_file, half_file)
    assert report["structure"]["added"] == [] and report["structure"]["removed"] == [], "DEQUANTIZE not folded"
    assert {w["dtype_b"] for w in report["weights"]} == {"float16"}
    assert all(w["max_abs_diff"] <= 1e-2 and w["cosine"] > 0.99999 for w in report["weights"])
    check_weight_numbers(report, float_file, half_file)


def test_float_vs_full_int8(tflite_files):
    float_file, int8_file = tf_file(tflite_files, "tf_float.tflite"), tf_file(tflite_files, "tf_int8.tflite")
    report = diff_json(float_file, int8_file)
    assert len(report["structure"]["changed"]) == report["a"]["ops"], "every op changes to int8"
    assert report["unmatched_weights"] == {"a": [], "b": []}
    check_weight_numbers(report, float_file, int8_file)


def test_keras_file_vs_tensorflows_float_tflite(tflite_files):
    """Names differ completely; diff pairs everything by structure and finds the weights equal up to
    TensorFlow's own BatchNorm arithmetic. What differs (Flatten's reshape to [-1, 512]) is named."""
    float_file = tf_file(tflite_files, "tf_float.tflite")
    report = diff_json(SAMPLES / "digits_cnn_k2.h5", float_file)
    assert report["unmatched_weights"] == {"a": [], "b": []}
    assert report["structure"]["added"] == [] and report["structure"]["removed"] == []
    assert max(w["max_abs_diff"] for w in report["weights"]) < 1e-4
    reshape = [row for row in report["structure"]["changed"] if row["a"]["op"] == "RESHAPE"]
    assert reshape and any("[-1,512]" in c for c in reshape[0]["changes"])


def test_broken_file_is_an_error(tmp_path, tflite_files):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(tf_file(tflite_files, "tf_float.tflite").read_bytes()[:4000])
    result = keraslite("diff", SAMPLES / "digits_cnn_k2.h5", broken, check=False)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and str(broken) in result.stderr
    assert result.stdout == ""


SPARSE = r'''
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf, tf_keras as keras
rng = np.random.default_rng(0)
out = sys.argv[1]
def save(name, model, optimizations):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = optimizations
    open(os.path.join(out, name + ".tflite"), "wb").write(converter.convert())
def prune(model, keep):
    for layer in model.layers[1:]:
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel * (rng.random(kernel.shape) < keep), rng.normal(size=bias.shape).astype("float32")])
x = keras.Input((64,)); h = keras.layers.Dense(128, activation="relu")(x)
mlp = keras.Model(x, keras.layers.Dense(10)(h)); prune(mlp, 0.2)
x = keras.Input((8, 8, 16)); conv = keras.Model(x, keras.layers.Conv2D(32, 3)(x)); prune(conv, 0.1)
for name, model in (("mlp", mlp), ("conv", conv)):
    save(name + "_dense", model, [])
    save(name + "_sparse", model, [tf.lite.Optimize.EXPERIMENTAL_SPARSITY])
    save(name + "_sparse_int8", model, [tf.lite.Optimize.EXPERIMENTAL_SPARSITY, tf.lite.Optimize.DEFAULT])
'''


@pytest.fixture(scope="module")
def sparse_files(tmp_path_factory):
    import os
    import subprocess
    import sys

    directory = tmp_path_factory.mktemp("sparse")
    subprocess.run([sys.executable, "-c", SPARSE, str(directory)], check=True, capture_output=True,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    return directory


@pytest.mark.parametrize("model", ["mlp", "conv"])
def test_sparse_tensors_are_densified(sparse_files, model):
    """TensorFlow's EXPERIMENTAL_SPARSITY files store pruned weights sparse (SparsityParameters +
    DENSIFY). keraslite densifies them: the diff against the dense file is exact, and sparsity
    counts the same zeros numpy counts in the dense file's weights."""
    dense, sparse = sparse_files / f"{model}_dense.tflite", sparse_files / f"{model}_sparse.tflite"
    inspect = json.loads(keraslite("inspect", sparse, "--json").stdout)
    assert "DENSIFY" in inspect["op_counts"], "TensorFlow wrote no sparse tensor"
    assert any("sparse" in w for w in inspect["warnings"])
    report = diff_json(dense, sparse)
    assert report["equal"], report["summary"]
    assert report["weights"] and report["unmatched_weights"] == {"a": [], "b": []}
    it = interpreter(dense)
    constants = [t for t in json.loads(keraslite("inspect", dense, "--json").stdout)["tensors"]
                 if t["bytes"] > 0 and t["dtype"] == "float32"]
    expected = sum(int(np.count_nonzero(it.get_tensor(t["index"]) == 0)) for t in constants)
    sparsity = json.loads(keraslite("sparsity", sparse, "--json").stdout)
    dense_sparsity = json.loads(keraslite("sparsity", dense, "--json").stdout)
    assert sparsity["zeros"] == dense_sparsity["zeros"] and sparsity["total"] == dense_sparsity["total"]
    assert sparsity["zeros"] == expected > 0
    # int8 + sparse: every pruned zero stays zero (tiny weights may round to zero as well).
    quantized = diff_json(dense, sparse_files / f"{model}_sparse_int8.tflite")
    int8 = [w for w in quantized["weights"] if w["dtype_b"] == "int8"]
    assert int8
    for weight in int8:
        assert weight["zeros_a"] <= weight["zeros_b"] <= weight["zeros_a"] + 0.01 and weight["cosine"] > 0.999

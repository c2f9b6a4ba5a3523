"""`keraslite sparsity --sensitivity` against Keras: on the trained digits CNN and 100 digits training
images, the output error keraslite reports for a layer pruned alone equals the one Keras computes
when that layer's kernel is pruned by hand (numpy) and the model predicts again; the plan it writes
makes `keraslite prune --plan` reach the target sparsity; bad options and inputs fail on one line."""
import json

import numpy as np
import pytest

from conftest import SAMPLES, keraslite, load_with_keras

MODEL = SAMPLES / "digits_cnn_k2.h5"


@pytest.fixture(scope="module")
def digits100(tmp_path_factory):
    """The first 100 images of the digits training split (the test split is what the model was scored on)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    x_train, _, _, _ = train_test_split(x, digits.target, test_size=0.2, random_state=0)
    path = tmp_path_factory.mktemp("sensitivity") / "digits100.npy"
    np.save(path, x_train[:100])
    return path


@pytest.fixture(scope="module")
def report(digits100):
    return json.loads(keraslite("sparsity", MODEL, "--sensitivity", "--input", digits100, "--min-params", "0", "--json").stdout)


def prune_like_keraslite(kernel, level):
    """Zeroes the round(level · n) smallest |w| (halves away from zero; ties: lower index first)."""
    flat = kernel.ravel().copy()
    count = int(np.floor(level * flat.size + 0.5))
    flat[np.argsort(np.abs(flat), kind="stable")[:count]] = 0
    return flat.reshape(kernel.shape)


def test_relative_l2_equals_keras(report, digits100):
    """Every (layer, level) of the four kernels; measured: at most 1e-5 apart (relative), errors 6e-4 … 0.87."""
    model, _ = load_with_keras(MODEL, None)
    x = np.load(digits100)
    reference = np.asarray(model(x, training=False))
    assert report["samples"] == 100 and report["levels"] == [0.25, 0.5, 0.75, 0.9]
    assert [layer["name"] for layer in report["layers"]] == ["conv2d", "conv2d_1", "dense", "dense_1"]
    assert len(report["rows"]) == 16
    for row in report["rows"]:
        name, level = row["layer"], row["level"]
        layer = model.get_layer(name)
        original = layer.get_weights()
        pruned = [prune_like_keraslite(original[0], level)] + original[1:]
        layer.set_weights(pruned)
        try:
            outputs = np.asarray(model(x, training=False))
        finally:
            layer.set_weights(original)
        expected = np.linalg.norm((outputs - reference).astype(np.float64)) / np.linalg.norm(reference.astype(np.float64))
        assert row["zeros"] == int(np.count_nonzero(pruned[0] == 0)), (name, level)
        assert row["rel_l2"] == pytest.approx(expected, rel=1e-3), (name, level)
        assert row["max_abs_error"] == pytest.approx(np.abs(outputs - reference).max(), rel=1e-3, abs=1e-6), (name, level)
        agreement = float(np.mean(outputs.argmax(-1) == reference.argmax(-1)))
        assert row["top1_agreement"] == pytest.approx(agreement), (name, level)


def test_plan_is_what_prune_reads_and_reaches_the_target(digits100, tmp_path):
    plan_file = tmp_path / "plan.json"
    text = keraslite("sparsity", MODEL, "--sensitivity", "--input", digits100, "--target", "0.6", "--plan-out", plan_file).stdout
    assert "wrote " + str(plan_file) in text and "reaches" in text
    plan = json.loads(plan_file.read_text())
    assert plan["target"] == 0.6 and plan["reached"] and plan["sparsity"] >= 0.6
    assert set(plan["layers"]) == {"conv2d_1", "dense"}  # kernels of ≥ 1024 weights, as prune selects by default
    assert all(0 <= value < 1 for value in plan["layers"].values())
    assert {(row["layer"], row["level"]) for row in plan["sensitivity"]} == \
        {(layer, level) for layer in plan["layers"] for level in (0.25, 0.5, 0.75, 0.9)}

    if "prune" not in keraslite("--help").stdout:
        pytest.skip("keraslite prune is not built yet")
    pruned = tmp_path / "pruned.h5"
    keraslite("prune", MODEL, "-o", pruned, "--plan", plan_file, "--quiet")
    tensors = json.loads(keraslite("sparsity", pruned, "--json").stdout)["tensors"]
    selected = [t for t in tensors if t["layer"] in plan["layers"] and t["name"].endswith("/kernel")]
    assert len(selected) == 2
    sparsity = sum(t["zeros"] for t in selected) / sum(t["total"] for t in selected)
    assert sparsity >= plan["target"] - 0.005
    assert sparsity == pytest.approx(plan["sparsity"])
    for t in selected:
        assert t["zeros"] == round(plan["layers"][t["layer"]] * t["total"])


@pytest.mark.parametrize("args, status, fragment", [
    (["--sensitivity"], 64, "--input"),
    (["--input", "x.npy"], 64, "--sensitivity"),
    (["--sensitivity", "--input", "{x}", "--levels", "0.5,1"], 64, "--levels"),
    (["--sensitivity", "--input", "{x}", "--target", "1.5"], 64, "--target"),
    (["--sensitivity", "--input", "{x}", "--plan-out", str(MODEL)], 64, "never overwrites"),
    (["--sensitivity", "--input", "/nonexistent/x.npy"], 2, "/nonexistent/x.npy"),
    (["--sensitivity", "--input", str(SAMPLES / "digits_mlp_k2.inputs.npy")], 2, "does not fit input"),
    (["--sensitivity", "--input", "{x}", "--exclude", "nope"], 2, "no layer 'nope'"),
    (["--sensitivity", "--input", "{x}", "--min-params", "1000000"], 2, "no kernel to prune"),
])
def test_errors_are_one_line(digits100, args, status, fragment):
    result = keraslite("sparsity", MODEL, *[a.replace("{x}", str(digits100)) for a in args], check=False)
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr, result.stderr

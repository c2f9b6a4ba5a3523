"""`keraslite prune --channels` (structured pruning) against Keras 2 and 3 and LiteRT:

- models with residual Adds, Concatenate, depthwise/separable convolutions, Flatten → Dense,
  Conv1D, Conv2DTranspose, a Functional base nested in a Sequential head (the seed's shape) and a
  Dense MLP, written by Keras 3 (.keras and .h5) and Keras 2 (.h5);
- every layer keeps exactly the channel count the test computes itself (C − round(S·C), rounded up
  to --round-to, output layers whole), Add-joined layers the same count;
- the pruned file is an ordinary Keras model: it loads in the Keras that wrote it, has the
  reported parameter count, fine-tunes (one epoch) and saves again;
- Keras' outputs of the pruned file equal LiteRT's outputs of its conversion, and of
  `convert --channels` of the original;
- the kept channels are those of the largest L1 norm (or |γ| with --criterion bn-gamma), checked
  against the original weights with numpy."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import convert_support as cs
from conftest import keraslite

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")

BUILD = r'''
import os, sys, json, numpy as np
module, out, ext = sys.argv[1], sys.argv[2], sys.argv[3]
K = __import__(module)
L = K.layers
K.utils.set_random_seed(0)

def conv_bn(x, f, name, k=3):
    x = L.Conv2D(f, k, padding="same", name=name)(x)
    x = L.BatchNormalization(name=name + "_bn")(x)
    return L.ReLU(name=name + "_relu")(x)

models = {}
i = K.Input((12, 12, 3), name="image")
x = conv_bn(i, 16, "stem")
y = conv_bn(x, 16, "res_a")
y = L.Conv2D(16, 3, padding="same", name="res_b")(y)
x = L.Add(name="add")([x, y])
x = L.Conv2D(20, 3, strides=2, padding="same", activation="relu", name="widen")(x)
x = L.GlobalAveragePooling2D(name="gap")(x)
models["residual"] = K.Model(i, L.Dense(3, activation="softmax", name="out")(x))

i = K.Input((10, 10, 3), name="image")
a = L.Conv2D(8, 3, padding="same", activation="relu", name="left")(i)
b = L.Conv2D(12, 1, activation="relu", name="right")(i)
x = L.Concatenate(name="cat")([a, b])
x = L.Conv2D(16, 3, activation="relu", name="after_cat")(x)
x = L.MaxPooling2D(name="pool")(x)
x = L.Flatten(name="flat")(x)
x = L.Dense(24, activation="relu", name="fc")(x)
models["concat_flatten"] = K.Model(i, L.Dense(2, name="out")(x))

i = K.Input((16, 16, 3), name="image")
x = L.Conv2D(16, 3, padding="same", name="stem")(i)
x = L.BatchNormalization(name="stem_bn")(x)
x = L.ReLU(6.0, name="stem_relu")(x)
x = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
x = L.BatchNormalization(name="dw_bn")(x)
x = L.ReLU(name="dw_relu")(x)
x = L.SeparableConv2D(24, 3, padding="same", activation="relu", name="sep")(x)
x = L.Conv2DTranspose(12, 3, strides=2, padding="same", name="up")(x)
x = L.GlobalMaxPooling2D(name="gmp")(x)
models["depthwise_separable"] = K.Model(i, L.Dense(4, name="out")(x))

i = K.Input((20, 6), name="series")
x = L.Conv1D(16, 3, activation="relu", name="c1")(i)
x = L.Conv1D(16, 3, activation="relu", name="c2")(x)
x = L.GlobalAveragePooling1D(name="gap1")(x)
models["conv1d"] = K.Model(i, L.Dense(1, name="out")(x))

bi = K.Input((12, 12, 3), name="base_in")
bx = conv_bn(bi, 16, "b_stem")
by = L.Conv2D(16, 3, padding="same", name="b_res")(bx)
bx = L.Add(name="b_add")([bx, by])
base = K.Model(bi, L.Conv2D(24, 3, strides=2, padding="same", activation="relu", name="b_top")(bx), name="base")
models["nested"] = K.Sequential([K.Input((12, 12, 3)), base, L.Flatten(name="flat"), L.Dense(16, activation="relu", name="head"),
                                 L.Dropout(0.5, name="drop"), L.Dense(1, activation="sigmoid", name="out")], name="nested")

models["mlp"] = K.Sequential([K.Input((10,)), L.Dense(32, activation="relu", name="h1"),
                              L.Dense(16, activation="tanh", name="h2"), L.Dense(3, name="out")], name="mlp")

for name, model in models.items():
    # BatchNormalization statistics and γ away from their defaults, so they matter.
    def walk(layers):
        for layer in layers:
            yield layer
            yield from walk(getattr(layer, "layers", []))
    for layer in walk(model.layers):
        if isinstance(layer, L.BatchNormalization):
            g, b, m, v = layer.get_weights()
            rng = np.random.default_rng(len(layer.name))
            layer.set_weights([rng.uniform(0.2, 2, g.shape), rng.normal(0, .1, b.shape), rng.normal(0, .1, m.shape), rng.uniform(.5, 2, v.shape)])
    model.save(os.path.join(out, name + ext))
print(json.dumps(sorted(models)))
'''

CHECK = r'''
import os, sys, json, numpy as np
module, request = sys.argv[1], json.loads(sys.argv[2])
K = __import__(module)
results = {}
for path in request:
    model = K.models.load_model(path, compile=False)
    shape = [2] + list(model.inputs[0].shape[1:])
    x = np.random.default_rng(1).standard_normal(shape).astype("float32")
    np.save(path + ".x.npy", x)
    np.save(path + ".y.npy", model.predict(x, verbose=0))
    def walk(layers):
        for layer in layers:
            yield layer
            yield from walk(getattr(layer, "layers", []))
    widths = {layer.name: (layer.get_config().get("filters") or layer.get_config().get("units")) for layer in walk(model.layers)}
    weights = {layer.name: [w.tolist() for w in layer.get_weights()] for layer in model.layers if layer.get_weights()}
    # Fine-tunes like any model, and saves again.
    out = model.outputs[0]
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, np.zeros((2,) + tuple(out.shape[1:]), "float32"), epochs=1, verbose=0)
    model.save(path.replace(".", "_tuned.", 1))
    results[path] = {"params": int(model.count_params()), "widths": widths, "loss": float(history.history["loss"][0])}
print(json.dumps(results))
'''

FORMATS = [("keras", ".keras"), ("keras", ".h5"), ("tf_keras", ".h5")]
MODELS = ["residual", "concat_flatten", "depthwise_separable", "conv1d", "nested", "mlp"]
# Expected producers and their original widths; outputs keep theirs.
WIDTHS = {
    "residual": {"stem": 16, "res_a": 16, "res_b": 16, "widen": 20, "out": None},
    "concat_flatten": {"left": 8, "right": 12, "after_cat": 16, "fc": 24, "out": None},
    "depthwise_separable": {"stem": 16, "sep": 24, "up": 12, "out": None},
    "conv1d": {"c1": 16, "c2": 16, "out": None},
    "nested": {"b_stem": 16, "b_res": 16, "b_top": 24, "head": 16, "out": None},
    "mlp": {"h1": 32, "h2": 16, "out": None},
}


def expected_width(width, fraction, round_to=1):
    kept = max(1, width - round(fraction * width))
    kept = -(-kept // round_to) * round_to
    return min(width, kept)


@pytest.fixture(scope="module", params=FORMATS, ids=lambda f: f"{f[0]}{f[1]}")
def built(request, tmp_path_factory):
    module, ext = request.param
    directory = tmp_path_factory.mktemp(f"channels_{module}{ext.strip('.')}")
    subprocess.run([sys.executable, "-c", BUILD, module, str(directory), ext], check=True, capture_output=True, env=ENV)
    return module, ext, directory


def keras_check(module, paths):
    result = subprocess.run([sys.executable, "-c", CHECK, module, json.dumps([str(p) for p in paths])],
                            capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def original_weights(module, path):
    code = ("import sys, json; K = __import__(sys.argv[1]); m = K.models.load_model(sys.argv[2], compile=False);"
            "print(json.dumps({l.name: [w.tolist() for w in l.get_weights()] for l in m.layers if l.get_weights()}))")
    result = subprocess.run([sys.executable, "-c", code, module, str(path)], capture_output=True, text=True, env=ENV, check=True)
    return {k: [np.array(w, dtype=np.float32) for w in v] for k, v in json.loads(result.stdout.strip().splitlines()[-1]).items()}


@pytest.mark.parametrize("round_to", [1, 8])
def test_pruned_keras_file_is_smaller_loads_fine_tunes_and_matches_litert(built, round_to, tmp_path):
    module, ext, directory = built
    pruned = {}
    for name in MODELS:
        target = tmp_path / f"{name}{ext}"
        report = json.loads(keraslite("prune", directory / f"{name}{ext}", "-o", target, "--channels", "0.5",
                                      "--round-to", round_to, "--json").stdout)
        pruned[name] = (target, report)
    checked = keras_check(module, [p for p, _ in pruned.values()])
    for name, (target, report) in pruned.items():
        result = checked[str(target)]
        # Channel counts exact per layer, outputs whole.
        for layer, width in WIDTHS[name].items():
            got = result["widths"][layer]
            if width is None:
                continue
            assert got == expected_width(width, 0.5, round_to), f"{name}/{layer}: {got} channels"
        assert result["params"] == report["params_after"] < report["params_before"], (name, result["params"], report)
        assert np.isfinite(result["loss"])
        # The residual block's Add joins stem and res_b: one count.
        if name == "residual":
            assert result["widths"]["stem"] == result["widths"]["res_b"]
        # Keras' outputs of the pruned file = LiteRT's outputs of its conversion.
        x, y = np.load(f"{target}.x.npy"), np.load(f"{target}.y.npy")
        tflite = tmp_path / f"{name}.tflite"
        keraslite("convert", target, "-o", tflite, "--batch", "2", "--quiet")
        cs.assert_close(cs.run_litert(tflite, x), y, f"{name}{ext} pruned")
        # convert --channels of the original computes the same model.
        direct = tmp_path / f"{name}.direct.tflite"
        keraslite("convert", directory / f"{name}{ext}", "-o", direct, "--batch", "2", "--channels", "0.5", "--round-to", round_to, "--quiet")
        cs.assert_close(cs.run_litert(direct, x), y, f"{name}{ext} convert --channels")
        # The tuned copy Keras saved converts too.
        assert target.with_name(target.name.replace(".", "_tuned.", 1)).exists()


def top_l1(kernel, axis, count):
    norms = np.abs(kernel).sum(axis=tuple(a for a in range(kernel.ndim) if a != axis))
    order = sorted(range(len(norms)), key=lambda i: (-norms[i], i))
    return sorted(order[:count])


def test_kept_channels_are_the_largest_l1_and_the_consumer_rows_follow(built, tmp_path):
    module, ext, directory = built
    source = directory / f"mlp{ext}"
    target = tmp_path / f"mlp{ext}"
    keraslite("prune", source, "-o", target, "--channels", "0.5")
    before, after = original_weights(module, source), original_weights(module, target)
    kept1 = top_l1(before["h1"][0], 1, 16)
    np.testing.assert_array_equal(after["h1"][0], before["h1"][0][:, kept1])
    np.testing.assert_array_equal(after["h1"][1], before["h1"][1][kept1])
    kept2 = top_l1(before["h2"][0], 1, 8)
    np.testing.assert_array_equal(after["h2"][0], before["h2"][0][kept1][:, kept2])
    np.testing.assert_array_equal(after["out"][0], before["out"][0][kept2])
    np.testing.assert_array_equal(after["out"][1], before["out"][1])


def test_bn_gamma_criterion_keeps_the_largest_gamma(built, tmp_path):
    module, ext, directory = built
    source = directory / f"depthwise_separable{ext}"
    target = tmp_path / f"ds{ext}"
    report = json.loads(keraslite("prune", source, "-o", target, "--channels", "0.5", "--criterion", "bn-gamma", "--json").stdout)
    before, after = original_weights(module, source), original_weights(module, target)
    # stem, stem_bn and dw_bn share one group: |γ| of both batch norms summed.
    gamma = np.abs(before["stem_bn"][0]) + np.abs(before["dw_bn"][0])
    kept = sorted(sorted(range(16), key=lambda i: (-gamma[i], i))[:8])
    np.testing.assert_array_equal(after["stem"][0], before["stem"][0][..., kept])
    np.testing.assert_array_equal(after["dw"][0], before["dw"][0][:, :, kept])
    np.testing.assert_array_equal(after["dw_bn"][0], before["dw_bn"][0][kept])
    group = next(g for g in report["groups"] if "stem" in g["layers"])
    assert group["criterion"] == "bn-gamma" and group["channels_after"] == 8
    # sep has no batch norm after it: l1.
    assert next(g for g in report["groups"] if "sep" in g["layers"])["criterion"] == "l1"


def test_exclude_and_global_scope(built, tmp_path):
    module, ext, directory = built
    source = directory / f"concat_flatten{ext}"
    report = json.loads(keraslite("prune", source, "-o", tmp_path / f"a{ext}", "--channels", "0.5", "--exclude", "left", "--json").stdout)
    groups = {tuple(g["layers"]): g for g in report["groups"]}
    assert groups[("left",)]["channels_after"] == 8 and groups[("left",)]["kept_because"] == "excluded"
    assert groups[("right",)]["channels_after"] == 6
    report = json.loads(keraslite("prune", source, "-o", tmp_path / f"b{ext}", "--channels", "0.5", "--scope", "global", "--json").stdout)
    prunable = [g for g in report["groups"] if g["kept_because"] is None]
    before = sum(g["channels_before"] for g in prunable)
    after = sum(g["channels_after"] for g in prunable)
    assert abs((before - after) - round(0.5 * before)) <= len(prunable), (before, after)
    assert all(g["channels_after"] >= 1 for g in prunable)


def test_refusals(built, tmp_path):
    module, ext, directory = built
    source = directory / f"mlp{ext}"
    other = ".h5" if ext == ".keras" else ".keras"
    result = keraslite("prune", source, "-o", tmp_path / f"x{other}", "--channels", "0.5", check=False)
    assert result.returncode != 0 and str(source) in result.stderr and not (tmp_path / f"x{other}").exists()
    result = keraslite("prune", source, "-o", tmp_path / f"x{ext}", "--channels", "0.5", "--exclude", "nope", check=False)
    assert result.returncode != 0 and "nope" in result.stderr and not (tmp_path / f"x{ext}").exists()
    result = keraslite("prune", source, "-o", tmp_path / f"x{ext}", "--channels", "1.5", check=False)
    assert result.returncode != 0 and "--channels" in result.stderr


def test_channel_sensitivity_rows_are_what_keras_measures_and_the_plan_applies(tmp_path):
    """sparsity --sensitivity --channels: a row's error is the error Keras itself sees when that group
    alone loses that fraction (pruned by `prune --channels 0 --plan`), and the plan's widths land."""
    from conftest import SAMPLES
    source, x = SAMPLES / "small_resnet_k2.h5", SAMPLES / "small_resnet_k2.inputs.npy"
    plan = tmp_path / "plan.json"
    report = json.loads(keraslite("sparsity", source, "--sensitivity", "--channels", "--input", x, "--levels", "0.5",
                                  "--target", "0.4", "--plan-out", plan, "--json").stdout)
    assert report["unit"] == "channels" and report["layers"], report
    row = max(report["rows"], key=lambda r: r["rel_l2"])
    single = tmp_path / "single.json"
    single.write_text(json.dumps({"layers": {row["layer"]: 0.5}}))
    alone = tmp_path / "alone.h5"
    keraslite("prune", source, "-o", alone, "--channels", "0", "--plan", single)
    y0, y = keras_outputs("tf_keras", source, x), keras_outputs("tf_keras", alone, x)
    measured = np.linalg.norm(y - y0) / np.linalg.norm(y0)
    assert abs(measured - row["rel_l2"]) <= 1e-4 * max(1.0, measured), (measured, row)
    # The plan: `prune --channels 0 --plan` gives each planned group its level, the others stay whole.
    chosen = json.loads(plan.read_text())["layers"]
    report = json.loads(keraslite("prune", source, "-o", tmp_path / "planned.h5", "--channels", "0", "--plan", plan, "--json").stdout)
    for group in report["groups"]:
        level = chosen.get(group["layers"][0])
        if level is not None and group["kept_because"] is None:
            assert group["channels_after"] == expected_width(group["channels_before"], level), group
    assert report["params_after"] < report["params_before"]


def keras_outputs(module, path, x_path):
    code = ("import sys, numpy as np; K = __import__(sys.argv[1]); m = K.models.load_model(sys.argv[2], compile=False);"
            "np.save(sys.argv[4], m.predict(np.load(sys.argv[3]), verbose=0))")
    with tempfile.TemporaryDirectory() as directory:
        target = f"{directory}/y.npy"
        subprocess.run([sys.executable, "-c", code, module, str(path), str(x_path), target], check=True, capture_output=True, env=ENV)
        return np.load(target)

"""keraslite's `inspect` and `sparsity` against Keras itself: for every sample and the third-party
file, Keras loads the model and the expected numbers come from Keras and numpy in this run."""
import numpy as np

from conftest import keraslite, keraslite_json, load_with_keras


def config_args(config):
    return ["--config", config] if config is not None else []


def layer_output_shape(layer):
    """The output shape Keras reports for a single-call layer, batch as None (lists for multi-output)."""
    output = layer.output
    if isinstance(output, (list, tuple)):
        return [list(o.shape) for o in output]
    return list(output.shape)


def test_params_layers_and_shapes_equal_keras(sample):
    path, config = sample
    model, _ = load_with_keras(path, config)
    report = keraslite_json("inspect", path, *config_args(config))

    assert report["params"] == model.count_params()
    assert report["size_bytes"] == path.stat().st_size
    assert report["format"] == ("keras-zip" if path.suffix == ".keras" else "keras-h5")

    ours = {layer["name"]: layer for layer in report["layers"]}
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        assert layer.name in ours, f"{layer.name} missing from keraslite's layers"
        mine = ours[layer.name]
        assert mine["params"] == layer.count_params(), layer.name
        assert mine["type"] in (type(layer).__name__, "Model", "Functional", "Sequential")
        if len(layer._inbound_nodes) <= 1 or mine["calls"] == 1:
            try:
                expected = layer_output_shape(layer)
            except (AttributeError, RuntimeError, ValueError):
                continue  # Keras itself cannot name one output shape for this layer
            assert mine["output_shape"] == expected, layer.name

    assert [i["name"] for i in report["inputs"]] == [t.name.split(":")[0] for t in model.inputs] or \
        len(report["inputs"]) == len(model.inputs)
    assert [i["shape"] for i in report["inputs"]] == [list(t.shape) for t in model.inputs]
    assert [o["shape"] for o in report["outputs"]] == [list(t.shape) for t in model.outputs]


def test_metadata_only_agrees(sample):
    path, config = sample
    full = keraslite_json("inspect", path, *config_args(config))
    fast = keraslite_json("inspect", path, "--metadata-only", *config_args(config))
    assert fast["params"] == full["params"]
    assert "zeros" not in fast and "zeros" in full


def test_sparsity_counts_equal_numpy(sample):
    path, config = sample
    model, _ = load_with_keras(path, config)
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    threshold = np.float32(1e-3)
    report = keraslite_json("sparsity", path, *config_args(config))

    assert report["total"] == sum(w.size for w in weights)
    assert report["zeros"] == sum(int(np.count_nonzero(w == 0)) for w in weights)
    assert report["near_zero"] == sum(int(np.count_nonzero(np.abs(w) <= threshold)) for w in weights)
    ours = sorted((t["total"], t["zeros"], t["near_zero"]) for t in report["tensors"])
    theirs = sorted((w.size, int(np.count_nonzero(w == 0)), int(np.count_nonzero(np.abs(w) <= threshold))) for w in weights)
    assert ours == theirs
    assert sum(b["count"] for b in report["histogram"]) == report["total"]
    assert report["histogram"][0]["count"] == report["zeros"]


def test_sparsity_threshold_option(sample):
    path, config = sample
    model, _ = load_with_keras(path, config)
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    report = keraslite_json("sparsity", path, "--threshold", "0.05", *config_args(config))
    assert report["near_zero"] == sum(int(np.count_nonzero(np.abs(w) <= np.float32(0.05))) for w in weights)
    # zeroing more weights can only help zlib
    assert report["zlib_bytes_near_zero_zeroed"] <= report["zlib_bytes"]


def test_text_output_names_every_layer(sample):
    path, config = sample
    text = keraslite("inspect", path, *config_args(config)).stdout
    report = keraslite_json("inspect", path, *config_args(config))
    for layer in report["layers"]:
        assert layer["name"] in text
    assert "total:" in text

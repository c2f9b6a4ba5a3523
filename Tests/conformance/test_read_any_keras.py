"""Reading never depends on converting (issue 12 part 1): files with layers keraslite cannot lower
— LSTM stacks, text BiLSTMs over Embedding, GRU, SimpleRNN, TimeDistributed, ConvLSTM1D,
MultiHeadAttention, a nested model holding an LSTM, a Lambda — built by real Keras 2 and 3:

* `inspect` exits 0; its params equal Keras' count_params() for the model and for every top-level
  layer; the layers keraslite cannot lower are marked (JSON `convertible`), the others are not;
* `sparsity` counts every stored weight (total = count_params());
* `diff` of the file with itself says equal (compared as Keras layers and weights by name);
* `convert` / `graph` / `run` exit 2 with one line naming every class it cannot lower, with counts.
"""
import collections
import os
import pathlib

import numpy as np
import pytest

import reading_support as rs
from conftest import keraslite

CASES = [(version, name, fmt)
         for version in ("3", "2")
         for name in rs.reading_cases(version)
         for fmt in (("h5", "keras") if version == "3" and rs.reading_case_info(name)[1].get("zip") else ("h5",))]


def case_id(case):
    version, name, fmt = case
    return f"keras{version}-{name}" + ("-zip" if fmt == "keras" else "")


@pytest.fixture(scope="session")
def reading(request):
    root = os.environ.get("KERASLITE_READING_CACHE") or request.config.cache.mkdir("keraslite-reading")
    cache = rs.ReadingCache(pathlib.Path(root), "build-reading", rs.reading_cache_key())
    needed = collections.defaultdict(set)
    for version, name, _ in [item.callspec.params["reading_case"] for item in request.session.items
                             if hasattr(item, "callspec") and "reading_case" in item.callspec.params]:
        needed[version].add(name)
    for version, names in sorted(needed.items()):
        cache.start(version, sorted(names))
    return cache


def built(reading, case):
    version, name, fmt = case
    directory = reading.get(version, name)
    if (directory / "error.txt").is_file():
        pytest.fail(f"Keras {version} could not build this case:\n{(directory / 'error.txt').read_text()}")
    import json

    return json.loads((directory / "meta.json").read_text()), directory / f"model.{fmt}"


@pytest.mark.parametrize("reading_case", CASES, ids=[case_id(c) for c in CASES])
def test_inspect_sparsity_and_diff_read_what_convert_refuses(reading, reading_case, tmp_path):
    meta, model = built(reading, reading_case)
    import json

    inspect = keraslite("inspect", model, "--json")
    report = json.loads(inspect.stdout)
    assert report["params"] == meta["params"]
    assert report["convertible"] is False
    layers = {layer["name"]: layer for layer in report["layers"]}
    for keras_layer in meta["layers"]:
        ours = layers[keras_layer["name"]]
        assert ours["params"] == keras_layer["params"], keras_layer
        blocked = keras_layer["class"] in meta["blocked"]
        if blocked:
            assert ours["convertible"] is False, f"{keras_layer['name']} ({keras_layer['class']}) is marked convertible"
    blocked_classes = {b["class"] for b in report["not_convertible"]}
    assert set(meta["blocked"]) <= blocked_classes | {l["class"] for l in meta["layers"] if l["class"] in ("Sequential", "Functional")}, report["not_convertible"]
    # The text report and the HTML page too.
    text = keraslite("inspect", model).stdout
    assert "not convertible" in text and "✗" in text
    keraslite("inspect", model, "--html", tmp_path / "page.html")
    assert (tmp_path / "page.html").stat().st_size > 1000

    sparsity = keraslite("sparsity", model, "--json")
    assert json.loads(sparsity.stdout)["total"] == meta["params"]

    diff = keraslite("diff", model, model, check=False)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert "Keras layers" in diff.stdout

    for command in (["convert", model, "-o", tmp_path / "m.tflite"], ["graph", model]):
        result = keraslite(*command, check=False)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        whole_model = [b for b in report["not_convertible"] if b["layer"] == "(model)"]
        if whole_model:  # a subclassed model: its own reason, as one line
            assert len(lines) == 1 and whole_model[0]["reason"] in lines[0], result.stderr
            continue
        assert len(lines) == 1 and "cannot convert" in lines[0], result.stderr
        listed = collections.Counter(b["class"] for b in report["not_convertible"])
        for class_name, count in listed.items():
            assert f"{count} {class_name} (" in lines[0], (class_name, lines[0])
    assert not (tmp_path / "m.tflite").exists()


def test_weights_only_files_list_their_weights(tmp_path):
    import json

    from conftest import SAMPLES

    report = json.loads(keraslite("inspect", SAMPLES / "digits_mlp_k2.weights.h5", "--json").stdout)
    assert report["params"] == 2410 and report["convertible"] is False
    assert [layer["name"] for layer in report["layers"]] == ["dense", "dense_1"]
    assert json.loads(keraslite("sparsity", SAMPLES / "digits_mlp_k2.weights.h5", "--json").stdout)["total"] == 2410
    result = keraslite("convert", SAMPLES / "digits_mlp_k2.weights.h5", "-o", tmp_path / "m.tflite", check=False)
    assert result.returncode == 2 and "--config" in result.stderr

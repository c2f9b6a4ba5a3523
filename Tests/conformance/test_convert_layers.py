"""`keraslite convert` layer by layer: a zoo of tiny models (one layer or one small pattern each),
built by Keras 3 and by Keras 2 (tf_keras) in two builder subprocesses, converted to .tflite by
keraslite and run in LiteRT on 3 batch-1 inputs, each compared with Keras' own output within
max |LiteRT - Keras| <= 1e-4 * max(1, max |Keras|).

The cases are defined in convert_support.ZOO (`python convert_support.py list-zoo --keras 3`).
Biases, BatchNormalization statistics, LayerNormalization gamma/beta and PReLU alphas are random, so
folding and bias handling are really exercised. Keras' reference outputs come from the model loaded
back from the saved file. Built models are cached (pytest cache `keraslite-zoo`, or
$KERASLITE_ZOO_CACHE) keyed by a hash of convert_support.py and the installed Keras versions.
"""
import os
import pathlib

import pytest

import convert_support as cs

CASES = [(version, name, fmt)
         for version in ("3", "2")
         for name in cs.zoo_cases(version)
         for fmt in cs.zoo_formats(version, name)]


def case_id(case):
    version, name, fmt = case
    return f"keras{version}-{name}" + ("-zip" if fmt == "keras" else "")


@pytest.fixture(scope="session")
def zoo(request):
    """The zoo cache; starts one builder per Keras version the selected tests need, in parallel."""
    root = os.environ.get("KERASLITE_ZOO_CACHE") or request.config.cache.mkdir("keraslite-zoo")
    cache = cs.ModelCache(pathlib.Path(root), "build-zoo", cs.zoo_cache_key())
    needed = {}
    for version, name, _ in cs.needed_params(request.session, "zoo_case"):
        needed.setdefault(version, []).append(name)
    for version, names in sorted(needed.items()):
        cache.start(version, sorted(set(names)))
    return cache


@pytest.mark.parametrize("zoo_case", CASES, ids=[case_id(c) for c in CASES])
def test_layer_converts_and_matches_keras(zoo, zoo_case, tmp_path):
    version, name, fmt = zoo_case
    directory = zoo.get(version, name)
    if (directory / "error.txt").is_file():
        pytest.fail(f"Keras {version} itself could not build/save/reload this case:\n"
                    f"{(directory / 'error.txt').read_text()}")
    meta, inputs, expected = cs.load_case(directory)
    source = directory / f"model.{fmt}"
    before = cs.sha256(source)
    tflite = tmp_path / "model.tflite"

    cs.convert(source, tflite, "--quiet", *meta.get("convert_args", []))  # --input-shape for unknown lengths

    assert cs.sha256(source) == before, "keraslite modified its input"
    assert tflite.read_bytes()[4:8] == cs.TFLITE_IDENTIFIER
    for i in range(len(inputs[0])):  # 3 separate batch-1 runs
        litert = cs.run_litert(tflite, dict(zip(meta["inputs"], cs.batch_slices(inputs, i))), meta["outputs"])
        cs.assert_close(litert, cs.batch_slices(expected, i), what=f"{case_id(zoo_case)} input {i}",
                        names=meta["outputs"])


# Recurrent zoo cases → UNIDIRECTIONAL_SEQUENCE_LSTM operators in keraslite's file: an LSTM with
# sigmoid gates, a cell activation LiteRT's op has, no mask and no returned state is one fused op
# (go_backwards: REVERSE_V2 before it; the last step: SLICE + RESHAPE); the others stay unrolled.
FUSED_LSTMS = {
    "lstm-last": 1, "lstm-sequences": 1, "lstm-backwards": 1, "lstm-backwards-sequences": 1, "lstm-relu": 1,
    "lstm-nobias": 1, "lstm-unroll": 1, "lstm-dropout": 1, "bidirectional-lstm-concat": 2, "bidirectional-lstm-mul": 2,
    "stock-lstm-stack": 2, "text-bilstm": 2, "lstm-wide-stack": 2, "bidirectional-lstm-wide": 2, "nested-lstm-in-functional": 1,
    "lstm-hard-sigmoid": 0, "lstm-return-state": 0, "bidirectional-return-state": 0, "masked-embedding-lstm": 0,
    "masking-lstm": 0, "masked-lstm-padded-ids": 0,
}
FUSED_CASES = [(version, name, "h5") for version in ("3", "2") for name in FUSED_LSTMS]


@pytest.mark.parametrize("zoo_case", FUSED_CASES, ids=[case_id(c) for c in FUSED_CASES])
def test_lstm_lowers_to_unidirectional_sequence_lstm_where_exact(zoo, zoo_case, tmp_path):
    version, name, _ = zoo_case
    tflite = tmp_path / "model.tflite"
    cs.convert(zoo.get(version, name) / "model.h5", tflite, "--quiet")
    ops = [op for op, _ in cs.operators(tflite)]
    assert ops.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == FUSED_LSTMS[name], ops
    if FUSED_LSTMS[name]:
        # Nothing left of the unrolled form: no per-step gates, at most a handful of ops per layer.
        assert "LOGISTIC" not in ops and "CONCATENATION" not in ops[:ops.index("UNIDIRECTIONAL_SEQUENCE_LSTM")], ops
        assert len(ops) <= 5 * FUSED_LSTMS[name] + 4, ops
    else:
        assert len(ops) > 50, f"{name} should be unrolled over its steps: {len(ops)} ops"
    if name == "stock-lstm-stack":
        # 60 steps × 2 layers unrolled were over 2000 operators; fused: 2 LSTMs, SLICE, RESHAPE, FULLY_CONNECTED.
        assert sorted(ops) == sorted(["UNIDIRECTIONAL_SEQUENCE_LSTM"] * 2 + ["SLICE", "RESHAPE", "FULLY_CONNECTED"]), ops

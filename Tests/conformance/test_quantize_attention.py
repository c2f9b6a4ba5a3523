"""`keraslite convert --quantize float16|dynamic` on attention models of the layer zoo (a transformer
block with MultiHeadAttention, Luong attention with concat scores, AdditiveAttention), Keras 2 and
3: the files load and run in LiteRT (BATCH_MATMUL on float activations next to float16 constants
behind DEQUANTIZE, or hybrid int8 FULLY_CONNECTED projections) and stay close to Keras — within
2% of the output range for dynamic (weights rounded to int8), 0.5% for float16."""
import numpy as np
import pytest

import convert_support as cs
from test_convert_layers import zoo  # noqa: F401 (fixture)

CASES = [(version, name, mode) for version in ("2", "3")
         for name in ("mha-transformer-block", "attention-concat-scale-key", "additive-attention-scale")
         for mode in ("float16", "dynamic")]
LIMITS = {"float16": 0.005, "dynamic": 0.02}


@pytest.mark.parametrize("case", CASES, ids=[f"keras{v}-{n}-{m}" for v, n, m in CASES])
def test_attention_model_quantized_runs_in_litert(zoo, case, tmp_path):  # noqa: F811 (fixture)
    version, name, mode = case
    directory = zoo.get(version, name)
    if (directory / "error.txt").is_file():
        pytest.fail((directory / "error.txt").read_text())
    meta, inputs, expected = cs.load_case(directory)
    fmt = cs.zoo_formats(version, name)[0]
    tflite = tmp_path / "model.tflite"
    cs.convert(directory / f"model.{fmt}", tflite, "--quantize", mode, "--quiet")
    for i in range(len(inputs[0])):
        litert = cs.run_litert(tflite, dict(zip(meta["inputs"], cs.batch_slices(inputs, i))), meta["outputs"])
        for got, want in zip(litert, cs.batch_slices(expected, i)):
            assert got.shape == want.shape and np.all(np.isfinite(got))
            magnitude = float(np.abs(want).max() + want.max() - want.min()) + 1e-3
            error = float(np.abs(got - want).max())
            assert error <= LIMITS[mode] * magnitude, f"{name} {mode} input {i}: error {error:.3g}, magnitude {magnitude:.3g}"

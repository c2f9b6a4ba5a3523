"""`convert --quantize float16|dynamic|int8` on recurrent and text zoo models (LSTM stacks, GRU
classifier over Embedding, masked LSTM, BiLSTMs): the files load and run in LiteRT and stay close to
Keras. Dynamic range: an UNIDIRECTIONAL_SEQUENCE_LSTM whose eight gate weights all have ≥ 1024
values is hybrid (int8 weights, version 3, asymmetric input quantization), as TensorFlow writes it;
smaller ones stay float (version 1); the unrolled layers' FULLY_CONNECTED kernels are hybrid as
before. int8: the LSTM stays float32 between QUANTIZE/DEQUANTIZE."""
import numpy as np
import pytest

import convert_support as cs
from test_convert_layers import zoo  # noqa: F401 (fixture)

MODELS = ["stock-lstm-stack", "gru-classifier", "masked-lstm-padded-ids", "text-bilstm", "masked-bidirectional-gru",
          "lstm-wide-stack", "bidirectional-lstm-wide"]
MODELS += ["convlstm2d-video", "convlstm2d-next-frame"]  # zoo_convlstm.py: dynamic-range CONV_2D kernels
# The UNIDIRECTIONAL_SEQUENCE_LSTM versions each mode writes, per model.
HYBRID = {"lstm-wide-stack", "bidirectional-lstm-wide"}
# max |LiteRT - Keras| / max(1, max |Keras|) allowed per mode.
TOLERANCE = {"float16": 5e-3, "dynamic": 5e-2, "int8": 0.25}
CASES = [(version, name, mode) for version in ("3", "2") for name in MODELS for mode in TOLERANCE]


@pytest.mark.parametrize("zoo_case,mode", [((v, n, "h5"), m) for v, n, m in CASES],
                         ids=[f"keras{v}-{n}-{m}" for v, n, m in CASES])
def test_quantized_recurrent_model_runs_in_litert(zoo, zoo_case, mode, tmp_path):  # noqa: F811 (fixture)
    version, name, _ = zoo_case
    directory = zoo.get(version, name)
    meta, inputs, expected = cs.load_case(directory)
    tflite = tmp_path / "model.tflite"
    extra = ["--calibration", directory / "x.npz"] if mode == "int8" else []
    cs.convert(directory / "model.h5", tflite, "--quiet", "--quantize", mode, *extra)
    versions = [version for op, version in cs.operators(tflite) if op == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    if name in HYBRID or name in ("stock-lstm-stack", "text-bilstm"):
        assert len(versions) == 2, cs.operators(tflite)
    assert versions == [3 if mode == "dynamic" and name in HYBRID else 1] * len(versions), versions
    for i in range(len(inputs[0])):
        litert = cs.run_litert(tflite, dict(zip(meta["inputs"], cs.batch_slices(inputs, i))), meta["outputs"])
        assert all(np.all(np.isfinite(o)) for o in litert)
        error = cs.max_error(litert, cs.batch_slices(expected, i))
        assert error <= TOLERANCE[mode], f"{name} {mode}: relative error {error:.3g}"

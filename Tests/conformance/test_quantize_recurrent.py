"""`convert --quantize float16|dynamic|int8` on recurrent and text zoo models (LSTM stack, GRU
classifier over Embedding, masked LSTM, text BiLSTM): the files load and run in LiteRT and stay
close to Keras — dynamic-range FULLY_CONNECTED kernels quantize the unrolled gates' projections."""
import numpy as np
import pytest

import convert_support as cs
from test_convert_layers import zoo  # noqa: F401 (fixture)

MODELS = ["stock-lstm-stack", "gru-classifier", "masked-lstm-padded-ids", "text-bilstm", "masked-bidirectional-gru"]
MODELS += ["convlstm2d-video", "convlstm2d-next-frame"]  # zoo_convlstm.py: dynamic-range CONV_2D kernels
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
    for i in range(len(inputs[0])):
        litert = cs.run_litert(tflite, dict(zip(meta["inputs"], cs.batch_slices(inputs, i))), meta["outputs"])
        assert all(np.all(np.isfinite(o)) for o in litert)
        error = cs.max_error(litert, cs.batch_slices(expected, i))
        assert error <= TOLERANCE[mode], f"{name} {mode}: relative error {error:.3g}"

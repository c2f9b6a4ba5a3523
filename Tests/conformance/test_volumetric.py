"""Volumetric (3-D) layers beyond the zoo's float32 conversion (test_convert_layers.py, cases in
zoo_volumetric.py): keraslite's .tflite of 3-D models run on keraslite's own TFLite executor
(CONV_3D, CONV_3D_TRANSPOSE, the separable pools' RESHAPE + 2-D pools, UpSampling3D's TILE) against
LiteRT on the same file, and `--quantize float16|dynamic` files of a Conv3D model load and run in
LiteRT.

Tolerances: executor vs LiteRT 1e-4 · max(1, max |LiteRT|) (float32 sums in another order); the
float16 and dynamic-range files vs Keras 1e-2 · max(1, max |Keras|) (weights rounded to float16;
the Dense's hybrid int8 kernel — CONV_3D has none, so its weights stay float32 in `dynamic`).
"""
import numpy as np
import pytest

import convert_support as cs
from test_convert_layers import zoo  # noqa: F401 (fixture)
from test_interpreter import run_interpreter

EXECUTOR_CASES = [(version, name, "h5") for version in ("3", "2")
                  for name in ("conv3d-autoencoder", "conv3d-kernel322-stride123", "conv3d-dilation212-same",
                               "conv3dtranspose-stride2-same", "conv3dtranspose-outpad1-stride2-same",
                               "avgpool3d-pool231-stride121-same", "maxpool3d-same", "upsampling3d-2x1x3",
                               "conv3d-bn-gap3d", "cropping3d-asymmetric", "zeropadding3d-asymmetric")]
QUANTIZE_CASES = [(version, "conv3d-wide", "h5") for version in ("3", "2")]


def _within(ours, theirs, relative, what):
    error = float(np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))))
    tolerance = relative * max(1.0, float(np.max(np.abs(theirs))))
    assert ours.shape == theirs.shape, f"{what}: shape {list(ours.shape)} vs {list(theirs.shape)}"
    assert error <= tolerance, f"{what}: max error {error:.3g} > {tolerance:.3g}"


@pytest.mark.parametrize("zoo_case", EXECUTOR_CASES, ids=[f"keras{v}-{n}" for v, n, _ in EXECUTOR_CASES])
def test_executor_matches_litert_on_volumes(zoo, zoo_case, tmp_path):  # noqa: F811 (fixture)
    version, name, _ = zoo_case
    meta, inputs, _ = cs.load_case(zoo.get(version, name))
    tflite = tmp_path / "model.tflite"
    cs.convert(zoo.get(version, name) / "model.h5", tflite, "--quiet")
    for i in range(len(inputs[0])):
        sample = dict(zip(meta["inputs"], cs.batch_slices(inputs, i)))
        ours = run_interpreter(tmp_path, tflite, sample)
        litert = cs.run_litert(tflite, sample, meta["outputs"])
        assert sorted(ours) == sorted(meta["outputs"])
        for output, theirs in zip(meta["outputs"], litert):
            _within(ours[output], theirs, cs.RELATIVE_TOLERANCE, f"{name} input {i} {output!r}")


@pytest.mark.parametrize("mode,relative", [("float16", 1e-2), ("dynamic", 1e-2)])
@pytest.mark.parametrize("zoo_case", QUANTIZE_CASES, ids=[f"keras{v}-{n}" for v, n, _ in QUANTIZE_CASES])
def test_quantized_conv3d_runs_in_litert(zoo, zoo_case, mode, relative, tmp_path):  # noqa: F811 (fixture)
    version, name, _ = zoo_case
    meta, inputs, expected = cs.load_case(zoo.get(version, name))
    tflite, plain = tmp_path / f"model-{mode}.tflite", tmp_path / "model.tflite"
    cs.convert(zoo.get(version, name) / "model.h5", tflite, "--quantize", mode, "--quiet")
    cs.convert(zoo.get(version, name) / "model.h5", plain, "--quiet")
    # float16 halves every weight; dynamic stores the Dense kernel as int8.
    assert tflite.stat().st_size < (0.6 if mode == "float16" else 0.9) * plain.stat().st_size, f"{mode} did not shrink the weights"
    for i in range(len(inputs[0])):
        litert = cs.run_litert(tflite, dict(zip(meta["inputs"], cs.batch_slices(inputs, i))), meta["outputs"])
        for output, ours, theirs in zip(meta["outputs"], litert, cs.batch_slices(expected, i)):
            _within(ours, theirs, relative, f"{name} --quantize {mode} input {i} {output!r}")

"""`keraslite convert --sparse` against LiteRT:

- pruned samples (50 / 80 / 90%) converted with and without --sparse, float32, float16, dynamic
  and full-integer int8: both files load in LiteRT — with its default XNNPACK delegate and with the
  builtin kernels alone — and the sparse file's outputs equal its dense twin's (float: within 1e-6
  relative to the largest output; int8: identical); where an encoding pays off the file is smaller;
- the encodings LiteRT reads natively are used where they apply (FULLY_CONNECTED version 8 with a
  CSR float32 weight, 1×4 float32 / 1×16 int8 blocks on a model whose zeros come in blocks), and
  every other sparse constant is read through DENSIFY;
- a model without zeros is written byte-identical with --sparse;
- keraslite's own readers (inspect, sparsity, run, verify, diff) take the sparse files.
"""
import json
import os

import numpy as np
import pytest

import convert_support as cs
from conftest import SAMPLES, keraslite

SPARSITIES = [0.5, 0.8, 0.9]
# (sample, calibration/input file or None for random inputs of the model's input shape)
SAMPLE_INPUTS = {
    "digits_cnn_k2.h5": (8, 8, 1),
    "small_resnet_k2.h5": (32, 32, 3),
    "seed_mobilenetv2_k3.h5": (32, 32, 3),
    "digits_mlp_k2.h5": (64,),
}
MODES = ["none", "float16", "dynamic", "int8"]


def interpreter_outputs(path, x, xnnpack):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {} if xnnpack else {"experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    interpreter = Interpreter(model_path=str(path), num_threads=1, **kwargs)
    interpreter.allocate_tensors()
    outputs = []
    for sample in x:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], sample[None])
        interpreter.invoke()
        outputs.append(np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"])))
    return np.concatenate(outputs)


def output_step(path):
    from ai_edge_litert.interpreter import Interpreter

    scale, _ = Interpreter(model_path=str(path)).get_output_details()[0]["quantization"]
    return scale


def compare_twins(dense, sparse, x, mode):
    """The sparse file's outputs equal the dense twin's — float within 1e-6 relative, int8 exactly
    — on LiteRT's builtin kernels and with its default XNNPACK delegate. Under XNNPACK a natively
    sparse int8 FULLY_CONNECTED (version 8, which XNNPACK leaves to the builtin kernel) replaces
    XNNPACK's own dense one, so there int8 outputs may differ by one output step."""
    compared = 0
    for xnnpack in (True, False):
        try:
            expected = interpreter_outputs(dense, x, xnnpack)
        except RuntimeError as error:
            # The dense twin itself does not prepare there (e.g. int8 of a pruned random-weight
            # MobileNetV2 on the builtin kernels): the sparse one must fail the same way.
            with pytest.raises(RuntimeError):
                interpreter_outputs(sparse, x, xnnpack)
            print(f"{dense.name}: xnnpack={xnnpack}: {str(error)[:120]}")
            continue
        got = interpreter_outputs(sparse, x, xnnpack)
        assert got.shape == expected.shape
        compared += 1
        if mode == "int8":
            native_fc = ("FULLY_CONNECTED", 8) in cs.operators(sparse)
            if xnnpack and native_fc:
                step = output_step(sparse) or 1.0
                assert np.abs(got.astype(np.float64) - expected).max() <= step * 1.0001
            else:
                np.testing.assert_array_equal(got, expected, err_msg=f"xnnpack={xnnpack}")
        else:
            scale = max(float(np.abs(expected).max()), 1e-30)
            worst = float(np.abs(got.astype(np.float64) - expected).max())
            assert worst <= 1e-6 * scale, f"xnnpack={xnnpack}: max |sparse - dense| = {worst:.3g}, scale {scale:.3g}"
    assert compared > 0


def model_tensors(path):
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(open(path, "rb").read(), 0)
    return model, model.subgraphs[0]


def sparse_layout(tensor):
    """'csr' (dense …, CSR on the last dimension), 'block<k>' (1×k blocks of a matrix), or None."""
    sparsity = tensor.sparsity
    if sparsity is None:
        return None
    formats = [d.format for d in sparsity.dimMetadata]
    block_map = [] if sparsity.blockMap is None else list(sparsity.blockMap)
    if not block_map:
        assert formats[:-1] == [0] * (len(formats) - 1) and formats[-1] == 1, formats
        return "csr"
    assert block_map == [1] and formats == [0, 1, 0], (block_map, formats)
    return f"block{sparsity.dimMetadata[2].denseSize}"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sparse-inputs")
    rng = np.random.default_rng(7)
    files = {}
    for sample, shape in SAMPLE_INPUTS.items():
        x = rng.uniform(0, 1, size=(8, *shape)).astype(np.float32)
        np.save(directory / f"{sample}.npy", x)
        files[sample] = directory / f"{sample}.npy"
    return files


def twins(sample, sparsity, mode, inputs, directory):
    """Converts the pruned sample without and with --sparse; returns (dense path, sparse path, stdout)."""
    extra = ["--prune", sparsity] if sparsity else []
    if mode != "none":
        extra += ["--quantize", mode]
    if mode == "int8":
        extra += ["--calibration", inputs[sample]]
    stem = f"{sample}-{sparsity}-{mode}"
    dense, sparse = directory / f"{stem}-dense.tflite", directory / f"{stem}-sparse.tflite"
    cs.convert(SAMPLES / sample, dense, *extra)
    result = cs.convert(SAMPLES / sample, sparse, *extra, "--sparse")
    return dense, sparse, result.stdout


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sparsity", SPARSITIES)
@pytest.mark.parametrize("sample", list(SAMPLE_INPUTS))
def test_sparse_file_equals_its_dense_twin_in_litert(sample, sparsity, mode, inputs, tmp_path):
    dense, sparse, stdout = twins(sample, sparsity, mode, inputs, tmp_path)
    compare_twins(dense, sparse, np.load(inputs[sample]), mode)

    dense_size, sparse_size = os.path.getsize(dense), os.path.getsize(sparse)
    _, subgraph = model_tensors(sparse)
    stored_sparse = sum(t.sparsity is not None for t in subgraph.tensors)
    if stored_sparse == 0:
        assert open(dense, "rb").read() == open(sparse, "rb").read()
        assert "no constant pays off" in stdout
    else:
        assert sparse_size < dense_size, f"{sparse_size} ≥ dense {dense_size}"
        assert f"{stored_sparse} constant" in stdout
    # Where an encoding must pay off: float32 and float16 weights from 50% on (CSR with uint8/uint16
    # indices breaks even at 20–33% / 33–50%), int8 convolutions from 80% (CSR breaks even at 50–67%).
    # Dynamic-range and int8 dense layers keep hybrid/full-integer weights dense unless 1×16 blocks pay.
    if mode in ("none", "float16") or (mode == "int8" and sparsity >= 0.8 and sample != "digits_mlp_k2.h5"):
        assert stored_sparse > 0 and sparse_size < dense_size


@pytest.mark.parametrize("mode", MODES)
def test_native_and_densify_encodings(mode, inputs, tmp_path):
    """Float32 dense layers read CSR natively (FULLY_CONNECTED v8); conv kernels go through DENSIFY."""
    dense, sparse, _ = twins("digits_cnn_k2.h5", 0.9, mode, inputs, tmp_path)
    model, subgraph = model_tensors(sparse)
    ops = cs.operators(sparse)
    produced_by_densify = set()
    for (name, version), op in zip(ops, subgraph.operators):
        inputs_ = list(op.inputs)
        if name == "DENSIFY":
            assert subgraph.tensors[inputs_[0]].sparsity is not None
            produced_by_densify.add(int(op.outputs[0]))
            continue
        for k, tensor_index in enumerate(inputs_):
            if tensor_index >= 0 and subgraph.tensors[tensor_index].sparsity is not None:
                # Only FULLY_CONNECTED's weight is ever read sparse without DENSIFY, at version 8.
                assert (name, k, version) == ("FULLY_CONNECTED", 1, 8), (name, k, version)
    if mode in ("none", "float16", "int8"):
        # conv2d_1 (4,608 weights, pruned to 90%) is read through DENSIFY (float16: DENSIFY → DEQUANTIZE).
        readers = [list(op.inputs) for op in subgraph.operators]
        assert any(output in inputs_ for output in produced_by_densify for inputs_ in readers)
        assert produced_by_densify
    if mode == "none":
        fc_weights = [subgraph.tensors[op.inputs[1]] for (name, _), op in zip(ops, subgraph.operators) if name == "FULLY_CONNECTED"]
        assert "csr" in [sparse_layout(t) for t in fc_weights]


@pytest.fixture(scope="module")
def blocky_model(tmp_path_factory):
    """A Keras 3 MLP whose Dense kernels are zero in whole blocks along the input axis (the TFLite
    weight's columns): 1×16 blocks, 75% of them zero — so 1×4 (float) and 1×16 (int8) pay off."""
    import keras

    rng = np.random.default_rng(3)
    model = keras.Sequential([keras.Input((128,)), keras.layers.Dense(96, activation="relu"), keras.layers.Dense(32)])
    for layer in model.layers:
        kernel, bias = layer.get_weights()
        kernel = rng.standard_normal(kernel.shape).astype(np.float32) * 0.2
        inputs_, outputs = kernel.shape
        keep = rng.uniform(size=(inputs_ // 16, outputs)) < 0.25
        kernel *= np.repeat(keep, 16, axis=0)
        layer.set_weights([kernel, rng.standard_normal(bias.shape).astype(np.float32) * 0.1])
    directory = tmp_path_factory.mktemp("blocky")
    path = directory / "blocky.keras"
    model.save(path)
    x = rng.standard_normal((8, 128)).astype(np.float32)
    np.save(directory / "x.npy", x)
    return path, directory / "x.npy"


@pytest.mark.parametrize("mode,layout", [("none", "block4"), ("int8", "block16")])
def test_block_encodings_run_natively(blocky_model, mode, layout, tmp_path):
    path, x_file = blocky_model
    extra = ["--quantize", mode, "--calibration", x_file] if mode == "int8" else []
    dense, sparse = tmp_path / "dense.tflite", tmp_path / "sparse.tflite"
    cs.convert(path, dense, *extra)
    cs.convert(path, sparse, *extra, "--sparse")
    _, subgraph = model_tensors(sparse)
    ops = cs.operators(sparse)
    layouts = [sparse_layout(subgraph.tensors[op.inputs[1]]) for (name, _), op in zip(ops, subgraph.operators)
               if name == "FULLY_CONNECTED"]
    assert layouts == [layout, layout]
    assert all(version == 8 for name, version in ops if name == "FULLY_CONNECTED")
    assert "DENSIFY" not in [name for name, _ in ops]
    assert os.path.getsize(sparse) < os.path.getsize(dense)
    compare_twins(dense, sparse, np.load(x_file), mode)


@pytest.mark.parametrize("sample", ["digits_cnn_k2.h5", "small_resnet_k2.h5", "seed_mobilenetv2_k3.h5"])
def test_dense_model_stays_byte_identical(sample, tmp_path):
    dense, sparse = tmp_path / "dense.tflite", tmp_path / "sparse.tflite"
    cs.convert(SAMPLES / sample, dense)
    result = cs.convert(SAMPLES / sample, sparse, "--sparse")
    assert open(dense, "rb").read() == open(sparse, "rb").read()
    assert "--sparse: no constant pays off stored sparse" in result.stdout


def test_keraslite_reads_sparse_files(inputs, tmp_path):
    dense, sparse, _ = twins("digits_cnn_k2.h5", 0.8, "none", inputs, tmp_path)
    x = inputs["digits_cnn_k2.h5"]
    inspect = json.loads(keraslite("inspect", sparse, "--json").stdout)
    assert "DENSIFY" in json.dumps(inspect)
    dense_zeros = json.loads(keraslite("sparsity", dense, "--json").stdout)
    sparse_zeros = json.loads(keraslite("sparsity", sparse, "--json").stdout)
    assert (dense_zeros["total"], dense_zeros["zeros"]) == (sparse_zeros["total"], sparse_zeros["zeros"])
    assert sparse_zeros["stored_bytes"] < dense_zeros["stored_bytes"]
    # keraslite's executor runs the sparse file as LiteRT does.
    out = tmp_path / "y.npy"
    keraslite("run", sparse, "--input", x, "-o", out)
    litert = interpreter_outputs(sparse, np.load(x), xnnpack=False)
    assert np.abs(np.load(out) - litert).max() <= 1e-5 * max(1.0, np.abs(litert).max())
    verify = keraslite("verify", dense, sparse, "--input", x).stdout
    assert "100.00%" in verify
    diff = keraslite("diff", dense, sparse).stdout
    assert "0 differ" in diff

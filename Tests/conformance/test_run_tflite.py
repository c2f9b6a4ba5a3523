"""`keraslite run` on .tflite files — the TFLite executor — against LiteRT (ai-edge-litert) on the
same files and inputs, and `keraslite verify`.

Files: keraslite's float32 conversion of every sample (and the third-party model); keraslite's
float16, dynamic-range and full-int8 conversions (float, int8 and uint8 I/O) of digits_cnn_k2;
TensorFlow's float, float16, dynamic-range and full-int8 conversions of digits_cnn_k2 (the shared
`tflite_files` fixture); and a small zoo of TensorFlow functions converted by TensorFlow (the ops
TensorFlow writes that keraslite does not: STRIDED_SLICE, GATHER, PACK, BATCH_MATMUL, …, plus a
MobileNet-style block in every quantization mode), cached outside the checkout like the layer zoo.

Tolerances, per output, on max |keraslite − LiteRT|:
* float32 files: 1e-4 · max(1, max |LiteRT|), the conversion suite's; the executor computes the
  same float32 sums in another order (im2col + OpenBLAS), which moves results by ~1e-7.
* float16 files: the same, since float16 weights are widened exactly on both sides and the rest is
  float32 arithmetic.
* dynamic-range (hybrid) files, against LiteRT's builtin kernels (XNNPACK off): 1e-3 · max(1, max
  |LiteRT|). LiteRT quantizes each input of a hybrid CONV_2D / DEPTHWISE_CONV_2D (per image) or
  FULLY_CONNECTED (per row) to int8 before an integer product; the executor quantizes the same way,
  but a value that lands on a rounding boundary of that int8 quantization after float32 noise may
  round the other way: one int8 step of one activation, far below 1e-3 of these outputs (observed:
  ≤ 4e-7). Against LiteRT's default XNNPACK delegate: 1e-2 · max(1, max |LiteRT|), because XNNPACK
  runs hybrid convolutions with its own dynamic quantization, so every activation may round
  differently by up to half an int8 step (observed: 1.7e-3 on the MobileNet-style block).
* full-integer files: stored outputs within 1 quantization step (LiteRT's integer kernels use
  fixed-point multipliers and lookup tables; the executor computes each op in float and rounds
  once), and top-1 agreement ≥ 99 % on the 360 digits test images.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import convert_support as cs
from conftest import SAMPLES, keraslite, model_files
from test_convert_layers import zoo  # noqa: F401 (fixture)

DIGITS_X = SAMPLES / "digits_test_x.npy"
DIGITS_Y = SAMPLES / "digits_test_y.npy"
FLOAT_TOLERANCE = cs.RELATIVE_TOLERANCE
HYBRID_TOLERANCE = 1e-3
HYBRID_XNNPACK_TOLERANCE = 1e-2


# --- running both sides ---------------------------------------------------------------------------

def quantize(array, detail):
    """Real values onto an integer input's grid as LiteRT's QUANTIZE does: round half away from zero."""
    scale, zero_point = detail["quantization"]
    ratio = array / np.float32(scale)
    q = np.sign(ratio) * np.floor(np.abs(ratio) + 0.5) + zero_point
    info = np.iinfo(detail["dtype"])
    return np.clip(q, info.min, info.max).astype(detail["dtype"])


def litert_outputs(path, arrays, builtin_kernels=False):
    """LiteRT on a list of input arrays (subgraph input order, any number of samples): one invoke when
    the file's batch is dynamic, else one per sample. Float arrays for integer inputs are quantized.
    builtin_kernels: LiteRT's builtin kernels without the default XNNPACK delegate.
    Returns {output tensor name: array} and the output details."""
    if builtin_kernels:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        interpreter = Interpreter(model_path=str(path), num_threads=1,
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        interpreter = cs.load_interpreter(path)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    samples = len(arrays[0])
    dynamic = all(d["shape_signature"][0] == -1 for d in inputs)
    chunk = samples if dynamic else int(inputs[0]["shape"][0])
    if dynamic:
        for detail, array in zip(inputs, arrays):
            interpreter.resize_tensor_input(detail["index"], list(array.shape), strict=True)
    interpreter.allocate_tensors()
    parts = {d["name"]: [] for d in outputs}
    for start in range(0, samples, chunk):
        for detail, array in zip(inputs, arrays):
            piece = array[start:start + chunk]
            if detail["dtype"] != np.float32 and piece.dtype.kind == "f":
                piece = quantize(piece, detail)
            interpreter.set_tensor(detail["index"], np.ascontiguousarray(piece, dtype=detail["dtype"]))
        # Variable tensors (an LSTM's states) keep the last invoke's values in LiteRT; each chunk
        # starts from their initial values, as every keraslite run does.
        interpreter.reset_all_variables()
        interpreter.invoke()
        for detail in outputs:
            parts[detail["name"]].append(np.array(interpreter.get_tensor(detail["index"])))
    return {name: np.concatenate(values) for name, values in parts.items()}, outputs


def keraslite_outputs(path, arrays, tmp_path, *extra):
    """`keraslite run FILE --input x.npz -o y.npz`, the arrays keyed by the names keraslite reads
    (signature input names, else tensor names); returns {name: array} in the file's output order."""
    names = io_names(path)
    x, y = tmp_path / (path.stem + ".x.npz"), tmp_path / (path.stem + ".y.npz")
    np.savez(x, **dict(zip(names[0], arrays)))
    keraslite("run", path, "--input", x, "-o", y, "--quiet", *extra)
    with np.load(y) as outputs:
        return [outputs[name] for name in names[1]]


def io_names(path):
    """(input names, output names) as keraslite names them: the serving_default signature's names in
    subgraph order, else tensor names."""
    interpreter = cs.load_interpreter(path)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    signature = interpreter._get_full_signature_list().get(cs.SIGNATURE_KEY)
    def named(details, entries):
        by_index = {index: name for name, index in entries.items()} if entries else {}
        names = [by_index.get(d["index"]) for d in details]
        return names if all(names) and len(set(names)) == len(names) else [d["name"] for d in details]
    return (named(inputs, signature and signature["inputs"]), named(outputs, signature and signature["outputs"]))


def compare(path, arrays, tmp_path, relative, what, builtin_kernels=False, ours=None):
    """keraslite and LiteRT on the same inputs; every output within relative · max(1, max |LiteRT|).
    Returns keraslite's outputs."""
    theirs, details = litert_outputs(path, arrays, builtin_kernels)
    ours = ours or keraslite_outputs(path, arrays, tmp_path)
    for detail, mine in zip(details, ours):
        reference = theirs[detail["name"]]
        assert mine.shape == reference.shape, f"{what} {detail['name']!r}: shape {mine.shape}, LiteRT {reference.shape}"
        assert mine.dtype == reference.dtype, f"{what} {detail['name']!r}: dtype {mine.dtype}, LiteRT {reference.dtype}"
        if reference.size == 0:
            continue
        error = np.abs(mine.astype(np.float64) - reference.astype(np.float64))
        tolerance = relative * max(1.0, float(np.max(np.abs(reference))))
        assert error.max() <= tolerance, (f"{what} {detail['name']!r}: max |keraslite − LiteRT| = {error.max():.3g} > "
                                          f"{tolerance:.3g}; {int((error > tolerance).sum())} of {error.size} elements off")
    return ours


def compare_hybrid(path, arrays, tmp_path, what):
    """A dynamic-range file: against LiteRT's builtin hybrid kernels, then against XNNPACK."""
    ours = compare(path, arrays, tmp_path, HYBRID_TOLERANCE, what + " (builtin kernels)", builtin_kernels=True)
    compare(path, arrays, tmp_path, HYBRID_XNNPACK_TOLERANCE, what + " (XNNPACK)", ours=ours)


def compare_quantized(path, arrays, tmp_path, what, labels=None):
    """A full-integer file: stored outputs within one quantization step of LiteRT's; returns the
    top-1 agreement with LiteRT (and checks it is ≥ 99 %)."""
    theirs, details = litert_outputs(path, arrays)
    ours = keraslite_outputs(path, arrays, tmp_path)
    agreement = 1.0
    for detail, mine in zip(details, ours):
        reference = theirs[detail["name"]]
        assert mine.dtype == reference.dtype and mine.shape == reference.shape, what
        if detail["dtype"] == np.float32:  # float I/O: steps of the int8 tensor the final DEQUANTIZE reads
            steps = np.abs(mine.astype(np.float64) - reference) / dequantized_step(path, detail["index"])
        else:
            steps = np.abs(mine.astype(np.int64) - reference.astype(np.int64))
        assert steps.max() <= 1 + 1e-6, f"{what} {detail['name']!r}: {steps.max():.3g} quantization steps from LiteRT"
        if reference.ndim == 2 and reference.shape[1] > 1:
            agreement = float(np.mean(mine.argmax(1) == reference.argmax(1)))
            assert agreement >= 0.99, f"{what}: top-1 agreement with LiteRT {agreement:.2%}"
    return agreement


def dequantized_step(path, output_index):
    """The scale of the quantized tensor that the DEQUANTIZE writing `output_index` reads."""
    interpreter = cs.load_interpreter(path)
    op = next(op for op in interpreter._get_ops_details() if output_index in list(op["outputs"]))
    assert op["op_name"] == "DEQUANTIZE", op["op_name"]
    source = next(d for d in interpreter.get_tensor_details() if d["index"] == op["inputs"][0])
    return float(source["quantization"][0])


# --- keraslite's float files of every sample -------------------------------------------------------

@pytest.mark.parametrize("sample", model_files(), ids=lambda item: item[0].name)
def test_keraslite_float_file_matches_litert(sample, tmp_path):
    """keraslite's float32 conversion of every sample: the committed inputs (or 3 random samples)."""
    path, config = sample
    tflite = tmp_path / (path.stem + ".tflite")
    cs.convert(path, tflite, "--quiet", config=config)
    stem = path.name.split(".")[0].replace("_compiled", "")
    names = io_names(tflite)[0]
    if (SAMPLES / f"{stem}.inputs.npy").is_file():
        arrays = [np.load(SAMPLES / f"{stem}.inputs.npy")]
    elif (SAMPLES / f"{stem}.inputs.npz").is_file():
        with np.load(SAMPLES / f"{stem}.inputs.npz") as stored:
            arrays = [stored[name] for name in names]
    else:
        shapes = [tuple(d["shape"][1:]) for d in cs.load_interpreter(tflite).get_input_details()]
        arrays = cs.random_inputs(shapes, 3, sum(path.name.encode()))
    compare(tflite, arrays, tmp_path, FLOAT_TOLERANCE, path.name)


# --- keraslite's quantized files -------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["float16", "dynamic"])
def test_keraslite_weight_quantized_file_matches_litert(mode, tmp_path):
    tflite = tmp_path / f"digits_{mode}.tflite"
    cs.convert(SAMPLES / "digits_cnn_k2.h5", tflite, "--quantize", mode, "--quiet")
    if mode == "float16":
        compare(tflite, [np.load(DIGITS_X)], tmp_path, FLOAT_TOLERANCE, tflite.name)
    else:
        compare_hybrid(tflite, [np.load(DIGITS_X)], tmp_path, tflite.name)


@pytest.mark.parametrize("io", ["float32", "int8", "uint8"])
def test_keraslite_int8_file_matches_litert(io, tmp_path):
    tflite = tmp_path / f"digits_int8_{io}.tflite"
    cs.convert(SAMPLES / "digits_cnn_k2.h5", tflite, "--quantize", "int8", "--calibration", DIGITS_X, "--io", io, "--quiet")
    compare_quantized(tflite, [np.load(DIGITS_X)], tmp_path, tflite.name)


# --- keraslite's LSTM files: UNIDIRECTIONAL_SEQUENCE_LSTM, float and hybrid ----------------------

LSTM_CASES = [("2", name, mode) for name in ("stock-lstm-stack", "text-bilstm", "lstm-wide-stack", "bidirectional-lstm-wide")
              for mode in ("none", "dynamic")]


@pytest.mark.parametrize("zoo_case,mode", [((v, n, "h5"), m) for v, n, m in LSTM_CASES],
                         ids=[f"keras{v}-{n}-{m}" for v, n, m in LSTM_CASES])
def test_keraslite_lstm_file_matches_litert(zoo, zoo_case, mode, tmp_path):  # noqa: F811 (fixture)
    """The zoo's stock LSTM stack and BiLSTMs as keraslite writes them (every LSTM one
    UNIDIRECTIONAL_SEQUENCE_LSTM; the wide ones hybrid under dynamic) on the zoo's 3 inputs."""
    version, name, _ = zoo_case
    meta, inputs, _ = cs.load_case(zoo.get(version, name))
    tflite = tmp_path / f"{name}-{mode}.tflite"
    cs.convert(zoo.get(version, name) / "model.h5", tflite, "--quantize", mode, "--quiet")
    assert [op for op, _ in cs.operators(tflite)].count("UNIDIRECTIONAL_SEQUENCE_LSTM") == 2
    if mode == "dynamic":
        compare_hybrid(tflite, inputs, tmp_path, tflite.name)
    else:
        compare(tflite, inputs, tmp_path, FLOAT_TOLERANCE, tflite.name)


# --- TensorFlow's conversions of digits_cnn_k2 ------------------------------------------------------

def tf_file(tflite_files, name):
    return next(p for p in tflite_files if p.name == name + ".tflite")


@pytest.mark.parametrize("name", ["tf_float", "tf_float16", "tf_dynamic"])
def test_tensorflow_file_matches_litert(tflite_files, name, tmp_path):
    if name == "tf_dynamic":
        compare_hybrid(tf_file(tflite_files, name), [np.load(DIGITS_X)], tmp_path, name)
    else:
        compare(tf_file(tflite_files, name), [np.load(DIGITS_X)], tmp_path, FLOAT_TOLERANCE, name)


def test_tensorflow_int8_file_matches_litert(tflite_files, tmp_path):
    """int8 in, int8 out: the same int8 data to both (and real numbers, quantized by keraslite, give
    the same outputs); accuracy on the digits labels stays the Keras model's within a point."""
    path = tf_file(tflite_files, "tf_int8")
    x = np.load(DIGITS_X)
    detail = cs.load_interpreter(path).get_input_details()[0]
    stored = quantize(x, detail)
    compare_quantized(path, [stored], tmp_path, "tf_int8 (int8 inputs)")
    from_float = keraslite_outputs(path, [x], tmp_path)[0]
    from_int8 = keraslite_outputs(path, [stored], tmp_path)[0]
    assert from_float.dtype == np.int8 and np.array_equal(from_float, from_int8)
    real = keraslite_outputs(path, [stored], tmp_path, "--dequantize-outputs")[0]
    output = cs.load_interpreter(path).get_output_details()[0]
    scale, zero_point = output["quantization"]
    assert real.dtype == np.float32 and np.allclose(real, scale * (from_int8.astype(np.float32) - zero_point))
    labels = np.load(DIGITS_Y)
    assert np.mean(from_int8.argmax(1) == labels) >= 0.97


# --- TensorFlow's ops: a zoo of functions converted by TensorFlow ---------------------------------

TF_OPS = r'''
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf
out = sys.argv[1]
rng = np.random.default_rng(7)
def w(*shape, scale=0.5): return tf.constant((rng.standard_normal(shape) * scale).astype(np.float32))
CASES = {
    "strided_slices": ([(2, 5, 6, 3)], lambda x: [x[:, 1:, ::-2], x[..., 0], x[:, tf.newaxis, 2, -1:0:-1], x[1, 3:1:-1, ...]]),
    "gather_pack_unpack": ([(3, 5, 4)], lambda x: [tf.gather(x, [4, 0, 2], axis=1), tf.stack([x, 2 * x], axis=1),
                                                  *tf.unstack(x, axis=2)[:2]]),
    "reductions": ([(2, 4, 5, 3)], lambda x: [tf.reduce_sum(x, [1, 2]), tf.reduce_mean(x, -1, keepdims=True), tf.reduce_max(x, 1),
                                           tf.reduce_min(x, [0, 3]), tf.reduce_prod(x[:, :2], 1)]),
    "math": ([(2, 7), (2, 7)], lambda x, y: [tf.math.squared_difference(x, y), tf.pow(tf.abs(x) + 0.5, y), tf.sqrt(tf.abs(x)),
                                        tf.math.rsqrt(tf.abs(y) + 0.1), tf.exp(x), tf.math.log(tf.abs(y) + 1), x / (tf.abs(y) + 0.5),
                                        tf.math.floormod(x, 0.7), tf.math.floordiv(x, 0.3), tf.maximum(x, y), tf.minimum(x, -y)]),
    "activations": ([(3, 10)], lambda x: [tf.nn.softmax(x * 2), tf.nn.log_softmax(x), tf.math.l2_normalize(x, -1),
                                       tf.nn.leaky_relu(x, 0.15), tf.nn.elu(x), tf.nn.gelu(x, approximate=True),
                                       x * tf.nn.relu6(x + 3) / 6, tf.sigmoid(x), tf.tanh(x), tf.nn.relu6(x), tf.nn.relu(x)]),
    "select_compare": ([(4, 6), (4, 6)], lambda x, y: [tf.where(x > y, x, y * 2), tf.cast(x >= 0, tf.float32) + tf.cast(y < 0.3, tf.float32),
                                                   tf.where(tf.logical_and(x > 0, y > 0), x, 0.0)]),
    "matmul_cumsum_argmax": ([(2, 3, 4), (2, 4, 5)], lambda x, y: [tf.matmul(x, y), tf.matmul(x, y[0]), tf.cumsum(x, axis=2),
                                                               tf.cumsum(x, axis=1, exclusive=True, reverse=True),
                                                               tf.cast(tf.argmax(y, axis=2), tf.float32),
                                                               tf.cast(tf.argmin(x, axis=1), tf.float32)]),
    "shapes": ([(2, 3, 4)], lambda x: [tf.concat([x, x * 3], axis=1), *tf.split(x, 2, axis=2), *tf.split(x, [1, 2], axis=1),
                                    tf.tile(x, [1, 2, 1]), tf.transpose(x, [2, 0, 1]), tf.pad(x, [[0, 0], [1, 2], [0, 1]]),
                                    tf.pad(x, [[0, 0], [1, 1], [2, 1]], mode="REFLECT"),
                                    tf.pad(x, [[0, 0], [2, 0], [0, 1]], mode="SYMMETRIC"), tf.expand_dims(x, 1),
                                    tf.reshape(x, [tf.shape(x)[0], -1]), tf.squeeze(x[:, :1], 1), tf.reverse(x, [1])]),
    "images": ([(1, 6, 8, 4)], lambda x: [tf.compat.v1.image.resize_bilinear(x, [9, 5], align_corners=True),
                                       tf.image.resize(x, [12, 16], method="bilinear"), tf.image.resize(x, [4, 5], method="nearest"),
                                       tf.compat.v1.image.resize_nearest_neighbor(x, [11, 13], align_corners=True),
                                       tf.nn.depth_to_space(x, 2), tf.nn.space_to_depth(x, 2), tf.nn.max_pool2d(x, 3, 2, "SAME"),
                                       tf.nn.avg_pool2d(x, 3, 2, "SAME"), tf.nn.avg_pool2d(x, 2, 1, "VALID")]),
    "convolutions": ([(2, 9, 7, 3)], lambda x: [tf.nn.conv2d(x, w(3, 3, 3, 5), 1, "SAME", dilations=2) + w(5),
                                             tf.nn.relu(tf.nn.conv2d(x, w(2, 3, 3, 4), [2, 3], "VALID")),
                                             tf.nn.depthwise_conv2d(x, w(3, 3, 3, 2), [1, 2, 2, 1], "SAME"),
                                             tf.nn.conv2d_transpose(x, w(3, 3, 6, 3), [2, 18, 14, 6], 2, "SAME"),
                                             tf.nn.conv2d_transpose(x, w(2, 2, 4, 3), [2, 10, 8, 4], 1, "VALID"),
                                             tf.matmul(tf.reshape(x, [2, -1]), w(189, 6))]),
    "volumes": ([(2, 5, 6, 7, 3)], lambda x: [tf.nn.conv3d(x, w(3, 2, 3, 3, 4), [1, 1, 2, 1, 1], "SAME") + w(4),
                                           tf.nn.relu(tf.nn.conv3d(x, w(2, 2, 2, 3, 5), [1, 2, 1, 2, 1], "VALID")),
                                           tf.nn.conv3d_transpose(x, w(3, 3, 3, 4, 3), [2, 10, 12, 14, 4], [1, 2, 2, 2, 1], "SAME"),
                                           tf.nn.conv3d_transpose(x, w(2, 3, 2, 2, 3), [2, 6, 8, 8, 2], 1, "VALID")]),
    "unsupported_topk": ([(2, 6)], lambda x: [tf.math.top_k(x, 2).values]),
}
# A MobileNet-style block (weights large enough for TensorFlow's dynamic-range quantization: ≥ 1024).
conv1, b1, depthwise, b2 = w(3, 3, 8, 64, scale=0.2), w(64, scale=0.1), w(5, 5, 64, 1, scale=0.2), w(64, scale=0.1)
conv2, b3, dense, b4 = w(1, 1, 64, 32, scale=0.2), w(32, scale=0.1), w(32, 40, scale=0.3), w(40, scale=0.1)
def block(x):
    y = tf.nn.relu6(tf.nn.conv2d(x, conv1, 1, "SAME") + b1)
    y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, depthwise, [1, 2, 2, 1], "SAME") + b2)
    y = tf.nn.conv2d(y, conv2, 1, "SAME") + b3
    return [tf.nn.softmax(tf.matmul(tf.reduce_mean(y, [1, 2]), dense) + b4)]
BLOCK_SHAPE = (1, 12, 12, 8)
block_samples = rng.uniform(0, 1, (64, *BLOCK_SHAPE[1:])).astype(np.float32)
def representative():
    for i in range(len(block_samples)):
        yield [block_samples[i:i + 1]]
def dynamic(c): c.optimizations = [tf.lite.Optimize.DEFAULT]
def half(c): c.optimizations = [tf.lite.Optimize.DEFAULT]; c.target_spec.supported_types = [tf.float16]
def int8(io):
    def configure(c):
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = representative
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if io is not None:
            c.inference_input_type = io; c.inference_output_type = io
    return configure
MODES = {"float": lambda c: None, "float16": half, "dynamic": dynamic, "int8_float_io": int8(None),
         "int8": int8(tf.int8), "int8_uint8_io": int8(tf.uint8)}
manifest = {}
def convert(name, shapes, function, configure=lambda c: None, kind="float"):
    try:
        specs = [tf.TensorSpec(shape, tf.float32) for shape in shapes]
        converter = tf.lite.TFLiteConverter.from_concrete_functions([tf.function(function).get_concrete_function(*specs)])
        configure(converter)
        open(os.path.join(out, name + ".tflite"), "wb").write(converter.convert())
        manifest[name] = {"kind": kind, "shapes": [list(s) for s in shapes]}
    except Exception as error:  # recorded; the test names it
        manifest[name] = {"kind": kind, "error": f"{type(error).__name__}: {str(error)[:300]}"}
for name, (shapes, function) in CASES.items():
    convert(name, shapes, function)
for mode, configure in MODES.items():
    convert("block_" + mode, [BLOCK_SHAPE], block, configure, kind=mode)
np.save(os.path.join(out, "block_x.npy"), rng.uniform(0, 1, (8, *BLOCK_SHAPE[1:])).astype(np.float32))
json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"), indent=1)
'''

OP_CASES = ["strided_slices", "gather_pack_unpack", "reductions", "math", "activations", "select_compare",
            "matmul_cumsum_argmax", "shapes", "images", "convolutions", "volumes"]
BLOCK_MODES = ["float", "float16", "dynamic", "int8_float_io", "int8", "int8_uint8_io"]


@pytest.fixture(scope="module")
def tf_ops(request):
    """The TensorFlow-converted zoo, built once per TensorFlow/numpy version and builder source."""
    root = pathlib.Path(os.environ.get("KERASLITE_TF_OPS_CACHE") or request.config.cache.mkdir("keraslite-tf-ops"))
    directory = root / cs.cache_key(TF_OPS)
    if not (directory / "manifest.json").is_file():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        subprocess.run([sys.executable, "-c", TF_OPS, str(directory)], check=True, capture_output=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1"))
    return directory, json.loads((directory / "manifest.json").read_text())


def tf_case(tf_ops, name):
    directory, manifest = tf_ops
    entry = manifest[name]
    if "error" in entry:
        pytest.fail(f"TensorFlow could not convert {name}: {entry['error']}")
    return directory / f"{name}.tflite", entry


@pytest.mark.parametrize("name", OP_CASES)
def test_tensorflow_ops_match_litert(tf_ops, name, tmp_path):
    path, entry = tf_case(tf_ops, name)
    rng = np.random.default_rng(sum(name.encode()))
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in entry["shapes"]]
    compare(path, arrays, tmp_path, FLOAT_TOLERANCE, name)


@pytest.mark.parametrize("mode", BLOCK_MODES)
def test_tensorflow_block_matches_litert(tf_ops, mode, tmp_path):
    """Conv, depthwise, 1×1 conv, mean, dense, softmax in every mode TensorFlow converts to: hybrid
    kernels (per-channel conv and depthwise, dense), float16 weights, full int8 with float, int8 and
    uint8 I/O (QUANTIZE/DEQUANTIZE at the boundary)."""
    path, _ = tf_case(tf_ops, "block_" + mode)
    x = np.load(tf_ops[0] / "block_x.npy")
    if mode.startswith("int8"):
        compare_quantized(path, [x], tmp_path, path.name)
    elif mode == "dynamic":
        compare_hybrid(path, [x], tmp_path, path.name)
    else:
        compare(path, [x], tmp_path, FLOAT_TOLERANCE, path.name)


# --- errors ----------------------------------------------------------------------------------------

def test_unsupported_operator_is_one_line_naming_it(tf_ops, tmp_path):
    path, _ = tf_case(tf_ops, "unsupported_topk")
    np.save(tmp_path / "x.npy", np.zeros((2, 6), np.float32))
    result = keraslite("run", path, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy", check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "(TOPK_V2)" in lines[0] and "operator" in lines[0], result.stderr
    assert not (tmp_path / "y.npy").exists()


def test_bad_runs_exit_2_with_one_line(tmp_path):
    tflite = tmp_path / "digits.tflite"
    cs.convert(SAMPLES / "digits_cnn_k3.keras", tflite, "--quiet")
    np.save(tmp_path / "wrong.npy", np.zeros((2, 9, 8, 1), np.float32))
    np.save(tmp_path / "big.npy", np.full((2, 8, 8, 1), 300, np.int16))
    for x in ("wrong.npy", "missing.npy"):
        result = keraslite("run", tflite, "--input", tmp_path / x, "-o", tmp_path / "y.npy", check=False)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    int8 = tmp_path / "digits_int8.tflite"
    cs.convert(SAMPLES / "digits_cnn_k3.keras", int8, "--quantize", "int8", "--calibration", SAMPLES / "digits_cnn_k3.inputs.npy",
               "--io", "int8", "--quiet")
    result = keraslite("run", int8, "--input", tmp_path / "big.npy", check=False)
    assert result.returncode == 2 and "not a whole number in -128…127" in result.stderr, result.stderr


# --- verify ----------------------------------------------------------------------------------------

def verify(*args, check=True):
    result = keraslite("verify", *args, "--json", check=False)
    if check:
        assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout) if result.stdout else None


def test_verify_keras_file_against_its_tflite(tmp_path):
    tflite = tmp_path / "digits.tflite"
    cs.convert(SAMPLES / "digits_cnn_k2.h5", tflite, "--quiet")
    code, report = verify(SAMPLES / "digits_cnn_k2.h5", tflite, "--input", DIGITS_X, "--tolerance", "1e-4")
    assert code == 0 and report["passed"] and report["samples"] == 360 and report["pairing"] == "name"
    (output,) = report["outputs"]
    assert output["name"] == "dense_1" and output["shape"] == [360, 10]
    assert output["max_abs_error"] <= 1e-4 and output["top1_agreement"] == 1.0 and output["top1_agree"] == 360
    # Several outputs, paired by name; a one-column output has no top-1.
    code, report = verify(SAMPLES / "multi_io_k3.h5", SAMPLES / "multi_io_k3.keras", "--input", SAMPLES / "multi_io_k3.inputs.npz")
    assert code == 0 and [o["name"] for o in report["outputs"]] == ["class_out", "reg_out"]
    assert report["outputs"][1]["top1_agreement"] is None and report["max_abs_error"] <= 1e-5
    text = keraslite("verify", SAMPLES / "digits_cnn_k2.h5", tflite, "--input", DIGITS_X).stdout
    assert "dense_1" in text and "100.00% (360/360)" in text


def test_verify_reports_an_altered_copy(tmp_path):
    """A copy with part of the first dense kernel scaled by 1.5: a non-zero error, exit 1 beyond --tolerance."""
    tflite = tmp_path / "digits.tflite"
    cs.convert(SAMPLES / "digits_cnn_k2.h5", tflite, "--quiet")
    interpreter = cs.load_interpreter(tflite)
    interpreter.allocate_tensors()
    kernel = next(d for d in interpreter.get_tensor_details() if list(d["shape"]) == [64, 512])
    weights = np.array(interpreter.get_tensor(kernel["index"]))
    data = bytearray(tflite.read_bytes())
    at = bytes(data).find(weights.tobytes())
    assert at > 0
    altered = weights.copy()
    altered[:8] *= 1.5
    data[at:at + weights.nbytes] = altered.tobytes()
    copy = tmp_path / "altered.tflite"
    copy.write_bytes(bytes(data))
    code, report = verify(tflite, copy, "--input", DIGITS_X)
    assert code == 0 and report["max_abs_error"] > 1e-4, report
    code, report = verify(tflite, copy, "--input", DIGITS_X, "--tolerance", "1e-6")
    assert code == 1 and not report["passed"]
    result = keraslite("verify", tflite, copy, "--input", DIGITS_X, "--tolerance", "1e-6", check=False)
    assert result.returncode == 1 and "FAILED" in result.stdout
    result = keraslite("verify", tflite, copy, "--input", tmp_path / "nothing.npy", check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1

"""Helpers for the `keraslite convert` conformance tests: run the converter, run a .tflite in LiteRT,
compare with Keras under the stated tolerance, make random inputs, and build the model zoo / seed
models with real Keras (2 or 3) in subprocesses.

Importing this module imports numpy only: Keras 2 (tf_keras) and Keras 3 build their models in
separate processes (`python convert_support.py build-zoo --keras 2 --out DIR`), so they never share
a process while building and saving.

Tolerance (the issue's): for every output, max |LiteRT - Keras| <= 1e-4 * max(1, max |Keras|).

Environment: KERASLITE_ZOO_CACHE / KERASLITE_SEED_CACHE (cache directories instead of the pytest
cache), KERASLITE_SEED_BN=literal (seed BatchNormalization statistics exactly as specified instead of
calibrated, see randomize_batchnorm), KERASLITE_LITERT_NO_XNNPACK=1 (LiteRT reference kernels),
KERASLITE_CONVERT_TIMEOUT (seconds, default 600).
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
RELATIVE_TOLERANCE = 1e-4
CONVERT_TIMEOUT = int(os.environ.get("KERASLITE_CONVERT_TIMEOUT", "600"))
TFLITE_IDENTIFIER = b"TFL3"


# ----------------------------------------------------------------------------------------------
# Running keraslite
# ----------------------------------------------------------------------------------------------

def binary():
    from conftest import BINARY  # lazy: the builder subprocesses import this module without pytest

    return BINARY


def convert(src, dst, *extra_args, config=None, check=True):
    """Runs `keraslite convert SRC -o DST [extra] [--config CONFIG]`; returns the CompletedProcess.
    With check=True a non-zero exit raises AssertionError carrying stderr."""
    args = [binary(), "convert", str(src), "-o", str(dst), *map(str, extra_args)]
    if config is not None:
        args += ["--config", str(config)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=CONVERT_TIMEOUT)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    if check:
        assert pathlib.Path(dst).is_file(), f"keraslite convert exited 0 but wrote no {dst}"
    return result


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def operators(tflite_path):
    """The main subgraph's operators as (builtin name, op version), in order, read from the file
    with LiteRT's generated schema reader (no interpreter, so no delegate rewrites the list)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(pathlib.Path(tflite_path).read_bytes(), 0)
    names = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    codes = [(names[max(code.builtinCode, code.deprecatedBuiltinCode)], code.version) for code in model.operatorCodes]
    return [codes[op.opcodeIndex] for op in model.subgraphs[0].operators]


# ----------------------------------------------------------------------------------------------
# LiteRT
# ----------------------------------------------------------------------------------------------

SIGNATURE_KEY = "serving_default"


def _use_xnnpack():
    # LiteRT applies XNNPACK by default (what devices run); KERASLITE_LITERT_NO_XNNPACK=1 uses the
    # reference builtin kernels instead, to tell a converter bug from a delegate difference.
    return os.environ.get("KERASLITE_LITERT_NO_XNNPACK", "") in ("", "0")


def load_interpreter(tflite_path, num_threads=1):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {}
    if not _use_xnnpack():
        kwargs["experimental_op_resolver_type"] = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    return Interpreter(model_path=str(tflite_path), num_threads=num_threads, **kwargs)


def signature_io(tflite_path):
    """(input names, output names) of the 'serving_default' signature, or None without one.
    LiteRT reports them as maps, so the names come back sorted; compare as sets or look up by name."""
    signatures = load_interpreter(tflite_path).get_signature_list()
    if SIGNATURE_KEY not in signatures:
        return None
    return list(signatures[SIGNATURE_KEY]["inputs"]), list(signatures[SIGNATURE_KEY]["outputs"])


def _check_shape(what, shape_signature, given):
    """Only dimensions the file leaves dynamic (-1) may differ from the static shape."""
    if len(shape_signature) != len(given) or any(s != -1 and s != g for s, g in zip(shape_signature, given)):
        raise AssertionError(f"{what}: the .tflite wants shape {list(shape_signature)} "
                             f"(-1 = dynamic), was given {list(given)}")


def run_litert(tflite_path, inputs, output_names=None, num_threads=1):
    """Runs a .tflite once in LiteRT (num_threads=1) and returns its outputs as a list of arrays.

    inputs: a dict {Keras input name: array} in Keras input order, or a list of arrays in Keras
    input order (or one array). When the file has a 'serving_default' signature and inputs is a
    dict, inputs are matched to the signature's input names; otherwise by position. An input whose
    shape differs from the given array is resized (resize_tensor_input, strict: only dimensions the
    file leaves dynamic, -1 in its shape signature as with `--batch 0`, may change), then
    allocate_tensors.

    Outputs come back in the order of output_names (the Keras output layer names, matched to the
    signature's output names) when the file has a signature, else in the subgraph's output order."""
    if isinstance(inputs, np.ndarray):
        inputs = [inputs]
    names = list(inputs) if isinstance(inputs, dict) else None
    arrays = [np.ascontiguousarray(a, dtype=np.int32 if np.issubdtype(np.asarray(a).dtype, np.integer) else np.float32)
              for a in (inputs.values() if isinstance(inputs, dict) else inputs)]

    interpreter = load_interpreter(tflite_path, num_threads=num_threads)
    input_details = {d["index"]: d for d in interpreter.get_input_details()}
    output_details = {d["index"]: d for d in interpreter.get_output_details()}
    signature = interpreter._get_full_signature_list().get(SIGNATURE_KEY)  # {inputs/outputs: {name: index}}

    if signature is not None and names is not None:
        if sorted(signature["inputs"]) != sorted(names):
            raise AssertionError(f"signature '{SIGNATURE_KEY}' inputs {sorted(signature['inputs'])} are not "
                                 f"the Keras inputs {names}")
        input_indices = [signature["inputs"][name] for name in names]
    else:
        input_indices = list(input_details)
    if len(input_indices) != len(arrays):
        raise AssertionError(f"the .tflite has {len(input_indices)} inputs, given {len(arrays)}")
    if signature is not None:
        if output_names is None:
            output_names = sorted(signature["outputs"], key=signature["outputs"].get)
        if sorted(signature["outputs"]) != sorted(output_names):
            raise AssertionError(f"signature '{SIGNATURE_KEY}' outputs {sorted(signature['outputs'])} are "
                                 f"not the Keras outputs {list(output_names)}")
        output_indices = [signature["outputs"][name] for name in output_names]
    else:
        output_indices = list(output_details)
    for index in input_indices:
        if index not in input_details:
            raise AssertionError(f"signature input tensor {index} is not an input of the main subgraph")
    for index in output_indices:
        if index not in output_details:
            raise AssertionError(f"signature output tensor {index} is not an output of the main subgraph")

    for index, array in zip(input_indices, arrays):
        detail = input_details[index]
        if detail["dtype"] != array.dtype:
            raise AssertionError(f"input {detail['name']!r} has dtype {detail['dtype'].__name__}, expected {array.dtype}")
        _check_shape(f"input {detail['name']!r}", detail["shape_signature"], array.shape)
        if tuple(detail["shape"]) != array.shape:
            interpreter.resize_tensor_input(index, list(array.shape), strict=True)
    interpreter.allocate_tensors()
    for index, array in zip(input_indices, arrays):
        interpreter.set_tensor(index, array)
    interpreter.invoke()
    return [np.array(interpreter.get_tensor(index)) for index in output_indices]


# ----------------------------------------------------------------------------------------------
# Comparison and inputs
# ----------------------------------------------------------------------------------------------

def assert_close(litert, keras_out, what="", names=None):
    """Fails unless every output meets max |LiteRT - Keras| <= 1e-4 * max(1, max |Keras|).
    litert / keras_out: one array or lists of arrays in the same (Keras) output order."""
    if isinstance(litert, np.ndarray):
        litert = [litert]
    if isinstance(keras_out, np.ndarray):
        keras_out = [keras_out]
    litert, keras_out = list(litert), list(keras_out)
    prefix = f"{what}: " if what else ""
    assert len(litert) == len(keras_out), f"{prefix}LiteRT gave {len(litert)} outputs, Keras {len(keras_out)}"
    for k, (ours, theirs) in enumerate(zip(litert, keras_out)):
        label = f"{prefix}output {k}" + (f" ({names[k]!r})" if names else "")
        ours = np.asarray(ours)
        theirs = np.asarray(theirs, dtype=np.float32)
        assert ours.dtype == np.float32, f"{label}: LiteRT dtype {ours.dtype}, expected float32"
        assert ours.shape == theirs.shape, f"{label}: LiteRT shape {list(ours.shape)}, Keras {list(theirs.shape)}"
        if ours.size == 0:
            continue
        assert np.all(np.isfinite(theirs)), f"{label}: Keras' own output is not finite (bad test case)"
        bad = ~np.isfinite(ours)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise AssertionError(f"{label}: LiteRT output not finite at {list(where)} "
                                 f"({ours[where]} vs Keras {theirs[where]})")
        error = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
        scale = max(1.0, float(np.max(np.abs(theirs))))
        tolerance = RELATIVE_TOLERANCE * scale
        worst = float(error.max())
        if worst > tolerance:
            where = tuple(int(i) for i in np.unravel_index(int(error.argmax()), error.shape))
            raise AssertionError(
                f"{label}: max |LiteRT - Keras| = {worst:.3g} > tolerance {tolerance:.3g} "
                f"(1e-4 * max(1, max|Keras| = {scale:.4g})); worst at index {list(where)}: "
                f"LiteRT {float(ours[where]):.7g} vs Keras {float(theirs[where]):.7g}; "
                f"{int((error > tolerance).sum())} of {error.size} elements off; shape {list(ours.shape)}")


def max_error(litert, keras_out):
    """max over outputs of max |LiteRT - Keras| / max(1, max |Keras|) (for reports)."""
    if isinstance(litert, np.ndarray):
        litert, keras_out = [litert], [keras_out]
    if len(litert) != len(keras_out) or any(np.shape(a) != np.shape(b) for a, b in zip(litert, keras_out)):
        return float("inf")
    return max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
               / max(1.0, float(np.max(np.abs(b)))) for a, b in zip(litert, keras_out))


def random_inputs(shapes, batch, seed, kind="auto"):
    """One float32 array per shape (Keras shapes, with or without the leading batch entry None).
    kind 'auto': image-like inputs (H, W, C) uniform in [0, 1), others standard normal;
    'normal' / 'uniform' force one distribution."""
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        shape = list(shape)
        if shape and shape[0] is None:
            shape = shape[1:]
        if any(d is None for d in shape):
            raise ValueError(f"cannot make random inputs for a shape with unknown dimensions: {shape}")
        full = [batch, *map(int, shape)]
        image_like = len(shape) == 3
        if kind == "uniform" or (kind == "auto" and image_like):
            arrays.append(rng.uniform(0.0, 1.0, full).astype(np.float32))
        else:
            arrays.append(rng.standard_normal(full).astype(np.float32))
    return arrays


def keras_io_names(model):
    """(input layer names, output layer names) in Keras order, for Keras 2 and 3 alike."""
    return ([t._keras_history[0].name for t in model.inputs],
            [t._keras_history[0].name for t in model.outputs])


def keras_predict(model, arrays):
    """Keras inference (training=False) on a list of input arrays; list of float32 outputs."""
    outputs = model(arrays if len(arrays) > 1 else arrays[0], training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [np.asarray(o, dtype=np.float32) for o in outputs]


def batch_slices(arrays, i, size=1):
    return [a[i:i + size] for a in arrays]


# ----------------------------------------------------------------------------------------------
# Caches of models built by real Keras (pytest side)
# ----------------------------------------------------------------------------------------------

def _installed_versions():
    found = []
    for package in ("keras", "tf-keras", "tensorflow-cpu", "tensorflow", "numpy", "h5py"):
        try:
            found.append(f"{package}={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def cache_key(*sources):
    """A short hash of the given builder sources + the installed Keras/TF/numpy/h5py versions."""
    digest = hashlib.sha256()
    for part in [*_installed_versions(), sys.executable, *map(str, sources)]:
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def _done(directory):
    return (directory / "meta.json").is_file() or (directory / "error.txt").is_file()


class ModelCache:
    """Models built by real Keras in builder subprocesses (one per Keras version, the versions in
    parallel), cached on disk as root/k<version>-<key>/<target>/ (model files, x.npz, y.npz,
    meta.json, or error.txt when Keras itself could not build the case).

    A builder writes into a temporary directory; finished targets move into the cache only when the
    builder exits, so an interrupted run never leaves half-written models behind."""

    script = "convert_support.py"  # the builder script, run as `python <script> <command> --keras V ...`

    def __init__(self, root, command, key):
        self.root, self.command, self.key = pathlib.Path(root), command, key
        self.running = {}  # version -> (process, work dir, log file, start time)
        self.seconds = {}  # version -> wall time of this session's build
        self.failures = {}  # version -> why its builder failed
        self.root.mkdir(parents=True, exist_ok=True)

    def directory(self, version, target=None):
        base = self.root / f"k{version}-{self.key}"
        return base if target is None else base / target

    def start(self, version, targets):
        """Starts building the targets of this version that are not cached yet (no-op if none)."""
        if version in self.running:
            return
        for path in self.root.glob(f"k{version}-*"):  # older keys: the builders or versions changed
            if path.is_dir() and path.name != self.directory(version).name and ".building-" not in path.name:
                shutil.rmtree(path, ignore_errors=True)
        missing = [t for t in targets if not _done(self.directory(version, t))]
        if not missing:
            return
        work = pathlib.Path(tempfile.mkdtemp(prefix=f"{self.directory(version).name}.building-", dir=self.root))
        log = open(work / "build.log", "w")
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
        process = subprocess.Popen(
            [sys.executable, str(HERE / self.script), self.command, "--keras", version,
             "--out", str(work), "--only", *missing], stdout=log, stderr=subprocess.STDOUT, env=env)
        self.running[version] = (process, work, log, time.time())

    def get(self, version, target, timeout=3600):
        """The target's finished directory; waits for this version's builder if it is running."""
        if version in self.running:
            process, work, log, started = self.running.pop(version)
            try:
                code = process.wait(timeout=timeout)
            finally:
                log.close()
            self.seconds[version] = time.time() - started
            final_base = self.directory(version)
            final_base.mkdir(parents=True, exist_ok=True)
            for built in work.iterdir():
                if built.is_dir() and _done(built):
                    destination = final_base / built.name
                    if destination.exists():
                        shutil.rmtree(destination)
                    built.rename(destination)
            build_log = (work / "build.log").read_text()
            (final_base / "build.log").write_text(build_log)
            shutil.rmtree(work, ignore_errors=True)
            if code != 0:
                self.failures[version] = (f"builder `{self.command} --keras {version}` exited {code}; "
                                          f"log tail:\n{build_log[-6000:]}")
        directory = self.directory(version, target)
        if not _done(directory):
            raise RuntimeError(self.failures.get(version, f"{target} (Keras {version}) was not built; "
                                                          f"see {self.directory(version) / 'build.log'}"))
        return directory


def needed_params(session, argname):
    """The values of one parametrize argument over the collected (selected) test items."""
    return [item.callspec.params[argname] for item in session.items
            if hasattr(item, "callspec") and argname in item.callspec.params]


def load_case(case_dir):
    """(meta, inputs list, outputs list) as written by the builders."""
    case_dir = pathlib.Path(case_dir)
    meta = json.loads((case_dir / "meta.json").read_text())
    x, y = np.load(case_dir / "x.npz"), np.load(case_dir / "y.npz")
    return meta, [x[n] for n in meta["inputs"]], [y[n] for n in meta["outputs"]]


# ----------------------------------------------------------------------------------------------
# The layer zoo: tiny models, each built for Keras 2 (tf_keras) and/or Keras 3
# ----------------------------------------------------------------------------------------------
# A case is (name, build(K) -> model, versions, extras). K is the keras / tf_keras module.
# extras: "zip" -> Keras 3 also saves model.keras; "scale" -> inputs ~ N(0, scale^2);
# "inputs" -> "uniform255" (pixel values). Names are the pytest ids after "keras3-"/"keras2-".

IMG = (12, 12, 3)
SEQ = (10, 4)
SEQ58 = (5, 8)
VEC = (16,)
BOTH = ("2", "3")
K3_ONLY = ("3",)

ZOO = []


def case(name, versions=BOTH, **extras):
    def register(build):
        ZOO.append((name, build, tuple(versions), extras))
        return build
    return register


def _seq(K, shape, *layers):
    return K.Sequential([K.Input(shape=shape), *layers])


def _is_k3(K):
    return K.__name__ == "keras"


def _leaky_relu(K, slope):
    return K.layers.LeakyReLU(negative_slope=slope) if _is_k3(K) else K.layers.LeakyReLU(alpha=slope)


def _register_simple(name, shape, make_layers, versions=BOTH, **extras):
    """A Sequential model: Input(shape) then the layers make_layers(K) returns."""
    ZOO.append((name, lambda K: _seq(K, shape, *make_layers(K)), tuple(versions), extras))


# --- InputLayer
@case("inputlayer-sequential")
def _(K):
    first = K.layers.InputLayer(shape=VEC) if _is_k3(K) else K.layers.InputLayer(input_shape=VEC)
    return K.Sequential([first, K.layers.Dense(4)])


@case("inputlayer-functional", zip=True)
def _(K):
    x = K.Input(shape=VEC, name="features")
    return K.Model(x, K.layers.Dense(4, name="logits")(x))


# --- Conv1D (on 1x10x4)
for _name, _kw in [("valid", dict(padding="valid")), ("same", dict(padding="same")),
                   ("causal", dict(padding="causal")), ("stride2", dict(strides=2)),
                   ("same-stride2", dict(strides=2, padding="same")), ("dilation2", dict(dilation_rate=2)),
                   ("causal-dilation2", dict(padding="causal", dilation_rate=2)),
                   ("nobias-relu", dict(use_bias=False, activation="relu"))]:
    _register_simple(f"conv1d-{_name}", SEQ, lambda K, kw=_kw: [K.layers.Conv1D(6, 3, **kw)])

# --- Conv2D (on 1x12x12x3)
for _name, _kw in [("valid", dict()), ("same", dict(padding="same")),
                   ("valid-stride2", dict(strides=2)), ("same-stride2", dict(strides=2, padding="same")),
                   ("same-dilation2", dict(padding="same", dilation_rate=2)),
                   ("valid-dilation2", dict(dilation_rate=2)), ("nobias", dict(use_bias=False, padding="same")),
                   ("kernel3x5-stride2x1", dict(kernel_size=(3, 5), strides=(2, 1), padding="same")),
                   ("kernel1x1", dict(kernel_size=1))]:
    _register_simple(f"conv2d-{_name}", IMG, lambda K, kw=_kw: [K.layers.Conv2D(
        5, **{"kernel_size": 3, **kw})], zip=_name == "same-stride2")

# Conv2D with the activation fused into the layer (Keras 3 stores swish as "silu", hard_swish as "hard_silu").
for _act, _versions in [("relu", BOTH), ("relu6", BOTH), ("sigmoid", BOTH), ("tanh", BOTH),
                        ("hard_sigmoid", BOTH), ("swish", ("2",)), ("silu", K3_ONLY), ("hard_silu", K3_ONLY),
                        ("gelu", BOTH), ("elu", BOTH), ("softplus", BOTH)]:
    _register_simple(f"conv2d-act-{_act}", IMG,
                     lambda K, a=_act: [K.layers.Conv2D(4, 3, padding="same", activation=a)], _versions, scale=2.0)

# --- DepthwiseConv2D, SeparableConv2D, Conv2DTranspose
for _name, _kw in [("dm1", dict(padding="same")), ("dm2", dict(depth_multiplier=2)),
                   ("stride2", dict(strides=2, padding="same")),
                   ("dm2-stride2-relu", dict(depth_multiplier=2, strides=2, activation="relu")),
                   ("nobias", dict(use_bias=False))]:
    _register_simple(f"depthwise-{_name}", IMG, lambda K, kw=_kw: [K.layers.DepthwiseConv2D(3, **kw)],
                     zip=_name == "dm2")
for _name, _kw in [("same", dict(padding="same")), ("dm2-stride2", dict(depth_multiplier=2, strides=2)),
                   ("relu", dict(activation="relu"))]:
    _register_simple(f"separable-{_name}", IMG, lambda K, kw=_kw: [K.layers.SeparableConv2D(6, 3, **kw)])
for _name, _kw in [("stride2-valid", dict(strides=2)), ("stride2-same", dict(strides=2, padding="same")),
                   ("k2-stride2", dict(kernel_size=2, strides=2)), ("stride1-same-relu", dict(padding="same", activation="relu")),
                   ("nobias-stride2-same", dict(strides=2, padding="same", use_bias=False))]:
    _register_simple(f"conv2dtranspose-{_name}", IMG, lambda K, kw=_kw: [K.layers.Conv2DTranspose(
        4, **{"kernel_size": 3, **kw})], zip=_name == "stride2-same")

# --- Dense
_register_simple("dense-2d", VEC, lambda K: [K.layers.Dense(8)])
_register_simple("dense-3d", SEQ58, lambda K: [K.layers.Dense(6)], zip=True)
_register_simple("dense-nobias", VEC, lambda K: [K.layers.Dense(8, use_bias=False)])
_register_simple("dense-relu", VEC, lambda K: [K.layers.Dense(8, activation="relu")])
_register_simple("dense-softmax", VEC, lambda K: [K.layers.Dense(8, activation="softmax")])
_register_simple("dense-3d-tanh", SEQ58, lambda K: [K.layers.Dense(6, activation="tanh")])
_register_simple("dense-stack", VEC, lambda K: [K.layers.Dense(12, activation="relu"), K.layers.Dense(3)])

# --- BatchNormalization (statistics randomized after building, see _randomize)
_register_simple("bn-after-conv2d", IMG, lambda K: [K.layers.Conv2D(5, 3), K.layers.BatchNormalization()], zip=True)
_register_simple("bn-after-conv2d-nobias", IMG, lambda K: [K.layers.Conv2D(5, 3, use_bias=False),
                                                           K.layers.BatchNormalization()])
_register_simple("bn-after-conv2d-then-relu", IMG, lambda K: [K.layers.Conv2D(5, 3), K.layers.BatchNormalization(),
                                                              K.layers.ReLU()])
_register_simple("bn-after-conv2d-relu", IMG, lambda K: [K.layers.Conv2D(5, 3, activation="relu"),
                                                         K.layers.BatchNormalization()])  # not foldable
_register_simple("bn-after-dense", VEC, lambda K: [K.layers.Dense(8), K.layers.BatchNormalization()])
_register_simple("bn-after-depthwise", IMG, lambda K: [K.layers.DepthwiseConv2D(3, padding="same"),
                                                       K.layers.BatchNormalization()])
_register_simple("bn-after-conv1d", SEQ, lambda K: [K.layers.Conv1D(6, 3), K.layers.BatchNormalization()])
_register_simple("bn-after-conv2dtranspose", IMG, lambda K: [K.layers.Conv2DTranspose(4, 3, strides=2),
                                                             K.layers.BatchNormalization()])
_register_simple("bn-standalone-image", IMG, lambda K: [K.layers.BatchNormalization()])
_register_simple("bn-standalone-vector", VEC, lambda K: [K.layers.BatchNormalization()])
_register_simple("bn-standalone-sequence", SEQ, lambda K: [K.layers.BatchNormalization()])
_register_simple("bn-center-false", IMG, lambda K: [K.layers.Conv2D(5, 3), K.layers.BatchNormalization(center=False)])
_register_simple("bn-scale-false", IMG, lambda K: [K.layers.Conv2D(5, 3), K.layers.BatchNormalization(scale=False)])
_register_simple("bn-epsilon-0.1", IMG, lambda K: [K.layers.Conv2D(5, 3), K.layers.BatchNormalization(epsilon=0.1)])

# --- LayerNormalization (gamma/beta randomized)
_register_simple("layernorm-vector", VEC, lambda K: [K.layers.LayerNormalization()])
_register_simple("layernorm-sequence", SEQ58, lambda K: [K.layers.LayerNormalization()], zip=True)
_register_simple("layernorm-image", IMG, lambda K: [K.layers.LayerNormalization(axis=-1)])
_register_simple("layernorm-no-center-scale", SEQ58, lambda K: [K.layers.LayerNormalization(center=False, scale=False)])
_register_simple("layernorm-after-dense", VEC, lambda K: [K.layers.Dense(8), K.layers.LayerNormalization(epsilon=1e-5)])

# --- Activation layer, every activation by its stored name (hard_sigmoid differs between 2 and 3:
# Keras 2 clip(0.2x + 0.5), Keras 3 relu6(x + 3) / 6). Inputs ~ N(0, 3^2) reach the saturated parts.
ACTIVATIONS = [("relu", BOTH), ("relu6", BOTH), ("sigmoid", BOTH), ("hard_sigmoid", BOTH), ("tanh", BOTH),
               ("softmax", BOTH), ("swish", ("2",)), ("silu", K3_ONLY), ("hard_silu", K3_ONLY), ("gelu", BOTH),
               ("elu", BOTH), ("selu", BOTH), ("softplus", BOTH), ("softsign", BOTH), ("exponential", BOTH),
               ("linear", BOTH)]
for _act, _versions in ACTIVATIONS:
    _register_simple(f"activation-{_act}", VEC, lambda K, a=_act: [K.layers.Activation(a)], _versions,
                     scale=3.0, zip=_act == "hard_sigmoid")
_register_simple("activation-softmax-sequence", SEQ58, lambda K: [K.layers.Activation("softmax")], scale=3.0)
_register_simple("activation-sigmoid-image", IMG, lambda K: [K.layers.Activation("sigmoid")], scale=3.0)

# --- Advanced activation layers
for _name, _kw in [("default", dict()), ("max6", dict(max_value=6.0)), ("max4", dict(max_value=4.0)),
                   ("threshold", dict(threshold=0.5)), ("slope", dict(negative_slope=0.1)),
                   ("all", dict(max_value=6.0, threshold=0.5, negative_slope=0.1))]:
    _register_simple(f"relu-layer-{_name}", VEC, lambda K, kw=_kw: [K.layers.ReLU(**kw)], scale=4.0)
_register_simple("relu-layer-positional-6", VEC, lambda K: [K.layers.ReLU(6.0)], scale=4.0)
_register_simple("leakyrelu-0.2", VEC, lambda K: [_leaky_relu(K, 0.2)], scale=2.0)
_register_simple("leakyrelu-image", IMG, lambda K: [K.layers.Conv2D(4, 3), _leaky_relu(K, 0.2)])
_register_simple("prelu-vector", VEC, lambda K: [K.layers.PReLU()], scale=2.0)
_register_simple("prelu-image", IMG, lambda K: [K.layers.Conv2D(4, 3), K.layers.PReLU()])
_register_simple("prelu-image-shared12", IMG, lambda K: [K.layers.Conv2D(4, 3), K.layers.PReLU(shared_axes=[1, 2])],
                 zip=True)
_register_simple("elu-layer-1.0", VEC, lambda K: [K.layers.ELU(alpha=1.0)], scale=2.0)
_register_simple("elu-layer-0.5", VEC, lambda K: [K.layers.ELU(alpha=0.5)], scale=2.0)
_register_simple("softmax-layer", VEC, lambda K: [K.layers.Softmax()], scale=3.0)
_register_simple("softmax-layer-sequence", SEQ58, lambda K: [K.layers.Softmax(axis=-1)], scale=3.0)

# --- Pooling (pool 3, stride 2) and global pooling
for _dims, _shape in (("1d", SEQ), ("2d", IMG)):
    for _kind in ("Max", "Average"):
        for _padding in ("valid", "same"):
            _register_simple(f"{_kind.lower()[:3] if _kind == 'Max' else 'avg'}pool{_dims}-{_padding}", _shape,
                             lambda K, k=_kind, d=_dims, p=_padding: [getattr(K.layers, f"{k}Pooling{d.upper()}")(
                                 3, strides=2, padding=p)])
_register_simple("maxpool2d-default", IMG, lambda K: [K.layers.MaxPooling2D()])
_register_simple("avgpool2d-pool2", IMG, lambda K: [K.layers.AveragePooling2D(2)])  # Keras 3 has no default pool_size
for _dims, _shape in (("1d", SEQ), ("2d", IMG)):
    for _kind, _short in (("Average", "gap"), ("Max", "gmp")):
        for _keepdims in (False, True):
            _register_simple(f"{_short}{_dims}" + ("-keepdims" if _keepdims else ""), _shape,
                             lambda K, k=_kind, d=_dims, kd=_keepdims: [getattr(K.layers, f"Global{k}Pooling{d.upper()}")(
                                 keepdims=kd)])

# --- Reshaping
_register_simple("flatten-image", IMG, lambda K: [K.layers.Flatten()])
_register_simple("flatten-sequence", SEQ, lambda K: [K.layers.Flatten(), K.layers.Dense(3)])
_register_simple("reshape-image", IMG, lambda K: [K.layers.Reshape((36, 12))])
_register_simple("reshape-vector-minus1", VEC, lambda K: [K.layers.Reshape((-1, 4))])
_register_simple("permute-21", SEQ58, lambda K: [K.layers.Permute((2, 1))])
_register_simple("permute-312", IMG, lambda K: [K.layers.Permute((3, 1, 2))])
_register_simple("repeatvector", VEC, lambda K: [K.layers.RepeatVector(3)])
_register_simple("zeropadding2d-symmetric", IMG, lambda K: [K.layers.ZeroPadding2D(2)])
_register_simple("zeropadding2d-asymmetric", IMG, lambda K: [K.layers.ZeroPadding2D(((1, 2), (3, 0)))])
_register_simple("cropping2d-symmetric", IMG, lambda K: [K.layers.Cropping2D(2)])
_register_simple("cropping2d-asymmetric", IMG, lambda K: [K.layers.Cropping2D(((1, 2), (3, 0)))])
for _interp in ("nearest", "bilinear"):
    for _size, _label in ((2, "2"), ((2, 3), "2x3")):
        _register_simple(f"upsampling2d-{_interp}-{_label}", IMG,
                         lambda K, i=_interp, s=_size: [K.layers.UpSampling2D(size=s, interpolation=i)],
                         zip=(_interp, _label) == ("bilinear", "2"))


# --- Merge layers: Functional models with two branches
def _two_dense_branches(K, merge):
    x = K.Input(shape=VEC)
    a = K.layers.Dense(8)(x)
    b = K.layers.Dense(8, activation="tanh")(x)
    return K.Model(x, merge(K)([a, b]))


for _merge in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    ZOO.append((f"merge-{_merge.lower()}", lambda K, m=_merge: _two_dense_branches(K, lambda K: getattr(K.layers, m)()),
                BOTH, {}))
ZOO.append(("concatenate-vectors", lambda K: _two_dense_branches(K, lambda K: K.layers.Concatenate()), BOTH, {}))


def _two_conv_branches(K, merge):
    x = K.Input(shape=IMG)
    a = K.layers.Conv2D(4, 3, padding="same")(x)
    b = K.layers.Conv2D(4, 1, activation="relu")(x)
    return K.Model(x, merge([a, b]))


ZOO.append(("concatenate-axis-last", lambda K: _two_conv_branches(K, K.layers.Concatenate(axis=-1)), BOTH, {}))
ZOO.append(("concatenate-axis1", lambda K: _two_conv_branches(K, K.layers.Concatenate(axis=1)), BOTH, {"zip": True}))
ZOO.append(("merge-add-images", lambda K: _two_conv_branches(K, K.layers.Add()), BOTH, {}))


@case("merge-add-three")
def _(K):
    x = K.Input(shape=VEC)
    return K.Model(x, K.layers.Add()([K.layers.Dense(8)(x), K.layers.Dense(8)(x), K.layers.Dense(8)(x)]))


# --- Layers that do nothing at inference
_register_simple("dropout", VEC, lambda K: [K.layers.Dense(8), K.layers.Dropout(0.5), K.layers.Dense(4)])
_register_simple("spatialdropout2d", IMG, lambda K: [K.layers.Conv2D(4, 3), K.layers.SpatialDropout2D(0.5),
                                                     K.layers.Conv2D(4, 3)])
_register_simple("gaussiannoise", VEC, lambda K: [K.layers.GaussianNoise(1.0), K.layers.Dense(4)])

# --- Preprocessing layers
_register_simple("rescaling", IMG, lambda K: [K.layers.Rescaling(1.0 / 255, offset=-1.0)], inputs="uniform255")
_register_simple("rescaling-conv2d", IMG, lambda K: [K.layers.Rescaling(1.0 / 255, offset=-1.0),
                                                     K.layers.Conv2D(4, 3)], inputs="uniform255")
_register_simple("normalization-given", IMG, lambda K: [K.layers.Normalization(
    mean=[0.5, 0.4, 0.3], variance=[0.1, 0.2, 0.3])])


@case("normalization-adapted", zip=True)
def _(K):
    layer = K.layers.Normalization()
    layer.adapt(np.random.default_rng(7).normal([1.0, -2.0, 0.5], [2.0, 0.5, 3.0], (64, 12, 12, 3)).astype(np.float32))
    return _seq(K, IMG, layer, K.layers.Conv2D(4, 3))


# --- Graph structure
@case("nested-sequential", zip=True)
def _(K):
    inner = K.Sequential([K.Input(shape=VEC), K.layers.Dense(12, activation="relu"), K.layers.Dense(6)], name="inner")
    x = K.Input(shape=VEC, name="x")
    return K.Model(x, K.layers.Dense(3, name="head")(inner(x)))


@case("nested-sequential-conv-bn")
def _(K):
    inner = K.Sequential([K.Input(shape=IMG), K.layers.Conv2D(4, 3), K.layers.BatchNormalization(),
                          K.layers.ReLU()], name="block")
    x = K.Input(shape=IMG)
    return K.Model(x, K.layers.GlobalAveragePooling2D()(inner(x)))


@case("shared-dense-twice")
def _(K):
    x = K.Input(shape=VEC)
    shared = K.layers.Dense(16, name="shared")
    return K.Model(x, shared(K.layers.Activation("tanh")(shared(x))))


@case("shared-conv-two-inputs", zip=True)
def _(K):
    a, b = K.Input(shape=IMG, name="left"), K.Input(shape=IMG, name="right")
    conv = K.layers.Conv2D(4, 3, name="shared_conv")
    return K.Model([a, b], K.layers.Subtract()([conv(a), conv(b)]))


@case("two-in-two-out", zip=True)
def _(K):
    # Input/output names whose alphabetical order is not the Keras order.
    z, a = K.Input(shape=VEC, name="zeta"), K.Input(shape=SEQ, name="alpha")
    pooled = K.layers.GlobalAveragePooling1D()(K.layers.Conv1D(6, 3, activation="relu")(a))
    joined = K.layers.Concatenate()([K.layers.Dense(6, activation="relu")(z), pooled])
    return K.Model([z, a], [K.layers.Dense(3, activation="softmax", name="z_class")(joined),
                            K.layers.Dense(2, name="a_reg")(pooled)])


import zoo_misc  # noqa: E402 (registers its cases through case / _register_simple)

zoo_misc.register(case, _register_simple)
# --- Volumetric (3-D) layers: Tests/conformance/zoo_volumetric.py
import zoo_volumetric  # noqa: E402

zoo_volumetric.register(sys.modules[__name__])
import zoo_recurrent  # noqa: E402 - registers the recurrent and text cases

zoo_recurrent.register(case, _seq, BOTH)
import zoo_convlstm  # noqa: E402 - registers the ConvLSTM2D cases

zoo_convlstm.register(case, _seq, BOTH)


def zoo_cases(version):
    """Names of the zoo cases for Keras major version '2' or '3', in definition order."""
    return [name for name, _, versions, _ in ZOO if version in versions]


def zoo_has_zip(name):
    return next(extras for n, _, _, extras in ZOO if n == name).get("zip", False)


def zoo_formats(version, name):
    """The files a case is tested from: model.h5, plus model.keras for Keras 3 zip cases (only
    model.keras for `k3_keras_only` ones, which Keras 3 cannot load back from .h5)."""
    extras = next(extras for n, _, _, extras in ZOO if n == name)
    if version != "3":
        return ("h5",)
    if extras.get("k3_keras_only"):
        return ("keras",)
    return ("h5", "keras") if extras.get("zip") else ("h5",)


# ----------------------------------------------------------------------------------------------
# Builders (run as `python convert_support.py ...` in a subprocess)
# ----------------------------------------------------------------------------------------------

def _import_keras(version):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    if version == "2":
        import tf_keras as K
    else:
        import keras as K
    return K


def _weight_name(variable):
    return variable.name.split("/")[-1].split(":")[0]


def _randomize(model, rng):
    """Biases, BatchNormalization statistics, LayerNormalization gamma/beta and PReLU alphas to random
    values (Keras initializes them to 0/1, which would hide folding and bias mistakes)."""
    for variable in model.weights:
        name, shape = _weight_name(variable), tuple(variable.shape)
        if name in ("bias", "beta", "moving_mean"):
            value = rng.normal(0.0, 0.3, shape)
        elif name in ("gamma", "moving_variance"):
            value = rng.uniform(0.5, 1.5, shape)
        elif name == "alpha":
            value = rng.uniform(0.05, 0.6, shape)
        elif name in ("scale", "concat_score_weight"):  # Attention, AdditiveAttention
            value = rng.uniform(0.5, 1.5, shape)
        else:
            continue
        variable.assign(value.astype(np.float32))


def _case_inputs(model, extras, rng, batch):
    arrays = []
    for tensor in model.inputs:
        dims = list(tensor.shape[1:])
        if any(d is None for d in dims):  # sizes the model leaves unknown: the case's --input-shape
            dims = extras["input_shapes"][tensor._keras_history[0].name]
        shape = [batch, *[int(d) for d in dims]]
        if extras.get("ids"):
            ids = rng.integers(1, extras["ids"], shape)
            if extras.get("pad"):  # sample i ends with i + 1 zero ids
                for i in range(batch):
                    ids[i, shape[1] - 1 - i:] = 0
            dtype = np.int32 if "int" in str(tensor.dtype) else np.float32
            arrays.append(ids.astype(dtype))
        elif extras.get("pad"):
            values = rng.standard_normal(shape).astype(np.float32)
            for i in range(batch):
                values[i, shape[1] - 1 - i:] = 0
                values[i, 1] = 0  # a masked step in the middle too
            arrays.append(values)
        elif extras.get("inputs") == "uniform255":
            arrays.append(rng.uniform(0.0, 255.0, shape).astype(np.float32))
        else:
            arrays.append((rng.standard_normal(shape) * extras.get("scale", 1.0)).astype(np.float32))
    return arrays


def _check_same(what, a_list, b_list):
    for a, b in zip(a_list, b_list):
        if a.shape != b.shape or np.max(np.abs(a - b)) > 1e-6 * max(1.0, float(np.max(np.abs(a)))):
            raise RuntimeError(f"{what}: Keras gives different outputs after save + load "
                               f"(max diff {np.max(np.abs(a - b)) if a.shape == b.shape else 'shape'})")


def build_zoo(version, out, only=None, batch=3):
    """Builds every zoo case of this Keras version into out/<case>/: model.h5 (+ model.keras for the
    zip subset on Keras 3), x.npz / y.npz (batch `batch`, keyed by Keras input / output names,
    y = predictions of the model loaded back from model.h5), meta.json. A case that fails to build
    gets out/<case>/error.txt instead. Writes out/manifest.json last."""
    K = _import_keras(version)
    out = pathlib.Path(out)
    manifest = {"keras_version": K.__version__, "cases": {}}
    started = time.time()
    for name, build, versions, extras in ZOO:
        if version not in versions or (only and name not in only):
            continue
        case_dir = out / name
        case_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        try:
            seed = zlib.crc32(name.encode())
            K.backend.clear_session()
            K.utils.set_random_seed(seed % (2 ** 31))
            rng = np.random.default_rng(seed)
            model = build(K)
            _randomize(model, rng)
            x = _case_inputs(model, extras, rng, batch)
            y_memory = keras_predict(model, x)
            input_names, output_names = keras_io_names(model)
            files = []
            if not (extras.get("k3_keras_only") and version == "3"):
                model.save(str(case_dir / "model.h5"))
                files.append("model.h5")
            if extras.get("zip") and version == "3":
                model.save(str(case_dir / "model.keras"))
                files.append("model.keras")
            y = None
            for file in files:
                loaded = K.models.load_model(str(case_dir / file), compile=False)
                y_loaded = keras_predict(loaded, x)
                _check_same(f"{name} ({file})", y_memory, y_loaded)
                if keras_io_names(loaded) != (input_names, output_names):
                    raise RuntimeError(f"{name} ({file}): names changed on load: {keras_io_names(loaded)}")
                y = y if y is not None else y_loaded
            np.savez(case_dir / "x.npz", **dict(zip(input_names, x)))
            np.savez(case_dir / "y.npz", **dict(zip(output_names, y)))
            convert_args = [arg for input_name, dims in extras.get("input_shapes", {}).items()
                            for arg in ("--input-shape", f"{input_name}={','.join(map(str, dims))}")]
            meta = {"name": name, "keras": version, "keras_version": K.__version__, "files": files,
                    "convert_args": convert_args,
                    "inputs": input_names, "outputs": output_names,
                    "input_shapes": [list(a.shape) for a in x], "output_shapes": [list(a.shape) for a in y]}
            (case_dir / "meta.json").write_text(json.dumps(meta, indent=1))
            manifest["cases"][name] = {"ok": True, "seconds": round(time.time() - t0, 3), "files": files}
        except Exception as error:  # noqa: BLE001 - recorded per case, reported by the test
            import traceback

            (case_dir / "error.txt").write_text(traceback.format_exc())
            manifest["cases"][name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            print(f"FAILED {name}: {type(error).__name__}: {error}", flush=True)
    manifest["seconds"] = round(time.time() - started, 2)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    failed = [n for n, c in manifest["cases"].items() if not c["ok"]]
    print(f"keras {version}: built {len(manifest['cases']) - len(failed)} of {len(manifest['cases'])} cases "
          f"in {manifest['seconds']} s" + (f"; failed: {failed}" if failed else ""), flush=True)


# --- The seed's three models
SEED_FAMILIES = ("VGG19", "ResNet50", "MobileNetV2")
SEED_INPUTS = 2


def build_seed_model(K, family):
    base = getattr(K.applications, family)(input_shape=(224, 224, 3), include_top=False, weights=None)
    x = K.layers.Flatten()(base.output)
    x = K.layers.Dense(64, activation="relu")(x)
    x = K.layers.Dropout(0.5)(x)
    x = K.layers.Dense(1, activation="sigmoid")(x)
    return K.Model(base.input, x)


SEED_PIXEL_RANGE = 255.0  # random images with raw pixel values: VGG19 (no BatchNormalization) with
# glorot-initialized weights turns [0, 1) images into logits of ~1e-4, below the tolerance itself.
SEED_CALIBRATION_IMAGES = 4


def seed_bn_mode():
    """'calibrated' (default) or 'literal' ($KERASLITE_SEED_BN), see randomize_batchnorm."""
    mode = os.environ.get("KERASLITE_SEED_BN", "calibrated")
    if mode not in ("calibrated", "literal"):
        raise ValueError(f"KERASLITE_SEED_BN must be 'calibrated' or 'literal', not {mode!r}")
    return mode


def randomize_batchnorm(K, model, rng, calibration=None, mode="calibrated"):
    """Randomizes every BatchNormalization layer: gamma ~ U(0.5, 1.5), beta ~ N(0, 0.1), and

    * mode 'literal': moving_mean ~ N(0, 0.1), moving_variance ~ U(0.5, 1.5);
    * mode 'calibrated': the same distributions in units of the statistics of the layer's actual
      input on `calibration` images: moving_mean = mean + N(0, 0.1) * std,
      moving_variance = var * U(0.5, 1.5).

    Why 'calibrated' is the default: with weights=None the applications' activations are tiny
    (depthwise convolutions shrink them ~10x each), so literal statistics of order 1 replace the
    signal with constants; MobileNetV2's output then no longer depends on its input at all (spread
    ~1e-8 over different images), and the comparison would test a constant. Calibrated statistics
    keep every BN non-trivial (shift and scale) while the output still depends on the image.
    Returns how many BatchNormalization layers it changed."""
    layers = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    for layer in layers:  # the applications bases are inlined: BN layers are top level
        values = []
        for variable in layer.weights:
            name, shape = _weight_name(variable), tuple(variable.shape)
            if name == "gamma":
                values.append(rng.uniform(0.5, 1.5, shape))
            elif name == "beta":
                values.append(rng.normal(0.0, 0.1, shape))
            elif name == "moving_mean":
                values.append(rng.normal(0.0, 0.1, shape))
            else:
                values.append(rng.uniform(0.5, 1.5, shape))
        layer.set_weights([v.astype(np.float32) for v in values])
    if mode == "literal" or not layers:
        return len(layers)
    # One training-mode pass (BN normalizes with the batch's own statistics, using the new gamma and
    # beta) gives the input statistics every BN would see if its moving statistics were exact.
    probe = K.Model(model.inputs, [layer.input for layer in layers])
    activations = probe(calibration, training=True)
    for layer, activation in zip(layers, activations):
        activation = np.asarray(activation, dtype=np.float64)
        axis = layer.axis[0] if isinstance(layer.axis, (list, tuple)) else layer.axis
        axis = axis % activation.ndim
        reduce = tuple(i for i in range(activation.ndim) if i != axis)
        mean, var = activation.mean(axis=reduce), activation.var(axis=reduce)
        values = []
        for variable, current in zip(layer.weights, layer.get_weights()):
            name = _weight_name(variable)
            if name == "moving_mean":
                current = mean + rng.normal(0.0, 0.1, mean.shape) * np.sqrt(var)
            elif name == "moving_variance":
                current = var * rng.uniform(0.5, 1.5, var.shape)
            values.append(np.asarray(current, dtype=np.float32))
        layer.set_weights(values)
    return len(layers)


SEED_LOGIT_TARGET = 1.5


def scale_head(K, model, calibration):
    """Scales the final Dense(1, sigmoid)'s kernel and bias so that the largest |logit| on the
    calibration images is SEED_LOGIT_TARGET: random-weight ResNet50 otherwise reaches logits of
    +-40 (sigmoid saturated at 0 or 1: any conversion would pass) and VGG19 logits of 1e-3..1e-1
    (sigmoid ~0.5: a mostly constant comparison). Returns the factor."""
    final = model.layers[-1]
    kernel, bias = final.get_weights()
    features = keras_predict(K.Model(model.inputs, final.input), [calibration])[0]
    largest = float(np.max(np.abs(features @ kernel + bias)))
    factor = SEED_LOGIT_TARGET / largest if largest > 0 else 1.0
    final.set_weights([(kernel * factor).astype(np.float32), (bias * factor).astype(np.float32)])
    return factor


def build_seed(version, out, families=SEED_FAMILIES):
    """out/<family>/: model.h5, x.npz, y.npz (SEED_INPUTS random 224x224x3 images, pixel values
    uniform in [0, 255); Keras' outputs from the model loaded back from model.h5), meta.json."""
    K = _import_keras(version)
    out = pathlib.Path(out)
    mode = seed_bn_mode()
    for family in families:
        t0 = time.time()
        K.backend.clear_session()
        seed = zlib.crc32(f"{family}-{version}".encode())
        K.utils.set_random_seed(seed % (2 ** 31))
        rng = np.random.default_rng(seed)
        model = build_seed_model(K, family)
        shape = model.inputs[0].shape
        calibration = random_inputs([shape], SEED_CALIBRATION_IMAGES, seed + 1, kind="uniform")[0] * SEED_PIXEL_RANGE
        bn_layers = randomize_batchnorm(K, model, rng, calibration, mode)
        head_scale = scale_head(K, model, calibration) if mode == "calibrated" else 1.0
        x = [random_inputs([shape], SEED_INPUTS, seed, kind="uniform")[0] * SEED_PIXEL_RANGE]
        y_memory = keras_predict(model, x)
        model_dir = out / family
        model_dir.mkdir(parents=True, exist_ok=True)
        model.save(str(model_dir / "model.h5"))
        t_built = time.time()
        del model
        K.backend.clear_session()
        loaded = K.models.load_model(str(model_dir / "model.h5"), compile=False)
        y = keras_predict(loaded, x)
        _check_same(f"{family} keras {version}", y_memory, y)
        # The logits (input of the final sigmoid), to show the comparison is not of a constant.
        head = K.Model(loaded.inputs, loaded.layers[-1].input)
        kernel, bias = loaded.layers[-1].get_weights()
        logits = keras_predict(head, x)[0] @ kernel + bias
        input_names, output_names = keras_io_names(loaded)
        np.savez(model_dir / "x.npz", **dict(zip(input_names, x)))
        np.savez(model_dir / "y.npz", **dict(zip(output_names, y)))
        meta = {"name": family, "keras": version, "keras_version": K.__version__, "files": ["model.h5"],
                "inputs": input_names, "outputs": output_names, "bn_layers": bn_layers, "bn_mode": mode,
                "head_scale": head_scale,
                "params": int(loaded.count_params()), "logits": logits.ravel().tolist(),
                "input_shapes": [list(a.shape) for a in x], "output_shapes": [list(a.shape) for a in y],
                "seconds_build_save": round(t_built - t0, 2), "seconds_total": round(time.time() - t0, 2)}
        (model_dir / "meta.json").write_text(json.dumps(meta, indent=1))
        print(f"keras {version} {family}: {bn_layers} BN layers randomized ({mode}), head x{head_scale:.3g}, outputs "
              f"{y[0].ravel().tolist()}, logits {logits.ravel().tolist()}, {meta['seconds_total']} s", flush=True)
        del loaded, head


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["build-zoo", "build-seed", "list-zoo"])
    parser.add_argument("--keras", choices=["2", "3"], required=True)
    parser.add_argument("--out")
    parser.add_argument("--only", nargs="*", help="zoo case names or seed families")
    args = parser.parse_args(argv)
    if args.what == "list-zoo":
        print("\n".join(zoo_cases(args.keras)))
    elif args.what == "build-zoo":
        build_zoo(args.keras, args.out, only=args.only)
    else:
        build_seed(args.keras, args.out, families=args.only or SEED_FAMILIES)



def zoo_cache_key():
    """Any change to this file or a zoo module rebuilds the zoo (about a minute)."""
    return cache_key(*(hashlib.sha256((HERE / file).read_bytes()).hexdigest()
                       for file in ("convert_support.py", "zoo_misc.py", "zoo_volumetric.py", "zoo_recurrent.py",
                                    "zoo_convlstm.py")))


def seed_cache_key():
    """Only changes to the seed builders rebuild the (large) seed models."""
    import inspect

    functions = [build_seed, build_seed_model, randomize_batchnorm, scale_head, random_inputs, keras_predict,
                 keras_io_names, _check_same, _weight_name, _import_keras]
    return cache_key(*[inspect.getsource(f) for f in functions], SEED_FAMILIES, SEED_INPUTS,
                     SEED_PIXEL_RANGE, SEED_CALIBRATION_IMAGES, SEED_LOGIT_TARGET, seed_bn_mode())


if __name__ == "__main__":
    main()

"""Shared helpers for the conformance suite: run the keraslite binary, load models with the Keras
that wrote them (Keras 3 or Keras 2 via tf_keras), and list the sample files."""
import functools
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = pathlib.Path(os.environ.get("KERASLITE_SAMPLES", ROOT / "Samples"))
def _shared_models():
    """The read-only third-party models: $KERASLITE_SHARED_MODELS, ../shared/models beside the
    checkout, or /work/shared/models."""
    candidates = [os.environ.get("KERASLITE_SHARED_MODELS"), ROOT / ".." / "shared" / "models", "/work/shared/models"]
    for candidate in candidates:
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate).resolve()
    raise RuntimeError("cannot find the shared models folder; set KERASLITE_SHARED_MODELS")


REALWORLD = _shared_models() / "realworld"
BINARY = os.environ.get("KERASLITE_BIN", str(ROOT / ".build" / "debug" / "keraslite"))


def keraslite(*args, check=True):
    """Runs the keraslite binary; returns the CompletedProcess (text mode)."""
    result = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"keraslite {' '.join(map(str, args))} failed ({result.returncode}): {result.stderr}")
    return result


def keraslite_json(*args):
    return json.loads(keraslite(*args, "--json").stdout)


def model_files():
    """Every committed model file plus the third-party one, with the --config it needs (if any)."""
    files = []
    for path in sorted(SAMPLES.glob("*.h5")) + sorted(SAMPLES.glob("*.keras")):
        if path.name.endswith(".weights.h5"):
            config = path.with_name(path.name.replace(".weights.h5", ".json"))
            files.append((path, config))
        else:
            files.append((path, None))
    files += [(p, None) for p in sorted(REALWORLD.glob("*.hdf5"))]
    return files


def written_by_keras2(path, config):
    """True when Keras 2 wrote the file (its recorded keras_version starts with 2)."""
    import h5py

    if path.suffix == ".keras":
        return False
    if config is not None:
        return json.loads(config.read_text()).get("keras_version", "2").startswith("2")
    with h5py.File(path, "r") as f:
        version = f.attrs.get("keras_version", b"2")
        version = version.decode() if isinstance(version, bytes) else str(version)
    return version.startswith("2")


def load_with_keras(path, config):
    """Loads the model with the Keras major version that wrote it; returns (model, keras module)."""
    if written_by_keras2(path, config):
        import tf_keras as keras
    else:
        import keras
    if config is not None:
        model = keras.models.model_from_json(config.read_text())
        # tf_keras reads any "*.weights.h5" name as the Keras 3 layout; the sample is the legacy one.
        with tempfile.TemporaryDirectory() as directory:
            legacy_name = pathlib.Path(directory) / "weights.h5"
            shutil.copyfile(path, legacy_name)
            model.load_weights(str(legacy_name))
    else:
        model = keras.models.load_model(str(path), compile=False)
    return model, keras


@pytest.fixture(params=model_files(), ids=lambda item: item[0].name)
def sample(request):
    return request.param


# .tflite files written by TensorFlow's converter from digits_cnn_k2.h5 (float, dynamic-range,
# float16, full int8 calibrated on the digits test images) and by keraslite, for inspect and diff.
_TF_MAKE = r'''
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf, tf_keras as keras
model = keras.models.load_model(sys.argv[1], compile=False)
x = np.load(sys.argv[2])
out = sys.argv[3]
def convert(name, configure):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    configure(converter)
    open(os.path.join(out, name + ".tflite"), "wb").write(converter.convert())
def dynamic(c): c.optimizations = [tf.lite.Optimize.DEFAULT]
def half(c): c.optimizations = [tf.lite.Optimize.DEFAULT]; c.target_spec.supported_types = [tf.float16]
def full(c):
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([x[i:i + 1]] for i in range(len(x)))
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8; c.inference_output_type = tf.int8
convert("tf_float", lambda c: None)
convert("tf_dynamic", dynamic)
convert("tf_float16", half)
convert("tf_int8", full)
'''


@pytest.fixture(scope="session")
def tflite_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tflite")
    subprocess.run([sys.executable, "-c", _TF_MAKE, str(SAMPLES / "digits_cnn_k2.h5"), str(SAMPLES / "digits_test_x.npy"),
                    str(directory)], check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True)
    files = sorted(directory.glob("tf_*.tflite"))
    for sample in ("digits_cnn_k3.keras", "seed_mobilenetv2_k2.h5", "multi_io_k3.h5"):
        target = directory / ("keraslite_" + sample.split(".")[0] + ".tflite")
        keraslite("convert", SAMPLES / sample, "-o", target, "--quiet")
        files.append(target)
    return files


def interpreter(path):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    return it


@functools.lru_cache(maxsize=None)
def keras_model(path, config):
    """(model, input names, output names, input shapes without batch) — loaded once per file."""
    import convert_support as cs

    model, _ = load_with_keras(path, config)
    input_names, output_names = cs.keras_io_names(model)
    shapes = [tuple(int(d) for d in t.shape[1:]) for t in model.inputs]
    return model, input_names, output_names, shapes


"""`keraslite convert` on the keras.applications families beyond the seed's three — EfficientNet,
EfficientNetV2, MobileNet, MobileNetV3 (hard-swish written as arithmetic on tensors: Keras 3 op
nodes, tf.keras TFOpLambda), DenseNet, InceptionV3, Xception, ResNet50V2, NASNetMobile (Keras 3),
ConvNeXt (LayerScale, grouped convolution) — built by Keras 3 and by Keras 2 at small input sizes
with weights=None, converted, run in LiteRT and compared with Keras within
max |LiteRT − Keras| ≤ 1e-4 · max(1, max |Keras|).

Each Keras version builds all its models in one subprocess; the files are cached in the pytest
cache (`keraslite-applications`) keyed by this file's builder code and the installed versions.
"""
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import convert_support as cs

FAMILIES = {
    "EfficientNetB0": (64, 64, 3), "EfficientNetV2B0": (64, 64, 3), "MobileNet": (64, 64, 3),
    "MobileNetV3Small": (64, 64, 3), "DenseNet121": (64, 64, 3), "InceptionV3": (96, 96, 3),
    "Xception": (72, 72, 3), "ResNet50V2": (64, 64, 3), "NASNetMobile": (64, 64, 3), "ConvNeXtTiny": (64, 64, 3),
}
SKIP: set = set()

BUILD = r'''
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
version, out, families = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if version == "2":
    import tf_keras as keras
else:
    import keras
rng = np.random.default_rng(7)
for name, shape in families.items():
    model = getattr(keras.applications, name)(input_shape=tuple(shape), include_top=False, weights=None)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            weights = layer.get_weights()
            if len(weights) == 4:
                g, b, m, v = weights
                layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                                   rng.normal(0, 0.1, m.shape), rng.uniform(0.5, 1.5, v.shape)])
    # Models with their own preprocessing take 0..255 images; the others 0..1.
    high = 255.0 if name.startswith(("EfficientNet", "MobileNetV3", "ConvNeXt")) else 1.0
    x = rng.uniform(0, high, size=(2,) + tuple(shape)).astype(np.float32)
    y = np.concatenate([model.predict(x[i:i + 1], verbose=0) for i in range(2)])
    model.save(os.path.join(out, f"{name}.h5"))
    np.save(os.path.join(out, f"{name}.x.npy"), x)
    np.save(os.path.join(out, f"{name}.y.npy"), y)
'''

CASES = [(version, family) for family in FAMILIES for version in ("3", "2") if (version, family) not in SKIP]


@pytest.fixture(scope="session")
def applications(request):
    key = hashlib.sha256((BUILD + json.dumps(FAMILIES) + json.dumps(cs._installed_versions())).encode()).hexdigest()[:16]
    root = pathlib.Path(os.environ.get("KERASLITE_APPLICATIONS_CACHE") or request.config.cache.mkdir("keraslite-applications")) / key
    built = {}
    for version in ("3", "2"):
        directory = root / f"keras{version}"
        families = {f: s for f, s in FAMILIES.items() if (version, f) not in SKIP}
        if not (directory / "done").is_file():
            directory.mkdir(parents=True, exist_ok=True)
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
            result = subprocess.run([sys.executable, "-c", BUILD, version, str(directory), json.dumps(families)],
                                    capture_output=True, text=True, env=env, timeout=1800)
            assert result.returncode == 0, result.stderr[-3000:]
            (directory / "done").write_text("ok")
        built[version] = directory
    return built


@pytest.mark.parametrize("case", CASES, ids=[f"{family}-keras{version}" for version, family in CASES])
def test_application_converts_and_matches_keras(applications, case, tmp_path):
    version, family = case
    directory = applications[version]
    output = tmp_path / f"{family}.tflite"
    cs.convert(directory / f"{family}.h5", output)
    x, y = np.load(directory / f"{family}.x.npy"), np.load(directory / f"{family}.y.npy")
    for i in range(x.shape[0]):
        litert = cs.run_litert(output, [x[i:i + 1]])
        cs.assert_close(litert, [y[i:i + 1]], what=f"{family} (Keras {version}) input {i}")

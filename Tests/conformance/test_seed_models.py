"""The seed's three models (keras.applications bases, weights=None, 224×224×3, with the
Flatten → Dense → Dropout → Dense(sigmoid) head), written by Keras 3 (.h5 and .keras) and by
Keras 2 (tf_keras, .h5): keraslite must read each, build a verified graph, and count what Keras counts."""
import subprocess
import sys

import pytest

from conftest import keraslite_json

BUILD = """
import sys
family, major, path = sys.argv[1], sys.argv[2], sys.argv[3]
if major == "2":
    import tf_keras as keras
else:
    import keras
base = getattr(keras.applications, family)(input_shape=(224, 224, 3), include_top=False, weights=None)
x = keras.layers.Flatten()(base.output)
x = keras.layers.Dense(64, activation="relu")(x)
x = keras.layers.Dropout(0.5)(x)
x = keras.layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(base.input, x)
model.save(path)
layers = [(l.name, l.count_params()) for l in model.layers]
print(model.count_params())
print(repr(layers))
"""

CASES = [(family, major, ext) for family in ("VGG19", "ResNet50", "MobileNetV2")
         for major, ext in (("3", ".h5"), ("3", ".keras"), ("2", ".h5"))]


@pytest.mark.parametrize("family,major,ext", CASES, ids=[f"{f}-keras{m}{e}" for f, m, e in CASES])
def test_seed_model(tmp_path, family, major, ext):
    path = tmp_path / f"seed_{family}_k{major}{ext}"
    out = subprocess.run([sys.executable, "-c", BUILD, family, major, str(path)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    count_params, layers = int(out[-2]), eval(out[-1])

    report = keraslite_json("inspect", path, "--metadata-only")
    assert report["params"] == count_params
    ours = {layer["name"]: layer["params"] for layer in report["layers"]}
    assert ours == dict(layers)
    assert report["outputs"][0]["shape"] == [None, 1]
    assert report["inputs"][0]["shape"] == [None, 224, 224, 3]

"""What `keraslite prune` writes (through KerasWeightWriter) against h5py, zipfile and Keras itself:

- every sample model (.h5 from Keras 2 and Keras 3, compiled or not, and .keras) pruned with
  `--sparsity 0.5` holds the same HDF5 objects, attributes, dataset types, shapes and storage
  layouts as its input; every dataset is bit-identical except kernels, which changed only where
  they are now zero; the compiled sample loses only its optimizer state (`optimizer_weights`);
- a .keras output has the input's zip members in the same order, all but model.weights.h5
  byte-identical;
- Keras 3 loads every output (and tf_keras those Keras 2 wrote) and sees the file's weights;
  Keras 3 and tf_keras fine-tune pruned models one epoch on random data (the compiled sample with
  the optimizer Keras rebuilds from its training_config).

The pruning itself (which values become zero) is checked by test_prune.py."""
import functools
import pathlib
import tempfile
import zipfile

import h5py
import numpy as np
import pytest

from conftest import SAMPLES, keraslite, written_by_keras2

MODELS = sorted(p for p in SAMPLES.glob("*.h5") if not p.name.endswith(".weights.h5")) + sorted(SAMPLES.glob("*.keras"))
OPTIMIZER_STATE = {"optimizer_weights"}  # legacy HDF5; Keras 3 weights files call it "optimizer"


@pytest.fixture(scope="module")
def output_directory():
    with tempfile.TemporaryDirectory(prefix="keraslite-weight-writer-") as directory:
        yield pathlib.Path(directory)


@functools.lru_cache(maxsize=None)
def pruned(path, directory):
    """Prunes `path` once per run (every kernel, however small); returns (output path, the command's stdout + stderr)."""
    out = directory / ("pruned_" + path.name)
    result = keraslite("prune", path, "-o", out, "--sparsity", "0.5", "--min-params", "0")
    return out, result.stdout + result.stderr


def attributes(obj):
    """{name: (dtype, string kind, shape, value)} with h5py's view of each attribute's stored type
    (fixed or variable length, ASCII or UTF-8 for strings)."""
    found = {}
    for name in obj.attrs:
        attribute = obj.attrs.get_id(name)
        value = obj.attrs[name]
        found[name] = (attribute.dtype, h5py.check_string_dtype(attribute.dtype), attribute.shape,
                       value.tobytes() if isinstance(value, np.ndarray) and value.dtype.kind not in "OU" else repr(value))
    return found


def storage(dataset):
    """Everything about a dataset but its values."""
    return (dataset.dtype, dataset.shape, dataset.chunks, dataset.compression, dataset.compression_opts,
            dataset.shuffle, dataset.fletcher32, dataset.maxshape, repr(dataset.fillvalue))


def compare_hdf5(before_path, after_path, dropped=frozenset()):
    """Checks `after` against `before`; returns the paths of the datasets whose values changed."""
    changed = []
    with h5py.File(before_path, "r") as before, h5py.File(after_path, "r") as after:
        assert set(after.keys()) == set(before.keys()) - dropped
        assert attributes(after) == attributes(before), "root attributes differ"
        objects = []
        before.visititems(lambda name, item: objects.append(name) if name.split("/")[0] not in dropped else None)
        listed = []
        after.visititems(lambda name, item: listed.append(name))
        assert sorted(listed) == sorted(objects)
        for name in objects:
            old, new = before[name], after[name]
            assert type(new) is type(old), name
            assert attributes(new) == attributes(old), f"attributes of {name} differ"
            if not isinstance(old, h5py.Dataset):
                continue
            assert storage(new) == storage(old), name
            old_values, new_values = np.asarray(old[()]), np.asarray(new[()])
            if old_values.tobytes() == new_values.tobytes():
                continue
            changed.append(name)
            assert old.dtype.kind == "f", f"{name}: a {old.dtype} dataset changed"
            differs = old_values.view(f"u{old.dtype.itemsize}") != new_values.view(f"u{old.dtype.itemsize}")
            assert np.all(new_values[differs] == 0), f"{name}: values other than zeros changed"
    return changed


def is_kernel(dataset_path, keras_zip):
    """Keras 2/3 legacy files name kernels; Keras 3 weights files store a layer's kernel as vars/0."""
    last = dataset_path.split("/")[-1]
    return last == "0" and dataset_path.split("/")[-2] == "vars" if keras_zip else last.split(":")[0].endswith("kernel")


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_only_kernels_change_and_only_to_zero(path, output_directory):
    out, messages = pruned(path, output_directory)
    assert out.suffix == path.suffix
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out) as zout:
            before, after = zin.infolist(), zout.infolist()
            assert [i.filename for i in after] == [i.filename for i in before]
            assert [i.compress_type for i in after] == [i.compress_type for i in before]
            for old in before:
                if old.filename != "model.weights.h5":
                    assert zout.read(old.filename) == zin.read(old.filename), old.filename
            with tempfile.TemporaryDirectory() as scratch:
                zin.extract("model.weights.h5", pathlib.Path(scratch) / "before")
                zout.extract("model.weights.h5", pathlib.Path(scratch) / "after")
                changed = compare_hdf5(pathlib.Path(scratch) / "before" / "model.weights.h5",
                                       pathlib.Path(scratch) / "after" / "model.weights.h5")
    else:
        with h5py.File(path, "r") as f:
            dropped = OPTIMIZER_STATE & set(f.keys())
        changed = compare_hdf5(path, out, frozenset(dropped))
        if dropped:
            assert "optimizer" in messages, "dropping the optimizer state deserves a note"
    assert changed, "nothing was pruned"
    assert all(is_kernel(name, path.suffix == ".keras") for name in changed), changed


def test_compiled_model_loses_only_its_optimizer_state(output_directory):
    path = SAMPLES / "digits_cnn_k3_compiled.h5"
    out, _ = pruned(path, output_directory)
    with h5py.File(path, "r") as before, h5py.File(out, "r") as after:
        assert "optimizer_weights" in before
        assert sorted(after.keys()) == sorted(set(before.keys()) - {"optimizer_weights"})
        assert sorted(after.attrs.keys()) == sorted(before.attrs.keys())
        assert "training_config" in after.attrs
    # Left out, not merely unlinked: the optimizer's space is gone.
    assert out.stat().st_size < path.stat().st_size * 0.6


# Keras 3 (3.15) raises on loading these two Keras 2 originals themselves, so there is nothing to
# compare its view of the pruned file with; tf_keras loads both and is checked.
KERAS3_CANNOT_LOAD_ORIGINAL = {"multi_io_k2.h5", "seed_mobilenetv2_k2.h5"}


def keras_modules(path):
    modules = [] if path.name in KERAS3_CANNOT_LOAD_ORIGINAL else ["keras"]
    if written_by_keras2(path, None):
        modules.append("tf_keras")
    return modules


def load_pruned(path, module, directory):
    """(Keras module, the original model, the pruned model) as Keras `module` loads them."""
    keras = pytest.importorskip(module)
    out, _ = pruned(path, directory)
    try:
        original = keras.models.load_model(str(path), compile=False)
    except Exception as error:  # noqa: BLE001 — not the writer's business
        pytest.skip(f"{module} cannot load the original {path.name}: {error}")
    return keras, original, keras.models.load_model(str(out), compile=path.name.endswith("_compiled.h5"))


@pytest.mark.parametrize("path,module", [(p, m) for p in MODELS for m in keras_modules(p)],
                         ids=lambda item: item.name if isinstance(item, pathlib.Path) else item)
def test_keras_loads_the_written_weights(path, module, output_directory):
    _, original, model = load_pruned(path, module, output_directory)
    # Keras sees the file's values: the original's, except where pruned to zero.
    zeroed = 0
    for old, new in zip(original.get_weights(), model.get_weights(), strict=True):
        assert old.shape == new.shape
        differs = old != new
        assert np.all(new[differs] == 0)
        zeroed += int(np.sum(differs))
    assert zeroed > 0


FINE_TUNED = [("digits_cnn_k2.h5", "tf_keras"), ("digits_cnn_k2.h5", "keras"), ("multi_io_k2.h5", "tf_keras"),
              ("digits_cnn_k3_compiled.h5", "keras"), ("multi_io_k3.keras", "keras")]


@pytest.mark.parametrize("name,module", FINE_TUNED, ids=[f"{name}-{module}" for name, module in FINE_TUNED])
def test_keras_fine_tunes_the_written_model(name, module, output_directory):
    path = SAMPLES / name
    _, _, model = load_pruned(path, module, output_directory)
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((8, *(int(d) for d in t.shape[1:]))).astype(np.float32) for t in model.inputs]
    if name.endswith("_compiled.h5"):
        assert model.optimizer is not None, "Keras recompiles the model from its training_config"
        y = [rng.integers(0, int(model.outputs[0].shape[-1]), size=(8,))]  # sparse categorical, as compiled
    else:
        model.compile(optimizer="adam", loss="mse")
        y = [rng.standard_normal((8, *(int(d) for d in t.shape[1:]))).astype(np.float32) for t in model.outputs]
    history = model.fit(x if len(x) > 1 else x[0], y if len(y) > 1 else y[0], epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][-1])

"""`keraslite run` — the reference interpreter — against Keras itself: every committed sample (and
the third-party file), every layer-zoo case of Keras 2 and 3 (with and without the pass pipeline),
the seed's VGG19/ResNet50/MobileNetV2 and the other keras.applications families. Each run is a
batch of several inputs (split into smaller interpreter batches where stated), compared with
Keras' own outputs on the same inputs within max |ours − Keras| ≤ 1e-4 · max(1, max |Keras|).

The zoo, seed and applications models come from the same caches as the `convert` tests (their
fixtures are shared), so a full conformance run builds each model once.
"""

import numpy as np
import pytest

import convert_support as cs
from conftest import SAMPLES, keras_model, keraslite
from test_convert_applications import CASES as APPLICATION_CASES
from test_convert_applications import applications  # noqa: F401 (fixture)
from test_convert_layers import CASES as ZOO_CASES
from test_convert_layers import case_id, zoo  # noqa: F401 (fixture)
from test_convert_seed import CASES as SEED_CASES
from test_convert_seed import seed_models  # noqa: F401 (fixture)


def run_interpreter(tmp_path, model, inputs, *extra, config=None):
    """`keraslite run MODEL --input x.npz -o y.npz [extra]`; returns {output name: array}."""
    x, y = tmp_path / "x.npz", tmp_path / "y.npz"
    np.savez(x, **{name: np.ascontiguousarray(a, dtype=np.float32) for name, a in inputs.items()})
    args = ["run", model, "--input", x, "-o", y, "--quiet", *extra]
    if config is not None:
        args += ["--config", config]
    keraslite(*args)
    with np.load(y) as outputs:
        return {name: outputs[name] for name in outputs.files}


def assert_matches_keras(outputs, expected, names, what):
    """outputs: {name: array} from keraslite; expected: arrays in Keras output order named `names`."""
    assert sorted(outputs) == sorted(names), f"{what}: keraslite outputs {sorted(outputs)}, Keras {names}"
    for name, theirs in zip(names, expected):
        ours, theirs = outputs[name], np.asarray(theirs, dtype=np.float32)
        assert ours.dtype == np.float32, f"{what} {name!r}: dtype {ours.dtype}"
        assert ours.shape == theirs.shape, f"{what} {name!r}: shape {list(ours.shape)}, Keras {list(theirs.shape)}"
        if ours.size == 0:
            continue
        assert np.all(np.isfinite(ours)), f"{what} {name!r}: not finite at {np.argwhere(~np.isfinite(ours))[0].tolist()}"
        error = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
        tolerance = cs.RELATIVE_TOLERANCE * max(1.0, float(np.max(np.abs(theirs))))
        if error.max() > tolerance:
            where = tuple(int(i) for i in np.unravel_index(int(error.argmax()), error.shape))
            raise AssertionError(f"{what} {name!r}: max |interpreter − Keras| = {error.max():.3g} > {tolerance:.3g} at "
                                 f"{list(where)}: {float(ours[where]):.7g} vs Keras {float(theirs[where]):.7g}; "
                                 f"{int((error > tolerance).sum())} of {error.size} elements off")


# --- the samples ---------------------------------------------------------------------------------



def test_sample_matches_keras(sample, tmp_path):
    """5 random inputs in interpreter batches of 2, 2 and 1; then the committed inputs/outputs."""
    path, config = sample
    model, input_names, output_names, shapes = keras_model(path, config)
    inputs = cs.random_inputs(shapes, 5, sum(path.name.encode()) * 31)
    expected = cs.keras_predict(model, inputs)
    outputs = run_interpreter(tmp_path, path, dict(zip(input_names, inputs)), "--batch-size", "2", config=config)
    assert_matches_keras(outputs, expected, output_names, f"{path.name} random")

    stem = path.name.split(".")[0].replace("_compiled", "")
    for suffix in (".npy", ".npz"):
        stored_in, stored_out = path.with_name(stem + ".inputs" + suffix), path.with_name(stem + ".outputs" + suffix)
        if not (stored_in.is_file() and stored_out.is_file()):
            continue
        x, y = np.load(stored_in), np.load(stored_out)
        x = dict(x) if suffix == ".npz" else {input_names[0]: x}
        y = [y[n] for n in output_names] if suffix == ".npz" else [y]
        assert_matches_keras(run_interpreter(tmp_path, path, x, config=config), y, output_names, f"{path.name} committed")


def test_npy_in_npy_out(tmp_path):
    """A one-input, one-output model reads and writes plain .npy; one unbatched sample gets a batch axis."""
    x = np.load(SAMPLES / "digits_cnn_k3.inputs.npy")
    expected = np.load(SAMPLES / "digits_cnn_k3.outputs.npy")
    np.save(tmp_path / "x.npy", x.astype(np.float64))  # any float dtype is read
    result = keraslite("run", SAMPLES / "digits_cnn_k3.h5", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert "4 samples" in result.stdout and "dense_1 [4,10]" in result.stdout, result.stdout
    assert_matches_keras({"dense_1": np.load(tmp_path / "y.npy")}, [expected], ["dense_1"], "npy")
    np.save(tmp_path / "one.npy", x[0])
    keraslite("run", SAMPLES / "digits_cnn_k3.h5", "--input", tmp_path / "one.npy", "-o", tmp_path / "one_out.npy", "--quiet")
    assert_matches_keras({"dense_1": np.load(tmp_path / "one_out.npy")}, [expected[:1]], ["dense_1"], "one sample")


BAD_RUNS = [
    ("wrong-shape", "digits_cnn_k3.h5", lambda d: np.save(d / "x.npy", np.zeros((2, 9, 8, 1), np.float32)), "x.npy", "y.npy"),
    ("multi-input-npy", "multi_io_k3.h5", lambda d: np.save(d / "x.npy", np.zeros((2, 8), np.float32)), "x.npy", "y.npz"),
    ("missing-input-name", "multi_io_k3.h5", lambda d: np.savez(d / "x.npz", nope=np.zeros((2, 8), np.float32)), "x.npz", "y.npz"),
    ("multi-output-npy", "multi_io_k3.h5", lambda d: None, "x.npz", "y.npy"),
    ("not-npy", "digits_cnn_k3.h5", lambda d: (d / "x.npy").write_text("hello"), "x.npy", "y.npy"),
    ("lambda-layer", "bad/lambda_k3.h5", lambda d: np.save(d / "x.npy", np.zeros((1, 4), np.float32)), "x.npy", "y.npy"),
]


@pytest.mark.parametrize("name,model,make,x,y", BAD_RUNS, ids=[b[0] for b in BAD_RUNS])
def test_bad_runs_exit_2_with_one_line(tmp_path, name, model, make, x, y):
    make(tmp_path)
    if not (tmp_path / x).exists():
        np.savez(tmp_path / x, **dict(np.load(SAMPLES / "multi_io_k3.inputs.npz")))
    result = keraslite("run", SAMPLES / model, "--input", tmp_path / x, "-o", tmp_path / y, check=False)
    assert result.returncode == 2, f"exit {result.returncode}: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keraslite: "), result.stderr
    assert not (tmp_path / y).exists()


# --- the layer zoo -------------------------------------------------------------------------------

@pytest.mark.parametrize("zoo_case", ZOO_CASES, ids=[case_id(c) for c in ZOO_CASES])
def test_zoo_case_matches_keras(zoo, zoo_case, tmp_path):  # noqa: F811 (fixture)
    """The case's 3 inputs as one batch, after the standard passes and without them."""
    version, name, fmt = zoo_case
    directory = zoo.get(version, name)
    if (directory / "error.txt").is_file():
        pytest.fail(f"Keras {version} itself could not build this case:\n{(directory / 'error.txt').read_text()}")
    meta, inputs, expected = cs.load_case(directory)
    for extra in ([], ["--no-passes"]):
        outputs = run_interpreter(tmp_path, directory / f"model.{fmt}", dict(zip(meta["inputs"], inputs)), *extra)
        assert_matches_keras(outputs, expected, meta["outputs"], f"{case_id(zoo_case)} {' '.join(extra)}")


# --- the seed models and keras.applications ------------------------------------------------------

@pytest.mark.parametrize("seed_case", SEED_CASES, ids=[f"{family}-keras{version}" for version, family in SEED_CASES])
def test_seed_model_matches_keras(seed_models, seed_case, tmp_path):  # noqa: F811 (fixture)
    version, family = seed_case
    directory = seed_models.get(version, family)
    if (directory / "error.txt").is_file():
        pytest.fail((directory / "error.txt").read_text())
    meta, inputs, expected = cs.load_case(directory)
    outputs = run_interpreter(tmp_path, directory / "model.h5", dict(zip(meta["inputs"], inputs)))
    assert_matches_keras(outputs, expected, meta["outputs"], f"{family} (Keras {version})")


@pytest.mark.parametrize("case", APPLICATION_CASES, ids=[f"{family}-keras{version}" for version, family in APPLICATION_CASES])
def test_application_matches_keras(applications, case, tmp_path):  # noqa: F811 (fixture)
    version, family = case
    directory = applications[version]
    x, y = np.load(directory / f"{family}.x.npy"), np.load(directory / f"{family}.y.npy")
    np.save(tmp_path / "x.npy", x)
    keraslite("run", directory / f"{family}.h5", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy", "--quiet")
    ours = np.load(tmp_path / "y.npy")
    assert_matches_keras({"output": ours}, [y], ["output"], f"{family} (Keras {version})")

"""`keraslite convert` on every committed sample, the third-party Keras 2.0.5 file and the
weights-only pair (with --config): the .tflite runs in LiteRT and agrees with Keras within
max |LiteRT - Keras| <= 1e-4 * max(1, max |Keras|); batch 1 by default, `--batch 0` dynamic,
`--batch N` fixed; the signature names are Keras' input/output layer names; the input is never
touched; failures exit 2 with one stderr line and leave nothing behind."""
import shutil

import numpy as np
import pytest

import convert_support as cs
from conftest import SAMPLES, keras_model

RANDOM_RUNS = 3




def seed_of(path):
    return sum(path.name.encode()) * 7919


def committed_io(path):
    """The committed Samples inputs/outputs for this model file (Samples/README.md), if any."""
    stem = path.name.split(".")[0].replace("_compiled", "")
    for suffix in (".npy", ".npz"):
        inputs, outputs = path.with_name(stem + ".inputs" + suffix), path.with_name(stem + ".outputs" + suffix)
        if inputs.is_file() and outputs.is_file():
            return inputs, outputs
    return None


def as_dict(names, arrays):
    return dict(zip(names, arrays))


def check_runs(tflite, model, input_names, output_names, inputs, batch, what):
    """Runs `inputs` through the .tflite in chunks of `batch` and compares with Keras on them."""
    expected = cs.keras_predict(model, inputs)
    for start in range(0, len(inputs[0]), batch):
        litert = cs.run_litert(tflite, as_dict(input_names, cs.batch_slices(inputs, start, batch)), output_names)
        cs.assert_close(litert, cs.batch_slices(expected, start, batch), what=f"{what} rows {start}..",
                        names=output_names)


def test_converts_and_matches_keras(sample, tmp_path):
    path, config = sample
    model, input_names, output_names, shapes = keras_model(path, config)
    watched = [p for p in (path, config) if p is not None]
    before = {p: cs.sha256(p) for p in watched}
    tflite = tmp_path / "model.tflite"

    cs.convert(path, tflite, config=config)

    assert tflite.is_file() and tflite.stat().st_size > 0
    assert tflite.read_bytes()[4:8] == cs.TFLITE_IDENTIFIER, "not a TFLite FlatBuffer (identifier TFL3)"
    assert {p: cs.sha256(p) for p in watched} == before, "keraslite modified its input"

    # Batch 1 by default: a static batch dimension of 1 on every input.
    for detail in cs.load_interpreter(tflite).get_input_details():
        assert detail["shape_signature"][0] == 1 and detail["shape"][0] == 1, detail

    inputs = cs.random_inputs(shapes, RANDOM_RUNS, seed_of(path))
    check_runs(tflite, model, input_names, output_names, inputs, 1, f"{path.name} random")

    # The committed inputs and Keras outputs (trained digits models, 4 rows each).
    io = committed_io(path)
    if io is not None:
        stored_in, stored_out = (np.load(f) for f in io)
        stored_in = [stored_in[n] for n in input_names] if io[0].suffix == ".npz" else [stored_in]
        stored_out = [stored_out[n] for n in output_names] if io[1].suffix == ".npz" else [stored_out]
        for row in range(len(stored_in[0])):
            litert = cs.run_litert(tflite, as_dict(input_names, cs.batch_slices(stored_in, row)), output_names)
            cs.assert_close(litert, cs.batch_slices(stored_out, row), what=f"{path.name} committed row {row}",
                            names=output_names)


def test_dynamic_batch(sample, tmp_path):
    """--batch 0 keeps the batch dimension dynamic: LiteRT resizes to batch 4 and still agrees."""
    path, config = sample
    model, input_names, output_names, shapes = keras_model(path, config)
    tflite = tmp_path / "dynamic.tflite"
    cs.convert(path, tflite, "--batch", "0", config=config)

    for detail in cs.load_interpreter(tflite).get_input_details():
        assert detail["shape_signature"][0] == -1, f"batch not dynamic: {detail['shape_signature']}"
    inputs = cs.random_inputs(shapes, 4, seed_of(path) + 1)
    check_runs(tflite, model, input_names, output_names, inputs, 4, f"{path.name} --batch 0, batch 4")
    check_runs(tflite, model, input_names, output_names, [a[:1] for a in inputs], 1,
               f"{path.name} --batch 0, batch 1")


def test_fixed_batch_option(sample, tmp_path):
    """--batch 2: a static batch of 2 on every input."""
    path, config = sample
    model, input_names, output_names, shapes = keras_model(path, config)
    tflite = tmp_path / "batch2.tflite"
    cs.convert(path, tflite, "--batch", "2", config=config)

    for detail in cs.load_interpreter(tflite).get_input_details():
        assert list(detail["shape_signature"][:1]) == [2] and detail["shape"][0] == 2, detail
    inputs = cs.random_inputs(shapes, 2, seed_of(path) + 2)
    check_runs(tflite, model, input_names, output_names, inputs, 2, f"{path.name} --batch 2")


def test_signature_names_are_keras_names(sample, tmp_path):
    """Signature 'serving_default': inputs named after the Keras input layers, outputs after the
    Keras output layers, with Keras' shapes (batch 1)."""
    path, config = sample
    model, input_names, output_names, shapes = keras_model(path, config)
    tflite = tmp_path / "model.tflite"
    cs.convert(path, tflite, config=config)

    interpreter = cs.load_interpreter(tflite)
    assert cs.SIGNATURE_KEY in interpreter.get_signature_list(), \
        f"no '{cs.SIGNATURE_KEY}' signature; signatures: {interpreter.get_signature_list()}"
    runner = interpreter.get_signature_runner(cs.SIGNATURE_KEY)
    inputs, outputs = runner.get_input_details(), runner.get_output_details()
    assert sorted(inputs) == sorted(input_names)
    assert sorted(outputs) == sorted(output_names)
    for name, shape in zip(input_names, shapes):
        assert list(inputs[name]["shape"]) == [1, *shape], name
        assert inputs[name]["dtype"] == np.float32
    for name, tensor in zip(output_names, model.outputs):
        assert list(outputs[name]["shape"]) == [1, *[int(d) for d in tensor.shape[1:]]], name
        assert outputs[name]["dtype"] == np.float32


def test_quiet_prints_nothing(tmp_path):
    path = SAMPLES / "digits_cnn_k3.h5"
    result = cs.convert(path, tmp_path / "model.tflite", "--quiet")
    assert result.stdout == "" and result.stderr == ""


OVERWRITE_CASES = [(name, spelling) for name in ("digits_cnn_k3.h5", "multi_io_k3.keras")
                   for spelling in ("same", "dot-dot")]


@pytest.mark.parametrize("name,spelling", OVERWRITE_CASES, ids=[f"{n}-{s}" for n, s in OVERWRITE_CASES])
def test_refuses_to_overwrite_input(tmp_path, name, spelling):
    source = tmp_path / name
    shutil.copyfile(SAMPLES / name, source)
    (tmp_path / "sub").mkdir()
    before = cs.sha256(source)
    listing = sorted(p.name for p in tmp_path.iterdir())
    target = source if spelling == "same" else tmp_path / "sub" / ".." / name

    result = cs.convert(source, target, check=False)

    assert result.returncode != 0, "keraslite overwrote its own input"
    assert result.stderr.strip(), "no error message"
    assert cs.sha256(source) == before, "input changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == listing, "left files behind"
    assert list((tmp_path / "sub").iterdir()) == []


BAD_FILES = sorted((SAMPLES / "bad").glob("*.h5"))


@pytest.mark.parametrize("bad", BAD_FILES, ids=[p.name for p in BAD_FILES])
def test_failing_conversion_leaves_nothing(tmp_path, bad):
    """Unconvertible input (Lambda, custom layer, broken files): exit 2, one line on stderr, no
    output file and no temporary files in the output directory."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    before = cs.sha256(bad)

    result = cs.convert(bad, out_dir / "model.tflite", check=False)

    assert result.returncode == 2, f"exit {result.returncode}; stderr: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"expected one stderr line, got: {result.stderr!r}"
    assert not (out_dir / "model.tflite").exists()
    assert list(out_dir.iterdir()) == [], f"left behind: {list(out_dir.iterdir())}"
    assert cs.sha256(bad) == before


def test_failing_conversion_keeps_existing_output(tmp_path):
    """A failed conversion does not clobber an existing file at the output path."""
    target = tmp_path / "model.tflite"
    target.write_bytes(b"previous contents")
    result = cs.convert(SAMPLES / "bad" / "lambda_k3.h5", target, check=False)
    assert result.returncode == 2
    assert target.read_bytes() == b"previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite"]

"""The wheel `make wheel` builds, installed into a fresh virtualenv and run where this machine's Swift
runtime and Debian libraries are hidden: a private mount namespace (`unshare -m`, no container)
puts an empty tmpfs over the toolchain's lib/swift and /dev/null over every shared library the
in-tree binary loads beyond the manylinux base (libhdf5, OpenBLAS, zlib, libgfortran, libcurl …).
Whatever the wheel's binary needs must then come from the wheel. Its outputs are compared byte for
byte with the in-tree binary's (KERASLITE_BIN, the debug build `make test` already has).

Environment: KERASLITE_WHEEL (the .whl), KERASLITE_BIN (the in-tree binary). Run by `make wheel-test`.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "Samples"
WHEEL = Path(os.environ["KERASLITE_WHEEL"]).resolve()
IN_TREE = Path(os.environ.get("KERASLITE_BIN", ROOT / ".build/debug/keraslite")).resolve()

# Libraries every manylinux system has (auditwheel's policy whitelist, the ones keraslite loads): the
# wheel may load these from the system, nothing else. zlib is one of them (and Priority: required in
# Debian: dpkg needs it), so auditwheel does not bundle it and the namespace does not hide it.
SYSTEM_LIBRARIES = {"linux-vdso.so.1", "ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6", "libdl.so.2",
                    "libpthread.so.0", "librt.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1", "libresolv.so.2"}


def ldd(path) -> dict[str, str | None]:
    """soname → resolved path (None: not found) as the dynamic loader resolves them."""
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=True).stdout
    resolved = {}
    for line in out.splitlines():
        line = line.strip()
        if match := re.match(r"(\S+) => (not found|\S+)", line):
            resolved[match[1]] = None if match[2] == "not found" else match[2]
        elif match := re.match(r"(\S+) \(0x", line):
            resolved[Path(match[1]).name] = match[1]
    return resolved


def hidden_paths() -> tuple[list[str], list[str]]:
    """(directories, files) to hide: the Swift toolchain's lib/swift and the real files of every
    non-system library the in-tree binary loads."""
    directories, files = [], []
    for name, path in ldd(IN_TREE).items():
        assert path is not None, f"in-tree binary: {name} not found"
        if name.startswith("libswiftCore"):
            directories.append(str(Path(path).resolve().parents[1]))  # …/lib/swift (linux/ and static/)
        elif name not in SYSTEM_LIBRARIES and not name.startswith(("libswift", "libFoundation", "lib_Foundation",
                                                                    "libdispatch", "libBlocksRuntime")):
            files.append(os.path.realpath(path))
    assert directories, "the in-tree binary does not load libswiftCore.so: build it without --static-swift-stdlib"
    return directories, sorted(set(files))


HIDDEN_DIRECTORIES, HIDDEN_FILES = hidden_paths()


def hidden(command: list[str]) -> list[str]:
    """`command` in a private mount namespace where the hidden paths are gone."""
    script = "set -e\n"
    script += "".join(f"mount -t tmpfs hidden '{d}'\n" for d in HIDDEN_DIRECTORIES)
    script += "".join(f"mount --bind /dev/null '{f}'\n" for f in HIDDEN_FILES)
    script += 'exec "$@"\n'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *map(str, command)]


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtualenv (no packages) with only the wheel installed, from the file, offline."""
    venv = tmp_path_factory.mktemp("wheel") / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check",
                    str(WHEEL)], check=True)
    return venv


@pytest.fixture
def clean_env(venv, tmp_path) -> dict:
    """No Swift, no LD_LIBRARY_PATH, nothing of this shell: the venv's bin and the system's."""
    return {"PATH": f"{venv}/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"}


def run_hidden(command, env, cwd, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(hidden(command), env=env, cwd=cwd, capture_output=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}: {result.stderr.decode(errors='replace')}")
    return result


def in_tree(*args, cwd, ok=(0,)) -> subprocess.CompletedProcess:
    result = subprocess.run([str(IN_TREE), *map(str, args)], cwd=cwd, capture_output=True)
    assert result.returncode in ok, result.stderr.decode(errors="replace")
    return result


def assert_same_hdf5(a: Path, b: Path):
    """Same groups, datasets (values, dtypes, shapes) and attributes. Not bytes: libhdf5 stamps each
    object header with its modification time, so two runs of the same binary differ a second apart."""
    import h5py
    import numpy as np

    def contents(path):
        items = {}
        with h5py.File(path, "r") as file:
            def visit(name, obj):
                attrs = {k: np.asarray(v).tolist() for k, v in obj.attrs.items()}
                data = (obj.dtype.str, obj.shape, obj[()].tobytes()) if isinstance(obj, h5py.Dataset) else None
                items[name] = (attrs, data)
            visit("/", file)
            file.visititems(visit)
        return items

    left, right = contents(a), contents(b)
    assert len(left) > 10 and left == right


def installed_binary(venv: Path) -> Path:
    found = list(venv.glob("lib/python*/site-packages/keraslite/bin/keraslite"))
    assert len(found) == 1, found
    return found[0]


def test_wheel_is_tagged_manylinux_and_bundles_the_libraries():
    name = WHEEL.name
    assert re.fullmatch(r"keraslite-0\.1\.0-py3-none-manylinux_2_\d+_x86_64(\.manylinux\w+)*\.whl", name), name
    members = zipfile.ZipFile(WHEEL).namelist()
    libs = [Path(m).name for m in members if m.startswith("keraslite.libs/")]
    assert "keraslite/bin/keraslite" in members and "keraslite/__init__.py" in members
    for library in ["libhdf5_serial", "libopenblas", "libgfortran", "libsz", "libcurl"]:
        assert any(lib.startswith(library) for lib in libs), (library, libs)
    assert not [m for m in members if "libswift" in m or "Foundation" in m], members
    entry_points = zipfile.ZipFile(WHEEL).read("keraslite-0.1.0.dist-info/entry_points.txt").decode()
    assert "keraslite = keraslite:_main" in entry_points


def test_binary_resolves_only_system_and_wheel_libraries(venv, clean_env, tmp_path):
    binary = installed_binary(venv)
    libs_dir = binary.parents[2] / "keraslite.libs"
    for resolved in [ldd(binary)]:
        assert None not in resolved.values(), resolved
        outside = {n: p for n, p in resolved.items()
                   if n not in SYSTEM_LIBRARIES and not Path(p).resolve().is_relative_to(libs_dir.resolve())}
        assert outside == {}, outside
        assert not [n for n in resolved if n.startswith(("libswift", "libFoundation", "lib_FoundationICU"))]
        assert not [p for p in resolved.values() if p.startswith(("/usr/lib/x86_64-linux-gnu/libhdf5",
                                                                   "/lib/x86_64-linux-gnu/libhdf5"))]
        assert any(n.startswith("libhdf5_serial") for n in resolved), resolved
    # The same under the hidden libraries: ldd inside the namespace still finds everything.
    inside = run_hidden(["ldd", binary], clean_env, tmp_path).stdout.decode()
    assert "not found" not in inside and "/opt/swift" not in inside and "libswift" not in inside, inside


def test_the_hiding_is_real(clean_env, tmp_path):
    """The in-tree binary, which loads Swift's and Debian's libraries, cannot start in the namespace."""
    result = run_hidden([IN_TREE, "--version"], clean_env, tmp_path, check=False)
    assert result.returncode == 127, result
    assert b"error while loading shared libraries" in result.stderr


CONVERSIONS = [
    ("digits_cnn_k3.keras", []),
    ("seed_mobilenetv2_k3.h5", []),
    ("multi_io_k2.h5", ["--quantize", "float16"]),
    ("small_resnet_k2.h5", ["--quantize", "dynamic", "--prune", "0.5", "--sparse"]),
    ("digits_cnn_k2.h5", ["--quantize", "int8", "--calibration", SAMPLES / "digits_test_x.npy"]),
    ("small_resnet_k3.keras", ["--channels", "0.5", "--round-to", "4"]),
]


@pytest.mark.parametrize("sample,options", CONVERSIONS, ids=[c[0] + "".join(map(str, c[1][:2])) for c in CONVERSIONS])
def test_cli_convert_is_byte_identical(sample, options, clean_env, tmp_path):
    """`keraslite` on the clean PATH is the console script of the wheel; its .tflite equals the in-tree binary's."""
    run_hidden(["keraslite", "convert", SAMPLES / sample, "-o", tmp_path / "wheel.tflite", "--quiet", *options],
               clean_env, tmp_path)
    in_tree("convert", SAMPLES / sample, "-o", tmp_path / "tree.tflite", "--quiet", *options, cwd=tmp_path)
    wheel, tree = (tmp_path / "wheel.tflite").read_bytes(), (tmp_path / "tree.tflite").read_bytes()
    assert len(wheel) > 1000 and wheel == tree


REPORTS = [  # (arguments, the exit status they must end with)
    (["--version"], 0),
    (["inspect", SAMPLES / "multi_io_k3.keras", "--json"], 0),
    (["inspect", SAMPLES / "seed_mobilenetv2_k2.h5"], 0),
    (["sparsity", SAMPLES / "digits_cnn_k2.h5", "--json"], 0),
    (["diff", SAMPLES / "digits_cnn_k2.h5", SAMPLES / "digits_cnn_k3.h5", "--json"], 1),
    (["run", SAMPLES / "small_vgg_k3.h5", "--input", SAMPLES / "small_vgg_k3.inputs.npy", "-o", "out.npy", "--quiet"], 0),
    (["convert", SAMPLES / "bad/lambda_k3.h5", "-o", "x.tflite"], 2),
    (["inspect", SAMPLES / "bad/truncated.h5"], 2),
    (["convert", SAMPLES / "digits_cnn_k2.h5", "-o", "x.tflite", "--quantize", "int8"], 64),
]


@pytest.mark.parametrize("args,status", REPORTS, ids=[" ".join(Path(str(a)).name for a in r[0][:2]) for r in REPORTS])
def test_cli_reports_and_errors_are_identical(args, status, clean_env, tmp_path):
    """stdout, stderr, exit status and written files of the wheel's CLI equal the in-tree binary's."""
    (tmp_path / "wheel").mkdir()
    (tmp_path / "tree").mkdir()
    wheel = run_hidden(["keraslite", *args], clean_env, tmp_path / "wheel", check=False)
    tree = subprocess.run([str(IN_TREE), *map(str, args)], cwd=tmp_path / "tree", capture_output=True)
    assert tree.returncode == status, tree.stderr
    assert (wheel.returncode, wheel.stdout, wheel.stderr) == (tree.returncode, tree.stdout, tree.stderr)
    assert sorted(p.name for p in (tmp_path / "wheel").iterdir()) == sorted(p.name for p in (tmp_path / "tree").iterdir())
    for written in (tmp_path / "tree").iterdir():
        assert (tmp_path / "wheel" / written.name).read_bytes() == written.read_bytes()
    if status in (2, 64):
        assert tree.stderr.startswith(b"keraslite: ") and tree.stderr.count(b"\n") == 1


API_SCRIPT = """
import json, sys
import keraslite
samples, out = sys.argv[1], sys.argv[2]
result = {}
result["inspect"] = keraslite.inspect(f"{samples}/multi_io_k3.keras")
result["sparsity"] = keraslite.sparsity(f"{samples}/digits_cnn_k2.h5", threshold=0.01)
result["diff"] = keraslite.diff(f"{samples}/digits_cnn_k2.h5", f"{samples}/digits_cnn_k3.h5")
result["diff_equal"] = keraslite.diff(f"{samples}/digits_cnn_k3.h5", f"{samples}/digits_cnn_k3.h5")["equal"]
result["convert"] = keraslite.convert(f"{samples}/small_resnet_k2.h5", f"{out}/api.tflite", quantize="dynamic",
                                      prune=0.5, sparse=True)
result["convert_int8"] = keraslite.convert(f"{samples}/digits_cnn_k2.h5", f"{out}/api_int8.tflite", quantize="int8",
                                           calibration=f"{samples}/digits_test_x.npy", report=True, report_samples=8)
result["prune"] = keraslite.prune(f"{samples}/small_resnet_k2.h5", f"{out}/api_pruned.h5", channels=0.5, round_to=4,
                                  exclude=["conv1_conv"])
errors = {}
for name, call in [("lambda", lambda: keraslite.convert(f"{samples}/bad/lambda_k3.h5", f"{out}/x.tflite")),
                   ("truncated", lambda: keraslite.inspect(f"{samples}/bad/truncated.h5")),
                   ("usage", lambda: keraslite.convert(f"{samples}/digits_cnn_k2.h5", f"{out}/x.tflite", quantize="int8")),
                   ("missing", lambda: keraslite.sparsity(f"{samples}/no_such_file.h5"))]:
    try:
        call()
        errors[name] = None
    except keraslite.Error as error:
        errors[name] = [error.message, error.returncode, str(error)]
result["errors"] = errors
result["modules"] = sorted(m for m in ("keras", "tensorflow", "numpy", "tf_keras") if m in sys.modules)
result["binary"] = keraslite.binary()
print(json.dumps(result))
"""


def test_api_with_paths_matches_the_cli(venv, clean_env, tmp_path):
    """The module in the fresh venv (no NumPy, no Keras), in the namespace: the dicts are the CLI's
    --json, the files the in-tree binary's, the errors keraslite.Error with the CLI's line."""
    (tmp_path / "api.py").write_text(API_SCRIPT)
    result = json.loads(run_hidden(["python", tmp_path / "api.py", SAMPLES, tmp_path], clean_env, tmp_path).stdout)

    def tree_json(*args, ok=(0,)):
        return json.loads(in_tree(*args, cwd=tmp_path, ok=ok).stdout)

    assert result["inspect"] == tree_json("inspect", SAMPLES / "multi_io_k3.keras", "--json")
    assert result["sparsity"] == tree_json("sparsity", SAMPLES / "digits_cnn_k2.h5", "--json", "--threshold", "0.01")
    assert result["diff"] == tree_json("diff", SAMPLES / "digits_cnn_k2.h5", SAMPLES / "digits_cnn_k3.h5", "--json", ok=(0, 1))
    assert result["diff"]["equal"] is False and result["diff_equal"] is True

    summary = in_tree("convert", SAMPLES / "small_resnet_k2.h5", "-o", tmp_path / "tree.tflite", "--quantize", "dynamic",
                      "--prune", "0.5", "--sparse", cwd=tmp_path).stdout.decode().strip()
    def timeless(line, path):  # "wrote PATH: 67 ops (…), 1.1 MB, 0.37 s; …"
        return re.sub(r"\b\d+\.\d+ s\b", "… s", line.replace(str(path), "OUT"))

    assert timeless(result["convert"]["summary"], tmp_path / "api.tflite") == timeless(summary, tmp_path / "tree.tflite")
    assert summary.startswith(f"wrote {tmp_path / 'tree.tflite'}: ") and "stored sparse" in summary
    assert result["convert"]["report"] is None
    assert (tmp_path / "api.tflite").read_bytes() == (tmp_path / "tree.tflite").read_bytes()

    report = tree_json("convert", SAMPLES / "digits_cnn_k2.h5", "-o", tmp_path / "tree_int8.tflite", "--quantize", "int8",
                       "--calibration", SAMPLES / "digits_test_x.npy", "--report", "--json", "--report-samples", "8")
    assert result["convert_int8"]["report"] == report and report["samples"] == 8
    assert (tmp_path / "api_int8.tflite").read_bytes() == (tmp_path / "tree_int8.tflite").read_bytes()

    pruned = tree_json("prune", SAMPLES / "small_resnet_k2.h5", "-o", tmp_path / "tree_pruned.h5", "--json",
                       "--channels", "0.5", "--round-to", "4", "--exclude", "conv1_conv")
    assert result["prune"] == pruned and pruned["params_after"] < pruned["params_before"]
    assert_same_hdf5(tmp_path / "api_pruned.h5", tmp_path / "tree_pruned.h5")

    for name, args, code in [("lambda", ["convert", SAMPLES / "bad/lambda_k3.h5", "-o", "x.tflite"], 2),
                             ("truncated", ["inspect", SAMPLES / "bad/truncated.h5"], 2),
                             ("usage", ["convert", SAMPLES / "digits_cnn_k2.h5", "-o", "x.tflite", "--quantize", "int8"], 64),
                             ("missing", ["sparsity", SAMPLES / "no_such_file.h5", "--json"], 2)]:
        line = in_tree(*args, cwd=tmp_path, ok=(code,)).stderr.decode()
        assert line.startswith("keraslite: ") and line.count("\n") == 1, line
        assert result["errors"][name] == [line[len("keraslite: "):-1], code, line[len("keraslite: "):-1]], name
    assert not (tmp_path / "x.tflite").exists()
    assert result["modules"] == []
    assert result["binary"].startswith(str(venv))


KERAS_SCRIPT = """
import json, sys
import keraslite
samples, out = sys.argv[1], sys.argv[2]
keraslite.inspect(f"{samples}/digits_cnn_k3.keras")
before = sorted(m for m in ("keras", "tensorflow", "numpy", "tf_keras") if m in sys.modules)
import keras, numpy as np
model = keras.models.load_model(f"{samples}/digits_cnn_k3.keras")
model.save(f"{out}/saved.keras")
model.save(f"{out}/saved.h5")
x = np.load(f"{samples}/digits_test_x.npy")[:50]
np.save(f"{out}/x.npy", x)
result = {"before": before, "keras": keras.__version__}
result["convert"] = keraslite.convert(model, f"{out}/object.tflite")
result["int8"] = keraslite.convert(model, f"{out}/object_int8.tflite", quantize="int8", calibration=x)
result["inspect"] = keraslite.inspect(model)
result["prune"] = keraslite.prune(model, f"{out}/object_pruned.h5", sparsity=0.5)
try:
    keraslite.convert(model, f"{out}/x.tflite", input_shape={"nope": (8, 8, 1)})
    result["error"] = None
except keraslite.Error as error:
    result["error"] = error.message
print(json.dumps(result))
"""


def test_api_with_a_keras3_model_object(venv, tmp_path):
    """A Keras 3 model object (the repo's .venv) is saved to a temporary file and converted; a NumPy
    calibration array is saved as .npy: the files equal the in-tree binary's on the same saves."""
    python = sys.executable  # the repo's .venv (Keras 3, NumPy), which runs this test
    site = next(venv.glob("lib/python*/site-packages"))
    (tmp_path / "keras_api.py").write_text(KERAS_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(site), "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1",
           "KERAS_BACKEND": "tensorflow"}
    process = subprocess.run([str(python), str(tmp_path / "keras_api.py"), str(SAMPLES), str(tmp_path)],
                             env=env, capture_output=True, text=True, cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout.splitlines()[-1])
    assert result["before"] == [] and result["keras"].startswith("3.")

    in_tree("convert", tmp_path / "saved.keras", "-o", tmp_path / "tree.tflite", cwd=tmp_path)
    assert (tmp_path / "object.tflite").read_bytes() == (tmp_path / "tree.tflite").read_bytes()
    in_tree("convert", tmp_path / "saved.keras", "-o", tmp_path / "tree_int8.tflite", "--quantize", "int8",
            "--calibration", tmp_path / "x.npy", cwd=tmp_path)
    assert (tmp_path / "object_int8.tflite").read_bytes() == (tmp_path / "tree_int8.tflite").read_bytes()
    assert result["int8"]["summary"].startswith(f"wrote {tmp_path}/object_int8.tflite: ")

    inspected = json.loads(in_tree("inspect", tmp_path / "saved.keras", "--json", cwd=tmp_path).stdout)
    assert {k: v for k, v in result["inspect"].items() if k not in ("file", "size_bytes")} == \
        {k: v for k, v in inspected.items() if k not in ("file", "size_bytes")}
    pruned = json.loads(in_tree("prune", tmp_path / "saved.h5", "-o", tmp_path / "tree_pruned.h5", "--json",
                                "--sparsity", "0.5", cwd=tmp_path).stdout)
    assert result["prune"] == pruned and pruned["zeros_after"] > pruned["zeros_before"]
    assert_same_hdf5(tmp_path / "object_pruned.h5", tmp_path / "tree_pruned.h5")
    # The temporary file's path is replaced by the model's name in messages.
    assert result["error"] == ("<Sequential 'digits_cnn'>: --input-shape nope=…: the model has no input 'nope' "
                               "(its inputs: input_layer [?,8,8,1])"), result["error"]

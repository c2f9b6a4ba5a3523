"""keraslite from Python: the bundled native binary behind a few functions.

Each function runs the ``keraslite`` binary shipped in this package (no TensorFlow, no Keras import)
and returns what its ``--json`` output holds, as a dict (keys: docs/json.md in the source tree). A
model is a path (``.h5``, ``.keras``, ``.tflite``) or an in-memory Keras model, which is saved to a
temporary ``.keras`` (or ``.h5``) file first with its own ``save``. Calibration samples are a NumPy
array (one-input model), a dict of arrays by input name, or a path to a ``.npy``/``.npz``/directory.

Errors raise :class:`Error` carrying the CLI's one-line message (without its ``keraslite:`` prefix).

    >>> import keraslite
    >>> keraslite.inspect("model.h5")["params"]
    >>> keraslite.convert(model, "model.tflite", quantize="int8", calibration=x_train[:200])
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings

__all__ = ["Error", "KerasliteWarning", "binary", "cli", "convert", "diff", "inspect", "prune", "sparsity"]
__version__ = "0.1.0"


class Error(Exception):
    """A keraslite command failed: ``message`` is its one-line error, ``returncode`` its exit status
    (2 bad input, 64 bad options)."""

    def __init__(self, message: str, returncode: int, args: list[str]):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.command = args


class KerasliteWarning(UserWarning):
    """A warning the command printed on stderr while succeeding (e.g. an op left float32 in int8)."""


def binary() -> str:
    """The path of the bundled ``keraslite`` executable."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "keraslite")


def _main() -> None:
    """The ``keraslite`` console script: replaces this Python process with the native binary."""
    path = binary()
    os.execv(path, ["keraslite", *sys.argv[1:]])


def cli(*args, ok_codes=(0,)) -> str:
    """Runs ``keraslite ARGS…`` and returns its stdout; raises :class:`Error` on another exit status."""
    return _run([str(a) for a in args], ok_codes)[1]


def _run(args: list[str], ok_codes=(0,), renames: dict[str, str] | None = None) -> tuple[int, str]:
    process = subprocess.run([binary(), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    stderr = process.stderr
    for temporary, shown in (renames or {}).items():
        stderr = stderr.replace(temporary, shown)
    if process.returncode not in ok_codes:
        lines = [line for line in stderr.splitlines() if line.strip()]
        # The CLI's error is its last stderr line ("keraslite: <file>: <problem>"); warnings come before it.
        line = lines[-1] if lines else f"exit status {process.returncode}"
        message = line[len("keraslite: "):] if line.startswith("keraslite: ") else line
        raise Error(message, process.returncode, ["keraslite", *args])
    for line in stderr.splitlines():
        if line.strip():
            warnings.warn(line, KerasliteWarning, stacklevel=3)
    return process.returncode, process.stdout


def _json(args: list[str], ok_codes=(0,), renames=None) -> dict:
    return json.loads(_run(args, ok_codes, renames)[1])


def _is_path(value) -> bool:
    return isinstance(value, (str, bytes, os.PathLike))


class _Inputs:
    """Model objects and arrays turned into files in one temporary directory for one command."""

    def __init__(self):
        self.directory: tempfile.TemporaryDirectory | None = None
        self.renames: dict[str, str] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.directory is not None:
            self.directory.cleanup()

    def _path(self, name: str) -> str:
        if self.directory is None:
            self.directory = tempfile.TemporaryDirectory(prefix="keraslite-")
        return os.path.join(self.directory.name, name)

    def model(self, model, role: str = "model", suffix: str = ".keras") -> str:
        """A path as a string; a Keras model (anything with ``save``, Keras 2 or 3) saved to a file first."""
        if _is_path(model):
            return os.fsdecode(model)
        if not hasattr(model, "save"):
            raise TypeError(f"{role}: expected a path or a Keras model, got {type(model).__name__}")
        path = self._path(role + suffix)
        model.save(path)
        self.renames[path] = f"<{type(model).__name__} {getattr(model, 'name', role)!r}>"
        return path

    def samples(self, samples, role: str) -> str:
        """A path as a string; a NumPy array saved as ``.npy``, a dict of arrays as ``.npz``."""
        if _is_path(samples):
            return os.fsdecode(samples)
        import numpy  # only when arrays are passed: the caller has NumPy then

        if isinstance(samples, dict):
            path = self._path(role + ".npz")
            numpy.savez(path, **{name: numpy.ascontiguousarray(value) for name, value in samples.items()})
        else:
            path = self._path(role + ".npy")
            numpy.save(path, numpy.ascontiguousarray(samples))
        return path

    def plan(self, plan) -> str:
        """A path as a string; a dict ``{layer: sparsity}`` (or ``{"layers": {...}}``) written as JSON."""
        if _is_path(plan):
            return os.fsdecode(plan)
        path = self._path("plan.json")
        with open(path, "w") as file:
            json.dump(plan if "layers" in plan else {"layers": plan}, file)
        return path


def _options(**options) -> list[str]:
    """Keyword options as CLI flags: ``snake_case=value`` → ``--snake-case value``; True → a bare flag;
    None/False → nothing; a list → the flag followed by every element."""
    args: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            if value:
                args += [flag, *map(str, value)]
        else:
            args += [flag, str(value)]
    return args


def inspect(model, *, metadata_only: bool = False, html=None, config=None) -> dict:
    """``keraslite inspect MODEL --json``: layers, shapes, parameters, weight bytes, zeros (or a .tflite's operators)."""
    with _Inputs() as inputs:
        path = inputs.model(model)
        return _json(["inspect", path, "--json", *_options(metadata_only=metadata_only, html=html, config=config)],
                     renames=inputs.renames)


def sparsity(model, threshold: float | None = None, *, config=None) -> dict:
    """``keraslite sparsity MODEL --json``: zeros and near-zeros per weight tensor, magnitude histogram, zlib sizes."""
    with _Inputs() as inputs:
        path = inputs.model(model)
        return _json(["sparsity", path, "--json", *_options(threshold=threshold, config=config)], renames=inputs.renames)


def diff(a, b, tolerance: float | None = None, *, config_a=None, config_b=None) -> dict:
    """``keraslite diff A B --json``: what changed between two model files (``result["equal"]``)."""
    with _Inputs() as inputs:
        path_a, path_b = inputs.model(a, "a"), inputs.model(b, "b")
        options = _options(tolerance=tolerance, config_a=config_a, config_b=config_b)
        return _json(["diff", path_a, path_b, "--json", *options], ok_codes=(0, 1), renames=inputs.renames)


def convert(model, out, quantize: str | None = None, calibration=None, *, calibration_method: str | None = None,
            percentile: float | None = None, io: str | None = None, batch: int | None = None,
            input_shape: dict | None = None, min_elements: int | None = None, keep_float=None,
            prune: float | None = None, prune_scope: str | None = None, prune_pattern: str | None = None,
            channels: float | None = None, criterion: str | None = None, round_to: int | None = None,
            sparse: bool = False, report: bool = False, report_samples: int | None = None, config=None) -> dict:
    """``keraslite convert MODEL -o OUT``: a ``.tflite`` file (float32, float16, dynamic or int8).

    ``input_shape`` maps an input name to its sizes after the batch (``{"x": (6, 4)}``). Returns
    ``{"output": OUT, "summary": the "wrote …" line, "report": the int8 error report or None}``
    (``report=True`` needs ``quantize="int8"``).
    """
    with _Inputs() as inputs:
        path = inputs.model(model)
        shapes = [f"{name}={','.join(map(str, sizes))}" for name, sizes in (input_shape or {}).items()]
        args = ["convert", path, "-o", os.fsdecode(out), *_options(
            quantize=quantize,
            calibration=None if calibration is None else inputs.samples(calibration, "calibration"),
            calibration_method=calibration_method, percentile=percentile, io=io, batch=batch,
            min_elements=min_elements, keep_float=keep_float, prune=prune, prune_scope=prune_scope,
            prune_pattern=prune_pattern, channels=channels, criterion=criterion, round_to=round_to,
            sparse=sparse, report=report, json=report, report_samples=report_samples, config=config)]
        for shape in shapes:
            args += ["--input-shape", shape]
        stdout = _run(args, renames=inputs.renames)[1]
        if report:
            return {"output": os.fsdecode(out), "summary": None, "report": json.loads(stdout)}
        return {"output": os.fsdecode(out), "summary": stdout.strip() or None, "report": None}


def prune(model, out, sparsity: float | None = None, *, threshold: float | None = None, channels: float | None = None,
          criterion: str | None = None, round_to: int | None = None, scope: str | None = None,
          pattern: str | None = None, exclude=None, min_params: int | None = None, skip_first_conv: bool = False,
          skip_output_layer: bool = False, plan=None, config=None) -> dict:
    """``keraslite prune MODEL -o OUT --json``: magnitude (``sparsity``, ``threshold``, ``pattern="2:4"``, ``plan``)
    or structured (``channels``) pruning; OUT is the same kind of Keras file as the model, or a ``.tflite``.

    A model object is saved as ``.h5`` when OUT ends in ``.h5``, else as ``.keras``. ``plan`` is a path
    or a dict ``{layer: sparsity}``. Returns the report (docs/json.md).
    """
    out = os.fsdecode(out)
    with _Inputs() as inputs:
        path = inputs.model(model, suffix=".h5" if out.endswith((".h5", ".hdf5")) else ".keras")
        args = ["prune", path, "-o", out, "--json", *_options(
            sparsity=sparsity, threshold=threshold, channels=channels, criterion=criterion, round_to=round_to,
            scope=scope, pattern=pattern, exclude=exclude, min_params=min_params, skip_first_conv=skip_first_conv,
            skip_output_layer=skip_output_layer, plan=None if plan is None else inputs.plan(plan), config=config)]
        return _json(args, renames=inputs.renames)

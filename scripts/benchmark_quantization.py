"""Benchmark: `keraslite convert --quantize none|float16|dynamic|int8` versus TensorFlow's
TFLiteConverter in the same mode — file size, conversion time, LiteRT latency, accuracy (issue 5, part 7).

Run from the repository root:  make benchmark-quantize   (or  .venv/bin/python scripts/benchmark_quantization.py)
Environment: REPEATS (keraslite conversions per model and mode, and TensorFlow's int8 conversions;
default 3), TF_REPEATS (TensorFlow's float/float16/dynamic conversions, 40–90 s each on the seed heads
where the speed-up is far from any target; default 2), INVOKES (timed LiteRT rounds per file, default
30; 10× as many for files that run in under 2 ms), MODELS (comma-separated subset of the model names
below), KERASLITE_BIN (default .build/release/keraslite; build it first with
`swift build -c release --product keraslite`). 26–34 minutes on the 2-core machine of docs/benchmarks.md
while it was shared (load average 3–5); ResNet50's int8 conversions take a third of that.

Models (all written by Keras 2 = tf_keras, so TensorFlow's converter gets the same Keras model):
  * ResNet50, MobileNetV2: the seed heads as the conformance suite builds them
    (Tests/conformance/convert_support.py `build-seed --keras 2`: keras.applications, weights=None,
    224×224×3, Flatten → Dense(64, relu) → Dropout → Dense(1, sigmoid), BatchNormalization statistics
    randomized around the real activation statistics, head scaled to logits of ±1.5), built once into
    build-bench/quantize/seed_k2/ with that builder. Calibration: 100 random images, pixel values
    uniform in [0, 255) as the seed tests use; checked on 8 other such images against Keras' float output.
  * digits_cnn_k2, digits_mlp_k2 (Samples/, trained on sklearn's digits). Calibration: the first 200
    images of the training split (images/16, train_test_split(test_size=0.2, random_state=0)) as in
    Tests/conformance/test_quantize_int8.py; accuracy on the 360 test images (Samples/digits_test_*.npy).

For each model and mode, REPEATS (TensorFlow non-int8: TF_REPEATS) times, keraslite and TensorFlow
alternating, each as a fresh process:
  * keraslite: `keraslite convert model.h5 -o f.tflite --quantize MODE [--calibration samples.npy]`
    (the whole CLI process: loading, passes, calibration on the reference interpreter, writing);
  * TensorFlow: a Python process that imports TensorFlow + tf_keras, loads the .h5, converts
    (float16: optimizations DEFAULT + supported_types float16; dynamic: optimizations DEFAULT; int8:
    DEFAULT + representative_dataset over the same samples + TFLITE_BUILTINS_INT8, float32 I/O) and
    writes the file — interpreter start-up and the TensorFlow import included;
  median wall time and peak RSS (GNU time's %M of the process, max over the runs).
Then one LiteRT process per model (ai_edge_litert Interpreter, num_threads=1, default delegates,
i.e. XNNPACK as LiteRT applies it): all 8 files of the model loaded, accuracy / max |LiteRT − Keras|
one sample at a time, 3 warm-up invokes each, then INVOKES rounds that time every file once, in an
order rotated each round (one invoke, or for models faster than 2 ms a block of back-to-back invokes
lasting about 2 ms, divided by its length): median per file, and medians of the per-round ratios
keraslite / TensorFlow (same mode) and mode / float (same converter), paired under the same load.
Prints markdown tables (for docs/benchmarks.md) and writes build-bench/quantize/results.json.
"""
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "conformance"))
import convert_support as cs  # noqa: E402  (imports numpy only; the seed builder runs in a subprocess)

BUILD = ROOT / "build-bench"
WORK = BUILD / "quantize"
SAMPLES = ROOT / "Samples"
BINARY = os.environ.get("KERASLITE_BIN", str(ROOT / ".build" / "release" / "keraslite"))
PYTHON = sys.executable
REPEATS = int(os.environ.get("REPEATS", "3"))
TF_REPEATS = int(os.environ.get("TF_REPEATS", "2"))
INVOKES = int(os.environ.get("INVOKES", "30"))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
MODES = ["none", "float16", "dynamic", "int8"]
SEED_FAMILIES = ["ResNet50", "MobileNetV2"]
SEED_CALIBRATION_SAMPLES = 100
SEED_EVAL_SAMPLES = 8

TF_CONVERT = r"""
import sys
import numpy as np, tensorflow as tf, tf_keras as keras
h5, mode, calibration, out = sys.argv[1:5]
model = keras.models.load_model(h5, compile=False)
converter = tf.lite.TFLiteConverter.from_keras_model(model)
if mode != "none":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
if mode == "float16":
    converter.target_spec.supported_types = [tf.float16]
if mode == "int8":
    samples = np.load(calibration)
    converter.representative_dataset = lambda: ([samples[i:i + 1]] for i in range(len(samples)))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
with open(out, "wb") as f:
    f.write(converter.convert())
"""

KERAS_REFERENCE = r"""
import sys
import numpy as np, tf_keras as keras
model = keras.models.load_model(sys.argv[1], compile=False)
x = np.load(sys.argv[2])
np.save(sys.argv[3], np.asarray(model.predict(x, batch_size=4, verbose=0), dtype=np.float32))
"""

EVALUATE = r"""
import json, statistics, sys, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter
job = json.loads(sys.argv[1])
x, y = np.load(job["x"]), np.load(job["y"])
result = {}

def load(path):
    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    return it, it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]

def predict(loaded, sample):
    it, i, o = loaded
    it.set_tensor(i, np.ascontiguousarray(sample[None], dtype=np.float32))
    it.invoke()
    return np.array(it.get_tensor(o))[0]

def timed(loaded, inner=1):
    # Seconds per invoke over `inner` back-to-back invokes (tiny models: the timer and Python's
    # call overhead would otherwise be a large part of one invoke).
    invoke = loaded[0].invoke
    start = time.perf_counter()
    for _ in range(inner):
        invoke()
    return (time.perf_counter() - start) / inner

loaded = {}
for mode, files in job["files"].items():
    for tag, path in files.items():
        key = f"{mode}/{tag}"
        try:
            loaded[key] = load(path)
        except Exception as error:  # LiteRT refused the file: report it, go on
            result[key] = {"error": f"{type(error).__name__}: {error}"}
            continue
        outputs = np.stack([predict(loaded[key], sample) for sample in x])
        entry = result.setdefault(key, {})
        if job["kind"] == "digits":
            entry["accuracy"] = float(np.mean(outputs.argmax(-1) == y))
            entry["correct"] = int(np.sum(outputs.argmax(-1) == y))
        else:
            entry["max_diff"] = float(np.max(np.abs(outputs.astype(np.float64) - y.reshape(outputs.shape))))
        predict(loaded[key], x[0])
        for _ in range(2):
            loaded[key][0].invoke()

# Every file of the model is timed in every round, in an order rotated each round, so that keraslite
# vs TensorFlow and int8 vs float are compared within the same rounds (paired under the same load).
keys = list(loaded)
if keys:
    slowest = max(min(timed(loaded[k]) for _ in range(3)) for k in keys)
    inner = max(1, min(1000, int(0.002 / max(slowest, 1e-7))))
    rounds = job["invokes"] * (10 if inner > 1 else 1)  # fast files: cheap rounds, more of them against noise
    times = {k: [] for k in keys}
    for round_ in range(rounds):
        shift = round_ % len(keys)
        for k in keys[shift:] + keys[:shift]:
            times[k].append(timed(loaded[k], inner))
    for k in keys:
        result[k].update(ms=statistics.median(times[k]) * 1000, ms_min=min(times[k]) * 1000, inner=inner, rounds=rounds)

    def paired(a, b):
        return statistics.median(p / q for p, q in zip(times[a], times[b]))
    for mode in job["files"]:
        if f"{mode}/ours" in times and f"{mode}/tf" in times:
            result[f"{mode}/ours"]["ratio_to_tf"] = paired(f"{mode}/ours", f"{mode}/tf")
        for tag in ("ours", "tf"):
            if f"{mode}/{tag}" in times and f"none/{tag}" in times:
                result[f"{mode}/{tag}"]["ratio_to_float"] = paired(f"{mode}/{tag}", f"none/{tag}")
print("RESULT " + json.dumps(result))
"""


TIME = "/usr/bin/time"


def run(command):
    """Runs command once as a child process; returns (seconds, peak RSS MB, exit code, stdout, stderr).

    The peak RSS comes from GNU time (`/usr/bin/time -f %M`) when installed: a child forked from this
    Python process starts with this process' resident pages (numpy, sklearn, the calibration arrays),
    and wait4's ru_maxrss would report at least that much for every command."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *command] if os.access(TIME, os.X_OK) else command
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, env=ENV, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        peak = usage.ru_maxrss / 1024
        if wrapped is not command:
            try:
                peak = int(rss.read().strip().splitlines()[-1]) / 1024
            except (ValueError, IndexError):
                pass
        return (elapsed, peak, os.waitstatus_to_exitcode(status),
                out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def checked(command, what):
    seconds, peak, code, out, err = run(command)
    if code != 0:
        raise RuntimeError(f"{what} failed ({code}): {' '.join(map(str, command))}\n{err[-3000:]}")
    return out


def progress(message):
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Models, calibration and evaluation data
# ----------------------------------------------------------------------------------------------

def digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    return train_test_split(x, digits.target.astype(np.int64), test_size=0.2, random_state=0)


def prepare():
    """Returns the list of models: dicts with name, kind, h5, calibration, x, y (evaluation data)."""
    WORK.mkdir(parents=True, exist_ok=True)
    wanted = [m.strip() for m in os.environ.get("MODELS", "").split(",") if m.strip()]
    models = []

    seed_dir = WORK / "seed_k2"
    seeds = [f for f in SEED_FAMILIES if not wanted or f in wanted]
    missing = [f for f in seeds if not (seed_dir / f / "model.h5").is_file()]
    if missing:
        progress(f"building the seed heads {missing} with convert_support.py build-seed --keras 2 ...")
        checked([PYTHON, str(ROOT / "Tests" / "conformance" / "convert_support.py"), "build-seed", "--keras", "2",
                 "--out", str(seed_dir), "--only", *missing], "building the seed models")
    if seeds:
        calibration = WORK / "seed_calibration.npy"
        shape = (224, 224, 3)
        np.save(calibration, cs.random_inputs([shape], SEED_CALIBRATION_SAMPLES, 2024, kind="uniform")[0]
                * np.float32(cs.SEED_PIXEL_RANGE))
        eval_x = WORK / "seed_eval_x.npy"
        np.save(eval_x, cs.random_inputs([shape], SEED_EVAL_SAMPLES, 7, kind="uniform")[0] * np.float32(cs.SEED_PIXEL_RANGE))
        for family in seeds:
            h5 = seed_dir / family / "model.h5"
            reference = WORK / f"seed_eval_keras_{family}.npy"
            progress(f"{family}: Keras (tf_keras) float outputs on {SEED_EVAL_SAMPLES} evaluation images ...")
            checked([PYTHON, "-c", KERAS_REFERENCE, str(h5), str(eval_x), str(reference)], f"{family}: Keras predict")
            models.append({"name": family, "kind": "seed", "h5": h5, "calibration": calibration,
                           "x": eval_x, "y": reference, "invokes": INVOKES})

    digits = [n for n in ("digits_cnn_k2", "digits_mlp_k2") if not wanted or n in wanted]
    if digits:
        x_train, x_test, _, y_test = digits_split()
        if not np.array_equal(x_test, np.load(SAMPLES / "digits_test_x.npy")) or \
                not np.array_equal(y_test, np.load(SAMPLES / "digits_test_y.npy")):
            raise SystemExit("Samples/digits_test_*.npy are not the sklearn test split the samples were trained on")
        for name in digits:
            flat = "mlp" in name
            calibration, eval_x = WORK / f"{name}_calibration.npy", WORK / f"{name}_test_x.npy"
            np.save(calibration, x_train[:200].reshape(200, 64) if flat else x_train[:200])
            np.save(eval_x, x_test.reshape(len(x_test), 64) if flat else x_test)
            models.append({"name": name, "kind": "digits", "h5": SAMPLES / f"{name}.h5", "calibration": calibration,
                           "x": eval_x, "y": SAMPLES / "digits_test_y.npy", "invokes": INVOKES})
    if not models:
        raise SystemExit(f"MODELS={os.environ.get('MODELS')!r} matches none of {SEED_FAMILIES + ['digits_cnn_k2', 'digits_mlp_k2']}")
    return models


# ----------------------------------------------------------------------------------------------
# Conversion, inspection, evaluation
# ----------------------------------------------------------------------------------------------

def convert_commands(model, mode, ours, theirs):
    keraslite = [BINARY, "convert", str(model["h5"]), "-o", str(ours), "--quantize", mode]
    if mode == "int8":
        keraslite += ["--calibration", str(model["calibration"])]
    tensorflow = [PYTHON, "-c", TF_CONVERT, str(model["h5"]), mode, str(model["calibration"]), str(theirs)]
    return {"ours": keraslite, "tf": tensorflow}


def op_counts(path):
    try:
        return json.loads(checked([BINARY, "inspect", str(path), "--json"], "keraslite inspect"))["op_counts"]
    except (RuntimeError, ValueError, KeyError) as error:
        return {"error": str(error)[:300]}


def convert_all(model, results, problems):
    out_dir = WORK / "out"
    out_dir.mkdir(exist_ok=True)
    for mode in MODES:
        paths = {"ours": out_dir / f"{model['name']}.{mode}.keraslite.tflite",
                 "tf": out_dir / f"{model['name']}.{mode}.tf.tflite"}
        for stale in paths.values():
            stale.unlink(missing_ok=True)
        commands = convert_commands(model, mode, paths["ours"], paths["tf"])
        entry = results.setdefault(model["name"], {}).setdefault(mode, {})
        for tag in ("ours", "tf"):
            entry[tag] = {"times": [], "rss": []}
        failed = set()
        repeats = {"ours": REPEATS, "tf": REPEATS if mode == "int8" else TF_REPEATS}
        for r in range(max(repeats.values())):
            for tag in ("ours", "tf"):
                if tag in failed or r >= repeats[tag]:
                    continue
                progress(f"{model['name']} {mode}: {'keraslite' if tag == 'ours' else 'TensorFlow'} convert "
                         f"({r + 1}/{repeats[tag]}) ...")
                seconds, peak, code, out, err = run(commands[tag])
                if code != 0:
                    failed.add(tag)
                    message = (err.strip().splitlines() or ["(no message)"])[-1] if tag == "ours" else err.strip()[-1500:]
                    entry[tag]["error"] = message
                    command = " ".join(str(c) for c in commands[tag]) if tag == "ours" else f"TensorFlow convert {mode}"
                    problems.append(f"{model['name']} {mode}: `{command}` failed ({code}): {message}")
                    continue
                entry[tag]["times"].append(seconds)
                entry[tag]["rss"].append(peak)
                if tag == "ours":
                    entry[tag]["summary"] = out.strip()
                    entry[tag]["warnings"] = [line for line in err.splitlines() if "warning" in line.lower()]
        for tag in ("ours", "tf"):
            e = entry[tag]
            if e["times"] and paths[tag].is_file():
                e["seconds"], e["peak_mb"] = statistics.median(e["times"]), max(e["rss"])
                e["path"], e["bytes"] = str(paths[tag]), paths[tag].stat().st_size
                e["ops"] = op_counts(paths[tag])


def evaluate(model, results, problems):
    files = {}
    for mode in MODES:
        entry = results[model["name"]][mode]
        present = {tag: entry[tag]["path"] for tag in ("ours", "tf") if "path" in entry[tag]}
        if present:
            files[mode] = present
    job = {"files": files, "kind": model["kind"], "x": str(model["x"]), "y": str(model["y"]), "invokes": model["invokes"]}
    progress(f"{model['name']}: LiteRT accuracy and latency ({model['invokes']} rounds over all files) ...")
    seconds, _, code, out, err = run([PYTHON, "-c", EVALUATE, json.dumps(job)])
    if code != 0 or "RESULT " not in out:
        problems.append(f"{model['name']}: LiteRT evaluation failed ({code}): {err.strip()[-2000:]}")
        return
    for key, value in json.loads(out.split("RESULT ", 1)[1].splitlines()[0]).items():
        mode, tag = key.split("/")
        results[model["name"]][mode][tag].update(value)
        if "error" in value:
            problems.append(f"{model['name']} {mode}: LiteRT rejected the {'keraslite' if tag == 'ours' else 'TensorFlow'} "
                            f"file: {value['error']}")


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def versions():
    code = ("import tensorflow as tf, tf_keras, ai_edge_litert, numpy; from importlib.metadata import version; "
            "print(tf.__version__, tf_keras.__version__, version('ai-edge-litert'), numpy.__version__)")
    try:
        tf_v, keras_v, litert_v, np_v = checked([PYTHON, "-c", code], "versions").split()[-4:]
    except (RuntimeError, ValueError):
        tf_v = keras_v = litert_v = np_v = "?"
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    binary = pathlib.Path(BINARY)
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(binary.stat().st_mtime))
    return (f"TensorFlow {tf_v}, tf_keras {keras_v}, ai-edge-litert {litert_v}, numpy {np_v}, "
            f"Python {platform.python_version()}, {swift[0].strip() if swift else 'swift ?'}; "
            f"keraslite binary {BINARY} ({built})")


def fmt(value, spec, missing="n/a"):
    return missing if value is None else format(value, spec)


def ms(value):
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}" if value >= 0.1 else f"{value:.4f}"


def op_difference(ours, theirs):
    """'TF +SHAPE 1, …; keraslite +PAD 2' style summary of differing op counts."""
    if "error" in ours or "error" in theirs:
        return "?"
    more_tf = [f"{op} {theirs.get(op, 0) - ours.get(op, 0)}" for op in sorted(set(ours) | set(theirs))
               if theirs.get(op, 0) > ours.get(op, 0)]
    more_ours = [f"{op} {ours.get(op, 0) - theirs.get(op, 0)}" for op in sorted(set(ours) | set(theirs))
                 if ours.get(op, 0) > theirs.get(op, 0)]
    parts = []
    if more_tf:
        parts.append("TF has more: " + ", ".join(more_tf))
    if more_ours:
        parts.append("keraslite has more: " + ", ".join(more_ours))
    return "; ".join(parts) or "same op counts"


def report(models, results, problems, started, load_before):
    print()
    print(f"{REPEATS} conversions per model and mode by keraslite and for int8 by TensorFlow, {TF_REPEATS} for "
          f"TensorFlow's other modes (median; peak RSS = max); LiteRT: {INVOKES} timed rounds per file "
          f"({10 * INVOKES} of ~2 ms blocks for fast files) after 3 warm-ups, every file of a model in every round; machine: {platform.machine()}, {os.cpu_count()} cores; "
          f"total run {time.perf_counter() - started:.0f} s; 1-min load average {load_before:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end")
    print(versions())
    print()
    print("Size and conversion time (whole processes; TensorFlow's includes Python start-up and importing TensorFlow):")
    print()
    print("| model | mode | keraslite bytes | % of float | TF bytes | % of keraslite float | keraslite time | TF time "
          "| TF / keraslite time | keraslite peak RSS | TF peak RSS |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in models:
        name = model["name"]
        base = results[name]["none"]["ours"].get("bytes")
        for mode in MODES:
            ours, tf = results[name][mode]["ours"], results[name][mode]["tf"]
            pct = (lambda b: f"{100 * b / base:.1f}%" if b is not None and base else "n/a")
            speed = f"{tf['seconds'] / ours['seconds']:.1f}×" if "seconds" in ours and "seconds" in tf else "n/a"
            print(f"| {name} | {mode} | {fmt(ours.get('bytes'), ',')} | {pct(ours.get('bytes'))} "
                  f"| {fmt(tf.get('bytes'), ',')} | {pct(tf.get('bytes'))} "
                  f"| {fmt(ours.get('seconds'), '.2f')} s | {fmt(tf.get('seconds'), '.1f')} s | {speed} "
                  f"| {fmt(ours.get('peak_mb'), '.0f')} MB | {fmt(tf.get('peak_mb'), '.0f')} MB |")
    print()
    print("LiteRT (num_threads=1, default delegates) latency, median ms per invoke, and quality "
          "(digits: accuracy on the 360 test images; seed heads: max |LiteRT − Keras float| on 8 images):")
    print()
    print("| model | mode | keraslite ms | TF ms | keraslite / TF | keraslite vs own float | TF vs own float "
          "| keraslite quality | TF quality |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for model in models:
        name = model["name"]
        for mode in MODES:
            ours, tf = results[name][mode]["ours"], results[name][mode]["tf"]

            def quality(e):
                if "accuracy" in e:
                    return f"{100 * e['accuracy']:.1f}% ({e['correct']}/360)"
                if "max_diff" in e:
                    return f"{e['max_diff']:.2e}"
                return "n/a"
            print(f"| {name} | {mode} | {ms(ours.get('ms'))} | {ms(tf.get('ms'))} "
                  f"| {fmt(ours.get('ratio_to_tf'), '.2f')} | {fmt(ours.get('ratio_to_float'), '.2f')} "
                  f"| {fmt(tf.get('ratio_to_float'), '.2f')} | {quality(ours)} | {quality(tf)} |")
    print()
    print("Op differences (keraslite inspect op counts, keraslite's file vs TensorFlow's):")
    for model in models:
        for mode in MODES:
            ours, tf = results[model["name"]][mode]["ours"], results[model["name"]][mode]["tf"]
            if "ops" in ours and "ops" in tf:
                print(f"- {model['name']} {mode}: {op_difference(ours['ops'], tf['ops'])}")
    print()
    print("Individual conversion times (s):")
    for model in models:
        for mode in MODES:
            e = results[model["name"]][mode]
            print(f"- {model['name']} {mode}: keraslite {', '.join(f'{t:.2f}' for t in e['ours']['times'])}; "
                  f"TF {', '.join(f'{t:.1f}' for t in e['tf']['times'])}"
                  + (f"; keraslite says: {e['ours']['summary']}" if mode == "int8" and e['ours'].get('summary') else ""))

    print()
    print("Targets:")
    slower, close = [], []
    for model in models:
        for mode in MODES:
            ratio = results[model["name"]][mode]["ours"].get("ratio_to_tf")
            if ratio is not None and round(ratio, 2) > 1.05:
                slower.append(f"{model['name']} {mode} {ratio:.2f}×")
            elif ratio is not None and round(ratio, 2) > 1.0:
                close.append(f"{model['name']} {mode} {ratio:.2f}×")
    print("- every keraslite file no slower in LiteRT than TensorFlow's of the same mode: "
          + ("met" if not slower and not close else
             ("slower by more than 5%: " + ", ".join(slower) if slower else "nothing slower by more than 5%")
             + ("; slower by at most 5%: " + ", ".join(close) if close else "")))
    if "ResNet50" in results:
        r = results["ResNet50"]
        f, q, paired = r["none"]["ours"].get("ms"), r["int8"]["ours"].get("ms"), r["int8"]["ours"].get("ratio_to_float")
        if f and q and paired:
            print(f"- ResNet50 int8 faster than float (keraslite files): {'met' if paired < 1 else 'MISSED'} "
                  f"(medians {q:.1f} ms vs {f:.1f} ms; median per-round int8/float {paired:.2f})")
    speedups = []
    for model in models:
        e = results[model["name"]]["int8"]
        if "seconds" in e["ours"] and "seconds" in e["tf"]:
            speedups.append((model["name"], e["tf"]["seconds"] / e["ours"]["seconds"]))
    if speedups:
        print("- int8 conversion with calibration ≥ 10× faster than TensorFlow end to end: "
              + ", ".join(f"{n} {s:.1f}× ({'met' if s >= 10 else 'missed'})" for n, s in speedups))
    for problem in problems:
        print(f"PROBLEM: {problem}")


def main():
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"{BINARY} not found; run `swift build -c release --product keraslite` first")
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    models = prepare()
    results, problems = {}, []
    for model in models:
        convert_all(model, results, problems)
        evaluate(model, results, problems)
    report(models, results, problems, started, load_before)
    summary = {"repeats": REPEATS, "tf_repeats": TF_REPEATS, "invokes": INVOKES, "cores": os.cpu_count(), "versions": versions(),
               "load_average": [load_before, os.getloadavg()[0]], "seconds": time.perf_counter() - started,
               "models": {m["name"]: {"h5": str(m["h5"]), "h5_bytes": pathlib.Path(m["h5"]).stat().st_size,
                                      "calibration": str(m["calibration"])} for m in models},
               "results": results, "problems": problems}
    (WORK / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"\nJSON: {WORK / 'results.json'}")


if __name__ == "__main__":
    main()

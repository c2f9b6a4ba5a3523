"""Benchmark: keraslite `inspect` and `diff` on ResNet50-size `.tflite` files (issue 4).

Run from the repository root:  make benchmark-tflite   (after make benchmark-convert, which leaves
build-bench/convert_resnet50/{ours,tf}.tflite and build-bench/seed_resnet50_bnrand.h5).

Times, in one run on the same machine (median wall time of REPEATS runs, peak RSS = max ru_maxrss):
  * keraslite inspect ours.tflite              (text report)
  * keraslite inspect tf.tflite --json         (TensorFlow's file)
  * keraslite diff ours.tflite tf.tflite       (two 139 MB files: align, pair and compare every weight)
  * keraslite diff seed.h5 ours.tflite         (also lowers the Keras file in memory first)
  * a Python baseline: LiteRT's interpreter loads both .tflite files and numpy reads every constant
    tensor of each — the least any Python diff must do (no matching, no statistics, no report).
Paste the table into docs/benchmarks.md.
"""
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "build-bench"
BINARY = os.environ.get("KERASLITE_BIN", str(ROOT / ".build" / "release" / "keraslite"))
REPEATS = int(os.environ.get("REPEATS", "5"))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")

BASELINE = r"""
import sys, numpy as np
from ai_edge_litert.interpreter import Interpreter
total = 0
for path in sys.argv[1:]:
    it = Interpreter(model_path=path)
    for detail in it.get_tensor_details():
        try:
            values = it.get_tensor(detail["index"])
        except ValueError:
            continue
        total += int(np.count_nonzero(values))
print(total)
"""


def run(command):
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # diff exits 1 when the files differ
        raise SystemExit(f"{command} failed ({code}): {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def measure(name, command):
    runs = [run(command) for _ in range(REPEATS)]
    return name, statistics.median(t for t, _ in runs), max(m for _, m in runs)


def main():
    work = BUILD / "convert_resnet50"
    ours, theirs, keras = work / "ours.tflite", work / "tf.tflite", BUILD / "seed_resnet50_bnrand.h5"
    for path in (ours, theirs, keras):
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `make benchmark-convert` first")
    rows = [
        measure("keraslite inspect ours.tflite", [BINARY, "inspect", str(ours)]),
        measure("keraslite inspect tf.tflite --json", [BINARY, "inspect", str(theirs), "--json"]),
        measure("keraslite diff ours.tflite tf.tflite", [BINARY, "diff", str(ours), str(theirs)]),
        measure("keraslite diff seed.h5 ours.tflite", [BINARY, "diff", str(keras), str(ours)]),
        measure("LiteRT + numpy: load both, read every constant", [sys.executable, "-c", BASELINE, str(ours), str(theirs)]),
    ]
    baseline = rows[-1][1]
    print(f"files: {ours.name} {ours.stat().st_size / 2**20:.1f} MB, {theirs.name} {theirs.stat().st_size / 2**20:.1f} MB, "
          f"{keras.name} {keras.stat().st_size / 2**20:.1f} MB; {REPEATS} runs each; {os.cpu_count()} cores")
    print()
    print("| command | median wall time | peak RSS | vs baseline |")
    print("|---|---:|---:|---:|")
    for name, seconds, peak in rows:
        relation = "baseline" if name.startswith("LiteRT") else (
            f"{baseline / seconds:.1f}× faster" if seconds <= baseline else f"{seconds / baseline:.1f}× slower")
        print(f"| {name} | {seconds:.3f} s | {peak:.0f} MB | {relation} |")


if __name__ == "__main__":
    main()

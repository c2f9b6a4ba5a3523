"""`keraslite convert --prune S --sparse` vs the dense twin: file sizes (raw and gzip -9) and LiteRT
latency (docs/benchmarks.md, issue 13).

The model is built to meet XNNPACK's sparse-inference conditions (its README, "Sparse Inference",
and xnn_check_nchw_compatibility in XNNPACK's subgraph.c): a float32 network on 112×112×3 that
starts with a 3×3 stride-2 CONV_2D on 3 channels with padding 1 on each side — an explicit
ZeroPadding2D(1) + VALID convolution, which XNNPACK fuses into explicit padding (a TFLite SAME
convolution carries XNNPACK's TensorFlow-SAME flag, which its sparse path refuses) —, 1×1
convolutions, a 3×3 stride-2 depthwise convolution padded the same way, a spatial MEAN
(GlobalAveragePooling2D) and a Dense head. He-normal random weights (seed 0); `--prune S` zeroes S
of every kernel of ≥ 1024 weights per layer.

Per sparsity: `convert --prune S` (dense twin) and `convert --prune S --sparse`, float32, float16
and int8 (calibrated on 16 random images); sizes raw and gzip -9; TensorFlow's own
EXPERIMENTAL_SPARSITY conversion of the same pruned weights (`keraslite prune` → .keras →
TFLiteConverter) beside them. float32 latency in LiteRT (ai_edge_litert, 1 thread; default XNNPACK
delegate, and the builtin kernels alone): median of REPEATS invokes after 5 warm-up ones, the
files interleaved in one process so load changes hit all alike.

Environment: KERASLITE_BIN (default .build/release/keraslite, else .build/debug/keraslite),
REPEATS (default 60), OUT (default build-bench/sparse)."""
import gzip
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = pathlib.Path(os.environ.get("OUT", ROOT / "build-bench" / "sparse"))
REPEATS = int(os.environ.get("REPEATS", "60"))
SPARSITIES = [0.0, 0.5, 0.7, 0.8, 0.9]


def binary():
    if "KERASLITE_BIN" in os.environ:
        return os.environ["KERASLITE_BIN"]
    release = ROOT / ".build" / "release" / "keraslite"
    return str(release if release.exists() else ROOT / ".build" / "debug" / "keraslite")


def build_model(path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    layers = keras.layers
    inputs = keras.Input((112, 112, 3), name="image")
    x = layers.ZeroPadding2D(1)(inputs)
    x = layers.Conv2D(32, 3, strides=2, activation="relu", kernel_initializer="he_normal")(x)  # 56×56
    for channels in [64, 128, 128]:
        x = layers.Conv2D(channels, 1, activation="relu", kernel_initializer="he_normal")(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.DepthwiseConv2D(3, strides=2, activation="relu", depthwise_initializer="he_normal")(x)  # 28×28
    for channels in [256, 256, 256, 256]:
        x = layers.Conv2D(channels, 1, activation="relu", kernel_initializer="he_normal")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, name="logits")(x)
    model = keras.Model(inputs, outputs)
    model.save(path)
    return model.count_params()


def tensorflow_sparse(pruned_keras, target):
    """TensorFlow's converter with Optimize.EXPERIMENTAL_SPARSITY on the same pruned weights."""
    code = ("import os, sys; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
            "import tensorflow as tf, keras\n"
            "converter = tf.lite.TFLiteConverter.from_keras_model(keras.models.load_model(sys.argv[1]))\n"
            "converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]\n"
            "open(sys.argv[2], 'wb').write(converter.convert())\n")
    subprocess.run([sys.executable, "-c", code, str(pruned_keras), str(target)], check=True, capture_output=True)


def convert(source, target, *args):
    result = subprocess.run([binary(), "convert", str(source), "-o", str(target), *map(str, args)],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def latency(paths, x, xnnpack):
    """Median seconds per invoke of each file, interleaved so load changes hit all alike."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {} if xnnpack else {"experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    interpreters = []
    for path in paths:
        interpreter = Interpreter(model_path=str(path), num_threads=1, **kwargs)
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        for _ in range(5):
            interpreter.invoke()
        interpreters.append(interpreter)
    times = [[] for _ in paths]
    for _ in range(REPEATS):
        for k, interpreter in enumerate(interpreters):
            start = time.perf_counter()
            interpreter.invoke()
            times[k].append(time.perf_counter() - start)
    outputs = [interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy() for interpreter in interpreters]
    return [statistics.median(t) for t in times], outputs


def kb(n):
    return f"{n / 1024:.1f} KB" if n < 1 << 20 else f"{n / 1048576:.2f} MB"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    model = OUT / "sparse_inference_112.keras"
    params = build_model(model)
    rng = np.random.default_rng(1)
    calibration = OUT / "calibration.npy"
    np.save(calibration, rng.uniform(0, 1, (16, 112, 112, 3)).astype(np.float32))
    x = rng.uniform(0, 1, (1, 112, 112, 3)).astype(np.float32)
    print(f"model: {params:,} params; binary {binary()}; REPEATS={REPEATS}")

    print("\n| sparsity | mode | dense | gzip -9 dense | --sparse | gzip -9 --sparse | sparse / dense | convert's report |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    latencies = []
    for sparsity in SPARSITIES:
        prune = ["--prune", sparsity] if sparsity else []
        for mode, extra in [("float32", []), ("float16", ["--quantize", "float16"]),
                            ("int8", ["--quantize", "int8", "--calibration", calibration])]:
            stem = OUT / f"s{int(sparsity * 100)}-{mode}"
            dense, sparse = pathlib.Path(f"{stem}-dense.tflite"), pathlib.Path(f"{stem}-sparse.tflite")
            convert(model, dense, *prune, *extra, "--quiet")
            report = convert(model, sparse, *prune, *extra, "--sparse")
            sizes = [len(dense.read_bytes()), len(gzip.compress(dense.read_bytes(), 9)),
                     len(sparse.read_bytes()), len(gzip.compress(sparse.read_bytes(), 9))]
            summary = report.split("; ")[-1]
            print(f"| {sparsity:.0%} | {mode} | {kb(sizes[0])} | {kb(sizes[1])} | {kb(sizes[2])} | {kb(sizes[3])} "
                  f"| {sizes[2] / sizes[0]:.1%} | {summary} |", flush=True)
            if mode == "float32":
                tensorflow = None
                if sparsity:
                    pruned = OUT / f"s{int(sparsity * 100)}-pruned.keras"
                    subprocess.run([binary(), "prune", str(model), "-o", str(pruned), "--sparsity", str(sparsity), "--quiet"], check=True)
                    tensorflow = OUT / f"s{int(sparsity * 100)}-tensorflow-sparse.tflite"
                    tensorflow_sparse(pruned, tensorflow)
                    data = tensorflow.read_bytes()
                    print(f"| {sparsity:.0%} | float32, TensorFlow EXPERIMENTAL_SPARSITY | | | {kb(len(data))} "
                          f"| {kb(len(gzip.compress(data, 9)))} | {len(data) / sizes[0]:.1%} | |", flush=True)
                latencies.append((sparsity, dense, sparse, tensorflow))

    print("\n| sparsity | kernels | dense ms | --sparse ms | dense / --sparse | TensorFlow sparse ms | max |Δ| dense vs --sparse | output scale |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for sparsity, dense, sparse, tensorflow in latencies:
        for xnnpack in (True, False):
            files = [dense, sparse] + ([tensorflow] if tensorflow else [])
            times, outputs = latency(files, x, xnnpack)
            tf_time = f"{times[2] * 1e3:.2f}" if tensorflow else ""
            print(f"| {sparsity:.0%} | {'XNNPACK' if xnnpack else 'builtin'} | {times[0] * 1e3:.2f} | {times[1] * 1e3:.2f} "
                  f"| {times[0] / times[1]:.2f}× | {tf_time} | {float(np.abs(outputs[0] - outputs[1]).max()):.2g} "
                  f"| {float(np.abs(outputs[0]).max()):.2g} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())

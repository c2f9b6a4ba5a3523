"""A model over 2 GB (issue 15): a Dense layer of 537 million weights (2.15 GB as float32), built
and saved by Keras 3 in the test (nothing committed). `keraslite convert` must write it — buffers
after the FlatBuffer in TFLite's offset/size form, streamed one at a time — with a peak RSS within
64 MB + the largest tensor (plus the process itself), LiteRT must load and run it and agree with
Keras, and keraslite's own readers must read it."""
import json
import os
import subprocess
import sys

import numpy as np

import convert_support as cs
from conftest import BINARY, keraslite

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
FEATURES, UNITS = 32768, 16400  # 537,411,584 weights: 2.15 GB > FlatBuffers' 2 GB

BUILD = r'''
import sys, numpy as np, keras
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((int(sys.argv[2]),), name="x"),
                          keras.layers.Dense(int(sys.argv[3]), kernel_initializer=keras.initializers.RandomUniform(-0.01, 0.01),
                                             bias_initializer=keras.initializers.RandomUniform(-1, 1), name="big")])
x = np.random.default_rng(1).standard_normal((1, int(sys.argv[2]))).astype("float32")
np.save(sys.argv[1] + ".x.npy", x)
np.save(sys.argv[1] + ".y.npy", model.predict(x, verbose=0))
model.save(sys.argv[1])
'''


def test_model_over_2gb_converts_streams_and_runs_in_litert(tmp_path):
    h5 = tmp_path / "big.h5"
    subprocess.run([sys.executable, "-c", BUILD, str(h5), str(FEATURES), str(UNITS)], check=True, capture_output=True, env=ENV)
    tflite = tmp_path / "big.tflite"
    process = subprocess.Popen([BINARY, "convert", str(h5), "-o", str(tflite)], stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)  # this process's own peak RSS
    assert os.waitstatus_to_exitcode(status) == 0, process.stderr.read().decode()
    peak_mb, largest_mb = usage.ru_maxrss / 1024, FEATURES * UNITS * 4 / 2**20
    size = tflite.stat().st_size
    assert size > 2**31, size
    print(f"converted {size:,} B with a peak RSS of {peak_mb:.0f} MB (largest tensor {largest_mb:.0f} MB)")
    # The kernel's source values are the one large allocation; the file is never held whole.
    assert peak_mb <= 64 + largest_mb + 64, f"peak RSS {peak_mb:.0f} MB for a {largest_mb:.0f} MB tensor"
    x, y = np.load(f"{h5}.x.npy"), np.load(f"{h5}.y.npy")
    out = cs.run_litert(tflite, x)[0]
    cs.assert_close(out, y, "Dense over 2 GB")
    report = json.loads(keraslite("inspect", tflite, "--json").stdout)
    assert report["size_bytes"] == size
    for path in (h5, tflite):
        path.unlink()

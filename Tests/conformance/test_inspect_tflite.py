"""`keraslite inspect` and `sparsity` on .tflite files written by TensorFlow's converter (float,
dynamic-range, float16, full int8) and by keraslite: the operators and tensors keraslite lists must
be the ones LiteRT's interpreter reports, and the weight statistics must equal numpy's on the
interpreter's own view of the constant tensors."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from conftest import SAMPLES, interpreter, keraslite, keraslite_json

def test_operators_and_tensors_equal_litert(tflite_files):
    for path in tflite_files:
        report = keraslite_json("inspect", path)
        it = interpreter(path)
        ops = [op["op_name"] for op in it._get_ops_details() if op["op_name"] != "DELEGATE"]
        assert [op["op"] for op in report["operators"]] == ops, path.name
        counts = {}
        for op in ops:
            counts[op] = counts.get(op, 0) + 1
        assert report["op_counts"] == counts, path.name
        details = it.get_tensor_details()
        assert len(report["tensors"]) == len(details), path.name
        by_index = {d["index"]: d for d in details}
        for tensor in report["tensors"]:
            mine = by_index[tensor["index"]]
            assert tensor["name"] == mine["name"], path.name
            assert tensor["shape"] == [int(v) for v in mine["shape"]], (path.name, tensor["name"])
            assert tensor["dtype"] == np.dtype(mine["dtype"]).name, (path.name, tensor["name"])
            scales = mine["quantization_parameters"]["scales"]
            if len(scales):
                assert tensor["quantization"]["count"] == len(scales), (path.name, tensor["name"])
        assert report["size_bytes"] == path.stat().st_size
        assert report["format"] == "tflite"


def test_quantized_files_report_their_weight_types(tflite_files):
    dtypes = {path.name: {t["dtype"] for t in keraslite_json("inspect", path)["tensors"] if t["bytes"] > 0} for path in tflite_files}
    assert "float16" in dtypes["tf_float16.tflite"]
    assert "int8" in dtypes["tf_dynamic.tflite"] and "float32" in dtypes["tf_dynamic.tflite"]
    assert "int8" in dtypes["tf_int8.tflite"] and "float32" not in dtypes["tf_int8.tflite"]
    assert dtypes["tf_float.tflite"] <= {"float32", "int32"}


def test_sparsity_equals_numpy_on_the_interpreters_weights(tflite_files):
    for path in tflite_files:
        report = keraslite_json("sparsity", path)
        it = interpreter(path)
        inspect = keraslite_json("inspect", path)
        zeros = total = 0
        for tensor in inspect["tensors"]:
            if tensor["bytes"] == 0 or (tensor["quantization"] is None and tensor["dtype"] in ("int32", "int64")):
                continue
            values = it.get_tensor(tensor["index"])
            total += values.size
            q = it.get_tensor_details()[tensor["index"]]["quantization_parameters"]
            if len(q["scales"]):
                zero_points = np.asarray(q["zero_points"])
                axis = q["quantized_dimension"]
                shape = [1] * values.ndim
                if zero_points.size > 1:
                    shape[axis] = zero_points.size
                zeros += int(np.count_nonzero(values == zero_points.reshape(shape)))
            else:
                zeros += int(np.count_nonzero(values.astype(np.float32) == 0))
        assert report["total"] == total, path.name
        assert report["zeros"] == zeros, path.name

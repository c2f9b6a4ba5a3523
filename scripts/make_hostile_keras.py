#!/usr/bin/env python3
"""Writes the hand-made hostile Keras files of Tests/KerasTests/Corpus/ (commit the output).

    /work/main/.venv/bin/python scripts/make_hostile_keras.py [output directory]

Needs h5py and numpy (the test virtualenv). Each file is small and attacks one guard of the Keras
reader; keraslite must read it to a report or to one clear error line (exit 2), never trap, hang
or allocate without bound. Tests/KerasTests/CorpusTests.swift runs them all with the expected
message; `make fuzz-keras` seeds from them.
"""
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "KerasTests", "Corpus")


def dense(name, units, inbound):
    return {"class_name": "Dense", "name": name,
            "config": {"name": name, "units": units, "activation": "linear", "use_bias": True},
            "inbound_nodes": [[[layer, 0, 0, {}] for layer in inbound]]}


def functional(layers, inputs=("x",), outputs=("d1",), shape=(None, 4)):
    return {"class_name": "Functional", "config": {
        "name": "m",
        "layers": [{"class_name": "InputLayer", "name": "x",
                    "config": {"name": "x", "batch_input_shape": list(shape), "dtype": "float32"},
                    "inbound_nodes": []}] + layers,
        "input_layers": [[name, 0, 0] for name in inputs],
        "output_layers": [[name, 0, 0] for name in outputs]}}


def write_h5(name, config, weights=None, config_text=None, filters=None):
    with h5py.File(os.path.join(OUT, name), "w") as f:
        f.attrs["model_config"] = config_text if config_text is not None else json.dumps(config)
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = np.array([layer.encode() for layer in (weights or {})])
        for layer, arrays in (weights or {}).items():
            g = group.create_group(layer)
            names = []
            for variable, array in arrays.items():
                path = f"{layer}/{variable}:0"
                g.create_dataset(path, data=array, **(filters or {}))
                names.append(path.encode())
            g.attrs["weight_names"] = np.array(names)


def write_keras(name, entries, compression=zipfile.ZIP_DEFLATED):
    import warnings
    warnings.simplefilter("ignore")  # zipfile warns on duplicate names, which is the point
    with zipfile.ZipFile(os.path.join(OUT, name), "w", compression) as z:
        for entry, data in entries:
            z.writestr(entry, data)


def main():
    os.makedirs(OUT, exist_ok=True)
    ok_weights = {"d1": {"kernel": np.ones((4, 2), "f4"), "bias": np.zeros(2, "f4")}}
    # JSON nested 100 000 deep: the parser caps depth instead of overflowing the stack.
    write_h5("json_nested_deeply.h5", None, config_text="[" * 100_000)
    # A node graph with a cycle (d1 ← d2 ← d1), a dangling reference, a layer calling itself.
    write_h5("graph_cycle.h5", functional([dense("d1", 2, ["d2"]), dense("d2", 2, ["d1"])]))
    write_h5("graph_dangling_reference.h5", functional([dense("d1", 2, ["nowhere"])]))
    write_h5("graph_layer_calls_itself.h5", functional([dense("d1", 2, ["d1"])]))
    # Absurd declared shapes: 10^12 elements, and dimensions whose product overflows Int64.
    write_h5("shape_1e12_elements.h5", functional([dense("d1", 2, ["x"])], shape=(None, 1_000_000, 1_000_000)))
    write_h5("shape_overflows_int64.h5", functional([dense("d1", 2, ["x"])], shape=(None, 2**40, 2**40, 2**40)))
    write_h5("shape_negative.h5", functional([dense("d1", 2, ["x"])], shape=(None, -5)))
    write_h5("dense_units_1e12.h5", functional([dense("d1", 10**12, ["x"])]))
    # Weights whose shape disagrees with the config (kernel 3×2 for 4 inputs).
    write_h5("weights_wrong_shape.h5", functional([dense("d1", 2, ["x"])]),
             {"d1": {"kernel": np.ones((3, 2), "f4"), "bias": np.zeros(2, "f4")}})
    # A weight stored through an HDF5 filter libhdf5 does not have (LZF, h5py's own).
    write_h5("unknown_hdf5_filter.h5", functional([dense("d1", 2, ["x"])]), ok_weights, filters={"compression": "lzf"})
    # A weight declaring 10^12 elements (chunked, never written): refused before any allocation.
    write_h5("dataset_shape_past_file.h5", functional([dense("d1", 2, ["x"])]))
    with h5py.File(os.path.join(OUT, "dataset_shape_past_file.h5"), "a") as f:
        group = f["model_weights"]
        group.attrs["layer_names"] = np.array([b"d1"])
        g = group.create_group("d1")
        g.create_dataset("d1/kernel:0", shape=(1_000_000, 1_000_000), dtype="f4", chunks=(1, 4))
        g.create_dataset("d1/bias:0", data=np.zeros(2, "f4"))
        g.attrs["weight_names"] = np.array([b"d1/kernel:0", b"d1/bias:0"])
    # A well-formed small model (the corpus also holds what must read).
    write_h5("tiny_valid.h5", functional([dense("d1", 2, ["x"])]), ok_weights)
    config = json.dumps(functional([dense("d1", 2, ["x"])]))
    # A zip bomb: config.json inflates to 200 MB of spaces (about 200 KB in the archive).
    write_keras("zip_bomb_config.keras", [("config.json", " " * 200_000_000 + config), ("metadata.json", "{}")])
    # Duplicate entries: two config.json members, which readers resolve differently.
    write_keras("zip_duplicate_entries.keras", [("config.json", config), ("config.json", json.dumps(functional([dense("d1", 3, ["x"])])))])
    # An archive whose weights member is not HDF5.
    write_keras("zip_weights_not_hdf5.keras", [("config.json", config), ("model.weights.h5", b"not hdf5 at all")])
    # A Keras 3 weights file whose groups link back to themselves and to their parent (hard links):
    # a walk that follows names would revisit them exponentially often; each must be read once.
    with h5py.File(os.path.join(OUT, "weights_groups_linked_in_cycle.weights.h5"), "w") as f:
        layer = f.create_group("layers/dense")
        layer.create_dataset("vars/0", data=np.ones((4, 3), np.float32))
        layer.create_dataset("vars/1", data=np.zeros(3, np.float32))
        layer["self"] = layer
        layer["parent"] = f["layers"]
    # Compact layout (the data inside the object header): legal, and must read like any other.
    with h5py.File(os.path.join(OUT, "weights_compact_layout.weights.h5"), "w") as f:
        variables = f.create_group("layers/dense/vars")
        for name, data in (("0", np.arange(12, dtype=np.float32).reshape(4, 3)), ("1", np.zeros(3, np.float32))):
            creation = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            creation.set_layout(h5py.h5d.COMPACT)
            space = h5py.h5s.create_simple(data.shape)
            dataset = h5py.h5d.create(variables.id, name.encode(), h5py.h5t.NATIVE_FLOAT, space, dcpl=creation)
            dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, data)
    # A member whose bytes no longer match the CRC-32 the archive declares (Python's zipfile, which
    # Keras reads with, refuses it as well).
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("config.json", config)
        archive.writestr("metadata.json", "{}")
    damaged = bytearray(good.getvalue())
    at = damaged.index(b'"class_name"')
    damaged[at + 1] ^= 0x20  # "class_name" → "Class_name" inside the stored member
    with open(os.path.join(OUT, "zip_member_fails_crc.keras"), "wb") as f:
        f.write(bytes(damaged))
    print(f"wrote hostile Keras files to {OUT}")


if __name__ == "__main__":
    main()

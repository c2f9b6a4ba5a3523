#!/usr/bin/env python3
"""Writes the hand-made hostile .tflite files of Tests/TFLiteTests/Corpus/ (commit the output).

    python3 scripts/make_hostile_tflite.py [output directory]   # default Tests/TFLiteTests/Corpus

Standard library only. Each file is a damaged or malicious variant of a small model; keraslite
must read every one of them to a report or to one clear error line, never trap, hang or allocate
without bound (Tests/TFLiteTests/CorpusTests.swift runs them all, `make fuzz` seeds from them).

Two kinds:
- byte patches of Tests/TFLiteTests/Fixtures/tf_digits_mlp.tflite (a file TensorFlow wrote):
  truncations, a wrong identifier, a vector length past the end of the file;
- variants of a tiny model written here by a minimal FlatBuffer writer (a few hundred bytes each,
  so the corpus stays small): absurd shapes, out-of-range indices and buffer offsets, self-
  referencing tables, per-channel quantization on dimension 99, an Int64.min zero point, sparse
  encodings that point outside their tensor, and offsets shared thousands of times (work and
  memory far beyond the file's size unless the reader caps them).

The writer lays objects out front to back (a parent before the children it points at), which
keeps every FlatBuffer offset pointing forward as the format requires.
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "Tests", "TFLiteTests", "Fixtures", "tf_digits_mlp.tflite")

# Field ids (Sources/TFLite/Schema.swift) and enum values used below.
MODEL_VERSION, MODEL_OPCODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION, MODEL_BUFFERS = 0, 1, 2, 3, 4
MODEL_METADATA, MODEL_SIGNATURES = 6, 7
SUBGRAPH_TENSORS, SUBGRAPH_INPUTS, SUBGRAPH_OUTPUTS, SUBGRAPH_OPERATORS, SUBGRAPH_NAME = 0, 1, 2, 3, 4
TENSOR_SHAPE, TENSOR_TYPE, TENSOR_BUFFER, TENSOR_NAME, TENSOR_QUANTIZATION = 0, 1, 2, 3, 4
TENSOR_SPARSITY, TENSOR_SHAPE_SIGNATURE = 6, 7
QUANT_SCALE, QUANT_ZERO_POINT, QUANT_DIMENSION = 2, 3, 6
OP_OPCODE, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS_TYPE, OP_OPTIONS = 0, 1, 2, 3, 4
OPCODE_DEPRECATED, OPCODE_VERSION, OPCODE_BUILTIN = 0, 2, 3
BUFFER_DATA, BUFFER_OFFSET, BUFFER_SIZE = 0, 1, 2
METADATA_NAME, METADATA_BUFFER = 0, 1
SPARSITY_TRAVERSAL, SPARSITY_BLOCK_MAP, SPARSITY_DIMS = 0, 1, 2
DIM_FORMAT, DIM_DENSE_SIZE, DIM_SEGMENTS_TYPE, DIM_SEGMENTS, DIM_INDICES_TYPE, DIM_INDICES = 0, 1, 2, 3, 4, 5
FLOAT32, INT8 = 0, 9
FULLY_CONNECTED, FULLY_CONNECTED_OPTIONS = 9, 8
INT32_VECTOR = 1


# --- a minimal front-to-back FlatBuffer writer -----------------------------------------------

class Scalar:
    def __init__(self, fmt, value):
        self.fmt, self.value = fmt, value


class Table:
    def __init__(self, fields):
        self.fields = fields  # {field id: Scalar or another node}


class Vector:  # vector of scalars
    def __init__(self, fmt, values):
        self.fmt, self.values = fmt, values


class Bytes:  # [ubyte], 16-aligned like TFLite buffer data
    def __init__(self, data):
        self.data = data


class String:
    def __init__(self, text):
        self.data = text.encode() if isinstance(text, str) else text


class Tables:  # vector of offsets; the same node may appear many times (written once)
    def __init__(self, items):
        self.items = items


class Writer:
    def __init__(self):
        self.buf = bytearray()
        self.pos = {}  # id(node) -> position

    def align(self, n, extra=0):
        while (len(self.buf) + extra) % n:
            self.buf.append(0)

    def emit(self, node):
        if id(node) in self.pos:
            return self.pos[id(node)]
        pending = []  # (slot, child)
        if isinstance(node, Table):
            ids = sorted(node.fields)
            size = lambda value: struct.calcsize(value.fmt) if isinstance(value, Scalar) else 4
            layout, offset = {}, 4
            for fid in sorted(ids, key=lambda i: -size(node.fields[i])):
                width = size(node.fields[fid])
                offset = (offset + width - 1) // width * width
                layout[fid] = offset
                offset += width
            count = (max(ids) + 1) if ids else 0
            vtable = struct.pack("<HH", 4 + 2 * count, offset) + b"".join(
                struct.pack("<H", layout.get(i, 0)) for i in range(count))
            self.align(2)
            vt = len(self.buf)
            self.buf += vtable
            self.align(8)
            at = len(self.buf)
            self.buf += bytes(offset)
            struct.pack_into("<i", self.buf, at, at - vt)
            for fid, value in node.fields.items():
                if isinstance(value, Scalar):
                    struct.pack_into(value.fmt, self.buf, at + layout[fid], value.value)
                else:
                    pending.append((at + layout[fid], value))
        elif isinstance(node, Vector):
            width = struct.calcsize(node.fmt)
            self.align(max(width, 4), 4)
            at = len(self.buf)
            self.buf += struct.pack("<I", len(node.values))
            for value in node.values:
                self.buf += struct.pack(node.fmt, value)
        elif isinstance(node, Bytes):
            self.align(16, 4)
            at = len(self.buf)
            self.buf += struct.pack("<I", len(node.data)) + node.data
        elif isinstance(node, String):
            self.align(4)
            at = len(self.buf)
            self.buf += struct.pack("<I", len(node.data)) + node.data + b"\0"
        elif isinstance(node, Tables):
            self.align(4)
            at = len(self.buf)
            self.buf += struct.pack("<I", len(node.items)) + bytes(4 * len(node.items))
            pending += [(at + 4 + 4 * index, item) for index, item in enumerate(node.items)]
        else:
            raise TypeError(node)
        self.pos[id(node)] = at
        for slot, child in pending:
            target = self.emit(child)
            assert target >= slot, "the writer only makes forward offsets"
            struct.pack_into("<I", self.buf, slot, target - slot)
        return at


def flatbuffer(model):
    writer = Writer()
    writer.buf += b"\0\0\0\0TFL3"
    root = writer.emit(model)
    struct.pack_into("<I", writer.buf, 0, root)
    return writer, bytes(writer.buf)


# --- the tiny model: input[1,4] → FULLY_CONNECTED(weights[3,4], bias[3]) → output[1,3] -------

def u8(v): return Scalar("<B", v)
def i8(v): return Scalar("<b", v)
def i32(v): return Scalar("<i", v)
def u32(v): return Scalar("<I", v)
def u64(v): return Scalar("<Q", v)


def tensor(name, shape, buffer=0, type=FLOAT32, extra=None):
    fields = {TENSOR_SHAPE: Vector("<i", shape), TENSOR_NAME: String(name), TENSOR_TYPE: i8(type)}
    if buffer:
        fields[TENSOR_BUFFER] = u32(buffer)
    fields.update(extra or {})
    return Table(fields)


def quantization(scales, zero_points, dimension=0):
    return Table({QUANT_SCALE: Vector("<f", scales), QUANT_ZERO_POINT: Vector("<q", zero_points),
                  QUANT_DIMENSION: i32(dimension)})


def floats(values):
    return Bytes(struct.pack("<%df" % len(values), *values))


def tiny(tensors=None, operators=None, buffers=None, inputs=(0,), outputs=(3,), metadata=None):
    """The model as nodes; pass replacements for the parts a case damages."""
    weights = [0.5, 0.0, -0.25, 1e-4, 2.0, 0.0, 0.0, 3.0, -1.0, 1e-5, 0.0, 0.75]
    buffers = buffers or [Table({}), Table({BUFFER_DATA: floats(weights)}),
                          Table({BUFFER_DATA: floats([0.1, 0.0, -0.2])}), Table({BUFFER_DATA: Bytes(b"1.14.0\0\0")})]
    tensors = tensors or [tensor("input", [1, 4]), tensor("dense/kernel", [3, 4], buffer=1),
                          tensor("dense/bias", [3], buffer=2), tensor("output", [1, 3])]
    operators = operators or [Table({OP_OPCODE: u32(0), OP_INPUTS: Vector("<i", [0, 1, 2]),
                                     OP_OUTPUTS: Vector("<i", [3]), OP_OPTIONS_TYPE: u8(FULLY_CONNECTED_OPTIONS),
                                     OP_OPTIONS: Table({0: i8(1)})})]
    metadata = metadata or [Table({METADATA_NAME: String("min_runtime_version"), METADATA_BUFFER: u32(3)})]
    subgraph = Table({SUBGRAPH_TENSORS: Tables(tensors), SUBGRAPH_INPUTS: Vector("<i", list(inputs)),
                      SUBGRAPH_OUTPUTS: Vector("<i", list(outputs)), SUBGRAPH_OPERATORS: Tables(operators),
                      SUBGRAPH_NAME: String("main")})
    return Table({
        MODEL_VERSION: u32(3),
        MODEL_OPCODES: Tables([Table({OPCODE_DEPRECATED: i8(FULLY_CONNECTED), OPCODE_BUILTIN: i32(FULLY_CONNECTED),
                                      OPCODE_VERSION: i32(1)})]),
        MODEL_SUBGRAPHS: Tables([subgraph]),
        MODEL_DESCRIPTION: String("make_hostile_tflite.py"),
        MODEL_BUFFERS: Tables(buffers),
        MODEL_METADATA: Tables(metadata),
    })


def tiny_with(index, replacement, **kwargs):
    base = [tensor("input", [1, 4]), tensor("dense/kernel", [3, 4], buffer=1),
            tensor("dense/bias", [3], buffer=2), tensor("output", [1, 3])]
    base[index] = replacement
    return flatbuffer(tiny(tensors=base, **kwargs))[1]


def int8_kernel(**quant):
    return tensor("dense/kernel", [3, 4], buffer=1, type=INT8, extra={TENSOR_QUANTIZATION: quantization(**quant)})


def sparse(shape, dims, buffer=1, traversal=None, block_map=None):
    metadata = []
    for dim in dims:
        if dim[0] == "dense":
            metadata.append(Table({DIM_FORMAT: i8(0), DIM_DENSE_SIZE: i32(dim[1])}))
        else:
            metadata.append(Table({DIM_FORMAT: i8(1),
                                   DIM_SEGMENTS_TYPE: u8(INT32_VECTOR), DIM_SEGMENTS: Table({0: Vector("<i", dim[1])}),
                                   DIM_INDICES_TYPE: u8(INT32_VECTOR), DIM_INDICES: Table({0: Vector("<i", dim[2])})}))
    parameters = Table({SPARSITY_TRAVERSAL: Vector("<i", traversal or list(range(len(dims)))),
                        SPARSITY_DIMS: Tables(metadata)})
    if block_map is not None:
        parameters.fields[SPARSITY_BLOCK_MAP] = Vector("<i", block_map)
    return tensor("dense/kernel", shape, buffer=buffer, extra={TENSOR_SPARSITY: parameters})


def cases():
    fixture = open(FIXTURE, "rb").read()
    out = {}

    # Byte patches of a file TensorFlow wrote.
    out["fixture_truncated_64.tflite"] = fixture[:64]
    out["fixture_truncated_half.tflite"] = fixture[:len(fixture) // 2]
    out["fixture_wrong_identifier.tflite"] = fixture[:4] + b"TF\x0c\x00" + fixture[8:1024]
    root = struct.unpack_from("<I", fixture, 0)[0]
    vtable = root - struct.unpack_from("<i", fixture, root)[0]
    subgraphs_field = root + struct.unpack_from("<H", fixture, vtable + 4 + 2 * MODEL_SUBGRAPHS)[0]
    subgraphs = subgraphs_field + struct.unpack_from("<I", fixture, subgraphs_field)[0]
    patched = bytearray(fixture)
    struct.pack_into("<I", patched, subgraphs, 0x7FFFFFFF)
    out["fixture_vector_length_out_of_range.tflite"] = bytes(patched)

    # The tiny model, valid, then broken one way at a time.
    writer, valid = flatbuffer(tiny())
    out["tiny_valid.tflite"] = valid
    out["tiny_truncated_header.tflite"] = valid[:7]
    # Valid variants, seeds for the fuzzer's quantized and sparse paths.
    out["tiny_valid_int8_per_channel.tflite"] = tiny_with(1, int8_kernel(scales=[0.5, 0.25, 0.125], zero_points=[0, 1, -1]))
    out["tiny_valid_sparse.tflite"] = tiny_with(
        1, sparse([3, 4], [("dense", 3), ("csr", [0, 1, 2, 3], [0, 2, 3])], buffer=2))

    model = tiny()
    writer, data = flatbuffer(model)
    subgraph = model.fields[MODEL_SUBGRAPHS].items[0]
    tensors = subgraph.fields[SUBGRAPH_TENSORS]
    name = tensors.items[1].fields[TENSOR_NAME]

    patched = bytearray(data)
    struct.pack_into("<I", patched, writer.pos[id(name)], 0xFFFFFFF0)
    out["string_length_out_of_range.tflite"] = bytes(patched)

    patched = bytearray(data)  # the first tensor offset is 0: the "table" is the offset itself
    struct.pack_into("<I", patched, writer.pos[id(tensors)] + 4, 0)
    out["self_referencing_table.tflite"] = bytes(patched)

    patched = bytearray(data)  # a table whose soffset is 0: its vtable is the table itself
    struct.pack_into("<i", patched, writer.pos[id(tensors.items[2])], 0)
    out["table_is_its_own_vtable.tflite"] = bytes(patched)

    patched = bytearray(data)  # the root offset points at the root offset
    struct.pack_into("<I", patched, 0, 0)
    out["root_offset_cycle.tflite"] = bytes(patched)

    patched = bytearray(data)  # an options offset pointing back into its own operator table
    op = subgraph.fields[SUBGRAPH_OPERATORS].items[0]
    at = writer.pos[id(op)]
    options_slot = next(slot for slot in range(at, at + 64, 4)
                        if slot + struct.unpack_from("<I", data, slot)[0] == writer.pos[id(op.fields[OP_OPTIONS])])
    struct.pack_into("<I", patched, options_slot, 0)
    out["options_offset_to_itself.tflite"] = bytes(patched)

    big = 2**31 - 1
    out["absurd_shape_overflows_int64.tflite"] = tiny_with(3, tensor("output", [big, big, big, big]))
    out["absurd_shape_2e30_cubed.tflite"] = tiny_with(0, tensor("input", [2**30, 2**30, 2**30]))
    out["negative_dimension.tflite"] = tiny_with(0, tensor("input", [1, -4]))
    out["rank_1000.tflite"] = tiny_with(0, tensor("input", [1] * 1000))
    out["shape_signature_negative.tflite"] = tiny_with(
        0, tensor("input", [1, 4], extra={TENSOR_SHAPE_SIGNATURE: Vector("<i", [-7, 4])}))
    # Element counts under the cap, but MACs (output elements × input depth) past Int64.
    out["macs_overflow.tflite"] = flatbuffer(tiny(tensors=[
        tensor("input", [1, 4]), tensor("dense/kernel", [3, big], buffer=1),
        tensor("dense/bias", [3], buffer=2), tensor("output", [2**20, 2**20])]))[1]
    out["negative_buffer_index.tflite"] = tiny_with(1, tensor("dense/kernel", [3, 4], buffer=0xFFFFFFFF))
    out["buffer_index_past_end.tflite"] = tiny_with(1, tensor("dense/kernel", [3, 4], buffer=4))
    out["quantized_dimension_99.tflite"] = tiny_with(1, int8_kernel(scales=[0.5, 0.25, 0.125], zero_points=[0, 1, 2],
                                                                    dimension=99))
    out["quantized_dimension_negative.tflite"] = tiny_with(1, int8_kernel(scales=[0.5, 0.25], zero_points=[0, 1],
                                                                          dimension=-3))
    out["zero_point_int64_min.tflite"] = tiny_with(1, int8_kernel(scales=[0.5], zero_points=[-2**63]))
    out["per_channel_zero_inner_size.tflite"] = tiny_with(
        1, tensor("dense/kernel", [3, 0], buffer=1, type=INT8,
                  extra={TENSOR_QUANTIZATION: quantization(scales=[0.5, 0.25, 0.125], zero_points=[0, 0, 0])}))
    out["opcode_index_out_of_range.tflite"] = flatbuffer(tiny(operators=[
        Table({OP_OPCODE: u32(1000), OP_INPUTS: Vector("<i", [0, 1, 2]), OP_OUTPUTS: Vector("<i", [3])})]))[1]
    out["tensor_index_out_of_range.tflite"] = flatbuffer(tiny(operators=[
        Table({OP_OPCODE: u32(0), OP_INPUTS: Vector("<i", [0, 999, -7]), OP_OUTPUTS: Vector("<i", [3])})]))[1]
    out["subgraph_input_out_of_range.tflite"] = flatbuffer(tiny(inputs=(-2,)))[1]

    def buffers_with(extra):
        return [Table({}), Table({BUFFER_DATA: floats([0.5] * 12)}), Table({BUFFER_DATA: floats([0.1, 0.0, -0.2])}), extra]
    out["buffer_offset_past_int64.tflite"] = flatbuffer(tiny(buffers=buffers_with(
        Table({BUFFER_OFFSET: u64(2**63 + 16), BUFFER_SIZE: u64(16)}))))[1]
    out["buffer_size_past_file.tflite"] = flatbuffer(tiny(buffers=buffers_with(
        Table({BUFFER_OFFSET: u64(64), BUFFER_SIZE: u64(2**64 - 1)}))))[1]
    out["metadata_buffer_out_of_range.tflite"] = flatbuffer(tiny(metadata=[
        Table({METADATA_NAME: String("min_runtime_version"), METADATA_BUFFER: u32(0xFFFFFFFF)})] * 3))[1]

    # Sparse weights: a CSR index outside the dense shape; a dense shape of 2^40 elements.
    # (Both store their 3 values in buffer 2.)
    out["sparse_index_negative.tflite"] = tiny_with(
        1, sparse([3, 4], [("dense", 3), ("csr", [0, 1, 2, 3], [-5, 1, 2])], buffer=2))
    out["sparse_dense_shape_2e40.tflite"] = tiny_with(
        1, sparse([2**20, 2**20], [("dense", 2**20), ("csr", [0, 1, 2, 3], [0, 1, 2])], buffer=2))

    # Dimension 0 blocked twice: a CSR index of 2^31 - 1 times two block sizes of 2^20 overflows Int64.
    out["sparse_block_map_repeated.tflite"] = tiny_with(
        1, sparse([2**20], [("csr", [0, 1], [2**31 - 1]), ("dense", 2**20), ("dense", 2**20)], buffer=2, block_map=[0, 0]))

    # Shared offsets: many entries pointing at one object.
    shared = tensor("t" * 4096, [1, 4])  # one 4 KB name read 4000 times: 16 MB of strings
    out["shared_name_4000_times.tflite"] = flatbuffer(tiny(tensors=[shared] * 4000, outputs=(0,)))[1]
    kernel = tensor("dense/kernel", [3, 4], buffer=1)  # one weight buffer decoded 3000 times
    big_buffers = [Table({}), Table({BUFFER_DATA: floats([0.5] * 1024)}),
                   Table({BUFFER_DATA: floats([0.1, 0.0, -0.2])}), Table({BUFFER_DATA: Bytes(b"1.14.0\0\0")})]
    out["shared_weight_buffer_3000_times.tflite"] = flatbuffer(tiny(tensors=[kernel] * 3000, buffers=big_buffers,
                                                                    outputs=(0,)))[1]
    op = Table({OP_OPCODE: u32(0), OP_INPUTS: Vector("<i", [0]), OP_OUTPUTS: Vector("<i", [1])})
    many = 2000  # 2000 operators × 2000 live tensors: quadratic in a naive activation-memory sweep
    out["many_operators_many_tensors.tflite"] = flatbuffer(tiny(
        tensors=[tensor("x", [1, 4])] * many, operators=[op] * many, inputs=range(many), outputs=(1,)))[1]
    return out


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "TFLiteTests", "Corpus")
    os.makedirs(target, exist_ok=True)
    for name, data in sorted(cases().items()):
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
        print("%7d  %s" % (len(data), name))


if __name__ == "__main__":
    main()

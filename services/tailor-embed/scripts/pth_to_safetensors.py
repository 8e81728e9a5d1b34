"""Converts a PyTorch state dict saved in the legacy (pre-1.6, non-zip) format to safetensors,
with the Python standard library only: the slim libtorch that scripts/setup installs cannot
`import torch`, and libtorch itself reads only the zip format.

    python3 pth_to_safetensors.py IN.pth OUT.safetensors

The legacy file is a sequence of pickles (magic number, protocol version, system info, the state
dict whose tensors refer to storages by key, the list of storage keys), followed by each storage
as an 8-byte little-endian element count and its raw little-endian data.
"""

import collections
import json
import pickle
import struct
import sys

MAGIC = 0x1950A86A20F9469CFC6C
STORAGES = {  # legacy storage class -> (safetensors dtype, bytes per element)
    "FloatStorage": ("F32", 4),
    "DoubleStorage": ("F64", 8),
    "HalfStorage": ("F16", 2),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
}


class StorageType:
    def __init__(self, name):
        self.name = name


class TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def rebuild_tensor(storage, offset, size, stride, *_ignored):
    return TensorRef(storage, offset, size, stride)


class StateDictUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor
        if module == "torch" and name in STORAGES:
            return StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a state dict")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return (key, storage_type.name, numel)


def gather(storage, width, tensor):
    """The tensor's elements in row-major order; some weights of this file are stored strided."""
    positions = [tensor.offset]
    for dim, stride in zip(tensor.size, tensor.stride):
        positions = [p + k * stride for p in positions for k in range(dim)]
    if positions == list(range(tensor.offset, tensor.offset + len(positions))):
        return storage[tensor.offset * width:(tensor.offset + len(positions)) * width]
    return b"".join(storage[p * width:(p + 1) * width] for p in positions)


def convert(source, target):
    with open(source, "rb") as f:
        if pickle.load(f) != MAGIC:
            raise SystemExit(f"{source}: not a legacy PyTorch file (zip-format files load directly)")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info
        state = StateDictUnpickler(f).load()
        keys = pickle.load(f)
        data = {}
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            storage_type = next(t.storage[1] for t in state.values() if t.storage[0] == key)
            data[key] = f.read(numel * STORAGES[storage_type][1])
    header, chunks, position = {}, [], 0
    for name, tensor in state.items():
        key, storage_type, _ = tensor.storage
        dtype, width = STORAGES[storage_type]
        chunk = gather(data[key], width, tensor)
        header[name] = {"dtype": dtype, "shape": list(tensor.size), "data_offsets": [position, position + len(chunk)]}
        chunks.append(chunk)
        position += len(chunk)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(target, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for chunk in chunks:
            out.write(chunk)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    convert(sys.argv[1], sys.argv[2])

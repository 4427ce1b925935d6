"""A minimal safetensors writer and reader (F32 and I64 only), so that no `safetensors` package is needed.

The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes of UTF-8
JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data buffer that
follows the header) plus an optional "__metadata__" object of strings, then the raw little-endian tensor bytes.

The writer keeps the tensors in the order given, packs them without gaps (NigGen.Runtime's SafetensorsFile rejects
gaps, overlaps and trailing bytes) and pads the header with spaces to a multiple of 8 bytes, as the reference
implementation does, so that every tensor's data starts 8-byte aligned.
"""

import json
import struct

import numpy as np
import torch

_DTYPES = {torch.float32: ("F32", np.dtype("<f4")), torch.int64: ("I64", np.dtype("<i8"))}


def save(path, tensors, metadata=None):
    """Writes `tensors` (an ordered mapping name -> float32 or int64 torch tensor) to `path`."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        if tensor.dtype not in _DTYPES:
            raise TypeError(f"tensor '{name}' has dtype {tensor.dtype}; this writer stores float32 and int64 only")
        code, np_dtype = _DTYPES[tensor.dtype]
        data = tensor.detach().contiguous().cpu().numpy().astype(np_dtype, copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for data in blobs:
            f.write(data)


def load(path):
    """Reads a file written by `save` (F32 and I64 tensors): returns (ordered dict name -> tensor, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    data = raw[8 + length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        np_dtype = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8")}[entry["dtype"]]
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata

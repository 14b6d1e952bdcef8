#!/usr/bin/env python3
"""Writes a PyTorch state_dict as .safetensors, without the safetensors package.

The format: an 8-byte little-endian header length N, N bytes of JSON
mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
(offsets into the data section that follows) plus an optional
"__metadata__" object of strings, then the raw little-endian tensor bytes.

As a program, it exports a torchvision model:

    python3 tools/export_safetensors.py --model efficientnet_b0 --pretrained \\
        --output efficientnet-b0.safetensors
    python3 tools/export_safetensors.py --checkpoint model.pth --output w.safetensors

As a module: write_safetensors(model_or_state_dict, path, metadata=None).
"""
import argparse
import json
import sys

import numpy as np

# torch dtype name -> (safetensors dtype, numpy dtype of the raw bytes)
_DTYPES = {
    "float32": ("F32", "<f4"), "float16": ("F16", "<f2"), "float64": ("F64", "<f8"),
    "bfloat16": ("BF16", "<i2"), "int64": ("I64", "<i8"), "int32": ("I32", "<i4"),
    "int16": ("I16", "<i2"), "int8": ("I8", "i1"), "uint8": ("U8", "u1"), "bool": ("BOOL", "u1"),
}


def _raw_bytes(tensor):
    """The tensor's safetensors dtype and its bytes, little-endian, C order."""
    import torch
    name = str(tensor.dtype).replace("torch.", "")
    if name not in _DTYPES:
        raise ValueError(f"dtype {tensor.dtype} has no safetensors equivalent here")
    st_dtype, np_dtype = _DTYPES[name]
    tensor = tensor.detach().cpu().contiguous()
    if name == "bfloat16":
        tensor = tensor.view(torch.int16)
    return st_dtype, np.ascontiguousarray(tensor.numpy()).astype(np_dtype, copy=False).tobytes()


def write_safetensors(model_or_state_dict, path, metadata=None):
    """Writes a module's state_dict (or a dict of tensors) to `path`."""
    state = model_or_state_dict
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(state):
        dtype, data = _raw_bytes(state[name])
        header[name] = {"dtype": dtype, "shape": list(state[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def _load_source(args):
    import torch
    if args.checkpoint:
        loaded = torch.load(args.checkpoint, map_location="cpu")
        return loaded.get("state_dict", loaded) if isinstance(loaded, dict) else loaded
    import torchvision
    builder = getattr(torchvision.models, args.model)
    return builder(weights="DEFAULT" if args.pretrained else None)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a torchvision.models builder, e.g. efficientnet_b0")
    source.add_argument("--checkpoint", help="a torch.save'd module or state_dict")
    parser.add_argument("--pretrained", action="store_true",
                        help="torchvision's default weights (downloaded by torchvision)")
    parser.add_argument("--bn-eps", help="stored as the bn_eps metadata entry")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    metadata = {"bn_eps": args.bn_eps} if args.bn_eps else None
    write_safetensors(_load_source(args), args.output, metadata)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

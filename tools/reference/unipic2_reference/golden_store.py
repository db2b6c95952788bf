"""Collects golden tensors by name into small safetensors files and writes the JSON index
`{ files, tensors: { name: { file, shape, dtype } }, runs, ... }` that the TypeScript tests read
(same shape as test/fixtures/reference/index.json)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.uint8: "uint8"}


class GoldenStore:
    def __init__(self, root: Path):
        self.root = root
        self.files: dict[str, dict[str, torch.Tensor]] = {}
        self.tensors: dict[str, dict] = {}

    def put(self, file: str, name: str, value) -> torch.Tensor:
        tensor = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
        tensor = tensor.detach().contiguous().clone()
        if name in self.tensors:
            raise KeyError(f"golden tensor {name} written twice")
        if tensor.dtype not in DTYPE_NAMES:
            raise TypeError(f"{name}: unsupported golden dtype {tensor.dtype}")
        self.files.setdefault(file, {})[name] = tensor
        self.tensors[name] = {"file": file, "shape": list(tensor.shape), "dtype": DTYPE_NAMES[tensor.dtype]}
        return tensor

    def scope(self, file: str, prefix: str) -> "GoldenScope":
        return GoldenScope(self, file, prefix)

    def write(self, index_extra: dict, other_files: list[Path]) -> None:
        entries = {}
        for file, tensors in sorted(self.files.items()):
            path = self.root / file
            path.parent.mkdir(parents=True, exist_ok=True)
            save_file(dict(sorted(tensors.items())), str(path))
            entries[file] = describe(path)
        for path in sorted(other_files):
            entries[path.relative_to(self.root).as_posix()] = describe(path)
        index = {**index_extra, "files": dict(sorted(entries.items())), "tensors": dict(sorted(self.tensors.items()))}
        (self.root / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")


class GoldenScope:
    """Names under one prefix (`<prefix>.<name>`) in one file."""

    def __init__(self, store: GoldenStore, file: str, prefix: str):
        self.store, self.file, self.prefix = store, file, prefix

    def put(self, name: str, value) -> torch.Tensor:
        return self.store.put(self.file, f"{self.prefix}.{name}", value)

    def child(self, suffix: str) -> "GoldenScope":
        return GoldenScope(self.store, self.file, f"{self.prefix}.{suffix}")


def describe(path: Path) -> dict:
    data = path.read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}

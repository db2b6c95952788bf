"""Writes the tiny checkpoint in the official file formats, each with an expected-state.json
(key -> dtype, shape, sha256 of the contiguous little-endian bytes) so a TypeScript reader can
prove bit-identical reads without a second copy of the weights."""
from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file

from .qwen_llm import shipped_config_json
from .tiny_config import REPOSITORY_ROOT
from .torch_file import save_reproducibly

DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.int64: "int64",
    torch.int32: "int32",
    torch.uint8: "uint8",
    torch.bool: "bool",
}
# A copy of shared/fixtures/qwen2.5-tokenizer/resaved-transformers-5.1.0/generation_config.json
# (Qwen2.5-1.5B-Instruct's values), kept here so regeneration needs nothing outside the repo.
GENERATION_CONFIG = Path(__file__).resolve().parent / "data" / "generation_config.json"
TOKENIZER_CONFIG = REPOSITORY_ROOT / "assets" / "qwen2.5-tokenizer" / "tokenizer_config.json"


def raw_bytes(tensor: torch.Tensor) -> bytes:
    flat = tensor.detach().contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


def tensor_digest(tensor: torch.Tensor) -> dict:
    return {
        "dtype": DTYPE_NAMES[tensor.dtype],
        "shape": list(tensor.shape),
        "sha256": hashlib.sha256(raw_bytes(tensor)).hexdigest(),
    }


def expected_state(state: dict[str, torch.Tensor]) -> dict:
    """Adds how each tensor sits in its storage, for tests of offsets, strides and sharing."""
    described, first_key_of_storage = {}, {}
    for key, tensor in state.items():
        entry = tensor_digest(tensor)
        storage = tensor.untyped_storage().data_ptr()
        if storage in first_key_of_storage:
            entry["sharesStorageWith"] = first_key_of_storage[storage]
        else:
            first_key_of_storage[storage] = key
        if tensor.storage_offset() != 0 or not tensor.is_contiguous():
            entry["storageOffset"] = tensor.storage_offset()
            entry["stride"] = list(tensor.stride())
        described[key] = entry
    return described


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")


def write_unipic_checkpoint(model: torch.nn.Module, vae: torch.nn.Module, folder: Path, llm_config: dict, structure: dict) -> None:
    # Not part of the official layout: states the tiny structure (head counts, GroupNorm groups…)
    # that weights cannot, in the file `unipic convert` reads and `make-tiny` writes.
    write_json(folder / "unipic-config.json", structure)
    state = model.state_dict()  # tied llm.lm_head.weight shares embed_tokens' storage, as torch saves it
    save_reproducibly(state, folder / "pytorch_model.bin")
    write_json(folder / "expected-state.json", expected_state(state))

    vae_state = vae.state_dict()
    save_reproducibly({"model": vae_state}, folder / "kl16.ckpt")
    write_json(folder / "kl16.expected-state.json", expected_state(vae_state))

    qwen_folder = folder / "Qwen2.5-1.5B-Instruct"
    qwen_folder.mkdir(parents=True, exist_ok=True)
    write_json(qwen_folder / "config.json", shipped_config_json(llm_config))
    # HF save_pretrained drops the tied lm_head from safetensors; keys are `model.*`.
    llm_state = {
        key: tensor.detach().to(torch.bfloat16).contiguous()
        for key, tensor in model.llm.state_dict().items()
        if key != "lm_head.weight"
    }
    save_file(llm_state, str(qwen_folder / "model.safetensors"), metadata={"format": "pt"})
    write_json(folder / "Qwen2.5-1.5B-Instruct.expected-state.json", expected_state(llm_state))
    shutil.copyfile(TOKENIZER_CONFIG, qwen_folder / "tokenizer_config.json")
    shutil.copyfile(GENERATION_CONFIG, qwen_folder / "generation_config.json")


def write_bf16_checkpoint(model: torch.nn.Module, folder: Path) -> None:
    # Casting the module (not each tensor) keeps the embedding / lm_head tie in one storage.
    state = copy.deepcopy(model).to(torch.bfloat16).state_dict()
    save_reproducibly(state, folder / "pytorch_model.bin")
    write_json(folder / "expected-state.json", expected_state(state))


def odd_state(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Storage layouts a reader must handle: views with offsets and strides into one shared
    storage, half-precision dtypes, integers and 0-d tensors."""
    base = torch.randn(4, 6, generator=generator)
    return {
        "odd.base": base,
        "odd.transposed": base.t(),  # strides (1, 6) into base's storage
        "odd.rows": base[1:3],  # storage offset 6
        "odd.column": base[:, 2],  # storage offset 2, stride 6
        "odd.half": torch.randn(3, 5, generator=generator).to(torch.float16),
        "odd.bfloat16": torch.randn(7, generator=generator).to(torch.bfloat16),
        "odd.half_transposed": torch.randn(2, 3, generator=generator).to(torch.float16).t(),
        "odd.int64": torch.tensor([-3, 0, 151665], dtype=torch.int64),
        "odd.scalar": torch.tensor(0.2325, dtype=torch.float32),
        "odd.steps": torch.tensor(1000, dtype=torch.int64),
    }


def write_odd_checkpoint(generator: torch.Generator, folder: Path) -> None:
    state = odd_state(generator)  # a plain dict (the other files hold OrderedDicts)
    save_reproducibly(state, folder / "pytorch_model.bin")
    write_json(folder / "expected-state.json", expected_state(state))

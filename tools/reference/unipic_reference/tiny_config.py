"""The tiny UniPic dimensions, read from src/families/unipic1/convert/tiny/tiny-config.json (shared with the
TypeScript `make-tiny`), plus the few derived values every module needs."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
TINY_CONFIG_PATH = REPOSITORY_ROOT / "src" / "families" / "unipic1" / "convert" / "tiny" / "tiny-config.json"

# The tiny config has no SigLIP section: the tower is unused by every released pipeline, so
# the oracle only writes a few fake `siglip2.vision_model.*` tensors of this width and
# a `siglip2_proj` that reads it (1152 in the real model).
SIGLIP_HIDDEN_SIZE = 16


@dataclass(frozen=True)
class TinyConfig:
    llm: dict
    mar: dict
    diffloss: dict
    vae: dict
    resolutions: tuple[int, ...]
    seed: int

    @property
    def head_dim(self) -> int:
        return self.llm["hidden_size"] // self.llm["num_attention_heads"]

    @property
    def buffer_size(self) -> int:
        return self.mar["buffer_size"]

    @property
    def token_embed_dim(self) -> int:
        return self.mar["token_embed_dim"]

    @property
    def native_grid(self) -> int:
        """Side of the latent grid the learned position tables were trained for."""
        return self.mar["img_size"] // self.mar["vae_stride"] // self.mar["patch_size"]

    def grid_for(self, image_size: int) -> int:
        return image_size // self.mar["vae_stride"] // self.mar["patch_size"]


def load_tiny_config(path: Path = TINY_CONFIG_PATH) -> TinyConfig:
    raw = json.loads(path.read_text())
    return TinyConfig(
        llm=raw["llm"],
        mar=raw["mar"],
        diffloss=raw["diffloss"],
        vae=raw["vae"],
        resolutions=tuple(raw["resolutions"]),
        seed=int(raw["seed"]),
    )

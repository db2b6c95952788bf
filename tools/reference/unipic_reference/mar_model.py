"""MAR encoder/decoder (MAR-Huge), written from the UniPic-1 spec (shared/docs, outside the repository) around timm 0.9.12 `Block`
(the exact block the official code instantiates). Attribute names give the official `mar.*` keys.

The graph-contract views (docs/model-format.md) are exposed next to the full forward passes:
`encode_known` takes the known latents and the gathered position rows exactly like the
`mar_encoder` graph, `decode_scattered` takes `scatter_idx` and `fill` like `mar_decoder`."""
from __future__ import annotations

from functools import partial

import torch
from timm.models.vision_transformer import Block
from torch import nn

from .diffusion_head import DiffusionLoss
from .position_tables import PositionTables


class MarReference(nn.Module):
    def __init__(self, mar: dict, diffloss: dict):
        super().__init__()
        width = mar["encoder_embed_dim"]
        decoder_width = mar["decoder_embed_dim"]
        grid = mar["img_size"] // mar["vae_stride"] // mar["patch_size"]
        self.buffer_size = mar["buffer_size"]
        self.native_grid = grid
        self.token_embed_dim = mar["token_embed_dim"]
        norm = partial(nn.LayerNorm, eps=mar["layer_norm_eps"])

        def blocks(dim: int, depth: int, heads: int) -> nn.ModuleList:
            return nn.ModuleList(
                Block(dim, heads, mar["mlp_ratio"], qkv_bias=True, norm_layer=norm) for _ in range(depth)
            )

        self.class_emb = nn.Embedding(mar["class_num"], width)  # ImageNet leftover, never read
        self.fake_latent = nn.Parameter(torch.zeros(1, width))
        self.z_proj = nn.Linear(self.token_embed_dim, width)
        self.z_proj_ln = norm(width)
        self.encoder_pos_embed_learned = nn.Parameter(torch.zeros(1, self.buffer_size + grid * grid, width))
        self.encoder_blocks = blocks(width, mar["encoder_depth"], mar["encoder_num_heads"])
        self.encoder_norm = norm(width)

        self.decoder_embed = nn.Linear(width, decoder_width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_width))
        self.decoder_pos_embed_learned = nn.Parameter(torch.zeros(1, self.buffer_size + grid * grid, decoder_width))
        self.decoder_blocks = blocks(decoder_width, mar["decoder_depth"], mar["decoder_num_heads"])
        self.decoder_norm = norm(decoder_width)
        self.diffusion_pos_embed_learned = nn.Parameter(torch.zeros(1, grid * grid, decoder_width))

        self.diffloss = DiffusionLoss(
            diffloss["target_channels"], diffloss["z_channels"], diffloss["width"], diffloss["depth"]
        )

    # ---- encoder -------------------------------------------------------------------------
    def encode_known(self, known_latents: torch.Tensor, gathered_pos: torch.Tensor) -> torch.Tensor:
        """`mar_encoder` without proj_in: known_latents [B, K, C] in raster order, gathered_pos
        [B or 1, F+K, W] (buffer rows, then the rows F+p of each known p) -> x_enc [B, F+K, W].
        Dropping masked tokens before the blocks equals the official "fill everything, add the
        table, LayerNorm, then drop": every step up to the drop is per token."""
        batch = known_latents.shape[0]
        projected = self.z_proj(known_latents)
        buffers = self.fake_latent.expand(batch, self.buffer_size, -1).to(projected.dtype)
        x = self.z_proj_ln(torch.cat([buffers, projected], dim=1) + gathered_pos)
        for block in self.encoder_blocks:
            x = block(x)
        return self.encoder_norm(x)

    def encode(self, tokens: torch.Tensor, mask: torch.Tensor, tables: PositionTables) -> torch.Tensor:
        """Full-grid view: tokens [B, N, C], mask [B, N] (1 = unknown; same count per row)."""
        known_positions = known_position_lists(mask)
        latents = torch.stack([tokens[row, positions] for row, positions in enumerate(known_positions)])
        return self.encode_known(latents, gather_encoder_rows(tables.encoder_pos, known_positions, self.buffer_size))

    # ---- decoder -------------------------------------------------------------------------
    def decode_scattered(
        self, x_enc: torch.Tensor, scatter_index: torch.Tensor, fill: torch.Tensor, tables: PositionTables
    ) -> torch.Tensor:
        """`mar_decoder` after the proj_out residual: x_enc [B, F+K, W], scatter_index [B, F+K]
        (slot of each row in the F+N sequence), fill [B, F+N, W] already embedded -> z [B, N, W]."""
        embedded = self.decoder_embed(x_enc)
        x = fill.clone()
        for row in range(x.shape[0]):
            x[row, scatter_index[row]] = embedded[row]
        x = x + tables.decoder_pos[None]
        for block in self.decoder_blocks:
            x = block(x)
        x = self.decoder_norm(x)[:, self.buffer_size :]
        return x + tables.diffusion_pos[None]

    def mask_token_fill(self, batch: int, image_tokens: int) -> torch.Tensor:
        return self.mask_token.expand(batch, self.buffer_size + image_tokens, -1).clone()

    def decode(
        self, x_enc: torch.Tensor, mask: torch.Tensor, tables: PositionTables, x_con: torch.Tensor | None = None
    ) -> torch.Tensor:
        batch, image_tokens = mask.shape
        fill = self.decoder_embed(x_con) if x_con is not None else self.mask_token_fill(batch, image_tokens)
        return self.decode_scattered(x_enc, scatter_indices(mask, self.buffer_size), fill, tables)


def known_position_lists(mask: torch.Tensor) -> list[torch.Tensor]:
    positions = [torch.nonzero(row == 0, as_tuple=False).flatten() for row in mask]
    if len({len(p) for p in positions}) > 1:
        raise ValueError("every row must know the same number of tokens")
    return positions


def gather_encoder_rows(encoder_pos: torch.Tensor, known_positions: list[torch.Tensor], buffer_size: int) -> torch.Tensor:
    rows = [torch.cat([torch.arange(buffer_size), buffer_size + positions]) for positions in known_positions]
    return torch.stack([encoder_pos[index] for index in rows])


def scatter_indices(mask: torch.Tensor, buffer_size: int) -> torch.Tensor:
    """[B, F+K] int64: 0..F−1 for the buffers, F+p for each known position p (raster order)."""
    return torch.stack(
        [torch.cat([torch.arange(buffer_size), buffer_size + positions]) for positions in known_position_lists(mask)]
    )

"""The Metaquery conditioner, written from the UniPic-2 spec (shared/docs, outside the repository), not from the official code.

Parameter names follow the Skywork `conditioner/` checkpoint: `meta_queries`, `projector_{1,2,3}`,
`connector.layers.{i}.{layer_norm1,self_attn.{q,k,v,out}_proj,layer_norm2,mlp.fc1,mlp.fc2}`.
"""

import torch
from torch import nn
from torch.nn import functional as F


class _Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        head_dim = width // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, head_dim).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        # Full bidirectional attention: no mask, no positions, scale 1/sqrt(head_dim).
        weights = torch.softmax((q @ k.transpose(-1, -2)) * head_dim**-0.5, dim=-1)
        return self.out_proj((weights @ v).transpose(1, 2).reshape(batch, length, width))


class _Mlp(nn.Module):
    def __init__(self, width: int, inner: int):
        super().__init__()
        self.fc1 = nn.Linear(width, inner)
        self.fc2 = nn.Linear(inner, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class _Layer(nn.Module):
    def __init__(self, width: int, inner: int, heads: int, eps: float):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width, eps=eps)
        self.self_attn = _Attention(width, heads)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps)
        self.mlp = _Mlp(width, inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class _Connector(nn.Module):
    def __init__(self, width: int, inner: int, depth: int, heads: int, eps: float):
        super().__init__()
        self.layers = nn.ModuleList([_Layer(width, inner, heads, eps) for _ in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class Conditioner(nn.Module):
    """hidden [B, Q, llm] → (prompt_embeds [B, Q, joint], pooled [B, pooled])."""

    def __init__(self, config: dict):
        super().__init__()
        c = config["connector_config"]
        width = c["hidden_size"]
        self.connector = _Connector(width, c["intermediate_size"], c["num_hidden_layers"], c["num_attention_heads"], c.get("layer_norm_eps", 1e-6))
        self.projector_1 = nn.Linear(config["llm_hidden_size"], width)
        self.projector_2 = nn.Linear(width, config["pooled_projection_dim"])
        self.projector_3 = nn.Linear(width, config["joint_attention_dim"])
        self.meta_queries = nn.Parameter(torch.zeros(config["num_queries"], config["llm_hidden_size"]))

    def forward(self, hidden: torch.Tensor):
        x = self.connector(self.projector_1(hidden))
        return self.projector_3(x), self.projector_2(x.mean(1))

"""The Qwen2.5 decoder as the HF implementation (transformers 4.45.2, eager attention, fp32),
plus the `llm` graph-contract call (docs/model-format.md) and the shipped config.json schema."""
from __future__ import annotations

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM
from transformers.cache_utils import DynamicCache

PastKeyValues = tuple[tuple[torch.Tensor, torch.Tensor], ...]


def qwen_config(llm: dict) -> Qwen2Config:
    return Qwen2Config(
        vocab_size=llm["vocab_size"],
        hidden_size=llm["hidden_size"],
        intermediate_size=llm["intermediate_size"],
        num_hidden_layers=llm["num_hidden_layers"],
        num_attention_heads=llm["num_attention_heads"],
        num_key_value_heads=llm["num_key_value_heads"],
        hidden_act="silu",
        max_position_embeddings=llm["max_position_embeddings"],
        rms_norm_eps=llm["rms_norm_eps"],
        rope_theta=llm["rope_theta"],
        tie_word_embeddings=llm["tie_word_embeddings"],
        use_sliding_window=False,
        bos_token_id=llm["bos_token_id"],
        eos_token_id=llm["eos_token_id"],
        attention_dropout=0.0,
        attn_implementation="eager",
    )


def build_qwen(llm: dict) -> Qwen2ForCausalLM:
    model = Qwen2ForCausalLM(qwen_config(llm))
    model.config._attn_implementation = "eager"
    return model.eval()


def shipped_config_json(llm: dict) -> dict:
    """config.json in the schema Qwen2.5-1.5B-Instruct ships (transformers 4.43.1), tiny dims."""
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": llm["bos_token_id"],
        "eos_token_id": llm["eos_token_id"],
        "hidden_act": "silu",
        "hidden_size": llm["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": llm["intermediate_size"],
        "max_position_embeddings": llm["max_position_embeddings"],
        "max_window_layers": 21,
        "model_type": "qwen2",
        "num_attention_heads": llm["num_attention_heads"],
        "num_hidden_layers": llm["num_hidden_layers"],
        "num_key_value_heads": llm["num_key_value_heads"],
        "rms_norm_eps": llm["rms_norm_eps"],
        "rope_theta": llm["rope_theta"],
        "sliding_window": 32768,
        "tie_word_embeddings": llm["tie_word_embeddings"],
        "torch_dtype": "bfloat16",
        "transformers_version": "4.43.1",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": llm["vocab_size"],
    }


@torch.no_grad()
def run_llm_body(
    llm: Qwen2ForCausalLM,
    inputs_embeds: torch.Tensor,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None,
    past: PastKeyValues | None,
) -> tuple[torch.Tensor, PastKeyValues]:
    """`llm` graph: last_hidden_state (after the final RMSNorm) and presents (past ++ new).
    A fresh cache object per call, so the caller's prefix tensors are never appended to —
    the equivalent of the official `curtail_cache` after every MAR iteration."""
    cache = DynamicCache.from_legacy_cache(tuple((k.clone(), v.clone()) for k, v in past) if past else None)
    output = llm.model(
        inputs_embeds=inputs_embeds,
        attention_mask=attention_mask,
        position_ids=position_ids,
        past_key_values=cache,
        use_cache=True,
        return_dict=True,
    )
    presents = tuple((k, v) for k, v in output.past_key_values.to_legacy_cache())
    return output.last_hidden_state, presents


def iteration_mask_and_positions(prefix_mask: torch.Tensor, block_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The MAR loop's LLM call: attention_mask = [prefix_mask | ones(L)], position_ids = cumsum − 1 (clamped
    at 0), last L entries — so each row's block continues from its own valid prefix length."""
    mask = torch.cat([prefix_mask.to(torch.int64), torch.ones(prefix_mask.shape[0], block_length, dtype=torch.int64)], dim=1)
    positions = torch.cumsum(mask, dim=1) - 1
    positions = positions.clamp(min=0)
    return mask, positions[:, -block_length:]

"""Image understanding (the official understanding script): prefill over [text | image features | text] and greedy decoding
with a growing KV cache. The loop is the `llm` + `lm_head` graph contract; `hf_generate` runs
transformers' own `generate` the way scripts/image2text.py calls it, to cross-check the loop and
to settle what the shipped generation_config.json (repetition_penalty 1.1) does."""
from __future__ import annotations

import torch
from transformers import GenerationConfig

from .golden_store import GoldenScope
from .qwen_llm import run_llm_body
from .unipic_model import UniPicReference


def penalise_repeats(logits: torch.Tensor, previous: list[int], penalty: float) -> torch.Tensor:
    """HF RepetitionPenaltyLogitsProcessor over the tokens generated so far: with inputs_embeds
    only, `generate` starts from an empty input_ids, so the prompt is never penalised."""
    if penalty == 1.0 or not previous:
        return logits
    adjusted = logits.clone()
    index = torch.tensor(sorted(set(previous)))
    picked = adjusted[index]
    adjusted[index] = torch.where(picked < 0, picked * penalty, picked / penalty)
    return adjusted


@torch.no_grad()
def greedy_decode(
    model: UniPicReference, prompt_embeds: torch.Tensor, max_new_tokens: int, eos_id: int, penalty: float, record: GoldenScope
) -> dict:
    """prompt_embeds [1, T, H]. Records per step the last hidden state fed to lm_head and the
    chosen id; returns the ids and the top-1/top-2 logit margins (how robust each argmax is)."""
    length = prompt_embeds.shape[1]
    attention = torch.ones(1, length, dtype=torch.int64)
    positions = torch.arange(length)[None]
    hidden, past = run_llm_body(model.llm, prompt_embeds, attention, positions, None)
    generated, hiddens, margins = [], [], []
    for _ in range(max_new_tokens):
        last = hidden[:, -1]
        hiddens.append(last[0])
        logits = penalise_repeats(model.lm_head(last)[0], generated, penalty)
        top = torch.topk(logits, 2).values
        margins.append(float(top[0] - top[1]))
        token = int(torch.argmax(logits))
        generated.append(token)
        if token == eos_id:
            break
        step_embeds = model.embed(torch.tensor([[token]]))
        total = past[0][0].shape[2] + 1
        hidden, past = run_llm_body(
            model.llm, step_embeds, torch.ones(1, total, dtype=torch.int64), torch.tensor([[total - 1]]), past
        )
    record.put("hidden", torch.stack(hiddens))
    record.put("token_ids", torch.tensor(generated, dtype=torch.int64))
    return {"tokenIds": generated, "logitMargins": margins}


@torch.no_grad()
def hf_generate(model: UniPicReference, prompt_embeds: torch.Tensor, max_new_tokens: int, generation_config: dict | None) -> list[int]:
    config = GenerationConfig(**generation_config) if generation_config else GenerationConfig()
    model.llm.generation_config = config
    output = model.llm.generate(
        inputs_embeds=prompt_embeds,
        use_cache=True,
        do_sample=False,
        max_new_tokens=max_new_tokens,
        eos_token_id=151645,
        pad_token_id=151643,
    )
    return output[0].tolist()

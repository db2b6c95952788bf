"""Tiny UniPic2-Metaquery checkpoint + golden tensors (Qwen2.5-VL, the conditioner, the official MQ scripts' conditioning).

Writes test/fixtures/metaquery/:
  checkpoint/Qwen2.5-VL-7B-Instruct/  tiny Qwen2.5-VL in the published folder layout (bf16, sharded)
  checkpoint/conditioner/             tiny conditioner in the Skywork layout (bf16)
  image.png                           the 256×320 test image
  golden.safetensors, golden.json     golden tensors and text renderings (documented in README.md)

Deterministic: fixed seeds, CPU, float32 maths on the bf16-rounded weights.
"""

import json
import os
import shutil
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor
from transformers.models.qwen2_vl.image_processing_qwen2_vl_fast import Qwen2VLImageProcessorFast

from conditioner import Conditioner

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "metaquery")
TOKENIZER = os.path.join(ROOT, "assets", "qwen2.5-tokenizer")
VLM = os.path.join(OUT, "checkpoint", "Qwen2.5-VL-7B-Instruct")
COND = os.path.join(OUT, "checkpoint", "conditioner")

# The Qwen2.5-VL-7B-Instruct chat template (chat_template.json of the published repository).
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}"
    "<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# What the UniPic-2 scripts remove from it (unipic2_mq_t2i.py, _editing.py, _i2t.py).
SYSTEM_CLAUSE = "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"

# Published Qwen2.5-VL-7B-Instruct config.json schema, tiny numbers (after diffusers'
# `test_qwenimage_edit_plus.py`). Deviations, to keep the
# committed files small: text width 16 (2 heads, 1 KV head), and tied embeddings (no lm_head.weight;
# the 7B has an untied lm_head, which make-tiny's checkpoint exercises).
VLM_CONFIG = {
    "architectures": ["Qwen2_5_VLForConditionalGeneration"],
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "vision_start_token_id": 151652,
    "vision_end_token_id": 151653,
    "vision_token_id": 151654,
    "image_token_id": 151655,
    "video_token_id": 151656,
    "hidden_act": "silu",
    "hidden_size": 16,
    "initializer_range": 0.02,
    "intermediate_size": 32,
    "max_position_embeddings": 128000,
    "max_window_layers": 28,
    "model_type": "qwen2_5_vl",
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "num_key_value_heads": 1,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "sliding_window": 32768,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.41.2",
    "use_cache": True,
    "use_sliding_window": False,
    "vision_config": {
        "depth": 4,
        "hidden_act": "silu",
        "hidden_size": 32,
        "intermediate_size": 48,
        "num_heads": 2,
        "in_chans": 3,
        "out_hidden_size": 16,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "spatial_patch_size": 14,
        "window_size": 112,
        "fullatt_block_indexes": [1, 3],
        "tokens_per_second": 2,
        "temporal_patch_size": 2,
    },
    "rope_scaling": {"type": "mrope", "mrope_section": [1, 1, 2]},
    "vocab_size": 152064,
}
GENERATION_CONFIG = {
    "bos_token_id": 151643,
    "pad_token_id": 151643,
    "do_sample": True,
    "eos_token_id": [151645, 151643],
    "repetition_penalty": 1.05,
    "temperature": 0.1,
    "top_p": 0.001,
    "top_k": 1,
    "transformers_version": "4.41.2",
}
PREPROCESSOR_CONFIG = {
    "min_pixels": 3136,
    "max_pixels": 12845056,
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "image_processor_type": "Qwen2VLImageProcessor",
    "processor_class": "Qwen2_5_VLProcessor",
}
# Skywork conditioner/config.json (diffusers ConfigMixin) with the stub's connector keys (`_attn_implementation` must be set).
COND_CONFIG = {
    "_class_name": "StableDiffusion3Conditioner",
    "_diffusers_version": "0.35.0.dev0",
    "connector_config": {
        "_attn_implementation": "flash_attention_2",
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_attention_heads": 2,
        "num_hidden_layers": 2,
    },
    "joint_attention_dim": 32,
    "llm_hidden_size": 16,
    "num_queries": 8,
    "pooled_projection_dim": 24,
}

PROMPT_UNDERSTAND = "Describe the image in detail."
PROMPT_T2I = "a red cube on a wooden table"
PROMPT_EDIT = "make the sky purple"
NEGATIVE_EDIT = "blurry, low quality"
MAX_NEW_TOKENS = 10
VLM_SEED = int(os.environ.get("MQ_VLM_SEED", "3"))

goldens: dict[str, torch.Tensor] = {}
notes: dict = {}


def put(name: str, tensor: torch.Tensor) -> None:
    t = tensor.detach().cpu()
    goldens[name] = t if t.dtype == torch.uint8 else (t.to(torch.float32) if t.is_floating_point() else t.to(torch.int64)).contiguous()


def randomize(module: torch.nn.Module, seed: int) -> None:
    """O(1) activations everywhere: weights ~ N(0, 1/fan_in), biases ~ N(0, 0.1), norms ~ 1 + N(0, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            if p.ndim >= 2:
                fan_in = p[0].numel()
                scale = 1.0 if ("embed_tokens" in name or "meta_queries" in name) else fan_in**-0.5
                p.copy_(torch.randn(p.shape, generator=g) * scale)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
            # Round to bf16 (the published dtype) so the float32 maths below uses the stored values.
            p.copy_(p.to(torch.bfloat16).to(torch.float32))


def test_image() -> Image.Image:
    """256 (H) × 320 (W) smooth colour pattern with edges (deterministic, no RNG)."""
    y, x = np.mgrid[0:256, 0:320].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / 17.0) * np.cos(y / 23.0)
    g = 255.0 * ((x + 2 * y) % 97) / 96.0
    b = np.where((x // 40 + y // 32) % 2 == 0, 40.0, 215.0)
    return Image.fromarray(np.stack([r, g, b], -1).round().clip(0, 255).astype(np.uint8), "RGB")


def write_tokenizer(folder: str) -> None:
    # vocab.json / merges.txt (4.4 MB) are not committed: tests copy them from assets/qwen2.5-tokenizer.
    with open(os.path.join(TOKENIZER, "tokenizer_config.json")) as fh:
        tc = json.load(fh)
    tc["chat_template"] = CHAT_TEMPLATE
    tc["model_max_length"] = 131072
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as fh:
        json.dump(tc, fh, indent=2, ensure_ascii=False)
    with open(os.path.join(folder, "chat_template.json"), "w") as fh:
        json.dump({"chat_template": CHAT_TEMPLATE}, fh, indent=2, ensure_ascii=False)


def build_vlm() -> None:
    os.makedirs(VLM, exist_ok=True)
    from transformers import Qwen2_5_VLConfig

    model = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**VLM_CONFIG)).eval()
    randomize(model, VLM_SEED)
    model.to(torch.bfloat16).save_pretrained(VLM, max_shard_size="3MB", safe_serialization=True)
    # save_pretrained writes the new-style config; replace it with the published schema.
    for name, data in (("config.json", VLM_CONFIG), ("generation_config.json", GENERATION_CONFIG), ("preprocessor_config.json", PREPROCESSOR_CONFIG)):
        with open(os.path.join(VLM, name), "w") as fh:
            json.dump(data, fh, indent=2)
    write_tokenizer(VLM)


def build_conditioner() -> Conditioner:
    os.makedirs(COND, exist_ok=True)
    cond = Conditioner(COND_CONFIG).eval()
    randomize(cond, 1)
    state = {k: v.to(torch.bfloat16).contiguous() for k, v in cond.state_dict().items()}
    save_file(state, os.path.join(COND, "diffusion_pytorch_model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(COND, "config.json"), "w") as fh:
        json.dump(COND_CONFIG, fh, indent=2)
    return cond


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    if os.path.exists(os.path.join(OUT, "checkpoint")):
        shutil.rmtree(os.path.join(OUT, "checkpoint"))
    os.makedirs(OUT, exist_ok=True)
    build_vlm()
    cond_built = build_conditioner()

    # Everything below runs on the files as written (the published layout), in float32.
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(VLM, torch_dtype=torch.float32, attn_implementation="eager").eval()
    assert isinstance(model.model.visual.blocks[0].attn, torch.nn.Module)
    for f in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(TOKENIZER, f), os.path.join(VLM, f))
    processor = Qwen2_5_VLProcessor.from_pretrained(VLM)
    for f in ("vocab.json", "merges.txt"):
        os.remove(os.path.join(VLM, f))
    assert isinstance(processor.image_processor, Qwen2VLImageProcessorFast), type(processor.image_processor)
    assert SYSTEM_CLAUSE in processor.chat_template
    processor.chat_template = processor.chat_template.replace(SYSTEM_CLAUSE, "")
    cond = Conditioner(COND_CONFIG).eval()
    from safetensors.torch import load_file

    cond.load_state_dict({k: v.float() for k, v in load_file(os.path.join(COND, "diffusion_pytorch_model.safetensors")).items()})
    assert all(torch.equal(a, b) for a, b in zip(cond.state_dict().values(), cond_built.state_dict().values()))

    image = test_image()
    image.save(os.path.join(OUT, "image.png"))
    tok = processor.tokenizer
    visual = model.model.visual

    ip = processor.image_processor

    def vision_goldens(prefix: str, pixel_values: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        # The resized uint8 image (torchvision bicubic + antialias, as the fast processor resizes); the
        # patches are an exact function of it, checked here, so only a slice of them is stored.
        chw = torch.from_numpy(np.asarray(image)).permute(2, 0, 1)[None].contiguous()
        hh, ww = int(grid[0, 1]) * 14, int(grid[0, 2]) * 14
        from torchvision.transforms.v2 import functional as TF
        from torchvision.transforms import InterpolationMode

        resized = TF.resize(chw, [hh, ww], interpolation=InterpolationMode.BICUBIC, antialias=True)
        mean = torch.tensor(ip.image_mean) * (1.0 / ip.rescale_factor)
        std = torch.tensor(ip.image_std) * (1.0 / ip.rescale_factor)
        norm = (resized.float() - mean[None, :, None, None]) / std[None, :, None, None]
        gh, gw = hh // 14, ww // 14
        mine = norm[:, None].repeat(1, 2, 1, 1, 1).view(1, 2, 3, gh // 2, 2, 14, gw // 2, 2, 14).permute(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gh * gw, 1176)
        assert torch.equal(mine, pixel_values), "patches are not normalize∘patchify of the torchvision resize"
        goldens[f"{prefix}.resized"] = resized[0].permute(1, 2, 0).contiguous().to(torch.uint8)
        put(f"{prefix}.pixel_values.head", pixel_values[:6])
        put(f"{prefix}.grid_thw", grid)
        window_index, cu_window = visual.get_window_index(grid)
        cu_window = torch.unique_consecutive(torch.tensor(cu_window, dtype=torch.int64))
        put(f"{prefix}.window_index", window_index)
        put(f"{prefix}.cu_window_seqlens", cu_window)
        cu = torch.repeat_interleave(grid[:, 1] * grid[:, 2], grid[:, 0]).cumsum(0)
        put(f"{prefix}.cu_seqlens", torch.nn.functional.pad(cu, (1, 0)))
        put(f"{prefix}.rotary_pos_emb", visual.rot_pos_emb(grid))
        records = {}
        hooks = [visual.patch_embed.register_forward_hook(lambda m, i, o: records.__setitem__("patch_embed", o))]
        for b, block in enumerate(visual.blocks):
            hooks.append(block.register_forward_hook(lambda m, i, o, b=b: records.__setitem__(f"block.{b}", o)))
        hooks.append(visual.merger.register_forward_hook(lambda m, i, o: records.__setitem__("merger", o)))
        with torch.no_grad():
            out = visual(pixel_values, grid_thw=grid)
        for h in hooks:
            h.remove()
        for k, v in records.items():
            put(f"{prefix}.{k}", v)
        put(f"{prefix}.image_embeds", out)
        return out

    # --- Understanding (i2t script): default min/max pixels, fast processor, M-RoPE, generate. ---
    messages = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": PROMPT_UNDERSTAND}]}]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    notes["understand.text"] = text
    inputs = processor(text=[text], images=[image], padding=True, return_tensors="pt")
    put("understand.input_ids", inputs.input_ids[0])
    vision_goldens("understand.vision", inputs.pixel_values, inputs.image_grid_thw)
    position_ids, rope_deltas = model.model.get_rope_index(inputs.input_ids, inputs.image_grid_thw, None, inputs.attention_mask)
    put("understand.position_ids", position_ids[:, 0])
    put("understand.rope_deltas", rope_deltas.reshape(-1))
    with torch.no_grad():
        prefill = model(**inputs, use_cache=False)
        generated = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS)
    new_tokens = generated[0, inputs.input_ids.shape[1]:]
    put("understand.tokens", new_tokens)
    notes["understand.generation"] = {k: GENERATION_CONFIG[k] for k in ("do_sample", "top_k", "top_p", "temperature", "repetition_penalty", "eos_token_id")}
    notes["understand.max_new_tokens"] = MAX_NEW_TOKENS
    notes["understand.decoded"] = tok.decode(new_tokens, skip_special_tokens=True)
    # Greedy margins of the processed (repetition-penalised) logits along the generated path.
    margins = []
    with torch.no_grad():
        seq = inputs.input_ids
        for k in range(len(new_tokens)):
            extra = {"pixel_values": inputs.pixel_values, "image_grid_thw": inputs.image_grid_thw}
            logits = model(input_ids=seq, attention_mask=torch.ones_like(seq), **extra, use_cache=False).logits[0, -1]
            prev = torch.unique(seq[0])
            score = logits.clone()
            picked = score[prev]
            score[prev] = torch.where(picked < 0, picked * 1.05, picked / 1.05)
            top = torch.topk(score, 2)
            assert int(top.indices[0]) == int(new_tokens[k]), "greedy replay disagrees with generate"
            margins.append(float(top.values[0] - top.values[1]))
            seq = torch.cat([seq, new_tokens[None, k : k + 1]], 1)
    notes["understand.logit_margins"] = margins

    # --- Text-to-image (t2i script): queries appended, 1-D positions, batch of 2 right-padded. ---
    nq = COND_CONFIG["num_queries"]
    texts = [
        processor.apply_chat_template([{"role": "user", "content": [{"type": "text", "text": f"Generate an image: {t}"}]}], tokenize=False, add_generation_prompt=True)
        for t in (PROMPT_T2I, "")
    ]
    notes["t2i.texts"] = texts
    enc = processor(text=texts, images=None, videos=None, padding=True, return_tensors="pt")
    assert tok.padding_side == "right"
    for row in range(2):
        put(f"t2i.input_ids.{row}", enc.input_ids[row][enc.attention_mask[row].bool()])
    ids = torch.cat([enc.input_ids, enc.input_ids.new_zeros(2, nq)], 1)
    mask = torch.cat([enc.attention_mask, enc.attention_mask.new_ones(2, nq)], 1)
    with torch.no_grad():
        embeds = model.get_input_embeddings()(ids)
        embeds[:, -nq:] = cond.meta_queries[None].expand(2, -1, -1)
        hidden = model.model(inputs_embeds=embeds, attention_mask=mask, use_cache=False).last_hidden_state[:, -nq:]
        # The same with explicit 1-D positions cumsum(mask)−1 (what transformers falls back to without input_ids): must agree exactly.
        pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        again = model.model(inputs_embeds=embeds, attention_mask=mask, position_ids=pos[None].expand(3, -1, -1), use_cache=False).last_hidden_state[:, -nq:]
        assert torch.equal(hidden, again)
        prompt_embeds, pooled = cond(hidden)
    put("t2i.query_hidden", hidden)
    put("t2i.prompt_embeds", prompt_embeds)
    put("t2i.pooled_prompt_embeds", pooled)

    # --- Editing (editing script): image in the user turn, vision at 7/8 (28/32 rule), 1-D positions. ---
    h, w = image.height, image.width
    edit_pixels = int(h * 28 / 32 * w * 28 / 32)
    texts = [
        processor.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": t}]}], tokenize=False, add_generation_prompt=True)
        for t in (PROMPT_EDIT, NEGATIVE_EDIT)
    ]
    notes["edit.texts"] = texts
    notes["edit.min_max_pixels"] = edit_pixels
    enc = processor(text=texts, images=[image] * 2, videos=None, padding=True, return_tensors="pt", min_pixels=edit_pixels, max_pixels=edit_pixels)
    for row in range(2):
        put(f"edit.input_ids.{row}", enc.input_ids[row][enc.attention_mask[row].bool()])
    half = enc.pixel_values.shape[0] // 2
    assert torch.equal(enc.pixel_values[:half], enc.pixel_values[half:])
    image_embeds = vision_goldens("edit.vision", enc.pixel_values[:half], enc.image_grid_thw[:1])
    ids = torch.cat([enc.input_ids, enc.input_ids.new_zeros(2, nq)], 1)
    mask = torch.cat([enc.attention_mask, enc.attention_mask.new_ones(2, nq)], 1)
    with torch.no_grad():
        embeds = model.get_input_embeddings()(ids)
        embeds[:, -nq:] = cond.meta_queries[None].expand(2, -1, -1)
        slots = ids == VLM_CONFIG["image_token_id"]
        embeds[slots] = torch.cat([image_embeds, image_embeds], 0)
        model.model.rope_deltas = None
        hidden = model.model(inputs_embeds=embeds, attention_mask=mask, image_grid_thw=enc.image_grid_thw, use_cache=False).last_hidden_state[:, -nq:]
        prompt_embeds, pooled = cond(hidden)
    put("edit.query_hidden", hidden)
    put("edit.prompt_embeds", prompt_embeds)
    put("edit.pooled_prompt_embeds", pooled)

    # --- Processor edge cases: the min_pixels (upscale) and max_pixels (downscale) branches, odd crops. ---
    cases = {
        "upscale": ((0, 0, 90, 61), 56 * 56 * 4, 12845056),  # 90×61 crop, min 50176 px → upscaled
        "maxpx": ((3, 5, 317, 250), 3136, 28 * 28 * 30),  # 314×245 crop, max 23520 px → downscaled
    }
    for name, (box, lo, hi) in cases.items():
        crop = image.crop(box)
        out = processor.image_processor(images=[crop], min_pixels=lo, max_pixels=hi, return_tensors="pt")
        grid = out.image_grid_thw
        gh, gw = int(grid[0, 1]), int(grid[0, 2])
        from torchvision.transforms.v2 import functional as TF2
        from torchvision.transforms import InterpolationMode as IM

        chw = torch.from_numpy(np.array(crop)).permute(2, 0, 1)[None].contiguous()
        resized = TF2.resize(chw, [gh * 14, gw * 14], interpolation=IM.BICUBIC, antialias=True)
        mean = torch.tensor(ip.image_mean) * (1.0 / ip.rescale_factor)
        std = torch.tensor(ip.image_std) * (1.0 / ip.rescale_factor)
        norm = (resized.float() - mean[None, :, None, None]) / std[None, :, None, None]
        mine = norm[:, None].repeat(1, 2, 1, 1, 1).view(1, 2, 3, gh // 2, 2, 14, gw // 2, 2, 14).permute(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gh * gw, 1176)
        assert torch.equal(mine, out.pixel_values)
        goldens[f"processor.{name}.resized"] = resized[0].permute(1, 2, 0).contiguous()
        put(f"processor.{name}.grid_thw", grid)
        notes[f"processor.{name}"] = {"box": list(box), "min_pixels": lo, "max_pixels": hi}

    # --- Conditioner on a fixed random input (component test). ---
    g = torch.Generator().manual_seed(7)
    x = torch.randn(2, nq, COND_CONFIG["llm_hidden_size"], generator=g)
    with torch.no_grad():
        pe, pp = cond(x)
    put("conditioner.input", x)
    put("conditioner.prompt_embeds", pe)
    put("conditioner.pooled_prompt_embeds", pp)

    save_file(goldens, os.path.join(OUT, "golden.safetensors"), metadata={"format": "pt"})
    notes["tensors"] = {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in goldens.items()}
    notes["generator"] = f"tools/reference/unipic2_mq_reference (torch {torch.__version__}, transformers {__import__('transformers').__version__})"
    with open(os.path.join(OUT, "golden.json"), "w") as fh:
        json.dump(notes, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("min greedy margin", min(margins), "decoded", repr(notes["understand.decoded"]))


if __name__ == "__main__":
    sys.exit(main())

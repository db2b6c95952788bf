"""UniPic-3 prompt side (`qwen_image_edit/pipeline_qwenimage_edit.py`): the official template with its system message, two
images inside the user turn, full t/h/w M-RoPE positions (input_ids are passed), the text encoder's
last hidden state and the drop of the first 64 tokens — for the conditional prompt and the " "
negative prompt with the same images.

The text encoder is the MetaQuery fixture's tiny Qwen2.5-VL (test/fixtures/metaquery/checkpoint,
text width 16 = the tiny transformer's joint_attention_dim), so no second VLM is committed. Needs
transformers (4.55.0) and Pillow 12.3.0 — the unipic3 pins; Pillow 13.0 resizes an image that
shrinks one axis and grows the other differently in the last bit, and the TS resizer follows 12.3.
Writes test/fixtures/unipic3/prompt/golden.{safetensors,json}.
Deterministic: no RNG (patterned images), CPU, float32 maths on the bf16-stored weights.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
VLM = os.path.join(ROOT, "test", "fixtures", "metaquery", "checkpoint", "Qwen2.5-VL-7B-Instruct")
TOKENIZER = os.path.join(ROOT, "assets", "qwen2.5-tokenizer")
OUT = os.path.join(ROOT, "test", "fixtures", "unipic3", "prompt")

# qwen_image_edit/pipeline_qwenimage_edit.py L226.
SYSTEM = ("Describe the key features of the input image (color, shape, size, texture, objects, background), then explain "
          "how the user's text instruction should alter or modify the image. Generate a new image that meets the user's "
          "requirements while maintaining consistency with the original input where appropriate.")
DROP = 64  # prompt_template_encode_start_idx (L228, L311)
INSTRUCTION = "put the cat from the second picture on the sofa"
# (width, height) of the two inputs; any sizes share the 1024² budget.
SIZES = [(150, 100), (80, 120)]


def pattern(width: int, height: int, k: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / (11.0 + 4 * k)) * np.cos(y / 19.0)
    g = 255.0 * ((x + (2 + k) * y) % 89) / 88.0
    b = np.where((x // (24 + 8 * k) + y // 28) % 2 == 0, 30.0, 220.0)
    return Image.fromarray(np.stack([r, g, b], -1).round().clip(0, 255).astype(np.uint8), "RGB")


def budget(images: list[Image.Image]) -> list[Image.Image]:
    """L684–687 and resize_to_multiple_of (L166–173): Python round, PIL's default bicubic, twice."""
    ratio = 1024 / sum(im.width * im.height for im in images) ** 0.5
    out = []
    for im in images:
        im = im.resize((round(im.width * ratio), round(im.height * ratio)), Image.BICUBIC)
        out.append(im.resize((round(im.width / 32) * 32, round(im.height / 32) * 32), Image.BICUBIC))
    return out


def load_text_encoder():
    with tempfile.TemporaryDirectory() as folder:
        # The fixture leaves out vocab.json / merges.txt (tests copy them from assets/); so does this.
        shutil.copytree(VLM, folder, dirs_exist_ok=True)
        for f in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(TOKENIZER, f), os.path.join(folder, f))
        processor = Qwen2_5_VLProcessor.from_pretrained(folder)
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager").eval()
    return processor, model


def vl_copies(sized: list[Image.Image]) -> list[Image.Image]:
    """L726: the VL copy at round(w·28/32) × round(h·28/32), PIL default bicubic."""
    return [im.resize((round(im.width * 28 / 32), round(im.height * 28 / 32)), Image.BICUBIC) for im in sized]


def encode_prompt(processor, model, text: str, vl: list[Image.Image]) -> dict:
    """The official _get_qwen_prompt_embeds (L273–311): template, processor (do_resize=False), hidden[-1][64:]."""
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": [{"type": "image"} for _ in vl] + [{"type": "text", "text": text}]}]
    rendered = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    batch = processor(text=[rendered], images=vl, padding=True, return_tensors="pt", do_resize=False)
    assert batch.input_ids[0, DROP].item() == model.config.vision_start_token_id, "the 64-token drop must end at the first image"
    with torch.no_grad():
        out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, pixel_values=batch.pixel_values,
                    image_grid_thw=batch.image_grid_thw, output_hidden_states=True)
    return {"text": rendered, "batch": batch, "hidden": out.hidden_states[-1][0], "embeds": out.hidden_states[-1][0, DROP:]}


def main() -> None:
    import PIL
    import transformers

    assert PIL.__version__ == "12.3.0" and transformers.__version__ == "4.55.0", (PIL.__version__, transformers.__version__)
    torch.set_num_threads(1)
    processor, model = load_text_encoder()

    goldens: dict[str, torch.Tensor] = {}
    notes: dict[str, object] = {"instruction": INSTRUCTION, "system": SYSTEM, "drop": DROP}

    def put(name: str, value) -> None:
        goldens[name] = (value if isinstance(value, torch.Tensor) else torch.tensor(value)).detach().contiguous().clone()

    inputs = [pattern(w, h, k) for k, (w, h) in enumerate(SIZES)]
    sized = budget(inputs)
    # L726: the VL copy at round(w·28/32) × round(h·28/32), PIL default bicubic; processor do_resize=False (L284).
    vl = vl_copies(sized)
    for k in range(len(inputs)):
        put(f"input_{k}", torch.from_numpy(np.asarray(inputs[k]).copy()))
        # The resized copies as sha256 of their RGB bytes (≈ 2 MB as tensors).
        notes[f"sized_{k}"] = {"width": sized[k].width, "height": sized[k].height, "sha256": hashlib.sha256(sized[k].tobytes()).hexdigest()}
        notes[f"vl_{k}"] = {"width": vl[k].width, "height": vl[k].height, "sha256": hashlib.sha256(vl[k].tobytes()).hexdigest()}

    for tag, text in (("cond", INSTRUCTION), ("uncond", " ")):
        encoded = encode_prompt(processor, model, text, vl)
        rendered, batch = encoded["text"], encoded["batch"]
        notes[f"{tag}.text"] = rendered
        ids = batch.input_ids
        position_ids, deltas = model.model.get_rope_index(ids, batch.image_grid_thw, None, batch.attention_mask)
        hidden = encoded["hidden"]
        # hidden_states[-1] is the final-norm output; checked, not assumed.
        with torch.no_grad():
            plain = model.model(input_ids=ids, attention_mask=batch.attention_mask, pixel_values=batch.pixel_values,
                                image_grid_thw=batch.image_grid_thw).last_hidden_state[0]
        assert torch.equal(hidden, plain)
        put(f"{tag}.input_ids", ids[0])
        put(f"{tag}.position_ids", position_ids[:, 0])
        put(f"{tag}.rope_deltas", deltas.reshape(-1))
        put(f"{tag}.prompt_embeds", hidden[DROP:])
        if tag == "cond":
            put("image_grid_thw", batch.image_grid_thw)
            put("pixel_values.head", batch.pixel_values[:4])

    os.makedirs(OUT, exist_ok=True)
    save_file(goldens, os.path.join(OUT, "golden.safetensors"), metadata={"format": "pt"})
    notes["tensors"] = {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in goldens.items()}
    with open(os.path.join(OUT, "golden.json"), "w") as fh:
        json.dump(notes, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main()

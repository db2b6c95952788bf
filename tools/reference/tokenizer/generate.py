"""Writes the tokenizer fixtures under test/fixtures/tokenizer/ from Hugging Face transformers.

The oracle is `Qwen2TokenizerFast` (the Rust `tokenizers` library, which is what
`AutoTokenizer.from_pretrained` gives the official UniPic scripts), converted from the bundled
Qwen2.5 vocab.json + merges.txt, with `<image>` registered the way the scripts do it. The pure-Python
`Qwen2Tokenizer` is run too; any string where the two disagree is recorded (`slowIds`).

Usage (from the repository root):
    python3 -m venv tools/reference/tokenizer/.venv
    tools/reference/tokenizer/.venv/bin/pip install -r tools/reference/tokenizer/requirements.txt
    tools/reference/tokenizer/.venv/bin/python tools/reference/tokenizer/generate.py
Optionally `--check-tokenizer-json FILE` also encodes the corpus with a given tokenizer.json in
Rust `tokenizers` (for example one written by the TypeScript converter) and fails on a difference.
"""

import argparse
import json
import os
import sys

import tokenizers
import transformers
from transformers import Qwen2Tokenizer, Qwen2TokenizerFast

sys.path.insert(0, os.path.dirname(__file__))
from corpus_strings import all_strings  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ASSETS = os.path.join(ROOT, "assets", "qwen2.5-tokenizer")
OUT = os.path.join(ROOT, "test", "fixtures", "tokenizer")

# xtuner's Qwen chat template as the UniPic config defines it (no system turn).
INSTRUCTION = "<|im_start|>user\n{input}<|im_end|>\n<|im_start|>assistant\n"


def load_tokenizers():
    fast = Qwen2TokenizerFast.from_pretrained(ASSETS, from_slow=True)
    slow = Qwen2Tokenizer.from_pretrained(ASSETS)
    for tokenizer in (fast, slow):
        # scripts/text2image.py path (add_tokens) and image_edit.py / image2text.py path
        # (add_special_tokens) both end with one special `<image>` token.
        tokenizer.add_tokens(["<image>"], special_tokens=True)
        tokenizer.add_special_tokens({"additional_special_tokens": ["<image>"]})
    return fast, slow


def corpus_entries(fast, slow):
    entries = []
    for text in all_strings():
        ids = fast.encode(text, add_special_tokens=True)
        entry = {
            "text": text,
            "ids": ids,
            "decoded": fast.decode(ids) if ids else "",
            "decodedSkipSpecial": fast.decode(ids, skip_special_tokens=True) if ids else "",
        }
        slow_ids = slow.encode(text, add_special_tokens=True)
        if slow_ids != ids:
            entry["slowIds"] = slow_ids
        entries.append(entry)
    return entries


def decode_cases(fast, entries):
    """Id sequences that are not tokenizations of any text: split characters, stray bytes."""
    sequences = []
    multibyte = [entry["ids"] for entry in entries if len(entry["text"].encode("utf-8")) > len(entry["text"])]
    for ids in multibyte[:60]:
        if len(ids) > 1:
            sequences.append(ids[::-1])
            sequences.append(ids[::2])
    emoji = fast.encode("👨‍👩‍👧‍👦 你好 é")
    for cut in range(1, len(emoji)):
        sequences.append(emoji[:cut])
        sequences.append(emoji[:cut] + [151645] + emoji[cut:])
        sequences.append(emoji[:cut] + [151657] + emoji[cut:])
    # Single bytes that never form a character (0x80 continuation, 0xF0 lead without tail).
    byte_tokens = [fast.convert_tokens_to_ids(token) for token in ["Ā", "ð", "Ł", "ł"]]
    sequences.append(byte_tokens)
    sequences.append([byte_tokens[1], 9707, byte_tokens[1]])
    sequences.append([151643, 151644, 151645, 151665])
    # Ids past the tokenizer (the embedding has 151936 rows) decode to nothing in Rust.
    sequences.append([9707, 151666, 1879, 151935])
    cases = []
    for ids in sequences:
        cases.append({
            "ids": ids,
            "decoded": fast.decode(ids),
            "decodedSkipSpecial": fast.decode(ids, skip_special_tokens=True),
        })
    return cases


def pad_right(rows, pad_id):
    length = max(len(row) for row in rows)
    return (
        [row + [pad_id] * (length - len(row)) for row in rows],
        [[1] * len(row) + [0] * (length - len(row)) for row in rows],
    )


def encode_with_images(fast, prompt, count):
    # The official scripts repeat the placeholder text, then tokenize.
    return fast.encode(prompt.replace("<image>", "<image>" * count), add_special_tokens=True)


def prompt_cases(fast):
    eos = fast.eos_token_id
    cases = []
    text_prompts = [
        "A glossy-coated golden retriever stands on the park lawn beside a life-sized penguin statue.",
        "a cat",
        "  spaces around  ",
        "trailing period.",
        "一只猫坐在窗台上",
        "emoji 🐱‍👤 and\nnewline",
        "",
        "ends with newline\n",
        "has <|im_end|> inside",
    ]
    for prompt in text_prompts:
        # scripts/text2image.py: no strip, no added period; cfg prompt "Generate an image."
        rows = [
            fast.encode(INSTRUCTION.format(input="Generate an image: " + prompt)),
            fast.encode(INSTRUCTION.format(input="Generate an image.")),
        ]
        ids, mask = pad_right(rows, eos)
        cases.append({"kind": "text-to-image", "prompt": prompt, "ids": ids, "attentionMask": mask})
    edit_prompts = [
        "Replace the stars with the candle.",
        "  make it snowy \n",
        "\u3000把天空变成紫色\u00a0",
        "\x1c\x85add a hat\x1f",
        "\ufeffBOM is not Python whitespace",
        "",
    ]
    # Long runs (the real 512 px / 1024 px counts) once each; short runs for the variations.
    for count, prompts in ((80, edit_prompts), (1088, edit_prompts[:1])):
        for prompt in prompts:
            rows = [
                encode_with_images(fast, INSTRUCTION.format(input="<image>\n" + prompt.strip()), count),
                encode_with_images(fast, INSTRUCTION.format(input="<image>\n" + "Repeat this image.".strip()), count),
            ]
            ids, mask = pad_right(rows, eos)
            cases.append({"kind": "edit", "prompt": prompt, "imageLength": count, "ids": ids, "attentionMask": mask})
    questions = ["Describe the image in detail.", "What is in this picture?", " leading space", "这是什么？", ""]
    for count, asked in ((80, questions), (4160, questions[:1])):
        for question in asked:
            ids = encode_with_images(fast, INSTRUCTION.format(input="<image>\n" + question), count)
            cases.append({"kind": "understand", "prompt": question, "imageLength": count, "ids": [ids], "attentionMask": [[1] * len(ids)]})
    return cases


def check_tokenizer_json(path, entries):
    candidate = tokenizers.Tokenizer.from_file(path)
    failures = [entry["text"] for entry in entries if candidate.encode(entry["text"]).ids != entry["ids"]]
    for text in failures:
        print("tokenizer.json differs on", json.dumps(text), file=sys.stderr)
    print(f"{path}: {len(entries) - len(failures)}/{len(entries)} strings give the reference ids")
    return not failures


def tokenizer_structure(fast):
    """The converted tokenizer.json without its vocabulary: what buildTokenizerJson must agree on."""
    full = json.loads(fast.backend_tokenizer.to_str())
    model = {key: value for key, value in full["model"].items() if key not in ("vocab", "merges")}
    return {
        "normalizer": full["normalizer"],
        "pre_tokenizer": full["pre_tokenizer"],
        "decoder": full["decoder"],
        "added_tokens": full["added_tokens"],
        "model": model,
        "vocabSize": len(full["model"]["vocab"]),
        "mergeCount": len(full["model"]["merges"]),
        "firstMerges": [list(pair) if isinstance(pair, list) else pair.split(" ") for pair in full["model"]["merges"][:5]],
        "lastMerges": [list(pair) if isinstance(pair, list) else pair.split(" ") for pair in full["model"]["merges"][-5:]],
    }


def write(name, value):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=True, indent=None, separators=(",", ":"))
        handle.write("\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check-tokenizer-json")
    args = parser.parse_args()
    fast, slow = load_tokenizers()
    assert fast.convert_tokens_to_ids("<image>") == 151665
    entries = corpus_entries(fast, slow)
    if args.check_tokenizer_json:
        sys.exit(0 if check_tokenizer_json(args.check_tokenizer_json, entries) else 1)
    os.makedirs(OUT, exist_ok=True)
    generator = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__}
    write("corpus.json", {"generator": generator, "imageTokenId": 151665, "entries": entries})
    write("decode-cases.json", {"generator": generator, "cases": decode_cases(fast, entries)})
    write("tokenizer-structure.json", {"generator": generator, **tokenizer_structure(fast)})
    write("prompts.json", {"generator": generator, "instruction": INSTRUCTION, "cases": prompt_cases(fast)})
    disagreements = [entry["text"] for entry in entries if "slowIds" in entry]
    print(f"{len(entries)} corpus strings; slow and fast disagree on {len(disagreements)}: {disagreements!r}")


if __name__ == "__main__":
    main()

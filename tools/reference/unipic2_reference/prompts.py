"""Prompts: the tokenizer corpus and the prompts of the sampler runs."""
from __future__ import annotations

from .tiny_config import EDIT_DEFAULT_NEGATIVE

LONG_CAPTION = (
    "A highly detailed photograph of an old lighthouse standing on a rocky cliff above a stormy sea at dusk, "
    "with dramatic clouds, crashing waves, seagulls circling the tower, warm light glowing from the lantern room, "
    "wet stones reflecting the sky, a narrow path winding up from a small fishing village with colourful houses, "
    "boats tied to a wooden pier, and distant mountains fading into mist, shot on a medium format camera with a "
    "wide angle lens, golden hour, cinematic composition, sharp focus, rich colours, volumetric light"
)

CORPUS = [
    "",
    "a photo of a cat",
    "A Photo Of A CAT",
    "Hello!",
    "!",
    "!!! wow ! ok!",
    "a cat, a dog; a bird: done... really?",
    "don't stop — it's 3.5 o'clock & 1024x768 px",
    "  leading and   repeated   spaces\tand a tab\nand a newline  ",
    "Crème brûlée à la café, naïve façade",
    "e\u0301 composed vs \u00e9 precomposed",
    "一只猫坐在沙发上",
    "東京タワー and 서울 with emoji 🐱🚀",
    "ＦＵＬＬ-width ＡＢＣ １２３",
    "<|endoftext|> inside the text",
    "a red <extra_id_0> ball",
    "html &amp; entities &lt;b&gt;",
    LONG_CAPTION,
    " ".join([LONG_CAPTION] * 3),
    EDIT_DEFAULT_NEGATIVE,
    "make the sky purple",
    # BasicTokenizer edge cases (slow CLIP path) and T5 unknowns
    "control\x00chars\x07 and \ufffd replacement and zero\u200bwidth",
    "   ",
    "\n",
    "中文，标点。和 ascii, mixed: 猫cat狗dog",
    "ひらがな カタカナ 漢字 ㈱ ｶﾀｶﾅ",
    "Ω ≈ ç √ ∫ ° ± × ÷ € £ ¥ © ® ™",
    "مرحبا بالعالم and हिन्दी नमस्ते",
    "curly {braces} [brackets] <angle> ~tilde~ `backtick` ^caret^ |pipe|",
    "GPT-4o, SD3.5M, 2.24B params, 1e-4, #hashtag @mention http://example.com/a?b=c",
    "supercalifragilisticexpialidocious" * 4,
    "a  b\t\tc\r\nd",
    "ÀÉÎÕÜ Ÿ ß ẞ ǅ İstanbul",
]

T2I_PROMPT = "a red fox in the snow!"
T2I_NEGATIVE = ""  # the t2i script's default
EDIT_PROMPT = "make the sky purple"
EDIT_NEGATIVE = EDIT_DEFAULT_NEGATIVE  # the editing script's default

# Text goldens: name -> text.
TEXT_GOLDENS = {
    "t2i_prompt": T2I_PROMPT,
    "empty": T2I_NEGATIVE,
    "edit_prompt": EDIT_PROMPT,
    "edit_negative": EDIT_NEGATIVE,
    "long": LONG_CAPTION,
}

# The no-T5 fallback (zeros [1, 77, 32] instead of T5) is recorded for these.
NO_T5_GOLDENS = ("t2i_prompt", "empty")

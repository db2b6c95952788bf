"""Strings the tokenizer fixtures cover. Each group names what it exercises."""

ASCII = [
    "",
    "Hello world",
    "hello",
    "Hello, World!",
    "The quick brown fox jumps over the lazy dog.",
    "A glossy-coated golden retriever stands on the park lawn beside a life-sized penguin statue.",
    "Describe the image in detail.",
    "Replace the stars with the candle.",
    "I'm here, you're there, they've gone, it's fine, we'll see, he'd know.",
    "DON'T SHOUT, I'M LISTENING. IT'S OK. THEY'LL COME. WE'VE GOT IT. YOU'D BE SURPRISED.",
    "'s 't 're 've 'm 'll 'd",
    "'S 'T 'RE 'VE 'M 'LL 'D",
    "x's",
    "rock'n'roll",
    "'ſ long s after an apostrophe",
    "'\u212a with a Kelvin sign",
    "camelCaseIdentifier",
    "snake_case_identifier",
    "SCREAMING_SNAKE",
    "a",
    "Z",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "supercalifragilisticexpialidocious",
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
]

PUNCTUATION = [
    "!!!",
    "...",
    "?!",
    "(a+b)*c",
    "#hashtag @user",
    "a.b.c",
    "--flag=value",
    "¡Hola! ¿Qué tal?",
    "«quote» „low“ ‹single›",
    "“smart quotes” and ‘single’",
    "em—dash and en–dash",
    "ellipsis…",
    "==========",
    "__________",
    "~!@#$%^&*()_+`-={}|[]\\:\";'<>?,./",
    "<>",
    "< >",
    "<|",
    "|>",
    " .",
    " ,",
    "a ,b",
    "hello .world",
    "don 't",
]

NUMBERS = [
    "12345",
    "3.14159",
    "1,000,000",
    "2024-01-01T12:34:56Z",
    "0x1F 0b1010 0o17",
    "1e-6",
    "-42",
    "٣٤٥ Arabic-Indic digits",
    "½ ¾ ⅓",
    "x² + y³",
    "Ⅻ roman numeral",
    "① ② ③",
    "１２３ fullwidth digits",
    "v1.2.3-beta+build.5",
    "999999999999999999999",
    "$19.99 €5 £3 ¥100 ₹50",
]

CJK = [
    "你好，世界",
    "你好",
    "生成一张图片：一只猫坐在窗台上。",
    "我爱北京天安门",
    "こんにちは世界",
    "カタカナとひらがなと漢字",
    "日本語のテキストです。",
    "안녕하세요 세계",
    "한국어 텍스트",
    "ＡＢＣ１２３ fullwidth",
    "「引用」『二重』、。",
    "𠀀𠀁 supplementary CJK",
    "中文English混合mixed",
    "繁體中文測試",
]

EMOJI = [
    "😀",
    "😀😃😄",
    "👍🏽",
    "👍🏻👍🏼👍🏽👍🏾👍🏿",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "❤️",
    "🇺🇸🇯🇵🇫🇷",
    "🧑🏿‍💻",
    "1️⃣ 2️⃣",
    "I love 🍕 and 🍣!",
    "👩🏽‍🚀 astronaut",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland tag sequence",
    "☺ ✂ ✈ ☀",
    "🤷‍♀️",
    "🫠🫶",
]

RIGHT_TO_LEFT = [
    "مرحبا بالعالم",
    "مَرْحَبًا",
    "שלום עולם",
    "abc שלום 123",
    "العربية: ١٢٣",
    "עִבְרִית",
    "سلام دنیا",
]

OTHER_SCRIPTS = [
    "नमस्ते दुनिया",
    "สวัสดีครับ",
    "Привет, мир!",
    "Καλημέρα κόσμε",
    "Tiếng Việt có dấu",
    "გამარჯობა",
    "Բարեւ",
    "வணக்கம்",
    "ሰላም",
    "Ünïcödé ïs fün",
    "Straße ß",
    "İstanbul ıi",
    "𝐀𝐁𝐂 math bold",
    "𝄞 musical",
]

CODE = [
    "def main():\n    print('hello')\n\nif __name__ == '__main__':\n    main()\n",
    "function add(a, b) {\n\treturn a + b;\n}",
    'const x = {"key": [1, 2, 3], "nested": {"a": null}};',
    "<div class=\"box\"><p>Hi</p></div>",
    "SELECT * FROM users WHERE id = 42;",
    "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 1);\n\treturn 0;\n}",
    "for i in range(10):\n\tif i % 2 == 0:\n\t\tcontinue",
    "grep -rn 'TODO' src/ | wc -l",
    "^[a-z0-9_-]{3,16}$",
    "x => x * 2",
    "    indented four\n        indented eight\n",
    "https://example.com/path?query=1&other=two#frag",
    "user.name+tag@example.co.uk",
    "# Title\n\n- item one\n- item two\n\n```ts\nlet a = 1;\n```",
    "$$\\int_0^1 x^2 \\, dx = \\frac{1}{3}$$",
    "∑∫√∞≠≤≥",
]

WHITESPACE = [
    " ",
    "  ",
    "   ",
    "        ",
    "\n",
    "\n\n",
    "\n\n\n",
    "\n\n\n\n\n\n",
    "\t",
    "\t\t",
    "a\tb",
    "a\t\tb",
    "trailing  ",
    "trailing\t",
    "trailing\n",
    "  leading",
    "\tleading tab",
    "a  b",
    "a   b",
    "a \n b",
    "a\n\nb",
    "x\n\n\ny",
    "line1\r\nline2",
    "\r",
    "\r\n\r\n",
    " \n ",
    "   \n\n  x",
    "word \n\n\n",
    "end with spaces   ",
    "\u00a0non-breaking\u00a0space",
    "a\u3000b ideographic space",
    "a\u2028b line separator",
    "a\u2029b paragraph separator",
    "a\u0085b next line",
    "a\ufeffb byte order mark",
    "\ufeffleading BOM",
    "a\u200bb zero width space",
    "a\u200db zero width joiner",
    "a\u2009b thin space",
    "\v\f vertical tab and form feed",
    "a\x1cb\x1dc\x1ed\x1fe",
    " \t \n \t ",
]

NORMALIZATION = [
    "é",
    "e\u0301",
    "café",
    "cafe\u0301",
    "\u212b angstrom sign",
    "\u00c5",
    "A\u030a",
    "ﬁ ligature",
    "\u1112\u1161\u11ab jamo",
    "n\u0303 ñ",
    "Tie\u0302\u0301ng Vie\u0323\u0302t",
    "q\u0307\u0323",
    "q\u0323\u0307",
    "\u2126 ohm sign",
    "\u0958 devanagari qa",
    "ｶﾞ halfwidth katakana",
    "\u0041\u0308\u0301",
    "o\u0308\u0304",
]

CONTROL = [
    "\x00",
    "bell\x07",
    "\x1b[31mred\x1b[0m",
    "\x7f",
    "\ue000 private use",
    "\U000f0000 plane 15",
    "\ufffd replacement",
    "\u0000\u0001\u0002",
]

CHAT = [
    "<|im_start|>user\nHello<|im_end|>",
    "<|im_start|>user\n",
    "<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\nGenerate an image: a cat<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\nGenerate an image.<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>",
    "text<|endoftext|>more",
    "<|im_end|><|im_start|>",
    "<|im_start|><|im_start|>",
    "<|im_start",
    "<|im_start|",
    "<|IM_START|>",
    "< |im_start|>",
    "<<|im_start|>>",
    " <|im_end|> ",
    "\n<|im_end|>\n",
    "<tool_call>{\"name\": \"x\"}</tool_call>",
    "<|vision_start|><|image_pad|><|vision_end|>",
    "<|fim_prefix|>def<|fim_suffix|>pass<|fim_middle|>",
    "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(1,2)<|box_end|>",
    "<|repo_name|>x<|file_sep|>y",
    "Hello<|im_end|>",
    "你好<|im_end|>",
    "😀<|im_end|>😀",
]

IMAGE = [
    "<image>",
    "<image>\nDescribe the image in detail.",
    "<image>\nRepeat this image.",
    "<image><image><image>",
    "text<image>text",
    "<img>",
    "<image",
    "<IMAGE>",
    "< image>",
    "<image>\n",
    "\n<image>",
    "<|im_start|>user\n<image><image>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n",
]

LONG = [
    "Generate an image: " + "A serene mountain lake at sunrise, mist over the water, pine trees, "
    "reflections, golden light, highly detailed, 8k, photorealistic.",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco.",
    "混合 mixed 文本 text with 数字 123 and emoji 🎉 and punctuation!!! 。",
    "The image shows a cat 🐱 sitting on a windowsill (窗台) at 5:30 p.m.; it's raining outside.\n\n"
    "- Colors: orange & white\n- Mood: calm",
]


def combinations():
    """Words crossed with the whitespace around them, which is where byte-level BPE goes wrong."""
    words = ["hello", "World", "42", "你好", "é", "😀", "don't", "<|im_end|>", "a.b", "مرحبا"]
    wrappers = [" {}", "{} ", "\n{}", "{}\n", "\t{}", "  {}  "]
    return [wrapper.format(word) for word in words for wrapper in wrappers]


def all_strings():
    groups = [
        ASCII, PUNCTUATION, NUMBERS, CJK, EMOJI, RIGHT_TO_LEFT, OTHER_SCRIPTS, CODE,
        WHITESPACE, NORMALIZATION, CONTROL, CHAT, IMAGE, LONG, combinations(),
    ]
    seen = set()
    strings = []
    for group in groups:
        for text in group:
            if text not in seen:
                seen.add(text)
                strings.append(text)
    return strings

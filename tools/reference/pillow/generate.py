"""Writes the Pillow fixtures that test/core/image checks the TypeScript image code against.

For every source file (PNG, JPEG, WebP in many modes) it records what Pillow decodes it to
(`Image.open(...).convert('RGB')`, and after `ImageOps.exif_transpose` where the file carries an
orientation), and for a set of RGB sources what the official UniPic preprocessing makes of them:
`crop2square` / `expand2square` followed by `Image.resize((S, S))` with Pillow's default filter.

Run from the repository root:
    python3 -m venv tools/reference/pillow/.venv
    tools/reference/pillow/.venv/bin/pip install -r tools/reference/pillow/requirements.txt
    tools/reference/pillow/.venv/bin/python tools/reference/pillow/generate.py

Everything is deterministic (seeded); running it twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
import sys
import zlib
from io import BytesIO
from pathlib import Path

import PIL
from PIL import Image, ImageOps, features

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "test" / "fixtures" / "images"
SOURCES = OUT / "sources"
EXPECTED = OUT / "expected"

ORIENTATION_TAG = 0x0112


# ---------------------------------------------------------------- pixel content


def clamp8(value: float) -> int:
    return max(0, min(255, int(value)))


def pattern(width: int, height: int, seed: int, noise: int = 24) -> Image.Image:
    """Gradients, a hard-edged checker, a disc and seeded noise: smooth areas and edges both
    exercise the resampler, and no two rows or columns are alike (so flips and rotations show)."""
    rng = random.Random(seed)
    data = bytearray(width * height * 3)
    cx, cy = width * 0.6, height * 0.4
    radius = max(1.0, min(width, height) * 0.3)
    for y in range(height):
        for x in range(width):
            i = (y * width + x) * 3
            inside = (x - cx) ** 2 + (y - cy) ** 2 < radius**2
            checker = ((x // 5) + (y // 3)) % 2
            jitter = [rng.randint(-noise, noise) if noise else 0 for _ in range(3)]
            data[i] = clamp8(255 * x / max(width - 1, 1) + jitter[0])
            data[i + 1] = clamp8(255 * y / max(height - 1, 1) + jitter[1])
            data[i + 2] = clamp8((210 if inside else 30 + 90 * checker) + jitter[2])
    return Image.frombytes("RGB", (width, height), bytes(data))


def smooth_pattern(width: int, height: int) -> Image.Image:
    """A large image that still compresses well as PNG: bands, a disc and a few hard lines."""
    data = bytearray(width * height * 3)
    for y in range(height):
        for x in range(width):
            i = (y * width + x) * 3
            disc = (x - 900) ** 2 + (y - 420) ** 2 < 260**2
            data[i] = (x * 255 // (width - 1)) if not disc else 250
            data[i + 1] = (y * 255 // (height - 1)) ^ (16 if (x // 97) % 2 else 0)
            data[i + 2] = 255 if x % 211 == 0 or y % 173 == 0 else ((x + y) // 11) % 256
    return Image.frombytes("RGB", (width, height), bytes(data))


# ---------------------------------------------------------------- raw PNG writer
# Pillow cannot write 2/4/16-bit grey, 16-bit colour or tRNS for every colour type, so those
# files are written chunk by chunk here and Pillow only reads them.


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write_png(width: int, height: int, depth: int, color_type: int, rows: list[bytes],
              palette: bytes | None = None, transparency: bytes | None = None) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    body = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
    if palette is not None:
        body += png_chunk(b"PLTE", palette)
    if transparency is not None:
        body += png_chunk(b"tRNS", transparency)
    scanlines = b"".join(b"\x00" + row for row in rows)
    return body + png_chunk(b"IDAT", zlib.compress(scanlines, 9)) + png_chunk(b"IEND", b"")


def pack_bits(values: list[int], depth: int) -> bytes:
    out = bytearray()
    per_byte = 8 // depth
    for start in range(0, len(values), per_byte):
        byte = 0
        group = values[start:start + per_byte]
        for index, value in enumerate(group):
            byte |= value << (8 - depth * (index + 1))
        out.append(byte)
    return bytes(out)


def sample16(x: int, y: int, channel: int, seed: int) -> int:
    # Covers the whole 16-bit range, including values whose low byte is >= 0x80 (rounding traps).
    return (x * 7919 + y * 104729 + channel * 15485863 + seed * 2654435761) % 65536


# ---------------------------------------------------------------- EXIF blocks


def exif_block(orientation: int, big_endian: bool = False) -> bytes:
    """'Exif\\0\\0' + a TIFF header with one IFD holding only the orientation tag."""
    order = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(order + "HI", 42, 8)
    tiff += struct.pack(order + "H", 1)
    tiff += struct.pack(order + "HHI", ORIENTATION_TAG, 3, 1) + struct.pack(order + "HH", orientation, 0)
    tiff += struct.pack(order + "I", 0)
    return b"Exif\x00\x00" + tiff


# ---------------------------------------------------------------- index building

index: dict = {
    "generator": "tools/reference/pillow/generate.py",
    "pillow": PIL.__version__,
    "libjpeg_turbo": features.version("libjpeg_turbo"),
    "libwebp": features.version("webp"),
    "zlib": features.version("zlib"),
    "sources": [],
    "resizes": [],
    "largeResizes": [],
}


def raw_rgb(image: Image.Image) -> bytes:
    assert image.mode == "RGB"
    return image.tobytes()


def add_source(name: str, data: bytes, note: str, decode_exact: bool = True,
               expected_override: bytes | None = None, store_decoded: bool = True) -> Image.Image:
    """Stores the file and what Pillow decodes it to (raw RGB, or only its sha256 for large
    images). Returns the decoded RGB image."""
    (SOURCES / name).write_bytes(data)
    opened = Image.open(BytesIO(data))
    mode = opened.mode
    decoded = opened.convert("RGB")
    stem = name.replace(".", "-")
    entry = {
        "file": f"sources/{name}",
        "format": opened.format.lower(),
        "pillowMode": mode,
        "width": decoded.width,
        "height": decoded.height,
        "decodeExact": decode_exact,
        "note": note,
    }
    if store_decoded:
        (EXPECTED / f"{stem}.decoded.rgb").write_bytes(raw_rgb(decoded))
        entry["decoded"] = f"expected/{stem}.decoded.rgb"
    else:
        entry["decodedSha256"] = hashlib.sha256(raw_rgb(decoded)).hexdigest()
    if expected_override is not None:
        (EXPECTED / f"{stem}.expected.rgb").write_bytes(expected_override)
        entry["expected"] = f"expected/{stem}.expected.rgb"
    reopened = Image.open(BytesIO(data))
    orientation = reopened.getexif().get(ORIENTATION_TAG)
    if orientation is not None:
        transposed = ImageOps.exif_transpose(reopened).convert("RGB")
        (EXPECTED / f"{stem}.transposed.rgb").write_bytes(raw_rgb(transposed))
        entry["orientation"] = orientation
        entry["transposed"] = f"expected/{stem}.transposed.rgb"
        entry["transposedWidth"] = transposed.width
        entry["transposedHeight"] = transposed.height
    index["sources"].append(entry)
    return decoded


def crop2square(image: Image.Image) -> Image.Image:
    # The official edit preprocessing: centre crop to the short side.
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def expand2square(image: Image.Image, fill=(127, 127, 127)) -> Image.Image:
    # The official understanding preprocessing: pad to the long side with grey, image centred.
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    result = Image.new(image.mode, (side, side), fill)
    result.paste(image, ((side - width) // 2, (side - height) // 2))
    return result


def add_resize(source: str, image: Image.Image, operation: str, size: tuple[int, int]) -> None:
    prepared = {"crop2square": crop2square, "expand2square": expand2square, "none": lambda im: im}[operation](image)
    resized = prepared.resize(size)  # Pillow's default filter for RGB: BICUBIC, antialiased
    name = f"{source.replace('.', '-')}.{operation}.{size[0]}x{size[1]}.rgb"
    (EXPECTED / name).write_bytes(raw_rgb(resized))
    index["resizes"].append({
        "source": f"sources/{source}", "operation": operation,
        "width": size[0], "height": size[1], "output": f"expected/{name}",
    })


def add_large_resize(source: str, image: Image.Image, operation: str, size: int) -> None:
    prepared = {"crop2square": crop2square, "expand2square": expand2square}[operation](image)
    resized = prepared.resize((size, size))
    index["largeResizes"].append({
        "source": f"sources/{source}", "operation": operation, "width": size, "height": size,
        "sha256": hashlib.sha256(raw_rgb(resized)).hexdigest(),
        # A few pixels so a mismatch can say where, without storing megabytes.
        "probes": [[x, y, list(resized.getpixel((x, y)))] for x, y in
                   [(0, 0), (size - 1, size - 1), (size // 2, size // 3), (17, size - 5), (size - 9, 3)]],
    })


def save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def float32(value: float) -> float:
    # Beyond the largest float32 (plus half an ulp) round-to-nearest gives infinity, as torch does.
    if abs(value) >= 3.4028235677973366e38:
        return float("inf") if value > 0 else float("-inf")
    return struct.unpack("<f", struct.pack("<f", value))[0]


# ---------------------------------------------------------------- the fixtures


def main() -> None:
    for folder in (SOURCES, EXPECTED):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()

    # --- PNG, 8-bit modes Pillow writes itself
    rgb_sources = {
        "rgb-300x200.png": pattern(300, 200, 1),
        "rgb-37x61.png": pattern(37, 61, 2),
        "rgb-1x1.png": pattern(1, 1, 3),
        "rgb-200x3.png": pattern(200, 3, 4),
        "rgb-3x150.png": pattern(3, 150, 5),
        "rgb-64x64.png": pattern(64, 64, 6),
        "rgb-1000x1.png": pattern(1000, 1, 20),
        "rgb-1x700.png": pattern(1, 700, 21),
    }
    decoded_rgb = {}
    for name, image in rgb_sources.items():
        decoded_rgb[name] = add_source(name, save(image, "PNG"), "8-bit RGB")

    gray = pattern(45, 30, 7).convert("L")
    decoded_rgb["gray-45x30.png"] = add_source("gray-45x30.png", save(gray, "PNG"), "8-bit grey (L)")
    add_source("bilevel-17x9.png", save(pattern(17, 9, 8).convert("1"), "PNG"), "1-bit grey (mode 1)")

    rgba = pattern(40, 30, 9).convert("RGBA")
    alpha = Image.frombytes("L", (40, 30), bytes((x * 9 + y * 5) % 256 if x > 3 else 0
                                                 for y in range(30) for x in range(40)))
    rgba.putalpha(alpha)
    decoded_rgb["rgba-40x30.png"] = add_source(
        "rgba-40x30.png", save(rgba, "PNG"),
        "RGBA; fully transparent columns keep their colour, which convert('RGB') exposes")
    la = pattern(20, 20, 10).convert("LA")
    add_source("la-20x20.png", save(la, "PNG"), "grey + alpha (LA)")
    quantized = pattern(30, 20, 11).quantize(colors=200)
    add_source("palette8-30x20.png", save(quantized, "PNG"), "8-bit palette (P)")

    # --- PNG written chunk by chunk
    def gray_rows(width, height, depth, seed):
        top = (1 << depth) - 1
        return [pack_bits([(x * 3 + y * 5 + seed) % (top + 1) for x in range(width)], depth) for y in range(height)]

    add_source("gray2-13x7.png", write_png(13, 7, 2, 0, gray_rows(13, 7, 2, 1)), "2-bit grey")
    add_source("gray4-11x5.png", write_png(11, 5, 4, 0, gray_rows(11, 5, 4, 2)), "4-bit grey")

    def rows16(width, height, channels, seed):
        return [b"".join(struct.pack(">H", sample16(x, y, c, seed)) for x in range(width) for c in range(channels))
                for y in range(height)]

    def high_bytes(width, height, channels, seed, take):
        # What our decoder yields: the high byte of each 16-bit sample, grey repeated to RGB.
        out = bytearray()
        for y in range(height):
            for x in range(width):
                samples = [sample16(x, y, c, seed) >> 8 for c in range(channels)]
                out += bytes(take(samples))
        return bytes(out)

    add_source("gray16-23x19.png", write_png(23, 19, 16, 0, rows16(23, 19, 1, 3)),
               "16-bit grey. Pillow opens it as I;16 and convert('RGB') CLIPS at 255 (anything above "
               "255 turns white); unipic takes the high byte like every other 16-bit mode, so "
               "`expected` differs from `decoded` on purpose",
               expected_override=high_bytes(23, 19, 1, 3, lambda s: [s[0]] * 3))
    add_source("rgb16-21x13.png", write_png(21, 13, 16, 2, rows16(21, 13, 3, 4)), "16-bit RGB (high byte)")
    add_source("rgba16-9x7.png", write_png(9, 7, 16, 6, rows16(9, 7, 4, 5)), "16-bit RGBA")
    add_source("la16-8x6.png", write_png(8, 6, 16, 4, rows16(8, 6, 2, 6)), "16-bit grey + alpha")

    add_source("gray-trns-10x4.png",
               write_png(10, 4, 8, 0, [bytes((x * 25 + y) % 256 for x in range(10)) for y in range(4)],
                         transparency=struct.pack(">H", 50)),
               "8-bit grey with a tRNS key colour (ignored by convert('RGB'))")
    add_source("rgb-trns-10x4.png",
               write_png(10, 4, 8, 2, [bytes((x * 31 + y * 7 + c * 50) % 256 for x in range(10) for c in range(3))
                                       for y in range(4)], transparency=struct.pack(">HHH", 0, 50, 100)),
               "8-bit RGB with a tRNS key colour")
    palette = bytes((i * 37 + c * 91) % 256 for i in range(16) for c in range(3))
    for depth, width, height in ((1, 19, 5), (2, 15, 6), (4, 15, 9), (8, 12, 7)):
        count = min(16, 1 << depth)
        rows = [pack_bits([(x + y * 3) % count for x in range(width)], depth) if depth < 8
                else bytes((x + y * 3) % count for x in range(width)) for y in range(height)]
        add_source(f"palette{depth}-trns-{width}x{height}.png",
                   write_png(width, height, depth, 3, rows, palette=palette[:count * 3],
                             transparency=bytes(range(0, count * 16, 16))[: max(1, count // 2)]),
                   f"{depth}-bit palette with tRNS alpha (ignored by convert('RGB'))")

    # --- EXIF orientation, exact (PNG eXIf chunk) for all 8 values
    oriented = pattern(24, 16, 12)
    for orientation in range(1, 9):
        add_source(f"orient{orientation}-24x16.png", save(oriented, "PNG", exif=exif_block(orientation)),
                   f"PNG with eXIf orientation {orientation}")

    # --- JPEG (jpeg-js decodes; its IDCT, colour conversion and chroma upsampling differ from libjpeg-turbo)
    photo = pattern(64, 48, 13, noise=6)
    add_source("photo-444-64x48.jpg", save(photo, "JPEG", quality=95, subsampling=0), "JPEG 4:4:4 q95", False)
    add_source("photo-420-64x48.jpg", save(photo, "JPEG", quality=90, subsampling=2), "JPEG 4:2:0 q90", False)
    add_source("photo-422-64x48.jpg", save(photo, "JPEG", quality=90, subsampling=1), "JPEG 4:2:2 q90", False)
    add_source("photo-progressive-64x48.jpg", save(photo, "JPEG", quality=90, progressive=True),
               "progressive JPEG 4:2:0", False)
    add_source("photo-420-33x17.jpg", save(pattern(33, 17, 14, noise=6), "JPEG", quality=90, subsampling=2),
               "JPEG 4:2:0 with odd sizes", False)
    add_source("gray-40x30.jpg", save(pattern(40, 30, 15, noise=6).convert("L"), "JPEG", quality=90),
               "greyscale JPEG", False)
    add_source("cmyk-16x16.jpg", save(pattern(16, 16, 16, noise=6).convert("CMYK"), "JPEG", quality=95),
               "Adobe CMYK JPEG", False)
    oriented_photo = pattern(24, 16, 17, noise=4)
    for orientation in range(1, 9):
        add_source(f"orient{orientation}-24x16.jpg",
                   save(oriented_photo, "JPEG", quality=95, subsampling=0, exif=exif_block(orientation)),
                   f"JPEG with EXIF orientation {orientation} (little-endian TIFF)", False)
    add_source("orient6-bigendian-24x16.jpg",
               save(oriented_photo, "JPEG", quality=95, subsampling=0, exif=exif_block(6, big_endian=True)),
               "JPEG with EXIF orientation 6 (big-endian TIFF)", False)

    # --- WebP (both sides use libwebp)
    webp_image = pattern(40, 30, 18, noise=6)
    add_source("lossless-40x30.webp", save(webp_image, "WEBP", lossless=True), "lossless WebP (VP8L)")
    add_source("lossy-40x30.webp", save(webp_image, "WEBP", quality=80), "lossy WebP (VP8)", False)
    add_source("alpha-lossless-20x20.webp", save(rgba.crop((0, 0, 20, 20)), "WEBP", lossless=True),
               "lossless WebP with alpha")
    add_source("alpha-lossy-20x20.webp", save(rgba.crop((0, 0, 20, 20)), "WEBP", quality=80),
               "lossy WebP with alpha (VP8X + ALPH)", False)
    add_source("orient6-24x16.webp", save(oriented, "WEBP", lossless=True, exif=exif_block(6)),
               "lossless WebP with EXIF orientation 6 (VP8X)")

    # --- preprocessing: crop2square / expand2square + resize, and plain resizes
    for name in ("rgb-300x200.png", "rgb-37x61.png", "rgb-1x1.png", "rgb-200x3.png", "rgb-3x150.png",
                 "gray-45x30.png", "rgba-40x30.png", "rgb-64x64.png", "rgb-1000x1.png", "rgb-1x700.png"):
        for operation in ("crop2square", "expand2square"):
            add_resize(name, decoded_rgb[name], operation, (64, 64))
    for name in ("rgb-300x200.png", "rgb-37x61.png"):
        for operation in ("crop2square", "expand2square"):
            add_resize(name, decoded_rgb[name], operation, (128, 128))
    for name, size in (("rgb-300x200.png", (97, 41)), ("rgb-300x200.png", (300, 7)), ("rgb-37x61.png", (111, 20)),
                       ("rgb-200x3.png", (20, 30)), ("rgb-1x1.png", (5, 3)), ("rgb-64x64.png", (64, 64))):
        add_resize(name, decoded_rgb[name], "none", size)

    large = smooth_pattern(1500, 1000)
    add_source("large-1500x1000.png", save(large, "PNG", optimize=True), "large smooth RGB for 1024-px resizes",
               store_decoded=False)
    for operation, size in (("crop2square", 1024), ("expand2square", 1024), ("expand2square", 512)):
        add_large_resize("large-1500x1000.png", large, operation, size)

    # --- tensor arithmetic oracles (float32 at every step, as torch does on CPU)
    index["normalize"] = [float32(float32(2.0 * float32(p / 255.0)) - 1.0) for p in range(256)]
    rng = random.Random(19)
    samples = [float32(-1.2 + 2.4 * i / 600) for i in range(601)]
    samples += [float32((k - 128) / 127.5) for k in range(-2, 259)]  # where 127.5x + 128 lands on integers
    samples += [float32(rng.uniform(-1.1, 1.1)) for _ in range(400)]
    samples += [float32(1.0), float32(-1.0), 0.0, -0.0, float32(-1.0039216), float32(0.9960785), 3.0e38, -3.0e38]
    denormalize = []
    for x in samples:
        value = float32(float32(127.5 * x) + 128.0)
        denormalize.append([x, int(min(255.0, max(0.0, value)))])
    index["denormalize"] = denormalize

    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    total = sum(path.stat().st_size for path in OUT.rglob("*") if path.is_file())
    print(f"wrote {len(index['sources'])} sources, {len(index['resizes'])} resizes, {total / 1024:.0f} KiB",
          file=sys.stderr)


if __name__ == "__main__":
    main()

"""`torch.save` with reproducible bytes.

torch 2.4's zip writer stores a random 40-digit `<archive>/.data/serialization_id` record; the
oracle rewrites it with digits derived from the rest of the file (same length, CRC-32 fixed in
the local and central headers) so the same weights always give the same file. Everything else
torch writes (record order, 64-byte data alignment, fixed timestamps) is already deterministic."""
from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from pathlib import Path

import torch

LOCAL_HEADER = b"PK\x03\x04"
CENTRAL_HEADER = b"PK\x01\x02"
DATA_DESCRIPTOR = b"PK\x07\x08"


def save_reproducibly(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        entries = [info for info in archive.infolist() if info.filename.endswith("/.data/serialization_id")]
    if not entries:
        return
    entry = entries[0]
    if entry.compress_type != zipfile.ZIP_STORED:
        raise AssertionError("unexpected compressed record from torch.save")
    offset = entry.header_offset
    if data[offset : offset + 4] != LOCAL_HEADER:
        raise AssertionError("serialization_id local header not found")
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_length + extra_length
    end = start + entry.file_size
    data[start:end] = b"0" * entry.file_size
    digits = str(int(hashlib.sha256(bytes(data)).hexdigest(), 16) % 10**entry.file_size).zfill(entry.file_size)
    data[start:end] = digits.encode("ascii")
    crc = zlib.crc32(digits.encode("ascii")) & 0xFFFFFFFF
    if entry.flag_bits & 0x08:
        # torch streams records, so the CRC lives in a data descriptor after the data.
        descriptor = end + 4 if data[end : end + 4] == DATA_DESCRIPTOR else end
        struct.pack_into("<I", data, descriptor, crc)
    else:
        struct.pack_into("<I", data, offset + 14, crc)
    central = _central_entry_offset(data, entry.filename.encode())
    struct.pack_into("<I", data, central + 16, crc)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        if archive.testzip() is not None:
            raise AssertionError("rewritten archive failed its CRC check")


def _central_entry_offset(data: bytearray, name: bytes) -> int:
    position = data.find(CENTRAL_HEADER)
    while position >= 0:
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if bytes(data[position + 46 : position + 46 + name_length]) == name:
            return position
        position = data.find(CENTRAL_HEADER, position + 46 + name_length + extra_length + comment_length)
    raise AssertionError("central directory entry not found")

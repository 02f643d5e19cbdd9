"""A small seeded mutation engine for image files.

Each operator takes the file, a ``random.Random`` and donor files, and returns the mutated bytes and
a one-line description. :func:`mutate` stacks one to three of them; the same seed gives the same
mutant. Byte-level operators (flips, truncation, insertion, deletion) find parser bugs; structural
ones (drop, duplicate, swap, resize or transplant a segment, chunk or box; claim a huge size; edit
or transplant the jpegplus payload) reach the code behind the parsers.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable, Sequence

from fuzzing.payload import edit_payload, transplant_payload
from fuzzing.structure import Part, container_of, fix_riff_size, parts

Mutant = tuple[bytes, str]
Operator = Callable[[bytes, random.Random, Sequence[bytes]], Mutant]
INTERESTING_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]
HUGE_SIDES = [0, 1, 9000, 14142, 16383, 30000, 65500, 65535, 2**24 - 1, 2**31 - 1, 2**32 - 1]


def flip_bits(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    out = bytearray(data)
    flips = [(rng.randrange(len(out)), rng.randrange(8)) for _ in range(rng.choice([1, 1, 2, 4, 8]))]
    for index, bit in flips:
        out[index] ^= 1 << bit
    return bytes(out), f"bit flips at {sorted(i for i, _ in flips)}"


def set_bytes(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    out = bytearray(data)
    index = rng.randrange(len(out))
    run = rng.choice([1, 1, 2, 4])
    value = rng.choice(INTERESTING_BYTES)
    out[index : index + run] = bytes([value]) * len(out[index : index + run])
    return bytes(out), f"{run} byte(s) at {index} set to {value:#04x}"


def truncate(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    boundaries = [p.start for p in parts(data)] + [p.body for p in parts(data)]
    cut = rng.choice(boundaries) + rng.choice([-1, 0, 1, 7]) if boundaries and rng.random() < 0.5 else 0
    cut = min(max(cut or rng.randrange(len(data)), 0), len(data) - 1)
    return data[:cut], f"truncated to {cut} of {len(data)} bytes"


def insert(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    at = rng.randrange(len(data) + 1)
    block = rng.choice([rng.randbytes(rng.randrange(1, 65)), bytes([rng.choice(INTERESTING_BYTES)]) * 257])
    return data[:at] + block + data[at:], f"{len(block)} bytes inserted at {at}"


def delete(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    at = rng.randrange(len(data))
    length = rng.choice([1, 2, 4, 16, 64, 512])
    return data[:at] + data[at + length :], f"{length} bytes deleted at {at}"


def duplicate_range(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    start = rng.randrange(len(data))
    block = data[start : start + rng.choice([4, 32, 256])]
    at = rng.randrange(len(data) + 1)
    return data[:at] + block + data[at:], f"{len(block)} bytes from {start} copied to {at}"


def append(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    tail = rng.choice([rng.randbytes(rng.randrange(1, 300)), rng.choice(donors)])
    return data + tail, f"{len(tail)} bytes appended"


def _pick_part(data: bytes, rng: random.Random) -> Part | None:
    found = parts(data)
    return rng.choice(found) if found else None


def drop_part(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    part = _pick_part(data, rng)
    if part is None:
        return delete(data, rng, donors)
    return fix_riff_size(data[: part.start] + data[part.end :]), f"part {part.kind!r} at {part.start} dropped"


def duplicate_part(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    part = _pick_part(data, rng)
    if part is None:
        return duplicate_range(data, rng, donors)
    copy = part.cut(data)
    return fix_riff_size(data[: part.end] + copy + data[part.end :]), f"part {part.kind!r} at {part.start} doubled"


def swap_parts(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    found = parts(data)
    if len(found) < 2:
        return flip_bits(data, rng, donors)
    index = rng.randrange(len(found) - 1)
    first, second = found[index], found[index + 1]
    swapped = data[: first.start] + second.cut(data) + first.cut(data) + data[second.end :]
    return swapped, f"parts {first.kind!r} and {second.kind!r} swapped"


def lie_about_length(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    part = _pick_part(data, rng)
    if part is None:
        return set_bytes(data, rng, donors)
    width = struct.calcsize(part.length_format)
    honest = part.declared_length(part.end - part.body)
    value = rng.choice([0, 1, 2, honest - 1, honest + 1, honest * 2, 2 ** (8 * width) - 1]) % 2 ** (8 * width)
    out = bytearray(data)
    struct.pack_into(part.length_format, out, part.length_at, value)
    return bytes(out), f"part {part.kind!r} at {part.start} claims length {value} (is {honest})"


def transplant_part(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    donor = rng.choice(donors)
    given, found = parts(donor), parts(data)
    if not given or not found:
        return append(data, rng, donors)
    graft = rng.choice(given)
    same_kind = [p for p in found if p.kind == graft.kind]
    if same_kind and rng.random() < 0.5:
        target = rng.choice(same_kind)
        out = data[: target.start] + graft.cut(donor) + data[target.end :]
        return fix_riff_size(out), f"part {graft.kind!r} replaced by another file's"
    at = rng.choice(found).start
    out = data[:at] + graft.cut(donor) + data[at:]
    return fix_riff_size(out), f"part {graft.kind!r} of another file inserted at {at}"


def payload_edit(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    return edit_payload(data, rng)


def payload_transplant(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    return transplant_payload(data, list(donors), rng)


def claim_size(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    width, height = rng.choice(HUGE_SIDES), rng.choice(HUGE_SIDES)
    return with_claimed_size(data, width, height), f"claims {width}x{height}"


def with_claimed_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` claiming another image size: JPEG SOF, WebP VP8X and VP8, ISO ispe / JP2 ihdr / SIZ, PNG IHDR."""
    out = bytearray(data)
    kind = container_of(data)
    if kind == "jpeg":
        sof = [p for p in parts(data) if p.kind[0] in (0xC0, 0xC1, 0xC2) and p.body + 5 <= len(data)]
        if sof:
            struct.pack_into(">HH", out, sof[0].body + 1, height & 0xFFFF, width & 0xFFFF)
    elif kind == "riff":
        for part in parts(data):
            if part.kind == b"VP8X" and part.body + 10 <= len(data):
                canvas = struct.pack("<I", (width - 1) % 2**24)[:3] + struct.pack("<I", (height - 1) % 2**24)[:3]
                out[part.body + 4 : part.body + 10] = canvas
            elif part.kind == b"VP8 " and part.body + 10 <= len(data):
                struct.pack_into("<HH", out, part.body + 6, width & 0x3FFF, height & 0x3FFF)
    elif data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 33:
        struct.pack_into(">II", out, 16, width & 0xFFFFFFFF, height & 0xFFFFFFFF)
        struct.pack_into(">I", out, 29, zlib.crc32(bytes(out[12:29])))
    else:
        for tag, skip in ((b"ispe", 4), (b"ihdr", 0), (b"\xff\x51", 4)):  # after version/flags, or Lsiz/Rsiz
            at = data.find(tag) + len(tag) + skip
            if at >= len(tag) + skip and at + 8 <= len(data):
                first, second = (width, height) if tag != b"ihdr" else (height, width)
                struct.pack_into(">II", out, at, first & 0xFFFFFFFF, second & 0xFFFFFFFF)
    return bytes(out)


BYTE_OPERATORS: list[Operator] = [flip_bits, set_bytes, truncate, insert, delete, duplicate_range, append]
STRUCTURE_OPERATORS: list[Operator] = [drop_part, duplicate_part, swap_parts, lie_about_length, transplant_part]
PAYLOAD_OPERATORS: list[Operator] = [payload_edit, payload_edit, payload_transplant]
OPERATORS: list[Operator] = BYTE_OPERATORS + STRUCTURE_OPERATORS + PAYLOAD_OPERATORS + [claim_size]


def mutate(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> Mutant:
    """One to three stacked mutations of ``data`` (the stack ends early when a mutant is empty)."""
    steps = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if not data:
            break
        data, description = rng.choice(OPERATORS)(data, rng, donors)
        steps.append(description)
    return data, "; ".join(steps)

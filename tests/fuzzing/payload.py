"""Edits of the jpegplus payload inside a file: every field set to odd values, in both payload formats.

Format 2 (binary): version · flags (1 downsample, 2 gray) · codec · quality · width, height (LEB128)
· 4 digest bytes · model name. Format 1 (ASCII): ``w=…;h=…;c=…;m=…;k=…;q=…;id=name@sha8;v=1``.
The edit is written back with the segment, chunk or box length kept consistent (length lies are
the structural mutators' job), so the file stays a valid image whose metadata is hostile.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from fuzzing.structure import fix_riff_size, parts, payload_spot, replace_payload

MODEL_NAMES = [
    b"jpeg-artifacts",
    b"jpeg-downsample",
    b"jpeg-enhance",
    b"webp-artifacts",
    b"avif-artifacts",
    b"jpeg2000-artifacts",
    b"nonexistent-model",
    b"../../weights/jpeg-artifacts",
    b"\xff\xfe-not-ascii",
    b"",
]
ODD_SIZES = [0, 1, 2, 3, 4000, 14142, 65535, 65536, 200_000_000, 2**31 - 1, 2**32, 2**35 - 1]
ODD_BYTES = [0, 1, 2, 3, 4, 100, 101, 127, 128, 255]


def leb128(value: int) -> bytes:
    """Unsigned LEB128 of any length (the library reads at most 5 bytes): written here, not borrowed from
    the library under test, so that sizes it would refuse to write can be written."""
    groups = [(value >> shift) & 0x7F for shift in range(0, max(value.bit_length(), 1), 7)]
    return bytes(group | 0x80 for group in groups[:-1]) + bytes(groups[-1:])


def read_binary(payload: bytes) -> dict[str, Any] | None:
    """The fields of a well-formed format-2 payload, or ``None``."""
    if len(payload) < 4 or payload[0] >= 0x20:
        return None
    fields: dict[str, Any] = dict(zip(("version", "flags", "codec", "quality"), payload[:4], strict=True))
    offset = 4
    for name in ("width", "height"):
        value, shift = 0, 0
        while offset < len(payload):
            byte = payload[offset]
            offset += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        fields[name] = value
    fields["digest"], fields["name"] = payload[offset : offset + 4], payload[offset + 4 :]
    return fields


def payload_fields(data: bytes) -> dict[str, Any] | None:
    """The format-2 payload fields of a file, or ``None`` (no payload, or not format 2)."""
    spot = payload_spot(data)
    return read_binary(data[spot.start : spot.end]) if spot else None


def write_binary(fields: dict[str, Any]) -> bytes:
    """A format-2 payload from ``fields`` (bytes values 0–255, sizes any non-negative int)."""
    head = bytes(int(fields[name]) & 0xFF for name in ("version", "flags", "codec", "quality"))
    sizes = leb128(int(fields["width"])) + leb128(int(fields["height"]))
    return head + sizes + bytes(fields["digest"]) + bytes(fields["name"])


def ascii_payload(fields: dict[str, Any]) -> bytes:
    """A format-1 payload equivalent to binary ``fields``, for edits that binary cannot express."""
    codecs = ("jpeg", "webp", "jpeg2000", "avif")
    flags, codec = int(fields["flags"]), int(fields["codec"])
    values = {
        "w": fields["width"],
        "h": fields["height"],
        "c": 1 if flags & 2 else 3,
        "m": "downsample" if flags & 1 else "full",
        "k": codecs[codec] if codec < len(codecs) else codec,
        "q": fields["quality"],
        "id": f"{bytes(fields['name']).decode('latin-1')}@{bytes(fields['digest']).hex()}",
        "v": 1,
    }
    return ";".join(f"{key}={value}" for key, value in values.items()).encode("latin-1")


ODD_ASCII_VALUES = {
    "w": ["-1", "0", "1e3", "0x10", " 12", "99999999999999999999", "NaN", ""],
    "h": ["-1", "0", "14142", "4294967296", "½"],
    "c": ["0", "2", "4", "-3"],
    "m": ["auto", "", "DOWNSAMPLE", "full\0"],
    "k": ["png", "JPEG", "", "avif;k=jpeg"],
    "q": ["-1", "101", "5.5", "1e2"],
    "id": ["", "@", "jpeg-artifacts", "jpeg-artifacts@", "webp-artifacts@00000000", "x" * 900],
    "v": ["0", "2", "3", "-1", "1.0"],
}


def _binary_edit(fields: dict[str, Any], rng: random.Random) -> tuple[bytes, str]:
    name = rng.choice(["version", "flags", "codec", "quality", "width", "height", "digest", "name"])
    edited = dict(fields)
    if name in ("width", "height"):
        edited[name] = rng.choice([*ODD_SIZES, int(fields[name]) + rng.choice([-1, 1])])
    elif name == "digest":
        edited[name] = rng.choice([b"\0\0\0\0", b"\xff\xff\xff\xff", b"\x01\x02", rng.randbytes(4)])
    elif name == "name":
        edited[name] = rng.choice([*MODEL_NAMES, b"m" * 1100])
    else:
        edited[name] = rng.choice(ODD_BYTES)
    return write_binary(edited), f"payload {name}={edited[name]!r}"


def _ascii_edit(fields: dict[str, Any], rng: random.Random) -> tuple[bytes, str]:
    pairs = dict(item.split("=", 1) for item in ascii_payload(fields).decode("latin-1").split(";"))
    key = rng.choice(sorted(ODD_ASCII_VALUES))
    action = rng.choice(["set", "set", "drop", "repeat"])
    if action == "drop":
        del pairs[key]
        text = ";".join(f"{k}={v}" for k, v in pairs.items())
    else:
        pairs[key] = rng.choice(ODD_ASCII_VALUES[key])
        text = ";".join(f"{k}={v}" for k, v in pairs.items())
        if action == "repeat":
            text += f";{key}={rng.choice(ODD_ASCII_VALUES[key])}"
    return text.encode("latin-1"), f"format-1 payload {action} {key}: {text[:80]!r}"


def _raw_edit(payload: bytes, rng: random.Random) -> tuple[bytes, str]:
    choice = rng.choice(["truncate", "empty", "overlong number", "garbage", "long"])
    if choice == "truncate":
        cut = rng.randrange(len(payload) + 1)
        return payload[:cut], f"payload truncated to {cut} bytes"
    if choice == "empty":
        return b"", "payload emptied"
    if choice == "overlong number":
        return payload[:4] + b"\x80" * rng.choice([5, 6, 40]) + b"\x01" + payload[4:], "payload with an overlong LEB128"
    if choice == "garbage":
        return rng.randbytes(rng.randrange(1, 64)), "payload replaced by random bytes"
    return payload + b"\0" * rng.choice([1000, 1025, 70000]), "payload padded past its limit"


def edit_payload(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """``data`` with one payload edit (a no-op description when the file has no payload)."""
    spot = payload_spot(data)
    if spot is None:
        return data, "no payload to edit"
    payload = data[spot.start : spot.end]
    fields = read_binary(payload)
    editors: list[Callable[[], tuple[bytes, str]]] = [lambda: _raw_edit(payload, rng)]
    if fields is not None:
        editors += [lambda: _binary_edit(fields, rng)] * 3 + [lambda: _ascii_edit(fields, rng)] * 2
    new_payload, description = rng.choice(editors)()
    room = 0xFFFF - (spot.part.end - spot.part.start - 2) + (spot.end - spot.start)  # a JPEG segment's limit
    if spot.part.length_format == ">H" and len(new_payload) > room:
        new_payload = new_payload[:room]
    return replace_payload(data, spot, new_payload), description


def transplant_payload(data: bytes, donors: list[bytes], rng: random.Random) -> tuple[bytes, str]:
    """``data`` with the payload of another file (another codec's, mode's or size's).

    A file with a payload gets the donor's payload in its place; a plain file gets the donor's whole
    payload segment, chunk or box inserted before one of its parts.
    """
    carriers = [(donor, spot) for donor in donors if (spot := payload_spot(donor))]
    if not carriers:
        return data, "no payload to transplant"
    donor, given = rng.choice(carriers)
    spot = payload_spot(data)
    if spot is not None:
        return replace_payload(data, spot, donor[given.start : given.end]), "payload replaced by another file's"
    places = parts(data)
    if not places:
        return data + given.part.cut(donor), "another file's payload appended"
    at = rng.choice(places).start
    return fix_riff_size(data[:at] + given.part.cut(donor) + data[at:]), f"another file's payload inserted at {at}"

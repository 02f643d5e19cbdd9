"""What ``jpegplus info`` reports about a file."""

from __future__ import annotations

from dataclasses import asdict

from jpegplus import payload
from jpegplus.codecs.jpeg import appended
from jpegplus.codecs.jpeg.quantization import estimate_quality
from jpegplus.codecs.pillow_codec import format_name, open_image


def describe(data: bytes) -> dict[str, str]:
    """Format, size, jpegplus metadata (if any), a JPEG's estimated quality and what its file holds after its
    picture."""
    picture = open_image(data)
    facts = {
        "format": picture.format or "unknown",
        "size": f"{picture.width}x{picture.height}",
        "mode": picture.mode,
        "bytes": str(len(data)),
    }
    tables = getattr(picture, "quantization", None)
    if tables:
        facts["estimated JPEG quality"] = f"{estimate_quality(tables[0]):.0f}"
        facts["quantization tables"] = str(len(tables))
    after = appended.read(data) if format_name(picture) == "JPEG" else None
    if after is not None:
        facts["after the picture"] = after.describe()
    metadata = payload.extract(data)
    if metadata is None:
        facts["jpegplus"] = "no (plain file)"
    else:
        facts.update({f"jpegplus {key}": str(value) for key, value in asdict(metadata).items()})
    return facts
